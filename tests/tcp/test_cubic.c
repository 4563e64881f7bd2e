/* CUBIC (RFC 9438) in virtual time: the reduction after a loss (4.6), the
 * cubic curve in congestion avoidance, concave towards W_max, a plateau
 * near it, convex above (4.2, 4.4, 4.5), the Reno-friendly region (4.3),
 * fast convergence (4.7), the new stage after a timeout (4.8) and no
 * growth while the application limits the flow (5.8). The peer has no
 * SACK (the classic path) and ACKs a whole round trip's flight at once, so
 * that each ACK moves cwnd by one round's growth. Expected values are
 * computed here from the RFC's formulas, in segments and seconds. */
#include <string.h>

#include "tcp/tcp.h"
#include "tcph.h"
#include "../check_run.h"

#define PISS 7000u
#define MSS 1460u
#define WND 4096 /* << 7: a 512 KiB window, never the limit */

static uint8_t blob[256 * 1024];

static void cubic_cfg(struct tl_config *c) { c->tcp_cc = TL_CC_CUBIC; }

static struct tl_tcp *tcb(struct tcph *h)
{
	return tcp_lookup(h->s, PEER_ADDR, PEER_PORT, h->port);
}

/* The send buffer kept full: the flow is never application-limited. */
static void fill(struct tcph *h)
{
	while (tl_tcp_send(h->conn, blob, sizeof blob) > 0)
		;
}

/* A CUBIC sender to a peer without SACK, the initial window out and drained. */
static struct tl_tcp *cubic_sender(struct tcph *h)
{
	tcph_init(h, cubic_cfg);
	tcph_handshake(h, 9, PISS);
	fill(h);
	tcph_drain(h);
	return tcb(h);
}

static void ack_to_seq(struct tcph *h, uint32_t seq)
{
	tcph_in(h, .seq = 1, .ack = tcph_snd_rel(h, seq), .wnd = WND);
}

/* rtt_ms later the peer ACKs all in flight at once. Returns the bytes
 * that ACK acknowledged. */
static uint32_t ack_flight(struct tcph *h, uint32_t rtt_ms)
{
	struct tl_tcp *c = tcb(h);
	uint32_t flight = c->snd_max - c->snd_una;

	tcph_advance(h, rtt_ms);
	ack_to_seq(h, c->snd_max);
	tcph_drain(h);
	return flight;
}

/* The same, and the sender refills its buffer. */
static uint32_t round_trip(struct tcph *h, uint32_t rtt_ms)
{
	uint32_t acked = ack_flight(h, rtt_ms);

	fill(h);
	tcph_drain(h);
	return acked;
}

/* White box: a congestion event at W_max left cwnd = ssthresh (RFC 9438
 * 4.6), with SRTT rtt_ms; the next ACK starts the stage. */
static void stage_after_loss(struct tl_tcp *c, uint32_t cwnd, uint32_t w_max, uint32_t rtt_ms)
{
	c->cong.cwnd = c->cong.ssthresh = cwnd;
	c->fl->cubic.w_max = c->fl->cubic.cwnd_prior = w_max;
	c->fl->cubic.in_epoch = false;
	c->rtt.srtt_us = rtt_ms * 1000u;
	c->rtt.rttvar_us = 5000;
}

static double cube(double x) { return x * x * x; }

/* Newton's cube root, x > 0 (the core has its own, in integers). */
static double cbrt_ref(double x)
{
	double r = x > 1 ? x / 3 : 1;

	for (int i = 0; i < 200; i++)
		r -= (cube(r) - x) / (3 * r * r);
	return r;
}

/* RFC 9438 4.2 Figure 1 in bytes: C = 0.4 segments/s^3, t and K in seconds. */
static double w_cubic_ref(double t, double k, double w_max)
{
	return 0.4 * cube(t - k) * MSS + w_max;
}

/* RFC 9438 4.2 Figure 2: K = cubic_root((W_max - cwnd_epoch) / C). */
static double k_ref(double w_max, double cwnd_epoch)
{
	return cbrt_ref((w_max - cwnd_epoch) / MSS / 0.4);
}

