/* TUN offload in virtual time. With tcp_tso_max set, new data leaves in
 * super-segments, and tl_stack_out_gso_size says, during the output
 * callback, the payload per segment on the wire: the connection's room (its
 * MSS less this packet's SACK blocks), after the peer's MSS, timestamps and
 * path MTU discovery (RFC 1191) have had their say, never the link's; a
 * retransmission is one segment: size 0. And TL_IN_CSUM_OK (the kernel's
 * DATA_VALID) spares the TCP checksum of a whole packet, not of a fragment. */
#include <string.h>

#include "tcph.h"
#include "../check_run.h"

#define ROUTER_ADDR 0x0a0a00feu
#define PISS 1000u
#define TSO_MAX (65535u - 20u - 60u) /* what src/io/loop.c sets */

static uint8_t blob[256 * 1024];

static void tso(struct tl_config *c)
{
	c->tcp_tso_max = TSO_MAX;
}

/* A router's fragmentation needed (RFC 1191 4) about our segment at seq. */
static void frag_needed(struct tcph *h, uint16_t mtu, uint32_t seq)
{
	uint8_t quote[IPV4_HDR_LEN + 8], pkt[IPV4_HDR_LEN + ICMP_HDR_LEN + sizeof quote];

	ipv4_build(quote, HOST_ADDR, PEER_ADDR, IP_PROTO_TCP, 1480, 7);
	put16(quote + IPV4_HDR_LEN, h->port);
	put16(quote + IPV4_HDR_LEN + 2, h->peer.port);
	put32(quote + IPV4_HDR_LEN + 4, seq);
	size_t n = icmp_build(pkt + IPV4_HDR_LEN, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, mtu, quote,
			      sizeof quote);
	ipv4_build(pkt, ROUTER_ADDR, HOST_ADDR, IP_PROTO_ICMP, n, 9);
	tl_stack_input(h->s, pkt, IPV4_HDR_LEN + n, h->now);
}

START_TEST(gso_size_is_the_mss)
{
	struct tcph h;

	tcph_init(&h, tso);
	tcph_handshake(&h, 7100, PISS);
	ck_assert_int_eq(tl_tcp_send(h.conn, blob, 20 * 1460), 20 * 1460);
	/* RFC 6928: ten segments in the first flight, in one packet. */
	struct seg *s = tcph_out(&h, "the first flight, whole", .seq = 1, .len = 10 * 1460);
	STEP_ASSERT(s->gso == 1460, "first flight", "split at the peer's MSS, 1460");
	tcph_expect_nothing(&h, "nothing more before an ACK");
	ck_assert_uint_eq(tl_stack_out_gso_size(h.s), 0); /* only inside the callback */
	tcph_free(&h);
}
END_TEST

START_TEST(gso_size_follows_path_mtu)
{
	struct tcph h;

	tcph_init(&h, tso);
	tcph_handshake(&h, 7100, PISS);
	ck_assert_int_eq(tl_tcp_send(h.conn, blob, sizeof blob), sizeof blob);
	tcph_out(&h, "the first flight", .seq = 1, .len = 10 * 1460);
	/* RFC 1191 6.4: a 1280-byte next hop; the flight is resent to fit. */
	frag_needed(&h, 1280, tcph_snd_abs(&h, 1));
	uint32_t seq = 1;
	while (seq < 1 + 10 * 1460) {
		struct seg *r = tcph_out(&h, "resent in single segments", .seq = seq);
		STEP_ASSERT(r->len <= 1240 && r->gso == 0, "resent", "one segment of at most 1240");
		seq += (uint32_t)r->len;
	}
	tcph_in(&h, .ack = seq);
	struct seg *s = tcph_out(&h, "new data after the ACK", .seq = seq);
	STEP_ASSERT(s->len > 1240, "new data", "a super-segment again");
	STEP_ASSERT(s->gso == 1240, "new data", "split at 1280 - 40, not at the link's 1460");
	tcph_free(&h);
}
END_TEST

