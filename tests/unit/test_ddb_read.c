/* Unit tests for the DynamoDB reads (auditstream/ddb_read.h) and the write only where absent,
 * against tests/support/fault_server.py: pages, segments, retries, unprocessed keys, errors. */
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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "auditstream.h"
#include "fault_client.h"

#define AKID   "AKIDFAULTTEST"
#define SECRET "fault/server+secret/key"
#define TOKEN  "FQoGZXIvYXdzEXAMPLEsessionTOKEN"

static fault_server server = {.pid = -1};

static const as_credentials CREDS = {
    {AKID, sizeof AKID - 1}, {SECRET, sizeof SECRET - 1}, {TOKEN, sizeof TOKEN - 1}};

static as_span span_of(const char *s)
{
    return (as_span){s, strlen(s)};
}

static bool contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

static int start_server(void **state)
{
    (void)state;
    return fault_server_setup(&server, "test_ddb_read") ? 0 : -1;
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

/* No jitter: a backoff of 0 ms, so that a retry is due at once and goes before any new
 * request, which keeps the order of the stand-in's actions fixed. */
static uint64_t zero_random(void *ctx)
{
    (void)ctx;
    return 0;
}

static as_ddb_config test_config(uint32_t concurrency)
{
    as_ddb_config config = fault_server_ddb_config(&server, concurrency);
    config.random = zero_random;
    return config;
}

static as_ddb_client *new_client(uint32_t concurrency)
{
    as_ddb_config config = test_config(concurrency);
    return fault_server_ddb_client(&config);
}

/* The requests the stand-in saw (new reference), each signed correctly. */
static json_t *requests_seen(void)
{
    json_t *log = fault_server_log(&server);
    json_t *requests = json_incref(json_object_get(log, "requests"));
    json_decref(log);
    size_t i;
    json_t *req;
    json_array_foreach(requests, i, req)
    {
        if (!json_is_true(json_object_get(req, "signature_ok"))) {
            fail_msg("request %zu: the stand-in could not verify its signature", i);
        }
    }
    return requests;
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

/* Request `i`'s body, parsed (new reference). */
static json_t *body_of(json_t *requests, size_t i)
{
    const char *text = json_string_value(json_object_get(json_array_get(requests, i), "body"));
    assert_non_null(text);
    json_error_t jerr;
    json_t *body = json_loads(text, 0, &jerr);
    if (body == NULL) {
        fail_msg("request %zu's body is not JSON: %s: %s", i, jerr.text, text);
    }
    return body;
}

/* ---- what the page callback saw ------------------------------------------------------------- */

#define MAX_PAGES 64
#define MAX_SEEN  256

typedef struct pages_seen {
    size_t count;
    char *bodies[MAX_PAGES];
    uint32_t segment[MAX_PAGES];
    uint64_t page[MAX_PAGES];
    bool last[MAX_PAGES];
    size_t stop_after; /* 0: never stop */
    char ids[MAX_SEEN][32]; /* the "id"s of every item of every page */
    size_t id_count;
} pages_seen;

static void collect_ids(pages_seen *seen, json_t *items)
{
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        const char *id = json_string_value(json_object_get(json_object_get(item, "id"), "S"));
        assert_non_null(id);
        assert_true(seen->id_count < MAX_SEEN);
        snprintf(seen->ids[seen->id_count++], sizeof seen->ids[0], "%s", id);
    }
}

static bool on_page(const as_ddb_page *page, void *ctx)
{
    pages_seen *seen = ctx;
    assert_true(seen->count < MAX_PAGES);
    size_t k = seen->count++;
    seen->bodies[k] = strndup(page->body.ptr, page->body.len);
    seen->segment[k] = page->segment;
    seen->page[k] = page->page;
    seen->last[k] = page->last;
    json_t *body = json_loadb(page->body.ptr, page->body.len, 0, NULL);
    if (body != NULL) {
        collect_ids(seen, json_object_get(body, "Items"));
        json_t *responses = json_object_get(body, "Responses");
        const char *name;
        json_t *items;
        json_object_foreach(responses, name, items)
        {
            collect_ids(seen, items);
        }
        json_decref(body);
    }
    return seen->stop_after == 0 || seen->count < seen->stop_after;
}

static void pages_free(pages_seen *seen)
{
    for (size_t i = 0; i < seen->count; i++) {
        free(seen->bodies[i]);
    }
}

static size_t id_seen(const pages_seen *seen, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < seen->id_count; i++) {
        n += strcmp(seen->ids[i], id) == 0;
    }
    return n;
}

static void expect_answered(const as_ddb_result *r, uint32_t attempts)
{
    if (r->outcome != AS_DDB_ANSWERED || r->attempts != attempts) {
        fail_msg("%s after %u attempts (want answered after %u): %s: %s",
                 as_ddb_outcome_name(r->outcome), r->attempts, attempts, r->error_type,
                 r->message);
    }
    assert_string_equal(r->error_type, "");
    assert_int_equal(as_ddb_error_kind_of(r), AS_DDB_KIND_NONE);
}

static void expect_failed(const as_ddb_result *r, const char *type, const char *message_part)
{
    if (r->outcome != AS_DDB_FAILED || strcmp(r->error_type, type) != 0 ||
        !contains(r->message, message_part)) {
        fail_msg("%s, %s: \"%s\" (want failed, %s: %s)", as_ddb_outcome_name(r->outcome),
                 r->error_type, r->message, type, message_part);
    }
}

/* Five items for Query: ids q0..q4, each with a number whose text must survive. */
#define FIVE_ITEMS                                                                                 \
    "\"table\":[{\"id\":{\"S\":\"q0\"},\"n\":{\"N\":\"1.50\"}},{\"id\":{\"S\":\"q1\"}},"           \
    "{\"id\":{\"S\":\"q2\"}},{\"id\":{\"S\":\"q3\"}},{\"id\":{\"S\":\"q4\"}}]"

/* ---- Query ---------------------------------------------------------------------------------- */

/* Limit 2 over five items: three pages, each following LastEvaluatedKey, delivered as
 * received; the request carries every parameter, escaped. */
