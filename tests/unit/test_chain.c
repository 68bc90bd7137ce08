/* Unit tests for lib/core/chain.c and chain_verify.c: digest and link vectors, chain fields
 * on items, heads written and read (every malformed field), and verify over tampered trails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auditstream/buf.h"
#include "auditstream/chain.h"
#include "auditstream/replay.h"

#define KEY "Configuration/CACHE_TTL_SEC"

/* `text` with every ' turned into ", so that JSON reads plainly in C sources. */
static void append_json(as_buf *b, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        as_buf_append_char(b, *p == '\'' ? '"' : *p);
    }
}

static as_buf json_of(const char *text)
{
    as_buf b = AS_BUF_INIT;
    append_json(&b, text);
    assert_int_equal(as_buf_status(&b), AS_OK);
    return b;
}

/* The 32 bytes of 64 lower-case hex digits. */
static void bytes_of(const char *hex, uint8_t out[32])
{
    for (size_t i = 0; i < 32; i++) {
        const char *digits = "0123456789abcdef";
        const char *hi = strchr(digits, hex[2 * i]);
        const char *lo = strchr(digits, hex[2 * i + 1]);
        assert_true(hi != NULL && lo != NULL);
        out[i] = (uint8_t)((hi - digits) << 4 | (lo - digits));
    }
}

