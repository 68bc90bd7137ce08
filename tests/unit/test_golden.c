/* Golden tests: every fixture in events/ (bench-* and the truncated one aside), built in
 * both formats, must give exactly the lines of tests/golden/<stem>.<format>.jsonl; some
 * again with attributes ignored (tests/golden/ignore/) and as BASELINE items
 * (tests/golden/baseline/); every one again with the trust settings of
 * tests/golden/trust/settings (tests/golden/trust/, BASELINE items in its baseline/); and
 * bootstrap --print must print the same.
 *
 * The golden files were written by tests/golden/audit_model.py, an independent Python
 * model of the audit item format, and read line by line against docs/audit-format.md; only
 * the `error` texts (implementation-specific wording) come from our decoder, via
 * tests/golden/errors.json. Records without ApproximateCreationDateTime are stamped with
 * the fixed clock below. Runs from the top of the tree (make check-unit does). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "auditstream.h"

#define EVENTS_DIR "events"
#define GOLDEN_DIR "tests/golden"
#define IGNORE_DIR GOLDEN_DIR "/ignore"
#define BASELINE_DIR GOLDEN_DIR "/baseline"
#define TRUST_DIR GOLDEN_DIR "/trust"
#define TRUST_BASELINE_DIR TRUST_DIR "/baseline"
#define TRUST_SETTINGS TRUST_DIR "/settings"
#define MALFORMED "aws-lambda-go-dynamodb-event-malformed.2.json"
/* 2024-05-01T12:30:45.678Z: the clock the goldens were written with. */
#define NOW_MS INT64_C(1714566645678)
#define NOW_TEXT "\"modificationTime\":{\"S\":\"2024-05-01T12:30:45.678Z\"}"

/* The bootstrap beside this binary's build directory ($(BUILD)/tests/../bootstrap),
 * else ./build/bootstrap. */
static char bootstrap_path[4096] = "./build/bootstrap";

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096;
    size_t n = 0;
    char *data = malloc(cap + 1);
    assert_non_null(data);
    size_t got;
    while ((got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            data = realloc(data, cap + 1);
            assert_non_null(data);
        }
    }
    assert_int_equal(ferror(f), 0);
    fclose(f);
    data[n] = '\0';
    *len = n;
    return data;
}

/* Mismatch reports go straight to stderr: cmocka's print_error cuts long lines, and the
 * lines of error items run to kilobytes. */
static void report(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    vfprintf(stderr, format, ap);
    va_end(ap);
    fflush(stderr);
}

static size_t first_difference(as_span a, as_span b)
{
    size_t i = 0;
    while (i < a.len && i < b.len && a.ptr[i] == b.ptr[i]) {
        i++;
    }
    return i;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s);
    size_t lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* The fixtures with goldens: the .json files of events/ but bench-* and the truncated
 * one, sorted. Returns the count; *out is a malloc'd array of malloc'd names. */
static size_t list_fixtures(char ***out)
{
    DIR *dir = opendir(EVENTS_DIR);
    if (dir == NULL) {
        fail_msg("cannot open %s/: run the test from the top of the tree", EVENTS_DIR);
    }
    size_t n = 0;
    size_t cap = 16;
    char **names = malloc(cap * sizeof *names);
    assert_non_null(names);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (!ends_with(e->d_name, ".json") || strncmp(e->d_name, "bench-", 6) == 0 ||
            strcmp(e->d_name, MALFORMED) == 0) {
            continue;
        }
        if (n == cap) {
            cap *= 2;
            names = realloc(names, cap * sizeof *names);
            assert_non_null(names);
        }
        names[n] = strdup(e->d_name);
        assert_non_null(names[n]);
        n++;
    }
    closedir(dir);
    qsort(names, n, sizeof *names, compare_names);
    *out = names;
    return n;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

/* Next line of `text` (from *pos), without its '\n'; false at the end. */
static bool next_line(const char *text, size_t len, size_t *pos, as_span *line)
{
    if (*pos >= len) {
        return false;
    }
    const char *start = text + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t l = nl != NULL ? (size_t)(nl - start) : len - *pos;
    line->ptr = start;
    line->len = l;
    *pos += l + (nl != NULL ? 1 : 0);
    return true;
}

