// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* An attachment of ctrace.bpf.o to one interpreter binary: see binaries.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "ctrace.h"
#include "ctrace.skel.h"
#include "usdt/binaries.h"
#include "usdt/collect.h"

int usdt_bin_plan(struct usdt_bin *b, const struct options *o,
		  const struct py_flavor *fl, const struct target *t,
		  char *why, size_t why_len)
{
	char flwhy[256];
	int err;

	snprintf(b->path, sizeof(b->path), "%s", t->elf.path);
	b->elf = t->elf;
	b->fl = fl ? fl : py_flavor_for(&t->elf, flwhy, sizeof(flwhy));
	err = plan_make(o, b->fl, t, &b->plan, why, why_len);
	if (!err && !b->fl) {
		snprintf(why, why_len, "%s", flwhy);
		err = -ENOTSUP;
	}
	return err;
}

int usdt_bin_arm(struct usdt_bin *b, const struct target *t, char *why,
		 size_t why_len)
{
	int err = tracer_attach(&b->tr, &b->plan, b->fl, t, why, why_len);

	/* a half-attached object goes at once: nothing of it stays live */
	if (err)
		tracer_destroy(&b->tr);
	b->armed = !err;
	b->failed = !!err;
	return err;
}

void usdt_bin_stop(struct usdt_bin *b)
{
	if (b->armed)
		tracer_stop(&b->tr);
}

int usdt_bin_collect(struct usdt_bin *b, char *why, size_t why_len)
{
	int err = collect_all(b->tr.skel, &b->raw);

	if (err)
		snprintf(why, why_len, "cannot read the BPF maps of '%s': %s",
			 b->path, strerror(-err));
	b->harvested = !err;
	return err;
}

void usdt_bin_free(struct usdt_bin *b)
{
	tracer_destroy(&b->tr);
	raw_tables_free(&b->raw);
	b->armed = b->harvested = false;
}
