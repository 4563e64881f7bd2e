/* IPv4 fragments and options through the core, in virtual time: fragments
 * in, what comes out, what the counters say (RFC 791 3.1-3.2, RFC 815,
 * RFC 1122 3.2.1.8, 3.2.2.5-6, 3.3.2, RFC 1858, RFC 5722). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/apps.h"
#include "tcplab/socket.h"
#include "tcplab/stack.h"
#include "wire.h"
#include "../check_run.h"

#define PEER 0x0a0a0001u
#define HOST 0x0a0a0002u
#define MAX_OUT 64
#define T0 TL_MS(1000)

static uint8_t out[MAX_OUT][2048];
static size_t out_len[MAX_OUT];
static int n_out;
static char trace_lines[4096];

static void capture(void *ctx, const uint8_t *p, size_t len)
{
	ck_assert_int_lt(n_out, MAX_OUT);
	ck_assert_uint_le(len, sizeof out[0]);
	memcpy(out[n_out], p, len);
	out_len[n_out++] = len;
}

static void trace(void *ctx, tl_time now, const char *line)
{
	size_t have = strlen(trace_lines);

	if (have + strlen(line) + 2 < sizeof trace_lines) {
		strcat(trace_lines, line);
		strcat(trace_lines, "\n");
	}
}

static tl_stack *new_stack_with(void (*tune)(struct tl_config *))
{
	struct tl_config c;

	tl_config_defaults(&c);
	c.output = capture;
	c.trace = trace;
	if (tune)
		tune(&c);
	tl_stack *s = tl_stack_new(&c);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(tl_apps_start(s), 0);
	n_out = 0;
	trace_lines[0] = 0;
	return s;
}

static tl_stack *new_stack(void) { return new_stack_with(NULL); }

static const struct tl_counters *cnt(tl_stack *s) { return tl_stack_counters(s); }

/* ---- datagrams and their fragments ---- */

struct dgram {
	uint8_t proto;
	uint16_t id;
	uint8_t opts[40];
	size_t opt_len;		/* options of the first fragment (a multiple of 4) */
	uint8_t data[65536];	/* the transport payload */
	size_t len;
};

static struct dgram dg;

/* An echo request of n data bytes, patterned by seed. */
static void echo_request(struct dgram *d, uint16_t id, size_t n, uint8_t seed)
{
	uint8_t data[65536];

	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7 + seed);
	memset(d, 0, sizeof *d);
	d->proto = IP_PROTO_ICMP;
	d->id = id;
	d->len = icmp_build(d->data, ICMP_ECHO_REQUEST, 0, 0x42000000u | id, data, n);
}

static void udp_datagram(struct dgram *d, uint16_t id, uint16_t dport, size_t n)
{
	memset(d, 0, sizeof *d);
	d->proto = IP_PROTO_UDP;
	d->id = id;
	for (size_t i = 0; i < n; i++)
		d->data[UDP_HDR_LEN + i] = (uint8_t)(i * 13 + 1);
	udp_build(d->data, PEER, HOST, 40000, dport, n);
	d->len = UDP_HDR_LEN + n;
}

/* A SYN to port with MSS, SACK-permitted, timestamps and window scale: a
 * 40-byte header. */
static void syn_datagram(struct dgram *d, uint16_t id, uint16_t port)
{
	struct tcp_hdr h = { .sport = 40000, .dport = port, .seq = 1000, .flags = TCP_SYN,
			     .wnd = 65535 };
	struct tcp_opts o = { .has_mss = true, .mss = 1460, .has_sack_perm = true,
			      .has_ts = true, .ts_val = 1, .has_wscale = true, .wscale = 7 };

	memset(d, 0, sizeof *d);
	d->proto = IP_PROTO_TCP;
	d->id = id;
	size_t ol = tcp_build_options(d->data + TCP_HDR_LEN, &o);
	tcp_build(d->data, PEER, HOST, &h, ol, 0);
	d->len = TCP_HDR_LEN + ol;
}

/* Sends bytes [off, off + n) of d as one fragment; MF unless it reaches the end. */
static void send_piece(tl_stack *s, const struct dgram *d, size_t off, size_t n, tl_time t)
{
	uint8_t p[2048];
	size_t ol = off ? 0 : d->opt_len;
	bool more = off + n < d->len;

	memcpy(p + IPV4_HDR_LEN, d->opts, ol);
	memcpy(p + IPV4_HDR_LEN + ol, d->data + off, n);
	ipv4_build_opts(p, PEER, HOST, d->proto, ol, n, d->id,
			(uint16_t)(off / 8 | (more ? IP_MF : 0)));
	tl_stack_input(s, p, IPV4_HDR_LEN + ol + n, t);
}

/* Sends d in pieces of `size` bytes (the last what is left), in the order given by
 * order[] (indexes of pieces; NULL: in order). Returns the number of pieces. */
