// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * coverage.py data, LCOV, JSON and call graphs: trace's results in the
 * formats of the tools users already have.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "naming/analysis.h"
#include "naming/resolve.h"
#include "report/export.h"
#include "util/atomic_file.h"
#include "util/log.h"
#include "version.h"

/* A co_filename as a path the target would open; NULL for "<string>". */
static const char *abs_path(const char *cwd, const char *file, char *buf,
			    size_t len)
{
	if (file[0] == '/')
		return file;
	if (!file[0] || file[0] == '<' || !cwd)
		return NULL;
	while (file[0] == '.' && file[1] == '/')
		file += 2;
	snprintf(buf, len, "%s%s%s", cwd, cwd[strlen(cwd) - 1] == '/' ? "" : "/",
		 file);
	return buf;
}

/* The counts of one file: r->counts[*at, end). */
static size_t file_end(const struct results *r, size_t at)
{
	size_t end = at;

	while (end < r->n_counts && !strcmp(r->counts[end].file, r->counts[at].file))
		end++;
	return end;
}

static int fail(char *why, size_t why_len, const char *path, const char *what)
{
	snprintf(why, why_len, "cannot write '%s': %s", path, what);
	return -EIO;
}

/* ---- coverage.py ---- */

static const char *const coverage_schema[] = {
	"CREATE TABLE coverage_schema (version integer)",
	"CREATE TABLE meta (key text, value text, unique (key))",
	"CREATE TABLE file (id integer primary key, path text, unique (path))",
	"CREATE TABLE context (id integer primary key, context text, unique (context))",
	"CREATE TABLE line_bits (file_id integer, context_id integer, numbits blob, "
	"foreign key (file_id) references file (id), "
	"foreign key (context_id) references context (id), "
	"unique (file_id, context_id))",
	"CREATE TABLE arc (file_id integer, context_id integer, fromno integer, "
	"tono integer, foreign key (file_id) references file (id), "
	"foreign key (context_id) references context (id), "
	"unique (file_id, context_id, fromno, tono))",
	"CREATE TABLE tracer (file_id integer primary key, tracer text, "
	"foreign key (file_id) references file (id))",
	"INSERT INTO coverage_schema (version) VALUES (7)",
};

/* One bound statement, run once. */
static int run(sqlite3 *db, const char *sql, const char *a, const char *b,
	       const void *blob, int blob_len, sqlite3_int64 i1, sqlite3_int64 i2)
{
	sqlite3_stmt *st;
	int rc, n = 1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (a)
		sqlite3_bind_text(st, n++, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(st, n++, b, -1, SQLITE_TRANSIENT);
	if (i1 >= 0)
		sqlite3_bind_int64(st, n++, i1);
	if (i2 >= 0)
		sqlite3_bind_int64(st, n++, i2);
	if (blob)
		sqlite3_bind_blob(st, n++, blob, blob_len, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Files by absolute path, each with its hit lines as numbits. */
struct bits {
	char *path;
	unsigned char *b;
	size_t len;
};

static int bits_set(struct bits *x, long line)
{
	size_t byte = (size_t)line / 8;

	if (line < 0)
		return 0;
	if (byte >= x->len) {
		unsigned char *g = realloc(x->b, byte + 1);

		if (!g)
			return -ENOMEM;
		memset(g + x->len, 0, byte + 1 - x->len);
		x->b = g;
		x->len = byte + 1;
	}
	x->b[byte] |= 1u << (line % 8);
	return 0;
}

static struct bits *bits_of(struct bits **all, size_t *n, const char *path)
{
	struct bits *g;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*all)[i].path, path))
			return &(*all)[i];
	g = realloc(*all, (*n + 1) * sizeof(**all));
	if (!g)
		return NULL;
	*all = g;
	memset(&g[*n], 0, sizeof(g[*n]));
	g[*n].path = strdup(path);
	return g[*n].path ? &g[(*n)++] : NULL;
}

