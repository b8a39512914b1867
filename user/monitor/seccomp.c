// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Seccomp filters, read from a stopped thread and evaluated here: see
 * seccomp.h.  The interpreter takes only what the kernel's own check
 * lets a seccomp filter hold (seccomp_check_filter()): word loads from
 * struct seccomp_data, the scratch memory, ALU, jumps and returns.
 * Anything else, and any jump or load out of bounds, is taken as the
 * kernel takes an unknown action: a kill.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include "monitor/seccomp.h"
#include "util/procstatus.h"

#define MAX_FILTERS 512		/* the kernel's limit is 256K instructions in all */

int seccomp_read(pid_t tid, struct seccomp_filters *sf)
{
	memset(sf, 0, sizeof(*sf));
	if (proc_status_num(tid, "Seccomp", 10) != SECCOMP_MODE_FILTER)
		return 0;
	for (int i = 0; i < MAX_FILTERS; i++) {
		long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)(long)i, NULL);
		struct sock_filter *f, **prog;
		unsigned short *len;

		if (n < 0 && errno == ENOENT && i > 0)
			return 0;
		if (n <= 0 || n > BPF_MAXINSNS) {
			int err = n < 0 ? -errno : -EINVAL;

			seccomp_free(sf);
			return err;
		}
		prog = realloc(sf->prog, (i + 1) * sizeof(*prog));
		if (prog)
			sf->prog = prog;
		len = realloc(sf->len, (i + 1) * sizeof(*len));
		if (len)
			sf->len = len;
		f = calloc(n, sizeof(*f));
		if (!prog || !len || !f) {
			free(f);
			seccomp_free(sf);
			return -ENOMEM;
		}
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)(long)i, f) != n) {
			int err = -errno ?: -EIO;

			free(f);
			seccomp_free(sf);
			return err;
		}
		sf->prog[i] = f;
		sf->len[i] = n;
		sf->n = i + 1;
	}
	seccomp_free(sf);
	return -E2BIG;
}

static uint32_t alu(uint16_t op, uint32_t a, uint32_t v, bool *bad)
{
	switch (op) {
	case BPF_ADD: return a + v;
	case BPF_SUB: return a - v;
	case BPF_MUL: return a * v;
	/* classic BPF: a division by a zero X ends the program, returning 0 */
	case BPF_DIV: if (!v) *bad = true; return v ? a / v : 0;
	case BPF_MOD: if (!v) *bad = true; return v ? a % v : 0;
	case BPF_AND: return a & v;
	case BPF_OR: return a | v;
	case BPF_XOR: return a ^ v;
	case BPF_LSH: return v < 32 ? a << v : 0;
	case BPF_RSH: return v < 32 ? a >> v : 0;
	case BPF_NEG: return -a;
	}
	*bad = true;
	return 0;
}

uint32_t seccomp_prog_run(const struct sock_filter *f, unsigned int len,
			  const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };

	for (unsigned int pc = 0; pc < len; pc++) {
		const struct sock_filter *in = &f[pc];
		uint16_t cls = BPF_CLASS(in->code);
		uint32_t v = BPF_SRC(in->code) == BPF_X ? x : in->k;
		bool bad = false, jump;

		switch (cls) {
		case BPF_LD:
		case BPF_LDX:
			if (BPF_MODE(in->code) == BPF_ABS && cls == BPF_LD &&
			    BPF_SIZE(in->code) == BPF_W) {
				if (in->k % 4 || in->k > sizeof(*d) - 4)
					return SECCOMP_RET_KILL_PROCESS;
				memcpy(&v, (const char *)d + in->k, 4);
			} else if (BPF_MODE(in->code) == BPF_LEN) {
				v = sizeof(*d);
			} else if (BPF_MODE(in->code) == BPF_IMM) {
				v = in->k;
			} else if (BPF_MODE(in->code) == BPF_MEM && in->k < BPF_MEMWORDS) {
				v = mem[in->k];
			} else {
				return SECCOMP_RET_KILL_PROCESS;
			}
			if (cls == BPF_LD)
				a = v;
			else
				x = v;
			break;
		case BPF_ST:
		case BPF_STX:
			if (in->k >= BPF_MEMWORDS)
				return SECCOMP_RET_KILL_PROCESS;
			mem[in->k] = cls == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			a = alu(BPF_OP(in->code), a, v, &bad);
			if (bad)
				return BPF_OP(in->code) == BPF_DIV ||
				       BPF_OP(in->code) == BPF_MOD ? 0 :
				       SECCOMP_RET_KILL_PROCESS;
			break;
		case BPF_JMP:
			if (BPF_OP(in->code) == BPF_JA) {
				if (in->k >= len - pc - 1)
					return SECCOMP_RET_KILL_PROCESS;
				pc += in->k;
				break;
			}
			switch (BPF_OP(in->code)) {
			case BPF_JEQ: jump = a == v; break;
			case BPF_JGT: jump = a > v; break;
			case BPF_JGE: jump = a >= v; break;
			case BPF_JSET: jump = a & v; break;
			default: return SECCOMP_RET_KILL_PROCESS;
			}
			v = jump ? in->jt : in->jf;
			if (v >= len - pc - 1)
				return SECCOMP_RET_KILL_PROCESS;
			pc += v;
			break;
		case BPF_RET:
			return BPF_RVAL(in->code) == BPF_A ? a : in->k;
		case BPF_MISC:
			if (BPF_MISCOP(in->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		default:
			return SECCOMP_RET_KILL_PROCESS;
		}
	}
	return SECCOMP_RET_KILL_PROCESS;
}

/* The kernel's order of precedence: the lowest as a signed number first. */
static int32_t action_rank(uint32_t ret)
{
	return (int32_t)(ret & SECCOMP_RET_ACTION_FULL);
}

uint32_t seccomp_run(const struct seccomp_filters *sf,
		     const struct seccomp_data *d)
{
	uint32_t ret = SECCOMP_RET_ALLOW;

	for (int i = 0; i < sf->n; i++) {
		uint32_t r = seccomp_prog_run(sf->prog[i], sf->len[i], d);

		if (action_rank(r) < action_rank(ret))
			ret = r;
	}
	return ret;
}

const char *seccomp_action_name(uint32_t ret)
{
	switch (ret & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_ALLOW: return "allow";
	case SECCOMP_RET_LOG: return "log";
	case SECCOMP_RET_TRACE: return "trace";
	case SECCOMP_RET_USER_NOTIF: return "user-notif";
	case SECCOMP_RET_ERRNO: return "errno";
	case SECCOMP_RET_TRAP: return "trap";
	case SECCOMP_RET_KILL_THREAD: return "kill-thread";
	}
	return "kill-process";
}

void seccomp_free(struct seccomp_filters *sf)
{
	for (int i = 0; i < sf->n; i++)
		free(sf->prog[i]);
	free(sf->prog);
	free(sf->len);
	memset(sf, 0, sizeof(*sf));
}
