/* Spawns, stops and drives tests/support/fault_server.py for the unit tests that use it;
 * see fault_client.h. */
#include "fault_client.h"

/* cmocka needs these before it; its assertions fail the calling test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auditstream.h"

extern char **environ;

#define MAX_EXTRA_ARGS 4

bool fault_server_start(fault_server *fs, const char *who, char *const extra_args[])
{
    fs->pid = -1;
    const char *python = getenv("AS_TEST_PYTHON");
    if (python == NULL || python[0] == '\0') {
        python = "python3";
    }
    char *argv[2 + MAX_EXTRA_ARGS + 1] = {(char *)(uintptr_t)python,
                                          (char *)(uintptr_t) "tests/support/fault_server.py"};
    for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL; i++) {
        if (i == MAX_EXTRA_ARGS) {
            fprintf(stderr, "%s: more than %d arguments for fault_server.py\n", who,
                    MAX_EXTRA_ARGS);
            return false;
        }
        argv[2 + i] = extra_args[i];
    }
    int fds[2];
    if (pipe(fds) != 0) {
        return false;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    int rc = posix_spawnp(&fs->pid, python, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        fprintf(stderr, "%s: cannot start %s: %s\n", who, python, strerror(rc));
        fs->pid = -1;
        return false;
    }
    /* It binds port 0 so parallel test binaries never collide, and prints the one it got. */
    FILE *out = fdopen(fds[0], "r");
    char line[64] = "";
    bool ok = out != NULL && fgets(line, sizeof line, out) != NULL &&
              sscanf(line, "PORT %u", &fs->port) == 1;
    if (out != NULL) {
        fclose(out);
    } else {
        close(fds[0]);
    }
    if (!ok) {
        fprintf(stderr,
                "%s: fault_server.py did not report its port (run from the top of the tree)\n",
                who);
        fault_server_stop(fs);
        return false;
    }
    snprintf(fs->url, sizeof fs->url, "http://127.0.0.1:%u", fs->port);
    return true;
}

void fault_server_stop(fault_server *fs)
{
    if (fs->pid > 0) {
        kill(fs->pid, SIGTERM);
        waitpid(fs->pid, NULL, 0);
        fs->pid = -1;
    }
}

bool fault_server_setup(fault_server *fs, const char *who)
{
    fs->pid = -1;
    as_error err;
    if (as_global_init(&err) != AS_OK) {
        fprintf(stderr, "%s\n", err.message);
        return false;
    }
    return fault_server_start(fs, who, NULL);
}

void fault_server_teardown(fault_server *fs)
{
    fault_server_stop(fs);
    as_global_cleanup();
}

static size_t collect(char *data, size_t size, size_t n, void *userdata)
{
    as_buf_append(userdata, data, size * n);
    return size * n;
}

json_t *fault_server_control(const fault_server *fs, const char *path, const char *post_body)
{
    char url[128];
    snprintf(url, sizeof url, "%s%s", fs->url, path);
    CURL *easy = curl_easy_init();
    assert_non_null(easy);
    as_buf body = AS_BUF_INIT;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    /* A proxy from the environment must not see loopback control requests. */
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
    if (post_body != NULL) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, post_body);
    }
    CURLcode code = curl_easy_perform(easy);
    curl_easy_cleanup(easy);
    assert_int_equal(code, CURLE_OK);
    json_error_t jerr;
    json_t *root = json_loadb(body.data, body.len, 0, &jerr);
    as_buf_free(&body);
    assert_non_null(root);
    return root;
}

void fault_server_script(const fault_server *fs, const char *secret, const char *members,
                         size_t cap)
{
    json_decref(fault_server_control(fs, "/_control/reset", ""));
    /* On the stack: a failed assertion longjmps out and would leak a heap copy. */
    char text[FAULT_SCRIPT_MAX];
    assert_true(cap <= sizeof text);
    snprintf(text, cap, "{\"secret\":\"%s\"%s%s}", secret, members[0] ? "," : "", members);
    json_decref(fault_server_control(fs, "/_control/script", text));
}

json_t *fault_server_log(const fault_server *fs)
{
    return fault_server_control(fs, "/_control/log", NULL);
}

unsigned closed_loopback_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t addr_len = sizeof addr;
    bool ok = bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
              getsockname(fd, (struct sockaddr *)&addr, &addr_len) == 0;
    close(fd);
    return ok ? ntohs(addr.sin_port) : 0;
}

as_ddb_config fault_server_ddb_config(const fault_server *fs, uint32_t concurrency)
{
    as_ddb_config config = {0};
    config.region = "us-east-1";
    config.endpoint_url = fs->url;
    config.concurrency = concurrency;
    config.base_delay_ms = 1;
    config.connect_timeout_ms = 1000;
    config.attempt_timeout_ms = 2000;
    return config;
}

as_ddb_client *fault_server_ddb_client(const as_ddb_config *config)
{
    as_ddb_client *client = NULL;
    as_error err;
    if (as_ddb_client_new(config, &client, &err) != AS_OK) {
        fail_msg("as_ddb_client_new: %s", err.message);
    }
    return client;
}

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t fault_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

int64_t fault_real_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

void fault_expect_written(const as_ddb_result *r, size_t i, uint32_t attempts)
{
    if (r->outcome != AS_DDB_WRITTEN || r->attempts != attempts) {
        fail_msg("item %zu: %s after %u attempts (want written after %u): %s: %s", i,
                 as_ddb_outcome_name(r->outcome), r->attempts, attempts, r->error_type, r->message);
    }
    assert_int_equal(r->http_status, 200);
    assert_string_equal(r->error_type, "");
    assert_string_equal(r->message, "");
    assert_int_equal(strlen(r->request_id), 36);
}

void fault_expect_failed(const as_ddb_result *r, size_t i, uint32_t attempts, const char *type,
                         const char *message_part)
{
    if (r->outcome != AS_DDB_FAILED || r->attempts != attempts ||
        strcmp(r->error_type, type) != 0 || strstr(r->message, message_part) == NULL) {
        fail_msg("item %zu: %s after %u attempts, %s: \"%s\" (want failed after %u, %s: %s)", i,
                 as_ddb_outcome_name(r->outcome), r->attempts, r->error_type, r->message, attempts,
                 type, message_part);
    }
}
