/* What the trail's index fields cost in item size: historyKey, historySort and classic's
 * eventName, per item, in bytes of wire JSON, DynamoDB size and write units, over events/.
 *
 * "Before" is each built item less those attributes (their name and S value bytes, and
 * their `,"name":{"S":"..."}` in the JSON), so one build gives both sides. An item's
 * attributes are read back through the library's own decoder: the item is wrapped as the
 * NewImage of a one-record event, so a nested attribute of the same name is never
 * counted. Not a timing: `--time` and `--rounds` are accepted and ignored. */
#include <auditstream.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"

#define EVENTS_DIR "events"
/* Records without ApproximateCreationDateTime are stamped with this. */
#define FIXED_NOW_MS INT64_C(1714564800000)
/* A write unit covers 1 KB of item (DynamoDB's standard table class). */
#define WRITE_UNIT 1024u

/* The attributes measured, in the order of the table's columns. Detailed items carried
 * eventName before: only classic's is new. */
static const char *const FIELDS[] = {"historyKey", "historySort", "eventName"};
#define NFIELDS          (sizeof FIELDS / sizeof FIELDS[0])
#define EVENT_NAME_FIELD 2

static bool is_new_field(size_t f, as_format format)
{
    return f != EVENT_NAME_FIELD || format == AS_FORMAT_CLASSIC;
}

typedef struct tally {
    size_t files;
    size_t records;
    size_t items;
    size_t unread;        /* items the decoder could not read back (none expected) */
    uint64_t json_after;  /* bytes of wire JSON, as built */
    uint64_t json_before; /* ... less the fields */
    uint64_t size_after;  /* DynamoDB's size, as built (as_item.size) */
    uint64_t size_before; /* ... less the fields' names and values */
    uint64_t units_after; /* write units: ceil(size / 1 KB) each */
    uint64_t units_before;
    uint64_t field_size[NFIELDS]; /* DynamoDB size of each field, summed */
    size_t field_count[NFIELDS];  /* items carrying each field */
    uint64_t max_size;
} tally;

static uint64_t units(uint64_t size)
{
    return size == 0 ? 1 : (size + WRITE_UNIT - 1) / WRITE_UNIT;
}

/* The decoded length of a JSON-escaped name. */
static size_t name_len(const as_value *v, as_buf *scratch)
{
    if (!(v->flags & AS_VALUE_NAME_ESCAPED)) {
        return v->name.len;
    }
    as_buf_clear(scratch);
    as_json_unescape(v->name, scratch);
    return scratch->len;
}

/* Adds one item to `t`; false when memory ran out. */
static bool measure_item(const as_item *item, as_format format, tally *t, as_buf *wrap,
                         as_buf *scratch)
{
    as_buf_clear(wrap);
    as_buf_append_str(wrap, "{\"Records\":[{\"eventID\":\"m\",\"eventName\":\"INSERT\","
                            "\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{\"Keys\":"
                            "{\"k\":{\"S\":\"k\"}},\"SequenceNumber\":\"1\",\"NewImage\":");
    as_buf_append_span(wrap, item->json);
    as_buf_append_str(wrap, "}}]}");
    if (as_buf_status(wrap) != AS_OK) {
        return false;
    }
    uint64_t field_json = 0;
    uint64_t field_size = 0;
    as_event *event = NULL;
    as_error err = {0};
    const as_record *rec = NULL;
    if (as_event_decode(wrap->data, wrap->len, &event, &err) == AS_OK &&
        (rec = as_event_record(event, 0)) != NULL && rec->new_image != NULL) {
        const as_value *image = rec->new_image;
        for (const as_value *a = image + 1; a < image + image->subtree; a += a->subtree) {
            for (size_t f = 0; f < NFIELDS; f++) {
                size_t n = strlen(FIELDS[f]);
                if (!is_new_field(f, format) || a->name.len != n ||
                    memcmp(a->name.ptr, FIELDS[f], n) != 0) {
                    continue;
                }
                uint64_t size = name_len(a, scratch) + a->size;
                t->field_size[f] += size;
                t->field_count[f]++;
                field_size += size;
                /* ,"name":<value>: a comma, the quoted name, a colon, the value's text. */
                field_json += 1 + (a->name.len + 2) + 1 + a->wire.len;
            }
        }
    } else {
        t->unread++;
    }
    as_event_free(event);
    t->items++;
    t->json_after += item->json.len;
    t->json_before += item->json.len - field_json;
    t->size_after += item->size;
    t->size_before += item->size - field_size;
    t->units_after += units(item->size);
    t->units_before += units(item->size - field_size);
    if (item->size > t->max_size) {
        t->max_size = item->size;
    }
    return true;
}

