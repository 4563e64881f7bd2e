/* Retransmission and congestion control in virtual time: RFC 6298 timers,
 * RFC 5681 slow start, congestion avoidance and fast retransmit, RFC 6582
 * NewReno, zero-window persist, and abort after too many retries. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"
#include "tcph.h"
#include "../check_run.h"

#define PISS 7000u
#define MSS 1460u

static uint8_t blob[512 * 1024];

/* These tests check RFC 5681's arithmetic: Reno, not the default CUBIC. */
static void reno(struct tl_config *c) { c->tcp_cc = TL_CC_RENO; }

static struct tl_tcp *tcb(struct tcph *h)
{
	return tcp_lookup(h->s, PEER_ADDR, PEER_PORT, h->port);
}

/* The peer acknowledges up to our byte off (relative), window wnd<<7. */
static void ack_to(struct tcph *h, uint32_t off, uint16_t wnd)
{
	tcph_in(h, .seq = 1, .ack = 1 + off, .wnd = wnd);
}

/* Pops n full segments starting at relative offset off. */
static void expect_segments(struct tcph *h, const char *step, uint32_t off, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		tcph_out(h, step, .flags = TCP_ACK, .seq = 1 + off + i * MSS, .ack = 1, .len = MSS);
}

static void established_sender(struct tcph *h, uint32_t bytes)
{
	tcph_init(h, reno);
	tcph_handshake(h, 9, PISS);
	ck_assert_int_eq(tl_tcp_send(h->conn, blob, bytes), (ssize_t)bytes);
}

START_TEST(rto_arithmetic_rfc6298)
{
	struct tcph h;

	established_sender(&h, 0);
	struct tl_tcp *c = tcb(&h);
	/* The handshake gave the first sample (0 us here): start clean. */
	c->rtt.srtt_us = 0;
	/* 2.2: first sample R: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4*RTTVAR. */
	tcp_rtt_sample(c, 100000);
	ck_assert_uint_eq(c->rtt.srtt_us, 100000);
	ck_assert_uint_eq(c->rtt.rttvar_us, 50000);
	ck_assert_uint_eq(c->rtt.rto_us, 300000);
	/* 2.3: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, SRTT = 7/8 SRTT + 1/8 R. */
	tcp_rtt_sample(c, 200000);
	ck_assert_uint_eq(c->rtt.rttvar_us, (3 * 50000 + 100000) / 4);
	ck_assert_uint_eq(c->rtt.srtt_us, (7 * 100000 + 200000) / 8);
	ck_assert_uint_eq(c->rtt.rto_us, c->rtt.srtt_us + 4 * c->rtt.rttvar_us);
	/* The floor (200 ms, like Linux) and the ceiling (60 s). */
	for (int i = 0; i < 50; i++)
		tcp_rtt_sample(c, 1000);
	ck_assert_uint_eq(c->rtt.rto_us, h.cfg.tcp_rto_min_ms * 1000u);
	tcp_rtt_sample(c, 200000000);
	ck_assert_uint_eq(c->rtt.rto_us, h.cfg.tcp_rto_max_ms * 1000u);
	tcph_free(&h);
}
END_TEST

START_TEST(rto_backoff_and_abort)
{
	struct tcph h;

	established_sender(&h, 100);
	tcph_out(&h, "data", .flags = TCP_ACK | TCP_PSH, .seq = 1, .ack = 1, .len = 100);
	uint32_t rto = tcb(&h)->rtt.rto_us / 1000;
	/* 5.4-5.6: on each expiry resend the first segment and double the RTO,
	 * up to the ceiling; after tcp_max_retries the connection is aborted. */
	for (uint32_t i = 0; i < h.cfg.tcp_max_retries; i++) {
		tcph_advance(&h, rto - 1);
		tcph_expect_nothing(&h, "before the RTO");
		tcph_advance(&h, 1);
		tcph_out(&h, "retransmission", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 100);
		rto = rto * 2 > h.cfg.tcp_rto_max_ms ? h.cfg.tcp_rto_max_ms : rto * 2;
	}
	ck_assert_uint_eq(rto, h.cfg.tcp_rto_max_ms);
	tcph_advance(&h, rto);
	ck_assert_int_eq(h.closed, 1);
	ck_assert_int_eq(h.closed_err, -ETIMEDOUT);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_timeouts, 1);
	tcph_free(&h);
}
END_TEST

START_TEST(karn_no_sample_from_retransmission)
{
	struct tcph h;

	established_sender(&h, 100);
	tcph_out(&h, "data", .flags = TCP_ACK | TCP_PSH, .seq = 1, .ack = 1, .len = 100);
	struct tl_tcp *c = tcb(&h);
	uint32_t srtt = c->rtt.srtt_us, rto = c->rtt.rto_us;
	tcph_advance(&h, rto / 1000);
	tcph_out(&h, "retransmission", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 100);
	tcph_advance(&h, 50);
	ack_to(&h, 100, 512);
	/* The ACK is ambiguous: no sample, and the backed-off RTO stays. */
	ck_assert_uint_eq(c->rtt.srtt_us, srtt);
	ck_assert_uint_eq(c->rtt.rto_us, 2 * rto);
	/* A fresh segment is timed again: 30 ms. */
	tl_tcp_send(h.conn, blob, 10);
	tcph_out(&h, "new data", .flags = TCP_ACK | TCP_PSH, .seq = 101, .ack = 1, .len = 10);
	tcph_advance(&h, 30);
	ack_to(&h, 110, 512);
	ck_assert_uint_ne(c->rtt.srtt_us, srtt);
	tcph_free(&h);
}
END_TEST

/* RFC 6298 5.5 and 5.7: each expiry doubles the RTO, which stays backed
 * off (Karn: the ACK of a resent segment is no sample) until a segment sent
 * once is acknowledged; then it is computed afresh (2.3). */
START_TEST(backoff_until_a_new_sample)
{
	struct tcph h;

	established_sender(&h, 100);
	tcph_out(&h, "data", .flags = TCP_ACK | TCP_PSH, .seq = 1, .ack = 1, .len = 100);
	struct tl_tcp *c = tcb(&h);
	uint32_t rto = c->rtt.rto_us;
	tcph_advance(&h, rto / 1000);
	tcph_out(&h, "first retransmission", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 100);
	ck_assert_uint_eq(c->rtt.rto_us, 2 * rto);
	tcph_advance(&h, 2 * rto / 1000);
	tcph_out(&h, "second retransmission", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 100);
	ck_assert_uint_eq(c->rtt.rto_us, 4 * rto);
	ack_to(&h, 100, 512);
	ck_assert_uint_eq(c->rtt.rto_us, 4 * rto);
	tl_tcp_send(h.conn, blob, 10);
	tcph_out(&h, "new data", .flags = TCP_ACK | TCP_PSH, .seq = 101, .ack = 1, .len = 10);
	tcph_advance(&h, 30);
	ack_to(&h, 110, 512);
	uint32_t k = 4 * c->rtt.rttvar_us > 1000 ? 4 * c->rtt.rttvar_us : 1000;
	uint32_t want = c->rtt.srtt_us + k;
	if (want < h.cfg.tcp_rto_min_ms * 1000u)
		want = h.cfg.tcp_rto_min_ms * 1000u;
	ck_assert_uint_eq(c->rtt.rto_us, want);
	tcph_free(&h);
}
END_TEST

