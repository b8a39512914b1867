// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "naming/source.h"
#include "target/syspath.h"

struct cmdline {
	bool ignore_env, no_user_site, no_site, safe_path;
	bool command_or_module;	/* -c or -m: sys.path[0] is the cwd */
	const char *script;	/* NULL for -c, -m and stdin */
};

static const char *env_of(const struct syspath_input *in, const char *name)
{
	size_t nl = strlen(name);

	for (int i = 0; i < in->envc; i++)
		if (!strncmp(in->env[i], name, nl) && in->env[i][nl] == '=')
			return in->env[i] + nl + 1;
	return NULL;
}

/* The interpreter's own options, as its getopt reads them. */
static void parse_cmdline(const struct syspath_input *in, struct cmdline *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	for (i = 1; i < in->argc; i++) {
		const char *a = in->argv[i];

		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[1] == '-') {
			if (!strcmp(a, "--check-hash-based-pycs"))
				i++;
			continue;
		}
		for (const char *f = a + 1; *f; f++) {
			bool takes_arg = false;

			switch (*f) {
			case 'c':
			case 'm':
				c->command_or_module = true;
				return;
			case 'W':
			case 'X':
				takes_arg = true;
				break;
			case 'E': c->ignore_env = true; break;
			case 's': c->no_user_site = true; break;
			case 'S': c->no_site = true; break;
			case 'P': c->safe_path = true; break;
			case 'I':
				c->ignore_env = c->no_user_site = true;
				c->safe_path = true;
				break;
			}
			/* its argument is the rest of the word, or the next word */
			if (takes_arg) {
				if (!f[1])
					i++;
				break;
			}
		}
	}
	if (i < in->argc && strcmp(in->argv[i], "-"))
		c->script = in->argv[i];
}

/* os.path.abspath: joined to @cwd and normalized, without the filesystem. */
static void abspath(const char *cwd, const char *p, char *out, size_t len)
{
	char buf[PATH_MAX * 2];
	size_t n = 0;
	char *save, *part;

	if (p[0] == '/')
		snprintf(buf, sizeof(buf), "%s", p);
	else
		snprintf(buf, sizeof(buf), "%s/%s", cwd, p);
	out[0] = '\0';
	for (part = strtok_r(buf, "/", &save); part;
	     part = strtok_r(NULL, "/", &save)) {
		if (!strcmp(part, "."))
			continue;
		if (!strcmp(part, "..")) {
			char *slash = strrchr(out, '/');

			n = slash ? (size_t)(slash - out) : 0;
			out[n] = '\0';
			continue;
		}
		if (n + strlen(part) + 2 > len)
			break;
		n += snprintf(out + n, len - n, "/%s", part);
	}
	if (!n)
		snprintf(out, len, "/");
}

static int open_in(const struct syspath_input *in, const char *path, int flags)
{
	return source_open(in->root_fd, path, flags);
}

