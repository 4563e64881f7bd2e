/* ICMP and UDP through the whole core, no device: a packet in, what out. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/apps.h"
#include "tcplab/socket.h"
#include "tcplab/stack.h"
#include "wire.h"
#include "../check_run.h"

#define PEER 0x0a0a0001u
#define HOST 0x0a0a0002u

static uint8_t out[8][2048];
static size_t out_len[8];
static int n_out;

static void capture(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	ck_assert_int_lt(n_out, 8);
	memcpy(out[n_out], p, len);
	out_len[n_out++] = len;
}

static tl_stack *new_stack(uint32_t icmp_rate)
{
	struct tl_config c;

	tl_config_defaults(&c);
	c.output = capture;
	c.icmp_err_per_sec = icmp_rate;
	tl_stack *s = tl_stack_new(&c);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(tl_apps_start(s), 0);
	n_out = 0;
	return s;
}

static size_t udp_packet(uint8_t *p, uint16_t sport, uint16_t dport, const void *d, size_t n)
{
	memcpy(p + 28, d, n);
	udp_build(p + 20, PEER, HOST, sport, dport, n);
	ipv4_build(p, PEER, HOST, IP_PROTO_UDP, 8 + n, 1);
	return 28 + n;
}

START_TEST(icmp_echo_reply)
{
	tl_stack *s = new_stack(100);
	uint8_t p[1500], data[1000];
	struct ipv4_hdr ip;
	struct icmp_hdr ic;

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i ^ 0x5a);
	size_t n = icmp_build(p + 20, ICMP_ECHO_REQUEST, 0, 0xbeef0003, data, sizeof data);
	ipv4_build(p, PEER, HOST, IP_PROTO_ICMP, n, 9);
	tl_stack_input(s, p, 20 + n, 1000);
	ck_assert_msg(n_out == 1, "step 1: one echo reply expected, got %d packets", n_out);
	ck_assert_msg(ipv4_parse(out[0], out_len[0], &ip) == WIRE_OK, "step 2: reply IP header valid");
	ck_assert_msg(ip.src == HOST && ip.dst == PEER, "step 3: addresses swapped");
	ck_assert_msg(ip.ttl == 64, "step 4: TTL 64");
	ck_assert_msg(icmp_parse(ip.payload, ip.payload_len, &ic) == WIRE_OK, "step 5: ICMP checksum valid");
	ck_assert_msg(ic.type == ICMP_ECHO_REPLY && ic.id == 0xbeef && ic.seq == 3, "step 6: type, id, seq");
	ck_assert_msg(ic.data_len == sizeof data && !memcmp(ic.data, data, sizeof data),
		      "step 7: payload identical");
	ck_assert_uint_eq(tl_stack_counters(s)->icmp_out_echo_reply, 1);
	tl_stack_free(s);
}
END_TEST

static void expect_udp_echo(tl_stack *s, uint16_t port)
{
	uint8_t p[1500];
	struct ipv4_hdr ip;
	struct udp_hdr u;

	n_out = 0;
	tl_stack_input(s, p, udp_packet(p, 5000, port, "The quick brown fox", 19), 1000);
	ck_assert_msg(n_out == 1, "port %u: one echo expected", port);
	ck_assert(ipv4_parse(out[0], out_len[0], &ip) == WIRE_OK);
	ck_assert(udp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &u) == WIRE_OK);
	ck_assert_msg(u.sport == port && u.dport == 5000, "port %u: ports swapped", port);
	ck_assert_msg(u.data_len == 19 && !memcmp(u.data, "The quick brown fox", 19),
		      "port %u: data identical", port);
}

START_TEST(udp_echo_both_ports)
{
	tl_stack *s = new_stack(100);

	expect_udp_echo(s, 7);
	expect_udp_echo(s, 65432);
	ck_assert_uint_eq(tl_stack_counters(s)->udp_in_delivered, 2);
	tl_stack_free(s);
}
END_TEST

START_TEST(udp_discard_is_silent)
{
	tl_stack *s = new_stack(100);
	uint8_t p[100];

	tl_stack_input(s, p, udp_packet(p, 5000, 9, "x", 1), 1000);
	ck_assert_int_eq(n_out, 0);
	ck_assert_uint_eq(tl_stack_counters(s)->udp_in_delivered, 1);
	tl_stack_free(s);
}
END_TEST

START_TEST(udp_closed_port_unreachable)
{
	tl_stack *s = new_stack(100);
	uint8_t p[100];
	struct ipv4_hdr ip;
	struct icmp_hdr ic;
	size_t n = udp_packet(p, 5000, 4444, "abcdefghij", 10);

	tl_stack_input(s, p, n, 1000);
	ck_assert_int_eq(n_out, 1);
	ck_assert(ipv4_parse(out[0], out_len[0], &ip) == WIRE_OK && ip.dst == PEER);
	ck_assert(icmp_parse(ip.payload, ip.payload_len, &ic) == WIRE_OK);
	ck_assert_msg(ic.type == ICMP_DEST_UNREACH && ic.code == ICMP_PORT_UNREACH,
		      "type %u code %u", ic.type, ic.code);
	/* RFC 792: the IP header and the first 8 bytes of the datagram. */
	ck_assert_uint_eq(ic.data_len, 28);
	ck_assert_mem_eq(ic.data, p, 28);
	tl_stack_free(s);
}
END_TEST

