# libauditstream: every entry point. `make` builds the libraries and the bootstrap;
# `make test` is what CI runs; `make demo`, `bench`, `fuzz`, `install` as README says.

CC ?= cc
PREFIX ?= /usr/local
BUILD ?= build

# Quiet by default: one short line per step; `make V=1` prints the full commands.
ifeq ($(V),1)
Q :=
say := @true
else
Q := @
say := @printf '  %-7s %s\n'
endif

# The version lives in include/auditstream/version.h alone; everything else reads it.
version_part = $(shell sed -n 's/^.define AS_VERSION_$(1) *\([0-9][0-9]*\)$$/\1/p' \
                 include/auditstream/version.h)
VERSION := $(call version_part,MAJOR).$(call version_part,MINOR).$(call version_part,PATCH)
ifneq ($(words $(subst ., ,$(VERSION))),3)
$(error cannot read AS_VERSION_MAJOR/MINOR/PATCH from include/auditstream/version.h)
endif
# While the major version is 0 the soname is libauditstream.so.0: 0.x makes no ABI promise.
SOVERSION := $(firstword $(subst ., ,$(VERSION)))

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Wpointer-arith -Wcast-qual -Wundef
OPT ?= -O2 -g
SAN ?=
BASE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(OPT) $(SAN) \
               -Iinclude -Ilib
LIBS := -lcurl -ljansson -lcrypto
CORE_LIBS := -lcrypto

# The library's three layers (README, "Layout"): lib/core is pure and links libcrypto
# alone; lib/aws adds the SigV4 signer and the DynamoDB client (curl, jansson); lib/lambda
# adds the runtime client and the function's batch, configuration and logs.
CORE_SRC := $(wildcard lib/core/*.c)
LIB_SRC := $(CORE_SRC) $(wildcard lib/aws/*.c lib/lambda/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CORE_PIC_OBJ := $(CORE_SRC:%.c=$(BUILD)/pic/%.o)
PIC_OBJ := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
HEADERS := $(wildcard include/*.h include/auditstream/*.h lib/*/*.h)