static void hex_of(const uint8_t d[32], char out[65])
{
    for (int i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

/* ---- Vectors ---------------------------------------------------------------------------
 * Computed apart from the library, by this Python (standard library only), run once by
 * hand; the canonical forms are written out by hand from the rules, not by any code here:
 *
 *   import hashlib, uuid
 *   ns = uuid.uuid5(uuid.NAMESPACE_URL, "urn:libauditstream:audit-id")
 *   uuid.uuid5(ns, "chain/Configuration/CACHE_TTL_SEC")  # 46d385fd-f17d-5ab0-85be-26183c710545
 *   uuid.uuid5(ns, "chain/Configuration/caf\u00e9")      # 79c4d409-1b89-51ba-943f-f3c82b313516
 *   a = b'{"id":{"S":"35338964-9dc6-5199-a27f-fcb4c705e8bd"},"itemKey":{"S":"CACHE_TTL_SEC"},'
 *       b'"modificationTime":{"S":"2024-05-01T12:30:45.000Z"},"newValue":{"N":"18E2"},'
 *       b'"oldValue":{"N":"36E2"},"updatedAttribute":{"S":"value"}}'
 *   b = b'{"id":{"S":"2f95a1e4-df65-55a0-81e8-5b1ec6e4c925"},"itemKey":{"S":"CACHE_TTL_SEC"},'
 *       b'"newValue":{"M":{"price":{"N":"15E-1"},"tags":{"SS":["a","b"]}}}}'
 *   d1 = hashlib.sha256(a + b"\n").digest()
 *   c1 = hashlib.sha256(("0" * 64 + d1.hex()).encode()).hexdigest()
 *   d2 = hashlib.sha256(b + b"\n" + a + b"\n").digest()          # b's id sorts first
 *   c2 = hashlib.sha256((c1 + d2.hex()).encode()).hexdigest()
 */
#define D1      "fa31b6868a077a2d000d64366bba62defa21b366a5df7cc435380da96682043d"
#define C1      "54d7d87051462b26d14b97f3e85292e501affbb150d86cd705b974a31755dc96"
#define D2      "da9c5d246696c9261170aac80f9bc5860c129c658578c1c4c4a693efbee526f1"
#define C2      "d5ae92cdc7ecffa818fe91114e7fb42a5a0f17ffb00b581fc5a34e9f90b800fe"
#define ZEROS64 "0000000000000000000000000000000000000000000000000000000000000000"

/* Item a as built, compact wire JSON with the numbers as received. */
#define ITEM_A                                                                                     \
    "{'id':{'S':'35338964-9dc6-5199-a27f-fcb4c705e8bd'},'itemKey':{'S':'CACHE_TTL_SEC'},"          \
    "'modificationTime':{'S':'2024-05-01T12:30:45.000Z'},'updatedAttribute':{'S':'value'},"        \
    "'oldValue':{'N':'3600'},'newValue':{'N':'1800'}}"
/* Item a as DynamoDB may return it: names in another order, numbers normalised, escapes. */
#define ITEM_A_READ                                                                                \
    "{ 'newValue':{'N':'1.8E3'}, "                                                                 \
    "'updatedAttribute':{'S':'val\\u0075e'},'oldValue':{'N':'3600.00'},"                           \
    "'itemKey':{'S':'CACHE_TTL_SEC'},'id':{'S':'35338964-9dc6-5199-a27f-fcb4c705e8bd'},"           \
    "'modificationTime':{'S':'2024-05-01T12:30:45.000Z'}}"
#define ITEM_B                                                                                     \
    "{'id':{'S':'2f95a1e4-df65-55a0-81e8-5b1ec6e4c925'},'itemKey':{'S':'CACHE_TTL_SEC'},"          \
    "'newValue':{'M':{'tags':{'SS':['b','a']},'price':{'N':'1.50'}}}}"
#define ITEM_B_READ                                                                                \
    "{'itemKey':{'S':'CACHE_TTL_SEC'},'id':{'S':'2f95a1e4-df65-55a0-81e8-5b1ec6e4c925'},"          \
    "'newValue':{'M':{'price':{'N':'1.5'},'tags':{'SS':['a','b']}}}}"

static void digest_of(const char *const *texts, size_t n, char hex[65])
{
    as_buf bufs[4];
    as_span spans[4];
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++) {
        bufs[i] = json_of(texts[i]);
        spans[i] = (as_span){bufs[i].data, bufs[i].len};
    }
    uint8_t d[32];
    as_error err = {0};
    if (as_chain_record_digest(spans, n, d, &err) != AS_OK) {
        fail_msg("digest: %s", err.message);
    }
    hex_of(d, hex);
    for (size_t i = 0; i < n; i++) {
        as_buf_free(&bufs[i]);
    }
}

static void test_vectors(void **state)
{
    (void)state;
    char hex[65];
    digest_of((const char *const[]){ITEM_A}, 1, hex);
    assert_string_equal(hex, D1);
    /* As DynamoDB gives it back: the same digest. */
    digest_of((const char *const[]){ITEM_A_READ}, 1, hex);
    assert_string_equal(hex, D1);
    /* With chain fields: they are not part of it. */
    digest_of((const char *const[]){"{'chainPrev':{'S':'" ZEROS64 "'},'chain':{'S':'x'},"
                                    "'chainPrevTime':{'S':'y'},"
                                    "'id':{'S':'35338964-9dc6-5199-a27f-fcb4c705e8bd'},"
                                    "'itemKey':{'S':'CACHE_TTL_SEC'},"
                                    "'modificationTime':{'S':'2024-05-01T12:30:45.000Z'},"
                                    "'updatedAttribute':{'S':'value'},"
                                    "'oldValue':{'N':'36E2'},'newValue':{'N':'18e+2'}}"},
              1, hex);
    assert_string_equal(hex, D1);

    /* Two items, in either order, as built or as read: sorted by id. */
    const char *const orders[][2] = {
        {ITEM_A, ITEM_B}, {ITEM_B, ITEM_A}, {ITEM_A_READ, ITEM_B_READ}, {ITEM_B_READ, ITEM_A}};
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
        digest_of(orders[i], 2, hex);
        assert_string_equal(hex, D2);
    }
    /* The same item given twice counts once. */
    digest_of((const char *const[]){ITEM_A, ITEM_B, ITEM_A_READ}, 3, hex);
    assert_string_equal(hex, D2);
    /* A changed value changes it. */
    digest_of((const char *const[]){ITEM_A, "{'id':{'S':'2f95a1e4-df65-55a0-81e8-5b1ec6e4c925'},"
                                            "'itemKey':{'S':'CACHE_TTL_SEC'},'newValue':{'M':{"
                                            "'tags':{'SS':['b','a']},'price':{'N':'1.51'}}}}"},
              2, hex);
    assert_string_not_equal(hex, D2);

    /* The links. */
    uint8_t d1[32];
    uint8_t d2[32];
    bytes_of(D1, d1);
    bytes_of(D2, d2);
    as_error err = {0};
    char chain[65];
    assert_int_equal(as_chain_compute(ZEROS64, d1, chain, &err), AS_OK);
    assert_string_equal(chain, C1);

    as_chain_head head;
    as_chain_head_init(&head);
    assert_false(head.exists);
    assert_string_equal(head.chain, ZEROS64);
    assert_string_equal(head.seq, "0000000000000000000000000000000000000000");
    assert_int_equal(head.entries, 0);
    as_chain_link link;
    const char *seq1 = "0000000000000000000000000000000000000100";
    assert_int_equal(as_chain_advance(&head, d1, seq1, "2024-05-01T12:30:45.000Z", &link, &err),
                     AS_OK);
    assert_string_equal(link.prev, ZEROS64);
    assert_string_equal(link.chain, C1);
    assert_string_equal(link.prev_time, "");
    assert_true(head.exists);
    assert_string_equal(head.chain, C1);
    assert_string_equal(head.seq, seq1);
    assert_string_equal(head.time, "2024-05-01T12:30:45.000Z");
    assert_int_equal(head.entries, 1);
    /* A BASELINE (seq NULL) leaves chainSeq. */
    assert_int_equal(as_chain_advance(&head, d2, NULL, "2024-05-01T12:31:00.000Z", &link, &err),
                     AS_OK);
    assert_string_equal(link.prev, C1);
    assert_string_equal(link.chain, C2);
    assert_string_equal(link.prev_time, "2024-05-01T12:30:45.000Z");
    assert_string_equal(head.chain, C2);
    assert_string_equal(head.seq, seq1);
    assert_string_equal(head.time, "2024-05-01T12:31:00.000Z");
    assert_int_equal(head.entries, 2);
    assert_int_equal(as_chain_advance(NULL, d1, NULL, "t", &link, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_chain_advance(&head, d1, NULL, NULL, &link, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_chain_compute(NULL, d1, chain, &err), AS_ERR_ARGUMENT);
}

static void test_digest_errors(void **state)
{
    (void)state;
    static const struct {
        const char *item;
        as_status status;
        const char *message;
    } cases[] = {
        {"{'itemKey':{'S':'K'}}", AS_ERR_ARGUMENT, "item 0 has no id of type S"},
        {"{'id':{'N':'1'}}", AS_ERR_ARGUMENT, "item 0 has no id of type S"},
        {"{'id':{'S':'a'},'n':{'N':'1x'}}", AS_ERR_ARGUMENT, "item 0: "},
        {"{'id':{'S':'a'}", AS_ERR_JSON, "item 0: "},
        {"['id']", AS_ERR_ARGUMENT, "item 0: "},
        {"", AS_ERR_JSON, "item 0: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_buf b = json_of(cases[i].item);
        as_span span = {b.data != NULL ? b.data : "", b.len};
        uint8_t d[32];
        as_error err = {0};
        as_status st = as_chain_record_digest(&span, 1, d, &err);
        if (st != cases[i].status || strstr(err.message, cases[i].message) == NULL) {
            fail_msg("case %zu (%s): status %d, message %s", i, cases[i].item, st, err.message);
        }
        as_buf_free(&b);
    }
    uint8_t d[32];
    as_error err = {0};
    as_span none = {"{}", 2};
    assert_int_equal(as_chain_record_digest(&none, 0, d, &err), AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "needs an item"));
    assert_int_equal(as_chain_record_digest(NULL, 1, d, &err), AS_ERR_ARGUMENT);
    /* The second item at fault is named. */
    as_buf good = json_of(ITEM_A);
    as_span two[2] = {{good.data, good.len}, {"{}", 2}};
    assert_int_equal(as_chain_record_digest(two, 2, d, &err), AS_ERR_ARGUMENT);
    assert_string_equal(err.message, "item 1 has no id of type S");
    as_buf_free(&good);
}

static void test_seq_pad(void **state)
{
    (void)state;
    char out[41];
    as_error err = {0};
    assert_int_equal(as_chain_seq_pad(as_span_from_cstr("4200"), out, &err), AS_OK);
    assert_string_equal(out, "0000000000000000000000000000000000004200");
    assert_int_equal(
        as_chain_seq_pad(as_span_from_cstr("1234567890123456789012345678901234567890"), out, &err),
        AS_OK);
    assert_string_equal(out, "1234567890123456789012345678901234567890");
    const char *bad[] = {"", "12a", "-1", "+1", " 1", "12345678901234567890123456789012345678901"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(as_chain_seq_pad(as_span_from_cstr(bad[i]), out, &err), AS_ERR_ARGUMENT);
        assert_non_null(strstr(err.message, "is not 1 to 40 digits"));
    }
    assert_int_equal(as_chain_seq_pad(as_span_from_cstr("1"), NULL, &err), AS_ERR_ARGUMENT);
}

static void test_item_append(void **state)
{
    (void)state;
    as_chain_link link;
    memset(&link, 0, sizeof link);
    memcpy(link.prev, C1, 65);
    memcpy(link.chain, C2, 65);
    memcpy(link.prev_time, "2024-05-01T12:30:45.000Z", 25);
    as_buf out = AS_BUF_INIT;
    as_buf_append_str(&out, "kept:");
    as_error err = {0};
    assert_int_equal(
        as_chain_item_append(as_span_from_cstr("{\"id\":{\"S\":\"a\"}}"), &link, &out, &err),
        AS_OK);
    assert_string_equal(out.data, "kept:{\"id\":{\"S\":\"a\"},\"chainPrev\":{\"S\":\"" C1
                                  "\"},\"chain\":{\"S\":\"" C2 "\"},\"chainPrevTime\":{\"S\":\""
                                  "2024-05-01T12:30:45.000Z\"}}");
    /* The first entry has no chainPrevTime; an empty object takes no comma. */
    as_buf_clear(&out);
    memcpy(link.prev, ZEROS64, 65);
    link.prev_time[0] = '\0';
    assert_int_equal(as_chain_item_append(as_span_from_cstr("{}"), &link, &out, &err), AS_OK);
    assert_string_equal(out.data,
                        "{\"chainPrev\":{\"S\":\"" ZEROS64 "\"},\"chain\":{\"S\":\"" C2 "\"}}");
    /* Not an object: refused, nothing appended. */
    const char *bad[] = {"", "{", "[]", "{\"a\":1} ", " {}", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        as_buf_clear(&out);
        as_buf_append_str(&out, "kept");
        assert_int_equal(as_chain_item_append(as_span_from_cstr(bad[i]), &link, &out, &err),
                         AS_ERR_ARGUMENT);
        assert_non_null(strstr(err.message, "not a JSON object"));
        assert_string_equal(out.data, "kept");
    }
    assert_int_equal(as_chain_item_append(as_span_from_cstr("{}"), NULL, &out, &err),
                     AS_ERR_ARGUMENT);
    as_buf_free(&out);
}

/* ---- Heads ------------------------------------------------------------------------------ */

#define HEAD_ID "46d385fd-f17d-5ab0-85be-26183c710545"

static void test_head(void **state)
{
    (void)state;
    char id[37];
    as_error err = {0};
    assert_int_equal(as_chain_head_id(as_span_from_cstr(KEY), id, &err), AS_OK);
    assert_string_equal(id, HEAD_ID);
    assert_int_equal(as_chain_head_id(as_span_from_cstr("Configuration/caf\xc3\xa9"), id, &err),
                     AS_OK);
    assert_string_equal(id, "79c4d409-1b89-51ba-943f-f3c82b313516");
    assert_int_equal(as_chain_head_id(as_span_from_cstr(""), id, &err), AS_ERR_ARGUMENT);

    as_chain_head head;
    as_chain_head_init(&head);
    as_buf out = AS_BUF_INIT;
    assert_int_equal(as_chain_head_item(as_span_from_cstr(KEY), &head, &out, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(out.len, 0);
    head.exists = true;
    memcpy(head.chain, C1, 65);
    memcpy(head.seq, "0000000000000000000000000000000000000100", 41);
    memcpy(head.time, "2024-05-01T12:30:45.000Z", 25);
    head.entries = 7;
    assert_int_equal(as_chain_head_item(as_span_from_cstr(KEY), &head, &out, &err), AS_OK);
    assert_string_equal(out.data,
                        "{\"id\":{\"S\":\"" HEAD_ID "\"},\"chainOf\":{\"S\":\"" KEY "\"},"
                        "\"chain\":{\"S\":\"" C1 "\"},\"chainSeq\":{\"S\":\""
                        "0000000000000000000000000000000000000100\"},\"chainTime\":{\"S\":\""
                        "2024-05-01T12:30:45.000Z\"},\"entries\":{\"N\":\"7\"}}");
    /* Read back. */
    as_chain_head back;
    as_chain_head_init(&back);
    as_buf scratch = AS_BUF_INIT;
    as_span key;
    assert_int_equal(as_chain_head_parse((as_span){out.data, out.len}, &back, &scratch, &key, &err),
                     AS_OK);
    assert_true(back.exists);
    assert_string_equal(back.chain, C1);
    assert_string_equal(back.seq, head.seq);
    assert_string_equal(back.time, head.time);
    assert_int_equal(back.entries, 7);
    assert_int_equal(key.len, strlen(KEY));
    assert_memory_equal(key.ptr, KEY, key.len);
    /* As DynamoDB may return it: entries spelt otherwise, a name escaped, members moved. */
    as_buf read = json_of("{'entries':{'N':'7E0'},'chainTime':{'S':'2024-05-01T12:30:45.000Z'},"
                          "'chainSeq':{'S':'0000000000000000000000000000000000000100'},"
                          "'chain':{'S':'" C1 "'},'chainOf':{'S':'Configuration\\/CACHE_TTL_SEC'},"
                          "'id':{'S':'" HEAD_ID "'}}");
    as_chain_head_init(&back);
    assert_int_equal(
        as_chain_head_parse((as_span){read.data, read.len}, &back, &scratch, &key, &err), AS_OK);
    assert_int_equal(back.entries, 7);
    assert_int_equal(key.len, strlen(KEY));
    as_buf_free(&read);
    as_buf_free(&out);
    as_buf_free(&scratch);
}

#define GOOD_ID      "'id':{'S':'" HEAD_ID "'}"
#define GOOD_OF      "'chainOf':{'S':'" KEY "'}"
#define GOOD_CHAIN   "'chain':{'S':'" C1 "'}"
#define GOOD_SEQ     "'chainSeq':{'S':'0000000000000000000000000000000000000100'}"
#define GOOD_TIME    "'chainTime':{'S':'2024-05-01T12:30:45.000Z'}"
#define GOOD_ENTRIES "'entries':{'N':'3'}"

static void test_head_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *item;
        as_status status;
        const char *message;
    } cases[] = {
        /* Missing fields, one at a time. */
        {"{" GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME "," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "id is missing"},
        {"{" GOOD_ID "," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME "," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "chainOf is missing"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_SEQ "," GOOD_TIME "," GOOD_ENTRIES "}", AS_ERR_ARGUMENT,
         "chain is missing"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_TIME "," GOOD_ENTRIES "}", AS_ERR_ARGUMENT,
         "chainSeq is missing"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ "," GOOD_ENTRIES "}", AS_ERR_ARGUMENT,
         "chainTime is missing"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME "}", AS_ERR_ARGUMENT,
         "entries is missing"},
        /* Wrong types. */
        {"{'id':{'N':'1'}," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME "," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "id has type N, not S"},
        {"{" GOOD_ID ",'chainOf':{'SS':['a']}," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME
         "," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "chainOf has type SS, not S"},
        {"{" GOOD_ID "," GOOD_OF ",'chain':{'B':'AA=='}," GOOD_SEQ "," GOOD_TIME "," GOOD_ENTRIES
         "}",
         AS_ERR_ARGUMENT, "chain has type B, not S"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN ",'chainSeq':{'N':'100'}," GOOD_TIME
         "," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "chainSeq has type N, not S"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ
         ",'chainTime':{'NULL':true}," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "chainTime has type NULL, not S"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME ",'entries':{'S':'3'}}",
         AS_ERR_ARGUMENT, "entries has type S, not N"},
        /* Bad values. */
        {"{'id':{'S':'00000000-0000-5000-8000-000000000000'}," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ
         "," GOOD_TIME "," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "is not the head id of its chainOf"},
        {"{" GOOD_ID ",'chainOf':{'S':'Configuration/OTHER'}," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME
         "," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "is not the head id of its chainOf"},
        {"{" GOOD_ID ",'chainOf':{'S':''}," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME "," GOOD_ENTRIES
         "}",
         AS_ERR_ARGUMENT, "chainOf is empty"},
        {"{" GOOD_ID "," GOOD_OF ",'chain':{'S':'" ZEROS64 "0'}," GOOD_SEQ "," GOOD_TIME
         "," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "is not 64 lower-case hex digits"},
        {"{" GOOD_ID "," GOOD_OF
         ",'chain':{'S':'54D7D87051462B26D14B97F3E85292E501AFFBB150D86CD705B974A31755DC96'}"
         "," GOOD_SEQ "," GOOD_TIME "," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "is not 64 lower-case hex digits"},
        {"{" GOOD_ID "," GOOD_OF
         ",'chain':{'S':'g4d7d87051462b26d14b97f3e85292e501affbb150d86cd705b974a31755dc96'}"
         "," GOOD_SEQ "," GOOD_TIME "," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "is not 64 lower-case hex digits"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN ",'chainSeq':{'S':'100'}," GOOD_TIME
         "," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "chainSeq \"100\" is not 40 digits"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN
         ",'chainSeq':{'S':'000000000000000000000000000000000000010x'}," GOOD_TIME "," GOOD_ENTRIES
         "}",
         AS_ERR_ARGUMENT, "is not 40 digits"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ
         ",'chainTime':{'S':'2024-05-01T12:30:45Z'}," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "chainTime \"2024-05-01T12:30:45Z\" is not a time"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ
         ",'chainTime':{'S':'2024-02-30T12:30:45.000Z'}," GOOD_ENTRIES "}",
         AS_ERR_ARGUMENT, "is not a time"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME ",'entries':{'N':'0'}}",
         AS_ERR_ARGUMENT, "entries \"0\" is not a whole number from 1 up"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME ",'entries':{'N':'-3'}}",
         AS_ERR_ARGUMENT, "is not a whole number"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME
         ",'entries':{'N':'2.5'}}",
         AS_ERR_ARGUMENT, "is not a whole number"},
        {"{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME
         ",'entries':{'N':'1E20'}}",
         AS_ERR_ARGUMENT, "is not a whole number"},
        /* Not an item. */
        {"{" GOOD_ID, AS_ERR_JSON, ""},
        {"[]", AS_ERR_ARGUMENT, ""},
        {"{'id':{'S':1}}", AS_ERR_ARGUMENT, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_buf b = json_of(cases[i].item);
        as_chain_head head;
        as_chain_head_init(&head);
        as_buf scratch = AS_BUF_INIT;
        as_span key = {NULL, 0};
        as_error err = {0};
        as_status st = as_chain_head_parse((as_span){b.data, b.len}, &head, &scratch, &key, &err);
        if (st != cases[i].status || strstr(err.message, cases[i].message) == NULL) {
            fail_msg("case %zu (%s): status %d, message %s", i, cases[i].item, st, err.message);
        }
        /* The head is left as it was. */
        assert_false(head.exists);
        assert_string_equal(head.chain, ZEROS64);
        as_buf_free(&scratch);
        as_buf_free(&b);
    }
    /* The largest entries there can be. */
    as_buf b = json_of("{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME
                       ",'entries':{'N':'18446744073709551615'}}");
    as_chain_head head;
    as_buf scratch = AS_BUF_INIT;
    as_span key;
    as_error err = {0};
    assert_int_equal(as_chain_head_parse((as_span){b.data, b.len}, &head, &scratch, &key, &err),
                     AS_OK);
    assert_true(head.entries == UINT64_MAX);
    as_buf_free(&b);
    b = json_of("{" GOOD_ID "," GOOD_OF "," GOOD_CHAIN "," GOOD_SEQ "," GOOD_TIME
                ",'entries':{'N':'18446744073709551616'}}");
    assert_int_equal(as_chain_head_parse((as_span){b.data, b.len}, &head, &scratch, &key, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_chain_head_parse((as_span){b.data, b.len}, NULL, &scratch, &key, &err),
                     AS_ERR_ARGUMENT);
    as_buf_free(&b);
    as_buf_free(&scratch);
}

/* ---- Verify ------------------------------------------------------------------------------
 * A key's life of RECORDS records, chained by the functions above: record r (1..RECORDS) at
 * second 10 r, sequence number 100 r; record 1 a CREATE, the others classic UPDATEs of
 * "value" to "<r>.50", record 3 also of "price". Each item expires after 30 days. */

#define RECORDS   5
#define RETENTION (30 * 86400)
#define BASE_S    INT64_C(1714564800) /* 2024-05-01T12:00:00Z */

static void time_of(unsigned r, char out[25])
{
    snprintf(out, 25, "2024-05-01T12:%02u:%02u.000Z", (10 * r) / 60, (10 * r) % 60);
}

static void seq_of(unsigned r, char out[41])
{
    snprintf(out, 41, "%040u", 100 * r);
}

/* Whether the items carry expiresAt (retention on). */
static bool with_expiry = true;

/* The plain items of record r into items[], *count of them; `value` overrides "<r>.50". */
static void plain_items(unsigned r, const char *value, as_buf items[2], size_t *count)
{
    char t[25];
    char s[41];
    char v[32];
    time_of(r, t);
    seq_of(r, s);
    snprintf(v, sizeof v, "%u.50", r);
    if (value != NULL) {
        snprintf(v, sizeof v, "%s", value);
    }
    char expires[64] = "";
    if (with_expiry) {
        snprintf(expires, sizeof expires, ",'expiresAt':{'N':'%lld'}",
                 (long long)(BASE_S + 10 * r + RETENTION));
    }
    char old[64] = "";
    if (r > 1) {
        snprintf(old, sizeof old, ",'oldValue':{'N':'%u.50'}", r - 1);
    }
    char text[1024];
    const char *attrs[2] = {"value", "price"};
    *count = r == 3 ? 2 : 1;
    for (size_t i = 0; i < *count; i++) {
        as_buf_init(&items[i]);
        if (r == 1) {
            snprintf(text, sizeof text,
                     "{'id':{'S':'id-%u'},'itemKey':{'S':'CACHE_TTL_SEC'},"
                     "'modificationTime':{'S':'%s'},'historyKey':{'S':'" KEY "'},"
                     "'historySort':{'S':'%s/%s'},'eventName':{'S':'CREATE'},"
                     "'newValue':{'M':{'key':{'S':'CACHE_TTL_SEC'},'value':{'N':'%s'},"
                     "'tags':{'SS':['b','a']}}}%s}",
                     r, t, t, s, v, expires);
        } else {
            snprintf(text, sizeof text,
                     "{'id':{'S':'id-%u-%s'},'itemKey':{'S':'CACHE_TTL_SEC'},"
                     "'modificationTime':{'S':'%s'},'historyKey':{'S':'" KEY "'},"
                     "'historySort':{'S':'%s/%s'},'eventName':{'S':'UPDATE'},"
                     "'updatedAttribute':{'S':'%s'}%s,'newValue':{'N':'%s'}%s}",
                     r, attrs[i], t, t, s, attrs[i], i == 0 ? old : "", v, expires);
        }
        append_json(&items[i], text);
    }
}

/* A chained life: each record's chained item texts, and the head after each. */
typedef struct life {
    as_buf items[RECORDS + 1][2];
    size_t count[RECORDS + 1];
    as_chain_head heads[RECORDS + 1];
} life;

/* Chains records 1..RECORDS, skipping those in `skip` (a bit per record: they are never
 * written) and using values[r] when not NULL. */
static void live(life *l, unsigned skip, const char *const *values)
{
    memset(l, 0, sizeof *l);
    as_chain_head head;
    as_chain_head_init(&head);
    for (unsigned r = 1; r <= RECORDS; r++) {
        l->heads[r] = head;
        if (skip & (1u << r)) {
            continue;
        }
        as_buf plain[2];
        size_t n;
        plain_items(r, values != NULL ? values[r] : NULL, plain, &n);
        as_span spans[2];
        for (size_t i = 0; i < n; i++) {
            spans[i] = (as_span){plain[i].data, plain[i].len};
        }
        uint8_t d[32];
        as_error err = {0};
        assert_int_equal(as_chain_record_digest(spans, n, d, &err), AS_OK);
        char t[25];
        char s[41];
        time_of(r, t);
        seq_of(r, s);
        as_chain_link link;
        assert_int_equal(as_chain_advance(&head, d, s, t, &link, &err), AS_OK);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(as_chain_item_append(spans[i], &link, &l->items[r][i], &err), AS_OK);
            as_buf_free(&plain[i]);
        }
        l->count[r] = n;
        l->heads[r] = head;
    }
}

static void life_free(life *l)
{
    for (unsigned r = 0; r <= RECORDS; r++) {
        for (size_t i = 0; i < 2; i++) {
            as_buf_free(&l->items[r][i]);
        }
    }
}

/* The page of records not in `leave_out`, items in reverse so the trail must sort them, with
 * `extra` (raw item texts, ' for ") added. */
static as_buf page_of(const life *l, unsigned leave_out, const char *extra)
{
    as_buf p = AS_BUF_INIT;
    as_buf_append_str(&p, "{\"Items\":[");
    bool first = true;
    for (unsigned r = RECORDS; r >= 1; r--) {
        if (leave_out & (1u << r)) {
            continue;
        }
        for (size_t i = 0; i < l->count[r]; i++) {
            if (!first) {
                as_buf_append_char(&p, ',');
            }
            first = false;
            as_buf_append(&p, l->items[r][i].data, l->items[r][i].len);
        }
    }
    if (extra != NULL) {
        if (!first) {
            as_buf_append_char(&p, ',');
        }
        append_json(&p, extra);
    }
    as_buf_append_str(&p, "]}");
    assert_int_equal(as_buf_status(&p), AS_OK);
    return p;
}

/* Replaces the first `from` in `b` with `to`; fails the test when there is none. */
static void replace(as_buf *b, const char *from, const char *to)
{
    char *at = strstr(b->data, from);
    if (at == NULL) {
        fail_msg("no %s in %s", from, b->data);
    }
    as_buf out = AS_BUF_INIT;
    as_buf_append(&out, b->data, (size_t)(at - b->data));
    as_buf_append_str(&out, to);
    as_buf_append_str(&out, at + strlen(from));
    assert_int_equal(as_buf_status(&out), AS_OK);
    as_buf_free(b);
    *b = out;
}

/* Removes the item whose id is `id` (and a comma beside it) from a page. */
static void drop_item(as_buf *b, const char *id)
{
    char from[128];
    snprintf(from, sizeof from, "{\"id\":{\"S\":\"%s\"}", id);
    char *at = strstr(b->data, from);
    assert_non_null(at);
    int depth = 0;
    char *end = at;
    do {
        depth += *end == '{' ? 1 : *end == '}' ? -1 : 0;
        end++;
    } while (depth > 0);
    if (*end == ',') {
        end++;
    } else if (at[-1] == ',') {
        at--;
    }
    memmove(at, end, strlen(end) + 1);
    b->len = strlen(b->data);
}

/* The problems as "kind@seq kind@seq", in the order found. */
static void problems_of(const as_verify *v, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < as_verify_problem_count(v); i++) {
        as_problem p;
        assert_true(as_verify_problem_get(v, i, &p));
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s@%s", i > 0 ? " " : "", p.kind, p.sequence_number);
    }
}

/* Runs the chain check of `page` against `head` as of `now` and compares the problems. */
static as_verify *check(as_trail *trail, const as_buf *page, const as_chain_head *head, int64_t now,
                        const char *expected)
{
    as_error err = {0};
    if (as_trail_add_json(trail, page->data, page->len, &err) != AS_OK) {
        fail_msg("add: %s\n%s", err.message, page->data);
    }
    as_verify *v = as_verify_new();
    assert_non_null(v);
    if (as_trail_verify_chain(trail, as_span_from_cstr(KEY), head, now, v, &err) != AS_OK) {
        fail_msg("verify: %s", err.message);
    }
    char got[1024];
    problems_of(v, got, sizeof got);
    if (strcmp(got, expected) != 0) {
        as_buf line = AS_BUF_INIT;
        assert_int_equal(as_verify_write_json(v, &line, &err), AS_OK);
        fail_msg("problems: got \"%s\", want \"%s\"\n%s", got, expected, line.data);
    }
    return v;
}

/* One whole case on a fresh trail; returns nothing, frees everything. */
static void expect(const as_buf *page, const as_chain_head *head, int64_t now, const char *expected,
                   bool ok)
{
    as_trail *trail = as_trail_new();
    assert_non_null(trail);
    as_verify *v = check(trail, page, head, now, expected);
    assert_int_equal(as_verify_ok(v), ok);
    as_verify_free(v);
    as_trail_free(trail);
}

#define NOW (BASE_S * 1000 + 3600 * 1000) /* an hour after the life */

static void test_verify_whole(void **state)
{
    (void)state;
    life l;
    live(&l, 0, NULL);
    as_buf p = page_of(&l, 0, NULL);
    as_trail *trail = as_trail_new();
    as_verify *v = check(trail, &p, &l.heads[RECORDS], NOW, "");
    assert_true(as_verify_ok(v));
    assert_int_equal(as_verify_entries(v), RECORDS); /* records, not items */
    as_error err = {0};
    /* Anchors at each head lie on the chain. */
    for (unsigned r = 1; r <= RECORDS; r++) {
        char s[12];
        snprintf(s, sizeof s, "%u", 100 * r);
        assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr(KEY), as_span_from_cstr(s),
                                                as_span_from_cstr(l.heads[r].chain), v, &err),
                         AS_OK);
        /* Padded as chainSeq is: the same. */
        assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr(KEY),
                                                as_span_from_cstr(l.heads[r].seq),
                                                as_span_from_cstr(l.heads[r].chain), v, &err),
                         AS_OK);
    }
    assert_int_equal(as_verify_problem_count(v), 0);
    /* A chain at the wrong sequence number, an unknown chain, an unknown sequence number. */
    assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr(KEY), as_span_from_cstr("200"),
                                            as_span_from_cstr(l.heads[3].chain), v, &err),
                     AS_OK);
    assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr(KEY), as_span_from_cstr("300"),
                                            as_span_from_cstr(C1), v, &err),
                     AS_OK);
    assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr(KEY), as_span_from_cstr("350"),
                                            as_span_from_cstr(l.heads[3].chain), v, &err),
                     AS_OK);
    char got[256];
    problems_of(v, got, sizeof got);
    assert_string_equal(got, "anchor@200 anchor@300 anchor@350");
    as_problem pr;
    assert_true(as_verify_problem_get(v, 2, &pr));
    assert_non_null(strstr(pr.detail, "no chained entry has that sequence number"));
    assert_false(as_verify_ok(v));
    /* Bad anchors are argument errors. */
    assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr(KEY), as_span_from_cstr("x1"),
                                            as_span_from_cstr(C1), v, &err),
                     AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "\"x1\" is not 1 to 40 digits"));
    assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr(KEY), as_span_from_cstr("1"),
                                            as_span_from_cstr("abc"), v, &err),
                     AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "chain \"abc\" is not 64 lower-case hex"));
    /* Another key, or no chain check first. */
    assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr("Configuration/OTHER"),
                                            as_span_from_cstr("1"), as_span_from_cstr(C1), v, &err),
                     AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "run as_trail_verify_chain"));
    as_verify *fresh = as_verify_new();
    assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr(KEY), as_span_from_cstr("1"),
                                            as_span_from_cstr(C1), fresh, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_trail_verify_anchor(NULL, as_span_from_cstr(KEY), as_span_from_cstr("1"),
                                            as_span_from_cstr(C1), fresh, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_trail_verify_chain(NULL, as_span_from_cstr(KEY), NULL, 0, fresh, &err),
                     AS_ERR_ARGUMENT);
    assert_int_equal(as_trail_verify_chain(trail, as_span_from_cstr(KEY), NULL, 0, NULL, &err),
                     AS_ERR_ARGUMENT);
    as_verify_free(fresh);

    /* After continuity's verify of the key, the chain's problems are added to its result;
     * run on another key's result, it starts the key afresh. */
    assert_int_equal(as_trail_verify(trail, as_span_from_cstr(KEY), v, &err), AS_OK);
    assert_int_equal(as_verify_problem_count(v), 0);
    assert_int_equal(as_trail_verify_chain(trail, as_span_from_cstr(KEY), NULL, NOW, v, &err),
                     AS_OK);
    problems_of(v, got, sizeof got);
    assert_string_equal(got, "head@500");
    assert_int_equal(as_verify_entries(v), RECORDS);
    as_buf line = AS_BUF_INIT;
    assert_int_equal(as_verify_write_json(v, &line, &err), AS_OK);
    assert_non_null(strstr(line.data, "\"entries\":5,\"ok\":false,\"problems\":[{\"kind\":\"head\","
                                      "\"sequenceNumber\":\"500\",\"detail\":\"the trail is "
                                      "chained but the key has no chain head"));
    as_buf_free(&line);
    assert_int_equal(as_trail_verify(trail, as_span_from_cstr("nothing/here"), v, &err), AS_OK);
    assert_int_equal(
        as_trail_verify_chain(trail, as_span_from_cstr(KEY), &l.heads[RECORDS], NOW, v, &err),
        AS_OK);
    assert_int_equal(as_verify_problem_count(v), 0);
    assert_int_equal(as_verify_entries(v), RECORDS);
    as_verify_free(v);
    as_trail_free(trail);
    as_buf_free(&p);
    life_free(&l);
}

