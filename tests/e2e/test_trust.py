#!/usr/bin/env python3
# End-to-end tests of trusting the trail: the packaged function with AUDIT_CHAIN=on, the
# actor, retention and redaction settings, in both formats, then `auditstream verify`.
"""Run: test_trust.py --zip dist/audit_producer-x86_64.zip --cli build/auditstream

moto with SigV4 verification on, as tests/e2e/test_e2e.py sets it up (tests/e2e/harness.py),
with the roles Terraform gives the chain: the function may PutItem and BatchGetItem
(and BatchWriteItem), the trail's readers Query, GetItem, BatchGetItem, DescribeTable and
Scan. Four Configuration items live a scripted life through boto3; every write names its
caller in `updatedBy` and holds secrets in `secret` (S) and `apiToken` (M). One item's
records are delivered dated three days earlier (so that its entries are past their
retention), and the last record of another is made invalid (an empty number set) with its
secrets still in it.

The packaged bootstrap runs with AUDIT_CHAIN=on, AUDIT_ACTOR_ATTRIBUTE=updatedBy,
AUDIT_RETENTION_DAYS=1, AUDIT_REDACT_ATTRIBUTES=secret,apiToken and a redaction key,
once per format, behind a fault proxy that forwards every byte unchanged (moto checks the
signature over the Host header as received) unless told to refuse the chain heads'
PutItem (the detailed function writes its items with BatchWriteItem, the classic one with
PutItem). The records go in batches, with redeliveries: a whole batch again, the tail of a
batch, a batch whose head writes were all refused and one whose one head write was
refused, each redelivered as Lambda would (from the reported record, or whole after an
invocation error). Then, recomputed here from the rules alone (tests/support/canonical.py
for the canonical form, hashlib for the rest): one linear chain per key, every audited
record once, no link twice, heads at the last entry, each logged anchor on the chain (as
many as the summaries' and metrics' heads moved), the actor, expiresAt and every redacted
value's HMAC; the items, less their chain fields, exactly what tests/golden/audit_model.py
computes; and `auditstream verify --all` (with
and without the logged `chain heads` lines as anchors) is ok.

Then the trail is tampered with, each case on its own and put back after it: a value
changed in a middle entry (altered, and anchor where its head was logged), a middle entry
deleted (missing), the last entry deleted (head), a forged entry slipped in with a correct
link to the entry before it (missing, at the entry after it), the head rolled back (head),
a middle entry's actor rewritten with the chain after it and the head (ok without
anchors, `anchor` with them); numbers and sets
rewritten the way DynamoDB stores them still verify; entries removed once past their
expiresAt are `expired` and ok, removed early `missing`. Every problem is checked for its
kind and sequence number in `verify --json` (continuity problems aside, which the
tampering may add). docs/trust.md's page of Python, copied out of the page, checks the
real trails too. Last, nothing the run logged (the function's
standard output and error, the stand-in's log, what the function posted to it) holds a
redacted value or the redaction key (its base64, hex or bytes).

Ends with "trust: N passed, N failed"; exits 1 when anything failed. A setup failure fails
every test: none is skipped.
"""

import argparse
import base64
import calendar
import decimal
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import time
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the tree
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "support"))
sys.path.insert(0, os.path.join(TOP, "tests", "golden"))

from canonical import canonical_image, canonical_value  # noqa: E402
from harness import (ACCOUNT, CONFIG_TABLE, NAMESPACE, Aws, FaultProxy,  # noqa: E402
                     Function, Moto, Task, TRAIL_READER_ACTIONS, canon, lambda_event,
                     lambda_record, policy)
from test_e2e import TestFailure, check, run_suite  # noqa: E402
from test_trail import Cli, same_item, to_boto  # noqa: E402