static void test_query_pages(void **state)
{
    (void)state;
    script(FIVE_ITEMS);
    as_ddb_client *client = new_client(1);
    as_ddb_query q = {0};
    q.table = "Audit";
    q.index = "history";
    q.key_condition = "#k = :k AND historySort <= :t";
    q.projection = "id, n";
    q.names = span_of("{\"#k\":\"historyKey\"}");
    q.values = span_of("{\":k\":{\"S\":\"a\\\"b\\\\c\"},\":t\":{\"S\":\"2024-05-01T00:00:00Z/~\"}}");
    q.limit = 2;
    pages_seen seen = {0};
    as_ddb_result result;
    as_ddb_stats stats;
    as_error err;
    assert_int_equal(as_ddb_query_pages(client, &CREDS, &q, on_page, &seen, &result, &stats, &err),
                     AS_OK);
    expect_answered(&result, 3);
    assert_int_equal(stats.pages, 3);
    assert_int_equal(stats.requests, 3);
    assert_int_equal(stats.retries, 0);
    assert_int_equal(stats.stopped, AS_DDB_STOP_NONE);
    assert_int_equal(seen.count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(seen.segment[i], 0);
        assert_int_equal(seen.page[i], i);
        assert_int_equal(seen.last[i], i == 2);
    }
    assert_int_equal(seen.id_count, 5);
    assert_true(contains(seen.bodies[0], "\"N\": \"1.50\""));
    assert_true(contains(seen.bodies[0], "\"LastEvaluatedKey\": {\"pos\": {\"N\": \"2\"}}"));

    json_t *requests = requests_seen();
    assert_int_equal(json_array_size(requests), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *req = json_array_get(requests, i);
        assert_string_equal(header_of(req, "X-Amz-Target"), "DynamoDB_20120810.Query");
        assert_string_equal(header_of(req, "Accept-Encoding"), "identity");
        json_t *body = body_of(requests, i);
        assert_string_equal(json_string_value(json_object_get(body, "TableName")), "Audit");
        assert_string_equal(json_string_value(json_object_get(body, "IndexName")), "history");
        assert_string_equal(json_string_value(json_object_get(body, "KeyConditionExpression")),
                            "#k = :k AND historySort <= :t");
        assert_string_equal(json_string_value(json_object_get(body, "ProjectionExpression")),
                            "id, n");
        assert_string_equal(
            json_string_value(json_object_get(
                json_object_get(json_object_get(body, "ExpressionAttributeValues"), ":k"), "S")),
            "a\"b\\c");
        assert_int_equal(json_integer_value(json_object_get(body, "Limit")), 2);
        assert_null(json_object_get(body, "ScanIndexForward"));
        assert_null(json_object_get(body, "ConsistentRead"));
        json_t *start = json_object_get(body, "ExclusiveStartKey");
        if (i == 0) {
            assert_null(start);
        } else {
            char want[8];
            snprintf(want, sizeof want, "%zu", 2 * i);
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(start, "pos"), "N")), want);
        }
        json_decref(body);
    }
    json_decref(requests);
    pages_free(&seen);
    as_ddb_client_free(client);
}

/* ScanIndexForward false, ConsistentRead, a start key, a filter, max_pages. */
static void test_query_options(void **state)
{
    (void)state;
    script(FIVE_ITEMS);
    as_ddb_client *client = new_client(1);
    as_ddb_query q = {0};
    q.table = "Audit";
    q.key_condition = "historyKey = :k";
    q.filter = "attribute_exists(n)";
    q.values = span_of("{\":k\":{\"S\":\"x\"}}");
    q.start_key = span_of("{\"pos\":{\"N\":\"1\"}}");
    q.descending = true;
    q.consistent_read = true;
    q.limit = 1;
    q.max_pages = 2;
    pages_seen seen = {0};
    as_ddb_result result;
    as_ddb_stats stats;
    as_error err;
    assert_int_equal(as_ddb_query_pages(client, &CREDS, &q, on_page, &seen, &result, &stats, &err),
                     AS_OK);
    expect_answered(&result, 2);
    assert_int_equal(seen.count, 2);
    assert_false(seen.last[1]); /* more were there: max_pages stopped it */
    /* Reversed, from position 1: q3, then q2. */
    assert_int_equal(seen.id_count, 2);
    assert_string_equal(seen.ids[0], "q3");
    assert_string_equal(seen.ids[1], "q2");
    json_t *requests = requests_seen();
    assert_int_equal(json_array_size(requests), 2);
    json_t *body = body_of(requests, 0);
    assert_true(json_is_false(json_object_get(body, "ScanIndexForward")));
    assert_true(json_is_true(json_object_get(body, "ConsistentRead")));
    assert_string_equal(json_string_value(json_object_get(body, "FilterExpression")),
                        "attribute_exists(n)");
    assert_null(json_object_get(body, "IndexName"));
    assert_null(json_object_get(body, "ExpressionAttributeNames"));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(body, "ExclusiveStartKey"), "pos"),
                            "N")),
                        "1");
    json_decref(body);
    json_decref(requests);
    pages_free(&seen);
    as_ddb_client_free(client);
}

/* The callback says stop after the first page: nothing more is sent. */
static void test_query_stop_early(void **state)
{
    (void)state;
    script(FIVE_ITEMS);
    as_ddb_client *client = new_client(1);
    as_ddb_query q = {0};
    q.table = "Audit";
    q.key_condition = "k = :k";
    q.limit = 2;
    pages_seen seen = {0};
    seen.stop_after = 1;
    as_ddb_result result;
    as_ddb_stats stats;
    as_error err;
    assert_int_equal(as_ddb_query_pages(client, &CREDS, &q, on_page, &seen, &result, &stats, &err),
                     AS_OK);
    assert_int_equal(seen.count, 1);
    assert_int_equal(stats.pages, 1);
    assert_int_equal(stats.requests, 1);
    assert_int_equal(stats.stopped, AS_DDB_STOP_CALLER);
    assert_string_equal(as_ddb_stop_name(stats.stopped), "stopped_by_caller");
    json_t *requests = requests_seen();
    assert_int_equal(json_array_size(requests), 1);
    json_decref(requests);
    pages_free(&seen);
    as_ddb_client_free(client);
}

/* Each page is its own request with its own attempts: throttling, 5xx, a reset and a bad
 * checksum are retried, and the pages still come whole and in order. */
static void test_query_retries(void **state)
{
    (void)state;
    script(FIVE_ITEMS ",\"ops\":{\"Query\":[\"throttle\",\"ok\",\"503\",\"reset\",\"ok\","
                      "\"badcrc\",\"500\",\"ok\"]}");
    as_ddb_client *client = new_client(1);
    as_ddb_query q = {0};
    q.table = "Audit";
    q.key_condition = "k = :k";
    q.limit = 2;
    pages_seen seen = {0};
    as_ddb_result result;
    as_ddb_stats stats;
    as_error err;
    assert_int_equal(as_ddb_query_pages(client, &CREDS, &q, on_page, &seen, &result, &stats, &err),
                     AS_OK);
    expect_answered(&result, 8);
    assert_int_equal(seen.count, 3);
    assert_int_equal(seen.id_count, 5);
    for (size_t i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "q%zu", i);
        assert_string_equal(seen.ids[i], id);
    }
    assert_int_equal(stats.requests, 8);
    assert_int_equal(stats.retries, 5);
    assert_int_equal(stats.throttles, 1);
    assert_int_equal(stats.crc_mismatches, 1);
    assert_int_equal(stats.server_errors, 2);
    assert_int_equal(stats.connection_errors, 1);
    pages_free(&seen);
    as_ddb_client_free(client);
}

/* A page that fails after its attempts ends the Query: the pages before it were delivered. */
static void test_query_fails_midway(void **state)
{
    (void)state;
    script(FIVE_ITEMS ",\"ops\":{\"Query\":[\"ok\",\"throttle\",\"throttle\",\"throttle\"]}");
    as_ddb_client *client = new_client(1);
    as_ddb_query q = {0};
    q.table = "Audit";
    q.key_condition = "k = :k";
    q.limit = 2;
    pages_seen seen = {0};
    as_ddb_result result;
    as_ddb_stats stats;
    as_error err;
    assert_int_equal(as_ddb_query_pages(client, &CREDS, &q, on_page, &seen, &result, &stats, &err),
                     AS_OK);
    expect_failed(&result, "ThrottlingException", "Rate of requests");
    assert_int_equal(as_ddb_error_kind_of(&result), AS_DDB_KIND_THROTTLED);
    assert_int_equal(result.attempts, 4);
    assert_int_equal(seen.count, 1);
    assert_int_equal(stats.pages, 1);
    assert_int_equal(stats.failed, 1);
    pages_free(&seen);

    /* Not retried: validation, and a missing table or index. */
    script(FIVE_ITEMS ",\"ops\":{\"Query\":[\"notfound\"]}");
    memset(&seen, 0, sizeof seen);
    assert_int_equal(as_ddb_query_pages(client, &CREDS, &q, on_page, &seen, &result, &stats, &err),
                     AS_OK);
    expect_failed(&result, "ResourceNotFoundException", "not found");
    assert_int_equal(result.attempts, 1);
    assert_int_equal(as_ddb_error_kind_of(&result), AS_DDB_KIND_NOT_FOUND);
    assert_int_equal(seen.count, 0);
    as_ddb_client_free(client);
}

