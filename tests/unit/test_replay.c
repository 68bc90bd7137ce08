/* Unit tests for lib/core/trail.c, replay.c, continuity.c and replay_history.c: replay
 * rule by rule in both formats, continuity, history, the JSON lines, and each malformed
 * audit item. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auditstream/audit.h"
#include "auditstream/buf.h"
#include "auditstream/event.h"
#include "auditstream/replay.h"
#include "auditstream/wire.h"

/* ---- Helpers ------------------------------------------------------------------------- */

#define KEY  "Configuration/CACHE_TTL_SEC"
#define KEY2 "Configuration/MAX_USERS"

/* Appends `text` with every ' turned into ", so that JSON reads plainly in C sources. */
static void append_json(as_buf *b, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        as_buf_append_char(b, *p == '\'' ? '"' : *p);
    }
}

/* `text` with ' turned into ", in a buffer the caller frees. */
static as_buf json_of(const char *text)
{
    as_buf b = AS_BUF_INIT;
    append_json(&b, text);
    assert_int_equal(as_buf_status(&b), AS_OK);
    return b;
}

/* 2024-05-01T12:00:<ss>.000Z */
static const char *at(unsigned second)
{
    static char text[8][32];
    static unsigned next;
    char *out = text[next++ % 8];
    snprintf(out, 32, "2024-05-01T12:%02u:%02u.000Z", second / 60, second % 60);
    return out;
}

/* The epoch milliseconds of at(second). */
static int64_t ms(unsigned second)
{
    return INT64_C(1714564800000) + (int64_t)second * 1000;
}

/* One audit item: the common fields of `key` at second `second`, record `seq` (0: none, a
 * BASELINE), `event` (NULL: none), `attr` (NULL: no updatedAttribute), then `rest`. */
static void item(as_buf *b, const char *key, unsigned second, unsigned seq, const char *event,
                 const char *attr, const char *rest)
{
    char head[512];
    snprintf(head, sizeof head,
             "{'id':{'S':'%s/%u/%s'},'itemKey':{'S':'%s'},'modificationTime':{'S':'%s'},"
             "'historyKey':{'S':'%s'},'historySort':{'S':'%s/%040u'}",
             key, seq, attr != NULL ? attr : "-", strchr(key, '/') + 1, at(second), key, at(second),
             seq);
    append_json(b, head);
    if (event != NULL) {
        append_json(b, ",'eventName':{'S':'");
        append_json(b, event);
        append_json(b, "'}");
    }
    if (attr != NULL) {
        append_json(b, ",'updatedAttribute':{'S':'");
        append_json(b, attr);
        append_json(b, "'}");
    }
    if (rest != NULL && rest[0] != '\0') {
        as_buf_append_char(b, ',');
        append_json(b, rest);
    }
    as_buf_append_char(b, '}');
}

/* A Query page being written: items appended with page_item, then added with page_add. */
typedef struct page {
    as_buf json;
    size_t items;
} page;

static void page_item(page *p, const char *key, unsigned second, unsigned seq, const char *event,
                      const char *attr, const char *rest)
{
    if (p->json.len == 0) {
        as_buf_append_str(&p->json, "{\"Items\":[");
    }
    if (p->items++ > 0) {
        as_buf_append_char(&p->json, ',');
    }
    item(&p->json, key, second, seq, event, attr, rest);
}

static void page_add(as_trail *trail, page *p)
{
    as_buf_append_str(&p->json, "],\"Count\":");
    as_buf_append_u64(&p->json, p->items);
    as_buf_append_char(&p->json, '}');
    assert_int_equal(as_buf_status(&p->json), AS_OK);
    as_error err = {0};
    if (as_trail_add_json(trail, p->json.data, p->json.len, &err) != AS_OK) {
        fail_msg("add failed: %s\n%s", err.message, p->json.data);
    }
    as_buf_free(&p->json);
    p->items = 0;
}

/* The show line of `key` as of `second`, against `expected` (' for "). */
static void assert_show(as_trail *trail, const char *key, int64_t at_ms, const char *expected)
{
    as_replay *r = as_replay_new();
    assert_non_null(r);
    as_error err = {0};
    assert_int_equal(as_trail_replay(trail, as_span_from_cstr(key), at_ms, r, &err), AS_OK);
    as_buf line = AS_BUF_INIT;
    assert_int_equal(as_replay_write_json(r, &line, &err), AS_OK);
    as_buf want = json_of(expected);
    as_buf_append_char(&want, '\n');
    if (strcmp(line.data, want.data) != 0) {
        fail_msg("show as of %lld:\n got  %s want %s", (long long)at_ms, line.data, want.data);
    }
    as_buf_free(&want);
    as_buf_free(&line);
    as_replay_free(r);
}

static void assert_history(as_trail *trail, const char *key, int64_t since, int64_t until,
                           const char *expected)
{
    as_history *h = as_history_new();
    assert_non_null(h);
    as_error err = {0};
    assert_int_equal(as_trail_history(trail, as_span_from_cstr(key), since, until, h, &err), AS_OK);
    as_buf lines = AS_BUF_INIT;
    assert_int_equal(as_history_write_json(h, &lines, &err), AS_OK);
    as_buf want = json_of(expected);
    if (strcmp(lines.data != NULL ? lines.data : "", want.data != NULL ? want.data : "") != 0) {
        fail_msg("history:\n got  %s\n want %s", lines.data, want.data);
    }
    as_buf_free(&want);
    as_buf_free(&lines);
    as_history_free(h);
}

static void assert_verify(as_trail *trail, const char *key, const char *expected)
{
    as_verify *v = as_verify_new();
    assert_non_null(v);
    as_error err = {0};
    assert_int_equal(as_trail_verify(trail, as_span_from_cstr(key), v, &err), AS_OK);
    as_buf line = AS_BUF_INIT;
    assert_int_equal(as_verify_write_json(v, &line, &err), AS_OK);
    as_buf want = json_of(expected);
    as_buf_append_char(&want, '\n');
    if (strcmp(line.data, want.data) != 0) {
        fail_msg("verify:\n got  %s want %s", line.data, want.data);
    }
    as_buf_free(&want);
    as_buf_free(&line);
    as_verify_free(v);
}

/* ---- Classic ------------------------------------------------------------------------- */

/* CREATE, two UPDATEs (one adds, one removes an attribute), DELETE, CREATE again. */
static void classic_lifecycle(page *p)
{
    page_item(p, KEY, 10, 101, "CREATE", NULL,
              "'newValue':{'M':{'key':{'S':'CACHE_TTL_SEC'},'value':{'N':'3600'}}}");
    page_item(p, KEY, 20, 102, "UPDATE", "value",
              "'oldValue':{'N':'3600'},'newValue':{'N':'1800'}");
    page_item(p, KEY, 20, 102, "UPDATE", "note", "'newValue':{'S':'halved'}");
    page_item(p, KEY, 30, 103, "UPDATE", "note", "'oldValue':{'S':'halved'}");
    page_item(p, KEY, 40, 104, "DELETE", NULL,
              "'oldValue':{'M':{'value':{'N':'1800'},'key':{'S':'CACHE_TTL_SEC'}}}");
    page_item(p, KEY, 50, 105, "CREATE", NULL,
              "'newValue':{'M':{'key':{'S':'CACHE_TTL_SEC'},'value':{'N':'60'}}}");
}

static void test_classic_replay(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    classic_lifecycle(&p);
    page_add(trail, &p);
    assert_int_equal(as_trail_item_count(trail), 6);

    /* Before the creation: no trail. */
    assert_show(trail, KEY, ms(9),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:09.000Z','exists':null,"
                "'complete':false,'item':null,'lastChange':null,'notes':['no audit item of "
                "this key at or before 2024-05-01T12:00:09.000Z']}");
    /* Exactly at the creation. */
    assert_show(trail, KEY, ms(10),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:10.000Z','exists':true,"
                "'complete':true,'item':{'key':{'S':'CACHE_TTL_SEC'},'value':{'N':'3600'}},"
                "'lastChange':{'sequenceNumber':'101','modificationTime':"
                "'2024-05-01T12:00:10.000Z'},'notes':[]}");
    /* Between changes: one record, two attributes. */
    assert_show(trail, KEY, ms(25),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:25.000Z','exists':true,"
                "'complete':true,'item':{'key':{'S':'CACHE_TTL_SEC'},'note':{'S':'halved'},"
                "'value':{'N':'1800'}},'lastChange':{'sequenceNumber':'102','modificationTime':"
                "'2024-05-01T12:00:20.000Z'},'notes':[]}");
    /* The attribute removed. */
    assert_show(trail, KEY, ms(30) + 999,
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:30.999Z','exists':true,"
                "'complete':true,'item':{'key':{'S':'CACHE_TTL_SEC'},'value':{'N':'1800'}},"
                "'lastChange':{'sequenceNumber':'103','modificationTime':"
                "'2024-05-01T12:00:30.000Z'},'notes':[]}");
    /* After the delete. */
    assert_show(trail, KEY, ms(45),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:45.000Z','exists':false,"
                "'complete':true,'item':null,'lastChange':{'sequenceNumber':'104',"
                "'modificationTime':'2024-05-01T12:00:40.000Z'},'notes':[]}");
    /* Re-created. */
    assert_show(trail, KEY, ms(600),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:10:00.000Z','exists':true,"
                "'complete':true,'item':{'key':{'S':'CACHE_TTL_SEC'},'value':{'N':'60'}},"
                "'lastChange':{'sequenceNumber':'105','modificationTime':"
                "'2024-05-01T12:00:50.000Z'},'notes':[]}");
    assert_verify(trail, KEY, "{'historyKey':'" KEY "','entries':5,'ok':true,'problems':[]}");
    as_trail_free(trail);
}