AUDIT_CLASSIC = "AuditTrust"
AUDIT_DETAILED = "AuditTrustDetailed"
BATCH = 5
GAP = 0.012                       # seconds between writes: distinct milliseconds
RETENTION_DAYS = 1
SHIFT_S = 3 * 86400               # K_OLD's records are dated this much earlier
ZEROS = "0" * 64
CHAIN_FIELDS = ("chainPrev", "chain", "chainPrevTime")
# 40 bytes, so that its base64 and hex are long enough to be found wherever they leak.
REDACT_KEY = hashlib.sha256(b"libauditstream e2e redaction key").digest() + b"\x00\x7f\xfe-key"
K_A = "db/primary"
K_B = "FEATURE_FLAGS"
K_C = "Clé ünïcode"
K_OLD = "LEGACY_TIMEOUT"
KEYS = (K_A, K_B, K_C, K_OLD)
PRODUCER_ACTIONS = ["dynamodb:PutItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
# The detailed function writes its items with BatchWriteItem (the heads always go by
# PutItem): the chain over both write paths.
WRITE_API = {"classic": "PutItem", "detailed": "BatchWriteItem"}
READER_ACTIONS = sorted(set(TRAIL_READER_ACTIONS) | {"dynamodb:BatchGetItem"})


def hk(key):
    return f"{CONFIG_TABLE}/{key}"


def head_id(history_key):
    return str(uuid.uuid5(NAMESPACE, "chain/" + history_key))


def sha_hex(data):
    return hashlib.sha256(data).hexdigest()


def plain_seq(seq):
    """A sequence number without the chain's padding (as the stream gave it)."""
    return str(seq).lstrip("0") or "0"


def strip_chain(item):
    return {k: v for k, v in item.items() if k not in CHAIN_FIELDS}


def record_digest(items):
    """d: SHA-256 of the canonical forms of the record's items without their chain
    fields, sorted by id, each followed by a newline."""
    forms = sorted((it["id"]["S"].encode("utf-8"), canonical_image(strip_chain(it)))
                   for it in items)
    return hashlib.sha256(b"".join(form + b"\n" for _, form in forms)).digest()


def link(prev, items):
    return sha_hex((prev + record_digest(items).hex()).encode("ascii"))


def epoch_s(iso):
    return calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S"))


def secret_text(rng, label):
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return f"sk_{label}_" + "".join(rng.choice(alphabet) for _ in range(24))


# ---- the scripted life -----------------------------------------------------------------


def script(rng):
    """The writes, interleaved over the keys: [(key, kind, arguments)], kind put, update,
    delete; every put and update names its caller in updatedBy. Numbers and sets are
    written in the shapes DynamoDB later rewrites (1.50, 1E3, 0.250)."""
    users = ["alice@example.com", "bob@example.com", "ci-deploy"]
    n = lambda x: {"N": x}  # noqa: E731
    s = lambda x: {"S": x}  # noqa: E731

    def full(key, value, who):
        return ("put", {"key": s(key), "value": n(value), "ratio": n("1.50"),
                        "tags": {"SS": ["ttl", "cache"]},
                        "weights": {"NS": ["0.250", "1E3", "2"]},
                        "limits": {"M": {"min": n("60"), "max": n("86400")}},
                        "secret": s(secret_text(rng, "pw")),
                        "apiToken": {"M": {"token": s(secret_text(rng, "tok")),
                                           "scope": s("read")}},
                        "updatedBy": s(who)})

    def upd(expr, values, names=None):
        return ("update", {"UpdateExpression": expr, "ExpressionAttributeValues": values,
                           "ExpressionAttributeNames": names})

    def life(key, steps, offset):
        out = [full(key, "3600", users[0])]
        for i in range(steps):
            who = s(users[(i + 1) % len(users)])
            pick = (i + offset) % 6  # keys at different steps: batches mix kinds
            if pick == 0:
                out.append(upd("SET #v = :v, updatedBy = :u",
                               {":v": n(str(rng.randint(1, 9999))), ":u": who}, {"#v": "value"}))
            elif pick == 1:
                out.append(upd("SET secret = :x, updatedBy = :u",
                               {":x": s(secret_text(rng, "pw")), ":u": who}))
            elif pick == 2:
                out.append(upd("SET limits.#m = :m, apiToken.#t = :t, updatedBy = :u ADD tags :g",
                               {":m": n(str(rng.randint(1, 99))),
                                ":t": s(secret_text(rng, "tok")), ":u": who,
                                ":g": {"SS": [f"t{i}"]}}, {"#m": "max", "#t": "token"}))
            elif pick == 3:
                # the same number in other words: moto still emits a MODIFY, with equal
                # images, which yields no item and so no chain entry
                out.append(upd("SET ratio = :r", {":r": n("1.5")}))
            elif pick == 4:
                out.append(upd("SET #v = :v, ratio = :r, updatedBy = :u",
                               {":v": n(str(rng.randint(1, 9999))), ":r": n("2.50"),
                                ":u": who}, {"#v": "value"}))
            else:
                out.append(upd("SET note = :o, updatedBy = :u REMOVE limits.#m",
                               {":o": s(f"step {i}"), ":u": who}, {"#m": "min"}))
        return out

    lives = {K_A: life(K_A, 11, 0), K_B: life(K_B, 4, 1), K_C: life(K_C, 7, 2),
             K_OLD: life(K_OLD, 5, 4)}
    # K_B is deleted (its last writer named) and created again
    lives[K_B] += [("delete", None), full(K_B, "60", users[2])] + life(K_B, 3, 3)[1:]
    out = []
    while any(lives.values()):
        for key in KEYS:
            if lives[key]:
                kind, args = lives[key].pop(0)
                out.append((key, kind, args))
    return out


def secrets_of(value, out):
    """Every string inside a value (the leaves of a redacted attribute)."""
    ((tag, body),) = value.items()
    if tag == "S":
        out.add(body)
    elif tag == "M":
        for v in body.values():
            secrets_of(v, out)
    elif tag == "L":
        for v in body:
            secrets_of(v, out)
    elif tag == "SS":
        out.update(body)
    return out


def secrets_in(value):
    """The secrets a redacted value holds: its strings made by secret_text (the others,
    such as a scope "read", are too common to look for)."""
    return {s for s in secrets_of(value, set()) if s.startswith("sk_")}


# ---- the suite -------------------------------------------------------------------------


class Suite:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.moto = None
        self.functions = []
        self.proxies = []
        self.cli = None
        self.chains = {}     # table -> {historyKey: [entry]} as the deliveries left them
        self.anchor_files = {}
        self.anchor_docs = {}
        self.posts = {}          # function name -> what it posted to its stand-in (JSON)

    # -- setup -------------------------------------------------------------------------

    def setup(self):
        t0 = time.monotonic()
        self.task = Task(self.args.zip, self.workdir)
        self.moto = Moto(self.workdir)
        self.moto.start()
        self.aws = Aws(self.moto)
        self.aws.setup()
        self.producer, self.reader = self.chain_roles()
        self.ddb = self.aws.client("dynamodb", self.aws.admin)
        self.stream_arn = self.aws.create_table(CONFIG_TABLE, "key", stream=True)
        self.live()
        raw = self.aws.read_stream(self.stream_arn)
        self.records = self.deliverable([lambda_record(r, self.stream_arn) for r in raw])
        self.cli = Cli(os.path.abspath(self.args.cli), self.moto.endpoint, self.workdir)
        print(f"trust: setup in {time.monotonic() - t0:.1f} s: {len(self.records)} records "
              f"on {len(KEYS)} keys", flush=True)

    def chain_roles(self):
        """The function's role and the trail readers' role as Terraform makes them with
        the chain on, assumed with a session token."""
        self.moto.set_auth(False)
        iam = self.aws.client("iam", ("setup", "setup"))
        admin_arn = f"arn:aws:iam::{ACCOUNT}:user/e2e-admin"
        arns = {}
        for name, actions in (("chain-producer", PRODUCER_ACTIONS),
                              ("chain-reader", READER_ACTIONS)):
            arns[name] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": admin_arn},
                     "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
            iam.put_role_policy(RoleName=name, PolicyName="function",
                                PolicyDocument=policy(actions))
        self.moto.set_auth(True)
        self.aws.check_auth_on()
        sts = self.aws.client("sts", self.aws.admin)
        return (self.aws.assume(sts, arns["chain-producer"]),
                self.aws.assume(sts, arns["chain-reader"]))

    def get(self, key):
        return self.aws.call("DynamoDB_20120810.GetItem", {
            "TableName": CONFIG_TABLE, "Key": {"key": {"S": key}},
            "ConsistentRead": True}).get("Item")

    def live(self):
        rng = random.Random(12)
        self.secrets = set()
        for key, kind, args in script(rng):
            if kind == "put":
                for name in ("secret", "apiToken"):
                    self.secrets |= secrets_in(args[name])
                self.ddb.put_item(TableName=CONFIG_TABLE, Item=to_boto(args))
            elif kind == "delete":
                self.ddb.delete_item(TableName=CONFIG_TABLE, Key={"key": {"S": key}})
            else:
                call = {"TableName": CONFIG_TABLE, "Key": {"key": {"S": key}},
                        "UpdateExpression": args["UpdateExpression"],
                        "ExpressionAttributeValues": to_boto(args["ExpressionAttributeValues"])}
                if args["ExpressionAttributeNames"]:
                    call["ExpressionAttributeNames"] = args["ExpressionAttributeNames"]
                for v in args["ExpressionAttributeValues"].values():
                    if "S" in v and v["S"].startswith("sk_"):
                        self.secrets.add(v["S"])
                self.ddb.update_item(**call)
            time.sleep(GAP)

    def deliverable(self, records):
        """K_OLD's records dated SHIFT_S earlier; K_C's last record made invalid (an empty
        number set in its NewImage), its secrets kept in it."""
        out = []
        for r in records:
            key = r["dynamodb"]["Keys"]["key"]["S"]
            if key == K_OLD:
                acdt = decimal.Decimal(str(r["dynamodb"]["ApproximateCreationDateTime"]))
                r["dynamodb"]["ApproximateCreationDateTime"] = \
                    type(r["dynamodb"]["ApproximateCreationDateTime"])(str(acdt - SHIFT_S))
            out.append(r)
        last_c = [r for r in out if r["dynamodb"]["Keys"]["key"]["S"] == K_C][-1]
        check(last_c["eventName"] == "MODIFY" and "secret" in last_c["dynamodb"]["NewImage"],
              f"K_C's last record: {last_c['eventName']}")
        last_c["dynamodb"]["NewImage"]["weights"] = {"NS": []}
        self.invalid_seq = last_c["dynamodb"]["SequenceNumber"]
        return out

    def teardown(self):
        for fn in self.functions:
            fn.stop()
        for p in self.proxies:
            p.stop()
        if self.moto is not None:
            self.moto.stop()

    # -- helpers -----------------------------------------------------------------------

    def function(self, name, table, fmt, endpoint):
        creds = self.producer
        env = {"AUDIT_TABLE": table, "AUDIT_FORMAT": fmt, "AUDIT_CHAIN": "on",
               "AUDIT_ACTOR_ATTRIBUTE": "updatedBy",
               "AUDIT_RETENTION_DAYS": str(RETENTION_DAYS),
               "AUDIT_REDACT_ATTRIBUTES": "secret, apiToken",
               "AUDIT_REDACT_KEY": base64.b64encode(REDACT_KEY).decode(),
               "AWS_ACCESS_KEY_ID": creds[0], "AWS_SECRET_ACCESS_KEY": creds[1],
               "AWS_SESSION_TOKEN": creds[2], "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
               "AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "DEBUG",
               "AWS_MAX_ATTEMPTS": "2", "AUDIT_WRITE_API": WRITE_API[fmt]}
        fn = Function(self.task, self.workdir, name, env)
        self.functions.append(fn)
        return fn

    @staticmethod
    def key_of(r):
        return r["dynamodb"]["Keys"]["key"]["S"]

    def audited(self, key):
        """The sequence numbers of `key`'s records that yield items (so chain entries), in
        stream order: all but the MODIFYs with DynamoDB-equal images."""
        out = []
        for r in self.records:
            if self.key_of(r) != key:
                continue
            d = r["dynamodb"]
            if r["eventName"] == "MODIFY" and d["SequenceNumber"] != self.invalid_seq and \
                    same_item(d["OldImage"], d["NewImage"]):
                continue
            out.append(d["SequenceNumber"])
        return out

    def call(self, target, body):
        return self.aws.call("DynamoDB_20120810." + target, body)

    def put(self, table, item):
        self.call("PutItem", {"TableName": table, "Item": item})

    def delete(self, table, item_id):
        self.call("DeleteItem", {"TableName": table, "Key": {"id": {"S": item_id}}})

    def trail(self, table, key):
        """`key`'s entries read back now: [{seq, sort, time, items}] in historySort
        order, and its head item (or None)."""
        items, start = [], None
        while True:
            body = {"TableName": table, "IndexName": "history",
                    "KeyConditionExpression": "historyKey = :k",
                    "ExpressionAttributeValues": {":k": {"S": hk(key)}}}
            if start:
                body["ExclusiveStartKey"] = start
            page = self.call("Query", body)
            items.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        entries = []
        for it in items:
            sort = it["historySort"]["S"]
            if not entries or entries[-1]["sort"] != sort:
                entries.append({"sort": sort, "seq": sort.rsplit("/", 1)[1],
                                "time": it["modificationTime"]["S"], "items": []})
            entries[-1]["items"].append(it)
        for e in entries:
            e["chain"] = e["items"][0].get("chain", {}).get("S")
        head = self.call("GetItem", {"TableName": table, "ConsistentRead": True,
                                     "Key": {"id": {"S": head_id(hk(key))}}}).get("Item")
        return entries, head

    # -- delivery as Lambda does it ------------------------------------------------------

    def invoke(self, fn, records, what):
        post = fn.invoke(lambda_event(records))
        summary = [line for line in fn.log_lines()
                   if str(line.get("message", "")).startswith("batch ")]
        check(summary, f"{what}: no summary line: {fn.log_tail()}")
        return post, summary[-1]

    @staticmethod
    def complete(post):
        return post["kind"] == "response" and post["json"] == {"batchItemFailures": []}

    def deliver_until_done(self, fn, records, what, notes):
        """Redelivers as Lambda does until the batch is done: from the reported record
        after a partial response, the whole batch after an invocation error."""
        pending = records
        for attempt in range(4):
            post, summary = self.invoke(fn, pending, f"{what} (attempt {attempt + 1})")
            if self.complete(post):
                return summary
            pending, start = redelivered(post, pending, what)
            if start is not None:
                notes.append(f"partial from {pending[0]['dynamodb']['SequenceNumber']}")
            else:
                notes.append(f"error {post['json'].get('errorType') if post['json'] else ''}")
        raise TestFailure(f"{what}: not done after 4 deliveries: {fn.log_tail()}")

    def deliver(self, table, fmt):
        """The records in batches to a function behind a fault proxy, with the four
        redeliveries; returns notes."""
        self.aws.create_table(table, "id", history=True)
        proxy = FaultProxy(self.moto.port)
        self.proxies.append(proxy)
        fn = self.function(f"trust-{fmt}", table, fmt, proxy.endpoint)
        batches = [self.records[i:i + BATCH] for i in range(0, len(self.records), BATCH)]
        check(len(batches) >= 6, f"{len(batches)} batches")
        notes = []
        for bi, batch in enumerate(batches):
            what = f"{fmt} batch {bi}"
            if bi == 3:
                proxy.fail = [b'"chainOf"']
                post, summary = self.invoke(fn, batch, what + " (every head refused)")
                proxy.fail = []
                check(proxy.hits.get(b'"chainOf"', 0) >= 1 and not self.complete(post),
                      f"{what}: head writes refused {proxy.hits}, answer {post['body']}")
                refused = proxy.hits.get(b'"chainOf"')
                notes.append(f"batch {bi}: {refused} head writes refused")
                self.redeliver_after_fault(fn, batch, post, what, notes)
                continue
            if bi == 4:
                # an ASCII key, so that the match holds however the function escapes text
                key = next(self.key_of(r) for r in batch[1:] if self.key_of(r) != K_C and
                           r["dynamodb"]["SequenceNumber"] in self.audited(self.key_of(r)))
                match = f'"chainOf":{{"S":{json.dumps(hk(key), ensure_ascii=False)}}}'.encode()
                proxy.fail = [match]
                post, summary = self.invoke(fn, batch, what + f" ({key}'s head refused)")
                proxy.fail = []
                check(proxy.hits.get(match, 0) >= 1 and not self.complete(post),
                      f"{what}: {key}'s head write refused {proxy.hits.get(match, 0)} times "
                      f"(the match is {match!r}), answer {post['body']}")
                notes.append(f"batch {bi}: {key}'s head refused")
                self.redeliver_after_fault(fn, batch, post, what, notes)
                continue
            post, summary = self.invoke(fn, batch, what)
            check(self.complete(post), f"{what}: {post['kind']} {post['body']}: {fn.log_tail()}")
            if bi == 1:
                post, again = self.invoke(fn, batch, what + " redelivered whole")
                check(self.complete(post) and self.skipped_all(again, batch),
                      f"{what} redelivered whole: {post['body']}, summary {again}")
                notes.append(f"batch 1 again: {again.get('chain_skipped')} records skipped")
            if bi == 2:
                tail = batch[-2:]
                post, again = self.invoke(fn, tail, what + "'s tail redelivered")
                check(self.complete(post) and self.skipped_all(again, tail),
                      f"{what}'s tail redelivered: {post['body']}, summary {again}")
                notes.append(f"batch 2's tail again: {again.get('chain_skipped')} skipped")
        check(not proxy.errors, f"the proxy: {proxy.errors}")
        self.posts[fn.name] = json.dumps(fn.standin.results()).encode()
        fn.stop()
        self.anchor_files[table] = self.anchors(fn, table)
        return fn, notes

    def skipped_all(self, summary, records):
        """A redelivery of chained records: each skipped, no write request, no head moved."""
        entries = sum(r["dynamodb"]["SequenceNumber"] in self.audited(self.key_of(r))
                      for r in records)
        return (entries >= 1 and summary.get("chain_skipped") == entries and
                summary.get("requests") == 0 and summary.get("requests_put_item") == 0 and
                summary.get("requests_batch_write") == 0 and summary.get("chain_heads_moved") == 0)

    def redeliver_after_fault(self, fn, batch, post, what, notes):
        rest, start = redelivered(post, batch, what)
        if start is not None:
            notes.append(f"partial from record {start} of {len(batch)}")
        else:
            notes.append(f"invocation error {(post['json'] or {}).get('errorType')}")
        summary = self.deliver_until_done(fn, rest, what + " redelivered", notes)
        check(summary.get("chain_heads_moved", 0) >= 1, f"{what}: no head moved: {summary}")

    def anchors(self, fn, table):
        """The function's `chain heads` lines, as they were logged, into a file."""
        path = os.path.join(self.workdir, f"{table}.anchors")
        lines = []
        with open(fn.out_path, encoding="utf-8") as f:
            for line in f:
                try:
                    doc = json.loads(line)
                except ValueError:
                    continue
                if doc.get("message") == "chain heads":
                    lines.append(line if line.endswith("\n") else line + "\n")
        check(lines, f"{fn.name}: no `chain heads` line logged")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(lines)
        self.anchor_docs[table] = [json.loads(line) for line in lines]
        return path

    # -- the chain, recomputed -------------------------------------------------------------

    def check_chain(self, table, key):
        """`key`'s trail is one linear chain of its audited records, recomputed here, and
        its head is at the last entry. Returns the entries."""
        entries, head = self.trail(table, key)
        what = f"{table} {key}"
        want = [s.zfill(40) for s in self.audited(key)]
        got = [e["seq"] for e in entries]
        check(got == want, f"{what}: entries for {len(got)} records {got[:3]}.., "
              f"audited {len(want)} {want[:3]}..")
        prev, prev_time, seen = ZEROS, None, set()
        for e in entries:
            fields = {(it.get("chainPrev", {}).get("S"), it.get("chain", {}).get("S"),
                       it.get("chainPrevTime", {}).get("S")) for it in e["items"]}
            check(len(fields) == 1, f"{what} {e['seq']}: items disagree on the link: {fields}")
            ((p, c, pt),) = fields
            check(p == prev, f"{what} {e['seq']}: chainPrev {p}, previous chain {prev}")
            check(pt == prev_time, f"{what} {e['seq']}: chainPrevTime {pt}, expected {prev_time}")
            check(c == link(p, e["items"]), f"{what} {e['seq']}: chain does not follow")
            check(c not in seen, f"{what} {e['seq']}: link {c} twice")
            seen.add(c)
            e["chain"] = c
            prev, prev_time = c, e["time"]
        check(head is not None, f"{what}: no head")
        want_head = {"id": {"S": head_id(hk(key))}, "chainOf": {"S": hk(key)},
                     "chain": {"S": prev}, "chainSeq": {"S": entries[-1]["seq"]},
                     "chainTime": {"S": entries[-1]["time"]}}
        for name, value in want_head.items():
            check(head.get(name) == value,
                  f"{what}: head {name} {head.get(name)}, expected {value}")
        check(decimal.Decimal(head.get("entries", {}).get("N", "-1")) == len(entries),
              f"{what}: head entries {head.get('entries')}, {len(entries)} entries")
        check("historyKey" not in head and "expiresAt" not in head,
              f"{what}: the head has historyKey or expiresAt: {sorted(head)}")
        return entries, head

    def verify(self, table, args, want_rc, anchors=False):
        extra = ["--anchors", self.anchor_files[table]] if anchors else []
        return self.cli.json(["verify"] + args + ["--audit-table", table] + extra, self.reader,
                             want_rc=want_rc)

    def chain_problems(self, line):
        """(kind, sequence number) of every problem but continuity, and how many
        continuity problems there were."""
        probs = line.get("problems", [])
        return (sorted((p.get("kind"), plain_seq(p.get("sequenceNumber", ""))) for p in probs
                       if p.get("kind") != "continuity"),
                sum(p.get("kind") == "continuity" for p in probs))

    def deliver_and_check(self, table, fmt):
        t0 = time.monotonic()
        fn, notes = self.deliver(table, fmt)
        took = time.monotonic() - t0
        self.chains[table] = {}
        for key in KEYS:
            self.chains[table][key] = self.check_chain(table, key)
        # each anchored head lies on the chain recomputed here, at the entry it names
        on_chain = {(hk(k), e["seq"].lstrip("0")): e["chain"]
                    for k in KEYS for e in self.chains[table][k][0]}
        anchored = [h for d in self.anchor_docs[table] for h in d.get("heads", [])]
        for h in anchored:
            where = (h.get("historyKey"), str(h.get("sequenceNumber", "")).lstrip("0"))
            check(on_chain.get(where) == h.get("chain"),
                  f"{table}: the anchor {h} is not on the recomputed chain")
        moved = sum(line.get("chain_heads_moved", 0) for line in fn.log_lines()
                    if str(line.get("message", "")).startswith("batch "))
        check(moved == len(anchored), f"{table}: {moved} heads moved, {len(anchored)} anchored")
        emf = [line for line in fn.log_lines() if "_aws" in line]
        check(len(emf) == len([line for line in fn.log_lines()
                               if str(line.get("message", "")).startswith("batch ")]) and
              sum(line.get("ChainHeadsMoved", 0) for line in emf) == moved and
              sum(line.get("ChainSkipped", 0) for line in emf) >= 1,
              f"{table}: the metrics lines' ChainHeadsMoved and ChainSkipped: "
              f"{[(m.get('ChainHeadsMoved'), m.get('ChainSkipped')) for m in emf]}")
        batch_writes = sum(line.get("requests_batch_write", 0) for line in fn.log_lines()
                           if str(line.get("message", "")).startswith("batch "))
        check((batch_writes > 0) == (WRITE_API[fmt] == "BatchWriteItem"),
              f"{table}: {batch_writes} BatchWriteItem requests with {WRITE_API[fmt]}")
        lines = self.verify(table, ["--all"], 0)
        per_key = {line.get("historyKey"): line for line in lines[:-1]}
        check(sorted(per_key) == sorted(hk(k) for k in KEYS),
              f"verify --all keys {sorted(per_key)}")
        for key in KEYS:
            line = per_key[hk(key)]
            check(line.get("ok") is True and line.get("entries") == len(self.audited(key)) and
                  not line.get("problems"), f"verify {key}: {line}")
        check(lines[-1].get("ok") is True and lines[-1].get("keys") == len(KEYS),
              f"verify --all: {lines[-1]}")
        lines = self.verify(table, ["--all"], 0, anchors=True)
        check(lines[-1].get("ok") is True, f"verify --all --anchors: {lines[-1]}")
        heads = sum(len(d.get("heads", [])) for d in self.anchor_docs[table])
        entries = sum(len(self.audited(k)) for k in KEYS)
        return (f"{WRITE_API[fmt]}: {entries} entries on {len(KEYS)} keys in {took:.1f} s; "
                f"{'; '.join(notes)}; "
                f"verify --all ok, and with {heads} anchored heads")

    def test_deliver_classic(self):
        """Classic: batches with redeliveries (whole, tail, every head refused, one head
        refused) leave one linear chain per key; verify --all ok, with anchors too."""
        return self.deliver_and_check(AUDIT_CLASSIC, "classic")

    def test_deliver_detailed(self):
        """The same in the detailed format, its items written with BatchWriteItem."""
        return self.deliver_and_check(AUDIT_DETAILED, "detailed")

    # -- the trust fields ---------------------------------------------------------------

    def test_trust_fields(self):
        """Both tables: the items less their chain fields are the model's (the same
        settings in tests/golden/audit_model.py); each item's actor is its record's
        updatedBy (the OldImage's for a DELETE, actorSource last-writer), expiresAt =
        floor(modificationTime) + 1 day, and no secret is stored: every redacted value is
        the marker with the HMAC-SHA256 of the value's canonical form under the key, and
        each secret written has its HMAC in some item."""
        self.need_chains()
        by_seq = {r["dynamodb"]["SequenceNumber"].zfill(40): r for r in self.records}
        macs = {}
        for r in self.records:
            if r["dynamodb"]["SequenceNumber"] == self.invalid_seq:
                continue  # its error item stores no value of it
            for side in ("OldImage", "NewImage"):
                for name in ("secret", "apiToken"):
                    v = r["dynamodb"].get(side, {}).get(name)
                    if v is not None:
                        macs[hmac.new(REDACT_KEY, canonical_value(v), hashlib.sha256)
                             .hexdigest()] = name
        counts = []
        for table in (AUDIT_CLASSIC, AUDIT_DETAILED):
            seen_macs, markers = set(), 0
            for key in KEYS:
                entries, _ = self.chains[table][key]
                for e in entries:
                    r = by_seq[e["seq"]]
                    d = r["dynamodb"]
                    for it in e["items"]:
                        text = json.dumps(it, ensure_ascii=False)
                        for sec in self.secrets:
                            check(sec not in text, f"{table}: item {it['id']['S']} holds a secret")
                        secs = epoch_s(it["modificationTime"]["S"])
                        check(it.get("expiresAt") == {"N": str(secs + RETENTION_DAYS * 86400)},
                              f"{table} {e['seq']}: expiresAt {it.get('expiresAt')}")
                        if "error" in it:
                            continue
                        if r["eventName"] == "REMOVE":
                            want = (d["OldImage"]["updatedBy"]["S"], "last-writer")
                        else:
                            want = (d["NewImage"]["updatedBy"]["S"], "item")
                        got = (it.get("actor", {}).get("S"), it.get("actorSource", {}).get("S"))
                        check(got == want, f"{table} {e['seq']}: actor {got}, expected {want}")
                        for m in markers_in(it):
                            markers += 1
                            check(m.get("hmac", {}).get("S") in macs,
                                  f"{table} {e['seq']}: a redacted marker's hmac is no "
                                  f"secret's: {m}")
                            seen_macs.add(m["hmac"]["S"])
            check(seen_macs == set(macs), f"{table}: {len(set(macs) - seen_macs)} secret "
                  f"values have no marker")
            counts.append(f"{table}: {markers} markers, {self.against_model(table)} items "
                          "as the model says")
        return f"{len(macs)} secret values, each found only as its HMAC; " + ", ".join(counts)

    def against_model(self, table):
        """The table's items, less their chain fields, are exactly what the independent
        model (tests/golden/audit_model.py) computes from the records delivered with the
        same settings; an error item's own reason text aside."""
        import audit_model

        fmt = "classic" if table == AUDIT_CLASSIC else "detailed"
        settings = os.path.join(self.workdir, "trust.settings")
        with open(settings, "w", encoding="utf-8") as f:
            f.write("AUDIT_ACTOR_ATTRIBUTE=updatedBy\n"
                    f"AUDIT_RETENTION_DAYS={RETENTION_DAYS}\n"
                    "AUDIT_REDACT_ATTRIBUTES=secret,apiToken\n"
                    f"AUDIT_REDACT_KEY={base64.b64encode(REDACT_KEY).decode()}\n")
        event = os.path.join(self.workdir, f"{table}.event.json")
        with open(event, "wb") as f:
            f.write(lambda_event(self.records))
        want = {}
        for line in audit_model.items(event, fmt, errors={},
                                      trust=audit_model.read_settings(settings)):
            item = json.loads(line.decode("utf-8"))
            want[item["id"]["S"]] = item
        got = {i: strip_chain(it) for i, it in self.aws.scan(table).items()
               if "chainOf" not in it}
        check(sorted(got) == sorted(want), f"{table}: {len(got)} items, the model "
              f"{len(want)}; ids only in the table {sorted(set(got) - set(want))[:2]}, only "
              f"in the model {sorted(set(want) - set(got))[:2]}")
        for i, item in got.items():
            model = want[i]
            if "error" in model:
                check("error" in item, f"{table}: {i} is no error item")
                item, model = dict(item), dict(model)
                item.pop("error")
                model.pop("error")
            check(canon(item) == canon(model),
                  f"{table}: item {i}: {canon(item)[:400]}, the model {canon(model)[:400]}")
        return len(got)

    # -- tampering ----------------------------------------------------------------------

    def need_chains(self):
        check(AUDIT_CLASSIC in self.chains and AUDIT_DETAILED in self.chains,
              "needs test_deliver_classic and test_deliver_detailed first")

    def snapshot(self, table, key):
        entries, head = self.trail(table, key)
        return [it for e in entries for it in e["items"]], head

    def restore(self, table, key, snap):
        items, head = snap
        keep = {it["id"]["S"] for it in items}
        entries, _ = self.trail(table, key)
        for e in entries:
            for it in e["items"]:
                if it["id"]["S"] not in keep:
                    self.delete(table, it["id"]["S"])
        for it in items:
            self.put(table, it)
        self.put(table, head)

    def expect(self, table, key, want, label, want_rc=1, anchors=False):
        """verify KEY --json: exit status `want_rc`, its chain problems exactly `want`
        ([(kind, sequence number)]); returns a note."""
        lines = self.verify(table, [key], want_rc, anchors=anchors)
        check(len(lines) == 2 and lines[0].get("historyKey") == hk(key),
              f"{label}: verify printed {lines}")
        got, continuity = self.chain_problems(lines[0])
        want = sorted((k, plain_seq(s)) for k, s in want)
        check(got == want, f"{label}: problems {lines[0].get('problems')}, expected {want}")
        check(lines[0].get("ok") is (want_rc == 0), f"{label}: ok {lines[0].get('ok')}")
        return f"{label}: {', '.join(k for k, _ in want) or 'ok'}" + \
            (f" (+{continuity} continuity)" if continuity else "")

    def middle(self, entries, fmt):
        """An entry in the middle of the chain whose first item changes `value`."""
        n = len(entries)
        for i in list(range(n // 2, n - 2)) + list(range(1, n // 2)):
            for it in entries[i]["items"]:
                if fmt == "classic" and it.get("updatedAttribute") == {"S": "value"}:
                    return i, it
                if fmt == "detailed" and "value" in it.get("newImage", {}).get("M", {}) and \
                        any(c["M"]["path"]["S"] == "/value" for c in it["changes"]["L"]):
                    return i, it
        raise TestFailure("no middle entry that changes `value`")

    @staticmethod
    def change_value(item, fmt):
        item = json.loads(json.dumps(item))
        target = item["newValue"] if fmt == "classic" else item["newImage"]["M"]["value"]
        target["N"] = str(decimal.Decimal(target["N"]) + 1)
        return item

    def relink(self, entries, start, prev):
        """Recomputes the links of entries[start:] after `prev`, as someone who rewrote
        the chain would; returns the last chain."""
        prev_time = entries[start - 1]["time"] if start > 0 else None
        for e in entries[start:]:
            for it in e["items"]:
                it["chainPrev"] = {"S": prev}
                if prev_time is None:
                    it.pop("chainPrevTime", None)
                else:
                    it["chainPrevTime"] = {"S": prev_time}
            c = link(prev, e["items"])
            for it in e["items"]:
                it["chain"] = {"S": c}
            prev, prev_time = c, e["time"]
        return prev

    def tamper(self, table, fmt):
        key = K_A
        snap = self.snapshot(table, key)
        notes = []

        def case(label, action, want, **kw):
            entries, head = self.trail(table, key)
            try:
                extra = action(entries, head)
                notes.append(self.expect(table, key, want(entries, extra), label, **kw))
            finally:
                self.restore(table, key, snap)

        def altered(entries, head):
            i, it = self.middle(entries, fmt)
            self.put(table, self.change_value(it, fmt))
            return i
        # with the anchors: an anchored head at the altered entry is not on the chain
        # recomputed from its digest either
        case("value changed", altered,
             lambda es, i: [("altered", es[i]["seq"])] + self.anchored_at(table, key, es[i]["seq"]),
             anchors=True)

        def delete_middle(entries, head):
            i, _ = self.middle(entries, fmt)
            for it in entries[i]["items"]:
                self.delete(table, it["id"]["S"])
            return i
        case("middle entry deleted", delete_middle, lambda es, i: [("missing", es[i + 1]["seq"])])

        def delete_last(entries, head):
            for it in entries[-1]["items"]:
                self.delete(table, it["id"]["S"])
        case("last entry deleted", delete_last, lambda es, _: [("head", es[-2]["seq"])])

        def forge(entries, head):
            i = next(j for j in range(len(entries) // 2, len(entries) - 1)
                     if int(entries[j + 1]["seq"]) - int(entries[j]["seq"]) >= 2)
            e = entries[i]
            seq = str(int(e["seq"]) + 1).zfill(40)
            event_id = uuid.uuid4().hex
            forged = []
            for it in e["items"]:
                f = json.loads(json.dumps(it))
                name = it.get("updatedAttribute", {}).get("S")
                f["id"] = {"S": str(uuid.uuid5(NAMESPACE, event_id + (f"/{name}" if name else "")))}
                f["historySort"] = {"S": f"{e['time']}/{seq}"}
                if "sequenceNumber" in f:
                    f["sequenceNumber"] = {"S": plain_seq(seq)}
                forged.append(f)
                # what the forger wants the trail to say: someone else made the change
                f["actor"] = {"S": "mallory@example.com"}
            fake = {"time": e["time"], "items": forged}
            self.relink([e, fake], 1, e["chain"])
            for f in forged:
                self.put(table, f)
            return i
        case("forged entry slipped in", forge, lambda es, i: [("missing", es[i + 1]["seq"])])

        def roll_back(entries, head):
            h = json.loads(json.dumps(head))
            e = entries[-2]
            h["chain"], h["chainSeq"], h["chainTime"] = \
                {"S": e["chain"]}, {"S": e["seq"]}, {"S": e["time"]}
            h["entries"] = {"N": str(len(entries) - 1)}
            self.put(table, h)
        case("head rolled back", roll_back, lambda es, _: [("head", es[-1]["seq"])])

        def rewrite(entries, head):
            # Who made a middle change, rewritten: the one thing continuity cannot see, so
            # that only the chain stands between the trail and the lie.
            i, _ = self.middle(entries, fmt)
            for x in entries[i]["items"]:
                check(x.get("actor", {}).get("S", "mallory@example.com") != "mallory@example.com",
                      f"entry {i} has no actor to rewrite: {sorted(x)}")
                x["actor"] = {"S": "mallory@example.com"}
            last = self.relink(entries, i, entries[i - 1]["chain"] if i else ZEROS)
            for e in entries[i:]:
                for x in e["items"]:
                    self.put(table, x)
            h = json.loads(json.dumps(head))
            h["chain"] = {"S": last}
            self.put(table, h)
            notes.append(self.expect(table, key, [], "chain and head rewritten (no anchors)",
                                     want_rc=0))
            return entries[i]["seq"]

        def anchored(es, seq_i):
            """Every anchored head of the key at or after the rewritten entry."""
            out = []
            for doc in self.anchor_docs[table]:
                for h in doc.get("heads", []):
                    if h.get("historyKey") == hk(key) and \
                            int(h["sequenceNumber"]) >= int(seq_i):
                        out.append(("anchor", h["sequenceNumber"]))
            check(out, "no anchor of the key after the rewritten entry")
            return out
        case("chain and head rewritten, with anchors", rewrite, anchored, anchors=True)
        lines = self.verify(table, ["--all"], 0, anchors=True)
        check(lines[-1].get("ok") is True, f"{table}: after the cases: {lines[-1]}")
        return f"{key}: " + "; ".join(notes)

    def test_tamper_classic(self):
        """Classic: altered, missing (deleted and forged), head (last deleted, head rolled
        back), anchor (a consistent rewrite, ok without anchors), each put back after."""
        self.need_chains()
        return self.tamper(AUDIT_CLASSIC, "classic")

    def test_tamper_detailed(self):
        """The same cases in the detailed format."""
        self.need_chains()
        return self.tamper(AUDIT_DETAILED, "detailed")

    # -- DynamoDB's rewriting, expiry ------------------------------------------------------

    def test_dynamodb_rewrites(self):
        """Both tables: every item of K_A written back the way DynamoDB may return it
        (numbers normalised: 1.50 as 1.5, 1E3 as 1000, 0.250 as 0.25; set members in
        reverse order) still verifies, anchors and all."""
        self.need_chains()
        notes = []
        for table in (AUDIT_CLASSIC, AUDIT_DETAILED):
            snap = self.snapshot(table, K_A)
            changed = 0
            try:
                for it in snap[0]:
                    new = {k: rewrite_value(v) if k not in CHAIN_FIELDS else v
                           for k, v in it.items()}
                    if canon(new) != canon(it):
                        changed += 1
                        self.put(table, new)
                check(changed >= 3, f"{table}: only {changed} items rewritten")
                entries, _ = self.trail(table, K_A)
                texts = json.dumps([e["items"] for e in entries])
                check('"1.50"' not in texts and '"1E3"' not in texts,
                      f"{table}: the rewrite left 1.50 or 1E3")
                notes.append(self.expect(table, K_A, [], f"{table}: {changed} items rewritten",
                                         want_rc=0, anchors=True))
            finally:
                self.restore(table, K_A, snap)
        return "; ".join(notes)

    def test_expired_and_early(self):
        """Both tables: K_OLD's first two entries (dated three days ago, kept one day)
        deleted as TTL would: `expired` at the new first entry, ok, exit 0, anchors and
        all; K_B's first entry deleted although not expired: `missing`, exit 1."""
        self.need_chains()
        notes = []
        for table in (AUDIT_CLASSIC, AUDIT_DETAILED):
            snap = self.snapshot(table, K_OLD)
            try:
                entries, _ = self.trail(table, K_OLD)
                exp = max(int(it["expiresAt"]["N"]) for e in entries[:2] for it in e["items"])
                check(exp < time.time(), f"{table}: K_OLD's entries expire at {exp}, not past")
                for e in entries[:2]:
                    for it in e["items"]:
                        self.delete(table, it["id"]["S"])
                notes.append(self.expect(table, K_OLD, [("expired", entries[2]["seq"])],
                                         f"{table}: 2 expired entries gone", want_rc=0,
                                         anchors=True))
            finally:
                self.restore(table, K_OLD, snap)
            snap = self.snapshot(table, K_B)
            try:
                entries, _ = self.trail(table, K_B)
                check(int(entries[0]["items"][0]["expiresAt"]["N"]) > time.time(),
                      f"{table}: K_B's first entry already expired")
                for it in entries[0]["items"]:
                    self.delete(table, it["id"]["S"])
                notes.append(self.expect(table, K_B, [("missing", entries[1]["seq"])],
                                         f"{table}: first entry removed early"))
            finally:
                self.restore(table, K_B, snap)
        lines = self.verify(AUDIT_CLASSIC, ["--all"], 0)
        check(lines[-1].get("ok") is True, f"after the cases: {lines[-1]}")
        return "; ".join(notes)

    # -- the page of Python in docs/trust.md ---------------------------------------------------

    def test_python_checker(self):
        """docs/trust.md's page of Python (its one python block, as a reader would copy
        it) on the real trails moto holds, as a Scan returns them: both tables whole, with
        the anchors, ok as `auditstream verify` says; K_A with a value changed in the copy
        (altered) and K_OLD without its first two entries (expired, ok), as verify
        reports them."""
        self.need_chains()
        with open(os.path.join(TOP, "docs", "trust.md"), encoding="utf-8") as f:
            page = f.read()
        blocks = page.split("```python\n")
        check(len(blocks) == 2, f"docs/trust.md has {len(blocks) - 1} python blocks, not 1")
        program = os.path.join(self.workdir, "check_chain.py")
        with open(program, "w", encoding="utf-8") as f:
            f.write(blocks[1].split("\n```", 1)[0] + "\n")
        notes = []
        for table in (AUDIT_CLASSIC, AUDIT_DETAILED):
            scan = list(self.aws.scan(table).values())
            lines = self.checker(program, table, scan, 0)
            per_key = {line["historyKey"]: line for line in lines[:-1]}
            check(sorted(per_key) == sorted(hk(k) for k in KEYS) and lines[-1]["ok"] is True,
                  f"{table}: the page says {lines}")
            for key in KEYS:
                check(per_key[hk(key)]["entries"] == len(self.audited(key)),
                      f"{table} {key}: the page counts {per_key[hk(key)]['entries']} entries")
            # K_A with a middle value changed, in the copy only
            entries, _ = self.trail(table, K_A)
            i, it = self.middle(entries, "classic" if table == AUDIT_CLASSIC else "detailed")
            changed = self.change_value(it, "classic" if table == AUDIT_CLASSIC else "detailed")
            copy = [changed if x["id"] == it["id"] else x for x in scan]
            lines = self.checker(program, table, copy, 1)
            line = next(x for x in lines if x.get("historyKey") == hk(K_A))
            got, _ = self.chain_problems(line)
            want = sorted((k, plain_seq(s)) for k, s in [("altered", entries[i]["seq"])] +
                          self.anchored_at(table, K_A, entries[i]["seq"]))
            check(got == want, f"{table}: the page on a changed value: {line}, expected {want}")
            # K_OLD's two first entries gone, past their expiry
            entries, _ = self.trail(table, K_OLD)
            gone = {x["id"]["S"] for e in entries[:2] for x in e["items"]}
            lines = self.checker(program, table, [x for x in scan if x["id"]["S"] not in gone], 0)
            line = next(x for x in lines if x.get("historyKey") == hk(K_OLD))
            got, _ = self.chain_problems(line)
            check(got == [("expired", plain_seq(entries[2]["seq"]))] and line["ok"] is True,
                  f"{table}: the page without expired entries: {line}")
            notes.append(f"{table}: {len(scan)} items ok, altered, expired")
        return "; ".join(notes)

    def anchored_at(self, table, key, seq):
        """[("anchor", seq)] when the function logged `key`'s head at `seq`, else []."""
        for doc in self.anchor_docs[table]:
            for h in doc.get("heads", []):
                if h.get("historyKey") == hk(key) and plain_seq(h["sequenceNumber"]) == \
                        plain_seq(seq):
                    return [("anchor", seq)]
        return []

    def checker(self, program, table, items, want_rc):
        """The page's program on `items` (one JSON object a line) with the table's
        anchors; its exit status must be `want_rc`; its lines."""
        path = os.path.join(self.workdir, f"{table}.items.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for it in items:
                f.write(json.dumps(it, ensure_ascii=False) + "\n")
        p = subprocess.run([sys.executable, program, "--anchors", self.anchor_files[table], path],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == want_rc, f"docs/trust.md's program: exit status {p.returncode}, "
              f"expected {want_rc}: {p.stderr.strip()[-500:]} {p.stdout[-800:]}")
        return [json.loads(line) for line in p.stdout.splitlines()]

    # -- logs -----------------------------------------------------------------------------------

    def test_no_secret_in_logs(self):
        """Every line the run logged (each function's standard output and error, its
        stand-in's log and what the function posted to it) holds no redacted value (each
        secret written, found in the events delivered) and not the redaction key: not its
        base64, its hex (either case) or its bytes."""
        self.need_chains()
        events = lambda_event(self.records)
        for sec in self.secrets:
            check(sec.encode() in events, f"the secret {sec[:6]}.. is not in the events")
        key_b64 = base64.b64encode(REDACT_KEY)
        needles = {"the key's base64": key_b64, "the key's hex": REDACT_KEY.hex().encode(),
                   "the key's HEX": REDACT_KEY.hex().upper().encode(), "the key": REDACT_KEY,
                   "the key's base64 (JSON)": json.dumps(key_b64.decode()).encode()[1:-1]}
        for n, sec in enumerate(sorted(self.secrets)):
            needles[f"secret {n} ({sec[:6]}..)"] = sec.encode()
        logs = 0
        lines = 0
        for fn in self.functions:
            paths = [fn.out_path, fn.err_path, fn.standin.err_path]
            posts = self.posts.get(fn.name, b"")
            check(posts, f"{fn.name}: its posts were not kept")
            blobs = [(p, open(p, "rb").read()) for p in paths] + [(f"{fn.name} posts", posts)]
            for name, blob in blobs:
                logs += 1
                lines += blob.count(b"\n")
                for what, needle in needles.items():
                    check(needle not in blob, f"{name} holds {what}")
        text = b"".join(open(fn.out_path, "rb").read() for fn in self.functions)
        check(b'"chain heads"' in text and b'"level":"ERROR"' in text,
              "the logs lack the chain heads lines or the invalid record's ERROR line")
        return f"{len(needles)} needles in {logs} logs of {lines} lines"

    TESTS = [
        "test_deliver_classic",
        "test_deliver_detailed",
        "test_trust_fields",
        "test_tamper_classic",
        "test_tamper_detailed",
        "test_dynamodb_rewrites",
        "test_expired_and_early",
        "test_python_checker",
        "test_no_secret_in_logs",
    ]


def redelivered(post, batch, what):
    """What Lambda sends again after an incomplete invocation of `batch`: from the one
    reported record after a partial response, the whole batch after an invocation error.
    Returns those records and the reported record's index (None after an error)."""
    if post["kind"] == "response":
        failures = post["json"].get("batchItemFailures", [])
        check(len(failures) == 1, f"{what}: response {post['body']}")
        ident = failures[0]["itemIdentifier"]
        seqs = [r["dynamodb"]["SequenceNumber"] for r in batch]
        check(ident in seqs, f"{what}: itemIdentifier {ident} is not in the batch {seqs}")
        return batch[seqs.index(ident):], seqs.index(ident)
    check(post["kind"] == "error", f"{what}: {post['kind']} {post['body']}")
    return batch, None


def markers_in(value):
    """Every redacted marker ({"redacted": true, ...} map) inside an item or value."""
    out = []
    if isinstance(value, dict):
        if set(value) == {"M"} and value["M"].get("redacted") == {"BOOL": True}:
            out.append(value["M"])
            return out
        for v in value.values():
            out.extend(markers_in(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(markers_in(v))
    return out


def rewrite_value(value):
    """A wire value as DynamoDB may give it back: numbers in their shortest text, set
    members in reverse order."""
    ((tag, body),) = value.items()
    if tag == "N":
        return {"N": normal_number(body)}
    if tag == "NS":
        return {"NS": [normal_number(m) for m in reversed(body)]}
    if tag in ("SS", "BS"):
        return {tag: list(reversed(body))}
    if tag == "M":
        return {"M": {k: rewrite_value(v) for k, v in body.items()}}
    if tag == "L":
        return {"L": [rewrite_value(v) for v in body]}
    return value


def normal_number(text):
    d = decimal.Decimal(text).normalize()
    out = format(d, "f")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zip", required=True, help="the x86_64 Lambda zip (make package)")
    ap.add_argument("--cli", required=True, help="the auditstream command (make)")
    ap.add_argument("--keep-logs", action="store_true", help="keep the work folder")
    ap.add_argument("tests", nargs="*", help="run only these tests (names without test_)")
    return run_suite("trust", Suite, ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