START_TEST(fin_retransmitted)
{
	struct tcph h;

	tcph_init(&h, reno);
	tcph_handshake(&h, 9, PISS);
	tl_tcp_close(h.conn);
	tcph_out(&h, "FIN", .flags = TCP_FIN | TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	tcph_advance(&h, h.cfg.tcp_rto_min_ms > 1000 ? h.cfg.tcp_rto_min_ms : 1000);
	tcph_out(&h, "FIN again", .flags = TCP_FIN | TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	tcph_free(&h);
}
END_TEST

START_TEST(syn_ack_retransmitted)
{
	struct tcph h;

	tcph_init(&h, reno);
	tcph_listen(&h, 9);
	h.peer.piss = PISS;
	tcph_in(&h, .flags = TCP_SYN, .seq = 0);
	tcph_out(&h, "SYN-ACK", .flags = TCP_SYN | TCP_ACK, .ack = 1, .len = 0);
	tcph_advance(&h, h.cfg.tcp_rto_init_ms);
	tcph_out(&h, "SYN-ACK again", .flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1, .len = 0);
	tcph_free(&h);
}
END_TEST

START_TEST(slow_start_then_congestion_avoidance)
{
	struct tcph h;

	established_sender(&h, 200 * 1024);
	struct tl_tcp *c = tcb(&h);
	ck_assert_uint_eq(c->cong.cwnd, 10 * MSS); /* RFC 6928 */
	expect_segments(&h, "IW", 0, 10);
	tcph_expect_nothing(&h, "cwnd is full");
	/* Slow start: each ACK of one segment adds one MSS (RFC 5681 3.1). */
	ack_to(&h, MSS, 512);
	ck_assert_uint_eq(c->cong.cwnd, 11 * MSS);
	expect_segments(&h, "two more", 10 * MSS, 2);
	/* An ACK of two segments adds two (RFC 3465 2.2). */
	ack_to(&h, 3 * MSS, 512);
	ck_assert_uint_eq(c->cong.cwnd, 13 * MSS);
	tcph_drain(&h);
	/* A stretch ACK of five (what GRO and TSO make) adds five: the round
	 * still doubles cwnd (RFC 3465 2.3, as Linux counts). */
	ack_to(&h, 8 * MSS, 512);
	ck_assert_uint_eq(c->cong.cwnd, 18 * MSS);
	tcph_drain(&h);
	/* Above ssthresh: one MSS per cwnd's worth of bytes acknowledged
	 * (RFC 5681 3.1), however many ACKs carry them. */
	c->cong.ssthresh = c->cong.cwnd;
	uint32_t cw = c->cong.cwnd;
	ack_to(&h, 9 * MSS, 512);
	ck_assert_uint_eq(c->cong.cwnd, cw);
	ack_to(&h, 9 * MSS + cw - 2 * MSS, 512); /* a stretch ACK: 16 segments */
	ck_assert_uint_eq(c->cong.cwnd, cw);
	ack_to(&h, 9 * MSS + cw, 512);
	ck_assert_uint_eq(c->cong.cwnd, cw + MSS);
	tcph_free(&h);
}
END_TEST

START_TEST(fast_retransmit_and_newreno)
{
	struct tcph h;

	established_sender(&h, 200 * 1024);
	struct tl_tcp *c = tcb(&h);
	expect_segments(&h, "IW", 0, 10);
	/* Segments 1 and 4 (counting from 0) are lost; the peer ACKs segment 0,
	 * then sends a duplicate ACK for each later segment. */
	ack_to(&h, MSS, 512);
	tcph_drain(&h);
	/* RFC 3042: the first two duplicates each release one new segment. */
	ack_to(&h, MSS, 512);
	expect_segments(&h, "limited transmit", 12 * MSS, 1);
	ack_to(&h, MSS, 512);
	expect_segments(&h, "limited transmit", 13 * MSS, 1);
	ck_assert_uint_eq((c->fl->rec.state == TCP_REC_FAST), false);
	uint32_t flight = c->snd_max - c->snd_una, cwnd = c->cong.cwnd;
	ack_to(&h, MSS, 512);
	/* RFC 5681 3.2: the third duplicate: resend segment 1, halve, inflate;
	 * ssthresh "no more than" FlightSize / 2, which limited transmit (RFC
	 * 3042) pushed past cwnd: half of cwnd. */
	tcph_out(&h, "fast retransmit", .flags = TCP_ACK, .seq = 1 + MSS, .ack = 1, .len = MSS);
	ck_assert((c->fl->rec.state == TCP_REC_FAST));
	ck_assert_uint_eq(c->cong.ssthresh, (flight < cwnd ? flight : cwnd) / 2);
	ck_assert_uint_eq(c->cong.cwnd, c->cong.ssthresh + 3 * MSS);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_fast_rexmit, 1);
	tcph_drain(&h);
	/* RFC 6582 3.2 step 5: a partial ACK (up to segment 4) resends segment 4
	 * at once and stays in recovery. */
	ack_to(&h, 4 * MSS, 512);
	tcph_out(&h, "partial ACK: next hole", .flags = TCP_ACK, .seq = 1 + 4 * MSS, .ack = 1,
		 .len = MSS);
	ck_assert((c->fl->rec.state == TCP_REC_FAST));
	tcph_drain(&h);
	/* A full ACK (past recover) ends recovery with cwnd = min(ssthresh, flight + MSS). */
	uint32_t ss = c->cong.ssthresh;
	ack_to(&h, tcph_snd_rel(&h, c->recover) - 1, 512);
	ck_assert(!(c->fl->rec.state == TCP_REC_FAST));
	ck_assert_uint_le(c->cong.cwnd, ss);
	tcph_free(&h);
}
END_TEST

START_TEST(rto_collapses_cwnd)
{
	struct tcph h;

	established_sender(&h, 100 * 1024);
	struct tl_tcp *c = tcb(&h);
	expect_segments(&h, "IW", 0, 10);
	uint32_t flight = c->snd_max - c->snd_una;
	tcph_advance(&h, c->rtt.rto_us / 1000);
	/* RFC 5681 (4): ssthresh = max(FlightSize/2, 2*SMSS); cwnd = 1 MSS;
	 * then one segment, the first unacknowledged one. */
	ck_assert_uint_eq(c->cong.ssthresh, flight / 2);
	ck_assert_uint_eq(c->cong.cwnd, MSS);
	tcph_out(&h, "RTO retransmission", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = MSS);
	tcph_expect_nothing(&h, "one segment only");
	/* Slow start again from one segment. */
	ack_to(&h, MSS, 512);
	ck_assert_uint_eq(c->cong.cwnd, 2 * MSS);
	tcph_free(&h);
}
END_TEST

/* RFC 5681 3.1 (4): ssthresh is never below two segments. */
START_TEST(ssthresh_at_least_two_segments)
{
	struct tcph h;

	established_sender(&h, 2 * MSS);
	struct tl_tcp *c = tcb(&h);
	expect_segments(&h, "two segments", 0, 2);
	tcph_advance(&h, c->rtt.rto_us / 1000);
	ck_assert_uint_eq(c->cong.ssthresh, 2 * MSS);
	ck_assert_uint_eq(c->cong.cwnd, MSS);
	tcph_out(&h, "RTO retransmission", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = MSS);
	tcph_expect_nothing(&h, "one segment only");
	tcph_free(&h);
}
END_TEST

START_TEST(never_more_than_the_window_in_flight)
{
	struct tcph h;

	established_sender(&h, 0);
	struct tl_tcp *c = tcb(&h);
	ack_to(&h, 0, 20); /* the peer's window starts at 2560 bytes */
	tl_tcp_send(h.conn, blob, 200 * 1024);
	tcph_drain(&h);
	ck_assert_uint_le(c->snd_max - c->snd_una, 20 * 128);
	for (uint32_t i = 1; i < 40; i++) {
		ack_to(&h, tcph_snd_rel(&h, c->snd_una) - 1 + 100, (uint16_t)(20 + i)); /* window (20+i)*128 */
		tcph_drain(&h);
		uint32_t wnd = (20 + i) * 128;
		uint32_t limit = wnd < c->cong.cwnd ? wnd : c->cong.cwnd;
		ck_assert_msg(c->snd_max - c->snd_una <= limit, "step %u: %u in flight, limit %u", i,
			      c->snd_max - c->snd_una, limit);
	}
	tcph_free(&h);
}
END_TEST

START_TEST(zero_window_persist)
{
	struct tcph h;

	established_sender(&h, 0);
	struct tl_tcp *c = tcb(&h);
	tcph_in(&h, .seq = 1, .wnd = 0); /* window 0 */
	tl_tcp_send(h.conn, blob, 5000);
	tcph_expect_nothing(&h, "nothing goes into a zero window");
	/* RFC 9293 3.8.6.1: probes, with the interval doubling. */
	uint32_t rto = c->rtt.rto_us / 1000;
	for (int i = 0; i < 4; i++) {
		tcph_advance(&h, rto - 1);
		tcph_expect_nothing(&h, "before the probe");
		tcph_advance(&h, 1);
		tcph_out(&h, "probe", .flags = TCP_ACK, .seq = 0, .ack = 1, .len = 0);
		/* The peer answers, still closed: the connection lives on. */
		tcph_in(&h, .seq = 1, .wnd = 0);
		rto *= 2;
	}
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_persist_probes, 4);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	/* The window opens: sending resumes at once, from the first byte. */
	tcph_in(&h, .seq = 1);
	struct seg *g = tcph_out(&h, "resume", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = MSS);
	ck_assert_mem_eq(g->data, blob, MSS);
	tcph_free(&h);
}
END_TEST

