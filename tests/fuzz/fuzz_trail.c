/* libFuzzer target for the trail reader: DynamoDB answers (untrusted bytes) through
 * as_wire_decode, checked against jansson, and through as_trail_* and their JSON lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with what broke, so that libFuzzer keeps the input. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_trail: %s:%d: %s: ", __FILE__, __LINE__, #cond);                 \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Out of memory is not what this target looks for: give up on the input quietly. */
#define NOMEM_OK(st) ((st) == AS_OK || (st) == AS_ERR_NOMEM)

static const char NUL_NAME_BYTES[] = "\xF4\x8F\xBF\xBF";

/* ---- Part 1: as_wire_decode against jansson ------------------------------------------- */

/* `span` (JSON-escaped, from a decoded value) decoded, in `tmp`. */
static void unescape(as_span span, as_buf *tmp)
{
    as_buf_clear(tmp);
    as_json_unescape(span, tmp);
}

/* Whether jansson's string `s` holds the bytes of `ours`. */
static bool same_string(json_t *s, as_span ours, as_buf *tmp)
{
    if (!json_is_string(s)) {
        return false;
    }
    unescape(ours, tmp);
    return json_string_length(s) == tmp->len &&
           (tmp->len == 0 || memcmp(json_string_value(s), tmp->data, tmp->len) == 0);
}

static void compare_value(const as_value *v, json_t *j, const char *where, bool nul_names);

/* Our map `map` (its members follow it) against jansson's object `obj`: the same number
 * of members, each found by its decoded name. */
static void compare_members(const as_value *map, json_t *obj, const char *where, bool nul_names)
{
    CHECK(json_is_object(obj), "%s: jansson has no object", where);
    CHECK(json_object_size(obj) == map->count, "%s: %zu members, jansson %zu", where,
          (size_t)map->count, json_object_size(obj));
    as_buf name = AS_BUF_INIT;
    for (const as_value *m = map + 1; m < map + map->subtree; m += m->subtree) {
        as_buf raw = AS_BUF_INIT;
        as_json_unescape(m->name, &raw);
        /* The reference turns \u0000 in names into U+10FFFF (jansson refuses NUL there). */
        as_buf_clear(&name);
        for (size_t i = 0; i < raw.len; i++) {
            if (nul_names && raw.data[i] == '\0') {
                as_buf_append_str(&name, NUL_NAME_BYTES);
            } else {
                as_buf_append_char(&name, raw.data[i]);
            }
        }
        as_buf_free(&raw);
        if (as_buf_status(&name) != AS_OK) {
            break;
        }
        json_t *member = json_object_getn(obj, name.data != NULL ? name.data : "", name.len);
        CHECK(member != NULL, "%s: member \"%.*s\" not in jansson's object", where, (int)name.len,
              name.data != NULL ? name.data : "");
        compare_value(m, member, where, nul_names);
    }
    as_buf_free(&name);
}

/* One attribute value: {"<type>": ...} in jansson's tree. */
static void compare_value(const as_value *v, json_t *j, const char *where, bool nul_names)
{
    CHECK(json_is_object(j) && json_object_size(j) == 1, "%s: value is not {type: ...}", where);
    const char *tag = as_type_name(v->type);
    json_t *body = json_object_get(j, tag);
    CHECK(body != NULL, "%s: jansson's value has no \"%s\"", where, tag);
    as_buf tmp = AS_BUF_INIT;
    switch (v->type) {
    case AS_TYPE_S:
    case AS_TYPE_N:
    case AS_TYPE_B:
        CHECK(same_string(body, v->text, &tmp), "%s: %s text differs", where, tag);
        break;
    case AS_TYPE_SS:
    case AS_TYPE_NS:
    case AS_TYPE_BS: {
        CHECK(json_is_array(body) && json_array_size(body) == v->count,
              "%s: set of %zu, jansson's differs", where, (size_t)v->count);
        size_t i = 0;
        for (const as_value *m = v + 1; m < v + v->subtree; m += m->subtree, i++) {
            CHECK(same_string(json_array_get(body, i), m->text, &tmp), "%s: set member %zu differs",
                  where, i);
        }
        break;
    }
    case AS_TYPE_M: compare_members(v, body, where, nul_names); break;
    case AS_TYPE_L: {
        CHECK(json_is_array(body) && json_array_size(body) == v->count,
              "%s: list of %zu, jansson's differs", where, (size_t)v->count);
        size_t i = 0;
        for (const as_value *m = v + 1; m < v + v->subtree; m += m->subtree, i++) {
            compare_value(m, json_array_get(body, i), where, nul_names);
        }
        break;
    }
    case AS_TYPE_NULL:
        CHECK(json_is_true(body), "%s: NULL is not true in jansson's tree", where);
        break;
    case AS_TYPE_BOOL:
        CHECK(json_is_boolean(body) &&
                  (json_is_true(body) == (v->text.len == 4 && memcmp(v->text.ptr, "true", 4) == 0)),
              "%s: BOOL differs", where);
        break;
    }
    as_buf_free(&tmp);
}

