/* A program outside the library, built against an installed libauditstream through
 * pkg-config: proves the installed headers, libraries and .pc files are enough. It
 * uses the pure core alone, so it links with libauditstream-core as well. */
#include <stdio.h>
#include <string.h>

#include <auditstream.h>

static const char EVENT[] =
    "{\"Records\":[{\"eventID\":\"c4ca4238a0b923820dcc509a6f75849b\","
    "\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{"
    "\"ApproximateCreationDateTime\":1714566645,"
    "\"Keys\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"}},"
    "\"NewImage\":{\"key\":{\"S\":\"CACHE_TTL_SEC\"},\"value\":{\"N\":\"3600\"}},"
    "\"SequenceNumber\":\"100\",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}]}";

/* docs/audit-format.md's worked example: UUIDv5 of the eventID in the audit namespace. */
static const char WANT_PREFIX[] = "{\"id\":{\"S\":\"2f95a1e4-df65-55a0-81e8-5b1ec6e4c925\"}";

int main(void)
{
    int rc = 1;
    as_error err = {0};
    as_event *event = NULL;
    as_items *items = as_items_new();
    /* The library loaded must be the one whose headers this was compiled with. */
    if (strcmp(as_version(), AS_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: library %s, headers %s\n", as_version(), AS_VERSION_STRING);
        goto cleanup;
    }
    if (items == NULL) {
        fprintf(stderr, "consumer: as_items_new: out of memory\n");
        goto cleanup;
    }
    if (as_event_decode(EVENT, sizeof EVENT - 1, &event, &err) != AS_OK) {
        fprintf(stderr, "consumer: as_event_decode: %s\n", err.message);
        goto cleanup;
    }
    if (as_event_record_count(event) != 1) {
        fprintf(stderr, "consumer: %zu records, want 1\n", as_event_record_count(event));
        goto cleanup;
    }

    as_audit_options options = {.format = AS_FORMAT_CLASSIC, .now_ms = 0};
    if (as_audit_build_event(event, &options, items, &err) != AS_OK) {
        fprintf(stderr, "consumer: as_audit_build_event: %s\n", err.message);
        goto cleanup;
    }
    if (as_items_count(items) != 1) {
        fprintf(stderr, "consumer: %zu items, want 1\n", as_items_count(items));
        goto cleanup;
    }
    as_item item = as_items_get(items, 0);
    if ((item.flags & AS_ITEM_ERROR) != 0) {
        fprintf(stderr, "consumer: error item: %.*s\n", (int)item.reason.len, item.reason.ptr);
        goto cleanup;
    }
    size_t want_len = sizeof WANT_PREFIX - 1;
    if (item.json.len < want_len || memcmp(item.json.ptr, WANT_PREFIX, want_len) != 0) {
        fprintf(stderr, "consumer: unexpected item: %.*s\n", (int)item.json.len, item.json.ptr);
        goto cleanup;
    }
    printf("OK\n");
    rc = 0;

cleanup:
    as_items_free(items);
    as_event_free(event);
    return rc;
}
