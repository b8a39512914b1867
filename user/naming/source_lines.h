/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_SOURCE_LINES_H
#define CTRACE_SOURCE_LINES_H

#include <stdbool.h>
#include <stddef.h>

/* A source file as trace's linecache and _find_executable_linenos see it. */
struct source_info {
	char **lines;		/* each ends in '\n', in the file's encoding */
	size_t n_lines;
	long *executable;	/* sorted */
	size_t n_executable;
	char *encoding;		/* Python's codec name, e.g. "utf-8" */
};

/*
 * Fills @out for @file with a view the provider keeps owning; returns 0, or a negative errno with @why set to a
 * short reason.  @want_executable is false when -m was not given.
 */
struct source_provider {
	int (*get)(void *ctx, const char *file, bool want_executable,
		   struct source_info *out, char *why, size_t why_len);
	void *ctx;
};

void source_info_free(struct source_info *s);
/*
 * Line @i as text, the way trace prints it (--trace: linecache's str on a
 * UTF-8 stdout): as it is if the file is UTF-8, else decoded from its
 * encoding into *@buf (grown as needed, the caller's to free).  The line
 * as it is if the codec is unknown here.
 */
const char *source_line_text(const struct source_info *s, size_t i,
			     char **buf, size_t *cap);


/*
 * Split @data into @s's lines (each ending in '\n') and set its encoding,
 * exactly as linecache would read the file.  -EAGAIN when the file needs
 * Python's codecs: a BOM, a coding cookie, or bytes that are not UTF-8.
 */
int source_lines_plain(const char *data, size_t len, struct source_info *s);

#endif
