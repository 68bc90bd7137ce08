#!/usr/bin/env python3
# `auditstream history` of one key with 1,000 entries against moto (SigV4 on): wall time
# and the pages it fetched, beside boto3 paging the same Query. Reports; never judges.
"""Run from the top of the tree (make bench does, after the C programs):

    bench_history.py --auditstream build/auditstream --bootstrap build/bootstrap
                     [--entries 1000] [--runs 7]

The trail is made by the function's own builder: a synthetic stream of one item (one
INSERT, then MODIFYs that each change one attribute) goes through `bootstrap --print` in
each format, and its items are written to an Audit table with the `history` index in moto
(BatchWriteItem, with moto's auth off for the load only). Then, with moto's SigV4 checks on
and an IAM user allowed Query and DescribeTable, `auditstream history KEY --json` runs
--runs times through a counting loopback proxy (tests/integration/test_ddb_moto.py's),
which tells the requests of each kind; the command's own CPU time (user + system, from
the kernel's accounting of waited children) tells its share of the wall time, the rest
being moto's. Each --json run must list every record. boto3's Query paginator over the
same index, through the same proxy, is the reference: the ratio says what the command
costs beyond fetching the pages.
"""

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY = "CACHE_TTL_SEC"
SOURCE_TABLE = "Configuration"
START_S = 1714564800  # 2024-05-01T12:00:00Z, one record a second


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


motolib = load("test_ddb_moto", os.path.join(TOP, "tests", "integration", "test_ddb_moto.py"))


def image(state):
    return {"pk": {"S": KEY}, "value": {"N": str(state["value"])},
            "note": {"S": "set by deploy %d" % state["note"]},
            "tags": {"SS": ["cache", "ttl"]},
            "limits": {"M": {"max": {"N": str(state["max"])}, "min": {"N": "1.50"}}}}


def stream(entries):
    """One event of `entries` records of one item: an INSERT, then one change a record."""
    state = {"value": 3600, "note": 0, "max": 10}
    records = []
    for r in range(entries):
        dyn = {"ApproximateCreationDateTime": START_S + r, "Keys": {"pk": {"S": KEY}},
               "SequenceNumber": str(100000000 + r), "StreamViewType": "NEW_AND_OLD_IMAGES"}
        if r > 0:
            dyn["OldImage"] = image(state)
            field = ("value", "note", "max")[r % 3]
            state[field] = 3600 + r if field == "value" else r
        dyn["NewImage"] = image(state)
        records.append({"eventID": "e%d" % r, "eventName": "INSERT" if r == 0 else "MODIFY",
                        "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                        "awsRegion": motolib.REGION,
                        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/"
                                          "%s/stream/2024-01-01T00:00:00.000" % SOURCE_TABLE,
                        "dynamodb": dyn})
    return {"Records": records}