static double seconds_in_stage(const struct tcph *h, const struct tl_tcp *c)
{
	return (double)(h->now - c->fl->cubic.epoch) / 1e6;
}

START_TEST(loss_sets_ssthresh_to_beta_cwnd)
{
	struct tcph h;
	struct tl_tcp *c = cubic_sender(&h);

	round_trip(&h, 50); /* slow start: 10 -> 12 segments */
	ack_to_seq(&h, c->snd_una + MSS); /* segment 0 of the next flight arrived */
	tcph_drain(&h);
	uint32_t cwnd = c->cong.cwnd;
	/* Segment 1 is lost: three duplicates, and limited transmit (RFC 3042)
	 * sends two new segments, so the flight is above cwnd. */
	for (int i = 0; i < 3; i++)
		ack_to_seq(&h, c->snd_una);
	STEP_ASSERT(c->fl->rec.state == TCP_REC_FAST, "third duplicate", "no fast retransmit");
	ck_assert_uint_gt(c->snd_max - c->snd_una, cwnd);
	/* RFC 9438 4.6: ssthresh = 0.7 cwnd (not 0.7 of a flight above cwnd);
	 * cwnd_prior and, with no plateau before (4.7), W_max = cwnd. */
	ck_assert_uint_eq(c->cong.ssthresh, cwnd * 7 / 10);
	ck_assert_uint_eq(c->fl->cubic.w_max, cwnd);
	ck_assert_uint_eq(c->fl->cubic.cwnd_prior, cwnd);
	ck_assert(!c->fl->cubic.in_epoch); /* 4.2: the event ends the stage */
	/* Reno halves cwnd instead (RFC 5681 3.1 (4)). */
	ck_assert_str_eq(tcp_cc(c)->name, "cubic");
	tcph_free(&h);
}
END_TEST

START_TEST(ssthresh_floor_two_segments)
{
	struct tcph h;
	struct tl_tcp *c = cubic_sender(&h);

	/* RFC 9438 4.6: ssthresh is at least 2 SMSS however small cwnd was. */
	c->cong.cwnd = MSS;
	ck_assert_uint_eq(tcp_cc(c)->ssthresh(c), 2 * MSS);
	tcph_free(&h);
}
END_TEST

/* One round of congestion avoidance, checked against the RFC: cwnd grew
 * by (target - cwnd) / cwnd per segment acked (4.4, 4.5), target being
 * W_cubic(t + RTT) within [cwnd, 1.5 cwnd] (4.2). Returns the growth. */
static double curve_round(struct tcph *h, struct tl_tcp *c, double k, double w_max, uint32_t rtt_ms)
{
	double cwnd0 = c->cong.cwnd;
	double acked = round_trip(h, rtt_ms);
	double t = seconds_in_stage(h, c);
	double target = w_cubic_ref(t + rtt_ms / 1000.0, k, w_max);

	if (target < cwnd0)
		target = cwnd0;
	if (target > 1.5 * cwnd0)
		target = 1.5 * cwnd0;
	double want = cwnd0 + (target - cwnd0) * (acked < cwnd0 ? acked : cwnd0) / cwnd0;
	ck_assert_msg(c->cong.cwnd >= want - 2 && c->cong.cwnd <= want + 2,
		      "step t = %.2f s: cwnd %u, RFC 9438 4.4/4.5 want %.0f", t, c->cong.cwnd, want);
	/* Not the Reno-friendly region here (4.3): the curve is above W_est. */
	ck_assert_msg(w_cubic_ref(t, k, w_max) >= c->fl->cubic.w_est,
		      "step t = %.2f s: W_est %u above the curve", t, c->fl->cubic.w_est);
	return c->cong.cwnd - cwnd0;
}

