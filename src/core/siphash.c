/* SipHash-2-4 (Aumasson and Bernstein): a keyed PRF for ISNs, timestamp
 * offsets and SYN cookies (RFC 6528 3 asks for one). */
#include "siphash.h"

static uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static void sip_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

static void sip_word(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

/* SipHash-2-4 of n 64-bit words: a keyed PRF, as RFC 6528 3 asks for. */
uint64_t tl_siphash(const uint64_t k[2], const uint64_t *m, unsigned n)
{
	uint64_t v[4] = { k[0] ^ 0x736f6d6570736575ull, k[1] ^ 0x646f72616e646f6dull,
			  k[0] ^ 0x6c7967656e657261ull, k[1] ^ 0x7465646279746573ull };

	for (unsigned i = 0; i < n; i++)
		sip_word(v, m[i]);
	sip_word(v, (uint64_t)(8 * n) << 56);
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t tl_siphash2(const uint64_t k[2], uint64_t m0, uint64_t m1)
{
	uint64_t m[2] = { m0, m1 };

	return tl_siphash(k, m, 2);
}

