// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The target's sys.path as it is now, read from its memory: what the
 * program added at run time (sys.path.insert) is there too.  Every value is
 * untrusted and bounded; a read that does not add up leaves the last good
 * list in place.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "target/livepath.h"
#include "util/vm.h"

#define MAX_ENTRIES 4096	/* sys's dict holds ~80 */
#define MAX_PATHS 512
#define MAX_LEN 4096

static uint64_t rd_ptr(pid_t pid, uint64_t addr, int *err)
{
	uint64_t v = 0;

	if (vm_read(pid, addr, &v, sizeof(v)))
		*err = -EFAULT;
	return v;
}

/* A compact ASCII str object's text, or NULL. */
static char *rd_str(const struct live_path_layout *l, pid_t pid, uint64_t obj)
{
	uint64_t len = 0;
	uint8_t state = 0;
	char *s;

	if (vm_read(pid, obj + l->str_length, &len, sizeof(len)) ||
	    vm_read(pid, obj + l->str_state, &state, 1) || len >= MAX_LEN)
		return NULL;
	/* state bits: interned:2 kind:3 compact:1 ascii:1 */
	if ((state & 0x60) != 0x60)
		return NULL;
	s = malloc(len + 1);
	if (!s || vm_read(pid, obj + l->str_data, s, len)) {
		free(s);
		return NULL;
	}
	s[len] = '\0';
	if (strlen(s) != len) {
		free(s);
		return NULL;
	}
	return s;
}

/* sys.__dict__["path"]: the list object, or 0. */
static uint64_t path_list(const struct live_path_layout *l, pid_t pid,
			  uint64_t runtime)
{
	uint64_t interp, sysdict, keys, n, entries;
	uint8_t log2_index, kind;
	int err = 0;

	interp = rd_ptr(pid, runtime + l->interp_head, &err);
	sysdict = rd_ptr(pid, interp + l->sysdict, &err);
	keys = rd_ptr(pid, sysdict + l->dict_keys, &err);
	n = rd_ptr(pid, keys + l->keys_nentries, &err);
	if (err || vm_read(pid, keys + l->keys_log2_index_bytes, &log2_index, 1) ||
	    vm_read(pid, keys + l->keys_kind, &kind, 1) || !kind ||
	    log2_index > 40 || n > MAX_ENTRIES)
		return 0;
	entries = keys + l->keys_indices + (1ULL << log2_index);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e[2];
		char *k;
		bool is_path;

		if (vm_read(pid, entries + i * l->entry_size, e, sizeof(e)) || !e[0])
			continue;
		k = rd_str(l, pid, e[0]);
		is_path = k && !strcmp(k, "path");
		free(k);
		if (is_path)
			return e[1];
	}
	return 0;
}

int livepath_read(const struct live_path_layout *l, pid_t pid,
		  uint64_t runtime, struct syspath *out)
{
	uint64_t list, n, items;
	struct syspath sp = {};
	int err = 0;

	list = path_list(l, pid, runtime);
	n = list ? rd_ptr(pid, list + l->list_size, &err) : 0;
	items = list ? rd_ptr(pid, list + l->list_items, &err) : 0;
	if (!list || err || n > MAX_PATHS)
		return -EFAULT;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t item = rd_ptr(pid, items + 8 * i, &err);
		char *s = err ? NULL : rd_str(l, pid, item);
		char **g;

		if (!s)
			continue;	/* a non-ASCII or odd entry names nothing */
		g = realloc(sp.dirs, (sp.n + 1) * sizeof(*g));
		if (!g) {
			free(s);
			syspath_free(&sp);
			return -ENOMEM;
		}
		sp.dirs = g;
		sp.dirs[sp.n++] = s;
	}
	syspath_free(out);
	*out = sp;
	return 0;
}

/* The first PT_LOAD's page: 0 for PIE and libraries, 0x400000 for others. */
static bool first_load(const char *elf_path, uint64_t *vaddr)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(elf_path, O_RDONLY | O_CLOEXEC);
	bool found = false;

	if (fd < 0)
		return false;
	if (pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) &&
	    !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	    eh.e_phentsize == sizeof(ph) && eh.e_phnum < 256) {
		for (int i = 0; i < eh.e_phnum && !found; i++) {
			if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) !=
			    sizeof(ph))
				break;
			if (ph.p_type == PT_LOAD) {
				*vaddr = ph.p_vaddr & ~0xfffULL;
				found = true;
			}
		}
	}
	close(fd);
	return found;
}

uint64_t livepath_runtime(pid_t pid, const char *elf_path, uint64_t runtime_sym)
{
	char maps[64], line[4352];
	uint64_t at = 0, vaddr;
	struct stat st;
	FILE *f;

	if (!runtime_sym || stat(elf_path, &st) || !first_load(elf_path, &vaddr))
		return 0;
	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return 0;
	/* the ELF's mapping at file offset 0: its load bias (PIE or .so) */
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, off, ino;
		char perms[8];

		if (sscanf(line, "%lx-%*s %7s %lx %*s %lu", &lo, perms, &off,
			   &ino) == 4 && !off && ino == st.st_ino) {
			at = lo - vaddr + runtime_sym;
			break;
		}
	}
	fclose(f);
	return at;
}
