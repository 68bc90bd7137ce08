/* libauditstream: turns DynamoDB Streams events into audit items.
 * The umbrella header of the reusable library: the pure core (common, buf, event, diff,
 * audit, wire, chain, replay, version), SigV4 and the DynamoDB client, the Lambda Runtime API
 * client, and their one setup call. Each module's header also stands on its own.
 *
 * The audit function's own modules (auditstream/config.h, batch.h, log.h) are not
 * included here: include them by name. docs/library.md maps the modules, their
 * ownership rules and errors; docs/audit-format.md is the item format. */
#ifndef AUDITSTREAM_H
#define AUDITSTREAM_H

#include "auditstream/common.h"
#include "auditstream/version.h"
#include "auditstream/buf.h"
#include "auditstream/event.h"
#include "auditstream/diff.h"
#include "auditstream/audit.h"
#include "auditstream/wire.h"
#include "auditstream/chain.h"
#include "auditstream/replay.h"
#include "auditstream/sigv4.h"
#include "auditstream/global.h"
#include "auditstream/ddb.h"
#include "auditstream/ddb_read.h"
#include "auditstream/runtime.h"

#endif
