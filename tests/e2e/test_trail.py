#!/usr/bin/env python3
# End-to-end tests of reading the trail: a scripted life of several Configuration items
# audited by the packaged function in both formats, then read back with `auditstream`.
"""Run: test_trail.py --zip dist/audit_producer-x86_64.zip --cli build/auditstream

moto with SigV4 verification on, as tests/e2e/test_e2e.py sets it up (tests/e2e/harness.py).
Three Configuration items live a scripted life through boto3: a create, many updates that
change, add and remove attributes, nested maps, lists and sets, numbers written as `1.50`
and `1E3`, updates that change nothing (moto still emits a MODIFY for them: the case to
test), a delete and a re-create. After every write the item is read back (GetItem,
consistent): that, and the write's stream record's ApproximateCreationDateTime, is the
truth the trail is checked against. The stream's records are delivered in batches, as
Lambda's event source mapping would, to the packaged bootstrap in each format, each
writing its own Audit table made with the `history` index.

Checked against the audit format: the tables hold exactly what tests/golden/audit_model.py
computes; every item carries historyKey and historySort (and classic ones eventName);
no-op updates wrote nothing; a Query on the index gives each key's items in change order.
Then `auditstream`: `show --at` at every change time, between changes, before the
creation and after the delete equals the truth (DynamoDB equality: numbers by value);
`history` lists exactly the audited records; `verify` is ok, and reports `continuity`
when an audit item is deleted and when a stream record never reached the function;
`backfill` over a table filled before its stream was enabled, twice, and while the
function is writing; a profile with a session token; and the user errors this deployment
meets (wrong role, no index), each exit status 2 and one line (the exact line of every
user error is tests/cli/test_cli_moto.py's).

Ends with "trail: N passed, N failed"; exits 1 when anything failed. A setup failure fails
every test: none is skipped.
"""

import argparse
import base64
import calendar
import decimal
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harness import (CONFIG_TABLE, Aws, Function, Moto, SetupError, Task,  # noqa: E402
                     audit_id, canon, lambda_event, lambda_record, model_items)
from test_e2e import TestFailure, check, compare, iso_ms, run_suite  # noqa: E402

AUDIT = "Audit"                  # classic: the CLI's default audit table
AUDIT_DETAILED = "AuditDetailed"
BATCH = 5                        # records per invocation
GAP = 0.015                      # seconds between two writes: distinct milliseconds
EVENT = {"INSERT": "CREATE", "MODIFY": "UPDATE", "REMOVE": "DELETE"}
KEY_A = "CACHE_TTL_SEC"
KEY_B = "FEATURE_FLAGS"
KEY_C = "Durée max/s"            # non-ASCII, a space and a slash, as the CLI's argument
LEGACY = "ConfigurationLegacy"   # filled before its stream was enabled
LEGACY_ITEMS = 12
BUSY = "ConfigurationBusy"       # backfilled while the function writes
BUSY_ITEMS = 200
# A change the stream dates within the round trip of the backfill's consistent re-read
# can land on either side of the BASELINE (the read's true time is only known to lie
# in that round trip): the one discrepancy the design leaves possible. Each wrong trail
# must be explained by such a change, and few may be.
RACE_WINDOW_MS = 250
RACE_MAX_KEYS = 3


# ---- DynamoDB equality (the design's: numbers by value, sets unordered) ----------------


def norm(value):
    """A wire value as a hashable form in which DynamoDB-equal values are equal."""
    ((tag, body),) = value.items()
    if tag == "N":
        return ("N", decimal.Decimal(body))
    if tag == "B":
        return ("B", body if isinstance(body, bytes) else base64.b64decode(body))
    if tag == "SS":
        return ("SS", frozenset(body))
    if tag == "NS":
        return ("NS", frozenset(decimal.Decimal(m) for m in body))
    if tag == "BS":
        return ("BS", frozenset(m if isinstance(m, bytes) else base64.b64decode(m)
                                for m in body))
    if tag == "M":
        return ("M", tuple(sorted((k, norm(v)) for k, v in body.items())))
    if tag == "L":
        return ("L", tuple(norm(v) for v in body))
    if tag == "BOOL":
        return ("BOOL", bool(body))
    return (tag, body)


def same(a, b):
    """DynamoDB equality of two wire values, either possibly None (absent)."""
    if a is None or b is None:
        return a is None and b is None
    return norm(a) == norm(b)


def same_item(a, b):
    if a is None or b is None:
        return a is None and b is None
    return same({"M": a}, {"M": b})


def top_diff(old, new):
    """The top-level attributes whose values differ: {name: (old or None, new or None)}."""
    old, new = old or {}, new or {}
    return {k: (old.get(k), new.get(k)) for k in set(old) | set(new)
            if not same(old.get(k), new.get(k))}


def pointer(token):
    return token.replace("~", "~0").replace("/", "~1")


def deep_diff(path, old, new, out):
    """The detailed format's changes, independently: down to the deepest differing map
    key or list index, sets whole, depth-first, names in byte order, indices ascending."""
    if same(old, new):
        return out
    if old is not None and new is not None:
        (ot, ob), = old.items()
        (nt, nb), = new.items()
        if ot == nt == "M":
            for k in sorted(set(ob) | set(nb), key=lambda s: s.encode("utf-8")):
                deep_diff(path + "/" + pointer(k), ob.get(k), nb.get(k), out)
            return out
        if ot == nt == "L":
            for i in range(max(len(ob), len(nb))):
                deep_diff(f"{path}/{i}", ob[i] if i < len(ob) else None,
                          nb[i] if i < len(nb) else None, out)
            return out
    out.append((path, old, new))
    return out


def to_boto(item):
    """A wire item for boto3's client: binary members as bytes."""
    def conv(v):
        ((tag, body),) = v.items()
        if tag == "B":
            return {"B": base64.b64decode(body)}
        if tag == "BS":
            return {"BS": [base64.b64decode(m) for m in body]}
        if tag == "M":
            return {"M": {k: conv(x) for k, x in body.items()}}
        if tag == "L":
            return {"L": [conv(x) for x in body]}
        return {tag: body}
    return {k: conv(v) for k, v in item.items()}


def ms_of(acdt):
    return int((decimal.Decimal(str(acdt)) * 1000).to_integral_value(
        rounding=decimal.ROUND_FLOOR))


def ms_of_iso(text):
    """Milliseconds of `2024-05-01T12:30:45.123Z`; -1 for anything else."""
    try:
        whole = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
        return whole * 1000 + int(text[20:23])
    except (ValueError, TypeError):
        return -1


def iso_of_ms(ms, millis=True):
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))
    return text + (".%03dZ" % (ms % 1000) if millis else "Z")


# ---- the scripted life -------------------------------------------------------------------


