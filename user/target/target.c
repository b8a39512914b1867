// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Finding the target: its Python ELF (executable or a mapped libpython),
 * its root and working directory, and the sys.path[0] its script gives it.
 * The target's binaries are only ever read, never run.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "target/target.h"
#include "util/fileid.h"
#include "util/log.h"
#include "util/term.h"

/* Read a NUL-separated /proc file into an argv-like array. */
static int read_nul_list(const char *path, char **buf, char ***list, int *n)
{
	size_t cap = 4096, len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), cnt = 0;
	ssize_t r;

	*buf = NULL;
	*list = NULL;
	*n = 0;
	if (fd < 0)
		return -errno;
	*buf = malloc(cap + 1);
	while (*buf && (r = read(fd, *buf + len, cap - len)) > 0) {
		len += r;
		if (len == cap) {
			char *g = cap < (1 << 22) ? realloc(*buf, cap * 2 + 1) : NULL;

			if (!g)
				break;
			*buf = g;
			cap *= 2;
		}
	}
	close(fd);
	if (!*buf)
		return -ENOMEM;
	(*buf)[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (!(*buf)[i] || i == 0)
			cnt++;
	*list = calloc(cnt + 1, sizeof(**list));
	if (!*list)
		return -ENOMEM;
	for (size_t i = 0; i < len;) {
		(*list)[(*n)++] = *buf + i;
		i += strlen(*buf + i) + 1;
	}
	return 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat x, y;

	return !stat(a, &x) && !stat(b, &y) && x.st_ino == y.st_ino &&
	       x.st_dev == y.st_dev;
}

/*
 * Read the ELF behind @proc_path (a /proc magic link, right whatever root or
 * mount namespace the process has), known to the process as @name.  The
 * name gives the version when the binary does not, and is kept as the path
 * when it leads to the same file in our view too.
 */
/*
 * ELFs already read, by file identity: under -a thousands of processes map
 * the same interpreter and libc, and parsing them again for each is most of
 * what finding a process costs.
 */
#define ELF_CACHE 128

static struct elf_cached {
	struct file_id id;
	off_t size;
	struct timespec mtime;
	struct pyelf e;
} *elf_cache;
static int elf_cache_n, elf_cache_next;

static struct elf_cached *elf_cache_find(const struct stat *st)
{
	int i = elf_cache ? file_id_find(&elf_cache[0].id, elf_cache_n,
					 sizeof(*elf_cache), file_id_of(st)) : -1;
	struct elf_cached *c = i >= 0 ? &elf_cache[i] : NULL;

	/* a file rewritten in place keeps its inode */
	if (c && c->size == st->st_size &&
	    c->mtime.tv_sec == st->st_mtim.tv_sec &&
	    c->mtime.tv_nsec == st->st_mtim.tv_nsec)
		return c;
	return NULL;
}

static void elf_cache_add(const struct stat *st, const struct pyelf *e)
{
	struct elf_cached *c;

	if (!elf_cache)
		elf_cache = calloc(ELF_CACHE, sizeof(*elf_cache));
	if (!elf_cache)
		return;
	c = &elf_cache[elf_cache_next];
	elf_cache_next = (elf_cache_next + 1) % ELF_CACHE;
	if (elf_cache_n < ELF_CACHE)
		elf_cache_n++;
	c->id = file_id_of(st);
	c->size = st->st_size;
	c->mtime = st->st_mtim;
	c->e = *e;
}

static int pyelf_read_cached(const char *path, struct pyelf *e, char *why,
			     size_t why_len)
{
	struct elf_cached *c;
	struct stat st;
	int err;

	if (stat(path, &st))
		return pyelf_read(path, e, why, why_len);
	c = elf_cache_find(&st);
	if (c) {
		*e = c->e;
		snprintf(e->path, sizeof(e->path), "%s", path);
		return 0;
	}
	err = pyelf_read(path, e, why, why_len);
	if (!err)
		elf_cache_add(&st, e);
	return err;
}

static int read_elf_as(const char *proc_path, const char *name,
		       struct pyelf *e, char *why, size_t why_len)
{
	int err = pyelf_read_cached(proc_path, e, why, why_len);

	if (err)
		return err;
	if (!e->major)
		pyelf_version_from_name(name, e);
	if (same_file(name, proc_path))
		snprintf(e->path, sizeof(e->path), "%s", name);
	return 0;
}

/*
 * The ELF that carries the probes: the executable, or a libpython mapped
 * into it when the interpreter is embedded.
 */

