# vipd - floating-IP daemon speaking VRRPv3.
#
#   make            build vipd and vipctl into build/
#   make check      install deps, build, run unit + network tests (as root)
#   make check SANITIZE=1   the same under ASan + UBSan (build-san/)
#   make demo       three hosts in network namespaces, watch the VIP move
#   make bench      failover / CPU / memory table, vipd next to keepalived
#   make e2e        the seeds' HA PostgreSQL clusters (001: Patroni behind two
#                   HAProxy LBs; 000: all-in-one db nodes; 002: a pair without
#                   Patroni; 004: Patroni + ZooKeeper behind HAProxy) in
#                   namespaces, faults injected under a writing client:
#                   outage / lost writes, vipd next to keepalived (root)
#   make e2e E2E=seed001-haproxy-kill   one scenario (comma-separated list;
#                   E2E_COLUMNS=vipd,vipd-1s,keepalived; E2E=--list names them;
#                   E2E=seed000 or seed001,seed004: every scenario of a seed;
#                   seed003 runs only when named)
#   make soak       the fault tests' long versions (root; not in make check):
#                   a 10-minute soak (SOAK_TIME=600, seconds), 60 s of 5 % and
#                   20 % VRRP loss, 100 rounds of kill -9 of the Master's vipd
#   make fuzz       build the libFuzzer targets (clang, build-fuzz/) and run
#                   each FUZZ_TIME seconds (default 180); fails on a crash
#   make fuzz-smoke the same, 30 s each (what .ci/run runs)
#   make deps       apt-get install what the build and the tests need
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/vipd
PYTHON   ?= /usr/bin/python3
CC       ?= cc
# libcurl, libpq and libmicrohttpd are not linked: checks/dl.c loads them
# with dlopen() when an http or pgsql check (or metrics_listen) is configured
# (glibc >= 2.34 has dlopen in libc), so only their headers are needed here.
PKGS     := inih libnl-3.0 libnl-route-3.0 libcap-ng
PKGS_DL  := libcurl libpq libmicrohttpd
VERSION  := 0.1.0

ifeq ($(FUZZ),1)
# The fuzz targets' build (make fuzz): clang, libFuzzer's coverage
# counters in every object, ASan + UBSan, its own directory.
BUILD    ?= build-fuzz
OPT      := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=all
LDSAN    := -fsanitize=fuzzer,address,undefined
else ifeq ($(SANITIZE),1)
BUILD    ?= build-san
OPT      := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN    := -fsanitize=address,undefined
else
BUILD    ?= build
OPT      := -O2 -g
LDSAN    :=
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(PKGS_DL) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   += -std=gnu11 $(OPT) -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	    -Wmissing-prototypes -D_GNU_SOURCE -DVIPD_VERSION='"$(VERSION)"' -iquote . $(PKG_CFLAGS)
LDLIBS   += $(PKG_LIBS)
LDFLAGS  += $(LDSAN)

