#!/usr/bin/env python3
# Integration tests of the DynamoDB client (lib/ddb.c) against moto with SigV4 verification
# on: real audit items written by tests/integration/put_items, then read back and compared.
"""Run: test_ddb_moto.py --put-items build/integration/put_items
       --read-items build/integration/read_items   (from the top of the tree)

Starts moto (python3 -m moto.server) on a free loopback port with
INITIAL_NO_AUTH_ACTION_COUNT=0, creates an IAM user, its access key and policy and an
assumable role with auth switched off through /moto-api/reset-auth, switches auth on,
creates the Audit table, then runs each scenario as a named test. The test_read_* ones
drive tests/integration/read_items.c (auditstream/ddb_read.h) against a second table,
ReadTest, which has the `history` global secondary index. moto is stopped by its
pid on every way out (and dies with this process through PR_SET_PDEATHSIG if this one is
killed). When moto cannot start, every test fails with the reason: none is skipped.

Items read back with a Scan are compared as wire JSON text: each item is parsed and
printed again with map members in sorted order (DynamoDB does not keep them in order)
and set members sorted (sets are unordered); list order, every string and every number's
text must match what put_items built, byte for byte.

Standard library, plus boto3/botocore for IAM, STS, CreateTable and the Scan's signature.
Ends with the line "integration: N passed, N failed"; exits 1 when anything failed.
"""

import argparse
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

REGION = "us-east-1"
TABLE = "Audit"
USER = "audit-writer"
READER = "audit-reader"  # may Scan, may not PutItem
ROLE = "audit-producer"
BENCH_EVENTS = "events/bench-1000-mixed.json"
MOTO_START_SECONDS = 20
PUT_ITEMS_TIMEOUT = 60
CONCURRENCY = 8

# Error types moto 5 answers with (measured): a signature that does not match the
# request, and a session token that is not the one STS issued for the key.
SIGNATURE_ERROR = "SignatureDoesNotMatch"
TOKEN_ERROR = "InvalidClientTokenId"


class SetupError(Exception):
    """moto, boto3 or the fixtures are not usable: every test fails with this reason."""


class TestFailure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


# ---- moto --------------------------------------------------------------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in a child
except (OSError, AttributeError):
    _PRCTL = None