static void test_classic_history(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    classic_lifecycle(&p);
    page_add(trail, &p);
    assert_history(
        trail, KEY, AS_TIME_MIN, AS_TIME_MAX,
        "{'modificationTime':'2024-05-01T12:00:10.000Z','sequenceNumber':'101','eventName':"
        "'CREATE','changes':[{'path':'/key','newValue':{'S':'CACHE_TTL_SEC'}},{'path':'/value',"
        "'newValue':{'N':'3600'}}]}\n"
        "{'modificationTime':'2024-05-01T12:00:20.000Z','sequenceNumber':'102','eventName':"
        "'UPDATE','changes':[{'path':'/note','newValue':{'S':'halved'}},{'path':'/value',"
        "'oldValue':{'N':'3600'},'newValue':{'N':'1800'}}]}\n"
        "{'modificationTime':'2024-05-01T12:00:30.000Z','sequenceNumber':'103','eventName':"
        "'UPDATE','changes':[{'path':'/note','oldValue':{'S':'halved'}}]}\n"
        "{'modificationTime':'2024-05-01T12:00:40.000Z','sequenceNumber':'104','eventName':"
        "'DELETE','changes':[{'path':'/key','oldValue':{'S':'CACHE_TTL_SEC'}},{'path':'/value',"
        "'oldValue':{'N':'1800'}}]}\n"
        "{'modificationTime':'2024-05-01T12:00:50.000Z','sequenceNumber':'105','eventName':"
        "'CREATE','changes':[{'path':'/key','newValue':{'S':'CACHE_TTL_SEC'}},{'path':'/value',"
        "'newValue':{'N':'60'}}]}\n");
    /* since and until are inclusive. */
    assert_history(trail, KEY, ms(30), ms(40),
                   "{'modificationTime':'2024-05-01T12:00:30.000Z','sequenceNumber':'103',"
                   "'eventName':'UPDATE','changes':[{'path':'/note','oldValue':{'S':'halved'}}]}\n"
                   "{'modificationTime':'2024-05-01T12:00:40.000Z','sequenceNumber':'104',"
                   "'eventName':'DELETE','changes':[{'path':'/key','oldValue':{'S':"
                   "'CACHE_TTL_SEC'}},{'path':'/value','oldValue':{'N':'1800'}}]}\n");
    assert_history(trail, KEY, ms(11), ms(19), "");
    assert_history(trail, "Configuration/none", AS_TIME_MIN, AS_TIME_MAX, "");

    /* The structured accessors behind the lines. */
    as_history *h = as_history_new();
    assert_int_equal(as_trail_history(trail, as_span_from_cstr(KEY), ms(20), ms(20), h, NULL),
                     AS_OK);
    assert_int_equal(as_history_count(h), 1);
    as_history_record r;
    assert_true(as_history_get(h, 0, &r));
    assert_int_equal(r.time_ms, ms(20));
    assert_int_equal(r.change_count, 2);
    assert_memory_equal(r.sequence_number.ptr, "102", 3);
    assert_null(r.actor.ptr);
    assert_null(r.error.ptr);
    as_history_change c;
    assert_true(as_history_change_get(h, 0, 1, &c));
    assert_int_equal(c.path.len, 6);
    assert_memory_equal(c.path.ptr, "/value", 6);
    assert_int_equal(c.old_value.len, strlen("{\"N\":\"3600\"}"));
    assert_memory_equal(c.old_value.ptr, "{\"N\":\"3600\"}", c.old_value.len);
    assert_false(as_history_change_get(h, 0, 2, &c));
    assert_false(as_history_get(h, 1, &r));
    as_history_free(h);
    as_trail_free(trail);
}

/* The same five records given in another order, over three pages, once more as a
 * GetItem answer and a bare item, and with an item given twice. */
static void test_shuffled(void **state)
{
    (void)state;
    as_trail *sorted = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    classic_lifecycle(&p);
    page_add(sorted, &p);

    as_trail *shuffled = as_trail_new();
    page_item(&p, KEY, 50, 105, "CREATE", NULL,
              "'newValue':{'M':{'value':{'N':'60'},'key':{'S':'CACHE_TTL_SEC'}}}");
    page_item(&p, KEY, 20, 102, "UPDATE", "note", "'newValue':{'S':'halved'}");
    page_add(shuffled, &p);
    page_item(&p, KEY, 40, 104, "DELETE", NULL,
              "'oldValue':{'M':{'value':{'N':'1800'},'key':{'S':'CACHE_TTL_SEC'}}}");
    page_item(&p, KEY, 30, 103, "UPDATE", "note", "'oldValue':{'S':'halved'}");
    page_item(&p, KEY, 20, 102, "UPDATE", "value",
              "'oldValue':{'N':'3600'},'newValue':{'N':'1800'}");
    page_add(shuffled, &p);
    as_buf one = AS_BUF_INIT;
    as_buf_append_str(&one, "{\"Item\":");
    item(&one, KEY, 10, 101, "CREATE", NULL,
         "'newValue':{'M':{'value':{'N':'3600'},'key':{'S':'CACHE_TTL_SEC'}}}");
    as_buf_append_char(&one, '}');
    assert_int_equal(as_trail_add_json(shuffled, one.data, one.len, NULL), AS_OK);
    /* The bare item (the GetItem answer's inside) again: counted once in replay. */
    assert_int_equal(as_trail_add_json(shuffled, one.data + 8, one.len - 9, NULL), AS_OK);
    as_buf_free(&one);
    assert_int_equal(as_trail_item_count(shuffled), 7);

    for (unsigned s = 0; s <= 60; s += 5) {
        as_replay *a = as_replay_new();
        as_replay *b = as_replay_new();
        assert_int_equal(as_trail_replay(sorted, as_span_from_cstr(KEY), ms(s), a, NULL), AS_OK);
        assert_int_equal(as_trail_replay(shuffled, as_span_from_cstr(KEY), ms(s), b, NULL), AS_OK);
        as_buf la = AS_BUF_INIT;
        as_buf lb = AS_BUF_INIT;
        assert_int_equal(as_replay_write_json(a, &la, NULL), AS_OK);
        assert_int_equal(as_replay_write_json(b, &lb, NULL), AS_OK);
        assert_string_equal(la.data, lb.data);
        as_buf_free(&la);
        as_buf_free(&lb);
        as_replay_free(a);
        as_replay_free(b);
    }
    assert_verify(shuffled, KEY, "{'historyKey':'" KEY "','entries':5,'ok':true,'problems':[]}");
    as_trail_free(sorted);
    as_trail_free(shuffled);
}

/* ---- Detailed ------------------------------------------------------------------------ */

static void detailed_common(as_buf *b, const char *event, unsigned seq)
{
    char text[256];
    snprintf(text, sizeof text,
             "'keys':{'M':{'key':{'S':'CACHE_TTL_SEC'}}},'sequenceNumber':{'S':'%u'},"
             "'tableName':{'S':'Configuration'},'cause':{'S':'user'}",
             seq);
    (void)event;
    append_json(b, text);
}

static void test_detailed(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    as_buf rest = AS_BUF_INIT;
    detailed_common(&rest, "CREATE", 201);
    append_json(&rest,
                ",'updatedAttributes':{'L':[{'S':'key'},{'S':'value'}]},'changes':{'L':["
                "{'M':{'path':{'S':'/key'},'newValue':{'S':'CACHE_TTL_SEC'}}},{'M':{'path':"
                "{'S':'/value'},'newValue':{'M':{'ttl':{'N':'3600'},'on':{'BOOL':true}}}}}]},"
                "'newImage':{'M':{'value':{'M':{'ttl':{'N':'3600'},'on':{'BOOL':true}}},"
                "'key':{'S':'CACHE_TTL_SEC'}}},'actor':{'S':'alice'},"
                "'actorSource':{'S':'item'}");
    page_item(&p, KEY, 10, 201, "CREATE", NULL, rest.data);
    as_buf_clear(&rest);
    detailed_common(&rest, "UPDATE", 202);
    append_json(&rest, ",'updatedAttributes':{'L':[{'S':'value'}]},'changes':{'L':[{'M':{'path':"
                       "{'S':'/value/ttl'},'oldValue':{'N':'3600'},'newValue':{'N':'1800'}}}]},"
                       "'oldImage':{'M':{'key':{'S':'CACHE_TTL_SEC'},'value':{'M':{'on':{'BOOL':"
                       "true},'ttl':{'N':'3600.0'}}}}},'newImage':{'M':{'key':{'S':"
                       "'CACHE_TTL_SEC'},'value':{'M':{'ttl':{'N':'1800'},'on':{'BOOL':true}}}}}");
    page_item(&p, KEY, 20, 202, "UPDATE", NULL, rest.data);
    as_buf_clear(&rest);
    detailed_common(&rest, "DELETE", 203);
    append_json(&rest,
                ",'updatedAttributes':{'L':[{'S':'key'},{'S':'value'}]},'changes':{'L':["
                "{'M':{'path':{'S':'/key'},'oldValue':{'S':'CACHE_TTL_SEC'}}},{'M':{'path':"
                "{'S':'/value'},'oldValue':{'M':{'ttl':{'N':'18E2'},'on':{'BOOL':true}}}}}]},"
                "'oldImage':{'M':{'key':{'S':'CACHE_TTL_SEC'},'value':{'M':{'ttl':{'N':"
                "'18E2'},'on':{'BOOL':true}}}}},'cause2':{'S':'x'}");
    page_item(&p, KEY, 30, 203, "DELETE", NULL, rest.data);
    as_buf_free(&rest);
    page_add(trail, &p);

    assert_show(trail, KEY, ms(25),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:25.000Z','exists':true,"
                "'complete':true,'item':{'key':{'S':'CACHE_TTL_SEC'},'value':{'M':{'ttl':{'N':"
                "'1800'},'on':{'BOOL':true}}}},'lastChange':{'sequenceNumber':'202',"
                "'modificationTime':'2024-05-01T12:00:20.000Z'},'notes':[]}");
    assert_show(trail, KEY, ms(30),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:30.000Z','exists':false,"
                "'complete':true,'item':null,'lastChange':{'sequenceNumber':'203',"
                "'modificationTime':'2024-05-01T12:00:30.000Z'},'notes':[]}");
    /* 3600.0 equals 3600 and 18E2 equals 1800: continuous. */
    assert_verify(trail, KEY, "{'historyKey':'" KEY "','entries':3,'ok':true,'problems':[]}");
    assert_history(
        trail, KEY, AS_TIME_MIN, ms(20),
        "{'modificationTime':'2024-05-01T12:00:10.000Z','sequenceNumber':'201','eventName':"
        "'CREATE','actor':'alice','changes':[{'path':'/key','newValue':{'S':'CACHE_TTL_SEC'}},"
        "{'path':'/value','newValue':{'M':{'ttl':{'N':'3600'},'on':{'BOOL':true}}}}]}\n"
        "{'modificationTime':'2024-05-01T12:00:20.000Z','sequenceNumber':'202','eventName':"
        "'UPDATE','changes':[{'path':'/value/ttl','oldValue':{'N':'3600'},'newValue':{'N':"
        "'1800'}}]}\n");
    as_trail_free(trail);
}

