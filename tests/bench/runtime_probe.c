/* The floor under bench_lambda.py's init time: a program that does nothing but what the
 * bootstrap must do first (connect to AWS_LAMBDA_RUNTIME_API and GET the next invocation). */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    const char *colon = api != NULL ? strrchr(api, ':') : NULL;
    if (colon == NULL || colon == api || (size_t)(colon - api) >= 256) {
        fputs("runtime_probe: AWS_LAMBDA_RUNTIME_API is not host:port\n", stderr);
        return 2;
    }
    char host[256];
    memcpy(host, api, (size_t)(colon - api));
    host[colon - api] = '\0';
    struct addrinfo hints = {0};
    struct addrinfo *addr = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, colon + 1, &hints, &addr) != 0) {
        fputs("runtime_probe: AWS_LAMBDA_RUNTIME_API is not a numeric host:port\n", stderr);
        return 2;
    }
    int fd = socket(addr->ai_family, addr->ai_socktype, 0);
    if (fd < 0 || connect(fd, addr->ai_addr, addr->ai_addrlen) != 0) {
        perror("runtime_probe: connect");
        return 1;
    }
    freeaddrinfo(addr);
    char request[512];
    int n = snprintf(request, sizeof request,
                     "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
    if (n < 0 || (size_t)n >= sizeof request || write(fd, request, (size_t)n) != n) {
        perror("runtime_probe: write");
        return 1;
    }
    /* The whole answer (head and event), so that the stand-in never writes to a closed
     * socket; its content is not looked at. */
    char answer[65536];
    size_t used = 0;
    size_t want = 0;
    while (used < sizeof answer - 1 && (want == 0 || used < want)) {
        ssize_t got = read(fd, answer + used, sizeof answer - 1 - used);
        if (got <= 0) {
            break;
        }
        used += (size_t)got;
        answer[used] = '\0';
        const char *end = strstr(answer, "\r\n\r\n");
        const char *length = strstr(answer, "Content-Length:");
        if (want == 0 && end != NULL) {
            want = (size_t)(end - answer) + 4 +
                   (length != NULL && length < end ? strtoul(length + 15, NULL, 10) : 0);
        }
    }
    close(fd);
    return want > 0 && used >= want ? 0 : 1;
}
