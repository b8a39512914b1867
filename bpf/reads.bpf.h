/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Checked reads of the target's memory: a fault reads as 0.  Shared by
 * both units of ctrace.bpf.o (ctrace.bpf.c and class.bpf.c).
 */
#ifndef CTRACE_READS_BPF_H
#define CTRACE_READS_BPF_H

static __always_inline __u64 read_ptr(__u64 addr)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

static __always_inline __u32 read_u32(__u64 addr)
{
	__u32 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

#endif