START_TEST(nagle_and_nodelay)
{
	struct tcph h;

	established_sender(&h, 10);
	tcph_out(&h, "first small segment goes", .flags = TCP_ACK | TCP_PSH, .seq = 1, .ack = 1,
		 .len = 10);
	tl_tcp_send(h.conn, blob, 10);
	tcph_expect_nothing(&h, "Nagle: small data waits while data is unacked");
	ack_to(&h, 10, 512);
	tcph_out(&h, "sent on the ACK", .flags = TCP_ACK | TCP_PSH, .seq = 11, .ack = 1, .len = 10);
	tl_tcp_set_nodelay(h.conn, true);
	tl_tcp_send(h.conn, blob, 10);
	tcph_out(&h, "nodelay: at once", .flags = TCP_ACK | TCP_PSH, .seq = 21, .ack = 1,
		 .len = 10);
	tcph_free(&h);
}
END_TEST

START_TEST(sender_sws_avoidance)
{
	struct tcph h;

	established_sender(&h, 0);
	/* The peer offers a window of 1000 bytes (wscale 7: field 7 = 896). */
	tcph_in(&h, .seq = 1, .wnd = 7);
	tl_tcp_send(h.conn, blob, 10000);
	/* Nothing in flight and half the largest window seen is more than 896:
	 * only the override (persist) timer may push a small segment. */
	struct tl_tcp *c = tcb(&h);
	c->max_snd_wnd = 65535;
	tcph_drain(&h);
	tcph_in(&h, .seq = 1, .wnd = 7);
	tcph_expect_nothing(&h, "no tiny segment");
	tcph_advance(&h, c->rtt.rto_us / 1000);
	tcph_out(&h, "override timeout", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 896);
	tcph_free(&h);
}
END_TEST

START_TEST(sack_blocks_in_dup_acks)
{
	struct tcph h;

	tcph_init(&h, reno);
	struct seg *g = tcph_accept(&h, 9, PISS, .mss = MSS, .sack_perm = true);
	ck_assert(g->h.opts.has_sack_perm);
	tcph_in(&h, .seq = 1001, .data = blob, .len = 500);
	tcph_out(&h, "dup ACK with SACK", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0,
		 .sack_n = 1, .sack = { { 1001, 1501 } });
	tcph_in(&h, .seq = 3001, .data = blob, .len = 100);
	tcph_out(&h, "latest block first", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0,
		 .sack_n = 2, .sack = { { 3001, 3101 } });
	tcph_free(&h);
}
END_TEST

/* The peer ACKs rel offset ack and SACKs the given [start, end) pairs. */
static void sack_to(struct tcph *h, uint32_t ack, int n, const uint32_t (*blk)[2])
{
	struct tcph_seg s = TCPH_SEG(.seq = 1, .ack = 1 + ack, .wnd = 512);

	for (int i = 0; i < n; i++) {
		s.sack[i][0] = 1 + blk[i][0];
		s.sack[i][1] = 1 + blk[i][1];
	}
	tcph_in_seg(h, s);
}

static void no_tlp(struct tl_config *c)
{
	reno(c);
	c->tcp_tlp = 0;
}
/* The classic path (duplicate ACKs, NewReno, SACK holes) instead of RACK. */
static void classic(struct tl_config *c)
{
	reno(c);
	c->tcp_recovery = TL_RECOVERY_NEWRENO;
}
static void classic_no_tlp(struct tl_config *c)
{
	classic(c);
	no_tlp(c);
}

/* A SACK-permitted connection from the peer to discard, wscale 7. */
static void sack_handshake(struct tcph *h, void (*cfg)(struct tl_config *))
{
	tcph_init(h, cfg ? cfg : reno);
	tcph_accept(h, 9, PISS, .mss = MSS, .wscale = 7, .sack_perm = true);
}

