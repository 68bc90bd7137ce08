/* BatchWriteItem for as_ddb_write_items (ddb_write.c): the items packed into requests of up
 * to 25 items and 16 MB, each request run on the PutItem engine (aws/ddb_call.h). */
#ifndef AS_DDB_BATCH_WRITE_H
#define AS_DDB_BATCH_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "auditstream/ddb.h"
#include "core/internal.h"

/* as_ddb_write_items with AS_DDB_WRITE_BATCH: its arguments, results and counts
 * (auditstream/ddb.h), the arguments not yet checked. */
AS_LOCAL AS_RESULT as_ddb_batch_write(as_ddb_client *client, const as_credentials *credentials,
                                      const char *table, const as_span *items, size_t count,
                                      int64_t deadline_ms, as_ddb_result *results,
                                      as_ddb_stats *stats, as_error *err);

#endif
