/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_SECCOMP_H
#define CTRACE_SECCOMP_H

#include <stdint.h>
#include <sys/types.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/*
 * A thread's seccomp filters, read while we hold it stopped, and run the
 * way the kernel runs them on a system call: so that the ptrace delivery
 * makes a filtered target make only the calls its filters let through,
 * and is refused where one of them would kill it, signal it or hand the
 * call to a supervisor.
 */
struct seccomp_filters {
	struct sock_filter **prog;	/* newest first, as the kernel lists them */
	unsigned short *len;
	int n;
};

/*
 * The filters of @tid, which must be ptrace-stopped by us
 * (PTRACE_SECCOMP_GET_FILTER); none if its seccomp mode is not 2.
 * A negative errno if they exist and cannot be read.
 */
int seccomp_read(pid_t tid, struct seccomp_filters *sf);
/* One classic BPF program's return value for @d; a bad program kills. */
uint32_t seccomp_prog_run(const struct sock_filter *f, unsigned int len,
			  const struct seccomp_data *d);
/*
 * The value the kernel acts on for @d: of every filter's, the one whose
 * action comes first (kill before trap before errno ... before allow),
 * the newest on a tie.  SECCOMP_RET_ALLOW without filters.
 */
uint32_t seccomp_run(const struct seccomp_filters *sf,
		     const struct seccomp_data *d);
/* "kill", "trap", "errno", "user-notif", "trace", "log" or "allow". */
const char *seccomp_action_name(uint32_t ret);
void seccomp_free(struct seccomp_filters *sf);

#endif