static bool span_contains(as_span s, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= s.len; i++) {
        if (memcmp(s.ptr + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

/* Fixtures built again with AUDIT_IGNORE_ATTRIBUTES set, against the goldens of
 * IGNORE_DIR (the same table as tests/golden/audit_model.py's IGNORE_GOLDENS). */
static const struct {
    const char *fixture;
    const char *ignore;
} IGNORE_CASES[] = {
    {"aws-lambda-java-libs-dynamo_event.json", "Message,Id"},
    {"aws-lambda-go-dynamodb-event.json", "String,Map,NumberSet"},
    {"localstack-esm-modify-attr-added.json", "id2"},
    {"powertools-lambda-python-getting_started_dynamodb_event.json", "SomethingElse"},
};
#define IGNORE_CASE_COUNT (sizeof IGNORE_CASES / sizeof IGNORE_CASES[0])

/* Splits a comma list (no blanks in the table's) into spans borrowed from it. */
static size_t split_names(const char *list, as_span *out, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        const char *comma = strchr(list, ',');
        size_t len = comma != NULL ? (size_t)(comma - list) : strlen(list);
        out[n++] = (as_span){list, len};
        if (comma == NULL) {
            break;
        }
        list = comma + 1;
    }
    return n;
}

/* The trust settings of TRUST_SETTINGS (AUDIT_*=value lines, as the function reads its
 * variables), as as_audit_options take them. */
typedef struct trust_settings {
    char *text; /* the file, which the spans borrow */
    as_span actor;
    uint32_t days;
    as_span redact[16];
    size_t redact_count;
    unsigned char key[64];
    size_t key_len;
} trust_settings;

static void read_trust(trust_settings *t)
{
    memset(t, 0, sizeof *t);
    size_t len = 0;
    t->text = read_all(TRUST_SETTINGS, &len);
    if (t->text == NULL) {
        fail_msg("cannot read %s", TRUST_SETTINGS);
    }
    for (char *line = t->text; *line != '\0';) {
        char *nl = strchr(line, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }
        char *eq = strchr(line, '=');
        if (line[0] != '#' && eq != NULL) {
            *eq = '\0';
            const char *value = eq + 1;
            if (strcmp(line, "AUDIT_ACTOR_ATTRIBUTE") == 0) {
                t->actor = as_span_from_cstr(value);
            } else if (strcmp(line, "AUDIT_RETENTION_DAYS") == 0) {
                t->days = (uint32_t)strtoul(value, NULL, 10);
            } else if (strcmp(line, "AUDIT_REDACT_ATTRIBUTES") == 0) {
                t->redact_count = split_names(value, t->redact, 16);
            } else if (strcmp(line, "AUDIT_REDACT_KEY") == 0) {
                size_t b64 = strlen(value);
                assert_true(b64 % 4 == 0 && b64 / 4 * 3 <= sizeof t->key);
                int n = EVP_DecodeBlock(t->key, (const unsigned char *)value, (int)b64);
                assert_true(n >= 0);
                /* EVP_DecodeBlock counts the padding's bytes too. */
                size_t pad = (b64 > 0 && value[b64 - 1] == '=') + (b64 > 1 && value[b64 - 2] == '=');
                t->key_len = (size_t)n - pad;
            } else {
                fail_msg("%s: unknown setting %s", TRUST_SETTINGS, line);
            }
        }
        line = nl != NULL ? nl + 1 : line + strlen(line);
    }
    /* The settings the goldens were written for: each option is on. */
    assert_true(t->actor.len > 0 && t->days > 0 && t->redact_count > 0 &&
                t->key_len >= AS_AUDIT_MIN_REDACT_KEY);
}

/* `options` with the trust settings on. */
static void apply_trust(as_audit_options *options, const trust_settings *t)
{
    options->actor_attribute = t->actor;
    options->retention_days = t->days;
    options->redact = t->redact;
    options->redact_count = t->redact_count;
    options->redact_key = t->key;
    options->redact_key_len = t->key_len;
}

/* The body of the S attribute `name` in an item's line (its first occurrence: the common
 * fields come first), escapes kept; empty when the line has none. */
static as_span s_body(as_span line, const char *name)
{
    char pattern[64];
    int n = snprintf(pattern, sizeof pattern, "\"%s\":{\"S\":\"", name);
    for (size_t i = 0; i + (size_t)n <= line.len; i++) {
        if (memcmp(line.ptr + i, pattern, (size_t)n) == 0) {
            size_t start = i + (size_t)n;
            size_t end = start;
            while (end < line.len && line.ptr[end] != '"') {
                end += line.ptr[end] == '\\' ? 2 : 1;
            }
            return (as_span){line.ptr + start, end - start};
        }
    }
    return (as_span){NULL, 0};
}

/* The item's spans are the bodies its line holds; the count of those that are not. */
static int check_spans(const char *what, size_t lineno, as_item item)
{
    static const char *const names[] = {"id", "historyKey", "historySort", "modificationTime"};
    const as_span spans[] = {item.id, item.history_key, item.history_sort, item.modification_time};
    int bad = 0;
    for (size_t i = 0; i < 4; i++) {
        as_span want = s_body(item.json, names[i]);
        if (spans[i].len != want.len || (want.len > 0 && spans[i].ptr != want.ptr)) {
            report("%s line %zu: the %s span is %.*s, the item holds %.*s\n", what, lineno,
                   names[i], (int)spans[i].len, spans[i].ptr != NULL ? spans[i].ptr : "",
                   (int)want.len, want.ptr != NULL ? want.ptr : "");
            bad++;
        }
    }
    return bad;
}

/* A fixture decoded beside its golden file `<dir>/<fixture less .json>.<fmt>.jsonl`. */
typedef struct golden_case {
    char *input;
    char *golden;
    size_t golden_len;
    as_event *event;
} golden_case;

static void case_close(golden_case *c)
{
    as_event_free(c->event);
    free(c->input);
    free(c->golden);
}

/* Reads and decodes the fixture (after a byte-order mark, as bootstrap --print allows) and
 * reads its golden; false, said, when any of it fails. */
static bool case_open(golden_case *c, const char *fixture, const char *dir, const char *fmt)
{
    memset(c, 0, sizeof *c);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", EVENTS_DIR, fixture);
    size_t len = 0;
    c->input = read_all(path, &len);
    if (c->input == NULL) {
        report("%s: cannot read\n", path);
        return false;
    }
    char golden_path[512];
    snprintf(golden_path, sizeof golden_path, "%s/%.*s.%s.jsonl", dir,
             (int)(strlen(fixture) - strlen(".json")), fixture, fmt);
    c->golden = read_all(golden_path, &c->golden_len);
    if (c->golden == NULL) {
        report("%s: no golden file %s\n", fixture, golden_path);
        case_close(c);
        return false;
    }
    const char *json = c->input;
    if (len >= 3 && memcmp(json, "\xEF\xBB\xBF", 3) == 0) {
        json += 3;
        len -= 3;
    }
    as_error err = {0};
    if (as_event_decode(json, len, &c->event, &err) != AS_OK) {
        report("%s: decode failed: %s\n", fixture, err.message);
        case_close(c);
        return false;
    }
    return true;
}

/* Builds `fixture` in `format` (with `ignore`, a comma list, or NULL, and the trust
 * settings `trust` or none) and compares with its golden file in `dir`; prints each
 * mismatch and returns how many lines differ (a missing or extra line counts as one). */
static int check_fixture(const char *fixture, as_format format, const char *dir,
                         const char *ignore, const trust_settings *trust)
{
    const char *fmt = format == AS_FORMAT_CLASSIC ? "classic" : "detailed";
    golden_case c;
    if (!case_open(&c, fixture, dir, fmt)) {
        return 1;
    }
    const char *golden = c.golden;
    size_t golden_len = c.golden_len;
    as_error err = {0};
    as_items *items = as_items_new();
    assert_non_null(items);
    as_span names[8];
    size_t name_count = ignore != NULL ? split_names(ignore, names, 8) : 0;
    as_audit_options options = {
        .format = format, .ignore = names, .ignore_count = name_count, .now_ms = NOW_MS};
    if (trust != NULL) {
        apply_trust(&options, trust);
    }
    if (as_audit_build_event(c.event, &options, items, &err) != AS_OK) {
        report("%s (%s): build failed: %s\n", fixture, fmt, err.message);
        as_items_free(items);
        case_close(&c);
        return 1;
    }

    int bad = 0;
    size_t pos = 0;
    size_t count = as_items_count(items);
    size_t lineno = 0;
    as_span want;
    while (next_line(golden, golden_len, &pos, &want)) {
        lineno++;
        if (lineno > count) {
            report("%s (%s) line %zu: missing item\n  want: %.*s\n", fixture, fmt, lineno,
                   (int)want.len, want.ptr);
            bad++;
            continue;
        }
        as_item item = as_items_get(items, lineno - 1);
        if (item.json.len != want.len || memcmp(item.json.ptr, want.ptr, want.len) != 0) {
            report("%s (%s) line %zu differs from byte %zu\n  want: %.*s\n  got:  %.*s\n",
                   fixture, fmt, lineno, first_difference(want, item.json), (int)want.len,
                   want.ptr, (int)item.json.len, item.json.ptr);
            bad++;
            continue;
        }
        bad += check_spans(fixture, lineno, item);
        /* The flags agree with what the line is: an error item, a processing-time stamp.
         * (No fixture has an attribute named "error", nor the fixed clock's time.) */
        bool is_error = span_contains(want, "},\"error\":{\"S\":\"") &&
                        span_contains(want, "},\"rawRecord");
        if (((item.flags & AS_ITEM_ERROR) != 0) != is_error) {
            report("%s (%s) line %zu: AS_ITEM_ERROR is %s\n", fixture, fmt, lineno,
                   is_error ? "not set" : "set");
            bad++;
        }
        bool is_now = span_contains(want, NOW_TEXT);
        if (((item.flags & AS_ITEM_PROCESSING_TIME) != 0) != is_now) {
            report("%s (%s) line %zu: AS_ITEM_PROCESSING_TIME is %s\n", fixture, fmt,
                   lineno, is_now ? "not set" : "set");
            bad++;
        }
    }
    for (size_t i = lineno; i < count; i++) {
        as_item item = as_items_get(items, i);
        report("%s (%s) line %zu: extra item\n  got:  %.*s\n", fixture, fmt, i + 1,
               (int)item.json.len, item.json.ptr);
        bad++;
    }

    as_items_free(items);
    case_close(&c);
    return bad;
}

static void check_format(as_format format)
{
    char **names = NULL;
    size_t n = list_fixtures(&names);
    assert_true(n > 0);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad += check_fixture(names[i], format, GOLDEN_DIR, NULL, NULL);
    }
    free_names(names, n);
    if (bad != 0) {
        fail_msg("%d line(s) differ from the golden files", bad);
    }
}

static void test_classic(void **state)
{
    (void)state;
    check_format(AS_FORMAT_CLASSIC);
}

static void test_detailed(void **state)
{
    (void)state;
    check_format(AS_FORMAT_DETAILED);
}

/* With attributes ignored: both formats of every case of IGNORE_CASES. */
static void test_ignore(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < IGNORE_CASE_COUNT; i++) {
        bad += check_fixture(IGNORE_CASES[i].fixture, AS_FORMAT_CLASSIC, IGNORE_DIR,
                             IGNORE_CASES[i].ignore, NULL);
        bad += check_fixture(IGNORE_CASES[i].fixture, AS_FORMAT_DETAILED, IGNORE_DIR,
                             IGNORE_CASES[i].ignore, NULL);
    }
    if (bad != 0) {
        fail_msg("%d line(s) differ from the golden files of %s", bad, IGNORE_DIR);
    }
}

