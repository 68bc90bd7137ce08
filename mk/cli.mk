# `make cli-test`: auditstream (cli/) against moto with SigV4 verification on (part of
# `make test`). tests/cli/test_cli_moto.py starts moto on a free loopback port, writes
# audit items that `bootstrap --print` builds, and checks history, show, verify and
# backfill (tables and --json) and every user error's exact line and exit status 2. It
# fails, never skips, when moto cannot start. CLI_TEST_ARGS reach the script, e.g.
# CLI_TEST_ARGS="--keep user_errors" (test names without their test_ prefix).

CLI_TEST_PYTHON ?= python3
CLI_TEST_ARGS ?=

.PHONY: cli-test

cli-test: $(AUDITSTREAM) $(BOOTSTRAP)
	$(Q)$(CLI_TEST_PYTHON) tests/cli/test_cli_moto.py --cli $(AUDITSTREAM) --bootstrap $(BOOTSTRAP) \
		$(CLI_TEST_ARGS)
