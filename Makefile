# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ctrace-bpf: build, test, bench.  V=1 shows the commands.

OUTPUT ?= build
PREFIX ?= /usr/local
PYTHON_TARGET ?= /usr/bin/python3.11

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# Debian's own python3.11, never a pyenv shim earlier on PATH
PYCONFIG ?= /usr/bin/python3.11-config
PY_CFLAGS := $(shell $(PYCONFIG) --includes 2>/dev/null)
PY_LIBS := $(shell $(PYCONFIG) --embed --ldflags 2>/dev/null)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-missing-field-initializers \
	  -I$(OUTPUT) -Ibpf -Iuser $(PY_CFLAGS) -MMD -MP
CORE_LDLIBS := -lelf -lz -lpthread -lsqlite3 $(PY_LIBS)
LDLIBS += -lbpf $(CORE_LDLIBS)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# The core (target, naming, trace's model, reports, util) needs no libbpf:
# it builds and unit-tests without the BPF toolchain.  Only what loads a
# BPF object depends on its skeleton.
CORE_SRCS := $(wildcard user/util/*.c user/target/*.c user/naming/*.c \
	user/trace/*.c user/report/*.c) user/monitor/reply.c \
	user/monitor/seccomp.c
SKEL_SRCS := $(wildcard user/usdt/*.c user/events/*.c) user/monitor/gate.c \
	user/session/execwatch.c
USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c user/*/*.c))
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(USER_SRCS))
CORE_OBJS := $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(CORE_SRCS))
SKEL_OBJS := $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(SKEL_SRCS))
MAIN_OBJ := $(OUTPUT)/obj/main.o
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

.PHONY: all deps install uninstall deb test check unit e2e cases ptrace pyenv faults roots roots-build events multi fleet realworld exports fuzz soak bench demo clean format
.DELETE_ON_ERROR:

all: $(OUTPUT)/ctrace-bpf

$(OUTPUT) $(OUTPUT)/obj $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

# -mcpu=v3: an atomic fetch-and-add hands out line_keys places (kernel 5.12+)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) \
	-Ibpf -I/usr/include/$(shell $(CC) -dumpmachine)
