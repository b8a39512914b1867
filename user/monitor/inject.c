// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "monitor/inject.h"
#include "util/vm.h"
#include "target/livepath.h"

/* Where each needed word sits in _Py_DebugOffsets, counted from its cookie. */
struct debug_words {
	int minor;
	int interp_head, threads_head, tstate_next, native_id, support;
};

static const struct debug_words words[] = {
	{ 14, 5, 9, 24, 28, 89 },
	{ 15, 5, 9, 24, 31, 105 },
};

#define EVAL_PLEASE_STOP_BIT (1ULL << 5)


/* Which switch turned remote debugging off, as far as we can tell. */
static const char *disabled_by(const struct target *t)
{
	for (int i = 0; i < t->envc; i++)
		if (!strncmp(t->env[i], "PYTHON_DISABLE_REMOTE_DEBUG=", 28))
			return "PYTHON_DISABLE_REMOTE_DEBUG is set in its environment";
	for (int i = 0; i + 1 < t->argc; i++)
		if (!strcmp(t->argv[i], "-X") &&
		    !strcmp(t->argv[i + 1], "disable-remote-debug"))
			return "it runs with -X disable-remote-debug";
	for (int i = 0; i < t->argc; i++)
		if (!strcmp(t->argv[i], "-Xdisable-remote-debug"))
			return "it runs with -X disable-remote-debug";
	return "PYTHON_DISABLE_REMOTE_DEBUG, -X disable-remote-debug, or a build --without-remote-debug";
}

static int list_threads(struct pep768 *p, uint64_t head, char *why,
			size_t why_len)
{
	uint64_t ts = head;

	p->n_threads = 0;
	while (ts && p->n_threads < PEP768_MAX_THREADS) {
		uint64_t next, tid = 0;

		if (vm_read(p->pid, ts + p->tstate_next, &next, 8) ||
		    vm_read(p->pid, ts + p->tstate_native_id, &tid, 8)) {
			snprintf(why, why_len,
				 "cannot read the thread states of process %d", p->pid);
			return -EFAULT;
		}
		p->threads[p->n_threads] = ts;
		p->tids[p->n_threads++] = (pid_t)tid;
		if (next == head)
			break;
		ts = next;
	}
	if (!p->n_threads) {
		snprintf(why, why_len, "process %d has no Python thread yet", p->pid);
		return -EAGAIN;
	}
	return 0;
}

/* The target's memory is checked, not trusted: cookie, version, shape. */
static bool layout_sane(const uint64_t *off, const struct debug_words *w)
{
	return !memcmp(off, "xdebugpy", 8) && ((off[1] >> 24) & 0xff) == 3 &&
	       ((off[1] >> 16) & 0xff) == (uint64_t)w->minor &&
	       off[w->support + 5] == 512 && off[w->support + 4] + 512 <= 4096 &&
	       off[w->support + 1] <= 65536 && off[w->support] <= 65536 &&
	       off[w->support + 2] <= (1 << 20) && off[w->tstate_next] <= 65536 &&
	       off[w->native_id] <= 65536 && off[w->threads_head] <= (1 << 20) &&
	       off[w->interp_head] <= (1 << 20);
}

/* _Py_DebugOffsets of @t, checked, into @off and @p's offsets. */
static int read_offsets(const struct target *t, const struct debug_words *w,
			struct pep768 *p, uint64_t *off, char *why,
			size_t why_len)
{
	p->runtime = livepath_runtime(t->pid, t->elf.path, t->elf.runtime_sym);
	if (!p->runtime ||
	    vm_read(t->pid, p->runtime, off, PYELF_DEBUG_WORDS * sizeof(*off))) {
		snprintf(why, why_len, "cannot find _PyRuntime in process %d ('%s')",
			 t->pid, t->elf.path);
		return -ENOENT;
	}
	if (!layout_sane(off, w)) {
		snprintf(why, why_len,
			 "process %d: _Py_DebugOffsets is not the layout of CPython 3.%d",
			 t->pid, w->minor);
		return -EINVAL;
	}
	if (off[2]) {
		snprintf(why, why_len,
			 "process %d runs a free-threaded CPython, which the monitoring backend does not take yet",
			 t->pid);
		return -ENOTSUP;
	}
	p->eval_breaker = off[w->support];
	p->support = off[w->support + 1];
	p->pending = off[w->support + 3];
	p->path = off[w->support + 4];
	p->path_size = off[w->support + 5];
	p->tstate_next = off[w->tstate_next];
	p->tstate_native_id = off[w->native_id];
	return 0;
}

int pep768_open(const struct target *t, struct pep768 *p, char *why,
		size_t why_len)
{
	const struct debug_words *w = NULL;
	uint64_t off[PYELF_DEBUG_WORDS], head;
	int32_t enabled;
	int err;

	memset(p, 0, sizeof(*p));
	p->pid = t->pid;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (t->elf.major == 3 && t->elf.minor == words[i].minor)
			w = &words[i];
	if (!w) {
		snprintf(why, why_len,
			 "CPython %d.%d has no remote debugger interface (PEP 768 came in 3.14)",
			 t->elf.major, t->elf.minor);
		return -ENOTSUP;
	}
	err = read_offsets(t, w, p, off, why, why_len);
	if (err)
		return err;
	if (vm_read(t->pid, p->runtime + off[w->interp_head], &p->interp, 8) ||
	    !p->interp) {
		snprintf(why, why_len, "process %d has no interpreter yet", t->pid);
		return -EAGAIN;
	}
	if (vm_read(t->pid, p->interp + off[w->support + 2], &enabled, 4)) {
		snprintf(why, why_len, "cannot read the interpreter state of process %d",
			 t->pid);
		return -EFAULT;
	}
	if (enabled != 1) {
		snprintf(why, why_len,
			 "process %d has remote debugging disabled (%s), so the monitoring backend cannot attach",
			 t->pid, disabled_by(t));
		return -EPERM;
	}
	if (vm_read(t->pid, p->interp + off[w->threads_head], &head, 8))
		head = 0;
	return list_threads(p, head, why, why_len);
}

int pep768_send(const struct pep768 *p, size_t i, const char *path,
		char *why, size_t why_len)
{
	uint64_t support = p->threads[i] + p->support, breaker;
	size_t n = strlen(path) + 1;
	int32_t one = 1;
	int err;

	if (n > p->path_size) {
		snprintf(why, why_len, "the collector's path is too long");
		return -ENAMETOOLONG;
	}
	/* the path first, the flag after it, and then the bit that is read */
	err = vm_write(p->pid, support + p->path, path, n);
	if (!err)
		err = vm_write(p->pid, support + p->pending, &one, 4);
	if (!err)
		err = vm_read(p->pid, p->threads[i] + p->eval_breaker, &breaker, 8);
	if (!err) {
		breaker |= EVAL_PLEASE_STOP_BIT;
		err = vm_write(p->pid, p->threads[i] + p->eval_breaker, &breaker, 8);
	}
	if (err)
		snprintf(why, why_len, "cannot write to process %d: %s", p->pid,
			 strerror(-err ? -err : EFAULT));
	return err;
}

void pep768_cancel(const struct pep768 *p, size_t i)
{
	uint64_t at = p->threads[i] + p->support + p->pending;
	int32_t v = 0;

	if (!vm_read(p->pid, at, &v, 4) && v)
		vm_write(p->pid, at, &(int32_t){ 0 }, 4);
}
