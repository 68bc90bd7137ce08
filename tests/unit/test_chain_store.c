/* Unit tests of the hash chain in DynamoDB (auditstream/chain_store.h) against
 * tests/support/fault_server.py: heads read, links, items written, heads moved, re-reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "auditstream.h"
#include "auditstream/chain.h"
#include "auditstream/chain_store.h"
#include "fault_client.h"

#define AKID   "AKIDCHAINTEST"
#define SECRET "chain/test+secret/key"
#define TABLE  "Audit"
#define ZEROS  "0000000000000000000000000000000000000000000000000000000000000000"
#define T1     "2024-05-01T12:30:45.000Z"
#define T2     "2024-05-01T12:30:46.000Z"
#define T3     "2024-05-01T12:30:47.000Z"
#define T4     "2024-05-01T12:30:48.000Z"
#define T0     "2024-05-01T12:30:44.000Z"

static const as_credentials CREDS = {
    {AKID, sizeof AKID - 1}, {SECRET, sizeof SECRET - 1}, {NULL, 0}};

static fault_server server = {.pid = -1};

static int start_server(void **state)
{
    (void)state;
    return fault_server_setup(&server, "test_chain_store") ? 0 : -1;
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

static as_span span_of(const char *s)
{
    return (as_span){s, strlen(s)};
}

/* A script given as a JSON object (taken). */
static void script_json(json_t *members)
{
    char *text = json_dumps(members, JSON_COMPACT);
    assert_non_null(text);
    size_t len = strlen(text);
    assert_true(len >= 2 && len < FAULT_SCRIPT_MAX);
    text[len - 1] = '\0'; /* the braces off */
    script(text + 1);
    free(text);
    json_decref(members);
}

/* ---- entries -------------------------------------------------------------------------------- */

/* One test record: its one item's JSON and the entry over it. */
typedef struct rec {
    char json[512];
    char id[40];
    as_span item;
    as_chain_entry entry;
} rec;

/* A record of source item `key` with sequence number `seq` ("" for a BASELINE, NULL for
 * one without) at `time`; `value` makes its item differ from the others. */
static void make_rec(rec *r, const char *key, const char *seq, const char *time, int value)
{
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "item-%s-%s-%d", key, seq != NULL ? seq : "none", value);
    snprintf(r->json, sizeof r->json,
             "{\"id\":{\"S\":\"%s\"},\"historyKey\":{\"S\":\"Src/%s\"},\"modificationTime\":"
             "{\"S\":\"%s\"},\"v\":{\"N\":\"%d\"}}",
             r->id, key, time, value);
    r->item = span_of(r->json);
    r->entry.history_key = (as_span){strstr(r->json, "Src/"), 4 + strlen(key)};
    r->entry.sequence_number = seq != NULL ? span_of(seq) : (as_span){NULL, 0};
    r->entry.baseline = seq != NULL && seq[0] == '\0';
    r->entry.modification_time = (as_span){strstr(r->json, time), strlen(time)};
    r->entry.items = &r->item;
    r->entry.item_count = 1;
}

/* The entries of `count` records, in order, into `out`. */
static void entries_of(rec *recs, size_t count, as_chain_entry *out)
{
    for (size_t i = 0; i < count; i++) {
        out[i] = recs[i].entry;
    }
}

/* The chain after `prev` for record `r`, computed here from its digest with SHA-256. */
static void expected_chain(const char *prev, const rec *r, char out[65])
{
    uint8_t d[32];
    as_error err;
    assert_int_equal(as_chain_record_digest(&r->item, 1, d, &err), AS_OK);
    char text[129];
    memcpy(text, prev, 64);
    for (size_t i = 0; i < 32; i++) {
        snprintf(text + 64 + 2 * i, 3, "%02x", d[i]);
    }
    uint8_t h[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, 128, h);
    for (size_t i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", h[i]);
    }
}

static void head_id(const char *key, char out[37])
{
    char name[64];
    snprintf(name, sizeof name, "Src/%s", key);
    as_error err;
    assert_int_equal(as_chain_head_id(span_of(name), out, &err), AS_OK);
}

/* ---- the store ------------------------------------------------------------------------------ */

typedef struct fixture {
    as_ddb_client *client;
    as_chain_store *store;
    as_ddb_result results[16];
    as_chain_outcome outcomes[16];
    as_chain_stats stats;
    as_error err;
} fixture;

static void open_store(fixture *f, bool if_absent)
{
    memset(f, 0, sizeof *f);
    as_ddb_config config = fault_server_ddb_config(&server, 4);
    config.attempt_timeout_ms = 3000;
    f->client = fault_server_ddb_client(&config);
    as_error err;
    as_chain_store_options options = {.table = TABLE, .if_absent = if_absent};
    if (as_chain_store_new(f->client, &CREDS, &options, &f->store, &err) != AS_OK) {
        fail_msg("as_chain_store_new: %s", err.message);
    }
}

static void close_store(fixture *f)
{
    as_chain_store_free(f->store);
    as_ddb_client_free(f->client);
}

static as_status write_entries(fixture *f, const as_chain_entry *entries, size_t count,
                               int64_t deadline_ms)
{
    memset(f->results, 0xA5, sizeof f->results);
    return as_chain_store_write(f->store, entries, count, deadline_ms, f->results, f->outcomes,
                                &f->stats, &f->err);
}

/* The stored item with `id` (GetItem through the library), new; NULL when there is none. */
static json_t *stored(const fixture *f, const char *id)
{
    char key[96];
    snprintf(key, sizeof key, "{\"id\":{\"S\":\"%s\"}}", id);
    as_buf response = AS_BUF_INIT;
    bool found = false;
    as_ddb_result result;
    as_error err;
    assert_int_equal(as_ddb_get_item(f->client, &CREDS, TABLE, span_of(key), NULL,
                                     (as_span){NULL, 0}, true, 0, &response, &found, &result, NULL,
                                     &err),
                     AS_OK);
    assert_int_equal(result.outcome, AS_DDB_ANSWERED);
    json_t *item = NULL;
    if (found) {
        json_error_t jerr;
        json_t *root = json_loadb(response.data, response.len, 0, &jerr);
        assert_non_null(root);
        item = json_incref(json_object_get(root, "Item"));
        json_decref(root);
    }
    as_buf_free(&response);
    return item;
}

