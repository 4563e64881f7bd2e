#include "wire.h"

#include <string.h>

/* checkpoint 1 */
uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = 0;
	uint32_t w;
	uint16_t h;

	/* RFC 1071 1: the one's complement sum of the data's 16-bit words. */
	/* RFC 1071 2(B): the sum does not depend on byte order, so add 32-bit
	 * words as the machine loads them and swap once at the end. */
	uint64_t carry = 0;
	while (len >= 32) {
		uint64_t a, b, c, d;
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		/* 64-bit one's-complement adds: a wrap-around is a carry to add back. */
		acc += a;
		carry += acc < a;
		acc += b;
		carry += acc < b;
		acc += c;
		carry += acc < c;
		acc += d;
		carry += acc < d;
		p += 32;
		len -= 32;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32) + carry;
	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		acc += w;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		len -= 2;
	}
	/* RFC 1071 4.1: an odd trailing byte is padded with zero on the right. */
	if (len) {
		const uint8_t last[2] = { p[0], 0 };
		memcpy(&h, last, 2);
		acc += h;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	acc = ((acc & 0xff) << 8) | (acc >> 8);
#endif
	acc += sum;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

/* Adds a 16-bit word sum w (in machine order, unfolded) to sum as csum_add does. */
static uint32_t csum_add_words(uint32_t sum, uint32_t w)
{
	w = (w & 0xffff) + (w >> 16);
	w = (w & 0xffff) + (w >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w = (w & 0xff) << 8 | w >> 8; /* RFC 1071 2(B): swap once, at the end */
#endif
	sum += w;
	return sum + (sum < w); /* the end-around carry */
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CSUM_AVX2 __attribute__((target("avx2")))

/* A 32-byte vector's words, pairwise: madd adds pairs of words as signed
 * numbers, so each word is moved down by 0x8000 first (its top bit flipped);
 * csum_avx2 moves the total back up. */
CSUM_AVX2 static inline __attribute__((always_inline)) __m256i csum_pairs(__m256i v)
{
	const __m256i flip = _mm256_set1_epi16((short)0x8000), ones = _mm256_set1_epi16(1);

	return _mm256_madd_epi16(_mm256_xor_si256(v, flip), ones);
}

/* Loads 32 bytes at p + i, and stores them at dst + i unless dst is NULL. */
CSUM_AVX2 static inline __attribute__((always_inline)) __m256i
csum_load(uint8_t *dst, const uint8_t *p, size_t i)
{
	__m256i v = _mm256_loadu_si256((const __m256i *)(p + i));

	if (dst)
		_mm256_storeu_si256((__m256i *)(dst + i), v);
	return v;
}

/* The sum of len bytes (32 to 64 KiB) as 16-bit words in machine order,
 * unfolded, 32 bytes at a time; copied to dst too unless it is NULL. The
 * last vector ends at the last even byte and masks off what came before. */
CSUM_AVX2 static inline __attribute__((always_inline)) uint32_t
csum_avx2(uint8_t *dst, const uint8_t *p, size_t len)
{
	__m256i acc = _mm256_setzero_si256();
	size_t even = len & ~(size_t)1, i = 0, words;

	for (; i + 128 <= even; i += 128) {
		__m256i a = csum_pairs(csum_load(dst, p, i)), b = csum_pairs(csum_load(dst, p, i + 32));
		__m256i c = csum_pairs(csum_load(dst, p, i + 64)), d = csum_pairs(csum_load(dst, p, i + 96));
		acc = _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_add_epi32(a, b), _mm256_add_epi32(c, d)));
	}
	for (; i + 32 <= even; i += 32)
		acc = _mm256_add_epi32(acc, csum_pairs(csum_load(dst, p, i)));
	words = i / 2;
	if (i < even) {
		const __m256i index = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
			14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
		__m256i keep = _mm256_cmpgt_epi8(index, _mm256_set1_epi8((char)(31 - (even - i))));
		__m256i a = csum_load(dst, p, even - 32);
		acc = _mm256_add_epi32(acc, csum_pairs(_mm256_and_si256(a, keep)));
		words += 16;
	}
	/* 64 KiB make 2^14 pair sums, each of magnitude at most 2^16: no overflow. */
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	uint32_t last = 0;
	if (len & 1) { /* RFC 1071 4.1: padded with zero on the right */
		const uint8_t pad[2] = { p[even], 0 };
		uint16_t h;
		memcpy(&h, pad, 2);
		last = h;
		if (dst)
			dst[even] = p[even];
	}
	return (uint32_t)((int64_t)_mm_cvtsi128_si32(s) + (int64_t)words * 0x8000) + last;
}

CSUM_AVX2 static uint32_t csum_words_avx2(const uint8_t *p, size_t len)
{
	return csum_avx2(NULL, p, len);
}

CSUM_AVX2 static uint32_t csum_copy_avx2(uint8_t *dst, const uint8_t *p, size_t len)
{
	return csum_avx2(dst, p, len);
}

/* In pieces of at most 64 KiB, all but the last a multiple of 32 bytes. */
static uint32_t csum_vec(uint32_t sum, uint8_t *dst, const uint8_t *p, size_t len)
{
	while (len) {
		/* The last piece is 32 bytes at least: its masked vector reads back. */
		size_t n = len <= 65536 ? len : len < 65536 + 32 ? 65536 - 32 : 65536;
		sum = csum_add_words(sum, dst ? csum_copy_avx2(dst, p, n) : csum_words_avx2(p, n));
		dst = dst ? dst + n : NULL;
		p += n;
		len -= n;
	}
	return sum;
}

/* Shorter buffers are not worth the set-up. */
static bool csum_vec_ok(size_t len)
{
	return len >= 128 && __builtin_cpu_supports("avx2");
}
#else
static bool csum_vec_ok(size_t len)
{
	(void)len;
	return false;
}

static uint32_t csum_vec(uint32_t sum, uint8_t *dst, const uint8_t *p, size_t len)
{
	(void)dst, (void)p, (void)len;
	return sum;
}
#endif

/* A header's sum: len a multiple of 4, at most 64 bytes; 64-bit words with
 * their carries, which keeps the compiler from vectorising a short loop. */
static uint32_t csum_header(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t acc = 0, carry = 0, q;
	uint32_t w = 0;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&q, p + i, 8);
		acc += q;
		carry += acc < q;
	}
	if (i < len)
		memcpy(&w, p + i, 4);
	acc = (acc & 0xffffffffu) + (acc >> 32) + carry + w;
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return csum_add_words(sum, (uint32_t)((acc & 0xffff) + (acc >> 16)));
}