/* Builds the items of one event file in `format` and adds them to `t`. -1 on failure. */
static int measure_file(const char *path, as_format format, tally *t, as_items *items, as_buf *wrap,
                        as_buf *scratch)
{
    char *data = NULL;
    size_t len = 0;
    if (bench_read_file(path, &data, &len) != 0) {
        return -1;
    }
    const char *json = data;
    if (len >= 3 && memcmp(json, "\xEF\xBB\xBF", 3) == 0) {
        json += 3;
        len -= 3;
    }
    as_event *event = NULL;
    as_error err = {0};
    int rc = 0;
    if (as_event_decode(json, len, &event, &err) != AS_OK) {
        /* The deliberately malformed fixture: no items to measure. */
        free(data);
        return 0;
    }
    as_audit_options options = {.format = format, .ignore = NULL, .ignore_count = 0, .now_ms = FIXED_NOW_MS};
    as_items_clear(items);
    if (as_audit_build_event(event, &options, items, &err) != AS_OK) {
        fprintf(stderr, "bench_item_size: %s: %s\n", path, err.message);
        rc = -1;
    } else {
        t->files++;
        t->records += as_event_record_count(event);
        for (size_t i = 0; i < as_items_count(items) && rc == 0; i++) {
            as_item item = as_items_get(items, i);
            if (!measure_item(&item, format, t, wrap, scratch)) {
                fprintf(stderr, "bench_item_size: out of memory\n");
                rc = -1;
            }
        }
    }
    as_event_free(event);
    free(data);
    return rc;
}

static double per_item(uint64_t total, size_t items)
{
    return items == 0 ? 0.0 : (double)total / (double)items;
}

static double growth(uint64_t after, uint64_t before)
{
    return before == 0 ? 0.0 : 100.0 * ((double)after - (double)before) / (double)before;
}

static void print_row(const char *what, as_format format, const tally *t)
{
    printf("| %s | %s | %zu | %zu | %.1f | %.1f | %+.1f%% | %.1f | %.1f | %+.1f%% | %.3f | %.3f "
           "| %+.1f%% |",
           what, format == AS_FORMAT_CLASSIC ? "classic" : "detailed", t->records, t->items,
           per_item(t->json_before, t->items), per_item(t->json_after, t->items),
           growth(t->json_after, t->json_before), per_item(t->size_before, t->items),
           per_item(t->size_after, t->items), growth(t->size_after, t->size_before),
           per_item(t->units_before, t->items), per_item(t->units_after, t->items),
           growth(t->units_after, t->units_before));
    for (size_t f = 0; f < NFIELDS; f++) {
        if (is_new_field(f, format)) {
            printf(" %.1f (%zu) |", per_item(t->field_size[f], t->field_count[f]),
                   t->field_count[f]);
        } else {
            printf(" (had it) |");
        }
    }
    printf("\n");
}

static bool ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text);
    size_t m = strlen(suffix);
    return n >= m && memcmp(text + n - m, suffix, m) == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    bench_config config = BENCH_CONFIG_DEFAULT;
    if (bench_parse_args(&argc, argv, &config) != 0) {
        return 2;
    }
    DIR *dir = opendir(EVENTS_DIR);
    if (dir == NULL) {
        fprintf(stderr, "bench_item_size: no %s/ (run from the top of the tree)\n", EVENTS_DIR);
        return 1;
    }
    char *names[256];
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < 256) {
        if (entry->d_name[0] != '.' && ends_with(entry->d_name, ".json")) {
            names[count] = strdup(entry->d_name);
            if (names[count] != NULL) {
                count++;
            }
        }
    }
    closedir(dir);
    qsort(names, count, sizeof names[0], by_name);

    as_items *items = as_items_new();
    as_buf wrap = AS_BUF_INIT;
    as_buf scratch = AS_BUF_INIT;
    int rc = items == NULL ? 1 : 0;
    printf("| events | format | records | items | JSON B/item before | after | +%% | DynamoDB "
           "size B/item before | after | +%% | write units/item before | after | +%% |");
    for (size_t f = 0; f < NFIELDS; f++) {
        printf(" %s B (items) |", FIELDS[f]);
    }
    printf("\n|");
    for (size_t c = 0; c < 13 + NFIELDS; c++) {
        printf(" --- |");
    }
    printf("\n");
    for (int format = AS_FORMAT_CLASSIC; format <= AS_FORMAT_DETAILED && rc == 0; format++) {
        tally fixtures = {0};
        /* The generated bench-* batches each on a row; the hand-made fixtures together. */
        for (size_t i = 0; i < count && rc == 0; i++) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", EVENTS_DIR, names[i]);
            if (strncmp(names[i], "bench-", 6) == 0) {
                tally t = {0};
                rc = measure_file(path, (as_format)format, &t, items, &wrap, &scratch);
                if (rc == 0) {
                    print_row(names[i], (as_format)format, &t);
                }
                if (t.unread > 0) {
                    fprintf(stderr, "bench_item_size: %s: %zu items not read back\n", names[i],
                            t.unread);
                    rc = 1;
                }
            } else {
                rc = measure_file(path, (as_format)format, &fixtures, items, &wrap, &scratch);
            }
        }
        if (rc == 0) {
            char what[64];
            snprintf(what, sizeof what, "%zu fixtures", fixtures.files);
            print_row(what, (as_format)format, &fixtures);
            if (fixtures.unread > 0) {
                fprintf(stderr, "bench_item_size: %zu items could not be read back\n",
                        fixtures.unread);
                rc = 1;
            }
        }
    }
    for (size_t i = 0; i < count; i++) {
        free(names[i]);
    }
    as_buf_free(&wrap);
    as_buf_free(&scratch);
    as_items_free(items);
    return rc;
}
