/* The client side of tests/support/fault_server.py, the fault-injecting DynamoDB stand-in:
 * starting, stopping, its control API (/_control/...), and the client and clock helpers
 * shared by the unit tests that talk to it (test_ddb*, test_batch, test_chain_store). */
#ifndef TEST_FAULT_CLIENT_H
#define TEST_FAULT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "auditstream.h"

typedef struct fault_server {
    pid_t pid;     /* -1 when not running */
    unsigned port; /* the loopback port it bound */
    char url[64];  /* "http://127.0.0.1:<port>", where the control API answers */
} fault_server;

/* Starts fault_server.py with `extra_args` (NULL-terminated, at most 4; NULL for none) on a
 * free loopback port, which it reports, and fills `fs`. Tests run from the top of the
 * tree; AS_TEST_PYTHON names the interpreter. On failure says why on stderr, prefixed by
 * `who` (borrowed), leaves fs->pid at -1 and returns false. */
bool fault_server_start(fault_server *fs, const char *who, char *const extra_args[]);

/* Kills what fault_server_start started, by its pid only; a no-op when not running. */
void fault_server_stop(fault_server *fs);

/* A group setup and teardown for the tests against one stand-in: as_global_init then
 * fault_server_start with no extra arguments; fault_server_stop then as_global_cleanup.
 * Failures are said on stderr. */
bool fault_server_setup(fault_server *fs, const char *who);
void fault_server_teardown(fault_server *fs);

/* A control request to `path` (a GET, or a POST of `post_body` when not NULL); returns the
 * parsed JSON answer, new (json_decref it). Fails the running cmocka test when the request
 * or the parse does. */
json_t *fault_server_control(const fault_server *fs, const char *path, const char *post_body);

/* The most `cap` fault_server_script takes. */
#define FAULT_SCRIPT_MAX 4096

/* Resets the stand-in and gives it a script: `members` are a JSON object's members without
 * braces, sent with "secret" (borrowed) in a text of at most `cap` bytes (FAULT_SCRIPT_MAX
 * at most), truncated beyond. */
void fault_server_script(const fault_server *fs, const char *secret, const char *members,
                         size_t cap);

/* What the stand-in saw since the last reset; new (json_decref it). */
json_t *fault_server_log(const fault_server *fs);

/* A loopback port the kernel just handed out and nothing listens on (bound, read,
 * closed): a connection to it is refused. 0 when none could be had. */
unsigned closed_loopback_port(void);

/* The base client config against `fs` (borrowed: it must outlive the config): us-east-1,
 * `concurrency` connections, a 1 ms backoff base so that retries do not slow the tests,
 * and timeouts short enough that a hung stand-in fails a test quickly. */
as_ddb_config fault_server_ddb_config(const fault_server *fs, uint32_t concurrency);

/* as_ddb_client_new on `config`; fails the running cmocka test, with the message, when it
 * does. Free with as_ddb_client_free. */
as_ddb_client *fault_server_ddb_client(const as_ddb_config *config);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in milliseconds, to time calls and build deadlines. */
int64_t fault_mono_ms(void);
int64_t fault_real_ms(void);

/* Fails the running cmocka test unless `r`, item `i`'s result, says written after exactly
 * `attempts` attempts with HTTP 200, no error type or message, and a request id. */
void fault_expect_written(const as_ddb_result *r, size_t i, uint32_t attempts);

/* Fails the running cmocka test unless `r`, item `i`'s result, says failed after exactly
 * `attempts` attempts with error type `type` and a message containing `message_part`. */
void fault_expect_failed(const as_ddb_result *r, size_t i, uint32_t attempts, const char *type,
                         const char *message_part);

#endif
