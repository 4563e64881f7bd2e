/* RACK-TLP, RFC 8985: losses found by time, not by counting duplicates. A
 * segment is lost once a segment sent after it has been delivered and a
 * reordering window has passed; a tail loss probe makes the peer speak
 * when the last segments of a flight are lost and nothing would. */
#include "tcp.h"

#define DUPTHRESH 3u	/* RFC 8985 6.2 step 4, as RFC 5681's */
#define PERSIST_ROUNDS 16u /* RFC 8985 6.2 step 4: reo_wnd_persist */

/* RFC 8985 6.2: was (t1, o1) sent after (t2, o2)? The RFC breaks a tie of
 * send times by end_seq, which puts a retransmission before new data sent
 * earlier in the same instant; the order of sends is exact. */
static bool sent_after(tl_time t1, uint32_t o1, tl_time t2, uint32_t o2)
{
	return t1 > t2 || (t1 == t2 && (int32_t)(o1 - o2) > 0);
}

/* RFC 8985 6.2 steps 2 and 3, for each segment newly acked or SACKed. */
void tcp_rack_delivered(struct tl_tcp *c, const struct tcp_seg *g)
{
	struct tcp_rec *r = &c->fl->rec;
	uint32_t rtt = (uint32_t)(c->stack->now - g->xmit);
	bool resent = g->flags & TCP_SEG_EVER_RETRANS;

	/* step 3: delivered below what an earlier ACK SACKed, never resent:
	 * reordered (blocks of this ACK, and what it acks, do not count) */
	if (!resent && seq_lt(g->end, r->fack))
		c->rack.reordering_seen = true;
	/* step 2: a resent segment's ACK may answer the original: an RTT
	 * below the minimum is not believed */
	if (resent && rtt < c->rack.min_rtt_us)
		return;
	if (!resent && (c->rack.min_rtt_us == 0 || rtt < c->rack.min_rtt_us))
		c->rack.min_rtt_us = rtt ? rtt : 1;
	r->rack_rtt_us = rtt;
	if (sent_after(g->xmit, g->order, r->rack_xmit, r->rack_order)) {
		r->rack_xmit = g->xmit;
		r->rack_order = g->order;
	}
}

/* RFC 8985 6.2 step 4: a D-SACK widens the window, once per round trip. */
void tcp_rack_dsack(struct tl_tcp *c)
{
	struct tcp_rec *r = &c->fl->rec;

	if (r->dsack_round_set && seq_geq(c->snd_una, r->dsack_round))
		r->dsack_round_set = false;
	if (r->dsack_round_set)
		return;
	r->dsack_round = c->snd_max;
	r->dsack_round_set = true;
	if (c->rack.reo_wnd_mult < UINT16_MAX)
		c->rack.reo_wnd_mult++; /* the window is at most SRTT long anyway */
	c->rack.reo_wnd_persist = PERSIST_ROUNDS;
}

/* RFC 8985 6.2 step 4: after 16 recoveries without a D-SACK, narrow it again. */
void tcp_rack_episode_end(struct tl_tcp *c)
{
	struct tcp_rack *k = &c->rack;

	if (k->reo_wnd_persist && --k->reo_wnd_persist == 0)
		k->reo_wnd_mult = 1;
}

/* RFC 8985 6.2 step 4: the reordering window. */
static uint64_t reo_wnd(const struct tl_tcp *c)
{
	const struct tcp_rec *r = &c->fl->rec;

	if (!c->rack.reordering_seen) {
		if (r->state != TCP_REC_OPEN)
			return 0;
		if (c->fl->sb.sacked >= DUPTHRESH * c->mss)
			return 0;
	}
	uint64_t w = (uint64_t)c->rack.min_rtt_us / 4 * (c->rack.reo_wnd_mult ? c->rack.reo_wnd_mult : 1);
	return w < c->rtt.srtt_us ? w : c->rtt.srtt_us;
}

/* RFC 8985 6.2 step 5: marks lost each segment sent a reordering window
 * before the latest delivered one; returns how long until the next one
 * is due (the reordering timer, 6.3), 0 if none. */
uint64_t tcp_rack_detect_loss(struct tl_tcp *c, uint32_t *newly_lost)
{
	struct tcp_rec *r = &c->fl->rec;
	uint64_t wnd = reo_wnd(c), wait = 0;
	tl_time now = c->stack->now;

	if (!r->rack_xmit)
		return 0;
	for (uint32_t i = 0; i < c->fl->sb.n; i++) {
		struct tcp_seg *g = tcp_sb_at(c, i);
		uint8_t f = g->flags & (TCP_SEG_SACKED | TCP_SEG_LOST | TCP_SEG_RETRANS);
		if (f & TCP_SEG_SACKED || f == TCP_SEG_LOST)
			continue; /* delivered, or lost and not yet resent */
		if (!sent_after(r->rack_xmit, r->rack_order, g->xmit, g->order))
			continue;
		tl_time due = g->xmit + r->rack_rtt_us + wnd;
		if (due <= now) {
			tcp_sb_mark_lost(c, g);
			(*newly_lost)++;
			c->stack->cnt.tcp_rack_lost++;
		} else if (due - now > wait) {
			wait = due - now;
		}
	}
	return wait;
}

