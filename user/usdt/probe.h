/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_PROBE_H
#define CTRACE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include "target/target.h"

struct bpf_program;
struct bpf_link;

/*
 * What every owner of a BPF object (ctrace's, the events', the gate's)
 * says when it cannot be opened or loaded: @err is libbpf's, the hint
 * the same everywhere.  Returns @err.
 */
int bpf_open_failed(const char *what, char *why, size_t why_len);
int bpf_load_failed(int err, char *why, size_t why_len);
/*
 * @prog on @t's python:@probe, for @t's process or (@any_pid) for every
 * process that maps its ELF; the site's address is the cookie.  NULL with
 * @why, naming the probe, the ELF and the process.
 */
struct bpf_link *usdt_attach_probe(struct bpf_program *prog,
				   const struct target *t, int probe,
				   bool any_pid, char *why, size_t why_len);

#endif
