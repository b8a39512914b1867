// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reading a Python ELF: its python:* USDT notes, _PyRuntime, and the version
 * from the Py_Version constant (3.11+) or the library's file name.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "target/pyelf.h"

const char *const probe_names[PROBE_NR] = {
	[PROBE_LINE] = "line",
	[PROBE_ENTRY] = "function__entry",
	[PROBE_RETURN] = "function__return",
	[PROBE_GC_START] = "gc__start",
	[PROBE_GC_DONE] = "gc__done",
	[PROBE_IMPORT_START] = "import__find__load__start",
	[PROBE_IMPORT_DONE] = "import__find__load__done",
	[PROBE_AUDIT] = "audit",
};

#define NT_STAPSDT 3

static void note_probe(struct pyelf *e, const char *name, uint64_t pc)
{
	for (int i = 0; i < PROBE_NR; i++) {
		if (strcmp(name, probe_names[i]))
			continue;
		if (!e->has_probe[i])
			e->probe_pc[i] = pc;
		e->has_probe[i] = true;
		e->n_sites[i]++;
	}
}

/* stapsdt note: pc, base, semaphore, then "provider\0name\0args\0". */
static void read_notes(Elf_Scn *scn, uint64_t base_addr,
		       struct pyelf *e)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	if (!data)
		return;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const char *desc = (const char *)data->d_buf + desc_off;
		const char *prov, *pname;
		uint64_t pc, base;

		if (nh.n_type != NT_STAPSDT || nh.n_descsz < 24 + 4 ||
		    strcmp((const char *)data->d_buf + name_off, "stapsdt"))
			continue;
		memcpy(&pc, desc, 8);
		memcpy(&base, desc + 8, 8);
		prov = desc + 24;
		if (memchr(prov, 0, nh.n_descsz - 24) == NULL)
			continue;
		pname = prov + strlen(prov) + 1;
		if (pname >= desc + nh.n_descsz ||
		    !memchr(pname, 0, desc + nh.n_descsz - pname))
			continue;
		if (strcmp(prov, "python"))
			continue;
		/* prelink may have moved the binary: adjust as libbpf does */
		if (base_addr && base)
			pc += base_addr - base;
		note_probe(e, pname, pc);
	}
}

static uint64_t read_u64_at(Elf *elf, uint64_t vaddr, bool *ok)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	uint64_t v = 0;

	*ok = false;
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		/* no sums: a hostile file's addresses would wrap them */
		if (vaddr < sh.sh_addr || vaddr - sh.sh_addr > sh.sh_size ||
		    sh.sh_size - (vaddr - sh.sh_addr) < 8)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size < 8 ||
		    vaddr - sh.sh_addr > d->d_size - 8)
			return 0;
		memcpy(&v, (char *)d->d_buf + (vaddr - sh.sh_addr), 8);
		*ok = true;
		return v;
	}
	return 0;
}

/*
 * A pointer stored in the file at @vaddr: in a position-dependent binary
 * the word itself, in a shared object the addend of its RELATIVE
 * relocation (the word is 0 until the loader adds the load address).
 */
static uint64_t read_ptr_at(Elf *elf, uint64_t vaddr)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	bool ok;
	uint64_t v = read_u64_at(elf, vaddr, &ok);

	if (!ok || v)
		return v;
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; d && i < n; i++) {
			GElf_Rela r;
			unsigned type;

			if (!gelf_getrela(d, i, &r) || r.r_offset != vaddr)
				continue;
			type = GELF_R_TYPE(r.r_info);
			if (type == R_X86_64_RELATIVE || type == R_AARCH64_RELATIVE)
				return r.r_addend;
			return 0;
		}
	}
	return 0;
}

/* The file offset of the code at @vaddr, 0 if no executable segment holds it. */
static uint64_t code_offset(Elf *elf, uint64_t vaddr)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD ||
		    !(ph.p_flags & PF_X))
			continue;
		if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz)
			return vaddr - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