/* Whether jansson's tree is a page DynamoDB could send: an object whose Items is an array
 * of sound items, its LastEvaluatedKey (if any) a sound item too. */
static bool page_sound(json_t *root)
{
    json_t *items = json_object_get(root, "Items");
    if (!json_is_object(root) || !json_is_array(items)) {
        return false;
    }
    uint64_t size;
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *item = json_array_get(items, i);
        if (!json_is_object(item) || !ref_check_item(item, &size)) {
            return false;
        }
    }
    json_t *last = json_object_get(root, "LastEvaluatedKey");
    return last == NULL || (json_is_object(last) && ref_check_item(last, &size));
}

/* A Query page: our verdict and items against jansson's. */
static void differential_page(const char *json, size_t len, const as_wire_items *w, as_status st,
                              const char *message)
{
    ref_doc doc;
    ref_load(json, len, &doc);
    if (doc.rejected) {
        CHECK(st != AS_OK, "jansson refuses the bytes (%s), as_wire_decode took them", doc.error);
    }
    /* And the other way: what jansson reads as a sound page, ours takes. */
    if (doc.root != NULL && doc.duplicates == 0) {
        CHECK(st != AS_ERR_JSON, "jansson reads the bytes, as_wire_decode says: %s", message);
        CHECK(st == AS_OK || st == AS_ERR_NOMEM || !page_sound(doc.root),
              "jansson reads a sound page, as_wire_decode says: %s", message);
    }
    /* Duplicate members are kept as markers, which a count would include: left out. */
    if (st != AS_OK || doc.root == NULL || doc.duplicates > 0) {
        ref_doc_free(&doc);
        return;
    }
    json_t *items = json_object_get(doc.root, "Items");
    CHECK(json_is_array(items), "accepted page without an Items array in jansson's tree");
    size_t count = as_wire_item_count(w);
    CHECK(json_array_size(items) == count, "%zu items, jansson %zu", count, json_array_size(items));
    char where[48];
    for (size_t i = 0; i < count; i++) {
        snprintf(where, sizeof where, "Items[%zu]", i);
        compare_members(as_wire_item(w, i), json_array_get(items, i), where, doc.nul_names);
    }
    json_t *last = json_object_get(doc.root, "LastEvaluatedKey");
    const as_value *key = as_wire_last_key(w);
    CHECK((last != NULL) == (key != NULL), "LastEvaluatedKey: ours %s, jansson %s",
          key != NULL ? "present" : "absent", last != NULL ? "present" : "absent");
    if (key != NULL) {
        compare_members(key, last, "LastEvaluatedKey", doc.nul_names);
    }
    ref_doc_free(&doc);
}