$(OUTPUT)/%.bpf.o: bpf/%.bpf.c bpf/ctrace.h $(wildcard bpf/*.bpf.h) $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# ctrace.bpf.o is two units, linked as retsnoop links its parts: the
# programs, and the Class.name search that only -l and -T call
$(OUTPUT)/%.unit.o: bpf/%.bpf.c bpf/ctrace.h $(wildcard bpf/*.bpf.h) $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/ctrace.bpf.o: $(OUTPUT)/ctrace.unit.o $(OUTPUT)/class.unit.o
	$(call msg,BPF-LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

.PRECIOUS: $(OUTPUT)/%.bpf.o $(OUTPUT)/%.unit.o $(OUTPUT)/%.skel.h

# make bench's floor: an empty program on the same probes
$(OUTPUT)/floor: scripts/floor.c $(OUTPUT)/floor.skel.h $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(USER_OBJS) $(LDLIBS) -o $@

# The analyser is our own Python, compiled into the binary as a C string.
$(OUTPUT)/analysis_py.h: user/naming/analysis.py scripts/embed.sh | $(OUTPUT)
	$(call msg,EMBED,$@)
	$(Q)sh scripts/embed.sh analysis_py_src $< > $@

# ... and so is the monitoring backend's collector, run inside 3.14+ targets.
$(OUTPUT)/collector_py.h: user/monitor/collector.py scripts/embed.sh | $(OUTPUT)
	$(call msg,EMBED,$@)
	$(Q)sh scripts/embed.sh collector_py_src $< > $@

SKELS := $(OUTPUT)/ctrace.skel.h $(OUTPUT)/events.skel.h $(OUTPUT)/gate.skel.h \
	$(OUTPUT)/execwatch.skel.h
GENERATED := $(SKELS) $(OUTPUT)/analysis_py.h $(OUTPUT)/collector_py.h

# generated headers, for the first build; -MMD's files track them after
$(SKEL_OBJS): | $(SKELS)
$(OUTPUT)/obj/naming/analysis.o: | $(OUTPUT)/analysis_py.h
$(OUTPUT)/obj/monitor/monitor.o: | $(OUTPUT)/collector_py.h

$(OUTPUT)/obj/%.o: user/%.c | $(OUTPUT)/obj
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/ctrace-bpf: $(USER_OBJS) $(MAIN_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# unit tests link the core alone: no libbpf, no skeleton
$(OUTPUT)/tests/%: tests/unit/%.c $(CORE_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(CORE_OBJS) $(CORE_LDLIBS) -o $@

# the test build of the ptrace steps: PTCALL_KILL_AT=N kills it at the Nth
$(OUTPUT)/tests/ptrace_steps.o: user/monitor/ptrace.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -DPTCALL_STEPS -c $< -o $@

$(OUTPUT)/tests/ptcall_check: tests/ptcall_check.c $(OUTPUT)/tests/ptrace_steps.o $(CORE_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(CORE_LDLIBS) -o $@

$(OUTPUT)/tests/sdt_target: tests/sdt_target.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -g -Wall -Werror $< -o $@ -lpthread

-include $(wildcard $(OUTPUT)/obj/*.d $(OUTPUT)/obj/*/*.d $(OUTPUT)/tests/*.d)

# Every build and test dependency, from Debian's archive.
DEPS := make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
	pkg-config libpython3.11-dev python3.11-dev python3.11 systemtap-sdt-dev \
	binutils util-linux procps debootstrap strace python3.11-venv \
	black python3-pyflakes python3-docutils python3-pygments python3-yaml \
	python3-jinja2 libsqlite3-dev python3-coverage lcov graphviz valgrind \
	man-db bash-completion dpkg-dev python3-seccomp
deps:
	@if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root" >&2; exit 1; fi
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEPS)

install: $(OUTPUT)/ctrace-bpf
	install -D -m 0755 $< $(DESTDIR)$(PREFIX)/sbin/ctrace-bpf
	install -D -m 0644 scripts/ctrace-bpf.8 $(DESTDIR)$(PREFIX)/share/man/man8/ctrace-bpf.8
	install -D -m 0644 scripts/ctrace-bpf.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/ctrace-bpf

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/ctrace-bpf \
		$(DESTDIR)$(PREFIX)/share/man/man8/ctrace-bpf.8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/ctrace-bpf

# A Debian package: the binary, the man page, the completion.
deb: $(OUTPUT)/ctrace-bpf
	$(Q)sh scripts/make-deb.sh $(OUTPUT)/ctrace-bpf $(OUTPUT)

# No root, no BPF toolchain, seconds: the parsers, naming (fixture events
# through resolve) and every report, against Lib/trace.py.
check: $(UNIT_BINS)
	$(Q)PYTHON=$(PYTHON_TARGET) bash tests/run-unit.sh $(UNIT_BINS)

unit: check

e2e: $(OUTPUT)/ctrace-bpf $(OUTPUT)/tests/sdt_target $(OUTPUT)/tests/embed
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		SDT_TARGET=$(CURDIR)/$(OUTPUT)/tests/sdt_target \
		EMBED=$(CURDIR)/$(OUTPUT)/tests/embed bash tests/run-e2e.sh

# the compare-with-trace cases kept as data: tests/cases/*.cases
cases: $(OUTPUT)/ctrace-bpf
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		bash tests/run-cases.sh

# the ptrace delivery's remote system call, on every pyenv CPython 3.8-3.13
ptrace: $(OUTPUT)/tests/ptcall_check
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		PTCALL=$(CURDIR)/$(OUTPUT)/tests/ptcall_check bash tests/run-ptrace.sh

# the collector delivered by ptrace into the pyenv CPythons, every mode
pyenv: $(OUTPUT)/ctrace-bpf $(OUTPUT)/tests/ptcall_check
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		PTCALL=$(CURDIR)/$(OUTPUT)/tests/ptcall_check bash tests/run-pyenv.sh

faults: $(OUTPUT)/ctrace-bpf $(OUTPUT)/tests/sdt_target
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		SDT_TARGET=$(CURDIR)/$(OUTPUT)/tests/sdt_target bash tests/run-faults.sh

# libFuzzer harnesses for every parser of untrusted bytes (not in make test:
# they run for minutes).  FUZZ_SECONDS per harness.
FUZZ_NAMES := pickle elf source analysis reply
FUZZ_BINS := $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_OBJS := $(patsubst user/%.c,$(OUTPUT)/fuzz/obj/%.o,$(USER_SRCS))
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-std=gnu11 -D_GNU_SOURCE -I$(OUTPUT) -Ibpf -Iuser $(PY_CFLAGS)

$(OUTPUT)/fuzz/obj/%.o: user/%.c $(GENERATED)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@

.SECONDARY: $(FUZZ_OBJS)
fuzz: $(FUZZ_BINS)
	$(Q)bash tests/fuzz/run.sh $(CURDIR)/$(OUTPUT)/fuzz

# Minutes of --count on a busy multi-threaded target (not in make test).
soak: $(OUTPUT)/ctrace-bpf
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		bash tests/soak.sh

# --gc, --imports and --audit on 3.11, and on 3.9 and 3.13 from the roots.
events: $(OUTPUT)/ctrace-bpf
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		ROOTS=$(CURDIR)/$(OUTPUT)/roots bash tests/run-events.sh

# Third-party programs from Debian's packages, launched, in venvs, by PID.
realworld: $(OUTPUT)/ctrace-bpf
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		ROOTS=$(CURDIR)/$(OUTPUT)/roots bash tests/run-realworld.sh

# Outputs for other tools, read by coverage.py, lcov, Graphviz, callgrind.
exports: $(OUTPUT)/ctrace-bpf
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		OUTPUT=$(CURDIR)/$(OUTPUT) bash tests/run-exports.sh

# Several processes: -p repeated, and -a.
multi: $(OUTPUT)/ctrace-bpf
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		ROOTS=$(CURDIR)/$(OUTPUT)/roots bash tests/run-multi.sh

# -a across hundreds of processes: one attachment per binary, --merge,
# --comm, --cgroup, semaphores after the end and after SIGKILL.
fleet: $(OUTPUT)/ctrace-bpf
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		ROOTS=$(CURDIR)/$(OUTPUT)/roots bash tests/run-fleet.sh

# The version matrix: Debian roots built with debootstrap, kept in build/.
roots: $(OUTPUT)/ctrace-bpf
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		ROOTS=$(CURDIR)/$(OUTPUT)/roots bash tests/run-roots.sh

# The Debian roots, built in the background while the tiers before roots
# run (debootstrap waits on the mirror, not on the cores).
ROOT_SUITES = bullseye:python3.9,python3-pyflakes,python3-yaml \
	trixie:python3.13 sid:python3.14,python3.15,python3-pyflakes,python3-yaml
roots-build:
	$(Q)for r in $(ROOT_SUITES); do \
		sh scripts/make-root.sh $${r%%:*} $(CURDIR)/$(OUTPUT)/roots/$${r%%:*} $${r#*:} || true; \
	done

# make test installs what it needs first, so a fresh machine passes too.
# Each tier prints its time, so a slow CI run says where the time went.
# A tier that hangs is ended (its whole process group), and says so by
# its time: the rest of CI's 90 minutes is not spent waiting on it.
TIER_TIMEOUT = 1200
TEST_TIERS = check e2e cases ptrace pyenv faults roots events multi fleet realworld exports
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)failed=; t0=$$(date +%s); \
	nice -n 19 ionice -c 3 $(MAKE) --no-print-directory roots-build \
		> $(OUTPUT)/roots-build.log 2>&1 & rb=$$!; \
	for t in $(TEST_TIERS); do \
		[ $$t != roots ] || { wait $$rb || cat $(OUTPUT)/roots-build.log; }; \
		s=$$(date +%s); \
		timeout -k 30 $(TIER_TIMEOUT) $(MAKE) --no-print-directory $$t || \
			failed="$$failed $$t"; \
		echo "# make $$t: $$(( $$(date +%s) - s )) s"; \
	done; echo "# make test: $$(( $$(date +%s) - t0 )) s"; \
	[ -z "$$failed" ] || { echo "# make test: failed:$$failed"; exit 1; }

bench: $(OUTPUT)/ctrace-bpf $(OUTPUT)/floor $(OUTPUT)/tests/sdt_target
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf \
		FLOOR=$(CURDIR)/$(OUTPUT)/floor ROOTS=$(CURDIR)/$(OUTPUT)/roots \
		SDT_TARGET=$(CURDIR)/$(OUTPUT)/tests/sdt_target \
		sh scripts/bench.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)PYTHON=$(PYTHON_TARGET) CTRACE=$(CURDIR)/$(OUTPUT)/ctrace-bpf sh scripts/demo.sh

format:
	clang-format -i user/*.[ch] user/*/*.[ch] bpf/*.c bpf/*.h tests/unit/*.c

clean:
	rm -rf $(OUTPUT)

$(OUTPUT)/tests/embed: tests/embed.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -g -Wall -Werror $(PY_CFLAGS) $< -o $@ $(PY_LIBS)
