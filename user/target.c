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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "log.h"
#include "target.h"

static int add_path(struct target *t, const char *p)
{
	char **g = realloc(t->path_head, (t->n_path_head + 1) * sizeof(*g));

	if (!g)
		return -ENOMEM;
	t->path_head = g;
	g[t->n_path_head] = strdup(p);
	if (!g[t->n_path_head])
		return -ENOMEM;
	t->n_path_head++;
	return 0;
}

static void dirname_into(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, len, "%s", "");
	else if (slash == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

/*
 * sys.path[0] as CPython computes it from the command line: the script's
 * directory, or the working directory for -c and -m.
 */
static void derive_sys_path(struct target *t, char *const *argv, int argc,
			    const char *pythonpath)
{
	char buf[PATH_MAX * 2], dir[PATH_MAX];
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || !strcmp(a, "-"))
			break;
		if (!strcmp(a, "-c") || !strcmp(a, "-m")) {
			add_path(t, t->cwd);
			goto pythonpath;
		}
		/* options that take the next word */
		if (!strcmp(a, "-W") || !strcmp(a, "-X") || !strcmp(a, "-Q"))
			i++;
	}
	if (i < argc && strcmp(argv[i], "-")) {
		if (argv[i][0] == '/')
			snprintf(buf, sizeof(buf), "%s", argv[i]);
		else
			snprintf(buf, sizeof(buf), "%s/%s", t->cwd, argv[i]);
		dirname_into(buf, dir, sizeof(dir));
		add_path(t, dir);
	}
pythonpath:
	while (pythonpath && *pythonpath) {
		const char *end = strchr(pythonpath, ':');
		size_t len = end ? (size_t)(end - pythonpath) : strlen(pythonpath);

		if (len && len < sizeof(dir)) {
			snprintf(dir, sizeof(dir), "%.*s", (int)len, pythonpath);
			add_path(t, dir);
		}
		pythonpath = end ? end + 1 : NULL;
	}
}

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

static const char *env_get(char **env, int n, const char *name)
{
	size_t nl = strlen(name);

	for (int i = 0; i < n; i++)
		if (!strncmp(env[i], name, nl) && env[i][nl] == '=')
			return env[i] + nl + 1;
	return NULL;
}

/*
 * The ELF that carries the probes: the executable, or a libpython mapped
 * into it when the interpreter is embedded.
 */
static int find_python_elf(pid_t pid, struct target *t, char *why, size_t why_len)
{
	char maps[64], line[PATH_MAX + 256], path[PATH_MAX + 64];
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
		char perms[8], *file = strchr(line, '/');
		char prev[PATH_MAX] = "";

		if (!file || sscanf(line, "%*s %7s", perms) != 1 || perms[2] != 'x')
			continue;
		file[strcspn(file, "\n")] = '\0';
		if (strstr(file, " (deleted)") || !strcmp(prev, file))
			continue;
		snprintf(prev, sizeof(prev), "%s", file);
		snprintf(path, sizeof(path), "/proc/%d/root%s", pid, file);
		if (pyelf_read(path, &e, why, why_len))
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
	if (seen_python)
		snprintf(why, why_len,
			 "process %d (%s) runs a Python built without --with-dtrace: '%s' has no python:line, python:function__entry or python:function__return probes",
			 pid, t->comm, t->elf.path);
	else
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
	t->root_fd = t->go_fd = t->exec_err_fd = t->pidfd = -1;
}

int target_from_pid(pid_t pid, struct target *t, char *why, size_t why_len)
{
	char path[64], **argv = NULL, **env = NULL, *abuf = NULL, *ebuf = NULL;
	int argc = 0, envc = 0, err;
	ssize_t n;

	target_init(t);
	t->pid = pid;
	if (kill(pid, 0) && errno == ESRCH) {
		snprintf(why, why_len, "no such process: %d", pid);
		return -ESRCH;
	}
	read_comm(pid, t->comm, sizeof(t->comm));
	err = find_python_elf(pid, t, why, why_len);
	if (err)
		return err;
	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	t->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	n = readlink(path, t->cwd, sizeof(t->cwd) - 1);
	t->cwd[n > 0 ? n : 0] = '\0';
	t->pidfd = syscall(SYS_pidfd_open, pid, 0);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	read_nul_list(path, &abuf, &argv, &argc);
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	read_nul_list(path, &ebuf, &env, &envc);
	if (argv)
		derive_sys_path(t, argv, argc, env_get(env, envc, "PYTHONPATH"));
	free(argv);
	free(abuf);
	free(env);
	free(ebuf);
	return 0;
}

