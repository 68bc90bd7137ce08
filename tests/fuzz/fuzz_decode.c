/* libFuzzer target: decode -> build (classic and detailed) -> check every item. Besides
 * the sanitizers' findings, aborts when an item is not JSON DynamoDB would accept, when
 * a record is not covered as docs/audit-format.md says, or when building twice differs. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream.h"
#include "reference_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS INT64_C(1700000000000)

static void fail(const char *what, size_t record, const as_item *item)
{
    fprintf(stderr, "fuzz_decode: %s (record %zu)\n", what, record);
    if (item != NULL) {
        fprintf(stderr, "item: %.*s\n", (int)(item->json.len > 4000 ? 4000 : item->json.len),
                item->json.ptr);
    }
    abort();
}

#define CHECK(cond, what, record, item) \
    do {                                \
        if (!(cond)) {                  \
            fail(what, record, item);   \
        }                               \
    } while (0)

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A lower-case UUID of version 5, RFC 9562 variant. */
static bool is_uuid5(const char *s, size_t len)
{
    if (len != 36) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i])) {
            return false;
        }
    }
    return s[14] == '5' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

/* 2024-05-01T12:30:45.000Z */
static bool is_iso_time(const char *s, size_t len)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (len != sizeof shape - 1) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) {
            return false;
        }
    }
    return true;
}

/* The string of an {"S": ...} attribute, or NULL. */
static json_t *s_attribute(json_t *item, const char *name)
{
    json_t *value = json_object_get(item, name);
    json_t *s = json_object_get(value, "S");
    return json_object_size(value) == 1 && json_is_string(s) ? s : NULL;
}

static void check_item(const as_event *event, const as_item *item)
{
    size_t r = item->record;
    const as_record *rec = as_event_record(event, r);
    CHECK(item->json.ptr != NULL && item->json.len > 0, "empty item", r, item);
    CHECK(item->size <= AS_ITEM_MAX_SIZE, "item over 400 KB", r, item);
    CHECK(rec->error == NULL || (item->flags & AS_ITEM_ERROR), "invalid record without error flag",
          r, item);
    CHECK(!(item->flags & AS_ITEM_ERROR) || item->reason.len > 0, "error item without reason", r,
          item);

    json_error_t error;
    json_t *parsed = json_loadb(item->json.ptr, item->json.len,
                                JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &error);
    if (parsed == NULL) {
        /* jansson holds no NUL in keys; everything else must parse. */
        CHECK(json_error_code(&error) == json_error_null_byte_in_key, error.text, r, item);
        return;
    }
    uint64_t size = 0;
    CHECK(ref_check_item(parsed, &size), "item DynamoDB would refuse", r, item);
    CHECK(size == item->size, "as_item.size is not the item's DynamoDB size", r, item);

    json_t *id = s_attribute(parsed, "id");
    CHECK(id != NULL && is_uuid5(json_string_value(id), json_string_length(id)), "bad id", r, item);
    json_t *time = s_attribute(parsed, "modificationTime");
    CHECK(time == NULL || is_iso_time(json_string_value(time), json_string_length(time)),
          "bad modificationTime", r, item);
    CHECK(time != NULL || (item->flags & AS_ITEM_ERROR), "modificationTime missing", r, item);
    if (item->flags & AS_ITEM_ERROR) {
        CHECK(s_attribute(parsed, "error") != NULL, "error item without error", r, item);
        json_t *raw = s_attribute(parsed, "rawRecord");
        CHECK(raw != NULL, "error item without rawRecord", r, item);
    } else {
        json_t *name = s_attribute(parsed, "eventName");
        CHECK(name != NULL && (strcmp(json_string_value(name), "CREATE") == 0 ||
                               strcmp(json_string_value(name), "UPDATE") == 0 ||
                               strcmp(json_string_value(name), "DELETE") == 0),
              "item without eventName", r, item);
    }
    /* The history index's keys come together, historySort led by modificationTime. */
    json_t *hkey = s_attribute(parsed, "historyKey");
    json_t *hsort = s_attribute(parsed, "historySort");
    CHECK((hkey == NULL) == (hsort == NULL), "historyKey without historySort", r, item);
    CHECK(hkey == NULL || (time != NULL && s_attribute(parsed, "itemKey") != NULL),
          "history fields without itemKey or modificationTime", r, item);
    CHECK(hsort == NULL || (json_string_length(hsort) >= 24 + 1 + 40 &&
                            memcmp(json_string_value(hsort), json_string_value(time), 24) == 0 &&
                            json_string_value(hsort)[24] == '/'),
          "historySort not <modificationTime>/<40 digits>", r, item);
    json_decref(parsed);
}

