/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_FILEID_H
#define CTRACE_FILEID_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * A file by identity, not by name: an interpreter binary seen through
 * other mount namespaces and links, a root, an executable found not to
 * be Python.  Every table keyed so holds one as a member.
 */
struct file_id {
	dev_t dev;
	ino_t ino;
};

static inline struct file_id file_id_of(const struct stat *st)
{
	return (struct file_id){ .dev = st->st_dev, .ino = st->st_ino };
}

static inline bool file_id_eq(struct file_id a, struct file_id b)
{
	return a.dev == b.dev && a.ino == b.ino;
}

/*
 * The index of @id in a table of @n rows of @stride bytes, @first being
 * the first row's file_id member; -1 when absent.
 */
int file_id_find(const struct file_id *first, size_t n, size_t stride,
		 struct file_id id);

#endif
