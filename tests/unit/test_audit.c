/* Unit tests of the audit item builder: every rule of docs/audit-format.md, checked
 * on small events whose expected items are written out here by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "auditstream.h"

/* 2024-05-01T12:30:45.678Z, the clock passed in for records without a time. */
#define NOW_MS 1714566645678

typedef struct built {
    as_event *event;
    as_items *items;
    as_buf lines; /* every item's JSON, one a line */
} built;

static void build_with(built *b, const char *json, as_format format, const as_span *ignore,
                       size_t ignore_count)
{
    as_error err = {0};
    memset(b, 0, sizeof *b);
    assert_int_equal(as_event_decode(json, strlen(json), &b->event, &err), AS_OK);
    b->items = as_items_new();
    assert_non_null(b->items);
    as_audit_options options = {.format = format, .ignore = ignore, .ignore_count = ignore_count, .now_ms = NOW_MS};
    assert_int_equal(as_audit_build_event(b->event, &options, b->items, &err), AS_OK);
    for (size_t i = 0; i < as_items_count(b->items); i++) {
        as_item item = as_items_get(b->items, i);
        as_buf_append_span(&b->lines, item.json);
        as_buf_append_char(&b->lines, '\n');
    }
    assert_int_equal(as_buf_status(&b->lines), AS_OK);
}

static void build(built *b, const char *json, as_format format)
{
    build_with(b, json, format, NULL, 0);
}

static void release(built *b)
{
    as_items_free(b->items);
    as_event_free(b->event);
    as_buf_free(&b->lines);
}

static const char *lines(const built *b)
{
    return b->lines.data != NULL ? b->lines.data : "";
}

/* One record around `dynamodb` (the text inside its braces). */
#define RECORD(id, name, dynamodb)                                                                 \
    "{\"eventID\":\"" id "\",\"eventName\":\"" name "\",\"eventSource\":\"aws:dynamodb\","         \
    "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:123456789012:table/Configuration/"            \
    "stream/2024-05-01T00:00:00.000\",\"dynamodb\":{" dynamodb "}}"
#define EVENT(records) "{\"Records\":[" records "]}"
/* The same record cut open inside its dynamodb object, for values built at run time. */
#define RECORD_HEAD(name)                                                                          \
    "{\"Records\":[{\"eventID\":\"" ID1 "\",\"eventName\":\"" name "\",\"eventSource\":"           \
    "\"aws:dynamodb\",\"dynamodb\":{"
#define RECORD_TAIL "}}]}"
/* The same, with the Configuration table's stream ARN. */
#define EVENT_HEAD_ARN                                                                             \
    "{\"Records\":[{\"eventID\":\"" ID1 "\",\"eventName\":\"INSERT\",\"eventSource\":"             \
    "\"aws:dynamodb\",\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:123456789012:table/"         \
    "Configuration/stream/2024-05-01T00:00:00.000\",\"dynamodb\":{"

#define ID1        "c4ca4238a0b923820dcc509a6f75849b"
#define KEY        "\"Keys\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"}}"
#define OLD(attrs) "\"OldImage\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"}" attrs "}"
#define NEW(attrs) "\"NewImage\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"}" attrs "}"
#define TIME       "\"ApproximateCreationDateTime\":1714566645"
#define SEQ        "\"SequenceNumber\":\"100\""
/* historySort of TIME and SEQ: the sequence number padded to 40 digits. */
#define SORT_100 "2024-05-01T12:30:45.000Z/0000000000000000000000000000000000000100"
/* The fields every item of a record of the Configuration table starts with; TABLE is
 * "-" for a record without eventSourceARN. */
#define COMMON_IN(table, id, event)                                                                \
    "{\"id\":{\"S\":\"" id "\"},\"itemKey\":{\"S\":\"CACHE_TTL_SEC\"},\"modificationTime\":{"      \
    "\"S\":\"2024-05-01T12:30:45.000Z\"},\"eventName\":{\"S\":\"" event "\"},\"historyKey\":{\"S\":\"" \
    table "/CACHE_TTL_SEC\"},\"historySort\":{\"S\":\"" SORT_100 "\"}"
#define COMMON(id, event) COMMON_IN("Configuration", id, event)

/* docs/audit-format.md's own example, byte for byte. */
static void test_design_example_modify(void **state)
{
    (void)state;
    built b;
    build(&b,
          EVENT(RECORD(ID1, "MODIFY",
                       TIME "," KEY "," OLD(",\"value\":{\"N\":\"3600\"}") "," NEW(
                           ",\"value\":{\"N\":\"1800\"}") "," SEQ)),
          AS_FORMAT_CLASSIC);
    assert_string_equal(
        lines(&b), "{\"id\":{\"S\":\"35338964-9dc6-5199-a27f-fcb4c705e8bd\"},\"itemKey\":{\"S\":"
                   "\"CACHE_TTL_SEC\"},\"modificationTime\":{\"S\":\"2024-05-01T12:30:45.000Z\"},"
                   "\"eventName\":{\"S\":\"UPDATE\"},\"historyKey\":{\"S\":\"Configuration/"
                   "CACHE_TTL_SEC\"},\"historySort\":{\"S\":\"" SORT_100 "\"},"
                   "\"updatedAttribute\":{\"S\":\"value\"},\"oldValue\":{\"N\":\"3600\"},"
                   "\"newValue\":{\"N\":\"1800\"}}\n");
    as_item item = as_items_get(b.items, 0);
    assert_int_equal(item.record, 0);
    assert_int_equal(item.flags, 0);
    /* Names plus values: id 2+36, itemKey 7+13, modificationTime 16+24, eventName 9+6,
     * historyKey 10+27, historySort 11+65, updatedAttribute 16+5, oldValue and newValue
     * 8+2 (two significant digits). */
    assert_int_equal(item.size, 38 + 20 + 40 + 15 + 37 + 76 + 21 + 10 + 10);
    release(&b);
}

static void test_insert_and_remove_carry_whole_images(void **state)
{
    (void)state;
    built b;
    build(&b,
          EVENT(RECORD(
              ID1, "INSERT",
              TIME "," KEY "," NEW(
                  ",\"value\":{\"N\":\"3600\"}") "," SEQ) "," RECORD("2", "REMOVE",
                                                                     TIME "," KEY "," OLD(
                                                                         ",\"value\":{\"N\":"
                                                                         "\"1800\"}") "," SEQ)),
          AS_FORMAT_CLASSIC);
    assert_string_equal(
        lines(&b),
        COMMON(
            "2f95a1e4-df65-55a0-81e8-5b1ec6e4c925", "CREATE") ",\"newValue\":{\"M\":{\"key\":{\"S\":\"CACHE_"
                                                    "TTL_SEC\"},\"value\":{\"N\":\"3600\"}}}}"
                                                    "\n" COMMON("4d241aa0-4d39-5541-8386-"
                                                                "a1d568aab2bb", "DELETE") ",\"oldValue\":{"
                                                                                "\"M\":{\"key\":{"
                                                                                "\"S\":\"CACHE_TTL_"
                                                                                "SEC\"},\"value\":{"
                                                                                "\"N\":\"1800\"}}}}"
                                                                                "\n");
    assert_int_equal(as_items_get(b.items, 1).record, 1);
    release(&b);
}

/* Added, removed and changed attributes, in byte order of their names. */
static void test_modify_lists_changes_in_name_order(void **state)
{
    (void)state;
    built b;
    build(&b,
          EVENT(RECORD(
              ID1, "MODIFY",
              TIME
              "," KEY
              "," OLD(",\"b\":{\"S\":\"x\"},\"a\":{\"BOOL\":true},\"Z\":{\"N\":\"1\"}") "," NEW(
                  ",\"a\":{\"BOOL\":false},\"Z\":{\"N\":\"1.0\"},\"c\":{\"NULL\":true}") "," SEQ)),
          AS_FORMAT_CLASSIC);
    /* Z is unchanged (1 == 1.0); a changed; b removed; c added. */
    assert_int_equal(as_items_count(b.items), 3);
    const char *expected[] = {
        ("\"updatedAttribute\":{\"S\":\"a\"},\"oldValue\":{\"BOOL\":true},"
         "\"newValue\":{\"BOOL\":false}}"),
        "\"updatedAttribute\":{\"S\":\"b\"},\"oldValue\":{\"S\":\"x\"}}",
        "\"updatedAttribute\":{\"S\":\"c\"},\"newValue\":{\"NULL\":true}}",
    };
    for (size_t i = 0; i < 3; i++) {
        as_item item = as_items_get(b.items, i);
        size_t n = strlen(expected[i]);
        assert_true(item.json.len > n);
        assert_memory_equal(item.json.ptr + item.json.len - n, expected[i], n);
    }
    release(&b);
}

