/* Unit tests for as_ddb_write_items with BatchWriteItem against tests/support/fault_server.py:
 * packing, unprocessed items, whole-request retries, quota, deadline, concurrency, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "auditstream.h"
#include "fault_client.h"

#define AKID   "AKIDFAULTTEST"
#define SECRET "fault/server+secret/key"
#define TOKEN  "FQoGZXIvYXdzEXAMPLEsessionTOKEN"
#define TABLE  "Audit"

static fault_server server = {.pid = -1};

static const as_credentials CREDS = {
    {AKID, sizeof AKID - 1}, {SECRET, sizeof SECRET - 1}, {TOKEN, sizeof TOKEN - 1}};

static bool contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

static uint64_t fixed_random(void *ctx)
{
    return *(const uint64_t *)ctx;
}

static int start_server(void **state)
{
    (void)state;
    return fault_server_setup(&server, "test_ddb_batch_write") ? 0 : -1;
}

static int stop_server(void **state)
{
    (void)state;
    fault_server_teardown(&server);
    return 0;
}

static void script(const char *members)
{
    fault_server_script(&server, SECRET, members, FAULT_SCRIPT_MAX);
}

/* ---- items ---------------------------------------------------------------------------------- */

typedef struct batch {
    char **text;
    as_span *items;
    as_ddb_result *results;
    as_ddb_stats stats;
    size_t count;
} batch;

static void batch_alloc(batch *b, size_t count)
{
    memset(b, 0, sizeof *b);
    b->count = count;
    b->text = calloc(count, sizeof *b->text);
    b->items = calloc(count, sizeof *b->items);
    b->results = calloc(count, sizeof *b->results);
    assert_non_null(b->text);
    assert_non_null(b->items);
    assert_non_null(b->results);
}

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->count; i++) {
        free(b->text[i]);
    }
    free(b->text);
    free(b->items);
    free(b->results);
}

static void set_item(batch *b, size_t i, const char *text)
{
    free(b->text[i]);
    b->text[i] = strdup(text);
    assert_non_null(b->text[i]);
    b->items[i] = (as_span){b->text[i], strlen(b->text[i])};
}

/* Items {"id":{"S":"<prefix><i>"},"n":{"N":"<i>"}} for i in [0, count). */
static void make_batch(batch *b, const char *prefix, size_t count)
{
    batch_alloc(b, count);
    for (size_t i = 0; i < count; i++) {
        char text[128];
        snprintf(text, sizeof text, "{\"id\":{\"S\":\"%s%zu\"},\"n\":{\"N\":\"%zu\"}}", prefix, i,
                 i);
        set_item(b, i, text);
    }
}

static as_status write_batch(as_ddb_client *client, const char *table, batch *b,
                             int64_t deadline_ms, as_error *err)
{
    return as_ddb_write_items(client, &CREDS, table, AS_DDB_WRITE_BATCH, b->items, b->count,
                              deadline_ms, b->results, &b->stats, err);
}

static void write_ok(as_ddb_client *client, batch *b, int64_t deadline_ms)
{
    as_error err;
    if (write_batch(client, TABLE, b, deadline_ms, &err) != AS_OK) {
        fail_msg("as_ddb_write_items: %s", err.message);
    }
    /* Every item is accounted for once. */
    assert_int_equal(b->stats.written + b->stats.failed + b->stats.not_attempted, b->count);
}

static void expect_written(const batch *b, size_t i, uint32_t attempts)
{
    fault_expect_written(&b->results[i], i, attempts);
}

static void expect_failed(const batch *b, size_t i, uint32_t attempts, const char *type,
                          const char *message_part)
{
    fault_expect_failed(&b->results[i], i, attempts, type, message_part);
}

/* ---- the stand-in's log --------------------------------------------------------------------- */

static json_t *requests_of(json_t *log)
{
    return json_object_get(log, "requests");
}

static const char *header_of(json_t *request, const char *name)
{
    size_t i;
    json_t *pair;
    json_array_foreach(json_object_get(request, "headers"), i, pair)
    {
        if (strcasecmp(json_string_value(json_array_get(pair, 0)), name) == 0) {
            return json_string_value(json_array_get(pair, 1));
        }
    }
    return NULL;
}

/* The ids request `n` carried, joined by ','. */
static void ids_of(json_t *log, size_t n, char *out, size_t cap)
{
    json_t *req = json_array_get(requests_of(log), n);
    assert_non_null(req);
    out[0] = '\0';
    size_t used = 0;
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(req, "items"), i, id)
    {
        int w = snprintf(out + used, cap - used, "%s%s", i > 0 ? "," : "", json_string_value(id));
        assert_true(w > 0 && (size_t)w < cap - used);
        used += (size_t)w;
    }
}

static void expect_ids(json_t *log, size_t n, const char *want)
{
    char got[4096];
    ids_of(log, n, got, sizeof got);
    if (strcmp(got, want) != 0) {
        fail_msg("request %zu carried [%s], want [%s]", n, got, want);
    }
}

/* "<prefix><first>,...,<prefix><end-1>" */
static void range_ids(const char *prefix, size_t first, size_t end, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = first; i < end; i++) {
        int w = snprintf(out + used, cap - used, "%s%s%zu", i > first ? "," : "", prefix, i);
        assert_true(w > 0 && (size_t)w < cap - used);
        used += (size_t)w;
    }
}