static void test_verify_tampered(void **state)
{
    (void)state;
    life l;
    live(&l, 0, NULL);
    const as_chain_head *head = &l.heads[RECORDS];

    /* A value changed in a middle entry: that entry is altered, nothing else. */
    as_buf p = page_of(&l, 0, NULL);
    replace(&p, "\"newValue\":{\"N\":\"3.50\"}", "\"newValue\":{\"N\":\"3.51\"}");
    expect(&p, head, NOW, "altered@300", false);
    as_buf_free(&p);

    /* A middle entry deleted: the next one's chainPrev is missing. */
    p = page_of(&l, 1u << 3, NULL);
    expect(&p, head, NOW, "missing@400", false);
    as_buf_free(&p);

    /* One of a record's two items deleted: the record's digest changed. */
    p = page_of(&l, 0, NULL);
    drop_item(&p, "id-3-price");
    expect(&p, head, NOW, "altered@300", false);
    as_buf_free(&p);

    /* The last entry deleted: the head is ahead of the trail. */
    p = page_of(&l, 1u << RECORDS, NULL);
    expect(&p, head, NOW, "head@400", false);
    as_buf_free(&p);

    /* The head rolled back: the same. */
    p = page_of(&l, 0, NULL);
    expect(&p, &l.heads[3], NOW, "head@500", false);
    /* No head at all; and a head with nothing chained. */
    expect(&p, NULL, NOW, "head@500", false);
    as_buf_free(&p);
    p = page_of(&l, 0x3e, NULL);
    assert_int_equal(strcmp(p.data, "{\"Items\":[]}"), 0);
    as_buf_free(&p);

    /* A forged entry slipped in between 3 and 4, linked properly after 3 by a forger who
     * knows the rules: entry 4's chainPrev does not follow it. */
    {
        as_buf plain =
            json_of("{'id':{'S':'forged'},'itemKey':{'S':'CACHE_TTL_SEC'},"
                    "'modificationTime':{'S':'2024-05-01T12:00:35.000Z'},"
                    "'historyKey':{'S':'" KEY "'},'historySort':{'S':"
                    "'2024-05-01T12:00:35.000Z/0000000000000000000000000000000000000350'},"
                    "'eventName':{'S':'UPDATE'},'updatedAttribute':{'S':'value'},"
                    "'newValue':{'N':'666'}}");
        as_span span = {plain.data, plain.len};
        uint8_t d[32];
        as_error err = {0};
        assert_int_equal(as_chain_record_digest(&span, 1, d, &err), AS_OK);
        as_chain_head after3 = l.heads[3];
        as_chain_link link;
        assert_int_equal(as_chain_advance(&after3, d, "0000000000000000000000000000000000000350",
                                          "2024-05-01T12:00:35.000Z", &link, &err),
                         AS_OK);
        as_buf forged = AS_BUF_INIT;
        assert_int_equal(as_chain_item_append(span, &link, &forged, &err), AS_OK);
        p = page_of(&l, 0, forged.data);
        expect(&p, head, NOW, "missing@400", false);
        as_buf_free(&p);
        /* Slipped in without chain fields: that entry is altered (it is on no chain). */
        p = page_of(&l, 0, plain.data);
        expect(&p, head, NOW, "altered@350", false);
        as_buf_free(&p);
        as_buf_free(&forged);
        as_buf_free(&plain);
    }

    /* Chain fields removed from a middle entry: it is altered, and the next one's link
     * across it is missing. */
    p = page_of(&l, 0, NULL);
    {
        char *at = strstr(p.data, "\"id\":{\"S\":\"id-4-value\"}");
        assert_non_null(at);
        char *fields = strstr(at, ",\"chainPrev\"");
        char *end = strstr(fields, "}}"); /* chainPrevTime's value, then the item's end */
        memmove(fields, end + 1, strlen(end + 1) + 1);
        p.len = strlen(p.data);
    }
    expect(&p, head, NOW, "altered@400 missing@500", false);
    as_buf_free(&p);

    /* The two items of record 3 disagreeing on their chain. */
    p = page_of(&l, 0, NULL);
    {
        char *at = strstr(p.data, "\"id\":{\"S\":\"id-3-price\"}");
        assert_non_null(at);
        char *chain = strstr(at, "\"chain\":{\"S\":\"");
        chain += strlen("\"chain\":{\"S\":\"");
        chain[0] = chain[0] == 'a' ? 'b' : 'a';
    }
    expect(&p, head, NOW, "altered@300", false);
    as_buf_free(&p);

    /* chainPrevTime rewritten (it is not hashed, but it must name the entry before). */
    p = page_of(&l, 0, NULL);
    replace(&p, "\"chainPrevTime\":{\"S\":\"2024-05-01T12:00:30.000Z\"}",
            "\"chainPrevTime\":{\"S\":\"2024-05-01T12:00:31.000Z\"}");
    expect(&p, head, NOW, "altered@400", false);
    as_buf_free(&p);

    /* Malformed chain fields. */
    p = page_of(&l, 0, NULL);
    replace(&p, "\"chain\":{\"S\":\"", "\"chain\":{\"S\":\"X");
    expect(&p, head, NOW, "altered@500 head@500", false);
    as_buf_free(&p);
    p = page_of(&l, 0, NULL);
    replace(&p, "\"chainPrev\":{\"S\":\"", "\"chainPrev\":{\"S\":\"1");
    expect(&p, head, NOW, "altered@500 missing@500", false);
    as_buf_free(&p);
    life_free(&l);
}

