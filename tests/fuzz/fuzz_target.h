/* The entry point every fuzz target defines. libFuzzer calls it; without
 * libFuzzer, standalone.c calls it once per file (the regression tests). */
#ifndef TL_FUZZ_TARGET_H
#define TL_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
