/* Plain renderings of attribute values for auditstream's tables (cli/plain.h): the type
 * tags dropped where the value's look says its type. */
#include <string.h>

#include "auditstream/wire.h"
#include "plain.h"

static void append_quoted(as_buf *out, as_span text)
{
    as_buf_append_char(out, '"');
    as_buf_append_span(out, text);
    as_buf_append_char(out, '"');
}

static void append_scalar(const as_value *v, as_buf *out)
{
    switch (v->type) {
    case AS_TYPE_S: append_quoted(out, v->text); break;
    case AS_TYPE_B:
        as_buf_append_str(out, "b64:");
        as_buf_append_span(out, v->text);
        break;
    case AS_TYPE_NULL: as_buf_append_str(out, "null"); break; /* its text is "true" */
    case AS_TYPE_N:
    case AS_TYPE_BOOL:
    default: as_buf_append_span(out, v->text); break;
    }
}

void cli_plain_value(const as_value *v, as_buf *out)
{
    const char *open = NULL, *close = NULL;
    switch (v->type) {
    case AS_TYPE_M: open = "{", close = "}"; break;
    case AS_TYPE_L: open = "[", close = "]"; break;
    case AS_TYPE_SS:
    case AS_TYPE_NS:
    case AS_TYPE_BS: open = "<<", close = ">>"; break;
    default: append_scalar(v, out); return;
    }
    as_buf_append_str(out, open);
    bool first = true;
    for (const as_value *m = v + 1; m < v + v->subtree; m += m->subtree) {
        if (!first) {
            as_buf_append_char(out, ',');
        }
        first = false;
        if (v->type == AS_TYPE_M) {
            append_quoted(out, m->name);
            as_buf_append_char(out, ':');
        }
        cli_plain_value(m, out);
    }
    as_buf_append_str(out, close);
}

as_status cli_plain_wire(as_span wire, as_buf *out)
{
    /* The decoder reads items: one attribute named v holds the value. */
    as_buf item = AS_BUF_INIT;
    as_buf_append_str(&item, "{\"v\":");
    as_buf_append_span(&item, wire);
    as_buf_append_char(&item, '}');
    if (as_buf_status(&item) != AS_OK) {
        as_buf_free(&item);
        return AS_ERR_NOMEM;
    }
    as_wire_items *decoded = NULL;
    as_error err = {0};
    as_status status = as_wire_decode(item.data, item.len, AS_WIRE_ITEM, &decoded, &err);
    const as_value *value =
        status == AS_OK ? as_wire_attribute(as_wire_item(decoded, 0), "v") : NULL;
    if (value != NULL) {
        cli_plain_value(value, out);
    } else if (status != AS_ERR_NOMEM) {
        as_buf_append_span(out, wire);
    }
    as_wire_items_free(decoded);
    as_buf_free(&item);
    if (status == AS_ERR_NOMEM) {
        return AS_ERR_NOMEM;
    }
    return as_buf_status(out);
}
