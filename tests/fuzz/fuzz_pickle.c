// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: the --file counts reader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include "trace/pickle.h"
#include "trace/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct results r;
	char why[256];

	results_init(&r);
	if (!pickle_parse(data, size, &r, why, sizeof(why)))
		results_normalize(&r);
	results_free(&r);
	return 0;
}
