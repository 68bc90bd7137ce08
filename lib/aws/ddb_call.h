/* The DynamoDB client's request engine, shared by PutItem (ddb.c) and the reads
 * (ddb_read.c): many requests at once over the client's connections, each retried alone. */
#ifndef AS_DDB_CALL_H
#define AS_DDB_CALL_H

#include <stdbool.h>
#include <stddef.h>

#include "auditstream/buf.h"
#include "auditstream/ddb.h"
#include "core/internal.h"

/* What a request's 2xx JSON answer leads to, as the operation's `answered` hook decides. */
typedef enum as_ddb_next {
    AS_DDB_NEXT_DONE = 0, /* the request is answered: AS_DDB_ANSWERED */
    AS_DDB_NEXT_AGAIN,    /* send it again at once as a fresh request (the next page) */
    AS_DDB_NEXT_BACKOFF,  /* send it again after a retry's backoff, paid as a retry from the
                             quota and its attempts (UnprocessedKeys); the hook has filled
                             the result's error_type and message, said if they run out */
    AS_DDB_NEXT_FAIL,     /* the answer is unusable: the hook filled error_type, message */
    AS_DDB_NEXT_STOP      /* the caller stopped the whole call */
} as_ddb_next;

/* One operation over `count` requests (items). */
typedef struct as_ddb_call_ops {
    const char *target;        /* the whole X-Amz-Target: "DynamoDB_20120810.Query" */
    size_t max_response_bytes; /* 0: the client's as_ddb_config.max_response_bytes */
    /* A ConditionalCheckFailedException answer is AS_DDB_ALREADY_THERE, not a failure. */
    bool if_absent;
    /* A response body that cannot grow for want of memory fails the whole call with
     * AS_ERR_NOMEM (the reads). False keeps PutItem's way: that attempt fails as libcurl
     * reports it, not retried. */
    bool nomem_stops_call;
    /* Appends request `item`'s body to `body` (cleared); a failed append is seen by the
     * engine through as_buf_status. */
    void (*build)(void *ctx, size_t item, as_buf *body);
    /* NULL: every 2xx JSON object is AS_NEXT_DONE. Otherwise reads request `item`'s
     * answer (borrowed for the call) and sets *next; an error return (memory) stops the
     * whole call with it. */
    as_result (*answered)(void *ctx, size_t item, as_span body, as_ddb_result *result,
                          as_ddb_next *next, as_error *err);
    void *ctx;
} as_ddb_call_ops;

/* Runs `count` requests of `ops` as as_ddb_put_items runs its items: `results` (caller-
 * owned, `count`) zeroed then filled, `stats` (optional) overwritten, `deadline_ms` 0 for
 * none. The caller has checked its arguments. */
AS_LOCAL AS_RESULT as_ddb_call_run(as_ddb_client *client, const as_credentials *credentials,
                                   const as_ddb_call_ops *ops, size_t count, int64_t deadline_ms,
                                   as_ddb_result *results, as_ddb_stats *stats, as_error *err);

/* Copies `text` into `out` (`cap` bytes), cut to fit and NUL-terminated. */
AS_LOCAL void as_ddb_set_text(char *out, size_t cap, const char *text);

#endif
