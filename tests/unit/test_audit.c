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

/* Builds every record of `json` with `options`, which must succeed. */
static void build_opts(built *b, const char *json, const as_audit_options *options)
{
    as_error err = {0};
    memset(b, 0, sizeof *b);
    assert_int_equal(as_event_decode(json, strlen(json), &b->event, &err), AS_OK);
    b->items = as_items_new();
    assert_non_null(b->items);
    if (as_audit_build_event(b->event, options, b->items, &err) != AS_OK) {
        fail_msg("build failed: %s", err.message);
    }
    for (size_t i = 0; i < as_items_count(b->items); i++) {
        as_item item = as_items_get(b->items, i);
        as_buf_append_span(&b->lines, item.json);
        as_buf_append_char(&b->lines, '\n');
    }
    assert_int_equal(as_buf_status(&b->lines), AS_OK);
}

static void build_with(built *b, const char *json, as_format format, const as_span *ignore,
                       size_t ignore_count)
{
    as_audit_options options = {
        .format = format, .ignore = ignore, .ignore_count = ignore_count, .now_ms = NOW_MS};
    build_opts(b, json, &options);
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

/* An INSERT whose attribute `deep` nests 32 maps: too deep for DynamoDB once wrapped. */
static void append_deep_insert(as_buf *json)
{
    as_buf_append_str(json, RECORD_HEAD("INSERT") TIME "," KEY ",\"NewImage\":{\"deep\":");
    for (int i = 0; i < 32; i++) {
        as_buf_append_str(json, "{\"M\":{\"x\":");
    }
    as_buf_append_str(json, "{\"N\":\"1\"}");
    for (int i = 0; i < 32; i++) {
        as_buf_append_str(json, "}}");
    }
    as_buf_append_str(json, "}," SEQ RECORD_TAIL);
}

/* An ignored attribute does not count toward the 32-level limit: it is not written. */
static void test_ignored_attributes_and_depth(void **state)
{
    (void)state;
    as_buf json = AS_BUF_INIT;
    append_deep_insert(&json);
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

static baseline_run run_baseline_opts(const char *image, const char *const *keys,
                                      size_t key_count, const char *table, int64_t read_ms,
                                      const as_audit_options *options);

static baseline_run run_baseline(const char *image, const char *const *keys, size_t key_count,
                                 const char *table, int64_t read_ms, as_format format,
                                 const as_span *ignore, size_t ignore_count)
{
    as_audit_options options = {
        .format = format, .ignore = ignore, .ignore_count = ignore_count, .now_ms = NOW_MS};
    return run_baseline_opts(image, keys, key_count, table, read_ms, &options);
}

static baseline_run run_baseline_opts(const char *image, const char *const *keys,
                                      size_t key_count, const char *table, int64_t read_ms,
                                      const as_audit_options *options)
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
    as_items *items = as_items_new();
    assert_non_null(items);
    r.status = as_audit_build_baseline(&b, options, items, &r.err);
    if (r.status == AS_OK) {
        assert_int_equal(as_items_count(items), 1);
        r.item = as_items_get(items, 0);
        as_buf_append_span(&r.line, r.item.json);
        /* The item's spans, moved into the copy: the list is freed below. */
        as_span *spans[] = {&r.item.id, &r.item.history_key, &r.item.history_sort,
                            &r.item.modification_time};
        for (size_t i = 0; i < 4; i++) {
            if (spans[i]->len > 0) {
                spans[i]->ptr = r.line.data + (spans[i]->ptr - r.item.json.ptr);
            }
        }
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

/* ---- Trust: who made the change, retention, redaction ------------------------------- */

/* The HMAC key of these tests: the bytes 0 to 31. */
static const uint8_t TEST_KEY[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                     11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                     22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* HMAC-SHA256 under TEST_KEY of canonical forms, computed offline with Python's hmac
 * module, independently of this library:
 *     hmac.new(bytes(range(32)), b'{"S":"hunter2"}', hashlib.sha256).hexdigest() */
#define HMAC_HUNTER2 "82c9841cbd1a78980f1c3b6df1c9a9f562d5775af1846c0919e8de9fa43a39db"
#define HMAC_18E2    "ba8033ec73aae0e4998513a24032c5411af3fa4d189091c461b591a643886635" /* {"N":"18E2"} */
#define HMAC_SS_AB   "efc8f4869e43a20c015925445b088b529e810a8d3772c9904c4e401c374a70df" /* {"SS":["a","b"]} */
#define HMAC_S3CRET  "2794e19ca502f45333e411829e657479b10cc20956156c2cb21fe530e0d5b52b"
#define HMAC_NEW     "949c0f0665aa9d960ad310290f2a36dd14a9bf8292778dec9f0a64b72abed69a" /* {"S":"new"} */
#define HMAC_OLD     "0580dc9389a78edc7d734e010baf6d9c6627b0ca21d8fbecda0b70fb155078a0" /* {"S":"old"} */
/* {"M":{"a":{"M":{"b":{"N":"1E0"}}},"c":{"L":[{"N":"1E0"},{"N":"2E0"}]}}} and the same
 * with b 2 and c[1] 3. */
#define HMAC_DEEP_OLD "a13fd3fa18096e19ed111a0273c37a7cc28c7cae410cd244ed2dd61194d1fc00"
#define HMAC_DEEP_NEW "5d7abb7ba384354579ed5e84a1a71cce2d07b1411db8971fb1f3a19ebf4f983f"

#define MARK          "{\"M\":{\"redacted\":{\"BOOL\":true}}}"
#define MARK_HMAC(h)  "{\"M\":{\"redacted\":{\"BOOL\":true},\"hmac\":{\"S\":\"" h "\"}}}"

/* A record with a userIdentity. */
#define RECORD_BY(name, identity, dynamodb)                                                         \
    "{\"eventID\":\"" ID1 "\",\"eventName\":\"" name "\",\"eventSource\":\"aws:dynamodb\","        \
    "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:123456789012:table/Configuration/"            \
    "stream/2024-05-01T00:00:00.000\"," identity "\"dynamodb\":{" dynamodb "}}"
#define TTL_IDENTITY                                                                               \
    "\"userIdentity\":{\"type\":\"Service\",\"principalId\":\"dynamodb.amazonaws.com\"},"
#define USER_IDENTITY "\"userIdentity\":{\"type\":\"Service\",\"principalId\":\"someone\"},"
#define BY(v)         ",\"by\":{\"S\":\"" v "\"}"
#define ACTOR(v, source)                                                                           \
    "\"historySort\":{\"S\":\"" SORT_100 "\"},\"actor\":{\"S\":\"" v "\"},\"actorSource\":{\"S\":\"" \
    source "\"}"

/* Every item of `b` holds `want`, or (want NULL) neither actor nor actorSource. */
static void check_actor(const built *b, const char *want, const char *what)
{
    assert_true(as_items_count(b->items) > 0);
    for (size_t i = 0; i < as_items_count(b->items); i++) {
        as_item item = as_items_get(b->items, i);
        bool ok = want != NULL ? item_has(&item, want)
                               : !item_has(&item, "\"actor\"") && !item_has(&item, "\"actorSource\"");
        if (!ok) {
            fail_msg("%s: item %zu: want %s\n%.*s", what, i, want != NULL ? want : "no actor",
                     (int)item.json.len, item.json.ptr);
        }
    }
}

/* actor and actorSource: from the NewImage for CREATE and UPDATE, the OldImage for a
 * user's DELETE, DynamoDB for a TTL delete whether the attribute is set or not; none
 * when the image lacks it or it is not an S, nor on error items but a TTL delete's. */
static void test_actor(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *json;
        const char *attribute; /* "" for none */
        const char *want;      /* NULL: no actor */
    } CASES[] = {
        {"create", EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(BY("alice")) "," SEQ)), "by",
         ACTOR("alice", "item")},
        {"update: the new image's",
         EVENT(RECORD(ID1, "MODIFY",
                      TIME "," KEY "," OLD(BY("bob") ",\"v\":{\"N\":\"1\"}") "," NEW(
                          BY("alice") ",\"v\":{\"N\":\"2\"}") "," SEQ)),
         "by", ACTOR("alice", "item")},
        {"user delete: the last writer",
         EVENT(RECORD_BY("REMOVE", USER_IDENTITY, TIME "," KEY "," OLD(BY("bob")) "," SEQ)), "by",
         ACTOR("bob", "last-writer")},
        {"ttl delete, attribute set",
         EVENT(RECORD_BY("REMOVE", TTL_IDENTITY, TIME "," KEY "," OLD(BY("bob")) "," SEQ)), "by",
         ACTOR("dynamodb.amazonaws.com", "ttl")},
        {"ttl delete, attribute unset",
         EVENT(RECORD_BY("REMOVE", TTL_IDENTITY, TIME "," KEY "," OLD(BY("bob")) "," SEQ)), "",
         ACTOR("dynamodb.amazonaws.com", "ttl")},
        {"ttl delete without images",
         EVENT(RECORD_BY("REMOVE", TTL_IDENTITY, TIME "," KEY "," SEQ)), "",
         ACTOR("dynamodb.amazonaws.com", "ttl")},
        {"DynamoDB's identity on a create is no TTL delete",
         EVENT(RECORD_BY("INSERT", TTL_IDENTITY, TIME "," KEY "," NEW(BY("alice")) "," SEQ)), "by",
         ACTOR("alice", "item")},
        {"not an S", EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(",\"by\":{\"N\":\"7\"}") "," SEQ)),
         "by", NULL},
        {"an SS is not an S",
         EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(",\"by\":{\"SS\":[\"a\"]}") "," SEQ)), "by",
         NULL},
        {"missing", EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(",\"who\":{\"S\":\"x\"}") "," SEQ)),
         "by", NULL},
        {"attribute unset", EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(BY("alice")) "," SEQ)),
         "", NULL},
        {"escapes kept", EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(BY("al\\u0069ce")) "," SEQ)),
         "by", ACTOR("al\\u0069ce", "item")},
        {"an escaped name",
         EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(",\"b\\u0079\":{\"S\":\"alice\"}") "," SEQ)),
         "by", ACTOR("alice", "item")},
        {"empty S", EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(BY("")) "," SEQ)), "by",
         ACTOR("", "item")},
        {"the key attribute", EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW("") "," SEQ)), "key",
         ACTOR("CACHE_TTL_SEC", "item")},
        {"update without its old image",
         EVENT(RECORD(ID1, "MODIFY", TIME "," KEY "," NEW(BY("alice")) "," SEQ)), "by",
         ACTOR("alice", "item")},
        {"update without its new image",
         EVENT(RECORD(ID1, "MODIFY", TIME "," KEY "," OLD(BY("bob")) "," SEQ)), "by", NULL},
        {"user delete without its old image", EVENT(RECORD(ID1, "REMOVE", TIME "," KEY "," SEQ)),
         "by", NULL},
        {"error item",
         EVENT(RECORD(ID1, "INSERT",
                      TIME "," KEY "," NEW(BY("alice") ",\"s\":{\"SS\":[]}") "," SEQ)),
         "by", NULL},
        {"error item of a user delete",
         EVENT(RECORD(ID1, "REMOVE", TIME "," KEY "," OLD(BY("bob") ",\"s\":{\"SS\":[]}") "," SEQ)),
         "by", NULL},
        {"error item of a ttl delete",
         EVENT(RECORD_BY("REMOVE", TTL_IDENTITY,
                         TIME "," KEY "," OLD(BY("bob") ",\"s\":{\"SS\":[]}") "," SEQ)),
         "by", ACTOR("dynamodb.amazonaws.com", "ttl")},
        {"error item of an unknown event with DynamoDB's identity",
         EVENT(RECORD_BY("UPSERT", TTL_IDENTITY, TIME "," KEY "," OLD(BY("bob")) "," SEQ)), "by",
         NULL},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        for (int f = 0; f < 2; f++) {
            as_audit_options options = {.format = f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED,
                                        .now_ms = NOW_MS,
                                        .actor_attribute = as_span_from_cstr(CASES[i].attribute)};
            built b;
            build_opts(&b, CASES[i].json, &options);
            char what[160];
            snprintf(what, sizeof what, "%s (%s)", CASES[i].what, f == 0 ? "classic" : "detailed");
            check_actor(&b, CASES[i].want, what);
            release(&b);
        }
    }
}

