// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A target string's text, raw or UTF-8: see ucs.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/ucs.h"

static size_t put_utf8(char *o, uint32_t c)
{
	if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		c = 0xfffd;
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | c >> 6);
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | c >> 12);
		o[1] = (char)(0x80 | (c >> 6 & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | c >> 18);
	o[1] = (char)(0x80 | (c >> 12 & 0x3f));
	o[2] = (char)(0x80 | (c >> 6 & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

char *sref_strdup(struct ctrace_sref ref, const char *value)
{
	uint32_t kind = ctrace_sref_kind(ref.ptr);
	size_t n, o = 0;
	char *s;

	if (!(ref.ptr & CTRACE_SREF_RAW) || !kind)
		return strndup(value, CTRACE_STR_MAX - 1);
	n = ctrace_sref_bytes(ref.ptr) / kind;
	s = malloc(n * 4 + 1);
	for (size_t i = 0; s && i < n; i++) {
		const unsigned char *p = (const unsigned char *)value + i * kind;
		uint32_t c = p[0];

		if (kind == 2)
			c |= (uint32_t)p[1] << 8;
		else if (kind == 4)
			c |= (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			     (uint32_t)p[3] << 24;
		/* a NUL cannot be part of a name we could use */
		o += put_utf8(s + o, c ? c : 0xfffd);
	}
	if (s)
		s[o] = '\0';
	return s;
}