/* Checks one accepted decode's accessors. */
static void check_items(const as_wire_items *w, as_wire_shape shape)
{
    as_wire_shape found = as_wire_items_shape(w);
    CHECK(found != AS_WIRE_ANY && (shape == AS_WIRE_ANY || found == shape),
          "asked for shape %d, found %d", (int)shape, (int)found);
    size_t count = as_wire_item_count(w);
    CHECK(found != AS_WIRE_ITEM || count == 1, "one item decoded as %zu", count);
    CHECK(found != AS_WIRE_GET || count <= 1, "GetItem answer with %zu items", count);
    CHECK(as_wire_item(w, count) == NULL, "an item past the end");
    as_buf name = AS_BUF_INIT;
    for (size_t i = 0; i < count; i++) {
        const as_value *item = as_wire_item(w, i);
        CHECK(item != NULL && item->type == AS_TYPE_M, "item %zu is not a map", i);
        for (const as_value *m = item + 1; m < item + item->subtree; m += m->subtree) {
            unescape(m->name, &name);
            if (as_buf_status(&name) != AS_OK) {
                break;
            }
            CHECK(as_wire_member(item, name.data, name.len) == m,
                  "item %zu: member not found by its own name", i);
        }
    }
    as_buf_free(&name);
}

static void wire_all_shapes(const char *json, size_t len)
{
    static const as_wire_shape shapes[] = {AS_WIRE_ANY, AS_WIRE_PAGE, AS_WIRE_GET, AS_WIRE_ITEM};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        as_wire_items *w = NULL;
        as_error err = {0};
        as_status st = as_wire_decode(json, len, shapes[s], &w, &err);
        if (st == AS_OK) {
            check_items(w, shapes[s]);
        } else {
            CHECK(w == NULL, "failed decode left an out value");
            CHECK(err.message[0] != '\0', "failed decode without a message");
        }
        if (shapes[s] == AS_WIRE_PAGE && st != AS_ERR_NOMEM) {
            differential_page(json, len, w, st, err.message);
        }
        as_wire_items_free(w);
    }
    /* A shape outside the enum is the caller's mistake, whatever the bytes. */
    as_wire_items *w = NULL;
    as_error err = {0};
    as_status st = as_wire_decode(json, len, (as_wire_shape)(AS_WIRE_ITEM + 1), &w, &err);
    CHECK(st == AS_ERR_ARGUMENT && w == NULL, "an unknown shape gave status %d", (int)st);
}

/* ---- Part 2: the trail and its JSON lines --------------------------------------------- */

/* The lines [from, out->len) of `out`: `lines` of them, each a JSON object that jansson
 * reads (through the reference loader, which works around its refusal of \u0000 in
 * names), ending in '\n'. Returns the last line's object (new reference) or NULL. */
static json_t *check_lines(const as_buf *out, size_t from, size_t lines, const char *what)
{
    CHECK(as_buf_status(out) == AS_OK, "%s: buffer failed", what);
    size_t seen = 0;
    json_t *last = NULL;
    size_t start = from;
    for (size_t i = from; i < out->len; i++) {
        if (out->data[i] != '\n') {
            continue;
        }
        ref_doc doc;
        ref_load(out->data + start, i - start, &doc);
        CHECK(!doc.rejected, "%s: line %zu is not JSON (%s): %.*s", what, seen, doc.error,
              (int)(i - start), out->data + start);
        CHECK(doc.inconclusive || json_is_object(doc.root), "%s: line %zu is not an object", what,
              seen);
        json_decref(last);
        last = doc.root != NULL ? json_incref(doc.root) : NULL;
        ref_doc_free(&doc);
        seen++;
        start = i + 1;
    }
    CHECK(start == out->len, "%s: text after the last newline", what);
    CHECK(seen == lines, "%s: %zu lines, expected %zu", what, seen, lines);
    return last;
}

/* What the inputs hold, read independently of the trail: each audit item's decoded
 * historyKey and historySort and its modificationTime. */
typedef struct seen_item {
    as_buf key;
    as_buf sort;
    int64_t time_ms;
    bool timed;
} seen_item;

typedef struct seen_list {
    seen_item *items;
    size_t count;
} seen_list;

static bool string_member(const as_value *item, const char *name, as_buf *out)
{
    const as_value *v = as_wire_attribute(item, name);
    if (v == NULL || v->type != AS_TYPE_S) {
        return false;
    }
    as_buf_clear(out);
    as_json_unescape(v->text, out);
    return as_buf_status(out) == AS_OK;
}

