// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A source's lines as trace's linecache reads them, without the analyser's
 * interpreter, for the common case: UTF-8 without a BOM or coding cookie.
 * Starting a child interpreter to decode and split a big file costs half a
 * second for a million lines; this costs a few milliseconds.
 */
#include <errno.h>
#include <iconv.h>
#include <strings.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "naming/source_lines.h"

/* Python's strict UTF-8: no overlongs, no surrogates, nothing past U+10FFFF. */
static bool valid_utf8(const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;

	while (p < end) {
		unsigned char c = *p;
		unsigned char lo = 0x80, hi = 0xbf;
		int more;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			return false;
		}
		if (end - p <= more || p[1] < lo || p[1] > hi)
			return false;
		for (int i = 2; i <= more; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += more + 1;
	}
	return true;
}

/*
 * tokenize.detect_encoding() looks at the first two lines only; any
 * "coding" there, even in a string, sends the file the slow way.
 */
static bool plain_utf8(const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		return false;
	for (int line = 0; line < 2 && p < end; line++) {
		const char *nl = p;

		while (nl < end && *nl != '\n' && *nl != '\r')
			nl++;
		if (memmem(p, nl - p, "coding", 6))
			return false;
		p = nl < end && *nl == '\r' && nl + 1 < end && nl[1] == '\n' ?
		    nl + 2 : nl + 1;
	}
	return valid_utf8((const unsigned char *)data, len);
}

int source_lines_plain(const char *data, size_t len, struct source_info *s)
{
	const char *p = data, *end = data + len;
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	if (!plain_utf8(data, len))
		return -EAGAIN;
	for (const char *q = data; q < end; q++)
		n += *q == '\n' || (*q == '\r' && (q + 1 == end || q[1] != '\n'));
	s->lines = calloc(n + 2, sizeof(*s->lines));
	s->encoding = strdup("utf-8");
	if (!s->lines || !s->encoding)
		goto nomem;
	/* universal newlines: \r\n and a lone \r both end a line as \n */
	while (p < end) {
		const char *e = p;
		size_t l;
		char *line;

		while (e < end && *e != '\n' && *e != '\r')
			e++;
		l = e - p;
		line = malloc(l + 2);
		if (!line)
			goto nomem;
		memcpy(line, p, l);
		line[l] = '\n';
		line[l + 1] = '\0';
		s->lines[s->n_lines++] = line;
		if (e < end && *e == '\r' && e + 1 < end && e[1] == '\n')
			e++;
		p = e + 1;
	}
	return 0;
nomem:
	source_info_free(s);
	return -ENOMEM;
}

void source_info_free(struct source_info *s)
{
	for (size_t i = 0; i < s->n_lines; i++)
		free(s->lines[i]);
	free(s->lines);
	free(s->executable);
	free(s->encoding);
	memset(s, 0, sizeof(*s));
}

static bool is_utf8(const char *enc)
{
	return !enc || !strcasecmp(enc, "utf-8") || !strcasecmp(enc, "utf-8-sig") ||
	       !strcasecmp(enc, "utf8");
}

const char *source_line_text(const struct source_info *s, size_t i,
			     char **buf, size_t *cap)
{
	const char *line = s->lines[i];
	char name[64], *in, *out;
	size_t in_left = strlen(line), out_left;
	iconv_t cd;

	if (is_utf8(s->encoding))
		return line;
	/* Python's codec names; iconv's use '-' where Python allows '_' */
	snprintf(name, sizeof(name), "%s", s->encoding);
	cd = iconv_open("UTF-8", name);
	for (char *p = name; cd == (iconv_t)-1 && *p; p++)
		if (*p == '_')
			*p = '-';
	if (cd == (iconv_t)-1)
		cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return line;
	if (*cap < in_left * 4 + 1) {
		char *g = realloc(*buf, in_left * 4 + 1);

		if (!g) {
			iconv_close(cd);
			return line;
		}
		*buf = g;
		*cap = in_left * 4 + 1;
	}
	in = (char *)line;
	out = *buf;
	out_left = *cap - 1;
	if (iconv(cd, &in, &in_left, &out, &out_left) == (size_t)-1) {
		iconv_close(cd);
		return line;
	}
	*out = '\0';
	iconv_close(cd);
	return *buf;
}
