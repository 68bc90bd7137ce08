#!/usr/bin/env python3
# End-to-end tests: the packaged audit_producer (dist/audit_producer-x86_64.zip, unzipped
# and run as Lambda runs it) fed real DynamoDB Streams records from moto, writing to moto.
"""Run: test_e2e.py --zip dist/audit_producer-x86_64.zip   (from the top of the tree)

Starts moto on a free loopback port with SigV4 verification on (IAM made with auth off
first: an admin user, and roles the function assumes as Lambda does, with a session
token: audit-producer may PutItem, audit-batch-producer PutItem and BatchWriteItem (for
AUDIT_WRITE_API=BatchWriteItem), audit-reader may only Scan). Creates the Configuration
table (hash key `key`, stream NEW_AND_OLD_IMAGES; no event source mapping, with which
moto would try Docker and drop the records), makes a create, two updates and a delete on
it, and reads the records back through DescribeStream / GetShardIterator(TRIM_HORIZON) /
GetRecords as raw JSON (numbers keep their text). Each record is wrapped as Lambda's
event source mapping delivers it (eventSourceARN added) and queued on a Runtime API
stand-in (tests/support/runtime_standin.py); each test runs the bootstrap from the zip
with Lambda's environment and LD_LIBRARY_PATH against its own stand-in and Audit table.
Other source tables, made the same way, give the tests that need them more records (40
INSERTs), moto's MODIFY for a write that changed nothing, and a 250 KB attribute.

The TLS tests put a TLS-terminating forwarder (harness.FaultProxy with a certificate for
IP:127.0.0.1 from a CA the run makes with the openssl command) in front of moto and give
the function that CA, another CA, or none: the last in a chroot holding only the task and
glibc, so that no system CA bundle exists either. The first batch's connections are
counted by tests/soak/soak_server.py (the fault server's DynamoDB over TLS, with
keep-alive, counting handshakes), since the forwarder closes every connection as moto does.

What the Audit table must hold is computed independently, by tests/golden/audit_model.py
(a Python model of docs/audit-format.md) on the exact bytes delivered, and compared item by item
with a Scan (map and set members in sorted order; every string and number text exact).
A few items are also checked by hand against docs/audit-format.md's wording.

Ends with "e2e: N passed, N failed"; exits 1 when anything failed. A setup failure
(moto, boto3, unzip, the zip) fails every test: none is skipped.
"""

import argparse
import decimal
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the tree (harness, audit_model, ...)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "soak"))

import harness  # noqa: E402
import soak_server  # noqa: E402
from harness import (CONFIG_TABLE, Aws, FaultProxy, Function, Jail, Moto, Pki,  # noqa: E402
                     SetupError, Task, audit_id, canon, dumps_raw, lambda_event, lambda_record,
                     loads_raw, model_items, now_ms)

KEY = "CACHE_TTL_SEC"
BULK_TABLE = "ConfigurationBulk"
BULK_RECORDS = 40
NOOP_TABLE = "ConfigurationNoop"
LARGE_TABLE = "ConfigurationLarge"
RSS_INVOCATIONS = 1000
RSS_WARMUP = 100
RSS_MAX_GROWTH_KB = 1024
BATCH_WRITE_ITEMS = 25  # DynamoDB's limit a BatchWriteItem request
TLS_FIRST_ITEMS = 100


class TestFailure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def iso_ms(acdt):
    """docs/audit-format.md's modificationTime of an ApproximateCreationDateTime text."""
    ms = int((decimal.Decimal(acdt) * 1000).to_integral_value(rounding=decimal.ROUND_FLOOR))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def compare(expected, table, what):
    """`table` (Scan: {id: item}) must hold exactly `expected` ([(id, canon, item)])."""
    want = {i: c for i, c, _ in expected}
    check(len(want) == len(expected), f"{what}: the model gave duplicate ids")
    missing = [i for i in want if i not in table]
    extra = [i for i in table if i not in want]
    differ = [i for i in want if i in table and canon(table[i]) != want[i]]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {want[missing[0]][:300]})")
    if extra:
        problems.append(f"{len(extra)} unexpected (e.g. {canon(table[extra[0]])[:300]})")
    for i in differ[:2]:
        problems.append(f"item {i}: expected {want[i][:400]} read {canon(table[i])[:400]}")
    check(not problems, f"{what}: table has {len(table)} items, expected {len(want)}: "
          + "; ".join(problems))


def summaries(fn):
    """The function's summary lines so far; there must be at least one."""
    lines = [line for line in fn.log_lines() if str(line.get("message", "")).startswith("batch ")]
    check(lines, f"{fn.name}: no summary line in the log: {fn.log_tail()}")
    return lines


FAULT_SERVER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "support", "fault_server.py")
SECRET_RUN = 16  # the shortest run of a secret no output may show (README, Security notes)


def long_token(seed=9, length=1094):
    """A session token as long as Lambda's (about 1,100 base64 characters), the same on
    every run."""
    rng = random.Random(seed)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "IQoJb3JpZ2luX2VjE" + "".join(rng.choice(alphabet) for _ in range(length - 19)) + "=="


def leaked_run(text, secret):
    """The first SECRET_RUN characters in a row of `secret` that `text` holds, or None."""
    for i in range(len(secret) - SECRET_RUN + 1):
        if secret[i:i + SECRET_RUN] in text:
            return secret[i:i + SECRET_RUN]
    return None


class FaultServer:
    """tests/support/fault_server.py (the fault-injecting DynamoDB) on a free loopback
    port; it exits by itself when this process does."""

    def __init__(self, workdir, name):
        self.err_path = os.path.join(workdir, f"{name}.err")
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, FAULT_SERVER], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=err)
        line = self.proc.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "PORT":
            self.stop()
            raise RuntimeError(f"fault_server.py did not start: {line}")
        self.endpoint = f"http://127.0.0.1:{line[1]}"

    def _call(self, method, path, doc=None):
        data = json.dumps(doc).encode() if doc is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read().decode())

    def script(self, doc):
        self._call("POST", "/_control/reset", {})
        self._call("POST", "/_control/script", doc)

    def requests(self):
        return self._call("GET", "/_control/log")["requests"]

    def stop(self):
        harness.stop_process(self.proc)
        if self.proc is not None:
            self.proc.stdout.close()
        self.proc = None