/* The same with 100 segments queued and the initial window sent (and drained). */
static void sack_sender(struct tcph *h, void (*cfg)(struct tl_config *))
{
	sack_handshake(h, cfg);
	tl_tcp_send(h->conn, blob, 100 * MSS);
	tcph_drain(h);
}

/* Segments 1 and 3 lost, 2, 4, 5, 6 SACKed: fast retransmit of 1, then
 * the next hole, 3. The blocks of the last duplicate are b4. */
static const uint32_t b4[][2] = { { 4 * MSS, 7 * MSS }, { 2 * MSS, 3 * MSS } };

static void two_holes_repaired(struct tcph *h)
{
	const uint32_t b1[][2] = { { 2 * MSS, 3 * MSS } };
	const uint32_t b2[][2] = { { 4 * MSS, 5 * MSS }, { 2 * MSS, 3 * MSS } };
	const uint32_t b3[][2] = { { 4 * MSS, 6 * MSS }, { 2 * MSS, 3 * MSS } };
	ack_to(h, MSS, 512); /* segment 0 arrived */
	sack_to(h, MSS, 1, b1);
	sack_to(h, MSS, 2, b2);
	tcph_drain(h); /* new data: cwnd grew, then limited transmit */
	sack_to(h, MSS, 2, b3);
	/* The third duplicate: segment 1 again (RFC 5681 3.2). */
	tcph_out(h, "fast retransmit", .flags = TCP_ACK, .seq = 1 + MSS, .ack = 1, .len = MSS);
	tcph_drain(h);
	/* The next duplicate repairs the next hole, segment 3, not segment 2
	 * which the peer has (RFC 6675 NextSeg). */
	sack_to(h, MSS, 2, b4);
	tcph_out(h, "next hole", .flags = TCP_ACK, .seq = 1 + 3 * MSS, .ack = 1, .len = MSS);
	tcph_drain(h);
}

START_TEST(sack_recovery_repairs_holes)
{
	struct tcph h;

	sack_sender(&h, classic);
	two_holes_repaired(&h);
	/* More duplicates inflate cwnd (RFC 6582) until new data goes out. */
	struct tl_tcp *c = tcb(&h);
	uint32_t mark = c->snd_max;
	for (int i = 0; i < 20 && c->snd_max == mark; i++)
		sack_to(&h, MSS, 2, b4);
	ck_assert_msg(seq_gt(c->snd_max, mark), "no new data during recovery");
	tcph_drain(&h);
	/* That later data is SACKed while segment 1 is still missing: the
	 * retransmission of segment 1 was itself lost. */
	uint32_t later = tcph_snd_rel(&h, c->snd_max) - 1;
	const uint32_t b5[][2] = { { 4 * MSS, later }, { 2 * MSS, 3 * MSS } };
	sack_to(&h, MSS, 2, b5);
	tcph_out(&h, "lost retransmission", .flags = TCP_ACK, .seq = 1 + MSS, .ack = 1, .len = MSS);
	tcph_free(&h);
}
END_TEST

START_TEST(lost_retransmission_seen_by_a_later_hole)
{
	struct tcph h;

	sack_sender(&h, classic);
	two_holes_repaired(&h);
	/* Segment 3, resent after segment 1, arrives (2-6 now one block);
	 * segment 1 does not: its retransmission was lost. Resend it now,
	 * not after a timeout (RFC 8985 6.2 in spirit: sent later, delivered). */
	const uint32_t b5[][2] = { { 2 * MSS, 7 * MSS } };
	sack_to(&h, MSS, 1, b5);
	tcph_out(&h, "lost retransmission", .flags = TCP_ACK, .seq = 1 + MSS, .ack = 1, .len = MSS);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rto, 0);
	tcph_free(&h);
}
END_TEST

START_TEST(after_rto_sacked_dupacks_retransmit)
{
	struct tcph h;

	sack_sender(&h, classic_no_tlp); /* the RTO itself, without a loss probe first */
	struct tl_tcp *c = tcb(&h);
	/* The whole initial window is lost: the timer resends segment 0. */
	tcph_advance(&h, c->rtt.rto_us / 1000);
	tcph_out(&h, "RTO", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = MSS);
	ack_to(&h, MSS, 512);
	expect_segments(&h, "slow start resends 1 and 2", MSS, 2);
	/* The resent 1 is lost, 2 arrives; limited transmit sends 3 and 4 (RFC 3042). */
	const uint32_t s2[][2] = { { 2 * MSS, 3 * MSS } }, s3[][2] = { { 2 * MSS, 4 * MSS } },
		       s4[][2] = { { 2 * MSS, 5 * MSS } };
	sack_to(&h, MSS, 1, s2);
	expect_segments(&h, "limited transmit", 3 * MSS, 1);
	sack_to(&h, MSS, 1, s3);
	expect_segments(&h, "limited transmit", 4 * MSS, 1);
	/* The third: still below recover (RFC 6582 3.2 step 2), but every one
	 * SACKed new data (RFC 6582 4, in SACK form): segment 1 is lost again.
	 * The RTO already cut cwnd for this window: resent, nothing inflated. */
	uint32_t cwnd = c->cong.cwnd, ssthresh = c->cong.ssthresh;
	sack_to(&h, MSS, 1, s4);
	tcph_out(&h, "fast retransmit after the RTO", .flags = TCP_ACK, .seq = 1 + MSS, .ack = 1,
		 .len = MSS);
	tcph_expect_nothing(&h, "one segment only");
	ck_assert_uint_eq(c->cong.cwnd, cwnd);
	ck_assert_uint_eq(c->cong.ssthresh, ssthresh);
	ck_assert(!(c->fl->rec.state == TCP_REC_FAST));
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_fast_rexmit, 1);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rto, 1);
	tcph_free(&h);
}
END_TEST

/* A SACK connection with SRTT 0.5 ms (samples ~0 and 4 ms): bytes queued, the first
 * segment ACKed 4 ms after it went out, what that ACK released drained. */
static struct tl_tcp *timed_sack_sender(struct tcph *h, uint32_t bytes)
{
	sack_handshake(h, NULL);
	tl_tcp_send(h->conn, blob, bytes);
	tcph_drain(h);
	tcph_advance(h, 4);
	ack_to(h, MSS, 512);
	tcph_drain(h);
	struct tl_tcp *c = tcb(h);
	ck_assert_uint_eq(c->rtt.srtt_us, 500); /* 7/8 of the handshake's ~0 + 1/8 of 4 ms */
	return c;
}

