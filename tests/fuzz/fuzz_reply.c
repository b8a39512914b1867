// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: what the monitoring collector sends back, which a target can
 * forge.  Fed in two pieces, as reads from the FIFO arrive.
 */
#include <stddef.h>
#include <stdint.h>
#include "monitor/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mon_reply r;
	size_t cut = size ? data[0] % (size + 1) : 0, used, left;
	char why[256];

	reply_init(&r);
	if (!reply_parse(&r, (const char *)data, cut, &used, why, sizeof(why))) {
		left = size - used;
		if (!reply_parse(&r, (const char *)data + used, left, &used, why,
				 sizeof(why)) && r.ended)
			reply_finish(&r);
	}
	reply_free(&r);
	return 0;
}