/* ---- Partly known states ------------------------------------------------------------- */

static void test_starts_with_update(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    page_item(&p, KEY, 10, 7, "UPDATE", "value", "'oldValue':{'N':'1'},'newValue':{'N':'2'}");
    page_item(&p, KEY, 10, 7, "UPDATE", "gone", "'oldValue':{'S':'x'}");
    page_item(&p, KEY, 20, 8, "UPDATE", "value", "'oldValue':{'N':'2.0'},'newValue':{'N':'3'}");
    page_add(trail, &p);
    assert_show(trail, KEY, ms(15),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:15.000Z','exists':true,"
                "'complete':false,'item':{'value':{'N':'2'}},'lastChange':{'sequenceNumber':'7',"
                "'modificationTime':'2024-05-01T12:00:10.000Z'},'notes':['the trail starts "
                "with an UPDATE (2024-05-01T12:00:10.000Z, sequence 7): only the attributes it "
                "changed are known']}");
    /* The removed attribute is known to be absent. */
    as_replay *r = as_replay_new();
    assert_int_equal(as_trail_replay(trail, as_span_from_cstr(KEY), ms(15), r, NULL), AS_OK);
    assert_int_equal(as_replay_attribute_count(r), 2);
    as_replay_attribute a = as_replay_attribute_get(r, 0);
    assert_int_equal(a.name.len, 4);
    assert_memory_equal(a.name.ptr, "gone", 4);
    assert_null(a.value);
    a = as_replay_attribute_get(r, 1);
    assert_memory_equal(a.name.ptr, "value", 5);
    assert_non_null(a.value);
    assert_int_equal(as_replay_exists(r), AS_EXISTS_YES);
    assert_false(as_replay_complete(r));
    assert_null(as_replay_attribute_get(r, 2).value);
    as_replay_free(r);
    assert_verify(trail, KEY, "{'historyKey':'" KEY "','entries':2,'ok':true,'problems':[]}");
    as_trail_free(trail);
}

static void test_error_item(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    page_item(&p, KEY, 10, 1, "CREATE", NULL, "'newValue':{'M':{'value':{'N':'1'},'a':{'S':'x'}}}");
    page_item(&p, KEY, 20, 2, NULL, NULL,
              "'error':{'S':'Records[0].dynamodb.NewImage.value.N: N \\'1x\\': not a number'},"
              "'rawRecord':{'S':'{}'}");
    page_item(&p, KEY, 30, 3, "UPDATE", "value", "'oldValue':{'N':'5'},'newValue':{'N':'6'}");
    page_item(&p, KEY, 40, 4, "CREATE", NULL, "'newValue':{'M':{'value':{'N':'7'}}}");
    page_add(trail, &p);
    assert_show(trail, KEY, ms(25),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:25.000Z','exists':null,"
                "'complete':false,'item':null,'lastChange':{'sequenceNumber':'2',"
                "'modificationTime':'2024-05-01T12:00:20.000Z'},'notes':['an error item "
                "(2024-05-01T12:00:20.000Z, sequence 2) left the state unknown: "
                "Records[0].dynamodb.NewImage.value.N: N \\'1x\\': not a number']}");
    /* The UPDATE after it makes what it names known; the note stays. */
    assert_show(trail, KEY, ms(35),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:35.000Z','exists':true,"
                "'complete':false,'item':{'value':{'N':'6'}},'lastChange':{'sequenceNumber':'3',"
                "'modificationTime':'2024-05-01T12:00:30.000Z'},'notes':['an error item "
                "(2024-05-01T12:00:20.000Z, sequence 2) left the state unknown: "
                "Records[0].dynamodb.NewImage.value.N: N \\'1x\\': not a number']}");
    /* A CREATE on a present-but-unknown item is a continuity problem; nothing else is
     * compared across the error. */
    assert_verify(trail, KEY,
                  "{'historyKey':'" KEY "','entries':4,'ok':false,'problems':[{'kind':"
                  "'continuity','sequenceNumber':'4','detail':'item: expected absent before a "
                  "CREATE, found present (its last record: 2024-05-01T12:00:30.000Z, sequence "
                  "3)'}]}");
    assert_history(trail, KEY, ms(20), ms(20),
                   "{'modificationTime':'2024-05-01T12:00:20.000Z','sequenceNumber':'2',"
                   "'changes':[]}\n");
    as_history *h = as_history_new();
    assert_int_equal(as_trail_history(trail, as_span_from_cstr(KEY), ms(20), ms(20), h, NULL),
                     AS_OK);
    as_history_record r;
    assert_true(as_history_get(h, 0, &r));
    assert_null(r.event_name.ptr);
    assert_non_null(r.error.ptr);
    assert_memory_equal(r.error.ptr, "Records[0].dynamodb.NewImage.value.N: N \"1x\"", 43);
    as_history_free(h);
    as_trail_free(trail);
}

static void test_truncated_and_redacted(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    /* The whole image truncated: present, values unknown. */
    page_item(&p, KEY, 10, 1, "CREATE", NULL,
              "'newValue':{'M':{'truncated':{'BOOL':true},'sizeBytes':{'N':'500000'},'sha256':"
              "{'S':'ab12'}}}");
    /* Then a full image with a redacted attribute, then one attribute truncated. */
    page_item(&p, KEY, 20, 2, "BASELINE", NULL,
              "'newValue':{'M':{'secret':{'M':{'redacted':{'BOOL':true},'hmac':{'S':'ff'}}},"
              "'blob':{'S':'small'}}}");
    page_item(&p, KEY, 30, 3, "UPDATE", "blob",
              "'oldValue':{'S':'small'},'newValue':{'M':{'truncated':{'BOOL':true},'sizeBytes':"
              "{'N':'399999'},'sha256':{'S':'cd34'}}}");
    /* Its old side, a marker, is not compared with anything. */
    page_item(&p, KEY, 40, 4, "UPDATE", "secret",
              "'oldValue':{'M':{'redacted':{'BOOL':true}}},'newValue':{'M':{'redacted':{'BOOL':"
              "true}}}");
    page_add(trail, &p);
    assert_show(
        trail, KEY, ms(15),
        "{'historyKey':'" KEY "','at':'2024-05-01T12:00:15.000Z','exists':true,"
        "'complete':false,'item':{},'lastChange':{'sequenceNumber':'1',"
        "'modificationTime':'2024-05-01T12:00:10.000Z'},'notes':['the new image of the "
        "CREATE (2024-05-01T12:00:10.000Z, sequence 1) was truncated (an item over 400 KB): "
        "the values of the item are unknown']}");
    assert_show(trail, KEY, ms(35),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:35.000Z','exists':true,"
                "'complete':true,'item':{'blob':{'M':{'truncated':{'BOOL':true},'sizeBytes':{'N':"
                "'399999'},'sha256':{'S':'cd34'}}},'secret':{'M':{'redacted':{'BOOL':true},"
                "'hmac':{'S':'ff'}}}},'lastChange':{'sequenceNumber':'3','modificationTime':"
                "'2024-05-01T12:00:30.000Z'},'notes':['attribute \\'blob\\' holds a truncated "
                "marker (399999 bytes): its value is unknown','attribute \\'secret\\' is "
                "redacted: its value is not stored']}");
    assert_verify(trail, KEY, "{'historyKey':'" KEY "','entries':4,'ok':true,'problems':[]}");
    assert_history(trail, KEY, ms(10), ms(10),
                   "{'modificationTime':'2024-05-01T12:00:10.000Z','sequenceNumber':'1',"
                   "'eventName':'CREATE','changes':[{'path':'','newValue':{'M':{'truncated':{"
                   "'BOOL':true},'sizeBytes':{'N':'500000'},'sha256':{'S':'ab12'}}}}]}\n");
    as_trail_free(trail);
}