/* execvp's search, done up front so the ELF can be read before exec. */
static int resolve_command(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(cmd, '/')) {
		if (!realpath(cmd, out))
			return -errno;
		return 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t dl = end ? (size_t)(end - path) : strlen(path);
		char cand[PATH_MAX];

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)dl, dl ? path : ".", cmd);
		if (!access(cand, X_OK) && realpath(cand, out))
			return 0;
		path = end ? end + 1 : "";
	}
	(void)len;
	return -ENOENT;
}

int target_prepare_launch(char **argv, struct target *t, char *why,
			  size_t why_len)
{
	int go[2], ex[2], argc = 0, err;
	char exe[PATH_MAX];
	pid_t pid;

	target_init(t);
	t->launched = true;
	err = resolve_command(argv[0], exe, sizeof(exe));
	if (err) {
		snprintf(why, why_len, "cannot run '%s': %s", argv[0], strerror(-err));
		return err;
	}
	err = pyelf_read(exe, &t->elf, why, why_len);
	if (err)
		return err;
	snprintf(t->comm, sizeof(t->comm), "%s", strrchr(exe, '/') + 1);
	if (!pyelf_any_probe(&t->elf)) {
		struct pyelf lib;
		char libpath[PATH_MAX];

		/* built --enable-shared: the interpreter lives in libpython */
		if (!pyelf_find_libpython(exe, libpath, sizeof(libpath)) &&
		    !pyelf_read(libpath, &lib, why, why_len) && lib.is_python)
			t->elf = lib;
	}
	if (!t->elf.is_python) {
		snprintf(why, why_len, "'%s' is not a Python interpreter", exe);
		return -ENOEXEC;
	}
	if (!pyelf_any_probe(&t->elf)) {
		snprintf(why, why_len,
			 "'%s' was built without --with-dtrace: it has no python:line, python:function__entry or python:function__return probes",
			 t->elf.path);
		return -ENOEXEC;
	}
	if (!getcwd(t->cwd, sizeof(t->cwd)))
		t->cwd[0] = '\0';
	t->root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	while (argv[argc])
		argc++;
	derive_sys_path(t, argv, argc, getenv("PYTHONPATH"));

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(ex, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		snprintf(why, why_len, "fork: %s", strerror(errno));
		return err;
	}
	if (pid == 0) {
		char c;

		close(go[1]);
		close(ex[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		/* EOF instead of "go" means the tracer gave up */
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execv(exe, argv);
		err = errno;
		if (write(ex[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(ex[1]);
	t->pid = pid;
	t->go_fd = go[1];
	t->exec_err_fd = ex[0];
	t->pidfd = syscall(SYS_pidfd_open, pid, 0);
	return 0;
}

int target_release(struct target *t, char *why, size_t why_len)
{
	int child_errno = 0;
	ssize_t n;

	if (write(t->go_fd, "g", 1) != 1) {
		snprintf(why, why_len, "cannot start the command: %s", strerror(errno));
		return -EIO;
	}
	close(t->go_fd);
	t->go_fd = -1;
	n = read(t->exec_err_fd, &child_errno, sizeof(child_errno));
	close(t->exec_err_fd);
	t->exec_err_fd = -1;
	if (n == sizeof(child_errno)) {
		snprintf(why, why_len, "cannot run '%s': %s", t->elf.path,
			 strerror(child_errno));
		target_gone(t);
		return -child_errno;
	}
	return 0;
}

void target_abort(struct target *t)
{
	if (t->go_fd >= 0) {
		close(t->go_fd);
		t->go_fd = -1;
	}
	if (t->launched && !t->reaped) {
		waitpid(t->pid, &t->exit_status, 0);
		t->reaped = true;
	}
}

bool target_gone(struct target *t)
{
	if (t->launched) {
		if (!t->reaped && waitpid(t->pid, &t->exit_status, WNOHANG) == t->pid)
			t->reaped = true;
		return t->reaped;
	}
	/* a zombie still answers kill(); its pidfd turns readable at exit */
	if (t->pidfd >= 0) {
		struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

		return poll(&p, 1, 0) > 0;
	}
	return kill(t->pid, 0) && errno == ESRCH;
}

int target_pollfd(const struct target *t)
{
	return t->pidfd;
}

void target_close(struct target *t)
{
	if (t->go_fd >= 0)
		close(t->go_fd);
	if (t->exec_err_fd >= 0)
		close(t->exec_err_fd);
	if (t->root_fd >= 0)
		close(t->root_fd);
	if (t->pidfd >= 0)
		close(t->pidfd);
	for (size_t i = 0; i < t->n_path_head; i++)
		free(t->path_head[i]);
	free(t->path_head);
	t->go_fd = t->exec_err_fd = t->root_fd = t->pidfd = -1;
	t->path_head = NULL;
	t->n_path_head = 0;
}
