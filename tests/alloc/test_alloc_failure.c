/* The allocation-failure stage for the core: decode, diff and build (both formats) of every
 * event in events/ and of generated ones, failing the n-th allocation for every n.
 *
 * Each run must either report AS_ERR_NOMEM (with its message set and nothing leaked) or
 * give exactly the bytes of the clean run: the records' errors, every image written back
 * by as_value_to_json, the diffs and every item of both formats. n goes from 1 until a
 * run finishes without reaching the failure; each n is tried twice, with only the n-th
 * allocation failing (code that shrugs off one failure and goes on shows up) and with
 * every allocation from the n-th on failing. libcrypto's allocations are counted and
 * failed too (the digests behind the ids). A failure that changes nothing is allowed:
 * the decoder giving back its spare value slots, libcrypto's own caches, a large set
 * compared pairwise when the sort cannot get memory. Built by `make check-alloc` with the
 * --wrap link alloc_fail.h describes. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "auditstream/audit.h"
#include "auditstream/buf.h"
#include "auditstream/chain.h"
#include "auditstream/diff.h"
#include "auditstream/event.h"
#include "auditstream/replay.h"
#include "auditstream/wire.h"
#include "core/canonical.h"

/* ---- One run: everything the core can be asked about an event, written down -------- */

static void dump_str(as_buf *out, const char *label, const char *text)
{
    as_buf_append_str(out, label);
    as_buf_append_str(out, text != NULL ? text : "(null)");
    as_buf_append_char(out, '\n');
}

static void dump_span(as_buf *out, const char *label, as_span span)
{
    as_buf_append_str(out, label);
    if (span.ptr == NULL) {
        as_buf_append_str(out, "(null)");
    } else {
        as_buf_append_span(out, span);
    }
    as_buf_append_char(out, '\n');
}

static void dump_u64(as_buf *out, const char *label, uint64_t value)
{
    as_buf_append_str(out, label);
    as_buf_append_u64(out, value);
    as_buf_append_char(out, '\n');
}

/* A value by where it lies in the input, so that a wrong pointer shows. */
static void dump_value(as_buf *out, const char *label, const as_value *v, const char *base)
{
    as_buf_append_str(out, label);
    if (v == NULL) {
        as_buf_append_str(out, "-\n");
        return;
    }
    as_buf_append_u64(out, (uint64_t)(v->text.ptr - base));
    as_buf_append_char(out, '+');
    as_buf_append_u64(out, v->text.len);
    as_buf_append_char(out, '\n');
}

static void dump_changes(as_buf *out, const as_changes *changes, const char *base)
{
    size_t n = as_changes_count(changes);
    dump_u64(out, "changes ", n);
    for (size_t i = 0; i < n; i++) {
        const as_change *c = as_changes_get(changes, i);
        dump_span(out, " path ", c->path);
        dump_span(out, " top ", c->top_name);
        dump_value(out, " old ", c->old_value, base);
        dump_value(out, " new ", c->new_value, base);
    }
}

static void dump_items(as_buf *out, const as_items *items)
{
    size_t n = as_items_count(items);
    dump_u64(out, "items ", n);
    for (size_t i = 0; i < n; i++) {
        as_item item = as_items_get(items, i);
        dump_u64(out, " record ", item.record);
        dump_u64(out, " flags ", item.flags);
        dump_u64(out, " size ", item.size);
        dump_span(out, " reason ", item.reason);
        dump_span(out, " json ", item.json);
    }
}

/* After a failed build, the items already in the list must still be whole items: none
 * may point at bytes the failure cut or never wrote. */
static void check_items_whole(const as_items *items)
{
    static const char head[] = "{\"id\":{\"S\":\"";
    for (size_t i = 0; i < as_items_count(items); i++) {
        as_item item = as_items_get(items, i);
        CHECK(item.json.len > sizeof head && memcmp(item.json.ptr, head, sizeof head - 1) == 0 &&
                  item.json.ptr[item.json.len - 1] == '}',
              "item %zu of a failed build is not whole: %.*s", i,
              (int)(item.json.len < 80 ? item.json.len : 80), item.json.ptr);
    }
}

/* How a run ended, when not for want of memory. */
static void dump_result(as_buf *out, as_status status, const as_error *err)
{
    dump_u64(out, "status ", (uint64_t)status);
    if (status != AS_OK) {
        dump_u64(out, "offset ", err->offset);
        dump_str(out, "message ", err->message);
    }
}

static const as_span IGNORED[] = {{"ignored", 7}, {"version", 7}};
/* The trust options of the second pass: redacted names the fixtures hold (their HMACs
 * allocate in libcrypto), an actor, retention and a reserve. */
static const as_span REDACTED[] = {{"Message", 7}, {"value", 5}, {"Map", 3}, {"asdf1", 5}};
static const uint8_t REDACT_KEY[32] = {1, 2, 3};

/* The trust passes leave out events of more records than this (the 1,000-record bench):
 * their failure paths are the small events' own, and each redacted value's HMAC adds
 * allocations that every run of every n would repeat. */
#define TRUST_MAX_RECORDS 100

static void trust_options(as_audit_options *o)
{
    o->actor_attribute = (as_span){"updatedBy", 9};
    o->retention_days = 30;
    o->redact = REDACTED;
    o->redact_count = sizeof REDACTED / sizeof REDACTED[0];
    o->redact_key = REDACT_KEY;
    o->redact_key_len = sizeof REDACT_KEY;
    o->reserve_bytes = 256;
}

/* Decodes `json`, diffs every MODIFY both ways and builds both formats, writing what it
 * got to `out` with allocation counting paused. The first failure ends the run. */