static size_t send_frags(tl_stack *s, const struct dgram *d, size_t size, const int *order,
			 tl_time t)
{
	size_t n = (d->len + size - 1) / size;

	for (size_t i = 0; i < n; i++) {
		size_t k = order ? (size_t)order[i] : i;
		size_t off = k * size;
		send_piece(s, d, off, d->len - off < size ? d->len - off : size, t);
	}
	return n;
}

/* ---- what came out ---- */

/* Puts the captured packets [from, n_out) back together as the peer's IP
 * would: the payload and how many fragments it came in. */
static size_t reassemble_out(int from, uint8_t *payload, int *frags, struct ipv4_hdr *first)
{
	size_t total = 0, have = 0;

	*frags = 0;
	for (int i = from; i < n_out; i++) {
		struct ipv4_hdr ip;
		ck_assert_msg(ipv4_parse(out[i], out_len[i], &ip) == WIRE_OK, "packet %d parses", i);
		ck_assert_msg(out_len[i] <= 1500, "packet %d within the MTU", i);
		ck_assert_msg(!ip.df, "a fragment has DF clear");
		ck_assert_msg(!ip.mf || ip.payload_len % 8 == 0, "pieces are multiples of 8");
		memcpy(payload + ip.frag_off, ip.payload, ip.payload_len);
		have += ip.payload_len;
		if (!ip.mf)
			total = ip.frag_off + ip.payload_len;
		if (!ip.frag_off)
			*first = ip;
		(*frags)++;
	}
	ck_assert_msg(have == total, "the fragments sent cover %zu of %zu bytes", have, total);
	return total;
}

/* The single echo reply (maybe in fragments) to the request in dg. */
static void expect_echo_reply(const char *step, int frags_expected)
{
	static uint8_t payload[65536];
	struct ipv4_hdr first;
	struct icmp_hdr ic;
	int frags;

	ck_assert_msg(n_out == frags_expected, "%s: %d packets out, expected %d", step, n_out,
		      frags_expected);
	if (frags_expected == 1) {
		ck_assert(ipv4_parse(out[0], out_len[0], &first) == WIRE_OK);
		ck_assert_msg(first.df && !ipv4_is_fragment(&first), "%s: a whole reply has DF", step);
		memcpy(payload, first.payload, first.payload_len);
	}
	size_t len = frags_expected == 1 ? first.payload_len
					 : reassemble_out(0, payload, &frags, &first);
	ck_assert_msg(icmp_parse(payload, len, &ic) == WIRE_OK, "%s: reply checksum", step);
	ck_assert_msg(ic.type == ICMP_ECHO_REPLY && len == dg.len, "%s: type %u len %zu", step,
		      ic.type, len);
	ck_assert_msg(!memcmp(payload + 4, dg.data + 4, len - 4), "%s: same id, seq and data",
		      step);
	ck_assert_msg(first.dst == PEER, "%s: to the peer", step);
}

/* ---- reassembly ---- */

START_TEST(in_order)
{
	tl_stack *s = new_stack();

	echo_request(&dg, 100, 2972, 1); /* ping -s 2972: 2980 bytes of ICMP */
	send_frags(s, &dg, 1480, NULL, T0);
	/* RFC 791 3.2: the 3008-byte reply leaves in pieces of 1480, 1480 and 20. */
	expect_echo_reply("in order", 3);
	ck_assert_uint_eq(cnt(s)->ip_frag_in, 3);
	ck_assert_uint_eq(cnt(s)->ip_frag_reassembled, 1);
	ck_assert_uint_eq(cnt(s)->ip_frag_out_dgrams, 1);
	ck_assert_uint_eq(cnt(s)->ip_frag_out, 3);
	ck_assert_msg(tl_stack_next_deadline(s) == TL_TIME_NEVER, "nothing held afterwards");
	ck_assert_ptr_nonnull(strstr(trace_lines, "in  IP 10.10.0.1 > ICMP fragment id 100 off 0 len 1480 MF\n"));
	ck_assert_ptr_nonnull(strstr(trace_lines, "IP 10.10.0.1 id 100 reassembled: ICMP 2980 bytes from 3 fragments\n"));
	ck_assert_ptr_nonnull(strstr(trace_lines, "out IP 10.10.0.1 < fragment id "));
	tl_stack_free(s);
}
END_TEST

START_TEST(out_of_order)
{
	tl_stack *s = new_stack();
	static const int order[] = { 3, 1, 0, 2 };

	echo_request(&dg, 101, 1000, 2);
	ck_assert_uint_eq(send_frags(s, &dg, 256, order, T0), 4);
	expect_echo_reply("last piece first", 1);
	ck_assert_uint_eq(cnt(s)->ip_frag_reassembled, 1);
	tl_stack_free(s);
}
END_TEST

