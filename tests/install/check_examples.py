#!/usr/bin/env python3
# Runs the examples built against the installed library and checks what they do:
# decode_and_diff against an independent reading of the event and the golden items,
# custom_lambda against the Runtime API stand-in, signed_call against moto with SigV4 on.
"""Usage (from the top of the tree; tests/examples-test.sh drives it):

    check_examples.py decode EXE EVENT GOLDEN.classic.jsonl
    check_examples.py lambda EXE
    check_examples.py signed EXE

Each prints one line per check and exits 1 on the first failure. Servers it starts
(the stand-in, moto) are stopped by their own handles on every way out."""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, os.path.join(TOP, "tests", "support"))
from processes import stop_process  # noqa: E402
STANDIN = os.path.join(TOP, "tests", "support", "runtime_standin.py")


class Failure(Exception):
    pass


def check(cond, message, detail=""):
    """Prints `message` when `cond` holds; else fails with it and `detail`."""
    if not cond:
        raise Failure(f"{message}: {detail}" if detail else message)
    print(f"  ok: {message}", flush=True)


def run(cmd, env=None, timeout=60):
    return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout, text=True)


# ---- decode_and_diff -------------------------------------------------------------------------


def parse_values(text):
    """'OLD -> NEW', each wire JSON or (absent): (old, new) as parsed JSON or None."""
    dec = json.JSONDecoder()
    sides = []
    rest = text
    for i in range(2):
        if rest.startswith("(absent)"):
            sides.append(None)
            rest = rest[len("(absent)"):]
        else:
            value, end = dec.raw_decode(rest)
            sides.append(value)
            rest = rest[end:]
        if i == 0:
            if not rest.startswith(" -> "):
                raise Failure(f"no ' -> ' between the values in {text!r}")
            rest = rest[4:]
    if rest:
        raise Failure(f"trailing text after the values: {rest!r}")
    return sides


def expected_changes(record):
    """Top-level attributes that differ between the images, by name in byte order. The
    fixtures' values compare equal as JSON exactly when DynamoDB's equality says so."""
    ddb = record["dynamodb"]
    old, new = ddb.get("OldImage", {}), ddb.get("NewImage", {})
    names = sorted(set(old) | set(new), key=lambda n: n.encode("utf-8"))
    return [(n, old.get(n), new.get(n)) for n in names if old.get(n) != new.get(n)]


def check_decode(exe, event_path, golden_path):
    proc = run([exe, event_path])
    check(proc.returncode == 0, "decode_and_diff exits 0",
          f"status {proc.returncode}, {proc.stderr.strip()}")
    with open(event_path, encoding="utf-8") as f:
        records = json.load(f)["Records"]
    with open(golden_path, encoding="utf-8") as f:
        golden = [line.rstrip("\n") for line in f if line.strip()]
    got_records, items = [], []
    for line in proc.stdout.splitlines():
        if line.startswith("record "):
            _, index, name, event_id = line.split(" ", 3)
            got_records.append({"index": int(index), "name": name, "id": event_id, "changes": []})
        elif line.startswith("  changed "):
            name, _, values = line[len("  changed "):].partition(": ")
            got_records[-1]["changes"].append((name, *parse_values(values)))
        elif line.startswith("  item "):
            items.append(line[len("  item "):])
        else:
            raise Failure(f"unexpected line: {line!r}")
    check(len(got_records) == len(records), f"{len(records)} records printed")
    for got, rec in zip(got_records, records):
        want = (rec["eventName"], rec["eventID"])
        check((got["name"], got["id"]) == want, f"record {got['index']} is {want[0]} {want[1]}")
        changes = expected_changes(rec)
        check(got["changes"] == changes,
              f"record {got['index']}: changed {[c[0] for c in changes]} with both values")
    check(items == golden, f"the {len(golden)} items are the golden ones, byte for byte")
    with open(event_path, "rb") as f:
        piped = subprocess.run([exe, "-"], stdin=f, capture_output=True, timeout=60, text=True)
    check(piped.returncode == 0 and piped.stdout == proc.stdout, "the same from standard input")
    bad = subprocess.run([exe, "-"], input="{\"Records\":[", capture_output=True, timeout=60,
                         text=True)
    check(bad.returncode == 1 and bad.stdout == "" and "invalid JSON" in bad.stderr,
          "a truncated event: status 1 and a message", f"{bad.returncode} {bad.stderr.strip()}")


# ---- custom_lambda ---------------------------------------------------------------------------


def http(method, url, body=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read().decode("utf-8"))


