/* Unit tests of one invocation end to end (decode -> build -> write -> response), with
 * real fixture events and tests/support/fault_server.py standing in for DynamoDB: the
 * partial batch response, the error outcomes, the deadline guard, logs and metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc_fail.h"
#include "auditstream.h"
#include "auditstream/batch.h"
#include "auditstream/log.h"
#include "fault_client.h"

#define AKID   "AKIDBATCHTEST"
#define SECRET "batch/test+secret/key"
#define TOKEN  "FQoGZXIvYXdzEBATCHsessionTOKEN"
#define TABLE  "Audit"

/* The three-record fixture (INSERT, MODIFY, REMOVE; one item each) and its numbers. */
#define JAVA_EVENT "events/aws-lambda-java-libs-dynamo_event.json"
#define JAVA_SEQ0  "4421584500000000017450439091"
#define JAVA_SEQ1  "4421584500000000017450439092"
#define JAVA_SEQ2  "4421584500000000017450439093"
#define TEN_EVENT  "events/localstack-esm-batch-10-inserts.json"

static const as_credentials CREDS = {
    {AKID, sizeof AKID - 1}, {SECRET, sizeof SECRET - 1}, {TOKEN, sizeof TOKEN - 1}};

static as_span span_of(const char *s)
{
    return (as_span){s, strlen(s)};
}

static bool contains(const as_buf *buf, const char *needle)
{
    return buf->data != NULL && strstr(buf->data, needle) != NULL;
}

static size_t count_of(const as_buf *buf, const char *needle)
{
    size_t n = 0;
    for (const char *p = buf->data; p != NULL && (p = strstr(p, needle)) != NULL; p++) {
        n++;
    }
    return n;
}

/* ---- the fault-injecting stand-in --------------------------------------------------------- */

static fault_server server = {.pid = -1};

static int start_server(void **state)
{
    (void)state;
    return fault_server_setup(&server, "test_batch") ? 0 : -1;
}

static int stop_server(void **state)
{
    (void)state;
    fault_server_teardown(&server);
    return 0;
}

/* Resets the stand-in and gives it a script (a JSON object's members, without braces). */
static void script(const char *members)
{
    fault_server_script(&server, SECRET, members, 4096);
}

/* The PutItem requests the stand-in saw, checked to be signed with CREDS for TABLE. */
static size_t server_requests(void)
{
    json_t *log = fault_server_log(&server);
    json_t *requests = json_object_get(log, "requests");
    size_t i;
    json_t *req;
    json_array_foreach(requests, i, req)
    {
        assert_true(json_is_true(json_object_get(req, "signature_ok")));
        json_error_t jerr;
        json_t *body = json_loads(json_string_value(json_object_get(req, "body")), 0, &jerr);
        assert_non_null(body);
        assert_string_equal(json_string_value(json_object_get(body, "TableName")), TABLE);
        json_decref(body);
    }
    size_t n = json_array_size(requests);
    json_decref(log);
    return n;
}

/* ---- the batch under test ----------------------------------------------------------------- */

typedef struct fixture {
    as_ddb_client *client;
    as_batch *batch;
    as_buf payload;
    as_log log;
    as_buf lines;
    as_batch_result result;
    as_runtime_reply reply;
    char ids[16][40]; /* the audit ids of the payload's items, in order */
    size_t id_count;
} fixture;

/* A batch with `options` (the table set here), or the defaults for NULL. */
static void open_batch_with(fixture *f, uint32_t concurrency, const as_batch_options *given)
{
    memset(f, 0, sizeof *f);
    as_ddb_config config = {0};
    config.region = "us-east-1";
    config.endpoint_url = server.url;
    config.concurrency = concurrency;
    config.base_delay_ms = 1;
    config.connect_timeout_ms = 1000;
    config.attempt_timeout_ms = 3000;
    as_error err;
    if (as_ddb_client_new(&config, &f->client, &err) != AS_OK) {
        fail_msg("as_ddb_client_new: %s", err.message);
    }
    as_batch_options options = {0};
    if (given != NULL) {
        options = *given;
    }
    options.table = TABLE;
    if (as_batch_new(f->client, &CREDS, &options, &f->batch, &err) != AS_OK) {
        fail_msg("as_batch_new: %s", err.message);
    }
    f->log.format = AS_LOG_FORMAT_JSON;
    f->log.level = AS_LOG_TRACE;
    f->log.service = span_of("test");
    f->log.request_id = span_of("req-1");
}

static void open_batch(fixture *f, uint32_t concurrency)
{
    open_batch_with(f, concurrency, NULL);
}

static void close_batch(fixture *f)
{
    as_batch_free(f->batch);
    as_ddb_client_free(f->client);
    as_buf_free(&f->payload);
    as_buf_free(&f->lines);
    as_buf_free(&f->reply.body);
    as_buf_free(&f->reply.error_type);
    as_buf_free(&f->reply.error_message);
}

/* Sets the payload and works out its items' ids as the builder makes them. */
static void set_payload(fixture *f, const char *bytes, size_t len)
{
    as_buf_clear(&f->payload);
    as_buf_append(&f->payload, bytes, len);
    assert_int_equal(as_buf_status(&f->payload), AS_OK);
    f->id_count = 0;
    as_event *event = NULL;
    as_error err;
    if (as_event_decode(bytes, len, &event, &err) != AS_OK) {
        return; /* not an event: no items */
    }
    as_items *items = as_items_new();
    assert_non_null(items);
    as_audit_options options = {
        .format = AS_FORMAT_CLASSIC, .ignore = NULL, .ignore_count = 0, .now_ms = fault_real_ms()};
    assert_int_equal(as_audit_build_event(event, &options, items, &err), AS_OK);
    for (size_t i = 0; i < as_items_count(items) && i < 16; i++) {
        as_item item = as_items_get(items, i);
        json_error_t jerr;
        json_t *root = json_loadb(item.json.ptr, item.json.len, 0, &jerr);
        assert_non_null(root);
        snprintf(f->ids[i], sizeof f->ids[i], "%s",
                 json_string_value(json_object_get(json_object_get(root, "id"), "S")));
        json_decref(root);
        f->id_count++;
    }
    as_items_free(items);
    as_event_free(event);
}

static void set_payload_text(fixture *f, const char *json)
{
    set_payload(f, json, strlen(json));
}

static void set_payload_file(fixture *f, const char *path)
{
    FILE *in = fopen(path, "rb");
    if (in == NULL) {
        fail_msg("cannot open %s (run from the top of the tree)", path);
    }
    as_buf bytes = AS_BUF_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) {
        as_buf_append(&bytes, chunk, n);
    }
    fclose(in);
    assert_int_equal(as_buf_status(&bytes), AS_OK);
    set_payload(f, bytes.data, bytes.len);
    as_buf_free(&bytes);
}

/* One invocation with `deadline_ms`; the reply is filled as the runtime loop would. */
static as_status process(fixture *f, int64_t deadline_ms)
{
    as_error err = {0};
    as_buf_clear(&f->lines);
    as_buf_clear(&f->reply.body);
    as_buf_clear(&f->reply.error_type);
    as_buf_clear(&f->reply.error_message);
    as_status status = as_batch_process(f->batch, (as_span){f->payload.data, f->payload.len},
                                        deadline_ms, &f->log, &f->lines, &f->result, &err);
    as_batch_reply(&f->result, &f->reply);
    /* Every line the batch logged is one valid JSON object. */
    for (const char *p = f->lines.data; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '\n');
        assert_non_null(end);
        json_error_t jerr;
        json_t *line = json_loadb(p, (size_t)(end - p), 0, &jerr);
        if (line == NULL) {
            fail_msg("log line is not JSON: %.*s", (int)(end - p), p);
        }
        json_decref(line);
        p = end + 1;
    }
    return status;
}

static const char *body(const fixture *f)
{
    return f->reply.body.data != NULL ? f->reply.body.data : "";
}

static void expect_identifier(const fixture *f, const char *sequence_number)
{
    char want[160];
    snprintf(want, sizeof want, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}",
             sequence_number);
    assert_int_equal(f->result.outcome, AS_BATCH_PARTIAL);
    assert_string_equal(body(f), want);
    assert_int_equal(f->reply.error_type.len, 0);
    assert_int_equal(f->result.item_identifier.len, strlen(sequence_number));
    assert_memory_equal(f->result.item_identifier.ptr, sequence_number, strlen(sequence_number));
}

