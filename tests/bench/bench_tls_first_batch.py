#!/usr/bin/env python3
# The first batch over TLS: how long a fresh function takes to write 100 items when every
# connection needs its handshake first, and how many handshakes it makes, in both write modes.
"""Run from the top of the tree (make bench does):

    bench_tls_first_batch.py --zip dist/audit_producer-x86_64.zip [--runs N]
                             [--concurrency 1,4,8,16] [--modes PutItem,BatchWriteItem]

A CA and a server certificate for IP:127.0.0.1 (P-256) are made with the openssl command in
a temporary folder (tests/e2e/harness.py's Pki); tests/soak/soak_server.py serves
DynamoDB's JSON protocol over TLS with them (no faults, no delay: a loopback endpoint
that answers at once), counting the connections it accepts and the handshakes it
completes. For each mode and AUDIT_CONCURRENCY, each run starts a fresh bootstrap from
the zip as Lambda does (AWS_CA_BUNDLE naming the CA), waits until it polls for its first
invocation (init is not timed), then times from queuing the event to the function's
answer:
  first   the first batch: 100 items (the first 100 records of
          events/bench-1000-mixed.json, AUDIT_FORMAT=detailed: one item a record), every
          connection opened and its TLS handshake made on the way;
  warm    the same batch delivered again to the same process: the connections kept alive.
and counts the handshakes the first batch made against the requests it sent. The first
batch must open at most min(concurrency, requests) connections (tests/e2e/test_e2e.py
asserts it in make test; here a run that opens more is marked "OVER"). Runs take turns
(every configuration once, then again) so that a busy machine slows them alike; medians
are what to compare. Python 3 standard library and the openssl command. Reports; never
judges on a time.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.dont_write_bytecode = True
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
sys.path.insert(0, os.path.join(TOP, "tests", "soak"))

import harness  # noqa: E402
import soak_server  # noqa: E402

EVENT_1000 = os.path.join(TOP, "events", "bench-1000-mixed.json")
ITEMS = 100


class BenchError(Exception):
    pass


def first_records(n):
    with open(EVENT_1000, "rb") as f:
        doc = json.loads(f.read())
    return json.dumps({"Records": doc["Records"][:n]}, ensure_ascii=False,
                      separators=(",", ":")).encode()


def wait_polling(fn, timeout_s=20):
    """Until the function's first GET /invocation/next has reached the stand-in."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if any(r["kind"] == "next" for r in fn.standin.results()["requests"]):
            return
        if not fn.alive():
            break
        time.sleep(0.005)
    raise BenchError(f"{fn.name}: no GET /invocation/next within {timeout_s} s: "
                     f"{fn.log_tail()}")


def function_handshakes(before, after):
    """Handshakes between two stats reads, less those of the control calls."""
    return ((after["handshakes"] - before["handshakes"])
            - (after["control_connections"] - before["control_connections"]))


def last_summary(fn):
    lines = [line for line in fn.log_lines()
             if str(line.get("message", "")).startswith("batch ") and "duration_ms" in line]
    if not lines:
        raise BenchError(f"{fn.name}: no summary line: {fn.log_tail()}")
    return lines[-1]


