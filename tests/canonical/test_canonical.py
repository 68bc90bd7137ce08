#!/usr/bin/env python3
"""The canonical form, C against an independent Python model (tests/support/canonical.py).

Checks the model on the rules' own examples and on the shared vectors
(tests/canonical/vectors.tsv, which tests/unit/test_canonical.c reads too) first, then runs
the C driver
(tests/canonical/canonical_dump.c, built by `make check-canonical`) over every fixture in
events/ and over random events, and compares each Keys, OldImage and NewImage form byte
for byte. The random events spell every value in many ways (escapes in names, strings,
numbers and base64, numbers with leading and trailing zeros, exponents, signs, base64 with
stray padding bits, sets and maps in any order, whitespace), so equal values written
differently must come out the same on both sides.

With --chain-driver (tests/canonical/chain_dump.c) it also builds every fixture's audit
items in both formats, linked into their chains, and checks each item's canonical form, each
record's digest and each link against the model.

    python3 tests/canonical/test_canonical.py --driver build/canonical/canonical_dump
        [--chain-driver build/canonical/chain_dump] [--seed N] [--rounds N] [--records N]
"""

import argparse
import base64
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "support"))

import canonical  # noqa: E402  (the model, found through the path above)

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL " + what, file=sys.stderr)


# ---- The model on the rules' examples ------------------------------------------------------


def self_check():
    numbers = {
        "1800": "18E2", "0.50": "5E-1", "-0.0": "0E0", "1E3": "1E3", "100": "1E2",
        "0.001": "1E-3", "-12.5e+2": "-125E1", "0": "0E0", "+5": "5E0", ".5": "5E-1",
        "5.": "5E0", "007": "7E0", "123.456": "123456E-3", "0e99": "0E0",
    }
    for text, want in numbers.items():
        got = canonical.canonical_number(text)
        check(got == want, "model: N %s gave %s, want %s" % (text, got, want))
    strings = {
        'a"b': b'"a\\"b"', "a\\b": b'"a\\\\b"', "\n": b'"\\u000a"', "\x1f": b'"\\u001f"',
        "/": b'"/"', "\x7f": b'"\x7f"', "\u00e9": b'"\xc3\xa9"',
        "\U0001f600": b'"\xf0\x9f\x98\x80"',
    }
    for text, want in strings.items():
        got = canonical.quote(text)
        check(got == want, "model: S %r gave %r, want %r" % (text, got, want))
    cases = [
        ({"B": "QR=="}, b'{"B":"QQ=="}'),
        ({"SS": ["b", "\u00e9", "B"]}, b'{"SS":["B","b","\xc3\xa9"]}'),
        ({"NS": ["10", "-1", "0.5"]}, b'{"NS":["-1E0","5E-1","1E1"]}'),
        ({"BS": ["Qg==", "QUI=", "QQ=="]}, b'{"BS":["QQ==","QUI=","Qg=="]}'),
        ({"M": {"b": {"BOOL": False}, "a": {"NULL": True}}},
         b'{"M":{"a":{"NULL":true},"b":{"BOOL":false}}}'),
        ({"L": [{"N": "2"}, {"N": "1"}]}, b'{"L":[{"N":"2E0"},{"N":"1E0"}]}'),
    ]
    for value, want in cases:
        got = canonical.canonical_value(value)
        check(got == want, "model: %r gave %r, want %r" % (value, got, want))
    got = canonical.canonical_image({"value": {"N": "3600"}, "key": {"S": "K"}})
    check(got == b'{"key":{"S":"K"},"value":{"N":"36E2"}}', "model: image gave %r" % got)
    for bad in ("", ".", "1e", "abc", "0x1"):
        try:
            canonical.canonical_number(bad)
            check(False, "model: N %r was accepted" % bad)
        except canonical.CanonicalError:
            pass


def vector_check():
    """The model on tests/canonical/vectors.tsv, byte for byte; returns the vectors read."""
    count = 0
    with open(os.path.join(HERE, "vectors.tsv"), "rb") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip(b"\n")
            if not line or line.startswith(b"#"):
                continue
            value, want = line.split(b"\t")
            got = canonical.canonical_value(json.loads(value.decode("utf-8")))
            check(got == want, "vectors.tsv:%d: %s\n  model  %r\n  want   %r" % (
                n, value.decode("utf-8", "replace"), got, want))
            count += 1
    check(count >= 120, "only %d vectors in vectors.tsv" % count)
    return count


# ---- Chained audit items: forms, digests and links -------------------------------------------