START_TEST(duplicate_dropped_alone)
{
	tl_stack *s = new_stack();

	echo_request(&dg, 102, 1000, 3);
	send_piece(s, &dg, 0, 512, T0);
	send_piece(s, &dg, 0, 512, T0 + 1);
	ck_assert_msg(n_out == 0, "step 1: nothing yet");
	ck_assert_uint_eq(cnt(s)->ip_frag_drop_dup, 1);
	send_piece(s, &dg, 512, dg.len - 512, T0 + 2);
	expect_echo_reply("step 2: the datagram survived its duplicate", 1);
	/* A duplicate of a datagram already delivered starts a new one, which times out. */
	n_out = 0;
	send_piece(s, &dg, 512, dg.len - 512, T0 + 3);
	tl_stack_poll(s, T0 + TL_MS(31000));
	ck_assert_msg(n_out == 0, "step 3: no time exceeded without the first fragment");
	ck_assert_uint_eq(cnt(s)->ip_frag_timeout, 1);
	tl_stack_free(s);
}
END_TEST

START_TEST(overlap_drops_the_datagram)
{
	tl_stack *s = new_stack();

	echo_request(&dg, 103, 2000, 4);
	send_piece(s, &dg, 0, 1480, T0);
	/* RFC 5722 4: a piece that starts inside the first one. */
	send_piece(s, &dg, 1472, dg.len - 1472, T0 + 1);
	ck_assert_uint_eq(cnt(s)->ip_frag_drop_overlap, 1);
	ck_assert_msg(tl_stack_next_deadline(s) == TL_TIME_NEVER, "step 1: nothing held");
	/* The rest, had it come, makes a new datagram that never completes. */
	send_piece(s, &dg, 1480, dg.len - 1480, T0 + 2);
	tl_stack_poll(s, T0 + TL_MS(40000));
	ck_assert_msg(n_out == 0, "step 2: no reply, no time exceeded");
	/* Same start, another end: an overlap too; so is a second last fragment
	 * that ends elsewhere. */
	send_piece(s, &dg, 0, 512, T0 + TL_MS(40001));
	send_piece(s, &dg, 0, 1024, T0 + TL_MS(40002));
	ck_assert_uint_eq(cnt(s)->ip_frag_drop_overlap, 2);
	send_piece(s, &dg, 1480, dg.len - 1480, T0 + TL_MS(40003));
	dg.len -= 8;
	send_piece(s, &dg, 1480, dg.len - 1480, T0 + TL_MS(40004));
	ck_assert_uint_eq(cnt(s)->ip_frag_drop_overlap, 3);
	ck_assert_int_eq(n_out, 0);
	ck_assert_ptr_nonnull(strstr(trace_lines, "IP 10.10.0.1 id 103 datagram dropped: fragments overlap\n"));
	tl_stack_free(s);
}
END_TEST

/* The TCP segments the stack sent since packet from: how many were SYN-ACKs. */
static int synacks(int from)
{
	int n = 0;

	for (int i = from; i < n_out; i++) {
		struct ipv4_hdr ip;
		struct tcp_hdr th;
		ck_assert(ipv4_parse(out[i], out_len[i], &ip) == WIRE_OK);
		ck_assert_msg(ip.df, "TCP always has DF");
		if (ip.proto == IP_PROTO_TCP &&
		    tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &th) == WIRE_OK &&
		    th.flags == (TCP_SYN | TCP_ACK))
			n++;
	}
	return n;
}

START_TEST(tiny_tcp_fragments)
{
	tl_stack *s = new_stack();

	syn_datagram(&dg, 104, 7);
	ck_assert_uint_eq(dg.len, 40);
	/* RFC 1858 3.1: 8-byte pieces split the TCP header: the first is dropped. */
	send_frags(s, &dg, 8, NULL, T0);
	ck_assert_uint_eq(cnt(s)->ip_frag_drop_tiny, 2); /* the first, and the one at offset 8 */
	ck_assert_int_eq(synacks(0), 0);
	tl_stack_poll(s, T0 + TL_MS(31000));
	ck_assert_msg(n_out == 0, "step 1: no SYN-ACK, no time exceeded");
	/* The whole 20-byte header in the first piece, the options after it in 8s. */
	dg.id = 105;
	send_piece(s, &dg, 24, 8, T0 + TL_MS(31001));
	send_piece(s, &dg, 32, 8, T0 + TL_MS(31001));
	send_piece(s, &dg, 0, 24, T0 + TL_MS(31001));
	ck_assert_msg(synacks(0) == 1, "step 2: a SYN-ACK to the reassembled SYN");
	/* RFC 1858 3.2: at offset 8, after a 24-byte first piece, it is refused too. */
	n_out = 0;
	dg.id = 106;
	send_piece(s, &dg, 0, 24, T0 + TL_MS(31002));
	send_piece(s, &dg, 8, 32, T0 + TL_MS(31002));
	ck_assert_uint_eq(cnt(s)->ip_frag_drop_tiny, 3);
	ck_assert_int_eq(synacks(0), 0);
	tl_stack_free(s);
}
END_TEST

