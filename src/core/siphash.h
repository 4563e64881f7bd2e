/* SipHash-2-4 of n 64-bit words under a 128-bit key. */
#ifndef TL_SIPHASH_H
#define TL_SIPHASH_H

#include <stdint.h>

uint64_t tl_siphash(const uint64_t k[2], const uint64_t *m, unsigned n);
uint64_t tl_siphash2(const uint64_t k[2], uint64_t m0, uint64_t m1);

#endif
