/* Timestamps in virtual time: RFC 7323 3.2 (negotiation, TSopt in every
 * segment), 4.3 (TS.Recent), 5.3 (PAWS), 4.2 and appendix G (an RTT sample
 * from every ACK), and RFC 3522 (Eifel: a spurious timeout undone). */
#include <string.h>

#include "tcp/tcp.h"
#include "tcph.h"
#include "../check_run.h"

#define PISS 9000u
#define MSS 1460u
#define ROOM (MSS - 12) /* TSopt takes 12 bytes of each segment */

static uint8_t blob[256 * 1024];

/* The peer's TSval clock, in its own ticks. */
static uint32_t peer_ts = 5000;

/* The peer's TSopt: its clock, echoing ecr. */
#define TS(ecr) .ts = true, .ts_val = peer_ts, .ts_ecr = (ecr)

/* A passive open to discard with MSS, wscale 7, SACK and TSopt; returns
 * the stack's TSval in its SYN-ACK. */
static uint32_t ts_handshake(struct tcph *h, void (*cfg)(struct tl_config *))
{
	tcph_init(h, cfg);
	/* RFC 7323 3.2: a SYN with TSopt gets a SYN-ACK with one, echoing it. */
	return tcph_accept(h, 9, PISS, .mss = MSS, .wscale = 7, .sack_perm = true,
			   TS(0))->h.opts.ts_val;
}

static struct tl_tcp *tcb(struct tcph *h)
{
	return tcp_lookup(h->s, PEER_ADDR, PEER_PORT, h->port);
}

START_TEST(negotiated_and_in_every_segment)
{
	struct tcph h;

	ts_handshake(&h, NULL);
	ck_assert(tcb(&h)->ts.ok);
	tl_tcp_send(h.conn, blob, 3 * ROOM);
	for (int i = 0; i < 3; i++) {
		/* RFC 7323 3.2: TSopt in every segment. */
		tcph_out(&h, "data", .flags = TCP_ACK | (i == 2 ? TCP_PSH : 0),
			 .seq = 1 + (uint32_t)i * ROOM, .ack = 1, .len = ROOM, .ts = 1,
			 .ts_ecr = peer_ts);
	}
	tcph_free(&h);
}
END_TEST

static void no_ts(struct tl_config *c) { c->tcp_timestamps = 0; }
/* The RTO itself, without a tail loss probe first (RFC 8985 7.2). */
static void no_tlp(struct tl_config *c) { c->tcp_tlp = 0; }

START_TEST(off_means_none)
{
	struct tcph h;

	tcph_init(&h, no_ts);
	tcph_listen(&h, 9);
	h.peer.piss = PISS;
	tcph_in(&h, .flags = TCP_SYN, .mss = MSS, TS(0));
	/* --timestamps off: no TSopt. */
	tcph_out(&h, "SYN-ACK", .flags = TCP_SYN | TCP_ACK, .ack = 1, .len = 0, .ts = TCPH_NONE);
	tcph_free(&h);
}
END_TEST

/* RFC 7323 5.3 R1: a segment whose TSval is older than TS.Recent is an old
 * duplicate: dropped (counted) and answered with an ACK, its data unread. */
START_TEST(paws_drops_old_duplicate)
{
	struct tcph h;
	uint32_t theirs = ts_handshake(&h, NULL);

	peer_ts += 10;
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 1, .data = "new", .len = 3, TS(theirs));
	ck_assert_uint_eq(tcb(&h)->ts.recent, peer_ts);
	tcph_drain(&h);
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 4, .data = "old", .len = 3,
		TS(theirs), .ts_val = peer_ts - 100);
	tcph_out(&h, "an ACK for the old duplicate", .flags = TCP_ACK, .seq = 1, .ack = 4,
		 .len = 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_paws, 1);
	ck_assert_uint_eq(tcb(&h)->rcv_nxt, tcph_rcv_abs(&h, 4));
	tcph_free(&h);
}
END_TEST

/* RFC 7323 4.2 and appendix G: with timestamps every ACK of new data is an
 * RTT sample, not one per round trip. */
