#!/usr/bin/env python3
# `make soak`: the packaged bootstrap through 10,000 invocations in one process per write
# mode, 5% of DynamoDB requests faulted: nothing lost, memory and descriptors flat.
"""Run: soak.py --zip dist/audit_producer-x86_64.zip [--invocations N] [--modes ...]

For each write mode (AUDIT_WRITE_API=PutItem, then BatchWriteItem) one bootstrap from the
zip, run as Lambda runs it (tests/e2e/harness.py's Task and Function: the zip unzipped
into a /var/task stand-in, Lambda's environment and LD_LIBRARY_PATH, the Runtime API
stand-in tests/support/runtime_standin.py), writing to tests/soak/soak_server.py (the
fault-injecting DynamoDB of tests/support/fault_server.py with a seeded 5% of requests
throttled, answered 500, reset, or, for BatchWriteItem, answered with some or all items
unprocessed). Default settings otherwise: classic format, AUDIT_CONCURRENCY 8, 3 attempts.

The invocations: batches of fresh records (tests/bench/gen_events.py's 1,000-record
history, cycled, each record given a new eventID and the next sequence number), sizes
drawn from a seeded mix up to 1,000 records (the first batch is 1,000, so that the
warm-up sees the largest); a batch answered with batchItemFailures is delivered again
from the reported record on, and one that failed whole (AuditWriteFailed) again whole,
as Lambda does; those deliveries count among the invocations.

What must hold, each checked as it happens and at the end:
  nothing lost   after each answer, every item the model (tests/golden/audit_model.py)
                 expects of each record before the reported one (of all, when none is
                 reported) is in the server's log of written ids; at the end the set of
                 written ids is the model's exactly. The model runs once over the
                 1,000-record history; a record's ids are its template's with the new
                 eventID, and that shortcut is itself checked against the model run on
                 the exact bytes of every 500th payload.
  accounting     the requests the server received equal the sum of the summary lines'
                 requests, and the items it returned unprocessed their unprocessed.
  memory         VmRSS sampled every 500 invocations grows by less than 1 MB from the
                 end of the warm-up (1,000 invocations) to any later sample.
  descriptors    the open descriptors other than the connections to DynamoDB (files,
                 the Runtime API's connection, curl's socket pairs) are the same at every
                 sample, and the connections to DynamoDB (told apart by their peer port in
                 /proc/PID/net/tcp) never more than AUDIT_CONCURRENCY: a fault may close
                 one, and the next request that needs it opens it again.
Prints a line per sample and a summary per mode; exits 1 when anything failed.
"""

import argparse
import collections
import json
import os
import random
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
sys.path.insert(0, os.path.join(TOP, "tests", "bench"))
sys.path.insert(0, HERE)

import gen_events  # noqa: E402
import harness  # noqa: E402
import soak_server  # noqa: E402
CONCURRENCY = 8
RSS_MAX_GROWTH_KB = 1024
INVOKE_TIMEOUT_MS = 600000  # Lambda's deadline, never the reason a batch stops here
MAX_DELIVERIES = 20  # of one record: more means it is stuck, not unlucky


class SoakFailure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise SoakFailure(message)


def batch_size(rng):
    """Mostly small batches, as a stream mostly delivers, and a tail to 1,000: 78% 1-10
    records, 19% 11-100, 2.5% 101-500, 0.5% 501-1,000 (26 on average; with the classic
    format's 1.4 items a record, about 360,000 items a mode). Chosen so that both modes
    take under 15 minutes on two shared cores (13.7 at load 4 to 7), most of it the
    Python servers'."""
    r = rng.random()
    if r < 0.78:
        return rng.randint(1, 10)
    if r < 0.97:
        return rng.randint(11, 100)
    if r < 0.995:
        return rng.randint(101, 500)
    return rng.randint(501, 1000)


