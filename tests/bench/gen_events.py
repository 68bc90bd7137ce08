#!/usr/bin/env python3
# Writes events/bench-1000-mixed.json, the benchmark's input: a Lambda DynamoDB Streams
# event of 1,000 INSERT/MODIFY/REMOVE records of Configuration items, same bytes every run.
"""Generate the benchmark event reproducibly.

Usage: gen_events.py [OUTPUT]   (default: events/bench-1000-mixed.json at the top of the tree)

The records replay a plausible history of the Configuration table (hash key `key`, S):
a table of existing items is changed by about 30% INSERT, 50% MODIFY (1 to 3 operations,
sometimes adding or removing an attribute) and 20% REMOVE, as Lambda delivers them with
the NEW_AND_OLD_IMAGES view: compact JSON, Lambda's field order, 32-hex eventIDs,
increasing 21-digit sequence numbers, integer ApproximateCreationDateTime and SizeBytes
by DynamoDB's size rules.

Only the standard library is used, and no part of it whose output may change between
Python versions: the pseudo-random generator is our own (splitmix64), every number is
formatted by this script, and json.dumps is given exact separators.
"""

import json
import os
import sys

SEED = 0x5EED_2024_0501
RECORDS = 1000
SHARE_INSERT = 30  # percent; MODIFY and REMOVE below
SHARE_MODIFY = 50
INITIAL_ITEMS = 120  # items in the table before the first record (never emitted)

REGION = "us-east-1"
ARN = ("arn:aws:dynamodb:us-east-1:123456789012:table/Configuration/stream/"
       "2024-05-01T00:00:00.000")
START_TIME = 1714564800  # 2024-05-01T12:00:00Z
START_SEQUENCE = 400000000000000000000  # 21 digits

MASK64 = (1 << 64) - 1


class Rng:
    """splitmix64: tiny, and its output never depends on the Python version."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform integer in [0, n), without modulo bias."""
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            r = self.next64()
            if r < limit:
                return r % n

    def between(self, lo, hi):
        return lo + self.below(hi - lo + 1)

    def chance(self, percent):
        return self.below(100) < percent

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]

    def sample(self, seq, k):
        pool = list(seq)
        self.shuffle(pool)
        return pool[:k]

    def hex(self, nchars):
        out = ""
        while len(out) < nchars:
            out += "%016x" % self.next64()
        return out[:nchars]


# ---- What Configuration items look like ------------------------------------------------

FEATURE_AREAS = ["checkout", "search", "payments", "onboarding", "recommendations",
                 "notifications", "inventory", "shipping", "profile", "reviews",
                 "cart", "loyalty"]
FEATURE_FLAGS = ["enabled", "rollout_percent", "new_ui", "beta", "kill_switch",
                 "ab_variant", "dark_launch", "retry_policy"]
SERVICES = ["payments-api", "orders", "auth", "catalog", "email-worker", "pricing",
            "search-indexer", "gateway"]
SERVICE_SETTINGS = ["timeout_ms", "retry_policy", "max_connections", "endpoints",
                    "circuit_breaker", "allowed_origins", "log_level", "rate_limits"]
ENV_NAMES = ["CACHE_TTL_SEC", "RATE_LIMIT_RPS", "MAX_UPLOAD_MB", "SESSION_IDLE_MIN",
             "DB_POOL_SIZE", "LOG_LEVEL", "FEATURE_TOGGLES", "ALLOWED_REGIONS",
             "MAINTENANCE_MODE", "CDN_ORIGINS", "SMTP_SETTINGS", "BATCH_SIZE"]
ENV_SUFFIXES = ["", "_EU_WEST_1", "_US_EAST_1", "_US_WEST_2", "_AP_NORTHEAST_1",
                "_STAGING", "_CANARY", "_DR"]
TENANTS = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka"]