static void expect_error(const fixture *f, as_batch_outcome outcome, const char *type,
                         const char *message_part)
{
    assert_int_equal(f->result.outcome, outcome);
    assert_string_equal(f->result.error_type, type);
    assert_int_equal(f->reply.body.len, 0);
    assert_string_equal(f->reply.error_type.data, type);
    if (strstr(f->reply.error_message.data, message_part) == NULL) {
        fail_msg("error message \"%s\" lacks \"%s\"", f->reply.error_message.data, message_part);
    }
    assert_int_equal(f->result.item_identifier.len, 0);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_all_written(void **state)
{
    (void)state;
    script("");
    fixture f;
    open_batch(&f, 8);
    set_payload_file(&f, JAVA_EVENT);
    assert_int_equal(process(&f, fault_real_ms() + 10000), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    assert_string_equal(body(&f), "{\"batchItemFailures\":[]}");
    assert_int_equal(f.reply.error_type.len, 0);
    assert_int_equal(f.result.stats.records, 3);
    assert_int_equal(f.result.stats.items, 3);
    assert_int_equal(f.result.stats.written, 3);
    assert_int_equal(f.result.stats.failed, 0);
    assert_int_equal(f.result.stats.records_failed, 0);
    assert_int_equal(f.result.stats.requests, 3);
    assert_int_equal(server_requests(), 3);
    /* Nothing went wrong, so nothing was logged in detail. */
    assert_int_equal(f.lines.len, 0);

    /* The same batch object serves the next invocation, a bigger one. */
    script("");
    set_payload_file(&f, TEN_EVENT);
    assert_int_equal(process(&f, fault_real_ms() + 10000), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    assert_int_equal(f.result.stats.records, 10);
    assert_int_equal(f.result.stats.written, 10);
    assert_int_equal(server_requests(), 10);
    close_batch(&f);
}

static void test_one_item_fails_for_good(void **state)
{
    (void)state;
    fixture f;
    open_batch(&f, 8);
    set_payload_file(&f, JAVA_EVENT);
    char members[256];
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"validation\"]}", f.ids[1]);
    script(members);
    assert_int_equal(process(&f, fault_real_ms() + 10000), AS_OK);
    expect_identifier(&f, JAVA_SEQ1);
    assert_int_equal(f.result.first_failed_record, 1);
    assert_int_equal(f.result.identifier_record, 1);
    assert_int_equal(f.result.stats.written, 2);
    assert_int_equal(f.result.stats.failed, 1);
    assert_int_equal(f.result.stats.records_failed, 1);
    /* Records after the failed one were still written (Lambda redelivers them too). */
    assert_int_equal(server_requests(), 3);
    assert_int_equal(count_of(&f.lines, "\"message\":\"audit item not written\""), 1);
    assert_true(contains(&f.lines, "\"error_type\":\"ValidationException\""));
    assert_true(contains(&f.lines, "\"sequence_number\":\"" JAVA_SEQ1 "\""));
    assert_true(contains(&f.lines, "\"function_request_id\":\"req-1\""));
    close_batch(&f);
}

/* The first record failing while later ones are written is a partial batch, not an
 * invocation error: Lambda redelivers from the first record. */
static void test_first_record_fails(void **state)
{
    (void)state;
    fixture f;
    open_batch(&f, 8);
    set_payload_file(&f, JAVA_EVENT);
    char members[256];
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"denied\"]}", f.ids[0]);
    script(members);
    assert_int_equal(process(&f, fault_real_ms() + 10000), AS_OK);
    expect_identifier(&f, JAVA_SEQ0);
    assert_int_equal(f.result.first_failed_record, 0);
    assert_int_equal(f.result.stats.written, 2);
    close_batch(&f);
}

/* Retries that run out: a throttled item fails after AWS_MAX_ATTEMPTS, the batch is
 * partial and the counts say how many retries and throttles it took. */
static void test_throttled_item_counts(void **state)
{
    (void)state;
    fixture f;
    open_batch(&f, 1);
    set_payload_file(&f, JAVA_EVENT);
    char members[256];
    snprintf(members, sizeof members,
             "\"items\":{\"%s\":[\"throttle\",\"throttle\",\"throttle\"],\"%s\":[\"throttle\"]}",
             f.ids[2], f.ids[0]);
    script(members);
    assert_int_equal(process(&f, 0), AS_OK);
    expect_identifier(&f, JAVA_SEQ2);
    assert_int_equal(f.result.stats.throttles, 4);
    assert_int_equal(f.result.stats.retries, 3);
    assert_int_equal(f.result.stats.requests, 6);
    assert_int_equal(f.result.stats.written, 2);
    close_batch(&f);
}

static void test_every_write_fails(void **state)
{
    (void)state;
    script("\"default\":\"validation\"");
    fixture f;
    open_batch(&f, 8);
    set_payload_file(&f, JAVA_EVENT);
    assert_int_equal(process(&f, fault_real_ms() + 10000), AS_OK);
    expect_error(&f, AS_BATCH_WRITE_FAILED, "AuditWriteFailed",
                 "none of the 3 records could be written; first failure: item 0 (record 0): "
                 "ValidationException: One or more parameter values were invalid");
    assert_int_equal(f.result.stats.records_failed, 3);
    assert_int_equal(f.result.stats.failed, 3);
    assert_int_equal(f.result.stats.written, 0);
    assert_int_equal(count_of(&f.lines, "\"message\":\"audit item not written\""), 3);
    close_batch(&f);
}

/* Failed items are logged one by one up to AS_BATCH_LOG_DETAIL_MAX, then counted. */
static void test_failure_lines_capped(void **state)
{
    (void)state;
    script("\"default\":\"denied\"");
    fixture f;
    open_batch(&f, 16);
    as_buf event = AS_BUF_INIT;
    as_buf_append_str(&event, "{\"Records\":[");
    for (int i = 0; i < AS_BATCH_LOG_DETAIL_MAX + 5; i++) {
        char record[512];
        snprintf(record, sizeof record,
                 "%s{\"eventID\":\"e%d\",\"eventName\":\"INSERT\",\"eventSource\":"
                 "\"aws:dynamodb\",\"dynamodb\":{\"ApproximateCreationDateTime\":1700000000,"
                 "\"Keys\":{\"key\":{\"S\":\"k%d\"}},\"NewImage\":{\"key\":{\"S\":\"k%d\"}},"
                 "\"SequenceNumber\":\"%d\",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}",
                 i ? "," : "", i, i, i, 100 + i);
        as_buf_append_str(&event, record);
    }
    as_buf_append_str(&event, "]}");
    set_payload(&f, event.data, event.len);
    as_buf_free(&event);
    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_WRITE_FAILED);
    assert_int_equal(f.result.stats.records, AS_BATCH_LOG_DETAIL_MAX + 5);
    assert_int_equal(count_of(&f.lines, "\"message\":\"audit item not written\""),
                     AS_BATCH_LOG_DETAIL_MAX);
    assert_true(contains(&f.lines, "\"message\":\"more audit items not written\""));
    assert_true(contains(&f.lines, "\"more\":5}"));
    close_batch(&f);
}