def script(ddb, table, get):
    """The writes, in order: (key, label, no-op?, call). `get(key)` reads the item now
    (a re-put of the item as it is needs it)."""
    def put(key, item):
        return lambda: ddb.put_item(TableName=table, Item=to_boto({"key": {"S": key}, **item}))

    def update(key, expr, values=None, names=None):
        args = {"TableName": table, "Key": {"key": {"S": key}}, "UpdateExpression": expr}
        if values:
            args["ExpressionAttributeValues"] = to_boto(values)
        if names:
            args["ExpressionAttributeNames"] = names
        return lambda: ddb.update_item(**args)

    def delete(key):
        return lambda: ddb.delete_item(TableName=table, Key={"key": {"S": key}})

    def reput(key):
        return lambda: ddb.put_item(TableName=table, Item=to_boto(get(key)))

    n = lambda x: {"N": x}  # noqa: E731
    s = lambda x: {"S": x}  # noqa: E731
    v = {"#v": "value"}
    a = [
        ("create", False, put(KEY_A, {
            "value": n("3600"), "ratio": n("1.50"), "unit": s("seconds"),
            "tags": {"SS": ["cache", "ttl"]},
            "limits": {"M": {"min": n("60"), "max": n("86400")}},
            "owners": {"L": [s("ops"), s("platform")]}, "enabled": {"BOOL": True}})),
        ("value 3600 -> 1800", False, update(KEY_A, "SET #v = :v", {":v": n("1800")}, v)),
        ("ratio 1.50 -> 1.5 (same number)", True,
         update(KEY_A, "SET ratio = :r", {":r": n("1.5")})),
        ("limits.max, tags += l2", False,
         update(KEY_A, "SET limits.#m = :m ADD tags :t",
                {":m": n("43200"), ":t": {"SS": ["l2"]}}, {"#m": "max"})),
        ("the item put again as it is", True, reput(KEY_A)),
        ("owners[1], big = 1E3, unit removed", False,
         update(KEY_A, "SET owners[1] = :o, big = :b REMOVE #u",
                {":o": s("sre"), ":b": n("1E3")}, {"#u": "unit"})),
        ("big 1E3 -> 1000 (same number)", True,
         update(KEY_A, "SET big = :b", {":b": n("1000")})),
        ("limits.burst added, tags -= cache", False,
         update(KEY_A, "SET limits.burst = :u DELETE tags :t",
                {":u": {"M": {"n": n("5"), "l": {"L": [n("1"), n("2.0")]}}},
                 ":t": {"SS": ["cache"]}})),
        ("value 1800 -> 900, enabled false", False,
         update(KEY_A, "SET #v = :v, enabled = :e", {":v": n("900"), ":e": {"BOOL": False}}, v)),
        ("delete", False, delete(KEY_A)),
        ("re-create", False, put(KEY_A, {"value": n("60"), "note": s("recreated"),
                                         "limits": {"M": {"min": n("1")}}})),
        ("value 60 -> 120, limits.min 1 -> 2", False,
         update(KEY_A, "SET #v = :v, limits.#m = :m", {":v": n("120"), ":m": n("2")},
                {"#v": "value", "#m": "min"})),
    ]
    b = [
        ("create", False, put(KEY_B, {
            "flags": {"M": {"dark": {"BOOL": True}, "beta": {"NULL": True}}},
            "weights": {"NS": ["0.25", "1E3", "2"]}, "blob": {"B": "AAE="},
            "steps": {"L": [n("1"), n("2"), n("3")]}})),
        ("flags.beta, steps[2], weights += 4", False,
         update(KEY_B, "SET flags.beta = :f, steps[2] = :o ADD weights :w",
                {":f": {"BOOL": False}, ":o": n("30"), ":w": {"NS": ["4"]}})),
        ("blob written again (same bytes)", True,
         update(KEY_B, "SET #b = :b", {":b": {"B": "AAE="}}, {"#b": "blob"})),
        ("flags.dark removed, steps += 40", False,
         update(KEY_B, "REMOVE flags.dark SET steps = list_append(steps, :o)",
                {":o": {"L": [n("40")]}})),
        ("weights rewritten: the same set in other words", True,
         update(KEY_B, "SET weights = :w", {":w": {"NS": ["4", "2", "1000", "0.250"]}})),
        ("flags.beta true, note added", False,
         update(KEY_B, "SET flags.beta = :f, note = :n",
                {":f": {"BOOL": True}, ":n": s("beta on")})),
        ("delete", False, delete(KEY_B)),
    ]
    c = [
        ("create", False, put(KEY_C, {"value": n("10"), "unit": s("s")})),
        ("value 10 -> 20", False, update(KEY_C, "SET #v = :v", {":v": n("20")}, v)),
        ("unit ms, value 20000", False,
         update(KEY_C, "SET #v = :v, #u = :u", {":v": n("20000"), ":u": s("ms")},
                {"#v": "value", "#u": "unit"})),
        ("value 20000 -> 1.5E4", False, update(KEY_C, "SET #v = :v", {":v": n("1.5E4")}, v)),
    ]
    lives = {KEY_A: a, KEY_B: b, KEY_C: c}
    out = []
    while any(lives.values()):  # interleaved, as several operators would
        for key in (KEY_A, KEY_B, KEY_C):
            if lives[key]:
                label, noop, call = lives[key].pop(0)
                out.append((key, label, noop, call))
    return out


# ---- the continuity a trail should show, computed from the records ----------------------


def trail_entries(records, fmt):
    """The audit entries one key's delivered records give: (sequence number, event,
    images, {attribute: (old, new)} for a classic UPDATE's items)."""
    out = []
    for r in records:
        d = r["dynamodb"]
        attrs = top_diff(d.get("OldImage"), d.get("NewImage")) \
            if r["eventName"] == "MODIFY" and fmt == "classic" else None
        out.append({"seq": d["SequenceNumber"], "event": EVENT[r["eventName"]],
                    "old": d.get("OldImage"), "new": d.get("NewImage"), "attrs": attrs})
    return out


UNKNOWN = object()


def first_break(entries, fmt):
    """The sequence number of the first entry whose old side is not the state replayed
    up to it (DESIGN's continuity, independently), or None."""
    state = UNKNOWN
    for e in entries:
        if e["event"] == "CREATE":
            if state is not UNKNOWN and state is not None:
                return e["seq"]
            state = dict(e["new"])
        elif e["event"] == "DELETE":
            if state is not UNKNOWN and not same_item(state, e["old"]):
                return e["seq"]
            state = None
        elif fmt == "detailed":
            if state is not UNKNOWN and not same_item(state, e["old"]):
                return e["seq"]
            state = dict(e["new"])
        else:
            for name, (old, new) in sorted(e["attrs"].items()):
                if state is None:
                    return e["seq"]
                if state is not UNKNOWN and not same(state.get(name), old):
                    return e["seq"]
            if state is not UNKNOWN:
                for name, (_, new) in e["attrs"].items():
                    if new is None:
                        state.pop(name, None)
                    else:
                        state[name] = new
    return None


# ---- the command -------------------------------------------------------------------------