static int coverage_fill(sqlite3 *db, const struct results *r,
			 const struct export_info *x)
{
	struct bits *all = NULL;
	size_t n = 0;
	char buf[PATH_MAX * 2], when[32];
	time_t now = time(NULL);
	int err = 0;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&now));
	for (size_t i = 0; i < sizeof(coverage_schema) / sizeof(*coverage_schema) && !err; i++)
		err = run(db, coverage_schema[i], NULL, NULL, NULL, 0, -1, -1);
	if (!err)
		err = run(db, "INSERT INTO meta (key, value) VALUES (?, ?)",
			  "version", "ctrace-bpf " CTRACE_VERSION, NULL, 0, -1, -1);
	if (!err)
		err = run(db, "INSERT INTO meta (key, value) VALUES (?, ?)",
			  "has_arcs", "0", NULL, 0, -1, -1);
	if (!err)
		err = run(db, "INSERT INTO meta (key, value) VALUES (?, ?)",
			  "when", when, NULL, 0, -1, -1);
	/* without a context row, coverage combine drops every line */
	if (!err)
		err = run(db, "INSERT INTO context (context, id) VALUES (?, ?)",
			  x->context ? x->context : "", NULL, NULL, 0, 1, -1);
	for (size_t i = 0; i < r->n_counts && !err; i++) {
		const char *p = abs_path(x->cwd, r->counts[i].file, buf, sizeof(buf));
		struct bits *b;

		if (!p || !r->counts[i].count)
			continue;
		b = bits_of(&all, &n, p);
		err = b ? bits_set(b, r->counts[i].line) : -ENOMEM;
	}
	for (size_t i = 0; i < n && !err; i++) {
		err = run(db, "INSERT INTO file (path, id) VALUES (?, ?)",
			  all[i].path, NULL, NULL, 0, (sqlite3_int64)i + 1, -1);
		if (!err)
			err = run(db, "INSERT INTO line_bits (file_id, context_id, numbits) VALUES (?, ?, ?)",
				  NULL, NULL, all[i].b, (int)all[i].len,
				  (sqlite3_int64)i + 1, 1);
	}
	for (size_t i = 0; i < n; i++) {
		free(all[i].path);
		free(all[i].b);
	}
	free(all);
	return err;
}

int export_coverage(const char *path, const struct results *r,
		    const struct export_info *x, char *why, size_t why_len)
{
	struct atomic_file a;
	sqlite3 *db = NULL;
	int err;

	if (!atomic_open(&a, AT_FDCWD, path))
		return fail(why, why_len, path, strerror(errno));
	/* SQLite writes the fresh file we made, renamed into place at the end */
	if (sqlite3_open_v2(a.tmp, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		snprintf(why, why_len, "cannot write '%s': %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		atomic_abort(&a);
		return -EIO;
	}
	err = run(db, "BEGIN", NULL, NULL, NULL, 0, -1, -1);
	if (!err)
		err = coverage_fill(db, r, x);
	if (!err)
		err = run(db, "COMMIT", NULL, NULL, NULL, 0, -1, -1);
	if (err)
		snprintf(why, why_len, "cannot write '%s': %s", path,
			 sqlite3_errmsg(db));
	if (sqlite3_close(db) != SQLITE_OK && !err) {
		snprintf(why, why_len, "cannot write '%s': close failed", path);
		err = -EIO;
	}
	if (err) {
		atomic_abort(&a);
		return -EIO;
	}
	err = atomic_commit(&a);
	return err ? fail(why, why_len, path, strerror(-err)) : 0;
}

/* ---- LCOV ---- */

static uint64_t count_at(const struct results *r, size_t at, size_t end,
			 long line)
{
	for (size_t i = at; i < end; i++)
		if (r->counts[i].line == line)
			return r->counts[i].count;
	return 0;
}

/* A function's calls, as LCOV wants them: its first body line's count. */
static uint64_t calls_of(const struct results *r, size_t at, size_t end,
			 const struct code_info *c)
{
	for (size_t k = 0; k < c->n_lines; k++)
		if (c->lines[k] > c->firstlineno)
			return count_at(r, at, end, c->lines[k]);
	return count_at(r, at, end, c->firstlineno);
}

static void lcov_functions(FILE *f, const struct results *r, size_t at,
			   size_t end, const struct file_analysis *a)
{
	size_t fnf = 0, fnh = 0;

	/* the older FN:line,name form, which genhtml 1.16 reads */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < a->n_codes; k++) {
			const struct code_info *c = &a->codes[k];
			uint64_t n;

			if (c->name[0] == '<')
				continue;
			if (!pass) {
				fprintf(f, "FN:%ld,%s@%ld\n", c->firstlineno,
					c->trace_name, c->firstlineno);
				continue;
			}
			n = calls_of(r, at, end, c);
			fprintf(f, "FNDA:%llu,%s@%ld\n", (unsigned long long)n,
				c->trace_name, c->firstlineno);
			fnf++;
			fnh += n > 0;
		}
	}
	fprintf(f, "FNF:%zu\nFNH:%zu\n", fnf, fnh);
}

