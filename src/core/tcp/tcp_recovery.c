/* Loss recovery: what each ACK says about loss, and the repair. Two paths:
 *   RACK (the default with SACK): losses by time (tcp_rack.c), what to resend
 *     by the scoreboard (RFC 6675 NextSeg), how much by PRR (RFC 6937), and
 *     reductions undone when D-SACKs show them spurious (RFC 3708);
 *   classic (peers without SACK, or --recovery newreno): three duplicate
 *     ACKs (RFC 5681 3.2) and NewReno (RFC 6582), with SACK holes repaired.
 * The input path calls the verbs at the end of tcp.h; cwnd arithmetic is
 * tcp_cc.c's. */
#include "tcp.h"

/* ---- what both paths share: SACK blocks, D-SACK, undo ---- */

/* RFC 3708 2: the reduction of this episode may be undone later. */
static void arm_undo(struct tl_tcp *c)
{
	struct tcp_rec *r = &c->fl->rec;

	r->undo_armed = true;
	r->undo_retrans = 0;
	r->undo_marker = c->snd_una;
	r->prior_cwnd = c->cong.cwnd;
	r->prior_ssthresh = c->cong.ssthresh;
}

/* RFC 3708 2: every retransmission of the episode came back as a D-SACK:
 * none was needed, so neither was the reduction. */
static void undo(struct tl_tcp *c, const char *why)
{
	struct tcp_rec *r = &c->fl->rec;

	r->undo_armed = false;
	if (c->cong.cwnd < r->prior_cwnd)
		c->cong.cwnd = r->prior_cwnd;
	if (c->cong.ssthresh < r->prior_ssthresh)
		c->cong.ssthresh = r->prior_ssthresh;
	if (r->state != TCP_REC_OPEN) {
		r->state = TCP_REC_OPEN;
		tcp_rack_episode_end(c);
	}
	c->stack->cnt.tcp_undo++;
	tcp_trace_cwnd(c, why);
}

/* RFC 2883 4: the first block reports a duplicate when it lies below the
 * ACK or inside the second block. */
static bool is_dsack(const struct tcp_hdr *th)
{
	const uint32_t(*b)[2] = th->opts.sack;

	if (th->opts.sack_n == 0)
		return false;
	if (seq_leq(b[0][1], th->ack))
		return true;
	return th->opts.sack_n > 1 && seq_geq(b[0][0], b[1][0]) && seq_leq(b[0][1], b[1][1]);
}

static void dsack_seen(struct tl_tcp *c, uint32_t start, uint32_t end)
{
	struct tcp_rec *r = &c->fl->rec;
	uint32_t segs = (end - start + c->mss - 1) / c->mss;

	c->stack->cnt.tcp_dsack_in++;
	if (!tcp_rec_rack(c))
		return;
	tcp_rack_dsack(c);
	/* RFC 3708 2: only a duplicate of what this episode resent counts. */
	if (!r->undo_armed || !r->undo_retrans || seq_lt(start, r->undo_marker))
		return;
	r->undo_retrans = r->undo_retrans > segs ? r->undo_retrans - segs : 0;
	if (r->undo_retrans == 0)
		undo(c, "D-SACK: the retransmissions were spurious, reduction undone");
}

void tcp_rec_delivered(struct tl_tcp *c, const struct tcp_seg *g)
{
	struct tcp_rec *r = &c->fl->rec;

	r->delivered += g->end - g->start;
	if (g->flags & TCP_SEG_EVER_RETRANS)
		r->delivered_resent = true;
	else if (!r->delivered_xmit || g->xmit < r->delivered_xmit)
		r->delivered_xmit = g->xmit;
	tcp_rack_delivered(c, g);
}

