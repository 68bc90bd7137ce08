/* Endpoint resolution's private part (the public as_ddb_endpoint_resolve is in ddb.h). */
#ifndef AS_ENDPOINT_H
#define AS_ENDPOINT_H

#include <stdbool.h>

#include "core/internal.h"

/* A region name as the endpoint and the signature take it: 1 to 64 of a-z, 0-9 and '-'. */
AS_LOCAL bool as_ddb_region_ok(const char *region);

#endif