static void lcov_file(FILE *f, const struct results *r, size_t at, size_t end,
		      const char *path, const struct export_info *x)
{
	const struct file_analysis *a = NULL;
	const char *why;
	size_t lf = 0, lh = 0, e = 0;

	fprintf(f, "TN:\nSF:%s\n", path);
	if (x->rs)
		a = resolver_file_at(x->rs, r->counts[at].file,
				     x->executable ? ANALYSIS_EXECUTABLE :
						     ANALYSIS_CODES, &why);
	if (a && a->codes)
		lcov_functions(f, r, at, end, a);
	/* with --missing, the lines that never ran are there too, as 0 */
	for (size_t i = at; i < end || (a && x->executable && e < a->src.n_executable);) {
		long line;
		uint64_t n = 0;

		if (a && x->executable && e < a->src.n_executable &&
		    (i >= end || a->src.executable[e] < r->counts[i].line)) {
			line = a->src.executable[e++];
		} else {
			line = r->counts[i].line;
			n = r->counts[i++].count;
			if (a && x->executable && e < a->src.n_executable &&
			    a->src.executable[e] == line)
				e++;
		}
		if (line < 1)
			continue;
		fprintf(f, "DA:%ld,%llu\n", line, (unsigned long long)n);
		lf++;
		lh += n > 0;
	}
	fprintf(f, "LF:%zu\nLH:%zu\nend_of_record\n", lf, lh);
}

int export_lcov(const char *path, const struct results *r,
		const struct export_info *x, char *why, size_t why_len)
{
	struct atomic_file a;
	char buf[PATH_MAX * 2];
	FILE *f = atomic_open(&a, AT_FDCWD, path);
	int err;

	if (!f)
		return fail(why, why_len, path, strerror(errno));
	for (size_t at = 0, end; at < r->n_counts; at = end) {
		const char *p = abs_path(x->cwd, r->counts[at].file, buf,
					 sizeof(buf));

		end = file_end(r, at);
		if (p)
			lcov_file(f, r, at, end, p, x);
	}
	err = atomic_commit(&a);
	return err ? fail(why, why_len, path, strerror(-err)) : 0;
}

/* ---- JSON ---- */

/* A JSON string: bytes that are not UTF-8 become U+FFFD. */
static void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	while (*p) {
		int n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 :
			(*p >> 3) == 30 ? 4 : 0;
		int ok = n > 0;

		for (int i = 1; ok && i < n; i++)
			ok = (p[i] & 0xc0) == 0x80;
		if (!ok) {
			fputs("\\ufffd", f);
			p++;
			continue;
		}
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
}

/* @head (punctuation and a key), then the string @v */
static void json_kv(FILE *f, const char *head, const char *v)
{
	fputs(head, f);
	json_str(f, v);
}