START_TEST(timeout_with_first_fragment)
{
	tl_stack *s = new_stack();
	struct ipv4_hdr ip;
	struct icmp_hdr ic;

	echo_request(&dg, 107, 2000, 5);
	send_piece(s, &dg, 0, 1480, T0);
	/* RFC 1122 3.3.2: a fixed timeout (30 s, as Linux) from the first arrival. */
	ck_assert_uint_eq(tl_stack_next_deadline(s), T0 + TL_MS(30000));
	tl_stack_poll(s, T0 + TL_MS(29999));
	ck_assert_msg(n_out == 0, "step 1: nothing before the timeout");
	tl_stack_poll(s, T0 + TL_MS(30000));
	ck_assert_msg(n_out == 1, "step 2: time exceeded at the timeout");
	ck_assert(ipv4_parse(out[0], out_len[0], &ip) == WIRE_OK && ip.dst == PEER);
	ck_assert(icmp_parse(ip.payload, ip.payload_len, &ic) == WIRE_OK);
	ck_assert_msg(ic.type == ICMP_TIME_EXCEEDED && ic.code == ICMP_EXC_FRAGTIME,
		      "step 3: type %u code %u", ic.type, ic.code);
	/* RFC 792: the first fragment's header and its first 8 data bytes. */
	ck_assert_uint_eq(ic.data_len, 28);
	ck_assert_uint_eq(get16(ic.data + 4), 107);
	ck_assert_uint_eq(get16(ic.data + 6), IP_MF);
	ck_assert_mem_eq(ic.data + 20, dg.data, 8);
	ck_assert_uint_eq(cnt(s)->ip_frag_timeout, 1);
	ck_assert_uint_eq(cnt(s)->icmp_out_time_exceeded, 1);
	ck_assert_msg(tl_stack_next_deadline(s) == TL_TIME_NEVER, "step 4: nothing held");
	ck_assert_ptr_nonnull(strstr(trace_lines, "out ICMP 10.10.0.1 < time exceeded code 1\n"));
	tl_stack_free(s);
}
END_TEST

START_TEST(timeout_without_first_fragment)
{
	tl_stack *s = new_stack();
	uint8_t quote[28];

	echo_request(&dg, 108, 2000, 6);
	send_piece(s, &dg, 1480, dg.len - 1480, T0);
	tl_stack_poll(s, T0 + TL_MS(30000));
	ck_assert_msg(n_out == 0, "step 1: no time exceeded without fragment zero");
	ck_assert_uint_eq(cnt(s)->ip_frag_timeout, 1);
	/* RFC 1122 3.2.2: nor about a datagram that is itself an ICMP error. */
	memset(&dg, 0, sizeof dg);
	dg.proto = IP_PROTO_ICMP;
	dg.id = 109;
	memset(quote, 0x45, sizeof quote);
	dg.len = icmp_build(dg.data, ICMP_DEST_UNREACH, 3, 0, quote, sizeof quote) + 1000;
	send_piece(s, &dg, 0, 512, T0 + TL_MS(30001));
	tl_stack_poll(s, T0 + TL_MS(60001));
	ck_assert_msg(n_out == 0, "step 2: no error about an error");
	ck_assert_uint_eq(cnt(s)->ip_frag_timeout, 2);
	tl_stack_free(s);
}
END_TEST

START_TEST(udp_reassembled_and_echoed_in_fragments)
{
	tl_stack *s = new_stack();
	static uint8_t payload[65536];
	struct ipv4_hdr first;
	struct udp_hdr u;
	int frags;

	udp_datagram(&dg, 110, 7, 5000);
	send_frags(s, &dg, 1480, NULL, T0);
	size_t len = reassemble_out(0, payload, &frags, &first);
	ck_assert_int_eq(frags, 4);
	ck_assert(udp_parse(payload, len, HOST, PEER, &u) == WIRE_OK);
	ck_assert_msg(u.sport == 7 && u.dport == 40000 && u.data_len == 5000 &&
			      !memcmp(u.data, dg.data + UDP_HDR_LEN, 5000),
		      "the echo carries the 5000 bytes back");
	ck_assert_uint_eq(cnt(s)->udp_in_delivered, 1);
	tl_stack_free(s);
}
END_TEST

START_TEST(the_largest_datagram)
{
	tl_stack *s = new_stack();

	/* RFC 791 3.1: 65535 bytes in all, 65507 of ICMP data; the reply is 45 pieces. */
	echo_request(&dg, 111, 65507, 7);
	send_frags(s, &dg, 1480, NULL, T0);
	expect_echo_reply("65535-byte ping", 45);
	tl_stack_free(s);
}
END_TEST

