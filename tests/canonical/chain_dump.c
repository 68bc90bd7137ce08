/* The C side of the chain's differential test and of docs/trust.md's checker test: builds the
 * audit items of event files in one format, links them as the function does, and prints them.
 *
 * Usage: chain_dump [--format classic|detailed] [--retention-days D] FILE...
 * Each file is one batch: records in order, one chain per historyKey starting afresh (no
 * head), a record without a sequence number or whose sequence number is not above its key's
 * head (a redelivery) not chained; the latter not written at all, as the function skips it.
 * Lines, tab-separated (no item, form or head holds a raw tab or newline):
 *   I <file> <item>                     each item as written, chain fields included
 *   F <file> <id> <form>                its canonical form less the chain fields (C's)
 *   D <file> <historyKey> <historySort> <digest> <chain>   each chained record
 *   H <file> <head item>                each key's head after the batch
 * Exit status 1 when a file cannot be read or decoded or a call fails.
 *
 * chain_dump --verify [--now MS] [--anchor KEY SEQ CHAIN]... FILE...
 * reads audit items and heads, one JSON object a line (as docs/trust.md's checker does), and
 * prints as_trail_verify_chain's line for every key (of an item, a head or an anchor), its
 * anchors checked: the C answer the checker's is compared with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditstream/audit.h"
#include "auditstream/buf.h"
#include "auditstream/chain.h"
#include "auditstream/event.h"
#include "auditstream/replay.h"
#include "auditstream/wire.h"
#include "core/canonical.h"
#include "core/chain.h"

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

/* One key's head; keys are the historyKey S bodies as the items hold them. */
typedef struct key_head {
    char *key;
    as_chain_head head;
} key_head;

typedef struct heads {
    key_head *k;
    size_t n;
    size_t cap;
} heads;

static as_chain_head *head_of(heads *h, as_span key)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strlen(h->k[i].key) == key.len && memcmp(h->k[i].key, key.ptr, key.len) == 0) {
            return &h->k[i].head;
        }
    }
    if (h->n == h->cap) {
        size_t cap = h->cap < 16 ? 16 : 2 * h->cap;
        key_head *k = realloc(h->k, cap * sizeof *k);
        if (k == NULL) {
            return NULL;
        }
        h->k = k;
        h->cap = cap;
    }
    char *copy = malloc(key.len + 1);
    if (copy == NULL) {
        return NULL;
    }
    memcpy(copy, key.ptr, key.len);
    copy[key.len] = '\0';
    h->k[h->n].key = copy;
    as_chain_head_init(&h->k[h->n].head);
    return &h->k[h->n++].head;
}

static void heads_free(heads *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->k[i].key);
    }
    free(h->k);
}

static void print_span(as_span s)
{
    fwrite(s.ptr, 1, s.len, stdout);
}

/* The F line of one item as written. */
static bool print_form(const char *file, as_span item, as_buf *form)
{
    as_wire_items *w = NULL;
    as_error err = {0};
    if (as_wire_decode(item.ptr, item.len, AS_WIRE_ITEM, &w, &err) != AS_OK) {
        fprintf(stderr, "chain_dump: %s: an item does not read back: %s\n", file, err.message);
        return false;
    }
    const as_value *map = as_wire_item(w, 0);
    const as_value *id = as_wire_attribute(map, "id");
    as_buf_clear(form);
    bool ok = id != NULL &&
              as_result_is_ok(as_canonical_image_without(map, as_chain_is_field, NULL, form));
    if (ok) {
        printf("F\t%s\t", file);
        print_span(id->text);
        putchar('\t');
        print_span((as_span){form->data, form->len});
        putchar('\n');
    } else {
        fprintf(stderr, "chain_dump: %s: no canonical form\n", file);
    }
    as_wire_items_free(w);
    return ok;
}