START_TEST(cubic_curve_concave_plateau_convex)
{
	struct tcph h;
	struct tl_tcp *c = cubic_sender(&h);
	const uint32_t rtt = 150;
	const double w_max = 100.0 * MSS, k = k_ref(w_max, 70.0 * MSS);

	stage_after_loss(c, 70 * MSS, 100 * MSS, rtt);
	/* The first ACK starts the stage (RFC 9438 4.2): K from W_max and
	 * cwnd_epoch, W_est = cwnd_epoch (4.3). It found only the initial
	 * window in flight, so cwnd does not grow yet (5.8). */
	round_trip(&h, rtt);
	ck_assert(c->fl->cubic.in_epoch);
	ck_assert_uint_eq(c->fl->cubic.epoch, h.now);
	ck_assert_msg(c->fl->cubic.k_us > k * 1e6 - 10 && c->fl->cubic.k_us < k * 1e6 + 10,
		      "step stage start: K %lld us, RFC 9438 Figure 2 wants %.0f", (long long)c->fl->cubic.k_us,
		      k * 1e6);
	ck_assert_uint_eq(c->fl->cubic.w_est, 70 * MSS);
	ck_assert_uint_eq(c->cong.cwnd, 70 * MSS);

	double prev = 1e9;
	int concave = 0, plateau = 0, convex = 0;
	while (seconds_in_stage(&h, c) < k + 3.0) {
		double grew = curve_round(&h, c, k, w_max, rtt);
		double at = seconds_in_stage(&h, c) + rtt / 1000.0; /* the curve's time of target */
		if (at < k - 0.6) {
			/* 4.4, concave: below W_max, each round grows less than the last. */
			ck_assert_msg(c->cong.cwnd < w_max && grew > 0 && grew < prev,
				      "step concave t = %.2f s: cwnd %u grew %.0f after %.0f", at,
				      c->cong.cwnd, grew, prev);
			concave++;
		} else if (at < k + 0.6) {
			/* Near K the curve is flat: cwnd stays within 0.2 SMSS of W_max. */
			ck_assert_msg(c->cong.cwnd > w_max - 0.2 * MSS && c->cong.cwnd < w_max + 0.2 * MSS,
				      "step plateau t = %.2f s: cwnd %u, W_max %.0f", at, c->cong.cwnd, w_max);
			plateau++;
		} else {
			/* 4.5, convex: above W_max, each round grows more than the last. */
			ck_assert_msg(c->cong.cwnd > w_max && grew > prev,
				      "step convex t = %.2f s: cwnd %u grew %.0f after %.0f", at,
				      c->cong.cwnd, grew, prev);
			convex++;
		}
		/* One ACK for the whole flight reaches W_cubic(t + RTT), within a segment. */
		double w = w_cubic_ref(at, k, w_max);
		ck_assert_msg(c->cong.cwnd > w - MSS && c->cong.cwnd < w + MSS,
			      "step t = %.2f s: cwnd %u, W_cubic(t + RTT) = %.0f", at, c->cong.cwnd, w);
		prev = grew;
	}
	ck_assert_int_ge(concave, 10);
	ck_assert_int_ge(plateau, 5);
	ck_assert_int_ge(convex, 10);
	ck_assert_uint_gt(c->cong.cwnd, w_max + 5 * MSS);
	tcph_free(&h);
}
END_TEST