/* Records of streams without both images (KEYS_ONLY, NEW_IMAGE, OLD_IMAGE), in classic. */
static void test_without_images(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    page_item(&p, KEY, 10, 1, "CREATE", NULL, "");                                 /* KEYS_ONLY */
    page_item(&p, KEY, 20, 2, "UPDATE", NULL, "'newValue':{'M':{'v':{'N':'1'}}}"); /* NEW_IMAGE */
    page_item(&p, KEY, 30, 3, "UPDATE", NULL, "'oldValue':{'M':{'v':{'N':'1'}}}"); /* OLD_IMAGE */
    page_item(&p, KEY, 40, 4, "UPDATE", NULL, "");                                 /* KEYS_ONLY */
    page_item(&p, KEY, 50, 5, "DELETE", NULL, "");                                 /* KEYS_ONLY */
    page_add(trail, &p);
    assert_show(trail, KEY, ms(15),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:15.000Z','exists':true,"
                "'complete':false,'item':{},'lastChange':{'sequenceNumber':'1',"
                "'modificationTime':'2024-05-01T12:00:10.000Z'},'notes':['the CREATE "
                "(2024-05-01T12:00:10.000Z, sequence 1) has no new image (a stream without "
                "images): the values of the item are unknown']}");
    /* A new image alone is the whole item. */
    assert_show(trail, KEY, ms(25),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:25.000Z','exists':true,"
                "'complete':true,'item':{'v':{'N':'1'}},'lastChange':{'sequenceNumber':'2',"
                "'modificationTime':'2024-05-01T12:00:20.000Z'},'notes':[]}");
    assert_show(trail, KEY, ms(35),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:35.000Z','exists':true,"
                "'complete':false,'item':{},'lastChange':{'sequenceNumber':'3',"
                "'modificationTime':'2024-05-01T12:00:30.000Z'},'notes':['the UPDATE "
                "(2024-05-01T12:00:30.000Z, sequence 3) has no new image (a stream without "
                "images): the values of the item are unknown']}");
    assert_show(trail, KEY, ms(55),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:55.000Z','exists':false,"
                "'complete':true,'item':null,'lastChange':{'sequenceNumber':'5',"
                "'modificationTime':'2024-05-01T12:00:50.000Z'},'notes':[]}");
    /* The old image alone is compared whole. */
    assert_verify(trail, KEY, "{'historyKey':'" KEY "','entries':5,'ok':true,'problems':[]}");
    assert_history(trail, KEY, ms(10), ms(30),
                   "{'modificationTime':'2024-05-01T12:00:10.000Z','sequenceNumber':'1',"
                   "'eventName':'CREATE','changes':[]}\n"
                   "{'modificationTime':'2024-05-01T12:00:20.000Z','sequenceNumber':'2',"
                   "'eventName':'UPDATE','changes':[]}\n"
                   "{'modificationTime':'2024-05-01T12:00:30.000Z','sequenceNumber':'3',"
                   "'eventName':'UPDATE','changes':[]}\n");
    as_trail_free(trail);

    /* An old image that does not match. */
    trail = as_trail_new();
    page_item(&p, KEY, 20, 2, "UPDATE", NULL, "'newValue':{'M':{'v':{'N':'1'}}}");
    page_item(&p, KEY, 30, 3, "UPDATE", NULL, "'oldValue':{'M':{'v':{'N':'2'},'w':{'S':'x'}}}");
    page_add(trail, &p);
    assert_verify(trail, KEY,
                  "{'historyKey':'" KEY "','entries':2,'ok':false,'problems':[{'kind':"
                  "'continuity','sequenceNumber':'3','detail':'attribute \\'v\\': expected {\\'N"
                  "\\':\\'1\\'}, found {\\'N\\':\\'2\\'} in oldValue'},{'kind':'continuity',"
                  "'sequenceNumber':'3','detail':'attribute \\'w\\': expected absent, found "
                  "{\\'S\\':\\'x\\'} in oldValue'}]}");
    as_trail_free(trail);
}

/* The same in detailed: what the record holds, and its keys. */
static void test_detailed_without_images(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    const char *keys =
        "'keys':{'M':{'key':{'S':'CACHE_TTL_SEC'}}},'tableName':{'S':'Configuration'}";
    page_item(&p, KEY, 10, 1, "CREATE", NULL, keys); /* KEYS_ONLY */
    as_buf rest = AS_BUF_INIT;
    append_json(&rest, keys);
    append_json(&rest, ",'newImage':{'M':{'key':{'S':'CACHE_TTL_SEC'},'v':{'N':'1'}}}");
    page_item(&p, KEY, 20, 2, "UPDATE", NULL, rest.data); /* NEW_IMAGE */
    as_buf_clear(&rest);
    append_json(&rest, keys);
    append_json(&rest, ",'oldImage':{'M':{'key':{'S':'CACHE_TTL_SEC'},'v':{'N':'2'}}}");
    page_item(&p, KEY, 30, 3, "UPDATE", NULL, rest.data); /* OLD_IMAGE */
    as_buf_free(&rest);
    page_add(trail, &p);
    assert_show(trail, KEY, ms(15),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:15.000Z','exists':true,"
                "'complete':false,'item':{'key':{'S':'CACHE_TTL_SEC'}},'lastChange':{"
                "'sequenceNumber':'1','modificationTime':'2024-05-01T12:00:10.000Z'},'notes':["
                "'the CREATE (2024-05-01T12:00:10.000Z, sequence 1) has no new image (a stream "
                "without images): the values of the item are unknown']}");
    assert_show(trail, KEY, ms(25),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:25.000Z','exists':true,"
                "'complete':true,'item':{'key':{'S':'CACHE_TTL_SEC'},'v':{'N':'1'}},'lastChange':{"
                "'sequenceNumber':'2','modificationTime':'2024-05-01T12:00:20.000Z'},'notes':[]}");
    assert_show(trail, KEY, ms(35),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:35.000Z','exists':true,"
                "'complete':false,'item':{'key':{'S':'CACHE_TTL_SEC'}},'lastChange':{"
                "'sequenceNumber':'3','modificationTime':'2024-05-01T12:00:30.000Z'},'notes':["
                "'the UPDATE (2024-05-01T12:00:30.000Z, sequence 3) has no new image (a stream "
                "without images): the values of the item are unknown']}");
    /* The old image alone is still compared. */
    assert_verify(trail, KEY,
                  "{'historyKey':'" KEY "','entries':3,'ok':false,'problems':[{'kind':"
                  "'continuity','sequenceNumber':'3','detail':'attribute \\'v\\': expected {\\'N"
                  "\\':\\'1\\'}, found {\\'N\\':\\'2\\'} in oldImage'}]}");
    assert_history(trail, KEY, AS_TIME_MIN, AS_TIME_MAX,
                   "{'modificationTime':'2024-05-01T12:00:10.000Z','sequenceNumber':'1',"
                   "'eventName':'CREATE','changes':[]}\n"
                   "{'modificationTime':'2024-05-01T12:00:20.000Z','sequenceNumber':'2',"
                   "'eventName':'UPDATE','changes':[]}\n"
                   "{'modificationTime':'2024-05-01T12:00:30.000Z','sequenceNumber':'3',"
                   "'eventName':'UPDATE','changes':[]}\n");
    as_trail_free(trail);
}

static void test_baseline(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    page_item(&p, KEY, 10, 0, "BASELINE", NULL, "'newValue':{'M':{'v':{'N':'1'}}}");
    page_item(&p, KEY, 20, 9, "UPDATE", "v", "'oldValue':{'N':'1'},'newValue':{'N':'2'}");
    page_add(trail, &p);
    assert_show(trail, KEY, ms(10),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:10.000Z','exists':true,"
                "'complete':true,'item':{'v':{'N':'1'}},'lastChange':{'modificationTime':"
                "'2024-05-01T12:00:10.000Z'},'notes':[]}");
    assert_history(trail, KEY, AS_TIME_MIN, ms(10),
                   "{'modificationTime':'2024-05-01T12:00:10.000Z','eventName':'BASELINE',"
                   "'changes':[{'path':'/v','newValue':{'N':'1'}}]}\n");
    as_replay *r = as_replay_new();
    assert_int_equal(as_trail_replay(trail, as_span_from_cstr(KEY), ms(10), r, NULL), AS_OK);
    as_span seq = {"x", 1};
    as_span time = {NULL, 0};
    int64_t when = 0;
    assert_true(as_replay_last_change(r, &seq, &time, &when));
    assert_null(seq.ptr);
    assert_int_equal(time.len, 24);
    assert_int_equal(when, ms(10));
    as_replay_free(r);
    assert_verify(trail, KEY, "{'historyKey':'" KEY "','entries':2,'ok':true,'problems':[]}");
    as_trail_free(trail);
}

/* Backfill stamps a BASELINE with the second its read began, and the stream may date the
 * changes it read in that same second, after it: those are no gap, however many, up to the
 * one that leads to what the BASELINE shows. A change the BASELINE does not show is one, and
 * so is a change of a later second. Both formats. */