/* RFC 6675 4 (Update): marks what [start, end) covers as SACKed. */
static void sack_range(struct tl_tcp *c, uint32_t start, uint32_t end)
{
	uint32_t i = tcp_sb_find(c, start);

	if (i < c->fl->sb.n && seq_lt(tcp_sb_at(c, i)->start, start) && tcp_sb_split(c, i, start))
		i++;
	for (; i < c->fl->sb.n && seq_lt(tcp_sb_at(c, i)->start, end); i++) {
		if (seq_gt(tcp_sb_at(c, i)->end, end) && !tcp_sb_split(c, i, end))
			break;
		struct tcp_seg *g = tcp_sb_at(c, i);
		if (seq_lt(g->start, start) || (g->flags & TCP_SEG_SACKED))
			continue;
		tcp_rec_delivered(c, g);
		tcp_sb_mark_sacked(c, g);
		if (seq_gt(g->end, c->fl->sb.high)) {
			c->fl->sb.high = g->end;
			c->fl->rec.sacked_new = true;
		}
	}
}

/* The valid blocks of th, in sequence order (RFC 2018 4: inside what was
 * sent and not yet cumulatively acknowledged). */
static uint8_t sack_blocks(const struct tl_tcp *c, const struct tcp_hdr *th, uint8_t from,
			   uint32_t out[][2])
{
	uint8_t n = 0;

	for (uint8_t i = from; i < th->opts.sack_n; i++) {
		uint32_t s = th->opts.sack[i][0], e = th->opts.sack[i][1];
		if (!seq_lt(s, e) || !seq_gt(s, th->ack) || !seq_gt(s, c->snd_una) ||
		    seq_gt(e, c->snd_max))
			continue;
		uint8_t j = n++;
		for (; j > 0 && seq_lt(s, out[j - 1][0]); j--) {
			out[j][0] = out[j - 1][0];
			out[j][1] = out[j - 1][1];
		}
		out[j][0] = s;
		out[j][1] = e;
	}
	return n;
}

void tcp_rec_sacks(struct tl_tcp *c, const struct tcp_hdr *th)
{
	uint32_t blk[TCP_MAX_SACK][2];
	uint8_t first = 0;

	c->fl->rec.delivered = 0;
	c->fl->rec.fack = c->fl->sb.high;
	c->fl->rec.delivered_xmit = 0;
	c->fl->rec.delivered_resent = false;
	c->fl->rec.sacked_new = false;
	tcp_tlp_ack(c, th);
	if (!c->sack_ok || th->opts.sack_n == 0)
		return;
	if (is_dsack(th)) {
		dsack_seen(c, th->opts.sack[0][0], th->opts.sack[0][1]);
		first = 1;
	}
	uint8_t n = sack_blocks(c, th, first, blk);
	for (uint8_t i = 0; i < n; i++)
		sack_range(c, blk[i][0], blk[i][1]);
	/* RFC 6298 3: the timed segment, never resent, was SACKed: a sample
	 * (the way Linux samples from SACKs; it keeps a backed-off RTO short-lived). */
	if (c->fl->rtt.timing && !c->ts.ok && tcp_sb_is_sacked(c, c->fl->rtt.seq)) {
		tcp_rtt_sample(c, (uint32_t)(c->stack->now - c->fl->rtt.start));
		c->fl->rtt.timing = false;
	}
}

/* ---- the classic path: duplicate ACKs and NewReno ---- */

static void tcp_retransmit_first(struct tl_tcp *c)
{
	uint32_t seq = c->snd_una, end = tcp_data_end(c), room = tcp_seg_room(c);
	uint32_t len = end - seq < room ? end - seq : room;
	/* Resend only what was sent: never past SND.MAX from here. */
	if (len > c->snd_max - seq)
		len = c->snd_max - seq;

	if (len == 0 && !(c->fin_sent && !tcp_fin_acked(c)))
		return;
	c->fl->rec.rexmit_mark = c->snd_max;
	c->fl->rec.rexmit_after_set = false;
	tcp_resend(c, seq, len);
}

/* Resends the next hole below the highest SACK (RFC 6675 NextSeg rule 1);
 * false if there is none. */
