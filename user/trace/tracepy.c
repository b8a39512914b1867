// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Lib/trace.py's own rules, ported: _modname, _fullmodname, _Ignore, and
 * the names it gives frozen modules.  Their quirks are the specification.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trace/tracepy.h"

/* os.path.splitext's root for a name without '/'. */
static size_t splitext_root(const char *base)
{
	const char *dot = strrchr(base, '.');
	const char *p = base;

	while (*p == '.')
		p++;
	if (!dot || dot < p)
		return strlen(base);
	return dot - base;
}

char *trace_fullmodname(const char *path, const char *const *sys_path,
			size_t n_sys_path)
{
	size_t longest = 0, len;
	const char *base;
	char *out, *p;

	for (size_t i = 0; i < n_sys_path; i++) {
		size_t dl = strlen(sys_path[i]);

		if (dl > longest && strncmp(path, sys_path[i], dl) == 0 &&
		    path[dl] == '/')
			longest = dl;
	}
	base = longest ? path + longest + 1 : path;
	out = strdup(base);
	if (!out)
		return NULL;
	for (p = out; *p; p++)
		if (*p == '/')
			*p = '.';
	len = splitext_root(out);
	out[len] = '\0';
	for (p = out; *p == '.'; p++)
		;
	memmove(out, p, strlen(p) + 1);
	return out;
}

bool trace_ignored(const char *file, const char *mod, char *const *mods,
		   size_t n_mods, char *const *dirs, size_t n_dirs)
{
	for (size_t i = 0; mod && i < n_mods; i++) {
		size_t ml = strlen(mods[i]);

		if (!strcmp(mod, mods[i]) ||
		    (!strncmp(mod, mods[i], ml) && mod[ml] == '.'))
			return true;
	}
	for (size_t i = 0; file && i < n_dirs; i++) {
		size_t dl = strlen(dirs[i]);

		if (!strncmp(file, dirs[i], dl) && file[dl] == '/')
			return true;
	}
	return false;
}

const char *frozen_module(const char *file, size_t *len)
{
	size_t n = strlen(file);

	if (n <= 10 || strncmp(file, "<frozen ", 8) || file[n - 1] != '>')
		return NULL;
	*len = n - 9;
	return file + 8;
}

char *trace_globals_modname(const char *file)
{
	size_t len;
	const char *m = frozen_module(file, &len), *dot;

	if (!m)
		return trace_modname(file);
	/* its __file__ is the standard library's NAME.py: the base name */
	dot = memrchr(m, '.', len);
	if (dot) {
		len -= dot + 1 - m;
		m = dot + 1;
	}
	return strndup(m, len);
}

char *trace_modname(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot;

	base = base ? base + 1 : path;
	/* os.path.splitext ignores leading dots of the base name */
	dot = strrchr(base, '.');
	if (dot) {
		const char *p = base;

		while (*p == '.')
			p++;
		if (dot < p)
			dot = NULL;
	}
	return strndup(base, dot ? (size_t)(dot - base) : strlen(base));
}