static void test_modify_without_difference_writes_nothing(void **state)
{
    (void)state;
    built b;
    build(&b,
          EVENT(RECORD(ID1, "MODIFY",
                       TIME "," KEY
                            "," OLD(",\"n\":{\"N\":\"1E0\"},\"s\":{\"SS\":[\"a\",\"b\"]}") "," NEW(
                                ",\"s\":{\"SS\":[\"b\",\"a\"]},\"n\":{\"N\":\"10E-1\"}") "," SEQ)),
          AS_FORMAT_CLASSIC);
    assert_int_equal(as_items_count(b.items), 0);
    release(&b);
}

static void test_ignored_attributes_are_left_out_of_modify(void **state)
{
    (void)state;
    as_span ignore[] = {{"updatedAt", 9}, {"version", 7}};
    built b;
    build_with(&b,
               EVENT(RECORD(ID1, "MODIFY",
                            TIME "," KEY "," OLD(",\"updatedAt\":{\"S\":\"1\"},\"version\":{\"N\":"
                                                 "\"1\"},\"v\":{\"N\":\"1\"}") "," NEW(
                                ",\"updatedAt\":{\"S\":\"2\"},\"version\":{\"N\":\"2\"},\"v\":{"
                                "\"N\":\"2\"}") "," SEQ)),
               AS_FORMAT_CLASSIC, ignore, 2);
    assert_int_equal(as_items_count(b.items), 1);
    assert_non_null(strstr(lines(&b), "\"updatedAttribute\":{\"S\":\"v\"}"));
    release(&b);
}

static void test_item_key_forms(void **state)
{
    (void)state;
    static const struct {
        const char *keys;
        const char *item_key;
    } cases[] = {
        {"{\"k\":{\"S\":\"caf\\u00e9 \\\"q\\\"\"}}", "{\"S\":\"caf\\u00e9 \\\"q\\\"\"}"},
        {"{\"k\":{\"N\":\"1.50E+3\"}}", "{\"S\":\"1.50E+3\"}"},
        {"{\"k\":{\"B\":\"AAEq\\/w==\"}}", "{\"S\":\"AAEq/w==\"}"},
        /* Composite: names sorted, N unquoted, B as its base64 string. */
        {"{\"tenant\":{\"S\":\"acme\"},\"name\":{\"S\":\"timeout\"}}",
         "{\"S\":\"{\\\"name\\\":\\\"timeout\\\",\\\"tenant\\\":\\\"acme\\\"}\"}"},
        {"{\"z\":{\"B\":\"AQ==\"},\"n\":{\"N\":\"007\"},\"A\":{\"S\":\"x\"}}",
         "{\"S\":\"{\\\"A\\\":\\\"x\\\",\\\"n\\\":007,\\\"z\\\":\\\"AQ==\\\"}\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[512];
        snprintf(json, sizeof json,
                 EVENT(RECORD(ID1, "INSERT", TIME ",\"Keys\":%s,\"NewImage\":%s," SEQ)),
                 cases[i].keys, cases[i].keys);
        built b;
        build(&b, json, AS_FORMAT_CLASSIC);
        char want[256];
        snprintf(want, sizeof want, "\"itemKey\":%s,", cases[i].item_key);
        if (strstr(lines(&b), want) == NULL) {
            fail_msg("keys %s: want %s in %s", cases[i].keys, want, lines(&b));
        }
        release(&b);
    }
}

static void test_modification_time_forms(void **state)
{
    (void)state;
    static const struct {
        const char *time; /* the whole field, or "" for none */
        const char *iso;
        uint32_t flags;
    } cases[] = {
        {"\"ApproximateCreationDateTime\":1714566645.9999,", "2024-05-01T12:30:45.999Z", 0},
        {"\"ApproximateCreationDateTime\":1.635734407123456789E9,", "2021-11-01T02:40:07.123Z", 0},
        {"\"ApproximateCreationDateTime\":0,", "1970-01-01T00:00:00.000Z", 0},
        {"", "2024-05-01T12:30:45.678Z", AS_ITEM_PROCESSING_TIME},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[512];
        snprintf(json, sizeof json, EVENT(RECORD(ID1, "INSERT", "%s" KEY "," NEW("") "," SEQ)),
                 cases[i].time);
        built b;
        build(&b, json, AS_FORMAT_CLASSIC);
        char want[80];
        snprintf(want, sizeof want, "\"modificationTime\":{\"S\":\"%s\"}", cases[i].iso);
        assert_non_null(strstr(lines(&b), want));
        assert_int_equal(as_items_get(b.items, 0).flags, cases[i].flags);
        release(&b);
    }
}

/* Stream views without both images: what the record holds, never an invented diff. */
static void test_partial_images_classic(void **state)
{
    (void)state;
    built b;
    build(
        &b,
        EVENT(
            RECORD(ID1, "MODIFY", TIME "," KEY "," SEQ ",\"StreamViewType\":\"KEYS_ONLY\"") "," RECORD(
                ID1, "MODIFY",
                TIME "," KEY "," NEW(
                    ",\"v\":{\"N\":\"2\"}") "," SEQ) "," RECORD(ID1, "REMOVE",
                                                                TIME "," KEY "," NEW("") "," SEQ)),
        AS_FORMAT_CLASSIC);
    const char *update = COMMON("2f95a1e4-df65-55a0-81e8-5b1ec6e4c925", "UPDATE");
    const char *remove = COMMON("2f95a1e4-df65-55a0-81e8-5b1ec6e4c925", "DELETE");
    char expected[2048];
    snprintf(
        expected, sizeof expected,
        "%s}\n%s,\"newValue\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"v\":{\"N\":\"2\"}}}}\n"
        "%s,\"newValue\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"}}}}\n",
        update, update, remove);
    assert_string_equal(lines(&b), expected);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(as_items_get(b.items, i).flags, AS_ITEM_MISSING_IMAGES);
    }
    release(&b);
}

static void test_partial_images_detailed(void **state)
{
    (void)state;
    built b;
    build(&b, EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," SEQ)), AS_FORMAT_DETAILED);
    assert_string_equal(
        lines(&b),
        COMMON("2f95a1e4-df65-55a0-81e8-5b1ec6e4c925", "CREATE") ",\"keys\":"
                                                       "{\"M\":{\"key\":{\"S\":"
                                                       "\"CACHE_TTL_SEC\"}}},\"sequenceNumber\":{"
                                                       "\"S\":\"100\"},\"tableName\":{\"S\":"
                                                       "\"Configuration\"},\"cause\":{\"S\":"
                                                       "\"user\"}}\n");
    assert_int_equal(as_items_get(b.items, 0).flags, AS_ITEM_MISSING_IMAGES);
    release(&b);
}

static void test_detailed_update_paths(void **state)
{
    (void)state;
    built b;
    build(&b,
          EVENT(RECORD(
              ID1, "MODIFY",
              TIME "," KEY "," OLD(",\"m\":{\"M\":{\"a/"
                                   "b\":{\"N\":\"1\"},\"t~\":{\"L\":[{\"S\":\"x\"}]}}}") "," NEW(
                  ",\"m\":{\"M\":{\"a/"
                  "b\":{\"N\":\"2\"},\"t~\":{\"L\":[{\"S\":\"x\"},{\"S\":\"y\"}]}}}") "," SEQ)),
          AS_FORMAT_DETAILED);
    assert_non_null(strstr(lines(&b), "\"updatedAttributes\":{\"L\":[{\"S\":\"m\"}]},"));
    assert_non_null(
        strstr(lines(&b), "\"changes\":{\"L\":["
                          "{\"M\":{\"path\":{\"S\":\"/m/a~1b\"},\"oldValue\":{\"N\":\"1\"},"
                          "\"newValue\":{\"N\":\"2\"}}},"
                          "{\"M\":{\"path\":{\"S\":\"/m/t~0/1\"},\"newValue\":{\"S\":\"y\"}}}]},"));
    assert_non_null(strstr(lines(&b), "\"eventName\":{\"S\":\"UPDATE\"}"));
    release(&b);
}

static void test_detailed_ttl_delete(void **state)
{
    (void)state;
    built b;
    build(&b,
          "{\"Records\":[{\"eventID\":\"" ID1 "\",\"eventName\":\"REMOVE\",\"eventSource\":"
          "\"aws:dynamodb\",\"userIdentity\":{\"type\":\"Service\",\"principalId\":"
          "\"dynamodb.amazonaws.com\"},\"dynamodb\":{" TIME "," KEY
          "," OLD(",\"v\":{\"N\":\"1\"}") "," SEQ "}}]}",
          AS_FORMAT_DETAILED);
    assert_string_equal(
        lines(&b),
        COMMON_IN(
            "-", "2f95a1e4-df65-55a0-81e8-5b1ec6e4c925", "DELETE") ",\"actor\":{\"S\":"
                                                    "\"dynamodb.amazonaws.com\"},"
                                                    "\"actorSource\":{\"S\":\"ttl\"},"
                                                    "\"keys\":{"
                                                    "\"M\":{\"key\":{\"S\":"
                                                    "\"CACHE_TTL_SEC\"}}},\"sequenceNumber\":{"
                                                    "\"S\":\"100\"},"
                                                    "\"cause\":{\"S\":\"ttl\"},"
                                                    "\"updatedAttributes\":{\"L\":[{\"S\":\"key\"},"
                                                    "{\"S\":\"v\"}]},\"changes\":{\"L\":[{\"M\":{"
                                                    "\"path\":{\"S\":\"/key\"},"
                                                    "\"oldValue\":{\"S\":\"CACHE_TTL_SEC\"}}},{"
                                                    "\"M\":{\"path\":{\"S\":\"/v\"},"
                                                    "\"oldValue\":{\"N\":\"1\"}}}]},\"oldImage\":{"
                                                    "\"M\":{\"key\":{\"S\":"
                                                    "\"CACHE_TTL_SEC\"},\"v\":{\"N\":\"1\"}}}}\n");
    release(&b);
}

/* Numbers and strings are copied byte for byte, whitespace outside strings dropped. */
static void test_values_copied_as_received(void **state)
{
    (void)state;
    built b;
    build(&b,
          EVENT(RECORD(ID1, "INSERT",
                       TIME
                       "," KEY ",\"NewImage\": { \"n\" : { \"N\" : "
                       "\"12345678901234567890123456789012345678\" }, \"e\":{\"N\":\"-1.5e-130\"},"
                       "\"s\":{\"S\":\"a \\u0000\\\"\\\\\\/\\n\\ud83d\\ude00 \xc3\xa9\"} }," SEQ)),
          AS_FORMAT_CLASSIC);
    assert_non_null(strstr(
        lines(&b), ",\"newValue\":{\"M\":{\"n\":{\"N\":\"12345678901234567890123456789012345678\"},"
                   "\"e\":{\"N\":\"-1.5e-130\"},\"s\":{\"S\":\"a \\u0000\\\"\\\\\\/\\n"
                   "\\ud83d\\ude00 \xc3\xa9\"}}}}\n"));
    release(&b);
}

static void test_invalid_record_error_item(void **state)
{
    (void)state;
    built b;
    build(&b, EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(",\"v\":{\"SS\":[]}") "," SEQ)),
          AS_FORMAT_DETAILED);
    as_item item = as_items_get(b.items, 0);
    assert_int_equal(item.flags, AS_ITEM_ERROR);
    const char *reason = "Records[0].dynamodb.NewImage.v.SS: empty set";
    assert_int_equal(item.reason.len, strlen(reason));
    assert_memory_equal(item.reason.ptr, reason, item.reason.len);
    const char *head = COMMON(
        "2f95a1e4-df65-55a0-81e8-5b1ec6e4c925", "CREATE") ",\"error\":{\"S\":\"Records[0].dynamodb.NewImage."
                                                "v.SS: empty "
                                                "set\"},\"rawRecord\":{\"S\":\"{\\\"eventID\\\":";
    assert_memory_equal(item.json.ptr, head, strlen(head));
    release(&b);
}

