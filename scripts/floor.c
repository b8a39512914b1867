// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * floor -p PID PROBE...: attach an empty BPF program to the python:PROBE
 * USDT sites of PID (found as ctrace-bpf finds them), print "Attached",
 * and hold until SIGINT.  make bench measures ctrace-bpf against this.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"
#include "target/pyelf.h"
#include "target/target.h"

static volatile sig_atomic_t done;

static void on_sig(int sig)
{
	(void)sig;
	done = 1;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[8];
	struct floor_bpf *skel;
	struct target t;
	char why[1024];
	int n = 0, ret = 1;

	if (argc < 4 || strcmp(argv[1], "-p")) {
		fprintf(stderr, "usage: floor -p PID PROBE...\n");
		return 2;
	}
	if (target_from_pid(atoi(argv[2]), &t, why, sizeof(why))) {
		fprintf(stderr, "floor: %s\n", why);
		return 1;
	}
	skel = floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "floor: cannot load: %s\n", strerror(errno));
		goto out;
	}
	for (int i = 3; i < argc && n < 8; i++) {
		links[n] = bpf_program__attach_usdt(skel->progs.floor_prog, t.pid,
						    t.elf.path, "python", argv[i],
						    NULL);
		if (!links[n]) {
			fprintf(stderr, "floor: cannot attach python:%s: %s\n",
				argv[i], strerror(errno));
			goto out_links;
		}
		n++;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	printf("Attached\n");
	fflush(stdout);
	while (!done)
		pause();
	ret = 0;
out_links:
	while (n--)
		bpf_link__destroy(links[n]);
	floor_bpf__destroy(skel);
out:
	target_close(&t);
	return ret;
}
