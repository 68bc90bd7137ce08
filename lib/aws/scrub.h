/* Cleaning what a server says before it reaches a log or an answer: secrets, signatures
 * and Authorization headers a DynamoDB error message may echo are taken out. */
#ifndef AS_SCRUB_H
#define AS_SCRUB_H

#include <stddef.h>

#include "auditstream/common.h"
#include "core/internal.h"

/* The shortest run of a secret's bytes a cleaned message may not show: shorter pieces
 * tell an attacker little, and real words would match too often. A secret shorter than
 * this is matched whole. */
#define AS_DDB_SECRET_RUN 16

/* Makes a server message safe to hand to the caller and to log, working on the whole
 * message before anything is cut:
 *  - the first line only, cut before "The Canonical String" or "The String-to-Sign" (AWS
 *    echoes the canonical request, session token included, in signature errors);
 *  - what an echoed Authorization header shows replaced by "[redacted]": everything
 *    after "AWS4-HMAC-SHA256" or "Authorization=" / "Authorization:" up to the next
 *    quote, the values of "Credential=", "Signature=" and "X-Amz-Security-Token" (= or
 *    :), and access key ids (AKIA or ASIA and 16 more of A-Z 0-9);
 *  - every run of token bytes (letters, digits, "+/=\%&#;_.-") replaced by "[redacted]"
 *    when it holds AS_DDB_SECRET_RUN bytes in a row of one of `secrets`, as is or once
 *    its escapes are undone (JSON's \uXXXX and \x, %XX, &#N; and &#xN;, up to three
 *    levels deep), or 40 hex digits in a row (a signature or a key);
 *  - bytes outside printable ASCII made '?', trailing blanks dropped;
 * then cut to `cap` - 1 bytes and NUL-terminated. When memory runs out the message is
 * withheld whole rather than shown uncleaned. */
AS_LOCAL void as_ddb_clean_message(as_span raw, const as_span *secrets, size_t secret_count,
                                   char *out, size_t cap);

#endif
