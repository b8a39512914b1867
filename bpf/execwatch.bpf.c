// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * -a's exec watcher: every exec on the host, for userspace to look at
 * within the second.  An object of its own, so that a mode loads only the
 * programs it counts with.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10);
} execs SEC(".maps");

SEC("raw_tp/sched_process_exec")
int on_any_exec(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	bpf_ringbuf_output(&execs, &pid, sizeof(pid), 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