uint32_t csum_add_vec(uint32_t sum, const void *data, size_t len)
{
	if (len <= 64 && len % 4 == 0)
		return csum_header(sum, data, len);
	return csum_vec_ok(len) ? csum_vec(sum, NULL, data, len) : csum_add(sum, data, len);
}

uint32_t csum_copy_vec(void *dst, const void *src, size_t len)
{
	if (csum_vec_ok(len))
		return csum_vec(0, dst, src, len);
	memcpy(dst, src, len);
	return csum_add(0, dst, len);
}

uint32_t csum_join(uint32_t a, uint32_t b, size_t a_len)
{
	uint32_t w = b;

	/* RFC 1071 2(B): b's bytes sit one place off the words when a is odd. */
	if (a_len & 1) {
		w = (w & 0xffff) + (w >> 16);
		w = (w & 0xffff) + (w >> 16);
		w = (w & 0xff) << 8 | w >> 8;
	}
	a += w;
	return a + (a < w);
}

/* checkpoint 1 */
uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* checkpoint 1 */
enum wire_err ipv4_parse(const uint8_t *pkt, size_t len, struct ipv4_hdr *h)
{
	if (len < IPV4_HDR_LEN)
		return WIRE_SHORT;
	if (pkt[0] >> 4 != 4)
		return WIRE_VERSION;
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_LEN)
		return WIRE_IHL;
	h->total_len = get16(pkt + 2);
	/* RFC 1122 3.2.1.1-3: header and total length must fit what arrived. */
	if (h->total_len < ihl || h->total_len > len || ihl > len)
		return WIRE_TOTAL_LEN;
	if (csum_fold(csum_add_vec(0, pkt, ihl)) != 0)
		return WIRE_CHECKSUM;
	uint16_t frag = get16(pkt + 6);
	h->hdr = pkt;
	h->hdr_len = ihl;
	h->tos = pkt[1];
	h->id = get16(pkt + 4);
	h->df = (frag & IP_DF) != 0;
	/* RFC 791 3.2: MF set or a non-zero offset means a fragment. */
	h->mf = (frag & IP_MF) != 0;
	h->frag_off = (uint16_t)((frag & IP_OFFMASK) * 8);
	h->ttl = pkt[8];
	h->proto = pkt[9];
	h->src = get32(pkt + 12);
	h->dst = get32(pkt + 16);
	h->payload = pkt + ihl;
	h->payload_len = h->total_len - ihl;
	return WIRE_OK;
}