/* 2xx answers that are not what a page must be: not delivered, not retried. */
static void test_query_invalid_answers(void **state)
{
    (void)state;
    static const struct {
        const char *action;
        const char *message;
    } cases[] = {
        {"raw:{\\\"Items\\\": [}", "not valid JSON"},
        {"raw:{\\\"Items\\\":[],\\\"LastEvaluatedKey\\\":\\\"k\\\"}", "LastEvaluatedKey is not"},
        {"raw:{\\\"Items\\\":[],\\\"LastEvaluatedKey\\\":[1]}", "LastEvaluatedKey is not"},
    };
    as_ddb_client *client = new_client(1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char members[256];
        snprintf(members, sizeof members, "\"ops\":{\"Query\":[\"%s\"]}", cases[i].action);
        script(members);
        as_ddb_query q = {0};
        q.table = "Audit";
        q.key_condition = "k = :k";
        pages_seen seen = {0};
        as_ddb_result result;
        as_error err;
        assert_int_equal(
            as_ddb_query_pages(client, &CREDS, &q, on_page, &seen, &result, NULL, &err), AS_OK);
        expect_failed(&result, "InvalidResponse", cases[i].message);
        assert_int_equal(result.attempts, 1);
        assert_int_equal(seen.count, 0);
    }
    /* Numbers keep their text: the body is handed over byte for byte. */
    script("\"ops\":{\"Query\":[\"raw:{\\\"Items\\\":[],\\\"Count\\\":0.10e1}\"]}");
    as_ddb_query q = {0};
    q.table = "Audit";
    q.key_condition = "k = :k";
    pages_seen seen = {0};
    as_ddb_result result;
    as_error err;
    assert_int_equal(as_ddb_query_pages(client, &CREDS, &q, on_page, &seen, &result, NULL, &err),
                     AS_OK);
    expect_answered(&result, 1);
    assert_int_equal(seen.count, 1);
    assert_string_equal(seen.bodies[0], "{\"Items\":[],\"Count\":0.10e1}");
    assert_true(seen.last[0]);
    pages_free(&seen);
    as_ddb_client_free(client);
}

/* A page larger than PutItem's 64 KB default fits the reads' default cap; a cap of the
 * caller's own is kept. */
static void test_read_response_cap(void **state)
{
    (void)state;
    char pad[1001];
    memset(pad, 'x', 1000);
    pad[1000] = '\0';
    as_ddb_client *client = new_client(1);
    /* A page of three 1,000-byte strings, against a cap of 1,000 bytes and the default. */
    as_buf big = AS_BUF_INIT;
    as_buf_append_str(&big, "\"ops\":{\"Query\":[\"raw:{\\\"Items\\\":[");
    for (int i = 0; i < 3; i++) {
        as_buf_append_str(&big, i > 0 ? "," : "");
        as_buf_append_str(&big, "{\\\"id\\\":{\\\"S\\\":\\\"b\\\"},\\\"p\\\":{\\\"S\\\":\\\"");
        as_buf_append_str(&big, pad);
        as_buf_append_str(&big, "\\\"}}");
    }
    as_buf_append_str(&big, "]}\"]}");
    assert_int_equal(as_buf_status(&big), AS_OK);
    script(big.data);
    as_ddb_query q = {0};
    q.table = "Audit";
    q.key_condition = "k = :k";
    q.max_response_bytes = 1000;
    pages_seen seen = {0};
    as_ddb_result result;
    as_error err;
    assert_int_equal(as_ddb_query_pages(client, &CREDS, &q, on_page, &seen, &result, NULL, &err),
                     AS_OK);
    expect_failed(&result, "ResponseTooLarge", "over 1000 bytes");
    assert_int_equal(seen.count, 0);
    script(big.data);
    q.max_response_bytes = 0;
    assert_int_equal(as_ddb_query_pages(client, &CREDS, &q, on_page, &seen, &result, NULL, &err),
                     AS_OK);
    expect_answered(&result, 1);
    assert_int_equal(seen.count, 1);
    assert_true(strlen(seen.bodies[0]) > 3000);
    pages_free(&seen);
    as_buf_free(&big);

    /* The stand-in's "big" answer (70 KB), over put_items' default, through a GetItem. */
    script("\"ops\":{\"GetItem\":[\"big\"]}");
    as_buf response = AS_BUF_INIT;
    bool found = true;
    assert_int_equal(as_ddb_get_item(client, &CREDS, "Audit", span_of("{\"id\":{\"S\":\"a\"}}"),
                                     NULL, (as_span){NULL, 0}, false, 0, &response, &found,
                                     &result, NULL, &err),
                     AS_OK);
    expect_answered(&result, 1);
    assert_true(response.len > 70000);
    assert_false(found);
    as_buf_free(&response);
    as_ddb_client_free(client);
}

/* ---- Scan ----------------------------------------------------------------------------------- */

#define TEN_ITEMS                                                                                  \
    "\"table\":[{\"id\":{\"S\":\"s0\"}},{\"id\":{\"S\":\"s1\"}},{\"id\":{\"S\":\"s2\"}},"          \
    "{\"id\":{\"S\":\"s3\"}},{\"id\":{\"S\":\"s4\"}},{\"id\":{\"S\":\"s5\"}},"                     \
    "{\"id\":{\"S\":\"s6\"}},{\"id\":{\"S\":\"s7\"}},{\"id\":{\"S\":\"s8\"}},"                     \
    "{\"id\":{\"S\":\"s9\"}}]"

/* Four segments at once over four connections, pages of 1: every item exactly once,
 * each segment's pages in order, a throttled segment retried alone. */
static void test_scan_segments(void **state)
{
    (void)state;
    script(TEN_ITEMS ",\"ops\":{\"Scan/2\":[\"throttle\",\"slow:40\"],\"Scan/0\":[\"slow:40\"],"
                     "\"Scan/1\":[\"slow:40\"],\"Scan/3\":[\"slow:40\"]}");
    as_ddb_client *client = new_client(4);
    as_ddb_scan sc = {0};
    sc.table = "Configuration";
    sc.projection = "#i";
    sc.names = span_of("{\"#i\":\"id\"}");
    sc.segments = 4;
    sc.limit = 1;
    pages_seen seen = {0};
    as_ddb_result results[4];
    as_ddb_stats stats;
    as_error err;
    assert_int_equal(
        as_ddb_scan_pages(client, &CREDS, &sc, on_page, &seen, results, &stats, &err), AS_OK);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(results[i].outcome, AS_DDB_ANSWERED);
    }
    assert_int_equal(seen.id_count, 10);
    for (size_t i = 0; i < 10; i++) {
        char id[8];
        snprintf(id, sizeof id, "s%zu", i);
        assert_int_equal(id_seen(&seen, id), 1);
    }
    /* Segments 0 and 1 hold 3 items (pages), 2 and 3 hold 2. */
    assert_int_equal(seen.count, 10);
    uint64_t next_page[4] = {0};
    for (size_t k = 0; k < seen.count; k++) {
        uint32_t seg = seen.segment[k];
        assert_true(seg < 4);
        assert_int_equal(seen.page[k], next_page[seg]);
        next_page[seg]++;
    }
    assert_int_equal(next_page[0], 3);
    assert_int_equal(next_page[1], 3);
    assert_int_equal(next_page[2], 2);
    assert_int_equal(next_page[3], 2);
    assert_int_equal(stats.throttles, 1);
    assert_int_equal(stats.requests, 11);
    assert_int_equal(stats.pages, seen.count);
    json_t *log = fault_server_log(&server);
    assert_true(json_integer_value(json_object_get(log, "max_inflight")) > 1);
    json_decref(log);
    json_t *requests = requests_seen();
    for (size_t i = 0; i < json_array_size(requests); i++) {
        json_t *body = body_of(requests, i);
        assert_string_equal(header_of(json_array_get(requests, i), "X-Amz-Target"),
                            "DynamoDB_20120810.Scan");
        assert_int_equal(json_integer_value(json_object_get(body, "TotalSegments")), 4);
        assert_true(json_is_integer(json_object_get(body, "Segment")));
        assert_string_equal(json_string_value(json_object_get(body, "ProjectionExpression")),
                            "#i");
        json_decref(body);
    }
    json_decref(requests);
    pages_free(&seen);
    as_ddb_client_free(client);
}

