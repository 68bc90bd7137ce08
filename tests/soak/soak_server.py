#!/usr/bin/env python3
# tests/support/fault_server.py for long runs: a seeded share of PutItem and BatchWriteItem
# requests faulted at random, written ids kept compactly, connections and handshakes counted.
"""Usage: soak_server.py [--fault-share P] [--seed N] [--tls CERT KEY]

Prints "PORT <n>" and serves 127.0.0.1:<n> (HTTPS with --tls) until its parent exits.
Every answer, good or faulted, is fault_server.py's own (its Handler.act, reply and
reply_error): this only chooses the action, and keeps no request bodies, so that a
million requests cost a few tens of MB. A request is faulted with probability P (default
0.05), the fault drawn evenly from the retryable kinds: throttle (ThrottlingException),
500, reset (a TCP reset mid-answer); for BatchWriteItem also unprocessed (a random,
non-empty part of its items returned under UnprocessedItems, all of them one time in
four). A faulted request writes nothing, unprocessed items excepted. A BatchWriteItem is
first checked as DynamoDB checks it (at most 25 items, 16 MB, no id twice): a violation
is a ValidationException, counted in "problems".

Control (never faulted, never counted as DynamoDB requests or their connections):
  GET  /_soak/written?since=N  {"ids": written ids from the N-th on, in order, "total": n}
  GET  /_soak/stats            {"requests": {op: n}, "faults": {kind: n}, "unprocessed": n,
                                "problems": n, "writes": n, "rewrites": n,
                                "connections": accepted, "handshakes": TLS handshakes
                                completed, "handshake_errors": n, "control_connections": n,
                                "ddb_connections": connections that carried a DynamoDB
                                request, "max_inflight": n}
  POST /_soak/reset            forgets the counts and the written ids
  POST /_soak/script JSON      {"fault_share": P, "seed": N, "delay_ms": D}: D delays
                               every DynamoDB answer (default 0)
"""

import argparse
import importlib.util
import json
import os
import random
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "fault_server", os.path.join(HERE, "..", "support", "fault_server.py"))
fault_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fault_server)
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from processes import stop_process  # noqa: E402

PUT_FAULTS = ("throttle", "500", "reset")
BATCH_FAULTS = ("throttle", "500", "reset", "unprocessed")

LOCK = threading.Lock()
SOAK = {}


def reset_soak(share=0.05, seed=1):
    SOAK.clear()
    SOAK.update({"share": share, "rng": random.Random(seed), "delay_ms": 0,
                 "written": [], "seen": set(), "rewrites": 0,
                 "requests": {}, "faults": {}, "unprocessed": 0, "problems": 0,
                 "connections": 0, "handshakes": 0, "handshake_errors": 0,
                 "control_connections": 0, "ddb_connections": 0,
                 "inflight": 0, "max_inflight": 0})


reset_soak()


def record_written(ids):
    """LOCK held."""
    for item_id in ids:
        if item_id in SOAK["seen"]:
            SOAK["rewrites"] += 1
        else:
            SOAK["seen"].add(item_id)
        SOAK["written"].append(item_id)