START_TEST(gso_size_follows_peer_mss_timestamps_and_sack)
{
	struct tcph h;
	static uint8_t early[100];

	tcph_init(&h, tso);
	tcph_accept(&h, 7100, PISS, .mss = 536, .wscale = 7, .sack_perm = true, .ts = true,
		    .ts_val = 5);
	/* A hole: the peer's byte 1 is missing, 1001..1100 came. */
	tcph_in(&h, .seq = 1001, .data = early, .len = sizeof early, .ts = true, .ts_val = 6);
	tcph_out(&h, "the duplicate ACK with its SACK block", .ack = 1, .sack_n = 1);
	ck_assert_int_eq(tl_tcp_send(h.conn, blob, 20 * 536), 20 * 536);
	struct seg *s = tcph_out(&h, "a flight carrying the SACK block", .seq = 1, .sack_n = 1);
	/* RFC 6691 2: 536 less 12 of timestamps; RFC 2018 3: less 12 of one block. */
	STEP_ASSERT(s->len > 512, "flight", "a super-segment");
	STEP_ASSERT(s->gso == 536 - 12 - 12, "flight", "the room beside the options it carries");
	tcph_free(&h);
}
END_TEST

START_TEST(no_gso_without_tso)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7100, PISS);
	ck_assert_int_eq(tl_tcp_send(h.conn, blob, 3 * 1460), 3 * 1460);
	for (int i = 0; i < 3; i++) {
		struct seg *s = tcph_out(&h, "one segment a packet", .seq = 1 + 1460 * i, .len = 1460);
		STEP_ASSERT(s->gso == 0, "one segment a packet", "nothing to split");
	}
	tcph_free(&h);
}
END_TEST

/* 100 bytes of the peer's data at relative seq 1 with a wrong TCP checksum,
 * fed with flags; in two IP fragments if frag. */
static void bad_csum_data(struct tcph *h, unsigned flags, bool frag)
{
	static uint8_t pkt[IPV4_HDR_LEN + TCP_HDR_LEN + 100];
	uint8_t *seg = pkt + IPV4_HDR_LEN;
	struct tcp_hdr t = { .sport = h->peer.port, .dport = h->port, .seq = tcph_rcv_abs(h, 1),
			     .ack = tcph_snd_abs(h, 1), .flags = TCP_ACK | TCP_PSH, .wnd = 512 };
	size_t n = TCP_HDR_LEN + 100;

	memset(seg + TCP_HDR_LEN, 'x', 100);
	tcp_build(seg, PEER_ADDR, HOST_ADDR, &t, 0, 100);
	seg[16] ^= 0x40; /* what a NEEDS_CSUM packet holds before it is finished */
	if (!frag) {
		ipv4_build(pkt, PEER_ADDR, HOST_ADDR, IP_PROTO_TCP, n, 77);
		tl_stack_input_flags(h->s, pkt, IPV4_HDR_LEN + n, h->now, flags);
		return;
	}
	static uint8_t f1[IPV4_HDR_LEN + 64], f2[IPV4_HDR_LEN + TCP_HDR_LEN + 100 - 64];
	memcpy(f1 + IPV4_HDR_LEN, seg, 64);
	ipv4_build_opts(f1, PEER_ADDR, HOST_ADDR, IP_PROTO_TCP, 0, 64, 78, IP_MF);
	tl_stack_input_flags(h->s, f1, sizeof f1, h->now, flags);
	memcpy(f2 + IPV4_HDR_LEN, seg + 64, n - 64);
	ipv4_build_opts(f2, PEER_ADDR, HOST_ADDR, IP_PROTO_TCP, 0, n - 64, 78, 64 / 8);
	tl_stack_input_flags(h->s, f2, sizeof f2, h->now, flags);
}

START_TEST(csum_ok_skips_the_tcp_checksum)
{
	struct tcph h;

	tcph_init(&h, tso);
	tcph_handshake(&h, 7100, PISS);
	bad_csum_data(&h, 0, false);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_checksum, 1);
	bad_csum_data(&h, TL_IN_CSUM_OK, true);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_checksum, 2); /* a fragment's word is not taken */
	tcph_expect_nothing(&h, "nothing for a segment dropped");
	bad_csum_data(&h, TL_IN_CSUM_OK, false);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_checksum, 2);
	ck_assert_uint_eq(h.rx_len, 100);
	tcph_free(&h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tcp_tso");
	TCase *tc = tcase_create("tso");

	tcase_add_test(tc, gso_size_is_the_mss);
	tcase_add_test(tc, gso_size_follows_path_mtu);
	tcase_add_test(tc, gso_size_follows_peer_mss_timestamps_and_sack);
	tcase_add_test(tc, no_gso_without_tso);
	tcase_add_test(tc, csum_ok_skips_the_tcp_checksum);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_check_run(suite());
}
