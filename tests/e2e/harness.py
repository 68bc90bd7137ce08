"""What the end-to-end tests (tests/e2e/test_e2e.py) and `make demo` (tests/demo/demo.py)
share: moto with SigV4 verification on, the Configuration and Audit tables, the stream
read back as Lambda would deliver it, the packaged bootstrap run as Lambda runs it
against the Runtime API stand-in (also inside a root of its own, with no CA bundle), and a
fault proxy between the bootstrap and moto, which can speak TLS with a throwaway CA.

Standard library, plus boto3/botocore (IAM, STS, table and item calls; request signing
for the raw JSON calls) and the openssl command (the test CA and certificates). moto is
started by tests/integration/test_ddb_moto.py's Moto class (free loopback port,
INITIAL_NO_AUTH_ACTION_COUNT=0, dies with this process).
Every process started here is stopped by its own pid, by the object that started it.
"""

import json
import os
import select
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, os.path.join(TOP, "tests", "golden"))
sys.path.insert(0, os.path.join(TOP, "tests", "support"))

from test_ddb_moto import LoopbackServer, Moto, SetupError, canon, log_tail  # noqa: E402
from processes import stop_process  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
CONFIG_TABLE = "Configuration"
STANDIN = os.path.join(TOP, "tests", "support", "runtime_standin.py")
NAMESPACE = uuid.UUID("526e30d9-4c12-5f25-8142-6d3f5f417dc4")

__all__ = ["Moto", "SetupError", "canon", "log_tail", "stop_process"]  # re-exported for the callers


def audit_id(name):
    """The item id (docs/audit-format.md): UUIDv5 of `<eventID>` or `<eventID>/<attribute>`."""
    return str(uuid.uuid5(NAMESPACE, name))


def now_ms():
    return int(time.time() * 1000)


# ---- JSON that keeps every number's text ------------------------------------------------


class RawNumber(str):
    """A JSON number's text as received (GetRecords' ApproximateCreationDateTime,
    SizeBytes), written back unchanged."""


def loads_raw(data):
    return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data,
                      parse_float=RawNumber, parse_int=RawNumber)


def dumps_raw(value):
    """Compact JSON (UTF-8 text, as Lambda sends it) with RawNumber text kept."""
    if isinstance(value, RawNumber):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dumps_raw(v)
                              for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps_raw(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


# ---- AWS through moto -------------------------------------------------------------------


def import_boto3():
    try:
        import boto3
        import botocore  # noqa: F401
    except ImportError as e:
        raise SetupError(f"boto3 is not importable by {sys.executable}: {e}") from e
    return boto3


# The read-only policy of the trail's readers (`auditstream` history, show, verify):
# Query on the history index, GetItem, DescribeTable, and Scan for `verify --all`.
TRAIL_READER_ACTIONS = ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:DescribeTable",
                        "dynamodb:Scan"]


def policy(actions):
    # moto matches a DynamoDB statement's Resource against "*" only.
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": "*"}]})


