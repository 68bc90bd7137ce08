# `make check-canonical`, part of run-all's unit stage: the canonical form (lib/core/canonical.c)
# against an independent Python model (tests/support/canonical.py) over events/ and random
# events. tests/canonical/canonical_dump.c prints the C forms, tests/canonical/test_canonical.py
# compares them (CANONICAL_ARGS, e.g. "--seed 7 --rounds 50", reach it).

CANONICAL_PYTHON ?= python3
CANONICAL_DUMP := $(BUILD)/canonical/canonical_dump
CANONICAL_ARGS ?=

$(CANONICAL_DUMP): tests/canonical/canonical_dump.c $(STATIC_LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(STATIC_LIB) $(SAN) $(LIBS)

.PHONY: check-canonical
check-canonical: $(CANONICAL_DUMP)
	$(Q)$(CANONICAL_PYTHON) tests/canonical/test_canonical.py --driver $(CANONICAL_DUMP) \
		$(CANONICAL_ARGS)