/* DynamoDB's own rewriting (numbers normalised, set members reordered, names moved,
 * escapes) is no tampering. */
static void test_verify_rewritten(void **state)
{
    (void)state;
    life l;
    live(&l, 0, NULL);
    as_buf p = page_of(&l, 0, NULL);
    replace(&p, "{\"N\":\"1.50\"}", "{\"N\":\"1.5\"}");   /* record 2's oldValue */
    replace(&p, "{\"N\":\"1.50\"}", "{\"N\":\"1.500\"}"); /* record 1's */
    replace(&p, "[\"b\",\"a\"]", "[\"a\", \"b\"]");
    replace(&p, "{\"N\":\"3.50\"}", "{\"N\":\"35E-1\"}");
    replace(&p, "\"itemKey\":{\"S\":\"CACHE_TTL_SEC\"}",
            "\"itemKey\":{\"S\":\"CACHE\\u005fTTL_SEC\"}");
    expect(&p, &l.heads[RECORDS], NOW, "", true);
    as_buf_free(&p);
    /* Whereas 1.50 read back as 1.05 is a change. */
    p = page_of(&l, 0, NULL);
    replace(&p, "\"newValue\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"value\":{\"N\":\"1.50\"}",
            "\"newValue\":{\"M\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"value\":{\"N\":\"1.05\"}");
    expect(&p, &l.heads[RECORDS], NOW, "altered@100", false);
    as_buf_free(&p);
    life_free(&l);
}