/* Segments 0 or 1: a plain Scan, no Segment in the request; more segments than
 * connections still all run. */
static void test_scan_plain_and_queued(void **state)
{
    (void)state;
    script(TEN_ITEMS);
    as_ddb_client *client = new_client(2);
    as_ddb_scan sc = {0};
    sc.table = "Configuration";
    sc.limit = 4;
    pages_seen seen = {0};
    as_ddb_result results[7];
    as_error err;
    assert_int_equal(as_ddb_scan_pages(client, &CREDS, &sc, on_page, &seen, results, NULL, &err),
                     AS_OK);
    assert_int_equal(seen.count, 3);
    assert_int_equal(seen.id_count, 10);
    json_t *requests = requests_seen();
    json_t *body = body_of(requests, 0);
    assert_null(json_object_get(body, "Segment"));
    assert_null(json_object_get(body, "TotalSegments"));
    json_decref(body);
    json_decref(requests);
    pages_free(&seen);

    script(TEN_ITEMS);
    memset(&seen, 0, sizeof seen);
    sc.segments = 7;
    as_ddb_stats stats;
    assert_int_equal(
        as_ddb_scan_pages(client, &CREDS, &sc, on_page, &seen, results, &stats, &err), AS_OK);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(results[i].outcome, AS_DDB_ANSWERED);
    }
    assert_int_equal(seen.id_count, 10);
    assert_int_equal(stats.requests, 7);
    pages_free(&seen);
    as_ddb_client_free(client);
}

/* The callback stops a Scan while other segments are in flight: they are dropped at once,
 * left unfinished (not failed), and the connections serve the next call. */
static void test_scan_stop_with_segments_in_flight(void **state)
{
    (void)state;
    script(TEN_ITEMS ",\"ops\":{\"Scan/1\":[\"slow:1500\"],\"Scan/2\":[\"slow:1500\"],"
                     "\"Scan/3\":[\"slow:1500\"]}");
    as_ddb_client *client = new_client(4);
    as_ddb_scan sc = {0};
    sc.table = "Configuration";
    sc.segments = 4;
    sc.limit = 1;
    pages_seen seen = {0};
    seen.stop_after = 1;
    as_ddb_result results[4];
    as_ddb_stats stats;
    as_error err;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(
        as_ddb_scan_pages(client, &CREDS, &sc, on_page, &seen, results, &stats, &err), AS_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms < 1000);
    assert_int_equal(seen.count, 1);
    assert_int_equal(seen.segment[0], 0);
    assert_int_equal(stats.stopped, AS_DDB_STOP_CALLER);
    assert_int_equal(results[0].outcome, AS_DDB_ANSWERED);
    for (size_t i = 1; i < 4; i++) {
        assert_int_equal(results[i].outcome, AS_DDB_NOT_ATTEMPTED);
        assert_true(contains(results[i].message, "the caller stopped the call"));
    }
    pages_free(&seen);

    /* The client goes on as before. */
    script(TEN_ITEMS);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(
        as_ddb_scan_pages(client, &CREDS, &sc, on_page, &seen, results, &stats, &err), AS_OK);
    assert_int_equal(seen.id_count, 10);
    assert_int_equal(stats.stopped, AS_DDB_STOP_NONE);
    pages_free(&seen);
    as_ddb_client_free(client);
}

/* ---- GetItem -------------------------------------------------------------------------------- */

static void test_get_item(void **state)
{
    (void)state;
    script(FIVE_ITEMS);
    as_ddb_client *client = new_client(1);
    as_buf response = AS_BUF_INIT;
    as_ddb_result result;
    as_ddb_stats stats;
    as_error err;
    bool found = false;
    assert_int_equal(as_ddb_get_item(client, &CREDS, "Au\"dit", span_of("{\"id\":{\"S\":\"q0\"}}"),
                                     "id, n", (as_span){NULL, 0}, true, 0, &response, &found,
                                     &result, &stats, &err),
                     AS_OK);
    expect_answered(&result, 1);
    assert_true(found);
    assert_int_equal(stats.pages, 1);
    assert_string_equal(response.data,
                        "{\"Item\": {\"id\": {\"S\": \"q0\"}, \"n\": {\"N\": \"1.50\"}}}");
    json_t *requests = requests_seen();
    assert_string_equal(header_of(json_array_get(requests, 0), "X-Amz-Target"),
                        "DynamoDB_20120810.GetItem");
    assert_string_equal(json_string_value(json_object_get(json_array_get(requests, 0), "body")),
                        "{\"TableName\":\"Au\\\"dit\",\"Key\":{\"id\":{\"S\":\"q0\"}},"
                        "\"ProjectionExpression\":\"id, n\",\"ConsistentRead\":true}");
    json_decref(requests);

    assert_int_equal(as_ddb_get_item(client, &CREDS, "Audit", span_of("{\"id\":{\"S\":\"nope\"}}"),
                                     NULL, (as_span){NULL, 0}, false, 0, &response, &found,
                                     &result, NULL, &err),
                     AS_OK);
    expect_answered(&result, 1);
    assert_false(found);
    assert_string_equal(response.data, "{}");

    /* A 2xx whose Item is not an object is not an answer. */
    script("\"ops\":{\"GetItem\":[\"raw:{\\\"Item\\\":[]}\"]}");
    assert_int_equal(as_ddb_get_item(client, &CREDS, "Audit", span_of("{\"id\":{\"S\":\"q0\"}}"),
                                     NULL, (as_span){NULL, 0}, false, 0, &response, &found,
                                     &result, &stats, &err),
                     AS_OK);
    expect_failed(&result, "InvalidResponse", "Item is not a JSON object");
    assert_false(found);
    assert_int_equal(response.len, 0);
    assert_int_equal(stats.failed, 1);
    assert_int_equal(stats.written, 0);
    as_buf_free(&response);
    as_ddb_client_free(client);
}

/* ---- BatchGetItem --------------------------------------------------------------------------- */

#define BATCH_ITEMS                                                                                \
    "\"table\":[{\"id\":{\"S\":\"k0\"}},{\"id\":{\"S\":\"k1\"}},{\"id\":{\"S\":\"k99\"}},"         \
    "{\"id\":{\"S\":\"k100\"}},{\"id\":{\"S\":\"k101\"}},{\"id\":{\"S\":\"k149\"}}]"