static const char *s_of(json_t *item, const char *name)
{
    return json_string_value(json_object_get(json_object_get(item, name), "S"));
}

static const char *n_of(json_t *item, const char *name)
{
    return json_string_value(json_object_get(json_object_get(item, name), "N"));
}

/* The bodies of the PutItem requests for item `id`, in order, as a new JSON array. */
static json_t *puts_of(const char *id)
{
    json_t *log = fault_server_log(&server);
    json_t *out = json_array();
    size_t i;
    json_t *req;
    json_array_foreach(json_object_get(log, "requests"), i, req)
    {
        assert_true(json_is_true(json_object_get(req, "signature_ok")));
        const char *item = json_string_value(json_object_get(req, "item"));
        if (item != NULL && strcmp(item, id) == 0) {
            json_error_t jerr;
            json_t *body = json_loads(json_string_value(json_object_get(req, "body")), 0, &jerr);
            assert_non_null(body);
            json_array_append_new(out, body);
        }
    }
    json_decref(log);
    return out;
}

/* How many requests the stand-in saw with target `target` ("PutItem" for the rest). */
static size_t requests_of(const char *target)
{
    json_t *log = fault_server_log(&server);
    size_t n = 0;
    size_t i;
    json_t *req;
    json_array_foreach(json_object_get(log, "requests"), i, req)
    {
        const char *t = json_string_value(json_object_get(req, "target"));
        n += strcmp(t != NULL ? t : "PutItem", target) == 0;
    }
    json_decref(log);
    return n;
}

static void expect_moved(const fixture *f, size_t index, const char *key, const char *seq,
                         const char *chain, uint64_t entries)
{
    size_t count = 0;
    const as_chain_moved *moved = as_chain_store_moved(f->store, &count);
    assert_true(index < count);
    char name[64];
    snprintf(name, sizeof name, "Src/%s", key);
    assert_int_equal(moved[index].history_key.len, strlen(name));
    assert_memory_equal(moved[index].history_key.ptr, name, strlen(name));
    assert_int_equal(moved[index].sequence_number.len, strlen(seq));
    if (seq[0] != '\0') {
        assert_memory_equal(moved[index].sequence_number.ptr, seq, strlen(seq));
    }
    assert_string_equal(moved[index].chain, chain);
    assert_int_equal(moved[index].entries, entries);
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* New heads: two source items, one with two records; links from zeros, items written before
 * their heads, heads written where absent, and the anchor list. */
static void test_new_heads(void **state)
{
    (void)state;
    script("\"remember\":true");
    fixture f;
    open_store(&f, false);
    rec r[3];
    make_rec(&r[0], "a", "100", T1, 1);
    make_rec(&r[1], "b", "101", T1, 2);
    make_rec(&r[2], "a", "102", T2, 3);
    as_chain_entry e[3];
    entries_of(r, 3, e);
    assert_int_equal(write_entries(&f, e, 3, 0), AS_OK);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(f.outcomes[i], AS_CHAIN_LINKED);
        assert_int_equal(f.results[i].outcome, AS_DDB_WRITTEN);
    }
    assert_int_equal(f.stats.heads_moved, 2);
    assert_int_equal(f.stats.requests_batch_get, 1);
    assert_int_equal(f.stats.requests_put_item, 5); /* 3 items, 2 heads */
    assert_int_equal(f.stats.condition_retries, 0);
    assert_int_equal(f.stats.skipped, 0);
    assert_int_equal(requests_of("BatchGetItem"), 1);

    char a1[65], a2[65], b1[65];
    expected_chain(ZEROS, &r[0], a1);
    expected_chain(a1, &r[2], a2);
    expected_chain(ZEROS, &r[1], b1);
    json_t *item = stored(&f, r[0].id);
    assert_string_equal(s_of(item, "chainPrev"), ZEROS);
    assert_string_equal(s_of(item, "chain"), a1);
    assert_null(json_object_get(item, "chainPrevTime"));
    json_decref(item);
    item = stored(&f, r[2].id);
    assert_string_equal(s_of(item, "chainPrev"), a1);
    assert_string_equal(s_of(item, "chain"), a2);
    assert_string_equal(s_of(item, "chainPrevTime"), T1);
    json_decref(item);

    char id[37];
    head_id("a", id);
    json_t *head = stored(&f, id);
    assert_non_null(head);
    assert_string_equal(s_of(head, "chainOf"), "Src/a");
    assert_string_equal(s_of(head, "chain"), a2);
    assert_string_equal(s_of(head, "chainSeq"), "0000000000000000000000000000000000000102");
    assert_string_equal(s_of(head, "chainTime"), T2);
    assert_string_equal(n_of(head, "entries"), "2");
    assert_null(json_object_get(head, "historyKey"));
    json_decref(head);
    json_t *bodies = puts_of(id);
    assert_int_equal(json_array_size(bodies), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(bodies, 0), "ConditionExpression")),
        "attribute_not_exists(id)");
    json_decref(bodies);

    size_t moved = 0;
    (void)as_chain_store_moved(f.store, &moved);
    assert_int_equal(moved, 2);
    expect_moved(&f, 0, "a", "102", a2, 2);
    expect_moved(&f, 1, "b", "101", b1, 1);
    close_store(&f);
}

/* Existing heads: a redelivered batch is skipped whole (counted as written, nothing
 * sent but the read); a batch of an old and a new record links the new one from the
 * stored head, moved under chain = :old. */
