// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "monitor/reply.h"

#define REPLY_STR_MAX 4096		/* bytes of one string */
#define REPLY_STRS_MAX (1 << 22)
#define REPLY_ROWS_MAX (1 << 24)	/* of each table */
#define REPLY_LINE_MAX 100000000L
#define REPLY_SETTRACE 6		/* H 6: sys.settrace, no tool id */

void reply_init(struct mon_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->tool = -1;
}

/* Grow @*p to hold one more of @size bytes; @cap doubles. */
static int grow(void *p, size_t n, size_t *cap, size_t size)
{
	void *g;

	if (n < *cap)
		return 0;
	if (n >= REPLY_ROWS_MAX)
		return -E2BIG;
	*cap = *cap ? *cap * 2 : 64;
	g = realloc(*(void **)p, *cap * size);
	if (!g)
		return -ENOMEM;
	*(void **)p = g;
	return 0;
}

struct cursor {
	const char *p, *end;
};

static bool word(struct cursor *c, const char **w, size_t *n)
{
	if (c->p >= c->end || *c->p != ' ')
		return false;
	c->p++;
	*w = c->p;
	while (c->p < c->end && *c->p != ' ')
		c->p++;
	*n = c->p - *w;
	return *n > 0;
}

static bool number(struct cursor *c, long long lo, long long hi, long long *v)
{
	const char *w;
	size_t n;
	bool neg;
	unsigned long long x = 0;

	if (!word(c, &w, &n))
		return false;
	neg = *w == '-';
	if (neg && (++w, --n == 0))
		return false;
	if (n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (w[i] < '0' || w[i] > '9')
			return false;
		x = x * 10 + (w[i] - '0');
	}
	*v = neg ? -(long long)x : (long long)x;
	return *v >= lo && *v <= hi;
}

static bool str_ref(const struct mon_reply *r, struct cursor *c,
		    struct ctrace_sref *ref)
{
	long long i;

	if (!number(c, 0, (long long)r->raw.n_strs - 1, &i))
		return false;
	ref->ptr = ref->tag = (uint64_t)i + 1;
	return true;
}

/* file name first, or "- - -" when @may_be_none */
static bool code_ref(const struct mon_reply *r, struct cursor *c,
		     struct ctrace_code *k, bool may_be_none)
{
	long long first;

	memset(k, 0, sizeof(*k));
	if (may_be_none && c->end - c->p >= 6 && !memcmp(c->p, " - - -", 6)) {
		c->p += 6;
		return true;
	}
	if (!str_ref(r, c, &k->file) || !str_ref(r, c, &k->name) ||
	    !number(c, 0, REPLY_LINE_MAX, &first))
		return false;
	k->firstlineno = (uint32_t)first;
	return true;
}

struct caps {
	size_t strs, lines, funcs, calls, classes, exec, path;
};

static int nibble(char x)
{
	if (x >= '0' && x <= '9')
		return x - '0';
	if (x >= 'a' && x <= 'f')
		return x - 'a' + 10;
	return -1;
}

static int add_str(struct mon_reply *r, struct caps *cap, struct cursor *c)
{
	struct raw_tables *t = &r->raw;
	const char *w;
	size_t n;
	char *s;
	int err;

	/* "S ": the empty string, a co_filename compile() was given */
	if (c->end - c->p == 1 && *c->p == ' ') {
		w = ++c->p;
		n = 0;
	} else if (!word(c, &w, &n) || n % 2 || n / 2 > REPLY_STR_MAX) {
		return -EPROTO;
	}
	if (t->n_strs >= REPLY_STRS_MAX)
		return -E2BIG;
	err = grow(&t->strs, t->n_strs, &cap->strs, sizeof(*t->strs));
	if (err)
		return err;
	s = malloc(n / 2 + 1);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = nibble(w[2 * i]), lo = nibble(w[2 * i + 1]);

		/* a NUL would cut the name short: not a name CPython makes */
		if (hi < 0 || lo < 0 || !(hi | lo)) {
			free(s);
			return -EPROTO;
		}
		s[i] = (char)(hi << 4 | lo);
	}
	s[n / 2] = '\0';
	/* numbered in order, so the table stays sorted for raw_str() */
	t->strs[t->n_strs].ref.ptr = t->strs[t->n_strs].ref.tag = t->n_strs + 1;
	t->strs[t->n_strs++].s = s;
	if (r->sink) {
		struct ctrace_str_event e = { .type = CTRACE_EV_STR };

		e.ref = t->strs[t->n_strs - 1].ref;
		snprintf(e.s, sizeof(e.s), "%s", s);
		r->sink(r->sink_ctx, &e, sizeof(e));
	}
	return 0;
}