class Aws:
    """IAM made with moto's auth off, then auth on for good: an admin user (tables,
    Configuration writes, the stream, Scan) and two roles for the function, assumed as
    Lambda does (key, secret and session token): `writer` may PutItem, `batch_writer`
    PutItem and BatchWriteItem (AUDIT_WRITE_API=BatchWriteItem), `reader` may only Scan;
    and `trail_reader`, what the trail's read-only policy grants people who read it
    (tests/e2e/test_trail.py)."""

    def __init__(self, moto):
        self.moto = moto
        self.boto3 = import_boto3()

    def client(self, service, creds):
        return self.boto3.client(service, endpoint_url=self.moto.endpoint, region_name=REGION,
                                 aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
                                 aws_session_token=creds[2] if len(creds) > 2 else None)

    def setup(self):
        self.moto.set_auth(False)
        iam = self.client("iam", ("setup", "setup"))
        admin = iam.create_user(UserName="e2e-admin")["User"]
        key = iam.create_access_key(UserName="e2e-admin")["AccessKey"]
        self.admin = (key["AccessKeyId"], key["SecretAccessKey"], None)
        iam.put_user_policy(UserName="e2e-admin", PolicyName="admin",
                            PolicyDocument=policy(["dynamodb:*", "sts:AssumeRole"]))
        roles = {}
        for name, actions in (("audit-producer", ["dynamodb:PutItem"]),
                              ("audit-batch-producer", ["dynamodb:PutItem",
                                                        "dynamodb:BatchWriteItem"]),
                              ("audit-reader", ["dynamodb:Scan"]),
                              ("trail-reader", TRAIL_READER_ACTIONS)):
            roles[name] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": admin["Arn"]},
                     "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
            iam.put_role_policy(RoleName=name, PolicyName="function",
                                PolicyDocument=policy(actions))
        self.moto.set_auth(True)
        self.check_auth_on()
        sts = self.client("sts", self.admin)
        self.writer = self.assume(sts, roles["audit-producer"])
        self.batch_writer = self.assume(sts, roles["audit-batch-producer"])
        self.reader = self.assume(sts, roles["audit-reader"])
        self.trail_reader = self.assume(sts, roles["trail-reader"])

    @staticmethod
    def assume(sts, arn):
        c = sts.assume_role(RoleArn=arn, RoleSessionName="audit_producer")["Credentials"]
        return (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])

    def check_auth_on(self):
        from botocore.exceptions import ClientError
        key, secret, _ = self.admin
        try:
            self.client("dynamodb", (key, secret[:-1] + ("A" if secret[-1] != "A" else "B"))) \
                .list_tables()
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 403:
                return
            raise SetupError(f"a wrong secret got HTTP {status}, not 403: {e}") from e
        raise SetupError("moto accepted a wrong secret: its SigV4 verification is off")

    # -- raw JSON calls: the bytes as moto sends them (numbers keep their text) --

    def call(self, target, body, creds=None):
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        key, secret, token = creds or self.admin
        data = json.dumps(body).encode()
        req = AWSRequest(method="POST", url=self.moto.endpoint + "/", data=data, headers={
            "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target})
        SigV4Auth(Credentials(key, secret, token), "dynamodb", REGION).add_auth(req)
        http_req = urllib.request.Request(req.url, data=data, method="POST",
                                          headers=dict(req.headers.items()))
        try:
            with urllib.request.urlopen(http_req, timeout=30) as resp:
                return loads_raw(resp.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{target}: HTTP {e.code}: {e.read()[:300]!r}") from e

    # -- tables --

    def create_table(self, name, key, stream=False, history=False):
        """With `history`, the Audit table's `history` index as Terraform makes it (hash
        historyKey, range historySort, projection ALL)."""
        ddb = self.client("dynamodb", self.admin)
        args = {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}]}
        if stream:
            args["StreamSpecification"] = {"StreamEnabled": True,
                                           "StreamViewType": "NEW_AND_OLD_IMAGES"}
        if history:
            args["AttributeDefinitions"] += [{"AttributeName": "historyKey", "AttributeType": "S"},
                                             {"AttributeName": "historySort", "AttributeType": "S"}]
            args["GlobalSecondaryIndexes"] = [{
                "IndexName": "history", "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": "historyKey", "KeyType": "HASH"},
                              {"AttributeName": "historySort", "KeyType": "RANGE"}]}]
        desc = ddb.create_table(**args)["TableDescription"]
        status = ddb.describe_table(TableName=name)["Table"]["TableStatus"]
        if status != "ACTIVE":
            raise SetupError(f"table {name} is {status}, not ACTIVE")
        return desc.get("LatestStreamArn")

    def scan(self, table):
        """Every item of `table` as moto sent it: {id: item}."""
        items, start = [], None
        while True:
            body = {"TableName": table}
            if start is not None:
                body["ExclusiveStartKey"] = start
            page = self.call("DynamoDB_20120810.Scan", body)
            items.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        out = {item["id"]["S"]: item for item in items}
        if len(out) != len(items):
            raise RuntimeError(f"Scan of {table}: {len(items)} items, {len(out)} distinct ids")
        return out

    # -- the stream --

    def read_stream(self, stream_arn):
        """Every record of the stream's shards, oldest first, through DescribeStream,
        GetShardIterator (TRIM_HORIZON) and GetRecords, as parsed raw JSON."""
        desc = self.call("DynamoDBStreams_20120810.DescribeStream",
                         {"StreamArn": stream_arn})["StreamDescription"]
        records = []
        for shard in desc["Shards"]:
            it = self.call("DynamoDBStreams_20120810.GetShardIterator", {
                "StreamArn": stream_arn, "ShardId": shard["ShardId"],
                "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
            while it:
                page = self.call("DynamoDBStreams_20120810.GetRecords",
                                 {"ShardIterator": it, "Limit": 1000})
                records.extend(page.get("Records", []))
                if not page.get("Records"):
                    break  # an open shard always has a next iterator: stop when drained
                it = page.get("NextShardIterator")
        return records


def lambda_record(record, stream_arn):
    """A GetRecords record the way Lambda's event source mapping delivers it: the same
    fields in Lambda's order, plus eventSourceARN (the stream's ARN)."""
    out = {}
    for name in ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion"):
        if name in record:
            out[name] = record[name]
    ddb = {}
    for name in ("ApproximateCreationDateTime", "Keys", "NewImage", "OldImage",
                 "SequenceNumber", "SizeBytes", "StreamViewType"):
        if name in record["dynamodb"]:
            ddb[name] = record["dynamodb"][name]
    out["dynamodb"] = ddb
    if "userIdentity" in record:
        out["userIdentity"] = record["userIdentity"]
    out["eventSourceARN"] = stream_arn
    return out


def lambda_event(records):
    """The invocation payload's bytes: {"Records":[...]} as compact UTF-8 JSON."""
    return dumps_raw({"Records": records}).encode("utf-8")


def model_items(event_bytes, fmt, workdir, name="event"):
    """The items docs/audit-format.md says `event_bytes` yields in `fmt`, computed by the
    independent model tests/golden/audit_model.py: [(id, canonical text, item)]."""
    import audit_model

    path = os.path.join(workdir, f"{name}.json")
    with open(path, "wb") as f:
        f.write(event_bytes)
    out = []
    for line in audit_model.items(path, fmt, errors={}):
        item = json.loads(line.decode("utf-8"))
        out.append((item["id"]["S"], canon(item), item))
    return out


# ---- the Runtime API stand-in -----------------------------------------------------------


class Standin:
    """tests/support/runtime_standin.py on a free loopback port."""

    def __init__(self, workdir, name="standin"):
        self.err_path = os.path.join(workdir, f"{name}.err")
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, STANDIN, "--port", "0"],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=err)
        ready = select.select([self.proc.stdout], [], [], 10)[0]
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.isdigit():
            self.stop()
            raise SetupError(f"the Runtime API stand-in did not start: {log_tail(self.err_path)}")
        self.port = int(line)
        self.api = f"127.0.0.1:{self.port}"

    def request(self, method, path, body=None, timeout=60):
        req = urllib.request.Request(f"http://{self.api}{path}", data=body, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read().decode())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read().decode() or "null")

    def enqueue(self, payload, **query):
        q = urllib.parse.urlencode({k: str(v) for k, v in query.items()})
        status, answer = self.request("POST", "/_test/enqueue?" + q, payload)
        if status != 200:
            raise RuntimeError(f"enqueue: HTTP {status}: {answer}")
        return answer["request_id"]

    def wait(self, posts, timeout_s=30):
        """The stand-in's record once it holds `posts` posts; None on timeout."""
        status, results = self.request(
            "GET", f"/_test/wait?posts={posts}&timeout_ms={int(timeout_s * 1000)}",
            timeout=timeout_s + 10)
        return results if status == 200 else None

    def results(self):
        return self.request("GET", "/_test/results")[1]

    def stop(self):
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        stop_process(proc)
        proc.stdout.close()


