/* What chain.c shares with chain_verify.c: the record digest over decoded items (as built,
 * or as a trail holds them), and reading an item's chain fields. */
#ifndef AS_CORE_CHAIN_H
#define AS_CORE_CHAIN_H

#include "auditstream/buf.h"
#include "auditstream/chain.h"
#include "auditstream/event.h"
#include "core/internal.h"

/* One item's place in the digester: its id's decoded bytes and its canonical form, as
 * offsets into the digester's buffers while they may still move. */
typedef struct chain_form {
    size_t id_at;
    size_t id_len;
    size_t form_at;
    size_t form_len;
} chain_form;

/* The forms of one record's items, gathered, then sorted and hashed. Reusable: zero it
 * (or as_chain_digester_init) once, as_chain_digester_free at the end. */
typedef struct as_chain_digester {
    as_buf ids;
    as_buf forms;
    chain_form *items;
    size_t count;
    size_t cap;
} as_chain_digester;

AS_LOCAL void as_chain_digester_free(as_chain_digester *d);

/* Forgets the items gathered; keeps the storage. */
AS_LOCAL void as_chain_digester_reset(as_chain_digester *d);

/* Adds `item` (a map: an audit item as decoded), its canonical form less the chain
 * fields. AS_ERR_ARGUMENT "item <index>: ..." for an item without an S id or a value with
 * no canonical form; AS_ERR_NOMEM. */
AS_LOCAL AS_RESULT as_chain_digester_add(as_chain_digester *d, const as_value *item, size_t index,
                                         as_error *err);

/* The digest of the items added (at least one): sorted by id bytes then form, a form
 * given twice taken once, each followed by '\n'. AS_ERR_NOMEM when libcrypto fails;
 * AS_ERR_ARGUMENT when nothing was added. */
AS_LOCAL AS_RESULT as_chain_digester_finish(as_chain_digester *d, uint8_t digest[32],
                                            as_error *err);

/* Whether `member` (an item's attribute) is one of the chain fields chainPrev, chain,
 * chainPrevTime: an as_canonical_skip. */
AS_LOCAL bool as_chain_is_field(const as_value *member, void *ctx);

/* Whether the `len` bytes are 64 lower-case hex digits. */
AS_LOCAL bool as_chain_is_hex(const char *text, size_t len);

#endif
