// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/term.h"

static bool is_c1(const unsigned char *p, size_t left)
{
	return left >= 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
}

size_t term_escape(char *dst, size_t cap, const char *src, size_t len,
		   bool one_line)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0;

	if (!cap)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		bool ctl = (c < 0x20 && c != '\t' && (c != '\n' || one_line)) ||
			   c == 0x7f || is_c1(p + i, len - i);

		if (!ctl) {
			if (o + 1 >= cap)
				break;
			dst[o++] = c;
			continue;
		}
		if (o + 4 >= cap)
			break;
		o += snprintf(dst + o, cap - o, "\\x%02x", c);
		if (c == 0xc2) {
			if (o + 4 >= cap)
				break;
			o += snprintf(dst + o, cap - o, "\\x%02x", p[++i]);
		}
	}
	dst[o] = '\0';
	return o;
}

static ssize_t guarded_write(void *cookie, const char *buf, size_t len)
{
	char out[4 * 512 + 1];
	size_t done = 0;

	(void)cookie;
	while (done < len) {
		/* never split a C2 xx pair between two chunks */
		size_t n = len - done < 512 ? len - done : 511;
		size_t m = term_escape(out, sizeof(out), buf + done, n, false);

		for (size_t w = 0; w < m;) {
			ssize_t r = write(STDOUT_FILENO, out + w, m - w);

			if (r <= 0)
				return done ? (ssize_t)done : -1;
			w += r;
		}
		done += n;
	}
	return len;
}

void term_guard_stdout(void)
{
	cookie_io_functions_t io = { .write = guarded_write };
	FILE *f;

	if (!isatty(STDOUT_FILENO))
		return;
	f = fopencookie(NULL, "w", io);
	if (!f)
		return;
	setvbuf(f, NULL, _IOLBF, 0);
	stdout = f;
}
