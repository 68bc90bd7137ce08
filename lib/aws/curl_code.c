/* The one classification of libcurl's result codes (aws/curl_code.h). */
#include "aws/curl_code.h"

as_curl_kind as_curl_classify(CURLcode code)
{
    switch (code) {
    case CURLE_OK: return AS_CURL_DONE;
    case CURLE_OPERATION_TIMEDOUT: return AS_CURL_TIMEOUT;
    case CURLE_WRITE_ERROR: return AS_CURL_WRITE;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    /* An answer that does not start as HTTP ("Received HTTP/0.9"): bytes an earlier answer
     * left beyond its Content-Length on a kept-alive connection. libcurl drops that
     * connection, and an attempt on a new one tells whether the peer is really broken. */
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return AS_CURL_CONNECTION;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: return AS_CURL_TLS;
    default: return AS_CURL_OTHER;
    }
}
