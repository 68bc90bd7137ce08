/* as_global_init: the one setup call the network clients need. libcurl's global state
 * lives here, not in the DynamoDB or runtime module, because both share it. */
#include <curl/curl.h>

#include "auditstream/ddb.h"
#include "auditstream/global.h"
#include "core/internal.h"

as_status as_global_init(as_error *err)
{
    CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        return as_status_of(as_fail(err, code == CURLE_OUT_OF_MEMORY ? AS_ERR_NOMEM : AS_ERR_IO, 0,
                                    "as_global_init: curl_global_init failed: %s",
                                    curl_easy_strerror(code)));
    }
    return AS_OK;
}

void as_global_cleanup(void)
{
    curl_global_cleanup();
}

/* The names of 0.1.0, kept so that programs written against it still build. */
as_status as_ddb_global_init(as_error *err)
{
    return as_global_init(err);
}

void as_ddb_global_cleanup(void)
{
    as_global_cleanup();
}