START_TEST(tail_loss_probe_sends_new_data)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);

	/* Nothing comes back. RFC 8985 7.2: PTO = max(2 SRTT, 10 ms) = 10 ms,
	 * well before the RTO (200 ms); 7.3: one new segment, past cwnd. */
	uint32_t next = tcph_snd_rel(&h, c->snd_max) - 1;
	tcph_advance(&h, 9);
	tcph_expect_nothing(&h, "1 before the PTO");
	tcph_advance(&h, 1);
	tcph_out(&h, "1 the probe: new data", .flags = TCP_ACK, .seq = 1 + next, .ack = 1,
		 .len = MSS);
	tcph_expect_nothing(&h, "1 one probe only");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_loss_probes, 1);
	/* Still nothing: the RTO, one RTO after the probe (7.3). */
	tcph_advance(&h, c->rtt.rto_us / 1000 - 1);
	tcph_expect_nothing(&h, "2 before the RTO");
	tcph_advance(&h, 1);
	tcph_out(&h, "2 the RTO", .flags = TCP_ACK, .seq = 1 + MSS, .ack = 1, .len = MSS);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rto, 1);
	tcph_free(&h);
}
END_TEST

START_TEST(tail_loss_probe_sacked_starts_recovery)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);

	uint32_t next = tcph_snd_rel(&h, c->snd_max) - 1;
	tcph_advance(&h, 10);
	tcph_out(&h, "the probe", .flags = TCP_ACK, .seq = 1 + next, .ack = 1, .len = MSS);
	/* Only the probe arrives: one duplicate ACK SACKing it. RFC 8985 6.2:
	 * it was sent a PTO after the rest, so the first missing one is lost. */
	const uint32_t p[][2] = { { next, next + MSS } };
	sack_to(&h, MSS, 1, p);
	tcph_out(&h, "fast retransmit on the probe's SACK", .flags = TCP_ACK, .seq = 1 + MSS,
		 .ack = 1, .len = MSS);
	ck_assert((c->fl->rec.state == TCP_REC_FAST));
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_fast_rexmit, 1);
	tcph_free(&h);
}
END_TEST

START_TEST(no_probe_during_recovery)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);

	/* The probe timer is armed; then three duplicates start recovery. */
	ck_assert(c->fl->xtimer == TCP_XT_PTO && c->fl->rto_at != TL_TIME_NEVER);
	const uint32_t a[][2] = { { 2 * MSS, 3 * MSS } }, b[][2] = { { 2 * MSS, 4 * MSS } },
		       d[][2] = { { 2 * MSS, 5 * MSS } };
	sack_to(&h, MSS, 1, a);
	sack_to(&h, MSS, 1, b);
	sack_to(&h, MSS, 1, d);
	ck_assert((c->fl->rec.state == TCP_REC_FAST));
	tcph_drain(&h);
	/* RFC 8985 7.2: no probe in recovery; the RTO is what remains. */
	ck_assert(c->fl->xtimer != TCP_XT_PTO);
	tcph_advance(&h, 10);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_loss_probes, 0);
	tcph_free(&h);
}
END_TEST

START_TEST(no_probe_into_a_zero_window)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);

	/* The peer ACKs two segments and closes its window: persist's job. */
	ack_to(&h, 2 * MSS, 0);
	tcph_drain(&h);
	uint32_t max = c->snd_max;
	tcph_advance(&h, 10);
	tcph_expect_nothing(&h, "no probe past a zero window");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_loss_probes, 0);
	ck_assert_uint_eq(c->snd_max, max);
	tcph_free(&h);
}
END_TEST

/* Three segments, the first ACKed: the probe resends the third (nothing new
 * to send); the peer then ACKs all three, with or without a D-SACK. */
static struct tl_tcp *probe_resends_last(struct tcph *h, bool dsack, uint32_t *cwnd_before)
{
	struct tl_tcp *c = timed_sack_sender(h, 3 * MSS);

	tcph_advance(h, 10);
	tcph_out(h, "the probe: the last segment again", .flags = TCP_ACK | TCP_PSH,
		 .seq = 1 + 2 * MSS, .ack = 1, .len = MSS);
	ck_assert(c->fl->rec.tlp_out && c->fl->rec.tlp_rexmit);
	const uint32_t d[][2] = { { 2 * MSS, 3 * MSS } };
	sack_to(h, 3 * MSS, dsack ? 1 : 0, d);
	/* More data, ACKed past the probe. */
	tl_tcp_send(h->conn, blob, MSS);
	tcph_drain(h);
	*cwnd_before = c->cong.cwnd;
	ack_to(h, 4 * MSS, 512);
	return c;
}

START_TEST(tail_loss_probe_repair_halves_cwnd)
{
	struct tcph h;
	uint32_t before;
	struct tl_tcp *c = probe_resends_last(&h, false, &before);

	/* RFC 8985 7.4: no D-SACK, the ACK passed the probe: the probe repaired a loss. */
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_loss_probe_repairs, 1);
	ck_assert_uint_eq(c->cong.cwnd, c->cong.ssthresh);
	ck_assert_uint_eq(c->cong.cwnd, before / 2 > 2 * MSS ? before / 2 : 2 * MSS);
	ck_assert(!c->fl->rec.tlp_out);
	tcph_free(&h);
}
END_TEST

START_TEST(tail_loss_probe_dsack_no_loss)
{
	struct tcph h;
	uint32_t before;
	struct tl_tcp *c = probe_resends_last(&h, true, &before);

	/* RFC 8985 7.4 + RFC 2883: the D-SACK says the original had arrived. */
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_loss_probe_repairs, 0);
	ck_assert_uint_ge(c->cong.cwnd, before);
	tcph_free(&h);
}
END_TEST

/* RFC 9293 3.8.6, the stall of issue 13: the peer shrinks its buffer and
 * closes its window at SND.UNA + 4 segments while 10 are out, dropping the
 * rest. Our ACKs must stay inside its window (it discards others), probes
 * keep it alive, and when it reopens we resend from SND.UNA at once; a
 * timer runs until all is acknowledged. */