static int find_python_elf(pid_t pid, struct target *t, char *why, size_t why_len)
{
	char maps[64], line[PATH_MAX + 256], path[PATH_MAX + 64];
	char prev[PATH_MAX] = "";
	struct pyelf e;
	bool seen_python = false;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "re");
	if (!f) {
		snprintf(why, why_len, "cannot read %s: %s", maps, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		char perms[8], range[64], *file = strchr(line, '/');
		unsigned long lo, hi;

		if (!file || sscanf(line, "%63s %7s", range, perms) != 2 ||
		    perms[2] != 'x')
			continue;
		file[strcspn(file, "\n")] = '\0';
		if (strstr(file, " (deleted)") || !strcmp(prev, file))
			continue;
		snprintf(prev, sizeof(prev), "%s", file);
		/* maps names files in our view: map_files opens the mapped one */
		if (sscanf(range, "%lx-%lx", &lo, &hi) != 2)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", pid, lo, hi);
		if (read_elf_as(path, file, &e, why, why_len))
			continue;
		if (!e.is_python)
			continue;
		seen_python = true;
		if (pyelf_any_probe(&e)) {
			t->elf = e;
			fclose(f);
			return 0;
		}
		t->elf = e;
	}
	fclose(f);
	if (seen_python) {
		snprintf(why, why_len,
			 "process %d (%s) runs a Python built without --with-dtrace: '%s' has no python:line, python:function__entry or python:function__return probes",
			 pid, t->comm, t->elf.path);
		return -ENODATA;
	}
	snprintf(why, why_len, "process %d (%s) is not a Python process",
		 pid, t->comm);
	return -ENOEXEC;
}