/* The two fields count toward the item's size like any attribute, and are never cut. */
static void test_actor_size(void **state)
{
    (void)state;
    const char *json = EVENT(RECORD(ID1, "MODIFY",
                                    TIME "," KEY "," OLD(",\"value\":{\"N\":\"3600\"}") "," NEW(
                                        BY("al\\u0069ce") ",\"value\":{\"N\":\"1800\"}") "," SEQ));
    as_audit_options options = {.format = AS_FORMAT_CLASSIC, .now_ms = NOW_MS};
    built plain;
    build_opts(&plain, json, &options);
    options.actor_attribute = as_span_from_cstr("by");
    built b;
    build_opts(&b, json, &options);
    /* Items "by" and "value"; actor 5 + 5 ("alice" decoded), actorSource 11 + 4. */
    assert_int_equal(as_items_count(b.items), 2);
    for (size_t i = 0; i < 2; i++) {
        as_item item = as_items_get(b.items, i);
        assert_int_equal(item.size, as_items_get(plain.items, i).size + 10 + 15);
        assert_true(item_has(&item, ACTOR("al\\u0069ce", "item") ","));
    }
    release(&plain);
    release(&b);
}

/* expiresAt = floor(modificationTime in seconds) + days x 86400, after historySort (and
 * after actorSource), on every item with a time, error items and processing-time stamps
 * included. */