START_TEST(icmp_errors_rate_limited)
{
	tl_stack *s = new_stack(3);
	uint8_t p[100];
	size_t n = udp_packet(p, 5000, 4444, "a", 1);

	for (int i = 0; i < 5; i++)
		tl_stack_input(s, p, n, TL_MS(1000) + (tl_time)i);
	ck_assert_msg(n_out == 3, "step 1: 3 errors in the first second, got %d", n_out);
	ck_assert_uint_eq(tl_stack_counters(s)->icmp_out_rate_limited, 2);
	n_out = 0;
	tl_stack_input(s, p, n, TL_MS(2001));
	ck_assert_msg(n_out == 1, "step 2: a new second refills the bucket");
	tl_stack_free(s);
}
END_TEST

START_TEST(udp_bad_and_zero_checksum)
{
	tl_stack *s = new_stack(100);
	uint8_t p[100];
	size_t n = udp_packet(p, 5000, 7, "data", 4);

	p[30] ^= 0xff;
	tl_stack_input(s, p, n, 1000);
	ck_assert_int_eq(n_out, 0);
	ck_assert_uint_eq(tl_stack_counters(s)->udp_drop_checksum, 1);
	put16(p + 26, 0); /* no checksum: accepted as is */
	tl_stack_input(s, p, n, 1000);
	ck_assert_int_eq(n_out, 1);
	tl_stack_free(s);
}
END_TEST

START_TEST(udp_echo_loop_protection)
{
	tl_stack *s = new_stack(100);
	uint8_t p[100];
	static const uint16_t from[] = { 0, 7, 9, 13, 17, 19, 37, 65432 };

	/* From a service port: answering (even with ICMP) would start a storm. */
	for (size_t i = 0; i < sizeof from / sizeof from[0]; i++) {
		tl_stack_input(s, p, udp_packet(p, from[i], 7, "echo", 4), 1000);
		tl_stack_input(s, p, udp_packet(p, from[i], 65432, "echo", 4), 1000);
		tl_stack_input(s, p, udp_packet(p, from[i], 4444, "closed", 6), 1000);
		ck_assert_msg(n_out == 0, "source port %u: answered", from[i]);
	}
	ck_assert_uint_eq(tl_stack_counters(s)->udp_drop_loop_port, 3 * 8);
	ck_assert_uint_eq(tl_stack_counters(s)->icmp_out_port_unreach, 0);
	expect_udp_echo(s, 7); /* an ordinary client port is still answered */
	tl_stack_free(s);
}
END_TEST