static void test_baseline_race(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    const char *classic = "t/classic";
    page_item(&p, classic, 10, 0, "BASELINE", NULL, "'newValue':{'M':{'v':{'N':'2'}}}");
    page_item(&p, classic, 10, 5, "UPDATE", "v", "'oldValue':{'N':'1'},'newValue':{'N':'2.0'}");
    page_item(&p, classic, 12, 6, "UPDATE", "v", "'oldValue':{'N':'3'},'newValue':{'N':'4'}");
    const char *created = "t/created";
    page_item(&p, created, 10, 0, "BASELINE", NULL, "'newValue':{'M':{'v':{'N':'1'}}}");
    page_item(&p, created, 10, 2, "CREATE", NULL, "'newValue':{'M':{'v':{'N':'1'}}}");
    const char *two = "t/two";
    page_item(&p, two, 10, 0, "BASELINE", NULL, "'newImage':{'M':{'v':{'N':'3'}}}");
    page_item(&p, two, 10, 7, "UPDATE", NULL,
              "'oldImage':{'M':{'v':{'N':'1'}}},'newImage':{'M':{'v':{'N':'2'}}}");
    page_item(&p, two, 10, 8, "UPDATE", NULL,
              "'oldImage':{'M':{'v':{'N':'2'}}},'newImage':{'M':{'v':{'N':'3'}}}");
    page_item(&p, two, 11, 9, "UPDATE", NULL,
              "'oldImage':{'M':{'v':{'N':'3'}}},'newImage':{'M':{'v':{'N':'4'}}}");
    const char *missed = "t/missed";
    page_item(&p, missed, 10, 0, "BASELINE", NULL, "'newImage':{'M':{'v':{'N':'2'}}}");
    page_item(&p, missed, 10, 8, "UPDATE", NULL,
              "'oldImage':{'M':{'v':{'N':'1'}}},'newImage':{'M':{'v':{'N':'3'}}}");
    const char *later = "t/later";
    page_item(&p, later, 10, 0, "BASELINE", NULL, "'newImage':{'M':{'v':{'N':'2'}}}");
    page_item(&p, later, 11, 3, "UPDATE", NULL,
              "'oldImage':{'M':{'v':{'N':'1'}}},'newImage':{'M':{'v':{'N':'2'}}}");
    page_add(trail, &p);
    assert_verify(trail, classic,
                  "{'historyKey':'t/classic','entries':3,'ok':false,'problems':[{'kind':"
                  "'continuity','sequenceNumber':'6','detail':'attribute \\'v\\': expected {\\'N"
                  "\\':\\'2\\'}, found {\\'N\\':\\'3\\'} in oldValue'}]}");
    assert_verify(trail, created, "{'historyKey':'t/created','entries':2,'ok':true,'problems':[]}");
    assert_verify(trail, two, "{'historyKey':'t/two','entries':4,'ok':true,'problems':[]}");
    assert_verify(trail, missed,
                  "{'historyKey':'t/missed','entries':2,'ok':false,'problems':[{'kind':"
                  "'continuity','sequenceNumber':'8','detail':'attribute \\'v\\': expected {\\'N"
                  "\\':\\'2\\'}, found {\\'N\\':\\'1\\'} in oldImage'}]}");
    assert_verify(trail, later,
                  "{'historyKey':'t/later','entries':2,'ok':false,'problems':[{'kind':"
                  "'continuity','sequenceNumber':'3','detail':'attribute \\'v\\': expected {\\'N"
                  "\\':\\'2\\'}, found {\\'N\\':\\'1\\'} in oldImage'}]}");
    as_trail_free(trail);
}

/* Names compare by their decoded bytes, whichever way the items escaped them; paths
 * escape '~' and '/'. */
static void test_names(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    page_item(&p, KEY, 10, 1, "CREATE", NULL,
              "'newValue':{'M':{'caf\xc3\xa9':{'N':'1'},'a/b~c':{'S':'x'},'q\\'':{'S':'y'}}}");
    page_item(&p, KEY, 20, 2, "UPDATE", "caf\\u00e9", "'oldValue':{'N':'1'},'newValue':{'N':'2'}");
    page_item(&p, KEY, 20, 2, "UPDATE", "a\\/b~c", "'oldValue':{'S':'x'}");
    page_add(trail, &p);
    assert_show(trail, KEY, ms(20),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:20.000Z','exists':true,"
                "'complete':true,'item':{'caf\xc3\xa9':{'N':'2'},'q\\'':{'S':'y'}},'lastChange':{"
                "'sequenceNumber':'2','modificationTime':'2024-05-01T12:00:20.000Z'},'notes':[]}");
    assert_verify(trail, KEY, "{'historyKey':'" KEY "','entries':2,'ok':true,'problems':[]}");
    assert_history(trail, KEY, ms(20), ms(20),
                   "{'modificationTime':'2024-05-01T12:00:20.000Z','sequenceNumber':'2',"
                   "'eventName':'UPDATE','changes':[{'path':'/a~1b~0c','oldValue':{'S':'x'}},"
                   "{'path':'/caf\xc3\xa9','oldValue':{'N':'1'},'newValue':{'N':'2'}}]}\n");
    as_replay *r = as_replay_new();
    assert_int_equal(as_trail_replay(trail, as_span_from_cstr(KEY), ms(20), r, NULL), AS_OK);
    assert_int_equal(as_replay_attribute_count(r), 2);
    as_replay_attribute a = as_replay_attribute_get(r, 0);
    assert_int_equal(a.name.len, 5);
    assert_memory_equal(a.name.ptr, "caf\xc3\xa9", 5);
    a = as_replay_attribute_get(r, 1);
    assert_int_equal(a.name.len, 2);
    assert_memory_equal(a.name.ptr, "q\"", 2);
    as_replay_free(r);
    as_trail_free(trail);
}

/* Long values and reasons are cut at a character boundary; an item given twice in one
 * page counts once everywhere. */
static void test_long_and_repeated(void **state)
{
    (void)state;
    /* 'a' then 300 two-byte characters. */
    char text[700] = "a";
    for (int i = 0; i < 300; i++) {
        memcpy(text + 1 + 2 * i, "\xc3\xa9", 3);
    }
    char *rest = malloc(1600);
    assert_non_null(rest);
    snprintf(rest, 1600, "'newValue':{'M':{'v':{'S':'%s'}}}", text);
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    page_item(&p, KEY, 10, 1, "CREATE", NULL, rest);
    page_item(&p, KEY, 20, 2, "UPDATE", "v", "'oldValue':{'S':'x'},'newValue':{'S':'y'}");
    page_item(&p, KEY, 20, 2, "UPDATE", "v", "'oldValue':{'S':'x'},'newValue':{'S':'y'}");
    snprintf(rest, 1600, "'error':{'S':'%s'}", text);
    page_item(&p, KEY, 30, 3, NULL, NULL, rest);
    page_add(trail, &p);

    /* The expected value as written: {"S":"a then 96 characters (199 bytes), then "...". */
    char cut[300] = "{\\'S\\':\\'a";
    size_t head = strlen(cut);
    for (int i = 0; i < 96; i++) {
        memcpy(cut + head + 2 * i, "\xc3\xa9", 3);
    }
    snprintf(rest, 1600,
             "{'historyKey':'" KEY "','entries':3,'ok':false,'problems':[{'kind':'continuity',"
             "'sequenceNumber':'2','detail':'attribute \\'v\\': expected %s..., found {\\'S\\':"
             "\\'x\\'} in oldValue'}]}",
             cut);
    assert_verify(trail, KEY, rest);
    assert_history(trail, KEY, ms(20), ms(20),
                   "{'modificationTime':'2024-05-01T12:00:20.000Z','sequenceNumber':'2',"
                   "'eventName':'UPDATE','changes':[{'path':'/v','oldValue':{'S':'x'},"
                   "'newValue':{'S':'y'}}]}\n");
    /* The reason in the note: 'a' and 97 characters (195 bytes), then "...". */
    as_replay *r = as_replay_new();
    assert_int_equal(as_trail_replay(trail, as_span_from_cstr(KEY), ms(30), r, NULL), AS_OK);
    assert_int_equal(as_replay_note_count(r), 1);
    const char *note = as_replay_note(r, 0);
    const char *reason = strstr(note, "unknown: ");
    assert_non_null(reason);
    reason += strlen("unknown: ");
    assert_int_equal(strlen(reason), 195 + 3);
    assert_memory_equal(reason, text, 195);
    assert_string_equal(reason + 195, "...");
    as_replay_free(r);
    free(rest);
    as_trail_free(trail);
}

/* ---- Continuity ---------------------------------------------------------------------- */

static void test_continuity_numbers(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    page_item(&p, KEY, 10, 1, "CREATE", NULL, "'newValue':{'M':{'v':{'N':'1.50'}}}");
    page_item(&p, KEY, 20, 2, "UPDATE", "v", "'oldValue':{'N':'1.5'},'newValue':{'N':'1E3'}");
    page_item(&p, KEY, 30, 3, "UPDATE", "v", "'oldValue':{'N':'1000'},'newValue':{'N':'7'}");
    page_item(&p, KEY, 40, 4, "UPDATE", "v", "'oldValue':{'N':'8'},'newValue':{'N':'9'}");
    page_item(&p, KEY, 50, 5, "UPDATE", "w", "'oldValue':{'S':'ghost'},'newValue':{'S':'w'}");
    page_add(trail, &p);
    assert_verify(trail, KEY,
                  "{'historyKey':'" KEY "','entries':5,'ok':false,'problems':[{'kind':"
                  "'continuity','sequenceNumber':'4','detail':'attribute \\'v\\': expected {\\'N"
                  "\\':\\'7\\'}, found {\\'N\\':\\'8\\'} in oldValue'},{'kind':'continuity',"
                  "'sequenceNumber':'5','detail':'attribute \\'w\\': expected absent, found "
                  "{\\'S\\':\\'ghost\\'} in oldValue'}]}");
    as_verify *v = as_verify_new();
    assert_int_equal(as_trail_verify(trail, as_span_from_cstr(KEY), v, NULL), AS_OK);
    assert_int_equal(as_verify_entries(v), 5);
    assert_false(as_verify_ok(v));
    assert_int_equal(as_verify_problem_count(v), 2);
    as_problem pr;
    assert_true(as_verify_problem_get(v, 0, &pr));
    assert_string_equal(pr.kind, "continuity");
    assert_string_equal(pr.sequence_number, "4");
    assert_false(as_verify_problem_get(v, 2, &pr));
    as_verify_free(v);
    as_trail_free(trail);
}