PEOPLE = ["alice@example.com", "bob@example.com", "chloé.martin@example.fr",
          "deploy-bot", "terraform", "ci/github-actions",
          "arn:aws:iam::123456789012:role/ConfigDeployer",
          "arn:aws:sts::123456789012:assumed-role/Admin/jürgen"]
TAGS = ["prod", "staging", "team:payments", "team:growth", "team:platform", "pci",
        "experiment", "deprecated", "owner:sre", "tier-1", "gdpr", "région:eu"]
LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"]
VARIANTS = ["control", "variant-a", "variant-b", "holdout"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1",
           "sa-east-1"]
OPTIONAL_ATTRS = ["owner", "ticket", "expiresAt", "notes"]

# Descriptions with what real ones hold: quotes, newlines, tabs, backslashes, non-ASCII
# text and emoji (4-byte UTF-8), so that escapes and multi-byte sequences get exercised.
DESCRIPTIONS = [
    "Controls {key} for all tenants.",
    "Timeout for \"{svc}\" calls, in milliseconds.\nRaise only with an incident ticket.",
    "Enables the new flow for a share of users; see the \"{area}\" runbook.",
    "Zeitüberschreitung für Zahlungen — siehe Runbook ({n})",
    "キャッシュの有効期限 (秒) — {key}",
    "Rollout 🚀 phase {n}: \"canary\" → \"full\"",
    "Shared path on the legacy host: C:\\config\\{area}\\settings.ini",
    "Columns:\tname\tvalue\tunit\nKeep in sync with the dashboard.",
    "Límite de peticiones por segundo; ajustar con cuidado.",
    "Owned by {svc}. Changing this restarts consumers\u2026",
    "Do not edit by hand: managed by terraform (module \"config/{area}\").",
    "Température maximale autorisée: {n} °C",
]
NOTES = [
    "Temporarily raised for Black Friday; revert after {n} days.",
    "Line one\nLine two with a \"quote\" and a back\\slash",
    "见工单 OPS-{n}",
    "Approved in CAB #{n} \u2714",
]


def fmt_decimal(units, scale):
    """`units` / 10**scale as decimal text without float formatting ("0.75", "12")."""
    sign = "-" if units < 0 else ""
    units = abs(units)
    if scale == 0:
        return sign + str(units)
    whole, frac = divmod(units, 10 ** scale)
    frac_text = str(frac).rjust(scale, "0").rstrip("0")
    return sign + str(whole) + ("." + frac_text if frac_text else "")


def n(text):
    return {"N": text}


def s(text):
    return {"S": text}


def ss(members):
    return {"SS": list(members)}


def number_for(rng, key):
    lower = key.lower()
    if "percent" in lower:
        return str(rng.pick([0, 1, 5, 10, 25, 50, 75, 100]))
    if "timeout" in lower:
        return str(rng.pick([250, 500, 1000, 1500, 2000, 3000, 5000, 10000]))
    if "ttl" in lower:
        return str(rng.pick([30, 60, 300, 900, 1800, 3600, 86400]))
    if "rps" in lower:
        return str(rng.between(5, 400) * 10)
    if "_mb" in lower:
        return str(rng.pick([5, 10, 25, 50, 100, 512]))
    return str(rng.between(1, 256))


def settings_map(rng, depth=0):
    """M of nested settings: numbers (some decimal), booleans, strings, a list, a map."""
    m = {
        "maxAttempts": n(str(rng.between(1, 8))),
        "backoffMs": n(str(rng.pick([25, 50, 100, 200, 400]))),
        "jitter": {"BOOL": rng.chance(70)},
        "errorThreshold": n(fmt_decimal(rng.between(1, 99), 2)),
        "mode": s(rng.pick(["standard", "adaptive", "legacy"])),
    }
    if rng.chance(60):
        m["retryOn"] = {"L": [n(str(c)) for c in rng.sample([429, 500, 502, 503, 504], 3)]}
    if depth == 0 and rng.chance(55):
        m["window"] = {"M": {
            "seconds": n(str(rng.pick([10, 30, 60, 120]))),
            "minRequests": n(str(rng.between(5, 100))),
            "regions": ss(rng.sample(REGIONS, rng.between(1, 3))),
        }}
    if rng.chance(15):
        m["comment"] = {"NULL": True}
    return {"M": m}


