# `make check-canonical`, part of run-all's unit stage: the canonical form (lib/core/canonical.c)
# against an independent Python model (tests/support/canonical.py) over its vectors, events/ and
# random events; the chain's digests and links of every fixture's items (both formats) against
# the same model; and docs/trust.md's page of Python run on chains the C library made, whole and
# tampered. tests/canonical/canonical_dump.c prints the C forms, tests/canonical/chain_dump.c
# the chained items, tests/canonical/test_canonical.py and test_trust_page.py compare them
# (CANONICAL_ARGS, e.g. "--seed 7 --rounds 50", reach the first).

CANONICAL_PYTHON ?= python3
CANONICAL_DUMP := $(BUILD)/canonical/canonical_dump
CHAIN_DUMP := $(BUILD)/canonical/chain_dump
CANONICAL_ARGS ?=

$(BUILD)/canonical/%: tests/canonical/%.c $(STATIC_LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(STATIC_LIB) $(SAN) $(LIBS)

.PHONY: check-canonical
check-canonical: $(CANONICAL_DUMP) $(CHAIN_DUMP)
	$(Q)$(CANONICAL_PYTHON) tests/canonical/test_canonical.py --driver $(CANONICAL_DUMP) \
		--chain-driver $(CHAIN_DUMP) $(CANONICAL_ARGS)
	$(Q)$(CANONICAL_PYTHON) tests/canonical/test_trust_page.py --chain-driver $(CHAIN_DUMP)
