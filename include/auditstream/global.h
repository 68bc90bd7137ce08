/* Process-wide setup of the library's network clients (the DynamoDB client and the
 * Lambda Runtime API client): call as_global_init once before making either. */
#ifndef AUDITSTREAM_GLOBAL_H
#define AUDITSTREAM_GLOBAL_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets up libcurl (curl_global_init with CURL_GLOBAL_DEFAULT, which also sets up its
 * TLS library) for as_ddb_client_new and as_runtime_new, which do not do it themselves.
 * Call it at the start of main, before any thread that uses the library exists, and
 * before the first client; pair every successful call with one as_global_cleanup after
 * the last client is freed. Calls nest (libcurl counts them), so a program that also
 * uses libcurl on its own may call curl_global_init as well, in any order.
 * The pure core (event, diff, audit, sigv4, buf, version) needs no setup.
 * AS_ERR_NOMEM when libcurl ran out of memory, AS_ERR_IO when it failed otherwise;
 * the message carries libcurl's reason. */
AS_MUST_CHECK as_status as_global_init(as_error *err);

/* Undoes one as_global_init (curl_global_cleanup): after the last client is freed,
 * with no other thread using the library. */
void as_global_cleanup(void);

#ifdef __cplusplus
}
#endif

#endif