static int add_exec(struct mon_reply *r, struct cursor *c, size_t *cap)
{
	struct ctrace_sref f;
	struct given_lines *g;
	long long v, last = -1;
	size_t lcap = 0;
	int err;

	if (!str_ref(r, c, &f))
		return -EPROTO;
	err = grow(&r->exec, r->n_exec, cap, sizeof(*r->exec));
	if (err)
		return err;
	g = &r->exec[r->n_exec];
	memset(g, 0, sizeof(*g));
	g->file = raw_str(&r->raw, f);
	while (c->p < c->end) {
		if (!number(c, 0, REPLY_LINE_MAX, &v) || v <= last) {
			free(g->lines);
			return -EPROTO;
		}
		err = grow(&g->lines, g->n, &lcap, sizeof(*g->lines));
		if (err) {
			free(g->lines);
			return err;
		}
		g->lines[g->n++] = last = v;
	}
	r->n_exec++;
	return 0;
}

/* P dir: the next entry of the target's sys.path */
static int add_path(struct mon_reply *r, struct caps *cap, struct cursor *c)
{
	struct ctrace_sref d;
	int err;

	if (!str_ref(r, c, &d))
		return -EPROTO;
	err = grow(&r->path, r->n_path, &cap->path, sizeof(*r->path));
	if (err)
		return err;
	r->path[r->n_path++] = raw_str(&r->raw, d);
	return 0;
}

/* L file line count: a line's count */
static int add_line(struct mon_reply *r, struct caps *cap, struct cursor *c)
{
	struct raw_tables *t = &r->raw;
	struct line_row *l;
	long long a, b;
	int err;

	err = grow(&t->lines, t->n_lines, &cap->lines, sizeof(*t->lines));
	if (err)
		return err;
	l = &t->lines[t->n_lines];
	memset(l, 0, sizeof(*l));
	if (!str_ref(r, c, &l->k.file) || !number(c, 0, REPLY_LINE_MAX, &a) ||
	    !number(c, 1, INT64_MAX / 2, &b))
		return -EPROTO;
	l->k.line = (uint32_t)a;
	l->n = (uint64_t)b;
	t->n_lines++;
	return 0;
}

/* F code: a function that was called (its start) */
static int add_func(struct mon_reply *r, struct caps *cap, struct cursor *c)
{
	struct raw_tables *t = &r->raw;
	struct ctrace_code k;
	struct func_row *f;
	int err;

	err = grow(&t->funcs, t->n_funcs, &cap->funcs, sizeof(*t->funcs));
	if (err)
		return err;
	if (!code_ref(r, c, &k, false))
		return -EPROTO;
	f = &t->funcs[t->n_funcs++];
	memset(f, 0, sizeof(*f));
	f->k.file = k.file;
	f->k.func = k.name;
	f->k.line = k.firstlineno;
	f->k.kind = CTRACE_ENTRY_START;
	f->n = 1;
	t->funcs_at_first_line = true;
	return 0;
}

/* K code class: a code's class as decided live (-1: none) */
static int add_class(struct mon_reply *r, struct caps *cap, struct cursor *c)
{
	struct raw_tables *t = &r->raw;
	struct class_row *k;
	long long a;
	int err;

	err = grow(&t->classes, t->n_classes, &cap->classes, sizeof(*t->classes));
	if (err)
		return err;
	k = &t->classes[t->n_classes];
	memset(k, 0, sizeof(*k));
	if (!code_ref(r, c, &k->k, false) ||
	    !number(c, -1, (long long)t->n_strs - 1, &a))
		return -EPROTO;
	if (a >= 0)
		k->v.name.ptr = k->v.name.tag = (uint64_t)a + 1;
	t->n_classes++;
	return 0;
}

/* C caller callee count: a pair */
static int add_call(struct mon_reply *r, struct caps *cap, struct cursor *c)
{
	struct raw_tables *t = &r->raw;
	struct call_row *k;
	long long b;
	int err;

	err = grow(&t->calls, t->n_calls, &cap->calls, sizeof(*t->calls));
	if (err)
		return err;
	k = &t->calls[t->n_calls];
	memset(k, 0, sizeof(*k));
	if (!code_ref(r, c, &k->k.caller, true) ||
	    !code_ref(r, c, &k->k.callee, false) ||
	    !number(c, 1, INT64_MAX / 2, &b))
		return -EPROTO;
	k->n = (uint64_t)b;
	t->n_calls++;
	return 0;
}