static void expect_signed_and_clean(json_t *log)
{
    size_t i;
    json_t *req;
    json_array_foreach(requests_of(log), i, req)
    {
        if (!json_is_true(json_object_get(req, "signature_ok"))) {
            fail_msg("request %zu: the stand-in could not verify its signature", i);
        }
        if (!json_is_null(json_object_get(req, "problem"))) {
            fail_msg("request %zu: DynamoDB would refuse it: %s", i,
                     json_string_value(json_object_get(req, "problem")));
        }
    }
}

static json_int_t writes_of(json_t *log, const char *id)
{
    return json_integer_value(json_object_get(json_object_get(log, "writes"), id));
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* One request: the target, the body's shape, signed; each item written once. */
static void test_request_shape(void **state)
{
    (void)state;
    script("");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "shape-", 3);
    write_ok(client, &b, 0);
    for (size_t i = 0; i < 3; i++) {
        expect_written(&b, i, 1);
    }
    assert_int_equal(b.stats.requests, 1);
    assert_int_equal(b.stats.written, 3);
    assert_int_equal(b.stats.retries, 0);
    assert_int_equal(b.stats.unprocessed, 0);
    assert_int_equal(b.stats.stopped, AS_DDB_STOP_NONE);
    /* Each item of the one answer carries that answer's request id. */
    assert_string_equal(b.results[0].request_id, b.results[2].request_id);
    assert_int_equal(as_ddb_client_retry_tokens(client), 500);

    json_t *log = fault_server_log(&server);
    assert_int_equal(json_array_size(requests_of(log)), 1);
    expect_signed_and_clean(log);
    json_t *req = json_array_get(requests_of(log), 0);
    assert_string_equal(header_of(req, "X-Amz-Target"), "DynamoDB_20120810.BatchWriteItem");
    assert_string_equal(header_of(req, "Content-Type"), "application/x-amz-json-1.0");
    assert_string_equal(header_of(req, "Accept-Encoding"), "identity");
    assert_string_equal(header_of(req, "X-Amz-Security-Token"), TOKEN);
    char want[512];
    snprintf(want, sizeof want,
             "{\"RequestItems\":{\"Audit\":[{\"PutRequest\":{\"Item\":%s}},"
             "{\"PutRequest\":{\"Item\":%s}},{\"PutRequest\":{\"Item\":%s}}]}}",
             b.text[0], b.text[1], b.text[2]);
    assert_string_equal(json_string_value(json_object_get(req, "body")), want);
    for (size_t i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "shape-%zu", i);
        assert_int_equal(writes_of(log, id), 1);
    }
    json_decref(log);

    /* No items: nothing sent, nothing counted. */
    batch none;
    batch_alloc(&none, 0);
    write_ok(client, &none, 0);
    assert_int_equal(none.stats.requests, 0);
    log = fault_server_log(&server);
    assert_int_equal(json_array_size(requests_of(log)), 1);
    json_decref(log);
    batch_free(&none);
    batch_free(&b);
    as_ddb_client_free(client);
}

/* 60 items: 25, 25 and 10, in their order; PutItem mode beside it is one request an item. */
static void test_packing_order(void **state)
{
    (void)state;
    script("");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "p", 60);
    write_ok(client, &b, 0);
    for (size_t i = 0; i < 60; i++) {
        expect_written(&b, i, 1);
    }
    assert_int_equal(b.stats.requests, 3);
    json_t *log = fault_server_log(&server);
    expect_signed_and_clean(log);
    assert_int_equal(json_array_size(requests_of(log)), 3);
    char want[1024];
    range_ids("p", 0, 25, want, sizeof want);
    expect_ids(log, 0, want);
    range_ids("p", 25, 50, want, sizeof want);
    expect_ids(log, 1, want);
    range_ids("p", 50, 60, want, sizeof want);
    expect_ids(log, 2, want);
    json_decref(log);

    /* 25 exactly: one request; 26: two. */
    for (size_t n = 25; n <= 26; n++) {
        script("");
        batch c;
        make_batch(&c, "q", n);
        write_ok(client, &c, 0);
        assert_int_equal(c.stats.requests, n == 25 ? 1 : 2);
        assert_int_equal(c.stats.written, n);
        batch_free(&c);
    }

    /* The same items through PutItem: one request each. */
    script("");
    as_error err;
    assert_int_equal(as_ddb_write_items(client, &CREDS, TABLE, AS_DDB_WRITE_PUT_ITEM, b.items, 5, 0,
                                        b.results, &b.stats, &err),
                     AS_OK);
    assert_int_equal(b.stats.requests, 5);
    log = fault_server_log(&server);
    assert_string_equal(header_of(json_array_get(requests_of(log), 0), "X-Amz-Target"),
                        "DynamoDB_20120810.PutItem");
    json_decref(log);
    batch_free(&b);
    as_ddb_client_free(client);
}

/* Two items with one id never share a request: the later begins the next one. Ids are
 * compared by what they decode to, and of the same type. */
