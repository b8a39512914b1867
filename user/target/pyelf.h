/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_PYELF_H
#define CTRACE_PYELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PYELF_DEBUG_WORDS 128

enum py_probe {
	PROBE_LINE,
	PROBE_ENTRY,
	PROBE_RETURN,
	PROBE_GC_START,
	PROBE_GC_DONE,
	PROBE_IMPORT_START,
	PROBE_IMPORT_DONE,
	PROBE_AUDIT,
	PROBE_NR,
};

extern const char *const probe_names[PROBE_NR];

/* What a CPython ELF (executable or libpython) says about itself. */
struct pyelf {
	char path[4096];	/* as we open it, e.g. /proc/PID/root/usr/bin/... */
	bool has_probe[PROBE_NR];
	uint64_t probe_pc[PROBE_NR];	/* link-time address of the first site */
	int n_sites[PROBE_NR];
	uint64_t runtime_sym;	/* _PyRuntime, 0 if absent */
	uint64_t runtime_size;	/* its size (the GIL is in it), 0 if unknown */
	uint64_t init_shim_sym;	/* 3.13+: _Py_InitCleanup, 0 if absent */
	/* PyUnicode_Type, PyLong_Type, PyBytes_Type: to tell audit args apart */
	uint64_t type_str, type_int, type_bytes;
	uint64_t type_cell;	/* PyCell_Type: a captured first argument */
	uint64_t type_dict;	/* PyDict_Type: dicts that may hold a method */
	uint64_t type_func;	/* PyFunction_Type */
	uint64_t type_code;	/* PyCode_Type */
	/* file offset of the code objects' dealloc function, 0 if not found */
	uint64_t code_dealloc_off;
	int major, minor, micro;	/* 0 when unknown */
	bool has_micro;		/* false when only the file name told */
	bool is_python;		/* has Py_* symbols or python probes */
	/* 3.13+: _Py_DebugOffsets, the start of _PyRuntime's initial data */
	uint64_t debug_offsets[PYELF_DEBUG_WORDS];
	bool has_debug_offsets;
};

/* Reads only the file: nothing of the target is ever run. */
int pyelf_read(const char *path, struct pyelf *e, char *why, size_t why_len);
/* @name's link-time value among @path's defined symbols, or 0. */
uint64_t pyelf_symbol(const char *path, const char *name);

bool pyelf_any_probe(const struct pyelf *e);

/*
 * The libpython an executable links to (DT_NEEDED, searched along its
 * RUNPATH and the standard directories), for interpreters built shared.
 * @exe is opened to read it, @name is its name in our view (for $ORIGIN),
 * and the standard directories are searched inside @root.
 */
int pyelf_find_libpython(const char *root, const char *exe, const char *name,
			 char *out, size_t out_len);
/* "3.11.2", or "3.9" when the binary does not say its micro version. */
void pyelf_version_str(const struct pyelf *e, char *buf, size_t len);

/* The version in a name such as python3.9 or libpython3.9.so.1.0. */
void pyelf_version_from_name(const char *path, struct pyelf *e);

#endif