def die_with_parent():
    """In moto's process before exec: SIGTERM when the driver dies, however it dies.
    Only for moto, which is started before any thread of this process exists (a
    preexec_fn is not safe once threads run)."""
    if _PRCTL is not None:
        PR_SET_PDEATHSIG = 1
        _PRCTL(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def http(method, url, body=None, content_type=None, timeout=5):
    req = urllib.request.Request(url, data=body, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.read()


def log_tail(path, lines=15):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"(no log: {e})"
    return "\n".join(text.strip().splitlines()[-lines:])


class Moto:
    """One moto server process, started and stopped by this object only."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.proc = None
        self.port = None
        self.log_path = os.path.join(workdir, "moto.log")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        last = "no attempt"
        for _ in range(3):  # a port taken between free_port() and moto's bind: try another
            self.port = free_port()
            env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="0")
            cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
            with open(self.log_path, "ab") as log:
                try:
                    self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                                 stderr=subprocess.STDOUT, env=env,
                                                 cwd=self.workdir, preexec_fn=die_with_parent)
                except OSError as e:
                    raise SetupError(f"cannot run {' '.join(cmd)}: {e}") from e
            t0 = time.monotonic()
            while True:
                rc = self.proc.poll()
                if rc is not None:
                    self.proc = None
                    tail = log_tail(self.log_path)
                    last = f"moto exited with status {rc} before answering:\n{tail}"
                    if "Address already in use" in tail:
                        break
                    raise SetupError(last)
                try:
                    status, _ = http("GET", self.endpoint + "/moto-api/data.json", timeout=1)
                    if status == 200:
                        self.started_in = time.monotonic() - t0
                        return
                except (OSError, urllib.error.URLError):
                    pass
                if time.monotonic() - t0 > MOTO_START_SECONDS:
                    self.stop()
                    raise SetupError(f"moto did not answer on {self.endpoint} within "
                                     f"{MOTO_START_SECONDS} s:\n{log_tail(self.log_path)}")
                time.sleep(0.05)
        raise SetupError(last)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def set_auth(self, on):
        # "0": every request from now on is authenticated; "inf": none is.
        status, body = http("POST", self.endpoint + "/moto-api/reset-auth",
                            b"0" if on else b"inf", "text/plain")
        if status != 200 or b'"ok"' not in body:
            raise SetupError(f"/moto-api/reset-auth answered {status}: {body[:200]!r}")

    def stop(self):
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ---- a loopback proxy that can alter requests after they were signed -------------------------


class LoopbackServer:
    """A listening socket on a free loopback port, each connection served by `_serve` on a
    thread of its own; `upstream_port` is what a proxy forwards to. Subclasses set their
    own state before calling this __init__, which starts accepting."""

    scheme = "http"

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def _accept(self):
        # Polls, because closing a listening socket does not wake a thread in accept().
        self.sock.settimeout(0.1)
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        raise NotImplementedError

    @staticmethod
    def _read_request(conn):
        """One HTTP/1.1 request, read whole: (head, body), or None when the peer closed."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            body += chunk
        return head, body

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


class Proxy(LoopbackServer):
    """Between put_items and moto: forwards each request (altered in `mode`) on a new
    upstream connection and relays the answer, then closes both sides (moto answers with
    Connection: close, so the client expects that). Counts requests and the most in
    flight at once. Modes: pass; body (one byte of the item's id changed); header (the
    seconds of X-Amz-Date changed). Both altered parts are signed, so moto must refuse."""

    def __init__(self, upstream_port, mode):
        self.mode = mode
        self.lock = threading.Lock()
        self.requests = 0
        self.tampered = 0
        self.inflight = 0
        self.max_inflight = 0
        self.errors = []
        super().__init__(upstream_port)

    def _tamper(self, head, body):
        if self.mode == "body":
            marker = b'"id":{"S":"'
            at = body.find(marker)
            if at < 0:
                raise ValueError("no item id in the body")
            at += len(marker)
            old = body[at:at + 1]
            new = b"0" if old != b"0" else b"1"  # the id stays a well-formed UUID
            return head, body[:at] + new + body[at + 1:]
        if self.mode == "header":
            lines = head.split(b"\r\n")
            for i, line in enumerate(lines):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"x-amz-date":
                    value = value.strip()  # 20240501T123045Z: change the last second digit
                    digit = value[-2:-1]
                    new = b"0" if digit != b"0" else b"1"
                    lines[i] = name + b": " + value[:-2] + new + value[-1:]
                    return b"\r\n".join(lines), body
            raise ValueError("no X-Amz-Date header")
        return head, body

    def _serve(self, conn):
        upstream = None
        counted = False
        try:
            conn.settimeout(30)
            req = self._read_request(conn)
            if req is None:
                return
            head, body = req
            with self.lock:
                self.requests += 1
                self.inflight += 1
                self.max_inflight = max(self.max_inflight, self.inflight)
                counted = True
            new_head, new_body = self._tamper(head, body)
            if (new_head, new_body) != (head, body):
                with self.lock:
                    self.tampered += 1
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
            upstream.sendall(new_head + b"\r\n\r\n" + new_body)
            answer = b""
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                answer += chunk
            # Out of flight before the client can see the answer (and reuse its slot for
            # the next request), so that max_inflight never counts one slot twice.
            with self.lock:
                self.inflight -= 1
                counted = False
            conn.sendall(answer)
        except Exception as e:  # noqa: BLE001 - recorded, and the test fails on it
            with self.lock:
                self.errors.append(f"{type(e).__name__}: {e}")
        finally:
            if counted:
                with self.lock:
                    self.inflight -= 1
            if upstream is not None:
                upstream.close()
            conn.close()


# ---- AWS side: IAM, STS, the table, a raw Scan ----------------------------------------------


def import_boto3():
    try:
        import boto3  # noqa: F401
        import botocore  # noqa: F401
    except ImportError as e:
        raise SetupError(f"boto3 is not importable by {sys.executable}: {e}") from e
    return boto3


class Aws:
    """What setup made: the user's key, the role's temporary credentials."""

    def __init__(self, moto):
        self.moto = moto
        self.boto3 = import_boto3()

    def client(self, service, key, secret, token=None):
        return self.boto3.client(service, endpoint_url=self.moto.endpoint, region_name=REGION,
                                 aws_access_key_id=key, aws_secret_access_key=secret,
                                 aws_session_token=token)

    def setup(self):
        self.moto.set_auth(False)
        iam = self.client("iam", "setup", "setup")
        user = iam.create_user(UserName=USER)["User"]
        key = iam.create_access_key(UserName=USER)["AccessKey"]
        self.key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        # moto matches a DynamoDB statement's Resource against "*" (it does not work out
        # the table's ARN), so the policies narrow by action only.
        iam.put_user_policy(UserName=USER, PolicyName="audit-table", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Resource": "*",
                 "Action": ["dynamodb:CreateTable", "dynamodb:DescribeTable",
                            "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query",
                            "dynamodb:GetItem", "dynamodb:BatchGetItem",
                            "dynamodb:BatchWriteItem"]},
                {"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Resource": f"arn:aws:iam::123456789012:role/{ROLE}"},
            ]}))
        iam.create_user(UserName=READER)
        key = iam.create_access_key(UserName=READER)["AccessKey"]
        self.reader = (key["AccessKeyId"], key["SecretAccessKey"], None)
        iam.put_user_policy(UserName=READER, PolicyName="read-only", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"}]}))
        role = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": user["Arn"]},
                           "Action": "sts:AssumeRole"}]}))["Role"]
        iam.put_role_policy(RoleName=ROLE, PolicyName="put-audit", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"}]}))
        self.moto.set_auth(True)

        # From here on every request is verified, these included.
        from botocore.exceptions import ClientError

        bad = self.client("dynamodb", self.key_id, self.secret[:-1] + "x")
        try:
            bad.list_tables()
            raise SetupError("moto accepted a wrong secret: its SigV4 verification is off")
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status != 403:
                raise SetupError(f"a wrong secret got HTTP {status}, not 403: {e}") from e
        ddb = self.client("dynamodb", self.key_id, self.secret)
        ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        status = ddb.describe_table(TableName=TABLE)["Table"]["TableStatus"]
        if status != "ACTIVE":
            raise SetupError(f"table {TABLE} is {status}, not ACTIVE")
        creds = self.client("sts", self.key_id, self.secret).assume_role(
            RoleArn=role["Arn"], RoleSessionName="integration")["Credentials"]
        self.temp = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    def scan(self):
        """Every item of the table as received on the wire: {id: raw item dict}. Signed
        by botocore, read with json (N and B values stay the strings moto sent)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        creds = Credentials(self.key_id, self.secret)
        items, start = [], None
        while True:
            body = {"TableName": TABLE}
            if start is not None:
                body["ExclusiveStartKey"] = start
            data = json.dumps(body).encode()
            req = AWSRequest(method="POST", url=self.moto.endpoint + "/", data=data, headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "DynamoDB_20120810.Scan"})
            SigV4Auth(creds, "dynamodb", REGION).add_auth(req)
            http_req = urllib.request.Request(req.url, data=data, method="POST",
                                              headers=dict(req.headers.items()))
            try:
                with urllib.request.urlopen(http_req, timeout=30) as resp:
                    page = json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as e:
                raise TestFailure(f"Scan failed: HTTP {e.code}: {e.read()[:300]!r}") from e
            items.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        table = {}
        for item in items:
            table[item["id"]["S"]] = item
        check(len(table) == len(items), f"Scan returned {len(items)} items but "
              f"{len(table)} distinct ids")
        return table


# ---- comparing items -------------------------------------------------------------------------

SET_TYPES = ("SS", "NS", "BS")


def canon_value(value):
    check(isinstance(value, dict) and len(value) == 1, f"not an attribute value: {value!r}")
    ((tag, body),) = value.items()
    if tag == "M":
        return {"M": {name: canon_value(v) for name, v in body.items()}}
    if tag == "L":
        return {"L": [canon_value(v) for v in body]}
    if tag in SET_TYPES:
        return {tag: sorted(body)}
    return {tag: body}


def canon(item):
    """An item's wire JSON with map members and set members in sorted order."""
    return json.dumps({name: canon_value(v) for name, v in item.items()}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)


def load_items(path):
    """The items put_items dumped: [(id, canonical text, text in the order built)]."""
    out = []
    with open(path, "rb") as f:
        for line in f.read().split(b"\n"):
            if line:
                item = json.loads(line.decode("utf-8"))
                out.append((item["id"]["S"], canon(item),
                            json.dumps(item, separators=(",", ":"), ensure_ascii=False)))
    return out


def compare_table(expected, table):
    """The table must hold exactly `expected` ({id: canonical text}). Returns how many
    items also kept their members' order."""
    missing = [i for i in expected if i not in table]
    extra = [i for i in table if i not in expected]
    differ = [i for i in expected if i in table and canon(table[i]) != expected[i]]
    problems = []
    if missing:
        problems.append(f"{len(missing)} items missing (e.g. {missing[0]})")
    if extra:
        problems.append(f"{len(extra)} unexpected items (e.g. {extra[0]}: "
                        f"{canon(table[extra[0]])[:200]})")
    for i in differ[:3]:
        a, b = expected[i], canon(table[i])
        at = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
        problems.append(f"item {i} differs at byte {at}: built ...{a[max(0, at - 40):at + 60]}... "
                        f"read ...{b[max(0, at - 40):at + 60]}...")
    if differ:
        problems.append(f"{len(differ)} items differ")
    check(not problems, f"table has {len(table)} items, expected {len(expected)}: "
          + "; ".join(problems))


# ---- running read_items ----------------------------------------------------------------------

READ_TABLE = "ReadTest"
READ_TIMEOUT = 60


class Read:
    """What one read_items run printed: its pages and its closing line."""

    def __init__(self, rc, pages, final, stderr):
        self.rc, self.pages, self.final, self.stderr = rc, pages, final, stderr

    @property
    def results(self):
        return self.final["results"]

    @property
    def stats(self):
        return self.final["stats"]

    def items(self):
        """Every item of every page, parsed from the bodies as received."""
        out = []
        for page in self.pages:
            body = json.loads(page["body"])
            out.extend(body.get("Items", []))
            for items in body.get("Responses", {}).values():
                out.extend(items)
        return out

    def describe(self):
        return f"exit {self.rc}, final {json.dumps(self.final)}, stderr: {self.stderr[-500:]}"


def run_read(read_items, endpoint, creds, *args, concurrency=4):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = creds[0], creds[1]
    if creds[2]:
        env["AWS_SESSION_TOKEN"] = creds[2]
    cmd = [os.path.abspath(read_items), "--endpoint", endpoint, "--region", REGION,
           "--concurrency", str(concurrency), *args]
    try:
        p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=READ_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise TestFailure(f"read_items did not finish within {READ_TIMEOUT} s") from e
    stdout = p.stdout.decode("utf-8", "replace")
    stderr = p.stderr.decode("utf-8", "replace")
    check(p.returncode == 0, f"read_items {args[0]} exited {p.returncode}: {stderr[-2000:]}")
    for secret in (creds[1], creds[2]):
        check(not secret or (secret not in stdout and secret not in stderr),
              "read_items printed a secret")
    pages, final = [], None
    for line in stdout.splitlines():
        obj = json.loads(line)
        if "results" in obj:
            final = obj
        else:
            pages.append(obj)
    check(final is not None, f"read_items printed no results line: {stdout[-500:]}")
    return Read(p.returncode, pages, final, stderr)


def read_item(i):
    """ReadTest's item i: one historyKey for all, historySort in order, a number whose
    text must come back as written."""
    return {"id": {"S": f"r{i:03d}"}, "historyKey": {"S": "k1"},
            "historySort": {"S": f"2024-05-01T00:00:{i:02d}.000Z/{i:040d}"},
            "n": {"N": f"{i}.50"}}


# ---- running put_items -----------------------------------------------------------------------


class Run:
    def __init__(self, rc, results, summary, stdout, stderr, items, dump):
        self.rc, self.results, self.summary = rc, results, summary
        self.stdout, self.stderr = stdout, stderr
        self.items = items  # [(id, canonical text, text in built order)]
        self.dump = dump    # the bytes put_items sent, one item a line

    def describe(self):
        return f"exit {self.rc}, summary {json.dumps(self.summary)}, stderr: {self.stderr[-500:]}"


class Runner:
    def __init__(self, put_items, workdir):
        self.put_items = os.path.abspath(put_items)
        self.workdir = workdir
        self.count = 0

    def run(self, endpoint, creds, source, table=TABLE, dry_run=False, write_api=None):
        """put_items over `source` (argument list) with `creds` (key, secret, token)."""
        self.count += 1
        dump = os.path.join(self.workdir, f"items-{self.count}.jsonl")
        cmd = [self.put_items, "--table", table, "--region", REGION, "--dump", dump, *source]
        if dry_run:
            cmd.append("--dry-run")
        else:
            cmd += ["--endpoint", endpoint, "--concurrency", str(CONCURRENCY),
                    "--base-delay-ms", "5"]
        if write_api is not None:
            cmd += ["--write-api", write_api]
        # Nothing of the caller's AWS setup (profiles, endpoints, AWS_MAX_ATTEMPTS, CA
        # bundles) may leak in: the library's defaults are what is tested.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        if creds is not None:
            env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = creds[0], creds[1]
            if creds[2]:
                env["AWS_SESSION_TOKEN"] = creds[2]
        try:
            p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=PUT_ITEMS_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            raise TestFailure(f"put_items did not finish within {PUT_ITEMS_TIMEOUT} s") from e
        stdout = p.stdout.decode("utf-8", "replace")
        stderr = p.stderr.decode("utf-8", "replace")
        check(p.returncode >= 0, f"put_items died of signal {-p.returncode}: {stderr[-2000:]}")
        results, summary = [], None
        for line in stdout.splitlines():
            obj = json.loads(line)
            if obj.get("summary"):
                summary = obj
            else:
                results.append(obj)
        items, raw = [], b""
        if os.path.exists(dump):
            items = load_items(dump)
            with open(dump, "rb") as f:
                raw = f.read()
        run = Run(p.returncode, results, summary, stdout, stderr, items, raw)
        if creds is not None:
            for name, secret in (("secret", creds[1]), ("session token", creds[2])):
                check(not secret or (secret not in stdout and secret not in stderr),
                      f"put_items printed the {name}")
        if not dry_run:
            check(summary is not None, f"no summary line: {run.describe()}")
            check(len(results) == len(items) == summary["items"],
                  f"{len(results)} result lines for {len(items)} items: {run.describe()}")
            check([r["index"] for r in results] == list(range(len(results))),
                  "result lines out of order")
        return run


def expect_written(run):
    check(run.rc == 0, f"not every item was written: {run.describe()}")
    bad = [r for r in run.results if r["outcome"] != "written" or r["http_status"] != 200]
    check(not bad, f"{len(bad)} items not written, e.g. {bad[:1]}")
    check(run.summary["written"] == len(run.items) and run.summary["failed"] == 0,
          f"summary: {run.summary}")


def expect_rejected(run, error_type, http_status=403):
    """Every item FAILED at its first attempt with `error_type`: refused, not retried."""
    check(run.rc == 1, f"expected exit 1 (items not written): {run.describe()}")
    check(len(run.results) > 0, "no items were tried")
    bad = [r for r in run.results
           if r["outcome"] != "failed" or r["attempts"] != 1 or r["http_status"] != http_status
           or r["error_type"] != error_type or not r["message"]]
    check(not bad, f"{len(bad)} of {len(run.results)} items not rejected as {error_type} at "
          f"the first attempt, e.g. {bad[:2]}")
    s = run.summary
    check(s["written"] == 0 and s["failed"] == len(run.items), f"summary: {s}")
    check(s["requests"] == len(run.items) and s["retries"] == 0,
          f"{s['requests']} requests and {s['retries']} retries for {len(run.items)} items")


class Suite:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.runner = Runner(args.put_items, workdir)
        self.read_items = args.read_items
        self.moto = None
        self.aws = None
        self.expected = {}  # what the table must hold: {id: canonical text}
        self.first_dump = None

    def setup(self):
        if not os.path.isfile(BENCH_EVENTS):
            raise SetupError(f"{BENCH_EVENTS} missing (run from the top of the tree)")
        self.moto = Moto(self.workdir)
        self.moto.start()
        print(f"integration: moto answered on {self.moto.endpoint} "
              f"in {self.moto.started_in:.2f} s (pid {self.moto.proc.pid})", flush=True)
        self.aws = Aws(self.moto)
        self.aws.setup()

    def teardown(self):
        if self.moto is not None:
            self.moto.stop()

    @property
    def user(self):
        return (self.aws.key_id, self.aws.secret, None)

    def bench(self, skip, limit):
        return ["--events", BENCH_EVENTS, "--skip", str(skip), "--limit", str(limit)]

    def put(self, endpoint, creds, source, table=TABLE, write_api=None):
        """put_items, then what it says it wrote joins what the table must hold (so that
        one failed test does not fail the tests after it)."""
        run = self.runner.run(endpoint, creds, source, table=table, write_api=write_api)
        for (i, c, _), r in zip(run.items, run.results):
            if r["outcome"] == "written":
                self.expected[i] = c
        return run

    def assert_table(self):
        compare_table(self.expected, self.aws.scan())

    def assert_untouched(self, run):
        self.assert_table()
        ids = {i for i, _, _ in run.items}
        check(not ids & set(self.expected), "the rejected items overlap the table's (or "
              "some were written)")

    def with_proxy(self, mode, fn):
        proxy = Proxy(self.moto.port, mode)
        try:
            return fn(proxy)
        finally:
            proxy.stop()

    # -- the tests, in order --

    def test_concurrent_500_intact(self):
        """500 classic items of the bench event, 8 in flight, through a counting proxy:
        all written at once, and a Scan returns exactly them, byte for byte."""
        def go(proxy):
            run = self.put(proxy.endpoint, self.user, self.bench(0, 500))
            return run, proxy.requests, proxy.max_inflight, list(proxy.errors)
        run, requests, max_inflight, errors = self.with_proxy("pass", go)
        expect_written(run)
        check(len(run.items) == 500, f"{len(run.items)} items built, not 500")
        ids = {i for i, _, _ in run.items}
        check(len(ids) == 500, f"only {len(ids)} distinct ids among the 500 items")
        check(not errors, f"proxy: {errors[:3]}")
        check(requests == run.summary["requests"],
              f"the proxy saw {requests} requests, the client says {run.summary['requests']}")
        check(2 <= max_inflight <= CONCURRENCY,
              f"{max_inflight} requests in flight at most (concurrency {CONCURRENCY})")
        table = self.aws.scan()
        compare_table(self.expected, table)
        # The comparison has teeth: a number whose text alone changed ("1" -> "01") fails.
        some = next(i for i, c, _ in run.items if '{"N":"' in c)
        altered = dict(self.expected)
        altered[some] = altered[some].replace('{"N":"', '{"N":"0', 1)
        try:
            compare_table(altered, table)
            raise TestFailure("the comparison missed a number whose text changed")
        except TestFailure as e:
            check("1 items differ" in str(e), f"unexpected comparison failure: {e}")
        ordered = sum(1 for i, _, o in run.items
                      if json.dumps(table[i], separators=(",", ":"), ensure_ascii=False) == o)
        self.first_dump = run.dump
        s = run.summary
        return (f"500 written in {s['elapsed_ms']} ms, {s['requests']} requests, "
                f"{s['retries']} retries, up to {max_inflight} in flight; Scan: 500 identical "
                f"({ordered} even in member order)")

    def test_rewrite_500_idempotent(self):
        """The same 500 again (rebuilt from the event): same bytes built, all written,
        the table still holds exactly the 500, unchanged."""
        run = self.put(self.moto.endpoint, self.user, self.bench(0, 500))
        expect_written(run)
        check(self.first_dump is not None, "needs test_concurrent_500_intact first")
        check(run.dump == self.first_dump, "the rebuilt items are not the same bytes")
        self.assert_table()
        return f"500 rewritten in {run.summary['elapsed_ms']} ms; table: 500 items, unchanged"

    def test_wrong_secret_rejected(self):
        """The right key id with a wrong secret: every item refused as a signature error
        after one attempt, none retried, nothing written."""
        key, secret, _ = self.user
        wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
        run = self.put(self.moto.endpoint, (key, wrong, None), self.bench(500, 100))
        expect_rejected(run, SIGNATURE_ERROR)
        self.assert_untouched(run)
        return (f"100 items: 100 x {SIGNATURE_ERROR} (HTTP 403), 1 attempt each, "
                f"{run.summary['requests']} requests in {run.summary['elapsed_ms']} ms")

    def _tampered(self, mode, skip):
        def go(proxy):
            run = self.put(proxy.endpoint, self.user, self.bench(skip, 20))
            return run, proxy.requests, proxy.tampered, list(proxy.errors)
        run, requests, tampered, errors = self.with_proxy(mode, go)
        check(not errors, f"proxy: {errors[:3]}")
        check(requests == tampered == 20,
              f"proxy saw {requests} requests and altered {tampered}, expected 20 and 20")
        expect_rejected(run, SIGNATURE_ERROR)
        self.assert_untouched(run)
        return f"20 altered requests: 20 x {SIGNATURE_ERROR}, 1 attempt each, none written"

    def test_tampered_body_rejected(self):
        """A proxy changes one byte of each signed body (a digit of the item's id):
        refused as a signature error, not retried."""
        return self._tampered("body", 600)

    def test_tampered_header_rejected(self):
        """A proxy changes the signed X-Amz-Date by one second: refused, not retried."""
        return self._tampered("header", 620)

    def test_temp_credentials_written(self):
        """AssumeRole credentials (key, secret, session token; the role may only
        PutItem): the fixtures' items, every attribute type among them, written and read
        back byte for byte."""
        fixtures = sorted(os.path.join("events", n) for n in os.listdir("events")
                          if n.endswith(".json") and not n.startswith("bench-")
                          and "malformed" not in n)
        source = []
        for f in fixtures:
            source += ["--events", f]
        built = self.runner.run(None, None, source, dry_run=True)
        check(built.rc == 0, f"building the fixtures' items failed: {built.stderr[-500:]}")
        # Fixtures share eventIDs ("1", "2"): keep the first item of each id, so that the
        # table's content does not depend on which concurrent write landed last.
        lines = built.dump.split(b"\n")[:-1]
        check(len(lines) == len(built.items), "the dump is not one item a line")
        seen, unique = set(), []
        for (i, _, _), line in zip(built.items, lines):
            if i not in seen and i not in self.expected:
                seen.add(i)
                unique.append(line)  # the bytes as built
        path = os.path.join(self.workdir, "fixture-items.jsonl")
        with open(path, "wb") as f:
            f.write(b"".join(line + b"\n" for line in unique))
        run = self.put(self.moto.endpoint, self.aws.temp, ["--items", path])
        expect_written(run)
        check(run.dump == b"".join(line + b"\n" for line in unique),
              "put_items did not send the lines it read, byte for byte")
        check(len(run.items) == len(unique) >= 20, f"{len(run.items)} fixture items")
        self.assert_table()
        return (f"{len(run.items)} fixture items (of {len(built.items)} built from "
                f"{len(fixtures)} events) written with a session token in "
                f"{run.summary['elapsed_ms']} ms and read back identical")

    def test_wrong_session_token_rejected(self):
        """AssumeRole key and secret with one character of the session token changed:
        refused (the token is checked), not retried."""
        key, secret, token = self.aws.temp
        mid = len(token) // 2
        wrong = token[:mid] + ("A" if token[mid] != "A" else "B") + token[mid + 1:]
        run = self.put(self.moto.endpoint, (key, secret, wrong), self.bench(700, 50))
        expect_rejected(run, TOKEN_ERROR)
        self.assert_untouched(run)
        return f"50 items: 50 x {TOKEN_ERROR}, 1 attempt each, none written"

    def test_missing_session_token_rejected(self):
        """AssumeRole key and secret without their session token: refused, not retried."""
        key, secret, _ = self.aws.temp
        run = self.put(self.moto.endpoint, (key, secret, None), self.bench(750, 20))
        expect_rejected(run, TOKEN_ERROR)
        self.assert_untouched(run)
        return f"20 items: 20 x {TOKEN_ERROR}, 1 attempt each, none written"

    def test_access_denied_not_retried(self):
        """A valid signature from a user whose policy has no dynamodb:PutItem: refused
        as AccessDenied, not retried."""
        run = self.put(self.moto.endpoint, self.aws.reader, self.bench(770, 20))
        expect_rejected(run, "AccessDenied")
        self.assert_untouched(run)
        return "20 items: 20 x AccessDenied, 1 attempt each, none written"

    # -- BatchWriteItem (issue 13) --

    def test_batch_write_same_items(self):
        """The first 500 again, with BatchWriteItem through a counting proxy: the same
        bytes built, 20 requests of 25, the table unchanged; then 200 new items with
        BatchWriteItem, equal to the model, and unchanged when PutItem writes them again."""
        def go(proxy):
            run = self.put(proxy.endpoint, self.user, self.bench(0, 500),
                           write_api="BatchWriteItem")
            return run, proxy.requests, proxy.max_inflight, list(proxy.errors)
        run, requests, max_inflight, errors = self.with_proxy("pass", go)
        expect_written(run)
        check(not errors, f"proxy: {errors[:3]}")
        check(self.first_dump is not None, "needs test_concurrent_500_intact first")
        check(run.dump == self.first_dump, "the items built for BatchWriteItem differ")
        check(requests == run.summary["requests"] == 20,
              f"{requests} requests seen, {run.summary['requests']} counted, not 500 / 25")
        check(1 <= max_inflight <= CONCURRENCY, f"{max_inflight} requests in flight at most")
        check(all(r["attempts"] == 1 for r in run.results), "an item took more than 1 attempt")
        self.assert_table()
        fresh = self.put(self.moto.endpoint, self.user, self.bench(800, 200),
                         write_api="BatchWriteItem")
        expect_written(fresh)
        check(len(fresh.items) == 200, f"{len(fresh.items)} items built, not 200")
        check(fresh.summary["requests"] == 8, f"{fresh.summary['requests']} requests, not 8")
        self.assert_table()
        again = self.put(self.moto.endpoint, self.user, self.bench(800, 200))
        expect_written(again)
        check(again.dump == fresh.dump, "PutItem's items differ from BatchWriteItem's")
        check(again.summary["requests"] == 200, "PutItem mode did not send one request an item")
        self.assert_table()
        return (f"500 rewritten in {requests} requests ({run.summary['elapsed_ms']} ms, up to "
                f"{max_inflight} in flight), 200 new in 8; table equal to the model, and "
                f"unchanged by PutItem's 200")

    def test_batch_write_denied(self):
        """A user whose policy has no dynamodb:BatchWriteItem: the one request refused as
        AccessDenied, its 20 items failed at the first attempt, nothing written."""
        run = self.put(self.moto.endpoint, self.aws.reader, self.bench(770, 20),
                       write_api="BatchWriteItem")
        check(run.rc == 1, f"expected exit 1: {run.describe()}")
        bad = [r for r in run.results if r["outcome"] != "failed" or r["attempts"] != 1
               or r["error_type"] != "AccessDenied" or r["http_status"] != 403]
        check(not bad, f"{len(bad)} of 20 items not refused as AccessDenied: {bad[:2]}")
        check(run.summary["requests"] == 1 and run.summary["retries"] == 0,
              f"summary: {run.summary}")
        self.assert_untouched(run)
        return "1 request, 20 x AccessDenied, 1 attempt each, none written"

    # -- the reads (read_items) --

    def read(self, *args, creds=None, concurrency=4):
        return run_read(self.read_items, self.moto.endpoint, creds or self.user, *args,
                        concurrency=concurrency)

    def test_read_setup(self):
        """ReadTest with the history index, 40 items written by botocore."""
        ddb = self.aws.client("dynamodb", self.aws.key_id, self.aws.secret)
        ddb.create_table(
            TableName=READ_TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                                  {"AttributeName": "historyKey", "AttributeType": "S"},
                                  {"AttributeName": "historySort", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "history",
                "KeySchema": [{"AttributeName": "historyKey", "KeyType": "HASH"},
                              {"AttributeName": "historySort", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        for i in range(40):
            ddb.put_item(TableName=READ_TABLE, Item=read_item(i))
        return "ReadTest: 40 items, index history"

    def test_read_describe(self):
        """DescribeTable: the key schema, the index and the stream; a table without the
        index; a missing table; a user whose policy lacks dynamodb:DescribeTable."""
        r = self.read("describe", READ_TABLE)
        check(r.results[0]["outcome"] == "written", r.describe())
        t = r.final["table"]
        check(t["name"] == READ_TABLE and t["status"] == "ACTIVE", f"table: {t}")
        check(t["keys"] == {"hash": "id", "hash_type": "S", "range": "", "range_type": ""},
              f"keys: {t['keys']}")
        check(len(t["indexes"]) == 1, f"indexes: {t['indexes']}")
        x = t["indexes"][0]
        check(x["name"] == "history" and x["projection"] == "ALL" and x["keys"] == {
            "hash": "historyKey", "hash_type": "S", "range": "historySort", "range_type": "S"},
            f"index: {x}")
        check(t["stream_enabled"] and t["stream_view_type"] == "NEW_AND_OLD_IMAGES"
              and t["stream_arn"].startswith("arn:aws:dynamodb:"), f"stream: {t}")
        r = self.read("describe", TABLE)
        t = r.final["table"]
        check(t["indexes"] == [] and t["keys"]["hash"] == "id", f"{TABLE}: {t}")
        r = self.read("describe", "NoSuchTable")
        res = r.results[0]
        check(res["outcome"] == "failed" and res["kind"] == "not_found"
              and res["error_type"] == "ResourceNotFoundException" and res["attempts"] == 1,
              f"missing table: {res}")
        r = self.read("describe", READ_TABLE, creds=self.aws.reader)
        res = r.results[0]
        check(res["outcome"] == "failed" and res["kind"] == "denied" and res["attempts"] == 1,
              f"denied: {res}")
        return (f"ReadTest with history, {TABLE} without; missing: {'ResourceNotFoundException'}; "
                f"denied: {res['error_type']} (HTTP {res['http_status']})")

    def test_read_query_pages(self):
        """Query the history index over several pages (Limit 3), in order, numbers as
        written; BETWEEN and <= conditions; descending."""
        values = json.dumps({":k": {"S": "k1"}})
        r = self.read("query", READ_TABLE, "history", "#k = :k",
                      json.dumps({"#k": "historyKey"}), values, "3")
        items = r.items()
        check(r.results[0]["outcome"] == "written", r.describe())
        check([it["id"]["S"] for it in items] == [f"r{i:03d}" for i in range(40)],
              f"items out of order or missing: {[it['id']['S'] for it in items][:10]}...")
        check(items == [read_item(i) for i in range(40)], "an item came back changed")
        check(len(r.pages) == r.stats["pages"] >= 14, f"{len(r.pages)} pages: {r.stats}")
        check([p["last"] for p in r.pages].count(True) == 1 and r.pages[-1]["last"],
              "the last page is not the only one marked last")
        check('"N": "7.50"' in "".join(p["body"] for p in r.pages)
              or '"N":"7.50"' in "".join(p["body"] for p in r.pages),
              "the number text 7.50 is not in the bodies as received")
        pages = len(r.pages)
        names = json.dumps({"#k": "historyKey", "#s": "historySort"})
        a, b = read_item(5)["historySort"]["S"], read_item(9)["historySort"]["S"]
        values = json.dumps({":k": {"S": "k1"}, ":a": {"S": a}, ":b": {"S": b}})
        r = self.read("query", READ_TABLE, "history", "#k = :k AND #s BETWEEN :a AND :b",
                      names, values, "2")
        got = [it["id"]["S"] for it in r.items()]
        check(got == [f"r{i:03d}" for i in range(5, 10)], f"BETWEEN: {got}")
        t = "2024-05-01T00:00:03.000Z/~"
        values = json.dumps({":k": {"S": "k1"}, ":t": {"S": t}})
        r = self.read("query", READ_TABLE, "history", "#k = :k AND #s <= :t", names, values,
                      "0", "desc")
        got = [it["id"]["S"] for it in r.items()]
        check(got == ["r003", "r002", "r001", "r000"], f"<= :t descending: {got}")
        return f"40 items in order over {pages} pages; BETWEEN: 5 items; <= :t descending: 4"

    def test_read_scan_segments(self):
        """Scan in 4 segments at once, pages of 3: every item exactly once."""
        r = self.read("scan", READ_TABLE, "4", "3")
        ids = [it["id"]["S"] for it in r.items()]
        check(sorted(ids) == [f"r{i:03d}" for i in range(40)],
              f"{len(ids)} items, {len(set(ids))} distinct")
        check(all(res["outcome"] == "written" for res in r.results), f"{r.results}")
        check({p["segment"] for p in r.pages} == {0, 1, 2, 3}, "a segment sent no page")
        for seg in range(4):
            order = [p["page"] for p in r.pages if p["segment"] == seg]
            check(order == list(range(len(order))), f"segment {seg} pages {order}")
        return f"40 items once each over {len(r.pages)} pages of 4 segments"

    def test_read_get_and_batch_get(self):
        """GetItem found and not found; BatchGetItem of 120 keys (40 there) in 2 requests."""
        r = self.read("get", READ_TABLE, json.dumps({"id": {"S": "r007"}}))
        check(r.final["found"] and json.loads(r.final["body"])["Item"] == read_item(7),
              r.describe())
        r = self.read("get", READ_TABLE, json.dumps({"id": {"S": "nope"}}))
        check(not r.final["found"] and r.results[0]["outcome"] == "written", r.describe())
        keys = [json.dumps({"id": {"S": f"r{i:03d}"}}) for i in range(120)]
        r = self.read("batch-get", READ_TABLE, *keys)
        got = sorted(it["id"]["S"] for it in r.items())
        check(got == [f"r{i:03d}" for i in range(40)], f"batch: {len(got)} items")
        check(len(r.results) == 2 and r.stats["requests"] == 2, f"{r.describe()}")
        return "GetItem found and not; BatchGetItem 120 keys, 40 items, 2 requests"

    def test_read_put_if_absent(self):
        """Conditional PutItem twice: written, then already there; the item unchanged."""
        first = {"id": {"S": "cond-1"}, "v": {"N": "1"}}
        second = {"id": {"S": "cond-1"}, "v": {"N": "2"}}
        r = self.read("put-if-absent", READ_TABLE, json.dumps(first))
        check(r.results[0]["outcome"] == "written", r.describe())
        r = self.read("put-if-absent", READ_TABLE, json.dumps(second))
        res = r.results[0]
        check(res["outcome"] == "already there" and res["attempts"] == 1
              and r.stats["already_there"] == 1 and r.stats["failed"] == 0, r.describe())
        r = self.read("get", READ_TABLE, json.dumps({"id": {"S": "cond-1"}}))
        check(json.loads(r.final["body"])["Item"] == first, "the second write changed the item")
        return "written, then already there (ConditionalCheckFailedException), unchanged"

    def test_unknown_table_not_retried(self):
        """A table that does not exist: DynamoDB's JSON error (HTTP 400), not retried."""
        run = self.put(self.moto.endpoint, self.user, self.bench(790, 10), table="NoSuchTable")
        expect_rejected(run, "ResourceNotFoundException", http_status=400)
        self.assert_untouched(run)
        return "10 items: 10 x ResourceNotFoundException (HTTP 400), 1 attempt each"

    TESTS = [
        "test_concurrent_500_intact",
        "test_rewrite_500_idempotent",
        "test_wrong_secret_rejected",
        "test_tampered_body_rejected",
        "test_tampered_header_rejected",
        "test_temp_credentials_written",
        "test_wrong_session_token_rejected",
        "test_missing_session_token_rejected",
        "test_access_denied_not_retried",
        "test_unknown_table_not_retried",
        "test_read_setup",
        "test_read_describe",
        "test_read_query_pages",
        "test_read_scan_segments",
        "test_read_get_and_batch_get",
        "test_read_put_if_absent",
        "test_batch_write_same_items",
        "test_batch_write_denied",
    ]


def raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--put-items", required=True, help="the put_items program")
    ap.add_argument("--read-items", required=True, help="the read_items program")
    ap.add_argument("--keep-logs", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, raise_exit)  # so that `finally` stops moto

    t0 = time.monotonic()
    passed = failed = 0
    workdir = tempfile.mkdtemp(prefix="auditstream-integration.")
    suite = Suite(args, workdir)
    try:
        setup_error = None
        if not os.access(args.put_items, os.X_OK):
            setup_error = f"{args.put_items} is not an executable (build it first)"
        elif not os.access(args.read_items, os.X_OK):
            setup_error = f"{args.read_items} is not an executable (build it first)"
        else:
            try:
                suite.setup()
            except SetupError as e:
                setup_error = str(e)
            except Exception as e:  # noqa: BLE001 - any setup failure fails every test
                setup_error = f"setup failed: {type(e).__name__}: {e}"
        if setup_error is not None:
            print(f"integration: SETUP FAILED: {setup_error}", flush=True)
        for name in Suite.TESTS:
            if setup_error is not None:
                print(f"FAIL {name}: not run: setup failed (see above)", flush=True)
                failed += 1
                continue
            start = time.monotonic()
            try:
                if not suite.moto.alive():
                    raise TestFailure(f"moto is no longer running:\n{log_tail(moto_log(suite))}")
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
        print("integration: interrupted; stopping moto", flush=True)
        raise
    finally:
        stop_start = time.monotonic()
        suite.teardown()
        if suite.moto is not None:
            print(f"integration: moto stopped in {time.monotonic() - stop_start:.2f} s")
        if args.keep_logs or failed:
            print(f"integration: work folder (moto.log, items-*.jsonl) kept in {workdir}")
        else:
            for n in os.listdir(workdir):
                os.unlink(os.path.join(workdir, n))
            os.rmdir(workdir)
    print(f"integration: total {time.monotonic() - t0:.1f} s")
    print(f"integration: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def moto_log(suite):
    return suite.moto.log_path


if __name__ == "__main__":
    sys.exit(main())
