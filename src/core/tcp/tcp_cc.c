/* Congestion control behind a table of operations: how cwnd grows on an
 * ACK and where ssthresh goes after a loss. Loss recovery (tcp_recovery.c)
 * decides when; the algorithm here decides how much. */
#include "tcp.h"

static uint32_t flight_size(const struct tl_tcp *c)
{
	return c->snd_max - c->snd_una;
}

/* RFC 5681 3.1: slow start below ssthresh, congestion avoidance above. */
static void reno_on_ack(struct tl_tcp *c, uint32_t acked)
{
	struct tcp_cong *g = &c->cong;
	/* RFC 3465 2.2: count bytes, up to 2*SMSS per ACK so that delayed ACKs
	 * still double cwnd each round; 1*SMSS while repairing after a loss. */
	uint32_t limit = seq_leq(c->snd_una, c->recover) ? c->mss : 2u * c->mss;
	uint32_t inc = acked < limit ? acked : limit;

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

/* RFC 5681 3.1 (4): ssthresh = max(FlightSize / 2, 2 * SMSS). */
static uint32_t reno_ssthresh(struct tl_tcp *c)
{
	uint32_t half = flight_size(c) / 2;

	return half > 2u * c->mss ? half : 2u * c->mss;
}

static const struct tcp_cc_ops reno = {
	.name = "reno",
	.on_ack = reno_on_ack,
	.ssthresh = reno_ssthresh,
};

const struct tcp_cc_ops *tcp_cc(const struct tl_tcp *c)
{
	(void)c;
	return &reno;
}

/* RFC 5681 3.1 and RFC 6928: IW = 10 segments, ssthresh starts high. */
void tcp_cc_init(struct tl_tcp *c)
{
	c->cong.cwnd = c->stack->cfg.tcp_init_cwnd * (uint32_t)c->mss;
	if (c->cong.cwnd < c->mss)
		c->cong.cwnd = c->mss;
	c->cong.ssthresh = UINT32_MAX;
}

void tcp_cc_on_ack(struct tl_tcp *c, uint32_t acked)
{
	uint32_t segs = c->cong.cwnd / c->mss;

	tcp_cc(c)->on_ack(c, acked);
	if (c->cong.cwnd / c->mss != segs)
		tcp_trace_cwnd(c, c->cong.cwnd < c->cong.ssthresh ? "slow start" : "congestion avoidance");
}

void tcp_cc_loss(struct tl_tcp *c)
{
	c->cong.ssthresh = tcp_cc(c)->ssthresh(c);
	c->cong.ca_acked = 0;
}

/* RFC 5681 3.1 (4) and 3.1: after an RTO, cwnd is one segment (the loss window). */
void tcp_cc_rto(struct tl_tcp *c)
{
	tcp_cc_loss(c);
	c->cong.cwnd = c->mss;
}