static void json_name(FILE *f, const struct func_name *n)
{
	json_kv(f, "{\"file\": ", n->file);
	json_kv(f, ", \"module\": ", n->mod);
	json_kv(f, ", \"function\": ", n->func);
	fputc('}', f);
}

static void json_files(FILE *f, const struct results *r,
		       const struct export_info *x)
{
	const char *why;

	fputs("  \"files\": {", f);
	for (size_t at = 0, end; at < r->n_counts; at = end) {
		const struct file_analysis *a = NULL;

		end = file_end(r, at);
		fputs(at ? ",\n    " : "\n    ", f);
		json_str(f, r->counts[at].file);
		fputs(": {\"lines\": {", f);
		for (size_t i = at; i < end; i++)
			fprintf(f, "%s\"%ld\": %llu", i > at ? ", " : "",
				r->counts[i].line,
				(unsigned long long)r->counts[i].count);
		fputc('}', f);
		if (x->rs)
			a = resolver_file_at(x->rs, r->counts[at].file,
					     x->executable ? ANALYSIS_EXECUTABLE :
							     ANALYSIS_CODES, &why);
		if (a && x->executable) {
			fputs(", \"executable\": [", f);
			for (size_t k = 0; k < a->src.n_executable; k++)
				fprintf(f, "%s%ld", k ? ", " : "",
					a->src.executable[k]);
			fputc(']', f);
		}
		if (a && a->codes) {
			fputs(", \"functions\": [", f);
			for (size_t k = 0, m = 0; k < a->n_codes; k++) {
				const struct code_info *c = &a->codes[k];

				if (c->name[0] == '<')
					continue;
				fprintf(f, "%s{\"name\": ", m++ ? ", " : "");
				json_str(f, c->trace_name);
				fprintf(f, ", \"line\": %ld, \"count\": %llu}",
					c->firstlineno,
					(unsigned long long)calls_of(r, at, end, c));
			}
			fputc(']', f);
		}
		fputc('}', f);
	}
	fputs(r->n_counts ? "\n  },\n" : "},\n", f);
}

int export_json(const char *path, const struct results *r,
		const struct export_info *x, char *why, size_t why_len)
{
	const char (*said)[512];
	struct atomic_file a;
	size_t n;
	FILE *f = atomic_open(&a, AT_FDCWD, path);
	int err;

	if (!f)
		return fail(why, why_len, path, strerror(errno));
	fputs("{\n  \"tool\": \"ctrace-bpf\",\n  \"version\": ", f);
	json_str(f, CTRACE_VERSION);
	fprintf(f, ",\n  \"format\": 1,\n  \"target\": {\"pid\": %d, \"command\": ",
		x->pid);
	json_str(f, x->command);
	json_kv(f, ", \"cwd\": ", x->cwd);
	json_kv(f, ", \"python\": ", x->python);
	fputs("},\n", f);
	json_files(f, r, x);
	fputs("  \"functions_called\": [", f);
	for (size_t i = 0; i < r->n_funcs; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		json_name(f, &r->funcs[i]);
	}
	fputs(r->n_funcs ? "\n  ],\n" : "],\n", f);
	fputs("  \"calls\": [", f);
	for (size_t i = 0; i < r->n_calls; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		fputs("{\"caller\": ", f);
		json_name(f, &r->calls[i].caller);
		fputs(", \"callee\": ", f);
		json_name(f, &r->calls[i].callee);
		fprintf(f, ", \"count\": %llu}",
			(unsigned long long)r->calls[i].count);
	}
	fputs(r->n_calls ? "\n  ],\n" : "],\n", f);
	fputs("  \"warnings\": [", f);
	n = log_kept(&said);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		json_str(f, said[i]);
	}
	fputs(n ? "\n  ],\n" : "],\n", f);
	fprintf(f, "  \"dropped\": %llu\n}\n", (unsigned long long)r->dropped);
	err = atomic_commit(&a);
	return err ? fail(why, why_len, path, strerror(-err)) : 0;
}

/* ---- call graphs ---- */