void ipv4_build_opts(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, size_t opt_len,
		     size_t payload_len, uint16_t id, uint16_t frag)
{
	size_t hlen = IPV4_HDR_LEN + opt_len;

	buf[0] = (uint8_t)(0x40 | hlen / 4);
	buf[1] = 0;
	put16(buf + 2, (uint16_t)(hlen + payload_len));
	put16(buf + 4, id);
	put16(buf + 6, frag);
	buf[8] = IP_TTL_DEFAULT;
	buf[9] = proto;
	put16(buf + 10, 0);
	put32(buf + 12, src);
	put32(buf + 16, dst);
	put16(buf + 10, csum_fold(csum_add_vec(0, buf, hlen)));
}

void ipv4_build(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
		size_t payload_len, uint16_t id)
{
	/* RFC 6864 4.1: an atomic datagram (DF, never fragmented). */
	ipv4_build_opts(buf, src, dst, proto, 0, payload_len, id, IP_DF);
}

/* RFC 791 3.1: Record Route and the source routes: a pointer from 4, and
 * room for an address wherever it points inside the option. Returns the
 * offset in the option of the octet in error, 0 if none. */
static size_t check_route(const uint8_t *o, size_t olen)
{
	if (olen < 3)
		return 1;
	if (o[2] < 4 || (o[2] <= olen && o[2] + 3u > olen))
		return 2;
	return 0;
}

/* RFC 791 3.1: Timestamp: a pointer from 5, flags 0, 1 or 3, room for the
 * entry it points at; full with the overflow count at 15 is in error too. */
static size_t check_timestamp(const uint8_t *o, size_t olen)
{
	if (olen < 4)
		return 1;
	uint8_t flags = o[3] & 0x0f;
	size_t entry = flags == IPOPT_TS_TSONLY ? 4 : 8;
	if (flags != IPOPT_TS_TSONLY && flags != IPOPT_TS_TSANDADDR && flags != IPOPT_TS_PRESPEC)
		return 3;
	if (o[2] < 5 || (o[2] <= olen && o[2] + entry - 1 > olen))
		return 2;
	if (o[2] > olen && (o[3] >> 4) == 15)
		return 3;
	return 0;
}

static void note_option(struct ipv4_opts *o, uint8_t kind, uint8_t at)
{
	uint8_t *slot = kind == IPOPT_RR ? &o->rr : kind == IPOPT_TS ? &o->ts
		      : kind == IPOPT_LSRR || kind == IPOPT_SSRR ? &o->srr : NULL;
	if (slot && !*slot)
		*slot = at;
}

enum wire_err ipv4_parse_options(const uint8_t *hdr, size_t hdr_len, struct ipv4_opts *o)
{
	memset(o, 0, sizeof *o);
	for (size_t i = IPV4_HDR_LEN; i < hdr_len;) {
		uint8_t kind = hdr[i];
		if (kind == IPOPT_EOL)
			break;
		if (kind == IPOPT_NOP) {
			i++;
			continue;
		}
		/* RFC 791 3.1: every other option has a length octet, counting type and itself. */
		if (i + 1 >= hdr_len || hdr[i + 1] < 2 || i + hdr[i + 1] > hdr_len) {
			o->bad = (uint8_t)(i + 1 < hdr_len ? i + 1 : i);
			return WIRE_OPTIONS;
		}
		size_t olen = hdr[i + 1], bad = 0;
		if (kind == IPOPT_RR || kind == IPOPT_LSRR || kind == IPOPT_SSRR)
			bad = check_route(hdr + i, olen);
		else if (kind == IPOPT_TS)
			bad = check_timestamp(hdr + i, olen);
		if (bad) {
			o->bad = (uint8_t)(i + bad);
			return WIRE_OPTIONS;
		}
		note_option(o, kind, (uint8_t)i);
		i += olen;
	}
	return WIRE_OK;
}

enum wire_err icmp_parse(const uint8_t *msg, size_t len, struct icmp_hdr *h)
{
	if (len < ICMP_HDR_LEN)
		return WIRE_SHORT;
	/* RFC 792: the checksum covers the whole ICMP message. */
	if (csum_fold(csum_add_vec(0, msg, len)) != 0)
		return WIRE_CHECKSUM;
	h->type = msg[0];
	h->code = msg[1];
	h->id = get16(msg + 4);
	h->seq = get16(msg + 6);
	h->data = msg + ICMP_HDR_LEN;
	h->data_len = len - ICMP_HDR_LEN;
	return WIRE_OK;
}