START_TEST(rtt_sample_from_every_ack)
{
	struct tcph h;
	uint32_t theirs = ts_handshake(&h, NULL);
	struct tl_tcp *c = tcb(&h);

	tl_tcp_send(h.conn, blob, 10 * ROOM);
	tcph_drain(&h);
	c->rtt.srtt_us = 0;
	uint32_t srtt[3];
	for (uint32_t i = 1; i <= 3; i++) {
		tcph_advance(&h, 10);
		tcph_in(&h, .seq = 1, .ack = 1 + i * ROOM, TS(theirs));
		srtt[i - 1] = c->rtt.srtt_us;
	}
	ck_assert_uint_eq(srtt[0], 10000); /* the first: 10 ms */
	ck_assert_uint_gt(srtt[1], srtt[0]); /* each ACK moved it: 20 ms, 30 ms */
	ck_assert_uint_gt(srtt[2], srtt[1]);
	tcph_free(&h);
}
END_TEST

/* RFC 7323 appendix G: with a sample from every ACK, RFC 6298 2.3's gains
 * are divided by the samples expected per round trip, n = FlightSize / (2
 * SMSS) rounded up, so that a window's worth of ACKs moves SRTT and RTTVAR
 * as much as one sample per round trip would. */
START_TEST(rtt_gains_divided_per_window)
{
	struct tcph h;
	uint32_t theirs = ts_handshake(&h, NULL);
	struct tl_tcp *c = tcb(&h);

	tl_tcp_send(h.conn, blob, 10 * ROOM);
	tcph_drain(&h);
	c->rtt.srtt_us = 0;
	tcph_advance(&h, 10);
	tcph_in(&h, .seq = 1, .ack = 1 + ROOM, TS(theirs));
	ck_assert_uint_eq(c->rtt.srtt_us, 10000); /* RFC 6298 2.2: the first one */
	ck_assert_uint_eq(c->rtt.rttvar_us, 5000);
	tcph_advance(&h, 10);
	/* 20 ms with 8 segments still in flight: n = 4, alpha 1/32, beta 1/16. */
	tcph_in(&h, .seq = 1, .ack = 1 + 2 * ROOM, TS(theirs));
	ck_assert_uint_eq(c->rtt.rttvar_us, 5000 + (10000 - 5000) / 16);
	ck_assert_uint_eq(c->rtt.srtt_us, 10000 + 10000 / 32);
	tcph_free(&h);
}
END_TEST

/* RFC 3522 2 and RFC 4015: the RTO fires, but the first ACK after it
 * echoes the TSval of the original transmission: it was only slow. The
 * reduction is taken back. */
START_TEST(eifel_undoes_spurious_timeout)
{
	struct tcph h;
	uint32_t theirs = ts_handshake(&h, no_tlp);
	struct tl_tcp *c = tcb(&h);

	tl_tcp_send(h.conn, blob, 10 * ROOM);
	struct seg *g = tcph_out(&h, "first segment", .flags = TCP_ACK, .seq = 1, .ack = 1,
				 .len = ROOM);
	uint32_t first_ts = g->h.opts.ts_val;
	tcph_drain(&h);
	uint32_t cwnd = c->cong.cwnd;
	tcph_advance(&h, c->rtt.rto_us / 1000);
	tcph_out(&h, "the RTO", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = ROOM);
	ck_assert_uint_eq(c->cong.cwnd, ROOM); /* one segment: SMSS is the MSS less TSopt */
	(void)theirs;
	/* It echoes the original, not the resend. */
	tcph_in(&h, .seq = 1, .ack = 1 + 2 * ROOM, TS(first_ts));
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_spurious_rto, 1);
	ck_assert_uint_ge(c->cong.cwnd, cwnd);
	ck_assert(c->fl->rec.state == TCP_REC_OPEN);
	tcph_free(&h);
}
END_TEST

