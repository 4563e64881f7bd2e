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

static struct tcp_opts ts_opts(uint32_t ecr)
{
	return (struct tcp_opts){ .has_ts = true, .ts_val = peer_ts, .ts_ecr = ecr };
}

/* A passive open to discard with MSS, wscale 7, SACK and TSopt; returns
 * the stack's TSval in its SYN-ACK. */
static uint32_t ts_handshake(struct tcph *h, void (*cfg)(struct tl_config *))
{
	struct tcp_opts o = { .has_mss = true, .mss = MSS, .has_wscale = true, .wscale = 7,
			      .has_sack_perm = true, .has_ts = true, .ts_val = peer_ts };

	tcph_init(h, cfg);
	tcph_listen(h, 9);
	h->peer.piss = PISS;
	tcph_send_opts(h, TCP_SYN, PISS, 0, 65535, NULL, 0, &o);
	struct seg *g = tcph_expect(h, "SYN-ACK", TCP_SYN | TCP_ACK, ANY, PISS + 1, 0);
	h->peer.iss = g->h.seq;
	ck_assert_msg(g->h.opts.has_ts, "RFC 7323 3.2: a SYN with TSopt gets a SYN-ACK with one");
	ck_assert_uint_eq(g->h.opts.ts_ecr, peer_ts);
	uint32_t theirs = g->h.opts.ts_val;
	struct tcp_opts a = ts_opts(theirs);
	tcph_send_opts(h, TCP_ACK, PISS + 1, h->peer.iss + 1, 512, NULL, 0, &a);
	return theirs;
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
		struct seg *g = tcph_expect(&h, "data", TCP_ACK | (i == 2 ? TCP_PSH : 0),
					    h.peer.iss + 1 + (uint32_t)i * ROOM, PISS + 1, ROOM);
		ck_assert_msg(g->h.opts.has_ts, "RFC 7323 3.2: TSopt in every segment");
		ck_assert_uint_eq(g->h.opts.ts_ecr, peer_ts);
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
	struct tcp_opts o = { .has_mss = true, .mss = MSS, .has_ts = true, .ts_val = peer_ts };

	tcph_init(&h, no_ts);
	tcph_listen(&h, 9);
	tcph_send_opts(&h, TCP_SYN, PISS, 0, 65535, NULL, 0, &o);
	struct seg *g = tcph_expect(&h, "SYN-ACK", TCP_SYN | TCP_ACK, ANY, PISS + 1, 0);
	ck_assert_msg(!g->h.opts.has_ts, "--timestamps off: no TSopt");
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
	struct tcp_opts now = ts_opts(theirs);
	tcph_send_opts(&h, TCP_ACK | TCP_PSH, PISS + 1, h.peer.iss + 1, 512, "new", 3, &now);
	ck_assert_uint_eq(tcb(&h)->ts.recent, peer_ts);
	tcph_drain(&h);
	struct tcp_opts old = ts_opts(theirs);
	old.ts_val = peer_ts - 100;
	tcph_send_opts(&h, TCP_ACK | TCP_PSH, PISS + 4, h.peer.iss + 1, 512, "old", 3, &old);
	tcph_expect(&h, "an ACK for the old duplicate", TCP_ACK, h.peer.iss + 1, PISS + 4, 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_paws, 1);
	ck_assert_uint_eq(tcb(&h)->rcv_nxt, PISS + 4);
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
		struct tcp_opts a = ts_opts(theirs);
		tcph_send_opts(&h, TCP_ACK, PISS + 1, h.peer.iss + 1 + i * ROOM, 512, NULL, 0, &a);
		srtt[i - 1] = c->rtt.srtt_us;
	}
	ck_assert_uint_eq(srtt[0], 10000); /* the first: 10 ms */
	ck_assert_uint_gt(srtt[1], srtt[0]); /* each ACK moved it: 20 ms, 30 ms */
	ck_assert_uint_gt(srtt[2], srtt[1]);
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
	struct seg *g = tcph_expect(&h, "first segment", TCP_ACK, h.peer.iss + 1, PISS + 1, ROOM);
	uint32_t first_ts = g->h.opts.ts_val;
	tcph_drain(&h);
	uint32_t cwnd = c->cong.cwnd;
	tcph_advance(&h, c->rtt.rto_us / 1000);
	tcph_expect(&h, "the RTO", TCP_ACK, h.peer.iss + 1, PISS + 1, ROOM);
	ck_assert_uint_eq(c->cong.cwnd, ROOM); /* one segment: SMSS is the MSS less TSopt */
	struct tcp_opts a = ts_opts(first_ts); /* echoes the original, not the resend */
	(void)theirs;
	tcph_send_opts(&h, TCP_ACK, PISS + 1, h.peer.iss + 1 + 2 * ROOM, 512, NULL, 0, &a);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_spurious_rto, 1);
	ck_assert_uint_ge(c->cong.cwnd, cwnd);
	ck_assert(c->rec.state == TCP_REC_OPEN);
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
	struct seg *g = tcph_expect(&h, "the RTO", TCP_ACK, h.peer.iss + 1, PISS + 1, ROOM);
	struct tcp_opts a = ts_opts(g->h.opts.ts_val);
	tcph_send_opts(&h, TCP_ACK, PISS + 1, h.peer.iss + 1 + ROOM, 512, NULL, 0, &a);
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

	struct tcp_opts a = ts_opts(theirs);
	tcph_send_opts(&h, TCP_ACK | TCP_PSH, PISS + 1, h.peer.iss + 1, 512, blob, 100, &a);
	tcph_drain(&h);
	tcph_send_opts(&h, TCP_ACK | TCP_PSH, PISS + 1, h.peer.iss + 1, 512, blob, 100, &a);
	struct seg *g = tcph_expect(&h, "ACK with a D-SACK", TCP_ACK, h.peer.iss + 1, PISS + 101, 0);
	ck_assert_uint_eq(g->h.opts.sack_n, 1);
	ck_assert_uint_eq(g->h.opts.sack[0][0], PISS + 1);
	ck_assert_uint_eq(g->h.opts.sack[0][1], PISS + 101);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_dsack_out, 1);
	/* Reported once: the next ACK carries no block. */
	tcph_send_opts(&h, TCP_ACK | TCP_PSH, PISS + 101, h.peer.iss + 1, 512, blob, 10, &a);
	tcph_advance(&h, 40);
	g = tcph_expect(&h, "a plain ACK", TCP_ACK, h.peer.iss + 1, PISS + 111, 0);
	ck_assert_uint_eq(g->h.opts.sack_n, 0);
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
	struct tcp_opts a = ts_opts(theirs);

	tcph_send_opts(&h, TCP_ACK | TCP_FIN, PISS + 201, h.peer.iss + 1, 512, blob, 100, &a);
	struct seg *g = tcph_expect(&h, "ACK for data and FIN past a hole", TCP_ACK, h.peer.iss + 1,
				    PISS + 1, 0);
	ck_assert_uint_eq(g->h.opts.sack_n, 1);
	ck_assert_uint_eq(g->h.opts.sack[0][0], PISS + 201);
	ck_assert_uint_eq(g->h.opts.sack[0][1], PISS + 302);
	tcph_send_opts(&h, TCP_ACK | TCP_PSH, PISS + 1, h.peer.iss + 1, 512, blob, 200, &a);
	tcph_expect(&h, "the hole filled: data and FIN acknowledged", TCP_ACK, h.peer.iss + 1,
		    PISS + 302, 0);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSE_WAIT);
	tcph_free(&h);

	theirs = ts_handshake(&h, NULL);
	a = ts_opts(theirs);
	tcph_send_opts(&h, TCP_ACK | TCP_FIN, PISS + 101, h.peer.iss + 1, 512, NULL, 0, &a);
	g = tcph_expect(&h, "ACK for a FIN alone past a hole", TCP_ACK, h.peer.iss + 1, PISS + 1, 0);
	ck_assert_uint_eq(g->h.opts.sack_n, 1);
	ck_assert_uint_eq(g->h.opts.sack[0][0], PISS + 101);
	ck_assert_uint_eq(g->h.opts.sack[0][1], PISS + 102);
	tcph_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_timestamps");
	TCase *t = tcase_create("rfc7323");

	for (size_t i = 0; i < sizeof blob; i++)
		blob[i] = (uint8_t)(i * 7 + i / 999);
	tcase_add_test(t, negotiated_and_in_every_segment);
	tcase_add_test(t, off_means_none);
	tcase_add_test(t, paws_drops_old_duplicate);
	tcase_add_test(t, rtt_sample_from_every_ack);
	tcase_add_test(t, eifel_undoes_spurious_timeout);
	tcase_add_test(t, eifel_keeps_real_timeout);
	tcase_add_test(t, dsack_reports_a_duplicate);
	tcase_add_test(t, sack_covers_a_held_fin);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