static void test_existing_heads_and_redelivery(void **state)
{
    (void)state;
    script("\"remember\":true");
    fixture f;
    open_store(&f, false);
    rec r[3];
    make_rec(&r[0], "a", "100", T1, 1);
    make_rec(&r[1], "a", "101", T2, 2);
    make_rec(&r[2], "a", "102", T3, 3);
    as_chain_entry e[3];
    entries_of(r, 3, e);
    assert_int_equal(write_entries(&f, e, 2, 0), AS_OK);
    assert_int_equal(f.stats.heads_moved, 1);

    assert_int_equal(write_entries(&f, e, 2, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_SKIPPED);
    assert_int_equal(f.outcomes[1], AS_CHAIN_SKIPPED);
    assert_int_equal(f.results[0].outcome, AS_DDB_WRITTEN);
    assert_int_equal(f.results[0].attempts, 0);
    assert_int_equal(f.results[1].outcome, AS_DDB_WRITTEN);
    assert_int_equal(f.stats.skipped, 2);
    assert_int_equal(f.stats.heads_moved, 0);
    assert_int_equal(f.stats.requests_put_item, 0);
    assert_int_equal(f.stats.requests_batch_get, 1);
    size_t moved = 1;
    (void)as_chain_store_moved(f.store, &moved);
    assert_int_equal(moved, 0);

    /* A sequence number with escapes compares as its digits: "\u0031\u00301" is 101. */
    rec escaped;
    make_rec(&escaped, "a", "\\u0031\\u00301", T2, 2);
    escaped.entry.items = &r[1].item;
    assert_int_equal(write_entries(&f, &escaped.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_SKIPPED);

    /* The tail redelivered with one new record. */
    assert_int_equal(write_entries(&f, e + 1, 2, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_SKIPPED);
    assert_int_equal(f.outcomes[1], AS_CHAIN_LINKED);
    assert_int_equal(f.stats.skipped, 1);
    assert_int_equal(f.stats.heads_moved, 1);
    char c1[65], c2[65], c3[65];
    expected_chain(ZEROS, &r[0], c1);
    expected_chain(c1, &r[1], c2);
    expected_chain(c2, &r[2], c3);
    json_t *item = stored(&f, r[2].id);
    assert_string_equal(s_of(item, "chainPrev"), c2);
    assert_string_equal(s_of(item, "chain"), c3);
    assert_string_equal(s_of(item, "chainPrevTime"), T2);
    json_decref(item);
    char id[37];
    head_id("a", id);
    json_t *bodies = puts_of(id);
    json_t *last = json_array_get(bodies, json_array_size(bodies) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "ConditionExpression")),
                        "chain = :old");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(last, "ExpressionAttributeValues"), ":old"), "S")),
        c2);
    json_decref(bodies);
    json_t *head = stored(&f, id);
    assert_string_equal(n_of(head, "entries"), "3");
    assert_string_equal(s_of(head, "chain"), c3);
    json_decref(head);
    expect_moved(&f, 0, "a", "102", c3, 3);
    close_store(&f);
}

/* The head item of a chain moved by someone else: one BASELINE entry after `prev`. */
static void moved_head(const char *key, const char *prev_chain, char chain_out[65], char *body,
                       size_t cap)
{
    rec base;
    make_rec(&base, key, "", T1, 99);
    expected_chain(prev_chain, &base, chain_out);
    as_chain_head head;
    as_chain_head_init(&head);
    memcpy(head.chain, chain_out, 65);
    head.exists = true;
    head.entries = 1;
    memcpy(head.time, T1, sizeof head.time);
    as_buf item = AS_BUF_INIT;
    char name[64];
    snprintf(name, sizeof name, "Src/%s", key);
    as_error err;
    assert_int_equal(as_chain_head_item(span_of(name), &head, &item, &err), AS_OK);
    int n = snprintf(body, cap, "{\"Responses\":{\"" TABLE "\":[%.*s]},\"UnprocessedKeys\":{}}",
                     (int)item.len, item.data);
    assert_true(n > 0 && (size_t)n < cap);
    as_buf_free(&item);
}

/* A backfill moved the head between the read and the write: the condition fails, the head
 * is read again, the links recomputed from it, the items rewritten, the head moved. */