static as_status run(const char *json, size_t len, as_buf *out, as_error *err)
{
    as_event *event = NULL;
    as_changes *changes = NULL;
    as_items *items = NULL;
    as_status status = as_event_decode(json, len, &event, err);
    if (status != AS_OK) {
        goto done;
    }
    alloc_fail_pause();
    size_t count = as_event_record_count(event);
    dump_u64(out, "records ", count);
    for (size_t i = 0; i < count; i++) {
        dump_str(out, "error ", as_event_record(event, i)->error);
    }
    alloc_fail_resume();

    /* Each image back as wire JSON, through the public writer. */
    for (size_t i = 0; i < count; i++) {
        const as_record *rec = as_event_record(event, i);
        const as_value *images[2] = {rec->old_image, rec->new_image};
        for (int side = 0; side < 2; side++) {
            if (images[side] == NULL) {
                continue;
            }
            as_buf wire = AS_BUF_INIT;
            status = as_value_to_json(images[side], &wire, err);
            alloc_fail_pause();
            if (status == AS_OK) {
                dump_span(out, "image ", (as_span){wire.data, wire.len});
            }
            alloc_fail_resume();
            as_buf_free(&wire);
            if (status != AS_OK) {
                goto done;
            }
        }
    }

    changes = as_changes_new();
    if (changes == NULL) {
        /* Constructors answer NULL and have no as_error to fill. */
        status = AS_ERR_NOMEM;
        *err = (as_error){AS_ERR_NOMEM, 0, "as_changes_new: NULL"};
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        const as_record *rec = as_event_record(event, i);
        if (rec->error != NULL || rec->event_name != AS_EVENT_MODIFY) {
            continue;
        }
        for (int mode = AS_DIFF_TOP; mode <= AS_DIFF_DEEP; mode++) {
            status = as_diff_images(rec->old_image, rec->new_image, (as_diff_mode)mode, IGNORED,
                                    mode == AS_DIFF_TOP ? 2 : 0, changes, err);
            if (status != AS_OK) {
                goto done;
            }
            alloc_fail_pause();
            dump_changes(out, changes, json);
            alloc_fail_resume();
        }
    }

    items = as_items_new();
    if (items == NULL) {
        status = AS_ERR_NOMEM;
        *err = (as_error){AS_ERR_NOMEM, 0, "as_items_new: NULL"};
        goto done;
    }
    for (int pass = 0; pass < 4; pass++) {
        int format = AS_FORMAT_CLASSIC + pass % 2;
        as_audit_options options = {.format = (as_format)format, .ignore = IGNORED, .ignore_count = 2, .now_ms = INT64_C(1700000000123)};
        if (pass >= 2) {
            if (count > TRUST_MAX_RECORDS) {
                break;
            }
            trust_options(&options);
        }
        as_items_clear(items);
        status = as_audit_build_event(event, &options, items, err);
        if (status != AS_OK) {
            alloc_fail_pause();
            check_items_whole(items);
            alloc_fail_resume();
            goto done;
        }
        alloc_fail_pause();
        dump_items(out, items);
        alloc_fail_resume();
    }

    /* Each new image as backfill's BASELINE item, its Keys' names as the key schema. */
    for (int pass = 0; pass < 4; pass++) {
        int format = AS_FORMAT_CLASSIC + pass % 2;
        as_audit_options options = {.format = (as_format)format, .ignore = IGNORED, .ignore_count = 2, .now_ms = 0};
        if (pass >= 2) {
            if (count > TRUST_MAX_RECORDS) {
                break;
            }
            trust_options(&options);
        }
        for (size_t i = 0; i < count; i++) {
            const as_record *rec = as_event_record(event, i);
            if (rec->error != NULL || rec->new_image == NULL || rec->keys->count > 2) {
                continue;
            }
            alloc_fail_pause();
            as_buf names = AS_BUF_INIT;
            size_t ends[2];
            size_t n = 0;
            for (const as_value *k = rec->keys + 1; k < rec->keys + rec->keys->subtree;
                 k += k->subtree) {
                as_json_unescape(k->name, &names);
                ends[n++] = names.len;
            }
            as_span key_names[2];
            for (size_t k = 0; k < n; k++) {
                size_t start = k == 0 ? 0 : ends[k - 1];
                key_names[k] = (as_span){names.data + start, ends[k] - start};
            }
            alloc_fail_resume();
            as_baseline b = {rec->new_image, key_names, n, {"Orders", 6}, INT64_C(1700000000123)};
            as_items_clear(items);
            status = as_audit_build_baseline(&b, &options, items, err);
            alloc_fail_pause();
            if (status == AS_OK) {
                dump_items(out, items);
            } else if (status != AS_ERR_NOMEM) {
                dump_result(out, status, err); /* a key the image lacks: said, not fatal */
            } else {
                check_items_whole(items);
            }
            as_buf_free(&names);
            alloc_fail_resume();
            if (status == AS_ERR_NOMEM) {
                goto done;
            }
        }
    }
    status = AS_OK;
done:
    as_items_free(items);
    as_changes_free(changes);
    as_event_free(event);
    return status;
}

/* ---- The stage ------------------------------------------------------------------- */

/* One case: a document, and what the core makes of it (its status and message too: a
 * document the decoder refuses must be refused the same way every time). */
typedef struct event_case {
    const char *json;
    size_t len;
} event_case;

static as_status run_case(const void *ctx, as_buf *out, as_error *err)
{
    const event_case *c = ctx;
    as_status status = run(c->json, c->len, out, err);
    if (status != AS_ERR_NOMEM) {
        alloc_fail_pause();
        dump_result(out, status, err);
        alloc_fail_resume();
    }
    return status;
}

/* Runs `json` clean, then with the n-th allocation failing for every n; returns the runs. */
static long torture(const char *name, const char *json, size_t len)
{
    event_case c = {json, len};
    alloc_torture_result r = alloc_fail_torture(name, run_case, &c, 10);
    printf("%-58s %6ld allocs %7ld runs %6ld nomem %5ld same\n", name, r.allocs, r.tried, r.nomem,
           r.same);
    return r.tried;
}

/* ---- Generated events --------------------------------------------------------------- */

#define RECORD_HEAD(id, name)                                                                      \
    "{\"eventID\":\"" id "\",\"eventName\":\"" name "\",\"eventVersion\":\"1.1\","                 \
    "\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\","                                \
    "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/"            \
    "2024-01-01T00:00:00.000\",\"dynamodb\":{\"ApproximateCreationDateTime\":1700000000.5,"