/* Fixtures whose valid records' new images are built again as BASELINE items (table
 * Configuration, the record's Keys names for the key schema, read at NOW_MS), against
 * the goldens of BASELINE_DIR (tests/golden/audit_model.py's BASELINE_GOLDENS). */
static const struct {
    const char *fixture;
    const char *ignore; /* "" for none */
} BASELINE_CASES[] = {
    {"aws-lambda-dotnet-dynamodb-event.json", ""},
    {"aws-lambda-java-libs-dynamo_event.json", "Message"},
    {"aws-lambda-go-dynamodb-event.json", ""},
    {"localstack-esm-insert-number.json", ""},
    {"localstack-getrecords-batchwrite.json", "name"},
};
#define BASELINE_CASE_COUNT (sizeof BASELINE_CASES / sizeof BASELINE_CASES[0])

/* The BASELINE items of one case in `format` (with the trust settings `trust` or none,
 * against the goldens of `dir`); lines that differ. */
static int check_baselines(const char *fixture, const char *ignore, as_format format,
                           const char *dir, const trust_settings *trust)
{
    const char *fmt = format == AS_FORMAT_CLASSIC ? "classic" : "detailed";
    golden_case c;
    if (!case_open(&c, fixture, dir, fmt)) {
        return 1;
    }
    const as_event *event = c.event;
    as_error err = {0};
    as_span names[8];
    size_t name_count = ignore[0] != '\0' ? split_names(ignore, names, 8) : 0;
    as_audit_options options = {.format = format, .ignore = names, .ignore_count = name_count};
    if (trust != NULL) {
        apply_trust(&options, trust);
    }
    as_items *items = as_items_new();
    assert_non_null(items);
    for (size_t i = 0; i < as_event_record_count(event); i++) {
        const as_record *rec = as_event_record(event, i);
        if (rec->error != NULL || rec->new_image == NULL) {
            continue;
        }
        as_buf key_names = AS_BUF_INIT;
        size_t ends[2];
        size_t n = 0;
        for (const as_value *k = rec->keys + 1; k < rec->keys + rec->keys->subtree && n < 2;
             k += k->subtree) {
            as_json_unescape(k->name, &key_names);
            ends[n++] = key_names.len;
        }
        assert_int_equal(as_buf_status(&key_names), AS_OK);
        as_span keys[2];
        for (size_t k = 0; k < n; k++) {
            size_t start = k == 0 ? 0 : ends[k - 1];
            keys[k] = (as_span){key_names.data + start, ends[k] - start};
        }
        as_baseline b = {rec->new_image, keys, n, {"Configuration", 13}, NOW_MS};
        as_status st = as_audit_build_baseline(&b, &options, items, &err);
        as_buf_free(&key_names);
        if (st != AS_OK) {
            report("%s (%s) record %zu: %s\n", fixture, fmt, i, err.message);
            as_items_free(items);
            case_close(&c);
            return 1;
        }
    }
    int bad = 0;
    size_t pos = 0;
    size_t lineno = 0;
    as_span want;
    while (next_line(c.golden, c.golden_len, &pos, &want)) {
        as_item item = as_items_get(items, lineno++);
        if (item.json.len != want.len || memcmp(item.json.ptr, want.ptr, want.len) != 0) {
            report("%s (%s) baseline %zu differs\n  want: %.*s\n  got:  %.*s\n", fixture, fmt,
                   lineno, (int)want.len, want.ptr, (int)item.json.len,
                   item.json.ptr != NULL ? item.json.ptr : "");
            bad++;
        } else {
            bad += check_spans(fixture, lineno, item);
        }
    }
    if (lineno != as_items_count(items)) {
        report("%s (%s): %zu baselines, %zu golden lines\n", fixture, fmt, as_items_count(items),
               lineno);
        bad++;
    }
    as_items_free(items);
    case_close(&c);
    return bad;
}