def check_lambda(exe):
    standin = subprocess.Popen([sys.executable, STANDIN, "--port", "0"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, text=True)
    function = None
    try:
        port = int(standin.stdout.readline().strip())
        base = f"http://127.0.0.1:{port}"
        events = [b'{"hello":"world","n":[1,2,3]}', b'"just a string"', b""]
        ids = ["req-1", "req-\"2\"", "req-3"]
        for request_id, event in zip(ids, events):
            http("POST", f"{base}/_test/enqueue?request_id={urllib.parse.quote(request_id)}", event)
        env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{port}")
        function = subprocess.Popen([exe], env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            results = http("GET", f"{base}/_test/wait?posts=3&timeout_ms=15000", timeout=20)
        except urllib.error.HTTPError as e:
            raise Failure(f"the function did not answer three events: HTTP {e.code}") from e
        posts = results["posts"]
        check([p["request_id"] for p in posts] == ids, "one post per event, in order")
        for i in range(2):
            want = {"requestId": ids[i], "bytes": len(events[i]), "invocation": i + 1,
                    "event": json.loads(events[i])}
            check(posts[i]["kind"] == "response" and posts[i]["json"] == want,
                  f"event {i + 1} answered {json.dumps(want)}")
        check(posts[2]["kind"] == "error" and posts[2]["json"]["errorType"] == "EmptyEvent"
              and "empty" in posts[2]["json"]["errorMessage"],
              "the empty event answered with the error EmptyEvent")
        check(all(p["status"] == 202 for p in posts), "the stand-in accepted every post")
        check(function.poll() is None, "the function still waits for the next event")
    finally:
        for proc in (function, standin):
            stop_process(proc)
    out = function.stdout.read()
    check(out.startswith("custom_lambda: libauditstream "), "it said which library it runs on")


# ---- signed_call -----------------------------------------------------------------------------


def check_signed(exe):
    import test_ddb_moto as ddb  # moto and IAM set up as the integration tests do

    workdir = tempfile.mkdtemp(prefix="examples-moto.")
    moto = ddb.Moto(workdir)
    try:
        moto.start()
        aws = ddb.Aws(moto)
        aws.setup()  # auth on from here: every request's signature is checked

        def call(creds, item_id, note=None):
            key, secret, token = creds
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            env.update(AWS_REGION=ddb.REGION, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
                       AWS_ENDPOINT_URL_DYNAMODB=moto.endpoint)
            if token:
                env["AWS_SESSION_TOKEN"] = token
            args = [exe, ddb.TABLE, item_id] + ([note] if note is not None else [])
            return run(args, env=env)

        user = (aws.key_id, aws.secret, None)
        proc = call(user, "example-1", "caf\u00e9 \"quoted\"")
        check(proc.returncode == 0, "signed_call with the user's key exits 0", proc.stderr.strip())
        check(proc.stdout.startswith(f"signed_call: wrote example-1 to {ddb.TABLE} at {moto.endpoint}"),
              "it says what it wrote where", proc.stdout.strip())
        proc = call(aws.temp, "example-2")
        check(proc.returncode == 0, "and with the role's temporary credentials", proc.stderr.strip())
        table = aws.scan()
        check(set(table) == {"example-1", "example-2"}, "both items are in the table")
        item = table["example-1"]
        check(item["note"] == {"S": "caf\u00e9 \"quoted\""}, "the note arrived as written")
        check(item["library"]["S"].startswith("libauditstream "), "the item names the library")
        check(table["example-2"]["note"] == {"S": "written by signed_call"}, "the default note")

        bad = (aws.key_id, aws.secret[:-1] + ("x" if aws.secret[-1] != "x" else "y"), None)
        proc = call(bad, "example-3")
        check(proc.returncode == 1 and "HTTP 4" in proc.stderr and "signed_call: PutItem failed" in proc.stderr,
              f"a wrong secret is refused by moto: {proc.stderr.strip()}")
        check(aws.secret[:-1] not in proc.stderr, "the refusal does not quote the secret")
        proc = call(aws.reader, "example-4")
        check(proc.returncode == 1 and "HTTP 4" in proc.stderr,
              f"a key without PutItem is refused: {proc.stderr.strip()}")
        check(set(aws.scan()) == {"example-1", "example-2"}, "nothing more was written")
    finally:
        moto.stop()
        for name in os.listdir(workdir):
            os.unlink(os.path.join(workdir, name))
        os.rmdir(workdir)


def main(argv):
    try:
        if len(argv) == 5 and argv[1] == "decode":
            check_decode(argv[2], argv[3], argv[4])
        elif len(argv) == 3 and argv[1] == "lambda":
            check_lambda(argv[2])
        elif len(argv) == 3 and argv[1] == "signed":
            check_signed(argv[2])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Failure as e:
        print(f"  FAIL: {e}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
