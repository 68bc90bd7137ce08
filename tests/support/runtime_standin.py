#!/usr/bin/env python3
"""A stand-in for the AWS Lambda Runtime API (version 2018-06-01), for tests.

It serves the custom-runtime interface the way AWS documents it, on 127.0.0.1, and
records everything the runtime sends so that a test can check it. Python 3 standard
library only.

Start it, read the first line of its standard output (the port), point the runtime
at it (AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT), queue events through the control API,
read back what the runtime posted, and stop it with SIGTERM (or POST /_test/shutdown):

    python3 tests/support/runtime_standin.py [--port 0] [--max-response BYTES] [-v]

It exits by itself when the process that started it goes away, so a crashed test
leaves nothing behind.

The Runtime API (what a Lambda runtime sees)
--------------------------------------------
GET  /2018-06-01/runtime/invocation/next
    Long poll: blocks until an event is queued (never times out), then answers 200
    with the event as the body and the headers Lambda-Runtime-Aws-Request-Id,
    Lambda-Runtime-Deadline-Ms (absolute, epoch milliseconds), Lambda-Runtime-
    Invoked-Function-Arn, Lambda-Runtime-Trace-Id, and Lambda-Runtime-Client-Context
    / Lambda-Runtime-Cognito-Identity when the event has them. An event is not
    consumed by a client that hung up while waiting.
POST /2018-06-01/runtime/invocation/{id}/response
POST /2018-06-01/runtime/invocation/{id}/error
    202 {"status":"OK"} for a delivered invocation not yet answered. An id that was
    never delivered: 400 (errorType InvalidRequestID). An invocation already answered:
    403 (InvalidStateTransition). A response body over --max-response: 413
    (RequestEntityTooLarge), and the invocation counts as failed, as Lambda fails it
    itself, so a later error post for it gets 403.
POST /2018-06-01/runtime/init/error
    202. (The runtime is expected to exit afterwards.)
Anything else under /2018-06-01/: 404.

Connections are HTTP/1.1 and kept alive. Bodies may use Content-Length or chunked
transfer coding.

The control API (what the test sees), on the same port under /_test/
---------------------------------------------------------------------
POST /_test/enqueue?QUERY   body = the event payload, bytes as they are to be served.
    Query parameters, all optional (values percent-encoded):
      request_id        default: a random UUID
      deadline_ms       the header's exact text (absolute epoch ms); may be garbage
      timeout_ms        when deadline_ms is absent: deadline = delivery time + this
                        (default 3000)
      function_arn      default arn:aws:lambda:us-east-1:123456789012:function:standin
      trace_id          default: a fresh X-Ray header Root=1-...;Parent=...;Sampled=0
      client_context, cognito_identity    sent only when given
      omit              comma list of header names to leave out of the response
      sizes             JSON object: header name -> N, that header's value replaced by
                        N bytes ("a" repeated), for headers too long for a URL
      extra             JSON list of [name, value] pairs sent after the others (a
                        header repeated, say)
      pad               N:SIZE, N more headers X-Pad-<i> of SIZE bytes each
    Answers 200 {"request_id": "..."}.
POST /_test/fault?action=A&path=P&count=N[&status=S][&delay_ms=D]
    Queues a fault for the next N runtime requests whose kind is P (next, response,
    error, init or any; default any). Faults apply in the order they were queued and
    never consume an event or answer an invocation, except delay. Actions:
      drop     read the request, then close the connection without a response
               (for next: once an event is queued, which stays queued)
      partial  send a status line, headers promising more body than is sent, a few
               bytes, then close (for next: once an event is queued, the first half
               of it, which stays queued)
      status   answer with HTTP status S (default 500) and an ErrorResponse body
      delay    wait D ms (default 1000), then handle the request normally
      stall    (next only) deliver the event with a Content-Length 100 bytes over
               its size, send the payload, then send nothing more (the connection
               stays open until the client hangs up, at most 60 s)
      drip     (next only) deliver the event with a chunked body that never ends:
               the payload, then a space every 100 ms (at most 60 s)
      trailing (next only) deliver the event, then 200 ms later 16 bytes more than its
               Content-Length on the same connection (the next answer on it starts with
               them)
GET  /_test/results     the record, as JSON:
      posts:       every POST the runtime made, in order: kind (response, error,
                   init_error), request_id (null for init_error), path, status (what
                   the stand-in answered), headers (names lowercased; repeated names
                   joined with ", "), body_b64, body (text, when valid UTF-8, else
                   null), json (the parsed body, when it is JSON, else null), conn
      requests:    every runtime request: method, path, kind, conn, outcome (the
                   status answered, or "drop" / "partial")
      invocations: request_id -> state (queued, delivered, answered, failed,
                   too_large)
      queued:      events not yet delivered
      connections: TCP connections accepted on the runtime API paths so far
      faults_left: faults queued but not yet used
GET  /_test/wait?posts=N&timeout_ms=T
    Waits until at least N posts are recorded; 200 with the results, or 408 when T
    (default 5000) ms pass first.
POST /_test/reset       forgets events, invocations, posts, requests and faults.
POST /_test/shutdown    answers 200, then exits.
"""