size_t icmp_build(uint8_t *buf, uint8_t type, uint8_t code, uint32_t rest,
		  const uint8_t *data, size_t data_len)
{
	buf[0] = type;
	buf[1] = code;
	put16(buf + 2, 0);
	put32(buf + 4, rest);
	if (data_len && buf + ICMP_HDR_LEN != data)
		memmove(buf + ICMP_HDR_LEN, data, data_len);
	size_t len = ICMP_HDR_LEN + data_len;
	put16(buf + 2, csum_fold(csum_add_vec(0, buf, len)));
	return len;
}

enum wire_err udp_parse(const uint8_t *seg, size_t len, uint32_t src,
			uint32_t dst, struct udp_hdr *h)
{
	if (len < UDP_HDR_LEN)
		return WIRE_SHORT;
	h->sport = get16(seg);
	h->dport = get16(seg + 2);
	h->len = get16(seg + 4);
	/* RFC 768: length covers header and data; it may not exceed the IP payload. */
	if (h->len < UDP_HDR_LEN || h->len > len)
		return WIRE_LENGTH;
	/* RFC 768, RFC 1122 4.1.3.4: an all-zero checksum means the sender
	 * computed none; any other is checked. */
	if (get16(seg + 6) != 0) {
		uint32_t sum = csum_pseudo(src, dst, 17, h->len);
		if (csum_fold(csum_add_vec(sum, seg, h->len)) != 0)
			return WIRE_CHECKSUM;
	}
	h->data = seg + UDP_HDR_LEN;
	h->data_len = h->len - UDP_HDR_LEN;
	return WIRE_OK;
}

void udp_build(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport,
	       uint16_t dport, size_t data_len)
{
	uint16_t len = (uint16_t)(UDP_HDR_LEN + data_len);

	put16(buf, sport);
	put16(buf + 2, dport);
	put16(buf + 4, len);
	put16(buf + 6, 0);
	uint16_t c = csum_fold(csum_add_vec(csum_pseudo(src, dst, 17, len), buf, len));
	/* RFC 768: a computed zero is sent as all ones. */
	put16(buf + 6, c ? c : 0xffff);
}

/* One option of known length olen at v (its value); false if its length is wrong. */
static bool parse_option(uint8_t kind, uint8_t olen, const uint8_t *v, struct tcp_opts *o)
{
	switch (kind) {
	case 2:
		if (olen != 4)
			return false;
		o->has_mss = true;
		o->mss = get16(v);
		return true;
	case 3:
		if (olen != 3)
			return false;
		o->has_wscale = true;
		o->wscale = v[0];
		return true;
	case 4:
		if (olen != 2)
			return false;
		o->has_sack_perm = true;
		return true;
	case 5: /* RFC 2018 3: SACK blocks, kept for the trace */
		if (olen < 10 || (olen - 2) % 8)
			return false;
		for (size_t b = 0; b < (size_t)(olen - 2) / 8 && o->sack_n < TCP_MAX_SACK; b++) {
			o->sack[o->sack_n][0] = get32(v + 8 * b);
			o->sack[o->sack_n][1] = get32(v + 8 * b + 4);
			o->sack_n++;
		}
		return true;
	case 8:
		if (olen != 10)
			return false;
		o->has_ts = true;
		o->ts_val = get32(v);
		o->ts_ecr = get32(v + 4);
		return true;
	default: /* RFC 9293 3.2: unknown options are skipped by length */
		return true;
	}
}

enum wire_err tcp_parse_options(const uint8_t *p, size_t len, struct tcp_opts *o)
{
	bool bad = false;
	size_t i = 0;

	memset(o, 0, sizeof *o);
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == 0) /* RFC 9293 3.2: end of option list */
			break;
		if (kind == 1) { /* no-operation */
			i++;
			continue;
		}
		/* RFC 9293 3.1 MUST-7: a length below 2 or past the header ends the list. */
		if (i + 1 >= len || p[i + 1] < 2 || i + p[i + 1] > len)
			return WIRE_OPTIONS;
		/* RFC 9293 3.1 MUST-7: a known option of the wrong length is ignored. */
		if (!parse_option(kind, p[i + 1], p + i + 2, o))
			bad = true;
		i += p[i + 1];
	}
	return bad ? WIRE_OPTIONS : WIRE_OK;
}

/* RFC 7323 3.2: kind 8, length 10, TSval, TSecr. */
static size_t put_ts_option(uint8_t *buf, uint32_t val, uint32_t ecr)
{
	buf[0] = 8;
	buf[1] = 10;
	put32(buf + 2, val);
	put32(buf + 6, ecr);
	return 10;
}