static void test_retention(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *json;
        uint32_t days;
        const char *want; /* NULL: no expiresAt */
    } CASES[] = {
        {"30 days", EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW("") "," SEQ)), 30,
         "\"historySort\":{\"S\":\"" SORT_100 "\"},\"expiresAt\":{\"N\":\"1717158645\"}"},
        {"a fraction floored",
         EVENT(RECORD(ID1, "INSERT",
                      "\"ApproximateCreationDateTime\":1714566645.999," KEY "," NEW("") "," SEQ)),
         30, ",\"expiresAt\":{\"N\":\"1717158645\"}"},
        {"the longest", EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW("") "," SEQ)), 36500,
         ",\"expiresAt\":{\"N\":\"4868166645\"}"},
        {"the processing time",
         EVENT(RECORD(ID1, "INSERT", KEY "," NEW("") "," SEQ)), 1,
         ",\"expiresAt\":{\"N\":\"1714653045\"}"},
        {"1970", EVENT(RECORD(ID1, "INSERT",
                              "\"ApproximateCreationDateTime\":0," KEY "," NEW("") "," SEQ)),
         1, ",\"expiresAt\":{\"N\":\"86400\"}"},
        {"each item of a classic update",
         EVENT(RECORD(ID1, "MODIFY",
                      TIME "," KEY "," OLD(",\"a\":{\"N\":\"1\"},\"b\":{\"N\":\"1\"}") "," NEW(
                          ",\"a\":{\"N\":\"2\"},\"b\":{\"N\":\"2\"}") "," SEQ)),
         30, ",\"expiresAt\":{\"N\":\"1717158645\"}"},
        {"error item", EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(",\"s\":{\"SS\":[]}") "," SEQ)),
         30, "\"historySort\":{\"S\":\"" SORT_100 "\"},\"expiresAt\":{\"N\":\"1717158645\"},\"error\""},
        {"error item stamped with the processing time",
         EVENT(RECORD(ID1, "INSERT", KEY "," NEW(",\"s\":{\"SS\":[]}") "," SEQ)), 30,
         ",\"expiresAt\":{\"N\":\"1717158645\"},\"error\""},
        {"error item without a time",
         EVENT(RECORD(ID1, "INSERT", "\"ApproximateCreationDateTime\":-1," KEY "," NEW("") "," SEQ)),
         30, NULL},
        {"no retention", EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW("") "," SEQ)), 0, NULL},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        for (int f = 0; f < 2; f++) {
            as_audit_options options = {.format = f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED,
                                        .now_ms = NOW_MS,
                                        .retention_days = CASES[i].days};
            built b;
            build_opts(&b, CASES[i].json, &options);
            assert_true(as_items_count(b.items) > 0);
            for (size_t k = 0; k < as_items_count(b.items); k++) {
                as_item item = as_items_get(b.items, k);
                bool ok = CASES[i].want != NULL ? item_has(&item, CASES[i].want)
                                                : !item_has(&item, "expiresAt");
                if (!ok) {
                    fail_msg("%s (format %d) item %zu: want %s\n%.*s", CASES[i].what, f, k,
                             CASES[i].want != NULL ? CASES[i].want : "none", (int)item.json.len,
                             item.json.ptr);
                }
            }
            release(&b);
        }
    }
    /* With an actor: who, then until when. */
    as_audit_options options = {.format = AS_FORMAT_CLASSIC,
                                .now_ms = NOW_MS,
                                .retention_days = 30,
                                .actor_attribute = as_span_from_cstr("by")};
    built b;
    build_opts(&b, EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(BY("alice")) "," SEQ)),
               &options);
    as_item item = as_items_get(b.items, 0);
    assert_true(item_has(&item, ACTOR("alice", "item") ",\"expiresAt\":{\"N\":\"1717158645\"},"
                                                       "\"newValue\""));
    release(&b);
}

/* An option out of range is refused by each entry point, with a message naming it, and
 * builds nothing. */
static void test_trust_option_refusals(void **state)
{
    (void)state;
    as_span by = as_span_from_cstr("by");
    as_span names[] = {{"x", 1}, {"by", 2}};
    static const struct {
        const char *what;
        const char *message; /* after "<function>: " */
    } WANT[] = {
        {"days past the range", "options.retention_days 36501 is outside 1..36500 (0 for none)"},
        {"days far past it", "options.retention_days 4294967295 is outside 1..36500 (0 for none)"},
        {"a short key", "options.redact_key is 31 bytes, fewer than 32"},
        {"a NULL key", "options.redact_key is NULL with a length"},
        {"a NULL redact list", "options.redact is NULL with a count"},
        {"actor ignored",
         "the actor attribute \"by\" is also ignored: who made a change cannot be left out"},
        {"actor redacted", "the actor attribute \"by\" is also redacted: who made a change cannot "
                           "be both shown and hidden"},
        {"a NULL actor", "options.actor_attribute is NULL with a length"},
        {"reserve past half", "options.reserve_bytes 204801 is more than half of DynamoDB's "
                              "409600-byte item"},
    };
    size_t count = sizeof WANT / sizeof WANT[0];
    built b;
    build(&b, EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(BY("alice")) "," SEQ)),
          AS_FORMAT_CLASSIC);
    scanned s = scan("{\"key\":{\"S\":\"k\"}}");
    for (size_t i = 0; i < count; i++) {
        as_audit_options o = {.format = AS_FORMAT_CLASSIC, .now_ms = NOW_MS};
        switch (i) {
        case 0: o.retention_days = AS_AUDIT_MAX_RETENTION_DAYS + 1; break;
        case 1: o.retention_days = UINT32_MAX; break;
        case 2: o.redact_key = TEST_KEY, o.redact_key_len = AS_AUDIT_MIN_REDACT_KEY - 1; break;
        case 3: o.redact_key_len = 32; break;
        case 4: o.redact_count = 1; break;
        case 5: o.actor_attribute = by, o.ignore = names, o.ignore_count = 2; break;
        case 6: o.actor_attribute = by, o.redact = names, o.redact_count = 2; break;
        case 7: o.actor_attribute = (as_span){NULL, 2}; break;
        default: o.reserve_bytes = AS_ITEM_MAX_SIZE / 2 + 1; break;
        }
        static const char *const fns[] = {"as_audit_build_event", "as_audit_build",
                                          "as_audit_build_baseline"};
        for (int fn = 0; fn < 3; fn++) {
            as_items *items = as_items_new();
            assert_non_null(items);
            as_error err = {0};
            as_status st;
            if (fn == 0) {
                st = as_audit_build_event(b.event, &o, items, &err);
            } else if (fn == 1) {
                st = as_audit_build(as_event_record(b.event, 0), &o, items, &err);
            } else {
                as_span key = as_span_from_cstr("key");
                as_baseline bl = {as_event_record(s.event, 0)->new_image, &key, 1,
                                  as_span_from_cstr("Configuration"), 0};
                st = as_audit_build_baseline(&bl, &o, items, &err);
            }
            char want[256];
            snprintf(want, sizeof want, "%s: %s", fns[fn], WANT[i].message);
            if (st != AS_ERR_ARGUMENT || strcmp(err.message, want) != 0) {
                fail_msg("%s via %s: status %d, message \"%s\"", WANT[i].what, fns[fn], (int)st,
                         err.message);
            }
            assert_int_equal(as_items_count(items), 0);
            as_items_free(items);
        }
    }
    /* The bounds themselves are taken. */
    as_audit_options o = {.format = AS_FORMAT_DETAILED,
                          .now_ms = NOW_MS,
                          .retention_days = AS_AUDIT_MAX_RETENTION_DAYS,
                          .redact = names,
                          .redact_count = 1,
                          .redact_key = TEST_KEY,
                          .redact_key_len = AS_AUDIT_MIN_REDACT_KEY,
                          .reserve_bytes = AS_ITEM_MAX_SIZE / 2,
                          .actor_attribute = by};
    as_items *items = as_items_new();
    as_error err = {0};
    assert_int_equal(as_audit_build_event(b.event, &o, items, &err), AS_OK);
    assert_int_equal(as_items_count(items), 1);
    as_items_free(items);
    release(&b);
    as_event_free(s.event);
    as_buf_free(&s.json);
}

