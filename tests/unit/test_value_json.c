/* Unit tests of as_value_to_json: each of DynamoDB's ten types, Keys and images, set
 * members, whitespace dropped outside strings only, every value of every fixture, and
 * its argument and memory errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "auditstream/buf.h"
#include "auditstream/event.h"

/* One record whose NewImage holds `attrs` (a JSON object body), as Lambda sends it. */
static char *event_with(const char *attrs)
{
    static const char fmt[] =
        "{\"Records\":[{\"eventID\":\"1\",\"eventName\":\"INSERT\","
        "\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{\"ApproximateCreationDateTime\":1,"
        "\"Keys\":{\"k\":{\"S\":\"a\"}},\"NewImage\":{%s},\"SequenceNumber\":\"1\","
        "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}]}";
    size_t len = sizeof fmt + strlen(attrs);
    char *json = malloc(len);
    assert_non_null(json);
    snprintf(json, len, fmt, attrs);
    return json;
}

/* The top-level attribute `name` of the first record's NewImage. */
static const as_value *attr(const as_event *event, const char *name)
{
    const as_value *image = as_event_record(event, 0)->new_image;
    assert_non_null(image);
    for (const as_value *m = image + 1; m < image + image->subtree; m += m->subtree) {
        if (m->name.len == strlen(name) && memcmp(m->name.ptr, name, m->name.len) == 0) {
            return m;
        }
    }
    fail_msg("no attribute %s", name);
    return NULL;
}

static void expect_json(const as_value *v, const char *want)
{
    as_buf out = AS_BUF_INIT;
    as_error err = {0};
    assert_int_equal(as_value_to_json(v, &out, &err), AS_OK);
    assert_non_null(out.data);
    assert_string_equal(out.data, want);
    as_buf_free(&out);
}

static void every_type_as_received(void **state)
{
    (void)state;
    static const struct {
        const char *name, *wire;
    } cases[] = {
        {"s", "{\"S\":\"caf\\u00e9 \\\"x\\\"\"}"},
        {"n", "{\"N\":\"1.50E+3\"}"},
        {"b", "{\"B\":\"AAEC\"}"},
        {"ss", "{\"SS\":[\"a\",\"b\"]}"},
        {"ns", "{\"NS\":[\"1\",\"-0.5\"]}"},
        {"bs", "{\"BS\":[\"AA==\",\"AQ==\"]}"},
        {"m", "{\"M\":{\"x\":{\"N\":\"1\"},\"y\":{\"L\":[]}}}"},
        {"l", "{\"L\":[{\"S\":\"a\"},{\"NULL\":true},{\"BOOL\":false}]}"},
        {"nul", "{\"NULL\":true}"},
        {"bool", "{\"BOOL\":true}"},
    };
    char attrs[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        used += (size_t)snprintf(attrs + used, sizeof attrs - used, "%s\"%s\":%s",
                                 i > 0 ? "," : "", cases[i].name, cases[i].wire);
        assert_true(used < sizeof attrs);
    }
    char *json = event_with(attrs);
    as_event *event = NULL;
    as_error err = {0};
    assert_int_equal(as_event_decode(json, strlen(json), &event, &err), AS_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_json(attr(event, cases[i].name), cases[i].wire);
    }
    as_event_free(event);
    free(json);
}

static void whitespace_dropped_outside_strings_only(void **state)
{
    (void)state;
    char *json = event_with("\"m\" : { \"M\" : { \"a b\" : { \"S\" : \" x  y \" } ,\n"
                            "\t\"l\" : { \"L\" : [ { \"N\" : \"1\" } ] } } }");
    as_event *event = NULL;
    as_error err = {0};
    assert_int_equal(as_event_decode(json, strlen(json), &event, &err), AS_OK);
    expect_json(attr(event, "m"),
                "{\"M\":{\"a b\":{\"S\":\" x  y \"},\"l\":{\"L\":[{\"N\":\"1\"}]}}}");
    /* The image itself, a bare map on the wire, comes back wrapped. */
    expect_json(as_event_record(event, 0)->new_image,
                "{\"M\":{\"m\":{\"M\":{\"a b\":{\"S\":\" x  y \"},\"l\":{\"L\":[{\"N\":\"1\"}]}}}}}");
    expect_json(as_event_record(event, 0)->keys, "{\"M\":{\"k\":{\"S\":\"a\"}}}");
    as_event_free(event);
    free(json);
}

static void set_members_and_nested_values(void **state)
{
    (void)state;
    char *json = event_with("\"ns\":{\"NS\":[\"7\", \"8\"]},\"bs\":{\"BS\":[\"AQ==\"]},"
                            "\"m\":{\"M\":{\"inner\":{\"SS\":[\"q\"]}}}");
    as_event *event = NULL;
    as_error err = {0};
    assert_int_equal(as_event_decode(json, strlen(json), &event, &err), AS_OK);
    const as_value *ns = attr(event, "ns");
    assert_int_equal(ns->count, 2);
    expect_json(ns + 1, "{\"N\":\"7\"}");
    expect_json(ns + 2, "{\"N\":\"8\"}");
    expect_json(ns, "{\"NS\":[\"7\",\"8\"]}");
    expect_json(attr(event, "bs") + 1, "{\"B\":\"AQ==\"}");
    const as_value *m = attr(event, "m");
    expect_json(m + 1, "{\"SS\":[\"q\"]}");
    expect_json(m + 2, "{\"S\":\"q\"}");
    as_event_free(event);
    free(json);
}

