#!/usr/bin/env python3
"""docs/trust.md's page of Python, kept as a test, so that the docs and the code cannot drift.

Takes the checker (the ```python block that starts "# check_chain.py") out of docs/trust.md,
builds chained audit items with the C library (tests/canonical/chain_dump.c) from a generated
event of three keys in both formats, and runs the checker on them whole and on tampered
copies: a value changed, an entry deleted from the middle and from the end, an entry slipped
in with and without chain fields, a head rolled back, a chain and head rewritten consistently
(caught by anchors alone), entries expired or removed early, the items rewritten the way
DynamoDB stores them. Each time the checker's report must be the expected one, and the same,
kind for kind and sequence number for sequence number, as the C library's own verify
(chain_dump --verify, as_trail_verify_chain and as_trail_verify_anchor).

    python3 tests/canonical/test_trust_page.py --chain-driver build/canonical/chain_dump
"""

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "support"))

import canonical  # noqa: E402  (the test's own model, to forge links as an attacker would)

RETENTION_DAYS = 30
BASE_S = 1714564800  # 2024-05-01T12:00:00Z
KEYS = ["alpha", "beta", "gamma"]
RECORDS = 6  # per key
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL " + what, file=sys.stderr)


def extract_checker():
    with open(os.path.join(TOP, "docs", "trust.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"```python\n(# check_chain\.py.*?)```", text, re.S)
    if m is None:
        raise SystemExit("docs/trust.md: no ```python block starting '# check_chain.py'")
    return m.group(1)


def iso(second):
    return "2024-05-01T12:%02d:%02d.000Z" % (second // 60, second % 60)


def event():
    """Three keys, six records each, interleaved, times and sequence numbers rising."""
    records = []
    n = 0
    for r in range(RECORDS):
        for k in KEYS:
            n += 1
            image = {"key": {"S": k}, "value": {"N": "%d.50" % r},
                     "tags": {"SS": ["b", "a", "c%d" % r]}, "sizes": {"NS": ["10", "2.0", "-1"]},
                     "blob": {"B": "QR=="}, "nested": {"M": {"z": {"L": [{"N": "%d00" % r}]},
                                                           "a": {"BOOL": r % 2 == 0}}}}
            old = copy.deepcopy(image)
            old["value"] = {"N": "%d.50" % (r - 1)}
            dyn = {"ApproximateCreationDateTime": BASE_S + n, "Keys": {"key": {"S": k}},
                   "SequenceNumber": "%d" % (1000 + n), "StreamViewType": "NEW_AND_OLD_IMAGES",
                   "NewImage": image}
            if r > 0:
                dyn["OldImage"] = old
            records.append({"eventID": "e%d" % n, "eventName": "MODIFY" if r > 0 else "INSERT",
                            "eventSource": "aws:dynamodb",
                            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/"
                                              "Configuration/stream/2024",
                            "dynamodb": dyn})
    return {"Records": records}


def chain_items(driver, path, fmt):
    proc = subprocess.run([driver, "--format", fmt, "--retention-days", str(RETENTION_DAYS), path],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise SystemExit("chain_dump failed: " + proc.stderr.decode(errors="replace"))
    items, heads, records = [], [], []
    for line in proc.stdout.decode("utf-8").split("\n"):
        parts = line.split("\t")
        if parts[0] == "I":
            items.append(json.loads(parts[2]))
        elif parts[0] == "H":
            heads.append(json.loads(parts[2]))
        elif parts[0] == "D":
            records.append({"key": json.loads('"%s"' % parts[2]), "sort": parts[3],
                            "chain": parts[5]})
    return items, heads, records


def reports(lines):
    """{historyKey: (ok, sorted [(kind, sequenceNumber)])} and the summary's ok."""
    out = {}
    summary = None
    for line in lines.splitlines():
        doc = json.loads(line)
        if "historyKey" in doc:
            out[doc["historyKey"]] = (doc["ok"], sorted((p["kind"], p.get("sequenceNumber", ""))
                                                        for p in doc["problems"]))
        else:
            summary = doc["ok"]
    return out, summary


def run(checker, driver, tmp, name, items, heads, now_ms, anchors, want, text_log=False):
    """Runs both on the items and heads; `want` is {key: [(kind, seq), ...]} for the keys
    that have problems (the others must have none). The anchors go in as one `chain heads`
    log line among others, in Lambda's JSON log format or, with text_log, its text one."""
    path = os.path.join(tmp, name + ".jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for item in items + heads:
            f.write(json.dumps(item) + "\n")
    args = ["--now", str(now_ms)]
    c_args = ["--now", str(now_ms)]
    if anchors:
        apath = os.path.join(tmp, name + ".anchors")
        moved = [{"historyKey": k, "sequenceNumber": s, "chain": c} for k, s, c in anchors]
        with open(apath, "w", encoding="utf-8") as f:
            # As the function logs them: one line, message "chain heads", among others.
            f.write("START RequestId: 8f5e Version: $LATEST\n")
            if text_log:
                f.write("2024-05-01T12:00:00.000Z\t8f5e\tINFO\tchain heads heads=%s\n"
                        % json.dumps(moved, separators=(",", ":")))
            else:
                f.write(json.dumps({"timestamp": "2024-05-01T12:00:00Z", "level": "INFO",
                                    "message": "chain heads", "heads": moved}) + "\n")
            f.write('{"level":"INFO","message":"batch done","records":3}\n')
            f.write("REPORT RequestId: 8f5e Duration: 12.3 ms\n\n")
        args += ["--anchors", apath]
        for k, s, c in anchors:
            c_args += ["--anchor", k, s, c]
    py = subprocess.run([sys.executable, checker] + args + [path], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, check=False)
    c = subprocess.run([driver, "--verify"] + c_args + [path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, check=False)
    check(c.returncode == 0, "%s: chain_dump --verify failed: %s" % (name, c.stderr.decode()))
    check(py.stderr == b"", "%s: the checker wrote to stderr: %s" % (name, py.stderr.decode()))
    got_py, ok_py = reports(py.stdout.decode())
    got_c, ok_c = reports(c.stdout.decode())
    check(got_py == got_c, "%s: the checker and the C verify differ:\n  py %r\n  C  %r" % (
        name, got_py, got_c))
    expected = {}
    for key in got_c:
        problems = sorted(want.get(key, []))
        expected[key] = (all(k == "expired" for k, _ in problems), problems)
    check(got_py == expected, "%s: the checker reported\n  %r\nwant\n  %r" % (
        name, got_py, expected))
    all_ok = all(ok for ok, _ in expected.values())
    check(ok_py == all_ok and (py.returncode == 0) == all_ok,
          "%s: summary ok %r, exit %d, want ok %r" % (name, ok_py, py.returncode, all_ok))


def seq_of(sort):
    return sort[25:].lstrip("0")


def bump(value):
    """The first number inside an attribute value (or item) changed, in place; True if any."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "N" and isinstance(v, str):
                value[k] = v + "1" if "." in v else v + ".1"
                return True
            if k != "expiresAt" and bump(v):
                return True
    elif isinstance(value, list):
        return any(bump(v) for v in value)
    return False


def relink(items, heads, key, records):
    """An attacker's rewrite: the key's chain recomputed from its items as they are now."""
    prev, prev_time, count = canonical.ZEROS, None, 0
    for rec in [r for r in records if r["key"] == key]:
        group = [i for i in items if i["historySort"]["S"] == rec["sort"]
                 and i["historyKey"]["S"] == key]
        if not group:
            continue
        chain = canonical.chain_link(prev, canonical.record_digest(group))
        for i in group:
            i["chainPrev"] = {"S": prev}
            i["chain"] = {"S": chain}
            i.pop("chainPrevTime", None)
            if prev_time:
                i["chainPrevTime"] = {"S": prev_time}
        prev, prev_time, count = chain, rec["sort"][:24], count + 1
    for h in heads:
        if h["chainOf"]["S"] == key:
            h["chain"] = {"S": prev}
            h["entries"] = {"N": str(count)}


def dynamodb_rewrite(value):
    """Numbers normalised as DynamoDB returns them, sets in another order, members moved."""
    if isinstance(value, dict):
        out = {}
        for k in reversed(list(value)):
            v = value[k]
            if k == "N" and "." in v and "e" not in v.lower():
                out[k] = v.rstrip("0").rstrip(".")  # 1.50 -> 1.5, 2.0 -> 2
            elif k == "NS":
                out[k] = [n.rstrip("0").rstrip(".") if "." in n else n for n in reversed(v)]
            elif k in ("SS", "BS"):
                out[k] = list(reversed(v))
            else:
                out[k] = dynamodb_rewrite(v)
        return out
    if isinstance(value, list):
        return [dynamodb_rewrite(v) for v in value]
    return value


def cases(checker, driver, tmp, fmt, items, heads, records):
    key = "Configuration/alpha"
    mine = [r for r in records if r["key"] == key]
    check(len(mine) == RECORDS, "%s: %d records of %s chained" % (fmt, len(mine), key))
    seqs = [seq_of(r["sort"]) for r in mine]
    now = (BASE_S + 3600) * 1000
    name = fmt + "-"

    def without(pred):
        return [i for i in items if not pred(i)]

    def of_record(i, r):
        return i["historyKey"]["S"] == key and i["historySort"]["S"] == mine[r]["sort"]

    run(checker, driver, tmp, name + "whole", items, heads, now, [], {})

    tampered = copy.deepcopy(items)
    target = next(i for i in tampered if of_record(i, 2))
    check(bump(target.get("newValue", target.get("newImage"))), "%s: nothing to change" % fmt)
    run(checker, driver, tmp, name + "altered", tampered, heads, now, [],
        {key: [("altered", seqs[2])]})

    run(checker, driver, tmp, name + "middle-deleted", without(lambda i: of_record(i, 2)),
        heads, now, [], {key: [("missing", seqs[3])]})
    run(checker, driver, tmp, name + "last-deleted", without(lambda i: of_record(i, RECORDS - 1)),
        heads, now, [], {key: [("head", seqs[RECORDS - 2])]})

    # A forged record between 2 and 3, linked after 2 by someone who knows the rules.
    forged = copy.deepcopy(next(i for i in items if of_record(i, 2)))
    forged["id"] = {"S": "forged"}
    forged_seq = str(int(seqs[2]) + 1)
    forged["historySort"] = {"S": mine[2]["sort"][:25] + forged_seq.zfill(40)}
    for f in canonical.CHAIN_FIELDS:
        forged.pop(f, None)
    unchained = copy.deepcopy(forged)
    forged["chainPrev"] = {"S": mine[2]["chain"]}
    forged["chain"] = {"S": canonical.chain_link(mine[2]["chain"],
                                                 canonical.record_digest([forged]))}
    forged["chainPrevTime"] = {"S": mine[2]["sort"][:24]}
    run(checker, driver, tmp, name + "forged-linked", items + [forged], heads, now, [],
        {key: [("missing", seqs[3])]})
    run(checker, driver, tmp, name + "forged-unchained", items + [unchained], heads, now, [],
        {key: [("altered", forged_seq)]})

    rolled = copy.deepcopy(heads)
    for h in rolled:
        if h["chainOf"]["S"] == key:
            h["chain"] = {"S": mine[3]["chain"]}
    run(checker, driver, tmp, name + "head-rolled-back", items, rolled, now, [],
        {key: [("head", seqs[RECORDS - 1])]})

    # Rewritten consistently from record 1 on: only the anchors catch it.
    rewritten = copy.deepcopy(items)
    rewritten_heads = copy.deepcopy(heads)
    bump(next(i for i in rewritten if of_record(i, 1)).get("newValue",
                                                           next(i for i in rewritten
                                                                if of_record(i, 1)).get(
                                                               "newImage")))
    relink(rewritten, rewritten_heads, key, records)
    run(checker, driver, tmp, name + "rewritten", rewritten, rewritten_heads, now, [], {})
    anchors = [(key, seqs[r], mine[r]["chain"]) for r in (0, 2, RECORDS - 1)]
    run(checker, driver, tmp, name + "rewritten-anchored", rewritten, rewritten_heads, now,
        anchors, {key: [("anchor", seqs[2]), ("anchor", seqs[RECORDS - 1])]}, text_log=True)
    run(checker, driver, tmp, name + "anchored", items, heads, now, anchors, {})

    # Records 0 and 1 gone: expired once record 1's expiresAt passed, missing before.
    early = without(lambda i: of_record(i, 0) or of_record(i, 1))
    second_of_1 = int(mine[1]["sort"][17:19]) + 60 * int(mine[1]["sort"][14:16])
    expiry_ms = (BASE_S + second_of_1 + RETENTION_DAYS * 86400) * 1000
    run(checker, driver, tmp, name + "expired", early, heads, expiry_ms + 1, anchors[:1],
        {key: [("expired", seqs[2])]})
    run(checker, driver, tmp, name + "expired-at-the-millisecond", early, heads, expiry_ms, [],
        {key: [("missing", seqs[2])]})
    run(checker, driver, tmp, name + "removed-early", early, heads, now, anchors[:1],
        {key: [("missing", seqs[2]), ("anchor", seqs[0])]}, text_log=True)

    # As DynamoDB stores and returns them: no problem.
    run(checker, driver, tmp, name + "dynamodb-rewrite", [dynamodb_rewrite(i) for i in items],
        [dynamodb_rewrite(h) for h in heads], now, [], {})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chain-driver", required=True, help="the built chain_dump")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="trust-page-") as tmp:
        checker = os.path.join(tmp, "check_chain.py")
        with open(checker, "w", encoding="utf-8") as f:
            f.write(extract_checker())
        path = os.path.join(tmp, "event.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(event(), f)
        runs = 0
        for fmt in ("classic", "detailed"):
            items, heads, records = chain_items(args.chain_driver, path, fmt)
            check(len(heads) == len(KEYS), "%s: %d heads" % (fmt, len(heads)))
            before = len(failures)
            cases(checker, args.chain_driver, tmp, fmt, items, heads, records)
            runs += 1
            if len(failures) > before:
                print("%s: items kept in %s" % (fmt, tmp), file=sys.stderr)
    print("trust page: docs/trust.md's checker against the C verify, 2 formats, 15 cases each: "
          "%d failures" % len(failures))
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
