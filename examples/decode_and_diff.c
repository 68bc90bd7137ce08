/* decode_and_diff: reads a DynamoDB Streams event (a file, or - for standard input) and
 * prints, per record, the attributes that changed and the audit items it yields.
 * Uses the pure core alone: it links with libauditstream-core (libc and libcrypto). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <auditstream/audit.h>
#include <auditstream/buf.h>
#include <auditstream/diff.h>
#include <auditstream/event.h>

static const char *event_name(as_event_name name)
{
    switch (name) {
    case AS_EVENT_INSERT: return "INSERT";
    case AS_EVENT_MODIFY: return "MODIFY";
    case AS_EVENT_REMOVE: return "REMOVE";
    default: return "UNKNOWN";
    }
}

/* Prints `v` as wire JSON, or "(absent)" when this side has no value. */
static int print_value(const as_value *v, as_buf *scratch)
{
    if (v == NULL) {
        fputs("(absent)", stdout);
        return 0;
    }
    as_buf_clear(scratch);
    as_error err;
    if (as_value_to_json(v, scratch, &err) != AS_OK) {
        fprintf(stderr, "decode_and_diff: %s\n", err.message);
        return -1;
    }
    fwrite(scratch->data, 1, scratch->len, stdout);
    return 0;
}

static int print_record(const as_record *rec, as_changes *changes, as_items *items,
                        as_buf *scratch)
{
    as_error err;
    printf("record %zu %s %.*s\n", rec->index, event_name(rec->event_name),
           (int)rec->event_id.len, rec->event_id.ptr);
    if (rec->error != NULL) {
        printf("  invalid: %s\n", rec->error); /* it still yields an error item below */
    } else {
        /* Top-level attributes; an INSERT or REMOVE lists every attribute of its image. */
        if (as_diff_images(rec->old_image, rec->new_image, AS_DIFF_TOP, NULL, 0, changes,
                           &err) != AS_OK) {
            fprintf(stderr, "decode_and_diff: %s\n", err.message);
            return -1;
        }
        for (size_t i = 0; i < as_changes_count(changes); i++) {
            const as_change *c = as_changes_get(changes, i);
            printf("  changed %.*s: ", (int)c->path.len, c->path.ptr);
            if (print_value(c->old_value, scratch) != 0) {
                return -1;
            }
            fputs(" -> ", stdout);
            if (print_value(c->new_value, scratch) != 0) {
                return -1;
            }
            fputc('\n', stdout);
        }
    }
    /* The library reads no clock: records without a creation time get ours. */
    as_audit_options options = {.format = AS_FORMAT_CLASSIC, .now_ms = (int64_t)time(NULL) * 1000};
    as_items_clear(items);
    if (as_audit_build(rec, &options, items, &err) != AS_OK) {
        fprintf(stderr, "decode_and_diff: %s\n", err.message);
        return -1;
    }
    for (size_t i = 0; i < as_items_count(items); i++) {
        as_item item = as_items_get(items, i);
        printf("  item %.*s\n", (int)item.json.len, item.json.ptr);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: decode_and_diff EVENT.json|-\n", stderr);
        return 2;
    }
    FILE *in = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "rb");
    if (in == NULL) {
        perror(argv[1]);
        return 2;
    }
    as_buf input = AS_BUF_INIT, scratch = AS_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) {
        as_buf_append(&input, chunk, n);
    }
    int rc = ferror(in) || as_buf_status(&input) != AS_OK ? 2 : 0;
    if (in != stdin) {
        fclose(in);
    }
    as_event *event = NULL;
    as_changes *changes = as_changes_new();
    as_items *items = as_items_new();
    as_error err;
    if (rc != 0 || changes == NULL || items == NULL) {
        fprintf(stderr, "decode_and_diff: %s: cannot read it, or out of memory\n", argv[1]);
        rc = 2;
    } else if (as_event_decode(input.len > 0 ? input.data : "", input.len, &event, &err) != AS_OK) {
        fprintf(stderr, "decode_and_diff: %s: %s\n", argv[1], err.message);
        rc = 1;
    } else {
        for (size_t i = 0; i < as_event_record_count(event) && rc == 0; i++) {
            rc = print_record(as_event_record(event, i), changes, items, &scratch) == 0 ? 0 : 1;
        }
    }
    as_items_free(items);
    as_changes_free(changes);
    as_event_free(event); /* before the input: the event borrows its bytes */
    as_buf_free(&scratch);
    as_buf_free(&input);
    if (rc == 0 && fflush(stdout) != 0) {
        rc = 1;
    }
    return rc;
}
