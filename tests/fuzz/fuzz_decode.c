/* libFuzzer target: decode -> build (classic and detailed, plain and with the trust
 * options) -> check every item. Besides the sanitizers' findings, aborts when an item is
 * not JSON DynamoDB would accept, when a record is not covered as docs/audit-format.md
 * says, or when building twice differs. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream.h"
#include "reference_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS INT64_C(1700000000000)

/* The trust options of the second build: names the fixtures and the corpus hold. */
#define RETENTION_DAYS 30u
#define RESERVE        256u
static const as_span REDACT[] = {{"Message", 7}, {"value", 5}, {"v", 1}, {"Map", 3}};
static const uint8_t KEY[32] = {7};
static const as_span ACTOR = {"updatedBy", 9};

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

/* Whether the top-level `name` (decoded) is one of the record's key attributes. */
static bool is_key(const as_record *rec, const char *name)
{
    if (rec->keys == NULL) {
        return false;
    }
    bool found = false;
    for (const as_value *k = rec->keys + 1; k < rec->keys + rec->keys->subtree && !found;
         k += k->subtree) {
        as_buf decoded = AS_BUF_INIT;
        as_json_unescape(k->name, &decoded);
        found = as_buf_status(&decoded) == AS_OK && decoded.len == strlen(name) &&
                memcmp(decoded.data, name, decoded.len) == 0;
        as_buf_free(&decoded);
    }
    return found;
}

static bool redacted_name(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof REDACT / sizeof REDACT[0]; i++) {
        if (REDACT[i].len == len && memcmp(REDACT[i].ptr, name, len) == 0) {
            return true;
        }
    }
    return false;
}

/* {"M":{"redacted":{"BOOL":true},"hmac":{"S":"<64 hex>"}}}, the keyed marker. */
static bool is_marker(json_t *value)
{
    json_t *m = json_object_get(value, "M");
    json_t *hmac = json_object_get(json_object_get(m, "hmac"), "S");
    if (json_object_size(value) != 1 || json_object_size(m) != 2 ||
        !json_is_true(json_object_get(json_object_get(m, "redacted"), "BOOL")) ||
        !json_is_string(hmac) || json_string_length(hmac) != 64) {
        return false;
    }
    for (size_t i = 0; i < 64; i++) {
        if (!is_hex(json_string_value(hmac)[i])) {
            return false;
        }
    }
    return true;
}

/* Every redacted member of an image attribute ({"M":{...}}) is a marker. */
static bool image_redacted(const as_record *rec, json_t *image)
{
    json_t *members = json_object_get(image, "M");
    const char *name;
    json_t *value;
    json_object_foreach(members, name, value)
    {
        if (redacted_name(name, strlen(name)) && !is_key(rec, name) && !is_marker(value)) {
            return false;
        }
    }
    return true;
}

/* What the trust options add: actor and actorSource together (DynamoDB's for a TTL
 * delete), expiresAt exactly when there is a time, redacted values as markers, error
 * items without the record's text, and room left for the reserve. */