START_TEST(malformed_fragments)
{
	tl_stack *s = new_stack();
	uint8_t p[100];

	echo_request(&dg, 112, 1000, 8);
	send_piece(s, &dg, 0, 7, T0);	/* MF, not a multiple of 8 */
	send_piece(s, &dg, 0, 0, T0);	/* empty */
	ck_assert_uint_eq(cnt(s)->ip_frag_drop_bad, 2);
	/* Past 65535 bytes: the ping of death. */
	memset(p + IPV4_HDR_LEN, 0, 80);
	ipv4_build_opts(p, PEER, HOST, IP_PROTO_ICMP, 0, 80, 113, 8180);
	tl_stack_input(s, p, IPV4_HDR_LEN + 80, T0);
	ck_assert_uint_eq(cnt(s)->ip_frag_drop_bad, 3);
	ck_assert_int_eq(n_out, 0);
	ck_assert_msg(tl_stack_next_deadline(s) == TL_TIME_NEVER, "nothing held");
	tl_stack_free(s);
}
END_TEST

/* ---- bounds ---- */

static void few_datagrams(struct tl_config *c) { c->ip_frag_dgrams_max = 4; }
static void few_fragments(struct tl_config *c) { c->ip_frag_frags_max = 4; }
static void little_memory(struct tl_config *c) { c->ip_frag_mem_max = 3000; }
static void no_datagrams(struct tl_config *c) { c->ip_frag_dgrams_max = 0; }

START_TEST(bound_on_datagrams)
{
	tl_stack *s = new_stack_with(few_datagrams);

	for (uint16_t id = 1; id <= 5; id++) {
		echo_request(&dg, id, 1000, 9);
		send_piece(s, &dg, 0, 512, T0 + id);
	}
	/* The fifth pushed out the oldest. */
	ck_assert_uint_eq(cnt(s)->ip_frag_drop_dgrams, 1);
	echo_request(&dg, 1, 1000, 9);
	send_piece(s, &dg, 512, dg.len - 512, T0 + 10);
	ck_assert_msg(n_out == 0, "step 1: the oldest was given up");
	n_out = 0;
	echo_request(&dg, 5, 1000, 9);
	send_piece(s, &dg, 512, dg.len - 512, T0 + 11);
	expect_echo_reply("step 2: the newest completes", 1);
	tl_stack_free(s);
}
END_TEST

START_TEST(bound_of_zero_means_no_reassembly)
{
	tl_stack *s = new_stack_with(no_datagrams);

	echo_request(&dg, 125, 1000, 9);
	send_frags(s, &dg, 512, NULL, T0);
	ck_assert_uint_eq(cnt(s)->ip_frag_drop_dgrams, 2);
	ck_assert_int_eq(n_out, 0);
	ck_assert_msg(tl_stack_next_deadline(s) == TL_TIME_NEVER, "nothing held");
	tl_stack_free(s);
}
END_TEST

START_TEST(bound_on_fragments)
{
	tl_stack *s = new_stack_with(few_fragments);

	echo_request(&dg, 120, 1000, 10);
	send_frags(s, &dg, 200, NULL, T0); /* 6 pieces */
	ck_assert_uint_eq(cnt(s)->ip_frag_drop_frags, 1);
	ck_assert_int_eq(n_out, 0);
	n_out = 0;
	echo_request(&dg, 121, 1000, 10);
	send_frags(s, &dg, 256, NULL, T0); /* 4 pieces: within the bound */
	expect_echo_reply("four pieces", 1);
	tl_stack_free(s);
}
END_TEST

START_TEST(bound_on_memory)
{
	tl_stack *s = new_stack_with(little_memory);

	echo_request(&dg, 130, 3000, 11);
	send_piece(s, &dg, 0, 1480, T0);
	echo_request(&dg, 131, 3000, 11);
	send_piece(s, &dg, 0, 1480, T0 + 1);
	/* 2 x 1480 bytes and their bookkeeping: past 3000, so the oldest went. */
	ck_assert_uint_eq(cnt(s)->ip_frag_drop_mem, 1);
	send_piece(s, &dg, 1480, 1480, T0 + 2);
	ck_assert_msg(cnt(s)->ip_frag_drop_mem == 2 && n_out == 0,
		      "a datagram that alone exceeds the bound is given up");
	echo_request(&dg, 132, 2000, 11);
	send_frags(s, &dg, 1480, NULL, T0 + 3);
	expect_echo_reply("a datagram that fits", 2);
	tl_stack_free(s);
}
END_TEST