/* Whether the item's JSON ends with `tail`. */
static bool item_ends_with(const as_item *item, const char *tail)
{
    size_t n = strlen(tail);
    return item->json.len >= n && memcmp(item->json.ptr + item->json.len - n, tail, n) == 0;
}

/* Whether `span` holds exactly `text`; `text` NULL: the span is empty. */
static bool span_is(as_span span, const char *text)
{
    if (text == NULL) {
        return span.ptr == NULL && span.len == 0;
    }
    return span.len == strlen(text) && memcmp(span.ptr, text, span.len) == 0;
}

/* Classic per-attribute items of redacted attributes: changed, added, removed; the diff
 * runs on the real values (an unchanged secret writes nothing), updatedAttribute still
 * names it, and its values are markers, with the HMAC when keyed. */
static void test_redact_classic(void **state)
{
    (void)state;
    as_span redact[] = {{"secret", 6}, {"gone", 4}, {"same", 4}, {"added", 5}};
    const char *json = EVENT(RECORD(
        ID1, "MODIFY",
        TIME "," KEY "," OLD(",\"gone\":{\"S\":\"s3cret\"},\"same\":{\"S\":\"hunter2\"},\"secret\":{"
                             "\"S\":\"old\"},\"value\":{\"N\":\"1\"}") "," NEW(",\"added\":{\"S\":"
                                                                            "\"hunter2\"},\"same\":{"
                                                                            "\"S\":\"hunter2\"},"
                                                                            "\"secret\":{\"S\":"
                                                                            "\"new\"},\"value\":{"
                                                                            "\"N\":\"2\"}") "," SEQ));
    built plain;
    build(&plain, json, AS_FORMAT_CLASSIC);
    assert_int_equal(as_items_count(plain.items), 4);
    for (int keyed = 0; keyed < 2; keyed++) {
        as_audit_options options = {.format = AS_FORMAT_CLASSIC,
                                    .now_ms = NOW_MS,
                                    .redact = redact,
                                    .redact_count = 4,
                                    .redact_key = keyed ? TEST_KEY : NULL,
                                    .redact_key_len = keyed ? sizeof TEST_KEY : 0};
        built b;
        build_opts(&b, json, &options);
        assert_int_equal(as_items_count(b.items), 4);
        const char *tails[2][4] = {
            {"\"updatedAttribute\":{\"S\":\"added\"},\"newValue\":" MARK "}",
             "\"updatedAttribute\":{\"S\":\"gone\"},\"oldValue\":" MARK "}",
             "\"updatedAttribute\":{\"S\":\"secret\"},\"oldValue\":" MARK ",\"newValue\":" MARK "}",
             "\"updatedAttribute\":{\"S\":\"value\"},\"oldValue\":{\"N\":\"1\"},\"newValue\":{"
             "\"N\":\"2\"}}"},
            {"\"updatedAttribute\":{\"S\":\"added\"},\"newValue\":" MARK_HMAC(HMAC_HUNTER2) "}",
             "\"updatedAttribute\":{\"S\":\"gone\"},\"oldValue\":" MARK_HMAC(HMAC_S3CRET) "}",
             "\"updatedAttribute\":{\"S\":\"secret\"},\"oldValue\":" MARK_HMAC(
                 HMAC_OLD) ",\"newValue\":" MARK_HMAC(HMAC_NEW) "}",
             "\"updatedAttribute\":{\"S\":\"value\"},\"oldValue\":{\"N\":\"1\"},\"newValue\":{"
             "\"N\":\"2\"}}"}};
        /* A marker's size: 13 bytes, 82 with the hmac; the values were 3 to 7. */
        uint64_t mark_size = keyed ? 82 : 13;
        const uint64_t sizes[4] = {
            as_items_get(plain.items, 0).size - 7 + mark_size,
            as_items_get(plain.items, 1).size - 6 + mark_size,
            as_items_get(plain.items, 2).size - 3 - 3 + 2 * mark_size,
            as_items_get(plain.items, 3).size,
        };
        for (size_t i = 0; i < 4; i++) {
            as_item item = as_items_get(b.items, i);
            if (!item_ends_with(&item, tails[keyed][i])) {
                fail_msg("keyed %d item %zu: want ...%s\n got %.*s", keyed, i, tails[keyed][i],
                         (int)item.json.len, item.json.ptr);
            }
            assert_int_equal(item.size, sizes[i]);
            /* The same ids: redaction changes values, not which item is which. */
            as_item p = as_items_get(plain.items, i);
            assert_int_equal(item.id.len, 36);
            assert_memory_equal(item.id.ptr, p.id.ptr, 36);
        }
        assert_null(strstr(lines(&b), "hunter2"));
        assert_null(strstr(lines(&b), "s3cret"));
        assert_null(strstr(lines(&b), "\"old\""));
        assert_null(strstr(lines(&b), "\"new\""));
        release(&b);
    }
    release(&plain);
}

/* Whole images, in both formats: the redacted members become markers in classic
 * newValue/oldValue and detailed newImage/oldImage, and detailed CREATE and DELETE
 * changes entries too. */
