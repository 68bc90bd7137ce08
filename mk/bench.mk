# `make bench`: throughput reports, not tests (nothing here fails on a slow number).
# Each tests/bench/bench_<family>.c is one program linked with the shared timing.c;
# `make bench` builds and runs them all, then tests/bench/bench_history.py (`auditstream
# history` of a 1,000-entry trail against moto), then tests/bench/bench_lambda.py, which starts
# the packaged bootstrap (dist/audit_producer-x86_64.zip, remade first) the way Lambda
# does: init time, cold start against moto, peak RSS; then tests/bench/bench_tls_first_batch.py
# (the same zip's first batch over TLS: handshakes and time, both write modes). BENCH_ARGS
# reach every program
# (e.g. BENCH_ARGS="--time 5 --rounds 9"). BENCHMARKS.md holds the results.

PYTHON ?= python3
BENCH_DIR := $(BUILD)/bench
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BENCH_DIR)/%)
BENCH_SUPPORT := tests/bench/timing.c
BENCH_EVENTS := events/bench-1000-mixed.json
BENCH_ARGS ?=

# The generated events are checked in: made only when missing, never remade because
# the generator is newer (its output is the same bytes anyway).
$(BENCH_EVENTS):
	$(PYTHON) tests/bench/gen_events.py $@

$(BENCH_DIR)/%: tests/bench/%.c $(BENCH_SUPPORT) tests/bench/timing.h $(STATIC_LIB) $(HEADERS)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -Itests/bench -o $@ $< $(BENCH_SUPPORT) $(STATIC_LIB) \
		$(SAN) $(LIBS)

# bench_lambda.py's floor: exec, connect and GET, and nothing else (libc only).
BENCH_PROBE := $(BENCH_DIR)/runtime_probe

$(BENCH_PROBE): tests/bench/runtime_probe.c
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $<

bench: $(BENCH_BIN) $(BENCH_EVENTS) $(BENCH_PROBE) $(BOOTSTRAP) $(AUDITSTREAM)
	@for b in $(BENCH_BIN); do echo "==== $$b"; $$b $(BENCH_ARGS) || exit 1; done
	@echo "==== tests/bench/bench_history.py"
	$(Q)$(PYTHON) tests/bench/bench_history.py --auditstream $(AUDITSTREAM) \
		--bootstrap $(BOOTSTRAP) $(BENCH_ARGS)
	$(Q)$(MAKE) --no-print-directory package-x86_64
	@echo "==== tests/bench/bench_lambda.py"
	$(Q)$(PYTHON) tests/bench/bench_lambda.py --zip dist/audit_producer-x86_64.zip \
		--bootstrap $(BOOTSTRAP) --probe $(BENCH_PROBE) $(BENCH_ARGS)
	@echo "==== tests/bench/bench_tls_first_batch.py"
	$(Q)$(PYTHON) tests/bench/bench_tls_first_batch.py --zip dist/audit_producer-x86_64.zip \
		$(BENCH_ARGS)