static void test_not_an_event(void **state)
{
    (void)state;
    script("");
    fixture f;
    open_batch(&f, 8);
    static const struct {
        const char *payload;
        const char *message;
    } cases[] = {
        {"garbage", "invalid JSON"},
        {"", "invalid JSON"},
        {"{}", "Records"},
        {"{\"Records\":[{\"eventSource\":\"aws:sqs\"}]}", "aws:dynamodb"},
        {"[1,2]", "object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        set_payload_text(&f, cases[i].payload);
        assert_int_equal(process(&f, fault_real_ms() + 10000), AS_OK);
        expect_error(&f, AS_BATCH_INVALID_EVENT, "InvalidEvent", cases[i].message);
        assert_true(contains(&f.lines, "\"message\":\"payload is not a DynamoDB Streams event\""));
        assert_int_equal(f.result.stats.records, 0);
    }
    /* A truncated real event, too. */
    set_payload_file(&f, "events/aws-lambda-go-dynamodb-event-malformed.2.json");
    assert_int_equal(process(&f, fault_real_ms() + 10000), AS_OK);
    expect_error(&f, AS_BATCH_INVALID_EVENT, "InvalidEvent", "invalid JSON");
    assert_int_equal(server_requests(), 0);
    close_batch(&f);
}

/* Empty batches and no-op MODIFYs (zero items) count as written. */
static void test_no_op_modify(void **state)
{
    (void)state;
    script("");
    fixture f;
    open_batch(&f, 8);
    set_payload_text(&f, "{\"Records\":[]}");
    assert_int_equal(process(&f, fault_real_ms() + 10000), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    assert_string_equal(body(&f), "{\"batchItemFailures\":[]}");

    const char *noop =
        "{\"eventID\":\"n1\",\"eventName\":\"MODIFY\",\"eventSource\":\"aws:dynamodb\","
        "\"dynamodb\":{\"ApproximateCreationDateTime\":1700000000,\"Keys\":{\"key\":{\"S\":"
        "\"k\"}},\"OldImage\":{\"key\":{\"S\":\"k\"},\"v\":{\"N\":\"1\"}},\"NewImage\":{\"key\":"
        "{\"S\":\"k\"},\"v\":{\"N\":\"1.0\"}},\"SequenceNumber\":\"500\",\"StreamViewType\":"
        "\"NEW_AND_OLD_IMAGES\"}}";
    const char *insert =
        "{\"eventID\":\"i1\",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","
        "\"dynamodb\":{\"ApproximateCreationDateTime\":1700000000,\"Keys\":{\"key\":{\"S\":"
        "\"j\"}},\"NewImage\":{\"key\":{\"S\":\"j\"}},\"SequenceNumber\":\"501\","
        "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}";
    char event[2048];
    snprintf(event, sizeof event, "{\"Records\":[%s]}", noop);
    set_payload_text(&f, event);
    assert_int_equal(f.id_count, 0);
    assert_int_equal(process(&f, fault_real_ms() + 10000), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    assert_int_equal(f.result.stats.records, 1);
    assert_int_equal(f.result.stats.items, 0);
    assert_int_equal(server_requests(), 0);

    /* A no-op then a failing INSERT: the no-op was "written", so the batch is partial
     * (Lambda checkpoints past the no-op), not an invocation error. */
    snprintf(event, sizeof event, "{\"Records\":[%s,%s]}", noop, insert);
    set_payload_text(&f, event);
    assert_int_equal(f.id_count, 1);
    script("\"default\":\"validation\"");
    assert_int_equal(process(&f, fault_real_ms() + 10000), AS_OK);
    expect_identifier(&f, "501");
    assert_int_equal(f.result.stats.records_failed, 1);
    close_batch(&f);
}

/* An invalid record without a SequenceNumber: its error item is written like any other,
 * and when that write fails the identifier falls back to the nearest earlier record that
 * has one; with none before it, the whole invocation fails. */
static void test_record_without_sequence_number(void **state)
{
    (void)state;
    const char *good =
        "{\"eventID\":\"g1\",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","
        "\"dynamodb\":{\"ApproximateCreationDateTime\":1700000000,\"Keys\":{\"key\":{\"S\":"
        "\"g\"}},\"NewImage\":{\"key\":{\"S\":\"g\"}},\"SequenceNumber\":\"100\","
        "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}";
    const char *unnumbered =
        "{\"eventID\":\"u1\",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","
        "\"dynamodb\":{\"ApproximateCreationDateTime\":1700000000,\"Keys\":{\"key\":{\"S\":"
        "\"u\"}},\"NewImage\":{\"key\":{\"S\":\"u\"}},\"StreamViewType\":"
        "\"NEW_AND_OLD_IMAGES\"}}";
    const char *empty_seq =
        "{\"eventID\":\"u2\",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","
        "\"dynamodb\":{\"ApproximateCreationDateTime\":1700000000,\"Keys\":{\"key\":{\"S\":"
        "\"v\"}},\"NewImage\":{\"key\":{\"S\":\"v\"}},\"SequenceNumber\":\"\","
        "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}";
    fixture f;
    open_batch(&f, 1);
    char event[4096];
    char members[512];

    /* [good, unnumbered, empty]: the unnumbered record's error item fails. */
    snprintf(event, sizeof event, "{\"Records\":[%s,%s,%s]}", good, unnumbered, empty_seq);
    set_payload_text(&f, event);
    assert_int_equal(f.id_count, 3);
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"validation\"]}", f.ids[1]);
    script(members);
    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(f.result.stats.error_items, 2);
    expect_identifier(&f, "100");
    assert_int_equal(f.result.first_failed_record, 1);
    assert_int_equal(f.result.identifier_record, 0);
    assert_int_equal(count_of(&f.lines, "\"message\":\"invalid record: wrote an error item"), 2);
    assert_true(contains(&f.lines, "\"reason\":\"Records[1].dynamodb.SequenceNumber: is missing"));

    /* [unnumbered, good]: nothing before it to report: the invocation fails whole. */
    snprintf(event, sizeof event, "{\"Records\":[%s,%s]}", unnumbered, good);
    set_payload_text(&f, event);
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"validation\"]}", f.ids[0]);
    script(members);
    assert_int_equal(process(&f, 0), AS_OK);
    expect_error(&f, AS_BATCH_WRITE_FAILED, "AuditWriteFailed",
                 "record 0 was not written and neither it nor any record before it has a "
                 "SequenceNumber");
    assert_int_equal(f.result.stats.written, 1);

    /* [good, empty]: an empty SequenceNumber is never sent either. */
    snprintf(event, sizeof event, "{\"Records\":[%s,%s]}", good, empty_seq);
    set_payload_text(&f, event);
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"validation\"]}", f.ids[1]);
    script(members);
    assert_int_equal(process(&f, 0), AS_OK);
    expect_identifier(&f, "100");
    close_batch(&f);
}

/* A SequenceNumber with a JSON escape goes into the response as received, which is the
 * same string once parsed. */
static void test_escaped_sequence_number(void **state)
{
    (void)state;
    fixture f;
    open_batch(&f, 1);
    set_payload_text(&f, "{\"Records\":[{\"eventID\":\"x1\",\"eventName\":\"INSERT\","
                         "\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{"
                         "\"ApproximateCreationDateTime\":1700000000,\"Keys\":{\"key\":{\"S\":"
                         "\"x\"}},\"NewImage\":{\"key\":{\"S\":\"x\"}},\"SequenceNumber\":"
                         "\"7\\u00307\",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}},"
                         "{\"eventID\":\"x2\",\"eventName\":\"REMOVE\",\"eventSource\":"
                         "\"aws:dynamodb\",\"dynamodb\":{\"ApproximateCreationDateTime\":"
                         "1700000000,\"Keys\":{\"key\":{\"S\":\"y\"}},\"OldImage\":{\"key\":"
                         "{\"S\":\"y\"}},\"SequenceNumber\":\"708\",\"StreamViewType\":"
                         "\"NEW_AND_OLD_IMAGES\"}}]}");
    char members[256];
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"validation\"]}", f.ids[0]);
    script(members);
    assert_int_equal(process(&f, 0), AS_OK);
    expect_identifier(&f, "7\\u00307");
    json_error_t jerr;
    json_t *root = json_loads(body(&f), 0, &jerr);
    assert_non_null(root);
    json_t *entry = json_array_get(json_object_get(root, "batchItemFailures"), 0);
    assert_string_equal(json_string_value(json_object_get(entry, "itemIdentifier")), "707");
    json_decref(root);
    close_batch(&f);
}

/* The deadline guard: with the invocation's deadline near, writing stops at the deadline
 * less the margin, the item in flight is cut off, the rest are not attempted, and the
 * first unwritten record is reported, well before the slow item would have answered. */
static void test_deadline_near_stops_early(void **state)
{
    (void)state;
    fixture f;
    open_batch(&f, 1);
    set_payload_file(&f, JAVA_EVENT);
    char members[256];
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"delay:10000\"]}", f.ids[1]);
    script(members);
    int64_t start = fault_real_ms();
    /* 3 s left (room for the first item on a busy machine): margin min(250, 3000 / 4)
     * = 250, so writing stops 2.75 s in, long before the slow item would answer. */
    int64_t deadline = start + 3000;
    assert_int_equal(process(&f, deadline), AS_OK);
    int64_t took = fault_real_ms() - start;
    assert_true(f.result.write_deadline_ms >= deadline - 250);
    assert_true(f.result.write_deadline_ms <= deadline - 150);
    assert_true(took < 3000); /* answered before the invocation's deadline */
    expect_identifier(&f, JAVA_SEQ1);
    assert_int_equal(f.result.stats.written, 1);
    assert_int_equal(f.result.stats.failed, 1); /* cut off in flight */
    assert_int_equal(f.result.stats.not_attempted, 1);
    assert_int_equal(f.result.stats.records_failed, 2);
    assert_true(
        contains(&f.lines, "\"message\":\"invocation deadline near: stopped before writing"));
    assert_true(contains(&f.lines, "\"not_attempted\":1"));

    /* Nothing written before the deadline: the whole invocation fails. */
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"delay:10000\"]}", f.ids[0]);
    script(members);
    start = fault_real_ms();
    assert_int_equal(process(&f, start + 1500), AS_OK);
    assert_true(fault_real_ms() - start < 1500);
    expect_error(&f, AS_BATCH_WRITE_FAILED, "AuditWriteFailed", "none of the 3 records");
    assert_int_equal(f.result.stats.not_attempted, 2);
    close_batch(&f);
}