class Cli:
    """build/auditstream run as a person would, against moto: credentials in the AWS_*
    variables, an empty HOME (no ~/.aws), the endpoint as --endpoint-url."""

    def __init__(self, path, endpoint, workdir):
        self.path = path
        self.endpoint = endpoint
        self.home = os.path.join(workdir, "home")
        os.makedirs(self.home, exist_ok=True)
        self.calls = 0
        self.seconds = 0.0

    def env(self, creds, extra=None):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.home,
               "LANG": "C.UTF-8", "TZ": "UTC", "AWS_REGION": "us-east-1"}
        if creds is not None:
            env["AWS_ACCESS_KEY_ID"] = creds[0]
            env["AWS_SECRET_ACCESS_KEY"] = creds[1]
            if len(creds) > 2 and creds[2]:
                env["AWS_SESSION_TOKEN"] = creds[2]
        env.update(extra or {})
        return {k: v for k, v in env.items() if v is not None}  # None: left unset

    def run(self, args, creds, endpoint=True, env=None, timeout=120, stdin=None):
        cmd = [self.path] + list(args)
        if endpoint:
            cmd += ["--endpoint-url", self.endpoint]
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, env=self.env(creds, env), capture_output=True,
                               timeout=timeout, input=stdin)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"`{' '.join(args)}` did not end within {timeout} s")
        self.calls += 1
        self.seconds += time.monotonic() - t0
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))

    def json(self, args, creds, want_rc=0, **kw):
        """Runs with --json; the exit status must be `want_rc`; returns the lines parsed."""
        rc, out, err = self.run(list(args) + ["--json"], creds, **kw)
        if rc != want_rc:
            bad = [line for line in out.splitlines() if '"ok":false' in line.replace(" ", "")]
            raise TestFailure(f"`{' '.join(args)}`: exit status {rc}, expected {want_rc}: "
                              f"{err.strip()[:400]} {' '.join(bad[:3])[:1500] or out[:300]}")
        lines = []
        for line in out.splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                raise TestFailure(f"`{' '.join(args)} --json`: not a JSON line: {line[:200]!r}")
        return lines


# ---- the suite ---------------------------------------------------------------------------


