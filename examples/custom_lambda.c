/* custom_lambda: a whole AWS Lambda function in C on libauditstream's Runtime API
 * client. It answers each event with {"requestId":...,"bytes":N,"event":<the event>},
 * and an empty event with the error EmptyEvent. Build it as `bootstrap` for provided.al2023. */
#include <stdio.h>
#include <stdlib.h>

#include <auditstream.h>

static void handle(void *user, const as_invocation *inv, as_runtime_reply *reply)
{
    unsigned long *count = user;
    if (inv->payload.len == 0) {
        as_runtime_reply_fail(reply, "EmptyEvent", "the event is empty: send a JSON value");
        return;
    }
    ++*count;
    /* Appends never overrun; the loop sees a failed one and posts Runtime.OutOfMemory. */
    as_buf *out = &reply->body;
    as_buf_append_str(out, "{\"requestId\":\"");
    as_buf_append_json_escaped(out, inv->request_id.ptr, inv->request_id.len);
    as_buf_append_str(out, "\",\"bytes\":");
    as_buf_append_u64(out, inv->payload.len);
    as_buf_append_str(out, ",\"invocation\":");
    as_buf_append_u64(out, *count);
    as_buf_append_str(out, ",\"event\":"); /* Lambda's events are JSON: embed it as is */
    as_buf_append_span(out, inv->payload);
    as_buf_append_char(out, '}');
}

int main(void)
{
    as_runtime *rt = NULL;
    as_error err;
    unsigned long count = 0;
    /* Set up libcurl once, before any client: the library does not do it behind your back. */
    if (as_global_init(&err) != AS_OK) {
        fprintf(stderr, "custom_lambda: %s\n", err.message);
        return 1;
    }
    if (as_runtime_new(getenv("AWS_LAMBDA_RUNTIME_API"), NULL, &rt, &err) != AS_OK) {
        fprintf(stderr, "custom_lambda: %s\n", err.message);
        as_global_cleanup();
        return 1;
    }
    printf("custom_lambda: libauditstream %s, waiting for events\n", as_version());
    fflush(stdout);
    /* Returns only when the Runtime API is gone for good: exit, and Lambda starts afresh. */
    as_status status = as_runtime_run(rt, handle, &count, &err);
    fprintf(stderr, "custom_lambda: %s\n", status == AS_OK ? "stopped" : err.message);
    as_runtime_free(rt);
    as_global_cleanup();
    return status == AS_OK ? 0 : 1;
}