/* Records the items of `json`, which as_trail_add_json just took. */
static void note_items(seen_list *list, const char *json, size_t len)
{
    as_wire_items *w = NULL;
    as_error err = {0};
    as_status st = as_wire_decode(json, len, AS_WIRE_ANY, &w, &err);
    CHECK(NOMEM_OK(st), "the trail took bytes as_wire_decode refuses: %s", err.message);
    for (size_t i = 0; i < as_wire_item_count(w); i++) {
        const as_value *item = as_wire_item(w, i);
        seen_item s = {AS_BUF_INIT, AS_BUF_INIT, 0, false};
        as_buf time = AS_BUF_INIT;
        if (string_member(item, "historyKey", &s.key) &&
            string_member(item, "historySort", &s.sort)) {
            if (string_member(item, "modificationTime", &time)) {
                as_error terr = {0};
                s.timed = as_replay_time_parse((as_span){time.data, time.len}, &s.time_ms, &terr) ==
                          AS_OK;
            }
            seen_item *grown = realloc(list->items, (list->count + 1) * sizeof *grown);
            if (grown != NULL) {
                list->items = grown;
                list->items[list->count++] = s;
                s = (seen_item){AS_BUF_INIT, AS_BUF_INIT, 0, false};
            }
        }
        as_buf_free(&time);
        as_buf_free(&s.key);
        as_buf_free(&s.sort);
    }
    as_wire_items_free(w);
}

static void seen_free(seen_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        as_buf_free(&list->items[i].key);
        as_buf_free(&list->items[i].sort);
    }
    free(list->items);
}

static bool buf_is(const as_buf *b, as_span s)
{
    return b->len == s.len && (s.len == 0 || memcmp(b->data, s.ptr, s.len) == 0);
}

/* Distinct historySort values of `key` among items timed in [since, until]. */
static size_t distinct_sorts(const seen_list *list, as_span key, int64_t since, int64_t until)
{
    size_t n = 0;
    for (size_t i = 0; i < list->count; i++) {
        const seen_item *a = &list->items[i];
        if (!buf_is(&a->key, key) || !a->timed || a->time_ms < since || a->time_ms > until) {
            continue;
        }
        bool repeat = false;
        for (size_t j = 0; j < i && !repeat; j++) {
            const seen_item *b = &list->items[j];
            repeat = buf_is(&b->key, key) && b->timed && b->time_ms >= since &&
                     b->time_ms <= until && b->sort.len == a->sort.len &&
                     memcmp(b->sort.data, a->sort.data, a->sort.len) == 0;
        }
        n += repeat ? 0 : 1;
    }
    return n;
}

/* The replayed item's wire JSON reads back as one item holding the known present
 * attributes, and a complete state matches it. */
static void check_item_json(const as_replay *replay)
{
    as_span json = as_replay_item_json(replay);
    if (as_replay_exists(replay) != AS_EXISTS_YES) {
        CHECK(json.ptr == NULL && json.len == 0, "item JSON though exists is not YES");
        return;
    }
    size_t present = 0;
    for (size_t i = 0; i < as_replay_attribute_count(replay); i++) {
        present += as_replay_attribute_get(replay, i).value != NULL ? 1 : 0;
    }
    as_wire_items *w = NULL;
    as_error err = {0};
    as_status st = as_wire_decode(json.ptr, json.len, AS_WIRE_ITEM, &w, &err);
    CHECK(NOMEM_OK(st), "the replayed item's JSON does not decode: %s: %.*s", err.message,
          (int)json.len, json.ptr);
    if (st == AS_OK) {
        const as_value *item = as_wire_item(w, 0);
        CHECK(item != NULL && item->count == present, "item JSON holds %zu attributes, %zu known",
              item != NULL ? (size_t)item->count : 0, present);
        CHECK(!as_replay_complete(replay) || as_replay_matches(replay, item),
              "a complete state does not match its own item JSON");
    }
    as_wire_items_free(w);
}

/* Replays `key` as of `at`, checks the show line; at AS_TIME_MAX, that the line's exists
 * and complete are the result's. */