/* An independent oracle: `text` with the whitespace outside strings removed. */
static void strip_spaces(const char *text, size_t len, as_buf *out)
{
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            as_buf_append_char(out, c);
            if (c == '\\' && i + 1 < len) {
                as_buf_append_char(out, text[++i]);
            } else if (c == '"') {
                in_string = 0;
            }
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            as_buf_append_char(out, c);
            in_string = c == '"';
        }
    }
}

static size_t check_values(const as_value *top)
{
    size_t checked = 0;
    for (const as_value *v = top; v < top + top->subtree; v++, checked++) {
        as_buf got = AS_BUF_INIT, want = AS_BUF_INIT;
        as_error err = {0};
        assert_int_equal(as_value_to_json(v, &got, &err), AS_OK);
        if (v->wire.ptr == NULL) {
            as_buf_append_str(&want, "{\"M\":");
            strip_spaces(v->text.ptr, v->text.len, &want);
            as_buf_append_char(&want, '}');
        } else if (v->wire.ptr[0] == '"') {
            as_buf_append_str(&want, "{\"");
            as_buf_append_str(&want, as_type_name(v->type));
            as_buf_append_str(&want, "\":");
            as_buf_append_span(&want, v->wire);
            as_buf_append_char(&want, '}');
        } else {
            strip_spaces(v->wire.ptr, v->wire.len, &want);
        }
        assert_int_equal(as_buf_status(&want), AS_OK);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, want.len);
        as_buf_free(&got);
        as_buf_free(&want);
    }
    return checked;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    as_buf buf = AS_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        as_buf_append(&buf, chunk, n);
    }
    fclose(f);
    assert_int_equal(as_buf_status(&buf), AS_OK);
    *len = buf.len;
    return buf.data;
}

static void every_value_of_every_fixture(void **state)
{
    (void)state;
    DIR *dir = opendir("events");
    assert_non_null(dir);
    size_t events = 0, values = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        size_t name_len = strlen(entry->d_name);
        if (name_len < 5 || strcmp(entry->d_name + name_len - 5, ".json") != 0) {
            continue;
        }
        char path[512];
        snprintf(path, sizeof path, "events/%s", entry->d_name);
        size_t len;
        char *json = read_file(path, &len);
        as_event *event = NULL;
        as_error err = {0};
        if (as_event_decode(json, len, &event, &err) == AS_OK) {
            events++;
            for (size_t r = 0; r < as_event_record_count(event); r++) {
                const as_record *rec = as_event_record(event, r);
                const as_value *tops[] = {rec->keys, rec->old_image, rec->new_image};
                for (size_t t = 0; t < 3; t++) {
                    values += tops[t] != NULL ? check_values(tops[t]) : 0;
                }
            }
        }
        as_event_free(event);
        free(json);
    }
    closedir(dir);
    /* The fixtures hold thousands of values; a walk that saw few saw nothing. */
    assert_true(events >= 10);
    assert_true(values >= 1000);
}

static void bad_arguments_and_failed_buffer(void **state)
{
    (void)state;
    char *json = event_with("\"n\":{\"N\":\"1\"}");
    as_event *event = NULL;
    as_error err = {0};
    assert_int_equal(as_event_decode(json, strlen(json), &event, &err), AS_OK);
    as_buf out = AS_BUF_INIT;
    assert_int_equal(as_value_to_json(NULL, &out, &err), AS_ERR_ARGUMENT);
    assert_string_equal(err.message, "as_value_to_json: value is NULL");
    assert_int_equal(as_value_to_json(attr(event, "n"), NULL, &err), AS_ERR_ARGUMENT);
    assert_string_equal(err.message, "as_value_to_json: out is NULL");
    assert_int_equal(as_value_to_json(NULL, NULL, NULL), AS_ERR_ARGUMENT);
    /* A buffer that already failed stays failed, and the call says so. */
    out.failed = true;
    assert_int_equal(as_value_to_json(attr(event, "n"), &out, &err), AS_ERR_NOMEM);
    assert_string_equal(err.message, "as_value_to_json: out of memory");
    as_buf_free(&out);
    as_event_free(event);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_as_received),
        cmocka_unit_test(whitespace_dropped_outside_strings_only),
        cmocka_unit_test(set_members_and_nested_values),
        cmocka_unit_test(every_value_of_every_fixture),
        cmocka_unit_test(bad_arguments_and_failed_buffer),
    };
    return cmocka_run_group_tests_name("value_json", tests, NULL, NULL);
}
