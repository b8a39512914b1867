// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The one lookup of the tables keyed by (device, inode). */
#include "util/fileid.h"

int file_id_find(const struct file_id *first, size_t n, size_t stride,
		 struct file_id id)
{
	const char *row = (const char *)first;

	for (size_t i = 0; i < n; i++, row += stride)
		if (file_id_eq(*(const struct file_id *)row, id))
			return (int)i;
	return -1;
}