static void test_condition_failure_then_success(void **state)
{
    (void)state;
    char chain[65];
    char answer[1024];
    moved_head("a", ZEROS, chain, answer, sizeof answer);
    char id[37];
    head_id("a", id);
    char raw[1100];
    snprintf(raw, sizeof raw, "raw:%s", answer);
    script_json(json_pack("{s:{s:[s]},s:{s:[s,s]}}", "items", id, "condfail", "ops", "BatchGetItem",
                          "ok", raw));

    fixture f;
    open_store(&f, false);
    rec r;
    make_rec(&r, "a", "100", T2, 1);
    assert_int_equal(write_entries(&f, &r.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    assert_int_equal(f.results[0].outcome, AS_DDB_WRITTEN);
    assert_int_equal(f.stats.condition_retries, 1);
    assert_int_equal(f.stats.requests_batch_get, 2);
    assert_int_equal(f.stats.heads_moved, 1);

    char want[65];
    expected_chain(chain, &r, want);
    json_t *bodies = puts_of(r.id);
    assert_int_equal(json_array_size(bodies), 2); /* written, then rewritten */
    json_t *item = json_object_get(json_array_get(bodies, 1), "Item");
    assert_string_equal(s_of(item, "chainPrev"), chain);
    assert_string_equal(s_of(item, "chainPrevTime"), T1);
    assert_string_equal(s_of(item, "chain"), want);
    json_decref(bodies);
    bodies = puts_of(id);
    assert_int_equal(json_array_size(bodies), 2);
    json_t *second = json_array_get(bodies, 1);
    assert_string_equal(json_string_value(json_object_get(second, "ConditionExpression")),
                        "chain = :old");
    assert_string_equal(s_of(json_object_get(second, "Item"), "chain"), want);
    assert_string_equal(n_of(json_object_get(second, "Item"), "entries"), "2");
    json_decref(bodies);
    expect_moved(&f, 0, "a", "100", want, 2);
    close_store(&f);
}

/* A record not written in the first round and a head moved meanwhile: the second round
 * relinks and rewrites both records from the head read again, and moves it over both. */
static void test_condition_retry_after_a_broken_round(void **state)
{
    (void)state;
    char chain[65];
    char answer[1024];
    moved_head("a", ZEROS, chain, answer, sizeof answer);
    char id[37];
    head_id("a", id);
    rec r[2];
    make_rec(&r[0], "a", "100", T2, 1);
    make_rec(&r[1], "a", "101", T3, 2);
    char raw[1100];
    snprintf(raw, sizeof raw, "raw:%s", answer);
    script_json(json_pack("{s:{s:[s],s:[s]},s:{s:[s,s]}}", "items", id, "condfail", r[1].id,
                          "validation", "ops", "BatchGetItem", "ok", raw));
    fixture f;
    open_store(&f, false);
    as_chain_entry e[2];
    entries_of(r, 2, e);
    assert_int_equal(write_entries(&f, e, 2, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    assert_int_equal(f.outcomes[1], AS_CHAIN_LINKED);
    assert_int_equal(f.results[1].outcome, AS_DDB_WRITTEN);
    assert_int_equal(f.stats.condition_retries, 1);
    char c1[65], c2[65];
    expected_chain(chain, &r[0], c1);
    expected_chain(c1, &r[1], c2);
    json_t *bodies = puts_of(id);
    assert_int_equal(json_array_size(bodies), 2);
    json_t *second = json_object_get(json_array_get(bodies, 1), "Item");
    assert_string_equal(s_of(second, "chain"), c2);
    assert_string_equal(n_of(second, "entries"), "3");
    json_decref(bodies);
    expect_moved(&f, 0, "a", "101", c2, 3);
    close_store(&f);
}

/* A condition that keeps failing is read again AS_CHAIN_STORE_MAX_CONDITION_RETRIES times,
 * then its records count as not written. */
static void test_condition_failing_past_bound(void **state)
{
    (void)state;
    char id[37];
    head_id("a", id);
    char members[256];
    snprintf(members, sizeof members,
             "\"items\":{\"%s\":[\"condfail\",\"condfail\",\"condfail\",\"condfail\",\"condfail\","
             "\"condfail\"]}",
             id);
    script(members);
    fixture f;
    open_store(&f, false);
    rec r[2];
    make_rec(&r[0], "a", "100", T1, 1);
    make_rec(&r[1], "b", "101", T1, 2);
    as_chain_entry e[2];
    entries_of(r, 2, e);
    assert_int_equal(write_entries(&f, e, 2, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_FAILED);
    assert_int_equal(f.results[0].outcome, AS_DDB_FAILED);
    assert_string_equal(f.results[0].error_type, "ConditionalCheckFailedException");
    assert_non_null(strstr(f.results[0].message, "chain head moved by another writer"));
    assert_int_equal(f.outcomes[1], AS_CHAIN_LINKED);
    assert_int_equal(f.stats.condition_retries, AS_CHAIN_STORE_MAX_CONDITION_RETRIES + 1);
    assert_int_equal(f.stats.requests_batch_get, AS_CHAIN_STORE_MAX_CONDITION_RETRIES + 1);
    assert_int_equal(f.stats.heads_moved, 1);
    json_t *bodies = puts_of(id);
    assert_int_equal(json_array_size(bodies), AS_CHAIN_STORE_MAX_CONDITION_RETRIES + 1);
    json_decref(bodies);
    size_t moved = 0;
    (void)as_chain_store_moved(f.store, &moved);
    assert_int_equal(moved, 1);
    char b1[65];
    expected_chain(ZEROS, &r[1], b1);
    expect_moved(&f, 0, "b", "101", b1, 1);
    close_store(&f);
}

/* A head write that fails for good (5xx after the retries) leaves its records not
 * written, though their items went out. */
static void test_head_write_fails(void **state)
{
    (void)state;
    char id[37];
    head_id("a", id);
    char members[256];
    snprintf(members, sizeof members, "\"items\":{\"%s\":[\"500\",\"500\",\"500\"]}", id);
    script(members);
    fixture f;
    open_store(&f, false);
    rec r[2];
    make_rec(&r[0], "a", "100", T1, 1);
    make_rec(&r[1], "a", "101", T2, 2);
    as_chain_entry e[2];
    entries_of(r, 2, e);
    assert_int_equal(write_entries(&f, e, 2, 0), AS_OK);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(f.outcomes[i], AS_CHAIN_FAILED);
        assert_int_equal(f.results[i].outcome, AS_DDB_FAILED);
        assert_string_equal(f.results[i].error_type, "InternalServerError");
        assert_non_null(strstr(f.results[i].message, "chain head not moved"));
    }
    assert_int_equal(f.stats.heads_moved, 0);
    assert_int_equal(f.stats.retries, 2);
    json_t *bodies = puts_of(r[1].id);
    assert_int_equal(json_array_size(bodies), 1);
    json_decref(bodies);
    close_store(&f);
}

/* A record of a source item not written: its head moves over the records before it only,
 * and the later records of that item count as not written. */
static void test_failed_record_in_the_middle(void **state)
{
    (void)state;
    rec r[4];
    make_rec(&r[0], "a", "100", T1, 1);
    make_rec(&r[1], "a", "101", T2, 2);
    make_rec(&r[2], "a", "102", T3, 3);
    make_rec(&r[3], "b", "103", T3, 4);
    char members[256];
    snprintf(members, sizeof members, "\"remember\":true,\"items\":{\"%s\":[\"validation\"]}",
             r[1].id);
    script(members);
    fixture f;
    open_store(&f, false);
    as_chain_entry e[4];
    entries_of(r, 4, e);
    assert_int_equal(write_entries(&f, e, 4, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    assert_int_equal(f.outcomes[1], AS_CHAIN_FAILED);
    assert_string_equal(f.results[1].error_type, "ValidationException");
    assert_int_equal(f.outcomes[2], AS_CHAIN_FAILED);
    assert_int_equal(f.results[2].outcome, AS_DDB_FAILED);
    assert_string_equal(f.results[2].error_type, "ChainBroken");
    assert_int_equal(f.outcomes[3], AS_CHAIN_LINKED);
    char a1[65];
    expected_chain(ZEROS, &r[0], a1);
    char id[37];
    head_id("a", id);
    json_t *head = stored(&f, id);
    assert_string_equal(s_of(head, "chain"), a1);
    assert_string_equal(s_of(head, "chainSeq"), "0000000000000000000000000000000000000100");
    assert_string_equal(n_of(head, "entries"), "1");
    json_decref(head);
    expect_moved(&f, 0, "a", "100", a1, 1);

    /* Redelivered from the failed record: relinked from the head, as before. */
    assert_int_equal(write_entries(&f, e + 1, 3, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    assert_int_equal(f.outcomes[1], AS_CHAIN_LINKED);
    assert_int_equal(f.outcomes[2], AS_CHAIN_SKIPPED);
    char a2[65], a3[65];
    expected_chain(a1, &r[1], a2);
    expected_chain(a2, &r[2], a3);
    head = stored(&f, id);
    assert_string_equal(s_of(head, "chain"), a3);
    assert_string_equal(n_of(head, "entries"), "3");
    json_decref(head);
    close_store(&f);
}

/* Heads that cannot be read: the chained records count as not written and nothing of
 * theirs is sent; a record that is not chained is written all the same. */
static void test_heads_not_read(void **state)
{
    (void)state;
    script("\"ops\":{\"BatchGetItem\":[\"500\",\"500\",\"500\"]}");
    fixture f;
    open_store(&f, false);
    rec r[3];
    make_rec(&r[0], "a", "100", T1, 1);
    make_rec(&r[1], "b", NULL, T1, 2); /* no sequence number: written as it is */
    make_rec(&r[2], "c", "102", T1, 3);
    as_chain_entry e[3];
    entries_of(r, 3, e);
    assert_int_equal(write_entries(&f, e, 3, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_FAILED);
    assert_string_equal(f.results[0].error_type, "InternalServerError");
    assert_non_null(strstr(f.results[0].message, "chain head not read"));
    assert_int_equal(f.outcomes[1], AS_CHAIN_PLAIN);
    assert_int_equal(f.results[1].outcome, AS_DDB_WRITTEN);
    assert_int_equal(f.outcomes[2], AS_CHAIN_FAILED);
    assert_int_equal(requests_of("PutItem"), 1);
    json_t *bodies = puts_of(r[1].id);
    assert_null(json_object_get(json_object_get(json_array_get(bodies, 0), "Item"), "chain"));
    json_decref(bodies);

    /* Keys left unprocessed and then refused: the request's keys all fail. */
    script("\"ops\":{\"BatchGetItem\":[\"unprocessed\",\"500\",\"500\"]}");
    assert_int_equal(write_entries(&f, e, 3, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_FAILED);
    assert_int_equal(f.outcomes[2], AS_CHAIN_FAILED);
    assert_int_equal(f.results[2].outcome, AS_DDB_FAILED);
    assert_int_equal(f.stats.heads_moved, 0);

    /* Left unprocessed once, then served: the chain goes on. */
    script("\"remember\":true,\"ops\":{\"BatchGetItem\":[\"unprocessed\"]}");
    assert_int_equal(write_entries(&f, e, 3, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    assert_int_equal(f.outcomes[2], AS_CHAIN_LINKED);
    assert_int_equal(f.stats.requests_batch_get, 2);
    close_store(&f);
}

/* A head that does not parse fails its source item's records alone. */
static void test_unreadable_head(void **state)
{
    (void)state;
    char id[37];
    head_id("a", id);
    char members[512];
    snprintf(members, sizeof members,
             "\"remember\":true,\"table\":[{\"id\":{\"S\":\"%s\"},\"chainOf\":{\"S\":\"Src/a\"},"
             "\"chain\":{\"S\":\"nothex\"}}]",
             id);
    script(members);
    fixture f;
    open_store(&f, false);
    rec r[2];
    make_rec(&r[0], "a", "100", T1, 1);
    make_rec(&r[1], "b", "101", T1, 2);
    as_chain_entry e[2];
    entries_of(r, 2, e);
    assert_int_equal(write_entries(&f, e, 2, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_FAILED);
    assert_string_equal(f.results[0].error_type, "InvalidChainHead");
    assert_int_equal(f.outcomes[1], AS_CHAIN_LINKED);
    close_store(&f);
}

/* A BASELINE links like any entry and leaves chainSeq as it was; written where absent, a
 * BASELINE already there is not linked again. */
static void test_baseline(void **state)
{
    (void)state;
    script("\"remember\":true");
    fixture f;
    open_store(&f, true);
    rec r[2];
    make_rec(&r[0], "a", "", T1, 1);
    make_rec(&r[1], "a", "", T2, 2);
    assert_int_equal(write_entries(&f, &r[0].entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    char c1[65];
    expected_chain(ZEROS, &r[0], c1);
    char id[37];
    head_id("a", id);
    json_t *head = stored(&f, id);
    assert_string_equal(s_of(head, "chainSeq"), "0000000000000000000000000000000000000000");
    assert_string_equal(s_of(head, "chain"), c1);
    json_decref(head);
    expect_moved(&f, 0, "a", "", c1, 1);

    /* The same entry again, at the head's own time: it would sort before the head's
     * entry, so it is not linked (nothing sent). */
    assert_int_equal(write_entries(&f, &r[0].entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LATE);
    assert_int_equal(f.results[0].outcome, AS_DDB_FAILED);
    assert_int_equal(f.stats.heads_moved, 0);
    /* A later run's BASELINE of the same image (same id, a later time): there already,
     * read back, the head's own entry. */
    rec again;
    make_rec(&again, "a", "", T2, 1);
    assert_int_equal(write_entries(&f, &again.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_ALREADY_THERE);
    assert_int_equal(f.results[0].outcome, AS_DDB_ALREADY_THERE);
    assert_int_equal(f.stats.requests_batch_get, 2); /* the head, the item */
    assert_int_equal(f.stats.heads_moved, 0);

    /* Two entries of one source item in one call where absent: refused before sending. */
    as_chain_entry e[2];
    entries_of(r, 2, e);
    assert_int_equal(write_entries(&f, e, 2, 0), AS_ERR_ARGUMENT);
    assert_non_null(strstr(f.err.message, "entries 0 and 1"));
    close_store(&f);

    /* Over a stream record's head: chainSeq kept, entries counted. */
    script("\"remember\":true");
    open_store(&f, false);
    rec s;
    make_rec(&s, "a", "500", T1, 7);
    assert_int_equal(write_entries(&f, &s.entry, 1, 0), AS_OK);
    assert_int_equal(write_entries(&f, &r[1].entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    head = stored(&f, id);
    assert_string_equal(s_of(head, "chainSeq"), "0000000000000000000000000000000000000500");
    assert_string_equal(n_of(head, "entries"), "2");
    json_decref(head);
    close_store(&f);
}

/* The head `key` as read: after one entry whose chain is `chain`, at `time`, answered for
 * a BatchGetItem into `body` ("raw:" and the answer). */
static void head_answer(const char *key, const char *chain, const char *time, char *body,
                        size_t cap)
{
    as_chain_head head;
    as_chain_head_init(&head);
    memcpy(head.chain, chain, 65);
    head.exists = true;
    head.entries = 1;
    memcpy(head.seq, "0000000000000000000000000000000000000700", AS_CHAIN_SEQ_LEN + 1);
    memcpy(head.time, time, sizeof head.time);
    as_buf item = AS_BUF_INIT;
    char name[64];
    snprintf(name, sizeof name, "Src/%s", key);
    as_error err;
    assert_int_equal(as_chain_head_item(span_of(name), &head, &item, &err), AS_OK);
    int n = snprintf(body, cap, "raw:{\"Responses\":{\"" TABLE "\":[%.*s]},\"UnprocessedKeys\":{}}",
                     (int)item.len, item.data);
    assert_true(n > 0 && (size_t)n < cap);
    as_buf_free(&item);
}

/* A BASELINE is linked only where it sorts last: not after a head whose chainTime is at
 * or after its own time (nothing sent, "late", the reason backfill prints), and linked
 * after one that is earlier; a later entry of the same call links on from the head. */
static void test_baseline_not_after_a_later_entry(void **state)
{
    (void)state;
    script("\"remember\":true");
    fixture f;
    open_store(&f, false);
    rec s;
    make_rec(&s, "a", "700", T2, 7);
    assert_int_equal(write_entries(&f, &s.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    char c1[65];
    expected_chain(ZEROS, &s, c1);
    close_store(&f);

    open_store(&f, true);
    char id[37];
    head_id("a", id);
    const char *times[] = {T1, T2};
    for (size_t t = 0; t < 2; t++) {
        rec b;
        make_rec(&b, "a", "", times[t], 10 + (int)t);
        assert_int_equal(write_entries(&f, &b.entry, 1, 0), AS_OK);
        assert_int_equal(f.outcomes[0], AS_CHAIN_LATE);
        assert_string_equal(as_chain_outcome_name(f.outcomes[0]), "late");
        assert_int_equal(f.results[0].outcome, AS_DDB_FAILED);
        assert_int_equal(f.results[0].attempts, 0);
        assert_string_equal(f.results[0].error_type, "ChainOutOfOrder");
        assert_string_equal(f.results[0].message, AS_CHAIN_LATE_MESSAGE);
        assert_int_equal(f.stats.heads_moved, 0);
        assert_int_equal(f.stats.requests_put_item, 0);
        json_t *bodies = puts_of(b.id);
        assert_int_equal(json_array_size(bodies), 0);
        json_decref(bodies);
    }
    json_t *head = stored(&f, id);
    assert_string_equal(s_of(head, "chain"), c1);
    json_decref(head);
    rec b;
    make_rec(&b, "a", "", T3, 12);
    assert_int_equal(write_entries(&f, &b.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    char c2[65];
    expected_chain(c1, &b, c2);
    expect_moved(&f, 0, "a", "", c2, 2);
    close_store(&f);

    /* Several entries of one key (not where absent): the late BASELINE is left out and
     * the record after it links from the head. */
    open_store(&f, false);
    rec r[2];
    make_rec(&r[0], "a", "", T3, 13);
    make_rec(&r[1], "a", "701", T3, 14);
    as_chain_entry e[2];
    entries_of(r, 2, e);
    assert_int_equal(write_entries(&f, e, 2, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LATE);
    assert_int_equal(f.outcomes[1], AS_CHAIN_LINKED);
    char c3[65];
    expected_chain(c2, &r[1], c3);
    expect_moved(&f, 0, "a", "701", c3, 3);
    close_store(&f);
}

/* The head moved between the read and the write to an entry later than the BASELINE: read
 * again, the BASELINE is not relinked after it; its item, written in the first round,
 * is said to be left unlinked. */
static void test_baseline_late_after_a_reread(void **state)
{
    (void)state;
    char id[37];
    head_id("a", id);
    char c0[65];
    memset(c0, 'c', 64);
    c0[64] = '\0';
    char raw[1100];
    head_answer("a", c0, T3, raw, sizeof raw);
    script_json(json_pack("{s:{s:[s]},s:{s:[s,s]}}", "items", id, "condfail", "ops", "BatchGetItem",
                          "ok", raw));
    fixture f;
    open_store(&f, true);
    rec b;
    make_rec(&b, "a", "", T2, 20);
    assert_int_equal(write_entries(&f, &b.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LATE);
    assert_int_equal(f.results[0].outcome, AS_DDB_FAILED);
    assert_string_equal(f.results[0].error_type, "ChainOutOfOrder");
    assert_non_null(strstr(f.results[0].message, AS_CHAIN_LATE_MESSAGE));
    assert_non_null(strstr(f.results[0].message, "left unlinked"));
    assert_int_equal(f.stats.condition_retries, 1);
    assert_int_equal(f.stats.requests_batch_get, 2);
    assert_int_equal(f.stats.heads_moved, 0);
    json_t *bodies = puts_of(b.id);
    assert_int_equal(json_array_size(bodies), 1); /* the first round's, not relinked */
    json_decref(bodies);
    bodies = puts_of(id);
    assert_int_equal(json_array_size(bodies), 1); /* the refused head write only */
    json_decref(bodies);
    size_t moved = 9;
    (void)as_chain_store_moved(f.store, &moved);
    assert_int_equal(moved, 0);
    close_store(&f);
}

/* A BASELINE item written whose head write then failed: the next run finds it there, reads
 * it back and, its chainPrev being the unmoved head's chain, moves the head over it as
 * stored (its own time, not the new run's). Then again: the head's entry, there. */
static void test_baseline_resumed(void **state)
{
    (void)state;
    char id[37];
    head_id("a", id);
    char members[256];
    snprintf(members, sizeof members,
             "\"remember\":true,\"items\":{\"%s\":[\"500\",\"500\",\"500\"]}", id);
    script(members);
    fixture f;
    open_store(&f, true);
    rec first;
    make_rec(&first, "a", "", T1, 1);
    assert_int_equal(write_entries(&f, &first.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_FAILED);
    assert_non_null(strstr(f.results[0].message, "chain head not moved"));
    json_t *head = stored(&f, id);
    assert_null(head);
    char c1[65];
    expected_chain(ZEROS, &first, c1);

    rec second;
    make_rec(&second, "a", "", T2, 1); /* same image, same id; read a second later */
    assert_int_equal(write_entries(&f, &second.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    assert_int_equal(f.results[0].outcome, AS_DDB_WRITTEN);
    assert_string_equal(f.results[0].error_type, "");
    assert_string_equal(f.results[0].message, "");
    assert_int_equal(f.stats.requests_batch_get, 2);
    assert_int_equal(f.stats.heads_moved, 1);
    head = stored(&f, id);
    assert_string_equal(s_of(head, "chain"), c1);
    assert_string_equal(s_of(head, "chainTime"), T1);
    assert_string_equal(n_of(head, "entries"), "1");
    json_decref(head);
    json_t *item = stored(&f, first.id);
    assert_string_equal(s_of(item, "modificationTime"), T1); /* not rewritten */
    assert_string_equal(s_of(item, "chain"), c1);
    json_decref(item);
    expect_moved(&f, 0, "a", "", c1, 1);

    assert_int_equal(write_entries(&f, &second.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_ALREADY_THERE);
    assert_int_equal(f.results[0].outcome, AS_DDB_ALREADY_THERE);
    assert_int_equal(f.stats.heads_moved, 0);
    close_store(&f);
}

/* A BASELINE item left unlinked (its head write failed) and a chain that moved on: behind
 * the head, it counts as there (nothing tells it from one linked before the head moved);
 * one that claims to follow a head that is not the head, and is later than it, is
 * reported; the read back refused is said as the head not read. */
static void test_baseline_there_astray(void **state)
{
    (void)state;
    char id[37];
    head_id("a", id);
    char members[256];
    snprintf(members, sizeof members,
             "\"remember\":true,\"items\":{\"%s\":[\"500\",\"500\",\"500\"]}", id);
    script(members);
    fixture f;
    open_store(&f, true);
    rec base;
    make_rec(&base, "a", "", T1, 1);
    assert_int_equal(write_entries(&f, &base.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_FAILED);
    close_store(&f);
    open_store(&f, false);
    rec s;
    make_rec(&s, "a", "800", T3, 8);
    assert_int_equal(write_entries(&f, &s.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    close_store(&f);
    open_store(&f, true);
    rec later;
    make_rec(&later, "a", "", T4, 1);
    assert_int_equal(write_entries(&f, &later.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_ALREADY_THERE);
    assert_int_equal(f.results[0].outcome, AS_DDB_ALREADY_THERE);
    assert_int_equal(f.stats.heads_moved, 0);
    close_store(&f);

    /* Key b: a record at T0, a BASELINE at T1 after it whose head write fails, then
     * another record of T0 moves the head: the BASELINE, later than the head, does not
     * follow it. */
    char idb[37];
    head_id("b", idb);
    snprintf(members, sizeof members,
             "\"remember\":true,\"items\":{\"%s\":[\"ok\",\"500\",\"500\",\"500\"]}", idb);
    script(members);
    open_store(&f, false);
    rec r0;
    make_rec(&r0, "b", "900", T0, 9);
    assert_int_equal(write_entries(&f, &r0.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    close_store(&f);
    open_store(&f, true);
    rec b1;
    make_rec(&b1, "b", "", T1, 2);
    assert_int_equal(write_entries(&f, &b1.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_FAILED);
    close_store(&f);
    open_store(&f, false);
    rec r1;
    make_rec(&r1, "b", "901", T0, 10);
    assert_int_equal(write_entries(&f, &r1.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_LINKED);
    close_store(&f);
    open_store(&f, true);
    rec b2;
    make_rec(&b2, "b", "", T2, 2);
    assert_int_equal(write_entries(&f, &b2.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_FAILED);
    assert_int_equal(f.results[0].outcome, AS_DDB_FAILED);
    assert_string_equal(f.results[0].error_type, "ChainBroken");
    assert_non_null(strstr(f.results[0].message, "does not follow its chain's head"));
    assert_int_equal(f.stats.heads_moved, 0);

    close_store(&f);

    /* The read back refused (after the head's read): said as the head not read. */
    rec c;
    make_rec(&c, "c", "", T1, 3);
    script_json(json_pack("{s:{s:[s]},s:{s:[s,s]}}", "items", c.id, "condfail", "ops",
                          "BatchGetItem", "ok", "denied"));
    open_store(&f, true);
    assert_int_equal(write_entries(&f, &c.entry, 1, 0), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_FAILED);
    assert_int_equal(f.results[0].outcome, AS_DDB_FAILED);
    assert_int_equal(as_ddb_error_kind_of(&f.results[0]), AS_DDB_KIND_DENIED);
    assert_non_null(
        strstr(f.results[0].message, "chain head not read past the BASELINE item there already"));
    assert_int_equal(f.stats.heads_moved, 0);
    assert_int_equal(requests_of("BatchGetItem"), 2);
    close_store(&f);
}

/* The deadline passed: nothing sent, nothing counts as written. */
static void test_deadline(void **state)
{
    (void)state;
    script("\"remember\":true");
    fixture f;
    open_store(&f, false);
    rec r;
    make_rec(&r, "a", "100", T1, 1);
    assert_int_equal(write_entries(&f, &r.entry, 1, 1), AS_OK);
    assert_int_equal(f.outcomes[0], AS_CHAIN_NOT_ATTEMPTED);
    assert_int_equal(f.results[0].outcome, AS_DDB_NOT_ATTEMPTED);
    assert_int_equal(f.stats.stopped, AS_DDB_STOP_DEADLINE);
    assert_int_equal(requests_of("PutItem") + requests_of("BatchGetItem"), 0);
    close_store(&f);
}

/* Malformed entries are refused, named, before anything is sent. */
static void test_bad_entries(void **state)
{
    (void)state;
    script("");
    fixture f;
    open_store(&f, false);
    static const struct {
        const char *seq;
        const char *time;
        const char *json;
        const char *message;
    } cases[] = {
        {"12a", T1, NULL, "entry 0: the sequence number is not 1 to 40 digits"},
        {"12345678901234567890123456789012345678901", T1, NULL, "not 1 to 40 digits"},
        {"\\u0041", T1, NULL, "entry 0: the sequence number is not 1 to 40 digits"},
        {"1", "2024-05-01T12:30:45Z", NULL, "entry 0: modificationTime is not 24 characters"},
        {"1", T1, "[1]", "entry 0"},
        {"1", T1, "{\"v\":{\"S\":\"no id\"}}", "entry 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rec r;
        make_rec(&r, "a", cases[i].seq, T1, 1);
        r.entry.modification_time = span_of(cases[i].time);
        if (cases[i].json != NULL) {
            r.item = span_of(cases[i].json);
        }
        assert_int_equal(write_entries(&f, &r.entry, 1, 0), AS_ERR_ARGUMENT);
        if (strstr(f.err.message, cases[i].message) == NULL) {
            fail_msg("case %zu: %s", i, f.err.message);
        }
        assert_int_equal(f.stats.stopped, AS_DDB_STOP_ARGUMENT);
    }
    rec r;
    make_rec(&r, "a", "1", T1, 1);
    r.entry.item_count = 0;
    assert_int_equal(write_entries(&f, &r.entry, 1, 0), AS_ERR_ARGUMENT);
    assert_non_null(strstr(f.err.message, "entry 0 has no items"));
    assert_int_equal(requests_of("PutItem") + requests_of("BatchGetItem"), 0);

    as_error err;
    assert_int_equal(as_chain_store_write(NULL, &r.entry, 1, 0, f.results, NULL, NULL, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_chain_store_write(f.store, NULL, 0, 0, NULL, NULL, NULL, &err), AS_OK);
    as_chain_store *none = NULL;
    as_chain_store_options empty = {.table = ""};
    assert_int_equal(as_chain_store_new(f.client, &CREDS, &empty, &none, &err), AS_ERR_ARGUMENT);
    assert_null(none);
    assert_int_equal(as_chain_store_new(f.client, &CREDS, NULL, &none, &err), AS_ERR_ARGUMENT);
    as_chain_store_free(NULL);
    size_t count = 7;
    assert_null(as_chain_store_moved(NULL, &count));
    assert_int_equal(count, 0);
    assert_string_equal(as_chain_outcome_name(AS_CHAIN_SKIPPED), "skipped");
    assert_string_equal(as_chain_outcome_name((as_chain_outcome)99), "unknown");
    close_store(&f);
}

/* The conditional put on its own: a refused condition is its own outcome, not retried. */
static void test_conditional_put(void **state)
{
    (void)state;
    script("\"remember\":true,\"table\":[{\"id\":{\"S\":\"h\"},\"chain\":{\"S\":\"x\"}}]");
    fixture f;
    open_store(&f, false);
    as_ddb_conditional_put puts[3] = {
        {span_of("{\"id\":{\"S\":\"h\"},\"chain\":{\"S\":\"y\"}}"), "chain = :old",
         span_of("{\":old\":{\"S\":\"wrong\"}}")},
        {span_of("{\"id\":{\"S\":\"g\"}}"), "attribute_not_exists(id)", {NULL, 0}},
        {span_of("{\"id\":{\"S\":\"h\"},\"chain\":{\"S\":\"z\"}}"), "chain = :old",
         span_of("{\":old\":{\"S\":\"x\"}}")},
    };
    as_ddb_result results[3];
    as_ddb_stats stats;
    as_error err;
    assert_int_equal(
        as_ddb_put_items_if(f.client, &CREDS, TABLE, puts, 3, 0, results, &stats, &err), AS_OK);
    assert_int_equal(results[0].outcome, AS_DDB_CONDITION_FAILED);
    assert_int_equal(results[0].attempts, 1);
    assert_int_equal(results[1].outcome, AS_DDB_WRITTEN);
    assert_int_equal(results[2].outcome, AS_DDB_WRITTEN);
    assert_int_equal(stats.written, 2);
    assert_int_equal(stats.failed, 0);
    assert_int_equal(stats.already_there, 0);
    assert_string_equal(as_ddb_outcome_name(AS_DDB_CONDITION_FAILED), "condition failed");

    as_ddb_conditional_put bad = {span_of("{}"), NULL, {NULL, 0}};
    assert_int_equal(
        as_ddb_put_items_if(f.client, &CREDS, TABLE, &bad, 1, 0, results, &stats, &err),
        AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "the condition of write 0 is required"));
    bad.condition = "";
    assert_int_equal(
        as_ddb_put_items_if(f.client, &CREDS, TABLE, &bad, 1, 0, results, &stats, &err),
        AS_ERR_ARGUMENT);
    bad.condition = "chain = :old";
    bad.values = span_of("[1]");
    assert_int_equal(
        as_ddb_put_items_if(f.client, &CREDS, TABLE, &bad, 1, 0, results, &stats, &err),
        AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "values of write 0 is not a JSON object"));
    bad.item = (as_span){NULL, 0};
    assert_int_equal(
        as_ddb_put_items_if(f.client, &CREDS, TABLE, &bad, 1, 0, results, &stats, &err),
        AS_ERR_ARGUMENT);
    assert_int_equal(stats.stopped, AS_DDB_STOP_ARGUMENT);
    assert_int_equal(as_ddb_put_items_if(f.client, &CREDS, TABLE, NULL, 0, 0, NULL, &stats, &err),
                     AS_OK);
    close_store(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_heads),
        cmocka_unit_test(test_existing_heads_and_redelivery),
        cmocka_unit_test(test_condition_failure_then_success),
        cmocka_unit_test(test_condition_retry_after_a_broken_round),
        cmocka_unit_test(test_condition_failing_past_bound),
        cmocka_unit_test(test_head_write_fails),
        cmocka_unit_test(test_failed_record_in_the_middle),
        cmocka_unit_test(test_heads_not_read),
        cmocka_unit_test(test_unreadable_head),
        cmocka_unit_test(test_baseline),
        cmocka_unit_test(test_baseline_not_after_a_later_entry),
        cmocka_unit_test(test_baseline_late_after_a_reread),
        cmocka_unit_test(test_baseline_resumed),
        cmocka_unit_test(test_baseline_there_astray),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_bad_entries),
        cmocka_unit_test(test_conditional_put),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
