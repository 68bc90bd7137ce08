/* The reference decoder of the differential tests: jansson reads the bytes, and the format's
 * rules are applied again to its tree, independently of lib/event.c, to write the same
 * canonical dump (event_dump.h) that our decoder's output is compared with. */
#ifndef TEST_REFERENCE_DECODER_H
#define TEST_REFERENCE_DECODER_H

#include <jansson.h>
#include <stdbool.h>

#include "auditstream.h"

/* What jansson made of the bytes, after working around the places where it refuses
 * valid JSON (see reference_decoder.c for each). */
typedef struct ref_doc {
    json_t *root;           /* new reference; NULL when rejected or inconclusive */
    bool rejected;          /* not JSON: jansson's verdict, taken as is */
    bool inconclusive;      /* too many workarounds: no verdict */
    bool nul_names;         /* some object key held \u0000, now U+10FFFF */
    unsigned rewrites;      /* tokens rewritten (huge numbers, NUL in keys) */
    unsigned duplicates;    /* duplicate object members dropped (first one kept) */
    char error[200];        /* jansson's message when rejected */
} ref_doc;

/* Reads `len` bytes of `json` (not kept) into `doc`; free with ref_doc_free. */
void ref_load(const char *json, size_t len, ref_doc *doc);
void ref_doc_free(ref_doc *doc);

/* Appends the canonical dump of `doc` to `out`. */
void ref_dump(const ref_doc *doc, as_buf *out);

/* True when `item` (an object parsed by jansson without markers) is an item DynamoDB
 * accepts: every attribute a valid value of one of the ten types, M/L at most 32
 * levels deep. *size gets its size by DynamoDB's rules: the sum over attributes of
 * name bytes and value size. */
bool ref_check_item(json_t *item, uint64_t *size);

/* The top-level "Records" array of `doc` (borrowed), or NULL. */
json_t *ref_records(const ref_doc *doc);

#endif
