#!/usr/bin/env python3
"""An independent model of the audit item format (docs/audit-format.md), for the golden files.

It shares no code with lib/: it reads a fixture's bytes with its own span-keeping JSON
reader (values are copied as received, so every value keeps its raw text), checks the
records against DynamoDB's rules, and writes the items of the `classic` and `detailed`
formats, one compact JSON object a line; and backfill's BASELINE items, whose ids hash
the canonical form, which it writes with its own code too.

    python3 tests/golden/audit_model.py events/FIXTURE.json classic|detailed [IGNORED,...]
    python3 tests/golden/audit_model.py --trust SETTINGS events/FIXTURE.json classic|detailed
    python3 tests/golden/audit_model.py --write-all     # (re)writes tests/golden/*.jsonl

The trust settings (actor, retention, redaction and its key) are read from a file of
AUDIT_*=value lines, the function's own variables: tests/golden/trust/settings.

The `error` text of an invalid record is the C decoder's own wording, which the format
leaves to the implementation: it is read from tests/golden/errors.json (record index ->
text, checked by hand against the model's own reason, which is printed with --check).
"""

import base64
import decimal
import hashlib
import hmac
import json
import os
import re
import sys
import uuid

NAMESPACE = uuid.UUID("526e30d9-4c12-5f25-8142-6d3f5f417dc4")
# The fixed clock of the goldens: 2024-05-01T12:30:45.678Z.
NOW_MS = 1714566645678
MAX_DEPTH = 32

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

# ---------------------------------------------------------------------------------------
# A JSON reader that keeps spans.


class Node:
    """kind: obj, arr, str, num, true, false, null. start/end: byte span of the raw text.
    obj: members = [(raw_name_body, decoded_name_bytes, Node)]; arr: items = [Node];
    str: raw = body between the quotes (escapes as received), value = decoded bytes;
    num: raw = the number text."""

    __slots__ = ("kind", "start", "end", "members", "items", "raw", "value")

    def __init__(self, kind, start):
        self.kind = kind
        self.start = start
        self.end = None
        self.members = None
        self.items = None
        self.raw = None
        self.value = None

    def get(self, name):
        """The first member named `name` (bytes, decoded), or None."""
        for _, dec, node in self.members:
            if dec == name:
                return node
        return None


class JsonError(Exception):
    pass


WS = b" \t\r\n"
NUM_RE = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


class Reader:
    def __init__(self, data):
        self.d = data
        self.i = 0

    def ws(self):
        while self.i < len(self.d) and self.d[self.i] in WS:
            self.i += 1

    def value(self, depth=0):
        if depth > 2048:
            raise JsonError("too deep")
        self.ws()
        if self.i >= len(self.d):
            raise JsonError("unexpected end at %d" % self.i)
        c = self.d[self.i]
        if c == 0x7B:
            return self.obj(depth)
        if c == 0x5B:
            return self.arr(depth)
        if c == 0x22:
            return self.string()
        for lit in (b"true", b"false", b"null"):
            if self.d.startswith(lit, self.i):
                n = Node(lit.decode(), self.i)
                self.i += len(lit)
                n.end = self.i
                return n
        m = NUM_RE.match(self.d, self.i)
        if m and m.end() > self.i:
            n = Node("num", self.i)
            n.raw = m.group(0)
            self.i = m.end()
            n.end = self.i
            return n
        raise JsonError("unexpected byte at %d" % self.i)

    def obj(self, depth):
        n = Node("obj", self.i)
        n.members = []
        self.i += 1
        self.ws()
        if self.d[self.i:self.i + 1] == b"}":
            self.i += 1
            n.end = self.i
            return n
        while True:
            self.ws()
            if self.d[self.i:self.i + 1] != b'"':
                raise JsonError("name expected at %d" % self.i)
            k = self.string()
            self.ws()
            if self.d[self.i:self.i + 1] != b":":
                raise JsonError("':' expected at %d" % self.i)
            self.i += 1
            v = self.value(depth + 1)
            n.members.append((k.raw, k.value, v))
            self.ws()
            c = self.d[self.i:self.i + 1]
            self.i += 1
            if c == b"}":
                n.end = self.i
                return n
            if c != b",":
                raise JsonError("',' or '}' expected at %d" % (self.i - 1))

    def arr(self, depth):
        n = Node("arr", self.i)
        n.items = []
        self.i += 1
        self.ws()
        if self.d[self.i:self.i + 1] == b"]":
            self.i += 1
            n.end = self.i
            return n
        while True:
            n.items.append(self.value(depth + 1))
            self.ws()
            c = self.d[self.i:self.i + 1]
            self.i += 1
            if c == b"]":
                n.end = self.i
                return n
            if c != b",":
                raise JsonError("',' or ']' expected at %d" % (self.i - 1))

    def string(self):
        n = Node("str", self.i)
        self.i += 1
        start = self.i
        out = bytearray()
        d = self.d
        while True:
            if self.i >= len(d):
                raise JsonError("unterminated string")
            c = d[self.i]
            if c == 0x22:
                break
            if c < 0x20:
                raise JsonError("control byte in string at %d" % self.i)
            if c == 0x5C:
                e = d[self.i + 1:self.i + 2]
                simple = {b'"': b'"', b"\\": b"\\", b"/": b"/", b"b": b"\b", b"f": b"\f",
                          b"n": b"\n", b"r": b"\r", b"t": b"\t"}
                if e in simple:
                    out += simple[e]
                    self.i += 2
                    continue
                if e != b"u":
                    raise JsonError("bad escape at %d" % self.i)
                cp = int(d[self.i + 2:self.i + 6], 16)
                self.i += 6
                if 0xD800 <= cp < 0xDC00 and d[self.i:self.i + 2] == b"\\u":
                    lo = int(d[self.i + 2:self.i + 6], 16)
                    if 0xDC00 <= lo < 0xE000:
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                        self.i += 6
                out += chr(cp).encode("utf-8", "surrogatepass")
                continue
            out.append(c)
            self.i += 1
        n.raw = d[start:self.i]
        n.value = bytes(out)
        self.i += 1
        n.end = self.i
        # UTF-8 must be valid.
        n.raw.decode("utf-8")
        return n


