#!/usr/bin/env python3
# A fault-injecting stand-in for DynamoDB's JSON protocol, for tests/unit/test_ddb.c: it
# answers PutItem as scripted (throttles, 5xx, resets, stalls, bad checksums, skew) and
# records every request. Standard library only.
#
# Usage: fault_server.py [--tls CERT KEY]  -- binds 127.0.0.1 on a free port (HTTPS with
# --tls) and prints "PORT <n>" on stdout. It exits when its parent dies, so a crashed test
# leaves nothing behind.
#
# Control endpoints (never signed):
#   POST /_control/reset            forget the script and the log
#   POST /_control/script  JSON     {"default": "ok", "items": {"<id>": [actions...]},
#                                    "skew_check": false, "stall_seconds": 3,
#                                    "secret": "<secret to verify signatures with>"}
#   GET  /_control/log              {"requests": [...], "max_inflight": n}
# A PutItem takes the next action of the list for its item's id ("Item"."id"."S"), or
# the default once that list is empty. Actions: ok, throttle, pte, conflict, validation,
# denied, xml403, sigleak, expired, 500, 503, 429, reset, stall, badcrc, big, delay:<ms>;
# and hostile answers: expired_date:<D1>|<D2>... ("Signature expired" whose Date headers
# are exactly D1, D2, ...; none when empty), okdate:<D> (a 200 whose Date is D),
# shortbody (Content-Length 100, 10 bytes, then a clean close), endless (a chunked body
# that never ends, a byte every 100 ms), notjson (200, a body that is not JSON, with its
# crc), nocrc (200 without x-amz-crc32), retryafter (503 with Retry-After of a year),
# dupcrc (200 with a wrong x-amz-crc32 and then the right one), trailing (200, then
# 200 ms later 16 bytes beyond its Content-Length on the kept-alive connection).
# With skew_check, a request whose X-Amz-Date is over 5 minutes from the server's clock
# gets DynamoDB's "Signature expired" answer instead, without using up an action.
# condfail answers a PutItem with ConditionalCheckFailedException, condlike with a type
# that only ends like it. With "remember": true an ok PutItem is kept in "table" (by id),
# so that the reads serve it, under its ConditionExpression (attribute_not_exists(id) or
# chain = :old, the chain's heads), which refuses it as DynamoDB would (condfail).
#
# The reads (for tests/unit/test_ddb_read.c), told apart by X-Amz-Target: script members
# "table": [items...] (wire JSON, in order), "describe": {...} (DescribeTable's "Table";
# absent: ResourceNotFoundException) and "ops": {"<key>": [actions...]}, where the key is
# the operation ("Query", "GetItem", "BatchGetItem", "DescribeTable"), or "Scan/<segment>".
# An operation takes the next action of its list, else the default; "ok" serves it from
# "table": Query and Scan a page of Limit items (all when no Limit) from the position
# that ExclusiveStartKey {"pos":{"N":"<n>"}} gives, with LastEvaluatedKey while more are
# left (Query reversed for ScanIndexForward false; a Scan segment s of n holds items
# i with i % n == s); GetItem and BatchGetItem find items by "id". Read actions besides
# every one above: unprocessed (BatchGetItem answers its first key, the rest unprocessed),
# notfound (ResourceNotFoundException), raw:<text> (200 with exactly that body), slow:<ms>
# (served after that long).
# BatchWriteItem (for tests/unit/test_ddb_batch_write.c): see Handler.batch_write.

import binascii
import calendar
import hashlib
import hmac
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "com.amazonaws.dynamodb.v20120810#"
# The targets served by read_op; every other request is answered as a PutItem.
READ_OPERATIONS = ("Query", "Scan", "GetItem", "BatchGetItem", "DescribeTable")
LOCK = threading.Lock()
STATE = {}


def reset_state():
    STATE.clear()
    STATE.update(
        {
            "default": "ok",
            "items": {},
            "skew_check": False,
            "stall_seconds": 3.0,
            "secret": None,
            "log": [],
            "ops": {},
            "table": [],
            "describe": None,
            "remember": False,
            "inflight": 0,
            "max_inflight": 0,
        }
    )


reset_state()


