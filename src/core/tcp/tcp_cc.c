/* Congestion control behind a table of operations: how cwnd grows on an
 * ACK and where ssthresh goes after a loss. Loss recovery (tcp_recovery.c)
 * decides when; the algorithm here decides how much. Two algorithms:
 * Reno (RFC 5681) and CUBIC (RFC 9438), chosen by tl_config.tcp_cc. */
#include <string.h>

#include "tcp.h"

/* RFC 5681 3.1: slow start below ssthresh, congestion avoidance above. */
/* checkpoint 6 */
static void reno_on_ack(struct tl_tcp *c, uint32_t acked)
{
	struct tcp_cong *g = &c->cong;
	/* RFC 3465 2.2-2.3: count the bytes an ACK covers, all of them, as
	 * Linux does: a stretch ACK (one for a GRO or TSO super-segment, or a
	 * delayed one) still doubles cwnd each round; 1*SMSS while repairing
	 * after a loss (RFC 3465 2.3's L = 1*SMSS after a timeout). */
	uint32_t inc = seq_leq(c->snd_una, c->recover) && acked > c->mss ? c->mss : acked;

	if (g->cwnd >= g->ssthresh) {
		/* RFC 5681 3.1: one SMSS per cwnd of bytes acked, so stretch ACKs
		 * (one ACK for many segments) grow cwnd as fast as many ACKs. */
		g->ca_acked += acked;
		inc = 0;
		if (g->ca_acked >= g->cwnd) {
			g->ca_acked -= g->cwnd;
			inc = c->mss;
		}
	}
	if (g->cwnd < (1u << 30))
		g->cwnd += inc;
}

/* What a reduction cuts from: FlightSize, but at most cwnd (RFC 5681 3.2
 * asks for "no more than" FlightSize / 2): with SACK or limited transmit
 * the flight also holds what the peer SACKed, and runs past cwnd. */
static uint32_t reduction_base(const struct tl_tcp *c)
{
	uint32_t f = tcp_flight_size(c);

	return f < c->cong.cwnd ? f : c->cong.cwnd;
}

/* RFC 5681 3.1 (4): ssthresh = max(FlightSize / 2, 2 * SMSS). */
/* checkpoint 6 */
static uint32_t reno_ssthresh(struct tl_tcp *c)
{
	uint32_t half = reduction_base(c) / 2;

	return half > 2u * c->mss ? half : 2u * c->mss;
}

static const struct tcp_cc_ops reno = {
	.name = "reno",
	.on_ack = reno_on_ack,
	.ssthresh = reno_ssthresh,
};

/* ---- CUBIC, RFC 9438: windows in bytes, times in microseconds ---- */

/* RFC 9438 4.1: C = 0.4 segments/s^3 and beta_cubic = 0.7, as fractions. */
#define CUBIC_C_NUM 2
#define CUBIC_C_DEN 5
#define CUBIC_BETA_NUM 7
#define CUBIC_BETA_DEN 10
/* RFC 9438 4.3: alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic) = 9/17. */
#define CUBIC_ALPHA_NUM 9
#define CUBIC_ALPHA_DEN 17
/* RFC 9438 4.7: fast convergence's (1 + beta_cubic) / 2 = 17/20. */
#define CUBIC_FC_NUM 17
#define CUBIC_FC_DEN 20
/* |t - K| from 2^27 us (134 s) on: more than any window (CWND_MAX). */
#define CUBIC_T_MAX (1ull << 27)
#define CWND_MAX (1u << 30)

/* The cubic term C * a^3 of RFC 9438 4.2 Figure 1, in bytes, for a in
 * microseconds: a becomes seconds with 20 fraction bits (1 us steps),
 * which keeps every product within 64 bits below CUBIC_T_MAX. */
static uint64_t cubic_term(uint32_t mss, uint64_t a_us)
{
	if (a_us >= CUBIC_T_MAX)
		return 2ull * CWND_MAX;
	uint64_t s = (a_us << 20) / 1000000u;
	uint64_t cube = (((s * s) >> 20) * s) >> 20;

	return (cube * mss * CUBIC_C_NUM / CUBIC_C_DEN) >> 20;
}

/* RFC 9438 4.2 Figure 1: W_cubic(t) = C * (t - K)^3 + W_max, t from the
 * start of the stage. */
static int64_t w_cubic(const struct tl_tcp *c, int64_t t_us)
{
	int64_t d = t_us - c->fl->cubic.k_us;
	int64_t term = (int64_t)cubic_term(c->mss, (uint64_t)(d < 0 ? -d : d));

	return (int64_t)c->fl->cubic.w_max + (d < 0 ? -term : term);
}

/* RFC 9438 4.2 Figure 2: K = cubic_root((W_max - cwnd_epoch) / C), solved
 * by bisection on cubic_term itself, so that W_cubic(0) = cwnd_epoch;
 * negative when the stage starts above the plateau. */