class Suite:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.moto = None
        self.aws = None
        self.task = None
        self.functions = []
        self.proxies = []
        self.fault_servers = []
        self.tables = set()
        self._pki = None

    # -- setup -----------------------------------------------------------------------

    def setup(self):
        t0 = time.monotonic()
        self.task = Task(self.args.zip, self.workdir)
        self.moto = Moto(self.workdir)
        self.moto.start()
        print(f"e2e: moto answered on {self.moto.endpoint} in {self.moto.started_in:.2f} s "
              f"(pid {self.moto.proc.pid})", flush=True)
        self.aws = Aws(self.moto)
        self.aws.setup()
        self.stream_arn = self.aws.create_table(CONFIG_TABLE, "key", stream=True)
        if not self.stream_arn:
            raise SetupError("CreateTable gave the Configuration table no stream ARN")
        self.make_changes()
        raw = self.aws.read_stream(self.stream_arn)
        self.records = [lambda_record(r, self.stream_arn) for r in raw]
        self.event = lambda_event(self.records)
        self.bulk_arn = self.aws.create_table(BULK_TABLE, "key", stream=True)
        ddb = self.aws.client("dynamodb", self.aws.admin)
        for i in range(BULK_RECORDS):
            ddb.put_item(TableName=BULK_TABLE, Item={
                "key": {"S": f"BULK_{i:03d}"}, "value": {"N": str(1000 + i)},
                "note": {"S": "bulk item " + "x" * (i % 7)}})
        self.bulk = [lambda_record(r, self.bulk_arn) for r in self.aws.read_stream(self.bulk_arn)]
        # The same PutItem twice: moto emits an INSERT and a MODIFY with equal images.
        noop_arn = self.aws.create_table(NOOP_TABLE, "key", stream=True)
        for _ in range(2):
            ddb.put_item(TableName=NOOP_TABLE, Item={"key": {"S": "FEATURE_X"},
                                                     "enabled": {"BOOL": False}})
        self.noop = [lambda_record(r, noop_arn) for r in self.aws.read_stream(noop_arn)]
        print(f"e2e: setup in {time.monotonic() - t0:.1f} s: {len(self.records)} Configuration "
              f"records, {len(self.bulk)} bulk records, {len(self.event)}-byte event", flush=True)

    def make_changes(self):
        """A create, two updates and a delete of one Configuration item, as an operator
        would make them (PutItem for the create: moto's UpdateItem on a new item emits two
        INSERTs)."""
        ddb = self.aws.client("dynamodb", self.aws.admin)
        key = {"key": {"S": KEY}}
        ddb.put_item(TableName=CONFIG_TABLE, Item={
            **key, "value": {"N": "3600"}, "ratio": {"N": "1.50"},
            "description": {"S": "Durée du cache — seconds"}, "enabled": {"BOOL": True},
            "tags": {"SS": ["cache", "ttl"]},
            "limits": {"M": {"min": {"N": "60"}, "max": {"N": "86400"}}},
            "owners": {"L": [{"S": "ops"}, {"S": "platform"}]},
            "checksum": {"B": b"\xde\xad\xbe\xef"}, "deprecated": {"NULL": True}})
        # value changes; ratio's text changes but not its value (no item); tags grows.
        ddb.update_item(TableName=CONFIG_TABLE, Key=key,
                        UpdateExpression="SET #v = :v, ratio = :r ADD tags :t",
                        ExpressionAttributeNames={"#v": "value"},
                        ExpressionAttributeValues={":v": {"N": "1800"}, ":r": {"N": "1.5"},
                                                   ":t": {"SS": ["l2"]}})
        # nested changes (detailed paths /limits/max, /owners/1) and a removed attribute
        ddb.update_item(TableName=CONFIG_TABLE, Key=key,
                        UpdateExpression="SET limits.#m = :m, owners[1] = :o REMOVE description",
                        ExpressionAttributeNames={"#m": "max"},
                        ExpressionAttributeValues={":m": {"N": "43200"}, ":o": {"S": "sre"}})
        ddb.delete_item(TableName=CONFIG_TABLE, Key=key)

    def teardown(self):
        for fn in self.functions:
            fn.stop()
        for p in self.proxies:
            p.stop()
        for f in self.fault_servers:
            f.stop()
        if self.moto is not None:
            self.moto.stop()

    # -- helpers ---------------------------------------------------------------------

    def audit_table(self, name):
        check(name not in self.tables, f"table {name} made twice")
        self.aws.create_table(name, "id")
        self.tables.add(name)
        return name

    def function(self, name, table, fmt=None, creds=None, endpoint=None, task=None, **extra):
        creds = creds or self.aws.writer
        env = {"AUDIT_TABLE": table, "AUDIT_FORMAT": fmt,
               "AWS_ACCESS_KEY_ID": creds[0], "AWS_SECRET_ACCESS_KEY": creds[1],
               "AWS_SESSION_TOKEN": creds[2],
               "AWS_ENDPOINT_URL_DYNAMODB": endpoint or self.moto.endpoint,
               "AWS_LAMBDA_LOG_FORMAT": "JSON"}
        env.update(extra)
        fn = Function(task or self.task, self.workdir, name, env)
        self.functions.append(fn)
        return fn

    def finish(self, fn):
        """Stops `fn`; its log must hold no secret, signature or Authorization header."""
        fn.stop()
        text = fn.log_text()
        for what, secret in (("secret", fn.env.get("AWS_SECRET_ACCESS_KEY")),
                             ("session token", fn.env.get("AWS_SESSION_TOKEN"))):
            check(not secret or secret not in text, f"{fn.name}: the log holds the {what}")
        for word in ("AWS4-HMAC-SHA256 Credential", "Credential=AKIA", "Credential=ASIA"):
            check(word not in text, f"{fn.name}: the log holds {word!r}")
        # The header's name may appear in a message ("in Authorization header"); its value
        # and a signature may not.
        for pattern in (r"Authorization\s*[:=]\s*(?!\[redacted\])\S", r"Signature=[0-9a-fA-F]"):
            found = re.search(pattern, text)
            check(found is None, f"{fn.name}: the log holds {found and found.group(0)!r}")

    def proxy(self, tls=False):
        """A FaultProxy in front of moto; with `tls`, speaking TLS with the test PKI's
        server certificate."""
        p = FaultProxy(self.moto.port, self.pki().server_context() if tls else None)
        self.proxies.append(p)
        return p

    def pki(self):
        """The test CA and certificates, made on first use (only the TLS tests need
        the openssl command)."""
        if self._pki is None:
            self._pki = Pki(self.workdir)
        return self._pki

    def model(self, event, fmt, name):
        return model_items(event, fmt, self.workdir, name)

    def seq(self, i, records=None):
        return (records or self.records)[i]["dynamodb"]["SequenceNumber"]

    @staticmethod
    def expect_complete(post, what):
        check(post["kind"] == "response" and post["status"] == 202,
              f"{what}: {post['kind']} answered {post['status']}: {post['body']}")
        check(post["json"] == {"batchItemFailures": []},
              f"{what}: response {post['body']}, expected no batchItemFailures")

    def expect_event_written(self, fn, table, what):
        """`fn` answers the Configuration records with no batchItemFailures, and `table`
        then holds exactly the classic items the model computes from them."""
        self.expect_complete(fn.invoke(self.event), what)
        expected = self.model(self.event, "classic", what)
        compare(expected, self.aws.scan(table), what)
        return expected

    def expect_init_error(self, fn, label, word):
        """`fn` does not start: an init error (Runtime.InvalidConfiguration) naming `word`,
        posted before any /invocation/next, exit status 1, a FATAL line naming `word`, and
        the event queued for it left for a fresh process. Returns the error message."""
        fn.standin.enqueue(self.event, request_id=f"never-{label}")
        results = fn.standin.wait(1, 10)
        check(results is not None, f"{label}: no init error within 10 s: {fn.log_tail()}")
        post = results["posts"][0]
        check(post["kind"] == "init_error" and post["status"] == 202, f"{label}: {post}")
        header = post["headers"].get("lambda-runtime-function-error-type")
        check(header == "Runtime.InvalidConfiguration", f"{label}: header {header!r}")
        doc = post["json"] or {}
        check(doc.get("errorType") == "InvalidConfiguration" and
              word in doc.get("errorMessage", ""), f"{label}: document {doc}")
        try:
            rc = fn.proc.wait(5)
        except Exception:  # noqa: BLE001
            rc = None
        check(rc == 1, f"{label}: exit status {rc}, expected 1")
        final = fn.standin.results()
        check(not any(r["kind"] == "next" for r in final["requests"]),
              f"{label}: it asked for an invocation after failing to start")
        check(final["invocations"].get(f"never-{label}") == "queued",
              f"{label}: the event was consumed")
        check(any(line.get("level") == "FATAL" and word in line.get("message", "")
                  for line in fn.log_lines()), f"{label}: no FATAL line: {fn.log_tail()}")
        return doc["errorMessage"]

    @staticmethod
    def expect_error(post, error_type, what):
        check(post["kind"] == "error" and post["status"] == 202,
              f"{what}: {post['kind']} answered {post['status']}: {post['body']}")
        header = post["headers"].get("lambda-runtime-function-error-type")
        check(header == "Function." + error_type,
              f"{what}: Lambda-Runtime-Function-Error-Type {header!r}, expected "
              f"Function.{error_type}")
        doc = post["json"] or {}
        check(doc.get("errorType") == error_type and doc.get("errorMessage"),
              f"{what}: error document {post['body']}")
        return doc["errorMessage"]

    # -- the tests, in order -----------------------------------------------------------

    def test_stream_records(self):
        """The stream moto produced for a create, two updates and a delete: four records
        INSERT, MODIFY, MODIFY, REMOVE, sequence numbers counting up, number text as
        written, the images the view type promises."""
        names = [r["eventName"] for r in self.records]
        check(names == ["INSERT", "MODIFY", "MODIFY", "REMOVE"], f"stream records: {names}")
        seqs = [int(self.seq(i)) for i in range(4)]
        check(seqs == sorted(seqs) and len(set(seqs)) == 4, f"sequence numbers {seqs}")
        r0, r1, r3 = (self.records[i]["dynamodb"] for i in (0, 1, 3))
        check(r0["NewImage"]["ratio"] == {"N": "1.50"} and r1["NewImage"]["ratio"] == {"N": "1.5"},
              f"number text not kept: {r0['NewImage']['ratio']} -> {r1['NewImage']['ratio']}")
        check("OldImage" not in r0 and "NewImage" not in r3 and "OldImage" in r1,
              "images do not match the event names")
        check(all(r["eventSourceARN"] == self.stream_arn for r in self.records),
              "eventSourceARN is not the stream's")
        check(isinstance(r0["ApproximateCreationDateTime"], harness.RawNumber),
              "ApproximateCreationDateTime is not a JSON number")
        check(len(self.bulk) == BULK_RECORDS and
              all(r["eventName"] == "INSERT" for r in self.bulk),
              f"{len(self.bulk)} bulk records, expected {BULK_RECORDS} INSERTs")
        return (f"{' '.join(names)}, sequence numbers {seqs[0]}..{seqs[-1]}, "
                f"ApproximateCreationDateTime {r0['ApproximateCreationDateTime']}")

    def test_classic_table(self):
        """The bootstrap from the zip (classic format) answers the four records with
        {"batchItemFailures":[]}, and the Audit table then holds exactly the items the
        model of docs/audit-format.md computes from the delivered bytes: 1 + 2 + 3 + 1 = 7 (ratio
        1.50 -> 1.5 is no change). One item checked by hand against docs/audit-format.md."""
        table = self.audit_table("Audit")
        fn = self.function("classic", table)
        self.classic = fn
        trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        post = fn.invoke(self.event, request_id="e2e-classic-1", trace_id=trace)
        self.expect_complete(post, "classic")
        expected = self.model(self.event, "classic", "classic")
        check(len(expected) == 7, f"the model gives {len(expected)} items, expected 7")
        self.classic_expected = expected
        scan = self.aws.scan(table)
        compare(expected, scan, "Audit (classic)")
        # The comparison has teeth: a number whose text alone differs ("3600" -> "3600.0").
        altered = [(i, c.replace('"N":"3600"', '"N":"3600.0"'), it) for i, c, it in expected]
        check(altered != expected, "no item holds 3600")
        try:
            compare(altered, scan, "altered")
            raise TestFailure("the comparison missed a number whose text changed")
        except TestFailure as e:
            check("altered:" in str(e), str(e))
        # By hand: the update of `value`, as docs/audit-format.md's example item.
        r1 = self.records[1]
        when = iso_ms(r1["dynamodb"]["ApproximateCreationDateTime"])
        hand = {"id": {"S": audit_id(r1["eventID"] + "/value")}, "itemKey": {"S": KEY},
                "modificationTime": {"S": when}, "eventName": {"S": "UPDATE"},
                "historyKey": {"S": CONFIG_TABLE + "/" + KEY},
                "historySort": {"S": when + "/" + r1["dynamodb"]["SequenceNumber"].rjust(40, "0")},
                "updatedAttribute": {"S": "value"}, "oldValue": {"N": "3600"},
                "newValue": {"N": "1800"}}
        got = scan.get(hand["id"]["S"])
        check(got is not None and canon(got) == canon(hand),
              f"the value update: expected {canon(hand)}, read {got and canon(got)}")
        check(not any(i.get("updatedAttribute") == {"S": "ratio"} for i in scan.values()),
              "an item for ratio 1.50 -> 1.5, which is no change")
        insert = scan[audit_id(self.records[0]["eventID"])]
        check(insert["newValue"]["M"]["description"] == {"S": "Durée du cache — seconds"}
              and insert["newValue"]["M"]["checksum"] == {"B": "3q2+7w=="},
              f"the INSERT item's values changed: {canon(insert)[:300]}")
        s = summaries(fn)
        check(len(s) == 1 and s[0].get("outcome") == "complete" and s[0].get("records") == 4
              and s[0].get("items") == 7 and s[0].get("written") == 7,
              f"summary line: {s}")
        check(s[0].get("function_request_id") == "e2e-classic-1" and s[0].get("cold_start") is True
              and s[0].get("xray_trace_id") == "1-5759e988-bd862e3fe1be46a994272793",
              f"the summary's request id, trace id or cold start: {s[0]}")
        # The zip's bootstrap carries its own libcurl and OpenSSL: after real writes, the
        # only shared libraries in the process are glibc's.
        with open(f"/proc/{fn.pid}/maps") as f:
            shared = {os.path.basename(line.split()[-1]) for line in f if ".so" in line}
        check(shared and shared <= {"libc.so.6", "ld-linux-x86-64.so.2"},
              f"shared libraries other than glibc's mapped: {sorted(shared)}")
        return (f"7 items written and read back identical; cold start "
                f"{s[0].get('duration_ms')} ms for the batch; mapped: {' '.join(sorted(shared))}")

    def test_detailed_table(self):
        """AUDIT_FORMAT=detailed: one item per record, equal to the model's; by hand:
        event names, sequence numbers, tableName, and the JSON Pointer paths of the
        nested update."""
        table = self.audit_table("AuditDetailed")
        fn = self.function("detailed", table, fmt="detailed")
        self.detailed = fn
        self.expect_complete(fn.invoke(self.event), "detailed")
        expected = self.model(self.event, "detailed", "detailed")
        self.detailed_expected = expected
        scan = self.aws.scan(table)
        compare(expected, scan, "Audit (detailed)")
        items = [scan.get(audit_id(r["eventID"])) for r in self.records]
        check(all(items), "an item per record, id = UUIDv5(eventID)")
        check([i["eventName"]["S"] for i in items] == ["CREATE", "UPDATE", "UPDATE", "DELETE"],
              f"eventNames {[i['eventName'] for i in items]}")
        check([i["sequenceNumber"]["S"] for i in items] == [self.seq(k) for k in range(4)],
              "sequenceNumbers are not the records'")
        check(all(i["tableName"]["S"] == CONFIG_TABLE and i["cause"]["S"] == "user"
                  for i in items), "tableName / cause")
        paths = [c["M"]["path"]["S"] for c in items[2]["changes"]["L"]]
        check(paths == ["/description", "/limits/max", "/owners/1"],
              f"changes of the second update: {paths}")
        check([a["S"] for a in items[1]["updatedAttributes"]["L"]] == ["tags", "value"],
              f"updatedAttributes of the first update: {items[1]['updatedAttributes']}")
        return "4 items identical to the model; paths /description, /limits/max, /owners/1"

    def test_redelivery_idempotent(self):
        """The same batch delivered again to both functions: every item rewritten (the
        summary says so), and both tables unchanged, item for item."""
        check(hasattr(self, "classic") and hasattr(self, "detailed"),
              "needs test_classic_table and test_detailed_table first")
        notes = []
        for fn, table, expected in ((self.classic, "Audit", self.classic_expected),
                                    (self.detailed, "AuditDetailed", self.detailed_expected)):
            before = {i: canon(v) for i, v in self.aws.scan(table).items()}
            self.expect_complete(fn.invoke(self.event), f"{fn.name} again")
            after = {i: canon(v) for i, v in self.aws.scan(table).items()}
            check(before == after, f"{table} changed on redelivery")
            compare(expected, self.aws.scan(table), table)
            s = summaries(fn)[-1]
            check(s.get("written") == len(expected) and s.get("requests", 0) >= len(expected),
                  f"{fn.name}: the redelivery did not rewrite every item: {s}")
            check(s.get("cold_start") is False,
                  f"{fn.name}: the second invocation was logged as a cold start")
            notes.append(f"{table}: {len(after)} items rewritten, unchanged")
            self.finish(fn)
        return "; ".join(notes)

    def test_batch_write_tables(self):
        """AUDIT_WRITE_API=BatchWriteItem in both formats, signed with a role that may
        BatchWriteItem: the Configuration records, then the 40 bulk records, then both
        again (a redelivery). Each table holds exactly the model's items, and the
        redelivery changes not one; every write went out as BatchWriteItem, 25 items a
        request (no PutItem, no retry), as the summaries count them. With the PutItem-only
        role the same function is refused whole: AuditWriteFailed naming AccessDenied,
        nothing written."""
        events = [("configuration", self.event), ("bulk", lambda_event(self.bulk))]
        notes = []
        for fmt in ("classic", "detailed"):
            table = self.audit_table(f"AuditBatch{fmt.capitalize()}")
            fn = self.function(f"batch-{fmt}", table, fmt=fmt, creds=self.aws.batch_writer,
                               AUDIT_WRITE_API="BatchWriteItem")
            expected = []
            requests = []
            for rounds in ("first", "again"):
                for label, event in events:
                    what = f"batch {fmt} {label} ({rounds})"
                    self.expect_complete(fn.invoke(event), what)
                    items = self.model(event, fmt, f"batch-{fmt}-{label}")
                    if rounds == "first":
                        expected += items
                    s = summaries(fn)[-1]
                    want = -(-len(items) // BATCH_WRITE_ITEMS)
                    check(s.get("written") == len(items) and s.get("requests_put_item") == 0
                          and s.get("requests_batch_write") == s.get("requests") == want
                          and s.get("retries") == 0 and s.get("unprocessed") == 0,
                          f"{what}: {len(items)} items in {want} requests expected; "
                          f"summary {s}")
                    check(s.get("cold_start") is (rounds == "first" and label == "configuration"),
                          f"{what}: cold_start {s.get('cold_start')}")
                    requests.append(want)
                scan = self.aws.scan(table)
                if rounds == "first":
                    compare(expected, scan, f"{table}")
                    before = {i: canon(v) for i, v in scan.items()}
                else:
                    check({i: canon(v) for i, v in scan.items()} == before,
                          f"{table} changed on redelivery")
            self.finish(fn)
            notes.append(f"{fmt}: {len(expected)} items in {requests} BatchWriteItem requests, "
                         f"unchanged by redelivery")
        table = self.audit_table("AuditBatchDenied")
        fn = self.function("batch-denied", table, creds=self.aws.writer,
                           AUDIT_WRITE_API="BatchWriteItem")
        message = self.expect_error(fn.invoke(self.event), "AuditWriteFailed", "batch denied")
        check("AccessDenied" in message, f"the message does not say why: {message}")
        check(self.aws.scan(table) == {}, "something was written without the permission")
        self.finish(fn)
        return "; ".join(notes) + "; PutItem-only role: AuditWriteFailed (AccessDenied)"

    def test_batch_write_fails_then_redelivered(self):
        """BatchWriteItem mode (detailed), the 40 bulk records: requests of records 0-24
        and 25-39. A proxy refuses the request holding record 30's item
        (ValidationException: not retryable, so sent once and failed whole). The answer
        names record 25, the first record of that request; the first request's 25 items
        are the model's, the refused ones absent. Redelivered from record 25 without the
        fault, the table is the model's whole."""
        table = self.audit_table("AuditBatchOneFails")
        proxy = self.proxy()
        bad = audit_id(self.bulk[30]["eventID"])
        proxy.fail = [bad.encode()]
        fn = self.function("batch-one-fails", table, fmt="detailed", creds=self.aws.batch_writer,
                           endpoint=proxy.endpoint, AUDIT_WRITE_API="BatchWriteItem")
        event = lambda_event(self.bulk)
        post = fn.invoke(event)
        first = self.seq(BATCH_WRITE_ITEMS, self.bulk)
        check(post["kind"] == "response" and post["json"] ==
              {"batchItemFailures": [{"itemIdentifier": first}]},
              f"answer {post['kind']} {post['body']}, expected record 25's SequenceNumber {first}")
        check(proxy.hits.get(bad.encode()) == 1,
              f"the refused request was sent {proxy.hits.get(bad.encode())} times, expected once")
        check(proxy.wait_idle(), "the proxy is still forwarding")
        expected = self.model(event, "detailed", "batch-one-fails")
        written = {audit_id(r["eventID"]) for r in self.bulk[:BATCH_WRITE_ITEMS]}
        compare([e for e in expected if e[0] in written], self.aws.scan(table),
                "the first request's items")
        s = summaries(fn)[-1]
        check(s.get("outcome") == "partial" and s.get("written") == BATCH_WRITE_ITEMS and
              s.get("failed") == BULK_RECORDS - BATCH_WRITE_ITEMS and
              s.get("requests_batch_write") == 2 and s.get("item_identifier") == first,
              f"summary {s}")
        proxy.fail = []
        self.expect_complete(fn.invoke(lambda_event(self.bulk[BATCH_WRITE_ITEMS:])),
                             "redelivery")
        check(proxy.wait_idle(), "the proxy is still forwarding")
        compare(expected, self.aws.scan(table), "after redelivery")
        check(not proxy.errors, f"proxy: {proxy.errors[:3]}")
        self.finish(fn)
        return (f"batchItemFailures [{first}] (record 25), 25 of 40 written; after redelivery "
                f"from it: 40 of 40")

    def test_one_write_fails_for_good(self):
        """A proxy refuses one item of the first update (ValidationException, HTTP 400):
        the answer names that record's SequenceNumber; the item was tried once (not
        retryable); later records were still written. Redelivered from that record
        without the fault, the table is complete."""
        table = self.audit_table("AuditOneFails")
        proxy = self.proxy()
        bad = audit_id(self.records[1]["eventID"] + "/value")
        proxy.fail = [bad.encode()]
        fn = self.function("one-fails", table, endpoint=proxy.endpoint)
        post = fn.invoke(self.event)
        check(post["kind"] == "response" and post["status"] == 202, f"answer: {post}")
        check(post["json"] == {"batchItemFailures": [{"itemIdentifier": self.seq(1)}]},
              f"response {post['body']}, expected record 1's SequenceNumber {self.seq(1)}")
        check(proxy.hits.get(bad.encode()) == 1,
              f"the refused item was sent {proxy.hits.get(bad.encode())} times, expected once")
        expected = self.model(self.event, "classic", "one-fails")
        compare([e for e in expected if e[0] != bad], self.aws.scan(table),
                "every item but the refused one")
        s = summaries(fn)[-1]
        check(s.get("outcome") == "partial" and s.get("failed") == 1 and s.get("written") == 6
              and s.get("item_identifier") == self.seq(1), f"summary: {s}")
        errors = [line for line in fn.log_lines() if line.get("level") == "ERROR"]
        check(any("ValidationException" in json.dumps(e) for e in errors),
              f"no ERROR line names ValidationException: {errors}")
        # Lambda redelivers from the checkpoint: records 1.. of the batch.
        proxy.fail = []
        self.expect_complete(fn.invoke(lambda_event(self.records[1:])), "redelivery")
        compare(expected, self.aws.scan(table), "after redelivery")
        check(not proxy.errors, f"proxy: {proxy.errors[:3]}")
        self.finish(fn)
        return (f"batchItemFailures [{self.seq(1)}], 1 attempt, 6 of 7 written; after "
                f"redelivery from it: 7 of 7")

    def test_nothing_writable(self):
        """A role that may not PutItem (moto answers AccessDenied to every write): the
        invocation fails with AuditWriteFailed (header Function.AuditWriteFailed), nothing
        is written, and the function serves the next invocation."""
        table = self.audit_table("AuditDenied")
        fn = self.function("denied", table, creds=self.aws.reader)
        message = self.expect_error(fn.invoke(self.event), "AuditWriteFailed", "denied")
        check("AccessDenied" in message, f"the message does not say why: {message}")
        check(self.aws.scan(table) == {}, "something was written")
        s = summaries(fn)[-1]
        check(s.get("outcome") == "write_failed" and s.get("written") == 0
              and s.get("failed") == 7 and s.get("retries") == 0, f"summary: {s}")
        self.expect_complete(fn.invoke(b'{"Records":[]}'), "the next invocation")
        check(fn.alive(), "the function exited")
        self.finish(fn)
        return f"AuditWriteFailed: {message[:110]}..."

    def test_missing_audit_table(self):
        """No AUDIT_TABLE (unset, then empty, which counts as unset): an init error
        (Runtime.InvalidConfiguration, naming AUDIT_TABLE) posted before any
        /invocation/next, exit status 1, the queued event left for a fresh process."""
        notes = []
        for label, value in (("unset", None), ("empty", "")):
            fn = self.function(f"no-table-{label}", "x", AUDIT_TABLE=value)
            message = self.expect_init_error(fn, label, "AUDIT_TABLE")
            self.finish(fn)
            notes.append(label)
        return f"{', '.join(notes)}: {message}"

    def test_garbage_payload(self):
        """Payloads that are not DynamoDB Streams events (not JSON, Records not an array,
        an SQS event, a byte-order mark) each fail as InvalidEvent and write nothing; the
        same process then handles a real event."""
        table = self.audit_table("AuditGarbage")
        fn = self.function("garbage", table)
        payloads = [b"this is not JSON", b'{"Records": 7}',
                    b'{"Records":[{"eventSource":"aws:sqs","messageId":"1","body":"x"}]}',
                    b"\xef\xbb\xbf" + self.event, self.event[:len(self.event) // 2]]
        for p in payloads:
            self.expect_error(fn.invoke(p), "InvalidEvent", f"payload {p[:30]!r}")
        check(self.aws.scan(table) == {}, "a payload that is no event wrote something")
        self.expect_complete(fn.invoke(self.event), "a real event after them")
        compare(self.classic_expected, self.aws.scan(table), "after the real event")
        self.finish(fn)
        return f"{len(payloads)} x InvalidEvent, nothing written; then 7 items"

    def test_deadline_near(self):
        """40 records, every write delayed 200 ms by the proxy, deadline 600 ms ahead (8
        writes in flight: 5 rounds of 200 ms would be needed):
        the function stops early and reports the first unwritten record before the
        deadline; every record before it is in the table. Redelivered from there, the
        table is complete."""
        table = self.audit_table("AuditDeadline")
        proxy = self.proxy()
        fn = self.function("deadline", table, endpoint=proxy.endpoint)
        self.expect_complete(fn.invoke(b'{"Records":[]}'), "warm-up")  # now polling /next
        event = lambda_event(self.bulk)
        expected = self.model(event, "classic", "bulk")
        check(len(expected) == BULK_RECORDS, f"model: {len(expected)} items")
        proxy.delay_ms = 200
        deadline = now_ms() + 600
        post = fn.invoke(event, deadline_ms=deadline)
        answered = now_ms()
        check(post["kind"] == "response" and post["status"] == 202, f"answer: {post}")
        check(answered <= deadline, f"answered {answered - deadline} ms after the deadline")
        failures = (post["json"] or {}).get("batchItemFailures")
        seqs = [self.seq(i, self.bulk) for i in range(BULK_RECORDS)]
        check(isinstance(failures, list) and len(failures) == 1 and
              failures[0].get("itemIdentifier") in seqs, f"response {post['body']}")
        k = seqs.index(failures[0]["itemIdentifier"])
        check(0 < k < BULK_RECORDS, f"stopped at record {k}: no progress or no early stop")
        s = summaries(fn)[-1]
        check(s.get("outcome") == "partial" and s.get("written", 0) >= k and
              s.get("not_attempted", 0) + s.get("failed", 0) > 0, f"summary: {s}")
        check(any("deadline" in line.get("message", "") and line.get("level") == "WARN"
                  for line in fn.log_lines()), "no WARN line about the deadline")
        check(proxy.wait_idle(), "the proxy is still forwarding")
        scan = self.aws.scan(table)
        before = [e for e in expected if e[0] in {audit_id(r["eventID"]) for r in self.bulk[:k]}]
        compare(before, {i: scan[i] for i in scan if i in {e[0] for e in before}},
                f"records before the checkpoint {k}")
        check(len(before) == k and all(e[0] in scan for e in before),
              f"records before the checkpoint {k} not all written")
        proxy.delay_ms = 0
        self.expect_complete(fn.invoke(lambda_event(self.bulk[k:])), "redelivery")
        check(proxy.wait_idle(), "the proxy is still forwarding")
        compare(expected, self.aws.scan(table), "after redelivery")
        check(not proxy.errors, f"proxy: {proxy.errors[:3]}")
        self.finish(fn)
        return (f"answered {deadline - answered} ms before the deadline with record {k}'s "
                f"SequenceNumber ({s.get('written')} written, {s.get('not_attempted')} not "
                f"attempted, {s.get('failed')} cut off); complete after redelivery")

    def test_deadline_unknown(self):
        """A deadline already past on arrival (as some emulators send) or not a number
        counts as unknown: with every write delayed 300 ms, nothing is cut short."""
        table = self.audit_table("AuditNoDeadline")
        proxy = self.proxy()
        fn = self.function("no-deadline", table, endpoint=proxy.endpoint)
        proxy.delay_ms = 300
        for label, deadline in (("past", str(now_ms() - 5000)), ("garbage", "soon")):
            t0 = now_ms()
            self.expect_complete(fn.invoke(self.event, deadline_ms=deadline), label)
            s = summaries(fn)[-1]
            check(s.get("written") == 7 and s.get("not_attempted") == 0,
                  f"{label}: summary {s}")
            check(now_ms() - t0 >= 300, f"{label}: answered before the delayed writes were done")
        check(not any("deadline near" in line.get("message", "") for line in fn.log_lines()),
              "a line about the deadline stopping the writes")
        check(any(line.get("level") == "WARN" and "\"soon\" is not epoch milliseconds" in
                  line.get("message", "") for line in fn.log_lines()),
              "no WARN line about the deadline \"soon\"")
        compare(self.classic_expected, self.aws.scan(table), "Audit")
        check(not proxy.errors, f"proxy: {proxy.errors[:3]}")
        self.finish(fn)
        return "deadline 5 s past and deadline \"soon\": 7 of 7 written each time"

    def test_noop_modify(self):
        """moto's MODIFY for a PutItem that changed nothing (images equal): no item, and
        the record counts as written; the INSERT before it is written."""
        names = [r["eventName"] for r in self.noop]
        check(names == ["INSERT", "MODIFY"], f"stream of the no-op write: {names}")
        ddb = self.noop[1]["dynamodb"]
        check(ddb["OldImage"] == ddb["NewImage"], "the MODIFY's images differ")
        table = self.audit_table("AuditNoop")
        fn = self.function("noop", table)
        event = lambda_event(self.noop)
        self.expect_complete(fn.invoke(event), "no-op")
        expected = self.model(event, "classic", "noop")
        check([i for i, _, _ in expected] == [audit_id(self.noop[0]["eventID"])],
              f"the model gives {len(expected)} items, expected the INSERT's only")
        compare(expected, self.aws.scan(table), "Audit")
        s = summaries(fn)[-1]
        check(s.get("records") == 2 and s.get("items") == 1 and s.get("records_failed") == 0,
              f"summary {s}")
        self.finish(fn)
        return "INSERT + no-op MODIFY: 1 item, complete"

    def test_invalid_record(self):
        """A record DynamoDB would refuse (the first update's new `value` is N "12abc")
        becomes one error item (error naming the field, rawRecord = the record's bytes
        as delivered); the other records' items are written as usual; nothing is
        reported failed."""
        records = loads_raw(dumps_raw(self.records))
        records[1]["dynamodb"]["NewImage"]["value"] = {"N": "12abc"}
        event = lambda_event(records)
        table = self.audit_table("AuditInvalid")
        fn = self.function("invalid", table)
        self.expect_complete(fn.invoke(event), "invalid record")
        expected = self.model(event, "classic", "invalid")
        scan = self.aws.scan(table)
        bad = audit_id(records[1]["eventID"])
        got = scan.get(bad, {})
        error = got.get("error", {}).get("S", "")
        check("Records[1]" in error and "value" in error, f"error text: {error!r}")
        check(got.get("rawRecord", {}).get("S", "") == dumps_raw(records[1]),
              "rawRecord is not the record's bytes as delivered")
        model_error = [e for e in expected if e[0] == bad]
        check(len(model_error) == 1 and "error" in model_error[0][2], "the model's error item")
        # The error text is the implementation's wording (the format leaves it open).
        model_error[0][2]["error"] = got.get("error")
        fixed = [(i, canon(it) if i == bad else c, it) for i, c, it in expected]
        compare(fixed, scan, "Audit")
        s = summaries(fn)[-1]
        check(s.get("error_items") == 1 and s.get("outcome") == "complete", f"summary {s}")
        check(any(line.get("level") == "ERROR" and "Records[1]" in json.dumps(line)
                  for line in fn.log_lines()), "no ERROR line for the invalid record")
        self.finish(fn)
        return f"{len(expected)} items, one an error item: {error}"

    def test_large_item_truncated(self):
        """A 250,000-byte attribute replaced by another: its classic item (old and new
        value, 500 KB) is over DynamoDB's 400 KB, so one side becomes the format's marker
        (sizeBytes, SHA-256 of the value's compact wire JSON, both recomputed here) and
        moto stores the item; every other item is the model's, untouched."""
        ddb = self.aws.client("dynamodb", self.aws.admin)
        arn = self.aws.create_table(LARGE_TABLE, "key", stream=True)
        blobs = ("a" * 250000, "b" * 250000)
        for n, blob in enumerate(blobs):
            ddb.put_item(TableName=LARGE_TABLE, Item={"key": {"S": "BIG"}, "blob": {"S": blob},
                                                      "rev": {"N": str(n + 1)}})
        records = [lambda_record(r, arn) for r in self.aws.read_stream(arn)]
        check([r["eventName"] for r in records] == ["INSERT", "MODIFY"],
              f"stream: {[r['eventName'] for r in records]}")
        event = lambda_event(records)
        table = self.audit_table("AuditLarge")
        fn = self.function("large", table)
        self.expect_complete(fn.invoke(event), "large")
        s = summaries(fn)[-1]
        check(s.get("truncated") == 1 and s.get("written") == 3, f"summary {s}")
        scan = self.aws.scan(table)
        big = audit_id(records[1]["eventID"] + "/blob")
        got = scan.get(big, {})
        sides = {"oldValue": blobs[0], "newValue": blobs[1]}
        marked = [k for k in sides if "M" in got.get(k, {})]
        check(len(marked) == 1, f"expected one side replaced: {canon(got)[:300]}")
        side = marked[0]
        other = "newValue" if side == "oldValue" else "oldValue"
        wire = json.dumps({"S": sides[side]}, separators=(",", ":")).encode()
        marker = {"M": {"truncated": {"BOOL": True}, "sizeBytes": {"N": "250000"},
                        "sha256": {"S": hashlib.sha256(wire).hexdigest()}}}
        check(canon({"v": got[side]}) == canon({"v": marker}),
              f"{side}: {got[side]}, expected {marker}")
        check(got.get(other) == {"S": sides[other]}, f"{other} is not the whole value")
        expected = self.model(event, "classic", "large")
        fixed = []
        for i, c, item in expected:
            if i == big:
                item[side] = marker
                c = canon(item)
            fixed.append((i, c, item))
        compare(fixed, scan, "Audit")
        self.finish(fn)
        return f"{side} of the 500 KB item replaced by its marker; 3 items stored"

    def test_tls_table(self):
        """Over TLS: a forwarder in front of moto with a certificate for IP:127.0.0.1 from
        a CA made for this run, AWS_ENDPOINT_URL_DYNAMODB its https URL and AWS_CA_BUNDLE
        the CA's file. The four records are answered complete, the Audit table holds the
        model's items, and every request the function sent came through the forwarder's
        TLS."""
        table = self.audit_table("AuditTls")
        proxy = self.proxy(tls=True)
        check(proxy.endpoint.startswith("https://127.0.0.1:"), f"endpoint {proxy.endpoint}")
        fn = self.function("tls", table, endpoint=proxy.endpoint, AWS_CA_BUNDLE=self.pki().ca)
        expected = self.expect_event_written(fn, table, "tls")
        check(proxy.wait_idle(), "the forwarder is still forwarding")
        s = summaries(fn)[-1]
        check(s.get("written") == len(expected) and s.get("requests") == proxy.requests and
              proxy.handshakes >= proxy.requests > 0,
              f"summary {s}; forwarder: {proxy.requests} requests, {proxy.handshakes} "
              f"handshakes")
        check(not proxy.handshake_errors and not proxy.errors,
              f"forwarder: {(proxy.handshake_errors + proxy.errors)[:3]}")
        self.finish(fn)
        return (f"{len(expected)} items written over TLS: {proxy.requests} requests, "
                f"{proxy.handshakes} handshakes")

    def test_tls_wrong_ca(self):
        """AWS_CA_BUNDLE names a CA that did not sign the forwarder's certificate: the
        function starts (the file is there), then refuses the certificate in every
        handshake (the forwarder gets the client's unknown-CA alert and forwards nothing),
        so not one record is written: AuditWriteFailed, an empty table, and ERROR lines
        naming TlsError and the certificate."""
        table = self.audit_table("AuditTlsWrongCa")
        proxy = self.proxy(tls=True)
        fn = self.function("tls-wrong-ca", table, endpoint=proxy.endpoint,
                           AWS_CA_BUNDLE=self.pki().other_ca)
        message = self.expect_error(fn.invoke(self.event), "AuditWriteFailed", "wrong CA")
        check("TlsError" in message, f"the message does not say why: {message}")
        check(self.aws.scan(table) == {}, "something was written")
        s = summaries(fn)[-1]
        check(s.get("outcome") == "write_failed" and s.get("written") == 0 and
              s.get("failed") == s.get("items") == 7, f"summary: {s}")
        errors = [json.dumps(line) for line in fn.log_lines() if line.get("level") == "ERROR"]
        check(any("TlsError" in e and "certificate" in e for e in errors),
              f"no ERROR line names TlsError and the certificate: {errors[:3]}")
        end = time.monotonic() + 5  # the forwarder's threads record what they saw
        while len(proxy.handshake_errors) < s["requests"] and time.monotonic() < end:
            time.sleep(0.02)
        check(proxy.requests == 0 and proxy.handshakes == 0, f"the forwarder got "
              f"{proxy.requests} requests after {proxy.handshakes} handshakes")
        check(len(proxy.handshake_errors) == s["requests"] and
              all("UNKNOWN_CA" in e for e in proxy.handshake_errors),
              f"{s['requests']} requests; handshakes failed: {proxy.handshake_errors[:3]}")
        self.finish(fn)
        return f"AuditWriteFailed: {message[:110]}..."

    def test_tls_no_ca_anywhere(self):
        """The task in a root of its own (chroot: Lambda's folders, the task and glibc; no
        /etc, so not one of the places a CA bundle is looked for exists), AWS_CA_BUNDLE and
        SSL_CERT_FILE unset, an https endpoint: the zip's libcurl has no CA default of its
        own, so the function does not start, and its init error says to set
        AWS_CA_BUNDLE. In the same root with AWS_CA_BUNDLE naming the test CA (copied in),
        it writes the table over TLS: that bundle alone is trusted, and the root works."""
        pki = self.pki()
        jail = Jail(self.task, self.workdir, "no-ca-root", {pki.ca: "/tls/ca.pem"})
        check(not os.path.exists(os.path.join(jail.fs, "etc")), "the root has an /etc")
        proxy = self.proxy(tls=True)
        fn = self.function("no-ca", "AuditNoCa", endpoint=proxy.endpoint, task=jail,
                           AWS_CA_BUNDLE=None, SSL_CERT_FILE=None)
        message = self.expect_init_error(fn, "no-ca", "AWS_CA_BUNDLE")
        check("https" in message and "libcurl" in message and "SSL_CERT_FILE" in message,
              f"the message does not say what was looked at: {message}")
        check(proxy.handshakes == 0 and not proxy.handshake_errors, "it connected")
        self.finish(fn)
        table = self.audit_table("AuditNoCaBundle")
        fn = self.function("no-ca-bundle", table, endpoint=proxy.endpoint, task=jail,
                           AWS_CA_BUNDLE="/tls/ca.pem")
        expected = self.expect_event_written(fn, table, "no-ca-bundle")
        check(proxy.handshakes > 0 and not proxy.handshake_errors,
              f"forwarder: {proxy.handshakes} handshakes, {proxy.handshake_errors[:3]}")
        self.finish(fn)
        return f"init error: {message}; with AWS_CA_BUNDLE: {len(expected)} items"

    def test_tls_first_batch_connections(self):
        """A fresh function's first batch over TLS, against tests/soak/soak_server.py (the
        fault server's answers, no faults) with the test CA's certificate, which counts the
        connections it accepts and the handshakes it completes: 100 items (the first 100
        records of events/bench-1000-mixed.json, detailed) in each write mode at
        AUDIT_CONCURRENCY 1, 8 (the default) and 16. The first batch opens at most
        min(concurrency, requests) connections, each with one handshake and each carrying
        requests; the same batch again, in the same process, opens none."""
        pki = self.pki()
        server = soak_server.Process(os.path.join(self.workdir, "tls-first.err"),
                                     tls=(pki.cert, pki.key), cafile=pki.ca)
        self.fault_servers.append(server)
        with open(os.path.join(harness.TOP, "events", "bench-1000-mixed.json"), "rb") as f:
            records = loads_raw(f.read())["Records"][:TLS_FIRST_ITEMS]
        event = lambda_event(records)
        notes = []
        for mode in ("PutItem", "BatchWriteItem"):
            for concurrency in (1, 8, 16):
                label = f"tls-first-{mode}-{concurrency}"
                server.reset()
                s0 = server.stats()
                fn = self.function(label, "Audit", fmt="detailed", endpoint=server.endpoint,
                                   AWS_CA_BUNDLE=pki.ca, AUDIT_WRITE_API=mode,
                                   AUDIT_CONCURRENCY=str(concurrency))
                self.expect_complete(fn.invoke(event), label)
                s1 = server.stats()
                self.expect_complete(fn.invoke(event), f"{label} again")
                s2 = server.stats()
                self.finish(fn)
                opened = ((s1["handshakes"] - s0["handshakes"])
                          - (s1["control_connections"] - s0["control_connections"]))
                requests = sum(s1["requests"].values())
                bound = min(concurrency, requests)
                check(len(set(server.new_writes())) == TLS_FIRST_ITEMS,
                      f"{label}: the server did not get {TLS_FIRST_ITEMS} distinct ids")
                check(requests == (TLS_FIRST_ITEMS if mode == "PutItem" else
                                   -(-TLS_FIRST_ITEMS // BATCH_WRITE_ITEMS)),
                      f"{label}: {requests} requests for the first batch")
                check(0 < opened <= bound, f"{label}: the first batch made {opened} "
                      f"handshakes for {requests} requests at concurrency {concurrency}; "
                      f"at most {bound} expected")
                check(s1["ddb_connections"] == opened and s2["handshake_errors"] == 0,
                      f"{label}: {opened} handshakes, {s1['ddb_connections']} connections "
                      f"carried requests, {s2['handshake_errors']} handshakes failed")
                again = ((s2["handshakes"] - s1["handshakes"])
                         - (s2["control_connections"] - s1["control_connections"]))
                check(again == 0, f"{label}: the second batch made {again} handshakes")
                notes.append(f"{mode} c={concurrency}: {opened} for {requests}")
        return "first-batch handshakes: " + ", ".join(notes) + "; none on the second batch"

    def fault_server(self, name):
        server = FaultServer(self.workdir, name)
        self.fault_servers.append(server)
        return server

    def test_echoed_secrets(self):
        """Issue 9, items 1 and 2: the fault-injecting DynamoDB answers every PutItem with
        a 400 whose message repeats what the request held: a 1,094-character session token
        (and the secret, never sent) in a message over 1 KB, then the Authorization header
        as IncompleteSignatureException does. Each invocation fails as AuditWriteFailed,
        and neither the log nor the body posted to /invocation/{id}/error holds 16
        characters in a row of the token, the secret, any signature sent, or the access
        key id."""
        token = long_token()
        secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzE2EKEY0001"
        akid = "ASIAE2ETESTKEYID0001"
        server = self.fault_server("echo-ddb")
        notes = []
        for action, error_type in (("tokenecho", "UnrecognizedClientException"),
                                   ("authecho", "IncompleteSignatureException")):
            server.script({"default": action})
            fn = self.function(f"echo-{action}", "Audit", endpoint=server.endpoint,
                               creds=(akid, secret, token), AWS_MAX_ATTEMPTS="1")
            post = fn.invoke(self.event)
            message = self.expect_error(post, "AuditWriteFailed", action)
            check(error_type in message and "[redacted]" in message,
                  f"{action}: the message does not say what was refused: {message}")
            sent = server.requests()
            check(sent and all(dict((k.lower(), v) for k, v in r["headers"])
                               .get("x-amz-security-token") == token for r in sent),
                  f"{action}: the token did not reach the server whole")
            signatures = []
            for r in sent:
                auth = dict((k.lower(), v) for k, v in r["headers"]).get("authorization", "")
                signatures += re.findall(r"Signature=([0-9a-f]{64})", auth)
            check(len(signatures) == len(sent), f"{action}: {len(signatures)} signatures")
            fn.stop()
            lines = fn.log_lines()
            texts = {"log": fn.log_text(), "error body": post["body"],
                     "decoded log": "\n".join(json.dumps(x, ensure_ascii=False) for x in lines)}
            for where, text in texts.items():
                for what, value in [("token", token), ("secret", secret), ("key id", akid)] + \
                        [("signature", sig) for sig in signatures]:
                    run = leaked_run(text, value)
                    check(run is None, f"{action}: the {where} holds {run!r} of the {what}")
            check(any(line.get("level") == "ERROR" and error_type in json.dumps(line)
                      for line in lines), f"{action}: no ERROR line names {error_type}")
            self.finish(fn)
            notes.append(f"{action}: {message[:90]}")
        return "; ".join(notes)

    def test_hostile_runtime_and_skew(self):
        """Issue 9, items 4 and 6, against the packaged bootstrap: a 200 KB trace id
        (over libcurl's 100 KB header line cap) fails that invocation with
        Runtime.HeaderTooLarge and the next is written; an invocation without a request id
        is skipped with a WARN; a response post that the Runtime API answers slowly gives
        up at the invocation's deadline, not 40 s later, and the function goes on; one
        "Signature expired" dated 9999-12-31 corrects no clock, and the next invocation
        is signed, sent and written."""
        table = self.audit_table("AuditHostile")
        fn = self.function("hostile", table)
        sizes = json.dumps({"Lambda-Runtime-Trace-Id": 200 * 1024})
        fn.standin.enqueue(self.event, request_id="giant-trace", sizes=sizes)
        fn.standin.enqueue(self.event, request_id="no-id", omit="Lambda-Runtime-Aws-Request-Id")
        fn.standin.enqueue(self.event, request_id="after")
        results = fn.standin.wait(2, 30)
        check(results is not None, f"no two answers within 30 s: {fn.log_tail()}")
        first, second = results["posts"][:2]
        header = first["headers"].get("lambda-runtime-function-error-type")
        check(first["request_id"] == "giant-trace" and header == "Runtime.HeaderTooLarge",
              f"giant trace id: {first['request_id']} {header}: {first['body']}")
        check(second["request_id"] == "after", f"second answer for {second['request_id']}")
        self.expect_complete(second, "after")
        compare(self.model(self.event, "classic", "hostile"), self.aws.scan(table), "Audit")
        warns = [line.get("message", "") for line in fn.log_lines() if line.get("level") == "WARN"]
        check(any("invocation giant-trace" in w and "100 KB" in w for w in warns),
              f"no WARN about the giant header: {warns}")
        check(any("Lambda-Runtime-Aws-Request-Id is missing" in w for w in warns),
              f"no WARN about the missing request id: {warns}")
        fn.posts = 2

        # A slow answer: each post attempt waits 3 s at the stand-in, the deadline is 1.5 s.
        fn.standin.request("POST", "/_test/fault?action=delay&delay_ms=3000&path=response"
                           "&count=4")
        t0 = time.monotonic()
        fn.standin.enqueue(b'{"Records":[]}', request_id="slow-answer", timeout_ms=1500)
        gave_up = None
        while time.monotonic() - t0 < 20 and gave_up is None:
            for line in fn.log_lines():
                if "gave up at the invocation's deadline" in line.get("message", ""):
                    gave_up = time.monotonic() - t0
            time.sleep(0.1)
        check(gave_up is not None and gave_up < 4, f"post not bounded by the deadline: "
              f"{gave_up}: {fn.log_tail()}")
        check(fn.alive(), "the function exited after the slow post")
        time.sleep(3.2)  # the stand-in records the abandoned attempt after its delay
        fn.posts = len(fn.standin.results()["posts"])
        self.expect_complete(fn.invoke(b'{"Records":[]}'), "after the slow post")

        secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzE2EKEY0002"
        server = self.fault_server("skew-ddb")
        server.script({"secret": secret, "default": "expired_date:Fri, 31 Dec 9999 23:59:59 GMT"})
        fs = self.function("skew-9999", "Audit", endpoint=server.endpoint,
                           creds=("AKIDE2ESKEW", secret, None))
        message = self.expect_error(fs.invoke(self.event), "AuditWriteFailed", "9999")
        check("over 24 h from the local clock" in message, f"9999: {message}")
        server.script({"secret": secret, "default": "ok"})
        self.expect_complete(fs.invoke(self.event), "after the 9999 answer")
        sent = server.requests()
        check(sent and all(r["signature_ok"] for r in sent),
              f"after the 9999 answer: {len(sent)} requests, not all signed right")
        self.finish(fn)
        self.finish(fs)
        return (f"HeaderTooLarge answered, missing id skipped, slow post given up after "
                f"{gave_up:.1f} s, 9999 ignored and {len(sent)} signed writes after it")

    def test_bad_settings_at_init(self):
        """Issue 9, items 3 and 5: each of these is an init error naming its variable
        (Runtime.InvalidConfiguration, exit status 1, no invocation taken), logged as JSON
        since AWS_LAMBDA_LOG_FORMAT=JSON, a credential's value never shown: a session
        token with CR LF or a bare LF (a header injection), a key id with a space, a
        secret with a tab or a non-ASCII byte, AWS_CA_BUNDLE or SSL_CERT_FILE naming a
        directory, AUDIT_TABLE as a table ARN of another region or partition, a bad
        AWS_LAMBDA_LOG_LEVEL; and, before any configuration is read, no
        AWS_LAMBDA_RUNTIME_API."""
        token = long_token(seed=11, length=600)
        arn = "arn:{}:dynamodb:{}:123456789012:table/Audit"
        cases = [
            ("token-crlf", {"AWS_SESSION_TOKEN": token[:300] + "\r\nX-Injected: 1"},
             "AWS_SESSION_TOKEN", token[:300]),
            ("token-lf", {"AWS_SESSION_TOKEN": token[:300] + "\nX-Injected: 1"},
             "AWS_SESSION_TOKEN", token[:300]),
            ("key-space", {"AWS_ACCESS_KEY_ID": "ASIAE2E KEYID0000001"}, "AWS_ACCESS_KEY_ID",
             "KEYID0000001"),
            ("secret-tab", {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI\tK7MDENGbPxRfiCY"},
             "AWS_SECRET_ACCESS_KEY", "K7MDENGbPxRfiCY"),
            ("secret-utf8", {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIK7MD\u00e9NGbPxRfiCY"},
             "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIK7MD"),
            ("ca-dir", {"AWS_CA_BUNDLE": self.workdir}, "AWS_CA_BUNDLE", None),
            ("ssl-cert-dir", {"AWS_CA_BUNDLE": None, "SSL_CERT_FILE": self.workdir},
             "SSL_CERT_FILE", None),
            ("arn-region", {"AUDIT_TABLE": arn.format("aws", "eu-west-1")}, "AUDIT_TABLE", None),
            ("arn-partition", {"AUDIT_TABLE": arn.format("aws-cn", harness.REGION)},
             "AUDIT_TABLE", None),
            ("log-level", {"AWS_LAMBDA_LOG_LEVEL": "loud"}, "AWS_LAMBDA_LOG_LEVEL", None),
        ]
        notes = []
        for label, extra, word, hidden in cases:
            fn = self.function(f"init-{label}", "Audit", **extra)
            message = self.expect_init_error(fn, label, word)
            text = fn.log_text()
            check(all("text" not in line for line in fn.log_lines()),
                  f"{label}: a line that is not JSON: {fn.log_tail()}")
            if hidden is not None:
                check(hidden not in text and hidden not in message,
                      f"{label}: the value is shown: {message}")
            fn.stop()
            notes.append(f"{label}: {word}")
        # Before the configuration: no Runtime API to post to, the FATAL line still JSON.
        fn = self.function("init-no-api", "Audit", AWS_LAMBDA_RUNTIME_API=None,
                           AWS_LAMBDA_LOG_LEVEL="loud")
        try:
            rc = fn.proc.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 1, f"no-api: exit status {rc}")
        lines = fn.log_lines()
        check(lines and all("text" not in line for line in lines),
              f"no-api: a line that is not JSON: {fn.log_tail()}")
        check(any(line.get("level") == "FATAL" and "AWS_LAMBDA_RUNTIME_API" in
                  line.get("message", "") for line in lines), f"no-api: {fn.log_tail()}")
        fn.stop()
        notes.append("no Runtime API: FATAL in JSON")
        return "; ".join(notes)

    def rss_events(self):
        """The 1,000 small payloads: the stream's INSERT, first MODIFY and REMOVE with
        fresh eventIDs, keys and sequence numbers, and every fourth one not an event."""
        base = int(self.seq(3)) + 1000
        out = []
        for i in range(RSS_INVOCATIONS):
            kind = i % 4
            if kind == 3:
                out.append((b'{"Records":"no"}', "error"))
                continue
            rec = loads_raw(dumps_raw(self.records[(0, 1, 3)[kind]]))
            rec["eventID"] = f"e2e-rss-{i:04d}"
            rec["dynamodb"]["SequenceNumber"] = str(base + i)
            out.append((lambda_event([rec]), "response"))
        return out

    def test_1000_invocations_flat(self):
        """1,000 invocations (INSERT, MODIFY, REMOVE and a payload that is no event, in
        turn) in one process: VmRSS grows by less than 1 MB after the first 100, the open
        file descriptors stay the same, every answer is right, and the table holds what
        the model says."""
        table = self.audit_table("AuditRss")
        fn = self.function("rss", table)
        events = self.rss_events()
        t0 = time.monotonic()
        samples = []
        for start in range(0, RSS_INVOCATIONS, RSS_WARMUP):
            for payload, _ in events[start:start + RSS_WARMUP]:
                fn.standin.enqueue(payload)
            fn.posts = start + RSS_WARMUP
            results = fn.standin.wait(fn.posts, 120)
            check(results is not None, f"no {fn.posts} answers within 120 s: {fn.log_tail()}")
            samples.append((fn.posts, fn.status("VmRSS"), fn.fds()))
        elapsed = time.monotonic() - t0
        posts = fn.standin.results()["posts"]
        check(len(posts) == RSS_INVOCATIONS, f"{len(posts)} posts")
        for i, (post, (_, kind)) in enumerate(zip(posts, events)):
            check(post["kind"] == kind and post["status"] == 202, f"invocation {i}: {post}")
            if kind == "response":
                check(post["json"] == {"batchItemFailures": []}, f"invocation {i}: {post['body']}")
        warm_rss, warm_fds = samples[0][1], samples[0][2]
        growth = samples[-1][1] - warm_rss
        trend = " ".join(f"{n}:{rss}" for n, rss, _ in samples)
        check(growth < RSS_MAX_GROWTH_KB,
              f"VmRSS grew {growth} kB from invocation {RSS_WARMUP} to {RSS_INVOCATIONS}: {trend}")
        for n, _, fds in samples:
            check(len(fds) == len(warm_fds), f"{len(fds)} fds after {n}, {len(warm_fds)} "
                  f"after {RSS_WARMUP}: {fds} vs {warm_fds}")
        # An item depends on its record alone: one model run over all the records.
        records = [loads_raw(p)["Records"][0] for p, kind in events if kind == "response"]
        expected = self.model(lambda_event(records), "classic", "rss")
        compare(expected, self.aws.scan(table), "Audit after 1,000 invocations")
        self.finish(fn)
        return (f"{RSS_INVOCATIONS} invocations in {elapsed:.1f} s ({len(expected)} items); "
                f"VmRSS kB after N: {trend}; growth {growth} kB; {len(warm_fds)} fds throughout")

    TESTS = [
        "test_stream_records",
        "test_classic_table",
        "test_detailed_table",
        "test_redelivery_idempotent",
        "test_batch_write_tables",
        "test_batch_write_fails_then_redelivered",
        "test_one_write_fails_for_good",
        "test_nothing_writable",
        "test_missing_audit_table",
        "test_garbage_payload",
        "test_deadline_near",
        "test_deadline_unknown",
        "test_noop_modify",
        "test_invalid_record",
        "test_large_item_truncated",
        "test_tls_table",
        "test_tls_wrong_ca",
        "test_tls_no_ca_anywhere",
        "test_tls_first_batch_connections",
        "test_echoed_secrets",
        "test_hostile_runtime_and_skew",
        "test_bad_settings_at_init",
        "test_1000_invocations_flat",
    ]


def raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def run_suite(label, suite_class, args, summary=None):
    """Runs the tests of `suite_class` that `args.tests` names (all when none) against one
    setup, printing a line per test and `<label>: N passed, N failed`; the exit status.
    `summary(suite)` may print more before the totals."""
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, raise_exit)  # so that `finally` stops what was started

    names = suite_class.TESTS
    if args.tests:
        names = [n for n in suite_class.TESTS if n[len("test_"):] in args.tests]
        unknown = set(args.tests) - {n[len("test_"):] for n in suite_class.TESTS}
        if unknown:
            print(f"{label}: no such test: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
    t0 = time.monotonic()
    passed = failed = 0
    workdir = tempfile.mkdtemp(prefix=f"auditstream-{label}.")
    suite = suite_class(args, workdir)
    try:
        setup_error = None
        try:
            suite.setup()
        except SetupError as e:
            setup_error = str(e)
        except Exception as e:  # noqa: BLE001 - any setup failure fails every test
            setup_error = f"setup failed: {type(e).__name__}: {e}\n{traceback.format_exc()}"
        if setup_error is not None:
            print(f"{label}: SETUP FAILED: {setup_error}", flush=True)
        for name in names:
            if setup_error is not None:
                print(f"FAIL {name}: not run: setup failed (see above)", flush=True)
                failed += 1
                continue
            start = time.monotonic()
            try:
                check(suite.moto.alive(), "moto is no longer running")
                note = getattr(suite, name)()
                print(f"ok   {name} ({time.monotonic() - start:.1f} s): {note}", flush=True)
                passed += 1
            except TestFailure as e:
                print(f"FAIL {name} ({time.monotonic() - start:.1f} s): {e}", flush=True)
                failed += 1
            except Exception:  # noqa: BLE001 - a broken test is a failed test
                print(f"FAIL {name}: {traceback.format_exc()}", flush=True)
                failed += 1
    except BaseException:
        print(f"{label}: interrupted; stopping everything started", flush=True)
        raise
    finally:
        suite.teardown()
        if args.keep_logs or failed:
            print(f"{label}: work folder (moto.log, function logs, events) kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if summary is not None:
        summary(suite)
    print(f"{label}: total {time.monotonic() - t0:.1f} s")
    print(f"{label}: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zip", required=True, help="the x86_64 Lambda zip (make package)")
    ap.add_argument("--keep-logs", action="store_true", help="keep the work folder")
    ap.add_argument("tests", nargs="*", help="run only these tests (names without test_)")
    return run_suite("e2e", Suite, ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