START_TEST(shrunk_window_reopens_below_snd_nxt)
{
	struct tcph h;

	established_sender(&h, 0);
	struct tl_tcp *c = tcb(&h);
	tl_tcp_send(h.conn, blob, 100 * MSS);
	expect_segments(&h, "initial window", 0, 10);
	ack_to(&h, 4 * MSS, 0);
	tcph_expect_nothing(&h, "nothing into the closed window");
	/* The peer sends a byte; our ACK carries its window edge as SEQ, not SND.NXT. */
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 1, .ack = 1 + 4 * MSS, .wnd = 0, .data = "x",
		.len = 1);
	tcph_advance(&h, h.cfg.tcp_delack_ms);
	tcph_out(&h, "ACK at the edge", .flags = TCP_ACK, .seq = 1 + 4 * MSS, .ack = 2, .len = 0);
	for (int i = 0; i < 3; i++) {
		tcph_advance(&h, c->rtt.rto_us / 1000);
		tcph_out(&h, "zero-window probe", .flags = TCP_ACK, .seq = 4 * MSS, .ack = 2,
			 .len = 0);
		tcph_in(&h, .seq = 2, .ack = 1 + 4 * MSS, .wnd = 0);
	}
	/* It reopens to 1024 bytes: resend from SND.UNA, not wait for the probe. */
	tcph_in(&h, .seq = 2, .ack = 1 + 4 * MSS, .wnd = 8);
	tcph_out(&h, "resent from SND.UNA", .flags = TCP_ACK, .seq = 1 + 4 * MSS, .ack = 2,
		 .len = 1024);
	tcph_expect_nothing(&h, "no more than the window");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_snd_wnd_shrunk, 1);
	/* That one is lost too: the RTO is armed and resends it. */
	ck_assert(c->fl->rto_at != TL_TIME_NEVER && c->fl->xtimer == TCP_XT_RTO);
	tcph_advance(&h, c->rtt.rto_us / 1000);
	tcph_out(&h, "RTO resends it", .flags = TCP_ACK, .seq = 1 + 4 * MSS, .ack = 2, .len = 1024);
	/* The window opens wide: the rest follows, in order, from there. */
	tcph_in(&h, .seq = 2, .ack = 1 + 4 * MSS + 1024);
	tcph_out(&h, "the rest follows", .flags = TCP_ACK, .seq = 1 + 4 * MSS + 1024, .ack = 2,
		 .len = MSS);
	tcph_free(&h);
}
END_TEST

/* RFC 6298 5.1: while data is outstanding some timer always runs, also
 * after a persist timer found the window open again with data in flight. */
START_TEST(timer_runs_while_data_outstanding)
{
	struct tcph h;

	established_sender(&h, 0);
	struct tl_tcp *c = tcb(&h);
	tl_tcp_send(h.conn, blob, 100 * MSS);
	expect_segments(&h, "initial window", 0, 10);
	ack_to(&h, 2 * MSS, 0);
	tcph_advance(&h, c->rtt.rto_us / 1000);
	tcph_out(&h, "probe", .flags = TCP_ACK, .seq = 2 * MSS, .ack = 1, .len = 0);
	ck_assert(c->fl->xtimer == TCP_XT_PERSIST);
	/* A window of 4 segments: its edge is still below SND.NXT. */
	ack_to(&h, 2 * MSS, 46);
	tcph_drain(&h);
	for (int i = 0; i < 6; i++) {
		ck_assert_msg(c->fl->rto_at != TL_TIME_NEVER, "round %d: no timer with data out", i);
		tcph_advance(&h, c->rtt.rto_us / 1000);
		tcph_out(&h, "retransmission from SND.UNA", .flags = TCP_ACK, .seq = 1 + 2 * MSS,
			 .ack = 1, .len = MSS);
		tcph_drain(&h);
	}
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	tcph_free(&h);
}
END_TEST



/* After timed_sack_sender: the segments at relative offsets from MSS on
 * are out; the peer has the first. */
#define FIRST_HOLE (1 + MSS)

/* RFC 8985 6.2: one segment SACKed above a hole is not yet a loss (it may
 * be reordering): the hole is resent when the reordering window (a quarter
 * of the minimum RTT, here SRTT's 0.5 ms, the smaller) has passed, by the reordering timer
 * (6.3), with no duplicate ACK counting and no RTO. */
START_TEST(rack_marks_loss_after_reordering_window)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);
	const uint32_t b[][2] = { { 2 * MSS, 3 * MSS } };

	sack_to(&h, MSS, 1, b);
	tcph_drain(&h); /* the pipe fell by one segment: one new one may go */
	ck_assert(c->fl->xtimer == TCP_XT_REORDER);
	ck_assert(!(c->fl->rec.state == TCP_REC_FAST));
	tcph_advance(&h, 1);
	tcph_out(&h, "the hole, after the reordering window", .flags = TCP_ACK, .seq = FIRST_HOLE,
		 .ack = 1, .len = MSS);
	ck_assert(c->fl->rec.state == TCP_REC_FAST);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rack_lost, 1);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rto, 0);
	tcph_free(&h);
}
END_TEST

/* RFC 8985 6.2 step 4: with DupThresh segments SACKed and no reordering
 * seen, the window is 0: the hole is resent on that ACK. */
START_TEST(rack_three_sacked_resend_at_once)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);
	const uint32_t b[][2] = { { 2 * MSS, 5 * MSS } };

	sack_to(&h, MSS, 1, b);
	tcph_out(&h, "the hole at once", .flags = TCP_ACK, .seq = FIRST_HOLE, .ack = 1, .len = MSS);
	ck_assert(c->fl->rec.state == TCP_REC_FAST);
	ck_assert_uint_le(c->cong.ssthresh, c->fl->rec.prior_cwnd);
	tcph_free(&h);
}
END_TEST

/* RFC 8985 6.2: the retransmission of the hole is lost too; data sent
 * after it is SACKed, so it is resent again without waiting for the RTO. */
START_TEST(rack_lost_retransmission)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);
	const uint32_t b[][2] = { { 2 * MSS, 5 * MSS } };

	sack_to(&h, MSS, 1, b);
	tcph_out(&h, "the hole", .flags = TCP_ACK, .seq = FIRST_HOLE, .ack = 1, .len = MSS);
	tcph_drain(&h); /* PRR lets new data follow the retransmission */
	uint32_t after = tcph_snd_rel(&h, c->snd_max) - 1;
	ck_assert_uint_gt(after, 5 * MSS);
	/* 2 ms later the new data is SACKed, the hole still missing. */
	tcph_advance(&h, 2);
	tcph_drain(&h);
	const uint32_t b2[][2] = { { 2 * MSS, after } };
	sack_to(&h, MSS, 1, b2);
	tcph_out(&h, "the hole again", .flags = TCP_ACK, .seq = FIRST_HOLE, .ack = 1, .len = MSS);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rto, 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rack_lost, 2);
	tcph_free(&h);
}
END_TEST

/* RFC 8985 6.2: new data that left in the same instant as a retransmission,
 * but before it, was not sent after it; SACKing that data alone does not
 * make the retransmission lost (the RFC's end_seq tie-break would). */
START_TEST(rack_same_instant_order_kept)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);
	const uint32_t b1[][2] = { { 2 * MSS, 3 * MSS } };
	const uint32_t b2[][2] = { { 2 * MSS, 4 * MSS } };

	uint32_t early = tcph_snd_rel(&h, c->snd_max) - 1;
	sack_to(&h, MSS, 1, b1);
	sack_to(&h, MSS, 1, b2);
	uint32_t early_end = tcph_snd_rel(&h, c->snd_max) - 1;
	ck_assert_uint_gt(early_end, early); /* new data, sent before any retransmission */
	tcph_drain(&h);
	const uint32_t b3[][2] = { { 2 * MSS, 5 * MSS } };
	sack_to(&h, MSS, 1, b3);
	tcph_out(&h, "the hole", .flags = TCP_ACK, .seq = FIRST_HOLE, .ack = 1, .len = MSS);
	tcph_drain(&h);
	tcph_advance(&h, 1);
	const uint32_t b5[][2] = { { 2 * MSS, early_end } };
	sack_to(&h, MSS, 1, b5);
	tcph_advance(&h, 1);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rack_lost, 1);
	static struct seg g;
	while (tcph_pop(&h, &g))
		ck_assert_msg(tcph_snd_rel(&h, g.h.seq) != FIRST_HOLE, "the retransmission was resent");
	tcph_free(&h);
}
END_TEST

