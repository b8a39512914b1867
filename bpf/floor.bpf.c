// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The floor for make bench: a program that does nothing, so a probe hit
 * costs only the uprobe trap and the BPF dispatch.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

SEC("usdt")
int BPF_USDT(floor_prog)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
