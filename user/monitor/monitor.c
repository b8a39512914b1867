// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "collector_py.h"
#include "monitor/deliver.h"
#include "monitor/monitor.h"
#include "util/clock.h"
#include "util/log.h"

#define REPLY_BYTES_MAX (1UL << 30)

static double now_s(void)
{
	return mono_ns() / 1e9;
}

/*
 * Where the collector's directory may go, as the target sees them: a
 * container with a read-only root usually keeps /dev/shm writable.
 */
static const char *const bases[] = { "/tmp", "/dev/shm", "/var/tmp" };

/* @base in the target's root, resolved inside it whatever its symlinks say. */
static int open_base(int root_fd, const char *base)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return syscall(SYS_openat2, root_fd, base + 1, &how, sizeof(how));
}

/*
 * Our directory: a fresh random name, ours (root's), 0711 so that the
 * target can reach the files it is given and nobody can list or swap them;
 * in the first of bases[] that takes it.
 */
static int make_dir(struct monitor *m, char *why, size_t why_len)
{
	int err = ENOENT;

	for (size_t b = 0; b < sizeof(bases) / sizeof(*bases); b++) {
		m->tmp_fd = open_base(m->t->root_fd, bases[b]);
		if (m->tmp_fd < 0)
			continue;
		m->base = bases[b];
		for (int tries = 0; tries < 8; tries++) {
			unsigned char r[8];

			if (getrandom(r, sizeof(r), 0) != sizeof(r))
				break;
			snprintf(m->name, sizeof(m->name),
				 "ctrace-bpf.%02x%02x%02x%02x%02x%02x%02x%02x",
				 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
			if (mkdirat(m->tmp_fd, m->name, 0700)) {
				err = errno;
				if (err == EEXIST)
					continue;
				break;
			}
			m->dir_fd = openat(m->tmp_fd, m->name,
					   O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (m->dir_fd >= 0 && !fchmodat(m->tmp_fd, m->name, 0711, 0))
				return 0;
			err = errno;
			if (m->dir_fd >= 0)
				close(m->dir_fd);
			m->dir_fd = -1;
			unlinkat(m->tmp_fd, m->name, AT_REMOVEDIR);
			break;
		}
		close(m->tmp_fd);
		m->tmp_fd = -1;
	}
	snprintf(why, why_len,
		 "cannot make a directory for the collector in /tmp, /dev/shm or /var/tmp of process %d: %s",
		 m->t->pid, strerror(err));
	return -err;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		s += w;
		n -= w;
	}
	return 0;
}

static const char *const mode_names[] = { "count", "funcs", "calls", "trace" };

/* The settings, then the collector: the script as the target runs it. */
static char *script_text(struct monitor *m, enum mon_mode mode,
			 enum mon_start start, bool executable)
{
	size_t n = strlen(collector_py_src);
	char *text = malloc(n + 512);
	int len;

	if (!text)
		return NULL;
	/* UP: frames from the collector's to the one it interrupted */
	len = snprintf(text, 512,
		       "TOKEN = '%s'\nOUT = '%s/%s/out'\nCTL = '%s/%s/ctl'\n"
		       "MODE = '%s'\nMAIN = %d\nEXEC = %d\nCOUNT = %d\nUP = %d\n",
		       m->name + 11, m->base, m->name, m->base, m->name,
		       mode_names[mode & 3], start, executable,
		       mode == MON_TRACE_COUNT, m->via == MON_BY_PTRACE ? 3 : 2);
	memcpy(text + len, collector_py_src, n + 1);
	return text;
}

static int write_script(struct monitor *m, const char *text)
{
	int fd, err;

	fd = openat(m->dir_fd, "collector.py",
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	m->script_left = true;
	err = fchmod(fd, 0644) ? -errno : 0;
	if (!err)
		err = write_all(fd, text, strlen(text));
	close(fd);
	return err;
}

/*
 * For a pending call: one statement that compiles the script under its
 * own name (the collector knows its code by it), from hex, so that no
 * byte of it needs quoting, in globals of its own.
 */
static char *boot_text(const struct monitor *m, const char *text)
{
	size_t n = strlen(text);
	char *boot = malloc(2 * n + 256), *p;

	if (!boot)
		return NULL;
	p = boot + sprintf(boot, "exec(compile(bytes.fromhex('");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%02x", (unsigned char)text[i]);
	sprintf(p, "'), '%s/%s/collector.py', 'exec'), {})\n", m->base,
		m->name);
	return boot;
}

/* The FIFOs belong to the target's user, who alone may open them. */
static int make_fifos(struct monitor *m)
{
	char proc[32];
	struct stat st;

	snprintf(proc, sizeof(proc), "/proc/%d", m->t->pid);
	if (stat(proc, &st))
		return -errno;
	m->uid = st.st_uid;
	m->gid = st.st_gid;
	m->fifos_left = true;
	if (mkfifoat(m->dir_fd, "out", 0600) || mkfifoat(m->dir_fd, "ctl", 0600) ||
	    fchownat(m->dir_fd, "out", st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) ||
	    fchownat(m->dir_fd, "ctl", st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW))
		return -errno;
	/* ours are open before the collector's: it never waits on them */
	m->out_fd = openat(m->dir_fd, "out",
			   O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (m->out_fd < 0)
		return -errno;
	m->ctl_fd = openat(m->dir_fd, "ctl",
			   O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	return m->ctl_fd < 0 ? -errno : 0;
}

/* Read what OUT holds now; parse the complete lines. */
static int take(struct monitor *m, char *why, size_t why_len)
{
	for (;;) {
		size_t used;
		ssize_t n;
		int err;

		if (m->cap - m->len < 65536) {
			char *g = realloc(m->buf, m->cap + 262144);

			if (!g)
				return -ENOMEM;
			m->buf = g;
			m->cap += 262144;
		}
		n = read(m->out_fd, m->buf + m->len, m->cap - m->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0) {
			/* EOF, or no writer yet: only the first after data counts */
			if (m->total)
				m->eof = true;
			return 0;
		}
		if (getenv("CTRACE_DEBUG_REPLY"))
			fwrite(m->buf + m->len, 1, n, stderr);
		m->len += n;
		m->total += n;
		if (m->total > REPLY_BYTES_MAX) {
			snprintf(why, why_len, "the collector sent more than %lu bytes",
				 REPLY_BYTES_MAX);
			return -E2BIG;
		}
		err = reply_parse(&m->reply, m->buf, m->len, &used, why, why_len);
		if (err)
			return err;
		memmove(m->buf, m->buf + used, m->len - used);
		m->len -= used;
	}
}

static void withdraw(struct monitor *m);

static void remove_script(struct monitor *m)
{
	if (m->script_left && !unlinkat(m->dir_fd, "collector.py", 0))
		m->script_left = false;
}

/*
 * PEP 768: ask every thread; the first to reach a safe point runs the
 * collector.  ptrace: the main thread queues it, to run at its next one.
 */
static int request(struct monitor *m, const char *text, char *why,
		   size_t why_len)
{
	char path[96], *boot;
	int err;

	/* written by PID number: into the process examined, or not at all */
	err = target_still_ours(m->t, why, why_len);
	if (!err && m->via == MON_BY_PTRACE) {
		boot = boot_text(m, text);
		if (!boot)
			return -ENOMEM;
		err = ptrace_deliver(m->t, boot, &m->ptrace, why, why_len);
		free(m->boot);
		m->boot = boot;
		return err;
	}
	snprintf(path, sizeof(path), "%s/%s/collector.py", m->base, m->name);
	for (size_t i = 0; i < m->pep.n_threads && !err; i++)
		err = pep768_send(&m->pep, i, path, why, why_len);
	if (err)
		withdraw(m);
	return err;
}

/* The others must not run it too, and the file goes. */
static void withdraw(struct monitor *m)
{
	for (size_t i = 0; i < m->pep.n_threads; i++)
		pep768_cancel(&m->pep, i);
	remove_script(m);
}

int monitor_ready(struct monitor *m, volatile sig_atomic_t *stop, char *why,
		  size_t why_len)
{
	double t0 = now_s(), said = 0;
	bool hup;
	int err = 0;

	while (m->reply.tool < 0 && !m->reply.busy) {
		struct pollfd p = { .fd = m->out_fd, .events = POLLIN };
		double waited = now_s() - t0;

		if (*stop || target_gone(m->t)) {
			snprintf(why, why_len,
				 target_gone(m->t) ?
				 "process %d exited before its collector started" :
				 "process %d never started its collector: none of its threads ran Python (all blocked in C), or the script failed (see its stderr); nothing was traced",
				 m->t->pid);
			err = -ETIMEDOUT;
			break;
		}
		/* the main thread in C: on it at once, if it let the GIL go */
		if (waited > 1 && !said && m->via == MON_BY_PTRACE && m->boot &&
		    !ptrace_direct(m->t, m->boot, &m->ptrace, why, why_len)) {
			said = waited;
		} else if (waited > 1 && !said && m->via == MON_BY_PTRACE) {
			pr_debug("no direct run: %s", why);
			pr_err("note: waiting for process %d's main thread to run Python (blocked in C, an idle server?); Ctrl-C gives up, and the collector it may run later finds nobody and goes...",
			       m->t->pid);
			said = waited;
		} else if (waited > 1 && !said) {
			pr_err("note: waiting for process %d to run Python in one of its %zu threads (all blocked in C, an idle server?); Ctrl-C gives up...",
			       m->t->pid, m->pep.n_threads);
			said = waited;
		}
		/* a hang-up: a writer came and went since we opened it */
		hup = poll(&p, 1, 50) > 0 && (p.revents & POLLHUP);
		err = take(m, why, why_len);
		if (err)
			break;
		if (hup && m->reply.tool < 0 && !m->reply.busy) {
			snprintf(why, why_len,
				 "process %d's collector closed its channel before it counted (our files in its /tmp removed meanwhile?); nothing was traced",
				 m->t->pid);
			err = -EPIPE;
			break;
		}
	}
	if (!err && m->reply.busy && m->reply.traced) {
		snprintf(why, why_len,
			 "process %d already has a trace function (sys.settrace: a debugger, coverage, a profiler): ctrace-bpf does not replace it",
			 m->t->pid);
		err = -EBUSY;
	} else if (!err && m->reply.busy) {
		snprintf(why, why_len,
			 "process %d has all six sys.monitoring tool ids taken (debuggers, coverage, profilers): free one, or use --backend=usdt where probes exist",
			 m->t->pid);
		err = -EBUSY;
	}
	withdraw(m);
	/*
	 * The script is gone: the directory may now be the target's, so that
	 * the collector can remove its FIFOs and itself even if we die.
	 */
	if (!err && fchownat(m->dir_fd, "", m->uid, m->gid, AT_EMPTY_PATH))
		pr_debug("cannot give %s/%s to the target's user: %s", m->base,
			 m->name, strerror(errno));
	return err;
}

int monitor_start(struct monitor *m, struct target *t, enum mon_delivery via,
		  enum mon_mode mode, enum mon_start start, bool executable,
		  char *why, size_t why_len)
{
	char *text;
	int err;

	/* the --trace sink, set by the caller, outlives the reset */
	void (*sink)(void *, const void *, size_t) = m->reply.sink;
	void *sink_ctx = m->reply.sink_ctx;

	memset(m, 0, sizeof(*m));
	m->t = t;
	m->via = via;
	m->tmp_fd = m->dir_fd = m->out_fd = m->ctl_fd = -1;
	reply_init(&m->reply);
	m->reply.sink = sink;
	m->reply.sink_ctx = sink_ctx;
	err = via == MON_BY_PTRACE ? ptrace_refusal(t, why, why_len) :
				     pep768_open(t, &m->pep, why, why_len);
	if (err)
		return err;
	err = make_dir(m, why, why_len);
	if (err)
		return err;
	text = script_text(m, mode, start, executable);
	err = text ? 0 : -ENOMEM;
	if (!err && via == MON_BY_PEP768)
		err = write_script(m, text);
	if (!err)
		err = make_fifos(m);
	if (!err)
		err = request(m, text, why, why_len);
	else
		snprintf(why, why_len, "cannot write the collector into %s/%s of process %d: %s",
			 m->base, m->name, t->pid, strerror(-err));
	free(text);
	return err;
}

int monitor_pollfd(const struct monitor *m)
{
	return m->out_fd;
}

bool monitor_poll(struct monitor *m, char *why, size_t why_len, int *err)
{
	*err = take(m, why, why_len);
	return *err || m->reply.ended || m->eof;
}

int monitor_stop(struct monitor *m, double timeout_s, char *why,
		 size_t why_len)
{
	double t0 = now_s(), said = 0;
	int err = 0;

	/* its end of CTL: the collector stops counting and sends */
	if (m->ctl_fd >= 0)
		close(m->ctl_fd);
	m->ctl_fd = -1;
	while (!m->reply.ended && !m->eof && !err) {
		struct pollfd p = { .fd = m->out_fd, .events = POLLIN };
		double waited = now_s() - t0;

		if (waited > timeout_s) {
			snprintf(why, why_len,
				 "process %d's collector sent no tables within %.0f s",
				 m->t->pid, timeout_s);
			return -ETIMEDOUT;
		}
		if (target_gone(m->t) && !m->total) {
			snprintf(why, why_len,
				 "process %d ended without its collector's tables (killed, or os._exit: its atexit handlers never ran)",
				 m->t->pid);
			return -ESRCH;
		}
		if (waited > 2 && !said) {
			pr_err("note: process %d's collector is sending %zu bytes so far...",
			       m->t->pid, m->total);
			said = waited;
		}
		poll(&p, 1, 100);
		err = take(m, why, why_len);
	}
	if (err)
		return err;
	if (!m->reply.ended) {
		snprintf(why, why_len,
			 "process %d's collector stopped before the end of its tables (%zu bytes)",
			 m->t->pid, m->total);
		return -EPROTO;
	}
	return reply_finish(&m->reply);
}

void monitor_close(struct monitor *m)
{
	char why[256];

	/* W^X: the code's page, read by now (the collector ran), goes */
	if (m->ptrace.left_page && m->reply.tool >= 0 && !target_gone(m->t) &&
	    ptrace_remove_left(m->t, &m->ptrace, why, sizeof(why)))
		pr_err("warning: process %d keeps our code's page (%zu KB at %#llx): %s",
			m->t->pid, m->ptrace.left_len / 1024,
			(unsigned long long)m->ptrace.left_page, why);
	if (m->ctl_fd >= 0)
		close(m->ctl_fd);
	if (m->out_fd >= 0)
		close(m->out_fd);
	if (m->dir_fd >= 0) {
		remove_script(m);
		if (m->fifos_left) {
			unlinkat(m->dir_fd, "out", 0);
			unlinkat(m->dir_fd, "ctl", 0);
		}
		close(m->dir_fd);
		unlinkat(m->tmp_fd, m->name, AT_REMOVEDIR);
	}
	if (m->tmp_fd >= 0)
		close(m->tmp_fd);
	free(m->buf);
	free(m->boot);
	m->boot = NULL;
	reply_free(&m->reply);
	m->ctl_fd = m->out_fd = m->dir_fd = m->tmp_fd = -1;
	m->buf = NULL;
}
