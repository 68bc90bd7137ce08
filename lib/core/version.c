/* as_version: the version the library was built as, so that a program can tell the
 * shared library it loaded from the headers it was compiled against. */
#include "auditstream/version.h"

const char *as_version(void)
{
    return AS_VERSION_STRING;
}
