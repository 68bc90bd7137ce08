/* The pure half of the DynamoDB client: reading error responses, sorting them into
 * retry verdicts, standard mode's backoff and retry quota. No I/O, clock or randomness. */
#ifndef AS_DDB_RETRY_H
#define AS_DDB_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auditstream/common.h"
#include "aws/scrub.h"
#include "core/internal.h"

/* What went wrong below HTTP, if anything, as the client saw it. */
typedef enum as_ddb_fault {
    AS_DDB_FAULT_NONE = 0,   /* a whole response arrived and its checksum matched */
    AS_DDB_FAULT_CONNECTION, /* connect failed, reset, closed early, TLS handshake broke */
    AS_DDB_FAULT_TIMEOUT,    /* the connect or attempt timeout ran out */
    AS_DDB_FAULT_CRC,        /* the body does not match x-amz-crc32 */
    AS_DDB_FAULT_TLS,        /* the peer failed verification, or the CA bundle is bad */
    AS_DDB_FAULT_TOO_LARGE,  /* the body passed the size cap */
    AS_DDB_FAULT_BAD_BODY,   /* a 2xx whose body is not a JSON object: not DynamoDB's */
    AS_DDB_FAULT_OTHER       /* anything else libcurl reports: not retried */
} as_ddb_fault;

/* What to do after an attempt. */
typedef enum as_ddb_verdict {
    AS_DDB_SUCCESS = 0,
    AS_DDB_RETRY_THROTTLE,  /* retryable, a throttling error */
    AS_DDB_RETRY_TRANSIENT, /* retryable: 5xx, connection, checksum, transaction conflict */
    AS_DDB_RETRY_TIMEOUT,   /* retryable, and a retry costs the timeout price */
    AS_DDB_FIX_CLOCK,       /* signature refused for skew: fix the offset, retry once */
    AS_DDB_GIVE_UP          /* not retryable */
} as_ddb_verdict;

/* The client's name for a fault ("ConnectionError", ...); "" for AS_DDB_FAULT_NONE. */
AS_LOCAL const char *as_ddb_fault_type(as_ddb_fault fault);

/* The verdict for an attempt. `type` is the error type (the part after '#', or an XML
 * <Code>; "" when there is none) and `message` the server's message (NUL-terminated,
 * may be ""). A fault decides alone; then 2xx is success; then the type (throttling,
 * clock skew, transient codes); then HTTP 429 and 5xx; everything else gives up. */
AS_LOCAL as_ddb_verdict as_ddb_classify(as_ddb_fault fault, long status, const char *type,
                                        const char *message);

/* True for the throttling error types standard mode knows. */
AS_LOCAL bool as_ddb_is_throttle_type(const char *type);

/* Reads an error body: DynamoDB's JSON {"__type":"...#Type","message":"..."} ("Message"
 * too), or an XML body's <Code> and <Message> (how moto reports authentication
 * failures). Writes the type (only the part after the last '#'; letters, digits and
 * "._:-" kept; "Redacted" when it shows a piece of a secret) and the message cleaned by
 * as_ddb_clean_message against `secrets` (`secret_count` spans, any may be empty) before
 * it is cut, both NUL-terminated and cut to fit; "" for what is not found. */
AS_LOCAL void as_ddb_parse_error_body(as_span body, const as_span *secrets, size_t secret_count,
                                      char *type, size_t type_cap, char *message,
                                      size_t message_cap);

/* Parses x-amz-crc32's value: decimal digits (blanks around allowed) up to 4294967295. */
AS_LOCAL bool as_ddb_parse_crc32(as_span text, uint32_t *out);

/* Standard mode's full-jitter backoff before retry number `attempt` (1 for the retry
 * after the first attempt): random * min(base * 2^(attempt-1), cap) milliseconds, the
 * random fraction being the top 32 bits of `random` over 2^32, so the result lies in
 * [0, min(...)). */
AS_LOCAL uint32_t as_ddb_backoff_ms(uint32_t attempt, uint32_t base_ms, uint32_t cap_ms,
                                    uint64_t random);

/* Standard mode's retry quota: a retry takes AS_DDB_RETRY_COST tokens
 * (AS_DDB_TIMEOUT_RETRY_COST after a timeout) and is refused when fewer are left; a
 * success gives back what its last retry took, or 1 token when it needed none, never
 * above the initial count. */
typedef struct as_ddb_quota {
    uint32_t tokens;
    uint32_t max;
} as_ddb_quota;

AS_LOCAL void as_ddb_quota_init(as_ddb_quota *quota, uint32_t max);
/* The tokens taken for one retry, or 0 when the quota refuses it (nothing is taken). */
AS_LOCAL uint32_t as_ddb_quota_acquire(as_ddb_quota *quota, bool after_timeout);
/* A success: `last_cost` is what the item's last retry took (0 when it had none). */
AS_LOCAL void as_ddb_quota_release(as_ddb_quota *quota, uint32_t last_cost);

/* What a clock-skew refusal's Date header says, judged before the clock offset is
 * touched: a correction must be plausible, since one hostile or broken response must
 * never leave the client unable to sign. */
typedef enum as_ddb_skew {
    AS_DDB_SKEW_FIX = 0,     /* the Date shows skew: *offset_ms is the correction */
    AS_DDB_SKEW_NO_DATE,     /* no Date header, an unreadable one, or several */
    AS_DDB_SKEW_IMPLAUSIBLE, /* before AS_DDB_SKEW_DATE_MIN or past the signer's range */
    AS_DDB_SKEW_NOT_SHOWN,   /* within AS_DDB_SKEW_MIN_MS of the time the request was
                                signed with: a clock fix would change nothing */
    AS_DDB_SKEW_TOO_FAR      /* over AS_DDB_SKEW_MAX_MS from the local clock */
} as_ddb_skew;

/* Judges `server_s` (the Date header in epoch seconds; `have_date` false when it was
 * missing, unreadable or repeated) against `signed_ms`, the time the refused request
 * was signed with, and `now_ms`, the local clock. On AS_DDB_SKEW_FIX *offset_ms is
 * server - now, within +-AS_DDB_SKEW_MAX_MS; otherwise it is left alone. */
AS_LOCAL as_ddb_skew as_ddb_skew_judge(bool have_date, int64_t server_s, int64_t signed_ms,
                                       int64_t now_ms, int64_t *offset_ms);

/* The note added to a refused item's message when no correction was made (" (...)"),
 * "" for AS_DDB_SKEW_FIX. */
AS_LOCAL const char *as_ddb_skew_note(as_ddb_skew skew);

#endif