/* Composite keys (S, N and B, one with escapes), escaped names, nested maps and lists,
 * an ignored attribute, sets that change order. */
/* clang-format off */
static const char COMPOSITE[] =
    "{\"Records\":["
    RECORD_HEAD("c1", "MODIFY")
    "\"Keys\":{\"pk\":{\"S\":\"a\\\"b\"},\"sk\":{\"N\":\"1\\u0030\"},"
    "\"bk\":{\"B\":\"QQ\\u003d=\"}},\"OldImage\":{\"pk\":{\"S\":\"a\\\"b\"},"
    "\"sk\":{\"N\":\"10\"},\"bk\":{\"B\":\"QQ==\"},\"na\\u006de\":{\"S\":\"old\"},"
    "\"ignored\":{\"N\":\"1\"},\"version\":{\"N\":\"3\"},"
    "\"m\":{\"M\":{\"a/b\":{\"L\":[{\"N\":\"1\"},{\"S\":\"x\"}]},"
    "\"t~\":{\"BOOL\":true}}},\"ss\":{\"SS\":[\"a\",\"b\",\"c\"]},"
    "\"gone\":{\"NULL\":true}},\"NewImage\":{\"pk\":{\"S\":\"a\\\"b\"},"
    "\"sk\":{\"N\":\"10\"},\"bk\":{\"B\":\"QQ==\"},\"name\":{\"S\":\"new\"},"
    "\"ignored\":{\"N\":\"2\"},\"version\":{\"N\":\"4\"},"
    "\"m\":{\"M\":{\"a/b\":{\"L\":[{\"N\":\"1.0\"},{\"S\":\"y\"},{\"NULL\":true}]},"
    "\"t~\":{\"BOOL\":false}}},\"ss\":{\"SS\":[\"c\",\"a\",\"b\"]},"
    "\"added\":{\"NS\":[\"1\",\"2\"]}},\"SequenceNumber\":\"100\",\"SizeBytes\":10,"
    "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}},"
    RECORD_HEAD("c4ca4238a0b923820dcc509a6f75849bc4ca4238a0b923820dcc509a6f75849b", "MODIFY")
    "\"Keys\":{\"id\":{\"S\":\"k\"}},\"OldImage\":{\"id\":{\"S\":\"k\"},"
    "\"an_attribute_name_long_enough_to_grow_the_buffer_past_128_bytes_in_all"
    "_1\":{\"S\":\"a\"},"
    "\"an_attribute_name_long_enough_to_grow_the_buffer_past_128_bytes_in_all"
    "_2\":{\"S\":\"b\"}},"
    "\"NewImage\":{\"id\":{\"S\":\"k\"},"
    "\"an_attribute_name_long_enough_to_grow_the_buffer_past_128_bytes_in_all"
    "_1\":{\"S\":\"c\"},"
    "\"an_attribute_name_long_enough_to_grow_the_buffer_past_128_bytes_in_all"
    "_2\":{\"S\":\"d\"}},"
    "\"SequenceNumber\":\"101\"}}]}";
/* clang-format on */

/* Escaped eventSourceARN, eventID and SequenceNumber; a TTL delete. */
/* clang-format off */
static const char ESCAPED_ARN[] =
    "{\"Records\":[{\"eventID\":\"e\\/1\",\"eventName\":\"INSERT\","
    "\"eventSource\":\"aws:dynamodb\","
    "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:123456789012:table\\/Or\\u00"
    "64ers\\/stream\\/x\","
    "\"dynamodb\":{\"Keys\":{\"id\":{\"S\":\"k\"}},"
    "\"NewImage\":{\"id\":{\"S\":\"k\"},\"v\":{\"S\":\"\\u00e9\\n\"}},"
    "\"SequenceNumber\":\"1\\u0030\"}},{\"eventID\":\"e2\","
    "\"eventName\":\"REMOVE\",\"eventSource\":\"aws:dynamodb\","
    "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:1:table\\/T\\/stream\\/y\","
    "\"userIdentity\":{\"type\":\"Service\","
    "\"principalId\":\"dynamodb.amazonaws.com\"},"
    "\"dynamodb\":{\"ApproximateCreationDateTime\":1.7e9,"
    "\"Keys\":{\"id\":{\"S\":\"k\"}},\"OldImage\":{\"id\":{\"S\":\"k\"}},"
    "\"SequenceNumber\":\"2\"}}]}";
/* clang-format on */

/* Invalid records, each with an error item: a bad number, a duplicate set member (an
 * escaped one, quoted in the message), an unknown eventName, a record that is not an
 * object, a key of the wrong type, a missing eventID (its id comes from a digest of the
 * record), a field given twice, a bad time, an escaped unknown type tag. */
