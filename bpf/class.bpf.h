/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * trace's Class.name, from the live objects: -l and -T only.  The search
 * is class.bpf.c, its own unit; this is what ctrace.bpf.c sees of it.
 */
#ifndef CTRACE_CLASS_BPF_H
#define CTRACE_CLASS_BPF_H

#define CO_VARARGS 0x4
#define CLASS_UNKNOWN 0	/* the frame cannot tell: the source decides */
#define CLASS_NONE 1	/* no class's dict holds it: trace's plain name */

/*
 * The class of @frame's code, from the live objects (@bias: the load
 * bias of the interpreter's ELF): its tp_name's address, or CLASS_UNKNOWN
 * or CLASS_NONE.  In class.bpf.c.
 */
__u64 frame_class(__u64 frame, __u64 bias);

#endif