/* How many items docs/audit-format.md gives a valid record in `format`: classic, one per
 * changed attribute of a MODIFY; detailed, one, none for a MODIFY that changed nothing;
 * any other record one. */
static size_t expected_items(const as_record *rec, as_format format, as_changes *changes)
{
    if (rec->error != NULL) {
        return 1;
    }
    if (rec->event_name == AS_EVENT_MODIFY && rec->old_image != NULL && rec->new_image != NULL) {
        as_status s = as_diff_images(rec->old_image, rec->new_image, AS_DIFF_TOP, NULL, 0, changes, NULL);
        CHECK(s == AS_OK, "as_diff_images failed", rec->index, NULL);
        size_t changed = as_changes_count(changes);
        return format == AS_FORMAT_CLASSIC || changed == 0 ? changed : 1;
    }
    return 1;
}

static void check_build(const as_event *event, as_format format, as_items *items,
                        as_items *again, as_changes *changes)
{
    as_audit_options options = {.format = format, .ignore = NULL, .ignore_count = 0, .now_ms = NOW_MS};
    as_items_clear(items);
    CHECK(as_audit_build_event(event, &options, items, NULL) == AS_OK, "build failed", 0, NULL);
    as_items_clear(again);
    CHECK(as_audit_build_event(event, &options, again, NULL) == AS_OK, "build failed", 0, NULL);

    size_t records = as_event_record_count(event);
    size_t count = as_items_count(items);
    CHECK(count == as_items_count(again), "two builds differ in item count", 0, NULL);
    size_t next = 0;
    for (size_t r = 0; r < records; r++) {
        const as_record *rec = as_event_record(event, r);
        size_t first = next;
        bool error_item = false;
        while (next < count && as_items_get(items, next).record == r) {
            as_item item = as_items_get(items, next);
            as_item other = as_items_get(again, next);
            CHECK(item.json.len == other.json.len &&
                      memcmp(item.json.ptr, other.json.ptr, item.json.len) == 0,
                  "two builds differ", r, &item);
            check_item(event, &item);
            error_item = error_item || (item.flags & AS_ITEM_ERROR);
            next++;
        }
        size_t n = next - first;
        if (error_item) {
            CHECK(n == 1, "not exactly one item for the record", r, NULL);
        } else {
            CHECK(n == expected_items(rec, format, changes), "wrong number of items", r, NULL);
        }
    }
    CHECK(next == count, "items out of record order or for no record", 0, NULL);
}

/* The diff's equality is reflexive and an image never differs from itself. */
static void check_diff(const as_event *event, as_changes *changes)
{
    for (size_t r = 0; r < as_event_record_count(event); r++) {
        const as_record *rec = as_event_record(event, r);
        const as_value *images[] = {rec->keys, rec->old_image, rec->new_image};
        for (size_t i = 0; i < 3; i++) {
            if (images[i] == NULL || rec->error != NULL) {
                continue;
            }
            CHECK(as_value_equal(images[i], images[i]), "a value differs from itself", r, NULL);
            CHECK(as_diff_images(images[i], images[i], AS_DIFF_DEEP, NULL, 0, changes, NULL) == AS_OK,
                  "as_diff_images failed", r, NULL);
            CHECK(as_changes_count(changes) == 0, "an image differs from itself", r, NULL);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_event *event = NULL;
    as_error err;
    memset(&err, 0, sizeof err);
    as_status status = as_event_decode((const char *)data, size, &event, &err);
    if (status != AS_OK) {
        CHECK(event == NULL, "failed decode set *out", 0, NULL);
        CHECK(err.code == status, "as_error.code is not the status", 0, NULL);
        CHECK(err.message[0] != '\0' && memchr(err.message, '\0', sizeof err.message) != NULL,
              "bad error message", 0, NULL);
        CHECK(status == AS_ERR_JSON || status == AS_ERR_NOT_EVENT || status == AS_ERR_LIMIT,
              as_status_name(status), 0, NULL);
        CHECK(err.offset <= size, "error offset past the input", 0, NULL);
        return 0;
    }
    as_items *items = as_items_new();
    as_items *again = as_items_new();
    as_changes *changes = as_changes_new();
    CHECK(items != NULL && again != NULL && changes != NULL, "out of memory", 0, NULL);
    check_build(event, AS_FORMAT_CLASSIC, items, again, changes);
    check_build(event, AS_FORMAT_DETAILED, items, again, changes);
    check_diff(event, changes);
    as_changes_free(changes);
    as_items_free(again);
    as_items_free(items);
    as_event_free(event);
    return 0;
}