class Templates:
    """gen_events.py's 1,000 records, and the id suffixes ("" or "/<attribute>") of the
    items the model gives each one."""

    def __init__(self, workdir):
        self.records = gen_events.generate()["Records"]
        event = json.dumps({"Records": self.records}, ensure_ascii=False,
                           separators=(",", ":")).encode()
        items = harness.model_items(event, "classic", workdir, "templates")
        by_id = {}
        for n, rec in enumerate(self.records):
            names = set()
            for image in ("OldImage", "NewImage"):
                names.update(rec["dynamodb"].get(image, {}))
            by_id[harness.audit_id(rec["eventID"])] = (n, "")
            for name in names:
                by_id[harness.audit_id(rec["eventID"] + "/" + name)] = (n, "/" + name)
        self.suffixes = [[] for _ in self.records]
        for item_id, _, _ in items:
            check(item_id in by_id, f"a model item id {item_id} matches no record")
            n, suffix = by_id[item_id]
            self.suffixes[n].append(suffix)
        self.items = len(items)


class Source:
    """Fresh records in stream order: template, eventID, sequence number, expected ids."""

    def __init__(self, templates, seed):
        self.t = templates
        self.rng = random.Random(seed)
        self.count = 0
        self.seq = 500000000000000000000

    def take(self, n):
        out = []
        for _ in range(n):
            t = self.count % len(self.t.records)
            self.count += 1
            self.seq += self.rng.randint(100, 99999)
            eid = "%032x" % self.rng.getrandbits(128)
            ids = [harness.audit_id(eid + s) for s in self.t.suffixes[t]]
            out.append({"t": t, "eid": eid, "seq": str(self.seq), "ids": ids, "tries": 0})
        return out

    def payload(self, batch):
        records = []
        for r in batch:
            rec = dict(self.t.records[r["t"]])
            rec["eventID"] = r["eid"]
            rec["dynamodb"] = dict(rec["dynamodb"], SequenceNumber=r["seq"])
            records.append(rec)
        return json.dumps({"Records": records}, ensure_ascii=False,
                          separators=(",", ":")).encode()


