#!/usr/bin/env python3
# auditstream (cli/) against moto with SigV4 verification on: history, show, verify and
# backfill over audit items that build/bootstrap --print made, and every user error.
"""Run: test_cli_moto.py --cli build/auditstream --bootstrap build/bootstrap   (from the top)

Starts moto on a free loopback port (the Moto class of tests/integration/test_ddb_moto.py),
creates with auth off an admin user, a trail reader (Query, GetItem, DescribeTable, Scan:
what the Terraform reader policy grants) and a user that may only Scan, then switches auth
on and creates, signed, the Audit table with its `history` index, an audit table without
it, and the Configuration table. The audit items are what `bootstrap --print` makes of
synthetic stream events (three keys: a life of create, updates and delete; an item with
long and unprintable values; a trail with one record missing), put as they are.

Each test runs build/auditstream as a person would: credentials in AWS_* variables (or a
profile under a temporary HOME), --endpoint-url, and checks its exit status, standard
output (tables and --json lines) and standard error (one line for every user error, with
its exact text). When moto cannot start, every test fails with the reason: none is skipped.
Ends with "cli: N passed, N failed"; exits 1 when anything failed.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from canonical import canonical_image, canonical_value  # noqa: E402
from test_ddb_moto import Moto, SetupError, TestFailure, check, import_boto3  # noqa: E402

REGION = "us-east-1"
SOURCE = "Configuration"
AUDIT = "Audit"
NO_INDEX = "AuditNoIndex"
CHAIN_SOURCE = "ChainSource"  # backfill's source table in the chain tests, apart from SOURCE
ARN = f"arn:aws:dynamodb:{REGION}:123456789012:table/{SOURCE}/stream/2024-05-01T00:00:00.000"
T0 = 1714566645  # 2024-05-01T12:30:45Z
RUN_TIMEOUT = 60

ADMIN_ACTIONS = ["dynamodb:*"]
READER_ACTIONS = ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:DescribeTable",
                  "dynamodb:Scan"]
SCAN_ONLY_ACTIONS = ["dynamodb:Scan"]
# What verify needed before the chain: no GetItem, so no chain head.
NO_HEAD_ACTIONS = ["dynamodb:Query", "dynamodb:DescribeTable", "dynamodb:Scan"]
# What backfill needs but GetItem, which a policy may not grant on the source table.
NO_GET_ACTIONS = ["dynamodb:DescribeTable", "dynamodb:Scan", "dynamodb:Query", "dynamodb:PutItem"]


def wrong(secret):
    """The secret with its last character changed (to one it is not)."""
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".000Z"


# ---- the trail: synthetic stream records through bootstrap --print -----------------------


def image(d):
    out = {}
    for name, value in d.items():
        if isinstance(value, bool):
            out[name] = {"BOOL": value}
        elif isinstance(value, str) and value.startswith("#N"):
            out[name] = {"N": value[2:]}
        elif isinstance(value, str):
            out[name] = {"S": value}
        elif isinstance(value, set):
            out[name] = {"SS": sorted(value)}
        else:
            raise ValueError(value)
    return out


def record(key, seq, when, name, old=None, new=None):
    ddb = {"ApproximateCreationDateTime": when, "Keys": {"key": {"S": key}},
           "SequenceNumber": str(seq), "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if old is not None:
        ddb["OldImage"] = image(old)
    if new is not None:
        ddb["NewImage"] = image(new)
    return {"eventID": f"{key}-{seq}", "eventName": name, "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": REGION, "dynamodb": ddb,
            "eventSourceARN": ARN}


V1 = {"key": "CACHE_TTL_SEC", "value": "#N3600", "owner": "ops"}
V2 = {"key": "CACHE_TTL_SEC", "value": "#N1800", "owner": "ops", "tags": {"a", "b"}}
V3 = {"key": "CACHE_TTL_SEC", "value": "#N1.50", "tags": {"a", "b"}}
LONG = "x" * 200
ODD = "line one\nline two \x1b[31mred\x1b[0m"
FEATURE = {"key": "FEATURE_X", "enabled": True, "description": LONG, "note": ODD}
G1 = {"key": "GAPPY", "v": "#N1"}
G2 = {"key": "GAPPY", "v": "#N2"}
G3 = {"key": "GAPPY", "v": "#N3"}

LIFE = [
    record("CACHE_TTL_SEC", 100, T0, "INSERT", new=V1),
    record("CACHE_TTL_SEC", 200, T0 + 60, "MODIFY", old=V1, new=V2),
    record("CACHE_TTL_SEC", 300, T0 + 120, "MODIFY", old=V2, new=V3),
    record("CACHE_TTL_SEC", 400, T0 + 180, "REMOVE", old=V3),
    record("FEATURE_X", 500, T0 + 10, "INSERT", new=FEATURE),
    record("GAPPY", 10, T0, "INSERT", new=G1),
    record("GAPPY", 11, T0 + 1, "MODIFY", old=G1, new=G2),  # never reaches the table
    record("GAPPY", 12, T0 + 2, "MODIFY", old=G2, new=G3),
]
# A record DynamoDB would refuse (a number that is not one): an error item in the trail.
LIFE.append(record("BROKEN", 700, T0 + 5, "INSERT", new={"key": "BROKEN", "n": "#Nxyz"}))
MISSING_SEQUENCE = "11"


def audit_items(bootstrap, workdir, records, env=None):
    path = os.path.join(workdir, "event.json")
    with open(path, "w") as f:
        json.dump({"Records": records}, f)
    env = dict(env or {}, PATH=os.environ.get("PATH", "/usr/bin:/bin"))
    p = subprocess.run([bootstrap, "--print", path], capture_output=True, env=env, timeout=30)
    if p.returncode != 0:
        raise SetupError(f"bootstrap --print failed: {p.stderr.decode()[:300]}")
    items = [json.loads(line) for line in p.stdout.decode().splitlines() if line]
    for item in items:
        if "historyKey" not in item:
            raise SetupError(f"bootstrap --print wrote an item without historyKey: {item}")
    return items


# ---- the hash chain, computed here from the rules alone (independent of lib/core) ----------

AUDIT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:libauditstream:audit-id")
CHAIN_FIELDS = ("chainPrev", "chain", "chainPrevTime")
ZEROS = "0" * 64
REDACT_KEY = bytes(range(7, 39))  # 32 bytes


def head_id(history_key):
    return str(uuid.uuid5(AUDIT_NAMESPACE, "chain/" + history_key))


def records_of(items):
    """One key's items grouped by record (historySort), in historySort order."""
    by_sort = {}
    for item in items:
        by_sort.setdefault(item["historySort"]["S"], []).append(item)
    return [by_sort[k] for k in sorted(by_sort, key=lambda k: k.encode())]


def record_digest(record):
    """Hex SHA-256 of the record's items' canonical forms without chain fields, sorted by
    id (then form, each form once), each followed by a newline."""
    forms = {(item["id"]["S"].encode(),
              canonical_image({k: v for k, v in item.items() if k not in CHAIN_FIELDS}))
             for item in record}
    return hashlib.sha256(b"".join(form + b"\n" for _, form in sorted(forms))).hexdigest()


def seq_of(record):
    return record[0]["historySort"]["S"].split("/")[1]


def link(items, head=None):
    """Adds chain fields to one key's items (in place), after `head` (a head item or None);
    returns the new head item and the anchors a function would have logged, one per
    record: {"historyKey", "sequenceNumber", "chain"}."""
    key = items[0]["historyKey"]["S"]
    prev = head["chain"]["S"] if head else ZEROS
    prev_time = head["chainTime"]["S"] if head else None
    seq = head["chainSeq"]["S"] if head else "0" * 40
    entries = int(head["entries"]["N"]) if head else 0
    anchors = []
    for record in records_of(items):
        chain = hashlib.sha256((prev + record_digest(record)).encode()).hexdigest()
        for item in record:
            item["chainPrev"] = {"S": prev}
            item["chain"] = {"S": chain}
            item.pop("chainPrevTime", None)
            if prev_time is not None:
                item["chainPrevTime"] = {"S": prev_time}
        prev, prev_time, entries = chain, record[0]["modificationTime"]["S"], entries + 1
        if record[0]["eventName"]["S"] != "BASELINE":
            seq = seq_of(record)
            anchors.append({"historyKey": key, "sequenceNumber": seq.lstrip("0"),
                            "chain": chain})
    new_head = {"id": {"S": head_id(key)}, "chainOf": {"S": key}, "chain": {"S": prev},
                "chainSeq": {"S": seq}, "chainTime": {"S": prev_time},
                "entries": {"N": str(entries)}}
    return new_head, anchors


def life_records(key, count, first_seq=100, step=100, t0=T0, pairs=True):
    """A source item's life: created, then updated count-1 times; with `pairs` each update
    changes two attributes, so that a classic record holds two items."""
    values = [{"key": key, "v": f"#N{i}", "w": f"w{i if pairs else 0}", "n": "#N1.50",
               "tags": {"x", "y", "z"}} for i in range(count)]
    out = [record(key, first_seq, t0, "INSERT", new=values[0])]
    for i in range(1, count):
        out.append(record(key, first_seq + step * i, t0 + 60 * i, "MODIFY", old=values[i - 1],
                          new=values[i]))
    return out


def items_of_record(items, seq):
    padded = str(seq).rjust(40, "0")
    return [i for i in items if i["historySort"]["S"].endswith("/" + padded)]


def problems_of(line):
    return [(p["kind"], p.get("sequenceNumber")) for p in line["problems"]]


# ---- the function itself: build/bootstrap against the Runtime API stand-in ------------------

STANDIN = os.path.join(HERE, "..", "support", "runtime_standin.py")