/* Without an eventID, the id comes from the SHA-256 of the record's text; a bad time
 * is left out rather than replaced by the clock, so a retry writes the same item. */
static void test_error_item_without_event_id(void **state)
{
    (void)state;
    const char *record =
        "{\"eventName\":\"INSERT\",\"dynamodb\":{\"ApproximateCreationDateTime\":-5}}";
    char json[1024];
    snprintf(json, sizeof json, "{\"Records\":[%s," RECORD(ID1, "INSERT", KEY "," SEQ) "]}",
             record);
    built b;
    build(&b, json, AS_FORMAT_CLASSIC);
    as_item item = as_items_get(b.items, 0);
    /* uuid5(ns, sha256 hex of the record text), computed with Python's uuid and hashlib. */
    const char *head = "{\"id\":{\"S\":\"03ac5457-62b0-55ca-b468-6bd2f12a669a\"},"
                       "\"eventName\":{\"S\":\"CREATE\"},\"error\":{\"S\":"
                       "\"Records[0].dynamodb.ApproximateCreationDateTime: ";
    if (item.json.len < strlen(head) || memcmp(item.json.ptr, head, strlen(head)) != 0) {
        fail_msg("got %.*s", (int)item.json.len, item.json.ptr);
    }
    assert_int_equal(item.flags, AS_ITEM_ERROR);
    /* The valid record beside it is untouched. */
    assert_int_equal(as_items_get(b.items, 1).flags,
                     AS_ITEM_MISSING_IMAGES | AS_ITEM_PROCESSING_TIME);
    release(&b);
}

/* An empty eventID names nothing: each such record's error item is named after the
 * SHA-256 of its own text, so two of them never share an id and overwrite each other. */
static void test_error_items_with_empty_event_ids(void **state)
{
    (void)state;
    built b;
    build(&b,
          "{\"Records\":[{\"eventID\":\"\",\"eventName\":\"INSERT\",\"eventSource\":"
          "\"aws:dynamodb\"},{\"eventID\":\"\",\"eventName\":\"REMOVE\",\"eventSource\":"
          "\"aws:dynamodb\"}]}",
          AS_FORMAT_CLASSIC);
    assert_int_equal(as_items_count(b.items), 2);
    /* uuid5(ns, sha256 hex of each record's text), computed with Python's uuid and hashlib. */
    const char *ids[] = {"{\"id\":{\"S\":\"34542580-66c2-5779-9f42-51f93f2e5c55\"},",
                         "{\"id\":{\"S\":\"a844af0c-a9af-5904-b762-8e9fa73aab0f\"},"};
    for (size_t i = 0; i < 2; i++) {
        as_item item = as_items_get(b.items, i);
        assert_true(item.flags & AS_ITEM_ERROR);
        if (item.json.len < strlen(ids[i]) || memcmp(item.json.ptr, ids[i], strlen(ids[i])) != 0) {
            fail_msg("item %zu: got %.*s", i, (int)item.json.len, item.json.ptr);
        }
    }
    release(&b);
}

/* A 32-level limit: classic wraps an image once, detailed's changes twice. */
static void test_depth_guard(void **state)
{
    (void)state;
    for (int levels = 30; levels <= 32; levels++) {
        as_buf value = AS_BUF_INIT;
        for (int i = 0; i < levels; i++) {
            as_buf_append_str(&value, "{\"M\":{\"x\":");
        }
        as_buf_append_str(&value, "{\"N\":\"1\"}");
        for (int i = 0; i < levels; i++) {
            as_buf_append_str(&value, "}}");
        }
        as_buf json = AS_BUF_INIT;
        as_buf_append_str(&json, RECORD_HEAD("INSERT") TIME "," KEY ",\"NewImage\":{\"deep\":");
        as_buf_append_span(&json, (as_span){value.data, value.len});
        as_buf_append_str(&json, "}," SEQ RECORD_TAIL);
        for (int f = 0; f < 2; f++) {
            built b;
            build(&b, json.data, f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED);
            /* The item nests levels + 1 (classic) or levels + 2 (detailed) deep. */
            int nest = levels + (f == 0 ? 1 : 2);
            uint32_t flags = as_items_get(b.items, 0).flags;
            if ((nest > 32) != (flags == AS_ITEM_ERROR)) {
                fail_msg("levels %d format %d: flags %u", levels, f, flags);
            }
            if (flags == AS_ITEM_ERROR) {
                char want[128];
                snprintf(want, sizeof want, "the audit item would nest %d levels", nest);
                assert_non_null(strstr(lines(&b), want));
            }
            release(&b);
        }
        as_buf_free(&value);
        as_buf_free(&json);
    }
}

/* Over 400 KB: the largest values go first, replaced by a marker with size and hash. */
static void test_size_guard_truncates_largest_first(void **state)
{
    (void)state;
    size_t big = 300000;
    as_buf json = AS_BUF_INIT;
    as_buf_append_str(&json, RECORD_HEAD("MODIFY") TIME "," KEY ",\"OldImage\":{\"v\":{\"S\":\"");
    for (size_t i = 0; i < big; i++) {
        as_buf_append_char(&json, 'o');
    }
    as_buf_append_str(&json, "\"}},\"NewImage\":{\"v\":{\"S\":\"");
    for (size_t i = 0; i < big + 1; i++) {
        as_buf_append_char(&json, 'n');
    }
    as_buf_append_str(&json, "\"}}," SEQ RECORD_TAIL);
    built b;
    build(&b, json.data, AS_FORMAT_CLASSIC);
    assert_int_equal(as_items_count(b.items), 1);
    as_item item = as_items_get(b.items, 0);
    assert_int_equal(item.flags, AS_ITEM_TRUNCATED);
    assert_true(item.size <= AS_ITEM_MAX_SIZE);
    /* newValue (one byte longer) is replaced; oldValue still fits and stays. */
    const char *marker =
        "\"newValue\":{\"M\":{\"truncated\":{\"BOOL\":true},\"sizeBytes\":{\"N\":\"300001\"},"
        "\"sha256\":{\"S\":\"";
    const char *at = strstr(lines(&b), marker);
    assert_non_null(at);
    assert_non_null(strstr(lines(&b), "\"oldValue\":{\"S\":\"ooo"));
    /* The hash is of the replaced value's compact wire JSON: {"S":"nnn..."}. */
    const char *hash = at + strlen(marker);
    assert_int_equal(strspn(hash, "0123456789abcdef"), 64);
    release(&b);
    as_buf_free(&json);
}