class Handler(fault_server.Handler):
    # Headers and body go out in two writes: with Nagle's algorithm and the client's
    # delayed ACK each answer would wait 40 ms, and the server, not the client, would be
    # what a run measures.
    disable_nagle_algorithm = True

    def setup(self):
        # The handshake here, in the connection's own thread: made on accept, in the one
        # thread that accepts, handshakes would queue behind each other and a first batch's
        # timing would measure this server.
        if self.server.tls:
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                with LOCK:
                    SOAK["handshake_errors"] += 1
                raise
            with LOCK:
                SOAK["handshakes"] += 1
        super().setup()
        self.kind = None  # "control" or "ddb", from the connection's first request

    def mark(self, kind):
        if self.kind is None:
            self.kind = kind
            with LOCK:
                SOAK[kind + "_connections"] += 1

    def do_GET(self):
        self.mark("control")
        if self.path.startswith("/_soak/written"):
            since = int(self.path.partition("since=")[2] or "0")
            with LOCK:
                ids = SOAK["written"][since:]
                total = len(SOAK["written"])
            self.reply_json({"ids": ids, "total": total})
        elif self.path == "/_soak/stats":
            with LOCK:
                out = {k: v for k, v in SOAK.items() if k not in ("rng", "written", "seen")}
                out["writes"] = len(SOAK["written"])
            self.reply_json(out)
        else:
            self.reply(404, "{}")

    def do_POST(self):
        if self.path.startswith("/_soak/"):
            self.mark("control")
            body = self.read_body()
            if self.path == "/_soak/reset":
                with LOCK:
                    reset_soak(SOAK["share"])
            elif self.path == "/_soak/script":
                doc = json.loads(body)
                with LOCK:
                    if "fault_share" in doc:
                        SOAK["share"] = float(doc["fault_share"])
                    if "seed" in doc:
                        SOAK["rng"] = random.Random(doc["seed"])
                    if "delay_ms" in doc:
                        SOAK["delay_ms"] = int(doc["delay_ms"])
            else:
                self.reply(404, "{}")
                return
            self.reply_json({})
            return
        self.mark("ddb")
        body = self.read_body()
        operation = self.headers.get("X-Amz-Target", "").split(".")[-1]
        with LOCK:
            SOAK["inflight"] += 1
            SOAK["max_inflight"] = max(SOAK["max_inflight"], SOAK["inflight"])
            SOAK["requests"][operation] = SOAK["requests"].get(operation, 0) + 1
            faults = BATCH_FAULTS if operation == "BatchWriteItem" else PUT_FAULTS
            fault = None
            if SOAK["rng"].random() < SOAK["share"]:
                fault = SOAK["rng"].choice(faults)
                SOAK["faults"][fault] = SOAK["faults"].get(fault, 0) + 1
            delay = SOAK["delay_ms"]
        try:
            if delay:
                time.sleep(delay / 1000.0)
            if operation == "BatchWriteItem":
                self.batch(body, fault)
            else:
                self.put(body, fault)
        finally:
            with LOCK:
                SOAK["inflight"] -= 1

    def put(self, body, fault):
        if fault is not None:
            self.act(fault, "", {}, 0)
            return
        try:
            item_id = json.loads(body)["Item"]["id"]["S"]
        except (ValueError, KeyError, TypeError):
            with LOCK:
                SOAK["problems"] += 1
            self.reply_error(400, "ValidationException", "soak_server: no Item.id.S")
            return
        with LOCK:
            record_written([item_id])
        self.reply(200, "{}")

    def batch(self, body, fault):
        try:
            (table, entries), = json.loads(body)["RequestItems"].items()
            ids = [e["PutRequest"]["Item"]["id"]["S"] for e in entries]
        except (ValueError, KeyError, TypeError, AttributeError):
            table, entries, ids = None, [], None
        problem = None
        if ids is None:
            problem = "soak_server: not a BatchWriteItem of one table with S ids"
        elif not 0 < len(ids) <= 25:
            problem = "Too many items requested for the BatchWriteItem call"
        elif len(body) > 16000000:
            problem = "Item collection size limit exceeded: request over 16 MB"
        elif len(set(ids)) != len(ids):
            problem = "Provided list of item keys contains duplicates"
        if problem is not None:
            with LOCK:
                SOAK["problems"] += 1
            self.reply_error(400, "ValidationException", problem)
            return
        if fault is not None and fault != "unprocessed":
            self.act(fault, "", {}, 0)
            return
        left = set()
        if fault == "unprocessed":
            with LOCK:
                rng = SOAK["rng"]
                count = len(ids) if rng.random() < 0.25 else rng.randint(1, len(ids))
                left = set(rng.sample(range(len(ids)), count))
                SOAK["unprocessed"] += len(left)
        with LOCK:
            record_written([i for n, i in enumerate(ids) if n not in left])
        unprocessed = [e for n, e in enumerate(entries) if n in left]
        self.reply(200, json.dumps({"UnprocessedItems": {table: unprocessed} if left else {}}))


class Server(fault_server.Server):
    """Counts accepted connections (the handler counts TLS handshakes)."""

    tls = False
    # socketserver's default backlog is 5: a sixth connection opened at once would have its
    # SYN dropped and retried a second later, a delay of this server, not of the client.
    request_queue_size = 128

    def get_request(self):
        conn = super().get_request()
        with LOCK:
            SOAK["connections"] += 1
        return conn


class Process:
    """This server started from a test or a benchmark: its endpoint, its control calls
    (over TLS with `cafile` when started with `tls`, a (cert, key) pair), and stop(),
    which ends it by its pid."""

    def __init__(self, err_path, share=0.0, seed=1, tls=None, cafile=None):
        self.err = open(err_path, "wb")
        command = [sys.executable, os.path.abspath(__file__), "--fault-share", str(share),
                   "--seed", str(seed)]
        if tls is not None:
            command += ["--tls", tls[0], tls[1]]
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.err)
        line = self.proc.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "PORT":
            self.stop()
            raise RuntimeError(f"soak_server.py did not start: {line}")
        self.port = int(line[1])
        self.endpoint = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.context = ssl.create_default_context(cafile=cafile) if tls else None
        self.seen = 0

    def call(self, method, path, doc=None):
        data = json.dumps(doc).encode() if doc is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=60, context=self.context) as resp:
            return json.loads(resp.read().decode())

    def stats(self):
        return self.call("GET", "/_soak/stats")

    def reset(self):
        self.call("POST", "/_soak/reset", {})
        self.seen = 0

    def new_writes(self):
        """The ids written since the last call."""
        doc = self.call("GET", f"/_soak/written?since={self.seen}")
        self.seen += len(doc["ids"])
        return doc["ids"]

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is not None:
            stop_process(proc)
            proc.stdout.close()
        self.err.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fault-share", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    reset_soak(args.fault_share, args.seed)
    server = Server(("127.0.0.1", 0), Handler)
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*args.tls)
        server.socket = context.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
        server.tls = True
    threading.Thread(target=fault_server.watch_parent, args=(os.getppid(),), daemon=True).start()
    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