class Function:
    """The built bootstrap, run as Lambda runs it, against tests/support/runtime_standin.py
    and moto; its standard output and error (its logs) go to `log_path`."""

    def __init__(self, bootstrap, workdir, name, endpoint, creds, env):
        self.standin = subprocess.Popen([sys.executable, STANDIN, "--port", "0"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        self.proc = None
        port = self.standin.stdout.readline().decode().strip()
        if not port.isdigit():
            self.stop()
            raise SetupError("the Runtime API stand-in did not start")
        self.api = f"127.0.0.1:{port}"
        self.log_path = os.path.join(workdir, f"{name}.log")
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_REGION": REGION,
             "AWS_ACCESS_KEY_ID": creds[0], "AWS_SECRET_ACCESS_KEY": creds[1],
             "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_LAMBDA_RUNTIME_API": self.api,
             "AWS_LAMBDA_FUNCTION_NAME": "audit_producer", "AUDIT_TABLE": AUDIT}
        e.update(env)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([bootstrap], env=e, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)
        self.posts = 0

    def control(self, method, path, body=None, timeout=40):
        req = urllib.request.Request(f"http://{self.api}/_test/{path}", data=body,
                                     method=method)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read().decode())

    def invoke(self, records):
        """One batch; the function's answer (it must have written every record)."""
        self.control("POST", "enqueue?timeout_ms=20000", json.dumps({"Records": records}).encode())
        self.posts += 1
        post = self.control("GET", f"wait?posts={self.posts}&timeout_ms=30000")["posts"][-1]
        check(post["kind"] == "response" and post["json"] == {"batchItemFailures": []},
              f"the function's answer: {post.get('body')}; log: {self.log()[-600:]}")

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        for proc in (self.proc, self.standin):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self.standin.stdout is not None:
            self.standin.stdout.close()


# ---- AWS side ---------------------------------------------------------------------------------


def run_on_terminal(args, env, stream, columns=None):
    """Runs `args` with `stream` ("stdout" or "stderr") on a pseudo-terminal, `columns`
    wide when given, the other on a pipe; (the CompletedProcess, the bytes the terminal
    got)."""
    import fcntl
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    if columns is not None:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    pipes[stream] = slave
    try:
        p = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT,
                           **pipes)
        os.close(slave)
        slave = None
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    return p, seen


class Aws:
    def __init__(self, moto):
        self.moto = moto
        self.boto3 = import_boto3()

    def client(self, service, creds):
        return self.boto3.client(service, endpoint_url=self.moto.endpoint, region_name=REGION,
                                 aws_access_key_id=creds[0], aws_secret_access_key=creds[1])

    def setup(self):
        self.moto.set_auth(False)
        iam = self.client("iam", ("setup", "setup"))
        users = {}
        for name, actions in (("cli-admin", ADMIN_ACTIONS), ("cli-reader", READER_ACTIONS),
                              ("cli-scan-only", SCAN_ONLY_ACTIONS),
                              ("cli-no-get", NO_GET_ACTIONS),
                              ("cli-no-head", NO_HEAD_ACTIONS)):
            iam.create_user(UserName=name)
            key = iam.create_access_key(UserName=name)["AccessKey"]
            users[name] = (key["AccessKeyId"], key["SecretAccessKey"])
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        self.admin, self.reader, self.scan_only = (users["cli-admin"], users["cli-reader"],
                                                   users["cli-scan-only"])
        self.no_get = users["cli-no-get"]
        self.no_head = users["cli-no-head"]
        self.moto.set_auth(True)
        from botocore.exceptions import ClientError
        try:
            self.client("dynamodb", (self.admin[0], wrong(self.admin[1]))).list_tables()
            raise SetupError("moto accepted a wrong secret: its SigV4 verification is off")
        except ClientError:
            pass
        self.ddb = self.client("dynamodb", self.admin)
        self.create(AUDIT, "id", history=True)
        self.create(NO_INDEX, "id")
        self.create(SOURCE, "key")
        self.create(CHAIN_SOURCE, "key")

    def create(self, name, key, history=False):
        attrs = [{"AttributeName": key, "AttributeType": "S"}]
        extra = {}
        if history:
            attrs += [{"AttributeName": "historyKey", "AttributeType": "S"},
                      {"AttributeName": "historySort", "AttributeType": "S"}]
            extra["GlobalSecondaryIndexes"] = [{
                "IndexName": "history", "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": "historyKey", "KeyType": "HASH"},
                              {"AttributeName": "historySort", "KeyType": "RANGE"}]}]
        self.ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                              AttributeDefinitions=attrs, **extra)

    def put(self, table, items):
        for item in items:
            self.ddb.put_item(TableName=table, Item=item)

    def delete(self, table, items):
        for item in items:
            self.ddb.delete_item(TableName=table, Key={"id": item["id"]})

    def get(self, table, item_id):
        return self.ddb.get_item(TableName=table, Key={"id": {"S": item_id}},
                                 ConsistentRead=True).get("Item")

    def trail(self, history_key):
        """The items of a key, read back as DynamoDB stores them."""
        return [i for i in self.scan(AUDIT) if i.get("historyKey", {}).get("S") == history_key]

    def scan(self, table):
        items, start = [], None
        while True:
            kw = {"TableName": table}
            if start:
                kw["ExclusiveStartKey"] = start
            page = self.ddb.scan(**kw)
            items += page["Items"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return items


# ---- the command ------------------------------------------------------------------------------


class Cli:
    def __init__(self, path, endpoint, workdir):
        self.path = os.path.abspath(path)
        self.endpoint = endpoint
        self.home = os.path.join(workdir, "home")
        os.makedirs(self.home, exist_ok=True)

    def run(self, args, creds, endpoint=True, env=None, stdin=None):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.home,
             "AWS_REGION": REGION, "LANG": "C.UTF-8"}
        if creds is not None:
            e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"] = creds
        e.update(env or {})
        e = {k: v for k, v in e.items() if v is not None}
        cmd = [self.path] + list(args) + (["--endpoint-url", self.endpoint] if endpoint else [])
        try:
            feed = {"stdin": subprocess.DEVNULL} if stdin is None else {"input": stdin.encode()}
            p = subprocess.run(cmd, env=e, capture_output=True, timeout=RUN_TIMEOUT, **feed)
        except subprocess.TimeoutExpired as ex:
            raise TestFailure(f"`auditstream {' '.join(args)}` ran past {RUN_TIMEOUT} s") from ex
        out, err = p.stdout.decode("utf-8"), p.stderr.decode("utf-8")
        for secret in creds or ():
            check(secret not in out and secret not in err, "auditstream printed a credential")
        return p.returncode, out, err

    def ok(self, args, creds, want_rc=0, **kw):
        rc, out, err = self.run(args, creds, **kw)
        check(rc == want_rc, f"`auditstream {' '.join(args)}`: exit {rc}, expected {want_rc}; "
              f"stderr: {err.strip()[:400]}")
        check(err == "", f"`auditstream {' '.join(args)}` wrote to stderr: {err[:300]}")
        return out

    def json(self, args, creds, want_rc=0, **kw):
        out = self.ok(list(args) + ["--json"], creds, want_rc, **kw)
        return [json.loads(line) for line in out.splitlines()]


# ---- the tests --------------------------------------------------------------------------------


def changes_by_path(line):
    return {c["path"]: ({k: v for k, v in c.items() if k != "path"}) for c in line["changes"]}