/* BASELINE items, ids included (so the canonical form too), against the model's. */
static void test_baseline(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < BASELINE_CASE_COUNT; i++) {
        bad += check_baselines(BASELINE_CASES[i].fixture, BASELINE_CASES[i].ignore,
                               AS_FORMAT_CLASSIC, BASELINE_DIR, NULL);
        bad += check_baselines(BASELINE_CASES[i].fixture, BASELINE_CASES[i].ignore,
                               AS_FORMAT_DETAILED, BASELINE_DIR, NULL);
    }
    if (bad != 0) {
        fail_msg("%d line(s) differ from the golden files of %s", bad, BASELINE_DIR);
    }
}

/* The files of `dir` are exactly both goldens of each of `fixtures`. */
static void check_case_goldens(const char *dir_path, const char *const *fixtures, size_t count)
{
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    size_t goldens = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        bool found = false;
        for (size_t i = 0; i < count && !found; i++) {
            size_t stem = strlen(fixtures[i]) - strlen(".json");
            found = strncmp(e->d_name, fixtures[i], stem) == 0 &&
                    (strcmp(e->d_name + stem, ".classic.jsonl") == 0 ||
                     strcmp(e->d_name + stem, ".detailed.jsonl") == 0);
        }
        if (!found) {
            closedir(dir);
            fail_msg("%s/%s belongs to no case", dir_path, e->d_name);
        }
        goldens++;
    }
    closedir(dir);
    assert_int_equal(goldens, 2 * count);
}