/* A deadline that is missing (0) or already past on arrival counts as unknown: no early
 * stop, however slow the writes. */
static void test_missing_or_past_deadline(void **state)
{
    (void)state;
    fixture f;
    open_batch(&f, 1);
    set_payload_file(&f, JAVA_EVENT);
    char members[256];
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"delay:400\"]}", f.ids[1]);
    const int64_t deadlines[] = {0, fault_real_ms() - 60000, 1, -5};
    for (size_t i = 0; i < sizeof deadlines / sizeof deadlines[0]; i++) {
        script(members);
        int64_t start = fault_real_ms();
        assert_int_equal(process(&f, deadlines[i]), AS_OK);
        assert_true(fault_real_ms() - start >= 400);
        assert_int_equal(f.result.write_deadline_ms, 0);
        assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
        assert_int_equal(f.result.stats.written, 3);
        assert_true(f.result.stats.duration_ms >= 400);
    }
    /* A far deadline is a deadline less the full margin. */
    script("");
    int64_t far = fault_real_ms() + 60000;
    assert_int_equal(process(&f, far), AS_OK);
    assert_int_equal(f.result.write_deadline_ms, far - AS_BATCH_DEFAULT_MARGIN_MS);
    close_batch(&f);
}

/* Records missing images are warned about once per invocation, with their count; records
 * without a time once too; invalid records once each. */
static void test_build_warnings(void **state)
{
    (void)state;
    script("");
    fixture f;
    open_batch(&f, 8);
    char event[4096];
    char records[3][512];
    for (int i = 0; i < 3; i++) {
        snprintf(records[i], sizeof records[i],
                 "{\"eventID\":\"m%d\",\"eventName\":\"MODIFY\",\"eventSource\":"
                 "\"aws:dynamodb\",\"dynamodb\":{%s\"Keys\":{\"key\":{\"S\":\"k%d\"}},"
                 "\"NewImage\":{\"key\":{\"S\":\"k%d\"}},\"SequenceNumber\":\"%d\","
                 "\"StreamViewType\":\"NEW_IMAGE\"}}",
                 i, i == 2 ? "" : "\"ApproximateCreationDateTime\":1700000000,", i, i, 10 + i);
    }
    snprintf(event, sizeof event,
             "{\"Records\":[%s,%s,%s,{\"eventID\":\"bad\",\"eventName\":\"INSERT\","
             "\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{\"ApproximateCreationDateTime\":"
             "1700000000,\"Keys\":{\"key\":{\"S\":\"b\"}},"
             "\"NewImage\":{\"n\":{\"N\":\"1e999\"}},\"SequenceNumber\":\"13\"}}]}",
             records[0], records[1], records[2]);
    set_payload_text(&f, event);
    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    assert_int_equal(f.result.stats.missing_images, 3);
    assert_int_equal(f.result.stats.processing_time, 1);
    assert_int_equal(f.result.stats.error_items, 1);
    assert_int_equal(count_of(&f.lines, "\"message\":\"records lack the images"), 1);
    assert_true(contains(&f.lines, "\"records\":3"));
    assert_true(contains(&f.lines, "\"stream_view_type\":\"NEW_IMAGE\""));
    assert_int_equal(count_of(&f.lines, "\"message\":\"records without ApproximateCreation"), 1);
    assert_int_equal(count_of(&f.lines, "\"level\":\"ERROR\""), 1);
    assert_true(contains(&f.lines, "\"sequence_number\":\"13\""));

    /* The log level filters the detail lines; NULL log or buffer means none. */
    f.log.level = AS_LOG_ERROR;
    script("");
    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(count_of(&f.lines, "\n"), 1);
    as_error err;
    as_buf_clear(&f.lines);
    assert_int_equal(as_batch_process(f.batch, (as_span){f.payload.data, f.payload.len}, 0, NULL,
                                      &f.lines, &f.result, &err),
                     AS_OK);
    assert_int_equal(f.lines.len, 0);
    close_batch(&f);
}

/* No log line carries a credential, even when DynamoDB's error quotes one. */
static void test_no_secret_in_lines(void **state)
{
    (void)state;
    script("\"default\":\"sigleak\"");
    fixture f;
    open_batch(&f, 8);
    set_payload_file(&f, JAVA_EVENT);
    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_WRITE_FAILED);
    as_batch_log_summary(&f.log, &f.result, &f.lines);
    as_batch_log_metrics(&f.result, span_of("fn"), &f.lines);
    assert_true(contains(&f.lines, "InvalidSignatureException"));
    assert_false(contains(&f.lines, TOKEN));
    assert_false(contains(&f.lines, SECRET));
    assert_null(strstr(f.reply.error_message.data, TOKEN));
    close_batch(&f);
}

/* The summary line and the metrics line carry the same counts. */
static void test_summary_and_metrics(void **state)
{
    (void)state;
    fixture f;
    open_batch(&f, 8);
    set_payload_file(&f, JAVA_EVENT);
    char members[256];
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"500\",\"validation\"]}", f.ids[2]);
    script(members);
    assert_int_equal(process(&f, 0), AS_OK);
    expect_identifier(&f, JAVA_SEQ2);

    as_buf out = AS_BUF_INIT;
    as_batch_log_summary(&f.log, &f.result, &out);
    as_batch_log_metrics(&f.result, span_of("audit_producer"), &out);
    char *nl = strchr(out.data, '\n');
    assert_non_null(nl);
    json_error_t jerr;
    json_t *summary = json_loadb(out.data, (size_t)(nl - out.data), 0, &jerr);
    json_t *emf = json_loads(nl + 1, JSON_DISABLE_EOF_CHECK, &jerr);
    assert_non_null(summary);
    assert_non_null(emf);
    assert_string_equal(json_string_value(json_object_get(summary, "level")), "WARN");
    assert_string_equal(json_string_value(json_object_get(summary, "message")), "batch partial");
    assert_string_equal(json_string_value(json_object_get(summary, "outcome")), "partial");
    assert_string_equal(json_string_value(json_object_get(summary, "item_identifier")), JAVA_SEQ2);

    static const struct {
        const char *field;
        const char *metric;
        json_int_t value;
    } counts[] = {{"records", "Records", 3},
                  {"records_failed", "RecordsFailed", 1},
                  {"items", "Items", 3},
                  {"written", "ItemsWritten", 2},
                  {"failed", "ItemsFailed", 1},
                  {"not_attempted", "ItemsNotAttempted", 0},
                  {"requests", "Requests", 4},
                  {"requests_put_item", "RequestsPutItem", 4},
                  {"requests_batch_write", "RequestsBatchWriteItem", 0},
                  {"requests_batch_get", "RequestsBatchGetItem", 0},
                  {"unprocessed", "UnprocessedItems", 0},
                  {"chain_heads_moved", "ChainHeadsMoved", 0},
                  {"chain_condition_retries", "ChainConditionRetries", 0},
                  {"chain_skipped", "ChainSkipped", 0},
                  {"retries", "Retries", 1},
                  {"throttles", "Throttles", 0},
                  {"error_items", "ErrorItems", 0},
                  {"truncated", "TruncatedItems", 0},
                  {"missing_images", "RecordsMissingImages", 0},
                  {"processing_time", "RecordsProcessingTime", 0}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        json_t *a = json_object_get(summary, counts[i].field);
        json_t *b = json_object_get(emf, counts[i].metric);
        if (!json_is_integer(a) || !json_is_integer(b) ||
            json_integer_value(a) != counts[i].value || json_integer_value(b) != counts[i].value) {
            fail_msg("%s / %s: want %lld", counts[i].field, counts[i].metric,
                     (long long)counts[i].value);
        }
    }
    assert_int_equal(json_integer_value(json_object_get(summary, "duration_ms")),
                     json_integer_value(json_object_get(emf, "Duration")));
    /* The EMF directive: namespace, dimension, and every metric declared with its unit. */
    json_t *aws = json_object_get(emf, "_aws");
    assert_int_equal(json_integer_value(json_object_get(aws, "Timestamp")), f.result.finished_ms);
    json_t *directive = json_array_get(json_object_get(aws, "CloudWatchMetrics"), 0);
    assert_string_equal(json_string_value(json_object_get(directive, "Namespace")),
                        "libauditstream");
    json_t *dims = json_array_get(json_object_get(directive, "Dimensions"), 0);
    assert_int_equal(json_array_size(dims), 1);
    assert_string_equal(json_string_value(json_array_get(dims, 0)), "FunctionName");
    assert_string_equal(json_string_value(json_object_get(emf, "FunctionName")), "audit_producer");
    json_t *metrics = json_object_get(directive, "Metrics");
    assert_int_equal(json_array_size(metrics), 21);
    size_t i;
    json_t *metric;
    json_array_foreach(metrics, i, metric)
    {
        const char *name = json_string_value(json_object_get(metric, "Name"));
        const char *unit = json_string_value(json_object_get(metric, "Unit"));
        assert_true(json_is_integer(json_object_get(emf, name)));
        assert_string_equal(unit, strcmp(name, "Duration") == 0 ? "Milliseconds" : "Count");
    }
    json_decref(summary);
    json_decref(emf);

    /* Summary levels follow the outcome; an error outcome names its type and message. */
    as_batch_result r;
    memset(&r, 0, sizeof r);
    as_log text = f.log;
    text.format = AS_LOG_FORMAT_TEXT;
    as_buf_clear(&out);
    as_batch_log_summary(&text, &r, &out);
    assert_non_null(strstr(out.data, "\tINFO\tbatch complete outcome=complete records=0"));
    r.outcome = AS_BATCH_INVALID_EVENT;
    snprintf(r.error_type, sizeof r.error_type, "InvalidEvent");
    snprintf(r.error_message, sizeof r.error_message, "not JSON");
    as_buf_clear(&out);
    as_batch_log_summary(&text, &r, &out);
    assert_non_null(strstr(out.data, "\tERROR\tbatch invalid_event"));
    assert_non_null(strstr(out.data, " error_type=InvalidEvent error_message=\"not JSON\"\n"));
    as_buf_free(&out);
    close_batch(&f);
}

