/* Unit tests for lib/core/wire.c and the event decoder's item entry point: Query and Scan
 * pages, GetItem answers and single items, each malformed case with its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auditstream/buf.h"
#include "auditstream/diff.h"
#include "auditstream/event.h"
#include "auditstream/wire.h"

/* `text` with every ' turned into ", so that JSON reads plainly in C sources, into `buf`. */
static char *quoted_into(char buf[4096], const char *text)
{
    size_t n = strlen(text);
    assert_true(n < 4096);
    for (size_t i = 0; i <= n; i++) {
        buf[i] = text[i] == '\'' ? '"' : text[i];
    }
    return buf;
}

static char *quoted(const char *text)
{
    static char buf[4096];
    return quoted_into(buf, text);
}

/* The items borrow their input: it stays in `input` until the next decode_ok. */
static as_wire_items *decode_ok(const char *text, as_wire_shape shape)
{
    static char input[4096];
    const char *json = quoted_into(input, text);
    as_wire_items *items = NULL;
    as_error err = {0};
    if (as_wire_decode(json, strlen(json), shape, &items, &err) != AS_OK) {
        fail_msg("decode failed: %s\n%s", err.message, json);
    }
    return items;
}

/* The wire JSON of `v` as as_value_to_json writes it. */
static void assert_wire(const as_value *v, const char *expected)
{
    as_buf b = AS_BUF_INIT;
    assert_non_null(v);
    assert_int_equal(as_value_to_json(v, &b, NULL), AS_OK);
    assert_string_equal(b.data, quoted(expected));
    as_buf_free(&b);
}

static void test_page(void **state)
{
    (void)state;
    as_wire_items *items = decode_ok(
        "{'Count':2,'Items':[{'id':{'S':'a'},'n':{'N':'1.50'}},{'id':{'S':'b'},'l':{'L':[{'BOOL':"
        "true}]}}],'LastEvaluatedKey':{'id':{'S':'b'}},'ScannedCount':2,'ConsumedCapacity':{"
        "'TableName':'Audit','CapacityUnits':0.5}}",
        AS_WIRE_ANY);
    assert_int_equal(as_wire_items_shape(items), AS_WIRE_PAGE);
    assert_int_equal(as_wire_item_count(items), 2);
    const as_value *first = as_wire_item(items, 0);
    assert_int_equal(first->type, AS_TYPE_M);
    assert_int_equal(first->count, 2);
    assert_wire(first, "{'M':{'id':{'S':'a'},'n':{'N':'1.50'}}}");
    assert_wire(as_wire_attribute(first, "n"), "{'N':'1.50'}");
    assert_wire(as_wire_attribute(as_wire_item(items, 1), "l"), "{'L':[{'BOOL':true}]}");
    assert_wire(as_wire_last_key(items), "{'M':{'id':{'S':'b'}}}");
    assert_null(as_wire_item(items, 2));
    assert_null(as_wire_attribute(first, "missing"));
    as_wire_items_free(items);

    /* The last page: no LastEvaluatedKey; an empty page. */
    items = decode_ok("{'Items':[],'Count':0}", AS_WIRE_PAGE);
    assert_int_equal(as_wire_item_count(items), 0);
    assert_null(as_wire_last_key(items));
    as_wire_items_free(items);
}