static void read_symbols(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh,
			 struct pyelf *e, uint64_t *py_version)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; d && i < n; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(d, i, &sym) || sym.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name)
			continue;
		if (!strcmp(name, "_PyRuntime")) {
			e->runtime_sym = sym.st_value;
			e->runtime_size = sym.st_size;
		}
		else if (!strcmp(name, "_Py_InitCleanup"))
			e->init_shim_sym = sym.st_value;
		else if (!strcmp(name, "Py_Version"))
			*py_version = sym.st_value;
		else if (!strcmp(name, "PyUnicode_Type"))
			e->type_str = sym.st_value;
		else if (!strcmp(name, "PyLong_Type"))
			e->type_int = sym.st_value;
		else if (!strcmp(name, "PyBytes_Type"))
			e->type_bytes = sym.st_value;
		else if (!strcmp(name, "PyCell_Type"))
			e->type_cell = sym.st_value;
		else if (!strcmp(name, "PyDict_Type"))
			e->type_dict = sym.st_value;
		else if (!strcmp(name, "PyFunction_Type"))
			e->type_func = sym.st_value;
		else if (!strcmp(name, "PyCode_Type"))
			e->type_code = sym.st_value;
		else if (!strncmp(name, "Py_Initialize", 13))
			e->is_python = true;
	}
}

/* libpython3.9.so.1.0 or python3.9: the fallback when Py_Version is absent. */
void pyelf_version_from_name(const char *path, struct pyelf *e)
{
	const char *base = strrchr(path, '/');
	const char *p;
	int maj, min;

	base = base ? base + 1 : path;
	p = strstr(base, "python");
	if (p && sscanf(p, "python%d.%d", &maj, &min) == 2) {
		e->major = maj;
		e->minor = min;
	}
}

/* Where the sections say what the probes and the runtime need. */
struct elf_marks {
	uint64_t py_version, stapsdt_base, runtime_section;
};

/* Symbols, the section anchors, then the probes' notes against them. */
static void read_sections(Elf *elf, size_t shstrndx, struct pyelf *e,
			  struct elf_marks *m)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".stapsdt.base"))
			m->stapsdt_base = sh.sh_addr;
		/* 3.13+ puts _PyRuntime in its own section, symbols or not */
		if (name && !strcmp(name, ".PyRuntime"))
			m->runtime_section = sh.sh_addr;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			read_symbols(elf, scn, &sh, e, &m->py_version);
	}
	scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".note.stapsdt"))
			read_notes(scn, m->stapsdt_base, e);
	}
}

/* What the symbols point at: the version, _Py_DebugOffsets, tp_dealloc. */
static void read_runtime(Elf *elf, const struct elf_marks *m, struct pyelf *e)
{
	bool ok = true;

	if (m->py_version) {
		uint64_t v = read_u64_at(elf, m->py_version, &ok);

		/* 0xMMmmuuRS: major, minor, micro, release level and serial */
		if (ok) {
			e->major = (v >> 24) & 0xff;
			e->minor = (v >> 16) & 0xff;
			e->micro = (v >> 8) & 0xff;
			e->has_micro = true;
		}
	}
	if (!e->runtime_sym)
		e->runtime_sym = m->runtime_section;
	/* debuggers find the layout here without headers: so do we */
	ok = true;
	for (int i = 0; e->runtime_sym && ok && i < PYELF_DEBUG_WORDS; i++)
		e->debug_offsets[i] = read_u64_at(elf, e->runtime_sym + 8 * i, &ok);
	e->has_debug_offsets = e->runtime_sym && ok &&
			       !memcmp(e->debug_offsets, "xdebugpy", 8);
	/* 3.13+: runtime_state.size, where no symbol told it */
	if (e->has_debug_offsets && !e->runtime_size)
		e->runtime_size = e->debug_offsets[3];
	/*
	 * Code objects die only through their type's tp_dealloc, an
	 * indirect call no compiler can inline: where it starts is where
	 * to learn that one died (PyTypeObject's tp_dealloc: 6 words in).
	 */
	if (e->type_code) {
		uint64_t at = read_ptr_at(elf, e->type_code + 48);

		e->code_dealloc_off = at ? code_offset(elf, at) : 0;
	}
}

