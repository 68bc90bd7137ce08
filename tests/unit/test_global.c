/* Unit tests of the process-wide setup: as_global_init nests with itself and with
 * libcurl's own init, a client can be made after it, and the deprecated old names still
 * work for programs written against 0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "auditstream/ddb.h"
#include "auditstream/global.h"
#include "auditstream/runtime.h"

static void init_nests_and_enables_clients(void **state)
{
    (void)state;
    as_error err = {0};
    assert_int_equal(as_global_init(&err), AS_OK);
    assert_int_equal(as_global_init(NULL), AS_OK);
    /* A program that uses libcurl itself may init it too, in any order. */
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    as_runtime *rt = NULL;
    assert_int_equal(as_runtime_new("127.0.0.1:9", NULL, &rt, &err), AS_OK);
    assert_non_null(rt);
    as_runtime_free(rt);
    curl_global_cleanup();
    as_global_cleanup();
    as_global_cleanup();
}

static void deprecated_names_still_work(void **state)
{
    (void)state;
    as_error err = {0};
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    assert_int_equal(as_ddb_global_init(&err), AS_OK);
    as_ddb_config config = {.region = "us-east-1", .endpoint_url = "http://127.0.0.1:9"};
    as_ddb_client *client = NULL;
    assert_int_equal(as_ddb_client_new(&config, &client, &err), AS_OK);
    as_ddb_client_free(client);
    as_ddb_global_cleanup();
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_nests_and_enables_clients),
        cmocka_unit_test(deprecated_names_still_work),
    };
    return cmocka_run_group_tests_name("global", tests, NULL, NULL);
}