def endpoint_list(rng):
    out = []
    for region in rng.sample(REGIONS, rng.between(1, 4)):
        if rng.chance(50):
            out.append(s("https://%s.%s.internal.example.com/v%d"
                         % (rng.pick(SERVICES), region, rng.between(1, 3))))
        else:
            out.append({"M": {
                "url": s("https://api.%s.example.com" % region),
                "weight": n(str(rng.pick([10, 20, 50, 100]))),
                "primary": {"BOOL": rng.chance(30)},
            }})
    return {"L": out}


def value_for(rng, key):
    """A value whose type fits the key's name, as a real Configuration table has them."""
    lower = key.lower()
    if any(w in lower for w in ("enabled", "new_ui", "beta", "kill_switch", "dark_launch",
                                "maintenance")):
        return {"BOOL": rng.chance(50)}
    if any(w in lower for w in ("retry_policy", "circuit_breaker", "rate_limits",
                                "smtp_settings", "feature_toggles")):
        return settings_map(rng)
    if any(w in lower for w in ("endpoints", "cdn_origins")):
        return endpoint_list(rng)
    if any(w in lower for w in ("allowed_origins", "allowed_regions")):
        if "regions" in lower:
            return ss(rng.sample(REGIONS, rng.between(1, 4)))
        return ss(["https://%s.example.com" % h
                   for h in rng.sample(["www", "app", "admin", "m", "shop", "api"],
                                       rng.between(1, 4))])
    if "log_level" in lower:
        return s(rng.pick(LOG_LEVELS))
    if "variant" in lower:
        return s(rng.pick(VARIANTS))
    return n(number_for(rng, key))


def new_key(rng, taken):
    for _ in range(10000):
        kind = rng.below(4)
        if kind == 0:
            key = "feature.%s.%s" % (rng.pick(FEATURE_AREAS), rng.pick(FEATURE_FLAGS))
        elif kind == 1:
            key = "service.%s.%s" % (rng.pick(SERVICES), rng.pick(SERVICE_SETTINGS))
        elif kind == 2:
            key = rng.pick(ENV_NAMES) + rng.pick(ENV_SUFFIXES)
        else:
            key = "tenant.%s.%s" % (rng.pick(TENANTS),
                                    rng.pick(FEATURE_FLAGS + SERVICE_SETTINGS))
        if key not in taken:
            return key
    raise RuntimeError("the key space is too small for the table")


def description_for(rng, key):
    return rng.pick(DESCRIPTIONS).format(key=key, svc=rng.pick(SERVICES),
                                         area=rng.pick(FEATURE_AREAS), n=rng.between(1, 999))


def optional_value(rng, name, now):
    if name == "owner":
        return s(rng.pick(PEOPLE))
    if name == "ticket":
        return s("OPS-%d" % rng.between(100, 9999))
    if name == "expiresAt":
        return n(str(now + rng.between(1, 90) * 86400))
    return s(rng.pick(NOTES).format(n=rng.between(1, 99)))


def new_item(rng, key, now):
    item = {
        "key": s(key),
        "value": value_for(rng, key),
        "description": s(description_for(rng, key)),
        "updatedBy": s(rng.pick(PEOPLE)),
        "version": n("1"),
        "tags": ss(rng.sample(TAGS, rng.between(1, 4))),
    }
    for name in OPTIONAL_ATTRS:
        if rng.chance(20):
            item[name] = optional_value(rng, name, now)
    return item


# ---- Changing an item ---------------------------------------------------------------------