static void check_replay(as_trail *trail, as_span key, int64_t at, as_replay *replay, as_buf *out)
{
    as_error err = {0};
    as_status st = as_trail_replay(trail, key, at, replay, &err);
    CHECK(NOMEM_OK(st), "replay failed: %s", err.message);
    if (st != AS_OK) {
        return;
    }
    size_t from = out->len;
    st = as_replay_write_json(replay, out, &err);
    CHECK(NOMEM_OK(st), "show line failed: %s", err.message);
    if (st != AS_OK) {
        return;
    }
    json_t *line = check_lines(out, from, 1, "show");
    if (line != NULL) {
        json_t *exists = json_object_get(line, "exists");
        json_t *complete = json_object_get(line, "complete");
        as_exists e = as_replay_exists(replay);
        CHECK(exists != NULL && complete != NULL, "show line without exists or complete");
        CHECK(e == AS_EXISTS_YES  ? json_is_true(exists)
              : e == AS_EXISTS_NO ? json_is_false(exists)
                                  : json_is_null(exists),
              "exists %d, the line says otherwise", (int)e);
        CHECK(json_is_boolean(complete) && json_is_true(complete) == as_replay_complete(replay),
              "complete differs from the line");
        CHECK(json_is_null(json_object_get(line, "item")) == (e != AS_EXISTS_YES),
              "item present though exists is not true, or the reverse");
        json_t *hk = json_object_get(line, "historyKey");
        CHECK(json_is_string(hk) && json_string_length(hk) == key.len &&
                  (key.len == 0 || memcmp(json_string_value(hk), key.ptr, key.len) == 0),
              "the show line's historyKey is not the key");
        json_t *notes = json_object_get(line, "notes");
        CHECK(json_is_array(notes) && json_array_size(notes) == as_replay_note_count(replay),
              "the show line's notes are not the result's");
        json_decref(line);
    }
    check_item_json(replay);
}