def sigv4_ok(method, path, headers, body, secret):
    """Recomputes the Authorization signature from what arrived on the wire."""
    auth = headers.get("authorization", "")
    try:
        algo, rest = auth.split(" ", 1)
        fields = dict(part.strip().split("=", 1) for part in rest.split(","))
        akid, date, region, service, term = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (ValueError, KeyError):
        return False
    if algo != "AWS4-HMAC-SHA256" or term != "aws4_request":
        return False
    canon_headers = ""
    for name in signed:
        if name not in headers:
            return False
        canon_headers += name + ":" + " ".join(headers[name].split()) + "\n"
    creq = "\n".join(
        [method, path, "", canon_headers, ";".join(signed), hashlib.sha256(body).hexdigest()]
    )
    amz_date = headers.get("x-amz-date", "")
    sts = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            "/".join([date, region, service, term]),
            hashlib.sha256(creq.encode()).hexdigest(),
        ]
    )

    def mac(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = mac(mac(mac(mac(("AWS4" + secret).encode(), date), region), service), term)
    want = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, signature)


def remember_put(body):
    """An ok PutItem with "remember": kept in "table" when its condition holds (LOCK held).
    Returns the action that answers it: ok, condfail, or validation for a condition this
    stand-in does not know."""
    try:
        request = json.loads(body)
        item = request["Item"]
        item_id = item["id"]
    except (ValueError, KeyError, TypeError):
        return "ok"
    table = STATE["table"]
    old = next((it for it in table if it.get("id") == item_id), None)
    condition = request.get("ConditionExpression")
    if condition == "attribute_not_exists(id)":
        if old is not None:
            return "condfail"
    elif condition == "chain = :old":
        want = request.get("ExpressionAttributeValues", {}).get(":old")
        if old is None or old.get("chain") != want:
            return "condfail"
    elif condition is not None:
        return "validation"
    if old is not None:
        table.remove(old)
    table.append(item)
    return "ok"