# ---- the packaged function --------------------------------------------------------------


class Task:
    """The zip unzipped into an empty folder standing for /var/task, beside the other
    folders of Lambda's LD_LIBRARY_PATH (empty here)."""

    def __init__(self, zip_path, workdir):
        if not os.path.isfile(zip_path):
            raise SetupError(f"{zip_path} does not exist (make package)")
        if shutil.which("unzip") is None:
            raise SetupError("unzip is missing (make deps)")
        self.fs = os.path.join(workdir, "lambda-fs")
        self.task = os.path.join(self.fs, "var", "task")
        for d in ("var/lang/lib", "var/runtime/lib", "opt/lib", "var/task"):
            os.makedirs(os.path.join(self.fs, d), exist_ok=True)
        p = subprocess.run(["unzip", "-q", os.path.abspath(zip_path), "-d", self.task],
                           capture_output=True)
        if p.returncode != 0:
            raise SetupError(f"unzip {zip_path}: {p.stderr.decode(errors='replace')}")
        self.bootstrap = os.path.join(self.task, "bootstrap")
        if not os.access(self.bootstrap, os.X_OK):
            raise SetupError(f"{zip_path} has no executable bootstrap at its root")
        self.command = [self.bootstrap]

    def environment(self):
        """What Lambda sets for provided.al2023 (LD_LIBRARY_PATH in Lambda's order, with
        this machine's /lib64 and /usr/lib64 standing for Amazon Linux's)."""
        return self.lambda_environment(self.fs)

    @staticmethod
    def lambda_environment(fs):
        """Lambda's variables, its folders under `fs` ("" for the real root)."""
        task = f"{fs}/var/task"
        return {
            "LD_LIBRARY_PATH": f"{fs}/var/lang/lib:/lib64:/usr/lib64:{fs}/var/runtime:"
                               f"{fs}/var/runtime/lib:{task}:{task}/lib:{fs}/opt/lib",
            "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": task,
            "LAMBDA_RUNTIME_DIR": f"{fs}/var/runtime",
            "_HANDLER": "bootstrap",
            "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
            "AWS_LAMBDA_FUNCTION_NAME": "audit_producer",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }


class Jail(Task):
    """A copy of a Task's folders as a root of its own, entered with chroot(8) (root, or
    CAP_SYS_CHROOT, which containers grant by default): Lambda's folders, the task at
    /var/task, the C library the bootstrap loads from outside the task (the files `ldd`
    names, in /lib64 as on Amazon Linux, with the loader at its own path), and `files`
    ({host path: path in the root}); nothing else. No /etc: not one of the places a CA
    bundle is looked for exists. The environment is Lambda's, with its real paths."""

    def __init__(self, task, workdir, name, files=None):
        chroot = shutil.which("chroot", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
        if chroot is None:
            raise RuntimeError("chroot(8) is missing (coreutils)")
        self.fs = os.path.join(workdir, name)
        shutil.copytree(task.fs, self.fs, symlinks=True)
        self.task = os.path.join(self.fs, "var", "task")
        self.bootstrap = os.path.join(self.task, "bootstrap")
        p = subprocess.run(["ldd", task.bootstrap], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"ldd {task.bootstrap}: {p.stdout}{p.stderr}")
        for line in p.stdout.splitlines():
            words = line.replace("=>", " ").split()
            paths = [w for w in words if w.startswith("/")]
            if not paths or paths[0].startswith(task.task + "/"):
                continue  # linux-vdso, or a library of the zip's own (copied with the task)
            host = paths[0]
            inside = host if words[0] == host else os.path.join("/lib64", os.path.basename(host))
            self.add(host, inside)
        for host, inside in (files or {}).items():
            self.add(host, inside)
        self.command = [chroot, self.fs, "/var/task/bootstrap"]
        # A root that cannot be entered, or lacks a library, says so here, not as a
        # function that never answers.
        p = subprocess.run(self.command + ["--help"], env=self.environment(),
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"the bootstrap does not run in {self.fs} (chroot needs root or "
                               f"CAP_SYS_CHROOT): status {p.returncode}: {p.stderr.strip()}")

    def add(self, host, inside):
        dest = os.path.join(self.fs, inside.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy(host, dest)  # follows symlinks: the loader is one on the host

    def environment(self):
        return self.lambda_environment("")


class Function:
    """One bootstrap process, with a Runtime API stand-in of its own. Its standard output
    and error go to files (the function's log)."""

    def __init__(self, task, workdir, name, env, standin=None):
        self.name = name
        self.standin = standin or Standin(workdir, f"{name}-standin")
        self.posts = 0
        self.out_path = os.path.join(workdir, f"{name}.out")
        self.err_path = os.path.join(workdir, f"{name}.err")
        full = task.environment()
        full["AWS_LAMBDA_RUNTIME_API"] = self.standin.api
        full.update({k: v for k, v in env.items() if v is not None})
        for k in [k for k, v in env.items() if v is None]:
            full.pop(k, None)
        self.env = full
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(task.command, cwd=task.task, env=full,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        self.pid = self.proc.pid

    def invoke(self, payload, timeout_s=30, **query):
        """Queues one invocation and returns the runtime's post for it (the stand-in's
        record: kind, status, headers, body, json)."""
        request_id = self.standin.enqueue(payload, **query)
        self.posts += 1
        results = self.standin.wait(self.posts, timeout_s)
        if results is None:
            raise RuntimeError(f"{self.name}: no answer to invocation {request_id} within "
                               f"{timeout_s} s; log: {self.log_tail()}")
        post = results["posts"][self.posts - 1]
        if post["request_id"] != request_id:
            raise RuntimeError(f"{self.name}: post {self.posts} is for {post['request_id']}, "
                               f"not {request_id}")
        return post

    def log_lines(self):
        """The JSON log lines written so far (AWS_LAMBDA_LOG_FORMAT=JSON)."""
        out = []
        with open(self.out_path, "rb") as f:
            for line in f.read().decode("utf-8", "replace").splitlines():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append({"text": line})
        return out

    def log_text(self):
        with open(self.out_path, "rb") as f:
            a = f.read()
        with open(self.err_path, "rb") as f:
            return (a + f.read()).decode("utf-8", "replace")

    def log_tail(self, lines=10):
        return "\n".join(self.log_text().strip().splitlines()[-lines:])

    def alive(self):
        return self.proc.poll() is None

    def status(self, field):
        """A /proc/PID/status value in kB (VmRSS, VmHWM, ...)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise RuntimeError(f"no {field} in /proc/{self.pid}/status")

    def fds(self):
        return sorted(os.readlink(f"/proc/{self.pid}/fd/{n}")
                      for n in os.listdir(f"/proc/{self.pid}/fd"))

    def stop(self):
        stop_process(self.proc)
        self.standin.stop()


# ---- a fault proxy between the function and moto ----------------------------------------


class FaultProxy(LoopbackServer):
    """A loopback HTTP proxy in front of moto. Each request is read whole, judged, then
    forwarded on a fresh upstream connection and its answer relayed; moto answers with
    Connection: close, and so does every answer made here. With `tls` (an
    ssl.SSLContext for the server side) it terminates TLS: `endpoint` is https, and each
    handshake that fails is recorded in `handshake_errors`, not in `errors`. Rules:
      fail:  a body containing `match` (bytes) gets DynamoDB's HTTP 400
             ValidationException (not retryable), never reaching moto; match None: all
      delay: every request waits `delay_ms` before it is forwarded (forwarded even when
             the client has given up by then, as a slow DynamoDB would still apply it)
    Counts every request and, per matched body text, how often it came."""

    def __init__(self, upstream_port, tls=None):
        self.tls = tls
        self.scheme = "https" if tls is not None else "http"
        self.fail = []         # byte strings; None in it fails everything
        self.delay_ms = 0
        self.lock = threading.Condition()
        self.requests = 0
        self.failed = 0
        self.inflight = 0
        self.hits = {}
        self.errors = []
        self.handshakes = 0
        self.handshake_errors = []
        super().__init__(upstream_port)

    def _serve(self, conn):
        upstream = None
        counted = False
        try:
            conn.settimeout(30)
            if self.tls is not None:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    with self.lock:
                        self.handshake_errors.append(f"{type(e).__name__}: {e}")
                    return
                with self.lock:
                    self.handshakes += 1
            req = self._read_request(conn)
            if req is None:
                return
            head, body = req
            with self.lock:
                self.requests += 1
                self.inflight += 1
                counted = True
                for m in self.fail:
                    if m is not None and m in body:
                        self.hits[m] = self.hits.get(m, 0) + 1
                refuse = any(m is None or m in body for m in self.fail)
                delay = self.delay_ms
            if refuse:
                with self.lock:
                    self.failed += 1
                msg = json.dumps({"__type": "com.amazon.coral.validate#ValidationException",
                                  "message": "e2e fault proxy: this item is refused"}).encode()
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n"
                             b"Content-Type: application/x-amz-json-1.0\r\n"
                             b"x-amzn-RequestId: E2EFAULTPROXY\r\n"
                             b"Content-Length: " + str(len(msg)).encode() + b"\r\n"
                             b"Connection: close\r\n\r\n" + msg)
                return
            if delay:
                time.sleep(delay / 1000.0)
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
            upstream.sendall(head + b"\r\n\r\n" + body)
            answer = b""
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                answer += chunk
            try:
                conn.sendall(answer)
            except OSError:
                pass  # the client gave up (its deadline): the write happened all the same
        except Exception as e:  # noqa: BLE001 - recorded; the tests check there are none
            with self.lock:
                self.errors.append(f"{type(e).__name__}: {e}")
        finally:
            if counted:
                with self.lock:
                    self.inflight -= 1
                    self.lock.notify_all()
            if upstream is not None:
                upstream.close()
            conn.close()

    def wait_idle(self, timeout_s=10):
        """True once no request is being served."""
        end = time.monotonic() + timeout_s
        with self.lock:
            while self.inflight > 0 and time.monotonic() < end:
                self.lock.wait(0.05)
            return self.inflight == 0


# ---- a throwaway PKI for the TLS tests ---------------------------------------------------


class Pki:
    """Made with the openssl command in `workdir`/tls: a CA (`ca`), a server certificate
    it signs for IP:127.0.0.1 (`cert`, `key`), and a second CA that signs nothing
    (`other_ca`). Keys are P-256 (quick to make); everything expires in a day."""

    def __init__(self, workdir):
        if shutil.which("openssl") is None:
            raise RuntimeError("the openssl command is missing (make deps)")
        d = os.path.join(workdir, "tls")
        os.makedirs(d, exist_ok=True)
        self.dir = d
        self.ca, ca_key = self._ca("ca", "libauditstream e2e CA")
        self.other_ca, _ = self._ca("other-ca", "libauditstream e2e other CA")
        self.key = os.path.join(d, "server.key")
        self.cert = os.path.join(d, "server.pem")
        csr = os.path.join(d, "server.csr")
        ext = os.path.join(d, "server.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectAltName=IP:127.0.0.1\n")
        self._openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", self.key, "-out", csr, "-subj", "/CN=127.0.0.1")
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key,
                      "-CAcreateserial", "-days", "1", "-sha256", "-extfile", ext,
                      "-out", self.cert)

    def _ca(self, name, cn):
        key = os.path.join(self.dir, f"{name}.key")
        cert = os.path.join(self.dir, f"{name}.pem")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-sha256",
                      "-subj", f"/CN={cn}",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return cert, key

    @staticmethod
    def _openssl(*args):
        p = subprocess.run(["openssl", *args], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"openssl {args[0]}: {p.stderr.strip()[-500:]}")

    def server_context(self):
        """The forwarder's side: the server certificate and key."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx
