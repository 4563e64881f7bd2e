/* Wire formats: RFC 1071 checksums, and IPv4, ICMP, UDP, TCP parse/build,
 * including every class of malformed IPv4 header the stack must drop. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "../check_run.h"

START_TEST(checksum_rfc1071_example)
{
	/* RFC 1071 section 3: these bytes sum to ddf2 (one's complement). */
	const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	ck_assert_uint_eq(csum_add(0, b, sizeof b) % 0xffff, 0xddf2);
	ck_assert_uint_eq(csum_fold(csum_add(0, b, sizeof b)), (uint16_t)~0xddf2);
}
END_TEST

START_TEST(checksum_odd_length_pads_with_zero)
{
	const uint8_t odd[] = { 0x12, 0x34, 0x56 };
	const uint8_t even[] = { 0x12, 0x34, 0x56, 0x00 };

	ck_assert_uint_eq(csum_fold(csum_add(0, odd, 3)), csum_fold(csum_add(0, even, 4)));
	ck_assert_uint_eq(csum_fold(csum_add(0, odd, 3)), (uint16_t)~(0x1234 + 0x5600));
}
END_TEST

START_TEST(checksum_verifies_to_zero)
{
	uint8_t buf[1001];

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	buf[10] = buf[11] = 0;
	uint16_t c = csum_fold(csum_add(0, buf, sizeof buf));
	buf[10] = (uint8_t)(c >> 8);
	buf[11] = (uint8_t)c;
	ck_assert_uint_eq(csum_fold(csum_add(0, buf, sizeof buf)), 0);
}
END_TEST

/* RFC 1071 word by word: the reference the fast version must agree with. */
static uint16_t slow_checksum(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t acc = sum;

	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

START_TEST(checksum_matches_the_reference)
{
	static uint8_t buf[4096 + 8];

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 7) * 17 + 0xf0);
	/* Every length up to 300 at every alignment, long runs of 0xff (the
	 * carries), a seed sum, and full segments. */
	for (size_t off = 0; off < 8; off++) {
		for (size_t len = 0; len <= 300; len++) {
			ck_assert_uint_eq(csum_fold(csum_add(0, buf + off, len)),
					  slow_checksum(0, buf + off, len));
			ck_assert_uint_eq(csum_fold(csum_add(0xfffe1234u, buf + off, len)),
					  slow_checksum(0xfffe1234u, buf + off, len));
		}
	}
	memset(buf, 0xff, sizeof buf);
	for (size_t len = 4000; len <= 4096; len++)
		ck_assert_uint_eq(csum_fold(csum_add(0, buf, len)), slow_checksum(0, buf, len));
}
END_TEST

/* csum_add_vec (AVX2 where the CPU has it) against the word-by-word
 * reference: every length up to 600 at every alignment of a 64-byte line,
 * random lengths past the 64 KiB it sums in one go, and all ones. */
START_TEST(checksum_vector_matches_the_reference)
{
	static uint8_t buf[200000 + 64];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof buf; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 24);
	}
	for (size_t off = 0; off < 64; off++)
		for (size_t len = 0; len <= 600; len++)
			ck_assert_msg(csum_fold(csum_add_vec(0, buf + off, len)) ==
				      slow_checksum(0, buf + off, len), "off %zu len %zu", off, len);
	for (int k = 0; k < 300; k++) {
		x = x * 1103515245u + 12345u;
		size_t off = x % 64, len = (x >> 8) % 200000;
		uint32_t seed = x * 2654435761u;
		ck_assert_msg(csum_fold(csum_add_vec(seed, buf + off, len)) ==
			      slow_checksum(seed, buf + off, len), "off %zu len %zu", off, len);
		ck_assert_uint_eq(csum_fold(csum_add_vec(seed, buf + off, len)),
				  csum_fold(csum_add(seed, buf + off, len)));
	}
	memset(buf, 0xff, sizeof buf);
	const size_t lens[] = { 128, 129, 1480, 65535, 65536, 65537, 65536 + 32, 200000 };
	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++)
		ck_assert_msg(csum_fold(csum_add_vec(0xffffffffu, buf, lens[k])) ==
			      slow_checksum(0xffffffffu, buf, lens[k]), "len %zu", lens[k]);
	memset(buf, 0, sizeof buf);
	ck_assert_uint_eq(csum_fold(csum_add_vec(0, buf, 1480)), 0xffff);
}
END_TEST

/* csum_copy_vec copies every byte, touches none past them, and returns the
 * sum csum_add_vec gives; csum_join adds the sums of two pieces. */
START_TEST(checksum_while_copying)
{
	static uint8_t src[70000 + 64], dst[70000 + 128];
	uint32_t x = 777;

	for (size_t i = 0; i < sizeof src; i++) {
		x = x * 1103515245u + 12345u;
		src[i] = (uint8_t)(x >> 24);
	}
	for (int k = 0; k < 2000; k++) {
		x = x * 1103515245u + 12345u;
		size_t off = x % 64, doff = (x >> 6) % 64;
		size_t len = k < 1000 ? (size_t)k : (x >> 12) % 70000;
		memset(dst, 0xa5, sizeof dst);
		uint32_t sum = csum_copy_vec(dst + doff, src + off, len);
		ck_assert_msg(!memcmp(dst + doff, src + off, len), "len %zu", len);
		ck_assert_uint_eq(dst[doff + len], 0xa5);
		if (doff)
			ck_assert_uint_eq(dst[doff - 1], 0xa5);
		ck_assert_msg(csum_fold(sum) == slow_checksum(0, src + off, len), "len %zu", len);
		size_t cut = len ? (x >> 3) % len : 0;
		uint32_t joined = csum_join(csum_add(0, src + off, cut),
					    csum_add(0, src + off + cut, len - cut), cut);
		ck_assert_msg(csum_fold(joined) == slow_checksum(0, src + off, len),
			      "len %zu cut %zu", len, cut);
	}
}
END_TEST

/* tcp_build_sum with the data's sum writes what tcp_build writes. */
START_TEST(tcp_build_with_a_known_sum)
{
	uint8_t a[1600], b[1600];
	struct tcp_hdr h;

	memset(&h, 0, sizeof h);
	h.sport = 9;
	h.dport = 40000;
	h.seq = 0x12345678;
	h.ack = 0x9abcdef0;
	h.flags = TCP_ACK | TCP_PSH;
	h.wnd = 5000;
	for (size_t len = 0; len < 1500; len += 73) {
		for (size_t i = 0; i < sizeof a; i++)
			a[i] = b[i] = (uint8_t)(i * 7 + len);
		tcp_build(a, 0x0a0a0001, 0x0a0a0002, &h, 12, len);
		tcp_build_sum(b, 0x0a0a0001, 0x0a0a0002, &h, 12, len,
			      csum_add_vec(0, b + TCP_HDR_LEN + 12, len));
		ck_assert_mem_eq(a, b, TCP_HDR_LEN + 12 + len);
	}
}
END_TEST

/* csum_pseudo adds the pseudo-header's words as numbers: the same sum as
 * the 12 bytes of RFC 9293 3.1 through csum_add. */
START_TEST(checksum_pseudo_header)
{
	uint32_t x = 99;

	for (int k = 0; k < 1000; k++) {
		uint8_t ph[12];
		x = x * 1103515245u + 12345u;
		uint32_t src = x * 2654435761u, dst = x ^ 0xdeadbeefu;
		uint8_t proto = (uint8_t)(x >> 3);
		uint16_t len = (uint16_t)(x >> 16);
		put32(ph, src);
		put32(ph + 4, dst);
		ph[8] = 0;
		ph[9] = proto;
		put16(ph + 10, len);
		ck_assert_uint_eq(csum_fold(csum_pseudo(src, dst, proto, len)),
				  csum_fold(csum_add(0, ph, sizeof ph)));
	}
}
END_TEST

/* A header from the wild (Wikipedia's example: 192.168.0.1 to .199, UDP):
 * its checksum is b861; with the checksum in place the sum folds to 0. */
START_TEST(checksum_of_a_known_header)
{
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	struct ipv4_hdr ip;

	ck_assert_uint_eq(csum_fold(csum_add(0, h, sizeof h)), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x61;
	ck_assert_uint_eq(csum_fold(csum_add(0, h, sizeof h)), 0);
	/* The sum may be taken in pieces of even length (a pseudo-header, then a segment). */
	ck_assert_uint_eq(csum_fold(csum_add(csum_add(0, h, 8), h + 8, 12)), 0);
	/* It claims 115 bytes (0x73) and only its 20 arrived. */
	ck_assert_int_eq(ipv4_parse(h, sizeof h, &ip), WIRE_TOTAL_LEN);
}
END_TEST

static size_t make_ip(uint8_t *p, size_t payload)
{
	memset(p + IPV4_HDR_LEN, 0xab, payload);
	ipv4_build(p, 0x0a0a0001, 0x0a0a0002, IP_PROTO_UDP, payload, 77);
	return IPV4_HDR_LEN + payload;
}

static void fix_ip_checksum(uint8_t *p)
{
	size_t ihl = (size_t)(p[0] & 15) * 4;
	put16(p + 10, 0);
	put16(p + 10, csum_fold(csum_add(0, p, ihl)));
}

START_TEST(ipv4_round_trip)
{
	uint8_t p[100];
	struct ipv4_hdr h;
	size_t n = make_ip(p, 30);

	ck_assert_int_eq(ipv4_parse(p, n, &h), WIRE_OK);
	ck_assert_uint_eq(h.src, 0x0a0a0001);
	ck_assert_uint_eq(h.dst, 0x0a0a0002);
	ck_assert_uint_eq(h.proto, IP_PROTO_UDP);
	ck_assert_uint_eq(h.ttl, 64);
	ck_assert_uint_eq(h.id, 77);
	ck_assert(h.df);
	ck_assert_uint_eq(h.payload_len, 30);
	ck_assert_ptr_eq(h.payload, p + 20);
	/* Link padding after total_len is ignored. */
	ck_assert_int_eq(ipv4_parse(p, n + 6, &h), WIRE_OK);
	ck_assert_uint_eq(h.payload_len, 30);
}
END_TEST

START_TEST(ipv4_malformed_classes)
{
	uint8_t p[100];
	struct ipv4_hdr h;
	size_t n = make_ip(p, 30);

	ck_assert_int_eq(ipv4_parse(p, 19, &h), WIRE_SHORT);
	p[0] = 0x65;
	fix_ip_checksum(p);
	ck_assert_int_eq(ipv4_parse(p, n, &h), WIRE_VERSION);
	n = make_ip(p, 30);
	p[0] = 0x44;
	ck_assert_int_eq(ipv4_parse(p, n, &h), WIRE_IHL);
	n = make_ip(p, 30);
	put16(p + 2, 80); /* claims more than arrived */
	fix_ip_checksum(p);
	ck_assert_int_eq(ipv4_parse(p, n, &h), WIRE_TOTAL_LEN);
	put16(p + 2, 10); /* shorter than its own header */
	fix_ip_checksum(p);
	ck_assert_int_eq(ipv4_parse(p, n, &h), WIRE_TOTAL_LEN);
	n = make_ip(p, 30);
	p[15] ^= 1;
	ck_assert_int_eq(ipv4_parse(p, n, &h), WIRE_CHECKSUM);
}
END_TEST

START_TEST(ipv4_fragments_and_options_parse)
{
	uint8_t p[100];
	struct ipv4_hdr h;
	size_t n = make_ip(p, 32);

	/* RFC 791 3.2: a fragment is a valid header; its fields say which piece. */
	put16(p + 6, IP_MF | 3);
	fix_ip_checksum(p);
	ck_assert_int_eq(ipv4_parse(p, n, &h), WIRE_OK);
	ck_assert(h.mf && !h.df && ipv4_is_fragment(&h));
	ck_assert_uint_eq(h.frag_off, 24);
	put16(p + 6, IP_DF);
	fix_ip_checksum(p);
	ck_assert_int_eq(ipv4_parse(p, n, &h), WIRE_OK);
	ck_assert(!ipv4_is_fragment(&h));
	/* RFC 1122 3.2.1.8: a header with options is valid; the payload follows them. */
	p[0] = 0x46;
	memcpy(p + 20, (const uint8_t[]){ IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_EOL }, 4);
	fix_ip_checksum(p);
	ck_assert_int_eq(ipv4_parse(p, n, &h), WIRE_OK);
	ck_assert_uint_eq(h.hdr_len, 24);
	ck_assert_ptr_eq(h.payload, p + 24);
	ck_assert_uint_eq(h.payload_len, 28);
}
END_TEST

/* The option list of a 20 + len byte header, as ipv4_parse_options sees it. */
static enum wire_err opts(const uint8_t *o, size_t len, struct ipv4_opts *out)
{
	uint8_t hdr[IPV4_MAX_HDR_LEN] = { 0 };

	memcpy(hdr + IPV4_HDR_LEN, o, len);
	return ipv4_parse_options(hdr, IPV4_HDR_LEN + len, out);
}

START_TEST(ipv4_options_checked)
{
	struct ipv4_opts o;
	static const uint8_t rr[8] = { IPOPT_RR, 7, 4, 0, 0, 0, 0, IPOPT_EOL };
	static const uint8_t ts[12] = { IPOPT_TS, 12, 5, IPOPT_TS_TSANDADDR };
	static const uint8_t lsrr[8] = { IPOPT_NOP, IPOPT_LSRR, 7, 4, 1, 2, 3, 4 };
	static const uint8_t unknown[4] = { 25, 4, 0xaa, 0xbb };

	ck_assert_int_eq(opts(rr, 8, &o), WIRE_OK);
	ck_assert_uint_eq(o.rr, 20);
	ck_assert_int_eq(opts(ts, 12, &o), WIRE_OK);
	ck_assert_uint_eq(o.ts, 20);
	ck_assert_int_eq(opts(lsrr, 8, &o), WIRE_OK);
	ck_assert_uint_eq(o.srr, 21);
	/* RFC 1122 3.2.1.8: an unknown option is skipped by its length. */
	ck_assert_int_eq(opts(unknown, 4, &o), WIRE_OK);
	ck_assert(!o.rr && !o.ts && !o.srr);
	/* RFC 791 3.1: a bad length, a pointer below its minimum, an entry
	 * that does not fit, unknown timestamp flags; o.bad is the octet. */
	static const struct { uint8_t o[8]; uint8_t bad; } bad[] = {
		{ { IPOPT_RR, 1 }, 21 },	      { { IPOPT_RR, 9, 4 }, 21 },
		{ { 25, 0 }, 21 },		      { { IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, 25, 5 }, 26 },
		{ { IPOPT_RR, 7, 3 }, 22 },	      { { IPOPT_RR, 8, 6 }, 22 },
		{ { IPOPT_TS, 8, 4, 0 }, 22 },	      { { IPOPT_TS, 8, 5, 2 }, 23 },
		{ { IPOPT_TS, 8, 5, IPOPT_TS_TSANDADDR }, 22 },
		{ { IPOPT_TS, 8, 9, 0xf0 }, 23 },     { { IPOPT_TS, 3, 5 }, 21 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(opts(bad[i].o, 8, &o) == WIRE_OPTIONS, "case %zu accepted", i);
		ck_assert_msg(o.bad == bad[i].bad, "case %zu: pointer %u, not %u", i, o.bad,
			      bad[i].bad);
	}
	/* A full list (pointer past the end) is well formed. */
	static const uint8_t full[8] = { IPOPT_RR, 7, 8, 1, 2, 3, 4, IPOPT_EOL };
	ck_assert_int_eq(opts(full, 8, &o), WIRE_OK);
}
END_TEST

START_TEST(icmp_round_trip_and_checksum)
{
	uint8_t m[64];
	const uint8_t data[5] = { 1, 2, 3, 4, 5 };
	struct icmp_hdr h;

	size_t n = icmp_build(m, ICMP_ECHO_REQUEST, 0, 0x12340007, data, sizeof data);
	ck_assert_uint_eq(n, 13);
	ck_assert_int_eq(icmp_parse(m, n, &h), WIRE_OK);
	ck_assert_uint_eq(h.type, ICMP_ECHO_REQUEST);
	ck_assert_uint_eq(h.id, 0x1234);
	ck_assert_uint_eq(h.seq, 7);
	ck_assert_uint_eq(h.data_len, 5);
	ck_assert_mem_eq(h.data, data, 5);
	m[12] ^= 0x40;
	ck_assert_int_eq(icmp_parse(m, n, &h), WIRE_CHECKSUM);
	ck_assert_int_eq(icmp_parse(m, 7, &h), WIRE_SHORT);
}
END_TEST

START_TEST(udp_round_trip_checksum_and_length)
{
	uint8_t s[64];
	struct udp_hdr h;

	memcpy(s + 8, "hello", 5);
	udp_build(s, 0x0a0a0001, 0x0a0a0002, 1234, 7, 5);
	ck_assert_int_eq(udp_parse(s, 13, 0x0a0a0001, 0x0a0a0002, &h), WIRE_OK);
	ck_assert_uint_eq(h.sport, 1234);
	ck_assert_uint_eq(h.dport, 7);
	ck_assert_uint_eq(h.data_len, 5);
	ck_assert_mem_eq(h.data, "hello", 5);
	/* The pseudo-header covers the addresses. */
	ck_assert_int_eq(udp_parse(s, 13, 0x0a0a0003, 0x0a0a0002, &h), WIRE_CHECKSUM);
	/* Zero means no checksum (RFC 768). */
	put16(s + 6, 0);
	ck_assert_int_eq(udp_parse(s, 13, 0x0a0a0003, 0x0a0a0002, &h), WIRE_OK);
	put16(s + 4, 20); /* longer than the IP payload */
	ck_assert_int_eq(udp_parse(s, 13, 0x0a0a0001, 0x0a0a0002, &h), WIRE_LENGTH);
	put16(s + 4, 7); /* shorter than the header */
	ck_assert_int_eq(udp_parse(s, 13, 0x0a0a0001, 0x0a0a0002, &h), WIRE_LENGTH);
	ck_assert_int_eq(udp_parse(s, 7, 0x0a0a0001, 0x0a0a0002, &h), WIRE_SHORT);
}
END_TEST

START_TEST(tcp_options_parse)
{
	struct tcp_opts o;
	const uint8_t good[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1,
				 0, 0, 0, 2, 99, 3, 0, 0 };
	ck_assert_int_eq(tcp_parse_options(good, sizeof good, &o), WIRE_OK);
	ck_assert(o.has_mss && o.mss == 1460);
	ck_assert(o.has_wscale && o.wscale == 7);
	ck_assert(o.has_sack_perm);
	ck_assert(o.has_ts && o.ts_val == 1 && o.ts_ecr == 2);
	/* Malformed lengths: zero, one, past the end, wrong for the kind. */
	const uint8_t zero[] = { 99, 0, 0, 0 };
	const uint8_t one[] = { 99, 1, 0, 0 };
	const uint8_t past[] = { 1, 1, 99, 8 };
	const uint8_t mss3[] = { 2, 3, 5, 0 };
	const uint8_t lone[] = { 1, 1, 1, 2 };
	ck_assert_int_eq(tcp_parse_options(zero, 4, &o), WIRE_OPTIONS);
	ck_assert_int_eq(tcp_parse_options(one, 4, &o), WIRE_OPTIONS);
	ck_assert_int_eq(tcp_parse_options(past, 4, &o), WIRE_OPTIONS);
	ck_assert_int_eq(tcp_parse_options(mss3, 4, &o), WIRE_OPTIONS);
	ck_assert_int_eq(tcp_parse_options(lone, 4, &o), WIRE_OPTIONS);
	/* RFC 9293 3.1 MUST-7, as Linux: what came before a bad length is kept,
	 * nothing after it is read; a known option of the wrong length is skipped. */
	const uint8_t mss_then_zero[] = { 2, 4, 0x05, 0xb4, 3, 0, 3, 7 };
	ck_assert_int_eq(tcp_parse_options(mss_then_zero, 8, &o), WIRE_OPTIONS);
	ck_assert(o.has_mss && o.mss == 1460 && !o.has_wscale);
	const uint8_t mss3_then_ws[] = { 2, 3, 5, 3, 3, 7, 0, 0 };
	ck_assert_int_eq(tcp_parse_options(mss3_then_ws, 8, &o), WIRE_OPTIONS);
	ck_assert(!o.has_mss && o.has_wscale && o.wscale == 7);
}
END_TEST

START_TEST(tcp_round_trip)
{
	uint8_t s[128];
	struct tcp_hdr in, out;
	struct tcp_opts o = { .has_mss = true, .mss = 1400, .has_wscale = true, .wscale = 5 };

	memset(&in, 0, sizeof in);
	in.sport = 5555;
	in.dport = 7;
	in.seq = 0xfffffff0;
	in.ack = 42;
	in.flags = TCP_SYN | TCP_ACK;
	in.wnd = 1000;
	size_t ol = tcp_build_options(s + 20, &o);
	ck_assert_uint_eq(ol % 4, 0);
	memcpy(s + 20 + ol, "xyz", 3);
	tcp_build(s, 1, 2, &in, ol, 3);
	ck_assert_int_eq(tcp_parse(s, 23 + ol, 1, 2, &out), WIRE_OK);
	ck_assert_uint_eq(out.seq, 0xfffffff0);
	ck_assert_uint_eq(out.ack, 42);
	ck_assert_uint_eq(out.flags, TCP_SYN | TCP_ACK);
	ck_assert_uint_eq(out.wnd, 1000);
	ck_assert(out.opts.has_mss && out.opts.mss == 1400);
	ck_assert(out.opts.has_wscale && out.opts.wscale == 5);
	ck_assert_uint_eq(out.data_len, 3);
	s[21 + ol] ^= 1;
	ck_assert_int_eq(tcp_parse(s, 23 + ol, 1, 2, &out), WIRE_CHECKSUM);
	s[21 + ol] ^= 1;
	s[12] = 0x40; /* data offset 16 < 20 */
	ck_assert_int_eq(tcp_parse(s, 23 + ol, 1, 2, &out), WIRE_OFFSET);
}
END_TEST

/* tcp_parse: every field in host order, the data after the options, and
 * each way a segment is refused (RFC 9293 3.1): too short, a data offset
 * below 20 or past the end, a checksum that the pseudo-header's addresses
 * spoil. A bad option list is survived: opts_bad, WIRE_OK. */
START_TEST(tcp_parse_fields_and_errors)
{
	uint8_t s[64];
	struct tcp_hdr in, out;

	memset(&in, 0, sizeof in);
	in.sport = 0x1234;
	in.dport = 0xabcd;
	in.seq = 0x01020304;
	in.ack = 0xa0b0c0d0;
	in.flags = TCP_ACK | TCP_PSH;
	in.wnd = 0x8001;
	in.urp = 7;
	memset(s + 20, 1, 4); /* four NOPs */
	memcpy(s + 24, "data!", 5);
	tcp_build(s, 0x0a0a0001, 0x0a0a0002, &in, 4, 5);
	ck_assert_int_eq(tcp_parse(s, 29, 0x0a0a0001, 0x0a0a0002, &out), WIRE_OK);
	ck_assert_uint_eq(out.sport, 0x1234);
	ck_assert_uint_eq(out.dport, 0xabcd);
	ck_assert_uint_eq(out.seq, 0x01020304);
	ck_assert_uint_eq(out.ack, 0xa0b0c0d0);
	ck_assert_uint_eq(out.flags, TCP_ACK | TCP_PSH);
	ck_assert_uint_eq(out.wnd, 0x8001);
	ck_assert_uint_eq(out.urp, 7);
	ck_assert_uint_eq(out.hdr_len, 24);
	ck_assert_uint_eq(out.data_len, 5);
	ck_assert_ptr_eq(out.data, s + 24);
	ck_assert(!out.opts_bad);
	ck_assert_int_eq(tcp_parse(s, 19, 0x0a0a0001, 0x0a0a0002, &out), WIRE_SHORT);
	/* The pseudo-header covers both addresses and the length. */
	ck_assert_int_eq(tcp_parse(s, 29, 0x0a0a0001, 0x0a0a0003, &out), WIRE_CHECKSUM);
	ck_assert_int_eq(tcp_parse(s, 28, 0x0a0a0001, 0x0a0a0002, &out), WIRE_CHECKSUM);
	s[12] = 0xf0; /* 60 bytes of header in a 29-byte segment */
	ck_assert_int_eq(tcp_parse(s, 29, 0x0a0a0001, 0x0a0a0002, &out), WIRE_OFFSET);
	/* An option whose length runs past the header: kept, marked bad. */
	const uint8_t bad[4] = { 2, 9, 5, 0xb4 };
	memcpy(s + 20, bad, 4);
	tcp_build(s, 0x0a0a0001, 0x0a0a0002, &in, 4, 5);
	ck_assert_int_eq(tcp_parse(s, 29, 0x0a0a0001, 0x0a0a0002, &out), WIRE_OK);
	ck_assert(out.opts_bad);
	ck_assert_uint_eq(out.data_len, 5);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire");
	TCase *ck = tcase_create("checksums_and_parsing");
	TCase *t = tcase_create("formats");

	/* tools/checkpoint test 1: csum_add, csum_fold, ipv4_parse, tcp_parse. */
	tcase_set_tags(ck, "checkpoint1");
	tcase_add_test(ck, checksum_rfc1071_example);
	tcase_add_test(ck, checksum_odd_length_pads_with_zero);
	tcase_add_test(ck, checksum_verifies_to_zero);
	tcase_add_test(ck, checksum_matches_the_reference);
	tcase_add_test(ck, checksum_of_a_known_header);
	tcase_add_test(ck, ipv4_round_trip);
	tcase_add_test(ck, ipv4_malformed_classes);
	tcase_add_test(ck, ipv4_fragments_and_options_parse);
	tcase_add_test(ck, icmp_round_trip_and_checksum);
	tcase_add_test(ck, udp_round_trip_checksum_and_length);
	tcase_add_test(ck, tcp_round_trip);
	tcase_add_test(ck, tcp_parse_fields_and_errors);
	tcase_add_test(t, checksum_vector_matches_the_reference);
	tcase_add_test(t, checksum_pseudo_header);
	tcase_add_test(t, checksum_while_copying);
	tcase_add_test(t, tcp_build_with_a_known_sum);
	tcase_add_test(t, ipv4_options_checked);
	tcase_add_test(t, tcp_options_parse);
	suite_add_tcase(s, ck);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
