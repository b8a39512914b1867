// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Counting side of ctrace-bpf.  Every handler keys its map by what the probe
 * hands over (string pointers and a line number) so the hot path never reads
 * a string; a string is read once, when a new key first shows its pointer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "ctrace.h"
#include "reads.bpf.h"
#include "wanted.bpf.h"

const volatile __u32 mode = 0;
const volatile struct ctrace_layout layout = {};
/* Set by userspace at the end: the maps hold still while it reads them. */
volatile __u32 stopped = 0;
/*
 * Launch mode starts where trace starts, at the main module's first
 * bytecode: until then the programs count nothing.  CTRACE_MAIN_MODULE:
 * python -m, whose main code runpy's _run_code execs later.
 */
volatile __u32 before_main = 0;
/*
 * -m: runpy's frames below the main module's were running before counting
 * started, so trace never sees them: counting ends with the main module.
 * module_tag is the identity tag of every "<module>" string.
 */
volatile __u32 main_via_runpy = 0;
const volatile __u64 module_tag = 0;
/* 3.13+: the tag of "__init__", the file name of the init shim's code */
const volatile __u64 shim_file_tag = 0;
/* The target's process id, and whether it has exec'd a new program. */
const volatile __u32 target_tgid = 0;
volatile __u32 exec_seen = 0;

/*
 * -a: counting stops per process, at its Py_FinalizeEx, as trace's does at
 * the end of the main module.  A process's mark goes when it exits, so
 * that its PID, reused, counts again.
 */
const volatile __u32 finalize_each = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} finalizing SEC(".maps");

/*
 * How many code objects the target has freed, counted at their type's
 * tp_dealloc (gen_armed once that uprobe is on).  The strings a probe
 * hands over are its code's file and function names, held alive by that
 * code: while no code object has died since a string was named, nothing
 * can have freed it, so the same address is the same string and needs no
 * reading.  A slot named under an older count is named again.
 */
volatile __u64 code_gen = 0;
volatile __u32 gen_armed = 0;

static __always_inline bool finalizing_here(void)
{
	__u32 tgid;

	/* -p: pruned at load, not even the helper call is left */
	if (!finalize_each)
		return false;
	tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&finalizing, &tgid);
}

/*
 * Line counts live in two arrays that userspace maps into its memory: the
 * n-th key seen and its count.  The hash map only finds a key's place, and
 * is never read back: copying a million-bucket hash map out takes the
 * kernel ~0.4 s, reading the arrays takes milliseconds.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_LINE_KEYS);
	__type(key, struct ctrace_line_key);
	__type(value, __u32);
} line_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTRACE_LINE_KEYS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct ctrace_line_key);
} line_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTRACE_LINE_KEYS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} line_hits SEC(".maps");

/* The next free place in line_keys and line_hits. */
__u32 line_next = 0;

/* Probe hits keyed by their arguments: entries (with RESUME kind) or returns. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_FUNC_KEYS);
	__type(key, struct ctrace_func_key);
	__type(value, __u64);
} func_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_CALL_KEYS);
	__type(key, struct ctrace_call_key);
	__type(value, __u64);
} call_counts SEC(".maps");


/* Each code's class, decided once, at its first return: see frame_class(). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_FUNC_KEYS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ctrace_code);
	__type(value, struct ctrace_class);
} code_class SEC(".maps");

/* New strings are rare, so this map is allocated as it grows. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_STR_KEYS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ctrace_sref);
	__type(value, struct ctrace_str);
} strs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTRACE_STAT_NR);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/*
 * Counts not yet added to the hash maps: a few slots per CPU, so a tight
 * loop that repeats the same keys adds to a per-CPU slot instead of doing a
 * hash lookup and an atomic add per event.  A slot is added to its map when
 * another key takes it; userspace adds what is left in them at the end.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTRACE_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct ctrace_line_slot);
} line_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTRACE_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct ctrace_func_slot);
} func_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTRACE_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct ctrace_call_slot);
} call_cache SEC(".maps");

/* Scratch for string reads: too big for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctrace_str_event);
} scratch SEC(".maps");

/* The last string this CPU streamed, to skip the strs lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctrace_sref);
} last_str SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CTRACE_RINGBUF_BYTES);
} events SEC(".maps");

#include "usdt_args.bpf.h"
#include "strings.bpf.h"
#include "slots.bpf.h"
#include "pyframe.bpf.h"
#include "notes.bpf.h"
#include "hits.bpf.h"
#include "lines.bpf.h"
#include "returns.bpf.h"

/*
 * The interpreter announces what it runs as __main__ with an audit event
 * just before it runs it: cpython.run_file, run_command or run_stdin, with
 * no Python code in between.  For run_module, runpy runs first and execs
 * the module's code from _run_code.  Userspace detaches this probe once
 * it has fired: with its semaphore on, every audit event costs a trap.
 */
