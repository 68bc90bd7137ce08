/* The C side of the canonical form's differential test (tests/canonical/test_canonical.py):
 * prints the canonical form of every Keys, OldImage and NewImage of each event file given.
 *
 * Usage: canonical_dump FILE...   One line per image, "<file> <record> <side> <form>", where
 * side is Keys, OldImage or NewImage and form the bare image as_canonical_image writes,
 * then "<file> <record> value <form>" for the record's NewImage (else OldImage) as
 * as_canonical_value writes it; an invalid record gives "<file> <record> error <why>"
 * and its Keys when sound. Exit status 1 when a file cannot be read or decoded, or a
 * canonical form fails. Canonical forms hold no raw control byte, so a line is a line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/buf.h"
#include "auditstream/event.h"
#include "core/canonical.h"

static bool read_file(const char *path, as_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return false;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        as_buf_append(out, chunk, n);
    }
    bool ok = ferror(f) == 0 && as_buf_status(out) == AS_OK;
    fclose(f);
    return ok;
}

static void print_line(const char *file, size_t record, const char *side, const as_buf *form)
{
    printf("%s %zu %s ", file, record, side);
    fwrite(form->data, 1, form->len, stdout);
    putchar('\n');
}

/* Prints the lines of one decoded event; false when a canonical form failed. */
static bool dump_event(const char *file, const as_event *event)
{
    as_buf form = AS_BUF_INIT;
    bool ok = true;
    for (size_t i = 0; i < as_event_record_count(event) && ok; i++) {
        const as_record *rec = as_event_record(event, i);
        if (rec->error != NULL) {
            printf("%s %zu error %s\n", file, i, rec->error);
        }
        const struct {
            const char *side;
            const as_value *image;
        } sides[] = {
            {"Keys", rec->keys}, {"OldImage", rec->old_image}, {"NewImage", rec->new_image}};
        for (size_t s = 0; s < sizeof sides / sizeof sides[0] && ok; s++) {
            if (sides[s].image == NULL) {
                continue;
            }
            as_buf_clear(&form);
            ok = as_result_is_ok(as_canonical_image(sides[s].image, &form));
            if (ok) {
                print_line(file, i, sides[s].side, &form);
            }
        }
        const as_value *whole = rec->new_image != NULL ? rec->new_image : rec->old_image;
        if (ok && whole != NULL) {
            as_buf_clear(&form);
            ok = as_result_is_ok(as_canonical_value(whole, &form));
            if (ok) {
                print_line(file, i, "value", &form);
            }
        }
        if (!ok) {
            fprintf(stderr, "canonical_dump: %s: record %zu: the canonical form failed\n", file, i);
        }
    }
    as_buf_free(&form);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE...\n", argv[0]);
        return 2;
    }
    int status = 0;
    for (int a = 1; a < argc; a++) {
        as_buf json = AS_BUF_INIT;
        if (!read_file(argv[a], &json)) {
            fprintf(stderr, "canonical_dump: cannot read %s\n", argv[a]);
            status = 1;
            as_buf_free(&json);
            continue;
        }
        /* Like --print, a file may start with a byte-order mark. */
        size_t skip = json.len >= 3 && memcmp(json.data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
        as_event *event = NULL;
        as_error err = {0};
        if (as_event_decode(json.data + skip, json.len - skip, &event, &err) != AS_OK) {
            printf("%s - undecodable %s\n", argv[a], err.message);
        } else if (!dump_event(argv[a], event)) {
            status = 1;
        }
        as_event_free(event);
        as_buf_free(&json);
    }
    return status;
}