/* The files of `dir` are exactly both goldens of each of `fixtures`, and `extra_file`
 * and `extra_dir` when not NULL. */
static void check_trust_dir(const char *dir_path, const char *const *fixtures, size_t count,
                            const char *extra_file, const char *extra_dir)
{
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    size_t goldens = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.' || (extra_file != NULL && strcmp(e->d_name, extra_file) == 0) ||
            (extra_dir != NULL && strcmp(e->d_name, extra_dir) == 0)) {
            continue;
        }
        bool found = false;
        for (size_t i = 0; i < count && !found; i++) {
            size_t stem = strlen(fixtures[i]) - strlen(".json");
            found = strncmp(e->d_name, fixtures[i], stem) == 0 &&
                    (strcmp(e->d_name + stem, ".classic.jsonl") == 0 ||
                     strcmp(e->d_name + stem, ".detailed.jsonl") == 0);
        }
        if (!found) {
            closedir(dir);
            fail_msg("%s/%s belongs to no case", dir_path, e->d_name);
        }
        goldens++;
    }
    closedir(dir);
    assert_int_equal(goldens, 2 * count);
}

/* Every fixture with the trust settings on (actor, retention, redaction with a key), in
 * both formats, and the BASELINE cases' items (without their ignore lists) too. */
static void test_trust(void **state)
{
    (void)state;
    trust_settings trust;
    read_trust(&trust);
    char **names = NULL;
    size_t n = list_fixtures(&names);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad += check_fixture(names[i], AS_FORMAT_CLASSIC, TRUST_DIR, NULL, &trust);
        bad += check_fixture(names[i], AS_FORMAT_DETAILED, TRUST_DIR, NULL, &trust);
    }
    for (size_t i = 0; i < BASELINE_CASE_COUNT; i++) {
        bad += check_baselines(BASELINE_CASES[i].fixture, "", AS_FORMAT_CLASSIC,
                               TRUST_BASELINE_DIR, &trust);
        bad += check_baselines(BASELINE_CASES[i].fixture, "", AS_FORMAT_DETAILED,
                               TRUST_BASELINE_DIR, &trust);
    }
    free_names(names, n);
    free(trust.text);
    if (bad != 0) {
        fail_msg("%d line(s) differ from the golden files of %s", bad, TRUST_DIR);
    }
}

