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

int report_counts(const struct results *r, const struct source_provider *src,
		  const struct count_report_opts *o, FILE *out)
{
	struct summary_row *rows = NULL;
	size_t n_rows = 0;
	int failures = 0, dirfd = -1, err;

	/* counts are sorted by (file, line): each file is one run */
	for (size_t i = 0; i < r->n_counts;) {
		const char *file = r->counts[i].file;
		struct source_info s = {};
		struct cover_stats st = {};
		char why[256] = "", *mod = NULL, py[PATH_MAX];
		size_t j = i;

		while (j < r->n_counts && r->counts[j].file == file)
			j++;
		if (bracketed(file))
			goto next;
		mod = trace_fullmodname(pyc_to_py(file, py, sizeof(py)),
					o->sys_path, o->n_sys_path);
		if (!mod || !safe_component(mod)) {
			pr_err("note: no .cover for '%s': it makes no safe file name", file);
			failures++;
			goto next;
		}
		err = src->get(src->ctx, py, o->missing, &s, why, sizeof(why));
		if (err) {
			pr_err("note: no .cover for '%s': %s", file, why);
			failures++;
			goto next;
		}
		if (dirfd < 0) {
			err = mkdirs(o->coverdir);
			if (!err) {
				dirfd = open(o->coverdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				err = dirfd < 0 ? -errno : 0;
			}
			if (err) {
				pr_err("cannot use cover directory '%s': %s",
				       o->coverdir, strerror(-err));
				free(mod);
				free(rows);
				return -1;
			}
		}
		err = write_cover(dirfd, mod, &r->counts[i], j - i, &s, &st);
		if (err) {
			pr_err("cannot write '%s/%s.cover': %s", o->coverdir, mod,
			       strerror(-err));
			failures++;
			goto next;
		}
		if (o->summary && st.lines) {
			struct summary_row *grown;
			size_t k;

			/* trace keys the summary by module: a later file wins */
			for (k = 0; k < n_rows && strcmp(rows[k].mod, mod); k++)
				;
			if (k == n_rows) {
				grown = realloc(rows, (n_rows + 1) * sizeof(*rows));
				if (!grown)
					goto next;
				rows = grown;
				n_rows++;
			} else {
				free(rows[k].mod);
				free(rows[k].file);
			}
			rows[k].mod = mod;
			rows[k].file = strdup(py);	/* trace prints the .py name */
			rows[k].lines = st.lines;
			rows[k].hits = st.hits;
			rows[k].percent = 100 * st.hits / st.lines;
			mod = NULL;
		}
next:
		free(mod);
		i = j;
	}
	if (dirfd >= 0)
		close(dirfd);
	if (o->summary && n_rows) {
		qsort(rows, n_rows, sizeof(*rows), cmp_row);
		fprintf(out, "lines   cov%%   module   (path)\n");
		for (size_t k = 0; k < n_rows; k++)
			if (o->percent_tenths)	/* 3.14+: f"{n_hits/n_lines:.1%}" */
				fprintf(out, "%5ld   %.1f%%   %s   (%s)\n",
					rows[k].lines,
					(double)rows[k].hits / rows[k].lines * 100,
					rows[k].mod, rows[k].file);
			else
				fprintf(out, "%5ld   %3ld%%   %s   (%s)\n",
					rows[k].lines, rows[k].percent,
					rows[k].mod, rows[k].file);
	}
	for (size_t k = 0; k < n_rows; k++) {
		free(rows[k].mod);
		free(rows[k].file);
	}
	free(rows);
	return failures;
}