/* The same timeout with the ACK echoing the retransmission: a real loss. */
START_TEST(eifel_keeps_real_timeout)
{
	struct tcph h;
	ts_handshake(&h, no_tlp);
	struct tl_tcp *c = tcb(&h);

	tl_tcp_send(h.conn, blob, 10 * ROOM);
	tcph_drain(&h);
	tcph_advance(&h, c->rtt.rto_us / 1000);
	struct seg *g = tcph_out(&h, "the RTO", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = ROOM);
	tcph_in(&h, .seq = 1, .ack = 1 + ROOM, TS(g->h.opts.ts_val));
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_spurious_rto, 0);
	ck_assert_uint_lt(c->cong.cwnd, 4 * MSS);
	tcph_free(&h);
}
END_TEST

/* RFC 2883 4: a segment that arrives again (its ACK was lost, the sender
 * resent it) is reported in the first SACK block of the ACK it causes. */
START_TEST(dsack_reports_a_duplicate)
{
	struct tcph h;
	uint32_t theirs = ts_handshake(&h, NULL);

	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 1, .data = blob, .len = 100, TS(theirs));
	tcph_drain(&h);
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 1, .data = blob, .len = 100, TS(theirs));
	tcph_out(&h, "ACK with a D-SACK", .flags = TCP_ACK, .seq = 1, .ack = 101, .len = 0,
		 .sack_n = 1, .sack = { { 1, 101 } });
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_dsack_out, 1);
	/* Reported once: the next ACK carries no block. */
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 101, .data = blob, .len = 10, TS(theirs));
	tcph_advance(&h, 40);
	tcph_out(&h, "a plain ACK", .flags = TCP_ACK, .seq = 1, .ack = 111, .len = 0, .sack_n = 0);
	tcph_free(&h);
}
END_TEST

/* RFC 9293 3.4: the FIN takes a sequence number; held beyond a hole
 * (3.10.7.4), RFC 2018 4's blocks cover it, as Linux's do: with the data
 * before it, or alone. Once the hole fills, the ACK covers it. */
START_TEST(sack_covers_a_held_fin)
{
	struct tcph h;
	uint32_t theirs = ts_handshake(&h, NULL);

	tcph_in(&h, .flags = TCP_ACK | TCP_FIN, .seq = 201, .data = blob, .len = 100, TS(theirs));
	tcph_out(&h, "ACK for data and FIN past a hole", .flags = TCP_ACK, .seq = 1, .ack = 1,
		 .len = 0, .sack_n = 1, .sack = { { 201, 302 } });
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 1, .data = blob, .len = 200, TS(theirs));
	tcph_out(&h, "the hole filled: data and FIN acknowledged", .flags = TCP_ACK, .seq = 1,
		 .ack = 302, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSE_WAIT);
	tcph_free(&h);

	theirs = ts_handshake(&h, NULL);
	tcph_in(&h, .flags = TCP_ACK | TCP_FIN, .seq = 101, TS(theirs));
	tcph_out(&h, "ACK for a FIN alone past a hole", .flags = TCP_ACK, .seq = 1, .ack = 1,
		 .len = 0, .sack_n = 1, .sack = { { 101, 102 } });
	tcph_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_timestamps");
	TCase *rtt = tcase_create("rtt");
	TCase *t = tcase_create("rfc7323");

	for (size_t i = 0; i < sizeof blob; i++)
		blob[i] = (uint8_t)(i * 7 + i / 999);
	tcase_set_tags(rtt, "checkpoint5"); /* tools/checkpoint test 5 */
	tcase_add_test(rtt, rtt_gains_divided_per_window);
	tcase_add_test(t, negotiated_and_in_every_segment);
	tcase_add_test(t, off_means_none);
	tcase_add_test(t, paws_drops_old_duplicate);
	tcase_add_test(t, rtt_sample_from_every_ack);
	tcase_add_test(t, eifel_undoes_spurious_timeout);
	tcase_add_test(t, eifel_keeps_real_timeout);
	tcase_add_test(t, dsack_reports_a_duplicate);
	tcase_add_test(t, sack_covers_a_held_fin);
	suite_add_tcase(s, rtt);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