class Suite:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.moto = Moto(workdir)
        self.aws = None
        self.cli = None

    def setup(self):
        self.moto.start()
        self.aws = Aws(self.moto)
        self.aws.setup()
        self.items = audit_items(self.args.bootstrap, self.workdir, LIFE)
        missing = [i for i in self.items
                   if i["historySort"]["S"].endswith("/" + MISSING_SEQUENCE.rjust(40, "0"))]
        check(len(missing) == 1, f"expected one item of GAPPY's record {MISSING_SEQUENCE}")
        self.aws.put(AUDIT, [i for i in self.items if i not in missing])
        self.cli = Cli(self.args.cli, self.moto.endpoint, self.workdir)

    def stop(self):
        self.moto.stop()

    # -- history --

    def test_history_json(self):
        lines = self.cli.json(["history", "CACHE_TTL_SEC"], self.aws.reader)
        check([l["eventName"] for l in lines] == ["CREATE", "UPDATE", "UPDATE", "DELETE"],
              f"events: {[l.get('eventName') for l in lines]}")
        check([l["sequenceNumber"] for l in lines] == ["100", "200", "300", "400"],
              f"sequence numbers: {[l.get('sequenceNumber') for l in lines]}")
        check([l["modificationTime"] for l in lines] == [iso(T0 + 60 * i) for i in range(4)],
              f"times: {[l.get('modificationTime') for l in lines]}")
        check(changes_by_path(lines[0]) == {"/key": {"newValue": {"S": "CACHE_TTL_SEC"}},
                                            "/owner": {"newValue": {"S": "ops"}},
                                            "/value": {"newValue": {"N": "3600"}}},
              f"the CREATE's changes: {lines[0]['changes']}")
        check(changes_by_path(lines[1]) == {
            "/tags": {"newValue": {"SS": ["a", "b"]}},
            "/value": {"oldValue": {"N": "3600"}, "newValue": {"N": "1800"}}},
            f"the first UPDATE's changes: {lines[1]['changes']}")
        check(changes_by_path(lines[2]) == {
            "/owner": {"oldValue": {"S": "ops"}},
            "/value": {"oldValue": {"N": "1800"}, "newValue": {"N": "1.50"}}},
            f"the second UPDATE's changes: {lines[2]['changes']}")
        check(set(changes_by_path(lines[3])) == {"/key", "/tags", "/value"},
              f"the DELETE's changes: {lines[3]['changes']}")
        for line in lines:
            check(set(line) <= {"modificationTime", "sequenceNumber", "eventName", "actor",
                                "changes"}, f"unexpected fields: {sorted(line)}")
        return "4 records, oldest first, changes as written"

    def test_history_window(self):
        lines = self.cli.json(["history", "CACHE_TTL_SEC", "--since", iso(T0 + 60)[:-5] + "Z",
                               "--until", str(T0 + 120)], self.aws.reader)
        check([l["sequenceNumber"] for l in lines] == ["200", "300"],
              f"--since/--until: {[l.get('sequenceNumber') for l in lines]}")
        lines = self.cli.json(["history", "CACHE_TTL_SEC", "--until", str(T0 - 1)],
                              self.aws.reader)
        check(lines == [], f"before the creation: {lines}")
        lines = self.cli.json(["history", "NO_SUCH_KEY"], self.aws.reader)
        check(lines == [], f"a key without a trail: {lines}")
        return "--since and --until bound the records; no record, no line"

    def test_history_table(self):
        out = self.cli.ok(["history", "CACHE_TTL_SEC"], self.aws.reader)
        lines = out.splitlines()
        check(lines[0] == "history of Configuration/CACHE_TTL_SEC: 4 records", lines[0])
        header = lines[1]
        check(re.match(r"^TIME \(UTC\) +SEQUENCE +EVENT +PATH +OLD +NEW$", header), header)
        cols = [header.index(h) for h in ("SEQUENCE", "EVENT", "PATH", "OLD", "NEW")]
        rows = lines[2:]
        check(rows[0].startswith(iso(T0) + "  100"), rows[0])
        for row in rows:
            check(row == row.rstrip(), f"a blank at the end of {row!r}")
            for c in cols:
                check(len(row) <= c or row[c - 2:c] == "  " or row[c - 1] == " ",
                      f"column at {c} not aligned in {row!r}")
        value_rows = [r for r in rows if "/value" in r]
        check(any(r.split()[-3:] == ["/value", "3600", "1800"] for r in value_rows),
              f"no row /value 3600 1800: {value_rows}")
        check(any("1.50" in r for r in value_rows), f"1.50 lost its digits: {value_rows}")
        check(any('<<"a","b">>' in r for r in rows), "the set is not shown as <<...>>")
        return f"{len(rows)} rows, aligned"

    def test_table_fits_terminal(self):
        """On an 80-column terminal the history's lines fit in 80 characters (the value
        columns give way); on a pipe they keep their full widths."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.cli.home,
               "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": self.aws.reader[0],
               "AWS_SECRET_ACCESS_KEY": self.aws.reader[1]}
        p, seen = run_on_terminal([self.cli.path, "history", "FEATURE_X", "--endpoint-url",
                                   self.moto.endpoint], env, "stdout", columns=80)
        check(p.returncode == 0, f"exit {p.returncode}: {p.stderr[:300]}")
        lines = seen.decode("utf-8").replace("\r\n", "\n").splitlines()
        check(len(lines) >= 6, f"{lines}")
        widest = max(len(line) for line in lines)
        check(widest <= 80, f"a line of {widest} characters on an 80-column terminal: {lines}")
        piped = self.cli.ok(["history", "FEATURE_X"], self.aws.reader)
        wide = max(len(line) for line in piped.splitlines())
        check(wide > 80, f"on a pipe the lines were narrowed too ({wide})")
        return f"widest line {widest} on the terminal, {wide} on a pipe"

    # -- show --

    def test_show_at_times(self):
        cases = [
            (T0 - 1, None, None),
            (T0, True, {"key": {"S": "CACHE_TTL_SEC"}, "value": {"N": "3600"},
                        "owner": {"S": "ops"}}),
            (T0 + 30, True, {"key": {"S": "CACHE_TTL_SEC"}, "value": {"N": "3600"},
                             "owner": {"S": "ops"}}),
            (T0 + 60, True, {"key": {"S": "CACHE_TTL_SEC"}, "value": {"N": "1800"},
                             "owner": {"S": "ops"}, "tags": {"SS": ["a", "b"]}}),
            (T0 + 150, True, {"key": {"S": "CACHE_TTL_SEC"}, "value": {"N": "1.50"},
                              "tags": {"SS": ["a", "b"]}}),
            (T0 + 180, False, None),
            (T0 + 9999, False, None),
        ]
        for at, exists, item in cases:
            (line,) = self.cli.json(["show", "CACHE_TTL_SEC", "--at", str(at)], self.aws.reader)
            check(set(line) == {"historyKey", "at", "exists", "complete", "item", "lastChange",
                                "notes"}, f"fields: {sorted(line)}")
            check(line["historyKey"] == "Configuration/CACHE_TTL_SEC", line["historyKey"])
            check(line["at"] == iso(at), f"at {line['at']} for {at}")
            check(line["exists"] == exists, f"at {iso(at)}: exists {line['exists']}")
            check(line["item"] == item, f"at {iso(at)}: item {line['item']}, expected {item}")
            if exists is None:
                check(line["lastChange"] is None and line["notes"], f"no trail: {line}")
            else:
                check(line["complete"] is True, f"at {iso(at)}: not complete: {line}")
        (line,) = self.cli.json(["show", "CACHE_TTL_SEC", "--at", "2024-05-01T12:31:45Z"],
                                self.aws.reader)
        check(line["lastChange"] == {"sequenceNumber": "200",
                                     "modificationTime": iso(T0 + 60)}, str(line["lastChange"]))
        return f"{len(cases) + 1} times, before the creation to after the delete"

    def test_show_table(self):
        out = self.cli.ok(["show", "CACHE_TTL_SEC", "--at", "2024-05-01T12:31:00Z"],
                          self.aws.reader)
        check(re.search(r"^exists +yes$", out, re.M), out)
        check(re.search(r"^complete +yes$", out, re.M), out)
        check(re.search(r"^at \(UTC\) +2024-05-01T12:31:00\.000Z$", out, re.M), out)
        check(re.search(r"^value +3600$", out, re.M), out)
        check(re.search(r'^owner +"ops"$', out, re.M), out)
        out = self.cli.ok(["show", "FEATURE_X"], self.aws.reader)
        check("\x1b" not in out, "a raw escape byte reached the terminal")
        desc = [l for l in out.splitlines() if l.startswith("description")]
        check(len(desc) == 1 and desc[0].endswith("\u2026") and LONG not in out,
              f"the long value is not shortened: {desc}")
        check(len(desc[0]) <= 32 + 2 + 80, f"too wide: {len(desc[0])}")
        check(re.search(r"^enabled +true$", out, re.M), out)
        note = [l for l in out.splitlines() if l.startswith("note ")]
        check(len(note) == 1 and "\\n" in note[0], f"the newline is not shown escaped: {note}")
        out = self.cli.ok(["show", "NO_SUCH_KEY"], self.aws.reader)
        check(re.search(r"^exists +unknown$", out, re.M), out)
        return "facts and attributes, long and unprintable values tamed"

    # -- verify --

    def test_verify(self):
        lines = self.cli.json(["verify", "CACHE_TTL_SEC", "FEATURE_X"], self.aws.reader)
        check(lines == [
            {"historyKey": "Configuration/CACHE_TTL_SEC", "entries": 4, "ok": True,
             "problems": []},
            {"historyKey": "Configuration/FEATURE_X", "entries": 1, "ok": True, "problems": []},
            {"keys": 2, "entries": 5, "ok": True}], f"verify: {lines}")
        lines = self.cli.json(["verify", "GAPPY"], self.aws.reader, want_rc=1)
        check(len(lines) == 2 and lines[0]["ok"] is False and lines[1]["ok"] is False, str(lines))
        problems = lines[0]["problems"]
        check(len(problems) == 1 and problems[0]["kind"] == "continuity" and
              problems[0]["sequenceNumber"] == "12", f"problems: {problems}")
        lines = self.cli.json(["verify", "--all"], self.aws.reader, want_rc=1)
        check(lines[-1] == {"keys": 4, "entries": 8, "ok": False}, f"--all: {lines[-1]}")
        check(sorted(l["historyKey"] for l in lines[:-1]) ==
              ["Configuration/BROKEN", "Configuration/CACHE_TTL_SEC", "Configuration/FEATURE_X",
               "Configuration/GAPPY"], str(lines))
        out = self.cli.ok(["verify", "GAPPY", "CACHE_TTL_SEC"], self.aws.reader, want_rc=1)
        check(re.search(r"^Configuration/GAPPY +2 +NOT OK +continuity +12 +", out, re.M), out)
        check(re.search(r"^Configuration/CACHE_TTL_SEC +4 +ok$", out, re.M), out)
        check(out.splitlines()[-1] == "2 keys, 6 entries: NOT OK (1 continuity)",
              out.splitlines()[-1])
        return "ok keys, the missing record named, --all, exit 1 when not ok"

    # -- verify: the hash chain --

    def chained(self, key, count=5, env=None, **kw):
        """Writes a chained trail of `key` (its life through bootstrap --print, linked here
        from the rules) and its head; returns (items, head, anchors)."""
        items = audit_items(self.args.bootstrap, self.workdir, life_records(key, count, **kw),
                            env)
        head, anchors = link(items)
        self.aws.put(AUDIT, items + [head])
        return items, head, anchors

    def verify_line(self, key, want_rc, args=()):
        lines = self.cli.json(["verify", key] + list(args), self.aws.reader, want_rc=want_rc)
        check(len(lines) == 2 and lines[0]["historyKey"] == "Configuration/" + key,
              f"verify {key}: {lines}")
        check(lines[1]["ok"] is (want_rc == 0) and lines[0]["ok"] is (want_rc == 0), str(lines))
        return lines[0]

    def test_chain_ok(self):
        """A chained trail linked here from the rules verifies: the library and this page
        agree on digests and links; two items a record, numbers and sets as written."""
        items, head, _ = self.chained("CH_OK")
        line = self.verify_line("CH_OK", 0)
        check(line["entries"] == 5 and line["problems"] == [], str(line))
        check(len(items) == 9, f"{len(items)} items")
        # DynamoDB hands numbers back normalised and sets in any order: rewritten so, each
        # item still hashes the same (the canonical form), and the chain holds.
        items, head, _ = self.chained("CH_NORM", 3)
        for item in items:
            if "newValue" in item and "M" in item["newValue"]:
                item["newValue"]["M"]["n"] = {"N": "1.5"}
                item["newValue"]["M"]["tags"] = {"SS": ["z", "y", "x"]}
        self.aws.put(AUDIT, items)
        stored = self.aws.trail("Configuration/CH_NORM")
        check(any(i.get("newValue", {}).get("M", {}).get("n") == {"N": "1.5"} for i in stored),
              "the rewritten number is not in the table")
        line = self.verify_line("CH_NORM", 0)
        check(line["entries"] == 3 and line["problems"] == [], str(line))
        out = self.cli.ok(["verify", "CH_OK", "CH_NORM"], self.aws.reader)
        check(out.splitlines()[-1] == "2 keys, 8 entries: ok", out)
        return "5 and 3 entries ok, 1.50 read back as 1.5 and sets reordered still verify"

    def test_verify_needs_getitem(self):
        """Credentials that may Query but not GetItem (a reader policy from before the
        chain): verify cannot read the chain heads, and says which permission is missing."""
        rc, out, err = self.cli.run(["verify", "CACHE_TTL_SEC"], self.aws.no_head)
        check(rc == 2 and out == "" and len(err.splitlines()) == 1 and
              err.startswith('auditstream: access denied: GetItem on table "Audit" (') and
              "need dynamodb:GetItem" in err and "reader_policy_arn" in err, f"exit {rc}: {err!r}")
        return err.strip()[:120]

    def test_chain_altered(self):
        """A value changed in a middle entry: altered, named by its record."""
        items, _, _ = self.chained("CH_ALT")
        (item,) = [i for i in items_of_record(items, 300)
                   if i.get("updatedAttribute", {}).get("S") == "w"]
        item["newValue"] = {"S": "forged"}
        self.aws.put(AUDIT, [item])
        line = self.verify_line("CH_ALT", 1)
        found = problems_of(line)
        check(("altered", "300") in found, f"problems: {line['problems']}")
        # The next record's old value no longer follows: continuity says so too; nothing
        # else does.
        check(set(found) <= {("altered", "300"), ("continuity", "400")},
              f"problems: {line['problems']}")
        out = self.cli.ok(["verify", "CH_ALT"], self.aws.reader, want_rc=1)
        check(re.search(r"^Configuration/CH_ALT +5 +NOT OK +\S+ +\d+ ", out, re.M), out)
        check(re.search(r"^ +altered +300 +", out, re.M) or
              re.search(r"NOT OK +altered +300 +", out), out)
        check(out.splitlines()[-1].startswith("1 key, 5 entries: NOT OK (") and
              "1 altered" in out.splitlines()[-1], out.splitlines()[-1])
        return f"{found}; {out.splitlines()[-1]}"

    def test_chain_missing(self):
        """An entry deleted from the middle: missing, named by the entry after it; the last
        entry deleted: head, named by the new last one."""
        items, _, _ = self.chained("CH_MID")
        self.aws.delete(AUDIT, items_of_record(items, 300))
        line = self.verify_line("CH_MID", 1)
        check(("missing", "400") in problems_of(line) and
              not any(k in ("altered", "head") for k, _ in problems_of(line)),
              f"problems: {line['problems']}")
        check(line["entries"] == 4, str(line))
        items, _, _ = self.chained("CH_LAST")
        self.aws.delete(AUDIT, items_of_record(items, 500))
        line = self.verify_line("CH_LAST", 1)
        check(problems_of(line) == [("head", "400")], f"problems: {line['problems']}")
        return "middle: missing 400; last: head 400"

    def test_chain_forged(self):
        """An entry slipped in: linked from the one before it, the next entry's chainPrev
        no longer matches (missing); without chain fields, it is altered."""
        items, _, _ = self.chained("CH_FORGE")
        forged = audit_items(self.args.bootstrap, self.workdir, [record(
            "CH_FORGE", 250, T0 + 90, "MODIFY", old={"key": "CH_FORGE"},
            new={"key": "CH_FORGE", "v": "#N99"})])
        before = [i for i in items if i["historySort"]["S"] < forged[0]["historySort"]["S"]]
        prior = records_of(before)[-1][0]
        fake_head = {"chain": prior["chain"], "chainTime": prior["modificationTime"],
                     "chainSeq": {"S": seq_of([prior])}, "entries": {"N": "2"}}
        link(forged, fake_head)
        self.aws.put(AUDIT, forged)
        line = self.verify_line("CH_FORGE", 1)
        check(("missing", "300") in problems_of(line) and
              not any(k == "head" for k, _ in problems_of(line)), f"linked: {line['problems']}")
        self.aws.delete(AUDIT, forged)
        for item in forged:
            for field in CHAIN_FIELDS:
                item.pop(field, None)
        self.aws.put(AUDIT, forged)
        line = self.verify_line("CH_FORGE", 1)
        check(("altered", "250") in problems_of(line), f"unlinked: {line['problems']}")
        return "linked: missing 300; without chain fields: altered 250"

    def test_chain_head_rolled_back(self):
        """The head put back to an earlier entry: head, named by the last entry."""
        items, head, _ = self.chained("CH_ROLL")
        earlier, _ = link([dict(i) for r in records_of(items)[:3] for i in r])
        self.aws.put(AUDIT, [earlier])
        line = self.verify_line("CH_ROLL", 1)
        check(problems_of(line) == [("head", "500")], f"problems: {line['problems']}")
        # A head gone altogether while the trail is chained: head too.
        self.aws.delete(AUDIT, [head])
        line = self.verify_line("CH_ROLL", 1)
        check(problems_of(line) == [("head", "500")], f"no head: {line['problems']}")
        # A head item that is not one (its chain not hex).
        bad = dict(head, chain={"S": "not hex"})
        self.aws.put(AUDIT, [bad])
        line = self.verify_line("CH_ROLL", 1)
        check(line["problems"] and all(k == "head" for k, _ in problems_of(line)) and
              any("does not read as one" in p["detail"] for p in line["problems"]),
              f"bad head: {line['problems']}")
        return "rolled back, gone, unreadable: head 500"

    def test_verify_reads_again(self):
        """The last record's items arrive while verify runs (the index a moment behind the
        head): the key, not ok at first, is read again after a pause and found ok."""
        records = life_records("CH_LATE", 3)
        items = audit_items(self.args.bootstrap, self.workdir, records)
        head, _ = link(items)
        late = items_of_record(items, 300)
        self.aws.put(AUDIT, [i for i in items if i not in late] + [head])
        cmd = [self.cli.path, "verify", "CH_LATE", "--json", "--endpoint-url", self.moto.endpoint]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.cli.home,
               "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": self.aws.reader[0],
               "AWS_SECRET_ACCESS_KEY": self.aws.reader[1]}
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        # verify's first read takes a few tens of milliseconds; its pause, a second.
        time.sleep(0.5)
        self.aws.put(AUDIT, late)
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
        took = time.monotonic() - t0
        lines = [json.loads(l) for l in out.decode().splitlines()]
        check(proc.returncode == 0 and err == b"" and lines[0]["entries"] == 3 and
              lines[0]["problems"] == [], f"exit {proc.returncode}: {lines} {err!r}")
        # Read as it stands now, it is ok at once: no pause.
        t1 = time.monotonic()
        self.verify_line("CH_LATE", 0)
        return f"ok after a second read ({took:.1f} s); at once when whole " \
            f"({time.monotonic() - t1:.1f} s)"

    def test_chain_rewritten(self):
        """A key's chain rewritten from end to end with its head, consistently: verify
        cannot tell without anchors; the anchors the function logged catch it."""
        items, _, anchors = self.chained("CH_REWRITE")
        (item,) = [i for i in items_of_record(items, 200)
                   if i.get("updatedAttribute", {}).get("S") == "v"]
        item["newValue"] = {"N": "42"}
        for i in items:
            if i.get("updatedAttribute", {}).get("S") == "v" and seq_of([i]).endswith("300"):
                i["oldValue"] = {"N": "42"}
        for i in items:
            for field in CHAIN_FIELDS:
                i.pop(field, None)
        head, _ = link(items)
        self.aws.put(AUDIT, items + [head])
        line = self.verify_line("CH_REWRITE", 0)
        check(line["problems"] == [], f"without anchors: {line['problems']}")
        path = os.path.join(self.workdir, "rewrite-anchors.jsonl")
        with open(path, "w") as f:
            for a in anchors:
                f.write(json.dumps({"level": "INFO", "message": "chain heads", "heads": [a]}) + "\n")
        line = self.verify_line("CH_REWRITE", 1, ["--anchors", path])
        found = problems_of(line)
        check(found and all(k == "anchor" for k, _ in found) and ("anchor", "200") in found and
              ("anchor", "500") in found and ("anchor", "100") not in found,
              f"with anchors: {line['problems']}")
        return f"ok without anchors; with them: {found}"

    def test_chain_expired(self):
        """The first entries gone: after their expiresAt (retention 1 day, in 2024) the
        next entry is expired and the key ok; removed before it (retention 100 years),
        missing. Anchors older than an expired first entry are not checked."""
        items, _, anchors = self.chained("CH_EXPIRED", env={"AUDIT_RETENTION_DAYS": "1"})
        check(all("expiresAt" in i for i in items), "no expiresAt")
        self.aws.delete(AUDIT, items_of_record(items, 100) + items_of_record(items, 200))
        line = self.verify_line("CH_EXPIRED", 0)
        check(problems_of(line) == [("expired", "300")], f"expired: {line['problems']}")
        path = os.path.join(self.workdir, "expired-anchors.jsonl")
        with open(path, "w") as f:
            f.write(json.dumps({"heads": anchors}) + "\n")
        line = self.verify_line("CH_EXPIRED", 0, ["--anchors", path])
        check(problems_of(line) == [("expired", "300")], f"with anchors: {line['problems']}")
        out = self.cli.ok(["verify", "CH_EXPIRED"], self.aws.reader)
        check(out.splitlines()[-1] == "1 key, 3 entries: ok (1 expired)", out)
        items, _, _ = self.chained("CH_EARLY", env={"AUDIT_RETENTION_DAYS": "36500"})
        self.aws.delete(AUDIT, items_of_record(items, 100))
        line = self.verify_line("CH_EARLY", 1)
        check(problems_of(line) == [("missing", "200")], f"removed early: {line['problems']}")
        return "expired 300 (ok), missing 200"

    def test_verify_all_chains(self):
        """--all finds every key, a chain head whose trail is gone included (by chainOf)."""
        items, head, _ = self.chained("CH_GONE", 2)
        self.aws.delete(AUDIT, items)
        self.chained("CH_ALL")
        lines = self.cli.json(["verify", "--all"], self.aws.reader, want_rc=1)
        by_key = {l["historyKey"]: l for l in lines[:-1]}
        check(len(by_key) == len(lines) - 1, "a key twice")
        gone = by_key.get("Configuration/CH_GONE")
        check(gone is not None and gone["entries"] == 0 and gone["ok"] is False and
              [p["kind"] for p in gone["problems"]] == ["head"], f"CH_GONE: {gone}")
        check(by_key.get("Configuration/CH_ALL", {}).get("ok") is True, str(by_key.keys()))
        check(by_key["Configuration/GAPPY"]["ok"] is False, "GAPPY")
        keys = {i["historyKey"]["S"] for i in self.aws.scan(AUDIT) if "historyKey" in i}
        keys |= {i["chainOf"]["S"] for i in self.aws.scan(AUDIT) if "chainOf" in i}
        check(set(by_key) == keys, f"--all: {sorted(set(by_key) ^ keys)}")
        check(lines[-1]["keys"] == len(keys) and lines[-1]["ok"] is False, str(lines[-1]))
        # --all with --anchors: the table's keys and the anchors' (here one the table does
        # not hold: its anchor lies on no chain).
        path = os.path.join(self.workdir, "all-anchors.jsonl")
        with open(path, "w") as f:
            f.write(json.dumps({"heads": [{"historyKey": "Configuration/NOWHERE",
                                           "sequenceNumber": "5", "chain": "a" * 64}]}) + "\n")
        lines = self.cli.json(["verify", "--all", "--anchors", path], self.aws.reader, want_rc=1)
        by_key = {l["historyKey"]: l for l in lines[:-1]}
        check(set(by_key) == keys | {"Configuration/NOWHERE"}, "--all --anchors: keys")
        check(problems_of(by_key["Configuration/NOWHERE"]) == [("anchor", "5")],
              str(by_key["Configuration/NOWHERE"]))
        return f"{len(keys)} keys, a head without trail among them; with --anchors one more"

    def test_anchors(self):
        """--anchors FILE: the function's log lines (JSON with other fields, text, other
        lines between); without KEY, the keys they anchor are verified; a wrong anchor is
        an anchor problem; a malformed file is a usage error naming its line."""
        _, _, a1 = self.chained("CH_ANCH1", 3)
        _, _, a2 = self.chained("CH_ANCH2", 2)
        path = os.path.join(self.workdir, "anchors.log")
        lines = [
            "START RequestId: 1 Version: $LATEST",
            json.dumps({"timestamp": iso(T0), "level": "INFO", "message": "chain heads",
                        "service": "audit_producer", "function_request_id": "1",
                        "heads": [a1[0], a2[0]]}),
            json.dumps({"level": "INFO", "message": "batch done", "records": 2}),
            "",
            f"{iso(T0 + 60)}\t2\tINFO\tchain heads heads={json.dumps(a1[1:] + a2[1:])}",
            "REPORT RequestId: 2 Duration: 1.0 ms",
        ]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        out = self.cli.json(["verify", "--anchors", path], self.aws.reader)
        check([l.get("historyKey") for l in out] ==
              ["Configuration/CH_ANCH1", "Configuration/CH_ANCH2", None] and
              all(l["ok"] for l in out) and out[-1] == {"keys": 2, "entries": 5, "ok": True},
              f"good anchors: {out}")
        # With a KEY, its anchors alone; with --all, every key and the anchors.
        out = self.cli.json(["verify", "CH_ANCH2", "--anchors", path], self.aws.reader)
        check(out[-1] == {"keys": 1, "entries": 2, "ok": True}, str(out))
        # "-": the lines on standard input, as from `aws logs tail ... | auditstream ...`.
        with open(path) as f:
            text = f.read()
        rc, out, err = self.cli.run(["verify", "--anchors", "-", "--json"], self.aws.reader,
                                    stdin=text)
        check(rc == 0 and err == "" and json.loads(out.splitlines()[-1]) ==
              {"keys": 2, "entries": 5, "ok": True}, f"standard input: exit {rc}: {out} {err}")
        rc, out, err = self.cli.run(["verify", "--anchors", "-"], self.aws.reader, stdin="{x\n")
        check(rc == 2 and err == "auditstream: verify: --anchors standard input: line 1: not a "
              "JSON object: string or '}' expected near 'x'\n", f"bad standard input: {err!r}")
        # A head the chain never had: its sequence number with another chain, and a
        # sequence number that is not on the chain.
        bad = [dict(a1[1], chain="e" * 64), dict(a1[1], sequenceNumber="250")]
        with open(path, "a") as f:
            f.write(json.dumps({"heads": bad}) + "\n")
        out = self.cli.json(["verify", "--anchors", path], self.aws.reader, want_rc=1)
        check(problems_of(out[0]) == [("anchor", "200"), ("anchor", "250")] and
              out[1]["ok"] is True and out[-1]["ok"] is False, f"bad anchors: {out}")
        # Malformed: exit 2, the file and line named, nothing on standard output.
        cases = [
            ('{"heads":[{"historyKey":"Configuration/CH_ANCH1","sequenceNumber":"1"}]}',
             "line 2: heads[0].chain is missing"),
            ('{"heads": [', "line 2: not a JSON object: ']' expected near end of file"),
            (f"{iso(T0)}\tINFO\tchain heads heads=[oops]",
             "line 2: heads= is not JSON: "),
        ]
        for text, want in cases:
            with open(path, "w") as f:
                f.write("START RequestId: 9\n" + text + "\n")
            rc, out, err = self.cli.run(["verify", "--anchors", path], self.aws.reader)
            check(rc == 2 and out == "" and err.startswith(
                f"auditstream: verify: --anchors {path}: {want}") and len(err.splitlines()) == 1,
                f"malformed {text!r}: exit {rc}: {err!r}")
        rc, out, err = self.cli.run(["verify", "--anchors", path + ".none"], self.aws.reader)
        check(rc == 2 and out == "" and err == f"auditstream: verify: --anchors {path}.none: "
              "cannot open it: No such file or directory\n", f"no file: {err!r}")
        with open(path, "w") as f:
            f.write("START RequestId: 9\n")
        rc, out, err = self.cli.run(["verify", "--anchors", path], self.aws.reader)
        check(rc == 2 and 'no "chain heads" line in it' in err, f"no heads: {err!r}")
        return f"good file ok, 2 wrong anchors named, {len(cases) + 2} bad files refused"

    def test_function_anchors(self):
        """The function itself (build/bootstrap with AUDIT_CHAIN=on, against the Runtime
        API stand-in and moto) in each log format: its whole log, as written, is an anchors
        file; its chains verify, and agree with this page's; rewritten consistently, only
        the anchors catch it."""
        notes = []
        for fmt, key in (("JSON", "FN_JSON"), ("Text", "FN_TEXT")):
            fn = Function(self.args.bootstrap, self.workdir, f"function-{fmt}",
                          self.moto.endpoint, self.aws.admin,
                          {"AUDIT_CHAIN": "on", "AWS_LAMBDA_LOG_FORMAT": fmt})
            try:
                records = life_records(key, 5)
                for batch in (records[:2], records[2:4], records[4:]):
                    fn.invoke(batch)
                fn.invoke(records[2:])  # a redelivery: skipped, the chain unchanged
            finally:
                fn.stop()
            log = fn.log()
            check(log.count("chain heads") == 3, f"{fmt}: {log.count('chain heads')} anchor "
                  f"lines, expected 3:\n{log[-1500:]}")
            check("Text" != fmt or "\tINFO\tchain heads heads=[" in log, f"text log: {log}")
            hk = "Configuration/" + key
            stored = self.aws.trail(hk)
            head = self.aws.get(AUDIT, head_id(hk))
            mine = [{k: v for k, v in i.items() if k not in CHAIN_FIELDS} for i in stored]
            want, _ = link(mine)
            check(head == want and len(records_of(stored)) == 5,
                  f"{fmt}: the function's head\n  {head}\nthis page's\n  {want}")
            line = self.verify_line(key, 0, ["--anchors", fn.log_path])
            check(line["entries"] == 5 and line["problems"] == [], f"{fmt}: {line}")
            out = self.cli.json(["verify", "--anchors", fn.log_path], self.aws.reader)
            check([l.get("historyKey") for l in out] == [hk, None], f"{fmt}: keys {out}")
            # Rewritten from end to end, head included: verify alone cannot tell.
            (item,) = [i for i in mine if i.get("updatedAttribute", {}).get("S") == "w" and
                       seq_of([i]).endswith("300")]
            item["newValue"] = {"S": "forged"}
            nxt = [i for i in mine if i.get("updatedAttribute", {}).get("S") == "w" and
                   seq_of([i]).endswith("400")]
            nxt[0]["oldValue"] = {"S": "forged"}
            forged_head, _ = link(mine)
            self.aws.put(AUDIT, mine + [forged_head])
            self.verify_line(key, 0)
            line = self.verify_line(key, 1, ["--anchors", fn.log_path])
            check({k for k, _ in problems_of(line)} == {"anchor"} and
                  ("anchor", "500") in problems_of(line), f"{fmt} rewritten: {line}")
            notes.append(f"{fmt}: {problems_of(line)}")
        return "; ".join(notes)

    def test_error_item(self):
        """An error item in a trail: history shows the record with its error, show says
        the state is unknown."""
        (line,) = self.cli.json(["history", "BROKEN"], self.aws.reader)
        check(line["sequenceNumber"] == "700" and line["changes"] == [], str(line))
        out = self.cli.ok(["history", "BROKEN"], self.aws.reader)
        row, after = out.splitlines()[2], out.splitlines()[3]
        check(row.startswith(iso(T0 + 5) + "  700") and row.endswith("(error item: see below)"),
              row)
        check(after.startswith(f"error item of record 700 at {iso(T0 + 5)}: ") and
              after.endswith('"xyz": not a number'), after)
        (line,) = self.cli.json(["show", "BROKEN"], self.aws.reader)
        check(line["exists"] is None and line["item"] is None and line["notes"], str(line))
        return after

    # -- credentials ---

    def test_profile(self):
        aws_dir = os.path.join(self.cli.home, ".aws")
        os.makedirs(aws_dir, exist_ok=True)
        with open(os.path.join(aws_dir, "credentials"), "w") as f:
            f.write(f"# made by the test\n[dev]\naws_access_key_id = {self.aws.reader[0]}\n"
                    f"aws_secret_access_key = {self.aws.reader[1]}\n")
        with open(os.path.join(aws_dir, "config"), "w") as f:
            f.write(f"[profile dev]\nregion = {REGION}\n")
        try:
            no_env = {"AWS_REGION": None}
            lines = self.cli.json(["show", "FEATURE_X", "--profile", "dev"], None, env=no_env)
            check(lines[0]["exists"] is True, str(lines))
            lines = self.cli.json(["show", "FEATURE_X"], None, env={"AWS_PROFILE": "dev",
                                                                    "AWS_REGION": None})
            check(lines[0]["exists"] is True, str(lines))
            # --profile wins over AWS_* keys, here wrong ones.
            lines = self.cli.json(["show", "FEATURE_X", "--profile", "dev"],
                                  ("AKIDWRONG", "wrong"), env=no_env)
            check(lines[0]["exists"] is True, str(lines))
        finally:
            shutil.rmtree(aws_dir)
        return "--profile and AWS_PROFILE, region from the profile"

    # -- backfill --

    def test_backfill(self):
        # NEW_ITEM has no trail; FEATURE_X is as its trail says; CACHE_TTL_SEC was deleted in
        # the trail but is in the table again (its re-creation never reached the function).
        self.aws.put(SOURCE, [
            {"key": {"S": "NEW_ITEM"}, "value": {"N": "5"}, "list": {"L": [{"S": "a"}]}},
            {"key": {"S": "FEATURE_X"}, **image(FEATURE)},
            {"key": {"S": "CACHE_TTL_SEC"}, "value": {"N": "60"}},
        ])
        before = len(self.aws.scan(AUDIT))
        lines = self.cli.json(["backfill", "--segments", "2"], self.aws.admin)
        check(lines == [{"scanned": 3, "written": 2, "failed": 0}], f"backfill: {lines}")
        check(len(self.aws.scan(AUDIT)) == before + 2, "not two items more")
        lines = self.cli.json(["backfill"], self.aws.admin)
        check(lines == [{"scanned": 3, "written": 0, "failed": 0}], f"again: {lines}")
        check(len(self.aws.scan(AUDIT)) == before + 2, "the second run wrote")
        (line,) = self.cli.json(["show", "NEW_ITEM"], self.aws.reader)
        check(line["exists"] is True and line["complete"] is True and
              line["item"] == {"key": {"S": "NEW_ITEM"}, "value": {"N": "5"},
                               "list": {"L": [{"S": "a"}]}}, str(line))
        (first,) = self.cli.json(["history", "NEW_ITEM"], self.aws.reader)
        check(first["eventName"] == "BASELINE" and "sequenceNumber" not in first, str(first))
        (line,) = self.cli.json(["show", "CACHE_TTL_SEC"], self.aws.reader)
        check(line["item"] == {"key": {"S": "CACHE_TTL_SEC"}, "value": {"N": "60"}}, str(line))
        out = self.cli.ok(["backfill"], self.aws.admin)
        check(out.splitlines()[0].split() == ["SCANNED", "WRITTEN", "UNCHANGED", "FAILED"], out)
        check(out.splitlines()[1].split() == ["3", "0", "3", "0"], out)
        return "2 BASELINE items written, none the second time, show complete"

    def test_backfill_settings(self):
        """The function's AUDIT_* variables: a bad one is a usage error naming it; the
        ignore list leaves attributes out of the BASELINE (and of the comparison, so a
        second run writes nothing); detailed writes newImage."""
        rc, out, err = self.cli.run(["backfill"], self.aws.admin, env={"AUDIT_FORMAT": "Fancy"})
        check(rc == 2 and out == "" and len(err.splitlines()) == 1 and
              err.startswith("auditstream: config: AUDIT_FORMAT") and "Fancy" in err,
              f"bad AUDIT_FORMAT: exit {rc}: {err!r}")
        self.aws.put(SOURCE, [{"key": {"S": "IGNORED"}, "value": {"N": "1"},
                               "updatedAt": {"N": "1700000000"}}])
        env = {"AUDIT_IGNORE_ATTRIBUTES": "updatedAt", "AUDIT_FORMAT": "detailed"}
        lines = self.cli.json(["backfill"], self.aws.admin, env=env)
        check(lines[0]["written"] == 1 and lines[0]["failed"] == 0, f"backfill: {lines}")
        lines = self.cli.json(["backfill"], self.aws.admin, env=env)
        check(lines[0]["written"] == 0, f"again with the ignore list: {lines}")
        (line,) = self.cli.json(["show", "IGNORED"], self.aws.reader)
        check(line["item"] == {"key": {"S": "IGNORED"}, "value": {"N": "1"}}, str(line))
        items = [i for i in self.aws.scan(AUDIT)
                 if i.get("historyKey", {}).get("S") == "Configuration/IGNORED"]
        check(len(items) == 1 and "newImage" in items[0] and
              "updatedAt" not in items[0]["newImage"]["M"], f"the BASELINE: {items}")
        # Without the ignore list the item as read differs from its trail: one more.
        lines = self.cli.json(["backfill"], self.aws.admin)
        check(lines[0]["written"] == 1, f"without the ignore list: {lines}")
        return "bad AUDIT_FORMAT refused, ignore list and detailed applied"

    def test_backfill_without_getitem(self):
        """Credentials that may Scan but not GetItem: the Scan's copies are written, and
        one line on stderr says so."""
        self.aws.put(SOURCE, [{"key": {"S": "NO_GET"}, "value": {"S": "v"}}])
        rc, out, err = self.cli.run(["backfill", "--json"], self.aws.no_get)
        check(rc == 0, f"exit {rc}: {err}")
        check(json.loads(out)["written"] == 1, out)
        check(err == 'auditstream: backfill: dynamodb:GetItem on table "Configuration" is '
              "denied: the Scan's copies are written, which changes made meanwhile may have "
              "made stale (grant GetItem on the source table to avoid it)\n", repr(err))
        (line,) = self.cli.json(["show", "NO_GET"], self.aws.reader)
        check(line["item"] == {"key": {"S": "NO_GET"}, "value": {"S": "v"}}, str(line))
        return "one warning, the BASELINE written from the Scan"

    def test_backfill_progress(self):
        """A progress bar on a terminal, redrawn in place; nothing on a pipe."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.cli.home,
               "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": self.aws.admin[0],
               "AWS_SECRET_ACCESS_KEY": self.aws.admin[1]}
        p, seen = run_on_terminal([self.cli.path, "backfill", "--endpoint-url",
                                   self.moto.endpoint], env, "stderr")
        text = seen.decode("utf-8", "replace")
        check(p.returncode == 0, f"exit {p.returncode}: {text[:300]}")
        check("\r\x1b[Kbackfill" in text and "scanned" in text and text.endswith("\n"),
              f"no bar on the terminal: {text!r}")
        check(p.stdout.decode().splitlines()[0].split()[0] == "SCANNED", p.stdout.decode())
        rc, out, err = self.cli.run(["backfill"], self.aws.admin)
        check(rc == 0 and err == "", f"on a pipe: exit {rc}, stderr {err!r}")
        return f"bar drawn {text.count(chr(13) + chr(27) + '[K')} times on a terminal"

    def test_backfill_chain(self):
        """AUDIT_CHAIN=on: each BASELINE is linked into its key's chain (a new chain, or
        after the head the function left) and the head moved; AUDIT_REDACT_* and
        AUDIT_RETENTION_DAYS shape the items as the function would; the chain recomputed
        here from the rules matches; verify is ok; a second run writes and moves nothing."""
        table_arn = ARN.replace(f"table/{SOURCE}/", f"table/{CHAIN_SOURCE}/")
        old = {"key": "CB_CHAINED", "v": "#N1"}
        mid = {"key": "CB_CHAINED", "v": "#N2"}
        records = [record("CB_CHAINED", 100, T0, "INSERT", new=old),
                   record("CB_CHAINED", 200, T0 + 60, "MODIFY", old=old, new=mid)]
        for r in records:
            r["eventSourceARN"] = table_arn
        trail = audit_items(self.args.bootstrap, self.workdir, records)
        old_head, _ = link(trail)
        self.aws.put(AUDIT, trail + [old_head])
        self.aws.put(CHAIN_SOURCE, [
            {"key": {"S": "CB_NEW"}, "v": {"N": "7"}},
            {"key": {"S": "CB_SECRET"}, "v": {"N": "1"}, "password": {"S": "hunter2"},
             "updatedBy": {"S": "alice"}},
            {"key": {"S": "CB_CHAINED"}, "v": {"N": "3"}},  # an update the stream lost
        ])
        key64 = base64.b64encode(REDACT_KEY).decode()
        env = {"AUDIT_CHAIN": "on", "AUDIT_REDACT_ATTRIBUTES": "password",
               "AUDIT_REDACT_KEY": key64, "AUDIT_RETENTION_DAYS": "30",
               "AUDIT_ACTOR_ATTRIBUTE": "updatedBy"}
        args = ["backfill", "--table", CHAIN_SOURCE]
        rc, out, err = self.cli.run(args + ["--json"], self.aws.admin, env=env)
        check(rc == 0 and err == "", f"backfill: exit {rc}: {err}")
        check(json.loads(out) == {"scanned": 3, "written": 3, "failed": 0}, out)
        check(key64 not in out + err and "hunter2" not in out + err, "a secret was printed")
        heads = {}
        for key in ("CB_NEW", "CB_SECRET", "CB_CHAINED"):
            hk = f"{CHAIN_SOURCE}/{key}"
            items = self.aws.trail(hk)
            (baseline,) = [i for i in items if i["eventName"]["S"] == "BASELINE"]
            check(all(f in baseline for f in ("chainPrev", "chain")), f"{key}: not chained")
            start = old_head if key == "CB_CHAINED" else None
            want, _ = link([dict(baseline)], start)
            heads[key] = self.aws.get(AUDIT, head_id(hk))
            check(heads[key] == want, f"{key}: head\n  {heads[key]}\nwant\n  {want}")
            stamp = baseline["modificationTime"]["S"]
            seconds = int(time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))) - \
                time.timezone
            check(baseline.get("expiresAt") == {"N": str(seconds + 30 * 86400)},
                  f"{key}: expiresAt {baseline.get('expiresAt')} for {stamp}")
            check("actor" not in baseline, f"{key}: a BASELINE names an actor")
            if key == "CB_CHAINED":
                check(baseline["chainPrev"] == old_head["chain"] and
                      baseline["chainPrevTime"] == old_head["chainTime"] and
                      heads[key]["entries"] == {"N": "3"} and
                      heads[key]["chainSeq"] == old_head["chainSeq"], f"after the head: {baseline}")
            else:
                check(baseline["chainPrev"] == {"S": ZEROS} and "chainPrevTime" not in baseline,
                      f"{key}: a first entry: {baseline}")
        secret = self.aws.trail(f"{CHAIN_SOURCE}/CB_SECRET")[0]["newValue"]["M"]["password"]
        mac = hmac.new(REDACT_KEY, canonical_value({"S": "hunter2"}), hashlib.sha256).hexdigest()
        check(secret == {"M": {"redacted": {"BOOL": True}, "hmac": {"S": mac}}},
              f"the redacted value: {secret}")
        check("hunter2" not in json.dumps(self.aws.scan(AUDIT)), "the secret is in the table")
        lines = self.cli.json(["verify", "CB_NEW", "CB_SECRET", "CB_CHAINED", "--table",
                               CHAIN_SOURCE], self.aws.reader)
        check([l["entries"] for l in lines[:-1]] == [1, 1, 3] and
              all(l["ok"] and l["problems"] == [] for l in lines[:-1]) and
              lines[-1] == {"keys": 3, "entries": 5, "ok": True}, f"verify: {lines}")
        rc, out, err = self.cli.run(args + ["--json"], self.aws.admin, env=env)
        check(rc == 0 and json.loads(out) == {"scanned": 3, "written": 0, "failed": 0},
              f"again: exit {rc}: {out} {err}")
        for key, head in heads.items():
            check(self.aws.get(AUDIT, head_id(f"{CHAIN_SOURCE}/{key}")) == head,
                  f"{key}: the head moved on a run that wrote nothing")
        # Credentials that may not read the heads: one line naming BatchGetItem, exit 2.
        self.aws.put(CHAIN_SOURCE, [{"key": {"S": "CB_DENIED"}, "v": {"N": "1"}}])
        rc, out, err = self.cli.run(args, self.aws.no_get, env=env)
        last = err.splitlines()[-1] if err else ""
        check(rc == 2 and out == "" and last.startswith(
            'auditstream: access denied: BatchGetItem on table "Audit" (') and
            "need dynamodb:BatchGetItem" in last and "backfill_policy_arn" in last,
            f"heads not readable: exit {rc}: {err!r}")
        return "3 BASELINE items linked (2 new chains, 1 after the function's head), " \
            "redacted with their HMAC, expiresAt set; verify ok; nothing the second time; " \
            f"heads not readable: {last[:150]}"

    def test_backfill_chain_settles(self):
        """AUDIT_CHAIN=on: the BASELINE items wait a pause, then each trail is asked again.
        CB_LATE's BASELINE is due only because the stream record of an older change has not
        reached the trail yet: arriving meanwhile, it makes the BASELINE needless. CB_AFTER
        changes after it was read, and the function chains that first: linked after it, its
        BASELINE would sort before it, so it is left for another run (exit 1), which finds
        it shown. Either way the chains stay as the function made them."""
        table = "LateSource"
        arn = ARN.replace(f"table/{SOURCE}/", f"table/{table}/")
        self.aws.create(table, "key")
        self.aws.put(table, [{"key": {"S": "CB_LATE"}, "v": {"N": "1"}},
                             {"key": {"S": "CB_AFTER"}, "v": {"N": "1"}}])
        cmd = [self.cli.path, "backfill", "--table", table, "--json", "--endpoint-url",
               self.moto.endpoint]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.cli.home,
               "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": self.aws.admin[0],
               "AWS_SECRET_ACCESS_KEY": self.aws.admin[1], "AUDIT_CHAIN": "on"}
        started = time.time()
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        # Its Scan and Queries take a few tens of milliseconds; its pause, two seconds.
        time.sleep(0.7)
        heads = {}
        # CB_AFTER's change is dated 3 s on: well after backfill reads the item, however
        # slow a loaded machine makes its start, and still before its second run.
        for key, when in (("CB_LATE", int(started) - 5), ("CB_AFTER", int(started) + 3)):
            created = record(key, 900, when, "INSERT", new={"key": key, "v": "#N1"})
            created["eventSourceARN"] = arn
            items = audit_items(self.args.bootstrap, self.workdir, [created])
            heads[key], _ = link(items)
            self.aws.put(AUDIT, items + [heads[key]])
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
        took = time.monotonic() - t0
        err = err.decode()
        check(proc.returncode == 1 and json.loads(out) == {"scanned": 2, "written": 0,
                                                           "failed": 1},
              f"exit {proc.returncode}: {out!r} {err!r}")
        check(err == f"auditstream: backfill: {table}/CB_AFTER: a later change is already "
              "chained; run backfill again\n", repr(err))
        for key in heads:
            check(self.aws.get(AUDIT, head_id(f"{table}/{key}")) == heads[key],
                  f"{key}: the head moved")
        time.sleep(max(0.0, started + 3.1 - time.time()))  # past CB_AFTER's record
        rc, out, err = self.cli.run(["backfill", "--table", table, "--json"], self.aws.admin,
                                    env={"AUDIT_CHAIN": "on"})
        check(rc == 0 and json.loads(out) == {"scanned": 2, "written": 0, "failed": 0},
              f"again: exit {rc}: {out} {err}")
        lines = self.cli.json(["verify", "CB_LATE", "CB_AFTER", "--table", table],
                              self.aws.reader)
        check([l["entries"] for l in lines[:-1]] == [1, 1] and lines[-1]["ok"] is True,
              str(lines))
        return f"CB_LATE dropped, CB_AFTER left for another run ({took:.1f} s), which " \
            "writes nothing; the chains as the function left them"

    def test_backfill_chain_resumes(self):
        """AUDIT_CHAIN=on: a BASELINE item written whose head write failed (the head removed
        here, as if its PutItem had failed) makes verify report the key; the next run finds
        the item there, reads it back and moves the head over it as stored (counted as
        written, the head as the first run left it); a run after that writes nothing."""
        table = "ResumeSource"
        self.aws.create(table, "key")
        self.aws.put(table, [{"key": {"S": "CR_ONE"}, "v": {"N": "1"}}])
        env = {"AUDIT_CHAIN": "on"}
        args = ["backfill", "--table", table, "--json"]
        rc, out, err = self.cli.run(args, self.aws.admin, env=env)
        check(rc == 0 and json.loads(out) == {"scanned": 1, "written": 1, "failed": 0},
              f"first: exit {rc}: {out} {err}")
        hid = head_id(f"{table}/CR_ONE")
        head = self.aws.get(AUDIT, hid)
        check(head is not None, "no head after the first run")
        self.aws.delete(AUDIT, [head])
        broken = self.cli.json(["verify", "CR_ONE", "--table", table], self.aws.reader,
                               want_rc=1)
        check([p["kind"] for p in broken[0]["problems"]] == ["head"], str(broken))
        rc, out, err = self.cli.run(args, self.aws.admin, env=env)
        check(rc == 0 and err == "" and
              json.loads(out) == {"scanned": 1, "written": 1, "failed": 0},
              f"resumed: exit {rc}: {out} {err!r}")
        check(self.aws.get(AUDIT, hid) == head, f"head: {self.aws.get(AUDIT, hid)} != {head}")
        lines = self.cli.json(["verify", "CR_ONE", "--table", table], self.aws.reader)
        check(lines[0]["ok"] and lines[0]["entries"] == 1, str(lines))
        t0 = time.monotonic()
        rc, out, err = self.cli.run(args, self.aws.admin, env=env)
        took = time.monotonic() - t0
        check(rc == 0 and json.loads(out) == {"scanned": 1, "written": 0, "failed": 0},
              f"again: exit {rc}: {out} {err}")
        check(self.aws.get(AUDIT, hid) == head, "the head moved on a run that wrote nothing")
        check(len(self.aws.trail(f"{table}/CR_ONE")) == 1, "a second BASELINE")
        return f"head re-made over the BASELINE as stored; verify ok; then nothing " \
            f"({took:.1f} s, no pause)"

    def test_backfill_bad_variables(self):
        """Each bad AUDIT_* variable: exit 2 and one line naming it (never the key)."""
        short = base64.b64encode(b"k" * 16).decode()
        cases = [
            ({"AUDIT_CHAIN": "yes"}, "AUDIT_CHAIN"),
            ({"AUDIT_RETENTION_DAYS": "0"}, "AUDIT_RETENTION_DAYS"),
            ({"AUDIT_RETENTION_DAYS": "36501"}, "AUDIT_RETENTION_DAYS"),
            ({"AUDIT_REDACT_KEY": short}, "AUDIT_REDACT_KEY"),
            ({"AUDIT_REDACT_KEY": "not base64!"}, "AUDIT_REDACT_KEY"),
            ({"AUDIT_REDACT_ATTRIBUTES": "a,,b"}, "AUDIT_REDACT_ATTRIBUTES"),
            ({"AUDIT_ACTOR_ATTRIBUTE": "a,b"}, "AUDIT_ACTOR_ATTRIBUTE"),
            ({"AUDIT_ACTOR_ATTRIBUTE": "who", "AUDIT_REDACT_ATTRIBUTES": "who"},
             "AUDIT_ACTOR_ATTRIBUTE"),
        ]
        seen = []
        for env, name in cases:
            # Checked first: no credentials needed to be told.
            rc, out, err = self.cli.run(["backfill", "--table", CHAIN_SOURCE], None, env=env)
            check(rc == 2 and out == "" and len(err.splitlines()) == 1 and
                  err.startswith("auditstream: config: ") and name in err,
                  f"{env}: exit {rc}: {err!r}")
            check(short not in err, f"{env}: the key is quoted: {err!r}")
            seen.append(err.strip())
        return f"{len(cases)} refused, e.g. {seen[0]}"

    # -- user errors --

    def test_user_errors(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{s.getsockname()[1]}"
        r, admin = self.aws.reader, self.aws.admin
        ep = self.moto.endpoint
        cases = [
            ("unknown command", ["frobnicate", "k"], r, True, {},
             'unknown command "frobnicate": the commands are history, show, verify and '
             "backfill (auditstream --help)"),
            ("unknown option", ["show", "k", "--colour"], r, True, {},
             "show: unknown option --colour (auditstream show --help lists them)"),
            ("bad time", ["show", "k", "--at", "yesterday"], r, True, {},
             'show: --at "yesterday" is not a time: give ISO-8601 UTC (2024-05-01T12:30:45Z, '
             "milliseconds optional) or epoch seconds"),
            ("anchors", ["verify", "--all", "--anchors", "x.jsonl"], r, True, {},
             "verify: --anchors x.jsonl: cannot open it: No such file or directory"),
            ("no such table", ["show", "k", "--audit-table", "NoSuchAudit"], r, True, {},
             f'no table "NoSuchAudit" in {REGION} at {ep}/: check the name (--audit-table or '
             "AUDIT_TABLE) and the region (--region)"),
            ("no such source", ["backfill", "--table", "NoSuchSource"], admin, True, {},
             f'no table "NoSuchSource" in {REGION} at {ep}/: check the name (--table or '
             "AUDIT_SOURCE_TABLE) and the region (--region)"),
            ("no index", ["history", "k", "--audit-table", NO_INDEX], r, True, {},
             f'table "{NO_INDEX}" has no index "history", which auditstream reads the trail '
             "through: create it with the Terraform variable history_index = true (its "
             "default) and apply"),
            ("access denied", ["show", "k"], self.aws.scan_only, True, {}, None),
            ("unreachable", ["show", "k", "--endpoint-url", dead], r, False, {}, None),
            ("no credentials", ["show", "k"], None, True, {},
             "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
             f"add a [default] profile to {self.cli.home}/.aws/credentials (aws configure)"),
            ("no region", ["show", "k"], r, True, {"AWS_REGION": None},
             'no region: pass --region, set AWS_REGION, or add region = ... to profile '
             '"default" (aws configure)'),
            ("no profile", ["show", "k", "--profile", "nosuch"], r, True, {},
             f'profile "nosuch" is in neither {self.cli.home}/.aws/credentials nor '
             f"{self.cli.home}/.aws/config: name another, or add it (aws configure --profile "
             "nosuch)"),
            ("wrong secret", ["show", "k"], (r[0], wrong(r[1])), True, {}, None),
            ("bad region", ["show", "k", "--region", "EU WEST"], r, True, {},
             'region "EU WEST" (from --region) is not an AWS region name such as eu-west-1'),
            ("plain http elsewhere", ["show", "k", "--endpoint-url", "http://example.com:8000"],
             r, False, {}, "--endpoint-url: endpoint URL is plain http:// to a host that is not "
             "loopback (localhost, 127.x.x.x, [::1]); use https://"),
            ("half a key pair", ["show", "k"], None, True, {"AWS_ACCESS_KEY_ID": r[0]},
             "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither "
             "to use a profile"),
        ]
        notes = []
        for label, args, creds, endpoint, env, want in cases:
            t0 = time.monotonic()
            rc, out, err = self.cli.run(args, creds, endpoint=endpoint, env=env)
            took = time.monotonic() - t0
            check(rc == 2, f"{label}: exit {rc}, expected 2: {err.strip()[:300]}")
            check(out == "", f"{label}: standard output {out[:200]!r}")
            lines = err.splitlines()
            check(len(lines) == 1 and err.endswith("\n"), f"{label}: not one line: {err!r}")
            line = lines[0]
            check(line.startswith("auditstream: "), f"{label}: {line}")
            if want is not None:
                check(line == "auditstream: " + want, f"{label}: got\n  {line}\nwant\n  "
                      f"auditstream: {want}")
            check(took < 30, f"{label}: {took:.1f} s")
            notes.append(line)
        denied, unreachable, refused = notes[7], notes[8], notes[12]
        check(denied.startswith('auditstream: access denied: DescribeTable on table "Audit" (')
              and "need dynamodb:DescribeTable" in denied and "reader_policy_arn" in denied,
              denied)
        check(unreachable.startswith(f"auditstream: cannot reach DynamoDB at {dead}/ (") and
              unreachable.endswith("check --endpoint-url, --region and the network"),
              unreachable)
        check(refused.startswith("auditstream: DynamoDB refused the credentials (") and
              refused.endswith("check the access key, secret and session token (from "
                             "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"), refused)
        return f"{len(cases)} user errors, exit 2, one line each:\n       " + \
            "\n       ".join(n[:110] for n in notes[7:9] + notes[12:])

    def test_help(self):
        for command, synopsis in (("history", "auditstream history KEY [--since T]"),
                                  ("show", "auditstream show KEY [--at T]"),
                                  ("verify", "auditstream verify [KEY ...] [--all]"),
                                  ("backfill", "auditstream backfill [--segments N]")):
            out = self.cli.ok([command, "--help"], None, endpoint=False)
            check(synopsis in out and "--audit-table NAME" in out, f"{command} --help: {out}")
        out = self.cli.ok(["--help"], None, endpoint=False)
        check(out.startswith("usage: auditstream COMMAND"), out)
        out = self.cli.ok(["--version"], None, endpoint=False)
        check(re.match(r"^auditstream \(libauditstream\) \d+\.\d+\.\d+\n$", out), out)
        return "--help for each command, --version"

    TESTS = ["test_help", "test_history_json", "test_history_window", "test_history_table",
             "test_table_fits_terminal",
             "test_show_at_times", "test_show_table", "test_verify", "test_error_item", "test_profile",
             "test_user_errors", "test_backfill", "test_backfill_settings",
             "test_backfill_without_getitem", "test_backfill_progress",
             "test_chain_ok", "test_verify_needs_getitem", "test_chain_altered", "test_chain_missing", "test_chain_forged",
             "test_chain_head_rolled_back", "test_verify_reads_again", "test_chain_rewritten",
             "test_chain_expired",
             "test_anchors", "test_function_anchors", "test_backfill_chain",
             "test_backfill_chain_settles", "test_backfill_chain_resumes",
             "test_backfill_bad_variables",
             "test_verify_all_chains"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work folder (moto's log)")
    ap.add_argument("only", nargs="*", help="test names without test_")
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="auditstream-cli.")
    suite = Suite(args, workdir)
    names = [t for t in Suite.TESTS if not args.only or t[5:] in args.only]
    passed = failed = 0
    try:
        try:
            suite.setup()
            setup_error = None
        except (SetupError, TestFailure, OSError) as e:
            setup_error = f"setup: {e}"
        except Exception:  # noqa: BLE001 - every test fails with the reason
            setup_error = "setup: " + traceback.format_exc()
        for name in names:
            t0 = time.monotonic()
            if setup_error is not None:
                print(f"FAIL {name}: {setup_error}")
                failed += 1
                continue
            try:
                note = getattr(suite, name)()
                print(f"ok   {name} ({time.monotonic() - t0:.1f} s): {note}")
                passed += 1
            except TestFailure as e:
                print(f"FAIL {name}: {e}")
                failed += 1
            except Exception:  # noqa: BLE001
                print(f"FAIL {name}: {traceback.format_exc()}")
                failed += 1
    finally:
        suite.stop()
        if args.keep:
            print(f"cli: work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"cli: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
