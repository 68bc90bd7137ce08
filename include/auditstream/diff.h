/* Comparing attribute values and images with the equality of docs/audit-format.md, and listing what
 * changed: top-level attribute names (classic) or JSON Pointer paths (detailed). */
#ifndef AUDITSTREAM_DIFF_H
#define AUDITSTREAM_DIFF_H

#include <stdbool.h>

#include "common.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The equality of docs/audit-format.md: types must match; S by decoded bytes, N by numeric value,
 * B by decoded bytes, sets ignoring order (NS numerically), M by names and values,
 * L element by element, BOOL and NULL by value. Both values must come from decoded
 * events whose records are valid. */
bool as_value_equal(const as_value *a, const as_value *b);

typedef enum as_diff_mode {
    AS_DIFF_TOP, /* one change per differing top-level attribute */
    AS_DIFF_DEEP /* down to the deepest differing map name or list index */
} as_diff_mode;

/* One difference. Both values are borrowed from the event; either is NULL when that
 * side has nothing at `path`. */
typedef struct as_change {
    /* AS_DIFF_TOP: the decoded attribute name. AS_DIFF_DEEP: an RFC 6901 JSON Pointer
     * ("/a/0/b~1c") over decoded names. Borrowed from the as_changes. */
    as_span path;
    /* The top-level attribute's name as received (still JSON-escaped). */
    as_span top_name;
    const as_value *old_value;
    const as_value *new_value;
} as_change;

/* A reusable list of changes with its scratch space. */
typedef struct as_changes as_changes;

/* New empty list (free with as_changes_free), or NULL when out of memory. */
as_changes *as_changes_new(void);
/* NULL is a no-op. */
void as_changes_free(as_changes *changes);
/* 0 for NULL. */
size_t as_changes_count(const as_changes *changes);
/* Borrowed until the next diff into `changes` or its free; NULL when `index` >= count or
 * `changes` is NULL. */
const as_change *as_changes_get(const as_changes *changes, size_t index);

/* Replaces the contents of `out` with the differences from `old_image` to `new_image`
 * (M values of a valid record; NULL stands for an image with no attributes), ordered
 * depth-first, names in byte order of their decoded bytes, list indices ascending.
 * Top-level names equal to one of the `ignore_count` decoded names in `ignore` are
 * skipped. Fails with AS_ERR_NOMEM, or AS_ERR_ARGUMENT for a NULL `out`, a NULL
 * `ignore` with a non-zero count, or an unknown mode. */
AS_MUST_CHECK as_status as_diff_images(const as_value *old_image, const as_value *new_image,
                                       as_diff_mode mode, const as_span *ignore,
                                       size_t ignore_count, as_changes *out, as_error *err);

#ifdef __cplusplus
}
#endif

#endif