static size_t ping_packet(uint8_t *p, uint32_t src, uint32_t dst)
{
	size_t n = icmp_build(p + 20, ICMP_ECHO_REQUEST, 0, 0x12340001, (const uint8_t *)"ping", 4);
	ipv4_build(p, src, dst, IP_PROTO_ICMP, n, 7);
	return 20 + n;
}

/* The IP ID of the echo reply to a ping from src, on stack s. */
static uint16_t reply_id(tl_stack *s, uint32_t src)
{
	uint8_t p[100];
	struct ipv4_hdr ip;

	n_out = 0;
	tl_stack_input(s, p, ping_packet(p, src, HOST), 1000);
	ck_assert_int_eq(n_out, 1);
	ck_assert(ipv4_parse(out[0], out_len[0], &ip) == WIRE_OK && ip.dst == src && ip.df);
	return ip.id;
}

START_TEST(ip_id_per_destination)
{
	tl_stack *s = new_stack(100);
	const uint32_t a = PEER, b = 0x0a0a0005u;

	/* RFC 7739 5.3: one destination sees its own counter step by one... */
	uint16_t a1 = reply_id(s, a), a2 = reply_id(s, a);
	ck_assert_msg((uint16_t)(a2 - a1) == 1, "step 1: %u then %u", a1, a2);
	/* ...from an offset keyed by the destination, not the count sent to others. */
	uint16_t b1 = reply_id(s, b);
	uint16_t a3 = reply_id(s, a);
	ck_assert_msg((uint16_t)(a3 - a2) == 1, "step 2: B's datagram did not move A's ID");
	ck_assert_msg(b1 != (uint16_t)(a2 + 1) && b1 != (uint16_t)(a3 + 1),
		      "step 3: B's ID is not the next of one global counter: %u", b1);
	tl_stack_free(s);
	/* RFC 7739 3: keyed by the seed, so another stack's IDs cannot be foretold. */
	struct tl_config c;
	tl_config_defaults(&c);
	c.output = capture;
	c.seed = 2;
	s = tl_stack_new(&c);
	ck_assert_ptr_nonnull(s);
	uint16_t other = reply_id(s, a);
	ck_assert_msg(other != a1, "step 4: seed 2 gives another ID than seed 1: %u", other);
	tl_stack_free(s);
}
END_TEST

static size_t syn_packet(uint8_t *p, uint32_t src, uint32_t dst, uint16_t dport)
{
	struct tcp_hdr h;

	memset(&h, 0, sizeof h);
	h.sport = 40000;
	h.dport = dport;
	h.seq = 1000;
	h.flags = TCP_SYN;
	h.wnd = 65535;
	tcp_build(p + 20, src, dst, &h, 0, 0);
	ipv4_build(p, src, dst, IP_PROTO_TCP, TCP_HDR_LEN, 8);
	return 20 + TCP_HDR_LEN;
}

static size_t udp_from(uint8_t *p, uint32_t src, uint32_t dst, uint16_t dport)
{
	memcpy(p + 28, "x", 1);
	udp_build(p + 20, src, dst, 5000, dport, 1);
	ipv4_build(p, src, dst, IP_PROTO_UDP, 9, 1);
	return 29;
}

/* Every kind of packet that would be answered (ping, UDP echo, UDP to a
 * closed port, SYN to an open and a closed port) from src to dst. */
static void send_answerable(tl_stack *s, uint32_t src, uint32_t dst)
{
	uint8_t p[200];

	tl_stack_input(s, p, ping_packet(p, src, dst), 1000);
	tl_stack_input(s, p, udp_from(p, src, dst, 7), 1000);
	tl_stack_input(s, p, udp_from(p, src, dst, 4444), 1000);
	tl_stack_input(s, p, syn_packet(p, src, dst, 7), 1000);
	tl_stack_input(s, p, syn_packet(p, src, dst, 4444), 1000);
}

