// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The monitoring backend's launch gate.  A launched 3.14+ Python is
 * stopped where its main module is about to run (the audit event
 * cpython.run_file, _command or _module that Modules/main.c raises first),
 * so that the collector can be asked in before its first line.  With
 * --startup, at its first import statement instead (the program is then on
 * PyImport_ImportModuleLevelObject, and @name is not a string: unread).
 * Armed once, for one process.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define SIGSTOP 19

const volatile __u32 target_tgid;
const volatile bool at_first_import;

__u32 fired;
char event[32];

static __always_inline bool starts(const char *s, const char *prefix, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] != prefix[i])
			return false;
	return true;
}

SEC("uprobe")
int BPF_KPROBE(on_audit, const char *name)
{
	char buf[32] = {};

	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid || fired)
		return 0;
	if (at_first_import)
		__builtin_memcpy(buf, "import", 7);
	else if (bpf_probe_read_user_str(buf, sizeof(buf), name) <= 0 ||
		 !starts(buf, "cpython.run_", 12))
		return 0;
	fired = 1;
	for (int i = 0; i < sizeof(event); i++)
		event[i] = buf[i];
	bpf_send_signal(SIGSTOP);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