static void test_arguments(void **state)
{
    (void)state;
    fixture f;
    open_batch(&f, 1);
    as_batch *b = NULL;
    as_error err;
    as_batch_options options = {0};
    assert_int_equal(as_batch_new(f.client, &CREDS, &options, &b, &err), AS_ERR_ARGUMENT);
    options.table = "";
    assert_int_equal(as_batch_new(f.client, &CREDS, &options, &b, &err), AS_ERR_ARGUMENT);
    options.table = TABLE;
    assert_int_equal(as_batch_new(NULL, &CREDS, &options, &b, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_batch_new(f.client, NULL, &options, &b, &err), AS_ERR_ARGUMENT);
    options.ignore_count = 1;
    assert_int_equal(as_batch_new(f.client, &CREDS, &options, &b, &err), AS_ERR_ARGUMENT);
    assert_null(b);
    assert_int_equal(as_batch_new(f.client, &CREDS, &options, NULL, &err), AS_ERR_ARGUMENT);
    as_batch_result r;
    assert_int_equal(as_batch_process(NULL, span_of("{}"), 0, NULL, NULL, &r, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_batch_process(f.batch, span_of("{}"), 0, NULL, NULL, NULL, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_batch_process(f.batch, (as_span){NULL, 5}, 0, NULL, NULL, &r, &err),
                     AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "payload"));
    /* An empty payload is not an event, and not a misuse. */
    assert_int_equal(as_batch_process(f.batch, (as_span){NULL, 0}, 0, NULL, NULL, &r, &err), AS_OK);
    assert_int_equal(r.outcome, AS_BATCH_INVALID_EVENT);
    as_batch_free(NULL);
    assert_string_equal(as_batch_outcome_name(AS_BATCH_WRITE_FAILED), "write_failed");
    close_batch(&f);
}

/* Ignored attributes are copied at as_batch_new: the caller's list can go away. */
static void test_ignore_copied(void **state)
{
    (void)state;
    script("");
    fixture f;
    open_batch(&f, 1);
    char name[] = "Message";
    as_span ignore[1] = {{name, strlen(name)}};
    as_batch_options options = {0};
    options.table = TABLE;
    options.ignore = ignore;
    options.ignore_count = 1;
    as_batch *b = NULL;
    as_error err;
    assert_int_equal(as_batch_new(f.client, &CREDS, &options, &b, &err), AS_OK);
    memset(name, 'x', strlen(name));
    set_payload_file(&f, JAVA_EVENT);
    as_batch_result r;
    assert_int_equal(
        as_batch_process(b, (as_span){f.payload.data, f.payload.len}, 0, NULL, NULL, &r, &err),
        AS_OK);
    /* The MODIFY changed only Message: ignored, it writes nothing. */
    assert_int_equal(r.outcome, AS_BATCH_COMPLETE);
    assert_int_equal(r.stats.items, 2);
    assert_int_equal(server_requests(), 2);
    as_batch_free(b);
    close_batch(&f);
}

/* ---- why writing stopped (issue 9, item 6c) ----------------------------------------------- */

/* Replaces the fixture's batch with one that signs with `credentials` (borrowed: static). */
static void use_credentials(fixture *f, const as_credentials *credentials)
{
    as_batch_free(f->batch);
    f->batch = NULL;
    as_batch_options options = {0};
    options.table = TABLE;
    as_error err;
    if (as_batch_new(f->client, credentials, &options, &f->batch, &err) != AS_OK) {
        fail_msg("as_batch_new: %s", err.message);
    }
}

/* A write call that stops at signing, with the deadline a minute away, used to be logged
 * as "invocation deadline near". The line now names the real reason. */
static void test_signing_failure_logged_as_such(void **state)
{
    (void)state;
    static const as_credentials bad = {
        {"AKID WITH SPACE", 15}, {SECRET, sizeof SECRET - 1}, {TOKEN, sizeof TOKEN - 1}};
    script("");
    fixture f;
    open_batch(&f, 8);
    use_credentials(&f, &bad);
    set_payload_file(&f, JAVA_EVENT);
    assert_int_equal(process(&f, fault_real_ms() + 60000), AS_OK);
    expect_error(&f, AS_BATCH_WRITE_FAILED, "AuditWriteFailed", "none of the 3 records");
    assert_int_equal(f.result.write_stop, AS_DDB_STOP_SIGNING);
    assert_int_equal(f.result.stats.not_attempted, 3);
    assert_false(contains(&f.lines, "deadline near"));
    assert_true(contains(&f.lines, "\"level\":\"ERROR\",\"message\":\"writing stopped before "
                                   "every item was sent\""));
    assert_true(contains(&f.lines, "\"stop\":\"signing_failed\""));
    assert_true(contains(&f.lines, "\"reason\":\"ddb: signing item 0: sigv4: "
                                   "credentials.access_key_id is empty or holds a space"));
    assert_true(contains(&f.lines, "\"not_attempted\":3"));
    assert_true(strstr(f.reply.error_message.data, "ddb: signing item 0") != NULL);
    assert_int_equal(server_requests(), 0);
    close_batch(&f);
}

/* libcrypto's allocator replaced (alloc_fail.h) before anything allocates, so that the
 * signer's hashing and HMAC meet an allocation failure without the process running out
 * of memory. */
static bool allocator_replaced;

/* Whichever libcrypto allocation of the write fails, the invocation is judged, and an
 * early stop is logged with its real reason (out of memory), never as the deadline. A
 * fresh client each round makes the signer derive its key again. */
static void test_allocation_failure_logged_as_such(void **state)
{
    (void)state;
    assert_true(allocator_replaced);
    size_t out_of_memory = 0;
    for (long at = 1; at <= 400; at++) {
        script("");
        fixture f;
        open_batch(&f, 1);
        set_payload_file(&f, JAVA_EVENT);
        alloc_fail_after(at);
        as_status st = process(&f, fault_real_ms() + 60000);
        alloc_fail_off();
        bool hit = alloc_fail_hit();
        assert_false(contains(&f.lines, "deadline near"));
        if (st != AS_OK) {
            /* The ids are hashed through libcrypto too: the build itself failed. */
            assert_int_equal(st, AS_ERR_NOMEM);
            assert_int_equal(f.result.outcome, AS_BATCH_INTERNAL_ERROR);
        } else if (f.result.write_stop == AS_DDB_STOP_NOMEM) {
            out_of_memory++;
            assert_true(f.result.stats.not_attempted > 0);
            assert_true(contains(&f.lines, "\"stop\":\"out_of_memory\""));
            assert_true(contains(&f.lines, "writing stopped before every item was sent"));
        } else {
            assert_int_equal(f.result.write_stop, AS_DDB_STOP_NONE);
        }
        close_batch(&f);
        if (!hit) {
            break; /* the write needed fewer allocations than `at`: every one was tried */
        }
    }
    if (out_of_memory == 0) {
        fail_msg("no allocation failure reached the write path");
    }
}

/* ---- the hash chain, the trust settings, the write API -------------------------------------- */

/* The log line whose message is `message`, new; NULL when there is none. */
static json_t *line_with(const fixture *f, const char *message)
{
    for (const char *p = f->lines.data; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '\n');
        json_error_t jerr;
        json_t *line = json_loadb(p, (size_t)(end - p), 0, &jerr);
        const char *m = json_string_value(json_object_get(line, "message"));
        if (m != NULL && strcmp(m, message) == 0) {
            return line;
        }
        json_decref(line);
        p = end + 1;
    }
    return NULL;
}

/* The items of the PutItem requests the stand-in saw for item `id`, in order, new. */
static json_t *items_put(const char *id)
{
    json_t *log = fault_server_log(&server);
    json_t *out = json_array();
    size_t i;
    json_t *req;
    json_array_foreach(json_object_get(log, "requests"), i, req)
    {
        const char *item = json_string_value(json_object_get(req, "item"));
        if (item != NULL && strcmp(item, id) == 0) {
            json_error_t jerr;
            json_t *body = json_loads(json_string_value(json_object_get(req, "body")), 0, &jerr);
            assert_non_null(body);
            json_array_append(out, json_object_get(body, "Item"));
            json_decref(body);
        }
    }
    json_decref(log);
    return out;
}

static const char *attr_s(json_t *item, const char *name)
{
    return json_string_value(json_object_get(json_object_get(item, name), "S"));
}

/* The last item put with `id`, new (the array's reference kept alive by the caller). */
static json_t *last_put(const char *id)
{
    json_t *all = items_put(id);
    assert_true(json_array_size(all) > 0);
    json_t *item = json_incref(json_array_get(all, json_array_size(all) - 1));
    json_decref(all);
    return item;
}

/* The chain head's id of the payload's first item's source item. */
static void payload_head_id(const fixture *f, char out[37])
{
    as_event *event = NULL;
    as_error err;
    assert_int_equal(as_event_decode(f->payload.data, f->payload.len, &event, &err), AS_OK);
    as_items *items = as_items_new();
    as_audit_options options = {.format = AS_FORMAT_CLASSIC, .now_ms = fault_real_ms()};
    assert_int_equal(as_audit_build_event(event, &options, items, &err), AS_OK);
    as_item item = as_items_get(items, 0);
    assert_true(item.history_key.len > 0);
    assert_null(memchr(item.history_key.ptr, '\\', item.history_key.len));
    assert_int_equal(as_chain_head_id(item.history_key, out, &err), AS_OK);
    as_items_free(items);
    as_event_free(event);
}

static void open_chained(fixture *f, as_ddb_write_api api)
{
    as_batch_options options = {0};
    options.chain = true;
    options.write_api = api;
    open_batch_with(f, 4, &options);
}

/* A batch chained: its records linked in order, items before the head, the anchor line;
 * then the same batch again: every record skipped as chained before, nothing written. */
static void test_chain_batch_and_redelivery(void **state)
{
    (void)state;
    script("\"remember\":true");
    fixture f;
    open_chained(&f, AS_DDB_WRITE_PUT_ITEM);
    set_payload_file(&f, JAVA_EVENT);
    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    assert_string_equal(body(&f), "{\"batchItemFailures\":[]}");
    const as_batch_stats *st = &f.result.stats;
    assert_int_equal(st->written, 3);
    assert_int_equal(st->chain_heads_moved, 1);
    assert_int_equal(st->requests_batch_get, 1);
    assert_int_equal(st->requests_put_item, 4); /* 3 items and the head */
    assert_int_equal(st->requests, 4);
    assert_int_equal(st->chain_skipped, 0);

    json_t *item[3];
    for (size_t i = 0; i < 3; i++) {
        item[i] = last_put(f.ids[i]);
    }
    assert_string_equal(attr_s(item[0], "chainPrev"),
                        "0000000000000000000000000000000000000000000000000000000000000000");
    assert_string_equal(attr_s(item[1], "chainPrev"), attr_s(item[0], "chain"));
    assert_string_equal(attr_s(item[2], "chainPrev"), attr_s(item[1], "chain"));
    assert_string_equal(attr_s(item[2], "chainPrevTime"), attr_s(item[1], "modificationTime"));
    char id[37];
    payload_head_id(&f, id);
    json_t *head = last_put(id);
    assert_string_equal(attr_s(head, "chain"), attr_s(item[2], "chain"));
    assert_string_equal(attr_s(head, "chainSeq"), "000000000000" JAVA_SEQ2);
    json_decref(head);

    json_t *anchor = line_with(&f, "chain heads");
    assert_non_null(anchor);
    assert_string_equal(json_string_value(json_object_get(anchor, "level")), "INFO");
    json_t *heads = json_object_get(anchor, "heads");
    assert_int_equal(json_array_size(heads), 1);
    json_t *h = json_array_get(heads, 0);
    assert_string_equal(json_string_value(json_object_get(h, "historyKey")),
                        attr_s(item[0], "historyKey"));
    assert_string_equal(json_string_value(json_object_get(h, "sequenceNumber")), JAVA_SEQ2);
    assert_string_equal(json_string_value(json_object_get(h, "chain")), attr_s(item[2], "chain"));
    json_decref(anchor);
    for (size_t i = 0; i < 3; i++) {
        json_decref(item[i]);
    }

    as_buf out = AS_BUF_INIT;
    as_batch_log_metrics(&f.result, span_of("fn"), &out);
    assert_true(contains(&out, "\"ChainHeadsMoved\":1"));
    assert_true(contains(&out, "\"RequestsBatchGetItem\":1"));
    as_buf_clear(&out);
    as_batch_log_summary(&f.log, &f.result, &out);
    assert_true(contains(&out, "\"chain_heads_moved\":1"));
    as_buf_free(&out);

    /* Redelivered whole: read, skipped, counted as written; no write, no anchor. */
    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    assert_int_equal(st->written, 3);
    assert_int_equal(st->chain_skipped, 3);
    assert_int_equal(st->chain_heads_moved, 0);
    assert_int_equal(st->requests, 0);
    assert_int_equal(st->requests_batch_get, 1);
    assert_null(line_with(&f, "chain heads"));
    json_t *all = items_put(f.ids[0]);
    assert_int_equal(json_array_size(all), 1);
    json_decref(all);
    close_batch(&f);
}

/* A record not written: Lambda is told that one, the later record of its source item is
 * not written either, and the head moves over the first only; redelivery finishes it. */
static void test_chain_failed_record(void **state)
{
    (void)state;
    fixture f;
    open_chained(&f, AS_DDB_WRITE_PUT_ITEM);
    set_payload_file(&f, JAVA_EVENT);
    char members[256];
    snprintf(members, sizeof members, "\"remember\":true,\"items\":{\"%s\":[\"validation\"]}",
             f.ids[1]);
    script(members);
    assert_int_equal(process(&f, 0), AS_OK);
    expect_identifier(&f, JAVA_SEQ1);
    assert_int_equal(f.result.stats.records_failed, 2);
    assert_int_equal(f.result.stats.written, 1);
    assert_int_equal(f.result.stats.failed, 2);
    assert_true(contains(&f.lines, "\"error_type\":\"ChainBroken\""));
    json_t *anchor = line_with(&f, "chain heads");
    json_t *h = json_array_get(json_object_get(anchor, "heads"), 0);
    assert_string_equal(json_string_value(json_object_get(h, "sequenceNumber")), JAVA_SEQ0);
    json_decref(anchor);

    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    assert_int_equal(f.result.stats.chain_skipped, 1);
    assert_int_equal(f.result.stats.chain_heads_moved, 1);
    anchor = line_with(&f, "chain heads");
    h = json_array_get(json_object_get(anchor, "heads"), 0);
    assert_string_equal(json_string_value(json_object_get(h, "sequenceNumber")), JAVA_SEQ2);
    json_decref(anchor);
    close_batch(&f);
}

/* A head that cannot be moved leaves every record of the batch unwritten: the
 * invocation fails, and says why. */
static void test_chain_head_not_moved(void **state)
{
    (void)state;
    fixture f;
    open_chained(&f, AS_DDB_WRITE_PUT_ITEM);
    set_payload_file(&f, JAVA_EVENT);
    char id[37];
    payload_head_id(&f, id);
    char members[256];
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"500\",\"500\",\"500\"]}", id);
    script(members);
    assert_int_equal(process(&f, 0), AS_OK);
    expect_error(&f, AS_BATCH_WRITE_FAILED, "AuditWriteFailed", "chain head not moved");
    assert_int_equal(f.result.stats.chain_heads_moved, 0);
    assert_null(line_with(&f, "chain heads"));
    close_batch(&f);
}

