// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "trace/pickle.h"
#include "util/atomic_file.h"

/* ---- writing: protocol 1, the way trace writes it ---- */

static void put_str(FILE *f, const char *s)
{
	uint32_t len;

	if (!s) {
		fputc('N', f);
		return;
	}
	len = strlen(s);
	fputc('X', f);
	fwrite(&len, 4, 1, f);	/* little-endian on every target we support */
	fwrite(s, 1, len, f);
}

static void put_int(FILE *f, uint64_t v)
{
	if (v < 256) {
		fputc('K', f);
		fputc((int)v, f);
	} else if (v < 65536) {
		fputc('M', f);
		fputc((int)(v & 0xff), f);
		fputc((int)(v >> 8), f);
	} else if (v <= INT32_MAX) {
		int32_t i = (int32_t)v;

		fputc('J', f);
		fwrite(&i, 4, 1, f);
	} else {
		fprintf(f, "L%lluL\n", (unsigned long long)v);
	}
}

static void put_name(FILE *f, const struct func_name *n)
{
	fputc('(', f);
	put_str(f, n->file);
	put_str(f, n->mod);
	put_str(f, n->func);
	fputc('t', f);
}

static void put_results(FILE *f, const struct results *r)
{
	fputc('(', f);

	fputc('}', f);
	if (r->n_counts) {
		fputc('(', f);
		for (size_t i = 0; i < r->n_counts; i++) {
			fputc('(', f);
			put_str(f, r->counts[i].file);
			put_int(f, r->counts[i].line);
			fputc('t', f);
			put_int(f, r->counts[i].count);
		}
		fputc('u', f);
	}

	fputc('}', f);
	if (r->n_funcs) {
		fputc('(', f);
		for (size_t i = 0; i < r->n_funcs; i++) {
			put_name(f, &r->funcs[i]);
			put_int(f, 1);
		}
		fputc('u', f);
	}

	fputc('}', f);
	if (r->n_calls) {
		fputc('(', f);
		for (size_t i = 0; i < r->n_calls; i++) {
			fputc('(', f);
			put_name(f, &r->calls[i].caller);
			put_name(f, &r->calls[i].callee);
			fputc('t', f);
			put_int(f, 1);
		}
		fputc('u', f);
	}

	fputc('t', f);
	fputc('.', f);
}

int pickle_write(const char *path, const struct results *r, char *why,
		 size_t why_len)
{
	struct atomic_file a;
	FILE *f = atomic_open(&a, AT_FDCWD, path);
	int err;

	if (!f) {
		err = -errno;
		snprintf(why, why_len, "%s", strerror(errno));
		return err;
	}
	put_results(f, r);
	err = atomic_commit(&a);
	if (err)
		snprintf(why, why_len, "%s", strerror(-err));
	return err;
}

/* ---- reading ---- */

enum val_kind { V_NONE, V_INT, V_STR, V_TUPLE, V_DICT, V_MARK };

struct val {
	enum val_kind kind;
	int64_t i;
	char *s;
	struct val **items;	/* tuple items, or dict key/value pairs */
	size_t n;
	int refs;
};

struct reader {
	const unsigned char *p, *end;
	struct val **stack;
	size_t n_stack, cap_stack;
	struct val **memo;
	size_t cap_memo;
	size_t n_memo;	/* MEMOIZE takes the next free index */
	char *why;
	size_t why_len;
};

static void val_put(struct val *v)
{
	if (!v || --v->refs > 0)
		return;
	for (size_t i = 0; i < v->n; i++)
		val_put(v->items[i]);
	free(v->items);
	free(v->s);
	free(v);
}

static struct val *val_new(enum val_kind k)
{
	struct val *v = calloc(1, sizeof(*v));

	if (v) {
		v->kind = k;
		v->refs = 1;
	}
	return v;
}

static int fail(struct reader *rd, const char *msg)
{
	snprintf(rd->why, rd->why_len, "%s", msg);
	return -EINVAL;
}

static int push(struct reader *rd, struct val *v)
{
	if (!v)
		return fail(rd, "out of memory");
	if (rd->n_stack == rd->cap_stack) {
		size_t cap = rd->cap_stack ? rd->cap_stack * 2 : 64;
		struct val **s = realloc(rd->stack, cap * sizeof(*s));

		if (!s) {
			val_put(v);
			return fail(rd, "out of memory");
		}
		rd->stack = s;
		rd->cap_stack = cap;
	}
	rd->stack[rd->n_stack++] = v;
	return 0;
}