import argparse
import base64
import collections
import http.server
import json
import os
import secrets
import select
import socket
import sys
import threading
import time
import urllib.parse
import uuid

API_PREFIX = "/2018-06-01/runtime/"
DEFAULT_ARN = "arn:aws:lambda:us-east-1:123456789012:function:standin"
# Lambda's documented synchronous response limit is 6 MB; the service's own error
# message gives the exact figure it enforces.
DEFAULT_MAX_RESPONSE = 6291556
FAULT_ACTIONS = ("drop", "partial", "status", "delay", "stall", "drip", "trailing")
DELIVERING = ("stall", "drip", "trailing")  # faults that still deliver the event
FAULT_PATHS = ("next", "response", "error", "init", "any")


def now_ms():
    return int(time.time() * 1000)


def fresh_trace_id():
    return "Root=1-%08x-%s;Parent=%s;Sampled=0" % (
        int(time.time()),
        secrets.token_hex(12),
        secrets.token_hex(8),
    )


class State:
    """Everything the stand-in knows, behind one lock."""

    def __init__(self, max_response):
        self.cond = threading.Condition()
        self.max_response = max_response
        self.connections = 0
        self.shutting_down = False
        self.reset()

    def reset(self):
        self.queue = collections.deque()
        self.invocations = {}  # request id -> state
        self.posts = []
        self.requests = []
        self.faults = []  # dicts: action, path, count, status, delay_ms

    def take_fault(self, kind):
        for fault in self.faults:
            if fault["count"] > 0 and fault["path"] in (kind, "any"):
                fault["count"] -= 1
                if fault["count"] == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def results(self):
        return {
            "posts": self.posts,
            "requests": self.requests,
            "invocations": self.invocations,
            "queued": len(self.queue),
            "connections": self.connections,
            "faults_left": sum(f["count"] for f in self.faults),
        }


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's algorithm and the
    # client's delayed ACK add 40 ms to every answer.
    disable_nagle_algorithm = True

    def version_string(self):
        return "runtime-standin"

    # -- plumbing ---------------------------------------------------------------

    def setup(self):
        super().setup()
        self.conn_id = None  # set on the first runtime API request of the connection

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("standin: %s\n" % (fmt % args))

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_json(self, status, obj, extra_headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        for name, value in extra_headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_error_response(self, status, error_type, message):
        self.send_json(status, {"errorMessage": message, "errorType": error_type})

    def client_gone(self):
        """True when the client closed its end (it is not expected to send anything
        while it waits for an answer, so readable means EOF or stray bytes)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def hang_up(self):
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- routing ----------------------------------------------------------------

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def route(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if url.path.startswith("/_test/"):
            body = self.read_body() if method == "POST" else b""
            self.control(method, url.path[len("/_test/"):], query, body)
            return
        if not url.path.startswith(API_PREFIX):
            self.read_body()
            self.send_error_response(404, "NotFound", "no such path: " + url.path)
            return
        self.runtime(method, url.path[len(API_PREFIX):])

    # -- the Runtime API --------------------------------------------------------

    def runtime(self, method, rest):
        state = self.server.state
        parts = rest.split("/")
        kind, request_id = None, None
        if method == "GET" and rest == "invocation/next":
            kind = "next"
        elif method == "POST" and rest == "init/error":
            kind = "init"
        elif method == "POST" and len(parts) == 3 and parts[0] == "invocation" and \
                parts[2] in ("response", "error"):
            kind = parts[2]
            request_id = urllib.parse.unquote(parts[1])
        with state.cond:
            if self.conn_id is None:
                state.connections += 1
                self.conn_id = state.connections
            fault = state.take_fault(kind) if kind is not None else None
            record = {"method": method, "path": self.path, "kind": kind,
                      "conn": self.conn_id, "outcome": None}
            state.requests.append(record)
        body = self.read_body() if method == "POST" else b""
        if kind is None:
            record["outcome"] = 404
            self.send_error_response(404, "NotFound", "no such runtime API path")
            return
        if fault is not None and fault["action"] == "delay":
            time.sleep(fault["delay_ms"] / 1000.0)
            fault = None
        if kind == "next" and (fault is None or fault["action"] != "status"):
            self.next_invocation(record, fault)
            return
        if fault is not None:
            self.apply_fault(record, fault, b'{"errorMessage":"cut')
            return
        self.post(kind, request_id, body, record)

    def apply_fault(self, record, fault, head):
        action = fault["action"]
        record["outcome"] = action if action != "status" else fault["status"]
        if action == "status":
            self.send_error_response(fault["status"], "StandinFault",
                                     "fault injected by the test")
            return
        if action == "partial":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(head) * 2 + 16))
            self.end_headers()
            self.wfile.write(head)
        self.hang_up()

    def next_invocation(self, record, fault):
        state = self.server.state
        with state.cond:
            while not state.queue:
                if state.shutting_down:
                    record["outcome"] = "drop"
                    self.hang_up()
                    return
                state.cond.wait(0.05)
                if not state.queue and self.client_gone():
                    record["outcome"] = "gone"
                    self.close_connection = True
                    return
            event = state.queue[0]
            if fault is None or fault["action"] in DELIVERING:
                state.queue.popleft()
                state.invocations[event["request_id"]] = "delivered"
        if fault is not None and fault["action"] not in DELIVERING:
            self.apply_fault(record, fault, event["payload"][: max(1, len(event["payload"]) // 2)])
            return
        headers = [
            ("Lambda-Runtime-Aws-Request-Id", event["request_id"]),
            ("Lambda-Runtime-Deadline-Ms",
             event["deadline_ms"] if event["deadline_ms"] is not None
             else str(now_ms() + event["timeout_ms"])),
            ("Lambda-Runtime-Invoked-Function-Arn", event["function_arn"]),
            ("Lambda-Runtime-Trace-Id", event["trace_id"]),
        ]
        if event["client_context"] is not None:
            headers.append(("Lambda-Runtime-Client-Context", event["client_context"]))
        if event["cognito_identity"] is not None:
            headers.append(("Lambda-Runtime-Cognito-Identity", event["cognito_identity"]))
        omit = event["omit"]
        sizes = {k.lower(): v for k, v in event["sizes"].items()}
        record["outcome"] = 200
        self.send_response(200)
        pads = [("X-Pad-%d" % i, "p" * event["pad"][1]) for i in range(event["pad"][0])]
        for name, value in headers + [tuple(pair) for pair in event["extra"]] + pads:
            if name.lower() in sizes:
                value = "a" * sizes.pop(name.lower())
            if name.lower() not in omit:
                self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        action = fault["action"] if fault is not None else None
        if action == "drip":
            self.send_header("Transfer-Encoding", "chunked")
        else:
            extra = 100 if action == "stall" else 0
            self.send_header("Content-Length", str(len(event["payload"]) + extra))
        self.end_headers()
        if action is None or action == "trailing":
            self.wfile.write(event["payload"])
            if action == "trailing":
                # Late enough that the client has reused the connection for its answer,
                # which then starts with these bytes.
                record["outcome"] = action
                self.wfile.flush()
                time.sleep(0.2)
                self.wfile.write(b"XXXXXXXXXXXXXXXX")
            return
        record["outcome"] = action
        if action == "drip":
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event["payload"]), event["payload"]))
        else:
            self.wfile.write(event["payload"])
        self.wfile.flush()
        end = time.monotonic() + 60
        while time.monotonic() < end and not self.client_gone():
            if action == "drip":
                try:
                    self.wfile.write(b"1\r\n \r\n")
                    self.wfile.flush()
                except OSError:
                    break
            time.sleep(0.1)
        self.close_connection = True

    def post(self, kind, request_id, body, record):
        state = self.server.state
        entry = {
            "kind": "init_error" if kind == "init" else kind,
            "request_id": request_id,
            "path": self.path,
            "status": None,
            "headers": {},
            "body_b64": base64.b64encode(body).decode(),
            "body": None,
            "json": None,
            "conn": self.conn_id,
        }
        for name, value in self.headers.items():
            key = name.lower()
            entry["headers"][key] = (entry["headers"][key] + ", " + value
                                     if key in entry["headers"] else value)
        try:
            entry["body"] = body.decode("utf-8")
            entry["json"] = json.loads(entry["body"]) if entry["body"] else None
        except ValueError:
            pass
        with state.cond:
            answer = self.judge(kind, request_id, len(body))
            entry["status"] = answer[0]
            record["outcome"] = answer[0]
            state.posts.append(entry)
            state.cond.notify_all()
        if answer[0] == 202:
            self.send_json(202, {"status": "OK"})
        else:
            self.send_error_response(*answer)

    def judge(self, kind, request_id, size):
        """Under the lock: the answer to a post, applying it when accepted."""
        state = self.server.state
        if kind == "init":
            return (202,)
        current = state.invocations.get(request_id)
        if current is None or current == "queued":
            return (400, "InvalidRequestID", "unknown request id %r" % request_id)
        if current != "delivered":
            return (403, "InvalidStateTransition",
                    "invocation %s is already %s" % (request_id, current))
        if kind == "response" and size > state.max_response:
            state.invocations[request_id] = "too_large"
            return (413, "RequestEntityTooLarge",
                    "response of %d bytes exceeds the limit of %d bytes"
                    % (size, state.max_response))
        state.invocations[request_id] = "answered" if kind == "response" else "failed"
        return (202,)

    # -- the control API --------------------------------------------------------

    def control(self, method, name, query, body):
        state = self.server.state
        if method == "POST" and name == "enqueue":
            request_id = query.get("request_id") or str(uuid.uuid4())
            omit = {h.strip().lower() for h in query.get("omit", "").split(",") if h.strip()}
            event = {
                "request_id": request_id,
                "payload": body,
                "deadline_ms": query.get("deadline_ms"),
                "timeout_ms": int(query.get("timeout_ms", "3000")),
                "function_arn": query.get("function_arn", DEFAULT_ARN),
                "trace_id": query.get("trace_id") or fresh_trace_id(),
                "client_context": query.get("client_context"),
                "cognito_identity": query.get("cognito_identity"),
                "omit": omit,
                "sizes": json.loads(query.get("sizes", "{}")),
                "extra": json.loads(query.get("extra", "[]")),
                "pad": [int(x) for x in query.get("pad", "0:0").split(":")],
            }
            with state.cond:
                state.queue.append(event)
                state.invocations[request_id] = "queued"
                state.cond.notify_all()
            self.send_json(200, {"request_id": request_id})
        elif method == "POST" and name == "fault":
            action = query.get("action", "")
            path = query.get("path", "any")
            if action not in FAULT_ACTIONS or path not in FAULT_PATHS:
                self.send_error_response(400, "BadFault", "action or path unknown")
                return
            fault = {
                "action": action,
                "path": path,
                "count": int(query.get("count", "1")),
                "status": int(query.get("status", "500")),
                "delay_ms": int(query.get("delay_ms", "1000")),
            }
            with state.cond:
                if fault["count"] > 0:
                    state.faults.append(fault)
            self.send_json(200, {"queued": fault})
        elif method == "GET" and name == "results":
            with state.cond:
                text = json.dumps(state.results())
            self.send_raw_json(200, text)
        elif method == "GET" and name == "wait":
            want = int(query.get("posts", "1"))
            deadline = time.monotonic() + int(query.get("timeout_ms", "5000")) / 1000.0
            with state.cond:
                while len(state.posts) < want and time.monotonic() < deadline:
                    state.cond.wait(max(0.0, min(0.1, deadline - time.monotonic())))
                status = 200 if len(state.posts) >= want else 408
                text = json.dumps(state.results())
            self.send_raw_json(status, text)
        elif method == "POST" and name == "reset":
            with state.cond:
                state.reset()
            self.send_json(200, {"reset": True})
        elif method == "POST" and name == "shutdown":
            self.send_json(200, {"shutdown": True})
            self.close_connection = True
            self.server.stop()
        else:
            self.send_error_response(404, "NotFound", "no such control path: " + name)

    def send_raw_json(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer is a case the tests make on purpose.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def __init__(self, address, max_response, verbose):
        super().__init__(address, Handler)
        self.state = State(max_response)
        self.verbose = verbose

    def stop(self):
        with self.state.cond:
            self.state.shutting_down = True
            self.state.cond.notify_all()
        threading.Thread(target=self.shutdown, daemon=True).start()


def watch_parent(server, parent):
    """Stops the server when the process that started it is gone."""
    while True:
        time.sleep(0.2)
        if os.getppid() != parent:
            server.stop()
            return


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 (default): any free port")
    parser.add_argument("--max-response", type=int, default=DEFAULT_MAX_RESPONSE,
                        help="largest response body accepted (bytes)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args()

    server = Server((args.host, args.port), args.max_response, args.verbose)
    threading.Thread(target=watch_parent, args=(server, os.getppid()), daemon=True).start()
    sys.stdout.write("%d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
