/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_SYSPATH_H
#define CTRACE_SYSPATH_H

#include <stddef.h>
#include "target/pyversion.h"

/*
 * The target's sys.path, derived from its command line, environment and
 * files the way getpath and site derive it: the script's directory,
 * PYTHONPATH, the standard library, a venv's pyvenv.cfg, the user site,
 * site directories and the directories their .pth files name.  Files are
 * read inside the target's root.  What the program adds to sys.path at
 * run time is not seen.
 */
struct syspath {
	char **dirs;
	size_t n;
};

struct syspath_input {
	const struct py_flavor *fl;
	int root_fd;		/* the target's root, or -1 for our own */
	const char *cwd;	/* its working directory, inside that root */
	char *const *argv;
	int argc;
	char *const *env;
	int envc;
};

int syspath_derive(const struct syspath_input *in, struct syspath *sp);
/* Append @dir unless it is there already; -ENOMEM. */
int syspath_add(struct syspath *sp, const char *dir);
void syspath_free(struct syspath *sp);

#endif