def parse(data):
    r = Reader(data)
    v = r.value()
    r.ws()
    if r.i != len(data):
        raise JsonError("trailing bytes at %d" % r.i)
    return v


# ---------------------------------------------------------------------------------------
# Output helpers.


def escape(b):
    """JSON string body of raw bytes: '"', '\\' and control bytes escaped, the rest copied."""
    out = bytearray()
    short = {0x22: b'\\"', 0x5C: b"\\\\", 0x08: b"\\b", 0x0C: b"\\f", 0x0A: b"\\n",
             0x0D: b"\\r", 0x09: b"\\t"}
    for c in b:
        if c in short:
            out += short[c]
        elif c < 0x20:
            out += b"\\u%04x" % c
        else:
            out.append(c)
    return bytes(out)


def compact(n):
    """The value's raw text without whitespace outside strings; strings as received."""
    k = n.kind
    if k == "str":
        return b'"' + n.raw + b'"'
    if k == "num":
        return n.raw
    if k in ("true", "false", "null"):
        return k.encode()
    if k == "arr":
        return b"[" + b",".join(compact(x) for x in n.items) + b"]"
    return b"{" + b",".join(b'"' + raw + b'":' + compact(v) for raw, _, v in n.members) + b"}"


def S(body):
    """{"S":"..."} from an already escaped body."""
    return b'{"S":"' + body + b'"}'


def obj(pairs):
    return b"{" + b",".join(b'"' + k + b'":' + v for k, v in pairs) + b"}"


def uuid5(name):
    h = hashlib.sha1(NAMESPACE.bytes + name).digest()
    b = bytearray(h[:16])
    b[6] = (b[6] & 0x0F) | 0x50
    b[8] = (b[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(b))).encode()


def iso_ms(ms):
    days, rem = divmod(ms, 86400000)
    import datetime
    d = datetime.date(1970, 1, 1) + datetime.timedelta(days=days)
    s, msec = divmod(rem, 1000)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return b"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (d.year, d.month, d.day, h, m, s, msec)


# ---------------------------------------------------------------------------------------
# DynamoDB's rules for attribute values.