static void test_get_and_item(void **state)
{
    (void)state;
    as_wire_items *items = decode_ok("{'Item':{'id':{'S':'x'}}}", AS_WIRE_ANY);
    assert_int_equal(as_wire_items_shape(items), AS_WIRE_GET);
    assert_int_equal(as_wire_item_count(items), 1);
    assert_wire(as_wire_attribute(as_wire_item(items, 0), "id"), "{'S':'x'}");
    as_wire_items_free(items);

    /* No such item: GetItem answers {}. */
    items = decode_ok(" { } ", AS_WIRE_ANY);
    assert_int_equal(as_wire_items_shape(items), AS_WIRE_GET);
    assert_int_equal(as_wire_item_count(items), 0);
    as_wire_items_free(items);

    items = decode_ok("{'id':{'S':'x'},'Items':{'L':[]}}", AS_WIRE_ANY);
    assert_int_equal(as_wire_items_shape(items), AS_WIRE_ITEM);
    assert_int_equal(as_wire_item_count(items), 1);
    assert_wire(as_wire_attribute(as_wire_item(items, 0), "Items"), "{'L':[]}");
    as_wire_items_free(items);

    /* Asked for an item, {} is an item with no attribute. */
    items = decode_ok("{}", AS_WIRE_ITEM);
    assert_int_equal(as_wire_item_count(items), 1);
    assert_int_equal(as_wire_item(items, 0)->count, 0);
    as_wire_items_free(items);
}

static void test_member_lookup(void **state)
{
    (void)state;
    /* Names compare by their decoded bytes, whichever way they were escaped. */
    as_wire_items *items = decode_ok(
        "{'caf\\u00e9':{'S':'1'},'a\\/b':{'N':'2'},'m':{'M':{'in':{'NULL':true}}}}", AS_WIRE_ITEM);
    const as_value *item = as_wire_item(items, 0);
    assert_wire(as_wire_attribute(item, "caf\xc3\xa9"), "{'S':'1'}");
    assert_wire(as_wire_attribute(item, "a/b"), "{'N':'2'}");
    assert_wire(as_wire_attribute(as_wire_attribute(item, "m"), "in"), "{'NULL':true}");
    assert_null(as_wire_member(item, "a", 1));
    assert_null(as_wire_attribute(as_wire_attribute(item, "a/b"), "x")); /* not a map */
    assert_null(as_wire_attribute(NULL, "a"));
    assert_null(as_wire_attribute(item, NULL));
    as_wire_items_free(items);
}

static void test_numbers_equal(void **state)
{
    (void)state;
    as_wire_items *items = decode_ok(
        "{'Items':[{'a':{'N':'1.50'},'b':{'N':'1E3'}},{'a':{'N':'1.5'},'b':{'N':'1000'}}]}",
        AS_WIRE_PAGE);
    const as_value *x = as_wire_item(items, 0);
    const as_value *y = as_wire_item(items, 1);
    assert_true(as_value_equal(as_wire_attribute(x, "a"), as_wire_attribute(y, "a")));
    assert_true(as_value_equal(as_wire_attribute(x, "b"), as_wire_attribute(y, "b")));
    assert_true(as_value_equal(x, y));
    as_wire_items_free(items);
}

