/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every handler does first: the main module's start in launch mode,
 * and its end under -m.
 * Part of ctrace.bpf.c's one compilation unit: included there, after the
 * globals and maps it uses.
 */
#ifndef CTRACE_HITS_BPF_H
#define CTRACE_HITS_BPF_H

static __always_inline bool is_run_code(__u64 code)
{
	char name[16] = {};

	if (!code ||
	    bpf_probe_read_user_str(name, sizeof(name),
				    (void *)str_utf8(read_ptr(code + layout.code_name))) != 10)
		return false;
	return same_prefix(name, "_run_code", 10);
}

/* Is the code running in the current frame runpy's _run_code? */
static __always_inline bool in_run_code(struct usdt_args *u)
{
	struct frame_view f;
	__u64 frame = current_frame(u);

	if (!frame)
		return false;
	read_frame(frame, &f);
	return is_run_code(f.code);
}

/*
 * The first event of the main module, once the interpreter has announced
 * it: the first event of a stack that begins with a <module>.
 */
struct stack_walk {
	__u64 frame, code;
};

static long down_one(__u32 i, void *data)
{
	struct stack_walk *w = data;
	struct frame_view f;

	if (!w->frame)
		return 1;
	read_frame(w->frame, &f);
	/* entry shims are not code: the bottom is the last real frame */
	if (!layout.frame_owner || f.owner < layout.owner_cstack)
		w->code = f.code;
	w->frame = f.previous;
	return 0;
}

#define STACK_MAX 128

/*
 * The code that began this thread's Python stack under @frame, or 0 if the
 * stack is deeper than we look.  Before the main module, the interpreter
 * runs Python code from C that trace never sees: __main__'s loader, and
 * while it compiles the script, a coding cookie's codec lookup (its
 * encodings module imported under it) and unicodedata's import for
 * non-ASCII names.  Each begins its own stack; only the main module's
 * stack begins with a <module>.
 */
static __always_inline __u64 bottom_code(__u64 frame)
{
	struct stack_walk w = { .frame = frame };

	bpf_loop(STACK_MAX, down_one, &w, 0);
	return w.frame ? 0 : w.code;
}

static __always_inline bool main_started(struct usdt_args *u,
					 struct pt_regs *ctx)
{
	char name[16] = {};
	__u64 frame, code;

	if (before_main != CTRACE_MAIN_STARTING)
		return false;
	usdt_args_init(u, ctx);
	frame = current_frame(u);
	if (!frame) {
		/* no frames to walk: the first <module> event */
		if (bpf_probe_read_user_str(name, sizeof(name),
					    (void *)usdt_arg(u, 1)) == 9 &&
		    same_prefix(name, "<module>", 9))
			goto started;
		return false;
	}
	code = bottom_code(frame);
	if (!code || !code_is_module(code))
		return false;
started:
	before_main = 0;
	return true;
}

/*
 * The opening every handler shares: false when this event is not to be
 * counted (the trace stopped, the main module not started yet, and for
 * -a's return handlers a process not asked for, or shutting down).
 */
static __always_inline bool hit_begin(struct usdt_args *u, struct pt_regs *ctx,
				      bool per_process)
{
	if (stopped || (before_main && !main_started(u, ctx)))
		return false;
	if (per_process && (!wanted() || finalizing_here()))
		return false;
	usdt_args_init(u, ctx);
	return true;
}

/*
 * -m: the main module's own <module> returning into runpy's _run_code is
 * where trace's run ends.  @caller: the returning frame's caller, or NULL
 * to find it (the return handlers of -l know no frames).
 */
static __always_inline void runpy_done(struct usdt_args *u, __u64 func_tag,
				       const __u64 *caller)
{
	struct frame_view f;
	__u64 frame, code;

	if (!main_via_runpy || func_tag != module_tag)
		return;
	if (caller) {
		code = *caller;
	} else {
		frame = current_frame(u);
		if (!frame)
			return;
		read_frame(frame, &f);
		code = caller_code(&f, init_shim(u));
	}
	if (is_run_code(code))
		stopped = 1;
}

#endif