/* RFC 3708 and RFC 8985 6.2 step 4: the hole was only late. Its original
 * arrives after the retransmission; the peer reports the copy in a D-SACK;
 * the reduction is undone and the reordering window doubles. */
START_TEST(dsack_undoes_spurious_recovery)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);
	const uint32_t b[][2] = { { 2 * MSS, 5 * MSS } };

	uint32_t before = c->cong.cwnd;
	sack_to(&h, MSS, 1, b);
	tcph_out(&h, "the hole", .flags = TCP_ACK, .seq = FIRST_HOLE, .ack = 1, .len = MSS);
	ck_assert_uint_lt(c->cong.ssthresh, before);
	const uint32_t d[][2] = { { MSS, 2 * MSS } };
	sack_to(&h, 5 * MSS, 1, d);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_dsack_in, 1);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_undo, 1);
	ck_assert_uint_ge(c->cong.cwnd, before);
	ck_assert(c->fl->rec.state == TCP_REC_OPEN);
	ck_assert_uint_eq(c->rack.reo_wnd_mult, 2);
	tcph_free(&h);
}
END_TEST

/* RFC 6675 4 and issue 13: an ACK that moves SND.UNA is read for SACK
 * blocks too, not only duplicates. */
START_TEST(sack_read_on_advancing_ack)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);
	const uint32_t b[][2] = { { 4 * MSS, 5 * MSS } };

	sack_to(&h, 2 * MSS, 1, b);
	ck_assert_uint_eq(c->snd_una, tcph_snd_abs(&h, 1 + 2 * MSS));
	ck_assert_uint_eq(c->fl->sb.sacked, MSS);
	ck_assert(tcp_sb_is_sacked(c, tcph_snd_abs(&h, 1 + 4 * MSS)));
	ck_assert(!tcp_sb_is_sacked(c, tcph_snd_abs(&h, 1 + 3 * MSS)));
	ck_assert_uint_eq(c->fl->sb.high, tcph_snd_abs(&h, 1 + 5 * MSS));
	tcph_free(&h);
}
END_TEST

/* RFC 6937 3.1: during recovery PRR sends about ssthresh/RecoverFS of what
 * is delivered, and recovery ends with cwnd = ssthresh. */
START_TEST(prr_recovery_ends_at_ssthresh)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);
	const uint32_t b[][2] = { { 2 * MSS, 5 * MSS } };

	sack_to(&h, MSS, 1, b);
	tcph_drain(&h);
	ck_assert(c->fl->rec.state == TCP_REC_FAST);
	uint32_t recover = c->recover, ssthresh = c->cong.ssthresh;
	ck_assert_uint_le(c->fl->prr.prr_out, c->fl->prr.prr_delivered + MSS);
	tcph_in(&h, .seq = 1, .ack = tcph_snd_rel(&h, recover));
	ck_assert(c->fl->rec.state == TCP_REC_OPEN);
	ck_assert_uint_ge(c->cong.cwnd, ssthresh);
	ck_assert_uint_le(c->cong.cwnd, ssthresh + 2 * MSS);
	tcph_free(&h);
}
END_TEST


/* RFC 8985 7.2: the ACK that ends recovery restarts the timer as a probe
 * timer, not as the RTO it was while recovery lasted: a tail lost just
 * after recovery is probed after a PTO, not found by a timeout. */
START_TEST(probe_after_recovery_ends)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);
	const uint32_t b[][2] = { { 2 * MSS, 5 * MSS } };

	sack_to(&h, MSS, 1, b);
	tcph_drain(&h);
	ck_assert(c->fl->rec.state == TCP_REC_FAST);
	/* The rest of the flight is SACKed: PRR sends new data past recover. */
	uint32_t rec = tcph_snd_rel(&h, c->recover) - 1;
	const uint32_t all[][2] = { { 2 * MSS, rec } };
	sack_to(&h, MSS, 1, all);
	tcph_drain(&h);
	ck_assert(seq_gt(c->snd_max, c->recover));
	/* The hole's retransmission is ACKed: recovery ends, data still out. */
	ack_to(&h, rec, 512);
	tcph_drain(&h);
	ck_assert(c->fl->rec.state == TCP_REC_OPEN);
	ck_assert(c->fl->xtimer == TCP_XT_PTO);
	/* Nothing more comes back: the probe, 10 ms later, new data. */
	uint32_t next = c->snd_max;
	tcph_advance(&h, 9);
	tcph_expect_nothing(&h, "before the PTO");
	tcph_advance(&h, 1);
	tcph_out(&h, "the probe", .flags = TCP_ACK, .seq = tcph_snd_rel(&h, next), .ack = 1,
		 .len = MSS);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_loss_probes, 1);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rto, 0);
	tcph_free(&h);
}
END_TEST

/* Not RFC 8985 (7.2 arms no probe in recovery): in RACK's fast recovery
 * the retransmission of the hole is lost and nothing comes back; a PTO
 * later a probe (new data) goes out instead of waiting out the RTO, and
 * its SACK shows the retransmission lost (RFC 8985 6.2: sent before a
 * delivered segment), which goes again with no timeout. */
START_TEST(probe_in_fast_recovery)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);
	const uint32_t b[][2] = { { 2 * MSS, 5 * MSS } };

	sack_to(&h, MSS, 1, b);
	tcph_out(&h, "the hole resent", .flags = TCP_ACK, .seq = 1 + MSS, .ack = 1, .len = MSS);
	tcph_drain(&h);
	ck_assert(c->fl->rec.state == TCP_REC_FAST);
	ck_assert(c->fl->xtimer == TCP_XT_PTO);
	uint32_t next = tcph_snd_rel(&h, c->snd_max);
	tcph_advance(&h, 9);
	tcph_expect_nothing(&h, "before the PTO");
	tcph_advance(&h, 1);
	tcph_out(&h, "the probe: new data", .flags = TCP_ACK, .seq = next, .ack = 1, .len = MSS);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_loss_probes, 1);
	ck_assert(c->fl->rec.state == TCP_REC_FAST);
	uint32_t ssthresh = c->cong.ssthresh;
	/* The probe's SACK: everything past the hole, the hole still missing. */
	const uint32_t all[][2] = { { 2 * MSS, next - 1 + MSS } };
	tcph_advance(&h, 1);
	sack_to(&h, MSS, 1, all);
	tcph_out(&h, "the lost retransmission again", .flags = TCP_ACK, .seq = 1 + MSS, .ack = 1,
		 .len = MSS);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rto, 0);
	ck_assert_uint_eq(c->cong.ssthresh, ssthresh); /* no second cut */
	tcph_free(&h);
}
END_TEST