typedef struct keys {
    char text[150][32];
    as_span spans[150];
} key_set;

static void make_keys(key_set *k, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        snprintf(k->text[i], sizeof k->text[i], "{\"id\":{\"S\":\"k%zu\"}}", i);
        k->spans[i] = span_of(k->text[i]);
    }
}

/* 150 keys: two requests of 100 and 50; unprocessed keys are asked again, after a
 * backoff, until none are left; every item found comes once. */
static void test_batch_get(void **state)
{
    (void)state;
    script(BATCH_ITEMS ",\"ops\":{\"BatchGetItem\":[\"unprocessed\",\"unprocessed\"]}");
    as_ddb_client *client = new_client(1);
    key_set k;
    make_keys(&k, 150);
    as_ddb_batch_get b = {0};
    b.table = "Audit";
    b.keys = k.spans;
    b.key_count = 150;
    b.projection = "#i";
    b.names = span_of("{\"#i\":\"id\"}");
    b.consistent_read = true;
    assert_int_equal(AS_DDB_BATCH_GET_REQUESTS(150), 2);
    pages_seen seen = {0};
    as_ddb_result results[2];
    as_ddb_stats stats;
    as_error err;
    uint32_t tokens = as_ddb_client_retry_tokens(client);
    assert_int_equal(
        as_ddb_batch_get_items(client, &CREDS, &b, on_page, &seen, results, &stats, &err), AS_OK);
    expect_answered(&results[0], 3); /* 100 keys, then 99, then 98: all found */
    expect_answered(&results[1], 1);
    assert_int_equal(seen.id_count, 6);
    static const char *const ids[] = {"k0", "k1", "k99", "k100", "k101", "k149"};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(id_seen(&seen, ids[i]), 1);
    }
    assert_int_equal(stats.requests, 4);
    assert_int_equal(stats.retries, 2);
    assert_int_equal(stats.pages, 4);
    assert_int_equal(seen.count, 4);
    assert_false(seen.last[0]);
    assert_true(seen.last[seen.count - 1]);
    /* Each retry taken is given back by the answer after it. */
    assert_int_equal(as_ddb_client_retry_tokens(client), tokens);

    json_t *requests = requests_seen();
    assert_int_equal(json_array_size(requests), 4);
    size_t want_keys[] = {100, 99, 98, 50};
    for (size_t i = 0; i < 4; i++) {
        json_t *body = body_of(requests, i);
        json_t *spec = json_object_get(json_object_get(body, "RequestItems"), "Audit");
        assert_int_equal(json_array_size(json_object_get(spec, "Keys")), want_keys[i]);
        assert_string_equal(json_string_value(json_object_get(spec, "ProjectionExpression")),
                            "#i");
        assert_true(json_is_true(json_object_get(spec, "ConsistentRead")));
        json_decref(body);
    }
    json_decref(requests);
    pages_free(&seen);

    /* Keys still unprocessed when the attempts run out: the request fails saying so. */
    script(BATCH_ITEMS ",\"ops\":{\"BatchGetItem\":[\"unprocessed\",\"unprocessed\","
                       "\"unprocessed\",\"unprocessed\"]}");
    memset(&seen, 0, sizeof seen);
    b.key_count = 5;
    assert_int_equal(
        as_ddb_batch_get_items(client, &CREDS, &b, on_page, &seen, results, &stats, &err), AS_OK);
    expect_failed(&results[0], "UnprocessedKeys", "2 keys still unprocessed after 3 answers");
    assert_int_equal(results[0].attempts, 3);
    assert_int_equal(seen.count, 3);
    assert_int_equal(seen.id_count, 2); /* k0, k1 */
    pages_free(&seen);

    /* No keys: nothing sent. */
    script("");
    b.key_count = 0;
    assert_int_equal(
        as_ddb_batch_get_items(client, &CREDS, &b, on_page, &seen, NULL, &stats, &err), AS_OK);
    assert_int_equal(stats.requests, 0);
    requests = requests_seen();
    assert_int_equal(json_array_size(requests), 0);
    json_decref(requests);
    as_ddb_client_free(client);
}

/* ---- DescribeTable -------------------------------------------------------------------------- */

#define AUDIT_TABLE                                                                                \
    "{\"TableName\":\"Audit\",\"TableStatus\":\"ACTIVE\",\"ItemCount\":42,"                        \
    "\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}],"                             \
    "\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"},"                \
    "{\"AttributeName\":\"historyKey\",\"AttributeType\":\"S\"},"                                  \
    "{\"AttributeName\":\"historySort\",\"AttributeType\":\"S\"}],"                                \
    "\"StreamSpecification\":{\"StreamEnabled\":true,\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"},"  \
    "\"LatestStreamArn\":\"arn:aws:dynamodb:us-east-1:1:table/Audit/stream/x\""

#define HISTORY_INDEX                                                                              \
    ",\"GlobalSecondaryIndexes\":[{\"IndexName\":\"history\",\"IndexStatus\":\"ACTIVE\","          \
    "\"Projection\":{\"ProjectionType\":\"ALL\"},"                                                 \
    "\"KeySchema\":[{\"AttributeName\":\"historyKey\",\"KeyType\":\"HASH\"},"                      \
    "{\"AttributeName\":\"historySort\",\"KeyType\":\"RANGE\"}]}]"

static void test_describe_table(void **state)
{
    (void)state;
    script("\"describe\":" AUDIT_TABLE HISTORY_INDEX "}");
    as_ddb_client *client = new_client(1);
    as_ddb_table_info info;
    as_ddb_result result;
    as_ddb_stats stats;
    as_error err;
    assert_int_equal(
        as_ddb_describe_table(client, &CREDS, "Audit", 0, &info, &result, &stats, &err), AS_OK);
    expect_answered(&result, 1);
    assert_string_equal(info.name, "Audit");
    assert_string_equal(info.status, "ACTIVE");
    assert_string_equal(info.keys.hash_name, "id");
    assert_string_equal(info.keys.hash_type, "S");
    assert_string_equal(info.keys.range_name, "");
    assert_true(info.stream_enabled);
    assert_string_equal(info.stream_view_type, "NEW_AND_OLD_IMAGES");
    assert_string_equal(info.stream_arn, "arn:aws:dynamodb:us-east-1:1:table/Audit/stream/x");
    assert_int_equal(info.item_count, 42);
    assert_int_equal(info.index_count, 1);
    const as_ddb_index_info *history = as_ddb_table_info_index(&info, "history");
    assert_non_null(history);
    assert_string_equal(history->status, "ACTIVE");
    assert_string_equal(history->projection, "ALL");
    assert_string_equal(history->keys.hash_name, "historyKey");
    assert_string_equal(history->keys.hash_type, "S");
    assert_string_equal(history->keys.range_name, "historySort");
    assert_string_equal(history->keys.range_type, "S");
    assert_null(as_ddb_table_info_index(&info, "other"));
    json_t *requests = requests_seen();
    assert_string_equal(header_of(json_array_get(requests, 0), "X-Amz-Target"),
                        "DynamoDB_20120810.DescribeTable");
    assert_string_equal(json_string_value(json_object_get(json_array_get(requests, 0), "body")),
                        "{\"TableName\":\"Audit\"}");
    json_decref(requests);
    as_ddb_table_info_free(&info);
    assert_null(info.indexes);
    as_ddb_table_info_free(NULL);

    /* Without the index, without a stream. */
    script("\"describe\":{\"TableName\":\"Audit\",\"TableStatus\":\"CREATING\","
           "\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},"
           "{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}],"
           "\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":\"N\"},"
           "{\"AttributeName\":\"sk\",\"AttributeType\":\"B\"}]}");
    assert_int_equal(
        as_ddb_describe_table(client, &CREDS, "Audit", 0, &info, &result, &stats, &err), AS_OK);
    expect_answered(&result, 1);
    assert_string_equal(info.status, "CREATING");
    assert_string_equal(info.keys.hash_type, "N");
    assert_string_equal(info.keys.range_name, "sk");
    assert_string_equal(info.keys.range_type, "B");
    assert_false(info.stream_enabled);
    assert_int_equal(info.index_count, 0);
    assert_null(as_ddb_table_info_index(&info, "history"));
    as_ddb_table_info_free(&info);

    /* No such table. */
    script("");
    assert_int_equal(
        as_ddb_describe_table(client, &CREDS, "Missing", 0, &info, &result, &stats, &err), AS_OK);
    expect_failed(&result, "ResourceNotFoundException", "Missing not found");
    assert_int_equal(as_ddb_error_kind_of(&result), AS_DDB_KIND_NOT_FOUND);
    assert_int_equal(result.attempts, 1);
    assert_int_equal(info.index_count, 0);
    as_ddb_table_info_free(&info);

    /* Denied, both ways DynamoDB and moto say it. */
    static const char *const denials[] = {"denied", "xml403"};
    for (size_t i = 0; i < 2; i++) {
        char members[96];
        snprintf(members, sizeof members, "\"ops\":{\"DescribeTable\":[\"%s\"]}", denials[i]);
        script(members);
        assert_int_equal(
            as_ddb_describe_table(client, &CREDS, "Audit", 0, &info, &result, &stats, &err),
            AS_OK);
        assert_int_equal(result.outcome, AS_DDB_FAILED);
        assert_int_equal(as_ddb_error_kind_of(&result), AS_DDB_KIND_DENIED);
        as_ddb_table_info_free(&info);
    }
    as_ddb_client_free(client);
}