START_TEST(held_fragments_freed_with_the_stack)
{
	tl_stack *s = new_stack();

	/* ASan's leak check (the sanitizer build) sees what tl_stack_free missed. */
	for (uint16_t id = 1; id <= 50; id++) {
		echo_request(&dg, id, 3000, 12);
		send_piece(s, &dg, 1480, 1480, T0 + id);
		send_piece(s, &dg, 0, 1480, T0 + id);
	}
	ck_assert_uint_eq(cnt(s)->ip_frag_in, 100);
	tl_stack_free(s);
}
END_TEST

/* ---- options ---- */

/* The reply's IP options, copied out of the one packet sent. */
static size_t reply_options(uint8_t *o)
{
	struct ipv4_hdr ip;

	ck_assert_int_eq(n_out, 1);
	ck_assert(ipv4_parse(out[0], out_len[0], &ip) == WIRE_OK);
	memcpy(o, out[0] + IPV4_HDR_LEN, ip.hdr_len - IPV4_HDR_LEN);
	return ip.hdr_len - IPV4_HDR_LEN;
}

START_TEST(echo_with_record_route)
{
	tl_stack *s = new_stack();
	uint8_t o[40];

	/* ping -R: nine slots, the first filled by the sender. */
	echo_request(&dg, 140, 56, 13);
	dg.opt_len = 40;
	memset(dg.opts, 0, 40);
	dg.opts[0] = IPOPT_NOP;
	memcpy(dg.opts + 1, (const uint8_t[]){ IPOPT_RR, 39, 8, 10, 10, 0, 1 }, 7);
	send_piece(s, &dg, 0, dg.len, T0);
	expect_echo_reply("ping -R", 1);
	/* RFC 1122 3.2.2.6: the route comes back with our address added. */
	ck_assert_uint_eq(reply_options(o), 40);
	ck_assert_uint_eq(o[0], IPOPT_RR);
	ck_assert_uint_eq(o[2], 12);
	ck_assert_uint_eq(get32(o + 3), PEER);
	ck_assert_uint_eq(get32(o + 7), HOST);
	ck_assert_uint_eq(cnt(s)->ip_in_options, 1);
	ck_assert_uint_eq(cnt(s)->icmp_out_echo_options, 1);
	ck_assert_ptr_nonnull(strstr(trace_lines, "in  IP 10.10.0.1 > options NOP,RR 1/9\n"));
	ck_assert_ptr_nonnull(strstr(trace_lines, "out IP 10.10.0.1 < options RR 2/9,EOL\n"));
	/* A full route comes back as it was. */
	n_out = 0;
	dg.opts[3] = 40;
	send_piece(s, &dg, 0, dg.len, T0 + 1);
	reply_options(o);
	ck_assert_uint_eq(o[2], 40);
	tl_stack_free(s);
}
END_TEST

START_TEST(echo_with_timestamps)
{
	tl_stack *s = new_stack();
	uint8_t o[40];

	/* ping -T tsonly: RFC 791 3.1, a non-standard time has the high bit set. */
	echo_request(&dg, 141, 56, 14);
	dg.opt_len = 40;
	memset(dg.opts, 0, 40);
	memcpy(dg.opts, (const uint8_t[]){ IPOPT_TS, 40, 5, IPOPT_TS_TSONLY }, 4);
	send_piece(s, &dg, 0, dg.len, TL_MS(5000));
	expect_echo_reply("ping -T tsonly", 1);
	reply_options(o);
	ck_assert_uint_eq(o[2], 9);
	ck_assert_uint_eq(get32(o + 4), 0x80000000u | 5000);
	/* tsandaddr: our address, then the time. */
	n_out = 0;
	memcpy(dg.opts, (const uint8_t[]){ IPOPT_TS, 36, 5, IPOPT_TS_TSANDADDR }, 4);
	send_piece(s, &dg, 0, dg.len, TL_MS(5001));
	reply_options(o);
	ck_assert_msg(o[2] == 13 && get32(o + 4) == HOST && get32(o + 8) == (0x80000000u | 5001),
		      "tsandaddr: pointer %u", o[2]);
	/* prespecified: only at our address; another is left alone. */
	n_out = 0;
	memcpy(dg.opts, (const uint8_t[]){ IPOPT_TS, 20, 5, IPOPT_TS_PRESPEC, 10, 10, 0, 9 }, 8);
	send_piece(s, &dg, 0, dg.len, TL_MS(5002));
	reply_options(o);
	ck_assert_msg(o[2] == 5 && get32(o + 8) == 0, "prespec elsewhere: untouched");
	n_out = 0;
	put32(dg.opts + 4, HOST);
	send_piece(s, &dg, 0, dg.len, TL_MS(5003));
	reply_options(o);
	ck_assert_msg(o[2] == 13 && get32(o + 8) == (0x80000000u | 5003), "prespec here");
	/* Full: the overflow count goes up. */
	n_out = 0;
	memcpy(dg.opts, (const uint8_t[]){ IPOPT_TS, 8, 9, 0x20, 0, 0, 0, 0 }, 8);
	send_piece(s, &dg, 0, dg.len, TL_MS(5004));
	reply_options(o);
	ck_assert_uint_eq(o[3], 0x30);
	ck_assert_ptr_nonnull(strstr(trace_lines, "options TS tsonly 0/9"));
	tl_stack_free(s);
}
END_TEST