/* A whole chain and head rewritten consistently, from record 2 on: no chain problem, only
 * the anchors logged before catch it. */
static void test_verify_rewritten_consistently(void **state)
{
    (void)state;
    life real;
    live(&real, 0, NULL);
    life forged;
    const char *values[RECORDS + 1] = {NULL, NULL, "99"};
    live(&forged, 0, values);
    as_buf p = page_of(&forged, 0, NULL);
    as_trail *trail = as_trail_new();
    as_verify *v = check(trail, &p, &forged.heads[RECORDS], NOW, "");
    as_error err = {0};
    for (unsigned r = 1; r <= RECORDS; r++) {
        char s[12];
        snprintf(s, sizeof s, "%u", 100 * r);
        assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr(KEY), as_span_from_cstr(s),
                                                as_span_from_cstr(real.heads[r].chain), v, &err),
                         AS_OK);
    }
    char got[256];
    problems_of(v, got, sizeof got);
    assert_string_equal(got, "anchor@200 anchor@300 anchor@400 anchor@500");
    as_verify_free(v);
    as_trail_free(trail);
    as_buf_free(&p);
    life_free(&forged);
    life_free(&real);
}

/* Entries gone after their expiresAt are expired (ok); gone earlier, missing. */
static void test_verify_expired(void **state)
{
    (void)state;
    life l;
    live(&l, 0, NULL);
    as_buf p = page_of(&l, (1u << 1) | (1u << 2), NULL);
    /* Record 2 (second 20) expired at BASE_S + 20 + RETENTION. */
    int64_t gone = (BASE_S + 20 + RETENTION) * 1000;
    as_trail *trail = as_trail_new();
    as_verify *v = check(trail, &p, &l.heads[RECORDS], gone + 1, "expired@300");
    assert_true(as_verify_ok(v));
    as_problem pr;
    assert_true(as_verify_problem_get(v, 0, &pr));
    assert_non_null(strstr(pr.detail, "expired at 2024-05-31T12:00:20.000Z"));
    /* Anchors older than the expired start are not checked; later ones are. */
    as_error err = {0};
    assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr(KEY), as_span_from_cstr("100"),
                                            as_span_from_cstr(l.heads[1].chain), v, &err),
                     AS_OK);
    assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr(KEY), as_span_from_cstr("400"),
                                            as_span_from_cstr(l.heads[4].chain), v, &err),
                     AS_OK);
    assert_int_equal(as_verify_problem_count(v), 1);
    as_verify_free(v);
    as_trail_free(trail);
    /* At the very millisecond it expires: not yet past. */
    expect(&p, &l.heads[RECORDS], gone, "missing@300", false);
    /* Removed early. */
    trail = as_trail_new();
    v = check(trail, &p, &l.heads[RECORDS], NOW, "missing@300");
    assert_int_equal(as_trail_verify_anchor(trail, as_span_from_cstr(KEY), as_span_from_cstr("100"),
                                            as_span_from_cstr(l.heads[1].chain), v, &err),
                     AS_OK);
    char got[128];
    problems_of(v, got, sizeof got);
    assert_string_equal(got, "missing@300 anchor@100");
    as_verify_free(v);
    as_trail_free(trail);
    as_buf_free(&p);
    life_free(&l);
    /* Without expiresAt nothing can have expired. */
    with_expiry = false;
    live(&l, 0, NULL);
    with_expiry = true;
    p = page_of(&l, (1u << 1) | (1u << 2), NULL);
    expect(&p, &l.heads[RECORDS], gone + 1, "missing@300", false);
    as_buf_free(&p);
    life_free(&l);
}