/* The trust goldens are both formats of every fixture, and of every BASELINE case; the
 * trust settings differ from none (every golden of the trust folder differs from the
 * plain one of its fixture but where the fixture holds nothing they touch). */
static void test_trust_goldens_match(void **state)
{
    (void)state;
    char **names = NULL;
    size_t n = list_fixtures(&names);
    check_trust_dir(TRUST_DIR, (const char *const *)names, n, "settings", "baseline");
    const char *fixtures[BASELINE_CASE_COUNT];
    for (size_t i = 0; i < BASELINE_CASE_COUNT; i++) {
        fixtures[i] = BASELINE_CASES[i].fixture;
    }
    check_trust_dir(TRUST_BASELINE_DIR, fixtures, BASELINE_CASE_COUNT, NULL, NULL);
    /* The settings change most fixtures' items: a trust golden equal to its plain golden
     * everywhere would prove nothing. */
    size_t changed = 0;
    for (size_t i = 0; i < n; i++) {
        char plain[512];
        char trusted[512];
        size_t stem = strlen(names[i]) - strlen(".json");
        snprintf(plain, sizeof plain, "%s/%.*s.classic.jsonl", GOLDEN_DIR, (int)stem, names[i]);
        snprintf(trusted, sizeof trusted, "%s/%.*s.classic.jsonl", TRUST_DIR, (int)stem, names[i]);
        size_t a_len = 0;
        size_t b_len = 0;
        char *a = read_all(plain, &a_len);
        char *b = read_all(trusted, &b_len);
        assert_non_null(a);
        assert_non_null(b);
        changed += a_len != b_len || memcmp(a, b, a_len) != 0;
        free(a);
        free(b);
    }
    assert_int_equal(changed, n);
    free_names(names, n);
}

static void test_baseline_goldens_match_cases(void **state)
{
    (void)state;
    const char *fixtures[BASELINE_CASE_COUNT];
    for (size_t i = 0; i < BASELINE_CASE_COUNT; i++) {
        fixtures[i] = BASELINE_CASES[i].fixture;
    }
    check_case_goldens(BASELINE_DIR, fixtures, BASELINE_CASE_COUNT);
}

/* Every file of IGNORE_DIR is the golden of a case, and each case has both. */
static void test_ignore_goldens_match_cases(void **state)
{
    (void)state;
    const char *fixtures[IGNORE_CASE_COUNT];
    for (size_t i = 0; i < IGNORE_CASE_COUNT; i++) {
        fixtures[i] = IGNORE_CASES[i].fixture;
    }
    check_case_goldens(IGNORE_DIR, fixtures, IGNORE_CASE_COUNT);
}

/* Every golden file belongs to a fixture that is tested, and each fixture has both. */
static void test_goldens_match_fixtures(void **state)
{
    (void)state;
    char **names = NULL;
    size_t n = list_fixtures(&names);
    DIR *dir = opendir(GOLDEN_DIR);
    assert_non_null(dir);
    size_t goldens = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        const char *suffix = ends_with(e->d_name, ".classic.jsonl")    ? ".classic.jsonl"
                             : ends_with(e->d_name, ".detailed.jsonl") ? ".detailed.jsonl"
                                                                       : NULL;
        if (suffix == NULL) {
            continue;
        }
        goldens++;
        size_t stem = strlen(e->d_name) - strlen(suffix);
        bool found = false;
        for (size_t i = 0; i < n && !found; i++) {
            found = strlen(names[i]) == stem + strlen(".json") &&
                    memcmp(names[i], e->d_name, stem) == 0;
        }
        if (!found) {
            closedir(dir);
            free_names(names, n);
            fail_msg("%s/%s has no fixture in %s/", GOLDEN_DIR, e->d_name, EVENTS_DIR);
        }
    }
    closedir(dir);
    assert_int_equal(goldens, 2 * n);
    free_names(names, n);
}