static void dot_id(FILE *f, const struct func_name *n)
{
	char id[PATH_MAX * 2];

	snprintf(id, sizeof(id), "%s:%s", n->file, n->func);
	json_str(f, id);	/* a DOT ID in quotes takes JSON's escapes */
}

static void write_dot(FILE *f, const struct results *r)
{
	uint64_t max = 1;

	for (size_t i = 0; i < r->n_calls; i++)
		if (r->calls[i].count > max)
			max = r->calls[i].count;
	fputs("digraph calls {\n  node [shape=box, fontname=\"monospace\"];\n", f);
	for (size_t i = 0; i < r->n_calls; i++) {
		const struct call_entry *c = &r->calls[i];
		char label[512];

		for (int end = 0; end < 2; end++) {
			const struct func_name *n = end ? &c->callee : &c->caller;

			snprintf(label, sizeof(label), "%s.%s", n->mod ? n->mod : "",
				 n->func);
			fputs("  ", f);
			dot_id(f, n);
			fputs(" [label=", f);
			json_str(f, label);
			fputs("];\n", f);
		}
		fputs("  ", f);
		dot_id(f, &c->caller);
		fputs(" -> ", f);
		dot_id(f, &c->callee);
		/* widths from 1 to 6 by the log of the count */
		fprintf(f, " [label=\"%llu\", penwidth=%.1f];\n",
			(unsigned long long)c->count,
			1.0 + 5.0 * (64 - __builtin_clzll(c->count | 1)) /
				    (64 - __builtin_clzll(max)));
	}
	fputs("}\n", f);
}

/* callgrind's names: no newlines, which end its records */
static void cg_name(FILE *f, const char *key, const char *mod, const char *s)
{
	fprintf(f, "%s=", key);
	for (int part = mod ? 0 : 1; part < 2; part++) {
		for (const char *p = part ? s : mod; *p; p++)
			fputc(*p == '\n' || *p == '\r' ? '?' : *p, f);
		if (!part)
			fputc('.', f);
	}
	fputc('\n', f);
}

static void write_callgrind(FILE *f, const struct results *r,
			    const char *cwd)
{
	uint64_t total = 0;

	for (size_t i = 0; i < r->n_calls; i++)
		total += r->calls[i].count;
	fprintf(f, "# callgrind format\nversion: 1\ncreator: ctrace-bpf %s\n"
		"events: Calls\ntotals: %llu\n", CTRACE_VERSION,
		(unsigned long long)total);
	for (size_t i = 0; i < r->n_calls; i++) {
		const struct call_entry *c = &r->calls[i];

		char a[PATH_MAX * 2], b[PATH_MAX * 2];
		const char *fa = abs_path(cwd, c->caller.file, a, sizeof(a));
		const char *fb = abs_path(cwd, c->callee.file, b, sizeof(b));

		/* functions by module.name, as trace names them; no lines known */
		fputc('\n', f);
		cg_name(f, "fl", NULL, fa ? fa : c->caller.file);
		cg_name(f, "fn", c->caller.mod, c->caller.func);
		cg_name(f, "cfi", NULL, fb ? fb : c->callee.file);
		cg_name(f, "cfn", c->callee.mod, c->callee.func);
		fprintf(f, "calls=%llu 1\n1 %llu\n", (unsigned long long)c->count,
			(unsigned long long)c->count);
	}
}

int export_callgraph(const char *path, const struct results *r,
		     const struct export_info *x, char *why, size_t why_len)
{
	struct atomic_file a;
	size_t n = strlen(path);
	FILE *f;
	int err;

	f = atomic_open(&a, AT_FDCWD, path);
	if (!f)
		return fail(why, why_len, path, strerror(errno));
	if (n > 4 && !strcmp(path + n - 4, ".dot"))
		write_dot(f, r);
	else
		write_callgrind(f, r, x->cwd);
	err = atomic_commit(&a);
	return err ? fail(why, why_len, path, strerror(-err)) : 0;
}