/* Links and prints the items [begin, end) of one record. */
static bool dump_record(const char *file, const as_items *items, size_t begin, size_t end, heads *h,
                        as_buf *scratch)
{
    as_item first = as_items_get(items, begin);
    as_span sort = first.history_sort;
    bool chained = first.history_key.len > 0 && sort.len == 65;
    const char *seq = chained ? sort.ptr + 25 : NULL;
    chained = chained && strspn(seq, "0") < 40;
    as_chain_head *head = chained ? head_of(h, first.history_key) : NULL;
    if (chained && head == NULL) {
        return false;
    }
    if (chained && head->exists && memcmp(seq, head->seq, 40) <= 0) {
        return true; /* already chained: a redelivery, skipped */
    }
    as_error err = {0};
    as_chain_link link;
    if (chained) {
        as_span spans[64];
        size_t n = end - begin;
        if (n > 64) {
            fprintf(stderr, "chain_dump: %s: a record of more than 64 items\n", file);
            return false;
        }
        for (size_t i = 0; i < n; i++) {
            spans[i] = as_items_get(items, begin + i).json;
        }
        uint8_t d[32];
        char s40[41];
        char time[25];
        memcpy(s40, seq, 40);
        s40[40] = '\0';
        memcpy(time, sort.ptr, 24);
        time[24] = '\0';
        if (as_chain_record_digest(spans, n, d, &err) != AS_OK ||
            as_chain_advance(head, d, s40, time, &link, &err) != AS_OK) {
            fprintf(stderr, "chain_dump: %s: %s\n", file, err.message);
            return false;
        }
        printf("D\t%s\t", file);
        print_span(first.history_key);
        printf("\t");
        print_span(sort);
        printf("\t");
        for (int i = 0; i < 32; i++) {
            printf("%02x", d[i]);
        }
        printf("\t%s\n", link.chain);
    }
    for (size_t i = begin; i < end; i++) {
        as_span json = as_items_get(items, i).json;
        as_buf_clear(scratch);
        if (chained) {
            if (as_chain_item_append(json, &link, scratch, &err) != AS_OK) {
                fprintf(stderr, "chain_dump: %s: %s\n", file, err.message);
                return false;
            }
            json = (as_span){scratch->data, scratch->len};
        }
        printf("I\t%s\t", file);
        print_span(json);
        putchar('\n');
        as_buf form = AS_BUF_INIT;
        bool ok = print_form(file, json, &form);
        as_buf_free(&form);
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool dump_file(const char *file, const as_event *event, const as_audit_options *options)
{
    as_items *items = as_items_new();
    as_buf scratch = AS_BUF_INIT;
    heads h = {NULL, 0, 0};
    bool ok = items != NULL;
    as_error err = {0};
    for (size_t r = 0; ok && r < as_event_record_count(event); r++) {
        as_items_clear(items);
        if (as_audit_build(as_event_record(event, r), options, items, &err) != AS_OK) {
            fprintf(stderr, "chain_dump: %s: record %zu: %s\n", file, r, err.message);
            ok = false;
            break;
        }
        if (as_items_count(items) > 0) {
            ok = dump_record(file, items, 0, as_items_count(items), &h, &scratch);
        }
    }
    for (size_t i = 0; ok && i < h.n; i++) {
        as_buf_clear(&scratch);
        as_buf key = AS_BUF_INIT;
        as_json_unescape(as_span_from_cstr(h.k[i].key), &key);
        ok =
            as_buf_status(&key) == AS_OK &&
            as_chain_head_item((as_span){key.data, key.len}, &h.k[i].head, &scratch, &err) == AS_OK;
        if (ok) {
            printf("H\t%s\t", file);
            print_span((as_span){scratch.data, scratch.len});
            putchar('\n');
        }
        as_buf_free(&key);
    }
    heads_free(&h);
    as_buf_free(&scratch);
    as_items_free(items);
    return ok;
}

/* ---- --verify ------------------------------------------------------------------------ */

typedef struct anchor {
    const char *key;
    const char *seq;
    const char *chain;
} anchor;

static int span_order(const void *a, const void *b)
{
    const as_span *x = a;
    const as_span *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n > 0 ? memcmp(x->ptr, y->ptr, n) : 0;
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static int verify_main(int argc, char **argv)
{
    int64_t now = 0;
    anchor anchors[256];
    size_t anchor_count = 0;
    int a = 2;
    for (; a < argc && strncmp(argv[a], "--", 2) == 0;) {
        if (strcmp(argv[a], "--now") == 0 && a + 1 < argc) {
            now = strtoll(argv[a + 1], NULL, 10);
            a += 2;
        } else if (strcmp(argv[a], "--anchor") == 0 && a + 3 < argc && anchor_count < 256) {
            anchors[anchor_count++] = (anchor){argv[a + 1], argv[a + 2], argv[a + 3]};
            a += 4;
        } else {
            fprintf(stderr, "chain_dump: --verify: bad option %s\n", argv[a]);
            return 2;
        }
    }
    as_buf page = AS_BUF_INIT;
    as_buf_append_str(&page, "{\"Items\":[");
    size_t items = 0;
    as_buf texts = AS_BUF_INIT; /* every file, kept: the heads' keys point into it */
    for (; a < argc; a++) {
        if (!read_file(argv[a], &texts)) {
            fprintf(stderr, "chain_dump: cannot read %s\n", argv[a]);
            return 1;
        }
        as_buf_append_char(&texts, '\n');
    }
    /* The heads, by key. */
    size_t head_cap = 64;
    as_chain_head *found = malloc(head_cap * sizeof *found);
    as_span *head_keys = malloc(head_cap * sizeof *head_keys);
    as_buf *scratch = calloc(head_cap, sizeof *scratch);
    size_t head_count = 0;
    int status = found != NULL && head_keys != NULL && scratch != NULL ? 0 : 1;
    for (char *line = texts.data; status == 0 && line < texts.data + texts.len;) {
        char *end = memchr(line, '\n', (size_t)(texts.data + texts.len - line));
        size_t len = (size_t)(end - line);
        if (len > 0) {
            as_buf_append_str(&page, items++ > 0 ? "," : "");
            as_buf_append(&page, line, len);
            *end = '\0'; /* a line ends in '\n': look inside it alone */
            bool is_head = strstr(line, "\"chainOf\"") != NULL;
            *end = '\n';
            if (is_head) {
                as_error err = {0};
                if (head_count == head_cap ||
                    as_chain_head_parse((as_span){line, len}, &found[head_count],
                                        &scratch[head_count], &head_keys[head_count],
                                        &err) != AS_OK) {
                    fprintf(stderr, "chain_dump: a head: %s\n", err.message);
                    status = 1;
                } else {
                    head_count++;
                }
            }
        }
        line = end + 1;
    }
    as_buf_append_str(&page, "]}");
    as_trail *trail = as_trail_new();
    as_verify *v = as_verify_new();
    as_error err = {0};
    if (status == 0 && (trail == NULL || v == NULL || as_buf_status(&page) != AS_OK ||
                        as_trail_add_json(trail, page.data, page.len, &err) != AS_OK)) {
        fprintf(stderr, "chain_dump: the items: %s\n", err.message);
        status = 1;
    }
    /* Every key: the trail's, the heads', the anchors'. */
    size_t key_cap = (status == 0 ? as_trail_key_count(trail) : 0) + head_count + anchor_count;
    as_span *keys = malloc((key_cap + 1) * sizeof *keys);
    size_t key_count = 0;
    if (keys == NULL) {
        status = 1;
    }
    for (size_t i = 0; status == 0 && i < as_trail_key_count(trail); i++) {
        keys[key_count++] = as_trail_key(trail, i);
    }
    for (size_t i = 0; status == 0 && i < head_count; i++) {
        keys[key_count++] = head_keys[i];
    }
    for (size_t i = 0; status == 0 && i < anchor_count; i++) {
        keys[key_count++] = as_span_from_cstr(anchors[i].key);
    }
    if (key_count > 0) {
        qsort(keys, key_count, sizeof *keys, span_order);
    }
    as_buf line = AS_BUF_INIT;
    size_t total_keys = 0;
    size_t total_entries = 0;
    bool all_ok = true;
    for (size_t k = 0; status == 0 && k < key_count; k++) {
        if (k > 0 && span_order(&keys[k - 1], &keys[k]) == 0) {
            continue;
        }
        const as_chain_head *head = NULL;
        for (size_t i = 0; i < head_count; i++) {
            if (span_order(&head_keys[i], &keys[k]) == 0) {
                head = &found[i];
            }
        }
        as_status st = as_trail_verify_chain(trail, keys[k], head, now, v, &err);
        for (size_t i = 0; st == AS_OK && i < anchor_count; i++) {
            as_span ak = as_span_from_cstr(anchors[i].key);
            if (span_order(&ak, &keys[k]) == 0) {
                st = as_trail_verify_anchor(trail, keys[k], as_span_from_cstr(anchors[i].seq),
                                            as_span_from_cstr(anchors[i].chain), v, &err);
            }
        }
        as_buf_clear(&line);
        if (st == AS_OK) {
            st = as_verify_write_json(v, &line, &err);
        }
        if (st != AS_OK) {
            fprintf(stderr, "chain_dump: verify: %s\n", err.message);
            status = 1;
            break;
        }
        fwrite(line.data, 1, line.len, stdout);
        total_keys++;
        total_entries += as_verify_entries(v);
        all_ok = all_ok && as_verify_ok(v);
    }
    if (status == 0) {
        as_buf_clear(&line);
        if (as_verify_write_summary_json(total_keys, total_entries, all_ok, &line, &err) == AS_OK) {
            fwrite(line.data, 1, line.len, stdout);
        }
    }
    as_buf_free(&line);
    free(keys);
    as_verify_free(v);
    as_trail_free(trail);
    for (size_t i = 0; scratch != NULL && i < head_cap; i++) {
        as_buf_free(&scratch[i]);
    }
    free(scratch);
    free(found);
    free(head_keys);
    as_buf_free(&texts);
    as_buf_free(&page);
    return status;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--verify") == 0) {
        return verify_main(argc, argv);
    }
    as_audit_options options;
    memset(&options, 0, sizeof options);
    options.now_ms = INT64_C(1714564800000);
    options.reserve_bytes = AS_CHAIN_FIELDS_SIZE;
    int a = 1;
    for (; a + 1 < argc && strncmp(argv[a], "--", 2) == 0; a += 2) {
        if (strcmp(argv[a], "--format") == 0) {
            if (as_format_parse(argv[a + 1], &options.format) != AS_OK) {
                fprintf(stderr, "chain_dump: bad format %s\n", argv[a + 1]);
                return 2;
            }
        } else if (strcmp(argv[a], "--retention-days") == 0) {
            options.retention_days = (uint32_t)strtoul(argv[a + 1], NULL, 10);
        } else {
            fprintf(stderr, "chain_dump: unknown option %s\n", argv[a]);
            return 2;
        }
    }
    if (a >= argc) {
        fprintf(stderr, "usage: %s [--format F] [--retention-days D] FILE...\n", argv[0]);
        return 2;
    }
    int status = 0;
    for (; a < argc; a++) {
        as_buf json = AS_BUF_INIT;
        if (!read_file(argv[a], &json)) {
            fprintf(stderr, "chain_dump: cannot read %s\n", argv[a]);
            status = 1;
            as_buf_free(&json);
            continue;
        }
        size_t skip = json.len >= 3 && memcmp(json.data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
        as_event *event = NULL;
        as_error err = {0};
        if (as_event_decode(json.data + skip, json.len - skip, &event, &err) != AS_OK) {
            /* Not an event: nothing to chain (canonical_dump covers refusals). */
        } else if (!dump_file(argv[a], event, &options)) {
            status = 1;
        }
        as_event_free(event);
        as_buf_free(&json);
    }
    return status;
}