/* Whether `text` occurs in the item's JSON. */
static bool item_has(const as_item *item, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= item->json.len; i++) {
        if (memcmp(item->json.ptr + i, text, n) == 0) {
            return true;
        }
    }
    return false;
}

/* eventName in classic items too; on an error item only when the record's eventName was
 * one of the three. */
static void test_event_name_everywhere(void **state)
{
    (void)state;
    built b;
    build(&b,
          EVENT(RECORD(ID1, "UPSERT", TIME "," KEY "," NEW("") "," SEQ) "," RECORD(
              "2", "INSERT", TIME "," KEY "," NEW("") "," SEQ) "," RECORD("3", "REMOVE",
                                                                       TIME "," KEY "," OLD(
                                                                           "") "," SEQ)),
          AS_FORMAT_CLASSIC);
    assert_int_equal(as_items_count(b.items), 3);
    as_item error = as_items_get(b.items, 0);
    assert_int_equal(error.flags, AS_ITEM_ERROR);
    assert_false(item_has(&error, "\"eventName\""));
    /* The rest of the error item's common fields are there: keys and time are sound. */
    assert_true(item_has(&error, "\"historyKey\":{\"S\":\"Configuration/CACHE_TTL_SEC\"}"));
    assert_true(item_has(&error, "\"historySort\":{\"S\":\"" SORT_100 "\"}"));
    as_item insert = as_items_get(b.items, 1);
    assert_true(item_has(&insert, "\"modificationTime\":{\"S\":\"2024-05-01T12:30:45.000Z\"},"
                                  "\"eventName\":{\"S\":\"CREATE\"},\"historyKey\""));
    as_item remove = as_items_get(b.items, 2);
    assert_true(item_has(&remove, "\"eventName\":{\"S\":\"DELETE\"}"));
    release(&b);
}

/* historyKey = <table>/<itemKey>, escaped once as an S; historySort = <time>/<sequence
 * number padded to 40 digits>, decoded from its escapes; sizes count the decoded bytes. */
static void test_history_fields(void **state)
{
    (void)state;
    static const struct {
        const char *arn;  /* the eventSourceARN field, or "" */
        const char *keys; /* Keys */
        const char *seq;  /* SequenceNumber's text */
        const char *key;  /* historyKey's S body */
        const char *sort; /* historySort's S body */
    } CASES[] = {
        {"\"eventSourceARN\":\"arn:aws:dynamodb:eu-west-1:1:table/Orders/stream/x\",",
         "{\"b\":{\"N\":\"1\"},\"a\":{\"S\":\"x\\\"y\"}}", "100",
         "Orders/{\\\"a\\\":\\\"x\\\\\\\"y\\\",\\\"b\\\":1}", SORT_100},
        {"", "{\"k\":{\"S\":\"v\"}}", "1234567890123456789012345678901234567890", "-/v",
         "2024-05-01T12:30:45.000Z/1234567890123456789012345678901234567890"},
        {"\"eventSourceARN\":\"arn:aws:dynamodb:eu-west-1:1:table/we\\\"ird/stream/x\",",
         "{\"k\":{\"N\":\"7\"}}", "1", "we\\\"ird/7",
         "2024-05-01T12:30:45.000Z/0000000000000000000000000000000000000001"},
        {"\"eventSourceARN\":\"arn:aws:dynamodb:eu-west-1:1:index/x\",", "{\"k\":{\"S\":\"v\"}}",
         "\\u0031\\u0032", "-/v", "2024-05-01T12:30:45.000Z/0000000000000000000000000000000000000012"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char json[1024];
        snprintf(json, sizeof json,
                 "{\"Records\":[{\"eventID\":\"e\",\"eventName\":\"INSERT\",\"eventSource\":"
                 "\"aws:dynamodb\",%s\"dynamodb\":{\"Keys\":%s," TIME
                 ",\"SequenceNumber\":\"%s\"}}]}",
                 CASES[i].arn, CASES[i].keys, CASES[i].seq);
        built b;
        build(&b, json, AS_FORMAT_CLASSIC);
        char want[512];
        snprintf(want, sizeof want, "\"historyKey\":{\"S\":\"%s\"},\"historySort\":{\"S\":\"%s\"}}",
                 CASES[i].key, CASES[i].sort);
        if (strstr(lines(&b), want) == NULL) {
            fail_msg("case %zu: want %s in %s", i, want, lines(&b));
        }
        release(&b);
    }

    /* The same sequence number written plainly or with escapes: the same item, the same
     * size (historySort is counted decoded). */
    built plain;
    built escaped;
    build(&plain, EVENT(RECORD(ID1, "INSERT", TIME "," KEY ",\"SequenceNumber\":\"12\"")),
          AS_FORMAT_CLASSIC);
    build(&escaped,
          EVENT(RECORD(ID1, "INSERT", TIME "," KEY ",\"SequenceNumber\":\"\\u0031\\u0032\"")),
          AS_FORMAT_CLASSIC);
    assert_string_equal(lines(&plain), lines(&escaped));
    as_item item = as_items_get(plain.items, 0);
    assert_int_equal(item.size, as_items_get(escaped.items, 0).size);
    /* id 2+36, itemKey 7+13, modificationTime 16+24, eventName 9+6, historyKey 10+27,
     * historySort 11+65. */
    assert_int_equal(item.size, 38 + 20 + 40 + 15 + 37 + 76);
    release(&plain);
    release(&escaped);

    /* A sequence number that is not digits cannot be ordered in the trail: the item is
     * written, without the two fields. */
    static const char *const NOT_DIGITS[] = {"12a", "", "-1", "1.0", "\\u0031x"};
    for (size_t i = 0; i < sizeof NOT_DIGITS / sizeof NOT_DIGITS[0]; i++) {
        char record[256];
        snprintf(record, sizeof record, TIME "," KEY ",\"SequenceNumber\":\"%s\"",
                 NOT_DIGITS[i]);
        char json[1024];
        snprintf(json, sizeof json, EVENT(RECORD(ID1, "INSERT", "%s")), record);
        built odd;
        build(&odd, json, AS_FORMAT_CLASSIC);
        assert_int_equal(as_items_count(odd.items), 1);
        if (strstr(lines(&odd), "history") != NULL || strstr(lines(&odd), "itemKey") == NULL) {
            fail_msg("sequence number \"%s\": %s", NOT_DIGITS[i], lines(&odd));
        }
        release(&odd);
    }
}

/* Error items carry the history keys when the record's Keys are sound and its time is
 * known (40 zeros without a sequence number), and none otherwise. */
static void test_history_fields_of_error_items(void **state)
{
    (void)state;
    static const struct {
        const char *dynamodb;
        const char *sort; /* NULL: no history fields */
    } CASES[] = {
        /* No SequenceNumber: invalid, but keys and time are sound. */
        {TIME "," KEY, "2024-05-01T12:30:45.000Z/0000000000000000000000000000000000000000"},
        /* No time: the processing time, as for modificationTime. */
        {KEY ",\"NewImage\":{\"v\":{\"SS\":[]}}," SEQ,
         "2024-05-01T12:30:45.678Z/0000000000000000000000000000000000000100"},
        /* A bad time: none. */
        {"\"ApproximateCreationDateTime\":\"x\"," KEY "," SEQ, NULL},
        /* Unsound Keys: none. */
        {TIME ",\"Keys\":{\"key\":{\"S\":\"\"}}," SEQ, NULL},
        {TIME "," SEQ, NULL},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char json[1024];
        snprintf(json, sizeof json, EVENT(RECORD(ID1, "MODIFY", "%s")), CASES[i].dynamodb);
        for (int f = 0; f < 2; f++) {
            built b;
            build(&b, json, f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED);
            as_item item = as_items_get(b.items, 0);
            assert_int_equal(as_items_count(b.items), 1);
            assert_true(item.flags & AS_ITEM_ERROR);
            assert_true(item_has(&item, "\"eventName\":{\"S\":\"UPDATE\"}"));
            if (CASES[i].sort == NULL) {
                assert_false(item_has(&item, "\"historyKey\""));
                assert_false(item_has(&item, "\"historySort\""));
            } else {
                char want[256];
                snprintf(want, sizeof want,
                         "\"historyKey\":{\"S\":\"Configuration/CACHE_TTL_SEC\"},"
                         "\"historySort\":{\"S\":\"%s\"},\"error\":",
                         CASES[i].sort);
                if (!item_has(&item, want)) {
                    fail_msg("case %zu: want %s in %s", i, want, lines(&b));
                }
            }
            release(&b);
        }
    }
}

#define IGNORED_ATTRS ",\"updatedAt\":{\"S\":\"2024\"},\"v\":{\"N\":\"1\"}"

/* Ignored attributes are not audited at all: left out of whole images too, in both
 * formats, and their size with them; key attributes stay whatever the list says. */
static void test_ignored_attributes_leave_whole_images(void **state)
{
    (void)state;
    as_span ignore[] = {{"updatedAt", 9}, {"key", 3}};
    built b;
    build_with(&b,
               EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(IGNORED_ATTRS) "," SEQ) "," RECORD(
                   "2", "REMOVE", TIME "," KEY "," OLD(IGNORED_ATTRS) "," SEQ)),
               AS_FORMAT_CLASSIC, ignore, 2);
    assert_string_equal(
        lines(&b),
        COMMON("2f95a1e4-df65-55a0-81e8-5b1ec6e4c925",
               "CREATE") ",\"newValue\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"v\":{\"N\":"
                         "\"1\"}}}}\n" COMMON("4d241aa0-4d39-5541-8386-a1d568aab2bb",
                                              "DELETE") ",\"oldValue\":{\"M\":{\"key\":{\"S\":"
                                                        "\"CACHE_TTL_SEC\"},\"v\":{\"N\":\"1\"}}}}"
                                                        "\n");
    built whole;
    build(&whole, EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(IGNORED_ATTRS) "," SEQ)),
          AS_FORMAT_CLASSIC);
    /* updatedAt's name (9), value (4) and its entry's byte are not stored. */
    assert_int_equal(as_items_get(whole.items, 0).size, as_items_get(b.items, 0).size + 14);
    release(&whole);
    release(&b);

    build_with(&b, EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(IGNORED_ATTRS) "," SEQ)),
               AS_FORMAT_DETAILED, ignore, 2);
    assert_string_equal(
        lines(&b),
        COMMON("2f95a1e4-df65-55a0-81e8-5b1ec6e4c925",
               "CREATE") ",\"keys\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"}}},"
                         "\"sequenceNumber\":{\"S\":\"100\"},\"tableName\":{\"S\":"
                         "\"Configuration\"},\"cause\":{\"S\":\"user\"},\"updatedAttributes\":{"
                         "\"L\":[{\"S\":\"key\"},{\"S\":\"v\"}]},\"changes\":{\"L\":[{\"M\":{"
                         "\"path\":{\"S\":\"/key\"},\"newValue\":{\"S\":\"CACHE_TTL_SEC\"}}},{"
                         "\"M\":{\"path\":{\"S\":\"/v\"},\"newValue\":{\"N\":\"1\"}}}]},"
                         "\"newImage\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"v\":{\"N\":"
                         "\"1\"}}}}\n");
    release(&b);
}