/* clang-format off */
static const char INVALID[] =
    "{\"Records\":["
    RECORD_HEAD("i1", "INSERT")
    "\"Keys\":{\"id\":{\"S\":\"k\"}},\"NewImage\":{\"id\":{\"S\":\"k\"},"
    "\"n\":{\"N\":\"1e999\"}},\"SequenceNumber\":\"1\"}},"
    RECORD_HEAD("i2", "INSERT")
    "\"Keys\":{\"id\":{\"S\":\"k\"}},\"NewImage\":{\"id\":{\"S\":\"k\"},"
    "\"s\":{\"NS\":[\"1\",\"1.\\u0030\"]}},\"SequenceNumber\":\"2\"}},"
    "{\"eventID\":\"i3\",\"eventName\":\"UPSERT\\u0021\",\"eventVersion\":\"1.1\","
    "\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\","
    "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/"
    "stream/2024-01-01T00:00:00.000\","
    "\"dynamodb\":{\"ApproximateCreationDateTime\":1700000000.5,"
    "\"Keys\":{\"id\":{\"S\":\"k\"}},\"SequenceNumber\":\"3\"}},42,"
    RECORD_HEAD("i5", "INSERT")
    "\"Keys\":{\"id\":{\"M\":{}}},\"NewImage\":{},\"SequenceNumber\":\"5\"}},"
    "{\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","
    "\"dynamodb\":{\"Keys\":{\"id\":{\"N\":\"6\"}},"
    "\"NewImage\":{\"id\":{\"N\":\"6\"}},\"SequenceNumber\":\"6\"}},"
    RECORD_HEAD("i7", "INSERT")
    "\"Keys\":{\"id\":{\"S\":\"k\"}},\"NewImage\":{\"id\":{\"S\":\"k\"}},"
    "\"NewImage\":{},\"SequenceNumber\":\"7\"}},{\"eventID\":\"i8\","
    "\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","
    "\"dynamodb\":{\"ApproximateCreationDateTime\":\"soon\","
    "\"Keys\":{\"id\":{\"S\":\"k\"}},\"SequenceNumber\":\"8\"}},"
    RECORD_HEAD("i9", "INSERT")
    "\"Keys\":{\"id\":{\"S\":\"k\"}},\"NewImage\":{\"id\":{\"S\":\"k\"},"
    "\"x\\u00e9\":{\"\\u0058\":\"1\"},\"bs\":{\"BS\":[\"QQ==\",\"QR==\"]}},"
    "\"SequenceNumber\":\"9\"}},"
    RECORD_HEAD("i10", "INSERT")
    "\"Keys\":{\"id\":{\"S\":\"k\"}},\"NewImage\":{\"id\":{\"S\":\"k\"},"
    "\"ss\":{\"SS\":[\"a\\u0062\",\"ab\"]}},\"SequenceNumber\":\"10\"}}]}";
/* clang-format on */

/* Records short of their images, one without a creation time (stamped with now), and
 * the same record delivered twice. */
/* clang-format off */
static const char MISSING[] =
    "{\"Records\":["
    RECORD_HEAD("m1", "MODIFY")
    "\"Keys\":{\"id\":{\"S\":\"k\"}},\"NewImage\":{\"id\":{\"S\":\"k\"}},"
    "\"SequenceNumber\":\"1\"}},"
    RECORD_HEAD("m2", "INSERT")
    "\"Keys\":{\"id\":{\"S\":\"k\"}},\"SequenceNumber\":\"2\"}},"
    RECORD_HEAD("m3", "REMOVE")
    "\"Keys\":{\"id\":{\"S\":\"k\"}},\"OldImage\":null,\"SequenceNumber\":\"3\"}},"
    "{\"eventID\":\"m4\",\"eventName\":\"MODIFY\",\"eventSource\":\"aws:dynamodb\","
    "\"dynamodb\":{\"Keys\":{\"id\":{\"S\":\"k\"}},"
    "\"OldImage\":{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"1\"}},"
    "\"NewImage\":{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"2\"}},"
    "\"SequenceNumber\":\"4\"}},{\"eventID\":\"m4\",\"eventName\":\"MODIFY\","
    "\"eventSource\":\"aws:dynamodb\","
    "\"dynamodb\":{\"Keys\":{\"id\":{\"S\":\"k\"}},"
    "\"OldImage\":{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"1\"}},"
    "\"NewImage\":{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"2\"}},"
    "\"SequenceNumber\":\"4\"}}]}";
/* clang-format on */

/* Builds events whose size or shape calls for code written at run time. */
static void gen_record_start(as_buf *b, const char *id, const char *name)
{
    as_buf_append_str(b, "{\"eventID\":\"");
    as_buf_append_str(b, id);
    as_buf_append_str(b, "\",\"eventName\":\"");
    as_buf_append_str(b, name);
    as_buf_append_str(b, "\",\"eventSource\":\"aws:dynamodb\",\"eventSourceARN\":"
                         "\"arn:aws:dynamodb:eu-west-1:1:table/Big/stream/z\",\"dynamodb\":{"
                         "\"ApproximateCreationDateTime\":1700000001,"
                         "\"Keys\":{\"id\":{\"S\":\"k\"}},");
}

/* Two values of 250 KB that change: every classic item and the detailed item pass
 * 400 KB and are truncated. */
static void gen_truncation(as_buf *b)
{
    as_buf_append_str(b, "{\"Records\":[");
    gen_record_start(b, "t1", "MODIFY");
    const char *sides[2] = {"OldImage", "NewImage"};
    for (int side = 0; side < 2; side++) {
        as_buf_append_str(b, side == 0 ? "\"" : ",\"");
        as_buf_append_str(b, sides[side]);
        as_buf_append_str(b, "\":{\"id\":{\"S\":\"k\"}");
        for (int attr = 0; attr < 2; attr++) {
            as_buf_append_str(b, attr == 0 ? ",\"big\":{\"S\":\"" : ",\"huge\":{\"S\":\"");
            for (int i = 0; i < 250 * 1024 / 16; i++) {
                as_buf_append_str(b, side == 0 ? "0123456789abcdef" : "fedcba9876543210");
            }
            as_buf_append_str(b, "\"}");
        }
        as_buf_append_str(b, "}");
    }
    as_buf_append_str(b, ",\"SequenceNumber\":\"1\"}}]}");
}

/* Sets and maps past the sizes compared pairwise (16) and sorted on the stack (32), out
 * of order, so that the diff and the duplicate checks take their heap paths; and an
 * image nested 33 levels deep (detailed: an error item for DynamoDB's depth limit). */