static bool is_dir(const struct syspath_input *in, const char *path)
{
	int fd = open_in(in, path, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool exists(const struct syspath_input *in, const char *path)
{
	int fd = open_in(in, path, O_PATH);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int syspath_add(struct syspath *sp, const char *dir)
{
	char **g;

	for (size_t i = 0; i < sp->n; i++)
		if (!strcmp(sp->dirs[i], dir))
			return 0;
	g = realloc(sp->dirs, (sp->n + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	sp->dirs = g;
	g[sp->n] = strdup(dir);
	if (!g[sp->n])
		return -ENOMEM;
	sp->n++;
	return 0;
}

/* PYTHONPATH: each entry made absolute, as getpath makes it. */
static void add_pythonpath(const struct syspath_input *in, const char *pp,
			   struct syspath *sp)
{
	char dir[PATH_MAX], one[PATH_MAX];

	while (pp && *pp) {
		const char *end = strchr(pp, ':');
		size_t len = end ? (size_t)(end - pp) : strlen(pp);

		if (len && len < sizeof(one)) {
			snprintf(one, sizeof(one), "%.*s", (int)len, pp);
			abspath(in->cwd, one, dir, sizeof(dir));
			syspath_add(sp, dir);
		}
		pp = end ? end + 1 : NULL;
	}
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .pth files of @site, sorted by name; @n of them, each to be freed. */
static char **pth_files(const struct syspath_input *in, const char *site,
			int *n)
{
	int fd = open_in(in, site, O_RDONLY | O_DIRECTORY);
	char **names = NULL, **g;
	DIR *d;

	*n = 0;
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return NULL;
	}
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);

		if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".pth"))
			continue;
		g = realloc(names, (*n + 1) * sizeof(*g));
		if (!g)
			break;
		names = g;
		names[*n] = strdup(e->d_name);
		if (!names[*n])
			break;
		(*n)++;
	}
	closedir(d);
	if (names)
		qsort(names, *n, sizeof(*names), cmp_name);
	return names;
}

/* One .pth file's directories that exist, as site adds them. */
static void add_pth(const struct syspath_input *in, const char *site,
		    char *data, struct syspath *sp)
{
	char *save, *line;

	for (line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char dir[PATH_MAX];
		size_t l;

		/* comments, blanks and the import lines site runs */
		if (line[0] == '#' || !strncmp(line, "import ", 7) ||
		    !strncmp(line, "import\t", 7))
			continue;
		l = strlen(line);
		while (l && (line[l - 1] == ' ' || line[l - 1] == '\t' ||
			     line[l - 1] == '\r'))
			line[--l] = '\0';
		if (!l)
			continue;
		abspath(site, line, dir, sizeof(dir));
		if (exists(in, dir))
			syspath_add(sp, dir);
	}
}

/* The directories a site directory's .pth files name, in name order. */
static void add_pth_dirs(const struct syspath_input *in, const char *site,
			 struct syspath *sp)
{
	int n;
	char **names = pth_files(in, site, &n);

	for (int i = 0; i < n; i++) {
		char path[PATH_MAX * 2], why[128], *data = NULL;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", site, names[i]);
		free(names[i]);
		if (source_read(in->root_fd, NULL, path, &data, &len, why,
				sizeof(why)))
			continue;
		add_pth(in, site, data, sp);
		free(data);
	}
	free(names);
}

static void add_site(const struct syspath_input *in, const char *site,
		     struct syspath *sp)
{
	if (!is_dir(in, site))
		return;
	syspath_add(sp, site);
	add_pth_dirs(in, site, sp);
}

/* The executable as getpath finds it: argv[0], along PATH if bare. */
static bool find_executable(const struct syspath_input *in, char *out,
			    size_t len)
{
	const char *a0 = in->argc ? in->argv[0] : NULL, *path;
	char cand[PATH_MAX * 2];

	if (!a0 || !a0[0])
		return false;
	if (strchr(a0, '/')) {
		abspath(in->cwd, a0, out, len);
		return true;
	}
	path = env_of(in, "PATH");
	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t l = end ? (size_t)(end - path) : strlen(path);

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)l, path, a0);
		abspath(in->cwd, cand, out, len);
		if (exists(in, out))
			return true;
		path = end ? end + 1 : NULL;
	}
	return false;
}

/*
 * A venv: pyvenv.cfg beside the executable or one directory up.  Returns
 * its directory in @venv, and whether it includes the system's site.
 */
