/* signed_call: writes one item to a DynamoDB table with a SigV4-signed PutItem through
 * libauditstream's client (retries, checksums, kept-alive connections), and says how it
 * went. Usage: signed_call TABLE ID [NOTE]; AWS settings from the usual variables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <auditstream.h>

static as_span env_span(const char *name)
{
    const char *value = getenv(name);
    return (as_span){value, value != NULL ? strlen(value) : 0};
}

/* Appends `text` as a DynamoDB string value: {"S":"..."} with JSON escapes. */
static void put_string(as_buf *item, const char *name, const char *text)
{
    as_buf_append_char(item, '"');
    as_buf_append_str(item, name);
    as_buf_append_str(item, "\":{\"S\":\"");
    as_buf_append_json_escaped(item, text, strlen(text));
    as_buf_append_str(item, "\"}");
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fputs("usage: signed_call TABLE ID [NOTE]\n"
              "  AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, [AWS_SESSION_TOKEN],\n"
              "  [AWS_ENDPOINT_URL_DYNAMODB] say where and as whom.\n",
              stderr);
        return 2;
    }
    /* The client reads no environment itself: the caller says where and as whom. */
    as_ddb_config config = {.region = getenv("AWS_REGION"),
                            .endpoint_url = getenv("AWS_ENDPOINT_URL_DYNAMODB")};
    as_credentials creds = {.access_key_id = env_span("AWS_ACCESS_KEY_ID"),
                            .secret_access_key = env_span("AWS_SECRET_ACCESS_KEY"),
                            .session_token = env_span("AWS_SESSION_TOKEN")};
    as_buf item = AS_BUF_INIT;
    as_buf_append_char(&item, '{');
    put_string(&item, "id", argv[2]);
    as_buf_append_char(&item, ',');
    put_string(&item, "note", argc == 4 ? argv[3] : "written by signed_call");
    as_buf_append_str(&item, ",\"library\":{\"S\":\"libauditstream ");
    as_buf_append_str(&item, as_version());
    as_buf_append_str(&item, "\"}}");

    as_ddb_client *client = NULL;
    as_ddb_result result = {0};
    as_error err;
    int rc = 1;
    if (as_buf_status(&item) != AS_OK) {
        fputs("signed_call: out of memory\n", stderr);
    } else if (as_global_init(&err) != AS_OK) {
        fprintf(stderr, "signed_call: %s\n", err.message);
    } else {
        as_span items[1] = {{item.data, item.len}};
        if (as_ddb_client_new(&config, &client, &err) != AS_OK ||
            as_ddb_put_items(client, &creds, argv[1], items, 1, 0, &result, NULL, &err) != AS_OK) {
            fprintf(stderr, "signed_call: %s\n", err.message);
        } else if (result.outcome != AS_DDB_WRITTEN) {
            /* The error type and message are DynamoDB's, cleaned of any credential. */
            fprintf(stderr, "signed_call: PutItem %s after %u attempt(s): HTTP %ld %s: %s\n",
                    as_ddb_outcome_name(result.outcome), (unsigned)result.attempts,
                    result.http_status, result.error_type, result.message);
        } else {
            printf("signed_call: wrote %s to %s at %s (request %s)\n", argv[2], argv[1],
                   as_ddb_client_endpoint(client)->url, result.request_id);
            rc = 0;
        }
        as_ddb_client_free(client);
        as_global_cleanup();
    }
    as_buf_free(&item);
    return rc;
}