/* RFC 8985 7.2: a probe outside recovery, with no probe unanswered, data
 * in flight, an open window (else persist is the timer's job) and SACK to
 * read the answer. Not in RFC 8985, which arms none in recovery: RACK's
 * fast recovery too, where a lost retransmission, or the one ACK for it,
 * with nothing sent after it, would otherwise wait for the RTO. */
static bool probe_allowed(const struct tl_tcp *c)
{
	bool phase = (c->fl->rec.state == TCP_REC_OPEN && seq_geq(c->snd_una, c->recover)) ||
		     (c->fl->rec.state == TCP_REC_FAST && c->rack.on);

	return c->stack->cfg.tcp_tlp && c->sack_ok && c->rtt.srtt_us &&
	       c->snd_max != c->snd_una && c->snd_wnd && phase && !c->fl->rec.tlp_out &&
	       (c->state == TL_ESTABLISHED || c->state == TL_CLOSE_WAIT);
}

/* RFC 8985 7.2: PTO = 2 SRTT, plus the worst-case delayed ACK when one
 * segment is in flight, and never under 10 ms. */
uint64_t tcp_tlp_pto_us(const struct tl_tcp *c)
{
	if (!probe_allowed(c))
		return UINT64_MAX;
	uint64_t pto = 2ull * c->rtt.srtt_us + (c->snd_max - c->snd_una <= c->mss ? 200000u : 0);
	return pto < 10000 ? 10000 : pto;
}

void tcp_send_loss_probe(struct tl_tcp *c)
{
	uint32_t before = c->snd_max;

	/* RFC 8985 7.3: one new segment, even past cwnd, if the peer's window
	 * takes it... */
	c->stack->cnt.tcp_loss_probes++;
	c->fl->rec.tlp_out = true;
	c->cong.cwnd += c->mss;
	tcp_output(c);
	c->cong.cwnd -= c->mss;
	c->fl->rec.tlp_rexmit = c->snd_max == before;
	if (c->fl->rec.tlp_rexmit) {
		/* ...else the last segment sent, again. */
		uint32_t end = c->fin_sent ? c->fin_seq : c->snd_max;
		uint32_t room = tcp_seg_room(c);
		uint32_t len = end - c->snd_una < room ? end - c->snd_una : room;
		tcp_resend(c, end - len, len);
	}
	c->fl->rec.tlp_end = c->snd_max;
	tcp_trace_cwnd(c, c->fl->rec.tlp_rexmit ? "loss probe, last segment again" : "loss probe, new data");
	tcp_timer_rto_restart(c);
}

/* RFC 8985 7.4: did a probe that resent old data repair a loss? A D-SACK
 * (RFC 2883: a block below the ACK) says the original arrived too; an ACK
 * past the probe without one says it did not: reduce, as for a loss. */
void tcp_tlp_ack(struct tl_tcp *c, const struct tcp_hdr *th)
{
	struct tcp_rec *r = &c->fl->rec;

	if (!r->tlp_out)
		return;
	if (r->state != TCP_REC_OPEN) {
		if (seq_geq(th->ack, r->tlp_end))
			r->tlp_out = false; /* in recovery: it reduced already */
		return;
	}
	if (!r->tlp_rexmit) {
		if (seq_geq(th->ack, r->tlp_end))
			r->tlp_out = false; /* new data: loss shows the usual way */
		return;
	}
	if (th->opts.sack_n && seq_leq(th->opts.sack[0][1], th->ack)) {
		r->tlp_out = false;
		return;
	}
	/* An ACK of exactly tlp_end cannot tell; wait for one past it (or the
	 * RTO), as Linux does. */
	if (seq_gt(th->ack, r->tlp_end)) {
		/* Half of cwnd, as Linux's Reno: FlightSize is just the probe now. */
		uint32_t half = c->cong.cwnd / 2;
		c->cong.ssthresh = c->cong.cwnd = half > 2u * c->mss ? half : 2u * c->mss;
		c->cong.ca_acked = 0;
		r->tlp_out = false;
		c->stack->cnt.tcp_loss_probe_repairs++;
		tcp_trace_cwnd(c, "loss probe repaired a loss");
	}
}