START_TEST(reno_friendly_region)
{
	struct tcph h;
	struct tl_tcp *c = cubic_sender(&h);
	const uint32_t rtt = 10;
	const double w_max = 14.0 * MSS, k = k_ref(w_max, 10.0 * MSS);

	/* A short round trip: the curve, K = 2.15 s away, barely moves in
	 * 30 rounds, while W_est grows every round. */
	stage_after_loss(c, 10 * MSS, 14 * MSS, rtt);
	double w_est = 10.0 * MSS;
	int alpha_one = 0;
	for (int i = 0; i < 30; i++) {
		double cwnd0 = c->cong.cwnd;
		/* RFC 9438 4.3 Figure 4: W_est += alpha_cubic * segments_acked / cwnd,
		 * alpha_cubic = 3 (1 - 0.7) / (1 + 0.7) until W_est reaches cwnd_prior, then 1. */
		double alpha = w_est >= w_max ? 1.0 : 3 * (1 - 0.7) / (1 + 0.7);
		alpha_one += alpha == 1.0;
		double acked = round_trip(&h, rtt);
		w_est += alpha * acked * MSS / cwnd0;
		double t = seconds_in_stage(&h, c);
		ck_assert_msg(c->fl->cubic.w_est > w_est - 2 && c->fl->cubic.w_est < w_est + 2,
			      "step round %d: W_est %u, RFC 9438 Figure 4 wants %.0f", i, c->fl->cubic.w_est,
			      w_est);
		/* 4.3: W_cubic(t) < W_est: cwnd is (at least) W_est. */
		ck_assert_msg(w_cubic_ref(t, k, w_max) < w_est, "step round %d: not Reno-friendly", i);
		ck_assert_msg(c->cong.cwnd >= c->fl->cubic.w_est,
			      "step round %d: cwnd %u below W_est %u", i, c->cong.cwnd, c->fl->cubic.w_est);
	}
	ck_assert_int_ge(alpha_one, 10);
	/* Reno's pace at the end: one segment per round trip (alpha_cubic = 1). */
	uint32_t before = c->cong.cwnd;
	round_trip(&h, rtt);
	ck_assert_uint_ge(c->cong.cwnd - before, MSS - 2);
	ck_assert_uint_le(c->cong.cwnd - before, MSS + 2);
	tcph_free(&h);
}
END_TEST

/* Three duplicate ACKs for SND.UNA: fast retransmit, then the ACK of
 * everything up to recover ends recovery (RFC 6582 3.2). Returns cwnd at the loss. */
static uint32_t loss_and_recovery(struct tcph *h, struct tl_tcp *c)
{
	uint32_t cwnd = c->cong.cwnd;

	for (int i = 0; i < 3; i++)
		ack_to_seq(h, c->snd_una);
	STEP_ASSERT(c->fl->rec.state == TCP_REC_FAST, "third duplicate", "no fast retransmit");
	tcph_drain(h);
	ack_to_seq(h, c->recover);
	STEP_ASSERT(c->fl->rec.state == TCP_REC_OPEN, "full ACK", "still in recovery");
	tcph_drain(h);
	return cwnd;
}

START_TEST(fast_convergence_lowers_w_max)
{
	struct tcph h;
	struct tl_tcp *c = cubic_sender(&h);

	round_trip(&h, 50);
	round_trip(&h, 50);
	/* The first loss: no plateau yet, W_max = cwnd (RFC 9438 4.7's else). */
	uint32_t first = loss_and_recovery(&h, c);
	ck_assert_uint_eq(c->fl->cubic.w_max, first);
	/* The next loss comes below that plateau: the flow is losing its share.
	 * RFC 9438 4.7: W_max = cwnd * (1 + beta_cubic) / 2, below this cwnd. */
	round_trip(&h, 50);
	uint32_t second = loss_and_recovery(&h, c);
	ck_assert_uint_lt(second, first);
	ck_assert_uint_eq(c->fl->cubic.w_max, second * 17 / 20);
	ck_assert_uint_eq(c->fl->cubic.cwnd_prior, second);
	/* A loss above the plateau: W_max = cwnd, no fast convergence. */
	round_trip(&h, 50);
	c->fl->cubic.w_max = c->cong.cwnd - MSS;
	uint32_t third = loss_and_recovery(&h, c);
	ck_assert_uint_eq(c->fl->cubic.w_max, third);
	tcph_free(&h);
}
END_TEST

