# `make infra-test`: the Terraform in infra/ checked offline (part of `make test` as an
# optional stage). tests/infra/test_infra.py runs terraform fmt and validate with the
# AWS provider from the machine's filesystem mirror (TF_PLUGIN_MIRROR overrides where),
# then applies, updates and destroys the root configuration against moto on loopback.
# It needs no zip from `make package` (it makes stand-ins). INFRA_TEST_ARGS reach the
# script, e.g. INFRA_TEST_ARGS="--keep" or INFRA_TEST_ARGS="fmt validate_root".

INFRA_PYTHON ?= python3
INFRA_TEST_ARGS ?=

.PHONY: infra-test

infra-test:
	$(INFRA_PYTHON) tests/infra/test_infra.py $(INFRA_TEST_ARGS)