static bool need(struct reader *rd, size_t n)
{
	return (size_t)(rd->end - rd->p) >= n;
}

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int push_str(struct reader *rd, size_t len)
{
	struct val *v;

	if (!need(rd, len))
		return fail(rd, "truncated string");
	v = val_new(V_STR);
	if (v && !(v->s = strndup((const char *)rd->p, len))) {
		val_put(v);
		v = NULL;
	}
	rd->p += len;
	return push(rd, v);
}

static int push_int(struct reader *rd, int64_t i)
{
	struct val *v = val_new(V_INT);

	if (v)
		v->i = i;
	return push(rd, v);
}

/* Text ints: "I123\n" and "L123L\n". */
static int push_text_int(struct reader *rd)
{
	const unsigned char *nl = memchr(rd->p, '\n', rd->end - rd->p);
	char buf[32], *end;
	size_t len;
	long long v;

	if (!nl || (len = nl - rd->p) >= sizeof(buf))
		return fail(rd, "bad integer");
	memcpy(buf, rd->p, len);
	buf[len] = '\0';
	if (len && buf[len - 1] == 'L')
		buf[len - 1] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || *end)
		return fail(rd, "bad integer");
	rd->p = nl + 1;
	return push_int(rd, v);
}

static int push_long1(struct reader *rd)
{
	size_t n;

	if (!need(rd, 1))
		return fail(rd, "truncated");
	n = *rd->p++;
	if (n > 8 || !need(rd, n))
		return fail(rd, "integer too large");
	int64_t v = (int64_t)le(rd->p, n);
	if (n && n < 8 && (rd->p[n - 1] & 0x80))
		v -= (int64_t)1 << (8 * n);
	rd->p += n;
	return push_int(rd, v);
}

static ssize_t find_mark(struct reader *rd)
{
	for (ssize_t i = (ssize_t)rd->n_stack - 1; i >= 0; i--)
		if (rd->stack[i]->kind == V_MARK)
			return i;
	return -1;
}

/* Collect the top @n items (or those above the mark) into a tuple. */
static int build_tuple(struct reader *rd, ssize_t from)
{
	struct val *t = val_new(V_TUPLE);
	size_t n = rd->n_stack - from;

	if (!t)
		return fail(rd, "out of memory");
	t->items = calloc(n ? n : 1, sizeof(*t->items));
	if (!t->items) {
		val_put(t);
		return fail(rd, "out of memory");
	}
	memcpy(t->items, &rd->stack[from], n * sizeof(*t->items));
	t->n = n;
	rd->n_stack = from;
	return push(rd, t);
}

/*
 * trace's dicts hold tuples, strings and ints.  A dict inside one, at any
 * depth, is refused: through the memo it could be the dict itself, and a
 * cycle would never be freed.
 */
static bool holds_dict(const struct val *v, int depth)
{
	if (v->kind == V_DICT || depth > 16)
		return true;
	for (size_t i = 0; i < v->n; i++)
		if (holds_dict(v->items[i], depth + 1))
			return true;
	return false;
}

static int set_items(struct reader *rd, ssize_t from)
{
	struct val *d;
	size_t n = rd->n_stack - from;
	struct val **items;

	if (from < 1 || n % 2)
		return fail(rd, "bad SETITEMS");
	d = rd->stack[from - 1];
	if (d->kind != V_DICT)
		return fail(rd, "SETITEMS on a non-dict");
	for (size_t i = 0; i < n; i++)
		if (holds_dict(rd->stack[from + i], 0))
			return fail(rd, "a dict inside a dict is not trace's format");
	items = realloc(d->items, (d->n + n + 1) * sizeof(*items));
	if (!items)
		return fail(rd, "out of memory");
	d->items = items;
	memcpy(&d->items[d->n], &rd->stack[from], n * sizeof(*items));
	d->n += n;
	rd->n_stack = from;
	return 0;
}