# Objects live in $(BUILD)/obj/, programs in $(BUILD)/.
# Everything but the two programs' main files goes into one archive; a
# program or test pulls only the objects it needs from it.
LIB_SRCS := $(filter-out vipd/main.c vipd/vipctl.c,$(wildcard vipd/*.c)) \
	    $(wildcard netlink/*.c) $(wildcard checks/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libvipd.a

# Unit tests: tests/unit/test_NAME.c, each linked with the archive; the
# linker pulls only the members that resolve what the test leaves undefined,
# so a fake the test defines itself stands in for the archive's version.
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

# Fuzz targets: tests/fuzz/fuzz_NAME.c, linked like the unit tests (with
# libFuzzer's main instead of cmocka), seeds in tests/fuzz/corpus/NAME/.
# FUZZ_LDFLAGS_NAME adds link flags for one target.
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 180
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
FUZZ_BINS  := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
# kaparse's `include` globs the file system: fuzz_kaimport answers it.
FUZZ_LDFLAGS_kaimport := -Wl,--wrap=glob,--wrap=globfree
# User names from a table of fuzz_conf's, not NSS (which may use sockets).
FUZZ_LDFLAGS_conf := -Wl,--wrap=getpwnam,--wrap=getpwuid
# The control commands' replies, reload and drain's state file: fuzz_ctl's.
FUZZ_LDFLAGS_ctl := -Wl,--wrap=ctl_printf,--wrap=ctl_write,--wrap=ctl_end,--wrap=ctl_on_gone \
	-Wl,--wrap=reload_apply,--wrap=drain_save

.PHONY: all deps check unit nettest demo bench e2e soak help install clean format valgrind \
	fuzz fuzz-smoke fuzz-build
all: $(BUILD)/vipd $(BUILD)/vipctl

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/vipd: $(BUILD)/obj/vipd/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/vipctl: $(BUILD)/obj/vipd/vipctl.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Keep test objects: they are intermediate files to make, but rebuilding
# them on every run is wasted work.
.SECONDARY:
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/fuzz/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(FUZZ_LDFLAGS_$*) -o $@ $^ $(LDLIBS)

# The fuzz build is a make of its own with FUZZ=1 (its BUILD, CC, OPT);
# make fuzz-build builds the targets without running them.
fuzz-build: deps
	@$(MAKE) --no-print-directory FUZZ=1 CC=$(FUZZ_CC) \
		$(FUZZ_NAMES:%=build-fuzz/fuzz/fuzz_%)

fuzz: fuzz-build
	@sh tests/fuzz/run.sh build-fuzz $(FUZZ_TIME) $(FUZZ_NAMES)

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=30

# Install what the build and the tests need (Debian). A no-op when present.
deps:
	@sh tests/deps.sh

unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(UNIT_BINS)

nettest: all
	@VIPD_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) -m pytest -q -p no:cacheprovider tests/net

# Under the sanitizers the fault tests and the hung-check tests run shorter
# (10 s of adverts instead of 30 s): that pass is after
# memory errors, the plain one measures.
FAULT_SHORT := VIPD_FAULT_LOSS_S=10 VIPD_FAULT_CRASH_ROUNDS=10 VIPD_FAULT_FLAP_S=5 SOAK_TIME=15 \
	       VIPD_HUNG_CHECK_SECONDS=10

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@$(if $(filter 1,$(SANITIZE)),$(FAULT_SHORT)) VIPD_BUILD=$(CURDIR)/$(BUILD) PYTHON=$(PYTHON) \
	    sh tests/run-all.sh $(UNIT_BINS)

valgrind: all $(UNIT_BINS)
	@VIPD_BUILD=$(CURDIR)/$(BUILD) sh tests/valgrind.sh $(UNIT_BINS)

demo: deps
	@$(MAKE) --no-print-directory all
	@VIPD_BUILD=$(CURDIR)/$(BUILD) sh examples/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@VIPD_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) tests/bench/bench.py $(BENCH_ARGS)

E2E_COLUMNS ?= vipd,vipd-1s,keepalived
e2e:
	@sh tests/deps.sh --e2e
	@$(MAKE) --no-print-directory all
	@VIPD_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) tests/e2e/e2e.py --columns $(E2E_COLUMNS) $(E2E)

# The fault tests of make check, long: tests/net/test_soak.py for SOAK_TIME
# seconds, test_lossy.py over 60 s, test_crash_loop.py for 100 rounds.
SOAK_TIME ?= 600
soak: deps
	@$(MAKE) --no-print-directory all
	@cd tests/net && SOAK_TIME=$(SOAK_TIME) VIPD_FAULT_LOSS_S=60 VIPD_FAULT_CRASH_ROUNDS=100 \
		VIPD_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) -m pytest -q -s -rfE -p no:cacheprovider \
		test_soak.py test_lossy.py test_crash_loop.py test_flap.py test_partition.py

help:
	@sed -n 's/^#   //p; s/^#                   /                /p' Makefile | sed -n '/^make/,$$p' | head -40

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(BUILD)/vipd $(BUILD)/vipctl $(DESTDIR)$(SBINDIR)/
	install -m 0644 man/vipd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/vipd.8 man/vipctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 examples/*.conf examples/vipd.service $(DESTDIR)$(DOCDIR)/examples/

format:
	clang-format -i vipd/*.[ch] netlink/*.[ch] $(wildcard checks/*.[ch]) tests/unit/*.c \
		tests/fuzz/*.[ch]

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