static bool retransmit_hole(struct tl_tcp *c)
{
	struct tcp_rec *r = &c->fl->rec;
	uint32_t seq = tcp_sb_sacked_end(c, seq_max(r->rexmit_next, c->snd_una));

	/* Only below the highest SACK is a gap known to be lost. */
	if (!seq_lt(seq, c->fl->sb.high))
		return false;
	uint32_t len = tcp_sb_unsacked_run(c, seq, tcp_seg_room(c));
	if (len > c->fl->sb.high - seq)
		len = c->fl->sb.high - seq;
	if (len > tcp_data_end(c) - seq)
		len = tcp_data_end(c) - seq;
	if (len == 0)
		return false;
	if (!r->rexmit_after_set) {
		r->rexmit_after = seq;
		r->rexmit_after_set = true;
	}
	tcp_resend(c, seq, len);
	r->rexmit_next = seq + len;
	return true;
}

/* RFC 6582 3.2 steps 3 and 5: an ACK of new data during fast recovery. */
static void newreno_ack(struct tl_tcp *c, uint32_t acked)
{
	struct tcp_cong *g = &c->cong;

	if (seq_geq(c->snd_una, c->recover)) {
		/* Full acknowledgment: min(ssthresh, max(FlightSize, SMSS) + SMSS). */
		uint32_t f = (tcp_flight_size(c) > c->mss ? tcp_flight_size(c) : c->mss) + c->mss;
		g->cwnd = f < g->ssthresh ? f : g->ssthresh;
		c->fl->rec.state = TCP_REC_OPEN;
		tcp_trace_cwnd(c, "recovery exit");
		return;
	}
	/* Partial acknowledgment: resend the next hole, deflate by what was acked. */
	if (seq_leq(c->fl->rec.rexmit_next, c->snd_una)) {
		tcp_retransmit_first(c);
		c->fl->rec.rexmit_next = c->snd_una + c->mss;
	}
	retransmit_hole(c);
	g->cwnd = g->cwnd > acked ? g->cwnd - acked : 0;
	if (acked >= c->mss)
		g->cwnd += c->mss;
	if (g->cwnd < c->mss)
		g->cwnd = c->mss;
	tcp_trace_cwnd(c, "partial ack");
}

/* RFC 5681 2: a duplicate ACK repeats SND.UNA with no data and the same
 * window. A receiver that grows its window on every ACK (Linux does) would
 * hide every duplicate, so an ACK that SACKs new data counts too (RFC 6675 2). */
static bool is_dupack(const struct tl_tcp *c, const struct tcp_hdr *th)
{
	if (th->ack != c->snd_una || c->snd_una == c->snd_max || th->data_len ||
	    (th->flags & (TCP_SYN | TCP_FIN)))
		return false;
	/* RFC 9293 3.8.6.1: a closed window answers our probes; it says nothing of loss. */
	if (th->wnd == 0)
		return false;
	return c->fl->rec.sacked_new || ((uint32_t)th->wnd << c->snd_wscale) == c->snd_wnd;
}

/* Three, or fewer when too little is in flight to produce three and
 * nothing new can be sent (RFC 5827 early retransmit). */
static uint32_t dupack_threshold(const struct tl_tcp *c)
{
	uint32_t oust = (tcp_flight_size(c) + c->mss - 1) / c->mss;

	if (oust >= 2 && oust < 4 && c->snd_max == tcp_data_end(c))
		return oust - 1;
	return 3;
}

/* RFC 6582 3.2 step 4, in recovery: inflate; repair the next hole, or the
 * retransmission of SND.UNA if data sent after it was SACKed (RACK's idea). */
