/* Runs our decoder and the jansson reference on the same bytes and compares their
 * canonical dumps; see differential.h. */
#include "differential.h"

#include <jansson.h>
#include <string.h>

#include "event_dump.h"
#include "reference_decoder.h"

/* Each record's raw span must read, with jansson, as the element of Records at its
 * index. Only when the reference needed no workaround: otherwise its tree is not
 * the input's. */
static void check_raw_records(const ref_doc *doc, const as_event *event, as_buf *ours)
{
    json_t *records = ref_records(doc);
    if (records == NULL || doc->rewrites > 0 || doc->duplicates > 0) {
        return;
    }
    size_t count = as_event_record_count(event);
    if (count != json_array_size(records)) {
        return;     /* the dumps differ already */
    }
    for (size_t i = 0; i < count; i++) {
        const as_record *r = as_event_record(event, i);
        json_error_t error;
        json_t *raw = json_loadb(r->raw.ptr, r->raw.len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &error);
        if (raw == NULL || !json_equal(raw, json_array_get(records, i))) {
            dump_printf(ours, "!! Records[%zu]: raw is not the record jansson read there\n", i);
        }
        json_decref(raw);
    }
}

bool differential_run(const char *json, size_t len, differential *d)
{
    ref_doc doc;
    ref_load(json, len, &doc);
    ref_dump(&doc, &d->reference);
    d->inconclusive = doc.inconclusive;

    as_event *event = NULL;
    as_error err;
    memset(&err, 0, sizeof err);
    as_status status = as_event_decode(json, len, &event, &err);
    if (status != AS_OK) {
        memcpy(d->error, err.message, sizeof d->error);
        d->error[sizeof d->error - 1] = '\0';
        if (err.code != status) {
            dump_printf(&d->ours, "!! as_error.code %d but status %d\n", (int)err.code, (int)status);
        }
        if (event != NULL) {
            as_buf_append_str(&d->ours, "!! a failed decode set *out\n");
        }
    }
    event_dump(json, len, status, status == AS_OK ? event : NULL,
               doc.nul_names ? EVENT_DUMP_NUL_NAMES : 0, &d->ours);
    if (status == AS_OK) {
        check_raw_records(&doc, event, &d->ours);
    }
    as_event_free(event);
    ref_doc_free(&doc);

    if (d->inconclusive) {
        return true;
    }
    return d->ours.len == d->reference.len &&
           (d->ours.len == 0 || memcmp(d->ours.data, d->reference.data, d->ours.len) == 0);
}

void differential_free(differential *d)
{
    as_buf_free(&d->ours);
    as_buf_free(&d->reference);
}

/* Line `n` (from 0) of `buf` as a span, empty past the end. */
static as_span line_at(const as_buf *buf, size_t n)
{
    const char *p = buf->data != NULL ? buf->data : "";
    const char *end = p + buf->len;
    for (; n > 0 && p < end; n--) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl != NULL ? nl + 1 : end;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return (as_span){p, (size_t)((nl != NULL ? nl : end) - p)};
}

static void append_line(as_buf *out, const char *label, as_span line)
{
    as_buf_append_str(out, label);
    as_buf_append(out, line.ptr, line.len > 300 ? 300 : line.len);
    as_buf_append_str(out, line.len > 300 ? "...\n" : "\n");
}

void differential_explain(const differential *d, as_buf *out)
{
    size_t n = 0;
    for (;; n++) {
        as_span a = line_at(&d->ours, n);
        as_span b = line_at(&d->reference, n);
        if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0) {
            break;
        }
        if (a.ptr == (d->ours.data != NULL ? d->ours.data : "") + d->ours.len && a.len == 0) {
            return;     /* no difference */
        }
    }
    if (d->error[0] != '\0') {
        dump_printf(out, "  our decoder said: %s\n", d->error);
    }
    dump_printf(out, "  dumps differ at line %zu:\n", n + 1);
    for (size_t i = n > 2 ? n - 2 : 0; i < n; i++) {
        append_line(out, "    both:      ", line_at(&d->ours, i));
    }
    append_line(out, "    ours:      ", line_at(&d->ours, n));
    append_line(out, "    reference: ", line_at(&d->reference, n));
    for (size_t i = n + 1; i < n + 4; i++) {
        as_span a = line_at(&d->ours, i);
        as_span b = line_at(&d->reference, i);
        if (a.len > 0) {
            append_line(out, "    ours+:     ", a);
        }
        if (b.len > 0) {
            append_line(out, "    reference+:", b);
        }
    }
}