def changed_scalar(rng, old, make):
    while True:
        new = make()
        if new != old:
            return new


def change_value(rng, key, value):
    """A new value of the same shape with a realistic edit; deep edits inside M and L."""
    kind = next(iter(value))
    body = value[kind]
    if kind == "BOOL":
        return {"BOOL": not body}
    if kind == "N":
        return changed_scalar(rng, value, lambda: n(number_for(rng, key)))
    if kind == "S":
        return changed_scalar(rng, value, lambda: value_for(rng, key))
    if kind == "SS":
        members = list(body)
        pool = REGIONS if "regions" in key.lower() else \
            ["https://%s.example.com" % h for h in ("www", "app", "admin", "m", "shop", "api")]
        spare = [p for p in pool if p not in members]
        if spare and (len(members) == 1 or rng.chance(50)):
            members.append(rng.pick(spare))
        else:
            members.pop(rng.below(len(members)))
        return ss(members)
    if kind == "L":
        items = [dict(e) for e in body]
        op = rng.below(3)
        if op == 0 or len(items) == 1:
            items.append(endpoint_list(rng)["L"][0])
        elif op == 1:
            items.pop(rng.below(len(items)))
        else:
            i = rng.below(len(items))
            if "M" in items[i]:
                entry = dict(items[i]["M"])
                entry["weight"] = changed_scalar(
                    rng, entry["weight"], lambda: n(str(rng.pick([0, 10, 20, 50, 100]))))
                items[i] = {"M": entry}
            else:
                items[i] = changed_scalar(rng, items[i], lambda: endpoint_list(rng)["L"][0])
        return {"L": items}
    if kind == "M":
        entries = dict(body)
        op = rng.below(10)
        if op < 6:
            name = rng.pick(["maxAttempts", "backoffMs", "errorThreshold", "jitter", "mode"])
            old = entries[name]
            if name == "jitter":
                entries[name] = {"BOOL": not old["BOOL"]}
            elif name == "mode":
                entries[name] = changed_scalar(
                    rng, old, lambda: s(rng.pick(["standard", "adaptive", "legacy"])))
            elif name == "errorThreshold":
                entries[name] = changed_scalar(
                    rng, old, lambda: n(fmt_decimal(rng.between(1, 99), 2)))
            else:
                entries[name] = changed_scalar(rng, old, lambda: n(str(rng.between(1, 500))))
        elif op < 8 and "window" in entries:
            window = dict(entries["window"]["M"])
            window["seconds"] = changed_scalar(
                rng, window["seconds"], lambda: n(str(rng.pick([5, 10, 30, 60, 120, 300]))))
            entries["window"] = {"M": window}
        elif "comment" in entries:
            del entries["comment"]
        else:
            entries["comment"] = s("tuned after incident INC-%d" % rng.between(1000, 9999))
        return {"M": entries}
    raise AssertionError(kind)


def modify_item(rng, item, now):
    """1 to 3 operations; each edits an attribute, or sometimes adds or removes one."""
    new = dict(item)
    ops = rng.pick([1, 1, 2, 2, 2, 3])
    editable = ["value", "value", "value", "description", "updatedBy", "version", "tags"]
    done = set()
    for _ in range(ops):
        absent = [a for a in OPTIONAL_ATTRS if a not in new]
        present = [a for a in OPTIONAL_ATTRS if a in new and a not in done]
        roll = rng.below(100)
        if roll < 12 and absent:
            name = rng.pick(absent)
            new[name] = optional_value(rng, name, now)
            done.add(name)
            continue
        if roll < 20 and present:
            name = rng.pick(present)
            del new[name]
            done.add(name)
            continue
        choices = [a for a in editable if a not in done]
        if not choices:
            break
        name = rng.pick(choices)
        done.add(name)
        if name == "value":
            new[name] = change_value(rng, item["key"]["S"], new[name])
        elif name == "description":
            new[name] = changed_scalar(rng, new[name],
                                       lambda: s(description_for(rng, item["key"]["S"])))
        elif name == "updatedBy":
            new[name] = changed_scalar(rng, new[name], lambda: s(rng.pick(PEOPLE)))
        elif name == "version":
            new[name] = n(str(int(new[name]["N"]) + 1))
        else:
            tags = list(new["tags"]["SS"])
            spare = [t for t in TAGS if t not in tags]
            if spare and (len(tags) == 1 or rng.chance(60)):
                tags.append(rng.pick(spare))
            else:
                tags.pop(rng.below(len(tags)))
            new[name] = ss(tags)
    return new