/* A MODIFY: ignored attributes are left out of changes and both images; with no audited
 * difference (only ignored ones, or none at all) neither format writes anything. */
static void test_ignored_attributes_in_modify(void **state)
{
    (void)state;
    as_span ignore[] = {{"updatedAt", 9}};
    built b;
    build_with(&b,
               EVENT(RECORD(ID1, "MODIFY",
                            TIME "," KEY "," OLD(",\"up\\u0064atedAt\":{\"S\":\"1\"},\"v\":{\"N\":"
                                                 "\"1\"}") "," NEW(",\"updatedAt\":{\"S\":\"2\"},"
                                                                   "\"v\":{\"N\":\"2\"}") "," SEQ)),
               AS_FORMAT_DETAILED, ignore, 1);
    assert_int_equal(as_items_count(b.items), 1);
    assert_null(strstr(lines(&b), "updatedAt\""));
    assert_null(strstr(lines(&b), "\\u0064atedAt"));
    assert_non_null(strstr(lines(&b),
                           "\"updatedAttributes\":{\"L\":[{\"S\":\"v\"}]},\"changes\":{\"L\":[{"
                           "\"M\":{\"path\":{\"S\":\"/v\"},\"oldValue\":{\"N\":\"1\"},"
                           "\"newValue\":{\"N\":\"2\"}}}]},\"oldImage\":{\"M\":{\"key\":{\"S\":"
                           "\"CACHE_TTL_SEC\"},\"v\":{\"N\":\"1\"}}},\"newImage\":{\"M\":{\"key\":"
                           "{\"S\":\"CACHE_TTL_SEC\"},\"v\":{\"N\":\"2\"}}}}\n"));
    release(&b);

    static const char *const NOTHING_AUDITED[] = {
        EVENT(RECORD(ID1, "MODIFY",
                     TIME "," KEY "," OLD(",\"updatedAt\":{\"S\":\"1\"},\"v\":{\"N\":\"1\"}") "," NEW(
                         ",\"updatedAt\":{\"S\":\"2\"},\"v\":{\"N\":\"1.0\"}") "," SEQ)),
        EVENT(RECORD(ID1, "MODIFY",
                     TIME "," KEY "," OLD(",\"v\":{\"N\":\"1\"}") "," NEW(",\"v\":{\"N\":\"1\"}") "," SEQ)),
    };
    for (size_t i = 0; i < 2; i++) {
        for (int f = 0; f < 2; f++) {
            build_with(&b, NOTHING_AUDITED[i], f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED,
                       ignore, 1);
            if (as_items_count(b.items) != 0) {
                fail_msg("case %zu format %d wrote %s", i, f, lines(&b));
            }
            release(&b);
        }
    }

    /* A record short of an image still writes what it holds, less the ignored. */
    build_with(&b,
               EVENT(RECORD(ID1, "MODIFY", TIME "," KEY "," NEW(",\"updatedAt\":{\"S\":\"2\"}") "," SEQ)),
               AS_FORMAT_DETAILED, ignore, 1);
    assert_int_equal(as_items_get(b.items, 0).flags, AS_ITEM_MISSING_IMAGES);
    assert_non_null(
        strstr(lines(&b), ",\"newImage\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"}}}}\n"));
    release(&b);
}

/* An ignored attribute does not count toward the 32-level limit: it is not written. */
static void test_ignored_attributes_and_depth(void **state)
{
    (void)state;
    as_buf json = AS_BUF_INIT;
    as_buf_append_str(&json, RECORD_HEAD("INSERT") TIME "," KEY ",\"NewImage\":{\"deep\":");
    for (int i = 0; i < 32; i++) {
        as_buf_append_str(&json, "{\"M\":{\"x\":");
    }
    as_buf_append_str(&json, "{\"N\":\"1\"}");
    for (int i = 0; i < 32; i++) {
        as_buf_append_str(&json, "}}");
    }
    as_buf_append_str(&json, "}," SEQ RECORD_TAIL);
    as_span ignore[] = {{"deep", 4}};
    for (int f = 0; f < 2; f++) {
        built b;
        build(&b, json.data, f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED);
        assert_int_equal(as_items_get(b.items, 0).flags, AS_ITEM_ERROR);
        release(&b);
        build_with(&b, json.data, f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED, ignore, 1);
        assert_int_equal(as_items_get(b.items, 0).flags, 0);
        assert_null(strstr(lines(&b), "deep"));
        release(&b);
    }
    as_buf_free(&json);
}

/* While attributes are ignored, an error item holds the record's digest and size, not
 * its text: no value of an invalid record is stored. */