static void dupack_in_recovery(struct tl_tcp *c)
{
	struct tcp_rec *r = &c->fl->rec;

	c->cong.cwnd += c->mss;
	if (seq_gt(c->fl->sb.high, r->rexmit_mark) ||
	    (r->rexmit_after_set && tcp_sb_is_sacked(c, r->rexmit_after))) {
		tcp_retransmit_first(c);
		tcp_trace_cwnd(c, "lost retransmission, sent again");
		return;
	}
	retransmit_hole(c); /* RFC 6675 5 (C): a segment left the network */
}

/* Both paths: reduce once, and recover up to what has been sent. */
static void begin_fast_recovery(struct tl_tcp *c)
{
	tcp_cc_loss(c);
	c->recover = c->snd_max;
	c->fl->rec.state = TCP_REC_FAST;
	c->fl->rec.tlp_out = false; /* RFC 8985 7.4: recovery makes its own response */
	if (c->fl->xtimer == TCP_XT_PTO)
		tcp_timer_arm(c); /* a probe in recovery only on the RACK path */
	c->stack->cnt.tcp_fast_rexmit++;
}

/* RFC 5681 3.2 steps 2-4: reduce, resend the first hole, inflate by 3. */
/* checkpoint 6 */
static void fast_retransmit(struct tl_tcp *c)
{
	begin_fast_recovery(c);
	tcp_retransmit_first(c);
	c->fl->rec.rexmit_next = c->snd_una + c->mss;
	c->cong.cwnd = c->cong.ssthresh + 3u * c->mss;
	tcp_trace_cwnd(c, "fast retransmit, recovery enter");
}

static void dupack_received(struct tl_tcp *c, const struct tcp_hdr *th)
{
	struct tcp_rec *r = &c->fl->rec;

	c->stack->cnt.tcp_dupacks_in++;
	r->dupacks++;
	if (r->sacked_new)
		r->sack_dupacks++;
	if (r->state == TCP_REC_FAST) {
		dupack_in_recovery(c);
		return;
	}
	/* RFC 8985 6.2 and 7.4: the loss probe went out a PTO (2 SRTT) after
	 * the rest and was SACKed, so by RACK's rule what is missing below it is lost. */
	bool probe_sacked = r->tlp_out && seq_geq(c->fl->sb.high, r->tlp_end);
	if (r->dupacks != dupack_threshold(c) && !probe_sacked)
		return;
	/* RFC 6582 3.2 step 2: only a loss after the last recovery point, or
	 * (RFC 6582 4, its heuristic in SACK form) when every one of these dup
	 * ACKs SACKed new data: what we resent arrived, so SND.UNA was lost again. */
	if (!seq_gt(th->ack, c->recover) && !probe_sacked) {
		if (r->sack_dupacks < r->dupacks)
			return;
		/* The RTO already answered this window's loss: resend, no new
		 * reduction, and cwnd not inflated from a flight the RTO discounted. */
		c->stack->cnt.tcp_fast_rexmit++;
		tcp_retransmit_first(c);
		tcp_trace_cwnd(c, "lost again after the RTO, sent again");
		return;
	}
	fast_retransmit(c);
}

static void classic_ack(struct tl_tcp *c, const struct tcp_hdr *th, uint32_t acked,
			uint32_t data)
{
	struct tcp_rec *r = &c->fl->rec;

	if (!acked) {
		if (is_dupack(c, th))
			dupack_received(c, th);
		return;
	}
	r->dupacks = r->sack_dupacks = 0;
	if (r->state == TCP_REC_FAST) {
		newreno_ack(c, acked);
		return;
	}
	if (r->state == TCP_REC_LOSS && seq_geq(c->snd_una, c->recover))
		r->state = TCP_REC_OPEN;
	if (data)
		tcp_cc_on_ack(c, data); /* data only: the ACK of a SYN grows nothing */
}

/* ---- the RACK path: PRR sizes what the scoreboard says to resend ---- */