/* The deadline near: the items stop early enough for the heads of those written to move,
 * so that the invocation makes progress; Lambda is told the first record not written. */
static void test_chain_deadline(void **state)
{
    (void)state;
    fixture f;
    open_chained(&f, AS_DDB_WRITE_PUT_ITEM);
    set_payload_file(&f, JAVA_EVENT);
    char members[256];
    snprintf(members, sizeof members, "\"remember\":true,\"items\":{\"%s\":[\"delay:10000\"]}",
             f.ids[1]);
    script(members);
    int64_t start = fault_real_ms();
    assert_int_equal(process(&f, start + 3000), AS_OK);
    assert_true(fault_real_ms() - start < 3000);
    expect_identifier(&f, JAVA_SEQ1);
    assert_int_equal(f.result.stats.records_failed, 2);
    assert_int_equal(f.result.stats.chain_heads_moved, 1);
    json_t *anchor = line_with(&f, "chain heads");
    json_t *h = json_array_get(json_object_get(anchor, "heads"), 0);
    assert_string_equal(json_string_value(json_object_get(h, "sequenceNumber")), JAVA_SEQ0);
    json_decref(anchor);
    close_batch(&f);
}

/* A record without a sequence number is written as it is beside the chained ones. */
static void test_chain_unnumbered_record(void **state)
{
    (void)state;
    const char *event =
        "{\"Records\":[{\"eventID\":\"g1\",\"eventName\":\"INSERT\",\"eventSource\":"
        "\"aws:dynamodb\",\"dynamodb\":{\"ApproximateCreationDateTime\":1700000000,\"Keys\":"
        "{\"key\":{\"S\":\"g\"}},\"NewImage\":{\"key\":{\"S\":\"g\"}},\"SequenceNumber\":\"100\","
        "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}},{\"eventID\":\"u1\",\"eventName\":"
        "\"INSERT\",\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{\"ApproximateCreationDateTime"
        "\":1700000000,\"Keys\":{\"key\":{\"S\":\"u\"}},\"NewImage\":{\"key\":{\"S\":\"u\"}},"
        "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}]}";
    script("\"remember\":true");
    fixture f;
    open_chained(&f, AS_DDB_WRITE_PUT_ITEM);
    set_payload_text(&f, event);
    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    assert_int_equal(f.result.stats.chain_heads_moved, 1);
    json_t *chained = last_put(f.ids[0]);
    json_t *plain = last_put(f.ids[1]);
    assert_non_null(attr_s(chained, "chain"));
    assert_null(json_object_get(plain, "chain"));
    json_decref(chained);
    json_decref(plain);
    close_batch(&f);
}