static void gen_large(as_buf *b)
{
    as_buf_append_str(b, "{\"Records\":[");
    gen_record_start(b, "l1", "MODIFY");
    for (int side = 0; side < 2; side++) {
        as_buf_append_str(b, side == 0 ? "\"OldImage\":{\"id\":{\"S\":\"k\"}"
                                       : ",\"NewImage\":{\"id\":{\"S\":\"k\"}");
        const char *types[3] = {"SS", "NS", "BS"};
        for (int t = 0; t < 3; t++) {
            as_buf_append_str(b, ",\"");
            as_buf_append_str(b, types[t]);
            as_buf_append_str(b, "\":{\"");
            as_buf_append_str(b, types[t]);
            as_buf_append_str(b, "\":[");
            for (int i = 0; i < 40; i++) {
                int k = side == 0 ? i : 39 - i;
                if (i > 0) {
                    as_buf_append_char(b, ',');
                }
                as_buf_append_char(b, '"');
                if (t == 2) {
                    char b64[8];
                    snprintf(b64, sizeof b64, "%c%cA=", 'A' + k % 26, 'A' + k / 26);
                    as_buf_append_str(b, b64);
                } else {
                    as_buf_append_u64(b, (uint64_t)k * 7 + (t == 1 && side == 1 ? 0 : 0));
                    if (t == 1 && side == 1) {
                        as_buf_append_str(b, ".0");
                    }
                }
                as_buf_append_char(b, '"');
            }
            as_buf_append_str(b, "]}");
        }
        as_buf_append_str(b, ",\"map\":{\"M\":{");
        for (int i = 0; i < 40; i++) {
            int k = side == 0 ? i : 39 - i;
            if (i > 0) {
                as_buf_append_char(b, ',');
            }
            as_buf_append_str(b, "\"f");
            as_buf_append_u64(b, (uint64_t)k);
            as_buf_append_str(b, "\":{\"N\":\"");
            as_buf_append_u64(b, (uint64_t)(k == 17 && side == 1 ? 1000 : k));
            as_buf_append_str(b, "\"}");
        }
        as_buf_append_str(b, "}}");
        /* Names out of order at the top level too. */
        for (int i = 0; i < 20; i++) {
            int k = side == 0 ? i : 19 - i;
            as_buf_append_str(b, ",\"top");
            as_buf_append_u64(b, (uint64_t)k);
            as_buf_append_str(b, "\":{\"S\":\"");
            as_buf_append_u64(b, (uint64_t)(k == 5 && side == 1 ? 55 : k));
            as_buf_append_str(b, "\"}");
        }
        as_buf_append_str(b, "}");
    }
    as_buf_append_str(b, ",\"SequenceNumber\":\"1\"}},");
    gen_record_start(b, "l2", "INSERT");
    as_buf_append_str(b, "\"NewImage\":{\"id\":{\"S\":\"k\"},\"deep\":");
    for (int i = 0; i < 32; i++) {
        as_buf_append_str(b, "{\"M\":{\"d\":");
    }
    as_buf_append_str(b, "{\"S\":\"bottom\"}");
    for (int i = 0; i < 32; i++) {
        as_buf_append_str(b, "}}");
    }
    as_buf_append_str(b, "},\"SequenceNumber\":\"2\"}}]}");
}

/* ---- The canonical form (core/canonical.h) ------------------------------------------ */

/* Decodes the case's event and writes the canonical form of every Keys, OldImage and
 * NewImage, bare and as a value: the sorts' arrays and the output under every failure. */
static as_status run_canonical(const void *ctx, as_buf *out, as_error *err)
{
    const event_case *c = ctx;
    as_event *event = NULL;
    as_buf form = AS_BUF_INIT;
    as_status status = as_event_decode(c->json, c->len, &event, err);
    size_t count = as_event_record_count(event);
    for (size_t i = 0; status == AS_OK && i < count; i++) {
        const as_record *rec = as_event_record(event, i);
        const as_value *images[3] = {rec->keys, rec->old_image, rec->new_image};
        for (int k = 0; k < 3 && status == AS_OK; k++) {
            if (images[k] == NULL) {
                continue;
            }
            as_buf_clear(&form);
            as_result r = as_canonical_image(images[k], &form);
            if (as_result_is_ok(r)) {
                r = as_canonical_value(images[k], &form);
            }
            status = r.status;
            alloc_fail_pause();
            if (status == AS_OK) {
                dump_span(out, "canonical ", (as_span){form.data, form.len});
            } else {
                /* The canonical writer has no as_error: its status is the whole report. */
                *err = (as_error){status, 0, "canonical form failed"};
            }
            alloc_fail_resume();
        }
    }
    as_buf_free(&form);
    as_event_free(event);
    if (status != AS_ERR_NOMEM) {
        alloc_fail_pause();
        dump_result(out, status, err);
        alloc_fail_resume();
    }
    return status;
}

static long torture_canonical(const char *name, const char *json, size_t len)
{
    event_case c = {json, len};
    alloc_torture_result r = alloc_fail_torture(name, run_canonical, &c, 10);
    printf("%-58s %6ld allocs %7ld runs %6ld nomem %5ld same\n", name, r.allocs, r.tried, r.nomem,
           r.same);
    CHECK(r.nomem > 0, "%s: no run reported out of memory: nothing was tested", name);
    return r.tried;
}

/* ---- Reading the trail (auditstream/replay.h, auditstream/wire.h) ------------------- */

/* Appends `text` with every ' turned into ". */
static void append_quoted(as_buf *b, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        as_buf_append_char(b, *p == '\'' ? '"' : *p);
    }
}

/* One audit item of `key` at second `second` of 2024-05-01T12:00, record `seq` (0: a
 * BASELINE's 40 zeros), `event` and `attr` when not NULL, then `rest`. */
static void gen_audit_item(as_buf *b, const char *key, unsigned second, unsigned seq,
                           const char *event, const char *attr, const char *rest)
{
    char head[512];
    snprintf(head, sizeof head,
             "{'id':{'S':'%s/%u/%s'},'modificationTime':{'S':'2024-05-01T12:00:%02u.000Z'},"
             "'historyKey':{'S':'%s'},'historySort':{'S':'2024-05-01T12:00:%02u.000Z/%040u'}",
             key, seq, attr != NULL ? attr : "-", second, key, second, seq);
    append_quoted(b, head);
    if (event != NULL) {
        append_quoted(b, ",'eventName':{'S':'");
        append_quoted(b, event);
        append_quoted(b, "'}");
    }
    if (attr != NULL) {
        append_quoted(b, ",'updatedAttribute':{'S':'");
        append_quoted(b, attr);
        append_quoted(b, "'}");
    }
    if (rest[0] != '\0') {
        as_buf_append_char(b, ',');
        append_quoted(b, rest);
    }
    as_buf_append_char(b, '}');
}

