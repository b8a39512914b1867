/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_UCS_H
#define CTRACE_UCS_H

#include <linux/types.h>
#include "ctrace.h"

/*
 * A string of the strs table (@value, CTRACE_STR_MAX bytes as read) as
 * text, malloc'd: NUL-terminated UTF-8 as read, or a raw ref's latin-1,
 * UCS-2 or UCS-4 characters encoded (a lone surrogate as U+FFFD, which
 * the interpreter itself would not encode).  NULL if out of memory.
 */
char *sref_strdup(struct ctrace_sref ref, const char *value);

#endif