/* Each malformed text: its status and a piece of its message. */
static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        as_wire_shape shape;
        as_status status;
        const char *message;
    } cases[] = {
        {"", AS_WIRE_ANY, AS_ERR_JSON, "empty input"},
        {"not json", AS_WIRE_ANY, AS_ERR_JSON, "invalid JSON at line 1, column 1"},
        {"{'Items':[}", AS_WIRE_ANY, AS_ERR_JSON, "invalid JSON"},
        {"{'Items':[]} x", AS_WIRE_ANY, AS_ERR_JSON, "trailing bytes"},
        {"\xEF\xBB\xBF{}", AS_WIRE_ANY, AS_ERR_JSON, "byte-order mark"},
        {"[1,2]", AS_WIRE_ANY, AS_ERR_ARGUMENT, "the top-level value is not an object"},
        {"{'Items':{}}", AS_WIRE_PAGE, AS_ERR_ARGUMENT, "\"Items\" is not an array"},
        {"{'Count':0}", AS_WIRE_PAGE, AS_ERR_ARGUMENT, "without an \"Items\" array"},
        {"{'Items':[],'Items':[]}", AS_WIRE_ANY, AS_ERR_ARGUMENT, "\"Items\" appears twice"},
        {"{'Item':[]}", AS_WIRE_GET, AS_ERR_ARGUMENT, "\"Item\" is not an object"},
        {"{'Item':{},'Item':{}}", AS_WIRE_GET, AS_ERR_ARGUMENT, "\"Item\" appears twice"},
        {"{'Items':[],'LastEvaluatedKey':3}", AS_WIRE_ANY, AS_ERR_ARGUMENT,
         "\"LastEvaluatedKey\" is not an object"},
        {"{'Items':[{'a':{'S':'x'}},7]}", AS_WIRE_ANY, AS_ERR_ARGUMENT,
         "Items[1]: is not an object"},
        {"{'Items':[{'a':{'S':'x'}},{'p':{'N':'1x'}}]}", AS_WIRE_ANY, AS_ERR_ARGUMENT,
         "Items[1].p: N \"1x\": not a number"},
        {"{'Items':[{'a':{'X':'x'}}]}", AS_WIRE_ANY, AS_ERR_ARGUMENT,
         "Items[0].a: unknown type \"X\""},
        {"{'Items':[{'s':{'SS':['a','a']}}]}", AS_WIRE_ANY, AS_ERR_ARGUMENT,
         "Items[0].s.SS: duplicate member \"a\""},
        {"{'Items':[{'a':{'S':'1'},'a':{'S':'2'}}]}", AS_WIRE_ANY, AS_ERR_ARGUMENT,
         "Items[0]: attribute name \"a\" appears twice"},
        {"{'Items':[{'m':{'M':{'x':{'NULL':false}}}}]}", AS_WIRE_ANY, AS_ERR_ARGUMENT,
         "Items[0].m.x.NULL: NULL must be true"},
        {"{'Items':[{'a':'plain'}]}", AS_WIRE_ANY, AS_ERR_ARGUMENT,
         "Items[0].a: attribute value is not an object"},
        {"{'Items':[],'LastEvaluatedKey':{'k':{'B':'!!'}}}", AS_WIRE_ANY, AS_ERR_ARGUMENT,
         "LastEvaluatedKey.k: B \"!!\": not valid base64"},
        {"{'Item':{'n':{'N':'1e999'}}}", AS_WIRE_ANY, AS_ERR_ARGUMENT, "Item.n: N \"1e999\""},
        {"{'n':{'S':1}}", AS_WIRE_ITEM, AS_ERR_ARGUMENT, "item.n.S: value is not a string"},
        {"7", AS_WIRE_ITEM, AS_ERR_ARGUMENT, "the top-level value is not an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *json = quoted(cases[i].text);
        as_wire_items *items = (as_wire_items *)1;
        as_error err = {0};
        as_status status = as_wire_decode(json, strlen(json), cases[i].shape, &items, &err);
        if (status != cases[i].status || strstr(err.message, cases[i].message) == NULL) {
            fail_msg("case %zu (%s): status %d, message \"%s\"; expected %d with \"%s\"", i, json,
                     (int)status, err.message, (int)cases[i].status, cases[i].message);
        }
        assert_int_equal(err.code, cases[i].status);
        assert_null(items);
    }
}

static void test_arguments(void **state)
{
    (void)state;
    as_wire_items *items = NULL;
    as_error err = {0};
    assert_int_equal(as_wire_decode("{}", 2, AS_WIRE_ANY, NULL, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_wire_decode(NULL, 2, AS_WIRE_ANY, &items, &err), AS_ERR_ARGUMENT);
    assert_int_equal(as_wire_decode("{}", 2, (as_wire_shape)9, &items, &err), AS_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "unknown shape"));
    assert_int_equal(as_wire_item_count(NULL), 0);
    assert_null(as_wire_item(NULL, 0));
    assert_null(as_wire_last_key(NULL));
    assert_int_equal(as_wire_items_shape(NULL), AS_WIRE_ANY);
    as_wire_items_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page),          cmocka_unit_test(test_get_and_item),
        cmocka_unit_test(test_member_lookup), cmocka_unit_test(test_numbers_equal),
        cmocka_unit_test(test_malformed),     cmocka_unit_test(test_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