SEC("usdt")
int on_main_start(struct pt_regs *ctx)
{
	struct usdt_args u;
	char ev[24] = {};
	long n;

	if (before_main != CTRACE_MAIN_SCRIPT &&
	    before_main != CTRACE_MAIN_MODULE)
		return 0;
	usdt_args_init(&u, ctx);
	n = bpf_probe_read_user_str(ev, sizeof(ev), (void *)usdt_arg(&u, 0));
	if (before_main == CTRACE_MAIN_MODULE) {
		if (n == 5 && same_prefix(ev, "exec", 5) && in_run_code(&u)) {
			before_main = 0;
			main_via_runpy = 1;
		}
		return 0;
	}
	if (n < 13 || !same_prefix(ev, "cpython.run_", 12))
		return 0;
	if (n == 17 && same_prefix(ev + 12, "file", 5))
		before_main = CTRACE_MAIN_STARTING;
	else if ((n == 20 && same_prefix(ev + 12, "command", 8)) ||
		 (n == 18 && same_prefix(ev + 12, "stdin", 6)))
		before_main = 0;
	else if (n == 19 && same_prefix(ev + 12, "module", 7))
		before_main = CTRACE_MAIN_MODULE;
	return 0;
}

/*
 * trace stops when the main module is done, before the interpreter shuts
 * down: atexit, threading._shutdown and finalizers are not its to count.
 */
SEC("uprobe")
int on_finalize(struct pt_regs *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 one = 1;

	if (finalize_each)
		bpf_map_update_elem(&finalizing, &tgid, &one, BPF_ANY);
	else
		stopped = 1;
	return 0;
}

/* A code object of the target is being freed: see code_gen. */
SEC("uprobe")
int on_code_dealloc(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&code_gen, 1);
	return 0;
}

/*
 * -a: a process's exit (its main thread's) clears its mark.  A later
 * process under its PID may hold other strings at the same addresses
 * without a code object having died: names are read anew.
 */
SEC("raw_tp/sched_process_exit")
int on_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if ((__u32)id != tgid)
		return 0;
	if (finalize_each)
		bpf_map_delete_elem(&finalizing, &tgid);
	if (!target_tgid)
		__sync_fetch_and_add(&code_gen, 1);
	return 0;
}

/*
 * An exec replaces the program under the same PID, and the uprobes follow
 * the PID: the new image's strings would be named from the old one's.
 * Counting stops at the exec; userspace ends the trace there.  With -a,
 * every process goes on, and addresses are known by their contents anew.
 */
SEC("raw_tp/sched_process_exec")
int on_exec(void *ctx)
{
	/* -a: the new image's strings may sit where the old one's were */
	if (!target_tgid) {
		__sync_fetch_and_add(&code_gen, 1);
	} else if (bpf_get_current_pid_tgid() >> 32 == target_tgid) {
		stopped = 1;
		exec_seen = 1;
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