static void read_comm(pid_t pid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	snprintf(comm, len, "?");
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, len, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

static void target_init(struct target *t)
{
	memset(t, 0, sizeof(*t));
	t->root_fd = t->pidfd = -1;
}

static void snapshot(struct target *t, pid_t pid);

/* @elf NULL: found in the process's maps, and its probes checked. */
static int examine(pid_t pid, const struct pyelf *elf, struct target *t,
		   char *why, size_t why_len)
{
	int err = 0;

	target_init(t);
	t->pid = pid;
	/*
	 * The pidfd pins the process before anything is read about it: while
	 * it does not report an exit, @pid still names the same process and
	 * not a newcomer that reused the number.
	 */
	t->pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (t->pidfd < 0 && errno == ESRCH) {
		snprintf(why, why_len, "no such process: %d", pid);
		return -ESRCH;
	}
	read_comm(pid, t->comm, sizeof(t->comm));
	if (elf) {
		t->elf = *elf;
		snprintf(t->elf.path, sizeof(t->elf.path), "/proc/%d/exe", pid);
	} else {
		/* a Python without probes is still described: see target.h */
		err = find_python_elf(pid, t, why, why_len);
		if (err && err != -ENODATA)
			return err;
	}
	snapshot(t, pid);
	if (target_gone(t)) {
		snprintf(why, why_len, "process %d exited while it was being examined", pid);
		return -ESRCH;
	}
	return err;
}

int target_from_pid(pid_t pid, struct target *t, char *why, size_t why_len)
{
	return examine(pid, NULL, t, why, why_len);
}

int target_from_pid_elf(pid_t pid, const struct pyelf *elf, struct target *t,
			char *why, size_t why_len)
{
	return examine(pid, elf, t, why, why_len);
}

/* The Python ELF a process runs: its executable, or the libpython it needs. */
static bool python_elf_of(pid_t pid, struct pyelf *out)
{
	char exe[64], name[PATH_MAX - 64], lib[PATH_MAX * 2], rootp[32];
	char why[512];
	struct pyelf e;
	ssize_t n;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	snprintf(rootp, sizeof(rootp), "/proc/%d/root", pid);
	n = readlink(exe, name, sizeof(name) - 1);
	if (n <= 0)
		return false;
	name[n] = '\0';
	if (read_elf_as(exe, name, &e, why, sizeof(why)))
		return false;
	if (pyelf_any_probe(&e) || e.is_python) {
		*out = e;
		return true;
	}
	/* built --enable-shared: find libpython as the process will, in its root */
	if (pyelf_find_libpython(rootp, exe, name, lib, sizeof(lib)) ||
	    pyelf_read(lib, &e, why, sizeof(why)) || !e.is_python)
		return false;
	*out = e;
	return true;
}

static void join_cmdline(struct target *t, char **argv, int argc)
{
	char raw[sizeof(t->cmdline)];
	size_t n = 0;

	raw[0] = '\0';
	for (int i = 0; i < argc && n + 1 < sizeof(raw); i++)
		n += snprintf(raw + n, sizeof(raw) - n, "%s%s", i ? " " : "",
			      argv[i]);
	if (n >= sizeof(raw))
		n = sizeof(raw) - 1;
	term_escape(t->cmdline, sizeof(t->cmdline), raw, n, true);
}

/* Everything the reports need from the process, read while it is stopped. */
static void snapshot(struct target *t, pid_t pid)
{
	char path[64];
	ssize_t n;

	t->pid = pid;
	read_comm(pid, t->comm, sizeof(t->comm));
	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	t->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	n = readlink(path, t->cwd, sizeof(t->cwd) - 1);
	t->cwd[n > 0 ? n : 0] = '\0';
	if (t->pidfd < 0)
		t->pidfd = syscall(SYS_pidfd_open, pid, 0);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	read_nul_list(path, &t->args_buf, &t->argv, &t->argc);
	join_cmdline(t, t->argv, t->argc);
	/* the environment it started with: what getpath and site read */
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	read_nul_list(path, &t->env_buf, &t->env, &t->envc);
}

/* The processes we follow from the command to the interpreter. */
struct tracees {
	pid_t *pids;
	int n, cap;
};

static void tracee_add(struct tracees *tr, pid_t pid)
{
	for (int i = 0; i < tr->n; i++)
		if (tr->pids[i] == pid)
			return;
	if (tr->n == tr->cap) {
		int cap = tr->cap ? tr->cap * 2 : 16;
		pid_t *g = realloc(tr->pids, cap * sizeof(*g));

		if (!g)
			return;
		tr->pids = g;
		tr->cap = cap;
	}
	tr->pids[tr->n++] = pid;
}

static void tracee_del(struct tracees *tr, pid_t pid)
{
	for (int i = 0; i < tr->n; i++)
		if (tr->pids[i] == pid)
			tr->pids[i] = tr->pids[--tr->n];
}

/* Let go of every follower but @keep, which stays stopped at its exec. */
static void release_others(struct tracees *tr, pid_t keep)
{
	for (int i = 0; i < tr->n; i++) {
		pid_t pid = tr->pids[i];
		int st;

		if (pid == keep)
			continue;
		if (ptrace(PTRACE_INTERRUPT, pid, 0, 0))
			continue;
		if (waitpid(pid, &st, __WALL) == pid && WIFSTOPPED(st))
			ptrace(PTRACE_DETACH, pid, 0, 0);
	}
	tr->n = 0;
}

/*
 * Follow the command through env, sh -c, chroot and the like, by its execs
 * and forks, until a process execs a Python.  That process is left stopped
 * right after its exec, before its interpreter has run anything.
 */
static int follow_to_python(struct target *t, pid_t child, char *why,
			    size_t why_len)
{
	struct tracees tr = { .n = 0 };
	int st, err;

	tracee_add(&tr, child);
	while (tr.n) {
		pid_t pid = waitpid(-1, &st, __WALL);
		int sig = 0, event;

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			tracee_del(&tr, pid);
			if (pid == child) {
				t->reaped = true;
				t->exit_status = st;
			}
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		tracee_add(&tr, pid);
		event = st >> 16;
		if (event == PTRACE_EVENT_EXEC && python_elf_of(pid, &t->elf)) {
			release_others(&tr, pid);
			free(tr.pids);
			snapshot(t, pid);
			t->stopped = pid;
			return 0;
		}
		if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
		    event == PTRACE_EVENT_CLONE) {
			unsigned long newpid;

			if (!ptrace(PTRACE_GETEVENTMSG, pid, 0, &newpid))
				tracee_add(&tr, (pid_t)newpid);
		} else if (!event && WSTOPSIG(st) != SIGTRAP) {
			sig = WSTOPSIG(st);	/* a real signal: deliver it */
		}
		ptrace(PTRACE_CONT, pid, 0, sig);
	}
	release_others(&tr, 0);
	free(tr.pids);
	snprintf(why, why_len, "'%s' exited without running a Python interpreter",
		 t->comm);
	err = -ESRCH;
	return err;
}

/*
 * The child: it waits for "go" on @go (EOF means the tracer gave up), so
 * that it is followed before it execs, and reports a failed exec on @ex.
 */
