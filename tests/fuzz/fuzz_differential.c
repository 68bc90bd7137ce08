/* libFuzzer target: our event decoder against the jansson reference on the same bytes;
 * aborts, printing where the canonical dumps part, when they disagree. */
#include <stdio.h>
#include <stdlib.h>

#include "differential.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    differential d = {AS_BUF_INIT, AS_BUF_INIT, false, {0}};
    if (!differential_run((const char *)data, size, &d)) {
        as_buf why = AS_BUF_INIT;
        differential_explain(&d, &why);
        fprintf(stderr, "fuzz_differential: the decoders disagree\n%.*s", (int)why.len,
                why.data != NULL ? why.data : "");
        abort();
    }
    differential_free(&d);
    return 0;
}
