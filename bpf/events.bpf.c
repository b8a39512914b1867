// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The interpreter's other probes: garbage collections, imports and audit
 * events.  They fire rarely next to lines and calls, so these programs may
 * read strings; they still never follow a pointer without a checked read.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "ctrace.h"
#include "wanted.bpf.h"

/*
 * Per interpreter binary, by the audit probe's link-time address (the
 * USDT cookie): where it keeps str, int and bytes values.  -a attaches
 * once per binary, so a process need not be known to be decoded.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct ctrace_objs);
} objs_of SEC(".maps");
/* --audit=EVENT,...: only the events named in audit_filter */
const volatile __u32 audit_filtered = 0;
volatile __u32 stopped = 0;

/* per process and generation */
struct gc_key {
	__u32 pid;
	__u32 gen;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct gc_key);
	__type(value, struct ctrace_gc_gen);
} gc_gens SEC(".maps");

struct gc_start {
	__u64 ts;
	__u32 gen;
	__u32 pad;
};

/* A collection in progress, per thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct gc_start);
} gc_running SEC(".maps");

#define IMPORT_DEPTH 32

struct import_stack {
	__u64 ts[IMPORT_DEPTH];
	__u32 depth;
	__u32 pad;
};

/* Imports in progress, per thread: each find-and-load nests the next. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct import_stack);
} importing SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, char[64]);
	__type(value, __u8);
} audit_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctrace_audit_event);
} audit_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void dropped(void)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&drops, &zero);

	if (v)
		*v += 1;
}

/* An index the verifier can see is in bounds: clang may drop a plain mask. */
static __always_inline __u32 depth_slot(__u32 d)
{
	asm volatile("%0 &= 31" : "+r"(d));
	return d;
}

static __always_inline __u32 log2_us(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 slot = 0;

	for (int i = 0; i < CTRACE_HIST_SLOTS - 1 && us; i++) {
		us >>= 1;
		slot++;
	}
	return slot;
}

SEC("usdt")
int BPF_USDT(on_gc_start, int gen)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct gc_start s = { .ts = bpf_ktime_get_ns(), .gen = gen };

	if (stopped || !wanted())
		return 0;
	if (s.gen >= CTRACE_GC_GENS)
		s.gen = CTRACE_GC_GENS - 1;
	bpf_map_update_elem(&gc_running, &tid, &s, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(on_gc_done, long collected)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct gc_key k = { .pid = id >> 32 };
	struct ctrace_gc_gen zero = {}, *g;
	struct gc_start *s;
	__u64 ns;

	if (stopped)
		return 0;
	s = bpf_map_lookup_elem(&gc_running, &tid);
	if (!s)
		return 0;	/* began before we attached */
	ns = bpf_ktime_get_ns() - s->ts;
	k.gen = s->gen;
	bpf_map_delete_elem(&gc_running, &tid);
	g = bpf_map_lookup_elem(&gc_gens, &k);
	if (!g) {
		bpf_map_update_elem(&gc_gens, &k, &zero, BPF_NOEXIST);
		g = bpf_map_lookup_elem(&gc_gens, &k);
		if (!g) {
			dropped();
			return 0;
		}
	}
	__sync_fetch_and_add(&g->collections, 1);
	if (collected > 0)
		__sync_fetch_and_add(&g->collected, collected);
	__sync_fetch_and_add(&g->total_ns, ns);
	__sync_fetch_and_add(&g->hist[log2_us(ns) & (CTRACE_HIST_SLOTS - 1)], 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(on_import_start, void *name)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct import_stack fresh = {}, *st;

	if (stopped || !wanted())
		return 0;
	st = bpf_map_lookup_elem(&importing, &tid);
	if (!st) {
		bpf_map_update_elem(&importing, &tid, &fresh, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&importing, &tid);
		if (!st)
			return 0;
	}
	if (st->depth < IMPORT_DEPTH)
		st->ts[depth_slot(st->depth)] = bpf_ktime_get_ns();
	st->depth++;
	return 0;
}

SEC("usdt")
int BPF_USDT(on_import_done, void *name, int found)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct ctrace_import_event *ev;
	struct import_stack *st;
	__u32 d;

	if (stopped)
		return 0;
	st = bpf_map_lookup_elem(&importing, &tid);
	if (!st || !st->depth)
		return 0;	/* began before we attached */
	d = --st->depth;
	if (d >= IMPORT_DEPTH)
		return 0;	/* deeper than we keep times for */
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		dropped();
		return 0;
	}
	ev->type = CTRACE_EV_IMPORT;
	ev->pid = id >> 32;
	ev->ns = bpf_ktime_get_ns() - st->ts[depth_slot(d)];
	ev->found = found;
	ev->depth = d;
	if (bpf_probe_read_user_str(ev->name, sizeof(ev->name), name) <= 0)
		ev->name[0] = '\0';
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

static __always_inline __u64 read_u64(__u64 addr, bool *ok)
{
	__u64 v = 0;

	*ok = !bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

/* An int of at most two 30-bit digits; a larger one is only named. */
static __always_inline void audit_int(__u64 obj, const struct ctrace_objs *objs,
				      struct ctrace_audit_arg *a)
{
	__s64 ndigits, sign = 1;
	__u32 dig[2] = {};
	__u64 tag;
	bool ok;

	tag = read_u64(obj + 16, &ok);
	if (!ok)
		return;
	if (objs->long_tagged) {
		/* lv_tag: digits << 3 | sign (0 positive, 1 zero, 2 negative) */
		ndigits = tag >> 3;
		sign = (tag & 3) == 2 ? -1 : 1;
	} else {
		ndigits = (__s64)tag;
		if (ndigits < 0) {
			ndigits = -ndigits;
			sign = -1;
		}
	}
	if (ndigits > 2) {
		a->kind = CTRACE_ARG_BIGINT;
		return;
	}
	if (ndigits && bpf_probe_read_user(dig, ndigits * 4, (void *)(obj + 24)))
		return;
	a->kind = CTRACE_ARG_INT;
	a->i = sign * (__s64)(dig[0] | (__u64)dig[1] << 30);
}

/* A str's bytes, when it is compact ASCII: other kinds are not UTF-8. */
static __always_inline bool audit_str(__u64 obj, const struct ctrace_objs *objs,
				      __u64 *size, __u64 *data)
{
	__u8 state = 0;
	bool ok;

	*size = read_u64(obj + 16, &ok);	/* length */
	if (!ok || bpf_probe_read_user(&state, 1, (void *)(obj + objs->str_state)))
		return false;
	*data = obj + objs->str_ascii_data;
	return (state & 0x60) == 0x60;
}

/* One value of the args tuple, if it is a str, an int or a bytes. */
static __always_inline void audit_arg(__u64 obj, __u64 bias,
				      const struct ctrace_objs *objs,
				      struct ctrace_audit_arg *a)
{
	__u64 type, size, data;
	bool ok;

	a->kind = CTRACE_ARG_UNREADABLE;
	type = read_u64(obj + 8, &ok);	/* ob_type */
	if (!ok)
		return;
	a->kind = CTRACE_ARG_OTHER;
	if (objs->type_str && type == objs->type_str + bias) {
		a->kind = CTRACE_ARG_UNREADABLE;
		if (!audit_str(obj, objs, &size, &data))
			return;
		a->kind = CTRACE_ARG_STR;
	} else if (objs->type_bytes && type == objs->type_bytes + bias) {
		size = read_u64(obj + 16, &ok);	/* ob_size */
		if (!ok)
			return;
		a->kind = CTRACE_ARG_BYTES;
		data = obj + objs->bytes_data;
	} else {
		if (objs->type_int && type == objs->type_int + bias)
			audit_int(obj, objs, a);
		return;
	}
	a->len = size;
	if (size > 0)
		bpf_probe_read_user(a->val, size < sizeof(a->val) ?
				    (size & (sizeof(a->val) - 1)) : sizeof(a->val),
				    (void *)data);
}

SEC("usdt")
int BPF_USDT(on_audit, void *event, void *args)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ctrace_objs none = {};
	const struct ctrace_objs *objs;
	struct ctrace_audit_event *ev;
	__u64 n, bias, cookie = bpf_usdt_cookie(ctx);
	__u32 zero = 0;
	bool ok;

	if (stopped || !wanted())
		return 0;
	objs = bpf_map_lookup_elem(&objs_of, &cookie);
	if (!objs) {
		none.tuple_items = 24;
		objs = &none;
	}
	ev = bpf_map_lookup_elem(&audit_scratch, &zero);
	if (!ev)
		return 0;
	__builtin_memset(ev->event, 0, sizeof(ev->event));
	if (bpf_probe_read_user_str(ev->event, sizeof(ev->event), event) <= 0)
		return 0;
	if (audit_filtered && !bpf_map_lookup_elem(&audit_filter, ev->event))
		return 0;
	ev->type = CTRACE_EV_AUDIT;
	ev->pid = id >> 32;
	ev->tid = (__u32)id;
	ev->ts = bpf_ktime_get_ns();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bias = (PT_REGS_IP(ctx) - bpf_usdt_cookie(ctx)) & ~0xfffULL;
	n = args ? read_u64((__u64)args + 16, &ok) : 0;	/* tuple ob_size */
	ev->nargs = args && ok ? n : 0;
	for (int i = 0; i < CTRACE_AUDIT_ARGS; i++) {
		__u64 item;

		__builtin_memset(&ev->args[i], 0, sizeof(ev->args[i]));
		if (i >= ev->nargs)
			continue;
		item = read_u64((__u64)args + objs->tuple_items + 8 * i, &ok);
		if (ok && item)
			audit_arg(item, bias, objs, &ev->args[i]);
		else
			ev->args[i].kind = CTRACE_ARG_UNREADABLE;
	}
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev), 0))
		dropped();
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