def amz_date_epoch(text):
    try:
        return calendar.timegm(time.strptime(text, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        return None


def amz_date_text(epoch):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    # ---- replies -------------------------------------------------------------------------

    def reply(self, status, body, crc=None, content_type="application/x-amz-json-1.0",
              dates=None, extra=()):
        if isinstance(body, str):
            body = body.encode()
        if crc is None:
            crc = binascii.crc32(body)
        if dates is None:
            self.send_response(status)
        else:
            # The Date headers exactly as scripted, in place of the server's own.
            self.send_response_only(status)
            self.send_header("Server", self.version_string())
            for date in dates:
                self.send_header("Date", date)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if crc != "none":
            for value in crc if isinstance(crc, list) else [crc]:
                self.send_header("x-amz-crc32", str(value))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def reply_error(self, status, type_name, message, dates=None, extra=()):
        self.reply(status, json.dumps({"__type": PREFIX + type_name, "message": message}),
                   dates=dates, extra=extra)

    def reply_json(self, obj):
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply_expired(self, amz_date, dates=None):
        now = int(time.time())
        self.reply_error(
            400,
            "InvalidSignatureException",
            "Signature expired: %s is now earlier than %s (%s - 5 min.)"
            % (amz_date, amz_date_text(now - 300), amz_date_text(now)),
            dates=dates,
        )

    # ---- requests ------------------------------------------------------------------------

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(length) if length > 0 else b""

    def do_GET(self):
        if self.path == "/_control/log":
            with LOCK:
                self.reply_json({"requests": STATE["log"], "max_inflight": STATE["max_inflight"],
                                 "writes": STATE.get("writes", {})})
            return
        self.reply(404, "{}")

    def do_POST(self):
        body = self.read_body()
        if self.path == "/_control/reset":
            with LOCK:
                reset_state()
            self.reply_json({})
            return
        if self.path == "/_control/script":
            script = json.loads(body)
            with LOCK:
                for key in ("default", "skew_check", "stall_seconds", "secret", "remember"):
                    if key in script:
                        STATE[key] = script[key]
                STATE["items"] = {k: list(v) for k, v in script.get("items", {}).items()}
                STATE["ops"] = {k: list(v) for k, v in script.get("ops", {}).items()}
                STATE["table"] = script.get("table", [])
                STATE["describe"] = script.get("describe")
            self.reply_json({})
            return
        with LOCK:
            STATE["inflight"] += 1
            STATE["max_inflight"] = max(STATE["max_inflight"], STATE["inflight"])
        try:
            operation = self.headers.get("X-Amz-Target", "").split(".")[-1]
            if operation in READ_OPERATIONS:
                self.read_op(operation, body)
            elif operation == "BatchWriteItem":
                self.batch_write(body)
            else:
                self.put_item(body)
        finally:
            with LOCK:
                STATE["inflight"] -= 1

    def record_request(self, headers, raw, **fields):
        """Appends this request to STATE["log"] (GET /_control/log): `fields`, which differ by
        operation, and what every entry holds. `headers` (lower-cased) and `raw` (the body's
        bytes) are what the signature is checked with; the entry keeps the headers as sent.
        Called with LOCK held. (Not log_request: that name is the base class's.)"""
        secret = STATE["secret"]
        STATE["log"].append(dict(
            fields,
            method=self.command,
            path=self.path,
            headers=[[k, v] for k, v in self.headers.items()],
            client_port=self.client_address[1],
            time=time.time(),
            signature_ok=(sigv4_ok(self.command, self.path, headers, raw, secret)
                          if secret is not None else None)))

    def put_item(self, body):
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            item_id = json.loads(body)["Item"]["id"]["S"]
        except (ValueError, KeyError, TypeError):
            item_id = None
        amz_date = headers.get("x-amz-date", "")
        with LOCK:
            skewed = False
            if STATE["skew_check"]:
                sent = amz_date_epoch(amz_date)
                skewed = sent is None or abs(sent - time.time()) > 300
            queue = STATE["items"].get(item_id)
            if skewed:
                action = "skewed"
            elif queue:
                action = queue.pop(0)
            else:
                action = STATE["default"]
            if action == "ok" and STATE["remember"]:
                action = remember_put(body)
            self.record_request(headers, body, version=self.request_version,
                             body=body.decode("utf-8", "replace"), item=item_id, action=action)
            stall = float(STATE["stall_seconds"])
        self.act(action, amz_date, headers, stall)

    def batch_write(self, body):
        """BatchWriteItem (tests/unit/test_ddb_batch_write.c). The request takes the next
        action of "ops"."BatchWriteItem", else the default. ok (and delay:<ms>, after that
        long): the request is checked as DynamoDB checks it (at most 25 items, 16 MB, no two
        with one id: else ValidationException), then each item takes the next action of its
        "items" list: unprocessed returns it under UnprocessedItems, anything else writes
        it. Whole-request answers: unprocessed_all, ghost (an unprocessed id the request did
        not send), badunprocessed (UnprocessedItems a list), renamed (the unprocessed ones
        under another table key), and every PutItem action; skew_check as for PutItem.
        Written ids are counted in "writes" (GET /_control/log)."""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            request = json.loads(body)
            tables = request["RequestItems"]
            (table, entries), = tables.items()
            # An id is its type and its text: {"S":"1"} and {"N":"1"} are two keys.
            keys = [next(iter(e["PutRequest"]["Item"]["id"].items())) for e in entries]
            ids = [text for _, text in keys]
        except (ValueError, KeyError, TypeError, AttributeError, StopIteration):
            request, table, entries, keys, ids = None, None, [], [], []
        amz_date = headers.get("x-amz-date", "")
        with LOCK:
            sent = amz_date_epoch(amz_date)
            if STATE["skew_check"] and (sent is None or abs(sent - time.time()) > 300):
                action = "skewed"
            else:
                queue = STATE["ops"].get("BatchWriteItem")
                action = queue.pop(0) if queue else STATE["default"]
            serve = action in ("ok", "unprocessed_all", "ghost", "badunprocessed", "renamed")
            serve = serve or action.startswith("delay:")
            problem = None
            if request is None:
                problem = "fault_server: not a BatchWriteItem body of one table"
            elif len(ids) > 25:
                problem = "Too many items requested for the BatchWriteItem call"
            elif len(body) > 16000000:
                problem = "Item collection size limit exceeded: request over 16 MB"
            elif len(set(keys)) != len(keys):
                problem = "Provided list of item keys contains duplicates"
            left = []
            if serve and problem is None:
                for item_id, entry in zip(ids, entries):
                    item_queue = STATE["items"].get(item_id)
                    item_action = item_queue.pop(0) if item_queue else "ok"
                    if action == "unprocessed_all" or item_action == "unprocessed":
                        left.append(entry)
                    else:
                        writes = STATE.setdefault("writes", {})
                        writes[item_id] = writes.get(item_id, 0) + 1
            self.record_request(
                headers, body, target="BatchWriteItem",
                body=body.decode("utf-8", "replace") if len(body) < 100000 else "",
                body_len=len(body), table=table, items=ids,
                unprocessed=[next(iter(e["PutRequest"]["Item"]["id"].values())) for e in left],
                action=action, problem=problem)
            stall = float(STATE["stall_seconds"])
        if serve and problem is not None:
            self.reply_error(400, "ValidationException", problem)
        elif serve:
            if action.startswith("delay:"):
                time.sleep(int(action[6:]) / 1000.0)
            answer = {"UnprocessedItems": {table: left} if left else {}}
            if action == "ghost":
                answer["UnprocessedItems"] = {table: [{"PutRequest": {"Item": {
                    "id": {"S": "ghost-never-sent"}}}}]}
            elif action == "badunprocessed":
                answer["UnprocessedItems"] = [entries[:1]]
            elif action == "renamed" and left:
                answer["UnprocessedItems"] = {"arn:aws:dynamodb:us-east-1:123456789012:table/"
                                              + table.split("/")[-1] + "-renamed": left}
            self.reply(200, json.dumps(answer))
        else:
            self.act(action, amz_date, headers, stall)

    def read_op(self, operation, body):
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        key = operation
        if operation == "Scan" and isinstance(request, dict) and "Segment" in request:
            key = "Scan/%d" % request["Segment"]
        with LOCK:
            queue = STATE["ops"].get(key)
            action = queue.pop(0) if queue else STATE["default"]
            self.record_request(headers, body, target=operation, key=key,
                             body=body.decode("utf-8", "replace"), action=action)
            table = list(STATE["table"])
            describe = STATE["describe"]
            stall = float(STATE["stall_seconds"])
        if request is None:
            self.reply_error(400, "SerializationException", "fault_server: body is not JSON")
        elif action == "ok" or action == "unprocessed":
            self.serve(operation, request, table, describe, action == "unprocessed")
        elif action.startswith("slow:"):
            time.sleep(int(action[5:]) / 1000.0)
            self.serve(operation, request, table, describe, False)
        elif action == "notfound":
            self.reply_error(400, "ResourceNotFoundException", "Requested resource not found")
        elif action.startswith("raw:"):
            self.reply(200, action[4:])
        else:
            self.act(action, headers.get("x-amz-date", ""), headers, stall)

    def serve(self, operation, request, table, describe, unprocessed):
        def by_id(key):
            for item in table:
                if item.get("id") == key.get("id"):
                    return item
            return None

        if operation in ("Query", "Scan"):
            items = table
            if operation == "Scan" and "TotalSegments" in request:
                total, seg = request["TotalSegments"], request["Segment"]
                items = [it for i, it in enumerate(table) if i % total == seg]
            if operation == "Query" and request.get("ScanIndexForward") is False:
                items = list(reversed(items))
            start = int(request.get("ExclusiveStartKey", {}).get("pos", {}).get("N", "0"))
            limit = request.get("Limit", len(items) or 1)
            page = items[start:start + limit]
            answer = {"Items": page, "Count": len(page), "ScannedCount": len(page)}
            if start + limit < len(items):
                answer["LastEvaluatedKey"] = {"pos": {"N": str(start + limit)}}
            self.reply(200, json.dumps(answer))
        elif operation == "GetItem":
            item = by_id(request.get("Key", {}))
            self.reply(200, json.dumps({"Item": item} if item is not None else {}))
        elif operation == "BatchGetItem":
            responses = {}
            left = {}
            for name, spec in request.get("RequestItems", {}).items():
                keys = spec.get("Keys", [])
                done = keys[:1] if unprocessed else keys
                responses[name] = [it for it in (by_id(k) for k in done) if it is not None]
                if unprocessed and len(keys) > 1:
                    left[name] = dict(spec, Keys=keys[1:])
            self.reply(200, json.dumps({"Responses": responses, "UnprocessedKeys": left}))
        elif operation == "DescribeTable":
            if describe is None:
                self.reply_error(400, "ResourceNotFoundException",
                                 "Requested resource not found: Table: %s not found"
                                 % request.get("TableName"))
            else:
                self.reply(200, json.dumps({"Table": describe}))
        else:
            self.reply_error(400, "UnknownOperationException", "fault_server: " + operation)

    def act(self, action, amz_date, headers, stall):
        if action == "skewed" or action == "expired":
            self.reply_expired(amz_date)
        elif action == "ok":
            self.reply(200, "{}")
        elif action.startswith("expired_date:"):
            dates = action[len("expired_date:"):]
            self.reply_expired(amz_date, dates=dates.split("|") if dates else [])
        elif action.startswith("okdate:"):
            self.reply(200, "{}", dates=[action[len("okdate:"):]])
        elif action == "shortbody":
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                b"Content-Length: 100\r\n\r\n{\"partial\""
            )
            self.wfile.flush()
            self.close_connection = True
        elif action == "endless":
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            for _ in range(int(stall * 10)):
                self.wfile.write(b"1\r\n \r\n")
                self.wfile.flush()
                time.sleep(0.1)
            self.close_connection = True
        elif action == "trailing":
            self.reply(200, "{}")
            time.sleep(0.2)
            self.wfile.write(b"XXXXXXXXXXXXXXXX")
            self.wfile.flush()
        elif action == "notjson":
            self.reply(200, "<html>not json</html>")
        elif action == "nocrc":
            self.reply(200, "{}", crc="none")
        elif action == "dupcrc":
            good = binascii.crc32(b"{}")
            self.reply(200, "{}", crc=[(good + 1) & 0xFFFFFFFF, good])
        elif action == "retryafter":
            self.reply_error(503, "ServiceUnavailableException", "scripted 503",
                             extra=[("Retry-After", "31536000")])
        elif action.startswith("delay:"):
            time.sleep(int(action[6:]) / 1000.0)
            self.reply(200, "{}")
        elif action == "throttle":
            self.reply_error(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
        elif action == "pte":
            self.reply_error(
                400,
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded.",
            )
        elif action == "condfail":
            self.reply_error(400, "ConditionalCheckFailedException", "The conditional request failed")
        elif action == "condlike":
            # Only the type itself means "already there", not one that ends like it.
            self.reply_error(400, "NotConditionalCheckFailedException", "look-alike")
        elif action == "conflict":
            self.reply_error(400, "TransactionConflictException", "Transaction is ongoing for the item")
        elif action == "validation":
            self.reply_error(400, "ValidationException", "One or more parameter values were invalid: Missing the key id in the item")
        elif action == "denied":
            self.reply_error(
                400,
                "AccessDeniedException",
                "User: arn:aws:iam::123456789012:user/test is not authorized to perform: dynamodb:PutItem",
            )
        elif action == "sigleak":
            token = headers.get("x-amz-security-token", "")
            self.reply_error(
                400,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided."
                "\n\nThe Canonical String for this request should have been\n'POST\n/\n\n"
                "x-amz-security-token:%s\n'" % token,
            )
        elif action == "tokenecho":
            # Issue 9: a 400 over 1 KB whose message repeats the session token whole (the
            # cut used to fall inside it), the secret never sent but echoed all the same.
            token = headers.get("x-amz-security-token", "")
            self.reply_error(
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid: %s (as sent; "
                "request %s)" % (token, "x" * 200),
            )
        elif action == "authecho":
            # What IncompleteSignatureException messages do: the Authorization header back.
            auth = headers.get("authorization", "")
            self.reply_error(
                400,
                "IncompleteSignatureException",
                "'%s' not a valid key=value pair (missing equal-sign) in Authorization "
                "header: '%s'." % (auth, auth),
            )
        elif action == "ridecho":
            # A response header that repeats the token: the request id is logged too.
            token = headers.get("x-amz-security-token", "")
            self.reply_error(400, "ValidationException", "request id echo",
                             extra=[("x-amzn-RequestId", "rid-" + token)])
        elif action == "xml403":
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error>'
                "<Code>UnrecognizedClientException</Code>"
                "<Message>The security token included in the request is invalid.</Message>"
                "</Error><RequestId>7a62c49f</RequestId></ErrorResponse>"
            )
            self.reply(403, body, content_type="text/xml")
        elif action in ("500", "503", "429"):
            names = {"500": "InternalServerError", "503": "ServiceUnavailableException", "429": "TooManyRequests"}
            self.reply_error(int(action), names[action], "scripted " + action)
        elif action == "badcrc":
            self.reply(200, "{}", crc=(binascii.crc32(b"{}") + 1) & 0xFFFFFFFF)
        elif action == "big":
            self.reply(200, json.dumps({"pad": "x" * 70000}))
        elif action == "reset":
            # Headers promise 100 bytes; 10 arrive, then a TCP reset.
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                b"Content-Length: 100\r\n\r\n{\"partial\""
            )
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif action == "stall":
            time.sleep(stall)
            self.close_connection = True
        else:
            self.reply_error(400, "ValidationException", "fault_server: unknown action " + action)

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, OSError, ValueError):
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass


def watch_parent(parent):
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.2)


def main():
    server = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