/* Three pages of two keys, out of order: every rule of replay, both formats, an item
 * given twice, and a fourth page that is not audit items. */
static void gen_trail_pages(as_buf pages[4])
{
    as_buf *p = &pages[0];
    as_buf_append_str(p, "{\"Items\":[");
    gen_audit_item(p, "T/b", 30, 3, "UPDATE", "v", "'oldValue':{'N':'1.50'},'newValue':{'N':'1E3'}");
    as_buf_append_char(p, ',');
    gen_audit_item(p, "T/a", 10, 1, "CREATE", NULL,
                   "'newValue':{'M':{'v':{'N':'1'},'s':{'SS':['x','y']},'m':{'M':{'k':{'L':[{"
                   "'NULL':true}]}}}}}");
    as_buf_append_char(p, ',');
    gen_audit_item(p, "T/a", 20, 2, "UPDATE", "v", "'oldValue':{'N':'1.0'},'newValue':{'N':'2'}");
    as_buf_append_char(p, ',');
    gen_audit_item(p, "T/a", 20, 2, "UPDATE", "w", "'newValue':{'S':'new'}");
    as_buf_append_char(p, ',');
    append_quoted(p, "{'id':{'S':'head'},'chainOf':{'S':'T/a'}}");
    append_quoted(p, "],'LastEvaluatedKey':{'id':{'S':'head'}},'Count':5}");

    p = &pages[1];
    as_buf_append_str(p, "{\"Items\":[");
    gen_audit_item(p, "T/b", 20, 2, "UPDATE", "v", "'oldValue':{'N':'9'},'newValue':{'N':'1.5'}");
    as_buf_append_char(p, ',');
    gen_audit_item(p, "T/a", 30, 3, NULL, NULL, "'error':{'S':'bad \\'N\\''},'rawRecord':{'S':'{}'}");
    as_buf_append_char(p, ',');
    gen_audit_item(p, "T/a", 40, 4, "UPDATE", "w", "'oldValue':{'S':'old'},'newValue':{'M':{"
                                                  "'truncated':{'BOOL':true},'sizeBytes':{'N':'9'},"
                                                  "'sha256':{'S':'ab'}}}");
    as_buf_append_char(p, ',');
    gen_audit_item(p, "T/a", 50, 0, "BASELINE", NULL,
                   "'newValue':{'M':{'r':{'M':{'redacted':{'BOOL':true}}},'v':{'N':'3'}}}");
    as_buf_append_char(p, ',');
    gen_audit_item(p, "T/a", 20, 2, "UPDATE", "v", "'oldValue':{'N':'1.0'},'newValue':{'N':'2'}");
    as_buf_append_str(p, "]}");

    p = &pages[2];
    gen_audit_item(p, "T/c", 10, 1, "CREATE", NULL,
                   "'keys':{'M':{'k':{'S':'c'}}},'sequenceNumber':{'S':'1'},'changes':{'L':[{'M':{"
                   "'path':{'S':'/k'},'newValue':{'S':'c'}}}]},'newImage':{'M':{'k':{'S':'c'},"
                   "'n':{'N':'5'}}}");
    p = &pages[3];
    append_quoted(p, "{'Items':[{'id':{'S':'x'},'historyKey':{'S':'T/d'},'historySort':{'S':"
                     "'2024'},'modificationTime':{'S':'2024-05-01T12:00:00.000Z'},'eventName':{'S':"
                     "'CREATE'}}]}");
}

typedef struct trail_case {
    as_buf pages[4];
} trail_case;

/* Adds the pages to a trail, then replays every key at several times, lists its history
 * and verifies it, writing every line. */
static as_status run_trail(const void *ctx, as_buf *out, as_error *err)
{
    const trail_case *c = ctx;
    as_status status = AS_OK;
    as_replay *replay = NULL;
    as_history *history = NULL;
    as_verify *verify = NULL;
    as_wire_items *wire = NULL;
    as_trail *trail = as_trail_new();
    if (trail == NULL) {
        *err = (as_error){AS_ERR_NOMEM, 0, "as_trail_new: NULL"};
        return AS_ERR_NOMEM;
    }
    for (int i = 0; i < 4; i++) {
        status = as_trail_add_json(trail, c->pages[i].data, c->pages[i].len, err);
        if (status == AS_ERR_NOMEM) {
            goto done;
        }
        alloc_fail_pause();
        dump_result(out, status, err);
        alloc_fail_resume();
    }
    status = as_wire_decode(c->pages[0].data, c->pages[0].len, AS_WIRE_ANY, &wire, err);
    if (status != AS_OK) {
        goto done;
    }
    replay = as_replay_new();
    history = as_history_new();
    verify = as_verify_new();
    if (replay == NULL || history == NULL || verify == NULL) {
        *err = (as_error){AS_ERR_NOMEM, 0, "a result's _new: NULL"};
        status = AS_ERR_NOMEM;
        goto done;
    }
    as_buf line = AS_BUF_INIT;
    for (size_t k = 0; k < as_trail_key_count(trail) && status == AS_OK; k++) {
        as_span key = as_trail_key(trail, k);
        for (unsigned second = 5; second <= 55 && status == AS_OK; second += 10) {
            int64_t at = INT64_C(1714564800000) + (int64_t)second * 1000;
            status = as_trail_replay(trail, key, at, replay, err);
            if (status == AS_OK) {
                status = as_replay_write_json(replay, &line, err);
            }
        }
        if (status == AS_OK) {
            status = as_trail_history(trail, key, AS_TIME_MIN, AS_TIME_MAX, history, err);
        }
        if (status == AS_OK) {
            status = as_history_write_json(history, &line, err);
        }
        if (status == AS_OK) {
            status = as_trail_verify(trail, key, verify, err);
        }
        if (status == AS_OK) {
            status = as_verify_write_json(verify, &line, err);
        }
        alloc_fail_pause();
        dump_u64(out, "matches ", as_replay_matches(replay, as_wire_item(wire, 1)));
        alloc_fail_resume();
    }
    alloc_fail_pause();
    if (status == AS_OK) {
        dump_span(out, "lines\n", (as_span){line.data, line.len});
    }
    alloc_fail_resume();
    as_buf_free(&line);
done:
    as_wire_items_free(wire);
    as_replay_free(replay);
    as_history_free(history);
    as_verify_free(verify);
    as_trail_free(trail);
    if (status != AS_ERR_NOMEM) {
        alloc_fail_pause();
        dump_result(out, status, err);
        alloc_fail_resume();
    }
    return status;
}