static void test_duplicate_ids(void **state)
{
    (void)state;
    script("");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    static const char *const items[] = {
        "{\"id\":{\"S\":\"a\"},\"v\":{\"N\":\"1\"}}",
        "{\"id\":{\"S\":\"b\"}}",
        "{\"v\":{\"N\":\"2\"},\"id\":{\"S\":\"a\"}}", /* a again: a new request */
        "{\"id\":{\"S\":\"c\"}}",
        "{\"id\":{\"S\":\"\\u0063\"}}", /* c again, escaped */
        "{\"id\":{\"N\":\"c\"}}",       /* another type: not the same key */
        "{\"id\":{\"S\":\"d\"}}",
    };
    batch b;
    batch_alloc(&b, 7);
    for (size_t i = 0; i < 7; i++) {
        set_item(&b, i, items[i]);
    }
    write_ok(client, &b, 0);
    for (size_t i = 0; i < 7; i++) {
        expect_written(&b, i, 1);
    }
    assert_int_equal(b.stats.requests, 3);
    json_t *log = fault_server_log(&server);
    assert_int_equal(json_array_size(requests_of(log)), 3);
    expect_signed_and_clean(log);
    expect_ids(log, 0, "a,b");
    expect_ids(log, 1, "a,c");
    expect_ids(log, 2, "c,c,d");
    json_decref(log);
    batch_free(&b);
    as_ddb_client_free(client);
}

/* 16 MB: a request is closed before the item that would take it over, the body's size
 * exact; an item too large for any request is refused before anything is sent. */
static void test_size_limit(void **state)
{
    (void)state;
    script("");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.attempt_timeout_ms = 20000;
    as_ddb_client *client = fault_server_ddb_client(&config);
    enum { N = 25, PAD = 700000 };
    batch b;
    batch_alloc(&b, N);
    char *text = malloc(PAD + 64);
    assert_non_null(text);
    for (size_t i = 0; i < N; i++) {
        int head = snprintf(text, 64, "{\"id\":{\"S\":\"big%02zu\"},\"p\":{\"S\":\"", i);
        memset(text + head, 'x', PAD);
        memcpy(text + head + PAD, "\"}}", 4);
        set_item(&b, i, text);
    }
    free(text);
    /* What the request holds, worked out here: the head, each entry, the commas. */
    size_t fixed = strlen("{\"RequestItems\":{\"Audit\":[") + strlen("]}}");
    size_t entry = strlen("{\"PutRequest\":{\"Item\":") + strlen("}}");
    size_t fit = 0;
    size_t bytes = fixed;
    while (fit < N &&
           bytes + b.items[fit].len + entry + (fit > 0) <= AS_DDB_BATCH_WRITE_MAX_BYTES) {
        bytes += b.items[fit].len + entry + (fit > 0);
        fit++;
    }
    assert_true(fit > 1 && fit < N);
    write_ok(client, &b, 0);
    for (size_t i = 0; i < N; i++) {
        expect_written(&b, i, 1);
    }
    assert_int_equal(b.stats.requests, 2);
    json_t *log = fault_server_log(&server);
    expect_signed_and_clean(log);
    json_t *first = json_array_get(requests_of(log), 0);
    assert_int_equal(json_array_size(json_object_get(first, "items")), fit);
    assert_int_equal(json_integer_value(json_object_get(first, "body_len")), bytes);
    assert_true(bytes <= AS_DDB_BATCH_WRITE_MAX_BYTES);
    json_decref(log);
    batch_free(&b);

    /* One item that cannot fit a request alone. */
    script("");
    batch one;
    batch_alloc(&one, 2);
    set_item(&one, 0, "{\"id\":{\"S\":\"small\"}}");
    size_t huge = AS_DDB_BATCH_WRITE_MAX_BYTES;
    char *big = malloc(huge + 64);
    assert_non_null(big);
    int head = snprintf(big, 64, "{\"id\":{\"S\":\"huge\"},\"p\":{\"S\":\"");
    memset(big + head, 'x', huge);
    memcpy(big + head + huge, "\"}}", 4);
    set_item(&one, 1, big);
    free(big);
    as_error err;
    assert_int_equal(write_batch(client, TABLE, &one, 0, &err), AS_ERR_ARGUMENT);
    assert_true(contains(err.message, "item 1"));
    assert_true(contains(err.message, "over 16000000 bytes"));
    assert_int_equal(one.stats.stopped, AS_DDB_STOP_ARGUMENT);
    assert_int_equal(one.results[0].outcome, AS_DDB_NOT_ATTEMPTED);
    log = fault_server_log(&server);
    assert_int_equal(json_array_size(requests_of(log)), 0);
    json_decref(log);
    batch_free(&one);
    as_ddb_client_free(client);
}

/* A table ARN is the RequestItems key as given; unprocessed items are matched by id
 * whatever key the answer files them under. */
static void test_table_arn(void **state)
{
    (void)state;
    static const char ARN[] = "arn:aws:dynamodb:us-east-1:123456789012:table/Audit";
    script(
        "\"ops\":{\"BatchWriteItem\":[\"renamed\",\"ok\"]},\"items\":{\"arn1\":[\"unprocessed\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "arn", 3);
    as_error err;
    assert_int_equal(write_batch(client, ARN, &b, 0, &err), AS_OK);
    expect_written(&b, 0, 1);
    expect_written(&b, 1, 2);
    expect_written(&b, 2, 1);
    json_t *log = fault_server_log(&server);
    json_t *requests = requests_of(log);
    assert_int_equal(json_array_size(requests), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(requests, 0), "table")),
                        ARN);
    expect_ids(log, 1, "arn1");
    json_decref(log);
    batch_free(&b);
    as_ddb_client_free(client);
}