START_TEST(unknown_options_ignored)
{
	tl_stack *s = new_stack();
	struct ipv4_hdr ip;
	struct udp_hdr u;

	/* RFC 1122 3.2.1.8: a router alert and an unknown option: accepted, and
	 * not copied into the answer. */
	udp_datagram(&dg, 150, 7, 10);
	dg.opt_len = 8;
	memcpy(dg.opts, (const uint8_t[]){ IPOPT_RA, 4, 0, 0, 25, 3, 1, IPOPT_EOL }, 8);
	send_piece(s, &dg, 0, dg.len, T0);
	ck_assert_int_eq(n_out, 1);
	ck_assert(ipv4_parse(out[0], out_len[0], &ip) == WIRE_OK && ip.hdr_len == IPV4_HDR_LEN);
	ck_assert(udp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &u) == WIRE_OK);
	ck_assert_uint_eq(u.data_len, 10);
	ck_assert_ptr_nonnull(strstr(trace_lines, "options RA,opt 25,EOL\n"));
	/* An echo request with only unknown options: a reply without options. */
	n_out = 0;
	echo_request(&dg, 151, 56, 15);
	dg.opt_len = 4;
	memcpy(dg.opts, (const uint8_t[]){ 25, 4, 0, 0 }, 4);
	send_piece(s, &dg, 0, dg.len, T0);
	expect_echo_reply("unknown option", 1);
	ck_assert(ipv4_parse(out[0], out_len[0], &ip) == WIRE_OK && ip.hdr_len == IPV4_HDR_LEN);
	tl_stack_free(s);
}
END_TEST

START_TEST(malformed_options_get_parameter_problem)
{
	tl_stack *s = new_stack();
	struct ipv4_hdr ip;
	struct icmp_hdr ic;

	echo_request(&dg, 160, 56, 16);
	dg.opt_len = 4;
	memcpy(dg.opts, (const uint8_t[]){ IPOPT_NOP, IPOPT_RR, 9, 4 }, 4);
	send_piece(s, &dg, 0, dg.len, T0);
	ck_assert_uint_eq(cnt(s)->ip_drop_bad_options, 1);
	ck_assert_int_eq(n_out, 1);
	ck_assert(ipv4_parse(out[0], out_len[0], &ip) == WIRE_OK);
	ck_assert(icmp_parse(ip.payload, ip.payload_len, &ic) == WIRE_OK);
	/* RFC 1122 3.2.2.5, RFC 792: the pointer names octet 22, RR's length. */
	ck_assert_msg(ic.type == ICMP_PARAM_PROBLEM && ic.code == 0 && ic.id >> 8 == 22,
		      "type %u code %u pointer %u", ic.type, ic.code, ic.id >> 8);
	ck_assert_uint_eq(ic.data_len, 24 + 8);
	ck_assert_uint_eq(cnt(s)->icmp_out_param_problem, 1);
	ck_assert_ptr_nonnull(strstr(trace_lines, "out ICMP 10.10.0.1 < parameter problem code 0 pointer 22\n"));
	ck_assert_ptr_nonnull(strstr(trace_lines, "options NOP,opt 7 bad length\n"));
	/* Not about a fragment but the first, nor about an ICMP error. */
	n_out = 0;
	memcpy(dg.opts, (const uint8_t[]){ IPOPT_LSRR, 2, IPOPT_RR, 1 }, 4);
	uint8_t p[200];
	memcpy(p + IPV4_HDR_LEN, dg.opts, 4);
	ipv4_build_opts(p, PEER, HOST, IP_PROTO_UDP, 4, 16, 161, 2);
	tl_stack_input(s, p, IPV4_HDR_LEN + 4 + 16, T0);
	memcpy(p + IPV4_HDR_LEN + 4, (const uint8_t[]){ ICMP_TIME_EXCEEDED, 0 }, 2);
	ipv4_build_opts(p, PEER, HOST, IP_PROTO_ICMP, 4, 16, 162, 0);
	tl_stack_input(s, p, IPV4_HDR_LEN + 4 + 16, T0);
	ck_assert_uint_eq(cnt(s)->ip_drop_bad_options, 3);
	ck_assert_int_eq(n_out, 0);
	tl_stack_free(s);
}
END_TEST

