// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <sys/uio.h>
#include "util/vm.h"

int vm_read(pid_t pid, uint64_t at, void *buf, size_t n)
{
	struct iovec l = { buf, n }, r = { (void *)(uintptr_t)at, n };

	if (!at)
		return -EFAULT;
	return process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -EFAULT;
}

int vm_write(pid_t pid, uint64_t at, const void *buf, size_t n)
{
	struct iovec l = { (void *)buf, n }, r = { (void *)(uintptr_t)at, n };

	if (!at)
		return -EFAULT;
	return process_vm_writev(pid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -EFAULT;
}
