/* One differential check: our decoder and the jansson reference on the same bytes,
 * their canonical dumps compared line for line. Shared by test_differential and the
 * fuzz_differential target. */
#ifndef TEST_DIFFERENTIAL_H
#define TEST_DIFFERENTIAL_H

#include <stdbool.h>

#include "auditstream.h"

typedef struct differential {
    as_buf ours;        /* the dump of as_event_decode's outcome */
    as_buf reference;   /* the dump of the jansson reference's */
    bool inconclusive;  /* the reference gave up: nothing was compared */
    char error[256];    /* our decoder's error message, when it failed */
} differential;

/* Decodes `len` bytes of `json` both ways into `d` (zero it first, free with
 * differential_free) and returns true when the dumps agree (or the reference gave
 * up). Besides the dumps, checks that each record's raw text is what jansson found
 * at that place of the Records array. */
bool differential_run(const char *json, size_t len, differential *d);
void differential_free(differential *d);

/* Appends a short account of where the two dumps of `d` part: the first differing
 * line of each, with the lines around it. */
void differential_explain(const differential *d, as_buf *out);

#endif