static _Noreturn void launch_child(char **argv, int go, int ex)
{
	int err;
	char c;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (read(go, &c, 1) != 1)
		_exit(127);
	execvp(argv[0], argv);
	err = errno;
	if (write(ex, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

static void close_pair(int p[2])
{
	close(p[0]);
	close(p[1]);
}

int target_prepare_launch(char **argv, struct target *t, char *why,
			  size_t why_len)
{
	int go[2], ex[2], err, child_errno = 0;
	pid_t pid;

	target_init(t);
	t->launched = true;
	snprintf(t->comm, sizeof(t->comm), "%s", argv[0]);
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(ex, O_CLOEXEC)) {
		close_pair(go);
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		snprintf(why, why_len, "fork: %s", strerror(errno));
		close_pair(go);
		close_pair(ex);
		return err;
	}
	if (pid == 0) {
		close(go[1]);
		close(ex[0]);
		launch_child(argv, go[0], ex[1]);
	}
	close(go[0]);
	close(ex[1]);
	t->child = pid;
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK |
		   PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE)) {
		err = -errno;
		snprintf(why, why_len, "cannot follow '%s' (ptrace): %s", argv[0],
			 strerror(errno));
		close(go[1]);
		close(ex[0]);
		waitpid(pid, NULL, 0);
		return err;
	}
	if (write(go[1], "g", 1) != 1)
		err = -EIO;
	close(go[1]);
	err = follow_to_python(t, pid, why, why_len);
	if (err && read(ex[0], &child_errno, sizeof(child_errno)) == sizeof(child_errno)) {
		snprintf(why, why_len, "cannot run '%s': %s", argv[0],
			 strerror(child_errno));
		err = -child_errno;
	}
	close(ex[0]);
	return err;
}

int target_release(struct target *t, char *why, size_t why_len)
{
	if (t->stopped && ptrace(PTRACE_DETACH, t->stopped, 0, 0)) {
		snprintf(why, why_len, "cannot resume PID %d: %s", t->stopped,
			 strerror(errno));
		return -errno;
	}
	t->stopped = 0;
	return 0;
}

void target_abort(struct target *t)
{
	/* the command never ran Python under our probes: do not run it at all */
	if (t->stopped) {
		int st;

		kill(t->stopped, SIGKILL);
		/* a traced zombie waits for its tracer before its parent sees it */
		while (waitpid(t->stopped, &st, __WALL) == t->stopped &&
		       !WIFEXITED(st) && !WIFSIGNALED(st))
			;
		if (t->stopped == t->child) {
			t->reaped = true;
			t->exit_status = st;
		}
		t->stopped = 0;
	}
	if (t->launched && t->child && !t->reaped) {
		waitpid(t->child, &t->exit_status, 0);
		t->reaped = true;
	}
}

int target_still_ours(struct target *t, char *why, size_t why_len)
{
	if (t->launched || !target_gone(t))
		return 0;
	snprintf(why, why_len,
		 "process %d exited before the probes were attached; nothing was traced",
		 t->pid);
	return -ESRCH;
}

bool target_gone(struct target *t)
{
	/* our own child is reaped for its exit status */
	if (t->launched && t->child && !t->reaped &&
	    waitpid(t->child, &t->exit_status, WNOHANG) == t->child)
		t->reaped = true;
	/* a zombie still answers kill(); its pidfd turns readable at exit */
	if (t->pidfd >= 0) {
		struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

		return poll(&p, 1, 0) > 0;
	}
	if (t->launched && t->pid == t->child)
		return t->reaped;
	return kill(t->pid, 0) && errno == ESRCH;
}

int target_pollfd(const struct target *t)
{
	return t->pidfd;
}

void target_close(struct target *t)
{
	if (t->root_fd >= 0)
		close(t->root_fd);
	if (t->pidfd >= 0)
		close(t->pidfd);
	free(t->argv);
	free(t->args_buf);
	free(t->env);
	free(t->env_buf);
	t->argv = t->env = NULL;
	t->args_buf = t->env_buf = NULL;
	t->argc = t->envc = 0;
	syspath_free(&t->live_path);
	t->root_fd = t->pidfd = -1;
}

void target_print_ready(const struct target *t, bool from_main,
			const char *backend)
{
	const struct pyelf *e = &t->elf;

	const char *base = strrchr(e->path, '/');
	char where[4200] = "", ver[32], comm[4 * sizeof(t->comm) + 1];

	/* name the library when the probes are not in the executable */
	base = base ? base + 1 : e->path;
	if (strncmp(base, t->comm, strlen(t->comm)))
		snprintf(where, sizeof(where), " in %s", base);
	pyelf_version_str(e, ver, sizeof(ver));
	/* the command name is the target's to choose (PR_SET_NAME) */
	term_escape(comm, sizeof(comm), t->comm, strlen(t->comm), true);
	fprintf(stderr, "Tracing PID %d (%s, CPython %s%s)%s%s%s... Ctrl-C to end.\n",
		t->pid, comm, ver, where,
		from_main ? " from its main module" :
		t->launched ? " from its first bytecode" : "",
		backend ? ", " : "", backend ? backend : "");
	fflush(stderr);
}
