# `make soak` (not part of `make test`): the packaged function (dist/audit_producer-x86_64.zip,
# remade first) through 10,000 invocations in one process for each write mode, PutItem and
# BatchWriteItem, against tests/soak/soak_server.py (fault_server.py with 5% of requests
# faulted at random): nothing lost, VmRSS flat after the warm-up, descriptors steady.
# About 14 minutes on two shared cores; SOAK_ARGS reach tests/soak/soak.py (e.g. "--invocations
# 2000", "--modes BatchWriteItem", "--keep-logs"). BENCHMARKS.md records a run.

SOAK_PYTHON ?= python3
SOAK_ARGS ?=

.PHONY: soak

soak: deps
	$(Q)$(MAKE) --no-print-directory package-x86_64
	$(Q)$(SOAK_PYTHON) tests/soak/soak.py --zip dist/audit_producer-x86_64.zip $(SOAK_ARGS)