def check_chains(driver, paths, fmt):
    """Runs chain_dump over the fixtures in one format and checks every item's form, every
    record's digest and link, and every head, against the model; returns (items, records)."""
    proc = subprocess.run([driver, "--format", fmt, "--retention-days", "30"] + paths,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    check(proc.returncode == 0, "chain_dump %s exited %d: %s" % (
        fmt, proc.returncode, proc.stderr.decode(errors="replace")))
    items = []      # (file, item) in order
    forms = []      # (file, id, form)
    records = []    # (file, historyKey, historySort, digest, chain)
    heads = []
    for line in proc.stdout.split(b"\n"):
        if not line:
            continue
        parts = line.split(b"\t")
        tag, path = parts[0], parts[1].decode()
        if tag == b"I":
            items.append((path, json.loads(parts[2].decode("utf-8"))))
        elif tag == b"F":
            forms.append((path, parts[2].decode(), parts[3]))
        elif tag == b"D":
            records.append((path, json.loads(b'"' + parts[2] + b'"'), parts[3].decode(),
                            parts[4].decode(), parts[5].decode()))
        elif tag == b"H":
            heads.append((path, json.loads(parts[2].decode("utf-8"))))
    check(len(items) == len(forms), "%s: %d items but %d forms" % (fmt, len(items), len(forms)))
    for (path, item), (_, id_, form) in zip(items, forms):
        want = canonical.item_form(item)
        check(form == want, "%s %s item %s:\n  C      %r\n  model  %r" % (
            fmt, path, id_, form, want))
    # The chained records, as the items hold them, in the order they were linked.
    by_record = {}
    for path, item in items:
        if "chain" in item:
            key = (path, item["historyKey"]["S"], item["historySort"]["S"])
            by_record.setdefault(key, []).append(item)
    prev = {}
    count = {}
    for path, hkey, hsort, digest, chain in records:
        group = by_record.get((path, hkey, hsort), [])
        check(len(group) > 0, "%s %s %s %s: no chained item" % (fmt, path, hkey, hsort))
        if not group:
            continue
        d = canonical.record_digest(group)
        check(d.hex() == digest, "%s %s %s %s: digest C %s, model %s" % (
            fmt, path, hkey, hsort, digest, d.hex()))
        p = prev.get((path, hkey), canonical.ZEROS)
        want = canonical.chain_link(p, d)
        check(want == chain, "%s %s %s %s: chain C %s, model %s" % (
            fmt, path, hkey, hsort, chain, want))
        for item in group:
            check(item["chainPrev"]["S"] == p and item["chain"]["S"] == want,
                  "%s %s %s: item %s carries other chain fields" % (
                      fmt, path, hsort, item["id"]["S"]))
        prev[(path, hkey)] = want
        count[(path, hkey)] = count.get((path, hkey), 0) + 1
    for path, head in heads:
        key = (path, head["chainOf"]["S"])
        check(head["chain"]["S"] == prev.get(key) and int(head["entries"]["N"]) == count.get(key),
              "%s %s: head of %s is not the last link" % (fmt, path, key[1]))
    check(len(heads) == len(prev), "%s: %d heads for %d chained keys" % (fmt, len(heads), len(prev)))
    return len(items), len(records)


# ---- Comparing the driver with the model ---------------------------------------------------


def run_driver(driver, paths):
    proc = subprocess.run([driver] + paths, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=False)
    check(proc.returncode == 0, "driver exited %d: %s" % (proc.returncode,
                                                         proc.stderr.decode(errors="replace")))
    lines = {}
    for line in proc.stdout.split(b"\n"):
        if line == b"":
            continue
        path, record, side, rest = line.split(b" ", 3)
        lines.setdefault(path.decode(), []).append((record.decode(), side.decode(), rest))
    return lines


def compare_file(path, lines, all_valid):
    """Compares the driver's lines for one event file with the model; returns the images
    compared."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except ValueError:
        doc = None
    if lines and lines[0][1] == "undecodable":
        check(doc is None or not isinstance(doc.get("Records"), list),
              "%s: the C decoder refused what Python reads as an event: %s" % (path, lines[0][2]))
        return 0
    check(doc is not None, "%s: Python cannot read the file the C decoder read" % path)
    if doc is None:
        return 0
    records = doc["Records"]
    invalid = {int(r) for r, side, _ in lines if side == "error"}
    if all_valid:
        check(not invalid, "%s: generated records refused: %s" % (
            path, [rest.decode(errors="replace") for _, side, rest in lines if side == "error"]))
    seen = set()
    compared = 0
    for record, side, form in lines:
        if side == "error":
            continue
        i = int(record)
        dyn = records[i]["dynamodb"]
        if side == "value":
            whole = dyn.get("NewImage", dyn.get("OldImage"))
            want = canonical.canonical_value({"M": whole})
        else:
            want = canonical.canonical_image(dyn[side])
        seen.add((i, side))
        compared += 1
        check(form == want,
              "%s record %d %s:\n  C      %r\n  model  %r" % (path, i, side, form, want))
    # Every image of a record the decoder took must have been written.
    for i, rec in enumerate(records):
        dyn = rec.get("dynamodb") if isinstance(rec, dict) else None
        if i in invalid or not isinstance(dyn, dict):
            continue
        for side in ("Keys", "OldImage", "NewImage"):
            if side in dyn:
                check((i, side) in seen, "%s record %d: no %s line" % (path, i, side))
    return compared


# ---- Random events ---------------------------------------------------------------------------

CHARS = (
    list("abcxyzABCXYZ019 _-.~") + ['"', "\\", "/", "\n", "\t", "\x00", "\x01", "\x1f", "\x7f",
                                    "\u00e9", "\u00df", "\u4e2d", "\u2028", "\ufeff",
                                    "\U0001f600", "\U00010000", "\U0010fffd"]
)
SHORT = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n",
         "\r": "\\r", "\t": "\\t"}


def json_string(rng, s):
    """`s` as a JSON string, each character spelt one of the ways JSON allows."""
    out = ['"']
    for ch in s:
        cp = ord(ch)
        ways = []
        if ch not in '"\\' and cp >= 0x20:
            ways.append(ch)
        if ch in SHORT:
            ways.append(SHORT[ch])
        if cp < 0x10000:
            ways.append("\\u%04x" % cp)
            ways.append("\\u%04X" % cp)
        else:
            v = cp - 0x10000
            hi, lo = 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)
            ways.append("\\u%04x\\u%04x" % (hi, lo))
            ways.append("\\u%04X\\u%04x" % (hi, lo))
        # Mostly raw, so that escapes stay a spice rather than the whole dish.
        out.append(ways[0] if rng.random() < 0.6 else rng.choice(ways))
    out.append('"')
    return "".join(out)


def rand_text(rng, lo=0, hi=8):
    return "".join(rng.choice(CHARS) for _ in range(rng.randint(lo, hi)))


def rand_number(rng):
    """(text, value key): a DynamoDB number spelt at random, and its exact value."""
    if rng.random() < 0.1:
        text = rng.choice(["0", "-0", "+0", "0.000", "0e5", "-0.0E-3", ".0", "0.", "000"])
        return text, canonical.number_value(text)
    n = rng.randint(1, 38)
    digits = str(rng.randint(1, 9))
    if n > 1:
        digits += "".join(rng.choice("0123456789") for _ in range(n - 2)) + str(rng.randint(1, 9))
    # value = digits * 10^e; its leading digit sits at 10^(len + e - 1), kept within
    # DynamoDB's 1E-130 .. 9.99E+125.
    lead = rng.choice([rng.randint(-130, 125), rng.randint(-6, 12), rng.randint(-6, 12)])
    e = lead - len(digits) + 1
    z = rng.choice([0, 0, 0, 1, 3])
    k = rng.choice([0, 0, 0, 1, 2, 4])
    mant = "0" * z + digits + "0" * k
    f = rng.randint(0, len(mant))
    x = e - k + f
    head, tail = mant[: len(mant) - f], mant[len(mant) - f:]
    if tail:
        body = head + "." + tail
    else:
        body = head + ("." if rng.random() < 0.15 else "")
    if x != 0 or rng.random() < 0.2:
        body += rng.choice("eE") + rng.choice(["", "+"] if x >= 0 else [""]) + str(x)
    sign = rng.choice(["", "", "-", "+"])
    text = sign + body
    return text, canonical.number_value(text)


def rand_binary(rng):
    data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 10)))
    text = base64.b64encode(data).decode()
    if text.endswith("=") and rng.random() < 0.5:
        # Set the unused bits of the padded quantum: the same bytes, another text.
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        pos = len(text.rstrip("=")) - 1
        unused = 4 if text.endswith("==") else 2
        v = alphabet.index(text[pos]) | rng.randint(1, (1 << unused) - 1)
        text = text[:pos] + alphabet[v] + text[pos + 1:]
    return text, data


def ws(rng):
    return rng.choice(["", "", "", "", " ", "\n  ", "\t"])


def write_value(rng, depth):
    """A random attribute value as JSON text."""
    kinds = ["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL"]
    if depth > 0:
        kinds += ["M", "M", "L", "L"]
    kind = rng.choice(kinds)
    if kind == "S":
        body = json_string(rng, rand_text(rng))
    elif kind == "N":
        body = json_string(rng, rand_number(rng)[0])
    elif kind == "B":
        body = json_string(rng, rand_binary(rng)[0])
    elif kind in ("SS", "NS", "BS"):
        members = {}
        for _ in range(rng.randint(1, 7)):
            if kind == "SS":
                s = rand_text(rng, 1)
                members[s] = s
            elif kind == "NS":
                text, value = rand_number(rng)
                members[value] = text
            else:
                text, data = rand_binary(rng)
                if data:
                    members[data] = text
        if not members:
            members = {b"\x00": "AA=="}
        texts = list(members.values())
        rng.shuffle(texts)
        body = "[" + ",".join(ws(rng) + json_string(rng, t) + ws(rng) for t in texts) + "]"
    elif kind == "BOOL":
        body = rng.choice(["true", "false"])
    elif kind == "NULL":
        body = "true"
    elif kind == "M":
        body = write_map(rng, depth - 1, rng.randint(0, 5))
    else:
        body = "[" + ",".join(ws(rng) + write_value(rng, depth - 1)
                              for _ in range(rng.randint(0, 4))) + "]"
    return "{" + ws(rng) + json_string(rng, kind) + ws(rng) + ":" + ws(rng) + body + ws(rng) + "}"


def write_map(rng, depth, count):
    names = {}
    while len(names) < count:
        name = rand_text(rng, 1, 6)
        names[name] = write_value(rng, depth)
    return "{" + ",".join(ws(rng) + json_string(rng, n) + ws(rng) + ":" + ws(rng) + v
                          for n, v in names.items()) + "}"


def write_event(rng, records):
    out = []
    for i in range(records):
        name = rng.choice(["INSERT", "MODIFY", "REMOVE"])
        key = '{"pk":{"S":%s}}' % json_string(rng, rand_text(rng, 1, 6))
        parts = ['"Keys":' + key, '"SequenceNumber":"%d"' % (i + 1)]
        if name in ("MODIFY", "REMOVE"):
            parts.append('"OldImage":' + write_map(rng, 4, rng.randint(1, 7)))
        if name in ("INSERT", "MODIFY"):
            parts.append('"NewImage":' + write_map(rng, 4, rng.randint(1, 7)))
        out.append('{"eventID":"r%d","eventName":"%s","eventSource":"aws:dynamodb",'
                   '"dynamodb":{%s}}' % (i, name, ",".join(parts)))
    return '{"Records":[' + ",\n".join(out) + "]}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--driver", required=True, help="the built canonical_dump")
    ap.add_argument("--chain-driver", help="the built chain_dump: check chained fixture items")
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--rounds", type=int, default=8, help="random event files")
    ap.add_argument("--records", type=int, default=40, help="records per random file")
    args = ap.parse_args()

    self_check()
    vectors = vector_check()

    events_dir = os.path.join(TOP, "events")
    fixtures = sorted(os.path.join(events_dir, n) for n in os.listdir(events_dir)
                      if n.endswith(".json"))
    check(len(fixtures) > 0, "no fixtures in events/")
    lines = run_driver(args.driver, fixtures)
    fixture_images = 0
    for path in fixtures:
        fixture_images += compare_file(path, lines.get(path, []), all_valid=False)
    check(fixture_images >= 1000, "only %d fixture images compared" % fixture_images)
    chained = ""
    if args.chain_driver:
        totals = [check_chains(args.chain_driver, fixtures, fmt) for fmt in ("classic", "detailed")]
        check(all(t[1] >= 1000 for t in totals), "too few chained records: %r" % (totals,))
        chained = ", %d+%d items and %d+%d chained records (classic+detailed)" % (
            totals[0][0], totals[1][0], totals[0][1], totals[1][1])

    rng = random.Random(args.seed)
    random_images = 0
    with tempfile.TemporaryDirectory(prefix="canonical-") as tmp:
        paths = []
        for r in range(args.rounds):
            path = os.path.join(tmp, "random-%d.json" % r)
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(write_event(rng, args.records))
            paths.append(path)
        lines = run_driver(args.driver, paths)
        for path in paths:
            random_images += compare_file(path, lines.get(path, []), all_valid=True)
        if failures:
            kept = os.path.join(tempfile.gettempdir(), "canonical-failed-seed-%d" % args.seed)
            os.makedirs(kept, exist_ok=True)
            for path in paths:
                with open(path, "rb") as src, open(os.path.join(kept, os.path.basename(path)),
                                                   "wb") as dst:
                    dst.write(src.read())
            print("random events kept in %s" % kept, file=sys.stderr)
    check(random_images >= args.rounds * args.records * 2,
          "only %d random images compared" % random_images)

    print("canonical: %d vectors, %d fixture files, %d fixture forms%s, %d random forms "
          "(seed %d): %d failures" % (vectors, len(fixtures), fixture_images, chained,
                                      random_images, args.seed, len(failures)))
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