/* Entries without chain fields: before the chain starts (the chain turned on later) and
 * records without a sequence number are not chained; no chain and no head is no problem. */
static void test_verify_unchained(void **state)
{
    (void)state;
    as_buf plain[2];
    size_t n;
    as_buf p = AS_BUF_INIT;
    as_buf_append_str(&p, "{\"Items\":[");
    for (unsigned r = 1; r <= RECORDS; r++) {
        plain_items(r, NULL, plain, &n);
        for (size_t i = 0; i < n; i++) {
            if (r > 1 || i > 0) {
                as_buf_append_char(&p, ',');
            }
            as_buf_append(&p, plain[i].data, plain[i].len);
            as_buf_free(&plain[i]);
        }
    }
    as_buf_append_str(&p, "]}");
    expect(&p, NULL, NOW, "", true);
    as_chain_head none;
    as_chain_head_init(&none);
    expect(&p, &none, NOW, "", true);
    life l;
    live(&l, 0, NULL);
    expect(&p, &l.heads[RECORDS], NOW, "head@", false);
    as_buf_free(&p);

    /* Unchained records first, then a chain from record 3 on. */
    life later;
    live(&later, (1u << 1) | (1u << 2), NULL);
    p = page_of(&later, (1u << 1) | (1u << 2), NULL);
    as_buf early = AS_BUF_INIT;
    for (unsigned r = 1; r <= 2; r++) {
        plain_items(r, NULL, plain, &n);
        as_buf_append_char(&early, ',');
        as_buf_append(&early, plain[0].data, plain[0].len);
        as_buf_free(&plain[0]);
    }
    p.len -= 2; /* "]}" */
    as_buf_append(&p, early.data, early.len);
    as_buf_append_str(&p, "]}");
    as_trail *trail = as_trail_new();
    as_verify *v = check(trail, &p, &later.heads[RECORDS], NOW, "");
    assert_int_equal(as_verify_entries(v), RECORDS);
    as_verify_free(v);
    as_trail_free(trail);
    /* An unchained record with no sequence number after the chain started is not chained
     * by design; with one, it is altered. */
    p.len -= 2;
    as_buf_append_str(&p, ",");
    append_json(&p, "{'id':{'S':'noseq'},'itemKey':{'S':'CACHE_TTL_SEC'},"
                    "'modificationTime':{'S':'2024-05-01T12:00:55.000Z'},"
                    "'historyKey':{'S':'" KEY "'},'historySort':{'S':"
                    "'2024-05-01T12:00:55.000Z/0000000000000000000000000000000000000000'},"
                    "'eventName':{'S':'UPDATE'},'updatedAttribute':{'S':'value'},"
                    "'newValue':{'N':'7'}}");
    as_buf_append_str(&p, "]}");
    expect(&p, &later.heads[RECORDS], NOW, "", true);
    p.len -= 2;
    append_json(&p, ",{'id':{'S':'withseq'},'itemKey':{'S':'CACHE_TTL_SEC'},"
                    "'modificationTime':{'S':'2024-05-01T12:00:56.000Z'},"
                    "'historyKey':{'S':'" KEY "'},'historySort':{'S':"
                    "'2024-05-01T12:00:56.000Z/0000000000000000000000000000000000000560'},"
                    "'eventName':{'S':'UPDATE'},'updatedAttribute':{'S':'value'},"
                    "'newValue':{'N':'8'}}");
    as_buf_append_str(&p, "]}");
    expect(&p, &later.heads[RECORDS], NOW, "altered@560", false);
    as_buf_free(&p);
    as_buf_free(&early);
    life_free(&l);
    life_free(&later);
}