static void test_redact_whole_images(void **state)
{
    (void)state;
#define IMAGE_ATTRS ",\"secret\":{\"S\":\"hunter2\"},\"value\":{\"N\":\"1800\"}"
#define REDACTED_IMAGE                                                                             \
    "{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"secret\":" MARK_HMAC(                              \
        HMAC_HUNTER2) ",\"value\":" MARK_HMAC(HMAC_18E2) "}}"
    as_span redact[] = {{"secret", 6}, {"value", 5}};
    static const struct {
        const char *json;
        as_format format;
        const char *want[3];
    } CASES[] = {
        {EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(IMAGE_ATTRS) "," SEQ)), AS_FORMAT_CLASSIC,
         {",\"newValue\":" REDACTED_IMAGE "}", NULL, NULL}},
        {EVENT(RECORD(ID1, "REMOVE", TIME "," KEY "," OLD(IMAGE_ATTRS) "," SEQ)), AS_FORMAT_CLASSIC,
         {",\"oldValue\":" REDACTED_IMAGE "}", NULL, NULL}},
        /* A record short of an image (NEW_IMAGE stream): what it has, redacted. */
        {EVENT(RECORD(ID1, "MODIFY", TIME "," KEY "," NEW(IMAGE_ATTRS) "," SEQ)), AS_FORMAT_CLASSIC,
         {",\"newValue\":" REDACTED_IMAGE "}", NULL, NULL}},
        {EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(IMAGE_ATTRS) "," SEQ)), AS_FORMAT_DETAILED,
         {"\"updatedAttributes\":{\"L\":[{\"S\":\"key\"},{\"S\":\"secret\"},{\"S\":\"value\"}]}",
          "\"changes\":{\"L\":[{\"M\":{\"path\":{\"S\":\"/key\"},\"newValue\":{\"S\":"
          "\"CACHE_TTL_SEC\"}}},{\"M\":{\"path\":{\"S\":\"/secret\"},\"newValue\":" MARK_HMAC(
              HMAC_HUNTER2) "}},{\"M\":{\"path\":{\"S\":\"/value\"},\"newValue\":" MARK_HMAC(HMAC_18E2) "}}]}",
          ",\"newImage\":" REDACTED_IMAGE "}"}},
        {EVENT(RECORD(ID1, "REMOVE", TIME "," KEY "," OLD(IMAGE_ATTRS) "," SEQ)), AS_FORMAT_DETAILED,
         {"{\"M\":{\"path\":{\"S\":\"/secret\"},\"oldValue\":" MARK_HMAC(HMAC_HUNTER2) "}}",
          ",\"oldImage\":" REDACTED_IMAGE "}", NULL}},
        {EVENT(RECORD(ID1, "MODIFY", TIME "," KEY "," OLD(IMAGE_ATTRS) "," SEQ)), AS_FORMAT_DETAILED,
         {",\"oldImage\":" REDACTED_IMAGE "}", NULL, NULL}},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        as_audit_options options = {.format = CASES[i].format,
                                    .now_ms = NOW_MS,
                                    .redact = redact,
                                    .redact_count = 2,
                                    .redact_key = TEST_KEY,
                                    .redact_key_len = sizeof TEST_KEY};
        built b;
        build_opts(&b, CASES[i].json, &options);
        assert_int_equal(as_items_count(b.items), 1);
        for (size_t k = 0; k < 3 && CASES[i].want[k] != NULL; k++) {
            if (strstr(lines(&b), CASES[i].want[k]) == NULL) {
                fail_msg("case %zu: want %s\n got %s", i, CASES[i].want[k], lines(&b));
            }
        }
        assert_null(strstr(lines(&b), "hunter2"));
        assert_null(strstr(lines(&b), "1800"));
        release(&b);
    }
#undef IMAGE_ATTRS
#undef REDACTED_IMAGE
}

/* Detailed UPDATE: the differences under a redacted attribute, however deep, collapse to
 * one entry at /<name> (its pointer token: "se/cret" is /se~1cret) with the whole
 * attribute's markers; an attribute added or removed has one side; an unchanged one is
 * no change but a marker in the images; the others keep their deep paths. */
static void test_redact_detailed_changes(void **state)
{
    (void)state;
#define DEEP_OLD "{\"M\":{\"a\":{\"M\":{\"b\":{\"N\":\"1\"}}},\"c\":{\"L\":[{\"N\":\"1\"},{\"N\":\"2\"}]}}}"
#define DEEP_NEW "{\"M\":{\"a\":{\"M\":{\"b\":{\"N\":\"2\"}}},\"c\":{\"L\":[{\"N\":\"1\"},{\"N\":\"3\"}]}}}"
    const char *json = EVENT(RECORD(
        ID1, "MODIFY",
        TIME "," KEY "," OLD(",\"cfg\":{\"M\":{\"x\":{\"N\":\"1\"}}},\"gone\":{\"S\":\"s3cret\"},"
                             "\"same\":{\"S\":\"hunter2\"},\"se/cret\":" DEEP_OLD) "," NEW(",\"added\":{"
                                                                                     "\"S\":"
                                                                                     "\"hunter2\"},"
                                                                                     "\"cfg\":{"
                                                                                     "\"M\":{\"x\":"
                                                                                     "{\"N\":\"2\"}"
                                                                                     "}},\"same\":{"
                                                                                     "\"S\":"
                                                                                     "\"hunter2\"},"
                                                                                     "\"se/"
                                                                                     "cret\":" DEEP_NEW) "," SEQ));
    as_span redact[] = {{"se/cret", 7}, {"gone", 4}, {"added", 5}, {"same", 4}};
    as_audit_options options = {.format = AS_FORMAT_DETAILED,
                                .now_ms = NOW_MS,
                                .redact = redact,
                                .redact_count = 4,
                                .redact_key = TEST_KEY,
                                .redact_key_len = sizeof TEST_KEY};
    built b;
    build_opts(&b, json, &options);
    assert_int_equal(as_items_count(b.items), 1);
    const char *want =
        ",\"updatedAttributes\":{\"L\":[{\"S\":\"added\"},{\"S\":\"cfg\"},{\"S\":\"gone\"},{\"S\":"
        "\"se/cret\"}]},\"changes\":{\"L\":["
        "{\"M\":{\"path\":{\"S\":\"/added\"},\"newValue\":" MARK_HMAC(HMAC_HUNTER2) "}},"
        "{\"M\":{\"path\":{\"S\":\"/cfg/x\"},\"oldValue\":{\"N\":\"1\"},\"newValue\":{\"N\":\"2\"}}},"
        "{\"M\":{\"path\":{\"S\":\"/gone\"},\"oldValue\":" MARK_HMAC(HMAC_S3CRET) "}},"
        "{\"M\":{\"path\":{\"S\":\"/se~1cret\"},\"oldValue\":" MARK_HMAC(
            HMAC_DEEP_OLD) ",\"newValue\":" MARK_HMAC(HMAC_DEEP_NEW) "}}]},"
        "\"oldImage\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"cfg\":{\"M\":{\"x\":{\"N\":\"1\"}}},"
        "\"gone\":" MARK_HMAC(HMAC_S3CRET) ",\"same\":" MARK_HMAC(HMAC_HUNTER2) ",\"se/cret\":" MARK_HMAC(
            HMAC_DEEP_OLD) "}},"
        "\"newImage\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"added\":" MARK_HMAC(
            HMAC_HUNTER2) ",\"cfg\":{\"M\":{\"x\":{\"N\":\"2\"}}},\"same\":" MARK_HMAC(HMAC_HUNTER2) ",\"se/"
                                                                                                  "cret\":" MARK_HMAC(HMAC_DEEP_NEW) "}}}\n";
    const char *at = strstr(lines(&b), ",\"updatedAttributes\"");
    assert_non_null(at);
    assert_string_equal(at, want);
    /* The size as written: built without the secrets' attributes the item differs by
     * their markers exactly; checked through a key-less build, whose markers are 13 bytes. */
    options.redact_key = NULL;
    options.redact_key_len = 0;
    built plain_marks;
    build_opts(&plain_marks, json, &options);
    as_item keyed = as_items_get(b.items, 0);
    as_item unkeyed = as_items_get(plain_marks.items, 0);
    /* 10 markers (4 in changes, 6 in the images), each 69 bytes longer with its hmac. */
    assert_int_equal(keyed.size, unkeyed.size + 10 * 69);
    release(&plain_marks);
    release(&b);
#undef DEEP_OLD
#undef DEEP_NEW
}