static int memo_put(struct reader *rd, size_t idx)
{
	if (!rd->n_stack)
		return fail(rd, "memo of an empty stack");
	if (idx > (1u << 24))
		return fail(rd, "memo index too large");
	if (idx >= rd->cap_memo) {
		size_t cap = idx * 2 + 16;
		struct val **m = realloc(rd->memo, cap * sizeof(*m));

		if (!m)
			return fail(rd, "out of memory");
		memset(m + rd->cap_memo, 0, (cap - rd->cap_memo) * sizeof(*m));
		rd->memo = m;
		rd->cap_memo = cap;
	}
	val_put(rd->memo[idx]);
	rd->memo[idx] = rd->stack[rd->n_stack - 1];
	rd->memo[idx]->refs++;
	return 0;
}

static int memo_get(struct reader *rd, size_t idx)
{
	if (idx >= rd->cap_memo || !rd->memo[idx])
		return fail(rd, "unknown memo entry");
	rd->memo[idx]->refs++;
	return push(rd, rd->memo[idx]);
}

static int step(struct reader *rd, bool *stop)
{
	unsigned char op = *rd->p++;
	ssize_t m;

	switch (op) {
	case 0x80:	/* PROTO */
		if (!need(rd, 1))
			return fail(rd, "truncated");
		rd->p++;
		return 0;
	case 0x95:	/* FRAME */
		if (!need(rd, 8))
			return fail(rd, "truncated");
		rd->p += 8;
		return 0;
	case '(':
		return push(rd, val_new(V_MARK));
	case '}':
		return push(rd, val_new(V_DICT));
	case 'd':
		if ((m = find_mark(rd)) < 0)
			return fail(rd, "DICT without MARK");
		val_put(rd->stack[m]);
		rd->stack[m] = val_new(V_DICT);
		if (!rd->stack[m])
			return fail(rd, "out of memory");
		return set_items(rd, m + 1);
	case ')':
		return build_tuple(rd, rd->n_stack);
	case 't':
		if ((m = find_mark(rd)) < 0)
			return fail(rd, "TUPLE without MARK");
		val_put(rd->stack[m]);
		memmove(&rd->stack[m], &rd->stack[m + 1],
			(rd->n_stack - m - 1) * sizeof(*rd->stack));
		rd->n_stack--;
		return build_tuple(rd, m);
	case 0x85: case 0x86: case 0x87:	/* TUPLE1..3 */
		if (rd->n_stack < (size_t)(op - 0x84))
			return fail(rd, "stack underflow");
		return build_tuple(rd, rd->n_stack - (op - 0x84));
	case 's':
		return set_items(rd, rd->n_stack - 2);
	case 'u':
		if ((m = find_mark(rd)) < 1)
			return fail(rd, "SETITEMS without MARK");
		val_put(rd->stack[m]);
		memmove(&rd->stack[m], &rd->stack[m + 1],
			(rd->n_stack - m - 1) * sizeof(*rd->stack));
		rd->n_stack--;
		return set_items(rd, m);
	case 'N':
		return push(rd, val_new(V_NONE));
	case 'X':
		if (!need(rd, 4))
			return fail(rd, "truncated");
		rd->p += 4;
		return push_str(rd, le(rd->p - 4, 4));
	case 0x8c:	/* SHORT_BINUNICODE */
		if (!need(rd, 1))
			return fail(rd, "truncated");
		rd->p += 1;
		return push_str(rd, rd->p[-1]);
	case 0x8d:	/* BINUNICODE8 */
		if (!need(rd, 8))
			return fail(rd, "truncated");
		rd->p += 8;
		return push_str(rd, le(rd->p - 8, 8));
	case 'K':
		if (!need(rd, 1))
			return fail(rd, "truncated");
		return push_int(rd, *rd->p++);
	case 'M':
		if (!need(rd, 2))
			return fail(rd, "truncated");
		rd->p += 2;
		return push_int(rd, le(rd->p - 2, 2));
	case 'J':
		if (!need(rd, 4))
			return fail(rd, "truncated");
		rd->p += 4;
		return push_int(rd, (int32_t)le(rd->p - 4, 4));
	case 'I': case 'L':
		return push_text_int(rd);
	case 0x8a:	/* LONG1 */
		return push_long1(rd);
	case 'q':
		if (!need(rd, 1))
			return fail(rd, "truncated");
		return memo_put(rd, *rd->p++);
	case 'r':
		if (!need(rd, 4))
			return fail(rd, "truncated");
		rd->p += 4;
		return memo_put(rd, le(rd->p - 4, 4));
	case 0x94:	/* MEMOIZE */
		return memo_put(rd, rd->n_memo++);
	case 'h':
		if (!need(rd, 1))
			return fail(rd, "truncated");
		return memo_get(rd, *rd->p++);
	case 'j':
		if (!need(rd, 4))
			return fail(rd, "truncated");
		rd->p += 4;
		return memo_get(rd, le(rd->p - 4, 4));
	case '.':
		*stop = true;
		return 0;
	default: {
		char msg[64];

		snprintf(msg, sizeof(msg), "unsupported pickle opcode 0x%02x", op);
		return fail(rd, msg);
	}
	}
}

