/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_VM_H
#define CTRACE_VM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * @n bytes of @pid's memory at @at, whole or not at all: 0, or -EFAULT
 * (address 0 included, or a process gone).
 */
int vm_read(pid_t pid, uint64_t at, void *buf, size_t n);
/* The same, written. */
int vm_write(pid_t pid, uint64_t at, const void *buf, size_t n);

#endif