START_TEST(no_answer_to_broadcast_or_multicast_dst)
{
	tl_stack *s = new_stack(100);
	static const uint32_t dst[] = { 0xffffffffu, 0xe0000001u, 0xeffffffau, 0xf0000001u };

	for (size_t i = 0; i < 4; i++) {
		send_answerable(s, PEER, dst[i]);
		ck_assert_msg(n_out == 0, "destination %08x: answered", dst[i]);
	}
	ck_assert_uint_eq(tl_stack_counters(s)->ip_drop_broadcast_dst, 4 * 5);
	send_answerable(s, PEER, HOST);
	ck_assert_msg(n_out == 5, "control: 5 answers from a unicast peer, got %d", n_out);
	tl_stack_free(s);
}
END_TEST

START_TEST(no_answer_to_martian_source)
{
	tl_stack *s = new_stack(100);
	static const uint32_t src[] = { 0, 0x00010203u, 0x7f000001u, 0xe0000005u,
					0xf0000001u, 0xffffffffu };

	for (size_t i = 0; i < 6; i++) {
		send_answerable(s, src[i], HOST);
		ck_assert_msg(n_out == 0, "source %08x: answered", src[i]);
	}
	ck_assert_uint_eq(tl_stack_counters(s)->ip_drop_bad_source, 6 * 5);
	ck_assert_uint_eq(tl_stack_counters(s)->tcp_in, 0);
	tl_stack_free(s);
}
END_TEST

START_TEST(land_packets_dropped)
{
	tl_stack *s = new_stack(100);

	send_answerable(s, HOST, HOST);
	ck_assert_int_eq(n_out, 0);
	const struct tl_counters *c = tl_stack_counters(s);
	ck_assert_uint_eq(c->ip_drop_land, 5);
	ck_assert_uint_eq(c->ip_drop_bad_source, 0);
	ck_assert_uint_eq(c->tcp_passive_opens, 0);
	tl_stack_free(s);
}
END_TEST

START_TEST(icmp_errors_never_answered)
{
	tl_stack *s = new_stack(100);
	uint8_t p[200], quote[29];
	static const uint8_t types[] = { ICMP_DEST_UNREACH, 4, 5, 11, 12, ICMP_ECHO_REPLY };

	udp_from(quote, HOST, PEER, 4444); /* what we might have sent */
	for (size_t i = 0; i < sizeof types; i++) {
		size_t n = icmp_build(p + 20, types[i], 3, 0, quote, 28);
		ipv4_build(p, PEER, HOST, IP_PROTO_ICMP, n, 3);
		tl_stack_input(s, p, 20 + n, 1000);
	}
	ck_assert_int_eq(n_out, 0);
	ck_assert_uint_eq(tl_stack_counters(s)->icmp_in_other, sizeof types);
	tl_stack_free(s);
}
END_TEST

static void no_events(void *arg, struct tl_udp *u, const struct tl_endpoint *from,
		      const uint8_t *d, size_t n)
{
	(void)arg, (void)u, (void)from, (void)d, (void)n;
}

/* RFC 1122 3.2.1.3 (d), 3.3.6: with the prefix known (/24, as on the lab),
 * 10.10.0.255 and the old all-zeros form 10.10.0.0 are broadcasts. */
START_TEST(subnet_broadcast_known_from_prefix)
{
	struct tl_config c;
	static const uint32_t bcast[] = { 0x0a0a00ffu, 0x0a0a0000u };

	tl_config_defaults(&c);
	c.output = capture;
	c.prefix_len = 24;
	tl_stack *s = tl_stack_new(&c);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(tl_apps_start(s), 0);
	n_out = 0;
	for (size_t i = 0; i < 2; i++) {
		send_answerable(s, bcast[i], HOST);
		send_answerable(s, PEER, bcast[i]);
		ck_assert_msg(n_out == 0, "%08x: answered", bcast[i]);
	}
	const struct tl_counters *k = tl_stack_counters(s);
	ck_assert_uint_eq(k->ip_drop_bad_source, 2 * 5);
	ck_assert_uint_eq(k->ip_drop_broadcast_dst, 2 * 5);
	struct tl_udp *u;
	struct tl_endpoint to = { 0x0a0a00ffu, 7 };
	ck_assert_int_eq(tl_udp_open(s, 5555, no_events, NULL, &u), 0);
	tl_udp_sendto(u, &to, "x", 1);
	ck_assert_int_eq(n_out, 0);
	ck_assert_uint_eq(k->ip_out_drop_martian, 1);
	/* Another subnet's .255 is an ordinary address. */
	send_answerable(s, 0x0a0a01ffu, HOST);
	ck_assert_msg(n_out == 5, "control: 5 answers to 10.10.1.255, got %d", n_out);
	tl_stack_free(s);
}
END_TEST

