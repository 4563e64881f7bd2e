/* ICMP errors about what the stack sent, in virtual time: hard errors abort
 * an open (RFC 1122 4.2.3.9), soft ones are told if the connection times
 * out, a quote outside the window is not believed (RFC 5927 4.1), path MTU
 * discovery lowers the segment size and resends (RFC 1191), and UDP passes
 * port unreachable to the socket that sent (RFC 1122 4.1.3.3). */
#include <errno.h>
#include <string.h>

#include "tcph.h"
#include "../check_run.h"

#define ROUTER_ADDR 0x0a0a00feu /* 10.10.0.254: a router on the path */
#define PISS 1000u

/* A router's ICMP error quoting a datagram from src to the peer that carried
 * ports sport > dport and (TCP) sequence number seq; mtu is the next hop's
 * (fragmentation needed) or 0. */
static void icmp_about(struct tcph *h, uint8_t type, uint8_t code, uint16_t mtu, uint32_t src,
		       uint8_t proto, uint16_t sport, uint16_t dport, uint32_t seq)
{
	uint8_t quote[IPV4_HDR_LEN + 8], pkt[IPV4_HDR_LEN + ICMP_HDR_LEN + sizeof quote];

	ipv4_build(quote, src, PEER_ADDR, proto, 1480, 7);
	put16(quote + IPV4_HDR_LEN, sport);
	put16(quote + IPV4_HDR_LEN + 2, dport);
	put32(quote + IPV4_HDR_LEN + 4, seq);
	size_t n = icmp_build(pkt + IPV4_HDR_LEN, type, code, mtu, quote, sizeof quote);
	ipv4_build(pkt, ROUTER_ADDR, HOST_ADDR, IP_PROTO_ICMP, n, 9);
	tl_stack_input(h->s, pkt, IPV4_HDR_LEN + n, h->now);
}

static void tcp_error(struct tcph *h, uint8_t type, uint8_t code, uint16_t mtu, uint32_t seq)
{
	icmp_about(h, type, code, mtu, HOST_ADDR, IP_PROTO_TCP, h->port, h->peer.port, seq);
}

START_TEST(port_unreachable_aborts_connect)
{
	struct tcph h;

	tcph_init(&h, NULL);
	struct seg *syn = tcph_connect(&h);
	tcp_error(&h, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, syn->h.seq);
	/* RFC 1122 4.2.3.9: a hard error in SYN-SENT ends the open. */
	ck_assert_int_eq(h.closed, 1);
	ck_assert_int_eq(h.closed_err, -ECONNREFUSED);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_icmp_hard, 1);
	tcph_advance(&h, 5000);
	tcph_expect_nothing(&h, "no SYN after the abort");
	tcph_free(&h);
}
END_TEST

START_TEST(quote_outside_window_ignored)
{
	struct tcph h;

	tcph_init(&h, NULL);
	struct seg *syn = tcph_connect(&h);
	uint32_t iss = syn->h.seq;
	/* RFC 5927 4.1: a forged error guesses the sequence number, and misses. */
	tcp_error(&h, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, iss + 100000);
	ck_assert_int_eq(h.closed, 0);
	ck_assert_int_eq(tcph_state(&h), TL_SYN_SENT);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_icmp_bad_seq, 1);
	tcph_advance(&h, 1000);
	tcph_out(&h, "the SYN again, at the RTO", .flags = TCP_SYN, .seq = 0);
	tcph_free(&h);
}
END_TEST

static uint8_t blob[8 * 1460];

START_TEST(frag_needed_lowers_mss_and_resends)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7100, PISS);
	ck_assert_int_eq(tl_tcp_send(h.conn, blob, 3 * 1460), 3 * 1460);
	for (int i = 0; i < 3; i++)
		tcph_out(&h, "three full segments", .seq = 1 + 1460 * i, .len = 1460);
	/* A router with a 1280-byte next hop dropped the first. */
	tcp_error(&h, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1280, tcph_snd_abs(&h, 1));
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_pmtu_lowered, 1);
	/* RFC 1191 6.4: resent at once, in segments of 1280 - 40 bytes. */
	tcph_out(&h, "resent to fit", .seq = 1, .len = 1240);
	tcph_out(&h, "the rest", .seq = 1241, .len = 1240);
	tcph_in(&h, .ack = 2481);
	struct seg *s = tcph_out(&h, "the tail", .seq = 2481);
	ck_assert_uint_le(s->len, 1240);
	/* The same MTU again is no news. */
	tcp_error(&h, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1280, tcph_snd_abs(&h, 2481));
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_pmtu_ignored, 1);
	tcph_free(&h);
}
END_TEST

