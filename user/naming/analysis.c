// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Source analysis through libpython: the target interpreter's own compiler
 * decides which lines are executable and how code objects are named, exactly
 * as python -m trace finds them.  The Python side is user/analysis.py,
 * embedded at build time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "analysis_py.h"
#include "naming/analysis.h"
#include "naming/analysis_cache.h"
#include "naming/source_lines.h"
#include "util/log.h"

#define ANALYSIS_TIMEOUT_MS 20000
#define ANALYSIS_MAX_OUT (512u << 20)

static PyObject *serialize_fn;

static int py_start(char *why, size_t why_len)
{
	PyObject *code = NULL, *mod = NULL;
	PyConfig config;
	PyStatus st;

	if (serialize_fn)
		return 0;
	/* isolated: no site, no environment, no signal handlers of its own */
	PyConfig_InitIsolatedConfig(&config);
	config.install_signal_handlers = 0;
	config.write_bytecode = 0;
	config.site_import = 0;
	st = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(st)) {
		snprintf(why, why_len, "cannot start the embedded Python: %s",
			 st.err_msg ? st.err_msg : "unknown error");
		return -EINVAL;
	}
	code = Py_CompileString(analysis_py_src, "ctrace_analysis.py",
				Py_file_input);
	if (code)
		mod = PyImport_ExecCodeModule("ctrace_analysis", code);
	if (mod)
		serialize_fn = PyObject_GetAttrString(mod, "serialize");
	Py_XDECREF(code);
	Py_XDECREF(mod);
	if (!serialize_fn) {
		PyErr_Print();
		snprintf(why, why_len, "cannot load the source analyser");
		return -EINVAL;
	}
	return 0;
}

void analysis_shutdown(void)
{
	if (!serialize_fn)
		return;
	Py_CLEAR(serialize_fn);
	Py_FinalizeEx();
}

/* In the child: analyse and write the record to @fd. */
static void __attribute__((noreturn))
child_analyse(int fd, const char *data, size_t len, const char *pyc,
	      size_t pyc_len, const char *filename, enum analysis_level level)
{
	PyObject *res;
	char *buf;
	Py_ssize_t n;

	res = PyObject_CallFunction(serialize_fn, "y#siy#", data, (Py_ssize_t)len,
				    filename, (int)level, pyc ? pyc : "",
				    (Py_ssize_t)(pyc ? pyc_len : 0));
	if (!res || PyBytes_AsStringAndSize(res, &buf, &n))
		_exit(3);
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(4);
		buf += w;
		n -= w;
	}
	_exit(0);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct child_out {
	char *buf;
	size_t len, cap;
};

/*
 * One wait and read of the child's output: 1 while more may come, 0 at its
 * end, or a negative errno with @why (the deadline, too much output).
 */