class Suite:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.moto = None
        self.functions = []
        self.cli = None

    # -- setup -------------------------------------------------------------------------

    def setup(self):
        t0 = time.monotonic()
        self.task = Task(self.args.zip, self.workdir)
        self.moto = Moto(self.workdir)
        self.moto.start()
        self.aws = Aws(self.moto)
        self.aws.setup()
        self.ddb = self.aws.client("dynamodb", self.aws.admin)
        self.stream_arn = self.aws.create_table(CONFIG_TABLE, "key", stream=True)
        self.live()
        raw = self.aws.read_stream(self.stream_arn)
        self.records = [lambda_record(r, self.stream_arn) for r in raw]
        for w, r in zip(self.writes, self.records):  # one each: test_life_and_truth
            w["record"] = r
        self.cli = Cli(os.path.abspath(self.args.cli), self.moto.endpoint, self.workdir)
        print(f"trail: setup in {time.monotonic() - t0:.1f} s: {len(self.writes)} writes, "
              f"{len(self.records)} records", flush=True)

    def get(self, key, table=CONFIG_TABLE):
        """The item now, as moto holds it (number text kept), or None."""
        got = self.aws.call("DynamoDB_20120810.GetItem", {
            "TableName": table, "Key": {"key": {"S": key}}, "ConsistentRead": True})
        return got.get("Item")

    def live(self):
        """Runs the script; after each write, the item's true state."""
        self.writes = []
        for key, label, noop, call in script(self.ddb, CONFIG_TABLE, self.get):
            before = self.get(key)
            call()
            self.writes.append({"key": key, "label": label, "noop": noop,
                                "before": before, "after": self.get(key)})
            time.sleep(GAP)

    def teardown(self):
        for fn in self.functions:
            fn.stop()
        if self.moto is not None:
            self.moto.stop()

    # -- helpers -----------------------------------------------------------------------

    def function(self, name, table, fmt="classic", **extra):
        creds = self.aws.writer
        env = {"AUDIT_TABLE": table, "AUDIT_FORMAT": fmt,
               "AWS_ACCESS_KEY_ID": creds[0], "AWS_SECRET_ACCESS_KEY": creds[1],
               "AWS_SESSION_TOKEN": creds[2], "AWS_ENDPOINT_URL_DYNAMODB": self.moto.endpoint,
               "AWS_LAMBDA_LOG_FORMAT": "JSON"}
        env.update(extra)
        fn = Function(self.task, self.workdir, name, env)
        self.functions.append(fn)
        return fn

    @staticmethod
    def deliver(fn, records, batch=BATCH):
        """The records in batches, as the event source mapping delivers them; each
        invocation must be answered with no batchItemFailures."""
        for i in range(0, len(records), batch):
            post = fn.invoke(lambda_event(records[i:i + batch]))
            check(post["kind"] == "response" and post["json"] == {"batchItemFailures": []},
                  f"{fn.name}: records {i}..: {post['kind']} {post['body']}: {fn.log_tail()}")

    def audit_table(self, name, fmt, records, label=None):
        """An Audit table with the history index, filled by a function of `fmt` with
        `records`; returns (scan, model items)."""
        self.aws.create_table(name, "id", history=True)
        fn = self.function(label or name, name, fmt)
        self.deliver(fn, records)
        fn.stop()
        expected = model_items(lambda_event(records), fmt, self.workdir, name)
        return self.aws.scan(name), expected

    def audited(self, records=None):
        """The records that change something (a MODIFY whose images are DynamoDB-equal
        changes nothing)."""
        return [r for r in (records or self.records)
                if r["eventName"] != "MODIFY"
                or not same_item(r["dynamodb"]["OldImage"], r["dynamodb"]["NewImage"])]

    def key_records(self, key, records=None):
        return [r for r in (records or self.records) if r["dynamodb"]["Keys"]["key"]["S"] == key]

    def query(self, table, history_key, until=None):
        """Every item of `history_key` through the history index, in index order."""
        items, start = [], None
        while True:
            body = {"TableName": table, "IndexName": "history",
                    "KeyConditionExpression": "historyKey = :k",
                    "ExpressionAttributeValues": {":k": {"S": history_key}}}
            if until is not None:
                body["KeyConditionExpression"] += " AND historySort <= :t"
                body["ExpressionAttributeValues"][":t"] = {"S": until + "/~"}
            if start:
                body["ExclusiveStartKey"] = start
            page = self.aws.call("DynamoDB_20120810.Query", body)
            items.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    @staticmethod
    def seq(r):
        return r["dynamodb"]["SequenceNumber"]

    @staticmethod
    def time_ms(r):
        return ms_of(r["dynamodb"]["ApproximateCreationDateTime"])

    def need(self, *names):
        missing = [n for n in names if not hasattr(self, n)]
        check(not missing, f"needs the tests that make {', '.join(missing)} first")

    def need_cli(self):
        check(os.access(self.cli.path, os.X_OK),
              f"{self.cli.path} does not exist or cannot run (make)")

    # -- part 1: the life and its truth ------------------------------------------------

    def test_life_and_truth(self):
        """One stream record per write, in order, for the right key; each record's images
        are the item as GetItem read it before and after the write, number text as
        written (1.50, 1E3); the writes scripted as changing nothing are exactly the
        MODIFYs with DynamoDB-equal images; change times strictly increase, at least
        2 ms apart (so that a time between two changes exists)."""
        check(len(self.records) == len(self.writes),
              f"{len(self.records)} records for {len(self.writes)} writes")
        for i, (w, r) in enumerate(zip(self.writes, self.records)):
            d = r["dynamodb"]
            what = f"write {i} ({w['key']}: {w['label']})"
            check(d["Keys"] == {"key": {"S": w["key"]}}, f"{what}: record keys {d['Keys']}")
            want = "INSERT" if w["before"] is None else "REMOVE" if w["after"] is None \
                else "MODIFY"
            check(r["eventName"] == want, f"{what}: {r['eventName']}, expected {want}")
            for side, state in (("OldImage", w["before"]), ("NewImage", w["after"])):
                check((state is None and side not in d) or
                      (state is not None and canon(d.get(side, {})) == canon(state)),
                      f"{what}: {side} {d.get(side)} is not the item {state}")
            noop = want == "MODIFY" and same_item(d["OldImage"], d["NewImage"])
            check(noop == w["noop"], f"{what}: scripted no-op {w['noop']}, images equal {noop}")
        a = [w["after"] for w in self.writes if w["key"] == KEY_A]
        check(a[0]["ratio"] == {"N": "1.50"} and a[2]["ratio"] == {"N": "1.5"} and
              a[5]["big"] == {"N": "1E3"} and a[6]["big"] == {"N": "1000"},
              "number text not kept as written")
        times = [self.time_ms(r) for r in self.records]
        gaps = [b - a for a, b in zip(times, times[1:])]
        check(min(gaps) >= 2, f"change times {min(gaps)} ms apart somewhere: {times}")
        noops = sum(w["noop"] for w in self.writes)
        return (f"{len(self.writes)} writes on 3 keys ({noops} changing nothing), "
                f"{len(self.records)} records, {min(gaps)}..{max(gaps)} ms apart")

    # -- part 2: the Audit tables --------------------------------------------------------

    def check_table(self, scan, expected, fmt, records, what):
        """`scan` is exactly the model's items; every item names its record's time and
        sequence number in historyKey/historySort, says its eventName; the records with
        items are exactly the audited ones; classic items name exactly the top-level
        attributes that differ by DynamoDB equality."""
        compare(expected, scan, what)
        by_id = {}
        for r in records:
            by_id[audit_id(r["eventID"])] = r
            d = r["dynamodb"]
            for name in set(d.get("OldImage", {})) | set(d.get("NewImage", {})):
                by_id[audit_id(r["eventID"] + "/" + name)] = r
        seen = {}
        for i, item in scan.items():
            r = by_id.get(i)
            check(r is not None, f"{what}: item {i} is no record's: {canon(item)[:200]}")
            d = r["dynamodb"]
            key = d["Keys"]["key"]["S"]
            mt = iso_ms(d["ApproximateCreationDateTime"])
            check(item.get("itemKey") == {"S": key} and item.get("modificationTime") ==
                  {"S": mt}, f"{what}: item {i}: itemKey/modificationTime {canon(item)[:200]}")
            check(item.get("historyKey") == {"S": f"{CONFIG_TABLE}/{key}"},
                  f"{what}: item {i}: historyKey {item.get('historyKey')}")
            check(item.get("historySort") == {"S": f"{mt}/{self.seq(r).zfill(40)}"},
                  f"{what}: item {i}: historySort {item.get('historySort')}, expected "
                  f"{mt}/{self.seq(r).zfill(40)}")
            check(item.get("eventName") == {"S": EVENT[r["eventName"]]},
                  f"{what}: item {i}: eventName {item.get('eventName')}, record "
                  f"{r['eventName']}")
            seen.setdefault(self.seq(r), []).append(item)
        audited = self.audited(records)
        want = [self.seq(r) for r in audited]
        check(sorted(seen) == sorted(want),
              f"{what}: items for records {sorted(seen)}, audited records {sorted(want)} "
              f"(no-op records: {[self.seq(r) for r in records if r not in audited]})")
        if fmt == "classic":
            for r in audited:
                if r["eventName"] == "MODIFY":
                    d = r["dynamodb"]
                    names = sorted(i["updatedAttribute"]["S"] for i in seen[self.seq(r)])
                    diff = sorted(top_diff(d["OldImage"], d["NewImage"]))
                    check(names == diff, f"{what}: record {self.seq(r)}: items for {names}, "
                          f"attributes that differ {diff}")
                else:
                    check(len(seen[self.seq(r)]) == 1, f"{what}: {r['eventName']} "
                          f"{self.seq(r)}: {len(seen[self.seq(r)])} items")
        else:
            check(all(len(v) == 1 for v in seen.values()), f"{what}: a record with 2 items")
        return len(audited)

    def test_classic_table(self):
        """The classic function's Audit table: the model's items, historyKey/historySort/
        eventName on each, nothing for the no-op updates (moto's MODIFYs with equal
        images: ratio 1.50 -> 1.5, a re-put, 1E3 -> 1000, the same binary, the same number
        set in other words)."""
        scan, expected = self.audit_table(AUDIT, "classic", self.records)
        n = self.check_table(scan, expected, "classic", self.records, "Audit (classic)")
        self.classic_scan = scan
        return f"{len(scan)} items for {n} audited records of {len(self.records)}"

    def test_detailed_table(self):
        """AUDIT_FORMAT=detailed: the same checks, one item per audited record, and each
        UPDATE's changes are the deep differences computed here independently."""
        scan, expected = self.audit_table(AUDIT_DETAILED, "detailed", self.records)
        n = self.check_table(scan, expected, "detailed", self.records, "Audit (detailed)")
        for r in self.audited():
            if r["eventName"] != "MODIFY":
                continue
            d = r["dynamodb"]
            item = scan[audit_id(r["eventID"])]
            got = [(c["M"]["path"]["S"], c["M"].get("oldValue"), c["M"].get("newValue"))
                   for c in item["changes"]["L"]]
            want = deep_diff("", {"M": d["OldImage"]}, {"M": d["NewImage"]}, [])
            check([g[0] for g in got] == [w[0] for w in want] and
                  all(same(g[1], w[1]) and same(g[2], w[2]) for g, w in zip(got, want)),
                  f"detailed {self.seq(r)}: changes {got}, expected {want}")
        self.detailed_scan = scan
        return f"{len(scan)} items for {n} audited records"

    def test_history_index(self):
        """A Query on the `history` index gives each key's items (both tables) in the
        order of its changes, every item of the key and no other; with `historySort <=
        <time>/~` it stops at that time."""
        self.need("classic_scan", "detailed_scan")
        notes = []
        for table, scan in ((AUDIT, self.classic_scan), (AUDIT_DETAILED, self.detailed_scan)):
            for key in (KEY_A, KEY_B, KEY_C):
                hk = f"{CONFIG_TABLE}/{key}"
                items = self.query(table, hk)
                ids = [i["id"]["S"] for i in items]
                want_ids = {i for i, it in scan.items() if it["itemKey"]["S"] == key}
                check(sorted(ids) == sorted(want_ids),
                      f"{table} {key}: the index gives {len(ids)} items, the table holds "
                      f"{len(want_ids)}")
                seqs = []
                for it in items:
                    s = it["historySort"]["S"].rsplit("/", 1)[1].lstrip("0")
                    if not seqs or seqs[-1] != s:
                        seqs.append(s)
                want = [self.seq(r) for r in self.audited(self.key_records(key))]
                check(seqs == want, f"{table} {key}: records in index order {seqs}, "
                      f"in change order {want}")
                # stop at the third audited record's time
                third = self.audited(self.key_records(key))[2]
                mt = iso_ms(third["dynamodb"]["ApproximateCreationDateTime"])
                upto = self.query(table, hk, until=mt)
                check(upto == items[:len(upto)] and
                      {i["historySort"]["S"].rsplit("/", 1)[1].lstrip("0") for i in upto}
                      == set(want[:3]), f"{table} {key}: up to {mt}: {len(upto)} items")
            notes.append(f"{table}: 3 keys in change order")
        return "; ".join(notes)

    # -- part 3: auditstream ----------------------------------------------------------------

    def truth_at(self, key, t_ms):
        """What the item was at t_ms: (exists: None before its first write, item or None,
        the last audited record at or before t_ms)."""
        state, exists, last = None, None, None
        for w in self.writes:
            r = w["record"]
            if w["key"] != key or self.time_ms(r) > t_ms:
                continue
            state, exists = w["after"], w["after"] is not None
            if not w["noop"]:
                last = r
        return exists, state, last

    def times_of(self, key):
        """(label, ms) at every change time of `key`, between its changes, before its
        creation, and long after its last."""
        ts = [self.time_ms(w["record"]) for w in self.writes if w["key"] == key]
        out = [("before creation", ts[0] - 1), ("long before", ts[0] - 86400000)]
        for i, t in enumerate(ts):
            out.append((f"at change {i}", t))
            if i + 1 < len(ts):
                out.append((f"between changes {i} and {i + 1}", (t + ts[i + 1]) // 2))
        out.append(("a minute after the last", ts[-1] + 60000))
        return out

    def check_show(self, table, key, label, t_ms, text):
        exists, state, last = self.truth_at(key, t_ms)
        lines = self.cli.json(["show", key, "--at", text, "--audit-table", table],
                              self.aws.trail_reader)
        what = f"{table}: show {key!r} --at {text} ({label})"
        check(len(lines) == 1, f"{what}: {len(lines)} lines")
        got = lines[0]
        check(got.get("historyKey") == f"{CONFIG_TABLE}/{key}", f"{what}: {got}")
        check(got.get("exists") is exists, f"{what}: exists {got.get('exists')}, truth {exists}")
        if exists is None:
            check(got.get("item") is None and got.get("notes"), f"{what}: {got}")
            return
        check(got.get("complete") is True, f"{what}: complete {got.get('complete')}")
        check(same_item(got.get("item"), state),
              f"{what}: item {json.dumps(got.get('item'))[:400]}, truth {json.dumps(state)[:400]}")
        lc = got.get("lastChange") or {}
        check(lc.get("sequenceNumber") == self.seq(last) and lc.get("modificationTime") ==
              iso_ms(last["dynamodb"]["ApproximateCreationDateTime"]),
              f"{what}: lastChange {lc}, expected {self.seq(last)}")

    def test_show_at_every_time(self):
        """`auditstream show KEY --at T --json` (as the trail's read-only role) at every
        change time, between changes, before the creation, after the delete and after
        the re-create, for the three keys in both formats: exists, complete, the item
        (DynamoDB equality) and the last change are the truth's. Times given as
        ISO-8601 with and without milliseconds and as epoch seconds."""
        self.need("classic_scan", "detailed_scan")
        self.need_cli()
        n = 0
        for table in (AUDIT, AUDIT_DETAILED):
            for key in (KEY_A, KEY_B, KEY_C):
                for label, t in self.times_of(key):
                    self.check_show(table, key, label, t, iso_of_ms(t))
                    n += 1
                # whole seconds: ISO without milliseconds and epoch seconds
                t = (self.time_ms(self.key_records(key)[-1]) // 1000 + 2) * 1000
                self.check_show(table, key, "whole second", t, iso_of_ms(t, millis=False))
                self.check_show(table, key, "epoch seconds", t, str(t // 1000))
                n += 2
        return f"{n} show calls equal to the truth"

    def expected_changes(self, r, fmt, scan):
        """history's changes for record `r`: [(path, old, new)]."""
        d = r["dynamodb"]
        if r["eventName"] == "INSERT":
            return sorted((f"/{pointer(k)}", None, v) for k, v in d["NewImage"].items())
        if r["eventName"] == "REMOVE":
            return sorted((f"/{pointer(k)}", v, None) for k, v in d["OldImage"].items())
        if fmt == "classic":
            return sorted((f"/{pointer(k)}", o, n)
                          for k, (o, n) in top_diff(d["OldImage"], d["NewImage"]).items())
        return deep_diff("", {"M": d["OldImage"]}, {"M": d["NewImage"]}, [])

    def check_history(self, table, fmt, key, records, scan, creds=None):
        lines = self.cli.json(["history", key, "--audit-table", table],
                              creds or self.aws.trail_reader)
        what = f"{table}: history {key!r}"
        audited = self.audited(records)
        check([line.get("sequenceNumber") for line in lines] == [self.seq(r) for r in audited],
              f"{what}: records {[line.get('sequenceNumber') for line in lines]}, audited "
              f"{[self.seq(r) for r in audited]}")
        for line, r in zip(lines, audited):
            w = f"{what}: {self.seq(r)}"
            check(line.get("eventName") == EVENT[r["eventName"]] and
                  line.get("modificationTime") ==
                  iso_ms(r["dynamodb"]["ApproximateCreationDateTime"]), f"{w}: {line}")
            got = [(c.get("path"), c.get("oldValue"), c.get("newValue"))
                   for c in line.get("changes", [])]
            want = self.expected_changes(r, fmt, scan)
            if fmt == "classic":
                got = sorted(got, key=lambda c: c[0])
                want = sorted(want, key=lambda c: c[0])
            check([g[0] for g in got] == [x[0] for x in want] and
                  all(same(g[1], x[1]) and same(g[2], x[2]) for g, x in zip(got, want)),
                  f"{w}: changes {json.dumps(got)[:400]}, expected {json.dumps(want)[:400]}")
        return len(lines)

    def test_history_lists_the_audited(self):
        """`auditstream history KEY --json` lists exactly the audited records of each key,
        oldest first (no-op updates absent), with eventName, modificationTime and the
        changes: classic per attribute, detailed its deep paths; a CREATE and a DELETE one
        change per attribute. --since and --until cut the list at those times."""
        self.need("classic_scan", "detailed_scan")
        self.need_cli()
        n = 0
        for table, fmt, scan in ((AUDIT, "classic", self.classic_scan),
                                 (AUDIT_DETAILED, "detailed", self.detailed_scan)):
            for key in (KEY_A, KEY_B, KEY_C):
                n += self.check_history(table, fmt, key, self.key_records(key), scan)
        audited = self.audited(self.key_records(KEY_A))
        since, until = (iso_ms(audited[i]["dynamodb"]["ApproximateCreationDateTime"])
                        for i in (2, 5))
        lines = self.cli.json(["history", KEY_A, "--since", since, "--until", until],
                              self.aws.trail_reader)
        got = [line.get("sequenceNumber") for line in lines]
        check(got == [self.seq(r) for r in audited[2:6]],
              f"history --since {since} --until {until}: {got}")
        return f"{n} records listed in both formats; --since/--until keep {len(got)}"

    def verify_lines(self, table, keys, want_rc, source=CONFIG_TABLE):
        args = ["verify", *keys, "--audit-table", table, "--table", source]
        return self.cli.json(args, self.aws.trail_reader, want_rc=want_rc)

    def test_verify_ok(self):
        """`auditstream verify KEY...` on the whole trail: each key ok with no problem,
        entries counted, then the total line; the same with --all; exit status 0."""
        self.need("classic_scan", "detailed_scan")
        self.need_cli()
        keys = [KEY_A, KEY_B, KEY_C]
        for table in (AUDIT, AUDIT_DETAILED):
            lines = self.verify_lines(table, keys, 0)
            check(len(lines) == 4, f"{table}: verify: {len(lines)} lines: {lines}")
            for key, line in zip(keys, lines):
                check(line.get("historyKey") == f"{CONFIG_TABLE}/{key}" and
                      line.get("ok") is True and line.get("problems") == [] and
                      line.get("entries") == len(self.audited(self.key_records(key))),
                      f"{table}: verify {key}: {line}")
            check(lines[-1].get("ok") is True and lines[-1].get("keys") == 3,
                  f"{table}: verify total: {lines[-1]}")
            everything = self.verify_lines(table, ["--all"], 0)
            check(everything[-1].get("keys") == 3 and everything[-1].get("ok") is True,
                  f"{table}: verify --all: {everything[-1]}")
        return "3 keys ok in both formats, with and without --all"

    def expect_break(self, table, fmt, key, records, what, drop_attr=None):
        """verify of `key` in `table`: exit 1, kind continuity, naming the entry the
        independent continuity check finds first."""
        entries = trail_entries(self.audited(records), fmt)
        if drop_attr is not None:
            seq, attr = drop_attr
            for e in entries:
                if e["seq"] == seq:
                    e["attrs"].pop(attr)
        want = first_break(entries, fmt)
        check(want is not None, f"{what}: the script makes no break to find")
        lines = self.verify_lines(table, [key], 1)
        line = lines[0]
        problems = line.get("problems") or []
        check(line.get("ok") is False and problems and problems[0].get("kind") == "continuity"
              and problems[0].get("sequenceNumber") == want,
              f"{what}: verify said {line}; expected continuity at {want}")
        check(lines[-1].get("ok") is False, f"{what}: total {lines[-1]}")
        return want

    def test_verify_deleted_item(self):
        """One audit item deleted from each table (classic: the `value` item of KEY_A's
        first update; detailed: KEY_A's limits update): verify exits 1 with `continuity`
        at the entry whose old side no longer matches (classic: the next change of
        `value`; detailed: the next record); put back, verify is ok again."""
        self.need("classic_scan", "detailed_scan")
        self.need_cli()
        audited = self.audited(self.key_records(KEY_A))
        notes = []
        for table, fmt, scan, victim, attr in (
                (AUDIT, "classic", self.classic_scan,
                 audit_id(audited[1]["eventID"] + "/value"), "value"),
                (AUDIT_DETAILED, "detailed", self.detailed_scan,
                 audit_id(audited[2]["eventID"]), None)):
            item = scan[victim]
            self.ddb.delete_item(TableName=table, Key={"id": {"S": victim}})
            if fmt == "classic":
                want = self.expect_break(table, fmt, KEY_A, self.key_records(KEY_A),
                                         f"{table} less one item",
                                         drop_attr=(self.seq(audited[1]), attr))
            else:
                rest = [r for r in self.key_records(KEY_A) if r is not audited[2]]
                want = self.expect_break(table, fmt, KEY_A, rest, f"{table} less one item")
            self.aws.call("DynamoDB_20120810.PutItem", {"TableName": table, "Item": item})
            self.verify_lines(table, [KEY_A], 0)
            notes.append(f"{fmt}: continuity at {want}")
        return "; ".join(notes) + "; ok again once put back"

    def test_verify_missing_record(self):
        """One stream record (KEY_B's first update) never reaches the function: in both
        formats verify exits 1 with `continuity` at the entry the independent check
        names; the other keys stay ok."""
        self.need_cli()
        skipped = self.audited(self.key_records(KEY_B))[1]
        records = [r for r in self.records if r is not skipped]
        notes = []
        for fmt in ("classic", "detailed"):
            table = f"AuditGap{fmt.capitalize()}"
            self.audit_table(table, fmt, records)
            want = self.expect_break(table, fmt, KEY_B, self.key_records(KEY_B, records),
                                     f"{table}: {self.seq(skipped)} never delivered")
            lines = self.verify_lines(table, [KEY_A, KEY_C], 0)
            check(all(line.get("ok") is True for line in lines), f"{table}: {lines}")
            notes.append(f"{fmt}: continuity at {want}")
        return f"record {self.seq(skipped)} skipped: " + "; ".join(notes)

    # -- backfill -------------------------------------------------------------------------

    def legacy_items(self, n, prefix):
        rng = random.Random(n)
        out = []
        for i in range(n):
            item = {"key": {"S": f"{prefix}{i:03d}"}, "value": {"N": str(rng.randint(1, 9999))},
                    "note": {"S": f"filled before the stream {i}"}}
            if i % 3 == 0:
                item["tags"] = {"SS": [f"t{i}", "legacy"]}
            if i % 4 == 1:
                item["limits"] = {"M": {"max": {"N": "1.50"}, "list": {"L": [{"N": "1E3"}]}}}
            out.append(item)
        return out

    def enable_stream(self, table):
        desc = self.ddb.update_table(TableName=table, StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]
        arn = desc.get("LatestStreamArn")
        check(arn, f"UpdateTable gave {table} no stream")
        return arn

    def backfill(self, source, audit, want_rc=0, extra=()):
        lines = self.cli.json(["backfill", "--table", source, "--audit-table", audit, *extra],
                              self.aws.admin, want_rc=want_rc)
        check(lines and set(lines[-1]) >= {"scanned", "written", "failed"},
              f"backfill {source}: last line {lines[-1:]}")
        return lines[-1]

    def test_backfill(self):
        """A table filled before its stream was enabled, then (stream on) one item
        updated, one deleted, one created, the records audited. Before backfill, `show`
        of an untouched item knows nothing and of the updated one is not complete;
        backfill writes one BASELINE per item whose replayed state is not complete
        (the untouched and the updated ones, not the new one), after which `show` is
        complete and equal to GetItem for every item, `history` of an untouched item
        starts with BASELINE, and verify is ok; later changes follow the BASELINE and
        verify stays ok. Run again, it writes nothing and the table is unchanged."""
        self.need_cli()
        audit = "AuditLegacy"
        self.aws.create_table(LEGACY, "key")
        self.aws.create_table(audit, "id", history=True)
        pre = self.legacy_items(LEGACY_ITEMS, "L")
        for item in pre:
            self.ddb.put_item(TableName=LEGACY, Item=to_boto(item))
        arn = self.enable_stream(LEGACY)
        keys = [i["key"]["S"] for i in pre]
        updated, deleted, fresh = keys[1], keys[2], "L_NEW"
        self.ddb.update_item(TableName=LEGACY, Key={"key": {"S": updated}},
                             UpdateExpression="SET #v = :v",
                             ExpressionAttributeNames={"#v": "value"},
                             ExpressionAttributeValues={":v": {"N": "1.50"}})
        self.ddb.delete_item(TableName=LEGACY, Key={"key": {"S": deleted}})
        self.ddb.put_item(TableName=LEGACY, Item={"key": {"S": fresh}, "value": {"N": "1"}})
        records = [lambda_record(r, arn) for r in self.aws.read_stream(arn)]
        check([r["eventName"] for r in records] == ["MODIFY", "REMOVE", "INSERT"],
              f"{LEGACY}'s stream: {[r['eventName'] for r in records]}")
        fn = self.function("legacy", audit)
        self.deliver(fn, records)

        def show(key):
            lines = self.cli.json(["show", key, "--table", LEGACY, "--audit-table", audit],
                                  self.aws.trail_reader)
            return lines[0]
        before = show(keys[0])
        check(before.get("exists") is None and before.get("item") is None,
              f"before backfill, an untouched item: {before}")
        partial = show(updated)
        check(partial.get("complete") is False and
              (partial.get("item") or {}).get("value") == {"N": "1.50"},
              f"before backfill, the updated item: {partial}")

        t0 = time.monotonic()
        first = self.backfill(LEGACY, audit)
        took = time.monotonic() - t0
        want_written = LEGACY_ITEMS - 1   # every pre-stream item still there
        check(first == {"scanned": LEGACY_ITEMS, "written": want_written, "failed": 0},
              f"backfill: {first}, expected scanned {LEGACY_ITEMS}, written {want_written}")
        scan = self.aws.scan(audit)
        baselines = [i for i in scan.values() if i.get("eventName") == {"S": "BASELINE"}]
        check(len(baselines) == want_written, f"{len(baselines)} BASELINE items")
        for b in baselines:
            key = b["itemKey"]["S"]
            check(b.get("historyKey") == {"S": f"{LEGACY}/{key}"} and
                  b["historySort"]["S"].endswith("/" + "0" * 40) and
                  b["historySort"]["S"].startswith(b["modificationTime"]["S"] + "/") and
                  same(b.get("newValue"), {"M": self.get(key, LEGACY)}),
                  f"BASELINE of {key}: {canon(b)[:300]}")
        for key in keys + [fresh]:
            got = show(key)
            truth = self.get(key, LEGACY)
            check(got.get("exists") is (truth is not None) and got.get("complete") is True and
                  same_item(got.get("item"), truth), f"after backfill, show {key}: {got}")
        hist = self.cli.json(["history", keys[0], "--table", LEGACY, "--audit-table", audit],
                             self.aws.trail_reader)
        check([h.get("eventName") for h in hist] == ["BASELINE"] and
              "sequenceNumber" not in hist[0], f"history of an untouched item: {hist}")
        hist = self.cli.json(["history", updated, "--table", LEGACY, "--audit-table", audit],
                             self.aws.trail_reader)
        check([h.get("eventName") for h in hist] == ["UPDATE", "BASELINE"],
              f"history of the item updated before the backfill: {hist}")
        # later changes follow the BASELINE
        self.ddb.update_item(TableName=LEGACY, Key={"key": {"S": keys[0]}},
                             UpdateExpression="SET note = :n",
                             ExpressionAttributeValues={":n": {"S": "after the backfill"}})
        time.sleep(GAP)
        self.ddb.delete_item(TableName=LEGACY, Key={"key": {"S": keys[3]}})
        later = [lambda_record(r, arn) for r in self.aws.read_stream(arn)][len(records):]
        self.deliver(fn, later)
        fn.stop()
        hist = self.cli.json(["history", keys[0], "--table", LEGACY, "--audit-table", audit],
                             self.aws.trail_reader)
        check([h.get("eventName") for h in hist] == ["BASELINE", "UPDATE"],
              f"history after a change: {hist}")
        lines = self.verify_lines(audit, ["--all"], 0, source=LEGACY)
        check(lines[-1].get("ok") is True and lines[-1].get("keys") == LEGACY_ITEMS + 1,
              f"verify after backfill: {lines[-1]}")
        # twice: nothing added, nothing rewritten
        before_scan = {i: canon(v) for i, v in self.aws.scan(audit).items()}
        again = self.backfill(LEGACY, audit)
        check(again == {"scanned": LEGACY_ITEMS - 1, "written": 0, "failed": 0},
              f"backfill again: {again}")
        after_scan = {i: canon(v) for i, v in self.aws.scan(audit).items()}
        check(before_scan == after_scan, "the second backfill changed the Audit table")
        return (f"{want_written} BASELINE items in {took:.1f} s; show complete for "
                f"{len(keys) + 1} items; second run: {again}")

    def test_backfill_while_streaming(self):
        """Backfill (4 segments) of a table of 200 items filled before its stream, while
        updates, deletes and re-creates keep reaching the function (at least 10 of them
        while it runs): afterwards verify --all, and `show` of every changed item (and a
        few others) complete and equal to GetItem, are right for every key but those
        where a change the stream dates within RACE_WINDOW_MS before the key's BASELINE
        explains the difference (the read's round trip), and there are at most
        RACE_MAX_KEYS of those."""
        self.need_cli()
        audit = "AuditBusy"
        self.aws.create_table(BUSY, "key")
        self.aws.create_table(audit, "id", history=True)
        items = self.legacy_items(BUSY_ITEMS, "B")
        for item in items:
            self.ddb.put_item(TableName=BUSY, Item=to_boto(item))
        arn = self.enable_stream(BUSY)
        fn = self.function("busy", audit)
        keys = [i["key"]["S"] for i in items]
        rng = random.Random(7)
        delivered = [0]
        changes = [0]
        changed = set()
        stop = threading.Event()
        errors = []

        def pump():
            records = [lambda_record(r, arn) for r in self.aws.read_stream(arn)]
            self.deliver(fn, records[delivered[0]:], batch=10)
            delivered[0] = len(records)

        def writer():
            try:
                n = 0
                gone = set()
                while not stop.is_set():
                    key = rng.choice(keys)
                    if key in gone:
                        # PutItem, since moto's UpdateItem of an absent item emits two INSERTs
                        self.ddb.put_item(TableName=BUSY, Item={
                            "key": {"S": key}, "value": {"N": "0"}, "note": {"S": "back"}})
                        gone.discard(key)
                    elif rng.random() < 0.1:
                        self.ddb.delete_item(TableName=BUSY, Key={"key": {"S": key}})
                        gone.add(key)
                    else:
                        self.ddb.update_item(
                            TableName=BUSY, Key={"key": {"S": key}},
                            UpdateExpression="SET #v = :v ADD hits :one",
                            ExpressionAttributeNames={"#v": "value"},
                            ExpressionAttributeValues={":v": {"N": str(rng.randint(1, 99))},
                                                       ":one": {"N": "1"}})
                    n += 1
                    changes[0] += 1
                    changed.add(key)
                    if n % 5 == 0:
                        pump()
            except Exception as e:  # noqa: BLE001 - reported by the test
                errors.append(f"{type(e).__name__}: {e}")

        th = threading.Thread(target=writer, daemon=True)
        th.start()
        time.sleep(0.3)  # changes flowing before the scan starts
        try:
            at_start = changes[0]
            result = self.backfill(BUSY, audit, extra=["--segments", "4"])
            during = changes[0] - at_start
        finally:
            stop.set()
            th.join(60)
        check(not errors, f"the writer: {errors}")
        pump()
        fn.stop()
        check(during >= 10, f"only {during} changes while the backfill ran")
        check(result.get("failed") == 0 and result.get("written", 0) > 0, f"backfill: {result}")
        def history(key):
            return self.cli.json(["history", key, "--table", BUSY, "--audit-table", audit],
                                 self.aws.trail_reader)

        def in_window(key):
            """The gap (ms) between a BASELINE of `key` and a change the stream dates at
            most RACE_WINDOW_MS before it, or None."""
            hist = history(key)
            times = [(h.get("eventName"), ms_of_iso(h.get("modificationTime", ""))) for h in hist]
            gaps = [b - t for name, b in times if name == "BASELINE"
                    for other, t in times if other != "BASELINE" and 0 <= b - t <= RACE_WINDOW_MS]
            return min(gaps) if gaps else None, " ".join(f"{n}@{t}" for n, t in times[-4:])

        raced, unexplained = {}, []
        rc, out, err = self.cli.run(["verify", "--all", "--table", BUSY, "--audit-table", audit,
                                     "--json"], self.aws.trail_reader)
        lines = [json.loads(line) for line in out.splitlines()]
        check(rc in (0, 1) and lines and lines[-1].get("keys") == BUSY_ITEMS,
              f"verify --all: exit status {rc}: {err.strip()[:300]} {lines[-1:]}")
        for line in lines[:-1]:
            if line.get("ok") is not True:
                key = line["historyKey"].split("/", 1)[1]
                gap, trail = in_window(key)
                kinds = {p.get("kind") for p in line.get("problems", [])}
                if gap is None or kinds != {"continuity"}:
                    unexplained.append(f"verify {key}: {line}; trail {trail}")
                else:
                    raced[key] = gap
        check((rc == 0) == (not raced and not unexplained), f"verify exit status {rc}")
        shown = sorted(changed) + [k for k in keys if k not in changed][:10]
        for key in shown:
            got = self.cli.json(["show", key, "--table", BUSY, "--audit-table", audit],
                                self.aws.trail_reader)[0]
            truth = self.get(key, BUSY)
            if not (got.get("exists") is (truth is not None) and got.get("complete") is True
                    and same_item(got.get("item"), truth)):
                gap, trail = in_window(key)
                if gap is None:
                    unexplained.append(f"show {key}: {json.dumps(got.get('item'))}, is "
                                       f"{json.dumps(truth)}; trail {trail}")
                else:
                    raced[key] = gap
        check(not unexplained, f"{len(unexplained)} keys with a wrong trail: {unexplained[:2]}")
        check(len(raced) <= RACE_MAX_KEYS,
              f"{len(raced)} keys hit the BASELINE's read window: {raced}")
        return (f"{result}; {during} changes during it, {delivered[0]} records delivered; "
                f"verify --all over {BUSY_ITEMS} keys and show of {len(shown)}: "
                + (f"{len(raced)} keys off by a change dated within "
                   f"{max(raced.values())} ms of their BASELINE's read" if raced else "all right"))

    # -- user errors ------------------------------------------------------------------------

    def test_profile_credentials(self):
        """No AWS_* credentials: `--profile trail` finds the role's key, secret and session
        token in ~/.aws/credentials and its region in ~/.aws/config, and moto (SigV4 on)
        accepts its signed requests."""
        self.need("classic_scan")
        self.need_cli()
        aws_dir = os.path.join(self.cli.home, ".aws")
        os.makedirs(aws_dir, exist_ok=True)
        key, secret, token = self.aws.trail_reader
        with open(os.path.join(aws_dir, "credentials"), "w") as f:
            f.write(f"[trail]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
                    f"aws_session_token = {token}\n")
        with open(os.path.join(aws_dir, "config"), "w") as f:
            f.write("[profile trail]\nregion = us-east-1\n")
        try:
            lines = self.cli.json(["show", KEY_C, "--profile", "trail"], None,
                                  env={"AWS_REGION": None})
        finally:
            os.unlink(os.path.join(aws_dir, "credentials"))
            os.unlink(os.path.join(aws_dir, "config"))
        truth = self.get(KEY_C)
        check(len(lines) == 1 and same_item(lines[0].get("item"), truth),
              f"show with the profile: {lines}, truth {truth}")
        return "show through a profile's static keys and session token"

    def user_error(self, label, args, creds, words):
        """`args` must end with exit status 2, nothing on standard output and one line on
        standard error naming each of `words`; returns the line."""
        t0 = time.monotonic()
        rc, out, err = self.cli.run(args, creds)
        took = time.monotonic() - t0
        lines = err.splitlines()
        check(rc == 2, f"{label}: exit status {rc}, expected 2: {err.strip()[:300]}")
        check(out == "", f"{label}: standard output {out[:200]!r}")
        check(len(lines) == 1 and err.endswith("\n") and lines[0].startswith("auditstream: "),
              f"{label}: standard error is not one line: {err[:400]!r}")
        for w in words:
            check(w in lines[0], f"{label}: the message does not name {w!r}: {lines[0]}")
        check(took < 30, f"{label}: {took:.1f} s")
        return lines[0]

    def test_user_errors(self):
        """The user errors a deployment like this one meets (tests/cli/test_cli_moto.py
        checks every user error's exact line on items it writes itself; these go through
        the roles, the function and the tables of this run), each exit status 2 and one
        line: the function's own role (PutItem only, with its session token) used to read
        the trail: access denied; the trail's read-only role used to backfill: access
        denied at PutItem, nothing written; an Audit table the function filled without
        the history index (Terraform's history_index = false): the index named with its
        variable, and once the index is added as the line says, the same history lists
        every audited record, since the function wrote historyKey all along."""
        self.need_cli()
        notes = []
        line = self.user_error("function's role reads", ["show", KEY_A], self.aws.writer,
                               ["access denied", "dynamodb:"])
        notes.append(line)
        audit = "AuditLegacy"
        check(audit in self.aws.call("DynamoDB_20120810.ListTables", {})["TableNames"],
              "needs test_backfill first")
        before = {i: canon(v) for i, v in self.aws.scan(audit).items()}
        self.ddb.put_item(TableName=LEGACY, Item={"key": {"S": "L_UNSEEN"}, "v": {"N": "1"}})
        line = self.user_error("reader backfills",
                               ["backfill", "--table", LEGACY, "--audit-table", audit],
                               self.aws.trail_reader, ["access denied", "PutItem", audit])
        notes.append(line)
        after = {i: canon(v) for i, v in self.aws.scan(audit).items()}
        check(before == after, "a backfill refused its writes changed the audit table")

        table = "AuditNoIndex"
        self.aws.create_table(table, "id")
        fn = self.function("no-index", table)
        self.deliver(fn, self.records)
        fn.stop()
        line = self.user_error("no index", ["history", KEY_A, "--audit-table", table],
                               self.aws.trail_reader, [table, '"history"', "history_index"])
        notes.append(line)
        self.ddb.update_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "historyKey", "AttributeType": "S"},
                                  {"AttributeName": "historySort", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "history", "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": "historyKey", "KeyType": "HASH"},
                              {"AttributeName": "historySort", "KeyType": "RANGE"}]}}])
        n = self.check_history(table, "classic", KEY_A, self.key_records(KEY_A),
                               self.aws.scan(table))
        return (f"3 errors, exit 2, one line each; {n} records listed once the index was "
                "added:\n       " + "\n       ".join(x[:150] for x in notes))

    TESTS = [
        "test_life_and_truth",
        "test_classic_table",
        "test_detailed_table",
        "test_history_index",
        "test_show_at_every_time",
        "test_history_lists_the_audited",
        "test_verify_ok",
        "test_verify_deleted_item",
        "test_verify_missing_record",
        "test_backfill",
        "test_backfill_while_streaming",
        "test_profile_credentials",
        "test_user_errors",
    ]


def cli_summary(suite):
    if suite.cli is not None and suite.cli.calls:
        print(f"trail: {suite.cli.calls} auditstream runs, {suite.cli.seconds:.1f} s in them")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zip", required=True, help="the x86_64 Lambda zip (make package)")
    ap.add_argument("--cli", required=True, help="the auditstream command (make)")
    ap.add_argument("--keep-logs", action="store_true", help="keep the work folder")
    ap.add_argument("tests", nargs="*", help="run only these tests (names without test_)")
    return run_suite("trail", Suite, ap.parse_args(), cli_summary)


if __name__ == "__main__":
    sys.exit(main())