/* A record's key attributes are never redacted nor ignored, whatever the lists say. */
static void test_redact_never_keys(void **state)
{
    (void)state;
    static const char *const JSON[] = {
        EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(",\"v\":{\"N\":\"1\"}") "," SEQ)),
        EVENT(RECORD(ID1, "MODIFY",
                     TIME "," KEY "," OLD(",\"v\":{\"N\":\"1\"}") "," NEW(",\"v\":{\"N\":\"2\"}") "," SEQ)),
        EVENT(RECORD(ID1, "REMOVE", TIME "," KEY "," OLD(",\"v\":{\"N\":\"1\"}") "," SEQ)),
    };
    as_span key[] = {{"key", 3}};
    for (size_t i = 0; i < 3; i++) {
        for (int f = 0; f < 2; f++) {
            as_format format = f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED;
            built plain;
            build(&plain, JSON[i], format);
            as_audit_options options = {.format = format,
                                        .now_ms = NOW_MS,
                                        .ignore = key,
                                        .ignore_count = 1,
                                        .redact = key,
                                        .redact_count = 1,
                                        .redact_key = TEST_KEY,
                                        .redact_key_len = sizeof TEST_KEY};
            built b;
            build_opts(&b, JSON[i], &options);
            assert_string_equal(lines(&b), lines(&plain));
            assert_non_null(strstr(lines(&b), "CACHE_TTL_SEC\"}"));
            release(&b);
            release(&plain);
        }
    }
}

/* The hmac is of the canonical form: values DynamoDB holds as equal (escapes, number
 * spellings, set order) give one hmac, the vectors of HMAC_* above. */
static void test_redact_hmac_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        const char *hmac;
    } CASES[] = {
        {"{\"S\":\"hunter2\"}", HMAC_HUNTER2},     {"{\"S\":\"hunt\\u0065r2\"}", HMAC_HUNTER2},
        {"{\"N\":\"1800\"}", HMAC_18E2},           {"{\"N\":\"18E2\"}", HMAC_18E2},
        {"{\"N\":\"001800.000\"}", HMAC_18E2},     {"{\"SS\":[\"b\",\"a\"]}", HMAC_SS_AB},
        {"{\"SS\":[\"a\",\"b\"]}", HMAC_SS_AB},
    };
    as_span redact[] = {{"v", 1}};
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        as_buf json = AS_BUF_INIT;
        as_buf_append_str(&json, RECORD_HEAD("INSERT") TIME "," KEY
                                 ",\"NewImage\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"v\":");
        as_buf_append_str(&json, CASES[i].value);
        as_buf_append_str(&json, "}," SEQ RECORD_TAIL);
        as_audit_options options = {.format = AS_FORMAT_CLASSIC,
                                    .now_ms = NOW_MS,
                                    .redact = redact,
                                    .redact_count = 1,
                                    .redact_key = TEST_KEY,
                                    .redact_key_len = sizeof TEST_KEY};
        built b;
        build_opts(&b, json.data, &options);
        char want[200];
        snprintf(want, sizeof want,
                 "\"v\":{\"M\":{\"redacted\":{\"BOOL\":true},\"hmac\":{\"S\":\"%s\"}}}}}}\n",
                 CASES[i].hmac);
        if (strstr(lines(&b), want) == NULL) {
            fail_msg("%s: want %s\n got %s", CASES[i].value, want, lines(&b));
        }
        release(&b);
        as_buf_free(&json);
    }
    /* Keys of a whole block and past it (HMAC hashes a key longer than SHA-256's 64-byte
     * block first): the bytes 0 to 63 and 0 to 79, over {"S":"hunter2"}, with Python's
     * hmac as above. */
    static const struct {
        size_t len;
        const char *hmac;
    } KEYS[] = {
        {64, "7ad47a861b67f28eaa99f3e32e94b4cb6b57706613eb96521f81716f07d8bdd1"},
        {80, "3da2747483e9480bf583c797679a8863d957c6be80c4f35379e5869a5db2b602"},
    };
    uint8_t key[80];
    for (size_t i = 0; i < sizeof key; i++) {
        key[i] = (uint8_t)i;
    }
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
        as_audit_options options = {.format = AS_FORMAT_CLASSIC,
                                    .now_ms = NOW_MS,
                                    .redact = redact,
                                    .redact_count = 1,
                                    .redact_key = key,
                                    .redact_key_len = KEYS[i].len};
        built b;
        build_opts(&b,
                   EVENT(RECORD(ID1, "INSERT",
                                TIME "," KEY "," NEW(",\"v\":{\"S\":\"hunter2\"}") "," SEQ)),
                   &options);
        char want[200];
        snprintf(want, sizeof want, "\"hmac\":{\"S\":\"%s\"}", KEYS[i].hmac);
        if (strstr(lines(&b), want) == NULL) {
            fail_msg("a %zu-byte key: want %s\n got %s", KEYS[i].len, want, lines(&b));
        }
        release(&b);
    }
}

/* While the redact list is set, an error item holds the record's digest and size, not
 * its text, as with the ignore list. */
