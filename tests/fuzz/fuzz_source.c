// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: hostile source through the C side of source analysis: the
 * line splitter, and the parser of the analyser's records (whose names
 * and lines come from the source).
 */
#include <stddef.h>
#include <stdint.h>
#include "naming/analysis.h"
#include "naming/source_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct source_info s;
	struct file_analysis a;

	if (!source_lines_plain((const char *)data, size, &s))
		source_info_free(&s);
	if (!analysis_parse((const char *)data, size, &a)) {
		analysis_find(&a, "f", 1, false);
		file_analysis_free(&a);
	}
	return 0;
}