TYPES = (b"S", b"N", b"B", b"SS", b"NS", b"BS", b"M", b"L", b"NULL", b"BOOL")
DYN_NUM_RE = re.compile(rb"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
B64_RE = re.compile(rb"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


class Invalid(Exception):
    def __init__(self, where, why):
        super().__init__("%s: %s" % (where, why))
        self.where = where
        self.why = why


def number_value(text):
    """Decimal of a DynamoDB number, or raises ValueError naming the rule it breaks."""
    if not DYN_NUM_RE.match(text):
        raise ValueError("not a number")
    d = decimal.Decimal(text.decode())
    if d == 0:
        return decimal.Decimal(0)
    t = d.normalize(decimal.Context(prec=1000)).as_tuple()
    if len(t.digits) > 38:
        raise ValueError("more than 38 significant digits")
    adj = d.adjusted()
    if adj > 125 or adj < -130:
        raise ValueError("out of range")
    return d


def b64_decode(text):
    if not B64_RE.match(text):
        raise ValueError("invalid base64")
    bits = 0
    nbits = 0
    out = bytearray()
    for c in text.rstrip(b"="):
        bits = (bits << 6) | B64.index(c)
        nbits += 6
        if nbits >= 8:
            nbits -= 8
            out.append((bits >> nbits) & 0xFF)
    return bytes(out)


def check_names(node, where):
    seen = set()
    for _, dec, _v in node.members:
        if dec in seen:
            raise Invalid(where + "." + dec.decode("utf-8", "replace"), "duplicate name")
        seen.add(dec)


def check_value(n, where):
    """Validates one wire value {"T": ...}; returns its depth (M/L levels)."""
    if n.kind != "obj" or len(n.members) != 1:
        raise Invalid(where, "not an attribute value")
    _, t, v = n.members[0]
    where2 = where + "." + t.decode("utf-8", "replace")
    if t == b"S":
        if v.kind != "str":
            raise Invalid(where2, "not a string")
        return 0
    if t == b"N":
        if v.kind != "str":
            raise Invalid(where2, "not a string")
        try:
            number_value(v.value)
        except ValueError as e:
            raise Invalid(where2, str(e))
        return 0
    if t == b"B":
        if v.kind != "str":
            raise Invalid(where2, "not a string")
        try:
            b64_decode(v.value)
        except ValueError as e:
            raise Invalid(where2, str(e))
        return 0
    if t in (b"SS", b"NS", b"BS"):
        if v.kind != "arr":
            raise Invalid(where2, "not an array")
        if not v.items:
            raise Invalid(where2, "empty set")
        seen = []
        for i, m in enumerate(v.items):
            w = "%s[%d]" % (where2, i)
            if m.kind != "str":
                raise Invalid(w, "not a string")
            try:
                if t == b"SS":
                    key = m.value
                elif t == b"NS":
                    key = number_value(m.value)
                else:
                    key = b64_decode(m.value)
            except ValueError as e:
                raise Invalid(w, str(e))
            if key in seen:
                raise Invalid(w, "duplicate set member")
            seen.append(key)
        return 0
    if t == b"M":
        if v.kind != "obj":
            raise Invalid(where2, "not an object")
        check_names(v, where2)
        deep = 0
        for _, dec, m in v.members:
            deep = max(deep, check_value(m, where2 + "." + dec.decode("utf-8", "replace")))
        return deep + 1
    if t == b"L":
        if v.kind != "arr":
            raise Invalid(where2, "not an array")
        deep = 0
        for i, m in enumerate(v.items):
            deep = max(deep, check_value(m, "%s[%d]" % (where2, i)))
        return deep + 1
    if t == b"NULL":
        if v.kind != "true":
            raise Invalid(where2, "NULL must be true")
        return 0
    if t == b"BOOL":
        if v.kind not in ("true", "false"):
            raise Invalid(where2, "not a boolean")
        return 0
    raise Invalid(where, "unknown type " + t.decode("utf-8", "replace"))


def check_image(img, where):
    if img.kind != "obj":
        raise Invalid(where, "not an object")
    check_names(img, where)
    deep = 0
    for _, dec, v in img.members:
        deep = max(deep, check_value(v, where + "." + dec.decode("utf-8", "replace")))
    return deep


EVENT_NAMES = {b"INSERT": b"CREATE", b"MODIFY": b"UPDATE", b"REMOVE": b"DELETE"}


def time_ms(node):
    """Floor of ApproximateCreationDateTime to the ms, or raises ValueError."""
    if node.kind != "num":
        raise ValueError("not a number")
    d = decimal.Decimal(node.raw.decode()) * 1000
    ms = int(d.to_integral_value(rounding=decimal.ROUND_FLOOR))
    if ms < 0 or ms >= 253402300800000:
        raise ValueError("out of range")
    return ms


class Record:
    """What the model knows of one record."""

    def __init__(self, node, data, index):
        self.node = node
        self.index = index
        self.raw = data[node.start:node.end]
        self.error = None   # the model's reason (where, why)
        self.event_id = None
        self.event_name = None
        self.keys = None
        self.old = None
        self.new = None
        self.seq = None
        self.arn = None
        self.time_ms = None
        self.time_present = False
        self.identity = (None, None)
        self.seq_text = None  # SequenceNumber's decoded bytes, for historySort
        self.derive()
        try:
            self.validate()
        except Invalid as e:
            self.error = e

    def derive(self):
        """The fields an error item can still use, whatever else is wrong."""
        n = self.node
        if n.kind != "obj":
            return
        eid = n.get(b"eventID")
        if eid is not None and eid.kind == "str":
            self.event_id = eid
        en = n.get(b"eventName")
        if en is not None and en.kind == "str" and en.value in EVENT_NAMES:
            self.event_name = en.value
        arn = n.get(b"eventSourceARN")
        if arn is not None and arn.kind == "str":
            self.arn = arn.value
        # Who, as the record says it: a TTL delete's error item still names DynamoDB. The
        # text as received is compared, as the format's reader does.
        ui = n.get(b"userIdentity")
        if ui is not None and ui.kind == "obj":
            ty = ui.get(b"type")
            pr = ui.get(b"principalId")
            self.identity = (ty.raw if ty is not None and ty.kind == "str" else None,
                             pr.raw if pr is not None and pr.kind == "str" else None)
        ddb = n.get(b"dynamodb")
        if ddb is not None and ddb.kind == "obj":
            seq = ddb.get(b"SequenceNumber")
            if seq is not None and seq.kind == "str":
                self.seq_text = seq.value
            keys = ddb.get(b"Keys")
            if keys is not None and keys_ok(keys):
                self.keys = keys
            t = ddb.get(b"ApproximateCreationDateTime")
            if t is not None:
                self.time_present = True
                try:
                    self.time_ms = time_ms(t)
                except ValueError:
                    pass

    def validate(self):
        n = self.node
        w = "Records[%d]" % self.index
        if n.kind != "obj":
            raise Invalid(w, "not an object")
        check_names(n, w)
        if self.event_id is None:
            raise Invalid(w + ".eventID", "missing or not a string")
        if self.event_name is None:
            raise Invalid(w + ".eventName", "missing or unknown")
        src = n.get(b"eventSource")
        if src is None or src.kind != "str" or src.value != b"aws:dynamodb":
            raise Invalid(w + ".eventSource", "not aws:dynamodb")
        ddb = n.get(b"dynamodb")
        if ddb is None or ddb.kind != "obj":
            raise Invalid(w + ".dynamodb", "missing")
        check_names(ddb, w + ".dynamodb")
        seq = ddb.get(b"SequenceNumber")
        if seq is None or seq.kind != "str":
            raise Invalid(w + ".dynamodb.SequenceNumber", "missing")
        self.seq = seq
        keys = ddb.get(b"Keys")
        if keys is None:
            raise Invalid(w + ".dynamodb.Keys", "missing")
        if not keys_ok(keys):
            raise Invalid(w + ".dynamodb.Keys", "bad keys")
        t = ddb.get(b"ApproximateCreationDateTime")
        if t is not None and self.time_ms is None:
            raise Invalid(w + ".dynamodb.ApproximateCreationDateTime", "bad time")
        for name, attr in ((b"OldImage", "old"), (b"NewImage", "new")):
            img = ddb.get(name)
            if img is not None:
                depth = check_image(img, w + ".dynamodb." + name.decode())
                # A stream image itself is within DynamoDB's limit: a top-level attribute
                # value of depth d sits d levels deep in the item.
                if depth > MAX_DEPTH:
                    raise Invalid(w + ".dynamodb." + name.decode(), "too deep")
                setattr(self, attr, img)

    def nesting(self, fmt, redact=frozenset()):
        """How deep the record's audit item(s) nest as written: the value depth plus its
        wrapping; a redacted value is its marker, a map of scalars (depth 1)."""
        en, old, new = self.event_name, self.old, self.new
        d_old = image_depth(old, redact)
        d_new = image_depth(new, redact)
        images = [d for d, img in ((d_old, old), (d_new, new)) if img is not None]
        modify = en == b"MODIFY" and old is not None and new is not None
        if fmt == "classic":
            if modify:
                return max(images)          # oldValue / newValue: the attribute's value
            return max(images, default=0) + 1 if images else 0  # {"M": image}
        # detailed: oldImage/newImage {"M": image} (+1); changes L -> M -> value (+2).
        deep = max(images) + 1 if images else 0
        if modify:
            for _, ov, nv, hidden in written_changes(old, new, redact):
                for v in (ov, nv):
                    if v is not None:
                        deep = max(deep, (1 if hidden else value_depth(v)) + 2)
        elif (en == b"INSERT" and new is not None) or (en == b"REMOVE" and old is not None):
            deep = max(deep, (d_new if en == b"INSERT" else d_old) + 2)
        return deep


def value_depth(n):
    """M/L levels of a wire value: 0 for scalars and sets, 1 for {"M":{}}."""
    t, v = wire(n)
    if t == b"M":
        return 1 + max((value_depth(m) for _, _, m in v.members), default=0)
    if t == b"L":
        return 1 + max((value_depth(m) for m in v.items), default=0)
    return 0


def image_depth(img, redact=frozenset()):
    if img is None:
        return 0
    return max((1 if dec in redact else value_depth(v) for _, dec, v in img.members), default=0)


def keys_ok(keys):
    if keys.kind != "obj" or not keys.members:
        return False
    seen = set()
    for _, dec, v in keys.members:
        if dec in seen:
            return False
        seen.add(dec)
        if v.kind != "obj" or len(v.members) != 1:
            return False
        _, t, s = v.members[0]
        if t not in (b"S", b"N", b"B") or s.kind != "str":
            return False
        if t in (b"S", b"B") and s.value == b"":
            return False
        try:
            if t == b"N":
                number_value(s.value)
            if t == b"B":
                b64_decode(s.value)
        except ValueError:
            return False
    return True


# ---------------------------------------------------------------------------------------
# Equality and diff.


def wire(n):
    """(type bytes, payload node) of a wire value."""
    _, t, v = n.members[0]
    return t, v


def equal(a, b):
    ta, va = wire(a)
    tb, vb = wire(b)
    if ta != tb:
        return False
    if ta == b"S":
        return va.value == vb.value
    if ta == b"N":
        return number_value(va.value) == number_value(vb.value)
    if ta == b"B":
        return b64_decode(va.value) == b64_decode(vb.value)
    if ta == b"SS":
        return set(m.value for m in va.items) == set(m.value for m in vb.items)
    if ta == b"NS":
        return set(number_value(m.value) for m in va.items) == \
            set(number_value(m.value) for m in vb.items)
    if ta == b"BS":
        return set(b64_decode(m.value) for m in va.items) == \
            set(b64_decode(m.value) for m in vb.items)
    if ta == b"M":
        return maps_equal(va, vb)
    if ta == b"L":
        return len(va.items) == len(vb.items) and all(
            equal(x, y) for x, y in zip(va.items, vb.items))
    return va.kind == vb.kind  # NULL, BOOL


def maps_equal(a, b):
    da = {dec: v for _, dec, v in a.members}
    db = {dec: v for _, dec, v in b.members}
    return da.keys() == db.keys() and all(equal(da[k], db[k]) for k in da)


def by_name(img):
    """{decoded name: (raw name, value)} of an image or M payload (None: empty)."""
    if img is None:
        return {}
    return {dec: (raw, v) for raw, dec, v in img.members}


def pointer_token(dec):
    return dec.replace(b"~", b"~0").replace(b"/", b"~1")


def diff_top(old, new):
    """[(raw name, decoded name, old value or None, new value or None)] in byte order."""
    o = by_name(old)
    n = by_name(new)
    out = []
    for dec in sorted(set(o) | set(n)):
        ov = o.get(dec, (None, None))[1]
        nv = n.get(dec, (None, None))[1]
        raw = (o.get(dec) or n.get(dec))[0]
        if ov is None or nv is None or not equal(ov, nv):
            out.append((raw, dec, ov, nv))
    return out


def diff_deep(path, ov, nv, out):
    """Appends (decoded pointer, old, new) for the values at `path`."""
    if ov is None or nv is None:
        out.append((path, ov, nv))
        return
    if equal(ov, nv):
        return
    to, po = wire(ov)
    tn, pn = wire(nv)
    if to == tn == b"M":
        o = by_name(po)
        n = by_name(pn)
        for dec in sorted(set(o) | set(n)):
            diff_deep(path + b"/" + pointer_token(dec), o.get(dec, (None, None))[1],
                      n.get(dec, (None, None))[1], out)
        return
    if to == tn == b"L":
        for i in range(max(len(po.items), len(pn.items))):
            diff_deep(path + b"/%d" % i, po.items[i] if i < len(po.items) else None,
                      pn.items[i] if i < len(pn.items) else None, out)
        return
    out.append((path, ov, nv))


def diff_images_deep(old, new):
    o = by_name(old)
    n = by_name(new)
    out = []
    for dec in sorted(set(o) | set(n)):
        diff_deep(b"/" + pointer_token(dec), o.get(dec, (None, None))[1],
                  n.get(dec, (None, None))[1], out)
    return out


def written_changes(old, new, redact):
    """The detailed `changes` as written: [(path, old, new, redacted)]. The diff runs on the
    real values; the differences under a redacted attribute become one entry at
    /<name> with the attribute's whole value on each side (to be written as markers)."""
    out = []
    for raw, dec, ov, nv in diff_top(old, new):
        if dec in redact:
            out.append((b"/" + pointer_token(dec), ov, nv, True))
        else:
            deep = []
            diff_deep(b"/" + pointer_token(dec), ov, nv, deep)
            out.extend((p, a, b, False) for p, a, b in deep)
    return out


# ---------------------------------------------------------------------------------------
# Trust: who made the change, retention, redaction.


class Trust:
    """AUDIT_ACTOR_ATTRIBUTE, AUDIT_RETENTION_DAYS, AUDIT_REDACT_ATTRIBUTES and the bytes
    AUDIT_REDACT_KEY's base64 decodes to; the defaults set none."""

    def __init__(self, actor=None, days=0, redact=(), key=None):
        self.actor = actor
        self.days = days
        self.redact = frozenset(redact)
        self.key = key


NO_TRUST = Trust()
TTL_PRINCIPAL = b"dynamodb.amazonaws.com"


def read_settings(path):
    """A Trust from a file of AUDIT_*=value lines (blank lines and # comments skipped)."""
    values = {}
    with open(path, "rb") as f:
        for line in f.read().decode("utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, value = line.partition("=")
                values[name] = value
    key = values.get("AUDIT_REDACT_KEY")
    return Trust(actor=values.get("AUDIT_ACTOR_ATTRIBUTE", "").encode("utf-8") or None,
                 days=int(values.get("AUDIT_RETENTION_DAYS", "0") or 0),
                 redact=ignore_list(values.get("AUDIT_REDACT_ATTRIBUTES", "")),
                 key=base64.b64decode(key, validate=True) if key else None)


IMAGE_FAULT = re.compile(rb"^Records\[[0-9]+\]\.dynamodb\.(?:New|Old)Image(?=[.\[:])")


def withheld_reason(text):
    """While attributes are redacted, a fault inside an image keeps only which image: its
    text quotes the value at fault, and its path the names above it."""
    m = IMAGE_FAULT.match(text)
    if m is None:
        return text
    return m.group(0) + b": an attribute value is invalid (its detail is withheld while " \
        b"attributes are redacted)"


def is_ttl_delete(rec):
    return rec.event_name == b"REMOVE" and rec.identity == (b"Service", TTL_PRINCIPAL)


def actor_fields(rec, trust, error):
    """actor and actorSource: DynamoDB for a TTL delete, configured or not; else the S
    value of the actor attribute in the NewImage (CREATE, UPDATE) or the OldImage (a
    user's DELETE); none on an error item (but a TTL delete's) or without an S value."""
    if is_ttl_delete(rec):
        return [(b"actor", S(TTL_PRINCIPAL)), (b"actorSource", S(b"ttl"))]
    if error or trust.actor is None:
        return []
    img = rec.old if rec.event_name == b"REMOVE" else rec.new
    if img is None:
        return []
    found = by_name(img).get(trust.actor)
    if found is None or wire(found[1])[0] != b"S":
        return []
    source = b"last-writer" if rec.event_name == b"REMOVE" else b"item"
    return [(b"actor", S(wire(found[1])[1].raw)), (b"actorSource", S(source))]


def expires_fields(when_ms, trust):
    """expiresAt: the change's time floored to the second, plus the retention."""
    if when_ms is None or not trust.days:
        return []
    return [(b"expiresAt", b'{"N":"%d"}' % (when_ms // 1000 + trust.days * 86400))]


def hmac_hex(v, trust):
    return hmac.new(trust.key, canon_value(v), hashlib.sha256).hexdigest().encode()


def marker(v, trust):
    """A redacted value as written: "redacted", then "hmac" when there is a key."""
    text = b'{"M":{"redacted":{"BOOL":true}'
    if trust.key is not None:
        text += b',"hmac":{"S":"' + hmac_hex(v, trust) + b'"}'
    return text + b"}}"


def marker_canon(v, trust):
    """The marker's canonical form (members sorted: "hmac" before "redacted")."""
    if trust.key is None:
        return b'{"M":{"redacted":{"BOOL":true}}}'
    return b'{"M":{"hmac":{"S":"' + hmac_hex(v, trust) + b'"},"redacted":{"BOOL":true}}}'


def audited(dec, v, redact, trust):
    """A top-level attribute's value as written."""
    return marker(v, trust) if dec in redact else compact(v)


def image_text(img, redact, trust):
    """A whole image as written, {"M":{...}}, redacted members as their markers."""
    return b'{"M":' + obj([(raw, audited(dec, v, redact, trust))
                           for raw, dec, v in img.members]) + b"}"


# ---------------------------------------------------------------------------------------
# Items.


def item_key(keys):
    if len(keys.members) == 1:
        _, _, v = keys.members[0]
        return wire(v)[1].raw
    parts = []
    for raw, dec, v in sorted(keys.members, key=lambda m: m[1]):
        t, s = wire(v)
        val = s.raw if t == b"N" else b'"' + s.raw + b'"'
        parts.append(b'"' + raw + b'":' + val)
    return escape(b"{" + b",".join(parts) + b"}")


# DynamoDB refuses an item whose global secondary index key is longer than these: the
# history fields are left out then.
INDEX_HASH_MAX = 2048
INDEX_RANGE_MAX = 1024


def decoded_len(body):
    """Bytes a JSON string body decodes to: what DynamoDB counts."""
    return len(parse(b'"' + body + b'"').value)


def history_fields(table, key_body, when, seq):
    """[(historyKey, wire), (historySort, wire)], or [] past the index's limits or for a
    sequence number that is not 1 to 40 digits (the trail could not order it)."""
    if seq is not None and not (seq.isdigit() and 1 <= len(seq) <= 40):
        return []
    key = (escape(table) if table is not None else b"-") + b"/" + key_body
    sort = history_sort(when, seq)
    if decoded_len(key) > INDEX_HASH_MAX or decoded_len(sort) > INDEX_RANGE_MAX:
        return []
    return [(b"historyKey", S(key)), (b"historySort", S(sort))]


def history_sort(time_text, seq):
    """<modificationTime>/<sequence number left-padded with '0' to 40 digits>."""
    digits = seq if seq is not None else b""
    return time_text + b"/" + digits.rjust(40, b"0")


def common(rec, name_suffix=None, trust=NO_TRUST, error=False):
    """[(field, wire)] of id, itemKey, modificationTime, eventName, historyKey and
    historySort (those that can be derived), then actor, actorSource and expiresAt."""
    pairs = []
    if rec.event_id is not None and rec.event_id.value:
        name = rec.event_id.value
    else:
        name = hashlib.sha256(rec.raw).hexdigest().encode()
    if name_suffix is not None:
        name = name + b"/" + name_suffix
    pairs.append((b"id", S(uuid5(name))))
    key = None
    if rec.keys is not None:
        key = item_key(rec.keys)
        pairs.append((b"itemKey", S(key)))
    when = None
    when_ms = None
    if rec.time_ms is not None:
        when_ms = rec.time_ms
    elif not rec.time_present:
        when_ms = NOW_MS
    if when_ms is not None:
        when = iso_ms(when_ms)
        pairs.append((b"modificationTime", S(when)))
    if rec.event_name is not None:
        pairs.append((b"eventName", S(EVENT_NAMES[rec.event_name])))
    if key is not None and when is not None:
        pairs += history_fields(table_name(rec.arn), key, when, rec.seq_text)
    pairs += actor_fields(rec, trust, error)
    pairs += expires_fields(when_ms, trust)
    return pairs


def error_item(rec, text, withhold_raw, trust=NO_TRUST):
    pairs = common(rec, None, trust, error=True)
    pairs.append((b"error", S(escape(text))))
    if withhold_raw:
        # An invalid record is not cut apart: its digest and size stand in for it.
        pairs.append((b"rawRecordSha256", S(hashlib.sha256(rec.raw).hexdigest().encode())))
        pairs.append((b"rawRecordSize", b'{"N":"%d"}' % len(rec.raw)))
    else:
        pairs.append((b"rawRecord", S(escape(rec.raw))))
    return obj(pairs)


def table_name(arn):
    if arn is None or not arn.startswith(b"arn:"):
        return None
    i = arn.find(b":table/")
    if i < 0:
        return None
    rest = arn[i + len(b":table/"):]
    name = rest.split(b"/", 1)[0]
    return name if name else None


def classic_items(rec, trust=NO_TRUST, redact=frozenset()):
    en = rec.event_name
    old, new = rec.old, rec.new
    complete = (en == b"INSERT" and new is not None) or (en == b"REMOVE" and old is not None) \
        or (en == b"MODIFY" and old is not None and new is not None)
    if en == b"MODIFY" and complete:
        items = []
        for raw, dec, ov, nv in diff_top(old, new):
            pairs = common(rec, dec, trust)
            pairs.append((b"updatedAttribute", S(raw)))
            if ov is not None:
                pairs.append((b"oldValue", audited(dec, ov, redact, trust)))
            if nv is not None:
                pairs.append((b"newValue", audited(dec, nv, redact, trust)))
            items.append(obj(pairs))
        return items
    pairs = common(rec, None, trust)
    if complete:
        if en == b"INSERT":
            pairs.append((b"newValue", image_text(new, redact, trust)))
        else:
            pairs.append((b"oldValue", image_text(old, redact, trust)))
    else:
        if old is not None:
            pairs.append((b"oldValue", image_text(old, redact, trust)))
        if new is not None:
            pairs.append((b"newValue", image_text(new, redact, trust)))
    return [obj(pairs)]


def change_entry(path, ov, nv):
    """An entry of `changes` from the values' texts as written (None: that side has none)."""
    pairs = [(b"path", S(escape(path)))]
    if ov is not None:
        pairs.append((b"oldValue", ov))
    if nv is not None:
        pairs.append((b"newValue", nv))
    return b'{"M":' + obj(pairs) + b"}"


def written_value(v, hidden, trust):
    if v is None:
        return None
    return marker(v, trust) if hidden else compact(v)


def detailed_item(rec, trust=NO_TRUST, redact=frozenset()):
    en = rec.event_name
    old, new = rec.old, rec.new
    pairs = common(rec, None, trust)
    pairs.append((b"keys", b'{"M":' + compact(rec.keys) + b"}"))
    pairs.append((b"sequenceNumber", S(rec.seq.raw)))
    tn = table_name(rec.arn)
    if tn is not None:
        pairs.append((b"tableName", S(escape(tn))))
    ttl = rec.identity == (b"Service", b"dynamodb.amazonaws.com")
    pairs.append((b"cause", S(b"ttl" if ttl else b"user")))
    if en == b"MODIFY" and old is not None and new is not None:
        top = diff_top(old, new)
        if not top:
            return None  # nothing audited changed: no item, as in classic
        names = [raw for raw, dec, _, _ in top]  # already in byte order of decoded names
        changes = [change_entry(p, written_value(ov, hidden, trust),
                                written_value(nv, hidden, trust))
                   for p, ov, nv, hidden in written_changes(old, new, redact)]
    elif (en == b"INSERT" and new is not None) or (en == b"REMOVE" and old is not None):
        img = new if en == b"INSERT" else old
        members = sorted(img.members, key=lambda m: m[1])
        names = [raw for raw, _, _ in members]
        changes = [change_entry(b"/" + pointer_token(dec),
                                audited(dec, v, redact, trust) if en == b"REMOVE" else None,
                                audited(dec, v, redact, trust) if en == b"INSERT" else None)
                   for _, dec, v in members]
    else:
        names = None
        changes = None
    if names is not None:
        pairs.append((b"updatedAttributes", b'{"L":[' + b",".join(S(r) for r in names) + b"]}"))
        pairs.append((b"changes", b'{"L":[' + b",".join(changes) + b"]}"))
    if old is not None:
        pairs.append((b"oldImage", image_text(old, redact, trust)))
    if new is not None:
        pairs.append((b"newImage", image_text(new, redact, trust)))
    return obj(pairs)


def as_plain(n):
    """The reader's tree in the shape json.loads gives with the hooks used in load()."""
    if n.kind == "obj":
        return ("obj", [(dec.decode("utf-8", "surrogatepass"), as_plain(v))
                        for _, dec, v in n.members])
    if n.kind == "arr":
        return [as_plain(x) for x in n.items]
    if n.kind == "str":
        return n.value.decode("utf-8", "surrogatepass")
    if n.kind == "num":
        return ("num", n.raw.decode())
    return {"true": True, "false": False, "null": None}[n.kind]


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    root = parse(data)
    # Cross-check the span reader against the stdlib's parser: same tree, same order,
    # same number text.
    ref = json.loads(data.decode("utf-8"), object_pairs_hook=lambda pairs: ("obj", pairs),
                     parse_float=lambda t: ("num", t), parse_int=lambda t: ("num", t))
    if as_plain(root) != ref:
        raise JsonError("span reader disagrees with json.loads on " + path)
    recs = root.get(b"Records") if root.kind == "obj" else None
    if recs is None or recs.kind != "arr":
        raise JsonError("not an event")
    return [Record(n, data, i) for i, n in enumerate(recs.items)]


def load_errors():
    p = os.path.join(HERE, "errors.json")
    if not os.path.exists(p):
        return {}
    with open(p, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def without(img, names):
    """The image with the top-level attributes named in `names` (decoded) left out."""
    if img is None or not names:
        return img
    kept = Node("obj", img.start)
    kept.end = img.end
    kept.members = [m for m in img.members if m[1] not in names]
    return kept


def items(path, fmt, errors=None, ignore=(), trust=NO_TRUST):
    """The items of the fixture at `path`; `ignore`: decoded names of AUDIT_IGNORE_ATTRIBUTES;
    `trust`: the actor, retention and redaction settings."""
    if errors is None:
        errors = load_errors()
    stem = os.path.basename(path)[:-len(".json")]
    out = []
    for rec in load(path):
        # Ignored attributes are not audited at all, the record's key attributes excepted:
        # leaving them out of the images leaves them out of every diff and image after.
        # Key attributes are never redacted either.
        keys = set(dec for _, dec, _ in rec.keys.members) if rec.keys is not None else set()
        names = set(ignore) - keys
        redact = trust.redact - keys
        rec.old = without(rec.old, names)
        rec.new = without(rec.new, names)
        error = rec.error
        depth = rec.nesting(fmt, redact) if error is None else 0
        if depth > MAX_DEPTH:
            error = Invalid("Records[%d]" % rec.index, "the audit item would nest %d levels" % depth)
        if error is not None:
            key = "%s#%d" % (stem, rec.index)
            text = errors.get(key, "MODEL: " + str(error)).encode("utf-8")
            if trust.redact:
                text = withheld_reason(text)
            out.append(error_item(rec, text, bool(ignore) or bool(trust.redact), trust))
        elif fmt == "classic":
            out.extend(classic_items(rec, trust, redact))
        else:
            item = detailed_item(rec, trust, redact)
            if item is not None:
                out.append(item)
    return out


# ---------------------------------------------------------------------------------------
# BASELINE items (backfill) and the canonical form their ids hash.


def canon_string(b):
    """A decoded string in the canonical form: only '"', '\\' and the controls escaped,
    those as \\", \\\\ and \\u00xx in lower case."""
    out = bytearray(b'"')
    for c in b:
        if c in (0x22, 0x5C):
            out += b"\\" + bytes([c])
        elif c < 0x20:
            out += b"\\u%04x" % c
        else:
            out.append(c)
    return bytes(out + b'"')


def canon_number(text):
    """[-]<digits>E<exponent>, no leading or trailing zero in the digits; zero is 0E0."""
    d = number_value(text)
    if d == 0:
        return b"0E0"
    sign, digits, exp = d.as_tuple()
    digits = list(digits)
    while digits and digits[0] == 0:
        digits.pop(0)
    while digits and digits[-1] == 0:
        digits.pop()
        exp += 1
    return (b"-" if sign else b"") + "".join(map(str, digits)).encode() + b"E%d" % exp


def b64_encode(data):
    out = bytearray()
    for i in range(0, len(data), 3):
        chunk = data[i:i + 3]
        n = int.from_bytes(chunk + b"\0" * (3 - len(chunk)), "big")
        quad = [B64[(n >> s) & 63] for s in (18, 12, 6, 0)]
        out += bytes(quad[:len(chunk) + 1]) + b"=" * (3 - len(chunk))
    return bytes(out)


def canon_value(n):
    t, v = wire(n)
    if t == b"S":
        body = canon_string(v.value)
    elif t == b"N":
        body = b'"' + canon_number(v.value) + b'"'
    elif t == b"B":
        body = b'"' + b64_encode(b64_decode(v.value)) + b'"'
    elif t == b"SS":
        body = b"[" + b",".join(canon_string(x) for x in sorted(m.value for m in v.items)) + b"]"
    elif t == b"NS":
        nums = sorted(v.items, key=lambda m: number_value(m.value))
        body = b"[" + b",".join(b'"' + canon_number(m.value) + b'"' for m in nums) + b"]"
    elif t == b"BS":
        raw = sorted(b64_decode(m.value) for m in v.items)
        body = b"[" + b",".join(b'"' + b64_encode(x) + b'"' for x in raw) + b"]"
    elif t == b"M":
        body = canon_image(v)
    elif t == b"L":
        body = b"[" + b",".join(canon_value(x) for x in v.items) + b"]"
    else:  # BOOL, NULL
        body = v.kind.encode()
    return b'{"' + t + b'":' + body + b"}"


def canon_image(img):
    members = sorted(img.members, key=lambda m: m[1])
    return b"{" + b",".join(canon_string(dec) + b":" + canon_value(v) for _, dec, v in members) + b"}"


def key_text(members):
    """The itemKey's decoded text and its S body, from [(raw, decoded, value)] in key
    schema order: one key's plain value, or a compact object with names sorted."""
    if len(members) == 1:
        t, v = wire(members[0][2])
        return v.value, v.raw
    parts = []
    for raw, dec, v in sorted(members, key=lambda m: m[1]):
        t, sv = wire(v)
        parts.append(b'"' + raw + b'":' + (sv.raw if t == b"N" else b'"' + sv.raw + b'"'))
    text = b"{" + b",".join(parts) + b"}"
    return text, escape(text)


def canon_written(img, redact, trust):
    """The canonical form of an image as written: redacted members as their markers."""
    members = sorted(img.members, key=lambda m: m[1])
    return b"{" + b",".join(canon_string(dec) + b":" +
                            (marker_canon(v, trust) if dec in redact else canon_value(v))
                            for _, dec, v in members) + b"}"


def baseline_item(image, key_names, table, read_ms, fmt, ignore=(), trust=NO_TRUST):
    """The BASELINE item of `image` (an item a Scan read) in `fmt`; None when the image
    lacks a key attribute (the builder refuses it). Its id hashes the image as written,
    so that with redaction no id carries a digest of a secret."""
    by = {dec: (raw, dec, v) for raw, dec, v in image.members}
    if any(k not in by for k in key_names):
        return None
    keys = [by[k] for k in key_names]
    img = without(image, set(ignore) - set(key_names))
    redact = trust.redact - set(key_names)
    text, body = key_text(keys)
    when = iso_ms(read_ms)
    name = b"baseline/" + table + b"/" + text + b"/" + \
        hashlib.sha256(canon_written(img, redact, trust)).hexdigest().encode()
    pairs = [(b"id", S(uuid5(name))), (b"itemKey", S(body)), (b"modificationTime", S(when)),
             (b"eventName", S(b"BASELINE"))] + history_fields(table, body, when, None) + \
        expires_fields(read_ms, trust)
    whole = image_text(img, redact, trust)
    if fmt == "classic":
        pairs.append((b"newValue", whole))
        return obj(pairs)
    pairs.append((b"keys", b'{"M":' + obj([(raw, compact(v)) for raw, _, v in keys]) + b"}"))
    pairs.append((b"tableName", S(escape(table))))
    members = sorted(img.members, key=lambda m: m[1])
    pairs.append((b"updatedAttributes", b'{"L":[' + b",".join(S(r) for r, _, _ in members) + b"]}"))
    pairs.append((b"changes", b'{"L":[' + b",".join(
        change_entry(b"/" + pointer_token(dec), None, audited(dec, v, redact, trust))
        for _, dec, v in members) + b"]}"))
    pairs.append((b"newImage", whole))
    return obj(pairs)


def baselines(path, fmt, ignore=(), trust=NO_TRUST):
    """A BASELINE per valid record's NewImage, as if a Scan of table Configuration had read
    it at the goldens' clock, the record's Keys names standing for the key schema."""
    out = []
    for rec in load(path):
        if rec.error is None and rec.new is not None:
            names = [dec for _, dec, _ in rec.keys.members]
            item = baseline_item(rec.new, names, b"Configuration", NOW_MS, fmt, ignore, trust)
            if item is not None:
                out.append(item)
    return out


SKIP = ("aws-lambda-go-dynamodb-event-malformed.2.json",)

# Fixtures built again with AUDIT_IGNORE_ATTRIBUTES set, into tests/golden/ignore/ (the
# same table is in tests/unit/test_golden.c): an ignored key attribute that stays (Id),
# a MODIFY left with nothing audited, ignored attributes in whole images, an error item
# holding its record's digest.
IGNORE_GOLDENS = {
    "aws-lambda-java-libs-dynamo_event.json": "Message,Id",
    "aws-lambda-go-dynamodb-event.json": "String,Map,NumberSet",
    "localstack-esm-modify-attr-added.json": "id2",
    "powertools-lambda-python-getting_started_dynamodb_event.json": "SomethingElse",
}


# Fixtures whose records' new images are built again as BASELINE items, into
# tests/golden/baseline/ (the same table is in tests/unit/test_golden.c): every type of
# value in the canonical form, a composite key, ignored attributes.
BASELINE_GOLDENS = {
    "aws-lambda-dotnet-dynamodb-event.json": "",
    "aws-lambda-java-libs-dynamo_event.json": "Message",
    "aws-lambda-go-dynamodb-event.json": "",
    "localstack-esm-insert-number.json": "",
    "localstack-getrecords-batchwrite.json": "name",
}


# One trust configuration over every fixture, into tests/golden/trust/ (stream items) and
# tests/golden/trust/baseline/ (the BASELINE_GOLDENS fixtures, without their ignore
# lists); tests/unit/test_golden.c reads the same settings file.
TRUST_DIR = os.path.join(HERE, "trust")
TRUST_SETTINGS = os.path.join(TRUST_DIR, "settings")


def ignore_list(text):
    """AUDIT_IGNORE_ATTRIBUTES's names: comma-separated, trimmed of spaces and tabs."""
    if not text.strip(" \t"):
        return []
    return [n.strip(" \t").encode("utf-8") for n in text.split(",")]


def fixtures():
    d = os.path.join(TOP, "events")
    return sorted(f for f in os.listdir(d)
                  if f.endswith(".json") and not f.startswith("bench-") and f not in SKIP)


def write_golden(path, lines):
    with open(path, "wb") as o:
        for line in lines:
            json.loads(line.decode("utf-8"))  # every line is JSON
            o.write(line + b"\n")


def main(argv):
    if argv[1:] == ["--write-all"]:
        errors = load_errors()
        for f in fixtures():
            for fmt in ("classic", "detailed"):
                write_golden(os.path.join(HERE, "%s.%s.jsonl" % (f[:-5], fmt)),
                             items(os.path.join(TOP, "events", f), fmt, errors))
        os.makedirs(os.path.join(HERE, "ignore"), exist_ok=True)
        for f, names in sorted(IGNORE_GOLDENS.items()):
            for fmt in ("classic", "detailed"):
                write_golden(os.path.join(HERE, "ignore", "%s.%s.jsonl" % (f[:-5], fmt)),
                             items(os.path.join(TOP, "events", f), fmt, errors,
                                   ignore_list(names)))
        os.makedirs(os.path.join(HERE, "baseline"), exist_ok=True)
        for f, names in sorted(BASELINE_GOLDENS.items()):
            for fmt in ("classic", "detailed"):
                write_golden(os.path.join(HERE, "baseline", "%s.%s.jsonl" % (f[:-5], fmt)),
                             baselines(os.path.join(TOP, "events", f), fmt, ignore_list(names)))
        trust = read_settings(TRUST_SETTINGS)
        os.makedirs(os.path.join(TRUST_DIR, "baseline"), exist_ok=True)
        for f in fixtures():
            for fmt in ("classic", "detailed"):
                write_golden(os.path.join(TRUST_DIR, "%s.%s.jsonl" % (f[:-5], fmt)),
                             items(os.path.join(TOP, "events", f), fmt, errors, trust=trust))
        for f in sorted(BASELINE_GOLDENS):
            for fmt in ("classic", "detailed"):
                write_golden(os.path.join(TRUST_DIR, "baseline", "%s.%s.jsonl" % (f[:-5], fmt)),
                             baselines(os.path.join(TOP, "events", f), fmt, trust=trust))
        return 0
    if argv[1:] == ["--check"]:
        for f in fixtures():
            for rec in load(os.path.join(TOP, "events", f)):
                if rec.error is not None:
                    print("%s#%d: %s" % (f[:-5], rec.index, rec.error))
        return 0
    if len(argv) == 5 and argv[1] == "--trust":
        for line in items(argv[3], argv[4], trust=read_settings(argv[2])):
            sys.stdout.buffer.write(line + b"\n")
        return 0
    if len(argv) in (3, 4):
        ignore = ()
        if len(argv) == 4:
            ignore = ignore_list(argv[3])
        for line in items(argv[1], argv[2], ignore=ignore):
            sys.stdout.buffer.write(line + b"\n")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
