/* What a libcurl result code means to the library's two HTTP clients (the DynamoDB client
 * and the Lambda runtime client): one classification, so that both retry the same
 * failures. */
#ifndef AS_CURL_CODE_H
#define AS_CURL_CODE_H

#include <curl/curl.h>

#include "core/internal.h"

typedef enum as_curl_kind {
    AS_CURL_DONE,       /* CURLE_OK */
    AS_CURL_TIMEOUT,    /* the transfer's own time limit */
    AS_CURL_CONNECTION, /* the connection failed or went away: worth another attempt */
    AS_CURL_TLS,        /* the peer's certificate or the CA bundle: no retry will help */
    AS_CURL_WRITE,      /* a write callback refused the bytes (the caller knows why) */
    AS_CURL_OTHER,
} as_curl_kind;

AS_LOCAL as_curl_kind as_curl_classify(CURLcode code);

#endif