/* A classic UPDATE right after a DELETE: a CREATE is missing. */
static void test_update_after_delete(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    page_item(&p, KEY, 10, 1, "CREATE", NULL, "'newValue':{'M':{'v':{'N':'1'},'w':{'N':'2'}}}");
    page_item(&p, KEY, 20, 2, "DELETE", NULL, "'oldValue':{'M':{'v':{'N':'1'},'w':{'N':'2'}}}");
    page_item(&p, KEY, 30, 3, "UPDATE", "v", "'oldValue':{'N':'5'},'newValue':{'N':'6'}");
    page_add(trail, &p);
    assert_show(trail, KEY, ms(30),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:00:30.000Z','exists':true,"
                "'complete':false,'item':{'v':{'N':'6'}},'lastChange':{'sequenceNumber':'3',"
                "'modificationTime':'2024-05-01T12:00:30.000Z'},'notes':['an UPDATE "
                "(2024-05-01T12:00:30.000Z, sequence 3) follows a DELETE with no CREATE between: "
                "only the attributes it changed are known']}");
    assert_verify(trail, KEY,
                  "{'historyKey':'" KEY "','entries':3,'ok':false,'problems':[{'kind':"
                  "'continuity','sequenceNumber':'3','detail':'item: expected present before an "
                  "UPDATE, found absent (its last record: 2024-05-01T12:00:20.000Z, sequence "
                  "2)'}]}");
    as_trail_free(trail);
}

static void test_continuity_existence(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    /* Detailed: a CREATE twice, then an UPDATE and a DELETE after a DELETE. */
    page_item(&p, KEY, 10, 1, "CREATE", NULL,
              "'keys':{'M':{'k':{'S':'a'}}},'newImage':{'M':{'k':{'S':'a'}}}");
    page_item(&p, KEY, 20, 2, "CREATE", NULL,
              "'keys':{'M':{'k':{'S':'a'}}},'newImage':{'M':{'k':{'S':'a'}}}");
    page_item(&p, KEY, 30, 3, "DELETE", NULL,
              "'keys':{'M':{'k':{'S':'a'}}},'oldImage':{'M':{'k':{'S':'b'}}}");
    page_item(&p, KEY, 40, 4, "UPDATE", NULL,
              "'keys':{'M':{'k':{'S':'a'}}},'oldImage':{'M':{'k':{'S':'a'}}},'newImage':{'M':{'k':{"
              "'S':'a'}}}");
    page_item(&p, KEY, 50, 5, "DELETE", NULL, "'keys':{'M':{'k':{'S':'a'}}}");
    page_item(&p, KEY, 60, 6, "DELETE", NULL, "'keys':{'M':{'k':{'S':'a'}}}");
    page_add(trail, &p);
    assert_verify(trail, KEY,
                  "{'historyKey':'" KEY "','entries':6,'ok':false,'problems':["
                  "{'kind':'continuity','sequenceNumber':'2','detail':'item: expected absent "
                  "before a CREATE, found present (its last record: 2024-05-01T12:00:10.000Z, "
                  "sequence 1)'},"
                  "{'kind':'continuity','sequenceNumber':'3','detail':'attribute \\'k\\': "
                  "expected {\\'S\\':\\'a\\'}, found {\\'S\\':\\'b\\'} in oldImage'},"
                  "{'kind':'continuity','sequenceNumber':'4','detail':'item: expected present "
                  "before an UPDATE, found absent (its last record: 2024-05-01T12:00:30.000Z, "
                  "sequence 3)'},"
                  "{'kind':'continuity','sequenceNumber':'6','detail':'item: expected present "
                  "before a DELETE, found absent (its last record: 2024-05-01T12:00:50.000Z, "
                  "sequence 5)'}]}");
    /* A problem from elsewhere joins the line; an expired one alone leaves it ok. */
    as_verify *v = as_verify_new();
    assert_int_equal(as_trail_verify(trail, as_span_from_cstr(KEY2), v, NULL), AS_OK);
    assert_int_equal(as_verify_entries(v), 0);
    assert_true(as_verify_ok(v));
    assert_int_equal(as_verify_add_problem(v, "expired", "", "first entry expired", NULL), AS_OK);
    assert_true(as_verify_ok(v));
    assert_int_equal(as_verify_add_problem(v, "altered", "12", "chain differs", NULL), AS_OK);
    assert_false(as_verify_ok(v));
    as_buf line = AS_BUF_INIT;
    assert_int_equal(as_verify_write_json(v, &line, NULL), AS_OK);
    as_buf want = json_of("{'historyKey':'" KEY2 "','entries':0,'ok':false,'problems':[{'kind':"
                          "'expired','detail':'first entry expired'},{'kind':'altered',"
                          "'sequenceNumber':'12','detail':'chain differs'}]}\n");
    assert_string_equal(line.data, want.data);
    as_buf_clear(&line);
    assert_int_equal(as_verify_write_summary_json(2, 6, false, &line, NULL), AS_OK);
    assert_string_equal(line.data, "{\"keys\":2,\"entries\":6,\"ok\":false}\n");
    as_buf_free(&line);
    as_buf_free(&want);
    assert_int_equal(as_verify_add_problem(v, NULL, "", "x", NULL), AS_ERR_ARGUMENT);
    /* What a caller gives that is not UTF-8 still makes a valid line. */
    as_verify *odd = as_verify_new();
    assert_int_equal(as_trail_verify(trail, (as_span){"k\xff", 2}, odd, NULL), AS_OK);
    assert_int_equal(as_verify_write_json(odd, &line, NULL), AS_OK);
    assert_string_equal(line.data, "{\"historyKey\":\"k\xef\xbf\xbd\",\"entries\":0,"
                                   "\"ok\":true,\"problems\":[]}\n");
    as_buf_free(&line);
    as_verify_free(odd);
    as_verify_free(v);
    as_trail_free(trail);
}

/* ---- Items the builder wrote ------------------------------------------------------- */

/* A stream of two items of the table Configuration: records 1 to 6 (ApproximateCreationDateTime
 * 1714564800 + n) change one; record 7 the other. Numbers are written differently from
 * one image to the next, as DynamoDB may. */
static const char STREAM[] =
    "{'Records':["
    "{'eventID':'e1','eventName':'INSERT','eventSource':'aws:dynamodb','eventSourceARN':"
    "'arn:aws:dynamodb:eu-west-1:1:table/Configuration/stream/x','dynamodb':{"
    "'ApproximateCreationDateTime':1714564801,'Keys':{'key':{'S':'A'}},'NewImage':{'key':{'S':"
    "'A'},'v':{'N':'1.50'},'m':{'M':{'x':{'L':[{'S':'a'}]}}}},'SequenceNumber':'101',"
    "'StreamViewType':'NEW_AND_OLD_IMAGES'}},"
    "{'eventID':'e2','eventName':'MODIFY','eventSource':'aws:dynamodb','eventSourceARN':"
    "'arn:aws:dynamodb:eu-west-1:1:table/Configuration/stream/x','dynamodb':{"
    "'ApproximateCreationDateTime':1714564802,'Keys':{'key':{'S':'A'}},'OldImage':{'key':{'S':"
    "'A'},'v':{'N':'1.5'},'m':{'M':{'x':{'L':[{'S':'a'}]}}}},'NewImage':{'key':{'S':'A'},'v':{"
    "'N':'1E3'},'m':{'M':{'x':{'L':[{'S':'b'}]}}},'n':{'NULL':true}},'SequenceNumber':'102',"
    "'StreamViewType':'NEW_AND_OLD_IMAGES'}},"
    "{'eventID':'e3','eventName':'MODIFY','eventSource':'aws:dynamodb','eventSourceARN':"
    "'arn:aws:dynamodb:eu-west-1:1:table/Configuration/stream/x','dynamodb':{"
    "'ApproximateCreationDateTime':1714564803,'Keys':{'key':{'S':'A'}},'OldImage':{'key':{'S':"
    "'A'},'v':{'N':'1000'},'m':{'M':{'x':{'L':[{'S':'b'}]}}},'n':{'NULL':true}},'NewImage':{"
    "'key':{'S':'A'},'v':{'N':'1000'},'m':{'M':{'x':{'L':[{'S':'b'}]}}}},'SequenceNumber':"
    "'103','StreamViewType':'NEW_AND_OLD_IMAGES'}},"
    "{'eventID':'e4','eventName':'REMOVE','eventSource':'aws:dynamodb','eventSourceARN':"
    "'arn:aws:dynamodb:eu-west-1:1:table/Configuration/stream/x','dynamodb':{"
    "'ApproximateCreationDateTime':1714564804,'Keys':{'key':{'S':'A'}},'OldImage':{'key':{'S':"
    "'A'},'v':{'N':'1000.0'},'m':{'M':{'x':{'L':[{'S':'b'}]}}}},'SequenceNumber':'104',"
    "'StreamViewType':'NEW_AND_OLD_IMAGES'}},"
    "{'eventID':'e5','eventName':'INSERT','eventSource':'aws:dynamodb','eventSourceARN':"
    "'arn:aws:dynamodb:eu-west-1:1:table/Configuration/stream/x','dynamodb':{"
    "'ApproximateCreationDateTime':1714564805,'Keys':{'key':{'S':'A'}},'NewImage':{'key':{'S':"
    "'A'},'s':{'NS':['2','1']}},'SequenceNumber':'105','StreamViewType':'NEW_AND_OLD_IMAGES'}},"
    "{'eventID':'e6','eventName':'MODIFY','eventSource':'aws:dynamodb','eventSourceARN':"
    "'arn:aws:dynamodb:eu-west-1:1:table/Configuration/stream/x','dynamodb':{"
    "'ApproximateCreationDateTime':1714564806,'Keys':{'key':{'S':'A'}},'OldImage':{'key':{'S':"
    "'A'},'s':{'NS':['1','2.0']}},'NewImage':{'key':{'S':'A'},'s':{'NS':['1','3']}},"
    "'SequenceNumber':'106','StreamViewType':'NEW_AND_OLD_IMAGES'}},"
    "{'eventID':'e7','eventName':'INSERT','eventSource':'aws:dynamodb','eventSourceARN':"
    "'arn:aws:dynamodb:eu-west-1:1:table/Configuration/stream/x','dynamodb':{"
    "'ApproximateCreationDateTime':1714564803,'Keys':{'key':{'S':'B'}},'NewImage':{'key':{'S':"
    "'B'}},'SequenceNumber':'107','StreamViewType':'NEW_AND_OLD_IMAGES'}}"
    "]}";