/* The truncated fixture is not JSON: the decoder says so and where. */
static void test_malformed_decode(void **state)
{
    (void)state;
    size_t len = 0;
    char *input = read_all(EVENTS_DIR "/" MALFORMED, &len);
    assert_non_null(input);
    as_event *event = NULL;
    as_error err = {0};
    assert_int_equal(as_event_decode(input, len, &event, &err), AS_ERR_JSON);
    assert_null(event);
    assert_int_equal(err.code, AS_ERR_JSON);
    assert_true(err.offset <= len);
    assert_true(strlen(err.message) > 0);
    free(input);
}

/* Runs `command` through the shell; returns its exit status and what it printed. */
static int run(const char *command, char *out, size_t cap, size_t *out_len)
{
    FILE *p = popen(command, "r");
    assert_non_null(p);
    size_t n = 0;
    size_t got;
    char sink[4096];
    while ((got = fread(n < cap ? out + n : sink, 1, n < cap ? cap - n : sizeof sink, p)) > 0) {
        n += got;
    }
    int status = pclose(p);
    assert_true(WIFEXITED(status));
    *out_len = n < cap ? n : cap;
    return WEXITSTATUS(status);
}

/* The shell words that run the bootstrap with none of the variables that shape items
 * (whatever the caller's environment holds) and without an audit table, which --print
 * does not need. */
#define CLEAN_ENV                                                                                  \
    "env -u AUDIT_FORMAT -u AUDIT_IGNORE_ATTRIBUTES -u AUDIT_TABLE -u target_table "               \
    "-u AUDIT_ACTOR_ATTRIBUTE -u AUDIT_RETENTION_DAYS -u AUDIT_REDACT_ATTRIBUTES "                 \
    "-u AUDIT_REDACT_KEY -u AUDIT_CHAIN -u AUDIT_WRITE_API "

static void need_bootstrap(void)
{
    if (access(bootstrap_path, X_OK) != 0) {
        fail_msg("%s is missing: build it first (make unit builds it)", bootstrap_path);
    }
}

/* bootstrap --print builds what the function would with the same AUDIT_* variables:
 * AUDIT_FORMAT (--format wins over it) and AUDIT_IGNORE_ATTRIBUTES. */
static void test_print_reads_audit_variables(void **state)
{
    (void)state;
    need_bootstrap();
    static const struct {
        const char *vars;   /* VAR=value words for env */
        const char *args;   /* after --print FIXTURE */
        const char *golden; /* the expected output */
        const char *fixture;
    } CASES[] = {
        {"", "", GOLDEN_DIR "/aws-lambda-java-libs-dynamo_event.classic.jsonl",
         "aws-lambda-java-libs-dynamo_event.json"},
        {"AUDIT_FORMAT=detailed", "", GOLDEN_DIR "/aws-lambda-java-libs-dynamo_event.detailed.jsonl",
         "aws-lambda-java-libs-dynamo_event.json"},
        {"AUDIT_FORMAT=detailed", "--format classic",
         GOLDEN_DIR "/aws-lambda-java-libs-dynamo_event.classic.jsonl",
         "aws-lambda-java-libs-dynamo_event.json"},
        {"AUDIT_FORMAT= 'AUDIT_IGNORE_ATTRIBUTES=Message, Id'", "--format detailed",
         IGNORE_DIR "/aws-lambda-java-libs-dynamo_event.detailed.jsonl",
         "aws-lambda-java-libs-dynamo_event.json"},
        {"AUDIT_IGNORE_ATTRIBUTES=String,Map,NumberSet AUDIT_FORMAT=classic", "",
         IGNORE_DIR "/aws-lambda-go-dynamodb-event.classic.jsonl",
         "aws-lambda-go-dynamodb-event.json"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, CLEAN_ENV "%s '%s' --print %s/%s %s 2>/dev/null", CASES[i].vars,
                 bootstrap_path, EVENTS_DIR, CASES[i].fixture, CASES[i].args);
        static char out[1 << 16];
        size_t len = 0;
        int status = run(cmd, out, sizeof out - 1, &len);
        out[len] = '\0';
        size_t want_len = 0;
        char *want = read_all(CASES[i].golden, &want_len);
        assert_non_null(want);
        if (status != 0 || len != want_len || memcmp(out, want, len) != 0) {
            report("%s\nexit %d; want:\n%s\ngot:\n%s\n", cmd, status, want, out);
            free(want);
            fail_msg("case %zu: bootstrap --print differs from %s", i, CASES[i].golden);
        }
        free(want);
    }
}