static void check_trust(const as_record *rec, const as_item *item, json_t *parsed)
{
    size_t r = item->record;
    CHECK(item->size <= AS_ITEM_MAX_SIZE - RESERVE, "item over 400 KB less the reserve", r, item);
    json_t *actor = s_attribute(parsed, "actor");
    json_t *source = s_attribute(parsed, "actorSource");
    CHECK((actor == NULL) == (source == NULL), "actor without actorSource", r, item);
    if (source != NULL) {
        const char *src = json_string_value(source);
        bool ttl = strcmp(src, "ttl") == 0;
        CHECK(ttl || strcmp(src, "item") == 0 || strcmp(src, "last-writer") == 0,
              "unknown actorSource", r, item);
        CHECK(!ttl || strcmp(json_string_value(actor), "dynamodb.amazonaws.com") == 0,
              "a TTL delete's actor is not DynamoDB", r, item);
        CHECK(ttl || !(item->flags & AS_ITEM_ERROR), "an error item names a user", r, item);
    }
    json_t *expires = json_object_get(parsed, "expiresAt");
    CHECK((expires != NULL) == (s_attribute(parsed, "modificationTime") != NULL),
          "expiresAt without modificationTime, or the other way", r, item);
    if (item->flags & AS_ITEM_ERROR) {
        CHECK(json_object_get(parsed, "rawRecord") == NULL &&
                  s_attribute(parsed, "rawRecordSha256") != NULL,
              "an error item holds its record's text while attributes are redacted", r, item);
        return;
    }
    json_t *updated = s_attribute(parsed, "updatedAttribute");
    if (updated != NULL && redacted_name(json_string_value(updated), json_string_length(updated)) &&
        !is_key(rec, json_string_value(updated))) {
        json_t *old_value = json_object_get(parsed, "oldValue");
        json_t *new_value = json_object_get(parsed, "newValue");
        CHECK((old_value == NULL || is_marker(old_value)) && (new_value == NULL || is_marker(new_value)),
              "a redacted attribute's value is stored", r, item);
    } else if (updated == NULL) {
        static const char *const images[] = {"oldValue", "newValue", "oldImage", "newImage"};
        for (size_t i = 0; i < 4; i++) {
            json_t *image = json_object_get(parsed, images[i]);
            CHECK(image == NULL || image_redacted(rec, image), "a redacted member is stored", r,
                  item);
        }
    }
}

/* The item's spans are the bodies of its attributes (decoded here: escapes are kept). */
static void check_spans(const as_item *item, json_t *parsed)
{
    static const char *const names[] = {"id", "historyKey", "historySort", "modificationTime"};
    const as_span spans[] = {item->id, item->history_key, item->history_sort,
                             item->modification_time};
    for (size_t i = 0; i < 4; i++) {
        json_t *s = s_attribute(parsed, names[i]);
        as_buf decoded = AS_BUF_INIT;
        if (spans[i].len > 0) {
            as_json_unescape(spans[i], &decoded);
        }
        CHECK(as_buf_status(&decoded) == AS_OK, "out of memory", item->record, NULL);
        bool same = s == NULL ? spans[i].len == 0
                              : decoded.len == json_string_length(s) &&
                                    memcmp(decoded.data, json_string_value(s), decoded.len) == 0;
        as_buf_free(&decoded);
        CHECK(same, "an item span is not its attribute's body", item->record, item);
    }
}

static void check_item(const as_event *event, const as_item *item, bool trust)
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
        CHECK(raw != NULL || trust, "error item without rawRecord", r, item);
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
    check_spans(item, parsed);
    if (trust) {
        check_trust(rec, item, parsed);
    } else {
        CHECK(json_object_get(parsed, "expiresAt") == NULL, "expiresAt without retention", r,
              item);
    }
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

static void check_build(const as_event *event, as_format format, bool trust, as_items *items,
                        as_items *again, as_changes *changes)
{
    as_audit_options options = {.format = format, .ignore = NULL, .ignore_count = 0, .now_ms = NOW_MS};
    if (trust) {
        options.actor_attribute = ACTOR;
        options.retention_days = RETENTION_DAYS;
        options.redact = REDACT;
        options.redact_count = sizeof REDACT / sizeof REDACT[0];
        options.redact_key = KEY;
        options.redact_key_len = sizeof KEY;
        options.reserve_bytes = RESERVE;
    }
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
            check_item(event, &item, trust);
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
    for (int trust = 0; trust < 2; trust++) {
        check_build(event, AS_FORMAT_CLASSIC, trust, items, again, changes);
        check_build(event, AS_FORMAT_DETAILED, trust, items, again, changes);
    }
    check_diff(event, changes);
    as_changes_free(changes);
    as_items_free(again);
    as_items_free(items);
    as_event_free(event);
    return 0;
}