START_TEST(rto_restarts_the_stage)
{
	struct tcph h;
	struct tl_tcp *c = cubic_sender(&h);

	stage_after_loss(c, 20 * MSS, 30 * MSS, 50);
	for (int i = 0; i < 3; i++)
		round_trip(&h, 50);
	ck_assert(c->fl->cubic.in_epoch);
	ck_assert_int_gt(c->fl->cubic.k_us, 0);
	uint32_t cwnd = c->cong.cwnd, flight = c->snd_max - c->snd_una;
	/* RFC 9438 4.8: a timeout: cwnd one segment as Reno's, ssthresh by beta_cubic. */
	tcph_advance(&h, c->rtt.rto_us / 1000);
	tcph_out(&h, "RTO retransmission", .flags = TCP_ACK, .seq = tcph_snd_rel(&h, c->snd_una),
		 .ack = 1, .len = MSS);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_rto, 1);
	ck_assert_uint_eq(c->cong.cwnd, MSS);
	ck_assert_uint_eq(c->cong.ssthresh, (flight < cwnd ? flight : cwnd) * 7 / 10);
	ck_assert(!c->fl->cubic.in_epoch);
	/* Slow start up to ssthresh (RFC 5681 3.1, as Reno's), no stage meanwhile. */
	int rounds = 0;
	while (c->cong.cwnd < c->cong.ssthresh && rounds++ < 50) {
		round_trip(&h, 50);
		STEP_ASSERT(!c->fl->cubic.in_epoch, "slow start", "a stage began below ssthresh");
	}
	/* The first ACK in congestion avoidance starts a stage with K = 0 and
	 * W_max = W_est = cwnd at its start (4.8). */
	uint32_t start = c->cong.cwnd;
	round_trip(&h, 50);
	ck_assert(c->fl->cubic.in_epoch);
	ck_assert_uint_eq(c->fl->cubic.epoch, h.now);
	ck_assert_int_eq(c->fl->cubic.k_us, 0);
	ck_assert_uint_eq(c->fl->cubic.w_max, start);
	ck_assert_uint_ge(c->fl->cubic.w_est, start);
	ck_assert_uint_ge(c->cong.cwnd, start);
	tcph_free(&h);
}
END_TEST

START_TEST(no_growth_while_application_limited)
{
	struct tcph h;

	tcph_init(&h, cubic_cfg);
	tcph_handshake(&h, 9, PISS);
	ck_assert_int_eq(tl_tcp_send(h.conn, blob, 10 * MSS), 10 * MSS);
	tcph_drain(&h);
	struct tl_tcp *c = tcb(&h);
	stage_after_loss(c, 20 * MSS, 30 * MSS, 50);
	ack_flight(&h, 50); /* the stage starts; nothing is left to send */
	ck_assert(c->fl->cubic.in_epoch);
	tl_time epoch = c->fl->cubic.epoch;
	/* A second later the application writes 5 segments: RFC 9438 5.8, no
	 * growth while less than cwnd is used, and 4.2: that time is not curve
	 * time, the stage's start moves with it. */
	tcph_advance(&h, 1000);
	ck_assert_int_eq(tl_tcp_send(h.conn, blob, 5 * MSS), 5 * MSS);
	tcph_drain(&h);
	ack_flight(&h, 50);
	ck_assert_uint_eq(c->cong.cwnd, 20 * MSS);
	ck_assert_uint_eq(c->fl->cubic.w_est, 20 * MSS);
	ck_assert_uint_eq(c->fl->cubic.epoch, epoch + TL_MS(1050));
	/* A full window again: growth resumes, from curve time 0 + RTT. */
	fill(&h);
	tcph_drain(&h);
	round_trip(&h, 50);
	ck_assert_uint_gt(c->cong.cwnd, 20 * MSS);
	tcph_free(&h);
}
END_TEST

START_TEST(cubic_is_the_default)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 9, PISS);
	ck_assert_uint_eq(h.cfg.tcp_cc, TL_CC_CUBIC);
	ck_assert_str_eq(tcp_cc(tcb(&h))->name, "cubic");
	tcph_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_cubic");
	TCase *t = tcase_create("rfc9438");

	tcase_add_test(t, loss_sets_ssthresh_to_beta_cwnd);
	tcase_add_test(t, ssthresh_floor_two_segments);
	tcase_add_test(t, cubic_curve_concave_plateau_convex);
	tcase_add_test(t, reno_friendly_region);
	tcase_add_test(t, fast_convergence_lowers_w_max);
	tcase_add_test(t, rto_restarts_the_stage);
	tcase_add_test(t, no_growth_while_application_limited);
	tcase_add_test(t, cubic_is_the_default);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
