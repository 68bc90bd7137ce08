#!/usr/bin/env python3
# `make demo`: the packaged audit_producer end to end on this machine, on loopback only:
# real stream records of changes to Configuration in, the Audit table out, then read back.
"""Run: demo.py [--zip dist/audit_producer-x86_64.zip] [--cli build/auditstream]
(`make demo` builds both first)

1. starts moto (local DynamoDB, DynamoDB Streams, IAM and STS) with SigV4 verification on,
   and sets up the function's role (it may only PutItem);
2. creates Configuration (hash key `key`, stream NEW_AND_OLD_IMAGES) and Audit (`id`, with
   the `history` index);
3. creates, updates twice and deletes one Configuration item;
4. reads the stream's records back (DescribeStream, GetShardIterator, GetRecords);
5. unzips the function, starts its bootstrap with Lambda's environment against a Lambda
   Runtime API stand-in (tests/support/runtime_standin.py), and invokes it once with the
   records, as Lambda's event source mapping would;
6. prints the Audit table;
7. reads the item's trail back as a person would, with the read-only role: `auditstream
   history` and `auditstream show --at` a time between two of its changes.

Everything it starts (moto, the stand-in, the bootstrap) is stopped at the end, on an
error and on Ctrl-C. Exits 1 when a step fails, saying which and why.
"""

import argparse
import decimal
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the tree (harness, audit_model, ...)
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))

from harness import (CONFIG_TABLE, Aws, Function, Moto, SetupError, Task,  # noqa: E402
                     audit_id, lambda_event, lambda_record)

AUDIT_TABLE = "Audit"
KEY = "CACHE_TTL_SEC"
CELL = 34  # widest old/new cell: longer values are cut, and shown whole below the table


def step(n, text):
    print(f"\n{n}. {text}", flush=True)


def show(value):
    """A DynamoDB wire value, readably: strings quoted, numbers as their text, sets in
    braces, binary as its base64 text."""
    (tag, body), = value.items()
    if tag == "S":
        return json.dumps(body, ensure_ascii=False)
    if tag == "N":
        return body
    if tag == "B":
        return "b64:" + body
    if tag == "BOOL":
        return "true" if body else "false"
    if tag == "NULL":
        return "null"
    if tag in ("SS", "NS", "BS"):
        return "<<" + ", ".join(show({tag[0]: m}) for m in sorted(body)) + ">>"
    if tag == "M":
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in body.items()) + "}"
    if tag == "L":
        return "[" + ", ".join(show(v) for v in body) + "]"
    return json.dumps(value)


def cut(text, width=CELL):
    return text if len(text) <= width else text[:width - 1] + "…"