def one_run(task, server, pki, workdir, event, mode, concurrency, label):
    server.reset()
    fn = harness.Function(task, workdir, label, {
        "AUDIT_TABLE": "Audit", "AUDIT_FORMAT": "detailed", "AUDIT_WRITE_API": mode,
        "AUDIT_CONCURRENCY": str(concurrency), "AWS_ACCESS_KEY_ID": "AKIDBENCHTLS0000001",
        "AWS_SECRET_ACCESS_KEY": "bench/tls/secret", "AWS_CA_BUNDLE": pki.ca,
        "AWS_ENDPOINT_URL_DYNAMODB": server.endpoint, "AWS_LAMBDA_LOG_FORMAT": "JSON"})
    try:
        wait_polling(fn)
        s0 = server.stats()
        t0 = time.monotonic()
        post = fn.invoke(event, timeout_s=120, timeout_ms=600000)
        first_ms = (time.monotonic() - t0) * 1000
        s1 = server.stats()
        t1 = time.monotonic()
        again = fn.invoke(event, timeout_s=120, timeout_ms=600000)
        warm_ms = (time.monotonic() - t1) * 1000
        s2 = server.stats()
        for p in (post, again):
            if p["kind"] != "response" or p["json"] != {"batchItemFailures": []}:
                raise BenchError(f"{label}: answer {p['kind']} {p['body'][:300]}")
        summary = last_summary(fn)
        if summary.get("items") != ITEMS or summary.get("written") != ITEMS:
            raise BenchError(f"{label}: summary {summary}")
        if len(set(server.new_writes())) != ITEMS:
            raise BenchError(f"{label}: the server did not get {ITEMS} distinct ids")
        requests = sum(s1["requests"].values()) - sum(s0["requests"].values())
        return {"first_ms": first_ms, "warm_ms": warm_ms, "requests": requests,
                "handshakes": function_handshakes(s0, s1),
                "warm_handshakes": function_handshakes(s1, s2),
                "errors": s2["handshake_errors"]}
    finally:
        fn.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zip", default=os.path.join(TOP, "dist", "audit_producer-x86_64.zip"))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--concurrency", default="1,4,8,16")
    ap.add_argument("--modes", default="PutItem,BatchWriteItem")
    ap.add_argument("--time", help="ignored (BENCH_ARGS of the C benchmarks)")
    ap.add_argument("--rounds", type=int, help="runs of each configuration (as --runs)")
    args, _ = ap.parse_known_args()
    runs = args.rounds or args.runs
    modes = args.modes.split(",")
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    workdir = tempfile.mkdtemp(prefix="auditstream-bench-tls.")
    server = None
    try:
        pki = harness.Pki(workdir)
        task = harness.Task(args.zip, workdir)
        server = soak_server.Process(os.path.join(workdir, "server.err"),
                                     tls=(pki.cert, pki.key), cafile=pki.ca)
        event = first_records(ITEMS)
        results = {(m, c): [] for m in modes for c in concurrencies}
        for r in range(runs):
            for m in modes:
                for c in concurrencies:
                    results[(m, c)].append(one_run(task, server, pki, workdir, event, m, c,
                                                   f"{m}-c{c}-{r}"))
        print(f"first batch over TLS: {ITEMS} items, loopback endpoint answering at once, "
              f"P-256 certificate; {runs} runs each, fresh process each run; "
              f"medians (min-max) in ms")
        print(f"{'mode':<15}{'c':>3}{'requests':>9}{'handshakes':>11}{'bound':>6}"
              f"{'first batch':>22}{'warm batch':>22}{'first - warm':>13}")
        for m in modes:
            for c in concurrencies:
                rs = results[(m, c)]
                first = [x["first_ms"] for x in rs]
                warm = [x["warm_ms"] for x in rs]
                hs = sorted({x["handshakes"] for x in rs})
                req = sorted({x["requests"] for x in rs})
                bound = min(c, max(req))
                over = " OVER" if max(hs) > bound else ""
                print(f"{m:<15}{c:>3}{'/'.join(map(str, req)):>9}"
                      f"{'/'.join(map(str, hs)):>11}{bound:>6}"
                      f"{statistics.median(first):>9.1f} ({min(first):.1f}-{max(first):.1f})"
                      f"{statistics.median(warm):>9.1f} ({min(warm):.1f}-{max(warm):.1f})"
                      f"{statistics.median(first) - statistics.median(warm):>13.1f}{over}")
                if any(x["warm_handshakes"] for x in rs) or any(x["errors"] for x in rs):
                    print(f"  {m} c={c}: handshakes on the warm batch "
                          f"{[x['warm_handshakes'] for x in rs]}, failed handshakes "
                          f"{[x['errors'] for x in rs]}")
        print(f"machine: {os.cpu_count()} CPUs, load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    except (BenchError, harness.SetupError, RuntimeError) as e:
        print(f"bench_tls_first_batch: {e}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
