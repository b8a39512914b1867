/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_MONITOR_RUN_H
#define CTRACE_MONITOR_RUN_H

#include <stdbool.h>
#include "target/pyelf.h"

/* Can this interpreter take the monitoring backend's collector? */
bool monitor_possible(const struct pyelf *e);

#endif
