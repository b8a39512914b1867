/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_LIVEPATH_H
#define CTRACE_LIVEPATH_H

#include <stdint.h>
#include <sys/types.h>
#include "target/pyversion.h"
#include "target/syspath.h"

/* _PyRuntime's address in @pid, from the ELF's mapping; 0 if not found. */
uint64_t livepath_runtime(pid_t pid, const char *elf_path, uint64_t runtime_sym);
/*
 * Read sys.path from @pid's memory into @out (replacing it); on failure @out
 * is left as it was.
 */
int livepath_read(const struct live_path_layout *l, pid_t pid,
		  uint64_t runtime, struct syspath *out);

#endif