static int read_some(int fd, long deadline, struct child_out *o, char *why,
		     size_t why_len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long left = deadline - now_ms();
	ssize_t n;

	if (left <= 0) {
		snprintf(why, why_len, "analysis took over %d s; gave up",
			 ANALYSIS_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	if (poll(&pfd, 1, left) < 0 && errno != EINTR)
		return -errno;
	if (o->len == o->cap) {
		char *g = o->cap >= ANALYSIS_MAX_OUT ? NULL :
			  realloc(o->buf, o->cap * 2);

		if (!g) {
			snprintf(why, why_len, "analysis output too large");
			return -E2BIG;
		}
		o->buf = g;
		o->cap *= 2;
	}
	n = read(fd, o->buf + o->len, o->cap - o->len);
	if (n < 0 && errno == EINTR)
		return 1;
	if (n <= 0)
		return 0;
	o->len += n;
	return 1;
}

static int reap(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* Read the child's record with a deadline; the child dies if it overstays. */
static int collect_child(pid_t pid, int fd, char **out, size_t *out_len,
			 char *why, size_t why_len)
{
	long deadline = now_ms() + ANALYSIS_TIMEOUT_MS;
	struct child_out o = { .cap = 1 << 16 };
	int status, err = -ENOMEM;

	o.buf = malloc(o.cap);
	while (o.buf && (err = read_some(fd, deadline, &o, why, why_len)) > 0)
		;
	if (err) {
		kill(pid, SIGKILL);
		reap(pid);
		free(o.buf);
		if (!why[0])
			snprintf(why, why_len, "%s", strerror(-err));
		return err;
	}
	status = reap(pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(why, why_len, "the analyser %s",
			 WIFSIGNALED(status) ? "crashed" : "failed");
		free(o.buf);
		return -EINVAL;
	}
	*out = o.buf;
	*out_len = o.len;
	return 0;
}

int analysis_run(const char *data, size_t len, const char *filename,
		 enum analysis_level level, struct file_analysis *out, char *why,
		 size_t why_len)
{
	return analysis_run_pyc(data, len, NULL, 0, filename, level, out, why,
				why_len);
}

/* What needs no compiler: plain lines, or an earlier run's record. */
static int job_quick(struct analysis_job *j)
{
	char *rec = NULL;
	size_t rec_len = 0;
	int err;

	j->why[0] = '\0';
	memset(j->out, 0, sizeof(*j->out));
	if (j->level == ANALYSIS_LINES) {
		err = source_lines_plain(j->data, j->len, &j->out->src);
		if (err != -EAGAIN)
			return err;
	}
	/* a source analysed in an earlier run, unchanged: no compiler run */
	if (!analysis_cache_get(j->data, j->len, j->pyc, j->pyc_len, j->filename,
				j->level, &rec, &rec_len)) {
		err = analysis_parse(rec, rec_len, j->out);
		free(rec);
		if (!err) {
			pr_debug("analysis of '%s' from the cache", j->filename);
			return 0;
		}
		file_analysis_free(j->out);
		memset(j->out, 0, sizeof(*j->out));
	}
	return -EAGAIN;
}

static int job_fork(struct analysis_job *j, pid_t *pid, int *fd)
{
	int pfd[2], err;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	*pid = fork();
	if (*pid < 0) {
		err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (*pid == 0) {
		close(pfd[0]);
		child_analyse(pfd[1], j->data, j->len, j->pyc, j->pyc_len,
			      j->filename, j->level);
	}
	close(pfd[1]);
	*fd = pfd[0];
	return 0;
}

static int job_finish(struct analysis_job *j, pid_t pid, int fd)
{
	char *rec = NULL;
	size_t rec_len = 0;
	int err;

	err = collect_child(pid, fd, &rec, &rec_len, j->why, j->why_len);
	close(fd);
	if (err)
		return err;
	err = analysis_parse(rec, rec_len, j->out);
	if (!err)
		analysis_cache_put(j->data, j->len, j->pyc, j->pyc_len,
				   j->filename, j->level, rec, rec_len);
	free(rec);
	if (err)
		snprintf(j->why, j->why_len, "malformed analysis record");
	return err;
}

#define MAX_PARALLEL 16

/*
 * Up to @parallel children compile at once; their records are read in
 * the order they were started (a child whose pipe is full just waits).
 */
void analysis_run_many(struct analysis_job *jobs, size_t n, int parallel)
{
	struct { pid_t pid; int fd; size_t job; } run[MAX_PARALLEL];
	size_t next = 0;
	int nrun = 0;

	if (parallel < 1)
		parallel = 1;
	if (parallel > MAX_PARALLEL)
		parallel = MAX_PARALLEL;
	for (;;) {
		while (next < n && nrun < parallel) {
			struct analysis_job *j = &jobs[next];

			j->err = job_quick(j);
			if (j->err == -EAGAIN)
				j->err = py_start(j->why, j->why_len);
			else {
				next++;
				continue;
			}
			if (!j->err)
				j->err = job_fork(j, &run[nrun].pid, &run[nrun].fd);
			if (!j->err)
				run[nrun++].job = next;
			next++;
		}
		if (!nrun)
			break;
		jobs[run[0].job].err = job_finish(&jobs[run[0].job], run[0].pid,
						  run[0].fd);
		memmove(&run[0], &run[1], (nrun - 1) * sizeof(run[0]));
		nrun--;
	}
}

int analysis_run_pyc(const char *data, size_t len, const char *pyc,
		     size_t pyc_len, const char *filename,
		     enum analysis_level level, struct file_analysis *out,
		     char *why, size_t why_len)
{
	struct analysis_job j = {
		.data = data, .len = len, .pyc = pyc, .pyc_len = pyc_len,
		.filename = filename, .level = level, .out = out,
		.why = why, .why_len = why_len,
	};

	analysis_run_many(&j, 1, 1);
	return j.err;
}

static int parse_longs(const char *s, const char *end, long **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	while (s < end) {
		bool neg = s < end && *s == '-';
		const char *e = s + neg;
		long v = 0;

		/* bounded by @end: strtol would skip a newline and read on */
		while (e < end && *e >= '0' && *e <= '9' && v < (1L << 40))
			v = v * 10 + (*e++ - '0');
		if (e == s + neg)
			break;
		if (neg)
			v = -v;
		if (*n == cap) {
			long *g = realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof(long));

			if (!g)
				return -ENOMEM;
			*out = g;
		}
		(*out)[(*n)++] = v;
		s = e;
		while (s < end && (*s == ' ' || *s == ','))
			s++;
	}
	return 0;
}

static int parse_code(const char *s, const char *end, struct code_info *c)
{
	char name[512], tname[1024], *line;
	int missed, used = 0, err;
	long first;

	/* sscanf needs a string that ends where the record's line does */
	if (end - s > 1 << 24 || !(line = strndup(s, end - s)))
		return -EINVAL;
	if (sscanf(line, "%d %ld %511s %1023s %n", &missed, &first, name, tname,
		   &used) != 4) {
		free(line);
		return -EINVAL;
	}
	c->first_line_missed = missed;
	c->firstlineno = first;
	c->name = strdup(name);
	c->trace_name = strdup(tname);
	err = !c->name || !c->trace_name ? -ENOMEM :
	      parse_longs(line + used, line + strlen(line), &c->lines, &c->n_lines);
	free(line);
	return err;
}

/*
 * N's @n lines from @p on, each "LENGTH\nBYTES": where they end, or NULL.
 * The record is not NUL-terminated: no strtoul.
 */
static const char *parse_lines(const char *p, const char *end, size_t n,
			       size_t len, struct source_info *s)
{
	s->lines = calloc(n + 1, sizeof(*s->lines));
	if (!s->lines)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *e = p;
		size_t l = 0;

		while (e < end && *e >= '0' && *e <= '9' && l < len)
			l = l * 10 + (*e++ - '0');
		if (e == p || e >= end || *e != '\n' ||
		    l > (size_t)(end - e - 1))
			return NULL;
		s->lines[i] = strndup(e + 1, l);
		if (!s->lines[i])
			return NULL;
		s->n_lines++;
		p = e + 1 + l;
	}
	return p;
}

static int add_code(struct file_analysis *a, const char *p, const char *nl)
{
	struct code_info *g = realloc(a->codes, (a->n_codes + 1) * sizeof(*g));

	if (!g)
		return -ENOMEM;
	a->codes = g;
	memset(&a->codes[a->n_codes], 0, sizeof(*g));
	return parse_code(p, nl, &a->codes[a->n_codes++]);
}

/* One record from @p (its line ends at @nl): where the next starts, or NULL. */
static const char *parse_record(struct file_analysis *a, const char *p,
				const char *nl, const char *end, size_t len)
{
	struct source_info *s = &a->src;
	char tag = *p;

	/* each of these comes once; a second would leak the first */
	if ((tag == 'E' && s->encoding) || (tag == 'F' && a->problem) ||
	    (tag == 'N' && s->lines) || (tag == 'X' && s->executable))
		return NULL;
	if (tag == 'E' && !(s->encoding = strndup(p + 2, nl - p - 2)))
		return NULL;
	if (tag == 'F' && !(a->problem = strndup(p + 2, nl - p - 2)))
		return NULL;
	if (tag == 'N') {
		size_t n = strtoul(p + 2, NULL, 10);

		return n > len ? NULL : parse_lines(nl + 1, end, n, len, s);
	}
	if (tag == 'X' &&
	    parse_longs(p + 2, nl, &s->executable, &s->n_executable))
		return NULL;
	if (tag == 'C' && add_code(a, p + 2, nl))
		return NULL;
	return nl + 1;
}

int analysis_parse(const char *buf, size_t len, struct file_analysis *a)
{
	const char *p = buf, *end = buf + len;

	memset(a, 0, sizeof(*a));
	if (len < 5 || memcmp(p, "CTA1\n", 5))
		return -EINVAL;
	for (p += 5; p && p < end;) {
		const char *nl = memchr(p, '\n', end - p);

		p = nl && nl - p >= 2 ? parse_record(a, p, nl, end, len) : NULL;
	}
	if (p && a->src.encoding)
		return 0;
	file_analysis_free(a);
	return -EINVAL;
}

void file_analysis_free(struct file_analysis *a)
{
	source_info_free(&a->src);
	for (size_t i = 0; i < a->n_codes; i++) {
		free(a->codes[i].name);
		free(a->codes[i].trace_name);
		free(a->codes[i].lines);
	}
	free(a->codes);
	free(a->problem);
	memset(a, 0, sizeof(*a));
}

static bool has_line(const struct code_info *c, long line)
{
	for (size_t i = 0; i < c->n_lines; i++)
		if (c->lines[i] == line)
			return true;
	return false;
}

const struct code_info *analysis_find_if(const struct file_analysis *a,
					 const char *name, long line,
					 bool exact_first,
					 bool (*keep)(const struct code_info *, void *),
					 void *ctx)
{
	const struct code_info *best = NULL;

	for (size_t i = 0; i < a->n_codes; i++) {
		const struct code_info *c = &a->codes[i];

		if (strcmp(c->name, name))
			continue;
		if (exact_first ? c->firstlineno != line :
		    !(has_line(c, line) || c->firstlineno == line))
			continue;
		if (keep && !keep(c, ctx))
			continue;
		if (!best || c->firstlineno > best->firstlineno)
			best = c;
	}
	return best;
}

const struct code_info *analysis_find(const struct file_analysis *a,
				      const char *name, long line,
				      bool exact_first)
{
	return analysis_find_if(a, name, line, exact_first, NULL, NULL);
}
