// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --count's reports: one .cover file per source file and the --summary table,
 * in the formats of CPython's Lib/trace.py (CoverageResults.write_results).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "report/report.h"
#include "util/atomic_file.h"
#include "util/log.h"

#define PRAGMA_NOCOVER "#pragma NO COVER"


void write_expanded(FILE *f, const char *line, bool utf8)
{
	size_t col = 0;

	for (const char *p = line; *p; p++) {
		if (*p == '\t') {
			size_t n = 8 - col % 8;

			fprintf(f, "%*s", (int)n, "");
			col += n;
			continue;
		}
		fputc(*p, f);
		if (*p == '\n' || *p == '\r')
			col = 0;
		else if (!utf8 || ((unsigned char)*p & 0xc0) != 0x80)
			col++;
	}
}

static bool is_executable(const struct source_info *s, long line)
{
	size_t lo = 0, hi = s->n_executable;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->executable[mid] == line)
			return true;
		if (s->executable[mid] < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* A name we are willing to create: one path component, never hidden. */
static bool safe_component(const char *name)
{
	return *name && *name != '.' && !strchr(name, '/') &&
	       strlen(name) < NAME_MAX - 16;
}

struct cover_stats {
	long hits, lines;
};

static int write_cover_body(FILE *f, const struct count_entry *counts,
			    size_t n, const struct source_info *s,
			    struct cover_stats *st)
{
	bool utf8 = !strncmp(s->encoding, "utf-8", 5) ||
		    !strncmp(s->encoding, "utf8", 4);
	size_t ci = 0;

	/* Python's utf-8-sig codec writes a BOM first */
	if (!strcmp(s->encoding, "utf-8-sig"))
		fputs("\xef\xbb\xbf", f);
	for (size_t i = 0; i < s->n_lines; i++) {
		long lineno = (long)i + 1;

		while (ci < n && counts[ci].line < lineno)
			ci++;
		if (ci < n && counts[ci].line == lineno) {
			fprintf(f, "%5llu: ", (unsigned long long)counts[ci].count);
			st->hits++;
			st->lines++;
		} else if (is_executable(s, lineno) &&
			   !strstr(s->lines[i], PRAGMA_NOCOVER)) {
			fputs(">>>>>> ", f);
			st->lines++;
		} else {
			fputs("       ", f);
		}
		write_expanded(f, s->lines[i], utf8);
	}
	return ferror(f) ? -EIO : 0;
}

static int write_cover(int dirfd, const char *name,
		       const struct count_entry *counts, size_t n,
		       const struct source_info *s, struct cover_stats *st)
{
	char final[NAME_MAX + 1];
	struct atomic_file a;
	FILE *f;
	int err;

	snprintf(final, sizeof(final), "%s.cover", name);
	f = atomic_open(&a, dirfd, final);
	if (!f)
		return -errno;
	err = write_cover_body(f, counts, n, s, st);
	if (err) {
		atomic_abort(&a);
		return err;
	}
	return atomic_commit(&a);
}

static int mkdirs(const char *dir)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

struct summary_row {
	char *mod;
	char *file;
	long lines, hits, percent;
};

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct summary_row *)a)->mod,
		      ((const struct summary_row *)b)->mod);
}

static bool bracketed(const char *file)
{
	size_t len = strlen(file);

	return len && file[0] == '<' && file[len - 1] == '>';
}

/* trace reports a .pyc's counts against its .py */
static const char *pyc_to_py(const char *file, char *buf, size_t len)
{
	size_t n = strlen(file);

	snprintf(buf, len, "%s", file);
	if (n > 4 && n < len && !strcmp(file + n - 4, ".pyc"))
		buf[n - 1] = '\0';
	return buf;
}

struct summary {
	struct summary_row *rows;
	size_t n;
};

