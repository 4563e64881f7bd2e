/*
 * Wire formats: parse and build IPv4, ICMP, UDP and TCP headers. Pure
 * functions on byte buffers. Byte order is converted here and nowhere else:
 * every parsed field is in host order.
 */
#ifndef TL_WIRE_H
#define TL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17

#define IPV4_HDR_LEN 20
#define ICMP_HDR_LEN 8
#define UDP_HDR_LEN 8
#define TCP_HDR_LEN 20
#define IP_TTL_DEFAULT 64

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* RFC 1071: one's-complement sum of 16-bit words, accumulated unfolded. */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);
/* The same sum, by vector instructions where the CPU has them (AVX2 on
 * x86-64, chosen at run time) for buffers of 128 bytes and more. */
uint32_t csum_add_vec(uint32_t sum, const void *data, size_t len);
/* Copies len bytes and returns their sum, csum_add_vec(0, dst, len). */
uint32_t csum_copy_vec(void *dst, const void *src, size_t len);
/* The sum of two pieces back to back, a of a_len bytes first, from theirs. */
uint32_t csum_join(uint32_t a, uint32_t b, size_t a_len);
/* Folds the sum to 16 bits and complements it: the value to put on the wire. */
uint16_t csum_fold(uint32_t sum);
/* Sum of the TCP/UDP pseudo-header (RFC 9293 3.1, RFC 768): its 16-bit
 * words are the halves of the addresses, the protocol and the length. */
static inline uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

/* Why a header was rejected; each maps to a drop counter. */
enum wire_err {
	WIRE_OK = 0,
	WIRE_SHORT,
	WIRE_VERSION,
	WIRE_IHL,
	WIRE_TOTAL_LEN,
	WIRE_CHECKSUM,
	WIRE_OPTIONS,
	WIRE_LENGTH,
	WIRE_OFFSET,
};

#define IP_DF 0x4000		/* RFC 791 3.1: don't fragment */
#define IP_MF 0x2000		/* more fragments */
#define IP_OFFMASK 0x1fff	/* fragment offset, in 8-byte units */
#define IPV4_MAX_HDR_LEN 60

struct ipv4_hdr {
	const uint8_t *hdr;	/* the header as it arrived, options included */
	size_t hdr_len;
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	bool df, mf;
	uint16_t frag_off;	/* where the payload starts in the datagram, in bytes */
	uint8_t ttl;
	uint8_t proto;
	uint32_t src, dst;
	const uint8_t *payload;
	size_t payload_len;	/* from total_len, trailing link padding ignored */
};

/* RFC 791 3.1 plus RFC 1122 3.2.1: validates the header and fills h. A
 * fragment or a header with options is valid: check h->mf, h->frag_off and
 * h->hdr_len, and the options with ipv4_parse_options. */
enum wire_err ipv4_parse(const uint8_t *pkt, size_t len, struct ipv4_hdr *h);
static inline bool ipv4_is_fragment(const struct ipv4_hdr *h) { return h->mf || h->frag_off; }
/* Writes a 20-byte header with DF and checksum for payload_len bytes after it. */
void ipv4_build(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
		size_t payload_len, uint16_t id);
/* The same with opt_len bytes of options already at buf + 20 (a multiple
 * of 4) and frag as the flags and fragment offset field. */
void ipv4_build_opts(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, size_t opt_len,
		     size_t payload_len, uint16_t id, uint16_t frag);

/* RFC 791 3.1: option types (the copied flag is the top bit). */
#define IPOPT_EOL 0
#define IPOPT_NOP 1
#define IPOPT_RR 7
#define IPOPT_TS 68
#define IPOPT_SEC 130
#define IPOPT_LSRR 131
#define IPOPT_SID 136
#define IPOPT_SSRR 137
#define IPOPT_RA 148		/* RFC 2113 router alert */
#define IPOPT_TS_TSONLY 0	/* RFC 791 3.1 timestamp flags */
#define IPOPT_TS_TSANDADDR 1
#define IPOPT_TS_PRESPEC 3

