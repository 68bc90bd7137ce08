/* as_ddb_write_items: the audit items' writes through the API AUDIT_WRITE_API names,
 * PutItem one item a request or BatchWriteItem up to 25 a request. */
#include <string.h>

#include "auditstream/ddb.h"
#include "aws/ddb_batch_write.h"
#include "core/internal.h"

as_status as_ddb_write_api_parse(const char *text, as_ddb_write_api *out)
{
    if (text == NULL || out == NULL) {
        return AS_ERR_ARGUMENT;
    }
    if (strcmp(text, "PutItem") == 0) {
        *out = AS_DDB_WRITE_PUT_ITEM;
        return AS_OK;
    }
    if (strcmp(text, "BatchWriteItem") == 0) {
        *out = AS_DDB_WRITE_BATCH;
        return AS_OK;
    }
    return AS_ERR_ARGUMENT;
}

const char *as_ddb_write_api_name(as_ddb_write_api api)
{
    return api == AS_DDB_WRITE_BATCH ? "BatchWriteItem" : "PutItem";
}

as_status as_ddb_write_items(as_ddb_client *client, const as_credentials *credentials,
                             const char *table, as_ddb_write_api api, const as_span *items,
                             size_t count, int64_t deadline_ms, as_ddb_result *results,
                             as_ddb_stats *stats, as_error *err)
{
    if (api != AS_DDB_WRITE_PUT_ITEM && api != AS_DDB_WRITE_BATCH) {
        if (stats != NULL) {
            memset(stats, 0, sizeof *stats);
            stats->stopped = AS_DDB_STOP_ARGUMENT;
        }
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0,
                                    "ddb: write api %d is neither PutItem nor BatchWriteItem",
                                    (int)api));
    }
    if (api == AS_DDB_WRITE_BATCH) {
        return as_status_of(as_ddb_batch_write(client, credentials, table, items, count,
                                               deadline_ms, results, stats, err));
    }
    return as_ddb_put_items(client, credentials, table, items, count, deadline_ms, results, stats,
                            err);
}
