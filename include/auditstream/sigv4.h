/* AWS Signature Version 4 (HMAC-SHA256) for requests signed in the Authorization header:
 * a pure function of the request, credentials, region, service and time. */
#ifndef AUDITSTREAM_SIGV4_H
#define AUDITSTREAM_SIGV4_H

#include <stdbool.h>

#include "buf.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AS_SIGV4_DATE_LEN 16 /* X-Amz-Date: 20150830T123600Z */
#define AS_SIGV4_HEX_LEN  64 /* hex SHA-256 and hex signatures */
/* The most headers one signature adds (see as_sigv4_output). */
#define AS_SIGV4_MAX_ADDED_HEADERS 4
/* The last second X-Amz-Date's four-digit year can write: 9999-12-31T23:59:59Z. */
#define AS_SIGV4_TIME_MAX INT64_C(253402300799)

/* AWS credentials. All three are borrowed for the length of a call. The secret (and the
 * token, which is a credential too) must never be logged. */
typedef struct as_credentials {
    as_span access_key_id;     /* AKIDEXAMPLE */
    as_span secret_access_key; /* never copied: the signer keeps only a derived key */
    as_span session_token;     /* empty for long-term credentials */
} as_credentials;

/* One header: a name (any case) and its value as it will be sent. */
typedef struct as_sigv4_header {
    as_span name;
    as_span value;
} as_sigv4_header;

/* The request to sign. Everything is borrowed for the length of the call. */
typedef struct as_sigv4_request {
    as_span method; /* "POST"; used as given (HTTP methods are case-sensitive) */
    /* The path as it goes on the request line, before any '?': "/" for DynamoDB; empty
     * means "/". It is percent-encoded once more for the canonical request (what AWS
     * calls double encoding, and what every service but S3 expects), so a raw path
     * ("/a b") and its encoded form ("/a%20b") sign differently: pass what is sent. */
    as_span path;
    /* The query string without its '?', as sent; empty for none. Each name and value
     * is percent-decoded and re-encoded, so encoded and raw forms sign the same; '+'
     * is a literal plus, not a space. */
    as_span query;
    /* The headers to sign, in the order they are sent. AWS requires `host` among them
     * (for DynamoDB: content-type, host, x-amz-target); that is not checked here.
     * Headers sent but left unsigned (Content-Length, Accept-Encoding, User-Agent) are
     * not passed. Repeated names are joined with ',' in this order; values are trimmed
     * and runs of spaces and tabs become one space; an obsolete line fold (LF or CRLF
     * then a space or tab) counts as a space, any other CR, LF or NUL is refused. The
     * headers the signer adds (X-Amz-Date, Authorization, and X-Amz-Security-Token and
     * x-amz-content-sha256 when it adds them) must not be passed. May be NULL when
     * `header_count` is 0. */
    const as_sigv4_header *headers;
    size_t header_count;
    as_span payload; /* the body; hashed, never copied */
} as_sigv4_request;

/* How to sign. Zero-initialised options are what DynamoDB (and every service but S3)
 * expects; the rest are there for other services and for AWS's test suites. */
typedef struct as_sigv4_params {
    as_credentials credentials;
    as_span region;  /* "us-east-1" */
    as_span service; /* "dynamodb" */
    /* Signing time, epoch seconds in [0, AS_SIGV4_TIME_MAX]. The library reads no
     * clock: the caller passes its own, corrected for skew. */
    int64_t time;
    /* Keep '.', '..' and repeated '/' in the path (S3); by default they are removed. */
    bool keep_path_segments;
    /* Use the path exactly as given, already encoded once by the caller (S3); by
     * default it is percent-encoded once more. */
    bool path_is_encoded;
    /* Add `x-amz-content-sha256: hex(sha256(payload))` and sign it (S3 and others). */
    bool add_content_sha256;
    /* Leave X-Amz-Security-Token out of the signature and only add it to the request,
     * for services that want it added after signing. By default it is signed. */
    bool unsigned_session_token;
} as_sigv4_params;

