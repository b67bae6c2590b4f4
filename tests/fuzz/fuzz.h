/* fuzz.h - the entry point of one fuzz target.
 *
 * Built by itself with clang -fsanitize=fuzzer (configure --enable-fuzzing),
 * a target defines LLVMFuzzerTestOneInput.  The replay program (built for
 * make check with any compiler) links every target at once, so there each
 * defines FUZZ_NAME_one_input instead (FUZZ_REPLAY is set), for example
 * fuzz_json_one_input.  Each target file sets FUZZ_NAME before including
 * this header.
 */
#ifndef DROPSTOCK_FUZZ_H
#define DROPSTOCK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz.h"
#endif

#ifdef FUZZ_REPLAY
#define FUZZ_CAT2(a, b) a##b
#define FUZZ_CAT(a, b) FUZZ_CAT2(a, b)
#define FUZZ_ENTRY FUZZ_CAT(FUZZ_NAME, _one_input)
#else
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int FUZZ_ENTRY(const uint8_t *data, size_t size);

#endif