int pyelf_read(const char *path, struct pyelf *e, char *why, size_t why_len)
{
	struct elf_marks m = {};
	size_t shstrndx;
	Elf *elf;
	int fd, err = 0;

	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "%s", path);
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(why, why_len, "libelf is unusable");
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_len, "cannot open '%s': %s", path, strerror(errno));
		return err;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx)) {
		snprintf(why, why_len, "'%s' is not an ELF file", path);
		err = -ENOEXEC;
		goto out;
	}
	read_sections(elf, shstrndx, e, &m);
	for (int i = 0; i < PROBE_NR; i++)
		if (e->has_probe[i])
			e->is_python = true;
	read_runtime(elf, &m, e);
	if (!e->major)
		pyelf_version_from_name(path, e);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

/* The runpath entries of @dyn, with $ORIGIN expanded, into @dirs. */
static int runpath_dirs(const char *rp, const char *exe, char dirs[][PATH_MAX + 8],
			int max)
{
	char origin[4096];
	const char *slash = strrchr(exe, '/');
	int n = 0;

	snprintf(origin, sizeof(origin), "%.*s", slash ? (int)(slash - exe) : 1,
		 slash ? exe : ".");
	while (rp && *rp && n < max) {
		const char *end = strchr(rp, ':');
		size_t len = end ? (size_t)(end - rp) : strlen(rp);

		if (len >= 7 && !strncmp(rp, "$ORIGIN", 7))
			snprintf(dirs[n++], PATH_MAX + 8, "%s%.*s", origin, (int)len - 7, rp + 7);
		else if (len)
			snprintf(dirs[n++], PATH_MAX + 8, "%.*s", (int)len, rp);
		rp = end ? end + 1 : NULL;
	}
	return n;
}

int pyelf_find_libpython(const char *root, const char *exe, const char *name,
			 char *out, size_t out_len)
{
	static const char *const std_dirs[] = {
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
		"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
		"/usr/local/lib", "/usr/lib", "/lib",
	};
	char needed[256] = "", runpath[4096] = "", dirs[8][PATH_MAX + 8];
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int fd, n_dirs;
	Elf *elf;

	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;
			const char *s;

			if (!gelf_getdyn(d, i, &dyn))
				break;
			if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RUNPATH &&
			    dyn.d_tag != DT_RPATH)
				continue;
			s = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			if (!s)
				continue;
			if (dyn.d_tag == DT_NEEDED && !strncmp(s, "libpython", 9))
				snprintf(needed, sizeof(needed), "%s", s);
			else if (dyn.d_tag != DT_NEEDED)
				snprintf(runpath, sizeof(runpath), "%s", s);
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	if (!needed[0] || strchr(needed, '/'))
		return -ENOENT;
	n_dirs = runpath_dirs(runpath, name, dirs, 8);
	for (int i = 0; i < n_dirs + (int)(sizeof(std_dirs) / sizeof(*std_dirs)); i++) {
		/* $ORIGIN is already in our view; the standard dirs are the root's */
		const char *dir = i < n_dirs ? dirs[i] : std_dirs[i - n_dirs];

		snprintf(out, out_len, "%s%s/%s", i < n_dirs ? "" : root, dir, needed);
		if (!access(out, R_OK))
			return 0;
	}
	return -ENOENT;
}

bool pyelf_any_probe(const struct pyelf *e)
{
	for (int i = 0; i < PROBE_NR; i++)
		if (e->has_probe[i])
			return true;
	return false;
}

void pyelf_version_str(const struct pyelf *e, char *buf, size_t len)
{
	if (e->has_micro)
		snprintf(buf, len, "%d.%d.%d", e->major, e->minor, e->micro);
	else
		snprintf(buf, len, "%d.%d", e->major, e->minor);
}

uint64_t pyelf_symbol(const char *path, const char *name)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf_Scn *scn = NULL;
	uint64_t v = 0;
	GElf_Shdr sh;
	Elf *elf;

	if (fd < 0)
		return 0;
	elf = elf_version(EV_CURRENT) == EV_NONE ? NULL :
	      elf_begin(fd, ELF_C_READ, NULL);
	while (elf && !v && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB))
			continue;
		d = elf_getdata(scn, NULL);
		n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; d && !v && i < n; i++) {
			GElf_Sym sym;
			const char *s;

			if (!gelf_getsym(d, i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			s = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (s && !strcmp(s, name))
				v = sym.st_value;
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return v;
}