static bool find_venv(const struct syspath_input *in, char *venv, size_t len,
		      bool *system_site)
{
	char exe[PATH_MAX], dir[PATH_MAX], cfg[PATH_MAX * 2], why[128];
	char *data = NULL, *save, *line;
	size_t n;

	if (!find_executable(in, exe, sizeof(exe)))
		return false;
	abspath(exe, "..", dir, sizeof(dir));
	for (int up = 0; up < 2; up++) {
		snprintf(cfg, sizeof(cfg), "%s/pyvenv.cfg", dir);
		if (!source_read(in->root_fd, NULL, cfg, &data, &n, why,
				 sizeof(why)))
			break;
		abspath(dir, "..", dir, sizeof(dir));
	}
	if (!data)
		return false;
	*system_site = false;
	for (line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char key[64], val[64];

		if (sscanf(line, " %63[^= ] = %63s", key, val) == 2 &&
		    !strcasecmp(key, "include-system-site-packages"))
			*system_site = !strcasecmp(val, "true");
	}
	free(data);
	snprintf(venv, len, "%s", dir);
	return true;
}

/* site's part: a venv's own site first, then the user's, then Debian's */
static void add_sites(const struct syspath_input *in, const struct cmdline *c,
		      struct syspath *sp)
{
	int ma = in->fl->major, mi = in->fl->minor;
	char dir[PATH_MAX * 2], venv[PATH_MAX];
	bool venv_found, system_site = true, user_site;
	const char *home;

	venv_found = find_venv(in, venv, sizeof(venv), &system_site);
	/* a venv without the system's site turns the user site off too */
	user_site = !c->no_user_site && system_site;
	if (venv_found) {
		snprintf(dir, sizeof(dir), "%s/lib/python%d.%d/site-packages",
			 venv, ma, mi);
		add_site(in, dir, sp);
	}
	home = env_of(in, "HOME");
	if (user_site && home && home[0] == '/') {
		snprintf(dir, sizeof(dir), "%s/.local/lib/python%d.%d/site-packages",
			 home, ma, mi);
		add_site(in, dir, sp);
	}
	if (system_site) {
		snprintf(dir, sizeof(dir), "/usr/local/lib/python%d.%d/dist-packages",
			 ma, mi);
		add_site(in, dir, sp);
		snprintf(dir, sizeof(dir), "/usr/lib/python%d/dist-packages", ma);
		add_site(in, dir, sp);
	}
}

int syspath_derive(const struct syspath_input *in, struct syspath *sp)
{
	int ma = in->fl->major, mi = in->fl->minor;
	char dir[PATH_MAX * 2];
	struct cmdline c;

	memset(sp, 0, sizeof(*sp));
	parse_cmdline(in, &c);
	if (!c.ignore_env && env_of(in, "PYTHONSAFEPATH") &&
	    *env_of(in, "PYTHONSAFEPATH") && (ma > 3 || mi >= 11))
		c.safe_path = true;
	if (!c.ignore_env && env_of(in, "PYTHONNOUSERSITE") &&
	    *env_of(in, "PYTHONNOUSERSITE"))
		c.no_user_site = true;
	/* -P only exists since 3.11; -I meant no script directory before */
	if (!c.safe_path) {
		if (c.script) {
			abspath(in->cwd, c.script, dir, sizeof(dir));
			abspath(dir, "..", dir, sizeof(dir));
			syspath_add(sp, dir);
		} else if (c.command_or_module) {
			/* -c has '' there, which names every file from '/' */
			syspath_add(sp, in->cwd);
		}
	}
	if (!c.ignore_env)
		add_pythonpath(in, env_of(in, "PYTHONPATH"), sp);
	snprintf(dir, sizeof(dir), "/usr/lib/python%d%d.zip", ma, mi);
	syspath_add(sp, dir);
	snprintf(dir, sizeof(dir), "/usr/lib/python%d.%d", ma, mi);
	syspath_add(sp, dir);
	snprintf(dir, sizeof(dir), "/usr/lib/python%d.%d/lib-dynload", ma, mi);
	syspath_add(sp, dir);
	if (!c.no_site)
		add_sites(in, &c, sp);
	return 0;
}

void syspath_free(struct syspath *sp)
{
	for (size_t i = 0; i < sp->n; i++)
		free(sp->dirs[i]);
	free(sp->dirs);
	memset(sp, 0, sizeof(*sp));
}