/* A variable the function would refuse at init: exit status 2, the init error's message
 * on one line of stderr, nothing on stdout, --format or not. */
static void test_print_refuses_bad_variables(void **state)
{
    (void)state;
    need_bootstrap();
    static const struct {
        const char *vars;
        const char *args;
        const char *message;
    } CASES[] = {
        {"AUDIT_FORMAT=Detailed", "",
         "bootstrap: config: AUDIT_FORMAT is \"Detailed\": want classic or detailed\n"},
        {"AUDIT_FORMAT=Detailed", "--format classic",
         "bootstrap: config: AUDIT_FORMAT is \"Detailed\": want classic or detailed\n"},
        {"AUDIT_IGNORE_ATTRIBUTES=a,,b", "",
         "bootstrap: config: AUDIT_IGNORE_ATTRIBUTES: entry 2 is empty (a stray comma?)\n"},
        {"'AUDIT_FORMAT=x\ny'", "", "bootstrap: config: AUDIT_FORMAT is \"x?y\": want classic or detailed\n"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char cmd[8192];
        char out[4096];
        size_t len = 0;
        snprintf(cmd, sizeof cmd,
                 CLEAN_ENV "%s '%s' --print %s/aws-lambda-java-libs-dynamo_event.json %s "
                           "2>&1 >/dev/null",
                 CASES[i].vars, bootstrap_path, EVENTS_DIR, CASES[i].args);
        assert_int_equal(run(cmd, out, sizeof out - 1, &len), 2);
        out[len] = '\0';
        assert_string_equal(out, CASES[i].message);
        snprintf(cmd, sizeof cmd,
                 CLEAN_ENV "%s '%s' --print %s/aws-lambda-java-libs-dynamo_event.json %s 2>/dev/null",
                 CASES[i].vars, bootstrap_path, EVENTS_DIR, CASES[i].args);
        assert_int_equal(run(cmd, out, sizeof out - 1, &len), 2);
        assert_int_equal(len, 0);
    }
}

/* bootstrap --print on the truncated fixture: exit status 2, nothing on stdout, exactly
 * one line on stderr, in both formats. */
static void test_malformed_bootstrap(void **state)
{
    (void)state;
    need_bootstrap();
    static const char *const formats[] = {"classic", "detailed"};
    for (size_t f = 0; f < 2; f++) {
        char cmd[8192];
        char out[8192];
        size_t len = 0;

        /* stderr only (stdout dropped). */
        snprintf(cmd, sizeof cmd, CLEAN_ENV "'%s' --print %s/%s --format %s 2>&1 >/dev/null",
                 bootstrap_path, EVENTS_DIR, MALFORMED, formats[f]);
        assert_int_equal(run(cmd, out, sizeof out - 1, &len), 2);
        out[len] = '\0';
        size_t lines = 0;
        for (size_t i = 0; i < len; i++) {
            lines += out[i] == '\n';
        }
        if (lines != 1 || len == 0 || out[len - 1] != '\n') {
            fail_msg("%s: stderr should be one line, got %zu bytes:\n%s", formats[f], len, out);
        }
        assert_non_null(strstr(out, MALFORMED));

        /* stdout only (stderr dropped): nothing. */
        snprintf(cmd, sizeof cmd, CLEAN_ENV "'%s' --print %s/%s --format %s 2>/dev/null",
                 bootstrap_path, EVENTS_DIR, MALFORMED, formats[f]);
        assert_int_equal(run(cmd, out, sizeof out - 1, &len), 2);
        assert_int_equal(len, 0);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *slash = strrchr(argv[0], '/');
    if (slash != NULL) {
        char candidate[sizeof bootstrap_path];
        int n = snprintf(candidate, sizeof candidate, "%.*s/../bootstrap",
                         (int)(slash - argv[0]), argv[0]);
        if (n > 0 && (size_t)n < sizeof candidate && access(candidate, X_OK) == 0) {
            memcpy(bootstrap_path, candidate, (size_t)n + 1);
        }
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_goldens_match_fixtures),
        cmocka_unit_test(test_classic),
        cmocka_unit_test(test_detailed),
        cmocka_unit_test(test_ignore),
        cmocka_unit_test(test_ignore_goldens_match_cases),
        cmocka_unit_test(test_baseline),
        cmocka_unit_test(test_baseline_goldens_match_cases),
        cmocka_unit_test(test_trust),
        cmocka_unit_test(test_trust_goldens_match),
        cmocka_unit_test(test_malformed_decode),
        cmocka_unit_test(test_malformed_bootstrap),
        cmocka_unit_test(test_print_reads_audit_variables),
        cmocka_unit_test(test_print_refuses_bad_variables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