/* V tid ts file line, W tid ts code resumed: --trace's line and call */
static int add_event(struct mon_reply *r, struct cursor *c, char type)
{
	struct ctrace_event e = { .type = type == 'V' ? CTRACE_EV_LINE :
						      CTRACE_EV_CALL };
	struct ctrace_code k;
	long long a, b;

	if (!number(c, 0, INT64_MAX, &a) || !number(c, 0, INT64_MAX, &b))
		return -EPROTO;
	e.tid = (uint32_t)a;
	e.ts = (uint64_t)b;
	if (type == 'V') {
		if (!str_ref(r, c, &e.file) || !number(c, 0, REPLY_LINE_MAX, &a))
			return -EPROTO;
		e.line = (uint32_t)a;
	} else {
		if (!code_ref(r, c, &k, false) || !number(c, 0, 1, &a))
			return -EPROTO;
		e.file = k.file;
		e.func = k.name;
		e.line = k.firstlineno;
		e.kind = a ? CTRACE_ENTRY_YIELD : CTRACE_ENTRY_START;
	}
	if (r->sink && c->p == c->end)
		r->sink(r->sink_ctx, &e, sizeof(e));
	return 0;
}

/* One record, whole: its type, its fields, and nothing after them. */
static int record(struct mon_reply *r, struct caps *cap, struct cursor *c)
{
	char type = *c->p++;
	long long a;
	int err;

	if (r->ended)
		return -EPROTO;
	switch (type) {
	case 'H':
		if (r->tool >= 0 || !number(c, 0, REPLY_SETTRACE, &a))
			return -EPROTO;
		r->tool = (int)a;
		err = 0;
		break;
	case 'N':
		if (!number(c, 0, 1 << 20, &a))
			return -EPROTO;
		r->untraced = (long)a;
		err = 0;
		break;
	case 'R':
		r->busy = true;
		r->traced = c->end - c->p == 7 && !memcmp(c->p, " traced", 7);
		c->p = c->end;
		return 0;
	case 'S':
		return add_str(r, cap, c);
	case 'X':
		return add_exec(r, c, &cap->exec);
	case 'P':
		err = add_path(r, cap, c);
		break;
	case 'L':
		err = add_line(r, cap, c);
		break;
	case 'F':
		err = add_func(r, cap, c);
		break;
	case 'K':
		err = add_class(r, cap, c);
		break;
	case 'C':
		err = add_call(r, cap, c);
		break;
	case 'V':
	case 'W':
		err = add_event(r, c, type);
		break;
	case 'E':
		r->ended = true;
		err = 0;
		break;
	default:
		return -EPROTO;
	}
	if (err)
		return err;
	return c->p == c->end ? 0 : -EPROTO;
}

int reply_parse(struct mon_reply *r, const char *buf, size_t len, size_t *used,
		char *why, size_t why_len)
{
	/* the capacities are the tables' sizes rounded up, as grow() leaves them */
	struct caps cap;
	size_t at = 0;

	cap.strs = r->raw.n_strs;
	cap.lines = r->raw.n_lines;
	cap.funcs = r->raw.n_funcs;
	cap.calls = r->raw.n_calls;
	cap.classes = r->raw.n_classes;
	cap.exec = r->n_exec;
	cap.path = r->n_path;
	*used = 0;
	while (at < len) {
		const char *nl = memchr(buf + at, '\n', len - at);
		struct cursor c;
		int err;

		if (!nl)
			break;
		c.p = buf + at;
		c.end = nl;
		err = c.p < c.end ? record(r, &cap, &c) : -EPROTO;
		if (err) {
			snprintf(why, why_len,
				 "the collector's reply is malformed at byte %zu%s",
				 at, err == -E2BIG ? " (too large)" :
				 err == -ENOMEM ? " (out of memory)" : "");
			return err == -ENOMEM ? err : -EPROTO;
		}
		at = nl - buf + 1;
		*used = at;
	}
	return 0;
}

int reply_finish(struct mon_reply *r)
{
	/* X's lines came sorted: add_exec() refuses them otherwise */
	return raw_name_classes(&r->raw);
}

void reply_free(struct mon_reply *r)
{
	for (size_t i = 0; i < r->n_exec; i++)
		free(r->exec[i].lines);
	free(r->exec);
	free(r->path);
	raw_tables_free(&r->raw);
	reply_init(r);
}
