// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The 3.11 offsets in user/pyversion.c, checked against the installed
 * CPython 3.11 internal headers, the ones the interpreter was built from.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_runtime.h>
#include <internal/pycore_dict.h>
#include <internal/pycore_interp.h>
#include <opcode.h>
#include <stddef.h>
#include <stdio.h>
#include "target/pyversion.h"

static int failures;

static void expect(const char *what, unsigned long got, unsigned long want)
{
	if (got == want) {
		printf("ok - 3.11 %s = %lu\n", what, want);
		return;
	}
	printf("not ok - 3.11 %s: table %lu, headers %lu\n", what, got, want);
	failures++;
}

int main(void)
{
	struct pyelf e = { .major = 3, .minor = 11 };
	const struct py_flavor *fl;
	char why[256];

	fl = py_flavor_for(&e, why, sizeof(why));
	if (!fl) {
		printf("not ok - no 3.11 flavor: %s\n", why);
		return 1;
	}
	expect("tstate_current", fl->layout.tstate_current,
	       offsetof(_PyRuntimeState, gilstate.tstate_current));
	expect("tstate_cframe", fl->layout.tstate_cframe,
	       offsetof(PyThreadState, cframe));
	expect("tstate_native_id", fl->layout.tstate_native_id,
	       offsetof(PyThreadState, native_thread_id));
	expect("cframe_current", fl->layout.cframe_current,
	       offsetof(_PyCFrame, current_frame));
	expect("frame_code", fl->layout.frame_code,
	       offsetof(_PyInterpreterFrame, f_code));
	expect("frame_previous", fl->layout.frame_previous,
	       offsetof(_PyInterpreterFrame, previous));
	expect("frame_prev_instr", fl->layout.frame_prev_instr,
	       offsetof(_PyInterpreterFrame, prev_instr));
	expect("code_filename", fl->layout.code_filename,
	       offsetof(PyCodeObject, co_filename));
	expect("code_name", fl->layout.code_name, offsetof(PyCodeObject, co_name));
	expect("code_firstlineno", fl->layout.code_firstlineno,
	       offsetof(PyCodeObject, co_firstlineno));
	expect("str_state", fl->layout.str_state, offsetof(PyASCIIObject, state));
	expect("str_ascii_data", fl->layout.str_ascii_data, sizeof(PyASCIIObject));
	expect("str_utf8", fl->layout.str_utf8,
	       offsetof(PyCompactUnicodeObject, utf8));
	expect("str_compact_data", fl->layout.str_compact_data,
	       sizeof(PyCompactUnicodeObject));
	expect("yield_opcode", fl->layout.yield_opcode, YIELD_VALUE);
	/* Class.name from the live objects: frame, code, function, type */
	expect("frame_locals", fl->layout.frame_locals,
	       offsetof(_PyInterpreterFrame, localsplus));
	expect("frame_func", fl->layout.frame_func,
	       offsetof(_PyInterpreterFrame, f_func));
	expect("frame_globals", fl->layout.frame_globals,
	       offsetof(_PyInterpreterFrame, f_globals));
	expect("code_argcount", fl->layout.code_argcount,
	       offsetof(PyCodeObject, co_argcount));
	expect("code_kwonly", fl->layout.code_kwonly,
	       offsetof(PyCodeObject, co_kwonlyargcount));
	expect("code_flags", fl->layout.code_flags,
	       offsetof(PyCodeObject, co_flags));
	expect("func_code", fl->layout.func_code,
	       offsetof(PyFunctionObject, func_code));
	expect("type_name", fl->layout.type_name, offsetof(PyTypeObject, tp_name));
	expect("type_dict", fl->layout.type_dict, offsetof(PyTypeObject, tp_dict));
	expect("type_mro", fl->layout.type_mro, offsetof(PyTypeObject, tp_mro));
	expect("type_subclasses", fl->layout.type_subclasses,
	       offsetof(PyTypeObject, tp_subclasses));
	expect("tuple_items", fl->layout.tuple_items,
	       offsetof(PyTupleObject, ob_item));
	/* the BPF side reads these fixed offsets in every version */
	expect("dict ma_keys", 32, offsetof(PyDictObject, ma_keys));
	expect("dict ma_values", 40, offsetof(PyDictObject, ma_values));
	expect("cell ob_ref", 16, offsetof(PyCellObject, ob_ref));
	expect("weakref wr_object", 16, offsetof(PyWeakReference, wr_object));
	/* the live sys.path's walk: runtime, sys dict, list, str */
#define LIVE(field, want) expect(#field, fl->live_path->field, want)
	LIVE(interp_head, offsetof(_PyRuntimeState, interpreters.head));
	LIVE(sysdict, offsetof(PyInterpreterState, sysdict));
	LIVE(dict_keys, offsetof(PyDictObject, ma_keys));
	LIVE(keys_log2_index_bytes, offsetof(PyDictKeysObject, dk_log2_index_bytes));
	LIVE(keys_kind, offsetof(PyDictKeysObject, dk_kind));
	LIVE(keys_nentries, offsetof(PyDictKeysObject, dk_nentries));
	LIVE(keys_indices, offsetof(PyDictKeysObject, dk_indices));
	LIVE(entry_size, sizeof(PyDictUnicodeEntry));
	LIVE(list_size, offsetof(PyVarObject, ob_size));
	LIVE(list_items, offsetof(PyListObject, ob_item));
	LIVE(str_length, offsetof(PyASCIIObject, length));
	LIVE(str_state, offsetof(PyASCIIObject, state));
	LIVE(str_data, sizeof(PyASCIIObject));
#undef LIVE
	return failures ? 1 : 0;
}
