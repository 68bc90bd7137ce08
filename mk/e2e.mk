# `make e2e`: the packaged function end to end (part of `make test` as an optional stage).
# tests/e2e/test_e2e.py unzips dist/audit_producer-x86_64.zip, runs its bootstrap as Lambda
# runs it (Lambda's environment and LD_LIBRARY_PATH) against the Runtime API stand-in,
# feeds it the real DynamoDB Streams records of a create, two updates and a delete made in
# moto (SigV4 verification on), and compares the Audit table with what docs/audit-format.md says
# (tests/golden/audit_model.py). It fails, never skips, when moto or the zip is missing.
# E2E_ARGS reach the script, e.g. E2E_ARGS="--keep-logs" or E2E_ARGS="deadline_near"
# (test names without their test_ prefix).
#
# tests/e2e/test_trail.py then reads the trail back: a scripted life of three items audited
# by the same zip in both formats, checked against the truth with `auditstream` (show,
# history, verify, backfill, its user errors). TRAIL_ARGS reach it as E2E_ARGS reach the
# first.
#
# tests/e2e/test_trust.py last: the same zip with AUDIT_CHAIN=on, actor, retention and
# redaction in both formats, redeliveries, the chains recomputed, every tampering found by
# `auditstream verify`, no secret in any log (TRUST_ARGS reach it). All three run even
# when one fails; the stage fails when any does.

E2E_PYTHON ?= python3
E2E_ZIP := dist/audit_producer-x86_64.zip
E2E_ARGS ?=
TRAIL_ARGS ?=
TRUST_ARGS ?=

.PHONY: e2e

e2e: package $(AUDITSTREAM)
	$(Q)rc=0; \
	$(E2E_PYTHON) tests/e2e/test_e2e.py --zip $(E2E_ZIP) $(E2E_ARGS) || rc=1; \
	$(E2E_PYTHON) tests/e2e/test_trail.py --zip $(E2E_ZIP) --cli $(AUDITSTREAM) $(TRAIL_ARGS) \
		|| rc=1; \
	$(E2E_PYTHON) tests/e2e/test_trust.py --zip $(E2E_ZIP) --cli $(AUDITSTREAM) $(TRUST_ARGS) \
		|| rc=1; \
	exit $$rc
