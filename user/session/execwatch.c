// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * -a: processes that start while we trace are seen at their exec, by a
 * raw tracepoint, whatever the mode.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "execwatch.skel.h"
#include "session/execwatch.h"
#include "usdt/attach.h"
#include "usdt/probe.h"

static int on_exec(void *ctx, void *data, size_t len)
{
	struct execwatch *w = ctx;

	if (len >= sizeof(__u32) && w->n < EXECWATCH_MAX)
		w->pids[w->n++] = *(__u32 *)data;
	return 0;
}

int execwatch_open(struct execwatch *w, char *why, size_t why_len)
{
	int err;

	memset(w, 0, sizeof(*w));
	quiet_libbpf();
	w->skel = execwatch_bpf__open();
	if (!w->skel)
		return bpf_open_failed("the exec watcher", why, why_len);
	err = execwatch_bpf__load(w->skel);
	if (err)
		return bpf_load_failed(err, why, why_len);
	err = execwatch_bpf__attach(w->skel);
	if (!err) {
		w->rb = ring_buffer__new(bpf_map__fd(w->skel->maps.execs),
					 on_exec, w, NULL);
		err = w->rb ? 0 : -errno;
	}
	if (err)
		snprintf(why, why_len, "cannot watch for new processes: %s",
			 strerror(-err));
	return err;
}

int execwatch_pollfd(struct execwatch *w)
{
	return ring_buffer__epoll_fd(w->rb);
}

void execwatch_poll(struct execwatch *w)
{
	ring_buffer__poll(w->rb, 0);
}

void execwatch_close(struct execwatch *w)
{
	ring_buffer__free(w->rb);
	execwatch_bpf__destroy(w->skel);
	memset(w, 0, sizeof(*w));
}
