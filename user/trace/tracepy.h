/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_TRACEPY_H
#define CTRACE_TRACEPY_H

#include <stdbool.h>
#include <stddef.h>

/* trace's _fullmodname() against @sys_path; caller frees. */
char *trace_fullmodname(const char *path, const char *const *sys_path,
			size_t n_sys_path);
/* trace's _Ignore.names() for one file. */
bool trace_ignored(const char *file, const char *mod, char *const *mods,
		   size_t n_mods, char *const *dirs, size_t n_dirs);
/* trace's _modname(): the base name without its extension. */
char *trace_modname(const char *path);
/*
 * "NAME" of a frozen module's "<frozen NAME>", or NULL; @len is its length
 * (the string is not terminated there).
 */
const char *frozen_module(const char *file, size_t *len);
/*
 * _modname() of the module's __file__, as trace's --trace prints it: for a
 * frozen module that is the standard library's file, not co_filename.
 */
char *trace_globals_modname(const char *file);

#endif
