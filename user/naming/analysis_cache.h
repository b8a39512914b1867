/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_ANALYSIS_CACHE_H
#define CTRACE_ANALYSIS_CACHE_H

#include <stddef.h>

/*
 * Analysis records kept between runs, keyed by what they were made from:
 * the source's bytes, the target's .pyc bytes, the file name, the level,
 * the analyser's own source and the compiler's version.  A record found is returned in a new
 * buffer; any doubt (no cache directory, a record that does not match)
 * is a miss, never an error.
 */
int analysis_cache_get(const char *data, size_t len, const char *pyc,
		       size_t pyc_len, const char *filename, int level,
		       char **rec, size_t *rec_len);
void analysis_cache_put(const char *data, size_t len, const char *pyc,
			size_t pyc_len, const char *filename, int level,
			const char *rec, size_t rec_len);

#endif