static void test_error_item_withholds_raw_record(void **state)
{
    (void)state;
#define BAD_RECORD RECORD(ID1, "INSERT", TIME "," KEY "," NEW(",\"secret\":{\"SS\":[]}") "," SEQ)
    const char *raw = BAD_RECORD;
    unsigned char digest[32];
    assert_int_equal(EVP_Digest(raw, strlen(raw), digest, NULL, EVP_sha256(), NULL), 1);
    char hex[65];
    for (size_t i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    char tail[256];
    snprintf(tail, sizeof tail,
             "\"rawRecordSha256\":{\"S\":\"%s\"},\"rawRecordSize\":{\"N\":\"%zu\"}}", hex,
             strlen(raw));
    as_span ignore[] = {{"other", 5}};
    for (int f = 0; f < 2; f++) {
        built b;
        build_with(&b, EVENT(BAD_RECORD), f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED,
                   ignore, 1);
        as_item item = as_items_get(b.items, 0);
        assert_int_equal(item.flags, AS_ITEM_ERROR);
        assert_true(item_has(&item, tail));
        assert_false(item_has(&item, "\"rawRecord\":"));
        assert_false(item_has(&item, "CACHE_TTL_SEC\\\""));
        /* rawRecordSha256 15+64, rawRecordSize 13 + the number's size: a byte per two
         * significant digits (trailing zeros do not count), plus one. */
        char size_text[24];
        size_t digits = (size_t)snprintf(size_text, sizeof size_text, "%zu", strlen(raw));
        while (digits > 1 && size_text[digits - 1] == '0') {
            digits--;
        }
        size_t error_len = strlen("Records[0].dynamodb.NewImage.secret.SS: empty set");
        assert_int_equal(item.size, 38 + 20 + 40 + 15 + 37 + 76 + 5 + error_len + 79 + 13 +
                                        (digits + 1) / 2 + 1);
        release(&b);
        /* Without the list, the text as before. */
        build(&b, EVENT(BAD_RECORD), f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED);
        item = as_items_get(b.items, 0);
        assert_true(item_has(&item, "\"rawRecord\":{\"S\":\"{\\\"eventID\\\""));
        assert_false(item_has(&item, "rawRecordSha256"));
        release(&b);
    }
#undef BAD_RECORD
}

/* An index key longer than DynamoDB allows (2048 bytes for historyKey, 1024 for
 * historySort) would make it refuse the whole item on every retry: the item is written
 * without them. */
static void test_history_fields_within_index_limits(void **state)
{
    (void)state;
    static const struct {
        size_t key_len; /* historyKey is "Configuration/" and this many 'k' */
        size_t seq_len; /* historySort is the time, '/' and this many digits */
        bool history;
    } CASES[] = {
        {2034, 40, true}, {2035, 40, false}, {1, 1, true},
        /* Not a sequence number DynamoDB gives: the trail could not order it. */
        {1, 41, false},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        as_buf json = AS_BUF_INIT;
        as_buf_append_str(&json, EVENT_HEAD_ARN "\"Keys\":{\"k\":{\"S\":\"");
        for (size_t n = 0; n < CASES[i].key_len; n++) {
            as_buf_append_char(&json, 'k');
        }
        as_buf_append_str(&json, "\"}}," TIME ",\"SequenceNumber\":\"");
        for (size_t n = 0; n < CASES[i].seq_len; n++) {
            as_buf_append_char(&json, '1');
        }
        as_buf_append_str(&json, "\"" RECORD_TAIL);
        for (int f = 0; f < 2; f++) {
            built b;
            build(&b, json.data, f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED);
            as_item item = as_items_get(b.items, 0);
            assert_int_equal(item.flags & AS_ITEM_ERROR, 0);
            if (item_has(&item, "\"historyKey\"") != CASES[i].history ||
                item_has(&item, "\"historySort\"") != CASES[i].history) {
                fail_msg("case %zu format %d: history fields %s", i, f,
                         CASES[i].history ? "missing" : "present");
            }
            assert_true(item_has(&item, "\"eventName\":{\"S\":\"CREATE\"}"));
            release(&b);
        }
        as_buf_free(&json);
    }
}

/* ---- BASELINE items ----------------------------------------------------------------- */

#define BASELINE_SORT "2024-05-01T12:30:45.000Z/0000000000000000000000000000000000000000"
#define READ_MS       INT64_C(1714566645000)

/* An image to stand for an item a Scan read: the NewImage of a one-record event. */
typedef struct scanned {
    as_buf json; /* the event's input, which it borrows */
    as_event *event;
} scanned;

static scanned scan(const char *image)
{
    scanned s = {AS_BUF_INIT, NULL};
    as_buf_append_str(&s.json, RECORD_HEAD("INSERT") KEY ",\"NewImage\":");
    as_buf_append_str(&s.json, image);
    as_buf_append_str(&s.json, "," SEQ RECORD_TAIL);
    assert_int_equal(as_buf_status(&s.json), AS_OK);
    as_error err = {0};
    assert_int_equal(as_event_decode(s.json.data, s.json.len, &s.event, &err), AS_OK);
    return s;
}

/* Builds the baseline of `image` into a fresh list: its one line, or the failure. */
typedef struct baseline_run {
    as_status status;
    as_error err;
    as_buf line;
    as_item item;
} baseline_run;

static baseline_run run_baseline(const char *image, const char *const *keys, size_t key_count,
                                 const char *table, int64_t read_ms, as_format format,
                                 const as_span *ignore, size_t ignore_count)
{
    baseline_run r;
    memset(&r, 0, sizeof r);
    /* The event must outlive the build: its input too. */
    as_buf json = AS_BUF_INIT;
    as_buf_append_str(&json, RECORD_HEAD("INSERT") KEY ",\"NewImage\":");
    as_buf_append_str(&json, image);
    as_buf_append_str(&json, "," SEQ RECORD_TAIL);
    as_event *event = NULL;
    assert_int_equal(as_event_decode(json.data, json.len, &event, &r.err), AS_OK);
    const as_record *rec = as_event_record(event, 0);
    assert_null(rec->error);
    as_span names[3];
    for (size_t i = 0; i < key_count && i < 3; i++) {
        names[i] = as_span_from_cstr(keys[i]);
    }
    as_baseline b = {rec->new_image, names, key_count, as_span_from_cstr(table), read_ms};
    as_audit_options options = {.format = format, .ignore = ignore, .ignore_count = ignore_count, .now_ms = NOW_MS};
    as_items *items = as_items_new();
    assert_non_null(items);
    r.status = as_audit_build_baseline(&b, &options, items, &r.err);
    if (r.status == AS_OK) {
        assert_int_equal(as_items_count(items), 1);
        r.item = as_items_get(items, 0);
        as_buf_append_span(&r.line, r.item.json);
        r.item.json = (as_span){r.line.data, r.line.len};
        r.item.reason = (as_span){NULL, 0};
    } else {
        assert_int_equal(as_items_count(items), 0);
    }
    as_items_free(items);
    as_event_free(event);
    as_buf_free(&json);
    return r;
}

static const char *const ONE_KEY[] = {"key"};

/* The classic BASELINE: the image as read, modificationTime the read time, historySort
 * with 40 zeros, id from the table, itemKey and the image's canonical form. */
static void test_baseline_classic(void **state)
{
    (void)state;
    baseline_run r =
        run_baseline("{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"value\":{\"N\":\"3600\"}}", ONE_KEY, 1,
                     "Configuration", READ_MS, AS_FORMAT_CLASSIC, NULL, 0);
    assert_int_equal(r.status, AS_OK);
    /* id: uuid5(ns, "baseline/Configuration/CACHE_TTL_SEC/" + sha256 hex of
     * {"key":{"S":"CACHE_TTL_SEC"},"value":{"N":"36E2"}}), computed with Python. */
    assert_string_equal(
        r.line.data,
        "{\"id\":{\"S\":\"c8b1f412-f6b5-5e22-91e7-382d2ecae098\"},\"itemKey\":{\"S\":"
        "\"CACHE_TTL_SEC\"},\"modificationTime\":{\"S\":\"2024-05-01T12:30:45.000Z\"},"
        "\"eventName\":{\"S\":\"BASELINE\"},\"historyKey\":{\"S\":\"Configuration/CACHE_TTL_SEC\"},"
        "\"historySort\":{\"S\":\"" BASELINE_SORT "\"},\"newValue\":{\"M\":{\"key\":{\"S\":"
        "\"CACHE_TTL_SEC\"},\"value\":{\"N\":\"3600\"}}}}");
    assert_int_equal(r.item.flags, 0);
    assert_int_equal(r.item.record, 0);
    /* id 2+36, itemKey 7+13, modificationTime 16+24, eventName 9+8, historyKey 10+27,
     * historySort 11+65, newValue 8 + (3 + key 3+13+1 + value 5+2+1). */
    assert_int_equal(r.item.size, 38 + 20 + 40 + 17 + 37 + 76 + 8 + 28);
    as_buf_free(&r.line);

    /* The same item read again, later, with its number written otherwise: the same id
     * (its canonical form is the same), the new time, the value as read. */
    baseline_run again =
        run_baseline("{\"value\":{\"N\":\"36E2\"},\"key\":{\"S\":\"CACHE_\\u0054TL_SEC\"}}", ONE_KEY,
                     1, "Configuration", READ_MS + 1000, AS_FORMAT_CLASSIC, NULL, 0);
    assert_int_equal(again.status, AS_OK);
    assert_non_null(strstr(again.line.data, "c8b1f412-f6b5-5e22-91e7-382d2ecae098"));
    assert_non_null(strstr(again.line.data, "\"modificationTime\":{\"S\":\"2024-05-01T12:30:46.000Z\"}"));
    assert_non_null(strstr(again.line.data, "\"value\":{\"N\":\"36E2\"}"));
    as_buf_free(&again.line);

    /* Another table, or another value: another id. */
    baseline_run other = run_baseline("{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"value\":{\"N\":\"3600\"}}",
                                      ONE_KEY, 1, "Other", READ_MS, AS_FORMAT_CLASSIC, NULL, 0);
    assert_null(strstr(other.line.data, "c8b1f412"));
    assert_non_null(strstr(other.line.data, "\"historyKey\":{\"S\":\"Other/CACHE_TTL_SEC\"}"));
    as_buf_free(&other.line);
    other = run_baseline("{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"value\":{\"N\":\"3601\"}}", ONE_KEY, 1,
                         "Configuration", READ_MS, AS_FORMAT_CLASSIC, NULL, 0);
    assert_null(strstr(other.line.data, "c8b1f412"));
    as_buf_free(&other.line);
}

/* The detailed BASELINE: keys, tableName, every attribute updated, one change per
 * attribute, newImage; no sequenceNumber and no cause (a scan has neither). */
static void test_baseline_detailed(void **state)
{
    (void)state;
    baseline_run r =
        run_baseline("{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"value\":{\"N\":\"3600\"}}", ONE_KEY, 1,
                     "Configuration", READ_MS, AS_FORMAT_DETAILED, NULL, 0);
    assert_int_equal(r.status, AS_OK);
    assert_string_equal(
        r.line.data,
        "{\"id\":{\"S\":\"c8b1f412-f6b5-5e22-91e7-382d2ecae098\"},\"itemKey\":{\"S\":"
        "\"CACHE_TTL_SEC\"},\"modificationTime\":{\"S\":\"2024-05-01T12:30:45.000Z\"},"
        "\"eventName\":{\"S\":\"BASELINE\"},\"historyKey\":{\"S\":\"Configuration/CACHE_TTL_SEC\"},"
        "\"historySort\":{\"S\":\"" BASELINE_SORT "\"},\"keys\":{\"M\":{\"key\":{\"S\":"
        "\"CACHE_TTL_SEC\"}}},\"tableName\":{\"S\":\"Configuration\"},\"updatedAttributes\":{"
        "\"L\":[{\"S\":\"key\"},{\"S\":\"value\"}]},\"changes\":{\"L\":[{\"M\":{\"path\":{\"S\":"
        "\"/key\"},\"newValue\":{\"S\":\"CACHE_TTL_SEC\"}}},{\"M\":{\"path\":{\"S\":\"/value\"},"
        "\"newValue\":{\"N\":\"3600\"}}}]},\"newImage\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},"
        "\"value\":{\"N\":\"3600\"}}}}");
    as_buf_free(&r.line);
}

/* A composite key: itemKey as for a record's Keys, keys in the key schema's order, the
 * names and the table escaped once in the item and decoded in the id's name. */
static void test_baseline_composite_key(void **state)
{
    (void)state;
    static const char *const keys[] = {"tenant", "n"};
    baseline_run r = run_baseline("{\"n\":{\"N\":\"7\"},\"tenant\":{\"S\":\"a\\\"b\"}}", keys, 2,
                                  "Orders", READ_MS, AS_FORMAT_DETAILED, NULL, 0);
    assert_int_equal(r.status, AS_OK);
    /* uuid5(ns, "baseline/Orders/{\"n\":7,\"tenant\":\"a\\\"b\"}/" + sha256 hex of
     * {"n":{"N":"7E0"},"tenant":{"S":"a\"b"}}), computed with Python. */
    assert_non_null(strstr(r.line.data, "{\"id\":{\"S\":\"b769a72b-11ea-569e-81bd-41abf79c307c\"}"));
    assert_non_null(strstr(r.line.data,
                           "\"itemKey\":{\"S\":\"{\\\"n\\\":7,\\\"tenant\\\":\\\"a\\\\\\\"b\\\"}\"}"));
    assert_non_null(strstr(
        r.line.data,
        "\"historyKey\":{\"S\":\"Orders/{\\\"n\\\":7,\\\"tenant\\\":\\\"a\\\\\\\"b\\\"}\"}"));
    assert_non_null(strstr(r.line.data,
                           "\"keys\":{\"M\":{\"tenant\":{\"S\":\"a\\\"b\"},\"n\":{\"N\":\"7\"}}}"));
    as_buf_free(&r.line);
}

/* Ignored attributes are left out of the image, its changes and its canonical form (the
 * id is the one of the item without them); key attributes stay. */
static void test_baseline_ignores_attributes(void **state)
{
    (void)state;
    as_span ignore[] = {{"updatedAt", 9}, {"key", 3}};
    for (int f = 0; f < 2; f++) {
        as_format format = f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED;
        baseline_run r = run_baseline("{\"updatedAt\":{\"S\":\"2024\"},\"key\":{\"S\":\"CACHE_TTL_"
                                      "SEC\"},\"value\":{\"N\":\"3600\"},\"\\u0000z\":{\"S\":\"x\"}}",
                                      ONE_KEY, 1, "Configuration", READ_MS, format, ignore, 2);
        baseline_run plain = run_baseline(
            "{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"\\u0000z\":{\"S\":\"x\"},\"value\":{\"N\":\"3600\"}}",
            ONE_KEY, 1, "Configuration", READ_MS, format, NULL, 0);
        assert_int_equal(r.status, AS_OK);
        assert_int_equal(plain.status, AS_OK);
        assert_null(strstr(r.line.data, "updatedAt\""));
        assert_non_null(strstr(r.line.data, "\"key\":{\"S\":\"CACHE_TTL_SEC\"}"));
        /* The composed canonical form and the canonical module's agree. */
        assert_memory_equal(r.line.data, plain.line.data, 52);
        /* updatedAt's name, value and entry byte (9 + 4 + 1) are not counted; "\u0000z"
         * comes first in plain's image but the sizes are the same. */
        assert_int_equal(r.item.size, plain.item.size);
        as_buf_free(&r.line);
        as_buf_free(&plain.line);
    }
}

/* Wrapped as newValue (classic) an attribute sits one level deeper, in changes (detailed)
 * two: past DynamoDB's 32 levels the baseline is refused, not cut. */
static void test_baseline_depth(void **state)
{
    (void)state;
    for (int levels = 30; levels <= 32; levels++) {
        as_buf image = AS_BUF_INIT;
        as_buf_append_str(&image, "{\"key\":{\"S\":\"K\"},\"deep\":");
        for (int i = 0; i < levels; i++) {
            as_buf_append_str(&image, "{\"M\":{\"x\":");
        }
        as_buf_append_str(&image, "{\"N\":\"1\"}");
        for (int i = 0; i < levels; i++) {
            as_buf_append_str(&image, "}}");
        }
        as_buf_append_char(&image, '}');
        for (int f = 0; f < 2; f++) {
            baseline_run r = run_baseline(image.data, ONE_KEY, 1, "T12", READ_MS,
                                          f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED, NULL, 0);
            int nest = levels + (f == 0 ? 1 : 2);
            if ((nest > 32) != (r.status == AS_ERR_LIMIT)) {
                fail_msg("levels %d format %d: status %d", levels, f, r.status);
            }
            if (r.status == AS_ERR_LIMIT) {
                char want[128];
                snprintf(want, sizeof want, "the item would nest %d levels", nest);
                assert_non_null(strstr(r.err.message, want));
            }
            as_buf_free(&r.line);
        }
        as_buf_free(&image);
    }
}

/* Over 400 KB, the image is replaced by the truncation marker, as for any item. */
static void test_baseline_size_guard(void **state)
{
    (void)state;
    as_buf image = AS_BUF_INIT;
    as_buf_append_str(&image, "{\"key\":{\"S\":\"K\"},\"big\":{\"S\":\"");
    for (size_t i = 0; i < 410000; i++) {
        as_buf_append_char(&image, 'b');
    }
    as_buf_append_str(&image, "\"}}");
    baseline_run r =
        run_baseline(image.data, ONE_KEY, 1, "T12", READ_MS, AS_FORMAT_CLASSIC, NULL, 0);
    assert_int_equal(r.status, AS_OK);
    assert_int_equal(r.item.flags, AS_ITEM_TRUNCATED);
    assert_true(r.item.size <= AS_ITEM_MAX_SIZE);
    assert_non_null(strstr(r.line.data, "\"newValue\":{\"M\":{\"truncated\":{\"BOOL\":true}"));
    assert_non_null(strstr(r.line.data, "\"eventName\":{\"S\":\"BASELINE\"}"));
    as_buf_free(&r.line);
    as_buf_free(&image);
}

/* What the builder refuses, each with a message naming it, appending nothing. */
static void test_baseline_refusals(void **state)
{
    (void)state;
    static const char *const missing[] = {"id"};
    static const char *const typed[] = {"list"};
    static const char *const empty[] = {"empty"};
    static const char *const twice[] = {"key", "key"};
    static const char *const three[] = {"key", "n", "empty"};
    static const char *const blank[] = {""};
    static const struct {
        const char *const *keys;
        size_t count;
        const char *table;
        int64_t read_ms;
        const char *message;
    } CASES[] = {
        {missing, 1, "T12", READ_MS, "the item has no key attribute \"id\""},
        {typed, 1, "T12", READ_MS, "key attribute \"list\" has type L, not S, N or B"},
        {empty, 1, "T12", READ_MS, "key attribute \"empty\" is empty"},
        {twice, 2, "T12", READ_MS, "key name \"key\" is given twice"},
        {three, 3, "T12", READ_MS, "want 1 or 2 key names (hash, range), not 3"},
        {ONE_KEY, 0, "T12", READ_MS, "want 1 or 2 key names (hash, range), not 0"},
        {blank, 1, "T12", READ_MS, "key name 1 is empty"},
        {ONE_KEY, 1, "", READ_MS, "the table name is empty"},
        {ONE_KEY, 1, "T12", -1, "read time -1 ms is outside 1970..9999"},
        {ONE_KEY, 1, "T12", INT64_C(253402300800000), "is outside 1970..9999"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        baseline_run r = run_baseline(
            "{\"key\":{\"S\":\"K\"},\"n\":{\"N\":\"1\"},\"list\":{\"L\":[]},\"empty\":{\"B\":\"\"}}",
            CASES[i].keys, CASES[i].count, CASES[i].table, CASES[i].read_ms, AS_FORMAT_CLASSIC,
            NULL, 0);
        if (r.status != AS_ERR_ARGUMENT || strstr(r.err.message, CASES[i].message) == NULL ||
            strncmp(r.err.message, "as_audit_build_baseline: ", 25) != 0) {
            fail_msg("case %zu: status %d, message \"%s\"", i, r.status, r.err.message);
        }
        as_buf_free(&r.line);
    }

    /* NULL arguments, an item that is not a map, an ignore list without names. */
    scanned s = scan("{\"key\":{\"S\":\"K\"}}");
    const as_value *image = as_event_record(s.event, 0)->new_image;
    as_span name = {"key", 3};
    as_baseline b = {image, &name, 1, {"T12", 3}, READ_MS};
    as_audit_options options = {.format = AS_FORMAT_CLASSIC, .ignore = NULL, .ignore_count = 0, .now_ms = NOW_MS};
    as_items *items = as_items_new();
    as_error err;
    assert_int_equal(as_audit_build_baseline(NULL, &options, items, &err), AS_ERR_ARGUMENT);
    assert_string_equal(err.message, "as_audit_build_baseline: NULL argument");
    assert_int_equal(as_audit_build_baseline(&b, NULL, items, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_audit_build_baseline(&b, &options, NULL, &err), AS_ERR_ARGUMENT);
    as_baseline not_map = b;
    not_map.item = image + 1; /* the S value of "key" */
    assert_int_equal(as_audit_build_baseline(&not_map, &options, items, &err), AS_ERR_ARGUMENT);
    assert_string_equal(err.message, "as_audit_build_baseline: the item is not a map");
    not_map.item = NULL;
    assert_int_equal(as_audit_build_baseline(&not_map, &options, items, NULL), AS_ERR_ARGUMENT);
    as_audit_options no_names = {.format = AS_FORMAT_CLASSIC, .ignore = NULL, .ignore_count = 1, .now_ms = NOW_MS};
    assert_int_equal(as_audit_build_baseline(&b, &no_names, items, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_items_count(items), 0);
    /* The list is usable after the refusals. */
    assert_int_equal(as_audit_build_baseline(&b, &options, items, &err), AS_OK);
    assert_int_equal(as_items_count(items), 1);
    as_items_free(items);
    as_event_free(s.event);
    as_buf_free(&s.json);
}

/* Every accessor answers a bad index and a NULL list the same way: nothing, never a
 * read out of bounds. */
static void test_accessors_check_index(void **state)
{
    (void)state;
    built b;
    build(&b, EVENT(RECORD(ID1, "INSERT", KEY "," NEW("") "," TIME "," SEQ)), AS_FORMAT_CLASSIC);
    assert_int_equal(as_items_count(b.items), 1);
    as_item item = as_items_get(b.items, 0);
    assert_non_null(item.json.ptr);
    as_item past = as_items_get(b.items, 1);
    assert_null(past.json.ptr);
    assert_int_equal(past.json.len, 0);
    assert_int_equal(past.size, 0);
    assert_null(past.reason.ptr);
    assert_null(as_items_get(NULL, 0).json.ptr);
    assert_null(as_items_get(b.items, SIZE_MAX).json.ptr);
    assert_int_equal(as_items_count(NULL), 0);
    as_items_clear(NULL);
    assert_int_equal(as_event_record_count(b.event), 1);
    assert_non_null(as_event_record(b.event, 0));
    assert_null(as_event_record(b.event, 1));
    assert_null(as_event_record(NULL, 0));
    assert_int_equal(as_event_record_count(NULL), 0);
    as_error err = {0};
    as_audit_options options = {.format = AS_FORMAT_CLASSIC, .ignore = NULL, .ignore_count = 0, .now_ms = NOW_MS};
    assert_int_equal(as_audit_build_event(NULL, &options, b.items, &err), AS_ERR_ARGUMENT);
    assert_string_equal(err.message, "as_audit_build_event: NULL argument");
    assert_int_equal(as_audit_build_event(b.event, NULL, b.items, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_audit_build_event(b.event, &options, NULL, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_audit_build(NULL, &options, b.items, &err), AS_ERR_ARGUMENT);
    assert_string_equal(err.message, "as_audit_build: NULL argument");
    release(&b);
}

/* tableName comes from the stream ARN, escaped or not; an ARN that names no table (or
 * is not an ARN) leaves it out. */
static void test_table_name_from_arn(void **state)
{
    (void)state;
    static const struct {
        const char *arn;
        const char *expected; /* NULL: no tableName */
    } CASES[] = {
        {"arn:aws:dynamodb:us-east-1:1:table/Orders/stream/x", "Orders"},
        {"arn:aws:dynamodb:us-east-1:1:table\\/Or\\u0064ers\\/stream\\/x", "Orders"},
        {"arn:aws-cn:dynamodb:cn-north-1:1:table/T", "T"},
        {"arn:aws:dynamodb:us-east-1:1:table//stream/x", NULL},
        {"arn:aws:dynamodb:us-east-1:1:table/", NULL},
        {"arn:aws:dynamodb:us-east-1:1:index/Orders", NULL},
        {"ar", NULL},
        {"xrn:aws:dynamodb:us-east-1:1:table/Orders", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char json[1024];
        snprintf(json, sizeof json,
                 "{\"Records\":[{\"eventID\":\"e\",\"eventName\":\"INSERT\",\"eventSource\":"
                 "\"aws:dynamodb\",\"eventSourceARN\":\"%s\",\"dynamodb\":{" KEY "," NEW("") "," TIME
                 "," SEQ "}}]}",
                 CASES[i].arn);
        built b;
        build(&b, json, AS_FORMAT_DETAILED);
        const char *table = strstr(lines(&b), "\"tableName\":{\"S\":\"");
        if (CASES[i].expected == NULL) {
            assert_null(table);
        } else {
            assert_non_null(table);
            table += strlen("\"tableName\":{\"S\":\"");
            assert_int_equal(strncmp(table, CASES[i].expected, strlen(CASES[i].expected)), 0);
            assert_int_equal(table[strlen(CASES[i].expected)], '"');
        }
        release(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accessors_check_index),
        cmocka_unit_test(test_table_name_from_arn),
        cmocka_unit_test(test_design_example_modify),
        cmocka_unit_test(test_insert_and_remove_carry_whole_images),
        cmocka_unit_test(test_modify_lists_changes_in_name_order),
        cmocka_unit_test(test_modify_without_difference_writes_nothing),
        cmocka_unit_test(test_ignored_attributes_are_left_out_of_modify),
        cmocka_unit_test(test_item_key_forms),
        cmocka_unit_test(test_modification_time_forms),
        cmocka_unit_test(test_partial_images_classic),
        cmocka_unit_test(test_partial_images_detailed),
        cmocka_unit_test(test_detailed_update_paths),
        cmocka_unit_test(test_detailed_ttl_delete),
        cmocka_unit_test(test_values_copied_as_received),
        cmocka_unit_test(test_invalid_record_error_item),
        cmocka_unit_test(test_error_item_without_event_id),
        cmocka_unit_test(test_error_items_with_empty_event_ids),
        cmocka_unit_test(test_depth_guard),
        cmocka_unit_test(test_size_guard_truncates_largest_first),
        cmocka_unit_test(test_event_name_everywhere),
        cmocka_unit_test(test_history_fields),
        cmocka_unit_test(test_history_fields_of_error_items),
        cmocka_unit_test(test_ignored_attributes_leave_whole_images),
        cmocka_unit_test(test_ignored_attributes_in_modify),
        cmocka_unit_test(test_ignored_attributes_and_depth),
        cmocka_unit_test(test_error_item_withholds_raw_record),
        cmocka_unit_test(test_history_fields_within_index_limits),
        cmocka_unit_test(test_baseline_classic),
        cmocka_unit_test(test_baseline_detailed),
        cmocka_unit_test(test_baseline_composite_key),
        cmocka_unit_test(test_baseline_ignores_attributes),
        cmocka_unit_test(test_baseline_depth),
        cmocka_unit_test(test_baseline_size_guard),
        cmocka_unit_test(test_baseline_refusals),
    };
    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