/* Three segments sent and all ACKed: then one more goes out alone. */
static struct tl_tcp *one_segment_out(struct tcph *h)
{
	struct tl_tcp *c = timed_sack_sender(h, 3 * MSS);

	ack_to(h, 3 * MSS, 512);
	tl_tcp_send(h->conn, blob, MSS);
	tcph_out(h, "one segment", .flags = TCP_ACK | TCP_PSH, .seq = 1 + 3 * MSS, .ack = 1,
		 .len = MSS);
	return c;
}

/* RFC 8985 7.2: with one segment in flight the PTO adds the peer's delayed
 * ACK (200 ms) and so comes after the RTO; TLP_calc_PTO then uses the RTO's
 * time: a probe goes there instead of a timeout (no cwnd collapse, no
 * backoff), and the RTO follows one RTO after it. */
START_TEST(probe_in_place_of_a_later_rto)
{
	struct tcph h;
	struct tl_tcp *c = one_segment_out(&h);
	uint32_t rto = c->rtt.rto_us / 1000, cwnd = c->cong.cwnd;

	ck_assert(c->fl->xtimer == TCP_XT_PTO);
	tcph_advance(&h, rto - 1);
	tcph_expect_nothing(&h, "before the RTO's time");
	tcph_advance(&h, 1);
	tcph_out(&h, "the probe: the segment again", .flags = TCP_ACK | TCP_PSH, .seq = 1 + 3 * MSS,
		 .ack = 1, .len = MSS);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_loss_probes, 1);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rto, 0);
	ck_assert_uint_eq(c->cong.cwnd, cwnd);
	tcph_advance(&h, rto);
	tcph_out(&h, "the RTO", .flags = TCP_ACK | TCP_PSH, .seq = 1 + 3 * MSS, .ack = 1,
		 .len = MSS);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rto, 1);
	tcph_free(&h);
}
END_TEST

/* RFC 8985 7.2: the delayed-ACK allowance is for a flight of one segment;
 * a second one sent after it restarts the PTO without it: 10 ms. */
START_TEST(second_segment_ends_the_delayed_ack_allowance)
{
	struct tcph h;
	struct tl_tcp *c = one_segment_out(&h);

	tl_tcp_send(h.conn, blob, MSS);
	tcph_out(&h, "a second segment", .flags = TCP_ACK | TCP_PSH, .seq = 1 + 4 * MSS, .ack = 1,
		 .len = MSS);
	ck_assert(c->fl->xtimer == TCP_XT_PTO);
	tcph_advance(&h, 9);
	tcph_expect_nothing(&h, "before the PTO");
	tcph_advance(&h, 1);
	tcph_out(&h, "the probe", .flags = TCP_ACK | TCP_PSH, .seq = 1 + 4 * MSS, .ack = 1,
		 .len = MSS);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_loss_probes, 1);
	tcph_free(&h);
}
END_TEST

/* RFC 9293 3.10.7.4 fifth: an ACK older than SND.UNA (reordered) is a
 * duplicate at most; SND.UNA and the send queue stay where they are. */
START_TEST(old_ack_moves_nothing)
{
	struct tcph h;
	struct tl_tcp *c = timed_sack_sender(&h, 100 * MSS);

	ack_to(&h, 3 * MSS, 512);
	tcph_drain(&h);
	uint32_t una = c->snd_una, queued = c->sndbuf.len;
	ack_to(&h, 2 * MSS, 512);
	ck_assert_uint_eq(c->snd_una, una);
	ck_assert_uint_eq(c->sndbuf.len, queued);
	tcph_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_recovery");
	TCase *snd = tcase_create("sender");
	TCase *rto = tcase_create("rto");
	TCase *reno = tcase_create("reno");
	TCase *t = tcase_create("timers_and_congestion");

	for (size_t i = 0; i < sizeof blob; i++)
		blob[i] = (uint8_t)(i * 3 + i / 1000);
	/* tools/checkpoint test 4, 5 and 6 run these. */
	tcase_set_tags(snd, "checkpoint4");
	tcase_set_tags(rto, "checkpoint5");
	tcase_set_tags(reno, "checkpoint6");
	tcase_add_test(snd, never_more_than_the_window_in_flight);
	tcase_add_test(snd, zero_window_persist);
	tcase_add_test(snd, nagle_and_nodelay);
	tcase_add_test(snd, sender_sws_avoidance);
	tcase_add_test(rto, rto_arithmetic_rfc6298);
	tcase_add_test(rto, rto_backoff_and_abort);
	tcase_add_test(rto, karn_no_sample_from_retransmission);
	tcase_add_test(rto, backoff_until_a_new_sample);
	tcase_add_test(reno, slow_start_then_congestion_avoidance);
	tcase_add_test(reno, fast_retransmit_and_newreno);
	tcase_add_test(reno, rto_collapses_cwnd);
	tcase_add_test(reno, ssthresh_at_least_two_segments);
	tcase_add_test(t, fin_retransmitted);
	tcase_add_test(t, syn_ack_retransmitted);
	tcase_add_test(t, sack_blocks_in_dup_acks);
	tcase_add_test(t, sack_recovery_repairs_holes);
	tcase_add_test(t, lost_retransmission_seen_by_a_later_hole);
	tcase_add_test(t, after_rto_sacked_dupacks_retransmit);
	tcase_add_test(t, tail_loss_probe_sends_new_data);
	tcase_add_test(t, tail_loss_probe_sacked_starts_recovery);
	tcase_add_test(t, no_probe_during_recovery);
	tcase_add_test(t, no_probe_into_a_zero_window);
	tcase_add_test(t, tail_loss_probe_repair_halves_cwnd);
	tcase_add_test(t, tail_loss_probe_dsack_no_loss);
	tcase_add_test(t, shrunk_window_reopens_below_snd_nxt);
	tcase_add_test(t, timer_runs_while_data_outstanding);
	tcase_add_test(t, rack_marks_loss_after_reordering_window);
	tcase_add_test(t, rack_three_sacked_resend_at_once);
	tcase_add_test(t, rack_lost_retransmission);
	tcase_add_test(t, rack_same_instant_order_kept);
	tcase_add_test(t, dsack_undoes_spurious_recovery);
	tcase_add_test(t, sack_read_on_advancing_ack);
	tcase_add_test(t, prr_recovery_ends_at_ssthresh);
	tcase_add_test(t, old_ack_moves_nothing);
	tcase_add_test(t, probe_after_recovery_ends);
	tcase_add_test(t, probe_in_fast_recovery);
	tcase_add_test(t, probe_in_place_of_a_later_rto);
	tcase_add_test(t, second_segment_ends_the_delayed_ack_allowance);
	suite_add_tcase(s, snd);
	suite_add_tcase(s, rto);
	suite_add_tcase(s, reno);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
