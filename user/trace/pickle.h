/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_PICKLE_H
#define CTRACE_PICKLE_H

#include <stddef.h>
#include "trace/results.h"

/*
 * python -m trace --file's format: pickle.dump((counts, calledfuncs,
 * callers), f, 1).  The reader accepts only the opcodes that build dicts,
 * tuples, strings, ints and None, so a hostile file cannot run anything.
 */
int pickle_write(const char *path, const struct results *r, char *why,
		 size_t why_len);
/* Merges the file into @r.  -ENOENT when the file does not exist. */
int pickle_read(const char *path, struct results *r, char *why, size_t why_len);
int pickle_parse(const unsigned char *buf, size_t len, struct results *r,
		 char *why, size_t why_len);

#endif