/* Where the options we act on start in the header (0: absent). */
struct ipv4_opts {
	uint8_t rr, ts, srr;	/* Record Route, Timestamp, LSRR or SSRR */
	uint8_t bad;		/* the octet in error (RFC 792 parameter problem pointer) */
};
/* RFC 791 3.1: checks every option's length and, for those we know, its
 * pointer; unknown options are skipped by length (RFC 1122 3.2.1.8).
 * Returns WIRE_OPTIONS with o->bad set for a malformed list. */
enum wire_err ipv4_parse_options(const uint8_t *hdr, size_t hdr_len, struct ipv4_opts *o);

struct icmp_hdr {
	uint8_t type, code;
	uint16_t id, seq; /* echo only */
	const uint8_t *data;
	size_t data_len;
};
#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12
#define ICMP_PORT_UNREACH 3
#define ICMP_FRAG_NEEDED 4	/* unreachable code: DF set, the next hop's MTU is smaller */
#define ICMP_EXC_FRAGTIME 1	/* time exceeded: fragment reassembly time exceeded */

enum wire_err icmp_parse(const uint8_t *msg, size_t len, struct icmp_hdr *h);
/* Writes type, code, the 4-byte rest-of-header and data, with checksum.
 * Returns the message length. */
size_t icmp_build(uint8_t *buf, uint8_t type, uint8_t code, uint32_t rest,
		  const uint8_t *data, size_t data_len);

struct udp_hdr {
	uint16_t sport, dport;
	uint16_t len;
	const uint8_t *data;
	size_t data_len;
};
/* Checks the length field and the checksum (zero means none, RFC 768). */
enum wire_err udp_parse(const uint8_t *seg, size_t len, uint32_t src,
			uint32_t dst, struct udp_hdr *h);
/* Writes header and checksum; data must already sit at buf + 8. */
void udp_build(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport,
	       uint16_t dport, size_t data_len);

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* Options we understand; has_* says whether each was present. */
#define TCP_MAX_SACK 4

struct tcp_opts {
	bool has_mss, has_wscale, has_sack_perm, has_ts;
	uint16_t mss;
	uint8_t wscale;
	uint32_t ts_val, ts_ecr;
	uint8_t sack_n;			/* SACK blocks (RFC 2018), sent only */
	uint32_t sack[TCP_MAX_SACK][2];	/* [start, end) */
};

struct tcp_hdr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint16_t urp;
	size_t hdr_len;
	struct tcp_opts opts;
	bool opts_bad;			/* the option list was malformed: opts holds what came before */
	const uint8_t *data;
	size_t data_len;
};

/* Parses header and options; checks the checksum against the pseudo-header.
 * Malformed options do not fail it: they set h->opts_bad. */
enum wire_err tcp_parse(const uint8_t *seg, size_t len, uint32_t src,
			uint32_t dst, struct tcp_hdr *h);
/* tcp_parse but the checksum, for a segment whose checksum is known good
 * (the driver's TL_IN_CSUM_OK). */
enum wire_err tcp_parse_verified(const uint8_t *seg, size_t len, struct tcp_hdr *h);
/* RFC 9293 3.2: parses the option list; unknown kinds are skipped. As Linux
 * does, a length below 2 or past the end stops the parse and a known option
 * of the wrong length is ignored; either returns WIRE_OPTIONS, with o
 * holding the options that were well formed. */
enum wire_err tcp_parse_options(const uint8_t *p, size_t len,
				struct tcp_opts *o);
/* Writes the options in o (padded to 4 bytes); returns their length. */
size_t tcp_build_options(uint8_t *buf, const struct tcp_opts *o);
/* Just the timestamps, NOP-padded: the options of most segments. Returns 12. */
size_t tcp_build_ts_option(uint8_t *buf, uint32_t val, uint32_t ecr);
/* Writes header (options already at buf + 20, opt_len long) and checksum;
 * data must sit right after the options. */
void tcp_build(uint8_t *buf, uint32_t src, uint32_t dst, const struct tcp_hdr *h,
	       size_t opt_len, size_t data_len);
/* The same for data whose sum is known (csum_copy_vec took it on the way in). */
void tcp_build_sum(uint8_t *buf, uint32_t src, uint32_t dst, const struct tcp_hdr *h,
		   size_t opt_len, size_t data_len, uint32_t data_sum);

#endif