# ---- DynamoDB's sizes, for SizeBytes ---------------------------------------------------------

def utf8_len(text):
    return len(text.encode("utf-8"))


def number_size(text):
    """1 byte per two significant digits, rounded up, plus 1 (zero: 1 byte)."""
    mantissa = text.lstrip("-+").split("e")[0].split("E")[0]
    digits = mantissa.replace(".", "").lstrip("0").rstrip("0")
    return (len(digits) + 1) // 2 + 1


def value_size(value):
    kind, body = next(iter(value.items()))
    if kind == "S":
        return utf8_len(body)
    if kind == "N":
        return number_size(body)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(utf8_len(m) for m in body)
    if kind == "L":
        return 3 + sum(1 + value_size(e) for e in body)
    if kind == "M":
        return 3 + sum(1 + utf8_len(k) + value_size(v) for k, v in body.items())
    raise AssertionError(kind)


def image_size(image):
    return sum(utf8_len(k) + value_size(v) for k, v in image.items())


# ---- The event ------------------------------------------------------------------------------

def shuffled_image(rng, item):
    """DynamoDB lists an image's attributes in no particular order."""
    names = list(item)
    rng.shuffle(names)
    return {name: item[name] for name in names}


def generate():
    rng = Rng(SEED)
    now = START_TIME
    table = {}
    while len(table) < INITIAL_ITEMS:
        key = new_key(rng, table)
        table[key] = new_item(rng, key, now - 86400 * rng.between(1, 400))

    names = (["INSERT"] * (RECORDS * SHARE_INSERT // 100)
             + ["MODIFY"] * (RECORDS * SHARE_MODIFY // 100))
    names += ["REMOVE"] * (RECORDS - len(names))
    rng.shuffle(names)

    sequence = START_SEQUENCE
    records = []
    for event_name in names:
        now += rng.below(3)
        sequence += rng.between(100, 99999)
        if event_name == "INSERT":
            key = new_key(rng, table)
            old, new = None, new_item(rng, key, now)
            table[key] = new
        else:
            key = rng.pick(sorted(table))
            old = table[key]
            if event_name == "MODIFY":
                new = modify_item(rng, old, now)
                table[key] = new
            else:
                new = None
                del table[key]

        keys = {"key": s(key)}
        dynamodb = {"ApproximateCreationDateTime": now, "Keys": keys}
        size = image_size(keys)
        if new is not None:
            dynamodb["NewImage"] = shuffled_image(rng, new)
            size += image_size(new)
        if old is not None:
            dynamodb["OldImage"] = shuffled_image(rng, old)
            size += image_size(old)
        dynamodb["SequenceNumber"] = str(sequence)
        dynamodb["SizeBytes"] = size
        dynamodb["StreamViewType"] = "NEW_AND_OLD_IMAGES"
        records.append({
            "eventID": rng.hex(32),
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": dynamodb,
            "eventSourceARN": ARN,
        })
    return {"Records": records}


def main(argv):
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = argv[1] if len(argv) > 1 else os.path.join(top, "events", "bench-1000-mixed.json")
    text = json.dumps(generate(), ensure_ascii=False, separators=(",", ":"))
    # Written aside and renamed, so an interrupted run never leaves a file make would keep.
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(text.encode("utf-8"))
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