/* What one signature produces: the headers to add to the request, plus the
 * intermediate texts for tests and debugging. Reusable: each sign replaces the
 * contents and keeps the storage. Initialise with AS_SIGV4_OUTPUT_INIT or
 * as_sigv4_output_init, release with as_sigv4_output_free. Do not copy it by value:
 * `headers` points into the struct itself.
 *
 * The Authorization value and the signature grant access to the request they sign
 * until it expires: callers never log them (nor the token, nor the canonical request
 * and string to sign, which carry the token when it is signed). */
typedef struct as_sigv4_output {
    /* The headers to add, in this order: X-Amz-Date, X-Amz-Security-Token (when the
     * credentials have a token), x-amz-content-sha256 (when asked for), Authorization.
     * Names are static strings; values point into this struct, except the token's,
     * which is borrowed from the params' credentials. Valid until the next sign into
     * this output or its free. */
    as_sigv4_header headers[AS_SIGV4_MAX_ADDED_HEADERS];
    size_t header_count;
    char amz_date[AS_SIGV4_DATE_LEN + 1];    /* NUL-terminated */
    char payload_hash[AS_SIGV4_HEX_LEN + 1]; /* hex SHA-256 of the payload, NUL-terminated */
    char signature[AS_SIGV4_HEX_LEN + 1];    /* NUL-terminated; never log it */
    as_buf authorization;                    /* the Authorization value; never log it */
    as_buf canonical_request;                /* AWS's "canonical request" */
    as_buf string_to_sign;                   /* AWS's "string to sign" */
} as_sigv4_output;

#define AS_SIGV4_OUTPUT_INIT                                                                       \
    {                                                                                              \
        {{{NULL, 0}, {NULL, 0}}}, 0, {0}, {0}, {0}, AS_BUF_INIT, AS_BUF_INIT, AS_BUF_INIT          \
    }

void as_sigv4_output_init(as_sigv4_output *out);
/* Wipes and releases the storage; the output is empty and usable again. NULL is a no-op. */
void as_sigv4_output_free(as_sigv4_output *out);

/* Process-long signing state: the digests fetched from libcrypto once, a reusable HMAC
 * context, scratch space, and a one-entry cache of the derived signing key keyed by
 * the secret, the date, the region and the service. The secret itself is not kept:
 * only the key derived from it (wiped when replaced or freed) and a SHA-256 over the
 * four inputs to recognise them. One entry suits a process that talks to one service
 * in one region: alternating between two re-derives the key (four HMACs) each time.
 * Not for use from two threads at once; give each thread its own. */
typedef struct as_sigv4_signer as_sigv4_signer;

/* New signer (free with as_sigv4_signer_free), or NULL when out of memory or when
 * libcrypto cannot provide SHA-256 or HMAC. */
as_sigv4_signer *as_sigv4_signer_new(void);
/* Wipes the cached key and the scratch space, then releases everything. NULL is a no-op. */
void as_sigv4_signer_free(as_sigv4_signer *signer);

/* How many signing keys the signer has derived (cache misses), for tests and metrics. */
uint64_t as_sigv4_signer_derivations(const as_sigv4_signer *signer);

/* Signs `req` with `params` into `out` (see as_sigv4_output). Fails with
 * AS_ERR_ARGUMENT for a NULL argument, a time out of range, an empty access key id,
 * secret, region or service, one holding bytes the Authorization header or the scope
 * cannot carry, a method that is not an HTTP token, a path not starting with '/', a
 * header name that is not an HTTP token, a value with a bare CR, LF or NUL, or a header
 * the signer adds itself; the message names the field or header index. AS_ERR_NOMEM
 * when memory or libcrypto fails. On failure `out` holds no signature. */
AS_MUST_CHECK as_status as_sigv4_sign(as_sigv4_signer *signer, const as_sigv4_request *req,
                                      const as_sigv4_params *params, as_sigv4_output *out,
                                      as_error *err);

#ifdef __cplusplus
}
#endif

#endif
