/* Writes a decoded attribute value as compact wire JSON, copying the bytes as received
 * (a number keeps its digits, a string its escapes) and dropping only whitespace. */
#include "core/value_json.h"

#include "core/json_text.h"

/* Copies validated JSON text, compacted only when the decoder saw whitespace in it:
 * the common case is one memcpy. */
static void append_text(as_buf *out, as_span text, bool spaced)
{
    if (spaced) {
        as_json_append_compact(out, text);
    } else {
        as_buf_append_span(out, text);
    }
}

void as_value_append_wire(as_buf *out, const as_value *v)
{
    bool spaced = (v->flags & AS_VALUE_WIRE_SPACED) != 0;
    if (v->wire.ptr == NULL) {
        /* Keys and images arrive as bare maps. */
        as_buf_append(out, "{\"M\":", 5);
        append_text(out, v->text, spaced);
        as_buf_append_char(out, '}');
    } else if (v->wire.len > 0 && v->wire.ptr[0] == '"') {
        /* A member of SS, NS or BS: its wire text is the bare quoted string. */
        as_buf_append(out, "{\"", 2);
        as_buf_append_str(out, as_type_name(v->type));
        as_buf_append(out, "\":", 2);
        as_buf_append_span(out, v->wire);
        as_buf_append_char(out, '}');
    } else {
        append_text(out, v->wire, spaced);
    }
}

as_status as_value_to_json(const as_value *value, as_buf *out, as_error *err)
{
    if (value == NULL || out == NULL) {
        return as_status_of(as_fail(err, AS_ERR_ARGUMENT, 0, "as_value_to_json: %s is NULL",
                                    value == NULL ? "value" : "out"));
    }
    as_value_append_wire(out, value);
    if (as_buf_status(out) != AS_OK) {
        return as_status_of(as_fail(err, AS_ERR_NOMEM, 0, "as_value_to_json: out of memory"));
    }
    return AS_OK;
}