/* Some items unprocessed, some twice: each goes again alone, attempts counted per item,
 * one retry a resending, each given back by the 2xx after it. */
static void test_unprocessed_some(void **state)
{
    (void)state;
    script("\"items\":{\"u1\":[\"unprocessed\"],\"u3\":[\"unprocessed\",\"unprocessed\"],"
           "\"u8\":[\"unprocessed\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "u", 10);
    write_ok(client, &b, 0);
    for (size_t i = 0; i < 10; i++) {
        expect_written(&b, i, i == 3 ? 3 : i == 1 || i == 8 ? 2 : 1);
    }
    assert_int_equal(b.stats.requests, 3);
    assert_int_equal(b.stats.retries, 2);
    assert_int_equal(b.stats.unprocessed, 4);
    assert_int_equal(b.stats.throttles, 0);
    assert_int_equal(b.stats.written, 10);
    assert_int_equal(as_ddb_client_retry_tokens(client), 500);
    /* A written item's request id is the answer's that wrote it. */
    assert_string_not_equal(b.results[0].request_id, b.results[3].request_id);
    json_t *log = fault_server_log(&server);
    expect_signed_and_clean(log);
    expect_ids(log, 0, "u0,u1,u2,u3,u4,u5,u6,u7,u8,u9");
    expect_ids(log, 1, "u1,u3,u8");
    expect_ids(log, 2, "u3");
    for (size_t i = 0; i < 10; i++) {
        char id[8];
        snprintf(id, sizeof id, "u%zu", i);
        assert_int_equal(writes_of(log, id), 1);
    }
    json_decref(log);

    /* All unprocessed, then all written. */
    script("\"ops\":{\"BatchWriteItem\":[\"unprocessed_all\",\"ok\"]}");
    write_ok(client, &b, 0);
    for (size_t i = 0; i < 10; i++) {
        expect_written(&b, i, 2);
    }
    assert_int_equal(b.stats.unprocessed, 10);
    assert_int_equal(b.stats.requests, 2);
    batch_free(&b);
    as_ddb_client_free(client);
}

/* The same items unprocessed again and again: they fail after max_attempts sendings,
 * saying so; the rest are written once. */
static void test_unprocessed_again_and_again(void **state)
{
    (void)state;
    script("\"items\":{\"r2\":[\"unprocessed\",\"unprocessed\",\"unprocessed\",\"unprocessed\"],"
           "\"r4\":[\"unprocessed\",\"unprocessed\",\"unprocessed\",\"unprocessed\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "r", 6);
    write_ok(client, &b, 0);
    for (size_t i = 0; i < 6; i++) {
        if (i == 2 || i == 4) {
            expect_failed(&b, i, 3, "UnprocessedItems",
                          "returned under UnprocessedItems (2 of the 2 items sent)");
            assert_int_equal(b.results[i].http_status, 200);
            assert_int_equal(strlen(b.results[i].request_id), 36);
        } else {
            expect_written(&b, i, 1);
        }
    }
    assert_int_equal(b.stats.requests, 3);
    assert_int_equal(b.stats.retries, 2);
    assert_int_equal(b.stats.unprocessed, 6);
    assert_int_equal(b.stats.failed, 2);
    assert_int_equal(b.stats.written, 4);
    json_t *log = fault_server_log(&server);
    expect_ids(log, 1, "r2,r4");
    expect_ids(log, 2, "r2,r4");
    json_decref(log);

    /* max_attempts 1: no resending at all. */
    script("\"items\":{\"r2\":[\"unprocessed\"]}");
    config.max_attempts = 1;
    as_ddb_client *once = fault_server_ddb_client(&config);
    write_ok(once, &b, 0);
    expect_failed(&b, 2, 1, "UnprocessedItems", "(1 of the 6 items sent)");
    assert_int_equal(b.stats.requests, 1);
    assert_int_equal(b.stats.written, 5);
    as_ddb_client_free(once);
    batch_free(&b);
    as_ddb_client_free(client);
}

/* A request that fails whole with what PutItem retries goes again whole: 5xx, throttling,
 * a bad x-amz-crc32, a reset, a 2xx that is not JSON. */
static void test_whole_request_retried(void **state)
{
    (void)state;
    script("\"ops\":{\"BatchWriteItem\":[\"500\",\"throttle\",\"badcrc\",\"ok\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.max_attempts = 4;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "w", 25);
    write_ok(client, &b, 0);
    for (size_t i = 0; i < 25; i++) {
        expect_written(&b, i, 4);
    }
    assert_int_equal(b.stats.requests, 4);
    assert_int_equal(b.stats.retries, 3);
    assert_int_equal(b.stats.server_errors, 1);
    assert_int_equal(b.stats.throttles, 1);
    assert_int_equal(b.stats.crc_mismatches, 1);
    /* 500 - 3 retries of 5, then the last one's 5 back. */
    assert_int_equal(as_ddb_client_retry_tokens(client), 490);
    json_t *log = fault_server_log(&server);
    char want[512];
    range_ids("w", 0, 25, want, sizeof want);
    for (size_t n = 0; n < 4; n++) {
        expect_ids(log, n, want);
    }
    json_decref(log);

    script("\"ops\":{\"BatchWriteItem\":[\"reset\",\"notjson\",\"503\",\"ok\"]}");
    write_ok(client, &b, 0);
    for (size_t i = 0; i < 25; i++) {
        expect_written(&b, i, 4);
    }
    assert_int_equal(b.stats.connection_errors, 1);
    assert_int_equal(b.stats.server_errors, 1);

    /* Still failing when the attempts run out: the last error, for each of its items. */
    script("\"ops\":{\"BatchWriteItem\":[\"throttle\",\"throttle\",\"throttle\",\"pte\"]}");
    write_ok(client, &b, 0);
    for (size_t i = 0; i < 25; i++) {
        expect_failed(&b, i, 4, "ProvisionedThroughputExceededException", "throughput");
        assert_int_equal(b.results[i].http_status, 400);
    }
    assert_int_equal(b.stats.throttles, 4);
    assert_int_equal(b.stats.failed, 25);
    batch_free(&b);
    as_ddb_client_free(client);
}

/* Unprocessed, then the resending fails whole and is retried whole: attempts add up. */
static void test_unprocessed_then_failures(void **state)
{
    (void)state;
    script("\"ops\":{\"BatchWriteItem\":[\"ok\",\"500\",\"ok\"]},"
           "\"items\":{\"m1\":[\"unprocessed\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "m", 4);
    write_ok(client, &b, 0);
    expect_written(&b, 0, 1);
    expect_written(&b, 1, 3);
    expect_written(&b, 2, 1);
    expect_written(&b, 3, 1);
    assert_int_equal(b.stats.requests, 3);
    assert_int_equal(b.stats.retries, 2);
    assert_int_equal(b.stats.unprocessed, 1);
    json_t *log = fault_server_log(&server);
    expect_ids(log, 1, "m1");
    expect_ids(log, 2, "m1");
    json_decref(log);
    batch_free(&b);
    as_ddb_client_free(client);
}

/* Validation and access errors are not retried: the request's items fail with them, the
 * next request goes on. */
static void test_not_retried(void **state)
{
    (void)state;
    static const struct {
        const char *action;
        const char *type;
        const char *message;
    } cases[] = {
        {"validation", "ValidationException", "Missing the key id"},
        {"denied", "AccessDeniedException", "not authorized"},
        {"xml403", "UnrecognizedClientException", "security token"},
    };
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char members[256];
        snprintf(members, sizeof members, "\"ops\":{\"BatchWriteItem\":[\"%s\",\"ok\"]}",
                 cases[c].action);
        script(members);
        batch b;
        make_batch(&b, "nr", 30);
        write_ok(client, &b, 0);
        for (size_t i = 0; i < 25; i++) {
            expect_failed(&b, i, 1, cases[c].type, cases[c].message);
            assert_true(b.results[i].http_status == 400 || b.results[i].http_status == 403);
        }
        for (size_t i = 25; i < 30; i++) {
            expect_written(&b, i, 1);
        }
        assert_int_equal(b.stats.requests, 2);
        assert_int_equal(b.stats.retries, 0);
        assert_int_equal(b.stats.failed, 25);
        batch_free(&b);
    }
    as_ddb_client_free(client);
}

/* A 2xx whose UnprocessedItems cannot be read, or names an id never sent: nothing in it is
 * trusted, the request goes again whole. */
static void test_invalid_answers(void **state)
{
    (void)state;
    static const char *const actions[] = {"ghost", "badunprocessed"};
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    for (size_t c = 0; c < 2; c++) {
        char members[256];
        snprintf(members, sizeof members, "\"ops\":{\"BatchWriteItem\":[\"%s\",\"ok\"]}",
                 actions[c]);
        script(members);
        batch b;
        make_batch(&b, "inv", 3);
        write_ok(client, &b, 0);
        for (size_t i = 0; i < 3; i++) {
            expect_written(&b, i, 2);
        }
        assert_int_equal(b.stats.unprocessed, 0);
        assert_int_equal(b.stats.retries, 1);
        json_t *log = fault_server_log(&server);
        expect_ids(log, 1, "inv0,inv1,inv2");
        json_decref(log);
        batch_free(&b);
    }
    config.max_attempts = 1;
    as_ddb_client *once = fault_server_ddb_client(&config);
    script("\"ops\":{\"BatchWriteItem\":[\"ghost\"]}");
    batch b;
    make_batch(&b, "inv", 2);
    write_ok(once, &b, 0);
    expect_failed(&b, 0, 1, "InvalidResponse", "an unprocessed item's id is not one the request");
    expect_failed(&b, 1, 1, "InvalidResponse", "not one the request sent");
    script("\"ops\":{\"BatchWriteItem\":[\"badunprocessed\"]}");
    write_ok(once, &b, 0);
    expect_failed(&b, 0, 1, "InvalidResponse", "UnprocessedItems is not a JSON object");
    batch_free(&b);
    as_ddb_client_free(once);
    as_ddb_client_free(client);
}

/* Ids are matched by what they decode to: an item's escaped id against the answer's own
 * spelling, raw UTF-8 against the stand-in's \u escapes. */
static void test_escaped_ids(void **state)
{
    (void)state;
    script("\"items\":{\"caf\xc3\xa9-0\":[\"unprocessed\"],\"x\xc3\xa9-1\":[\"unprocessed\"]}");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    batch_alloc(&b, 3);
    set_item(&b, 0, "{\"id\":{\"S\":\"caf\xc3\xa9-0\"}}");
    set_item(&b, 1, "{\"id\":{\"S\":\"x\\u00e9-1\"}}");
    set_item(&b, 2, "{\"id\":{\"S\":\"\\\"quoted\\\"\"}}");
    write_ok(client, &b, 0);
    expect_written(&b, 0, 2);
    expect_written(&b, 1, 2);
    expect_written(&b, 2, 1);
    assert_int_equal(b.stats.unprocessed, 2);
    batch_free(&b);
    as_ddb_client_free(client);
}

/* The quota: a resending takes a retry's tokens, and when none are left the items fail
 * saying so. A 400 ms backoff (the random source pinned at its top) keeps the first
 * request's resending waiting while the second request runs. */
static void test_quota(void **state)
{
    (void)state;
    script("\"items\":{\"q0\":[\"unprocessed\"],\"q30\":[\"unprocessed\"]}");
    uint64_t top = UINT64_MAX;
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.retry_quota = 5;
    config.base_delay_ms = 400;
    config.random = fixed_random;
    config.random_ctx = &top;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "q", 50);
    write_ok(client, &b, 0);
    expect_written(&b, 0, 2);
    expect_failed(&b, 30, 1, "UnprocessedItems", "(retry quota exhausted)");
    for (size_t i = 1; i < 50; i++) {
        if (i != 30) {
            expect_written(&b, i, 1);
        }
    }
    assert_int_equal(b.stats.quota_refusals, 1);
    assert_int_equal(b.stats.unprocessed, 2);
    assert_int_equal(b.stats.retries, 1);
    assert_int_equal(b.stats.requests, 3);
    assert_int_equal(as_ddb_client_retry_tokens(client), 5);
    json_t *log = fault_server_log(&server);
    expect_ids(log, 2, "q0");
    json_decref(log);
    batch_free(&b);
    as_ddb_client_free(client);
}

/* The deadline: nothing starts at or after it; items never sent are not attempted; an
 * unprocessed item whose resending it cuts off fails saying so. */
static void test_deadline(void **state)
{
    (void)state;
    script("\"default\":\"delay:80\"");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "dl", 100);
    write_ok(client, &b, fault_real_ms() - 1);
    for (size_t i = 0; i < 100; i++) {
        assert_int_equal(b.results[i].outcome, AS_DDB_NOT_ATTEMPTED);
        assert_int_equal(b.results[i].attempts, 0);
        assert_true(contains(b.results[i].message, "deadline"));
    }
    assert_int_equal(b.stats.requests, 0);
    assert_int_equal(b.stats.not_attempted, 100);
    assert_int_equal(b.stats.stopped, AS_DDB_STOP_DEADLINE);

    /* Four requests one at a time: the first answered at once, the second stalled past
     * the deadline, 1.5 s away (the stall is 3 s): the first written, the second cut off
     * at the deadline (failed, saying so), the last two never attempted. Whole requests
     * at a time and in order, whatever the machine's load, since only the stall meets
     * the deadline. */
    script("\"ops\":{\"BatchWriteItem\":[\"ok\",\"stall\"]}");
    write_ok(client, &b, fault_real_ms() + 1500);
    assert_int_equal(b.stats.requests, 2);
    assert_int_equal(b.stats.written, 25);
    assert_int_equal(b.stats.failed, 25);
    assert_int_equal(b.stats.not_attempted, 50);
    assert_int_equal(b.stats.stopped, AS_DDB_STOP_DEADLINE);
    for (size_t i = 0; i < 100; i++) {
        as_ddb_outcome want = i < 25 ? AS_DDB_WRITTEN : i < 50 ? AS_DDB_FAILED : AS_DDB_NOT_ATTEMPTED;
        assert_int_equal(b.results[i].outcome, want);
        if (want == AS_DDB_FAILED) {
            assert_string_equal(b.results[i].error_type, "Timeout");
            assert_int_equal(b.results[i].attempts, 1);
        }
    }
    as_ddb_client_free(client);
    batch_free(&b);

    script("\"items\":{\"dr1\":[\"unprocessed\"]}");
    uint64_t top = UINT64_MAX;
    config.base_delay_ms = 5000;
    config.random = fixed_random;
    config.random_ctx = &top;
    client = fault_server_ddb_client(&config);
    make_batch(&b, "dr", 3);
    int64_t start = fault_mono_ms();
    write_ok(client, &b, fault_real_ms() + 300);
    /* The 5 s backoff was never waited out: the deadline ended the call first. */
    assert_true(fault_mono_ms() - start < 4000);
    expect_written(&b, 0, 1);
    expect_failed(&b, 1, 1, "UnprocessedItems", "(deadline reached before retry)");
    expect_written(&b, 2, 1);
    assert_int_equal(b.stats.stopped, AS_DDB_STOP_DEADLINE);
    batch_free(&b);
    as_ddb_client_free(client);
}

static int64_t offset_clock(void *ctx)
{
    return fault_real_ms() + *(const int64_t *)ctx;
}

/* A signature refused for clock skew: the client's offset is fixed from the answer's Date
 * and the request sent again at once, whole, free of the quota and of retries. */
static void test_skew_corrected(void **state)
{
    (void)state;
    script("\"skew_check\":true,\"items\":{\"sk1\":[\"unprocessed\"]}");
    int64_t skew = -3600 * 1000;
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.clock = offset_clock;
    config.clock_ctx = &skew;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "sk", 3);
    write_ok(client, &b, 0);
    expect_written(&b, 0, 2);
    expect_written(&b, 1, 3);
    expect_written(&b, 2, 2);
    assert_int_equal(b.stats.clock_corrections, 1);
    assert_int_equal(b.stats.retries, 1); /* the unprocessed item's resending only */
    assert_int_equal(b.stats.requests, 3);
    int64_t offset = as_ddb_client_clock_offset_ms(client);
    assert_true(offset > 3600 * 1000 - 2500 && offset < 3600 * 1000 + 2500);
    assert_int_equal(as_ddb_client_retry_tokens(client), 500);
    json_t *log = fault_server_log(&server);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(requests_of(log), 0), "action")),
        "skewed");
    expect_ids(log, 1, "sk0,sk1,sk2");
    expect_ids(log, 2, "sk1");
    json_decref(log);
    batch_free(&b);
    as_ddb_client_free(client);
}