static int64_t cubic_k(const struct tl_tcp *c, uint32_t cwnd_epoch)
{
	uint32_t w_max = c->fl->cubic.w_max;
	uint64_t gap = w_max > cwnd_epoch ? w_max - cwnd_epoch : cwnd_epoch - w_max;
	uint64_t lo = 0, hi = CUBIC_T_MAX;

	while (lo < hi) { /* the least a with C * a^3 >= gap */
		uint64_t mid = (lo + hi) / 2;
		if (cubic_term(c->mss, mid) >= gap)
			hi = mid;
		else
			lo = mid + 1;
	}
	return w_max > cwnd_epoch ? (int64_t)lo : -(int64_t)lo;
}

/* RFC 9438 4.2: a congestion avoidance stage begins with this ACK. */
static void cubic_epoch_start(struct tl_tcp *c)
{
	struct tcp_cong *g = &c->cong;
	struct tcp_cubic *k = &c->fl->cubic;

	/* RFC 9438 4.8: after a timeout W_max is cwnd at the stage's start,
	 * so K = 0 (the same with no congestion event yet). */
	if (k->after_rto || k->w_max == 0)
		k->w_max = g->cwnd;
	k->after_rto = false;
	k->in_epoch = true;
	k->epoch = k->epoch_ack = c->stack->now;
	k->k_us = cubic_k(c, g->cwnd);
	/* RFC 9438 4.3: W_est starts at cwnd_epoch. */
	k->w_est = g->cwnd;
	k->w_est_frac = k->cwnd_frac = 0;
	k->idle = false;
}

/* What the sender counted against cwnd before this ACK (as
 * tcp_output.c:usable_window does: the pipe with SACK, else the flight). */
static uint32_t cubic_in_use(const struct tl_tcp *c, uint32_t acked)
{
	if (tcp_rec_rack(c))
		return tcp_sb_pipe(c) + c->fl->rec.delivered;
	return c->snd_nxt - c->snd_una + acked;
}

/* SRTT, or RACK's minimum RTT before the first sample. */
static uint32_t cubic_rtt(const struct tl_tcp *c)
{
	return c->rtt.srtt_us ? c->rtt.srtt_us : c->rack.min_rtt_us;
}

/* RFC 9438 5.8: no growth while the application or the peer's window,
 * not cwnd, limits what is sent (more than a segment of cwnd unused); and
 * 4.2: such time is not curve time, so the stage's start moves on by it:
 * all the time since the last ACK, or when that ACK left nothing to send,
 * all of it but this ACK's round trip. */
static bool cubic_app_limited(struct tl_tcp *c, uint32_t acked)
{
	struct tcp_cong *g = &c->cong;
	struct tcp_cubic *k = &c->fl->cubic;
	tl_time gap = c->stack->now - k->epoch_ack, rtt = cubic_rtt(c);
	bool limited = cubic_in_use(c, acked) + c->mss <= g->cwnd;

	if (limited)
		k->epoch += gap;
	else if (k->idle && gap > rtt)
		k->epoch += gap - rtt;
	k->epoch_ack = c->stack->now;
	k->idle = c->snd_una == c->snd_max && tcp_data_end(c) == c->snd_max;
	return limited;
}

/* RFC 9438 4.3 Figure 4: W_est += alpha_cubic * segments_acked / cwnd, in
 * bytes; alpha_cubic is 9/17 until W_est reaches cwnd_prior, then 1
 * (Reno's own rate). */
static void cubic_reno_estimate(struct tl_tcp *c, uint32_t acked)
{
	struct tcp_cong *g = &c->cong;
	struct tcp_cubic *k = &c->fl->cubic;
	uint64_t alpha = k->w_est >= k->cwnd_prior ? CUBIC_ALPHA_DEN : CUBIC_ALPHA_NUM;
	uint64_t num = (uint64_t)acked * c->mss * alpha + k->w_est_frac;
	uint64_t den = (uint64_t)g->cwnd * CUBIC_ALPHA_DEN;
	uint64_t est = k->w_est + num / den;

	k->w_est = est < CWND_MAX ? (uint32_t)est : CWND_MAX;
	k->w_est_frac = num % den;
}

/* RFC 9438 4.4 (concave, below W_max) and 4.5 (convex, above): cwnd grows
 * by (target - cwnd) / cwnd per segment acked, target being W_cubic(t + RTT)
 * held within [cwnd, 1.5 cwnd] (4.2). One ACK of a whole window reaches
 * target and no further. */
static uint32_t cubic_grow(struct tl_tcp *c, int64_t t_us, uint32_t acked)
{
	struct tcp_cong *g = &c->cong;
	struct tcp_cubic *k = &c->fl->cubic;
	int64_t w = w_cubic(c, t_us + cubic_rtt(c));
	uint64_t cwnd = g->cwnd, top = cwnd + cwnd / 2;
	uint64_t target = w < (int64_t)cwnd ? cwnd : w > (int64_t)top ? top : (uint64_t)w;
	uint64_t num = (target - cwnd) * (acked < cwnd ? acked : cwnd) + k->cwnd_frac;

	k->cwnd_frac = num % cwnd;
	return (uint32_t)(cwnd + num / cwnd);
}