/* An event of `count` INSERTs of distinct source items whose key values are `key_len`
 * bytes long (`fill` repeated, then the record's number), into `out`. */
static void many_keys_event(as_buf *out, size_t count, size_t key_len, char fill)
{
    as_buf_clear(out);
    as_buf_append_str(out, "{\"Records\":[");
    for (size_t i = 0; i < count; i++) {
        char key[2100];
        assert_true(key_len < sizeof key - 16);
        memset(key, fill, key_len);
        snprintf(key + key_len, sizeof key - key_len, "%zu", i);
        char record[4600];
        snprintf(record, sizeof record,
                 "%s{\"eventID\":\"e%zu\",\"eventName\":\"INSERT\",\"eventSource\":"
                 "\"aws:dynamodb\",\"dynamodb\":{\"ApproximateCreationDateTime\":1700000000,"
                 "\"Keys\":{\"key\":{\"S\":\"%s\"}},\"NewImage\":{\"key\":{\"S\":\"%s\"}},"
                 "\"SequenceNumber\":\"%zu\",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}",
                 i > 0 ? "," : "", i, key, key, 1000 + i);
        as_buf_append_str(out, record);
    }
    as_buf_append_str(out, "]}");
    assert_int_equal(as_buf_status(out), AS_OK);
}

/* The heads of every "chain heads" line in `lines` (JSON or text format) gathered into
 * `heads` (historyKey -> {"sequenceNumber","chain"}); returns how many lines, each checked
 * to be within 200,000 bytes, newline included, with at least one head. Per line (up to
 * 16), its length and its first head's as formatted, with the comma before it, in `len`
 * and `first`. */
static size_t anchor_lines(const as_buf *lines, json_t *heads, size_t len_of[16], size_t first[16])
{
    size_t n = 0;
    for (const char *p = lines->data; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '\n');
        assert_non_null(end);
        size_t len = (size_t)(end - p) + 1;
        json_error_t jerr;
        json_t *list = NULL;
        json_t *line = json_loadb(p, len - 1, 0, &jerr);
        const char *m = json_string_value(json_object_get(line, "message"));
        const char *text = strstr(p, "\tINFO\tchain heads heads=");
        if (m != NULL && strcmp(m, "chain heads") == 0) {
            list = json_incref(json_object_get(line, "heads"));
        } else if (line == NULL && text != NULL && text < end) {
            /* Text: the JSON as it is, a DEL byte escaped as \x7f; put it back to read it. */
            const char *at = strchr(text, '=') + 1;
            as_buf raw = AS_BUF_INIT;
            for (const char *c = at; c < end; c++) {
                if (strncmp(c, "\\x7f", 4) == 0) {
                    as_buf_append_char(&raw, 0x7f);
                    c += 3;
                } else {
                    as_buf_append_char(&raw, *c);
                }
            }
            list = json_loadb(raw.data, raw.len, 0, &jerr);
            as_buf_free(&raw);
            assert_non_null(list);
        }
        json_decref(line);
        if (list != NULL) {
            if (len > 200000) {
                fail_msg("chain heads line %zu is %zu bytes", n + 1, len);
            }
            assert_true(n < 16);
            /* No brace inside these heads' strings: the first object ends at the first. */
            const char *open = strstr(p, "[{");
            const char *close = open != NULL ? strchr(open, '}') : NULL;
            assert_true(close != NULL && close < end);
            len_of[n] = len;
            first[n++] = (size_t)(close - open) + 1; /* its object, and a comma before it */
            assert_true(json_array_size(list) > 0);
            size_t i;
            json_t *h;
            json_array_foreach(list, i, h)
            {
                const char *key = json_string_value(json_object_get(h, "historyKey"));
                assert_non_null(key);
                assert_null(json_object_get(heads, key)); /* every head once */
                json_object_set(heads, key, h);
            }
            json_decref(list);
        }
        p = end + 1;
    }
    return n;
}

/* The last head item put for each id, from one read of the stand-in's log (id -> Item). */
static json_t *heads_put(void)
{
    json_t *log = fault_server_log(&server);
    json_t *out = json_object();
    size_t i;
    json_t *req;
    json_array_foreach(json_object_get(log, "requests"), i, req)
    {
        const char *id = json_string_value(json_object_get(req, "item"));
        json_error_t jerr;
        json_t *body = json_loads(json_string_value(json_object_get(req, "body")), 0, &jerr);
        json_t *item = json_object_get(body, "Item");
        if (id != NULL && json_object_get(item, "chainOf") != NULL) {
            json_object_set(out, id, item);
        }
        json_decref(body);
    }
    json_decref(log);
    return out;
}

/* More heads moved than one line can hold under CloudWatch Logs' event size: spread over
 * several "chain heads" lines, each within 200,000 bytes and as full as the next head
 * allows, every head on exactly one, each the head written; in text lines too, where a
 * DEL byte of a key is escaped into four and a line is longer than its JSON. */