static long torture_trail(void)
{
    trail_case c;
    for (int i = 0; i < 4; i++) {
        as_buf_init(&c.pages[i]);
    }
    gen_trail_pages(c.pages);
    const char *name = "trail: replay, history, verify of three pages";
    alloc_torture_result r = alloc_fail_torture(name, run_trail, &c, 10);
    printf("%-58s %6ld allocs %7ld runs %6ld nomem %5ld same\n", name, r.allocs, r.tried, r.nomem,
           r.same);
    CHECK(r.clean_status == AS_OK, "%s: the clean run failed", name);
    CHECK(r.nomem > 0, "%s: no run reported out of memory: nothing was tested", name);
    for (int i = 0; i < 4; i++) {
        as_buf_free(&c.pages[i]);
    }
    return r.tried;
}

/* ---- The hash chain ------------------------------------------------------------------ */

/* Three records of key T/a: one item, two, and ten (past the eight a record digest sorts on
 * the stack). */
#define CHAIN_ITEM(n, sec, seq, attr)                                                              \
    "{\"id\":{\"S\":\"" n "\"},\"historyKey\":{\"S\":\"T/a\"},\"historySort\":{\"S\":"               \
    "\"2024-05-01T12:00:" sec ".000Z/00000000000000000000000000000000000000" seq "\"},"           \
    "\"modificationTime\":{\"S\":\"2024-05-01T12:00:" sec ".000Z\"},\"eventName\":{\"S\":"          \
    "\"UPDATE\"},\"updatedAttribute\":{\"S\":\"" attr "\"},\"newValue\":{\"NS\":[\"1.50\",\"-2\"]},"  \
    "\"expiresAt\":{\"N\":\"1717156810\"}}"

static const char *const chain_items[] = {
    CHAIN_ITEM("a1", "10", "01", "v"), CHAIN_ITEM("a2", "20", "02", "v"),
    CHAIN_ITEM("a2w", "20", "02", "w"), CHAIN_ITEM("a30", "30", "03", "a"),
    CHAIN_ITEM("a31", "30", "03", "b"), CHAIN_ITEM("a32", "30", "03", "c"),
    CHAIN_ITEM("a33", "30", "03", "d"), CHAIN_ITEM("a34", "30", "03", "e"),
    CHAIN_ITEM("a35", "30", "03", "f"), CHAIN_ITEM("a36", "30", "03", "g"),
    CHAIN_ITEM("a37", "30", "03", "h"), CHAIN_ITEM("a38", "30", "03", "i"),
    CHAIN_ITEM("a39", "30", "03", "j"),
};
static const size_t chain_record_first[] = {0, 1, 3, 13};

static as_status nomem_of(const as_buf *b, as_error *err)
{
    if (as_buf_status(b) == AS_OK) {
        return AS_OK;
    }
    *err = (as_error){AS_ERR_NOMEM, 0, "a test buffer: out of memory"};
    return AS_ERR_NOMEM;
}

/* Links the records, writes and reads back the head, then verifies the chain (with a
 * forged last record and a wrong anchor, so that every kind of problem is written). */
static as_status run_chain(const void *ctx, as_buf *out, as_error *err)
{
    (void)ctx;
    static const char *const seqs[] = {"0000000000000000000000000000000000000001",
                                       "0000000000000000000000000000000000000002",
                                       "0000000000000000000000000000000000000003"};
    static const char *const times[] = {"2024-05-01T12:00:10.000Z", "2024-05-01T12:00:20.000Z",
                                        "2024-05-01T12:00:30.000Z"};
    as_status status = AS_OK;
    as_buf page = AS_BUF_INIT;
    as_buf head_item = AS_BUF_INIT;
    as_buf scratch = AS_BUF_INIT;
    as_buf line = AS_BUF_INIT;
    as_trail *trail = NULL;
    as_verify *verify = NULL;
    as_chain_head head;
    as_chain_head_init(&head);
    as_chain_link link;
    as_buf_append_str(&page, "{\"Items\":[");
    for (size_t r = 0; r < 3 && status == AS_OK; r++) {
        as_span spans[10];
        size_t n = chain_record_first[r + 1] - chain_record_first[r];
        for (size_t i = 0; i < n; i++) {
            spans[i] = as_span_from_cstr(chain_items[chain_record_first[r] + i]);
        }
        uint8_t d[32];
        status = as_chain_record_digest(spans, n, d, err);
        if (status == AS_OK) {
            status = as_chain_advance(&head, d, seqs[r], times[r], &link, err);
        }
        for (size_t i = 0; i < n && status == AS_OK; i++) {
            if (r > 0 || i > 0) {
                as_buf_append_char(&page, ',');
            }
            status = as_chain_item_append(spans[i], &link, &page, err);
        }
    }
    if (status == AS_OK) {
        /* A forged fourth record whose chain does not follow. */
        char forged[1024];
        snprintf(forged, sizeof forged,
                 ",{\"id\":{\"S\":\"f\"},\"historyKey\":{\"S\":\"T/a\"},\"historySort\":{\"S\":"
                 "\"2024-05-01T12:00:40.000Z/0000000000000000000000000000000000000004\"},"
                 "\"modificationTime\":{\"S\":\"2024-05-01T12:00:40.000Z\"},\"eventName\":{"
                 "\"S\":\"UPDATE\"},\"updatedAttribute\":{\"S\":\"v\"},\"chainPrev\":{\"S\":\"%s"
                 "\"},\"chain\":{\"S\":\"%064d\"},\"chainPrevTime\":{\"S\":\"%s\"}}]}",
                 head.chain, 7, head.time);
        as_buf_append_str(&page, forged);
        status = nomem_of(&page, err);
    }
    as_chain_head back;
    as_chain_head_init(&back);
    as_span key = {"T/a", 3};
    if (status == AS_OK) {
        status = as_chain_head_item(key, &head, &head_item, err);
    }
    as_span back_key = {NULL, 0};
    if (status == AS_OK) {
        status = as_chain_head_parse((as_span){head_item.data, head_item.len}, &back, &scratch,
                                     &back_key, err);
    }
    if (status == AS_OK) {
        trail = as_trail_new();
        verify = as_verify_new();
        if (trail == NULL || verify == NULL) {
            *err = (as_error){AS_ERR_NOMEM, 0, "a _new: NULL"};
            status = AS_ERR_NOMEM;
        }
    }
    if (status == AS_OK) {
        status = as_trail_add_json(trail, page.data, page.len, err);
    }
    if (status == AS_OK) {
        status = as_trail_verify(trail, key, verify, err);
    }
    if (status == AS_OK) {
        status = as_trail_verify_chain(trail, key, &back, INT64_C(1714564800000), verify, err);
    }
    if (status == AS_OK) {
        status = as_trail_verify_anchor(trail, key, as_span_from_cstr("3"),
                                        as_span_from_cstr(back.chain), verify, err);
    }
    if (status == AS_OK) {
        status = as_trail_verify_anchor(trail, key, as_span_from_cstr("2"),
                                        as_span_from_cstr(back.chain), verify, err);
    }
    if (status == AS_OK) {
        status = as_verify_write_json(verify, &line, err);
    }
    alloc_fail_pause();
    if (status == AS_OK) {
        dump_span(out, "page ", (as_span){page.data, page.len});
        dump_span(out, "head ", (as_span){head_item.data, head_item.len});
        dump_span(out, "key ", back_key);
        dump_span(out, "verify ", (as_span){line.data, line.len});
    }
    alloc_fail_resume();
    as_verify_free(verify);
    as_trail_free(trail);
    as_buf_free(&page);
    as_buf_free(&head_item);
    as_buf_free(&scratch);
    as_buf_free(&line);
    if (status != AS_ERR_NOMEM) {
        alloc_fail_pause();
        dump_result(out, status, err);
        alloc_fail_resume();
    }
    return status;
}

