/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * -a --comm/--cgroup, checked in the kernel: a program attached for every
 * process that maps a binary counts only the processes asked for.  BPF
 * only; set in .rodata before load.
 */
#ifndef CTRACE_WANTED_BPF_H
#define CTRACE_WANTED_BPF_H

/* a comm to match (all zero: any), and a cgroup to be under (0: any) */
const volatile __u64 want_comm[2] = {};
const volatile __u64 want_cgroup = 0;
const volatile __u32 want_cgroup_level = 0;

static __always_inline bool wanted(void)
{
	__u64 comm[2] = {};

	if (want_comm[0] || want_comm[1]) {
		bpf_get_current_comm(comm, sizeof(comm));
		if (comm[0] != want_comm[0] || comm[1] != want_comm[1])
			return false;
	}
	if (want_cgroup &&
	    bpf_get_current_ancestor_cgroup_id(want_cgroup_level) != want_cgroup)
		return false;
	return true;
}

#endif
