# `make integration`: the DynamoDB client against moto with SigV4 verification on (part of
# `make test`). tests/integration/test_ddb_moto.py starts moto on a free loopback port,
# sets up IAM, STS and the Audit table, and drives tests/integration/put_items.c through
# each scenario; it fails, never skips, when moto cannot start. INTEGRATION_ARGS reach the
# driver (e.g. INTEGRATION_ARGS="--keep-logs"). A sanitizer run of the same tests:
#   make integration CC=clang BUILD=build-san OPT="-O1 -g -fno-omit-frame-pointer" \
#       SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"

INTEGRATION_PYTHON ?= python3
INTEGRATION_DIR := $(BUILD)/integration
INTEGRATION_PUT_ITEMS := $(INTEGRATION_DIR)/put_items
INTEGRATION_READ_ITEMS := $(INTEGRATION_DIR)/read_items
INTEGRATION_ARGS ?=

.PHONY: integration

$(INTEGRATION_PUT_ITEMS): tests/integration/put_items.c $(STATIC_LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ tests/integration/put_items.c $(STATIC_LIB) \
		$(SAN) $(LIBS)

$(INTEGRATION_READ_ITEMS): tests/integration/read_items.c $(STATIC_LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ tests/integration/read_items.c $(STATIC_LIB) \
		$(SAN) $(LIBS)

# The hash chain over several invocations, checked with the pure verify.
INTEGRATION_CHAIN := $(INTEGRATION_DIR)/chain_batches

$(INTEGRATION_CHAIN): tests/integration/chain_batches.c $(STATIC_LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ tests/integration/chain_batches.c $(STATIC_LIB) \
		$(SAN) $(LIBS)

integration: $(INTEGRATION_PUT_ITEMS) $(INTEGRATION_READ_ITEMS) $(INTEGRATION_CHAIN)
	$(Q)$(INTEGRATION_PYTHON) tests/integration/test_ddb_moto.py --put-items $(INTEGRATION_PUT_ITEMS) \
		--read-items $(INTEGRATION_READ_ITEMS) $(INTEGRATION_ARGS)
	$(Q)$(INTEGRATION_PYTHON) tests/integration/test_chain_moto.py --chain-batches $(INTEGRATION_CHAIN)