/* The audit items of STREAM in `format`, one page, in reverse order; the items of
 * record `skip` (an index, or -1) left out. */
static void built_page(const as_event *event, as_format format, int skip, as_buf *out)
{
    as_items *items = as_items_new();
    assert_non_null(items);
    as_audit_options options = {.format = format, .ignore = NULL, .ignore_count = 0, .now_ms = 0};
    assert_int_equal(as_audit_build_event(event, &options, items, NULL), AS_OK);
    as_buf_append_str(out, "{\"Items\":[");
    bool first = true;
    for (size_t i = as_items_count(items); i-- > 0;) {
        as_item it = as_items_get(items, i);
        if ((int)it.record == skip) {
            continue;
        }
        if (!first) {
            as_buf_append_char(out, ',');
        }
        first = false;
        as_buf_append_span(out, it.json);
    }
    as_buf_append_str(out, "]}");
    assert_int_equal(as_buf_status(out), AS_OK);
    as_items_free(items);
}

/* Replay as of each record's time is exactly its NewImage (absent after a REMOVE), in both
 * formats, and the trail is continuous; without a record, the next one says so. */
static void test_builder_roundtrip(void **state)
{
    (void)state;
    as_buf stream = json_of(STREAM);
    as_event *event = NULL;
    as_error err = {0};
    if (as_event_decode(stream.data, stream.len, &event, &err) != AS_OK) {
        fail_msg("%s", err.message);
    }
    for (int format = AS_FORMAT_CLASSIC; format <= AS_FORMAT_DETAILED; format++) {
        as_buf built = AS_BUF_INIT;
        built_page(event, (as_format)format, -1, &built);
        as_trail *trail = as_trail_new();
        if (as_trail_add_json(trail, built.data, built.len, &err) != AS_OK) {
            fail_msg("%s\n%s", err.message, built.data);
        }
        assert_int_equal(as_trail_key_count(trail), 2);
        as_replay *r = as_replay_new();
        for (size_t i = 0; i < 6; i++) {
            const as_record *rec = as_event_record(event, i);
            assert_int_equal(as_trail_replay(trail, as_span_from_cstr("Configuration/A"),
                                             ms(1 + (unsigned)i), r, NULL),
                             AS_OK);
            if (rec->event_name == AS_EVENT_REMOVE) {
                assert_int_equal(as_replay_exists(r), AS_EXISTS_NO);
            } else if (!as_replay_matches(r, rec->new_image)) {
                fail_msg("format %d, record %zu: %s", format, i, as_replay_item_json(r).ptr);
            }
            as_span seq;
            assert_true(as_replay_last_change(r, &seq, NULL, NULL));
            assert_memory_equal(seq.ptr, rec->sequence_number.ptr, 3);
        }
        as_replay_free(r);
        assert_verify(trail, "Configuration/A",
                      "{'historyKey':'Configuration/A','entries':6,'ok':true,'problems':[]}");
        assert_verify(trail, "Configuration/B",
                      "{'historyKey':'Configuration/B','entries':1,'ok':true,'problems':[]}");
        as_trail_free(trail);

        /* Record 103 lost: 104's old side still holds n. */
        as_buf_clear(&built);
        built_page(event, (as_format)format, 2, &built);
        trail = as_trail_new();
        assert_int_equal(as_trail_add_json(trail, built.data, built.len, NULL), AS_OK);
        assert_verify(trail, "Configuration/A",
                      format == AS_FORMAT_CLASSIC
                          ? "{'historyKey':'Configuration/A','entries':5,'ok':false,'problems':[{"
                            "'kind':'continuity','sequenceNumber':'104','detail':'attribute "
                            "\\'n\\': expected {\\'NULL\\':true}, found absent in oldValue'}]}"
                          : "{'historyKey':'Configuration/A','entries':5,'ok':false,'problems':[{"
                            "'kind':'continuity','sequenceNumber':'104','detail':'attribute "
                            "\\'n\\': expected {\\'NULL\\':true}, found absent in oldImage'}]}");
        as_trail_free(trail);
        as_buf_free(&built);
    }
    as_event_free(event);
    as_buf_free(&stream);
}

/* ---- Keys, matching, time --------------------------------------------------------------- */

static void test_mixed_keys(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    page_item(&p, KEY2, 30, 9, "UPDATE", "n", "'oldValue':{'N':'1'},'newValue':{'N':'2'}");
    page_item(&p, KEY, 10, 1, "CREATE", NULL, "'newValue':{'M':{'v':{'N':'1'}}}");
    page_item(&p, KEY2, 10, 3, "CREATE", NULL, "'newValue':{'M':{'n':{'N':'1'}}}");
    /* A chain head and an error item of unsound keys belong to no key. */
    as_buf_append_str(&p.json, ",");
    append_json(&p.json, "{'id':{'S':'head'},'chainOf':{'S':'" KEY "'},'chain':{'S':'00'}}");
    as_buf_append_str(&p.json, ",");
    append_json(&p.json, "{'id':{'S':'bad'},'error':{'S':'no Keys'},'rawRecord':{'S':'{}'}}");
    p.items += 2;
    page_item(&p, KEY, 20, 2, "UPDATE", "v", "'oldValue':{'N':'1'},'newValue':{'N':'5'}");
    page_add(trail, &p);
    assert_int_equal(as_trail_item_count(trail), 4);
    assert_int_equal(as_trail_skipped(trail), 2);
    assert_int_equal(as_trail_key_count(trail), 2);
    as_span k0 = as_trail_key(trail, 0);
    as_span k1 = as_trail_key(trail, 1);
    assert_int_equal(k0.len, strlen(KEY));
    assert_memory_equal(k0.ptr, KEY, k0.len);
    assert_memory_equal(k1.ptr, KEY2, k1.len);
    assert_null(as_trail_key(trail, 2).ptr);
    assert_show(trail, KEY2, ms(60),
                "{'historyKey':'" KEY2 "','at':'2024-05-01T12:01:00.000Z','exists':true,"
                "'complete':true,'item':{'n':{'N':'2'}},'lastChange':{'sequenceNumber':'9',"
                "'modificationTime':'2024-05-01T12:00:30.000Z'},'notes':[]}");
    assert_show(trail, KEY, ms(60),
                "{'historyKey':'" KEY "','at':'2024-05-01T12:01:00.000Z','exists':true,"
                "'complete':true,'item':{'v':{'N':'5'}},'lastChange':{'sequenceNumber':'2',"
                "'modificationTime':'2024-05-01T12:00:20.000Z'},'notes':[]}");
    /* Adding more keys re-orders. */
    page_item(&p, "Configuration/A", 5, 1, "CREATE", NULL, "'newValue':{'M':{}}");
    page_add(trail, &p);
    assert_int_equal(as_trail_key_count(trail), 3);
    assert_memory_equal(as_trail_key(trail, 0).ptr, "Configuration/A", 15);
    as_trail_free(trail);
}

static void test_matches(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    page_item(&p, KEY, 10, 1, "CREATE", NULL,
              "'newValue':{'M':{'v':{'N':'1.50'},'s':{'SS':['a','b']}}}");
    page_item(&p, KEY2, 10, 1, "UPDATE", "v", "'newValue':{'N':'1'}");
    page_add(trail, &p);
    const char *text =
        "{\"Items\":[{\"s\":{\"SS\":[\"b\",\"a\"]},\"v\":{\"N\":\"1.5\"}},"
        "{\"s\":{\"SS\":[\"b\",\"a\"]}},{\"v\":{\"N\":\"1.5\"},\"s\":{\"SS\":[\"b\"]}}]}";
    as_wire_items *scan = NULL;
    assert_int_equal(as_wire_decode(text, strlen(text), AS_WIRE_PAGE, &scan, NULL), AS_OK);
    as_replay *r = as_replay_new();
    assert_int_equal(as_trail_replay(trail, as_span_from_cstr(KEY), ms(10), r, NULL), AS_OK);
    assert_true(as_replay_matches(r, as_wire_item(scan, 0)));
    assert_false(as_replay_matches(r, as_wire_item(scan, 1)));
    assert_false(as_replay_matches(r, as_wire_item(scan, 2)));
    assert_false(as_replay_matches(r, NULL));
    /* Not complete: never a match. */
    assert_int_equal(as_trail_replay(trail, as_span_from_cstr(KEY2), ms(10), r, NULL), AS_OK);
    assert_false(as_replay_matches(r, as_wire_item(scan, 0)));
    as_replay_free(r);
    as_wire_items_free(scan);
    as_trail_free(trail);
}

