/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_SOURCE_LINES_H
#define CTRACE_SOURCE_LINES_H

#include <stddef.h>
#include "report.h"

/*
 * Split @data into @s's lines (each ending in '\n') and set its encoding,
 * exactly as linecache would read the file.  -EAGAIN when the file needs
 * Python's codecs: a BOM, a coding cookie, or bytes that are not UTF-8.
 */
int source_lines_plain(const char *data, size_t len, struct source_info *s);

#endif