def print_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    print("   " + "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    print("   " + line)
    for r in rows:
        print("   " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


def make_changes(aws):
    ddb = aws.client("dynamodb", aws.admin)
    key = {"key": {"S": KEY}}
    changes = [
        ("create", "value 3600, unit, owners, tags",
         lambda: ddb.put_item(TableName=CONFIG_TABLE, Item={
             **key, "value": {"N": "3600"}, "unit": {"S": "seconds"},
             "owners": {"L": [{"S": "platform"}]}, "tags": {"SS": ["cache"]}})),
        ("update", "value 3600 -> 1800",
         lambda: ddb.update_item(TableName=CONFIG_TABLE, Key=key,
                                 UpdateExpression="SET #v = :v",
                                 ExpressionAttributeNames={"#v": "value"},
                                 ExpressionAttributeValues={":v": {"N": "1800"}})),
        ("update", "add comment, tags += ttl, owners += sre",
         lambda: ddb.update_item(TableName=CONFIG_TABLE, Key=key,
                                 UpdateExpression="SET #c = :c, owners = list_append(owners, :o) "
                                                  "ADD tags :t",
                                 ExpressionAttributeNames={"#c": "comment"},
                                 ExpressionAttributeValues={":c": {"S": "halved after review"},
                                                            ":o": {"L": [{"S": "sre"}]},
                                                            ":t": {"SS": ["ttl"]}})),
        ("delete", "",
         lambda: ddb.delete_item(TableName=CONFIG_TABLE, Key=key)),
    ]
    for verb, what, call in changes:
        call()
        print(f"   {verb:<7} {KEY}  {what}".rstrip())


def audit_rows(records, scan, notes):
    """The Audit items as table rows, in stream order and then by attribute name; the
    values too long for their cell go to `notes`, whole, with a mark in the cell."""
    where = {}
    for n, r in enumerate(records):
        where[audit_id(r["eventID"])] = (n, "", r["eventName"])
        ddb = r["dynamodb"]
        for name in set(ddb.get("OldImage", {})) | set(ddb.get("NewImage", {})):
            where[audit_id(f"{r['eventID']}/{name}")] = (n, name, r["eventName"])
    rows = []
    for i, item in scan.items():
        n, name, event = where.get(i, (len(records), "", "?"))
        attr = item.get("updatedAttribute", {}).get("S", "(whole item)")
        rows.append(((n, name), i, [i[:8], item.get("itemKey", {}).get("S", ""),
                                    item.get("modificationTime", {}).get("S", ""), event, attr,
                                    show(item["oldValue"]) if "oldValue" in item else "-",
                                    show(item["newValue"]) if "newValue" in item else "-"]))
    out = []
    for _, i, row in sorted(rows, key=lambda x: x[0]):
        for col, side in ((5, "old"), (6, "new")):
            if len(row[col]) > CELL:
                notes.append(f"[{len(notes) + 1}] {i[:8]} {side}: {row[col]}")
                mark = f" [{len(notes)}]"
                row[col] = cut(row[col], CELL - len(mark)) + mark
        out.append(row)
    return out


def run_cli(cli, creds, endpoint, workdir, args):
    """Runs `auditstream ARGS` as a person would (credentials in the AWS_* variables, no
    ~/.aws) and prints the command line and what it printed, as a terminal shows them."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir,
           "LANG": "C.UTF-8", "TZ": "UTC", "AWS_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": creds[0], "AWS_SECRET_ACCESS_KEY": creds[1],
           "AWS_SESSION_TOKEN": creds[2]}
    print(f"\n   $ auditstream {' '.join(args)} --endpoint-url {endpoint}")
    p = subprocess.run([cli] + args + ["--endpoint-url", endpoint], env=env,
                       capture_output=True, text=True, timeout=60)
    for line in (p.stdout + p.stderr).rstrip("\n").splitlines():
        print(("   " + line).rstrip())
    if p.returncode != 0:
        raise SetupError(f"auditstream {args[0]} exited with status {p.returncode}")


def raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zip", default=os.path.join(TOP, "dist", "audit_producer-x86_64.zip"))
    ap.add_argument("--cli", default=os.path.join(TOP, "build", "auditstream"))
    args = ap.parse_args()
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, raise_exit)

    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="auditstream-demo.")
    moto = fn = None
    ok = False
    shown = os.path.relpath(args.zip, TOP) if os.path.abspath(args.zip).startswith(TOP + os.sep) \
        else args.zip
    print(f"libauditstream demo: {shown} run as AWS Lambda runs it, "
          "against a local DynamoDB (moto) on 127.0.0.1")
    try:
        task = Task(args.zip, workdir)
        if not os.access(args.cli, os.X_OK):
            raise SetupError(f"{args.cli} does not exist or cannot run (make)")
        step(1, "moto: DynamoDB, DynamoDB Streams, IAM and STS, SigV4 verification on")
        moto = Moto(workdir)
        moto.start()
        aws = Aws(moto)
        aws.setup()
        print(f"   {moto.endpoint} (pid {moto.proc.pid}, up in {moto.started_in:.1f} s); "
              "the function's role may only dynamodb:PutItem")

        step(2, "tables")
        stream_arn = aws.create_table(CONFIG_TABLE, "key", stream=True)
        aws.create_table(AUDIT_TABLE, "id", history=True)
        print(f"   {CONFIG_TABLE} (key), stream NEW_AND_OLD_IMAGES: {stream_arn}")
        print(f"   {AUDIT_TABLE} (id), index history (historyKey, historySort)")

        step(3, f"changes to {CONFIG_TABLE}")
        make_changes(aws)

        step(4, "the stream, read back with GetRecords (TRIM_HORIZON)")
        records = [lambda_record(r, stream_arn) for r in aws.read_stream(stream_arn)]
        for r in records:
            d = r["dynamodb"]
            keys = ", ".join(next(iter(v.values())) for v in d["Keys"].values())
            print(f"   {d['SequenceNumber']}  {r['eventName']:<6}  {keys}  "
                  f"at {d['ApproximateCreationDateTime']}")
        event = lambda_event(records)

        step(5, "the function: bootstrap from the zip, Lambda's environment, Runtime API stand-in")
        fn = Function(task, workdir, "audit_producer", {
            "AUDIT_TABLE": AUDIT_TABLE,
            "AWS_ACCESS_KEY_ID": aws.writer[0], "AWS_SECRET_ACCESS_KEY": aws.writer[1],
            "AWS_SESSION_TOKEN": aws.writer[2],
            "AWS_ENDPOINT_URL_DYNAMODB": moto.endpoint, "AWS_LAMBDA_LOG_FORMAT": "JSON"})
        print(f"   bootstrap pid {fn.pid}, AWS_LAMBDA_RUNTIME_API={fn.standin.api}")
        started = time.monotonic()
        post = fn.invoke(event)
        took = (time.monotonic() - started) * 1000
        print(f"   invoked with {len(records)} records ({len(event)} bytes): "
              f"{post['kind']} {post['body']} in {took:.0f} ms")
        for line in fn.log_lines():
            if str(line.get("message", "")).startswith("batch "):
                print(f"   log: {line['message']}: {line.get('records')} records, "
                      f"{line.get('items')} items, {line.get('written')} written, "
                      f"{line.get('failed')} failed, {line.get('requests')} PutItem requests, "
                      f"{line.get('duration_ms')} ms")
        if post["kind"] != "response" or post["json"] != {"batchItemFailures": []}:
            raise SetupError(f"the function did not write every item: {post['body']}\n"
                             f"{fn.log_tail()}")

        scan = aws.scan(AUDIT_TABLE)
        step(6, f"the {AUDIT_TABLE} table: {len(scan)} items (Scan)")
        notes = []
        print_table(["id", "itemKey", "modificationTime", "event", "attribute", "old", "new"],
                    audit_rows(records, scan, notes))
        for note in notes:
            print("   " + note)

        # Between the second and the third change: value already 1800, no comment yet.
        t1, t2 = (decimal.Decimal(str(records[i]["dynamodb"]["ApproximateCreationDateTime"]))
                  for i in (1, 2))
        ms = int((t1 + t2) * 500)
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)
        step(7, f"{KEY} read back with auditstream (the trail's read-only role)")
        run_cli(args.cli, aws.trail_reader, moto.endpoint, workdir, ["history", KEY])
        run_cli(args.cli, aws.trail_reader, moto.endpoint, workdir, ["show", KEY, "--at", at])
        ok = True
    except SetupError as e:
        print(f"\ndemo: FAILED: {e}", file=sys.stderr)
    except SystemExit:
        print("\ndemo: interrupted", file=sys.stderr)
        ok = None  # not a failure: nothing worth keeping
        raise
    except Exception:  # noqa: BLE001 - say what broke, then stop everything
        print(f"\ndemo: FAILED:\n{traceback.format_exc()}", file=sys.stderr)
    finally:
        stopped = []
        if fn is not None:
            fn.stop()
            stopped += [f"bootstrap (pid {fn.pid})", "Runtime API stand-in"]
        if moto is not None and moto.proc is not None:
            pid = moto.proc.pid
            moto.stop()
            stopped.append(f"moto (pid {pid})")
        if stopped:
            print(f"\nstopped: {', '.join(stopped)}")
        if ok is not False:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"demo: logs kept in {workdir}", file=sys.stderr)
    print(f"demo: done in {time.monotonic() - t0:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