/* A BASELINE links like any record and leaves chainSeq as it was: an anchor of the head
 * after it names the record before it. */
static void test_verify_baseline(void **state)
{
    (void)state;
    as_chain_head head;
    as_chain_head_init(&head);
    as_buf page = AS_BUF_INIT;
    as_buf_append_str(&page, "{\"Items\":[");
    char after[5][65];
    as_error err = {0};
    for (unsigned r = 1; r <= 4; r++) {
        as_buf plain[2];
        size_t n = 1;
        char t[25];
        char s[41];
        time_of(r, t);
        seq_of(r, s);
        if (r == 3) {
            as_buf_init(&plain[0]);
            char text[512];
            snprintf(text, sizeof text,
                     "{'id':{'S':'baseline'},'itemKey':{'S':'CACHE_TTL_SEC'},"
                     "'modificationTime':{'S':'%s'},'historyKey':{'S':'" KEY "'},"
                     "'historySort':{'S':'%s/0000000000000000000000000000000000000000'},"
                     "'eventName':{'S':'BASELINE'},'newValue':{'M':{'value':{'N':'2.50'}}}}",
                     t, t);
            append_json(&plain[0], text);
        } else {
            plain_items(r, NULL, plain, &n);
        }
        as_span span = {plain[0].data, plain[0].len};
        uint8_t d[32];
        as_chain_link link;
        assert_int_equal(as_chain_record_digest(&span, 1, d, &err), AS_OK);
        assert_int_equal(as_chain_advance(&head, d, r == 3 ? NULL : s, t, &link, &err), AS_OK);
        if (r > 1) {
            as_buf_append_char(&page, ',');
        }
        assert_int_equal(as_chain_item_append(span, &link, &page, &err), AS_OK);
        memcpy(after[r], head.chain, 65);
        for (size_t i = 0; i < n; i++) {
            as_buf_free(&plain[i]);
        }
    }
    as_buf_append_str(&page, "]}");
    assert_string_equal(head.seq, "0000000000000000000000000000000000000400");
    as_trail *trail = as_trail_new();
    as_verify *v = check(trail, &page, &head, NOW, "");
    assert_int_equal(as_verify_entries(v), 4);
    /* The head after the BASELINE said chainSeq 200, chain after[3]. */
    const struct {
        const char *seq;
        int record;
        bool ok;
    } anchors[] = {{"200", 2, true},  {"200", 3, true},  {"400", 4, true},
                   {"300", 3, false}, {"400", 3, false}, {"100", 2, false}};
    for (size_t i = 0; i < sizeof anchors / sizeof anchors[0]; i++) {
        size_t before = as_verify_problem_count(v);
        assert_int_equal(
            as_trail_verify_anchor(trail, as_span_from_cstr(KEY), as_span_from_cstr(anchors[i].seq),
                                   as_span_from_cstr(after[anchors[i].record]), v, &err),
            AS_OK);
        if ((as_verify_problem_count(v) == before) != anchors[i].ok) {
            fail_msg("anchor %zu (%s, chain after record %d): ok should be %d", i, anchors[i].seq,
                     anchors[i].record, anchors[i].ok);
        }
    }
    as_verify_free(v);
    as_trail_free(trail);
    as_buf_free(&page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_digest_errors),
        cmocka_unit_test(test_seq_pad),
        cmocka_unit_test(test_item_append),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_head_malformed),
        cmocka_unit_test(test_verify_whole),
        cmocka_unit_test(test_verify_tampered),
        cmocka_unit_test(test_verify_rewritten),
        cmocka_unit_test(test_verify_rewritten_consistently),
        cmocka_unit_test(test_verify_expired),
        cmocka_unit_test(test_verify_unchained),
        cmocka_unit_test(test_verify_baseline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
