/* Decoding a Lambda DynamoDB Streams event: one validating pass over the bytes that
 * records where each record, key, image and attribute value lies (spans into the input). */
#ifndef AUDITSTREAM_EVENT_H
#define AUDITSTREAM_EVENT_H

#include <stdbool.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* DynamoDB's ten attribute value types. */
typedef enum as_type {
    AS_TYPE_S,
    AS_TYPE_N,
    AS_TYPE_B,
    AS_TYPE_SS,
    AS_TYPE_NS,
    AS_TYPE_BS,
    AS_TYPE_M,
    AS_TYPE_L,
    AS_TYPE_NULL,
    AS_TYPE_BOOL
} as_type;

/* The type's wire tag: "S", "N", ..., "BOOL". */
const char *as_type_name(as_type type);

/* Bits of as_value.flags. */
enum {
    AS_VALUE_NAME_ESCAPED = 1u << 0, /* `name` holds a backslash escape */
    AS_VALUE_TEXT_ESCAPED = 1u << 1, /* `text` holds a backslash escape */
    AS_VALUE_WIRE_SPACED = 1u << 2   /* `wire` (for Keys and images, `text`) holds whitespace
                                        outside strings */
};

/* One attribute value of a decoded event. The values of an event live in one flat
 * array in document order, so a value's members follow it directly:
 *
 *     for (const as_value *m = v + 1; m < v + v->subtree; m += m->subtree) ...
 *
 * Members of M are named entries; members of L are values; members of SS, NS and BS
 * are values of type S, N and B whose `wire` is the quoted string.
 * All spans borrow the event's input bytes. */
typedef struct as_value {
    as_type type;
    uint32_t subtree; /* values in this one's subtree, itself included */
    uint32_t count;   /* members of a set, M or L; 0 otherwise */
    uint32_t depth;   /* M/L levels from here down: 0 for scalars and sets, 1 for {"M":{}} */
    uint32_t flags;   /* AS_VALUE_* */
    as_span name;     /* M entry or image attribute: the name between its quotes (JSON-escaped) */
    as_span wire;     /* the value as received: {"N":"1"} (a set member: "1"); empty for
                         Keys and images, which are maps that were never wrapped */
    as_span text;     /* S, N, B, set member: the string between its quotes (JSON-escaped);
                         BOOL, NULL: the literal true or false; M: the object {...} and
                         L, sets: the array [...], as received */
    uint64_t size;    /* DynamoDB's size of the value, attribute name not included */
} as_value;

typedef enum as_event_name {
    AS_EVENT_UNKNOWN = 0,
    AS_EVENT_INSERT,
    AS_EVENT_MODIFY,
    AS_EVENT_REMOVE
} as_event_name;

/* One record of the batch, valid or not. Spans borrow the event's input and are
 * empty (ptr NULL) when the record lacks the field; string spans are the text
 * between the quotes, still JSON-escaped (see `escaped`). */
typedef struct as_record {
    size_t index; /* position in Records */
    as_span raw;  /* the record's JSON as received */
    as_span event_id;
    as_event_name event_name;
    as_span event_source;
    as_span event_source_arn;
    as_span sequence_number;
    as_span creation_time; /* ApproximateCreationDateTime: JSON number text (an
                              invalid record: whatever value it had) */
    as_span stream_view_type;
    as_span identity_type;      /* userIdentity.type */
    as_span identity_principal; /* userIdentity.principalId */
    /* Maps (type M, see as_value.wire) or NULL. An invalid record keeps only its Keys,
     * and only when they are sound, so that its error item can still name the item. */
    const as_value *keys;
    const as_value *old_image;
    const as_value *new_image;
    uint32_t escaped; /* AS_RECORD_*_ESCAPED: which spans hold an escape */
    /* NULL when the record is valid; else why not, naming the record and the field:
     * "Records[3].dynamodb.NewImage.price.N: ...". Owned by the event. */
    const char *error;
} as_record;

/* Bits of as_record.escaped. */
enum {
    AS_RECORD_EVENT_ID_ESCAPED = 1u << 0,
    AS_RECORD_SEQUENCE_ESCAPED = 1u << 1,
    AS_RECORD_ARN_ESCAPED = 1u << 2,
    AS_RECORD_SOURCE_ESCAPED = 1u << 3
};

/* A decoded event. Opaque; owns the records and values but not the input bytes,
 * which must outlive it. */
typedef struct as_event as_event;

/* Decodes `len` bytes of `json`, which the event borrows (keep them alive and
 * unchanged until as_event_free). On success *out is a new event: free it with
 * as_event_free. A record that breaks DynamoDB's rules does not fail the call: it
 * is decoded with `error` set. Fails with AS_ERR_JSON when the bytes are not JSON
 * (invalid UTF-8, a byte-order mark, trailing bytes, nesting past 2048 levels) and
 * AS_ERR_NOT_EVENT when they are JSON but not a Streams event; `err->offset` then
 * says where. */
AS_MUST_CHECK as_status as_event_decode(const char *json, size_t len, as_event **out,
                                        as_error *err);

/* NULL is a no-op. */
void as_event_free(as_event *event);

/* 0 for a NULL event. */
size_t as_event_record_count(const as_event *event);
/* Borrowed, valid until as_event_free; NULL when `index` >= as_event_record_count or
 * `event` is NULL (every accessor of the library answers a bad index so). */
const as_record *as_event_record(const as_event *event, size_t index);

/* Decodes the JSON escapes of a string body (`span` as found in as_value.name or
 * .text) into raw bytes, appending them to `out` (an as_buf *; void * to keep this
 * header free of buf.h). The span must come from a decoded event, which validated it. */
struct as_buf;
void as_json_unescape(as_span span, struct as_buf *out);

/* Appends `value` to `out` (an as_buf *) as compact DynamoDB wire JSON, the way the
 * audit builder writes oldValue and newValue: {"N":"1.50"}, {"M":{...}}, its bytes as
 * received (a number keeps its digits, a string its escapes) with only the whitespace
 * outside strings dropped. Keys and images, bare maps on the wire, are written as
 * {"M":{...}}; a member of a set (type S, N or B) as {"S":"..."}. `value` must come
 * from a decoded event. AS_ERR_ARGUMENT for a NULL argument; AS_ERR_NOMEM when `out`
 * could not grow, or had already failed since its last clear. */
AS_MUST_CHECK as_status as_value_to_json(const as_value *value, struct as_buf *out, as_error *err);

#ifdef __cplusplus
}
#endif

#endif