/* Answers without what DescribeTable must say: InvalidResponse naming the field. */
static void test_describe_table_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *describe;
        const char *field;
    } cases[] = {
        {"{\"TableStatus\":\"ACTIVE\",\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":"
         "\"HASH\"}]}",
         "Table.TableName"},
        {"{\"TableName\":\"Audit\"}", "Table.KeySchema"},
        {"{\"TableName\":\"Audit\",\"KeySchema\":{}}", "Table.KeySchema"},
        {"{\"TableName\":\"Audit\",\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":"
         "\"RANGE\"}]}",
         "Table.KeySchema"},
        {"{\"TableName\":\"Audit\",\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":"
         "\"SIDEWAYS\"}]}",
         "Table.KeySchema"},
        {"{\"TableName\":7,\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}]}",
         "Table.TableName"},
        {"{\"TableName\":\"Audit\",\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":"
         "\"HASH\"}],\"GlobalSecondaryIndexes\":{}}",
         "Table.GlobalSecondaryIndexes"},
        {"{\"TableName\":\"Audit\",\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":"
         "\"HASH\"}],\"GlobalSecondaryIndexes\":[{\"IndexStatus\":\"ACTIVE\"}]}",
         "IndexName"},
        {"[]", "Table"},
    };
    as_ddb_client *client = new_client(1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char members[512];
        snprintf(members, sizeof members, "\"describe\":%s", cases[i].describe);
        script(members);
        as_ddb_table_info info;
        as_ddb_result result;
        as_ddb_stats stats;
        as_error err;
        assert_int_equal(
            as_ddb_describe_table(client, &CREDS, "Audit", 0, &info, &result, &stats, &err),
            AS_OK);
        if (result.outcome != AS_DDB_FAILED || !contains(result.message, cases[i].field)) {
            fail_msg("case %zu: %s: %s", i, as_ddb_outcome_name(result.outcome), result.message);
        }
        assert_string_equal(result.error_type, "InvalidResponse");
        assert_int_equal(info.index_count, 0);
        assert_null(info.indexes);
        assert_int_equal(stats.failed, 1);
        assert_int_equal(stats.written, 0);
    }
    /* A Table name too long for the struct is malformed, not cut. */
    as_buf big = AS_BUF_INIT;
    as_buf_append_str(&big, "\"describe\":{\"TableName\":\"");
    for (int i = 0; i < AS_DDB_NAME_MAX; i++) {
        as_buf_append_char(&big, 'a');
    }
    as_buf_append_str(&big, "\",\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}]}");
    assert_int_equal(as_buf_status(&big), AS_OK);
    script(big.data);
    as_buf_free(&big);
    as_ddb_table_info info;
    as_ddb_result result;
    as_error err;
    assert_int_equal(as_ddb_describe_table(client, &CREDS, "Audit", 0, &info, &result, NULL, &err),
                     AS_OK);
    expect_failed(&result, "InvalidResponse", "Table.TableName");
    as_ddb_client_free(client);
}

/* Nothing listens: ConnectionError, a kind of its own. */
static void test_connection_kind(void **state)
{
    (void)state;
    unsigned port = closed_loopback_port();
    assert_true(port != 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    as_ddb_config config = test_config(1);
    config.endpoint_url = url;
    as_ddb_client *client = NULL;
    as_error err;
    assert_int_equal(as_ddb_client_new(&config, &client, &err), AS_OK);
    as_ddb_table_info info;
    as_ddb_result result;
    assert_int_equal(as_ddb_describe_table(client, &CREDS, "Audit", 0, &info, &result, NULL, &err),
                     AS_OK);
    expect_failed(&result, "ConnectionError", "");
    assert_int_equal(result.attempts, 3);
    assert_int_equal(as_ddb_error_kind_of(&result), AS_DDB_KIND_CONNECTION);
    assert_string_equal(as_ddb_error_kind_name(AS_DDB_KIND_CONNECTION), "connection");
    as_ddb_client_free(client);
}

static void test_error_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        long http;
        as_ddb_error_kind kind;
    } cases[] = {
        {"ResourceNotFoundException", 400, AS_DDB_KIND_NOT_FOUND},
        {"AccessDeniedException", 400, AS_DDB_KIND_DENIED},
        {"UnrecognizedClientException", 403, AS_DDB_KIND_DENIED},
        {"InvalidClientTokenId", 403, AS_DDB_KIND_DENIED},
        {"SignatureDoesNotMatch", 403, AS_DDB_KIND_DENIED},
        {"MissingAuthenticationToken", 403, AS_DDB_KIND_DENIED},
        {"ExpiredTokenException", 400, AS_DDB_KIND_DENIED},
        {"ConnectionError", 0, AS_DDB_KIND_CONNECTION},
        {"Timeout", 0, AS_DDB_KIND_CONNECTION},
        {"TlsError", 0, AS_DDB_KIND_CONNECTION},
        {"ThrottlingException", 400, AS_DDB_KIND_THROTTLED},
        {"ProvisionedThroughputExceededException", 400, AS_DDB_KIND_THROTTLED},
        {"TooManyRequests", 429, AS_DDB_KIND_THROTTLED},
        {"ValidationException", 400, AS_DDB_KIND_VALIDATION},
        {"InternalServerError", 500, AS_DDB_KIND_OTHER},
        {"Crc32Mismatch", 200, AS_DDB_KIND_OTHER},
        {"UnprocessedKeys", 200, AS_DDB_KIND_OTHER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_ddb_result r = {0};
        r.outcome = AS_DDB_FAILED;
        r.http_status = cases[i].http;
        snprintf(r.error_type, sizeof r.error_type, "%s", cases[i].type);
        if (as_ddb_error_kind_of(&r) != cases[i].kind) {
            fail_msg("%s: %s", cases[i].type, as_ddb_error_kind_name(as_ddb_error_kind_of(&r)));
        }
        r.outcome = AS_DDB_ANSWERED;
        assert_int_equal(as_ddb_error_kind_of(&r), AS_DDB_KIND_NONE);
    }
    assert_int_equal(as_ddb_error_kind_of(NULL), AS_DDB_KIND_NONE);
    assert_string_equal(as_ddb_error_kind_name(AS_DDB_KIND_NOT_FOUND), "not_found");
    assert_string_equal(as_ddb_error_kind_name(AS_DDB_KIND_DENIED), "denied");
    assert_string_equal(as_ddb_error_kind_name((as_ddb_error_kind)99), "unknown");
    assert_string_equal(as_ddb_outcome_name(AS_DDB_ALREADY_THERE), "already there");
    assert_string_equal(as_ddb_outcome_name(AS_DDB_ANSWERED), "written");
}

