# Fuzzing: the libFuzzer targets of tests/fuzz/, built with clang, ASan and UBSan into
# build-fuzz/ (the library too, instrumented for coverage).
#   make fuzz          runs each target for FUZZ_SECONDS (default 60) from the seeds in
#                      events/ and tests/fuzz/corpus/; what crashes or disagrees is kept
#                      in tests/fuzz/regressions/ (and never deleted: fix the bug instead)
#   make fuzz-replay   runs every seed and every regression once through each target
#                      (part of `make test`)
# Extra libFuzzer flags go in FUZZ_ARGS, e.g. FUZZ_ARGS=-jobs=2.

FUZZ_CC ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_ARGS ?=
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -O1 -g \
               -fno-omit-frame-pointer $(FUZZ_SAN) -Iinclude -Ilib
FUZZ_TARGETS := fuzz_decode fuzz_differential fuzz_trail
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
FUZZ_LIB := $(FUZZ_BUILD)/libauditstream.a
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_SUPPORT := tests/support/reference_decoder.c tests/support/event_dump.c \
                tests/support/differential.c
FUZZ_SUPPORT_H := $(FUZZ_SUPPORT:.c=.h)

$(FUZZ_BUILD)/lib/%.o: lib/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	$(say) AR $@
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SUPPORT) $(FUZZ_SUPPORT_H) $(FUZZ_LIB) $(HEADERS)
	$(say) LINK $@
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Itests/support -o $@ $< $(FUZZ_SUPPORT) \
		$(FUZZ_LIB) $(LIBS)

fuzz: $(FUZZ_BINS)
	@FUZZ_ARGS="$(FUZZ_ARGS)" FUZZ_BUILD=$(FUZZ_BUILD) sh tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_BINS)

fuzz-replay: $(FUZZ_BINS)
	@sh tests/fuzz/run.sh replay 0 $(FUZZ_BINS)