START_TEST(frag_needed_floor_and_old_routers)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7100, PISS);
	ck_assert_int_eq(tl_tcp_send(h.conn, blob, 1460), 1460);
	tcph_out(&h, "one segment", .seq = 1, .len = 1460);
	/* RFC 1191 5 and 7: MTU 0 is an old router; the quote was 1500 bytes,
	 * the plateau below is 1492. */
	tcp_error(&h, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 0, tcph_snd_abs(&h, 1));
	tcph_out(&h, "plateau 1492", .seq = 1, .len = 1452);
	tcph_out(&h, "the 8 bytes left", .seq = 1453, .len = 8);
	/* A forged tiny MTU stops at 552 (RFC 5927 7.2). */
	tcp_error(&h, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 68, tcph_snd_abs(&h, 1));
	tcph_out(&h, "floor 552", .seq = 1, .len = 512);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_pmtu_lowered, 2);
	tcph_free(&h);
}
END_TEST

static void few_retries(struct tl_config *c)
{
	c->tcp_max_retries = 3;
}

START_TEST(soft_error_told_at_timeout)
{
	struct tcph h;

	tcph_init(&h, few_retries);
	tcph_handshake(&h, 7100, PISS);
	ck_assert_int_eq(tl_tcp_send(h.conn, blob, 100), 100);
	tcph_out(&h, "data", .seq = 1, .len = 100);
	tcp_error(&h, ICMP_DEST_UNREACH, 1, 0, tcph_snd_abs(&h, 1)); /* host unreachable */
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_icmp_soft, 1);
	ck_assert_int_eq(h.closed, 0); /* RFC 1122 4.2.3.9: soft: keep trying */
	for (int i = 0; i < 600 && !h.closed; i++) {
		tcph_advance(&h, 1000);
		tcph_drain(&h);
	}
	ck_assert_int_eq(h.closed, 1);
	ck_assert_int_eq(h.closed_err, -EHOSTUNREACH);
	tcph_free(&h);
}
END_TEST

START_TEST(errors_not_about_us)
{
	struct tcph h;

	tcph_init(&h, NULL);
	struct seg *syn = tcph_connect(&h);
	/* From another address than ours: not our datagram. */
	icmp_about(&h, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, 0x0a0a0009u, IP_PROTO_TCP, h.port,
		   h.peer.port, syn->h.seq);
	ck_assert_uint_eq(tcph_cnt(&h)->icmp_in_errors_not_ours, 1);
	/* Other ports: no connection of ours. */
	icmp_about(&h, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, HOST_ADDR, IP_PROTO_TCP, 1,
		   h.peer.port, syn->h.seq);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_icmp_no_conn, 1);
	/* RFC 6633: source quench is ignored. */
	tcp_error(&h, 4, 0, 0, syn->h.seq);
	ck_assert_uint_eq(tcph_cnt(&h)->icmp_in_errors, 2);
	ck_assert_int_eq(tcph_state(&h), TL_SYN_SENT);
	tcph_free(&h);
}
END_TEST

static int udp_errors, udp_err;
static struct tl_endpoint udp_peer;

static void udp_recv(void *arg, struct tl_udp *u, const struct tl_endpoint *from,
		     const uint8_t *data, size_t len)
{
	(void)arg, (void)u, (void)from, (void)data, (void)len;
}

static void udp_error(void *arg, struct tl_udp *u, const struct tl_endpoint *peer, int err)
{
	(void)arg, (void)u;
	udp_errors++;
	udp_err = err;
	udp_peer = *peer;
}

START_TEST(udp_port_unreachable_to_sender)
{
	struct tcph h;
	struct tl_udp *u;

	tcph_init(&h, NULL);
	ck_assert_int_eq(tl_udp_open(h.s, 5353, udp_recv, NULL, &u), 0);
	tl_udp_set_error(u, udp_error);
	icmp_about(&h, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, HOST_ADDR, IP_PROTO_UDP, 5353, 53, 0);
	ck_assert_int_eq(udp_errors, 1);
	ck_assert_int_eq(udp_err, ECONNREFUSED);
	ck_assert_uint_eq(udp_peer.addr, PEER_ADDR);
	ck_assert_uint_eq(udp_peer.port, 53);
	icmp_about(&h, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, HOST_ADDR, IP_PROTO_UDP, 5354, 53, 0);
	ck_assert_uint_eq(tcph_cnt(&h)->udp_icmp_no_socket, 1);
	tl_udp_close(u);
	tcph_free(&h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tcp_icmp");
	TCase *tc = tcase_create("icmp");

	tcase_add_test(tc, port_unreachable_aborts_connect);
	tcase_add_test(tc, quote_outside_window_ignored);
	tcase_add_test(tc, frag_needed_lowers_mss_and_resends);
	tcase_add_test(tc, frag_needed_floor_and_old_routers);
	tcase_add_test(tc, soft_error_told_at_timeout);
	tcase_add_test(tc, errors_not_about_us);
	tcase_add_test(tc, udp_port_unreachable_to_sender);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_check_run(suite());
}