START_TEST(source_routes_not_honoured)
{
	tl_stack *s = new_stack();

	/* RFC 7126 4.3, 4.4: LSRR and SSRR datagrams are dropped, counted. */
	static const uint8_t routes[2] = { IPOPT_LSRR, IPOPT_SSRR };
	for (int i = 0; i < 2; i++) {
		echo_request(&dg, (uint16_t)(170 + i), 56, 17);
		dg.opt_len = 8;
		memcpy(dg.opts, (const uint8_t[]){ IPOPT_NOP, routes[i], 7, 8, 10, 10, 0, 1 }, 8);
		send_piece(s, &dg, 0, dg.len, T0);
	}
	ck_assert_int_eq(n_out, 0);
	ck_assert_uint_eq(cnt(s)->ip_drop_source_route, 2);
	ck_assert_ptr_nonnull(strstr(trace_lines, "options NOP,LSRR 1/1\n"));
	ck_assert_ptr_nonnull(strstr(trace_lines, "options NOP,SSRR 1/1\n"));
	tl_stack_free(s);
}
END_TEST

START_TEST(options_in_fragments)
{
	tl_stack *s = new_stack();
	uint8_t o[40];
	static uint8_t payload[65536];
	struct ipv4_hdr first;
	int frags;

	/* ping -R -s 2000: the first fragment has the option, the reply's first too. */
	echo_request(&dg, 180, 2000, 18);
	dg.opt_len = 40;
	memset(dg.opts, 0, 40);
	dg.opts[0] = IPOPT_NOP;
	memcpy(dg.opts + 1, (const uint8_t[]){ IPOPT_RR, 39, 8, 10, 10, 0, 1 }, 7);
	send_piece(s, &dg, 0, 1440, T0);
	send_piece(s, &dg, 1440, dg.len - 1440, T0);
	ck_assert_int_eq(n_out, 2);
	reassemble_out(0, payload, &frags, &first);
	ck_assert_uint_eq(first.hdr_len, 60);
	memcpy(o, out[0] + IPV4_HDR_LEN, 40);
	ck_assert(o[0] == IPOPT_RR && o[2] == 12 && get32(o + 7) == HOST);
	struct ipv4_hdr second;
	ck_assert(ipv4_parse(out[1], out_len[1], &second) == WIRE_OK);
	ck_assert_msg(second.hdr_len == IPV4_HDR_LEN, "RFC 791 3.1: RR is not copied");
	ck_assert_uint_eq(out_len[0], 1500);
	tl_stack_free(s);
}
END_TEST

static void discard(void *arg, struct tl_udp *u, const struct tl_endpoint *from,
			 const uint8_t *d, size_t n)
{
}

START_TEST(udp_sent_in_fragments)
{
	tl_stack *s = new_stack();
	static uint8_t big[65508], payload[65536];
	struct ipv4_hdr first;
	struct tl_udp *u;
	int frags;

	ck_assert_int_eq(tl_udp_open(s, 5555, discard, NULL, &u), 0);
	memset(big, 0x77, sizeof big);
	struct tl_endpoint to = { PEER, 9999 };
	ck_assert_int_eq(tl_udp_sendto(u, &to, big, 65507), 65507);
	size_t len = reassemble_out(0, payload, &frags, &first);
	ck_assert_uint_eq(len, 65515);
	ck_assert_int_eq(frags, 45);
	ck_assert_int_eq(tl_udp_sendto(u, &to, big, 65508), -EMSGSIZE);
	ck_assert_uint_eq(cnt(s)->udp_out_drop_too_big, 1);
	tl_udp_close(u);
	tl_stack_free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ip");
	TCase *r = tcase_create("reassembly");
	TCase *b = tcase_create("bounds");
	TCase *o = tcase_create("options");

	tcase_add_test(r, in_order);
	tcase_add_test(r, out_of_order);
	tcase_add_test(r, duplicate_dropped_alone);
	tcase_add_test(r, overlap_drops_the_datagram);
	tcase_add_test(r, tiny_tcp_fragments);
	tcase_add_test(r, timeout_with_first_fragment);
	tcase_add_test(r, timeout_without_first_fragment);
	tcase_add_test(r, udp_reassembled_and_echoed_in_fragments);
	tcase_add_test(r, the_largest_datagram);
	tcase_add_test(r, malformed_fragments);
	tcase_add_test(r, udp_sent_in_fragments);
	tcase_add_test(b, bound_on_datagrams);
	tcase_add_test(b, bound_of_zero_means_no_reassembly);
	tcase_add_test(b, bound_on_fragments);
	tcase_add_test(b, bound_on_memory);
	tcase_add_test(b, held_fragments_freed_with_the_stack);
	tcase_add_test(o, echo_with_record_route);
	tcase_add_test(o, echo_with_timestamps);
	tcase_add_test(o, unknown_options_ignored);
	tcase_add_test(o, malformed_options_get_parameter_problem);
	tcase_add_test(o, source_routes_not_honoured);
	tcase_add_test(o, options_in_fragments);
	suite_add_tcase(s, r);
	suite_add_tcase(s, b);
	suite_add_tcase(s, o);
	return tl_check_run(s);
}
