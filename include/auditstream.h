/* libauditstream: turns DynamoDB Streams events into audit items.
 * The umbrella header; each module's header also stands on its own. */
#ifndef AUDITSTREAM_H
#define AUDITSTREAM_H

#include "auditstream/common.h"
#include "auditstream/buf.h"
#include "auditstream/event.h"
#include "auditstream/diff.h"
#include "auditstream/audit.h"
#include "auditstream/sigv4.h"
#include "auditstream/runtime.h"
#include "auditstream/ddb.h"
#include "auditstream/log.h"
#include "auditstream/config.h"
#include "auditstream/batch.h"

#endif