/* `concurrency` requests in flight, never more. */
static void test_concurrency(void **state)
{
    (void)state;
    script("\"default\":\"delay:40\"");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    config.concurrency = 4;
    as_ddb_client *client = fault_server_ddb_client(&config);
    batch b;
    make_batch(&b, "c", 200);
    write_ok(client, &b, 0);
    for (size_t i = 0; i < 200; i++) {
        expect_written(&b, i, 1);
    }
    assert_int_equal(b.stats.requests, 8);
    /* Eight requests of 40 ms: the server saw several at once, never more than four
     * (what the wall time would show too, but a loaded machine makes times lie). */
    json_t *log = fault_server_log(&server);
    json_int_t max_inflight = json_integer_value(json_object_get(log, "max_inflight"));
    assert_true(max_inflight >= 2 && max_inflight <= 4);
    json_decref(log);
    as_ddb_client_free(client);

    config.concurrency = 1;
    client = fault_server_ddb_client(&config);
    script("\"default\":\"delay:10\"");
    write_ok(client, &b, 0);
    log = fault_server_log(&server);
    assert_int_equal(json_integer_value(json_object_get(log, "max_inflight")), 1);
    json_decref(log);
    batch_free(&b);
    as_ddb_client_free(client);
}

/* What the call refuses: nothing is sent, the message names the item and what is wrong. */
static void test_bad_arguments(void **state)
{
    (void)state;
    script("");
    as_ddb_config config = fault_server_ddb_config(&server, 1);
    as_ddb_client *client = fault_server_ddb_client(&config);
    static const struct {
        const char *item;
        const char *says;
    } cases[] = {
        {"{", "is not one well-formed JSON object"},
        {"[1]", "is not one well-formed JSON object"},
        {"{}", "has no top-level id"},
        {"{\"n\":{\"N\":\"1\"}}", "has no top-level id"},
        {"{\"x\":{\"id\":{\"S\":\"nested\"}}}", "has no top-level id"},
        {"{\"id\":{\"S\":\"a\"},\"id\":{\"S\":\"b\"}}", "holds the id attribute twice"},
        {"{\"id\":{\"S\":1}}", "has an id that is not"},
        {"{\"id\":{\"X\":\"a\"}}", "has an id that is not"},
        {"{\"id\":{\"S\":\"a\",\"N\":\"1\"}}", "has an id that is not"},
        {"{\"id\":\"plain\"}", "has an id that is not"},
        {"{\"id\":{\"S\":\"\"}}", "has an empty id"},
        {"{\"id\":{\"S\":\"a\"}} x", "is not one well-formed JSON object"},
        {"{\"id\":{\"S\":\"a\"},}", "is not one well-formed JSON object"},
        {"{\"id\":{\"S\":\"a\"},\"n\":{\"N\":01}}", "is not one well-formed JSON object"},
        {"{\"id\":{\"S\":\"a\"},\"n\":tru}", "is not one well-formed JSON object"},
        {"{\"id\":{\"S\":\"a\"},\"s\":{\"S\":\"\xff\"}}", "is not one well-formed JSON object"},
        {"{\"id\":{\"S\":\"a\"},\"s\":{\"S\":\"\\ud800\"}}", "is not one well-formed JSON object"},
        {"{\"id\":{\"S\":\"a\"},\"s\":{\"S\":\"\\udc00\"}}", "is not one well-formed JSON object"},
        {"{\"id\":{\"S\":\"a\"},\"s\":{\"S\":\"\\x\"}}", "is not one well-formed JSON object"},
        {"{\"id\":{\"S\":\"a\"},\"s\":{\"S\":\"tab\there\"}}",
         "is not one well-formed JSON object"},
        {"{\"id\":{\"S\":\"a\\\"}}", "has an id that is not"},
    };
    batch b;
    batch_alloc(&b, 2);
    set_item(&b, 0,
             "{\"id\":{\"S\":\"fine\"},\"l\":{\"L\":[{\"N\":\"-1.5e+3\"},{\"NULL\":true},"
             "{\"BOOL\":false}]},\"s\":{\"S\":\"\\ud83d\\ude00 \\n\"}}");
    as_error err;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        set_item(&b, 1, cases[i].item);
        memset(&err, 0, sizeof err);
        as_status status = write_batch(client, TABLE, &b, 0, &err);
        if (status != AS_ERR_ARGUMENT || !contains(err.message, "item 1 ") ||
            !contains(err.message, cases[i].says)) {
            fail_msg("case %zu (%s): status %d, \"%s\"", i, cases[i].item, (int)status,
                     err.message);
        }
        assert_int_equal(b.stats.stopped, AS_DDB_STOP_ARGUMENT);
        assert_int_equal(b.results[0].outcome, AS_DDB_NOT_ATTEMPTED);
        assert_int_equal(b.results[1].outcome, AS_DDB_NOT_ATTEMPTED);
    }
    /* Nesting past 64 levels. */
    char deep[600];
    int len = snprintf(deep, sizeof deep, "{\"id\":{\"S\":\"d\"},\"x\":");
    memset(deep + len, '[', 70);
    memset(deep + len + 70, ']', 70);
    memcpy(deep + len + 140, "}", 2);
    set_item(&b, 1, deep);
    assert_int_equal(write_batch(client, TABLE, &b, 0, &err), AS_ERR_ARGUMENT);
    assert_true(contains(err.message, "item 1 is not one well-formed"));

    set_item(&b, 1, "{\"id\":{\"S\":\"other\"}}");
    assert_int_equal(write_batch(client, "", &b, 0, &err), AS_ERR_ARGUMENT);
    assert_true(contains(err.message, "table name is empty"));
    assert_int_equal(as_ddb_write_items(NULL, &CREDS, TABLE, AS_DDB_WRITE_BATCH, b.items, 2, 0,
                                        b.results, &b.stats, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_ddb_write_items(client, NULL, TABLE, AS_DDB_WRITE_BATCH, b.items, 2, 0,
                                        b.results, &b.stats, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_ddb_write_items(client, &CREDS, TABLE, AS_DDB_WRITE_BATCH, NULL, 2, 0,
                                        b.results, &b.stats, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_ddb_write_items(client, &CREDS, TABLE, (as_ddb_write_api)7, b.items, 2, 0,
                                        b.results, &b.stats, &err),
                     AS_ERR_ARGUMENT);
    assert_true(contains(err.message, "neither PutItem nor BatchWriteItem"));
    assert_int_equal(b.stats.stopped, AS_DDB_STOP_ARGUMENT);
    json_t *log = fault_server_log(&server);
    assert_int_equal(json_array_size(requests_of(log)), 0);
    json_decref(log);

    /* The two items above were fine all along. */
    write_ok(client, &b, 0);
    expect_written(&b, 0, 1);
    expect_written(&b, 1, 1);
    batch_free(&b);
    as_ddb_client_free(client);
}

static void test_api_names(void **state)
{
    (void)state;
    as_ddb_write_api api = AS_DDB_WRITE_BATCH;
    assert_int_equal(as_ddb_write_api_parse("PutItem", &api), AS_OK);
    assert_int_equal(api, AS_DDB_WRITE_PUT_ITEM);
    assert_int_equal(as_ddb_write_api_parse("BatchWriteItem", &api), AS_OK);
    assert_int_equal(api, AS_DDB_WRITE_BATCH);
    static const char *const bad[] = {"", "batchwriteitem", "BatchWriteItem ", "Put", NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        assert_int_equal(as_ddb_write_api_parse(bad[i], &api), AS_ERR_ARGUMENT);
    }
    assert_int_equal(as_ddb_write_api_parse(NULL, &api), AS_ERR_ARGUMENT);
    assert_string_equal(as_ddb_write_api_name(AS_DDB_WRITE_PUT_ITEM), "PutItem");
    assert_string_equal(as_ddb_write_api_name(AS_DDB_WRITE_BATCH), "BatchWriteItem");
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_api_names),
    };
    const struct CMUnitTest wire[] = {
        cmocka_unit_test(test_request_shape),
        cmocka_unit_test(test_packing_order),
        cmocka_unit_test(test_duplicate_ids),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_table_arn),
        cmocka_unit_test(test_unprocessed_some),
        cmocka_unit_test(test_unprocessed_again_and_again),
        cmocka_unit_test(test_whole_request_retried),
        cmocka_unit_test(test_unprocessed_then_failures),
        cmocka_unit_test(test_not_retried),
        cmocka_unit_test(test_invalid_answers),
        cmocka_unit_test(test_escaped_ids),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_skew_corrected),
        cmocka_unit_test(test_concurrency),
        cmocka_unit_test(test_bad_arguments),
    };
    int failed = cmocka_run_group_tests_name("ddb batch write, pure", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("ddb batch write against fault_server.py", wire,
                                          start_server, stop_server);
    return failed != 0;
}