/* A file's row; trace keys the summary by module, so a later file wins. */
static void summary_add(struct summary *sum, char *mod, const char *py,
			const struct cover_stats *st)
{
	struct summary_row *grown;
	size_t k;

	for (k = 0; k < sum->n && strcmp(sum->rows[k].mod, mod); k++)
		;
	if (k == sum->n) {
		grown = realloc(sum->rows, (sum->n + 1) * sizeof(*grown));
		if (!grown) {
			free(mod);
			return;
		}
		sum->rows = grown;
		sum->n++;
	} else {
		free(sum->rows[k].mod);
		free(sum->rows[k].file);
	}
	sum->rows[k].mod = mod;
	sum->rows[k].file = strdup(py);	/* trace prints the .py name */
	sum->rows[k].lines = st->lines;
	sum->rows[k].hits = st->hits;
	sum->rows[k].percent = 100 * st->hits / st->lines;
}

static void summary_print(struct summary *sum, bool tenths, FILE *out)
{
	struct summary_row *row = sum->rows;

	qsort(sum->rows, sum->n, sizeof(*sum->rows), cmp_row);
	fprintf(out, "lines   cov%%   module   (path)\n");
	for (size_t k = 0; k < sum->n; k++, row++)
		if (tenths)	/* 3.14+: f"{n_hits/n_lines:.1%}" */
			fprintf(out, "%5ld   %.1f%%   %s   (%s)\n", row->lines,
				(double)row->hits / row->lines * 100, row->mod,
				row->file);
		else
			fprintf(out, "%5ld   %3ld%%   %s   (%s)\n", row->lines,
				row->percent, row->mod, row->file);
}

static void summary_free(struct summary *sum)
{
	for (size_t k = 0; k < sum->n; k++) {
		free(sum->rows[k].mod);
		free(sum->rows[k].file);
	}
	free(sum->rows);
}

/* The cover directory, made and opened at the first file that needs it. */
static int cover_dir(const char *dir, int *dirfd)
{
	int err;

	if (*dirfd >= 0)
		return 0;
	err = mkdirs(dir);
	if (!err) {
		*dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		err = *dirfd < 0 ? -errno : 0;
	}
	if (err)
		pr_err("cannot use cover directory '%s': %s", dir, strerror(-err));
	return err;
}

/*
 * One file's counts, @n of them from @c: its .cover, and its summary row.
 * 1: a file noted and passed over; -1: no cover directory, the end.
 */
static int cover_file(const struct count_entry *c, size_t n,
		      const struct source_provider *src,
		      const struct count_report_opts *o, int *dirfd,
		      struct summary *sum)
{
	struct source_info s = {};
	struct cover_stats st = {};
	char why[256] = "", *mod, py[PATH_MAX];
	int err;

	if (bracketed(c->file))
		return 0;
	mod = trace_fullmodname(pyc_to_py(c->file, py, sizeof(py)), o->sys_path,
				o->n_sys_path);
	if (!mod || !safe_component(mod)) {
		pr_err("note: no .cover for '%s': it makes no safe file name", c->file);
		free(mod);
		return 1;
	}
	err = src->get(src->ctx, py, o->missing, &s, why, sizeof(why));
	if (err) {
		pr_err("note: no .cover for '%s': %s", c->file, why);
		free(mod);
		return 1;
	}
	if (cover_dir(o->coverdir, dirfd)) {
		free(mod);
		return -1;
	}
	err = write_cover(*dirfd, mod, c, n, &s, &st);
	if (err) {
		pr_err("cannot write '%s/%s.cover': %s", o->coverdir, mod,
		       strerror(-err));
		free(mod);
		return 1;
	}
	if (o->summary && st.lines)
		summary_add(sum, mod, py, &st);
	else
		free(mod);
	return 0;
}

int report_counts(const struct results *r, const struct source_provider *src,
		  const struct count_report_opts *o, FILE *out)
{
	struct summary sum = {};
	int failures = 0, dirfd = -1, err = 0;

	/* counts are sorted by (file, line): each file is one run */
	for (size_t i = 0, j; i < r->n_counts && err >= 0; i = j) {
		for (j = i; j < r->n_counts &&
			    r->counts[j].file == r->counts[i].file; j++)
			;
		err = cover_file(&r->counts[i], j - i, src, o, &dirfd, &sum);
		failures += err > 0;
	}
	if (dirfd >= 0)
		close(dirfd);
	if (err >= 0 && o->summary && sum.n)
		summary_print(&sum, o->percent_tenths, out);
	summary_free(&sum);
	return err < 0 ? -1 : failures;
}