size_t tcp_build_ts_option(uint8_t *buf, uint32_t val, uint32_t ecr)
{
	/* RFC 7323 appendix A: NOP, NOP, TSopt, which keeps the values aligned. */
	buf[0] = 1;
	buf[1] = 1;
	return 2 + put_ts_option(buf + 2, val, ecr);
}

size_t tcp_build_options(uint8_t *buf, const struct tcp_opts *o)
{
	size_t n = 0;

	if (o->has_mss) {
		buf[n++] = 2;
		buf[n++] = 4;
		put16(buf + n, o->mss);
		n += 2;
	}
	if (o->has_sack_perm) {
		buf[n++] = 4;
		buf[n++] = 2;
	}
	if (o->has_ts) /* after SACK-permitted it needs no NOPs */
		n += o->has_sack_perm ? put_ts_option(buf + n, o->ts_val, o->ts_ecr)
				      : tcp_build_ts_option(buf + n, o->ts_val, o->ts_ecr);
	if (o->has_wscale) {
		buf[n++] = 1;
		buf[n++] = 3;
		buf[n++] = 3;
		buf[n++] = o->wscale;
	}
	if (o->sack_n) {
		/* RFC 2018 3: kind 5, 8 bytes per block, after two NOPs. */
		buf[n++] = 1;
		buf[n++] = 1;
		buf[n++] = 5;
		buf[n++] = (uint8_t)(2 + 8 * o->sack_n);
		for (uint8_t i = 0; i < o->sack_n; i++) {
			put32(buf + n, o->sack[i][0]);
			put32(buf + n + 4, o->sack[i][1]);
			n += 8;
		}
	}
	while (n % 4)
		buf[n++] = 1;
	return n;
}

/* checkpoint 1 */
enum wire_err tcp_parse(const uint8_t *seg, size_t len, uint32_t src,
			uint32_t dst, struct tcp_hdr *h)
{
	enum wire_err e = tcp_parse_verified(seg, len, h);

	if (e != WIRE_OK)
		return e;
	/* RFC 9293 3.1: the checksum covers the pseudo-header and the segment. */
	uint32_t sum = csum_pseudo(src, dst, IP_PROTO_TCP, (uint16_t)len);
	if (csum_fold(csum_add_vec(sum, seg, len)) != 0)
		return WIRE_CHECKSUM;
	return WIRE_OK;
}

/* checkpoint 1 */
enum wire_err tcp_parse_verified(const uint8_t *seg, size_t len, struct tcp_hdr *h)
{
	if (len < TCP_HDR_LEN)
		return WIRE_SHORT;
	size_t off = (size_t)(seg[12] >> 4) * 4;
	if (off < TCP_HDR_LEN || off > len)
		return WIRE_OFFSET;
	if (len > 0xffff)
		return WIRE_LENGTH;
	h->sport = get16(seg);
	h->dport = get16(seg + 2);
	h->seq = get32(seg + 4);
	h->ack = get32(seg + 8);
	h->flags = seg[13];
	h->wnd = get16(seg + 14);
	h->urp = get16(seg + 18);
	h->hdr_len = off;
	h->data = seg + off;
	h->data_len = len - off;
	h->opts_bad = tcp_parse_options(seg + TCP_HDR_LEN, off - TCP_HDR_LEN, &h->opts) != WIRE_OK;
	return WIRE_OK;
}

void tcp_build_sum(uint8_t *buf, uint32_t src, uint32_t dst, const struct tcp_hdr *h,
		   size_t opt_len, size_t data_len, uint32_t data_sum)
{
	size_t hlen = TCP_HDR_LEN + opt_len;

	put16(buf, h->sport);
	put16(buf + 2, h->dport);
	put32(buf + 4, h->seq);
	put32(buf + 8, h->ack);
	buf[12] = (uint8_t)((hlen / 4) << 4);
	buf[13] = h->flags;
	put16(buf + 14, h->wnd);
	put16(buf + 16, 0);
	put16(buf + 18, h->urp);
	uint32_t sum = csum_join(csum_pseudo(src, dst, IP_PROTO_TCP, (uint16_t)(hlen + data_len)),
				 data_sum, 0);
	put16(buf + 16, csum_fold(csum_add_vec(sum, buf, hlen)));
}

void tcp_build(uint8_t *buf, uint32_t src, uint32_t dst, const struct tcp_hdr *h,
	       size_t opt_len, size_t data_len)
{
	uint8_t *data = buf + TCP_HDR_LEN + opt_len;

	tcp_build_sum(buf, src, dst, h, opt_len, data_len, csum_add_vec(0, data, data_len));
}
