/* auditstream's lines for DynamoDB's refusals (cli/errors.h): the error kind the client
 * sorted decides the advice; DynamoDB's own words, already cleaned of secrets, follow it. */
#include <stdio.h>
#include <string.h>

#include "auditstream/ddb_read.h"
#include "errors.h"
#include "session.h"

static const char *or_unknown(const char *text)
{
    return text != NULL && text[0] != '\0' ? text : "unknown";
}

/* " (Type: message)" of the result, cut to fit a line. */
static void detail(const as_ddb_result *r, char *out, size_t size)
{
    if (r->message[0] != '\0') {
        snprintf(out, size, " (%s: %.160s)", or_unknown(r->error_type), r->message);
    } else {
        snprintf(out, size, " (%s)", or_unknown(r->error_type));
    }
}

int cli_index_message(const char *table, const char *status, char message[CLI_MESSAGE_MAX])
{
    if (status != NULL) {
        snprintf(message, CLI_MESSAGE_MAX,
                 "the index \"%s\" of table \"%s\" is %s, not ACTIVE: wait until DynamoDB has "
                 "built it, then run this again",
                 CLI_HISTORY_INDEX, table, status);
    } else {
        snprintf(message, CLI_MESSAGE_MAX,
                 "table \"%s\" has no index \"%s\", which auditstream reads the trail through: "
                 "create it with the Terraform variable %s = true (its default) and apply",
                 table, CLI_HISTORY_INDEX, CLI_HISTORY_VARIABLE);
    }
    return 2;
}

int cli_failure_message(const cli_failure *where, const as_ddb_result *r,
                        char message[CLI_MESSAGE_MAX])
{
    char why[256];
    detail(r, why, sizeof why);
    const char *table = or_unknown(where->table);
    switch (as_ddb_error_kind_of(r)) {
    case AS_DDB_KIND_NOT_FOUND:
        snprintf(message, CLI_MESSAGE_MAX,
                 "no table \"%s\" in %s at %s: check the name (%s) and the region (--region)",
                 table, or_unknown(where->region), or_unknown(where->endpoint),
                 or_unknown(where->option));
        return 2;
    case AS_DDB_KIND_DENIED:
        /* AccessDeniedException from DynamoDB; AccessDenied in an IAM-style XML answer. */
        if (strncmp(r->error_type, "AccessDenied", 12) == 0) {
            snprintf(message, CLI_MESSAGE_MAX,
                     "access denied: %s on table \"%s\"%s: the credentials (from %s) need "
                     "dynamodb:%s; the Terraform output %s grants what this command needs",
                     where->operation, table, why, or_unknown(where->credentials), where->operation,
                     or_unknown(where->policy));
        } else {
            snprintf(message, CLI_MESSAGE_MAX,
                     "DynamoDB refused the credentials%s: check the access key, secret and "
                     "session token (from %s)",
                     why, or_unknown(where->credentials));
        }
        return 2;
    case AS_DDB_KIND_CONNECTION:
        snprintf(message, CLI_MESSAGE_MAX,
                 "cannot reach DynamoDB at %s%s: check --endpoint-url, --region and the network",
                 or_unknown(where->endpoint), why);
        return 2;
    case AS_DDB_KIND_VALIDATION:
        snprintf(message, CLI_MESSAGE_MAX, "DynamoDB refused %s on table \"%s\"%s",
                 where->operation, table, why);
        return 2;
    case AS_DDB_KIND_THROTTLED:
        snprintf(message, CLI_MESSAGE_MAX,
                 "DynamoDB throttled %s on table \"%s\" after %u attempts%s: try again later, or "
                 "raise AWS_MAX_ATTEMPTS",
                 where->operation, table, r->attempts, why);
        return 1;
    default:
        snprintf(message, CLI_MESSAGE_MAX, "%s on table \"%s\" failed%s, HTTP %ld",
                 where->operation, table, why, r->http_status);
        return 1;
    }
}