static void cubic_on_ack(struct tl_tcp *c, uint32_t acked)
{
	struct tcp_cong *g = &c->cong;
	struct tcp_cubic *k = &c->fl->cubic;

	/* RFC 9438 4.10: below ssthresh, Reno's slow start (RFC 5681, 3465). */
	if (g->cwnd < g->ssthresh) {
		reno_on_ack(c, acked);
		return;
	}
	if (!k->in_epoch)
		cubic_epoch_start(c);
	if (cubic_app_limited(c, acked))
		return;
	int64_t t = (int64_t)(c->stack->now - k->epoch);
	uint32_t cwnd;

	cubic_reno_estimate(c, acked);
	/* RFC 9438 4.3: W_cubic(t) below W_est is the Reno-friendly region:
	 * cwnd = W_est (never lowered by it). */
	if (w_cubic(c, t) < (int64_t)k->w_est)
		cwnd = k->w_est > g->cwnd ? k->w_est : g->cwnd;
	else
		cwnd = cubic_grow(c, t, acked);
	g->cwnd = cwnd < CWND_MAX ? cwnd : CWND_MAX;
}

/* RFC 9438 4.6 and 4.7: a congestion event, before cwnd is reduced. */
static uint32_t cubic_ssthresh(struct tl_tcp *c)
{
	struct tcp_cong *g = &c->cong;
	struct tcp_cubic *k = &c->fl->cubic;
	uint32_t base = reduction_base(c);

	/* RFC 9438 4.7: fast convergence: a loss below the last plateau means
	 * the flow is losing share; a lower plateau releases bandwidth. */
	if (g->cwnd < k->w_max)
		k->w_max = (uint32_t)((uint64_t)g->cwnd * CUBIC_FC_NUM / CUBIC_FC_DEN);
	else
		k->w_max = g->cwnd;
	/* RFC 9438 4.6: cwnd_prior = cwnd, for the Reno-friendly region. */
	k->cwnd_prior = g->cwnd;
	/* RFC 9438 4.2: the event ends the stage; the next one starts afresh. */
	k->in_epoch = false;
	/* RFC 9438 4.6: ssthresh = flight_size * beta_cubic, or cwnd * beta_cubic
	 * with 5.8's guard against growth (cubic_app_limited): the smaller, as a
	 * flight that counts SACKed bytes can exceed cwnd; at least 2 SMSS. */
	uint32_t ss = (uint32_t)((uint64_t)base * CUBIC_BETA_NUM / CUBIC_BETA_DEN);
	return ss > 2u * c->mss ? ss : 2u * c->mss;
}

/* RFC 9438 4.8: after a timeout cwnd is one segment, as Reno's; the next
 * stage starts with K = 0. */
static void cubic_on_rto(struct tl_tcp *c)
{
	c->fl->cubic.after_rto = true;
}

static const struct tcp_cc_ops cubic = {
	.name = "cubic",
	.on_ack = cubic_on_ack,
	.ssthresh = cubic_ssthresh,
	.on_rto = cubic_on_rto,
};

/* ---- the verbs loss recovery calls ---- */

const struct tcp_cc_ops *tcp_cc(const struct tl_tcp *c)
{
	return c->stack->cfg.tcp_cc == TL_CC_CUBIC ? &cubic : &reno;
}

/* RFC 5681 3.1 and RFC 6928: IW = 10 segments, ssthresh starts high. */
void tcp_cc_init(struct tl_tcp *c)
{
	memset(&c->cong, 0, sizeof c->cong);
	memset(&c->fl->cubic, 0, sizeof c->fl->cubic);
	c->cong.cwnd = c->stack->cfg.tcp_init_cwnd * (uint32_t)c->mss;
	if (c->cong.cwnd < c->mss)
		c->cong.cwnd = c->mss;
	c->cong.ssthresh = UINT32_MAX;
}

void tcp_cc_on_ack(struct tl_tcp *c, uint32_t acked)
{
	uint32_t segs = c->cong.cwnd / c->mss;

	tcp_cc(c)->on_ack(c, acked);
	if (tl_tracing(c->stack) && c->cong.cwnd / c->mss != segs)
		tcp_trace_cwnd(c, c->cong.cwnd < c->cong.ssthresh ? "slow start" : "congestion avoidance");
}

void tcp_cc_loss(struct tl_tcp *c)
{
	c->cong.ssthresh = tcp_cc(c)->ssthresh(c);
	c->cong.ca_acked = 0;
}

/* RFC 5681 3.1 (4) and 3.1: after an RTO, cwnd is one segment (the loss window). */
/* checkpoint 6 */
void tcp_cc_rto(struct tl_tcp *c)
{
	tcp_cc_loss(c);
	c->cong.cwnd = c->mss;
	if (tcp_cc(c)->on_rto)
		tcp_cc(c)->on_rto(c);
}