/* RFC 6937 3.1 (PRR-SSRB): how far cwnd may exceed the pipe after this ACK. */
static void prr_ack(struct tl_tcp *c)
{
	struct tcp_cong *g = &c->cong;
	struct tcp_prr *p = &c->fl->prr;
	uint32_t pipe = tcp_sb_pipe(c), delivered = c->fl->rec.delivered;
	int64_t sndcnt;

	p->prr_delivered += delivered;
	if (pipe > g->ssthresh) {
		/* proportional: CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out */
		uint64_t fs = p->recover_fs ? p->recover_fs : 1;
		sndcnt = (int64_t)(((uint64_t)p->prr_delivered * g->ssthresh + fs - 1) / fs) - p->prr_out;
	} else {
		/* slow start reduction bound: up to ssthresh, one MSS per ACK ahead */
		int64_t ahead = (int64_t)p->prr_delivered - p->prr_out;
		int64_t limit = (ahead > delivered ? ahead : delivered) + c->mss;
		int64_t gap = (int64_t)g->ssthresh - pipe;
		sndcnt = gap < limit ? gap : limit;
	}
	if (sndcnt < 0)
		sndcnt = 0;
	if (sndcnt == 0 && p->prr_out == 0)
		sndcnt = c->mss; /* the fast retransmit itself always goes */
	sndcnt = (sndcnt + c->mss - 1) / c->mss * c->mss;
	g->cwnd = pipe + (uint32_t)sndcnt;
}

/* RFC 6675 5 and RFC 8985 6.2: a loss is detected; reduce once per window. */
static void enter_fast(struct tl_tcp *c)
{
	struct tcp_prr *p = &c->fl->prr;

	arm_undo(c);
	begin_fast_recovery(c);
	p->prr_delivered = p->prr_out = 0;
	p->recover_fs = tcp_flight_size(c); /* RFC 6937 3: RecoverFS */
	tcp_trace_cwnd(c, "RACK: loss detected, recovery enter");
}

/* RFC 6675 5 / RFC 6937: recovery ends when SND.UNA passes recover. */
static void recovery_done(struct tl_tcp *c)
{
	if (c->fl->rec.state == TCP_REC_FAST) {
		c->cong.cwnd = c->cong.ssthresh; /* RFC 6937 3.1: at the end, cwnd = ssthresh */
		tcp_trace_cwnd(c, "recovery exit");
	}
	c->fl->rec.state = TCP_REC_OPEN;
	tcp_rack_episode_end(c);
}

static void rack_ack(struct tl_tcp *c, uint32_t data)
{
	struct tcp_rec *r = &c->fl->rec;
	uint32_t lost = 0;
	uint64_t wait = 0;

	if (r->state != TCP_REC_OPEN && seq_geq(c->snd_una, c->recover))
		recovery_done(c);
	if (r->delivered && (c->fl->sb.sacked || c->fl->sb.lost || r->state != TCP_REC_OPEN))
		wait = tcp_rack_detect_loss(c, &lost);
	if (lost && r->state == TCP_REC_OPEN)
		enter_fast(c);
	if (r->state == TCP_REC_FAST)
		prr_ack(c);
	else if (data)
		tcp_cc_on_ack(c, data);
	if (wait)
		tcp_timer_reorder(c, wait);
}

/* RFC 3522 2 (Eifel): the first ACK after an RTO echoes a TSval older
 * than the retransmission's: the original arrived, the timeout was
 * spurious. RFC 4015 3: take the reduction back, resend nothing more. */
static void eifel_check(struct tl_tcp *c, const struct tcp_hdr *th)
{
	c->fl->rec.eifel_armed = false;
	if (!th->opts.has_ts || !seq_lt(th->opts.ts_ecr, c->fl->rec.eifel_ts))
		return;
	c->stack->cnt.tcp_spurious_rto++;
	tcp_sb_unmark_lost(c);
	if (!tcp_rec_rack(c))
		c->snd_nxt = c->snd_max;
	undo(c, "Eifel: the timeout was spurious, reduction undone");
}