static void check_key(as_trail *trail, as_span key, const seen_list *seen)
{
    as_replay *replay = as_replay_new();
    as_history *history = as_history_new();
    as_verify *verify = as_verify_new();
    as_buf out = AS_BUF_INIT;
    if (replay == NULL || history == NULL || verify == NULL) {
        goto done;
    }
    as_error err = {0};
    as_status st = as_trail_history(trail, key, AS_TIME_MIN, AS_TIME_MAX, history, &err);
    CHECK(NOMEM_OK(st), "history failed: %s", err.message);
    if (st != AS_OK) {
        goto done;
    }
    size_t records = as_history_count(history);
    CHECK(records == distinct_sorts(seen, key, AS_TIME_MIN, AS_TIME_MAX),
          "history has %zu records, %zu distinct historySort", records,
          distinct_sorts(seen, key, AS_TIME_MIN, AS_TIME_MAX));
    st = as_history_write_json(history, &out, &err);
    CHECK(NOMEM_OK(st), "history lines failed: %s", err.message);
    if (st == AS_OK) {
        json_decref(check_lines(&out, 0, records, "history"));
    }
    /* The times to look at: each record's, a millisecond before it, and the ends. */
    size_t ntimes = 0;
    int64_t *times = malloc((2 * records + 2) * sizeof *times);
    if (times == NULL) {
        goto done;
    }
    times[ntimes++] = AS_TIME_MIN;
    for (size_t i = 0; i < records; i++) {
        as_history_record rec;
        CHECK(as_history_get(history, i, &rec), "record %zu missing", i);
        CHECK(i == 0 || times[ntimes - 1] <= rec.time_ms, "history not oldest first");
        times[ntimes++] = rec.time_ms;
        if (rec.time_ms > AS_TIME_MIN) {
            times[ntimes++] = rec.time_ms - 1;
        }
    }
    times[ntimes++] = AS_TIME_MAX;
    as_history *upto = as_history_new();
    for (size_t t = 0; t < ntimes && upto != NULL; t++) {
        out.len = 0;
        check_replay(trail, key, times[t], replay, &out);
        st = as_trail_history(trail, key, AS_TIME_MIN, times[t], upto, &err);
        CHECK(NOMEM_OK(st), "history up to a time failed: %s", err.message);
        if (st == AS_OK) {
            size_t expected = distinct_sorts(seen, key, AS_TIME_MIN, times[t]);
            CHECK(as_history_count(upto) == expected,
                  "history up to %lld: %zu records, %zu distinct", (long long)times[t],
                  as_history_count(upto), expected);
        }
        st = as_trail_history(trail, key, times[t], AS_TIME_MAX, upto, &err);
        CHECK(NOMEM_OK(st), "history from a time failed: %s", err.message);
        if (st == AS_OK) {
            size_t expected = distinct_sorts(seen, key, times[t], AS_TIME_MAX);
            CHECK(as_history_count(upto) == expected,
                  "history from %lld: %zu records, %zu distinct", (long long)times[t],
                  as_history_count(upto), expected);
        }
    }
    as_history_free(upto);
    free(times);
    out.len = 0;
    st = as_trail_verify(trail, key, verify, &err);
    CHECK(NOMEM_OK(st), "verify failed: %s", err.message);
    if (st == AS_OK) {
        CHECK(as_verify_entries(verify) == records, "verify: %zu entries, history %zu",
              as_verify_entries(verify), records);
        st = as_verify_write_json(verify, &out, &err);
        CHECK(NOMEM_OK(st), "verify line failed: %s", err.message);
        json_t *line = st == AS_OK ? check_lines(&out, 0, 1, "verify") : NULL;
        if (line != NULL) {
            json_t *entries = json_object_get(line, "entries");
            json_t *problems = json_object_get(line, "problems");
            CHECK(json_is_integer(entries) &&
                      (size_t)json_integer_value(entries) == as_verify_entries(verify),
                  "the verify line's entries are not the result's");
            CHECK(json_is_boolean(json_object_get(line, "ok")) &&
                      json_is_true(json_object_get(line, "ok")) == as_verify_ok(verify),
                  "the verify line's ok is not the result's");
            CHECK(json_is_array(problems) &&
                      json_array_size(problems) == as_verify_problem_count(verify),
                  "the verify line's problems are not the result's");
            json_decref(line);
        }
        /* The hash chain's checks add to the same result and never fail on what the
         * trail holds: every record stays counted once. */
        size_t before = as_verify_problem_count(verify);
        st = as_trail_verify_chain(trail, key, NULL, 0, verify, &err);
        CHECK(NOMEM_OK(st), "verify_chain failed: %s", err.message);
        if (st == AS_OK) {
            CHECK(as_verify_entries(verify) == records && as_verify_problem_count(verify) >= before,
                  "verify_chain changed the entries or dropped problems");
            st = as_trail_verify_anchor(trail, key, as_span_from_cstr("1"),
                                        as_span_from_cstr("0000000000000000000000000000000000000000"
                                                          "000000000000000000000000"),
                                        verify, &err);
            CHECK(NOMEM_OK(st), "verify_anchor failed: %s", err.message);
            out.len = 0;
            if (st == AS_OK && as_verify_write_json(verify, &out, &err) == AS_OK) {
                json_decref(check_lines(&out, 0, 1, "verify with the chain"));
            }
        }
    }
done:
    as_buf_free(&out);
    as_replay_free(replay);
    as_history_free(history);
    as_verify_free(verify);
}

/* Adds `json`; a failed add must leave the count unchanged. */
static void add(as_trail *trail, seen_list *seen, const char *json, size_t len)
{
    size_t before = as_trail_item_count(trail);
    size_t skipped = as_trail_skipped(trail);
    as_error err = {0};
    as_status st = as_trail_add_json(trail, json, len, &err);
    if (st == AS_OK) {
        note_items(seen, json, len);
        return;
    }
    CHECK(err.message[0] != '\0', "failed add without a message");
    CHECK(as_trail_item_count(trail) == before && as_trail_skipped(trail) == skipped,
          "failed add changed the counts: %zu -> %zu items", before, as_trail_item_count(trail));
}