STATIC_LIB := $(BUILD)/libauditstream.a
SHARED_LIB := $(BUILD)/libauditstream.so.$(VERSION)
CORE_STATIC_LIB := $(BUILD)/libauditstream-core.a
CORE_SHARED_LIB := $(BUILD)/libauditstream-core.so.$(VERSION)
BOOTSTRAP := $(BUILD)/bootstrap
# auditstream, the trail's reader (cli/): its modules but main.c are also linked into the
# unit tests named test_cli_*.
AUDITSTREAM := $(BUILD)/auditstream
CLI_SRC := $(wildcard cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
CLI_LIB_OBJ := $(filter-out $(BUILD)/cli/main.o,$(CLI_OBJ))
CLI_HEADERS := $(wildcard cli/*.h)
CLI_ARCHIVE := $(BUILD)/cli/libcli.a

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_SUPPORT := $(wildcard tests/support/*.c)

.PHONY: all deps lib test unit check-unit sanitize valgrind clang fuzz-replay fuzz \
        install-test examples-test install bench demo clean

all: lib $(BOOTSTRAP) $(AUDITSTREAM)

lib: $(STATIC_LIB) $(SHARED_LIB) $(CORE_STATIC_LIB) $(CORE_SHARED_LIB)

# Installs the build and test dependencies from Debian when any is missing.
deps:
	@sh tests/install-deps.sh

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/pic/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -fPIC -c $< -o $@

$(STATIC_LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(say) AR $@
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(CORE_STATIC_LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(say) AR $@
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(CORE_SHARED_LIB): $(CORE_PIC_OBJ)
	$(say) LINK $@
	$(Q)$(CC) -shared -Wl,-soname,libauditstream-core.so.$(SOVERSION) -Wl,--as-needed $(SAN) -o $@ $^ \
		$(CORE_LIBS)
	$(Q)ln -sf libauditstream-core.so.$(VERSION) $(BUILD)/libauditstream-core.so.$(SOVERSION)
	$(Q)ln -sf libauditstream-core.so.$(VERSION) $(BUILD)/libauditstream-core.so

$(SHARED_LIB): $(PIC_OBJ)
	$(say) LINK $@
	$(Q)$(CC) -shared -Wl,-soname,libauditstream.so.$(SOVERSION) -Wl,--as-needed $(SAN) -o $@ $^ \
		$(LIBS)
	$(Q)ln -sf libauditstream.so.$(VERSION) $(BUILD)/libauditstream.so.$(SOVERSION)
	$(Q)ln -sf libauditstream.so.$(VERSION) $(BUILD)/libauditstream.so

$(BOOTSTRAP): handler/bootstrap.c $(STATIC_LIB) $(HEADERS)
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ handler/bootstrap.c $(STATIC_LIB) $(SAN) $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(TEST_SUPPORT) $(STATIC_LIB) $(HEADERS) $(wildcard tests/support/*.h)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -Itests/support -o $@ $< $(TEST_SUPPORT) $(STATIC_LIB) \
		$(SAN) -lcmocka $(LIBS)

$(BUILD)/cli/%.o: cli/%.c $(HEADERS) $(CLI_HEADERS)
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -c $< -o $@

$(AUDITSTREAM): $(CLI_OBJ) $(STATIC_LIB)
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $(CLI_OBJ) $(STATIC_LIB) $(SAN) $(LIBS)

$(CLI_ARCHIVE): $(CLI_LIB_OBJ)
	$(say) AR $@
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/tests/test_cli_%: tests/unit/test_cli_%.c $(CLI_ARCHIVE) $(TEST_SUPPORT) $(STATIC_LIB) \
		$(HEADERS) $(CLI_HEADERS) $(wildcard tests/support/*.h)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -Itests/support -Icli -o $@ $< $(CLI_ARCHIVE) \
		$(TEST_SUPPORT) $(STATIC_LIB) $(SAN) -lcmocka $(LIBS)

unit: $(UNIT_BIN) $(BOOTSTRAP) $(AUDITSTREAM)

# Runs every unit test binary from the top of the tree (they read events/ and tests/vectors/).
check-unit: unit
	@sh tests/run-unit.sh $(BUILD)/tests

# The allocation-failure stage (tests/alloc, tests/support/alloc_fail.h): the n-th
# allocation fails for every n. Each tests/alloc/test_*.c is one program, linked with
# --wrap so that only calls made from the static library and the test are counted; works
# with SAN= (tests/alloc/run.sh, run-all's stage, runs it plain and under ASan). Then the
# compile-time checks of the error convention (tests/alloc/result-types.sh). ALLOC_ARGS
# reach every program (--all: the 1,000-record event too).
ALLOC_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=strdup,--wrap=strndup
ALLOC_SRC := $(wildcard tests/alloc/test_*.c)
ALLOC_BIN := $(ALLOC_SRC:tests/alloc/%.c=$(BUILD)/tests/alloc/%)
ALLOC_ARGS ?=

$(BUILD)/tests/alloc/%: tests/alloc/%.c tests/support/alloc_fail.c tests/support/alloc_fail.h \
		$(STATIC_LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -Itests/support -o $@ $< tests/support/alloc_fail.c \
		$(STATIC_LIB) $(SAN) $(ALLOC_WRAP) $(LIBS)

.PHONY: check-alloc
check-alloc: $(ALLOC_BIN)
	@for b in $(ALLOC_BIN); do echo "==== $$b"; $$b $(ALLOC_ARGS) || exit 1; done
	@sh tests/alloc/result-types.sh $(CC)

# The same for the real bootstrap process (tests/alloc/bootstrap-alloc.sh): an LD_PRELOAD
# shim fails its n-th allocation, libcurl's and libcrypto's included, on --print and on an
# invocation against the Runtime API stand-in and the fault-injecting DynamoDB. Not with
# SAN= (ASan brings its own allocator).
$(BUILD)/tests/alloc/failmalloc.so: tests/alloc/failmalloc.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) -std=c11 $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl

.PHONY: check-alloc-bootstrap
check-alloc-bootstrap: $(BOOTSTRAP) $(BUILD)/tests/alloc/failmalloc.so
	@sh tests/alloc/bootstrap-alloc.sh $(BUILD)

# The whole suite: what README tells a newcomer to type and what CI runs.
test: deps
	@sh tests/run-all.sh

sanitize:
	$(MAKE) CC=clang BUILD=build-san OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" check-unit

valgrind: unit
	@sh tests/run-unit.sh $(BUILD)/tests valgrind

clang:
	$(MAKE) CC=clang BUILD=build-clang all unit

# Writes pkg-config file $(2).pc from template $(1), linking with $(3).
define install_pc
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@NAME@|$(2)|' \
		-e 's|@LIBS@|$(3)|' $(1) > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$(2).pc
endef

# Writes CMake file $(1) from cmake/$(1).in (the config finds its prefix on its own).
define install_cmake
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@SOVERSION@|$(SOVERSION)|' cmake/$(1).in \
		> $(DESTDIR)$(PREFIX)/lib/cmake/auditstream/$(1)
endef

# Both libraries (the whole one and the core), shared and static, with a pkg-config file
# for each form and a CMake package with an imported target for each (README, "Using the
# library"), and the auditstream command in bin/.
install: lib $(AUDITSTREAM)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/auditstream \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/cmake/auditstream
	install -m 755 $(AUDITSTREAM) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 include/auditstream.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/auditstream/*.h $(DESTDIR)$(PREFIX)/include/auditstream/
	install -m 644 $(STATIC_LIB) $(CORE_STATIC_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED_LIB) $(CORE_SHARED_LIB) $(DESTDIR)$(PREFIX)/lib/
	for lib in libauditstream libauditstream-core; do \
		ln -sf $$lib.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$$lib.so.$(SOVERSION) && \
		ln -sf $$lib.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$$lib.so || exit 1; \
	done
	$(call install_pc,auditstream.pc.in,auditstream,-L$${libdir} -lauditstream)
	$(call install_pc,auditstream.pc.in,auditstream-static,$${libdir}/libauditstream.a)
	$(call install_pc,auditstream-core.pc.in,auditstream-core,-L$${libdir} -lauditstream-core)
	$(call install_pc,auditstream-core.pc.in,auditstream-core-static,$${libdir}/libauditstream-core.a)
	$(call install_cmake,auditstream-config.cmake)
	$(call install_cmake,auditstream-config-version.cmake)

install-test: $(BOOTSTRAP)
	@BOOTSTRAP=$(BOOTSTRAP) sh tests/install-test.sh

# examples/ built against a temporary install (pkg-config and CMake) and run against the
# Runtime API stand-in and moto (tests/examples-test.sh).
examples-test:
	@sh tests/examples-test.sh

clean:
	rm -rf build build-san build-clang build-fuzz dist

# Entry points that live beside the code they drive (fuzzing, benchmarks).
include $(wildcard mk/*.mk)

# README's first command: the packaged function end to end on loopback (moto, the Runtime
# API stand-in, real stream records of a create, two updates and a delete), the Audit table,
# then the item's trail read back with auditstream (history, show --at); everything it
# starts is stopped, on Ctrl-C too (tests/demo/demo.py).
demo: deps package $(AUDITSTREAM)
	@python3 tests/demo/demo.py --zip dist/audit_producer-x86_64.zip --cli $(AUDITSTREAM)