START_TEST(nothing_sent_to_martian_destination)
{
	tl_stack *s = new_stack(100);
	struct tl_udp *u;
	struct tl_tcp *c;
	static const struct tl_tcp_events ev = { 0 };
	struct tl_endpoint bcast = { 0xffffffffu, 7 }, mcast = { 0xe0000001u, 7 },
			   self = { HOST, 7 };

	ck_assert_int_eq(tl_udp_open(s, 5555, no_events, NULL, &u), 0);
	tl_udp_sendto(u, &bcast, "x", 1);
	tl_udp_sendto(u, &mcast, "x", 1);
	tl_tcp_connect(s, &mcast, &ev, NULL, &c);
	ck_assert_int_eq(n_out, 0);
	ck_assert_uint_eq(tl_stack_counters(s)->ip_out_drop_martian, 3);
	ck_assert_uint_eq(tl_stack_counters(s)->ip_out_requests, 0);
	/* Our own address is no martian: its SYN goes round the loopback (test_loopback). */
	tl_tcp_connect(s, &self, &ev, NULL, &c);
	ck_assert_int_eq(n_out, 0);
	ck_assert_uint_eq(tl_stack_counters(s)->ip_loop_packets, 1);
	tl_stack_free(s);
}
END_TEST

START_TEST(ip_drops_are_counted)
{
	tl_stack *s = new_stack(100);
	uint8_t p[100];
	size_t n = udp_packet(p, 5000, 7, "x", 1);

	put32(p + 16, 0x0a0a0063); /* not our address */
	put16(p + 10, 0);
	put16(p + 10, csum_fold(csum_add(0, p, 20)));
	tl_stack_input(s, p, n, 1000);
	n = udp_packet(p, 5000, 7, "x", 1);
	put32(p + 12, 0xffffffff); /* broadcast source */
	put16(p + 10, 0);
	put16(p + 10, csum_fold(csum_add(0, p, 20)));
	tl_stack_input(s, p, n, 1000);
	ipv4_build(p, PEER, HOST, 99, 4, 1); /* unknown protocol */
	tl_stack_input(s, p, 24, 1000);
	const struct tl_counters *c = tl_stack_counters(s);
	ck_assert_int_eq(n_out, 0);
	ck_assert_uint_eq(c->ip_drop_not_for_us, 1);
	ck_assert_uint_eq(c->ip_drop_bad_source, 1);
	ck_assert_uint_eq(c->ip_drop_proto, 1);
	ck_assert_uint_eq(c->ip_in_receives, 3);
	tl_stack_free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("core");
	TCase *t = tcase_create("icmp_udp");

	tcase_add_test(t, icmp_echo_reply);
	tcase_add_test(t, ip_id_per_destination);
	tcase_add_test(t, udp_echo_both_ports);
	tcase_add_test(t, udp_discard_is_silent);
	tcase_add_test(t, udp_closed_port_unreachable);
	tcase_add_test(t, icmp_errors_rate_limited);
	tcase_add_test(t, udp_bad_and_zero_checksum);
	tcase_add_test(t, udp_echo_loop_protection);
	tcase_add_test(t, ip_drops_are_counted);
	tcase_add_test(t, no_answer_to_broadcast_or_multicast_dst);
	tcase_add_test(t, no_answer_to_martian_source);
	tcase_add_test(t, subnet_broadcast_known_from_prefix);
	tcase_add_test(t, land_packets_dropped);
	tcase_add_test(t, icmp_errors_never_answered);
	tcase_add_test(t, nothing_sent_to_martian_destination);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
