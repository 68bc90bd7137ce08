#!/usr/bin/env python3
# Integration tests of the hash chain (AUDIT_CHAIN=on) against moto with SigV4 verification
# on: invocations of the batch over several batches, redeliveries included, then verified.
"""Run: test_chain_moto.py --chain-batches build/integration/chain_batches
       (from the top of the tree)

Starts moto as tests/integration/test_ddb_moto.py does (its Moto and Aws classes: IAM
user, policy, auth on, the Audit table), creates one more table, then per format (classic
on Audit, detailed on AuditDetailed) drives tests/integration/chain_batches.c: batches of
records of five source items (one key with a quote and a non-ASCII letter), each batch
processed, some again whole or from the middle, as Lambda redelivers; then the table is
scanned and checked with the pure verify (as_trail_verify, as_trail_verify_chain and the
anchors the batches logged, as_trail_verify_anchor), and a changed item must be caught.

Ends with the line "chain integration: N passed, N failed"; exits 1 when anything failed.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_ddb_moto as base  # noqa: E402 - the moto and IAM setup, shared
from test_ddb_moto import TestFailure, check, raise_exit  # noqa: E402

DETAILED_TABLE = "AuditDetailed"
KEYS = ["k0", "k1", "k2", "k3", 'k"4 \u00e9']
BATCH_RECORDS = 12
BATCHES = 5
RUN_TIMEOUT = 120
SEQ_BASE = 4421584500000000017450000000
TIME_BASE = 1714566645  # 2024-05-01T12:30:45Z


# ---- events ----------------------------------------------------------------------------------


def make_batches():
    """BATCHES events of BATCH_RECORDS records, sequence numbers and times rising, the keys
    taken in turn: an INSERT first for each key, then MODIFYs that change a value, and a
    REMOVE and a new INSERT now and then."""
    state = {}
    batches = []
    n = 0
    for b in range(BATCHES):
        records = []
        for r in range(BATCH_RECORDS):
            key = KEYS[(n * 3 + b) % len(KEYS)]
            old = state.get(key)
            if old is None:
                name, new = "INSERT", {"pk": {"S": key}, "v": {"N": str(n)}}
            elif n % 11 == 7:
                name, new = "REMOVE", None
            else:
                name, new = "MODIFY", dict(old, v={"N": str(n)}, note={"S": f"change {n}"})
            ddb = {
                "ApproximateCreationDateTime": TIME_BASE + n,
                "Keys": {"pk": {"S": key}},
                "SequenceNumber": str(SEQ_BASE + n),
                "SizeBytes": 40,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            }
            if old is not None:
                ddb["OldImage"] = old
            if new is not None:
                ddb["NewImage"] = new
            records.append({
                "eventID": f"e{n}",
                "eventName": name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": base.REGION,
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/Src/stream/"
                                  "2024-05-01T00:00:00.000",
                "dynamodb": ddb,
            })
            state[key] = new
            n += 1
        batches.append(records)
    return batches


# ---- the suite -------------------------------------------------------------------------------


class Suite:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.moto = None
        self.aws = None

    def setup(self):
        self.moto = base.Moto(self.workdir)
        self.moto.start()
        self.aws = base.Aws(self.moto)
        self.aws.setup()
        ddb = self.ddb()
        ddb.create_table(TableName=DETAILED_TABLE, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])

    def teardown(self):
        if self.moto is not None:
            self.moto.stop()

    def ddb(self):
        return self.aws.client("dynamodb", self.aws.key_id, self.aws.secret)

    def env(self):
        return dict(os.environ, AWS_ACCESS_KEY_ID=self.aws.key_id,
                    AWS_SECRET_ACCESS_KEY=self.aws.secret, AWS_REGION=base.REGION,
                    AWS_MAX_ATTEMPTS="3")

    def run(self, *args):
        cmd = [self.args.chain_batches, "--endpoint", self.moto.endpoint] + list(args)
        proc = subprocess.run(cmd, capture_output=True, timeout=RUN_TIMEOUT, env=self.env())
        lines = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines() if line]
        return proc.returncode, lines, proc.stderr.decode("utf-8", "replace")

    def write_event(self, name, records):
        path = os.path.join(self.workdir, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"Records": records}, f)
        return path

    def scan(self, table):
        ddb = self.ddb()
        items, start = [], None
        while True:
            kwargs = {"TableName": table, "ConsistentRead": True}
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = ddb.scan(**kwargs)
            items.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    def chain_over_batches(self, table, fmt, api):
        """The invocations, in the order a stream might give them, then verify."""
        batches = make_batches()
        paths = [self.write_event(f"{table}-b{i}.json", b) for i, b in enumerate(batches)]
        tail = self.write_event(f"{table}-b2-tail.json", batches[2][5:])
        late = self.write_event(f"{table}-b1-late.json", batches[1][3:])
        order = [
            (paths[0], 0), (paths[1], 0), (paths[1], BATCH_RECORDS),  # whole batch again
            (paths[2], 0), (tail, BATCH_RECORDS - 5),                # its tail again
            (paths[3], 0), (late, BATCH_RECORDS - 3),                # an old tail, late
            (paths[4], 0),
        ]
        rc, lines, err = self.run("process", table, fmt, api, *[p for p, _ in order])
        results = [line for line in lines if "outcome" in line]
        anchors = [line for line in lines if line.get("message") == "chain heads"]
        check(rc == 0, f"process exited {rc}: {err.strip()[-600:]}\n{results}")
        check(len(results) == len(order), f"{len(results)} results for {len(order)} events")
        moved = 0
        for (path, skipped), res in zip(order, results):
            st = res["stats"]
            check(res["outcome"] == "complete", f"{path}: {res}")
            check(st["chain_skipped"] == skipped,
                  f"{os.path.basename(path)}: skipped {st['chain_skipped']}, want {skipped}")
            check(st["requests_batch_get"] >= 1, f"{path}: heads not read: {st}")
            check(st["chain_condition_retries"] == 0, f"{path}: condition retries: {st}")
            if skipped == st["records"]:
                check(st["chain_heads_moved"] == 0 and st["requests_put_item"] == 0 and
                      st["requests_batch_write"] == 0, f"{path}: a redelivery wrote: {st}")
            moved += st["chain_heads_moved"]
        anchored = sum(len(a["heads"]) for a in anchors)
        check(anchored == moved, f"{anchored} anchors for {moved} heads moved")
        anchor_keys = {h["historyKey"] for a in anchors for h in a["heads"]}
        check(len(anchor_keys) == len(KEYS), f"anchors name {len(anchor_keys)} keys")
        check(any('4 \u00e9' in k for k in anchor_keys), f"no anchor of the quoted key: "
              f"{sorted(anchor_keys)}")
        anchors_path = os.path.join(self.workdir, f"{table}-anchors.jsonl")
        with open(anchors_path, "w", encoding="utf-8") as f:
            for a in anchors:
                f.write(json.dumps(a) + "\n")

        rc, lines, err = self.run("verify", table, anchors_path)
        summary = lines[-1] if lines else {}
        check(rc == 0 and summary.get("ok") is True,
              f"verify exited {rc}: {err.strip()[-600:]}\n" + "\n".join(map(json.dumps, lines)))
        records = BATCHES * BATCH_RECORDS
        check(summary["keys"] == len(KEYS), f"verify: {summary}")
        check(summary["entries"] == records, f"verify: {summary['entries']} entries, want "
              f"{records}")
        check(summary["heads"] == len(KEYS), f"verify: {summary}")
        check(summary["anchors"] == anchored, f"verify checked {summary['anchors']} anchors "
              f"of {anchored}")

        # One linear chain per key: every record's chainPrev is used once, and the heads'
        # entries add up to the records.
        items = self.scan(table)
        heads = [it for it in items if "chainOf" in it]
        check(sum(int(h["entries"]["N"]) for h in heads) == records,
              f"heads count {[h['entries']['N'] for h in heads]} entries, want {records}")
        links = {}
        for it in items:
            if "historyKey" not in it:
                continue
            check("chain" in it, f"item {it['id']['S']} has no chain fields")
            links.setdefault((it["historyKey"]["S"], it["chainPrev"]["S"]),
                             set()).add(it["historySort"]["S"])
        twice = [k for k, v in links.items() if len(v) > 1]
        check(not twice, f"links made twice: {twice[:3]}")
        check(len(links) == records, f"{len(links)} links for {records} records")

        # A value changed afterwards is caught, named by its record's sequence number.
        victim = next(it for it in items if "historyKey" in it and
                      it["historySort"]["S"].endswith(str(SEQ_BASE + 20)))
        victim = dict(victim, tampered={"S": "yes"})
        self.ddb().put_item(TableName=table, Item=victim)
        rc, lines, err = self.run("verify", table)
        bad = [line for line in lines if line.get("ok") is False and "problems" in line]
        check(rc == 1 and len(bad) == 1, f"verify after a change exited {rc}: {lines}")
        kinds = {(p["kind"], p.get("sequenceNumber")) for p in bad[0]["problems"]}
        check(("altered", str(SEQ_BASE + 20)) in kinds or
              ("altered", "%040d" % (SEQ_BASE + 20)) in kinds, f"problems: {kinds}")
        return (f"{len(order)} invocations, {records} records, {moved} heads moved and "
                f"anchored, redeliveries skipped, a change caught")

    def test_chain_classic_put_item(self):
        return self.chain_over_batches(base.TABLE, "classic", "PutItem")

    def test_chain_detailed_batch_write(self):
        return self.chain_over_batches(DETAILED_TABLE, "detailed", "BatchWriteItem")

    TESTS = ["test_chain_classic_put_item", "test_chain_detailed_batch_write"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chain-batches", required=True, help="the chain_batches program")
    ap.add_argument("--keep-logs", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, raise_exit)
    t0 = time.monotonic()
    passed = failed = 0
    workdir = tempfile.mkdtemp(prefix="auditstream-chain.")
    suite = Suite(args, workdir)
    try:
        setup_error = None
        if not os.access(args.chain_batches, os.X_OK):
            setup_error = f"{args.chain_batches} is not an executable (build it first)"
        else:
            try:
                suite.setup()
            except Exception as e:  # noqa: BLE001 - any setup failure fails every test
                setup_error = f"setup failed: {type(e).__name__}: {e}"
        if setup_error is not None:
            print(f"chain integration: SETUP FAILED: {setup_error}", flush=True)
        for name in Suite.TESTS:
            if setup_error is not None:
                print(f"FAIL {name}: not run: setup failed (see above)", flush=True)
                failed += 1
                continue
            start = time.monotonic()
            try:
                note = getattr(suite, name)()
                print(f"ok   {name} ({time.monotonic() - start:.1f} s): {note}", flush=True)
                passed += 1
            except TestFailure as e:
                print(f"FAIL {name} ({time.monotonic() - start:.1f} s): {e}", flush=True)
                failed += 1
            except Exception:  # noqa: BLE001 - a broken test is a failed test
                print(f"FAIL {name}: {traceback.format_exc()}", flush=True)
                failed += 1
    finally:
        suite.teardown()
        if args.keep_logs or failed:
            print(f"chain integration: work folder kept in {workdir}")
        else:
            for n in os.listdir(workdir):
                os.unlink(os.path.join(workdir, n))
            os.rmdir(workdir)
    print(f"chain integration: total {time.monotonic() - t0:.1f} s")
    print(f"chain integration: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