/* ---- the generic request -------------------------------------------------------------------- */

static void test_generic_request(void **state)
{
    (void)state;
    script("\"ops\":{\"DescribeTable\":[\"throttle\",\"raw:{\\\"Table\\\": 1.000}\"]}");
    as_ddb_client *client = new_client(1);
    as_buf response = AS_BUF_INIT;
    as_ddb_result result;
    as_ddb_stats stats;
    as_error err;
    assert_int_equal(as_ddb_request(client, &CREDS, "DescribeTable",
                                    span_of("{\"TableName\":\"Audit\"}"), 0, 0, &response,
                                    &result, &stats, &err),
                     AS_OK);
    expect_answered(&result, 2);
    assert_string_equal(response.data, "{\"Table\": 1.000}");
    assert_int_equal(stats.retries, 1);
    assert_int_equal(stats.pages, 1);

    /* A failure leaves the response empty. */
    script("\"ops\":{\"DescribeTable\":[\"validation\"]}");
    assert_int_equal(as_ddb_request(client, &CREDS, "DescribeTable",
                                    span_of("{\"TableName\":\"Audit\"}"), 0, 0, &response,
                                    &result, &stats, &err),
                     AS_OK);
    expect_failed(&result, "ValidationException", "Missing the key");
    assert_int_equal(response.len, 0);
    assert_int_equal(stats.pages, 0);
    as_buf_free(&response);
    as_ddb_client_free(client);
}

/* ---- the write only where absent ------------------------------------------------------------ */

static void test_put_if_absent(void **state)
{
    (void)state;
    script("\"items\":{\"there\":[\"condfail\"],\"busy\":[\"throttle\",\"condfail\"]}");
    as_ddb_client *client = new_client(2);
    const char *texts[] = {"{\"id\":{\"S\":\"new\"}}", "{\"id\":{\"S\":\"there\"}}",
                           "{\"id\":{\"S\":\"busy\"}}"};
    as_span items[3] = {span_of(texts[0]), span_of(texts[1]), span_of(texts[2])};
    as_ddb_result results[3];
    as_ddb_stats stats;
    as_error err;
    assert_int_equal(
        as_ddb_put_items_if_absent(client, &CREDS, "Audit", items, 3, 0, results, &stats, &err),
        AS_OK);
    assert_int_equal(results[0].outcome, AS_DDB_WRITTEN);
    assert_int_equal(results[1].outcome, AS_DDB_ALREADY_THERE);
    assert_string_equal(results[1].error_type, "");
    assert_int_equal(results[1].attempts, 1);
    assert_int_equal(results[2].outcome, AS_DDB_ALREADY_THERE);
    assert_int_equal(results[2].attempts, 2);
    assert_int_equal(as_ddb_error_kind_of(&results[1]), AS_DDB_KIND_NONE);
    assert_int_equal(stats.written, 1);
    assert_int_equal(stats.already_there, 2);
    assert_int_equal(stats.failed, 0);
    json_t *requests = requests_seen();
    for (size_t i = 0; i < json_array_size(requests); i++) {
        json_t *body = body_of(requests, i);
        assert_string_equal(json_string_value(json_object_get(body, "ConditionExpression")),
                            "attribute_not_exists(id)");
        assert_string_equal(header_of(json_array_get(requests, i), "X-Amz-Target"),
                            "DynamoDB_20120810.PutItem");
        json_decref(body);
    }
    json_decref(requests);

    /* put_items sends no condition, and a refusal stays a failure there. */
    script("\"items\":{\"there\":[\"condfail\"]}");
    assert_int_equal(as_ddb_put_items(client, &CREDS, "Audit", items, 2, 0, results, &stats, &err),
                     AS_OK);
    assert_int_equal(results[0].outcome, AS_DDB_WRITTEN);
    assert_int_equal(results[1].outcome, AS_DDB_FAILED);
    assert_string_equal(results[1].error_type, "ConditionalCheckFailedException");
    assert_int_equal(stats.already_there, 0);
    requests = requests_seen();
    json_t *body = body_of(requests, 0);
    assert_null(json_object_get(body, "ConditionExpression"));
    json_decref(body);
    json_decref(requests);

    /* Other refusals stay failures, a type that only ends like it among them. */
    script("\"items\":{\"new\":[\"validation\"],\"there\":[\"condlike\"]}");
    assert_int_equal(
        as_ddb_put_items_if_absent(client, &CREDS, "Audit", items, 2, 0, results, &stats, &err),
        AS_OK);
    assert_int_equal(results[0].outcome, AS_DDB_FAILED);
    assert_string_equal(results[0].error_type, "ValidationException");
    assert_int_equal(results[1].outcome, AS_DDB_FAILED);
    assert_string_equal(results[1].error_type, "NotConditionalCheckFailedException");
    assert_int_equal(stats.already_there, 0);
    as_ddb_client_free(client);
}

/* ---- arguments ------------------------------------------------------------------------------ */

static bool never(const as_ddb_page *page, void *ctx)
{
    (void)page;
    (void)ctx;
    fail_msg("a page was delivered for a refused call");
    return false;
}

static void expect_refused(as_status status, const as_ddb_stats *stats, const as_error *err,
                           const char *part, size_t line)
{
    if (status != AS_ERR_ARGUMENT || !contains(err->message, part)) {
        fail_msg("line %zu: %s: %s (want a refusal naming %s)", line, as_status_name(status),
                 err->message, part);
    }
    assert_int_equal(stats->stopped, AS_DDB_STOP_ARGUMENT);
}

#define REFUSED(call, part) expect_refused((call), &stats, &err, (part), __LINE__)