static void trail_all(const char *json, size_t len)
{
    as_trail *trail = as_trail_new();
    if (trail == NULL) {
        return;
    }
    seen_list seen = {NULL, 0};
    add(trail, &seen, json, len);
    /* A second add, of the first half, onto a trail that may hold items: a failure must
     * leave them as they were, a success may repeat ids. */
    add(trail, &seen, json, len / 2);
    size_t keys = as_trail_key_count(trail);
    for (size_t k = 0; k < keys; k++) {
        as_span key = as_trail_key(trail, k);
        CHECK(key.ptr != NULL || key.len == 0, "key %zu missing", k);
        if (k > 0) {
            as_span prev = as_trail_key(trail, k - 1);
            size_t n = prev.len < key.len ? prev.len : key.len;
            int c = n > 0 ? memcmp(prev.ptr, key.ptr, n) : 0;
            CHECK(c < 0 || (c == 0 && prev.len < key.len), "keys %zu and %zu out of order", k - 1,
                  k);
        }
        check_key(trail, key, &seen);
    }
    CHECK(as_trail_key(trail, keys).ptr == NULL, "a key past the end");
    as_buf out = AS_BUF_INIT;
    as_error err = {0};
    as_status st =
        as_verify_write_summary_json(keys, as_trail_item_count(trail), keys == 0, &out, &err);
    CHECK(NOMEM_OK(st), "summary failed: %s", err.message);
    if (st == AS_OK) {
        json_decref(check_lines(&out, 0, 1, "summary"));
    }
    as_buf_free(&out);
    seen_free(&seen);
    as_trail_free(trail);
}

/* The show line of `key` as of AS_TIME_MAX and its verify line, into `out`. */
static bool key_lines(as_trail *trail, as_span key, as_replay *replay, as_verify *verify,
                      as_buf *out)
{
    as_error err = {0};
    as_buf_clear(out);
    return as_trail_replay(trail, key, AS_TIME_MAX, replay, &err) == AS_OK &&
           as_replay_write_json(replay, out, &err) == AS_OK &&
           as_trail_verify(trail, key, verify, &err) == AS_OK &&
           as_verify_write_json(verify, out, &err) == AS_OK;
}

/* The same bytes added twice hold the same items by id: every key reads as after one add. */
static void trail_twice(const char *json, size_t len)
{
    as_trail *once = as_trail_new();
    as_trail *twice = as_trail_new();
    as_replay *replay = as_replay_new();
    as_verify *verify = as_verify_new();
    as_buf a = AS_BUF_INIT;
    as_buf b = AS_BUF_INIT;
    as_error err = {0};
    if (once == NULL || twice == NULL || replay == NULL || verify == NULL ||
        as_trail_add_json(once, json, len, &err) != AS_OK ||
        as_trail_add_json(twice, json, len, &err) != AS_OK ||
        as_trail_add_json(twice, json, len, &err) != AS_OK) {
        goto done;
    }
    CHECK(as_trail_item_count(twice) == 2 * as_trail_item_count(once),
          "twice the bytes hold %zu items, once %zu", as_trail_item_count(twice),
          as_trail_item_count(once));
    size_t keys = as_trail_key_count(once);
    CHECK(as_trail_key_count(twice) == keys, "twice the bytes hold other keys");
    for (size_t k = 0; k < keys; k++) {
        as_span key = as_trail_key(once, k);
        if (!key_lines(once, key, replay, verify, &a) ||
            !key_lines(twice, key, replay, verify, &b)) {
            break;
        }
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
              "key %zu reads otherwise when its items come twice:\n%.*s%.*s", k, (int)a.len, a.data,
              (int)b.len, b.data);
    }
done:
    as_buf_free(&a);
    as_buf_free(&b);
    as_replay_free(replay);
    as_verify_free(verify);
    as_trail_free(once);
    as_trail_free(twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes, so that ASan sees any read past the input. */
    char *json = malloc(size > 0 ? size : 1);
    if (json == NULL) {
        return 0;
    }
    if (size > 0) {
        memcpy(json, data, size);
    }
    wire_all_shapes(json, size);
    trail_all(json, size);
    trail_twice(json, size);
    free(json);
    return 0;
}
