/* Unit tests of the version: as_version() (the library's) against the macros (the
 * headers'), and the macros against each other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auditstream/version.h"

static void version_string_matches_macros(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", AS_VERSION_MAJOR, AS_VERSION_MINOR, AS_VERSION_PATCH);
    assert_string_equal(AS_VERSION_STRING, want);
    assert_non_null(as_version());
    assert_string_equal(as_version(), want);
}

static void version_num_orders_as_the_parts(void **state)
{
    (void)state;
    assert_int_equal(AS_VERSION_NUM >> 16, AS_VERSION_MAJOR);
    assert_int_equal((AS_VERSION_NUM >> 8) & 0xff, AS_VERSION_MINOR);
    assert_int_equal(AS_VERSION_NUM & 0xff, AS_VERSION_PATCH);
    /* Each part must fit its byte, or the number would not compare in version order. */
    assert_true(AS_VERSION_MINOR < 256 && AS_VERSION_PATCH < 256);
}

static void version_is_static(void **state)
{
    (void)state;
    /* The same storage every call: callers may keep the pointer. */
    assert_ptr_equal(as_version(), as_version());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_string_matches_macros),
        cmocka_unit_test(version_num_orders_as_the_parts),
        cmocka_unit_test(version_is_static),
    };
    return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