static void test_bad_arguments(void **state)
{
    (void)state;
    script("");
    as_ddb_client *client = new_client(1);
    as_ddb_result results[4];
    as_ddb_stats stats;
    as_error err;
    as_ddb_query q = {0};
    q.table = "Audit";
    q.key_condition = "k = :k";

    REFUSED(as_ddb_query_pages(NULL, &CREDS, &q, never, NULL, results, &stats, &err), "client");
    REFUSED(as_ddb_query_pages(client, NULL, &q, never, NULL, results, &stats, &err),
            "credentials");
    REFUSED(as_ddb_query_pages(client, &CREDS, NULL, never, NULL, results, &stats, &err),
            "query is required");
    REFUSED(as_ddb_query_pages(client, &CREDS, &q, NULL, NULL, results, &stats, &err), "on_page");
    REFUSED(as_ddb_query_pages(client, &CREDS, &q, never, NULL, NULL, &stats, &err), "result");
    static const struct {
        const char *table;
        const char *condition;
        const char *index;
        const char *names;
        const char *values;
        const char *start;
        const char *part;
    } queries[] = {
        {NULL, "k = :k", NULL, "", "", "", "table is required"},
        {"", "k = :k", NULL, "", "", "", "table name is empty"},
        {"Audit", NULL, NULL, "", "", "", "key condition is required"},
        {"Audit", "", NULL, "", "", "", "key condition is empty"},
        {"Audit", "k = :k", "", "", "", "", "index name is empty"},
        {"Audit", "k = :k", NULL, "{\"#a\":", "", "", "names is not valid JSON"},
        {"Audit", "k = :k", NULL, "[]", "", "", "names is not a JSON object"},
        {"Audit", "k = :k", NULL, "", "{}, \"TableName\": \"Other\"", "", "values is not valid"},
        {"Audit", "k = :k", NULL, "", "{} x", "", "values is not valid JSON"},
        {"Audit", "k = :k", NULL, "", "\"s\"", "", "values is not"},
        {"Audit", "k = :k", NULL, "", "", "{\"pos\"}", "start key is not valid JSON"},
    };
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        as_ddb_query bad = {0};
        bad.table = queries[i].table;
        bad.key_condition = queries[i].condition;
        bad.index = queries[i].index;
        bad.names = span_of(queries[i].names);
        bad.values = span_of(queries[i].values);
        bad.start_key = span_of(queries[i].start);
        REFUSED(as_ddb_query_pages(client, &CREDS, &bad, never, NULL, results, &stats, &err),
                queries[i].part);
    }
    char long_name[1100];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    q.table = long_name;
    REFUSED(as_ddb_query_pages(client, &CREDS, &q, never, NULL, results, &stats, &err),
            "over 1024 bytes");

    as_ddb_scan sc = {0};
    sc.table = "Audit";
    sc.segments = AS_DDB_MAX_SEGMENTS + 1;
    REFUSED(as_ddb_scan_pages(client, &CREDS, &sc, never, NULL, results, &stats, &err),
            "segments is over");
    sc.segments = 4;
    REFUSED(as_ddb_scan_pages(client, &CREDS, &sc, never, NULL, NULL, &stats, &err), "results");
    sc.projection = "";
    REFUSED(as_ddb_scan_pages(client, &CREDS, &sc, never, NULL, results, &stats, &err),
            "projection expression is empty");
    REFUSED(as_ddb_scan_pages(client, &CREDS, NULL, never, NULL, results, &stats, &err),
            "scan is required");

    as_span keys[2] = {span_of("{\"id\":{\"S\":\"a\"}}"), span_of("{\"id\":")};
    as_ddb_batch_get b = {0};
    b.table = "Audit";
    b.keys = keys;
    b.key_count = 2;
    REFUSED(as_ddb_batch_get_items(client, &CREDS, &b, never, NULL, results, &stats, &err),
            "key 1 is not valid JSON");
    b.keys = NULL;
    REFUSED(as_ddb_batch_get_items(client, &CREDS, &b, never, NULL, results, &stats, &err),
            "keys are required");
    REFUSED(as_ddb_batch_get_items(client, &CREDS, NULL, never, NULL, results, &stats, &err),
            "batch is required");

    as_buf response = AS_BUF_INIT;
    REFUSED(as_ddb_get_item(client, &CREDS, "Audit", span_of("[]"), NULL, (as_span){NULL, 0},
                            false, 0, &response, NULL, results, &stats, &err),
            "key is not a JSON object");
    REFUSED(as_ddb_get_item(client, &CREDS, "Audit", (as_span){NULL, 0}, NULL, (as_span){NULL, 0},
                            false, 0, &response, NULL, results, &stats, &err),
            "key is required");
    REFUSED(as_ddb_get_item(client, &CREDS, "Audit", keys[0], NULL, (as_span){NULL, 0}, false, 0,
                            NULL, NULL, results, &stats, &err),
            "response and result");

    as_ddb_table_info info;
    REFUSED(as_ddb_describe_table(client, &CREDS, NULL, 0, &info, results, &stats, &err),
            "table is required");
    REFUSED(as_ddb_describe_table(client, &CREDS, "Audit", 0, NULL, results, &stats, &err),
            "info and result");

    static const char *const operations[] = {NULL, "", "Describe.Table", "Query\r\nX-Evil: 1",
                                             "DescribeTable1"};
    for (size_t i = 0; i < sizeof operations / sizeof operations[0]; i++) {
        REFUSED(as_ddb_request(client, &CREDS, operations[i], span_of("{}"), 0, 0, &response,
                               results, &stats, &err),
                "operation");
    }
    REFUSED(as_ddb_request(client, &CREDS, "Query", span_of("{\"a\":1} {}"), 0, 0, &response,
                           results, &stats, &err),
            "request body is not valid JSON");
    REFUSED(as_ddb_request(client, &CREDS, "Query", (as_span){NULL, 0}, 0, 0, &response, results,
                           &stats, &err),
            "request body is required");

    json_t *requests = requests_seen();
    assert_int_equal(json_array_size(requests), 0);
    json_decref(requests);
    as_buf_free(&response);
    as_ddb_client_free(client);
}

/* A deadline already passed: nothing is sent, the Query says so. */
static void test_deadline(void **state)
{
    (void)state;
    script(FIVE_ITEMS);
    as_ddb_client *client = new_client(1);
    as_ddb_query q = {0};
    q.table = "Audit";
    q.key_condition = "k = :k";
    q.deadline_ms = 1;
    pages_seen seen = {0};
    as_ddb_result result;
    as_ddb_stats stats;
    as_error err;
    assert_int_equal(as_ddb_query_pages(client, &CREDS, &q, on_page, &seen, &result, &stats, &err),
                     AS_OK);
    assert_int_equal(result.outcome, AS_DDB_NOT_ATTEMPTED);
    assert_int_equal(stats.stopped, AS_DDB_STOP_DEADLINE);
    assert_int_equal(seen.count, 0);
    assert_true(contains(result.message, "deadline"));
    as_ddb_client_free(client);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_error_kinds),
    };
    const struct CMUnitTest wire[] = {
        cmocka_unit_test(test_query_pages),
        cmocka_unit_test(test_query_options),
        cmocka_unit_test(test_query_stop_early),
        cmocka_unit_test(test_query_retries),
        cmocka_unit_test(test_query_fails_midway),
        cmocka_unit_test(test_query_invalid_answers),
        cmocka_unit_test(test_read_response_cap),
        cmocka_unit_test(test_scan_segments),
        cmocka_unit_test(test_scan_plain_and_queued),
        cmocka_unit_test(test_scan_stop_with_segments_in_flight),
        cmocka_unit_test(test_get_item),
        cmocka_unit_test(test_batch_get),
        cmocka_unit_test(test_describe_table),
        cmocka_unit_test(test_describe_table_malformed),
        cmocka_unit_test(test_connection_kind),
        cmocka_unit_test(test_generic_request),
        cmocka_unit_test(test_put_if_absent),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_deadline),
    };
    int failed = cmocka_run_group_tests_name("ddb_read pure", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("ddb_read against fault_server.py", wire, start_server,
                                          stop_server);
    return failed == 0 ? 0 : 1;
}