static void test_redact_withholds_raw_record(void **state)
{
    (void)state;
    as_span redact[] = {{"other", 5}};
    for (int f = 0; f < 2; f++) {
        as_audit_options options = {.format = f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED,
                                    .now_ms = NOW_MS,
                                    .redact = redact,
                                    .redact_count = 1};
        built b;
        build_opts(&b,
                   EVENT(RECORD(ID1, "INSERT",
                                TIME "," KEY "," NEW(",\"secret\":{\"SS\":[]}") "," SEQ)),
                   &options);
        as_item item = as_items_get(b.items, 0);
        assert_int_equal(item.flags, AS_ITEM_ERROR);
        assert_true(item_has(&item, "\"rawRecordSha256\":{\"S\":\""));
        assert_true(item_has(&item, "\"rawRecordSize\":{\"N\":\""));
        assert_false(item_has(&item, "\"rawRecord\":"));
        release(&b);
    }
    /* A fault inside an image quotes the value, or names the members above it, which may
     * be a secret's: while attributes are redacted the reason (stored and logged) keeps
     * only which image. A fault elsewhere keeps its detail, and without the redact list
     * (the ignore list alone) every reason does. */
#define WITHHELD ": an attribute value is invalid (its detail is withheld while attributes are redacted)"
    static const struct {
        const char *json;
        const char *with;    /* the reason while redacting */
        const char *without; /* the reason with the ignore list alone */
    } REASONS[] = {
        {EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW(",\"secret\":{\"N\":\"hunter2\"}") "," SEQ)),
         "Records[0].dynamodb.NewImage" WITHHELD,
         "Records[0].dynamodb.NewImage.secret: N \"hunter2\": not a number"},
        {EVENT(RECORD(ID1, "REMOVE",
                      TIME "," KEY "," OLD(",\"secret\":{\"M\":{\"hunter2\":{\"SS\":[]}}}") "," SEQ)),
         "Records[0].dynamodb.OldImage" WITHHELD, NULL},
        {EVENT(RECORD(ID1, "INSERT", TIME ",\"Keys\":{\"k\":{\"BOOL\":true}}," SEQ)), NULL, NULL},
        {EVENT(RECORD(ID1, "UPSERT", TIME "," KEY "," SEQ)),
         "Records[0].eventName: \"UPSERT\" is not INSERT, MODIFY or REMOVE", NULL},
    };
    as_span ignore[] = {{"other", 5}};
    for (size_t i = 0; i < sizeof REASONS / sizeof REASONS[0]; i++) {
        for (int redacting = 0; redacting < 2; redacting++) {
            as_audit_options options = {.format = AS_FORMAT_CLASSIC,
                                        .now_ms = NOW_MS,
                                        .redact = redact,
                                        .redact_count = redacting ? 1 : 0,
                                        .ignore = ignore,
                                        .ignore_count = redacting ? 0 : 1};
            built b;
            build_opts(&b, REASONS[i].json, &options);
            as_item item = as_items_get(b.items, 0);
            assert_int_equal(item.flags, AS_ITEM_ERROR);
            const char *record_error = as_event_record(b.event, 0)->error;
            const char *want = redacting ? REASONS[i].with : REASONS[i].without;
            if (want == NULL) {
                want = record_error; /* the decoder's own wording, kept */
            }
            if (!span_is(item.reason, want)) {
                fail_msg("case %zu redacting %d: reason %.*s, want %s", i, redacting,
                         (int)item.reason.len, item.reason.ptr, want);
            }
            char field[300];
            snprintf(field, sizeof field, "\"error\":{\"S\":\"%s\"}", want);
            /* The wanted texts hold no character JSON escapes but '"'. */
            if (strchr(want, '"') == NULL && !item_has(&item, field)) {
                fail_msg("case %zu redacting %d: no %s in %.*s", i, redacting, field,
                         (int)item.json.len, item.json.ptr);
            }
            if (redacting && i < 2) {
                assert_false(item_has(&item, "hunter2"));
            }
            release(&b);
        }
    }
#undef WITHHELD
}

/* A redacted value nests no deeper than its marker: an attribute 32 levels deep, which
 * would make the item too deep, is written redacted instead of as an error item. */
static void test_redact_depth(void **state)
{
    (void)state;
    as_buf json = AS_BUF_INIT;
    append_deep_insert(&json);
    as_span redact[] = {{"deep", 4}};
    for (int f = 0; f < 2; f++) {
        as_format format = f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED;
        built b;
        build(&b, json.data, format);
        assert_int_equal(as_items_get(b.items, 0).flags, AS_ITEM_ERROR);
        release(&b);
        as_audit_options options = {
            .format = format, .now_ms = NOW_MS, .redact = redact, .redact_count = 1};
        build_opts(&b, json.data, &options);
        as_item item = as_items_get(b.items, 0);
        assert_int_equal(item.flags, 0);
        assert_true(item_has(&item, "\"deep\":" MARK));
        release(&b);
    }
    as_buf_free(&json);
}

/* reserve_bytes: the 400 KB guard leaves that many bytes free for fields added later. */
static void test_reserve_bytes(void **state)
{
    (void)state;
    /* An item 100 bytes under the limit: found by building once and growing the value. */
    size_t big = 400000;
    for (int round = 0; round < 2; round++) {
        as_buf json = AS_BUF_INIT;
        as_buf_append_str(&json, EVENT_HEAD_ARN TIME "," KEY ",\"NewImage\":{\"v\":{\"S\":\"");
        for (size_t i = 0; i < big; i++) {
            as_buf_append_char(&json, 'x');
        }
        as_buf_append_str(&json, "\"}}," SEQ RECORD_TAIL);
        built b;
        build(&b, json.data, AS_FORMAT_CLASSIC);
        as_item item = as_items_get(b.items, 0);
        if (round == 0) {
            big += AS_ITEM_MAX_SIZE - 100 - item.size;
        } else {
            assert_int_equal(item.size, AS_ITEM_MAX_SIZE - 100);
            assert_int_equal(item.flags, 0);
            as_audit_options options = {
                .format = AS_FORMAT_CLASSIC, .now_ms = NOW_MS, .reserve_bytes = 256};
            built r;
            build_opts(&r, json.data, &options);
            as_item cut = as_items_get(r.items, 0);
            assert_int_equal(cut.flags, AS_ITEM_TRUNCATED);
            assert_true(cut.size <= AS_ITEM_MAX_SIZE - 256);
            assert_true(item_has(&cut, "\"newValue\":{\"M\":{\"truncated\":{\"BOOL\":true}"));
            /* The spans still name the protected fields of the rewritten item. */
            assert_int_equal(cut.history_sort.len, strlen(SORT_100));
            assert_memory_equal(cut.history_sort.ptr, SORT_100, strlen(SORT_100));
            assert_int_equal(cut.id.len, 36);
            assert_memory_equal(cut.id.ptr, "2f95a1e4-df65-55a0-81e8-5b1ec6e4c925", 36);
            release(&r);
            /* Within the reserve's room, untouched. */
            options.reserve_bytes = 100;
            build_opts(&r, json.data, &options);
            assert_int_equal(as_items_get(r.items, 0).flags, 0);
            release(&r);
        }
        release(&b);
        as_buf_free(&json);
    }
}

/* as_item's id, history_key, history_sort and modification_time: the bodies written,
 * escapes kept, borrowed from the item's JSON; empty when the item has none. */
static void test_item_spans(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        size_t item;
        const char *id, *history_key, *history_sort, *time;
    } CASES[] = {
        {EVENT(RECORD(ID1, "MODIFY",
                      TIME "," KEY "," OLD(",\"value\":{\"N\":\"3600\"}") "," NEW(
                          ",\"value\":{\"N\":\"1800\"}") "," SEQ)),
         0, NULL, "Configuration/CACHE_TTL_SEC", SORT_100,
         "2024-05-01T12:30:45.000Z"},
        /* The second record's item, after the first's. */
        {EVENT(RECORD(ID1, "INSERT", TIME "," KEY "," NEW("") "," SEQ) "," RECORD(
             "c81e728d9d4c2f636f067f89cc14862c", "INSERT",
             TIME ",\"Keys\":{\"k\":{\"S\":\"a\\\"b\"}},\"NewImage\":{\"k\":{\"S\":\"a\\\"b\"}}," SEQ)),
         1, NULL, "Configuration/a\\\"b", SORT_100, "2024-05-01T12:30:45.000Z"},
        /* An error item whose Keys are unsound: no history fields. */
        {EVENT(RECORD(ID1, "INSERT", TIME ",\"Keys\":{\"k\":{\"BOOL\":true}}," SEQ)), 0,
         "2f95a1e4-df65-55a0-81e8-5b1ec6e4c925", NULL, NULL, "2024-05-01T12:30:45.000Z"},
        /* An error item whose time is invalid: no time, no historySort. */
        {EVENT(RECORD(ID1, "INSERT", "\"ApproximateCreationDateTime\":-1," KEY "," SEQ)), 0,
         "2f95a1e4-df65-55a0-81e8-5b1ec6e4c925", NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        for (int f = 0; f < 2; f++) {
            built b;
            build(&b, CASES[i].json, f == 0 ? AS_FORMAT_CLASSIC : AS_FORMAT_DETAILED);
            as_item item = as_items_get(b.items, CASES[i].item);
            assert_non_null(item.json.ptr);
            bool ok = (CASES[i].id == NULL ? item.id.len == 36 : span_is(item.id, CASES[i].id)) &&
                      span_is(item.history_key, CASES[i].history_key) &&
                      span_is(item.history_sort, CASES[i].history_sort) &&
                      span_is(item.modification_time, CASES[i].time);
            /* Every span lies inside the item's JSON. */
            const as_span spans[] = {item.id, item.history_key, item.history_sort,
                                     item.modification_time};
            for (size_t k = 0; k < 4; k++) {
                ok = ok && (spans[k].len == 0 || (spans[k].ptr > item.json.ptr &&
                                                  spans[k].ptr + spans[k].len <
                                                      item.json.ptr + item.json.len));
            }
            if (!ok) {
                fail_msg("case %zu format %d: spans %.*s | %.*s | %.*s | %.*s", i, f,
                         (int)item.id.len, item.id.ptr, (int)item.history_key.len,
                         item.history_key.ptr, (int)item.history_sort.len, item.history_sort.ptr,
                         (int)item.modification_time.len, item.modification_time.ptr);
            }
            release(&b);
        }
    }
}