static void test_chain_anchor_lines_split(void **state)
{
    (void)state;
    const size_t count = 150;
    const char fills[] = {'k', 0x7f};
    const as_log_format formats[] = {AS_LOG_FORMAT_JSON, AS_LOG_FORMAT_TEXT};
    for (size_t round = 0; round < 2; round++) {
        script("\"remember\":true");
        fixture f;
        open_chained(&f, AS_DDB_WRITE_BATCH);
        many_keys_event(&f.payload, count, 2000, fills[round]);
        f.log.format = formats[round];
        as_error err = {0};
        as_buf_clear(&f.lines);
        assert_int_equal(as_batch_process(f.batch, (as_span){f.payload.data, f.payload.len}, 0,
                                          &f.log, &f.lines, &f.result, &err),
                         AS_OK);
        assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
        assert_int_equal(f.result.stats.chain_heads_moved, count);
        json_t *heads = json_object();
        size_t len[16];
        size_t first[16];
        size_t lines = anchor_lines(&f.lines, heads, len, first);
        /* About 2,100 bytes a head (8,100 in text, each DEL escaped): 2 lines, or 7. */
        assert_int_equal(lines, round == 0 ? 2 : 7);
        for (size_t l = 0; l + 1 < lines; l++) {
            assert_true(len[l] + first[l + 1] > 200000);
        }
        assert_int_equal(json_object_size(heads), count);
        json_t *written = heads_put();
        const char *key;
        json_t *h;
        json_object_foreach(heads, key, h)
        {
            char id[37];
            assert_int_equal(as_chain_head_id(span_of(key), id, &err), AS_OK);
            json_t *put = json_incref(json_object_get(written, id));
            assert_non_null(put);
            assert_string_equal(json_string_value(json_object_get(h, "chain")),
                                attr_s(put, "chain"));
            char seq[AS_CHAIN_SEQ_LEN + 1];
            assert_int_equal(
                as_chain_seq_pad(span_of(json_string_value(json_object_get(h, "sequenceNumber"))),
                                 seq, &err),
                AS_OK);
            assert_string_equal(seq, attr_s(put, "chainSeq"));
            json_decref(put);
        }
        json_decref(written);
        json_decref(heads);
        close_batch(&f);
    }
}

/* With BatchWriteItem the chained items go out in one request and the head by PutItem;
 * without the chain, items returned unprocessed are counted and sent again. */
static void test_write_api_batch(void **state)
{
    (void)state;
    script("\"remember\":true");
    fixture f;
    open_chained(&f, AS_DDB_WRITE_BATCH);
    set_payload_file(&f, JAVA_EVENT);
    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    assert_int_equal(f.result.stats.requests_batch_write, 1);
    assert_int_equal(f.result.stats.requests_put_item, 1);
    assert_int_equal(f.result.stats.requests, 2);
    assert_int_equal(f.result.stats.chain_heads_moved, 1);
    close_batch(&f);

    as_batch_options options = {0};
    options.write_api = AS_DDB_WRITE_BATCH;
    open_batch_with(&f, 4, &options);
    set_payload_file(&f, JAVA_EVENT);
    char members[256];
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"unprocessed\"]}", f.ids[0]);
    script(members);
    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    assert_int_equal(f.result.stats.unprocessed, 1);
    assert_int_equal(f.result.stats.requests_batch_write, 2);
    assert_int_equal(f.result.stats.requests_put_item, 0);
    assert_int_equal(f.result.stats.requests_batch_get, 0);
    assert_int_equal(f.result.stats.written, 3);
    as_buf out = AS_BUF_INIT;
    as_batch_log_metrics(&f.result, span_of("fn"), &out);
    assert_true(contains(&out, "\"UnprocessedItems\":1"));
    assert_true(contains(&out, "\"RequestsBatchWriteItem\":2"));
    as_buf_free(&out);
    close_batch(&f);
}

/* The hmac of the first redacted value in `json` (64 hex digits into `out`). */
static void hmac_in(const char *json, size_t len, char out[65])
{
    const char *marker = "\"hmac\":{\"S\":\"";
    as_buf text = AS_BUF_INIT;
    as_buf_append(&text, json, len);
    as_buf_append_char(&text, '\0');
    const char *at = strstr(text.data, marker);
    assert_non_null(at);
    memcpy(out, at + strlen(marker), 64);
    out[64] = '\0';
    as_buf_free(&text);
}

/* The trust settings reach the items: actor and retention; redaction with a key that
 * the batch copied (the caller's bytes are wiped after as_batch_new). */
static void test_trust_options(void **state)
{
    (void)state;
    script("");
    fixture f;
    as_batch_options options = {0};
    options.actor_attribute = span_of("Message");
    options.retention_days = 30;
    open_batch_with(&f, 4, &options);
    set_payload_file(&f, JAVA_EVENT);
    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    json_t *item = last_put(f.ids[0]);
    assert_string_equal(attr_s(item, "actor"), "New item!");
    assert_string_equal(attr_s(item, "actorSource"), "item");
    assert_string_equal(json_string_value(json_object_get(json_object_get(item, "expiresAt"), "N")),
                        "1431129600"); /* 1428537600 + 30 days */
    json_decref(item);
    close_batch(&f);

    uint8_t key[32];
    memset(key, 'k', sizeof key);
    as_span redact = span_of("Message");
    as_batch_options secret = {0};
    secret.redact = &redact;
    secret.redact_count = 1;
    secret.redact_key = key;
    secret.redact_key_len = sizeof key;
    script("");
    open_batch_with(&f, 4, &secret);
    memset(key, 0, sizeof key);
    set_payload_file(&f, JAVA_EVENT);
    assert_int_equal(process(&f, 0), AS_OK);
    assert_int_equal(f.result.outcome, AS_BATCH_COMPLETE);
    item = last_put(f.ids[0]);
    char *text = json_dumps(item, JSON_COMPACT);
    assert_null(strstr(text, "New item!"));
    char got[65];
    hmac_in(text, strlen(text), got);
    free(text);
    json_decref(item);

    /* The same item built here with the key as it was before the wipe. */
    memset(key, 'k', sizeof key);
    as_event *event = NULL;
    as_error err;
    assert_int_equal(as_event_decode(f.payload.data, f.payload.len, &event, &err), AS_OK);
    as_items *items = as_items_new();
    as_audit_options audit = {.format = AS_FORMAT_CLASSIC,
                              .now_ms = fault_real_ms(),
                              .redact = &redact,
                              .redact_count = 1,
                              .redact_key = key,
                              .redact_key_len = sizeof key};
    assert_int_equal(as_audit_build_event(event, &audit, items, &err), AS_OK);
    as_item built = as_items_get(items, 0);
    char want[65];
    hmac_in(built.json.ptr, built.json.len, want);
    assert_string_equal(got, want);
    as_items_free(items);
    as_event_free(event);
    close_batch(&f);

    /* Names and key that are missing their bytes are refused. */
    as_batch *none = NULL;
    as_batch_options bad = {0};
    bad.table = TABLE;
    bad.redact_count = 1;
    assert_int_equal(as_batch_new(f.client, &CREDS, &bad, &none, &err), AS_ERR_ARGUMENT);
    assert_null(none);
}

int main(void)
{
    /* Only possible before libcrypto allocates anything (curl's setup does). */
    allocator_replaced = alloc_fail_hook_libcrypto();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_written),
        cmocka_unit_test(test_one_item_fails_for_good),
        cmocka_unit_test(test_first_record_fails),
        cmocka_unit_test(test_throttled_item_counts),
        cmocka_unit_test(test_every_write_fails),
        cmocka_unit_test(test_failure_lines_capped),
        cmocka_unit_test(test_not_an_event),
        cmocka_unit_test(test_no_op_modify),
        cmocka_unit_test(test_record_without_sequence_number),
        cmocka_unit_test(test_escaped_sequence_number),
        cmocka_unit_test(test_deadline_near_stops_early),
        cmocka_unit_test(test_missing_or_past_deadline),
        cmocka_unit_test(test_build_warnings),
        cmocka_unit_test(test_no_secret_in_lines),
        cmocka_unit_test(test_summary_and_metrics),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_ignore_copied),
        cmocka_unit_test(test_signing_failure_logged_as_such),
        cmocka_unit_test(test_allocation_failure_logged_as_such),
        cmocka_unit_test(test_chain_batch_and_redelivery),
        cmocka_unit_test(test_chain_failed_record),
        cmocka_unit_test(test_chain_head_not_moved),
        cmocka_unit_test(test_chain_deadline),
        cmocka_unit_test(test_chain_unnumbered_record),
        cmocka_unit_test(test_chain_anchor_lines_split),
        cmocka_unit_test(test_write_api_batch),
        cmocka_unit_test(test_trust_options),
    };
    return cmocka_run_group_tests_name("batch against fault_server.py", tests, start_server,
                                       stop_server);
}
