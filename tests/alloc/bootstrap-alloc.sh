#!/bin/sh
# The allocation-failure stage for the real bootstrap process: tests/alloc/failmalloc.c
# (LD_PRELOAD) fails its n-th allocation, for every n, on `--print` and on one invocation.
#
# Usage: tests/alloc/bootstrap-alloc.sh BUILD   (BUILD holds bootstrap and tests/alloc/
# failmalloc.so: `make BUILD=... check-alloc-bootstrap` builds both and runs this).
#
# Scenario 1, `bootstrap --print EVENT [--format detailed]`, on real fixtures, a generated
# event with escaped fields and invalid records, and a file that is not JSON. A user
# reading stdout must never take a broken run for a good one, so each run either
#   - exits as the clean run did, with its stdout and stderr byte for byte, or
#   - exits non-zero, says "out of memory" (or strerror's "Cannot allocate memory") on
#     stderr, and printed nothing to stdout (items are printed only once all are built).
# Scenario 2, the function: bootstrap against tests/support/runtime_standin.py and
# tests/support/fault_server.py (DynamoDB, which records every PutItem), one invocation
# of a fixture. Each run's outcome is one of
#   - the clean answer, with DynamoDB having received exactly the clean run's items;
#   - an error post or an answer listing failed records, with every item DynamoDB
#     received identical to the clean run's item of that id (and for an answer, every
#     item of the records before the one it names received: Lambda goes on from there);
#   - no answer, the process having exited with a FATAL log line that says out of memory
#     (an init error post, if any, allowed).
# Never another success, never an item whose content differs, never a crash or a hang.
# Both scenarios run every n from 1 to the clean run's count (plus one: no failure left),
# once with only the n-th allocation failing and once with every allocation from the n-th
# on failing. Counts over 4000 would be covered densely to 2000, then by a stride; the
# covered set is printed either way.
set -u
build=${1:?usage: bootstrap-alloc.sh BUILD}
cd "$(dirname "$0")/../.." || exit 2
[ -x "$build/bootstrap" ] || { echo "bootstrap-alloc: $build/bootstrap is missing" >&2; exit 2; }
[ -f "$build/tests/alloc/failmalloc.so" ] ||
    { echo "bootstrap-alloc: $build/tests/alloc/failmalloc.so is missing" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/bootstrap-alloc.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
python3 - "$build" "$work" <<'PY'
import concurrent.futures
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import urllib.request

BUILD, WORK = sys.argv[1], sys.argv[2]
BOOTSTRAP = os.path.abspath(os.path.join(BUILD, "bootstrap"))
SHIM = os.path.abspath(os.path.join(BUILD, "tests", "alloc", "failmalloc.so"))
JOBS = max(1, min(2, os.cpu_count() or 1))
DENSE, LIMIT, STRIDE_RUNS = 2000, 4000, 500
HANG_S = 5  # a clean run answers within 0.2 s
STANDINS = 6  # a run takes about 12 ms; a stand-in is free again 50 ms after one
problems = []
local = threading.local()


def plan(count):
    """Which n to run for a clean count: all of them, or dense then strided."""
    if count + 1 <= LIMIT:
        return list(range(1, count + 2)), "every n in 1..%d" % (count + 1)
    stride = max(1, (count - DENSE) // STRIDE_RUNS)
    ns = list(range(1, DENSE + 1)) + list(range(DENSE + 1, count + 2, stride)) + [count + 1]
    return sorted(set(ns)), "n in 1..%d, then every %d-th to %d" % (DENSE, stride, count + 1)


def counters(path):
    with open(path, "rb") as f:
        return struct.unpack("<qq", f.read(16))


def shim_env(n, mode, counter, extra=None):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LD_PRELOAD": SHIM,
           "ALLOC_FAIL_AT": str(n), "ALLOC_FAIL_MODE": mode, "ALLOC_COUNTER_FILE": counter,
           "TZ": "UTC", "LANG": "C"}
    env.update(extra or {})
    return env


def says_oom(text):
    return "out of memory" in text or "Cannot allocate memory" in text


# ---- scenario 1: --print -----------------------------------------------------------------

# Escaped eventSourceARN, eventID, names and values; invalid records whose error items
# quote escaped text (a duplicate set member, an unknown type tag); every record has its
# creation time, so that a clean run's output does not depend on the clock.
HEAD = ('{"eventID":"%s","eventName":"%s","eventVersion":"1.1","eventSource":"aws:dynamodb",'
        '"awsRegion":"us-east-1","eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:'
        'table\\/Or\\u0064ers\\/stream\\/2024-01-01T00:00:00.000","dynamodb":'
        '{"ApproximateCreationDateTime":1700000000.5,')
GENERATED = ('{"Records":[' + ",".join([
    HEAD % ("e\\/1", "INSERT") + '"Keys":{"id":{"S":"k\\"1"}},"NewImage":{"id":{"S":"k\\"1"},'
    '"v":{"S":"\\u00e9\\n"},"na\\u006de":{"S":"x"}},"SequenceNumber":"1\\u0030"}}',
    HEAD % ("e2", "MODIFY") + '"Keys":{"id":{"S":"k2"}},"OldImage":{"id":{"S":"k2"},'
    '"a\\/b":{"N":"1"},"ss":{"SS":["a","b"]}},"NewImage":{"id":{"S":"k2"},"a\\/b":{"N":"2"},'
    '"ss":{"SS":["b","a","c"]},"m":{"M":{"t~":{"BOOL":true}}}},"SequenceNumber":"2"}}',
    HEAD % ("e3", "INSERT") + '"Keys":{"id":{"S":"k3"}},"NewImage":{"id":{"S":"k3"},'
    '"s":{"SS":["a\\u0062","ab"]}},"SequenceNumber":"3"}}',
    HEAD % ("e4", "INSERT") + '"Keys":{"id":{"S":"k4"}},"NewImage":{"id":{"S":"k4"},'
    '"x":{"\\u0058":"1"}},"SequenceNumber":"4"}}',
    HEAD % ("e5", "UPSERT\\u0021") + '"Keys":{"id":{"S":"k5"}},"SequenceNumber":"5"}}',
    HEAD % ("e6", "INSERT") + '"Keys":{"id":{"S":"k6"}},"NewImage":{"id":{"S":"k6"},'
    '"n":{"N":"1e999"}},"SequenceNumber":"6"}}',
    HEAD % ("e7", "REMOVE") + '"Keys":{"id":{"S":"k7"}},"OldImage":{"id":{"S":"k7"},'
    '"w":{"B":"QQ=="}},"SequenceNumber":"7"}}',
]) + "]}")


def run_print(args, n, mode, counter):
    p = subprocess.run([BOOTSTRAP] + args, env=shim_env(n, mode, counter),
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr, counters(counter)


def judge_print(clean, got):
    rc, out, err, (count, failed) = got
    if rc < 0:
        return "killed by signal %d" % -rc
    if (rc, out, err) == clean[:3]:
        return None
    if failed == 0:
        return "no allocation failed, yet the run differs from the clean one (exit %d)" % rc
    if rc == 0:
        return "exit 0 after a failed allocation, output differs from the clean run"
    if not says_oom(err.decode("utf-8", "replace")):
        return "exit %d without saying out of memory: %r" % (rc, err[:300])
    if out:
        return "exit %d, yet printed %d bytes to stdout" % (rc, len(out))
    return None


def print_scenario():
    gen = os.path.join(WORK, "generated-escaped-invalid.json")
    with open(gen, "w") as f:
        f.write(GENERATED)
    fixtures = ["events/localstack-esm-batch-10-inserts.json",
                "events/aws-lambda-go-dynamodb-event.json",
                "events/aws-lambda-go-dynamodb-event-malformed.2.json", gen]
    runs = 0
    for fixture in fixtures:
        for fmt in ("classic", "detailed"):
            args = ["--print", fixture, "--format", fmt]
            name = "%s --format %s" % (os.path.basename(fixture), fmt)
            counter = os.path.join(WORK, "print.count")
            clean = run_print(args, 0, "once", counter)
            again = run_print(args, 0, "once", counter)
            if clean[0] < 0 or clean[:3] != again[:3]:
                problems.append("print %s: two clean runs differ" % name)
                continue
            ns, covered = plan(clean[3][0])
            for mode in ("once", "after"):
                def one(n):
                    c = os.path.join(WORK, "print.%d.count" % threading.get_ident())
                    return n, judge_print(clean, run_print(args, n, mode, c))
                with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
                    for n, why in pool.map(one, ns):
                        if why is not None:
                            problems.append("print %s, mode %s, n=%d: %s" % (name, mode, n, why))
                runs += len(ns)
            print("print %s: clean exit %d, %d allocations; %s, modes once and after" %
                  (name, clean[0], clean[3][0], covered), flush=True)
    return runs


# ---- scenario 2: the function --------------------------------------------------------------

def http(method, url, body=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Servers:
    """Runtime API stand-ins, taken in turn, and one fault server, reused across runs
    (reset between)."""

    def __init__(self):
        self.procs = []
        self.rts = [self.start([sys.executable, "tests/support/runtime_standin.py"], "")
                    for _ in range(STANDINS)]
        self.rt = self.rts[0]
        self.ddb = self.start([sys.executable, "tests/support/fault_server.py"], "PORT ")

    def start(self, cmd, prefix):
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        self.procs.append(p)
        line = p.stdout.readline().decode().strip()
        if not line.startswith(prefix):
            raise RuntimeError("%s did not say its port: %r" % (cmd[1], line))
        return "127.0.0.1:" + line[len(prefix):]

    def reset(self):
        # A killed process's long poll is still open in the stand-in until it sees the
        # hang-up (within 50 ms); an event queued before then could go to the dead socket.
        # Taking the stand-ins in turn gives it that time while the others are used.
        self.rt = self.rts[(self.rts.index(self.rt) + 1) % len(self.rts)]
        for _ in range(200):
            status, body = http("GET", "http://%s/_test/results" % self.rt)
            if all(r["outcome"] is not None for r in json.loads(body)["requests"]):
                break
            time.sleep(0.01)
        http("POST", "http://%s/_test/reset" % self.rt, b"")
        http("POST", "http://%s/_control/reset" % self.ddb, b"")

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()


def items_received(servers):
    status, body = http("GET", "http://%s/_control/log" % servers.ddb)
    out = []
    for r in json.loads(body)["requests"]:
        out.append((r["item"], r["body"]))
    return out


def run_function(servers, payload, n, mode, counter, tag):
    servers.reset()
    http("POST", "http://%s/_test/enqueue?request_id=req-1&timeout_ms=30000" % servers.rt,
         payload)
    env = shim_env(n, mode, counter, {
        "AWS_LAMBDA_RUNTIME_API": servers.rt,
        "AWS_LAMBDA_FUNCTION_NAME": "audit_producer", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
        "AWS_ENDPOINT_URL_DYNAMODB": "http://" + servers.ddb, "AUDIT_TABLE": "Audit",
        "AUDIT_FORMAT": "detailed" if "detailed" in tag else "classic"})
    log_path = os.path.join(WORK, "fn.%d.log" % threading.get_ident())
    with open(log_path, "wb") as log:
        p = subprocess.Popen([BOOTSTRAP], env=env, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT)
    posts, hung = [], False
    deadline = time.monotonic() + HANG_S
    try:
        while True:
            status, body = http("GET", "http://%s/_test/wait?posts=1&timeout_ms=10" % servers.rt)
            posts = json.loads(body)["posts"]
            if posts or p.poll() is not None:
                break
            if time.monotonic() > deadline:
                hung = True
                break
        # After an init error post the process exits by itself: let it, to see how.
        if posts and all(q["kind"] == "init_error" for q in posts):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                hung = True
        # A process that answered is left a moment to go idle, so that the clean count
        # includes what it does after answering.
        if posts and p.poll() is None and n == 0:
            time.sleep(0.15)
    finally:
        if p.poll() is None:
            p.kill()
        rc = p.wait()
    with open(log_path, "rb") as f:
        log_text = f.read().decode("utf-8", "replace")
    return {"posts": posts, "items": items_received(servers), "rc": rc, "log": log_text,
            "hung": hung, "counts": counters(counter)}


def outcome(got):
    """What a run ended with, for the tally printed per case."""
    kinds = [q["kind"] for q in got["posts"]]
    if "error" in kinds:
        return "error post"
    if "response" in kinds:
        answer = got["posts"][kinds.index("response")]["json"]
        return "answer" if answer == {"batchItemFailures": []} else "partial answer"
    if got["hung"]:
        return "hang"
    return "init error post, exit" if "init_error" in kinds else "exit"


def record_items(payload, fmt):
    """For each record of `payload` in batch order: its SequenceNumber (decoded) and the ids
    of the items it yields, from `bootstrap --print` on each prefix of the event cut from
    the raw text (so that escapes, and with them every id and message, stay as sent)."""
    text = payload.decode("utf-8")
    decoder = json.JSONDecoder()
    pos = text.index("[", text.index('"Records"')) + 1
    spans = []
    while True:
        while text[pos] in " \t\r\n,":
            pos += 1
        if text[pos] == "]":
            break
        value, end = decoder.raw_decode(text, pos)
        spans.append((pos, end, value))
        pos = end
    path = os.path.join(WORK, "prefix.json")
    seen, out = set(), []
    for i, (_, end, value) in enumerate(spans):
        with open(path, "w") as f:
            f.write('{"Records":[' + text[spans[0][0]:end] + "]}")
        p = subprocess.run([BOOTSTRAP, "--print", path, "--format", fmt],
                           capture_output=True, check=True)
        ids = {json.loads(line)["id"]["S"] for line in p.stdout.decode().splitlines()}
        seq = value.get("dynamodb", {}).get("SequenceNumber") if isinstance(value, dict) else None
        out.append((seq, ids - seen))
        seen |= ids
    return out


def judge_partial(clean, got, answer):
    """A partial answer names the record Lambda redelivers from: every item of every record
    before it must have been written (README: a failed record is named, or the nearest
    earlier record with a SequenceNumber)."""
    named = [f.get("itemIdentifier") for f in answer["batchItemFailures"]
             if isinstance(f, dict)]
    if len(named) != 1 or not isinstance(named[0], str) or not named[0]:
        return "a partial answer that does not name one record: %r" % answer
    seqs = [seq for seq, _ in clean["records"]]
    if named[0] not in seqs:
        return "a partial answer naming %r, no record's SequenceNumber" % named[0]
    written = {item_id for item_id, _ in got["items"]}
    for seq, ids in clean["records"][:seqs.index(named[0])]:
        if not ids <= written:
            return "a partial answer naming %r, yet record %r before it lacks items %s" % (
                named[0], seq, sorted(ids - written))
    return None


def judge_function(clean, got):
    if got["hung"]:
        return "no answer and no exit within %d s" % HANG_S
    if got["rc"] < 0 and got["rc"] != -signal.SIGKILL:
        return "killed by signal %d" % -got["rc"]
    clean_items = dict(clean["items"])
    for item_id, body in got["items"]:
        if clean_items.get(item_id) != body:
            return "DynamoDB received item %s with content the clean run never wrote: %s" % (
                item_id, body[:300])
    if got["counts"][1] == 0:
        same = (got["posts"] and got["posts"][0]["body"] == clean["posts"][0]["body"] and
                set(got["items"]) == set(clean["items"]))
        return None if same else "no allocation failed, yet the run differs from the clean one"
    answers = [q for q in got["posts"] if q["kind"] in ("response", "error")]
    if answers:
        a = answers[0]
        if a["kind"] == "response" and a["json"] == clean["posts"][0]["json"]:
            if set(got["items"]) != set(clean["items"]):
                return "the clean answer, but DynamoDB received %d distinct items, not %d" % (
                    len(set(got["items"])), len(set(clean["items"])))
            return None
        if a["kind"] == "response":
            failures = (a["json"] or {}).get("batchItemFailures") if isinstance(a["json"], dict) \
                else None
            if not failures:
                return "a success answer that differs from the clean one: %r" % a["body"]
            return judge_partial(clean, got, a["json"])
        message = (a["json"] or {}).get("errorMessage", "") if isinstance(a["json"], dict) else ""
        if not message:
            return "an error post that names nothing: %r" % a["body"]
        return None
    # No answer: the process must have exited by itself, saying why.
    if got["rc"] == -signal.SIGKILL:
        return "killed while still running, without an answer"
    fatal = [line for line in got["log"].splitlines() if "FATAL" in line]
    if not any(says_oom(line) for line in fatal):
        return "exited %d without an answer and without a FATAL out-of-memory line; log: %r" % (
            got["rc"], got["log"][-400:])
    return None


def function_scenario():
    # A real fixture in the classic format; the generated event (escaped eventSourceARN,
    # invalid records whose error items quote escaped text) in the detailed one.
    cases = [("events/aws-lambda-go-dynamodb-event.json", "classic"),
             (os.path.join(WORK, "generated-escaped-invalid.json"), "detailed")]
    with open(cases[1][0], "w") as f:
        f.write(GENERATED)
    runs = 0
    pools = []
    try:
        pools = [Servers() for _ in range(JOBS)]
        free = list(pools)
        lock = threading.Lock()
        for fixture, fmt in cases:
            with open(fixture, "rb") as f:
                payload = f.read()
            tag = "%s %s" % (os.path.basename(fixture), fmt)
            counter = os.path.join(WORK, "fn.count")
            clean = run_function(pools[0], payload, 0, "once", counter, tag)
            again = run_function(pools[0], payload, 0, "once", counter, tag)
            ok = (clean["posts"] and clean["posts"][0]["kind"] == "response" and
                  clean["posts"][0]["json"] == {"batchItemFailures": []} and clean["items"])
            if not ok or not again["posts"] or \
                    again["posts"][0]["body"] != clean["posts"][0]["body"] or \
                    set(again["items"]) != set(clean["items"]):
                problems.append("function %s: the clean runs do not agree or fail: %r" %
                                (tag, clean["log"][-500:]))
                continue
            clean["items"] = sorted(set(clean["items"]))
            clean["records"] = record_items(payload, fmt)
            if {i for _, ids in clean["records"] for i in ids} != {i for i, _ in clean["items"]}:
                problems.append("function %s: --print's item ids differ from the clean run's" %
                                tag)
                continue
            count = max(clean["counts"][0], again["counts"][0])
            ns, covered = plan(count)
            started = time.monotonic()
            tally = {}
            for mode in ("once", "after"):
                def one(n):
                    with lock:
                        servers = free.pop()
                    try:
                        c = os.path.join(WORK, "fn.%d.count" % threading.get_ident())
                        got = run_function(servers, payload, n, mode, c, tag)
                        with lock:
                            key = "%s (%s)" % (outcome(got), mode)
                            tally[key] = tally.get(key, 0) + 1
                        return n, judge_function(clean, got)
                    finally:
                        with lock:
                            free.append(servers)
                with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
                    for n, why in pool.map(one, ns):
                        if why is not None:
                            problems.append("function %s, mode %s, n=%d: %s" %
                                            (tag, mode, n, why))
                runs += len(ns)
            print("function %s: %d items, %d allocations; %s, modes once and after (%.0f s)" %
                  (tag, len(clean["items"]), count, covered, time.monotonic() - started),
                  flush=True)
            print("  outcomes: " + ", ".join("%s %d" % kv for kv in sorted(tally.items())),
                  flush=True)
    finally:
        for s in pools:
            s.stop()
    return runs


start = time.monotonic()
only = os.environ.get("BOOTSTRAP_ALLOC_ONLY", "")
print_runs = print_scenario() if only in ("", "print") else 0
fn_runs = function_scenario() if only in ("", "function") else 0
# One line per kind of problem (numbers and times set aside), with its first n and count.
kinds = {}
for line in problems:
    key = re.sub(r"[0-9]+", "#", re.sub(r"[0-9]{4}-[0-9-]+T[0-9:.]+Z", "", line))
    kinds.setdefault(key, [line, 0])[1] += 1
for first, count in kinds.values():
    print("FAIL %s%s" % (first[:700], " (and %d more like it)" % (count - 1) if count > 1 else ""))
print("bootstrap-alloc: %d --print runs, %d function runs, %d problems, %.0f s" %
      (print_runs, fn_runs, len(problems), time.monotonic() - start))
sys.exit(1 if problems else 0)
PY
