/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reading a probe's arguments and the target's memory, and the stats.
 * Part of ctrace.bpf.c's one compilation unit: included there, after the
 * globals and maps it uses.
 */
#ifndef CTRACE_USDT_ARGS_BPF_H
#define CTRACE_USDT_ARGS_BPF_H

/*
 * USDT arguments without libbpf's bpf_usdt_arg(): that fetches a register
 * through bpf_probe_read_kernel(), a helper call of ~50 ns, twice the rest
 * of a line event.  The saved registers are the program's own context, so
 * a register argument is a plain load from it; other kinds (constants,
 * memory operands) still go through libbpf.
 */
struct usdt_args {
	struct __bpf_usdt_spec *spec;
	struct pt_regs *ctx;
};

static __always_inline bool usdt_args_init(struct usdt_args *u,
					   struct pt_regs *ctx)
{
	int id = __bpf_usdt_spec_id(ctx);

	u->ctx = ctx;
	u->spec = id < 0 ? NULL : bpf_map_lookup_elem(&__bpf_usdt_specs, &id);
	return u->spec;
}

/*
 * The load is spelled out so that clang cannot fold the cases into one load
 * at a computed offset, which the verifier refuses for a context pointer.
 */
#define REG_CASE(r)							\
	case __builtin_offsetof(struct pt_regs, r):			\
		asm volatile("%0 = *(u64 *)(%1 + %2)" : "=r"(*v)	\
			     : "r"(ctx),				\
			       "i"(__builtin_offsetof(struct pt_regs, r))); \
		return true

static __always_inline bool saved_reg(struct pt_regs *ctx, short off, __u64 *v)
{
	switch (off) {
	REG_CASE(ax); REG_CASE(bx); REG_CASE(cx); REG_CASE(dx);
	REG_CASE(si); REG_CASE(di); REG_CASE(bp); REG_CASE(sp);
	REG_CASE(r8); REG_CASE(r9); REG_CASE(r10); REG_CASE(r11);
	REG_CASE(r12); REG_CASE(r13); REG_CASE(r14); REG_CASE(r15);
	}
	return false;
}

static __always_inline long usdt_arg(struct usdt_args *u, __u32 n)
{
	struct __bpf_usdt_arg_spec *a;
	long slow = 0;
	__u64 v;

	if (!u->spec || n >= BPF_USDT_MAX_ARG_CNT)
		return 0;
	a = &u->spec->args[n];
	if (a->arg_type != BPF_USDT_ARG_REG ||
	    !saved_reg(u->ctx, a->reg_off, &v)) {
		bpf_usdt_arg(u->ctx, n, &slow);
		return slow;
	}
	v <<= a->arg_bitshift;
	if (a->arg_signed)
		return (long)v >> a->arg_bitshift;
	return v >> a->arg_bitshift;
}

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += n;
}

static __always_inline void stat_inc(__u32 idx)
{
	stat_add(idx, 1);
}

#endif
