// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: the ELF reader (stapsdt notes and their argument strings,
 * symbols, _Py_DebugOffsets, DT_NEEDED) on arbitrary files.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "target/pyelf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64], why[512];
	struct pyelf e;

	if (fd < 0)
		fd = memfd_create("fuzz-elf", 0);
	if (fd < 0 || ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (!pyelf_read(path, &e, why, sizeof(why)))
		pyelf_any_probe(&e);
	return 0;
}