static bool is_str_or_none(const struct val *v)
{
	return v->kind == V_STR || v->kind == V_NONE;
}

static bool to_name(const struct val *v, struct func_name *n)
{
	if (v->kind != V_TUPLE || v->n != 3 || v->items[0]->kind != V_STR ||
	    !is_str_or_none(v->items[1]) || v->items[2]->kind != V_STR)
		return false;
	n->file = v->items[0]->s;
	n->mod = v->items[1]->s;
	n->func = v->items[2]->s;
	return true;
}

static int load_tables(struct reader *rd, const struct val *top,
		       struct results *r)
{
	const struct val *counts, *funcs, *calls;

	if (top->kind != V_TUPLE || top->n != 3)
		return fail(rd, "not a (counts, calledfuncs, callers) tuple");
	counts = top->items[0];
	funcs = top->items[1];
	calls = top->items[2];
	if (counts->kind != V_DICT || funcs->kind != V_DICT || calls->kind != V_DICT)
		return fail(rd, "not a (counts, calledfuncs, callers) tuple");
	for (size_t i = 0; i < counts->n; i += 2) {
		const struct val *k = counts->items[i], *v = counts->items[i + 1];

		if (k->kind != V_TUPLE || k->n != 2 || k->items[0]->kind != V_STR ||
		    k->items[1]->kind != V_INT || v->kind != V_INT || v->i < 0)
			return fail(rd, "bad counts entry");
		if (results_add_count(r, k->items[0]->s, k->items[1]->i, v->i))
			return fail(rd, "out of memory");
	}
	for (size_t i = 0; i < funcs->n; i += 2) {
		struct func_name n;

		if (!to_name(funcs->items[i], &n))
			return fail(rd, "bad calledfuncs entry");
		if (results_add_func(r, &n))
			return fail(rd, "out of memory");
	}
	for (size_t i = 0; i < calls->n; i += 2) {
		const struct val *k = calls->items[i];
		struct func_name a, b;

		if (k->kind != V_TUPLE || k->n != 2 || !to_name(k->items[0], &a) ||
		    !to_name(k->items[1], &b))
			return fail(rd, "bad callers entry");
		if (results_add_call(r, &a, &b))
			return fail(rd, "out of memory");
	}
	return 0;
}

int pickle_parse(const unsigned char *buf, size_t len, struct results *r,
		 char *why, size_t why_len)
{
	struct reader rd = { .p = buf, .end = buf + len, .why = why,
			     .why_len = why_len };
	bool stop = false;
	int err = 0;

	while (!err && !stop) {
		if (rd.p >= rd.end) {
			err = fail(&rd, "truncated: no STOP");
			break;
		}
		err = step(&rd, &stop);
	}
	if (!err && rd.n_stack != 1)
		err = fail(&rd, "not a single object");
	if (!err)
		err = load_tables(&rd, rd.stack[0], r);
	for (size_t i = 0; i < rd.n_stack; i++)
		val_put(rd.stack[i]);
	for (size_t i = 0; i < rd.cap_memo; i++)
		val_put(rd.memo[i]);
	free(rd.stack);
	free(rd.memo);
	if (!err)
		results_normalize(r);
	return err;
}

int pickle_read(const char *path, struct results *r, char *why, size_t why_len)
{
	unsigned char *buf;
	struct stat st;
	int fd, err;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_len, "%s", strerror(errno));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (1LL << 31)) {
		close(fd);
		snprintf(why, why_len, "not a regular file of sane size");
		return -EINVAL;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		close(fd);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	n = read(fd, buf, st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		snprintf(why, why_len, "short read");
		return -EIO;
	}
	err = pickle_parse(buf, n, r, why, why_len);
	free(buf);
	return err;
}
