#!/usr/bin/env python3
"""An independent model of the canonical form of DynamoDB values, written from the rules
below and sharing nothing with lib/core/canonical.c (tests/canonical/ compares the two).

It works on values as Python's json module decodes them ({"N": "1.50"}, {"SS": [...]}):
escapes are already decoded, so the rules apply to the characters themselves.

    canonical_value({"N": "1800"})        -> b'{"N":"18E2"}'
    canonical_image({"b": ..., "a": ...}) -> b'{"a":...,"b":...}'

The rules: compact JSON in wire form; map members sorted by the UTF-8 bytes of their
names; SS members by their UTF-8 bytes, NS by numeric value, BS by their decoded bytes; a
number as [-]<digits>E<exponent>, the digits without leading or trailing zeros, zero as
0E0; a binary as standard padded base64 of its bytes; a string with '"' and '\\' escaped
as \\" and \\\\, the characters below U+0020 as \\u00xx in lower case, every other
character as its UTF-8; BOOL and NULL as {"BOOL":true|false} and {"NULL":true}.
"""

import base64
import binascii
import fractions
import re

# DynamoDB's number syntax: optional sign, digits with an optional point (at least one
# digit), optional exponent.
_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?\Z")


class CanonicalError(ValueError):
    """A value no valid DynamoDB record holds."""


def number_parts(text):
    """(negative, digits, exponent) with value = -1^negative * int(digits) * 10^exponent,
    digits without leading or trailing zeros; ('', 0) digits and exponent for zero."""
    m = _NUMBER.match(text)
    if m is None or (m.group(2) == "" and not m.group(3)):
        raise CanonicalError("not a number: %r" % text)
    sign, whole, frac, exp = m.group(1), m.group(2), m.group(3) or "", m.group(4)
    digits = whole + frac
    exponent = (int(exp) if exp is not None else 0) - len(frac)
    digits = digits.lstrip("0")
    if digits == "":
        return False, "", 0
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    return sign == "-", stripped, exponent


def canonical_number(text):
    negative, digits, exponent = number_parts(text)
    if digits == "":
        return "0E0"
    return "%s%sE%d" % ("-" if negative else "", digits, exponent)


def number_value(text):
    """The exact value, for ordering an NS."""
    negative, digits, exponent = number_parts(text)
    if digits == "":
        return fractions.Fraction(0)
    v = fractions.Fraction(int(digits)) * fractions.Fraction(10) ** exponent
    return -v if negative else v


def decode_binary(text):
    """The bytes of standard padded base64, strictly: no other alphabet, no whitespace."""
    if not re.fullmatch(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?", text):
        raise CanonicalError("not base64: %r" % text)
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as e:
        raise CanonicalError("not base64: %r (%s)" % (text, e)) from e


def quote(s):
    """A JSON string of the rules, as UTF-8 bytes."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out).encode("utf-8")


def _members(image):
    if not isinstance(image, dict):
        raise CanonicalError("not a map: %r" % (image,))
    names = sorted(image, key=lambda n: n.encode("utf-8"))
    return b",".join(quote(n) + b":" + canonical_value(image[n]) for n in names)


def canonical_image(image):
    """The bare form of a map of attribute values (an item, Keys, an image)."""
    return b"{" + _members(image) + b"}"


def canonical_value(value):
    """The form of one attribute value, {"<type>":...}."""
    if not isinstance(value, dict) or len(value) != 1:
        raise CanonicalError("not an attribute value: %r" % (value,))
    ((tag, body),) = value.items()
    if tag == "S":
        inner = quote(body)
    elif tag == "N":
        inner = quote(canonical_number(body))
    elif tag == "B":
        inner = quote(base64.b64encode(decode_binary(body)).decode("ascii"))
    elif tag == "SS":
        ordered = sorted(body, key=lambda s: s.encode("utf-8"))
        inner = b"[" + b",".join(quote(s) for s in ordered) + b"]"
    elif tag == "NS":
        ordered = sorted(body, key=number_value)
        inner = b"[" + b",".join(quote(canonical_number(n)) for n in ordered) + b"]"
    elif tag == "BS":
        ordered = sorted(decode_binary(b) for b in body)
        inner = b"[" + b",".join(quote(base64.b64encode(b).decode("ascii")) for b in ordered) + b"]"
    elif tag == "M":
        inner = b"{" + _members(body) + b"}"
    elif tag == "L":
        inner = b"[" + b",".join(canonical_value(v) for v in body) + b"]"
    elif tag in ("BOOL", "NULL"):
        if not isinstance(body, bool):
            raise CanonicalError("%s is not a boolean: %r" % (tag, body))
        inner = b"true" if body else b"false"
    else:
        raise CanonicalError("unknown type %r" % tag)
    return b'{"' + tag.encode("ascii") + b'":' + inner + b"}"


# ---- The hash chain, on the same forms ----------------------------------------------------

CHAIN_FIELDS = ("chainPrev", "chain", "chainPrevTime")
ZEROS = "0" * 64


def item_form(item):
    """The canonical form of an audit item (a dict of attribute values) less its chain
    fields."""
    return canonical_image({k: v for k, v in item.items() if k not in CHAIN_FIELDS})


def record_digest(items):
    """SHA-256 of the record's item forms, sorted by the UTF-8 bytes of their ids (then by
    form; the same item twice counted once), each followed by a newline."""
    import hashlib

    forms = sorted({(i["id"]["S"].encode("utf-8"), item_form(i)) for i in items})
    return hashlib.sha256(b"".join(form + b"\n" for _, form in forms)).digest()


def chain_link(prev, digest):
    """chain = hex SHA-256 of the ASCII text <prev><hex of the digest>."""
    import hashlib

    return hashlib.sha256((prev + digest.hex()).encode("ascii")).hexdigest()
