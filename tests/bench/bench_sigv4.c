/* Benchmark: SigV4 signatures per second for a 1 KB DynamoDB PutItem, the signing key
 * cached (the steady state of a warm Lambda) and, for contrast, derived on every call. */
#include <stdio.h>
#include <string.h>

#include "auditstream.h"
#include "timing.h"

#define BODY_BYTES 1024

typedef struct sign_case {
    as_sigv4_signer *signer;
    as_sigv4_request request;
    as_sigv4_params params;
    as_sigv4_output output;
    bool new_day_each_call; /* defeats the key cache */
} sign_case;

static int sign_once(void *ctx)
{
    sign_case *c = ctx;
    if (c->new_day_each_call) {
        c->params.time += 86400;
    }
    as_error err;
    if (as_sigv4_sign(c->signer, &c->request, &c->params, &c->output, &err) != AS_OK) {
        fprintf(stderr, "bench_sigv4: %s\n", err.message);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_config config = BENCH_CONFIG_DEFAULT;
    if (bench_parse_args(&argc, argv, &config) != 0) {
        return 2;
    }
    /* A PutItem body of 1 KB: the audit item padded with a long value. */
    static char body[BODY_BYTES + 1];
    const char *head = "{\"TableName\":\"Audit\",\"Item\":{\"id\":{\"S\":\"35338964-9dc6-5199-a27f-"
                       "fcb4c705e8bd\"},\"newValue\":{\"S\":\"";
    const char *tail = "\"}}}";
    size_t fill = BODY_BYTES - strlen(head) - strlen(tail);
    memcpy(body, head, strlen(head));
    memset(body + strlen(head), 'x', fill);
    memcpy(body + strlen(head) + fill, tail, strlen(tail));

    static const as_sigv4_header headers[] = {
        {{"Content-Type", 12}, {"application/x-amz-json-1.0", 26}},
        {{"Host", 4}, {"dynamodb.eu-west-1.amazonaws.com", 32}},
        {{"X-Amz-Target", 12}, {"DynamoDB_20120810.PutItem", 25}},
    };
    sign_case cases[2];
    for (int i = 0; i < 2; i++) {
        sign_case *c = &cases[i];
        memset(c, 0, sizeof *c);
        c->signer = as_sigv4_signer_new();
        if (c->signer == NULL) {
            fprintf(stderr, "bench_sigv4: no signer\n");
            return 1;
        }
        c->request.method = (as_span){"POST", 4};
        c->request.path = (as_span){"/", 1};
        c->request.headers = headers;
        c->request.header_count = sizeof headers / sizeof headers[0];
        c->request.payload = (as_span){body, BODY_BYTES};
        c->params.credentials.access_key_id = (as_span){"AKIDEXAMPLE", 11};
        c->params.credentials.secret_access_key =
            (as_span){"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 40};
        c->params.credentials.session_token = (as_span){"FQoGZXIvYXdzEXAMPLETOKEN", 24};
        c->params.region = (as_span){"eu-west-1", 9};
        c->params.service = (as_span){"dynamodb", 8};
        c->params.time = 1714566645;
        c->new_day_each_call = i == 1;
        as_sigv4_output_init(&c->output);
    }
    bench_fn fns[2] = {sign_once, sign_once};
    void *ctxs[2] = {&cases[0], &cases[1]};
    bench_result results[2];
    size_t failed = 0;
    if (bench_measure_interleaved(&config, 2, fns, ctxs, results, &failed) != 0) {
        return 1;
    }
    printf("bench_sigv4: SigV4 for a %d-byte DynamoDB PutItem with a session token, one thread\n",
           BODY_BYTES);
    printf("%-28s %12s %14s\n", "signing key", "us/sign", "signatures/s");
    const char *names[2] = {"cached (warm Lambda)", "derived on every call"};
    for (int i = 0; i < 2; i++) {
        printf("%-28s %12.2f %14.0f\n", names[i], results[i].median * 1e6, 1.0 / results[i].median);
    }
    printf("key derivations: cached %llu, uncached %llu\n",
           (unsigned long long)as_sigv4_signer_derivations(cases[0].signer),
           (unsigned long long)as_sigv4_signer_derivations(cases[1].signer));
    for (int i = 0; i < 2; i++) {
        as_sigv4_output_free(&cases[i].output);
        as_sigv4_signer_free(cases[i].signer);
    }
    return 0;
}