/* BASELINE with the trust options: no actor (a scan names nobody), expiresAt from the
 * read time, the image written redacted (key attributes never), and the id from the
 * canonical form of the image as written, so that no id carries a digest of a secret.
 * The ids were computed offline with Python's hashlib, hmac and uuid: uuid5(namespace,
 * "baseline/Configuration/CACHE_TTL_SEC/" + sha256 hex of the canonical image with
 * "secret" as {"M":{"hmac":{"S":HMAC_HUNTER2},"redacted":{"BOOL":true}}} (keyed) or
 * {"M":{"redacted":{"BOOL":true}}}). */
static void test_baseline_trust(void **state)
{
    (void)state;
    const char *image = "{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"by\":{\"S\":\"alice\"},\"secret\":{\"S\":"
                        "\"hunter2\"},\"value\":{\"N\":\"3600\"}}";
    as_span redact[] = {{"secret", 6}, {"key", 3}};
    static const struct {
        bool keyed;
        as_format format;
        const char *id;
        const char *tail;
    } CASES[] = {
        {true, AS_FORMAT_CLASSIC, "211efd5b-f995-51ff-894f-35786743af6f",
         "\"newValue\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"by\":{\"S\":\"alice\"},\"secret\":" MARK_HMAC(
             HMAC_HUNTER2) ",\"value\":{\"N\":\"3600\"}}}}"},
        {false, AS_FORMAT_CLASSIC, "8c53e8e0-79f2-580d-a3b5-6ea9457ace43",
         "\"newValue\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"by\":{\"S\":\"alice\"},\"secret\":" MARK
         ",\"value\":{\"N\":\"3600\"}}}}"},
        {true, AS_FORMAT_DETAILED, "211efd5b-f995-51ff-894f-35786743af6f",
         "{\"M\":{\"path\":{\"S\":\"/secret\"},\"newValue\":" MARK_HMAC(
             HMAC_HUNTER2) "}},{\"M\":{\"path\":{\"S\":\"/value\"},\"newValue\":{\"N\":\"3600\"}}}]},"
                           "\"newImage\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"by\":{\"S\":"
                           "\"alice\"},\"secret\":" MARK_HMAC(HMAC_HUNTER2) ",\"value\":{\"N\":"
                                                                            "\"3600\"}}}}"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        as_audit_options options = {.format = CASES[i].format,
                                    .now_ms = NOW_MS,
                                    .actor_attribute = as_span_from_cstr("by"),
                                    .retention_days = 2,
                                    .redact = redact,
                                    .redact_count = 2,
                                    .redact_key = CASES[i].keyed ? TEST_KEY : NULL,
                                    .redact_key_len = CASES[i].keyed ? sizeof TEST_KEY : 0};
        baseline_run r = run_baseline_opts(image, ONE_KEY, 1, "Configuration", READ_MS, &options);
        assert_int_equal(r.status, AS_OK);
        char head[512];
        snprintf(head, sizeof head,
                 "{\"id\":{\"S\":\"%s\"},\"itemKey\":{\"S\":\"CACHE_TTL_SEC\"},"
                 "\"modificationTime\":{\"S\":\"2024-05-01T12:30:45.000Z\"},\"eventName\":{\"S\":"
                 "\"BASELINE\"},\"historyKey\":{\"S\":\"Configuration/CACHE_TTL_SEC\"},"
                 "\"historySort\":{\"S\":\"" BASELINE_SORT "\"},\"expiresAt\":{\"N\":\"1714739445\"},",
                 CASES[i].id);
        if (strncmp(r.line.data, head, strlen(head)) != 0 || !item_ends_with(&r.item, CASES[i].tail)) {
            fail_msg("case %zu: want %s...%s\n got %s", i, head, CASES[i].tail, r.line.data);
        }
        if (!span_is(r.item.id, CASES[i].id)) {
            fail_msg("case %zu: id %.*s", i, (int)r.item.id.len, r.item.id.ptr);
        }
        assert_false(item_has(&r.item, "\"actor\""));
        assert_null(strstr(r.line.data, "hunter2"));
        assert_true(span_is(r.item.id, CASES[i].id));
        assert_true(span_is(r.item.history_sort, BASELINE_SORT));
        assert_true(span_is(r.item.modification_time, "2024-05-01T12:30:45.000Z"));
        assert_true(span_is(r.item.history_key, "Configuration/CACHE_TTL_SEC"));
        as_buf_free(&r.line);
    }
    /* Unredacted, the id hashes the value itself (uuid5 of the canonical form with
     * "secret":{"S":"hunter2"}): another id. */
    as_audit_options options = {.format = AS_FORMAT_CLASSIC, .now_ms = NOW_MS};
    baseline_run r = run_baseline_opts(image, ONE_KEY, 1, "Configuration", READ_MS, &options);
    assert_int_equal(r.status, AS_OK);
    assert_true(span_is(r.item.id, "6c9dc7a5-1728-5909-87fb-9bae0cac1362"));
    as_buf_free(&r.line);
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
        cmocka_unit_test(test_actor),
        cmocka_unit_test(test_actor_size),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_trust_option_refusals),
        cmocka_unit_test(test_redact_classic),
        cmocka_unit_test(test_redact_whole_images),
        cmocka_unit_test(test_redact_detailed_changes),
        cmocka_unit_test(test_redact_never_keys),
        cmocka_unit_test(test_redact_hmac_vectors),
        cmocka_unit_test(test_redact_withholds_raw_record),
        cmocka_unit_test(test_redact_depth),
        cmocka_unit_test(test_reserve_bytes),
        cmocka_unit_test(test_item_spans),
        cmocka_unit_test(test_baseline_trust),
    };
    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