def tcp_peers(pid):
    """{socket inode: remote port} of the process's TCP sockets (its network namespace's
    /proc/PID/net/tcp and tcp6)."""
    out = {}
    for name in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{name}") as f:
                next(f)
                for line in f:
                    fields = line.split()
                    out[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
        except OSError:
            pass
    return out


def descriptors(fn, port):
    """(connections to the DynamoDB stand-in on `port`, every other descriptor's target
    with TCP sockets named by their peer port: sorted)."""
    peers = tcp_peers(fn.pid)
    ddb = 0
    others = []
    for target in fn.fds():
        if target.startswith("socket:["):
            peer = peers.get(target[len("socket:["):-1])
            if peer == port:
                ddb += 1
                continue
            target = "socket (unix or other)" if peer is None else "tcp socket"
        others.append(target)
    return ddb, sorted(others)


def soak_mode(args, mode, templates, workdir):
    t0 = time.monotonic()
    server = soak_server.Process(os.path.join(workdir, f"server-{mode}.err"),
                                 args.fault_share, args.seed)
    os.makedirs(os.path.join(workdir, mode), exist_ok=True)
    task = harness.Task(args.zip, os.path.join(workdir, mode))
    fn = harness.Function(task, workdir, f"function-{mode}", {
        "AUDIT_TABLE": "Audit", "AUDIT_WRITE_API": mode,
        "AUDIT_CONCURRENCY": str(CONCURRENCY),
        "AWS_ACCESS_KEY_ID": "AKIDSOAKTEST0000001", "AWS_SECRET_ACCESS_KEY": "soak/secret/key",
        "AWS_ENDPOINT_URL_DYNAMODB": server.endpoint, "AWS_LAMBDA_LOG_FORMAT": "JSON"})
    source = Source(templates, args.seed)
    rng = random.Random(args.seed * 7919 + 1)
    written = set()
    expected = set()
    redeliver = None
    counts = collections.Counter()
    samples = []
    model_checks = 0
    try:
        inv = 0
        while inv < args.invocations or redeliver is not None:
            if redeliver is not None:
                batch, redeliver = redeliver, None
                counts["redeliveries"] += 1
            else:
                batch = source.take(args.max_records if inv == 0 else
                                    min(args.max_records, batch_size(rng)))
                for r in batch:
                    expected.update(r["ids"])
                counts["records"] += len(batch)
            for r in batch:
                r["tries"] += 1
                check(r["tries"] <= MAX_DELIVERIES,
                      f"record {r['seq']} delivered {r['tries']} times: stuck")
            payload = source.payload(batch)
            if inv % args.sample_every == 0:
                model = {i for i, _, _ in harness.model_items(payload, "classic", workdir,
                                                               f"check-{mode}")}
                mine = {i for r in batch for i in r["ids"]}
                check(model == mine, f"invocation {inv}: the model gives {len(model)} ids for "
                      f"the payload, the templates' shortcut {len(mine)}")
                model_checks += 1
            fn.standin.enqueue(payload, timeout_ms=INVOKE_TIMEOUT_MS)
            results = fn.standin.wait(1, 300)
            check(results is not None, f"invocation {inv}: no answer within 300 s: "
                  f"{fn.log_tail()}")
            post = results["posts"][0]
            fn.standin.request("POST", "/_test/reset")
            inv += 1
            written.update(server.new_writes())
            check(post["status"] == 202, f"invocation {inv}: the stand-in answered "
                  f"{post['status']}: {post['body']}")
            if post["kind"] == "error":
                doc = post["json"] or {}
                check(doc.get("errorType") == "AuditWriteFailed",
                      f"invocation {inv}: error {post['body'][:300]}")
                counts["write_failed"] += 1
                redeliver = batch
                k = 0
            else:
                check(post["kind"] == "response", f"invocation {inv}: {post['kind']}")
                failures = (post["json"] or {}).get("batchItemFailures")
                check(isinstance(failures, list) and len(failures) <= 1,
                      f"invocation {inv}: answer {post['body'][:300]}")
                k = len(batch)
                if failures:
                    seqs = [r["seq"] for r in batch]
                    ident = failures[0].get("itemIdentifier")
                    check(ident in seqs, f"invocation {inv}: {ident!r} is no record of "
                          f"the batch")
                    k = seqs.index(ident)
                    counts["partial"] += 1
                    redeliver = batch[k:]
            lost = [i for r in batch[:k] for i in r["ids"] if i not in written]
            check(not lost, f"invocation {inv}: {len(lost)} items of the {k} records before "
                  f"the reported one were never written (e.g. {lost[0] if lost else ''})")
            if inv % args.sample_every == 0:
                rss = fn.status("VmRSS")
                sockets, others = descriptors(fn, server.port)
                samples.append((inv, rss, sockets, others))
                print(f"soak {mode}: {inv} invocations, {time.monotonic() - t0:.0f} s, "
                      f"VmRSS {rss} kB, {sockets} connections to DynamoDB + {len(others)} "
                      f"other fds, "
                      f"{len(written)} ids written", flush=True)
        check(fn.alive(), "the function exited")
        stats = server.stats()
    finally:
        fn.stop()
        server.stop()
    elapsed = time.monotonic() - t0

    check(stats["problems"] == 0, f"{stats['problems']} requests DynamoDB would refuse")
    kinds = soak_server.BATCH_FAULTS if mode == "BatchWriteItem" else soak_server.PUT_FAULTS
    check(args.fault_share == 0 or all(stats["faults"].get(k, 0) > 0 for k in kinds),
          f"not every kind of fault happened: {stats['faults']}")
    missing = expected - written
    extra = written - expected
    check(not missing and not extra, f"{len(missing)} expected ids never written, "
          f"{len(extra)} written ids not expected")
    # Summary lines: one per invocation.
    sums = collections.Counter()
    lines = 0
    for line in fn.log_lines():
        if str(line.get("message", "")).startswith("batch ") and "duration_ms" in line:
            lines += 1
            for name in ("requests", "requests_put_item", "requests_batch_write",
                         "unprocessed", "retries", "throttles", "written", "items",
                         "failed", "not_attempted"):
                sums[name] += int(line.get(name, 0))
    check(lines == inv, f"{lines} summary lines for {inv} invocations")
    server_requests = sum(stats["requests"].values())
    check(sums["requests"] == server_requests, f"the summaries count {sums['requests']} "
          f"requests, the server received {server_requests}")
    check(sums["unprocessed"] == stats["unprocessed"], f"the summaries count "
          f"{sums['unprocessed']} unprocessed items, the server returned {stats['unprocessed']}")
    api = "requests_put_item" if mode == "PutItem" else "requests_batch_write"
    check(sums[api] == sums["requests"], f"{mode}: {sums[api]} of {sums['requests']} "
          f"requests by {api}")
    warm = [s for s in samples if s[0] >= args.warmup]
    check(warm, f"no sample after the warm-up of {args.warmup} invocations")
    base = warm[0]
    growth = max(s[1] for s in warm) - base[1]
    trend = " ".join(f"{n}:{rss}" for n, rss, _, _ in samples)
    check(growth < RSS_MAX_GROWTH_KB, f"{mode}: VmRSS grew {growth} kB after invocation "
          f"{base[0]}: {trend}")
    for n, _, sockets, others in samples:
        check(others == base[3], f"{mode}: descriptors other than DynamoDB's connections "
              f"after {n}: {others}, after {base[0]}: {base[3]}")
        check(sockets <= CONCURRENCY, f"{mode}: {sockets} connections to DynamoDB open "
              f"after {n}")
    return {
        "mode": mode, "invocations": inv, "seconds": elapsed, "records": counts["records"],
        "items": len(expected), "writes": stats["writes"], "rewrites": stats["rewrites"],
        "requests": stats["requests"], "faults": stats["faults"],
        "unprocessed": stats["unprocessed"], "retries": sums["retries"],
        "partial": counts["partial"], "write_failed": counts["write_failed"],
        "redeliveries": counts["redeliveries"], "rss": trend, "growth_kb": growth,
        "rss_warm_kb": base[1], "sockets": sorted({s[2] for s in samples}),
        "other_fds": len(base[3]), "model_checks": model_checks,
        "connections": stats["ddb_connections"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zip", required=True, help="the x86_64 Lambda zip (make package)")
    ap.add_argument("--invocations", type=int, default=10000)
    ap.add_argument("--modes", default="PutItem,BatchWriteItem")
    ap.add_argument("--fault-share", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--max-records", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--sample-every", type=int, default=500)
    ap.add_argument("--keep-logs", action="store_true")
    args = ap.parse_args()
    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="auditstream-soak.")
    failed = 0
    try:
        templates = Templates(workdir)
        print(f"soak: {len(templates.records)} template records, {templates.items} items by "
              f"the model; {args.invocations} invocations a mode, {args.fault_share:.0%} of "
              f"requests faulted, seed {args.seed}", flush=True)
        for mode in args.modes.split(","):
            try:
                r = soak_mode(args, mode, templates, workdir)
            except SoakFailure as e:
                print(f"FAIL soak {mode}: {e}", flush=True)
                failed += 1
                continue
            print(f"ok   soak {mode}: {r['invocations']} invocations in {r['seconds']:.0f} s: "
                  f"{r['records']} fresh records, {r['items']} items, {r['writes']} writes "
                  f"({r['rewrites']} rewrites by redeliveries); requests {r['requests']}, "
                  f"faults {r['faults']}, {r['unprocessed']} items returned unprocessed, "
                  f"{r['retries']} retries; {r['partial']} partial answers, "
                  f"{r['write_failed']} AuditWriteFailed, {r['redeliveries']} redeliveries; "
                  f"VmRSS kB after N: {r['rss']}; growth after warm-up {r['growth_kb']} kB; "
                  f"connections to DynamoDB at samples {r['sockets']}, {r['other_fds']} other "
                  f"descriptors, the same throughout; "
                  f"{r['connections']} connections in all; the model checked on "
                  f"{r['model_checks']} payloads", flush=True)
    finally:
        if args.keep_logs or failed:
            print(f"soak: work folder kept in {workdir}")
        else:
            import shutil
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"soak: total {time.monotonic() - t0:.0f} s; {failed} mode(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