static void test_time(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = {
        {"2024-05-01T12:00:00Z", INT64_C(1714564800000)},
        {"2024-05-01T12:00:00.5Z", INT64_C(1714564800500)},
        {"2024-05-01T12:00:00.123456Z", INT64_C(1714564800123)},
        {"1714564800", INT64_C(1714564800000)},
        {"1714564800.9999", INT64_C(1714564800999)},
        {"1970-01-01T00:00:00.000Z", 0},
        {"2024-02-29T00:00:00Z", INT64_C(1709164800000)},
        {"9999-12-31T23:59:59.999Z", INT64_C(253402300799999)},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t got = -1;
        as_error err = {0};
        if (as_replay_time_parse(as_span_from_cstr(good[i].text), &got, &err) != AS_OK) {
            fail_msg("%s: %s", good[i].text, err.message);
        }
        assert_int_equal(got, good[i].ms);
    }
    static const char *const bad[] = {"",
                                      "yesterday",
                                      "2024-05-01",
                                      "2024-05-01T12:00:00",
                                      "2024-05-01 12:00:00Z",
                                      "2024-05-01T12:00:00+01:00",
                                      "2023-02-29T00:00:00Z",
                                      "2024-13-01T00:00:00Z",
                                      "2024-05-01T24:00:00Z",
                                      "2024-05-01T12:00:60Z",
                                      "2024-05-01T12:00:00.Z",
                                      "1969-12-31T23:59:59Z",
                                      "-5",
                                      "1e99",
                                      "12abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t got = -1;
        as_error err = {0};
        assert_int_equal(as_replay_time_parse(as_span_from_cstr(bad[i]), &got, &err),
                         AS_ERR_ARGUMENT);
        if (strstr(err.message, "is not a time") == NULL) {
            fail_msg("%s: %s", bad[i], err.message);
        }
    }
    char out[25];
    as_replay_time_format(INT64_C(1714566645123), out);
    assert_string_equal(out, "2024-05-01T12:30:45.123Z");
}

/* ---- Malformed items ---------------------------------------------------------------- */

static void test_malformed(void **state)
{
    (void)state;
    static const char good_sort[] =
        "2024-05-01T12:00:10.000Z/0000000000000000000000000000000000000001";
    char sort_field[160];
    snprintf(sort_field, sizeof sort_field, "'historySort':{'S':'%s'}", good_sort);
    static const struct {
        const char *fields; /* after id */
        const char *message;
    } cases[] = {
        {"'historyKey':{'S':'k'},'modificationTime':{'S':'2024-05-01T12:00:10.000Z'},"
         "'eventName':{'S':'CREATE'}",
         "historySort is missing (historyKey is there)"},
        {"'historySort':{'S':'2024-05-01T12:00:10.000Z/1'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'},'eventName':{'S':'CREATE'}",
         "historyKey is missing (historySort is there)"},
        {"'historyKey':{'N':'1'},'historySort':{'S':'x'}", "historyKey has type N, not S"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'2024-05-01T12:00:10.000Z/1'},"
         "'modificationTime':{'S':'2024-05-01T12:00:10.000Z'},'eventName':{'S':'CREATE'}",
         "historySort \"2024-05-01T12:00:10.000Z/1\" is not <modificationTime>/<40-digit"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'2024-05-01T12:00:11.000Z/"
         "0000000000000000000000000000000000000001'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'},'eventName':{'S':'CREATE'}",
         "historySort \"2024-05-01T12:00:11.000Z/0000000000000000000000000000000000000001\" "
         "does not start with its modificationTime"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'2024-05-01T12:00:10.000Z/1'},"
         "'modificationTime':{'S':'2024-05-01T12:00:10Z'},'eventName':{'S':'CREATE'}",
         "modificationTime \"2024-05-01T12:00:10Z\" is not a time like"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'S':"
         "'2024-02-30T12:00:10.000Z'},'eventName':{'S':'CREATE'}",
         "modificationTime \"2024-02-30T12:00:10.000Z\" is not a time"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'eventName':{'S':'CREATE'}",
         "modificationTime is missing"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'N':'1'}",
         "modificationTime has type N, not S"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'},'eventName':{'S':'INSERT'}",
         "eventName \"INSERT\" is not CREATE, UPDATE, DELETE or BASELINE"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'}",
         "eventName is missing (only an error item may lack it)"},
        {"'historyKey':{'S':''},'historySort':{'S':'x'}", "historyKey is empty"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'},'eventName':{'S':'UPDATE'},'newValue':{'S':'v'}",
         "newValue has type S, not M (an item without updatedAttribute holds whole images)"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'},'eventName':{'S':'DELETE'},'oldValue':{'L':[]}",
         "oldValue has type L, not M"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'},'eventName':{'S':'UPDATE'},'keys':{'M':{}},"
         "'newImage':{'S':'x'}",
         "newImage has type S, not M"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'},'eventName':{'S':'UPDATE'},'changes':{'S':'x'}",
         "changes has type S, not L"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'},'eventName':{'S':'UPDATE'},'changes':{'L':[{'M':{}}]}",
         "changes[0] is not a map with a path (S)"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'},'eventName':{'S':'UPDATE'},'updatedAttribute':{'N':'1'}",
         "updatedAttribute has type N, not S"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'},'eventName':{'S':'DELETE'},'updatedAttribute':{'S':'v'}",
         "updatedAttribute on an item whose eventName is not UPDATE"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'},'error':{'BOOL':true}",
         "error has type BOOL, not S"},
        {"'historyKey':{'S':'k'},'historySort':{'S':'x'},'modificationTime':{'S':"
         "'2024-05-01T12:00:10.000Z'},'eventName':{'S':'CREATE'},'actor':{'N':'1'}",
         "actor has type N, not S"},
    };
    as_trail *trail = as_trail_new();
    page p = {AS_BUF_INIT, 0};
    page_item(&p, KEY, 10, 1, "CREATE", NULL, "'newValue':{'M':{}}");
    page_add(trail, &p);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* Item 1 of the page is the bad one: item 0 is good and must not stay either. */
        as_buf json = AS_BUF_INIT;
        as_buf_append_str(&json, "{\"Items\":[");
        item(&json, KEY, 20, 2, "CREATE", NULL, "'newValue':{'M':{}}");
        append_json(&json, ",{'id':{'S':'bad-one'},");
        append_json(&json, cases[i].fields);
        append_json(&json, "}]}");
        as_error err = {0};
        as_status status = as_trail_add_json(trail, json.data, json.len, &err);
        if (status != AS_ERR_ARGUMENT || strstr(err.message, cases[i].message) == NULL ||
            strstr(err.message, "item 1 (id \"bad-one\"): ") != err.message) {
            fail_msg("case %zu: status %d, message \"%s\"; expected \"%s\"\n%s", i, (int)status,
                     err.message, cases[i].message, json.data);
        }
        as_buf_free(&json);
        assert_int_equal(as_trail_item_count(trail), 1);
    }
    (void)sort_field;
    /* Not JSON, not DynamoDB items: the decoder's messages. */
    as_error err = {0};
    assert_int_equal(as_trail_add_json(trail, "{\"Items\":[", 10, &err), AS_ERR_JSON);
    assert_non_null(strstr(err.message, "invalid JSON"));
    const char *bad_value = "{\"Items\":[{\"id\":{\"N\":\"x\"}}]}";
    assert_int_equal(as_trail_add_json(trail, bad_value, strlen(bad_value), &err), AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "Items[0].id: N \"x\": not a number"));
    const char *no_id = "{\"historyKey\":{\"S\":\"k\"},\"historySort\":{\"S\":\"x\"}}";
    assert_int_equal(as_trail_add_json(trail, no_id, strlen(no_id), &err), AS_ERR_ARGUMENT);
    assert_string_equal(err.message, "item 0: id is missing");
    assert_int_equal(as_trail_item_count(trail), 1);
    assert_int_equal(as_trail_key_count(trail), 1);
    as_trail_free(trail);
}

static void test_arguments(void **state)
{
    (void)state;
    as_trail *trail = as_trail_new();
    as_replay *r = as_replay_new();
    as_history *h = as_history_new();
    as_verify *v = as_verify_new();
    as_error err = {0};
    as_span key = as_span_from_cstr(KEY);
    assert_int_equal(as_trail_add_json(NULL, "{}", 2, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_trail_add_json(trail, NULL, 2, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_trail_replay(NULL, key, 0, r, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_trail_replay(trail, key, 0, NULL, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_trail_history(trail, key, 0, 0, NULL, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_trail_verify(trail, key, NULL, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_replay_write_json(NULL, NULL, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_history_write_json(h, NULL, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_verify_write_json(v, NULL, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_replay_time_parse(key, NULL, &err), AS_ERR_ARGUMENT);
    /* An empty trail: nothing, no failure. */
    assert_int_equal(as_trail_key_count(trail), 0);
    assert_int_equal(as_trail_replay(trail, key, 0, r, &err), AS_OK);
    assert_false(as_replay_has_trail(r));
    assert_false(as_replay_last_change(r, NULL, NULL, NULL));
    assert_int_equal(as_replay_note_count(r), 1);
    assert_null(as_replay_note(r, 1));
    assert_null(as_replay_item_json(r).ptr);
    /* NULL objects answer as empty. */
    assert_int_equal(as_trail_item_count(NULL), 0);
    assert_int_equal(as_trail_key_count(NULL), 0);
    assert_int_equal(as_replay_exists(NULL), AS_EXISTS_UNKNOWN);
    assert_int_equal(as_history_count(NULL), 0);
    assert_int_equal(as_verify_entries(NULL), 0);
    assert_true(as_verify_ok(NULL));
    as_trail_free(NULL);
    as_replay_free(NULL);
    as_history_free(NULL);
    as_verify_free(NULL);
    as_trail_free(trail);
    as_replay_free(r);
    as_history_free(h);
    as_verify_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classic_replay),
        cmocka_unit_test(test_classic_history),
        cmocka_unit_test(test_shuffled),
        cmocka_unit_test(test_detailed),
        cmocka_unit_test(test_starts_with_update),
        cmocka_unit_test(test_error_item),
        cmocka_unit_test(test_truncated_and_redacted),
        cmocka_unit_test(test_without_images),
        cmocka_unit_test(test_detailed_without_images),
        cmocka_unit_test(test_baseline),
        cmocka_unit_test(test_baseline_race),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_long_and_repeated),
        cmocka_unit_test(test_continuity_numbers),
        cmocka_unit_test(test_update_after_delete),
        cmocka_unit_test(test_continuity_existence),
        cmocka_unit_test(test_builder_roundtrip),
        cmocka_unit_test(test_mixed_keys),
        cmocka_unit_test(test_matches),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