static long torture_chain(void)
{
    const char *name = "chain: link, head, verify with problems";
    alloc_torture_result r = alloc_fail_torture(name, run_chain, NULL, 10);
    printf("%-58s %6ld allocs %7ld runs %6ld nomem %5ld same\n", name, r.allocs, r.tried, r.nomem,
           r.same);
    CHECK(r.clean_status == AS_OK, "%s: the clean run failed", name);
    CHECK(r.nomem > 0, "%s: no run reported out of memory: nothing was tested", name);
    return r.tried;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    as_buf b = AS_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        as_buf_append(&b, chunk, n);
    }
    fclose(f);
    if (as_buf_status(&b) != AS_OK) {
        as_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (!alloc_fail_hook_libcrypto()) {
        fprintf(stderr, "alloc: cannot hook libcrypto's allocations\n");
        return 1;
    }
    if (!alloc_fail_linked()) {
        fprintf(stderr, "alloc: not linked with -Wl,--wrap=malloc,...: nothing would be tested\n");
        return 1;
    }
    /* Skipped unless asked for: the 1,000-record event takes half a minute, minutes under
     * ASan (tests/alloc/run.sh asks for it in the plain build). */
    bool with_bench = argc > 1 && strcmp(argv[1], "--all") == 0;
    long cases = 0;
    long runs = 0;

    struct {
        const char *name;
        const char *json;
    } fixed[] = {{"generated: composite keys, escapes, ignore list", COMPOSITE},
                 {"generated: escaped eventSourceARN, TTL delete", ESCAPED_ARN},
                 {"generated: invalid records (error items)", INVALID},
                 {"generated: missing images, no time, redelivered", MISSING}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        runs += torture(fixed[i].name, fixed[i].json, strlen(fixed[i].json));
        cases++;
    }
    as_buf gen = AS_BUF_INIT;
    gen_truncation(&gen);
    runs += torture("generated: two 250 KB values (truncation)", gen.data, gen.len);
    as_buf_clear(&gen);
    gen_large(&gen);
    runs += torture("generated: large sets and maps, 33 levels deep", gen.data, gen.len);
    runs += torture_canonical("canonical: large sets and maps", gen.data, gen.len);
    runs += torture_canonical("canonical: composite keys, escapes", COMPOSITE, strlen(COMPOSITE));
    runs += torture_trail();
    runs += torture_chain();
    cases += 6;
    as_buf_free(&gen);

    DIR *dir = opendir("events");
    if (dir == NULL) {
        fprintf(stderr, "alloc: no events/ directory (run from the top of the tree)\n");
        return 1;
    }
    char *names[256];
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < 256) {
        size_t len = strlen(entry->d_name);
        if (len > 5 && strcmp(entry->d_name + len - 5, ".json") == 0) {
            names[count++] = strdup(entry->d_name);
        }
    }
    closedir(dir);
    qsort(names, count, sizeof names[0], by_name);
    for (size_t i = 0; i < count; i++) {
        if (!with_bench && strncmp(names[i], "bench-", 6) == 0) {
            printf("%-58s skipped (pass --all)\n", names[i]);
            free(names[i]);
            continue;
        }
        char path[512];
        snprintf(path, sizeof path, "events/%s", names[i]);
        size_t len = 0;
        char *json = read_file(path, &len);
        CHECK(json != NULL, "cannot read %s", path);
        if (json != NULL) {
            runs += torture(names[i], json, len);
            cases++;
        }
        free(json);
        free(names[i]);
    }
    printf("alloc: %ld cases, %ld runs, %d failures\n", cases, runs, alloc_check_failures);
    printf("%d passed, %d failed\n", alloc_check_failures == 0 ? 1 : 0,
           alloc_check_failures == 0 ? 0 : 1);
    return alloc_check_failures == 0 ? 0 : 1;
}
