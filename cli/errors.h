/* What auditstream says when DynamoDB refuses or cannot be reached: one line that names
 * the table, the credentials or the endpoint at fault and what to do about it. */
#ifndef CLI_ERRORS_H
#define CLI_ERRORS_H

#include "auditstream/ddb.h"
#include "options.h"

/* Where a failed request went, for the message. */
typedef struct cli_failure {
    const char *operation; /* "DescribeTable", "Query", "Scan", "PutItem" */
    const char *table;
    const char *option;   /* where the table's name came from: "--audit-table or AUDIT_TABLE" */
    const char *endpoint; /* the URL */
    const char *region;
    const char *credentials; /* where the credentials came from: "the environment", ... */
    const char *policy;      /* the Terraform output that grants what the command needs */
} cli_failure;

/* Writes the line for `result` (outcome AS_DDB_FAILED) into `message` and returns the exit
 * status: 2 for what the user can fix (no such table, access denied, credentials refused,
 * an endpoint not reached, a request DynamoDB found invalid), 1 for the rest (throttling
 * that outlasted the retries, server errors, broken answers). */
int cli_failure_message(const cli_failure *where, const as_ddb_result *result,
                        char message[CLI_MESSAGE_MAX]);

/* The history index missing from `table`, or not ACTIVE (`status` then, else NULL): 2. */
int cli_index_message(const char *table, const char *status, char message[CLI_MESSAGE_MAX]);

#endif