def build_items(bootstrap, event_path, fmt):
    out = subprocess.run([bootstrap, "--print", event_path, "--format", fmt],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if out.returncode != 0:
        raise SystemExit("bench_history: bootstrap --print failed: %s" % out.stderr.decode())
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


class CountingProxy(motolib.Proxy):
    """Passes requests through unchanged, counting them by X-Amz-Target and the bytes
    of the answers."""

    def __init__(self, upstream_port):
        self.by_target = {}
        self.answer_bytes = 0
        super().__init__(upstream_port, "pass")

    def _tamper(self, head, body):
        target = b"?"
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"x-amz-target":
                target = value.strip().split(b".")[-1]
        with self.lock:
            key = target.decode()
            self.by_target[key] = self.by_target.get(key, 0) + 1
        return head, body

    def snapshot(self):
        with self.lock:
            return dict(self.by_target)


def delta(after, before):
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--auditstream", required=True)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--time", help=argparse.SUPPRESS)    # make bench's BENCH_ARGS
    ap.add_argument("--rounds", help=argparse.SUPPRESS)
    args = ap.parse_args()
    for path in (args.auditstream, args.bootstrap):
        if not os.access(path, os.X_OK):
            raise SystemExit("bench_history: %s is not built" % path)

    with tempfile.TemporaryDirectory(prefix="bench-history-") as work:
        event_path = os.path.join(work, "event.json")
        with open(event_path, "w") as f:
            json.dump(stream(args.entries), f)
        moto = motolib.Moto(work)
        moto.start()
        proxy = None
        try:
            aws = motolib.Aws(moto)
            aws.setup()
            ddb = aws.client("dynamodb", aws.key_id, aws.secret)
            moto.set_auth(False)
            tables = {}
            for fmt in ("classic", "detailed"):
                items = build_items(args.bootstrap, event_path, fmt)
                name = "Audit-" + fmt
                ddb.create_table(
                    TableName=name, BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                                          for a in ("id", "historyKey", "historySort")],
                    GlobalSecondaryIndexes=[{
                        "IndexName": "history",
                        "KeySchema": [{"AttributeName": "historyKey", "KeyType": "HASH"},
                                      {"AttributeName": "historySort", "KeyType": "RANGE"}],
                        "Projection": {"ProjectionType": "ALL"}}])
                for i in range(0, len(items), 25):
                    batch = [{"PutRequest": {"Item": it}} for it in items[i:i + 25]]
                    left = {name: batch}
                    while left:
                        left = ddb.batch_write_item(RequestItems=left).get("UnprocessedItems")
                size = sum(len(json.dumps(it, separators=(",", ":"))) for it in items)
                tables[fmt] = (name, len(items), size)
            moto.set_auth(True)

            proxy = CountingProxy(moto.port)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": work,
                   "AWS_ACCESS_KEY_ID": aws.key_id, "AWS_SECRET_ACCESS_KEY": aws.secret,
                   "AWS_REGION": motolib.REGION, "LANG": "C.UTF-8"}
            boto = aws.boto3.client("dynamodb", endpoint_url=proxy.endpoint,
                                    region_name=motolib.REGION, aws_access_key_id=aws.key_id,
                                    aws_secret_access_key=aws.secret)
            print("bench_history: %d records of one item, moto %s with SigV4 on, %d runs each"
                  % (args.entries, moto.endpoint, args.runs))
            print("%-9s %6s %9s  %-30s %10s %8s %8s %8s  %s" % (
                "format", "items", "JSON MB", "what", "median ms", "min", "max", "CPU ms",
                "requests/run"))
            for fmt, (name, count, size) in tables.items():
                cmd = [args.auditstream, "history", KEY, "--json", "--table", SOURCE_TABLE,
                       "--audit-table", name, "--endpoint-url", proxy.endpoint,
                       "--region", motolib.REGION]
                rows = {}
                for what in ("auditstream history --json", "auditstream history (table)",
                             "boto3 Query paginator"):
                    times, cpus, reqs = [], [], None
                    for _ in range(args.runs):
                        before = proxy.snapshot()
                        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
                        t0 = time.monotonic()
                        if what.startswith("boto3"):
                            pages = boto.get_paginator("query").paginate(
                                TableName=name, IndexName="history",
                                KeyConditionExpression="historyKey = :k",
                                ExpressionAttributeValues={":k": {"S": SOURCE_TABLE + "/" + KEY}})
                            got = sum(len(p["Items"]) for p in pages)
                            want = count
                        else:
                            run = cmd if "json" in what else [c for c in cmd if c != "--json"]
                            out = subprocess.run(run, stdout=subprocess.PIPE,
                                                 stderr=subprocess.PIPE, env=env, check=False)
                            if out.returncode != 0:
                                raise SystemExit("bench_history: %s exited %d: %s" % (
                                    " ".join(run), out.returncode, out.stderr.decode()))
                            lines = out.stdout.decode().splitlines()
                            got = len(lines) if "json" in what else None
                            want = args.entries
                        times.append((time.monotonic() - t0) * 1e3)
                        after = resource.getrusage(resource.RUSAGE_CHILDREN)
                        cpus.append((after.ru_utime - usage.ru_utime + after.ru_stime
                                     - usage.ru_stime) * 1e3)
                        reqs = delta(proxy.snapshot(), before)
                        if got is not None and got != want:
                            raise SystemExit("bench_history: %s gave %d entries, want %d"
                                             % (what, got, want))
                    rows[what] = statistics.median(times)
                    cpu = "-" if what.startswith("boto3") else "%.1f" % statistics.median(cpus)
                    print("%-9s %6d %9.2f  %-30s %10.1f %8.1f %8.1f %8s  %s" % (
                        fmt, count, size / 1e6, what, rows[what], min(times), max(times), cpu,
                        ", ".join("%s %d" % kv for kv in sorted(reqs.items()))))
                base = rows["boto3 Query paginator"]
                print("%-9s ratios to boto3's paging: --json %.2fx, table %.2fx" % (
                    fmt, rows["auditstream history --json"] / base,
                    rows["auditstream history (table)"] / base))
            if proxy.errors:
                raise SystemExit("bench_history: proxy errors: %s" % proxy.errors[:3])
        finally:
            if proxy is not None:
                proxy.stop()
            moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