void tcp_rec_ack(struct tl_tcp *c, const struct tcp_hdr *th, uint32_t acked, uint32_t data)
{
	if (acked && c->fl->rec.eifel_armed)
		eifel_check(c, th);
	if (tcp_rec_rack(c))
		rack_ack(c, data);
	else
		classic_ack(c, th, acked, data);
}

void tcp_rec_reorder_timeout(struct tl_tcp *c)
{
	uint32_t lost = 0;

	c->fl->rec.delivered = 0; /* a timer delivers nothing: PRR must not count the last ACK twice */
	uint64_t wait = tcp_rack_detect_loss(c, &lost);

	if (lost && c->fl->rec.state == TCP_REC_OPEN)
		enter_fast(c);
	if (lost && c->fl->rec.state == TCP_REC_FAST)
		prr_ack(c);
	tcp_timer_arm(c);
	if (wait)
		tcp_timer_reorder(c, wait);
	tcp_output(c);
}

/* RFC 6675 NextSeg rule 1 within PRR's cwnd: the first lost segment not
 * yet resent, while pipe < cwnd and the peer's window takes it. */
bool tcp_rec_resend_lost(struct tl_tcp *c)
{
	uint32_t edge = c->snd_una + c->snd_wnd;
	bool sent = false;

	for (uint32_t i = 0; c->fl->sb.lost > c->fl->sb.retrans && i < c->fl->sb.n; i++) {
		struct tcp_seg *g = tcp_sb_at(c, i);
		if ((g->flags & (TCP_SEG_LOST | TCP_SEG_RETRANS | TCP_SEG_SACKED)) != TCP_SEG_LOST)
			continue;
		if (tcp_sb_pipe(c) >= c->cong.cwnd || !seq_lt(g->start, edge))
			break;
		uint32_t room = tcp_seg_room(c), lim = edge - g->start < room ? edge - g->start : room;
		if (g->end - g->start > lim)
			tcp_sb_split(c, i, g->start + lim);
		g = tcp_sb_at(c, i);
		uint32_t end = seq_min(g->end, tcp_data_end(c));
		tcp_resend(c, g->start, seq_gt(end, g->start) ? end - g->start : 0);
		sent = true;
	}
	return sent;
}

/* RFC 6298 5.4-5.6 with RFC 5681 3.1 and RFC 6675 5.1: the timer fired. */
void tcp_rec_rto(struct tl_tcp *c)
{
	struct tcp_rec *r = &c->fl->rec;
	bool rack = tcp_rec_rack(c);

	if (r->state != TCP_REC_LOSS)
		arm_undo(c);
	/* RFC 3522 2: remember the TSval of the first retransmission. */
	r->eifel_armed = c->ts.ok && c->fl->retries == 1;
	r->eifel_ts = tcp_ts_now(c);
	tcp_cc_rto(c);
	/* RFC 6582 4: an RTO ends fast recovery; recover = highest sent. */
	r->state = TCP_REC_LOSS;
	c->recover = c->snd_max;
	r->dupacks = r->sack_dupacks = 0;
	r->rexmit_next = c->snd_una;
	r->tlp_out = false;
	/* RFC 6675 5.1: resending can skip what was SACKed, unless timeouts
	 * repeat: then the receiver may have dropped it (reneged); forget it. */
	if (rack) {
		tcp_sb_mark_all_lost(c, c->fl->retries > 1);
		return;
	}
	if (c->fl->retries > 1)
		tcp_sb_mark_all_lost(c, true);
	c->snd_nxt = c->snd_una; /* RFC 6298 5.4: go back to SND.UNA */
}

/* Everything in flight is to be sent again from SND.UNA (a window that had
 * shrunk, a path MTU that fell), without a congestion response. */
void tcp_rec_resend_all(struct tl_tcp *c)
{
	if (tcp_rec_rack(c))
		tcp_sb_mark_all_lost(c, false);
	else
		c->snd_nxt = c->snd_una;
}
