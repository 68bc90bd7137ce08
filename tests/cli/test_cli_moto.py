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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from test_ddb_moto import Moto, SetupError, TestFailure, check, import_boto3  # noqa: E402

REGION = "us-east-1"
SOURCE = "Configuration"
AUDIT = "Audit"
NO_INDEX = "AuditNoIndex"
ARN = f"arn:aws:dynamodb:{REGION}:123456789012:table/{SOURCE}/stream/2024-05-01T00:00:00.000"
T0 = 1714566645  # 2024-05-01T12:30:45Z
RUN_TIMEOUT = 60

ADMIN_ACTIONS = ["dynamodb:*"]
READER_ACTIONS = ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:DescribeTable",
                  "dynamodb:Scan"]
SCAN_ONLY_ACTIONS = ["dynamodb:Scan"]
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


def audit_items(bootstrap, workdir, records):
    path = os.path.join(workdir, "event.json")
    with open(path, "w") as f:
        json.dump({"Records": records}, f)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    p = subprocess.run([bootstrap, "--print", path], capture_output=True, env=env, timeout=30)
    if p.returncode != 0:
        raise SetupError(f"bootstrap --print failed: {p.stderr.decode()[:300]}")
    items = [json.loads(line) for line in p.stdout.decode().splitlines() if line]
    for item in items:
        if "historyKey" not in item:
            raise SetupError(f"bootstrap --print wrote an item without historyKey: {item}")
    return items


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
                              ("cli-no-get", NO_GET_ACTIONS)):
            iam.create_user(UserName=name)
            key = iam.create_access_key(UserName=name)["AccessKey"]
            users[name] = (key["AccessKeyId"], key["SecretAccessKey"])
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        self.admin, self.reader, self.scan_only = (users["cli-admin"], users["cli-reader"],
                                                   users["cli-scan-only"])
        self.no_get = users["cli-no-get"]
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

    def run(self, args, creds, endpoint=True, env=None):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.home,
             "AWS_REGION": REGION, "LANG": "C.UTF-8"}
        if creds is not None:
            e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"] = creds
        e.update(env or {})
        e = {k: v for k, v in e.items() if v is not None}
        cmd = [self.path] + list(args) + (["--endpoint-url", self.endpoint] if endpoint else [])
        try:
            p = subprocess.run(cmd, env=e, capture_output=True, timeout=RUN_TIMEOUT,
                               stdin=subprocess.DEVNULL)
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
        check(out.splitlines()[-1] == "2 keys, 6 entries: NOT OK (a change is missing from "
              "the trail)", out.splitlines()[-1])
        return "ok keys, the missing record named, --all, exit 1 when not ok"

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
             "verify: --anchors is not supported yet (the hash chain comes in a later "
             "release): run verify without it to check continuity"),
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
             "test_backfill_without_getitem", "test_backfill_progress"]


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
