/* SEGMENT ARRIVES: RFC 9293 section 3.10.7, walked in the RFC's order. */
#include <errno.h>
#include <string.h>

#include "tcp.h"

#define PAWS_IDLE (24ull * 24 * 3600 * 1000000) /* RFC 7323 5.5: 24 days, in us */

static void tcp_ack_received(struct tl_tcp *c, const struct tcp_hdr *th);

/* The part of a segment that survives trimming to the receive window. */
struct seg_text {
	uint32_t seq;
	const uint8_t *data;
	uint32_t len;
	bool fin;
};

static uint32_t seg_len(const struct tcp_hdr *th)
{
	return (uint32_t)th->data_len + !!(th->flags & TCP_SYN) + !!(th->flags & TCP_FIN);
}

static bool parse_segment(tl_stack *s, const struct ipv4_hdr *ip, struct tcp_hdr *th, bool later)
{
	enum wire_err e = s->in_csum_ok || later
				  ? tcp_parse_verified(ip->payload, ip->payload_len, th)
				  : tcp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, th);

	switch (e) {
	case WIRE_OK:
		/* RFC 9293 3.1 MUST-7: bad options are survived, the segment is kept. */
		s->cnt.tcp_in_bad_options += th->opts_bad && !later; /* counted once */
		return true;
	case WIRE_CHECKSUM: s->cnt.tcp_drop_checksum++; return false;
	case WIRE_OFFSET: s->cnt.tcp_drop_bad_offset++; return false;
	default: s->cnt.tcp_drop_short++; return false;
	}
}

static void apply_syn_options(struct tl_tcp *c, const struct tcp_hdr *th)
{
	uint16_t ours = tcp_our_mss(c->stack);
	/* RFC 9293 3.7.1: without an MSS option assume 536; never exceed ours. */
	uint16_t mss = th->opts.has_mss ? th->opts.mss : TCP_DEFAULT_MSS;

	if (mss > ours)
		mss = ours;
	c->mss = mss < 64 ? 64 : mss; /* RFC 9293 3.7.1: a tiny MSS is hostile */
	c->sack_ok = th->opts.has_sack_perm;
	c->rack.on = c->sack_ok && c->stack->cfg.tcp_recovery == TL_RECOVERY_RACK;
	/* RFC 7323 3.2: timestamps only when both SYNs carry them. */
	c->ts.ok = c->stack->cfg.tcp_timestamps && th->opts.has_ts;
	if (c->ts.ok) {
		c->ts.recent = th->opts.ts_val;
		c->ts_recent_at = c->stack->now;
		c->mss -= 12; /* RFC 6691 2: SMSS excludes the 12 bytes of TSopt each segment carries */
	}
	if (th->opts.has_wscale) {
		/* RFC 7323 2.3: a shift above 14 is used as 14. */
		c->ws_ok = true;
		c->snd_wscale = th->opts.wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE
								  : th->opts.wscale;
	} else {
		/* RFC 7323 2.2: scaling only when both sides offered it. */
		c->ws_ok = false;
		c->snd_wscale = c->rcv_wscale = 0;
	}
	tcp_cc_init(c);
}

void tcp_learn_peer_syn(struct tl_tcp *c, const struct tcp_hdr *th)
{
	c->irs = th->seq;
	c->irs_known = true;
	c->rcv_nxt = th->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	apply_syn_options(c, th);
	/* RFC 7323 2.2: the window of a SYN is not scaled. */
	c->snd_wnd = th->wnd;
	c->max_snd_wnd = th->wnd;
	c->snd_wl1 = th->seq;
	c->snd_wl2 = th->ack;
}

static void listen_syn(tl_stack *s, struct tl_tcp *l, const struct ipv4_hdr *ip,
		       const struct tcp_hdr *th, const uint32_t *iss_floor);

/* RFC 9293 3.10.7.2: a segment for a LISTEN socket. */
static void listen_input(tl_stack *s, struct tl_tcp *l, const struct ipv4_hdr *ip,
			 const struct tcp_hdr *th)
{
	if (th->flags & TCP_RST)
		return; /* first: an incoming RST is ignored */
	if (th->flags & TCP_ACK) {
		tcp_listen_ack(s, l, ip, th); /* second */
		return;
	}
	if (!(th->flags & TCP_SYN)) {
		s->cnt.tcp_drop_other++;
		return;
	}
	/* 3.10.7.2 third would queue the FIN; SYN+FIN is a scanner's probe: dropped, as Linux does. */
	if (th->flags & TCP_FIN) {
		s->cnt.tcp_drop_syn_fin++;
		return;
	}
	listen_syn(s, l, ip, th, NULL);
}

/* RFC 9293 3.10.7.2 third: a SYN; iss_floor, if set, is the least ISS. */
static void listen_syn(tl_stack *s, struct tl_tcp *l, const struct ipv4_hdr *ip,
		       const struct tcp_hdr *th, const uint32_t *iss_floor)
{
	if (l->fl->half_open >= l->fl->backlog) {
		if (s->cfg.tcp_syncookies)
			tcp_cookie_reply(s, l, ip, th);
		else
			s->cnt.tcp_drop_listen_full++;
		return;
	}
	struct tl_tcp *c = tcp_conn_new(s, ip->src, th->sport, th->dport);
	if (!c) {
		s->cnt.tcp_drop_table_full++;
		return;
	}
	if (iss_floor && seq_lt(c->iss, *iss_floor)) {
		c->iss = *iss_floor;
		c->snd_una = c->snd_nxt = c->snd_max = c->recover = c->fl->sb.high = c->iss;
	}
	/* third: SYN. Remember the peer, answer <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. */
	tcp_learn_peer_syn(c, th);
	tcp_passive_open(c, l);
	tcp_output(c);
}

/* RFC 9293 3.10.7.3: a segment in SYN-SENT. */
/* checkpoint 7 */
static void syn_sent_input(struct tl_tcp *c, const struct ipv4_hdr *ip,
			   const struct tcp_hdr *th)
{
	tl_stack *s = c->stack;
	bool has_ack = th->flags & TCP_ACK;

	/* first: an ACK must acknowledge our SYN and nothing beyond it. */
	if (has_ack && (seq_leq(th->ack, c->iss) || seq_gt(th->ack, c->snd_max))) {
		if (!(th->flags & TCP_RST))
			tcp_send_reset_reply(s, ip, th);
		return;
	}
	/* second: RST with an acceptable ACK means connection refused. */
	if (th->flags & TCP_RST) {
		if (has_ack) {
			s->cnt.tcp_resets_in++;
			tcp_drop(c, -ECONNREFUSED);
		}
		return;
	}
	/* fourth: SYN. */
	if (!(th->flags & TCP_SYN)) {
		s->cnt.tcp_drop_other++;
		return;
	}
	tcp_learn_peer_syn(c, th);
	if (has_ack) {
		if (c->fl->rtt.timing) {
			tcp_rtt_sample(c, (uint32_t)(s->now - c->fl->rtt.start));
			c->fl->rtt.timing = false;
		}
		c->snd_una = th->ack;
	}
	if (seq_gt(c->snd_una, c->iss)) {
		tcp_timer_rto_stop(c);
		c->fl->retries = 0;
		tcp_set_state(c, TL_ESTABLISHED);
		c->ack_now = true;
		c->pending |= TCP_EV_CONNECTED;
	} else {
		/* Simultaneous open: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. */
		tcp_set_state(c, TL_SYN_RECEIVED);
		c->snd_nxt = c->iss;
	}
}

static void challenge_ack(struct tl_tcp *c)
{
	tl_stack *s = c->stack;

	uint32_t iv = s->cfg.tcp_challenge_ack_interval_ms;

	/* RFC 5961 7: challenge ACKs are throttled, per connection first (so no
	 * single connection can probe the shared budget, CVE-2016-5696)... */
	if (iv && s->now < c->fl->challenge_next) {
		s->cnt.tcp_challenge_ack_conn_limited++;
		return;
	}
	/* ...then one limit for the system. */
	if (!tl_bucket_take(s, &s->tcp->challenge_bucket, s->cfg.tcp_challenge_ack_per_sec)) {
		s->cnt.tcp_challenge_ack_limited++;
		return;
	}
	c->fl->challenge_next = s->now + TL_MS(iv);
	s->cnt.tcp_out_challenge_ack++;
	tcp_send_ack(c);
}

/* The window our acceptability test uses: at least what we advertised. */
static uint32_t rcv_window(const struct tl_tcp *c)
{
	uint32_t wnd = tcp_rcv_wnd(c);
	uint32_t adv = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	return wnd > adv ? wnd : adv;
}

/* RFC 9293 3.10.7.4 first: the four cases of the acceptability test. */
/* checkpoint 3 */
static bool acceptable(const struct tl_tcp *c, const struct tcp_hdr *th)
{
	uint32_t len = seg_len(th), wnd = rcv_window(c), nxt = c->rcv_nxt;

	/* A zero window still takes the ACK and RST of a segment at its edge. */
	if (wnd == 0)
		return th->seq == nxt;
	/* A bare ACK may sit exactly on the right edge: it is the peer's SND.NXT
	 * after it filled our window. Linux accepts it too; refusing it would
	 * throw its ACK away. */
	if (len == 0)
		return seq_leq(nxt, th->seq) && seq_leq(th->seq, nxt + wnd);
	return seq_in(th->seq, nxt, nxt + wnd) ||
	       seq_in(th->seq + len - 1, nxt, nxt + wnd);
}

/* RFC 9293 3.10.7.4 first: keep only the text inside the window. */
/* checkpoint 3 */
static struct seg_text trim(const struct tl_tcp *c, const struct tcp_hdr *th)
{
	struct seg_text t = { th->seq + !!(th->flags & TCP_SYN), th->data,
			      (uint32_t)th->data_len, (th->flags & TCP_FIN) != 0 };
	uint32_t edge = c->rcv_nxt + rcv_window(c);

	if (seq_lt(t.seq, c->rcv_nxt)) {
		uint32_t skip = c->rcv_nxt - t.seq;
		if (skip > t.len) {
			t.fin = false; /* the FIN too is old */
			skip = t.len;
		}
		t.data += skip;
		t.len -= skip;
		t.seq += skip;
	}
	if (seq_gt(t.seq + t.len, edge)) {
		t.len = seq_gt(edge, t.seq) ? edge - t.seq : 0;
		t.fin = false;
	}
	return t;
}

/* RFC 2883 4: data below RCV.NXT arrived again; the next ACK says so in
 * its first SACK block, so the sender can tell a needless retransmission. */
static void dsack_note(struct tl_tcp *c, const struct tcp_hdr *th)
{
	uint32_t start = th->seq + !!(th->flags & TCP_SYN);

	if (!c->sack_ok || th->data_len == 0 || !seq_lt(start, c->rcv_nxt))
		return;
	uint32_t end = seq_min(start + (uint32_t)th->data_len, c->rcv_nxt);
	c->fl->dsack_pending = true;
	c->fl->dsack_start = start;
	c->fl->dsack_end = end;
	c->stack->cnt.tcp_dsack_out++;
}

/* RFC 9293 3.10.7.4 second, with RFC 5961 3.2: the exact match, which
 * 3.10.7.4 applies to stacks with that protection (RFC 793 3.4 and RFC 9293
 * 3.5.3 take any RST in the window); and RFC 1337. The caller has dropped a
 * RST outside the window. */
/* checkpoint 7 */
static void rst_input(struct tl_tcp *c, const struct tcp_hdr *th)
{
	tl_stack *s = c->stack;

	if (th->seq != c->rcv_nxt) {
		challenge_ack(c); /* RFC 5961 3.2: in window but not exact */
		return;
	}
	switch (c->state) {
	case TL_TIME_WAIT:
		return; /* RFC 1337: ignore RST in TIME_WAIT (TIME-WAIT assassination) */
	case TL_SYN_RECEIVED:
		/* A passive open returns to LISTEN: the listener never saw it. */
		tcp_drop(c, c->passive ? 0 : -ECONNREFUSED);
		return;
	default:
		s->cnt.tcp_resets_in++;
		tcp_drop(c, -ECONNRESET);
		return;
	}
}

/* A SYN in SYN-RECEIVED with the peer's ISN: a retransmitted SYN, or in a
 * simultaneous open the peer's SYN-ACK (RFC 9293 3.5, figure 7). */
static void syn_received_syn(struct tl_tcp *c, const struct tcp_hdr *th)
{
	if ((th->flags & TCP_ACK) && seq_gt(th->ack, c->snd_una) &&
	    seq_leq(th->ack, c->snd_max)) {
		tcp_ack_received(c, th);
		c->snd_wnd = th->wnd;
		c->snd_wl1 = th->seq;
		c->snd_wl2 = th->ack;
		tcp_set_state(c, TL_ESTABLISHED);
		c->pending |= c->passive ? TCP_EV_ACCEPTED : TCP_EV_CONNECTED;
		return;
	}
	c->snd_nxt = c->iss; /* our SYN-ACK was lost: send it again */
}

/* RFC 9293 3.8.6: the peer closed its window below what we had sent, so
 * what lay past the edge was dropped. Now it reopens: resend from SND.UNA
 * what the window takes, at once, instead of after a backed-off probe. */
static void window_reopened(struct tl_tcp *c)
{
	if (!seq_lt(c->snd_una + c->snd_wnd, c->snd_nxt))
		return;
	c->stack->cnt.tcp_snd_wnd_shrunk++;
	c->fl->rtt.timing = false; /* RFC 6298 3 (Karn): what follows is resent */
	tcp_rec_resend_all(c);
	tcp_timer_rto_restart(c);
}

/* checkpoint 4 */
static void update_window(struct tl_tcp *c, const struct tcp_hdr *th)
{
	bool was_closed = c->snd_wnd == 0;

	/* RFC 9293 3.10.7.4 fifth: take the window only from a newer segment. */
	if (seq_lt(c->snd_wl1, th->seq) ||
	    (c->snd_wl1 == th->seq && seq_leq(c->snd_wl2, th->ack))) {
		c->snd_wnd = (uint32_t)th->wnd << c->snd_wscale;
		c->snd_wl1 = th->seq;
		c->snd_wl2 = th->ack;
		if (c->snd_wnd > c->max_snd_wnd)
			c->max_snd_wnd = c->snd_wnd;
		/* The peer answers our probes: persisting is not failing. */
		if (c->snd_wnd == 0)
			c->fl->retries = 0;
		else if (was_closed)
			window_reopened(c);
	}
}

/* RFC 9293 3.10.7.4 fifth: SND.UNA < SEG.ACK =< SND.NXT: set SND.UNA,
 * drop what is acknowledged from the send queue, restart the timer. */
static void tcp_ack_received(struct tl_tcp *c, const struct tcp_hdr *th)
{
	uint32_t acked = th->ack - c->snd_una;
	uint32_t data = acked < c->sndbuf.len ? acked : c->sndbuf.len;

	/* RFC 6298 2: an RTT sample when the timed segment is acknowledged
	 * (and nothing was resent meanwhile that this ACK may have waited for);
	 * with timestamps, every ACK gives one (tcp_rtt_from_ack). */
	if (c->fl->rtt.timing && seq_gt(th->ack, c->fl->rtt.seq) && !c->ts.ok) {
		if (!c->fl->rtt.dirty)
			tcp_rtt_sample(c, (uint32_t)(c->stack->now - c->fl->rtt.start));
		c->fl->rtt.timing = false;
	}
	tcp_sb_ack(c, th->ack);
	tcp_rtt_from_ack(c, th);
	ring_consume(&c->sndbuf, data);
	tcp_buf_trim(c);
	c->snd_una = th->ack;
	/* Keep recover just behind SND.UNA outside recovery, so that it never
	 * falls 2^31 behind and reads as ahead (RFC 6582 only compares with it). */
	if (c->fl->rec.state == TCP_REC_OPEN && seq_gt(c->snd_una, c->recover))
		c->recover = c->snd_una - 1;
	if (seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	c->fl->retries = 0;
	/* RFC 6298 5.2 and 5.3: stop the timer when all is acked, else restart. */
	if (c->snd_una == c->snd_max)
		tcp_timer_rto_stop(c);
	else
		tcp_timer_arm(c);
	if (data)
		c->pending |= TCP_EV_WRITABLE;
}

/* RFC 9293 3.10.7.4 fifth, in FIN-WAIT-1, CLOSING and LAST-ACK: what the
 * ACK of our FIN moves the state to. False when the connection is gone. */
/* checkpoint 7 */
static bool our_fin_acked(struct tl_tcp *c)
{
	if (!tcp_fin_acked(c))
		return true;
	if (c->state == TL_FIN_WAIT_1) {
		tcp_set_state(c, TL_FIN_WAIT_2);
		/* Not in the RFC: a closed socket waits for the FIN only so long. */
		if (c->app_closed)
			tcp_set_tw_at(c, c->stack->now + TL_MS(2 * (uint64_t)c->stack->cfg.tcp_msl_ms));
	} else if (c->state == TL_CLOSING) {
		tcp_enter_time_wait(c);
	} else if (c->state == TL_LAST_ACK) {
		tcp_drop(c, 0);
		return false;
	}
	return true;
}

/* RFC 9293 3.10.7.4 fifth: the ACK field. False ends processing. */
static bool ack_input(struct tl_tcp *c, const struct ipv4_hdr *ip,
		      const struct tcp_hdr *th)
{
	tl_stack *s = c->stack;

	if (!(th->flags & TCP_ACK)) {
		s->cnt.tcp_drop_other++;
		return false;
	}
	if (c->state == TL_SYN_RECEIVED) {
		if (!seq_gt(th->ack, c->snd_una) || seq_gt(th->ack, c->snd_max)) {
			tcp_send_reset_reply(s, ip, th); /* <SEQ=SEG.ACK><CTL=RST> */
			return false;
		}
		tcp_set_state(c, TL_ESTABLISHED);
		c->pending |= c->passive ? TCP_EV_ACCEPTED : TCP_EV_CONNECTED;
	}
	if (seq_gt(th->ack, c->snd_max)) {
		c->ack_now = true; /* acks something not yet sent: ACK and drop */
		return false;
	}
	/* RFC 5961 5.2: an ACK too far in the past gets a challenge ACK. */
	if (seq_lt(th->ack, c->snd_una - c->max_snd_wnd)) {
		challenge_ack(c);
		return false;
	}
	/* An old ACK (reordered on the way) acknowledges nothing new. */
	uint32_t acked = seq_gt(th->ack, c->snd_una) ? th->ack - c->snd_una : 0;
	uint32_t data = acked < c->sndbuf.len ? acked : c->sndbuf.len;
	enum tcp_rec_state was = c->fl->rec.state;
	tcp_rec_sacks(c, th);
	if (acked)
		tcp_ack_received(c, th);
	tcp_rec_ack(c, th, acked, data);
	/* RFC 8985 7.2: recovery ended on this ACK: the probe timer may run now. */
	if (was != TCP_REC_OPEN && c->fl->rec.state == TCP_REC_OPEN && c->fl->xtimer == TCP_XT_RTO &&
	    c->snd_una != c->snd_max)
		tcp_timer_arm(c);
	update_window(c, th);
	return our_fin_acked(c);
}

/* RFC 9293 3.10.7.4 seventh: segment text. */
static void text_input(struct tl_tcp *c, const struct seg_text *t)
{
	if (t->len == 0)
		return;
	if (c->state != TL_ESTABLISHED && c->state != TL_FIN_WAIT_1 &&
	    c->state != TL_FIN_WAIT_2)
		return; /* after the peer's FIN, text is not expected: ignore it */
	if (c->app_closed) {
		/* RFC 9293 3.10.4 / RFC 2525 2.17: nobody will read it: reset. */
		tcp_send_rst(c);
		tcp_drop(c, 0);
		return;
	}
	bool in_order = t->seq == c->rcv_nxt && c->fl->ooo_n == 0;

	if (tcp_reass_insert(c, t->seq, t->data, t->len))
		c->pending |= TCP_EV_READABLE;
	if (in_order)
		tcp_ack_in_order(c, t->len);
	else
		c->ack_now = true; /* RFC 5681 4.2: out-of-order data, or data that fills a gap */
}

/* RFC 9293 3.10.7.4 eighth: the FIN, once every byte before it is in. */
/* checkpoint 7 */
static void fin_input(struct tl_tcp *c)
{
	c->fin_rcvd = true;
	c->rcv_nxt++;
	c->ack_now = true;
	c->pending |= TCP_EV_READABLE;
	switch (c->state) {
	case TL_SYN_RECEIVED:
	case TL_ESTABLISHED:
		tcp_set_state(c, TL_CLOSE_WAIT);
		break;
	case TL_FIN_WAIT_1:
		if (tcp_fin_acked(c))
			tcp_enter_time_wait(c);
		else
			tcp_set_state(c, TL_CLOSING); /* simultaneous close */
		break;
	case TL_FIN_WAIT_2:
		tcp_enter_time_wait(c);
		break;
	default:
		break;
	}
}

/* RFC 7323 5.3 R1 (PAWS), before the sequence check: a TSval older than
 * TS.Recent marks an old duplicate, unless the connection idled 24 days. */
static bool paws_reject(struct tl_tcp *c, const struct tcp_hdr *th)
{
	if (!c->ts.ok || !th->opts.has_ts || (th->flags & TCP_RST) ||
	    !seq_lt(th->opts.ts_val, c->ts.recent))
		return false;
	if (c->stack->now - c->ts_recent_at <= PAWS_IDLE)
		return true;
	c->ts.recent = th->opts.ts_val;
	c->ts_recent_at = c->stack->now;
	return false;
}

/* RFC 7323 4.3 (2): keep the TSval of the segment our next ACK answers. */
void tcp_ts_update_recent(struct tl_tcp *c, const struct tcp_hdr *th)
{
	if (c->ts.ok && th->opts.has_ts && seq_geq(th->opts.ts_val, c->ts.recent) &&
	    seq_leq(th->seq, c->ts.last_ack_sent)) {
		c->ts.recent = th->opts.ts_val;
		c->ts_recent_at = c->stack->now;
	}
}

/* RFC 9293 3.10.7.4 eighth: a FIN is taken once the text before it is in;
 * one beyond a hole is held until then. */
static void fin_arrives(struct tl_tcp *c, const struct seg_text *t)
{
	if (t->fin && !c->rcv_fin_known) {
		c->rcv_fin_known = true;
		c->fl->rcv_fin_seq = t->seq + t->len;
	}
	if (c->rcv_fin_known && !c->fin_rcvd && c->rcv_nxt == c->fl->rcv_fin_seq)
		fin_input(c);
	else if (t->fin && c->state == TL_TIME_WAIT)
		tcp_enter_time_wait(c);
	else if (t->fin && !c->fin_rcvd)
		c->ack_now = true; /* RFC 5681 4.2: a FIN out of order is ACKed at once */
}

/* RFC 9293 3.10.7.4, steps one to eight, for a synchronized connection
 * (and SYN-RECEIVED); each step is named where it is taken. */
static void segment_arrives(struct tl_tcp *c, const struct ipv4_hdr *ip,
			    const struct tcp_hdr *th)
{
	tl_stack *s = c->stack;

	if (c->state == TL_SYN_RECEIVED && (th->flags & TCP_SYN) &&
	    !(th->flags & TCP_RST) && th->seq == c->irs) {
		syn_received_syn(c, th);
		return;
	}
	if (paws_reject(c, th)) {
		s->cnt.tcp_drop_paws++;
		c->ack_now = true; /* RFC 7323 5.3 R1: as for an unacceptable segment */
		return;
	}
	if (!(th->flags & TCP_RST))
		dsack_note(c, th);
	if (!acceptable(c, th)) {
		s->cnt.tcp_drop_unacceptable++;
		/* RFC 9293 3.10.7.4 first: answer with <SEQ=SND.NXT><ACK=RCV.NXT>. */
		if (!(th->flags & TCP_RST))
			c->ack_now = true;
		if (c->state == TL_TIME_WAIT && (th->flags & TCP_FIN))
			tcp_enter_time_wait(c); /* a retransmitted FIN restarts 2 MSL */
		return;
	}
	tcp_ts_update_recent(c, th);
	struct seg_text t = trim(c, th);
	if (th->data_len && t.len == 0) {
		s->cnt.tcp_dup_data++;
		c->ack_now = true; /* RFC 9293 3.10.7.4: say what we expect instead */
	}
	if (th->flags & TCP_RST) { /* second: the RST bit */
		rst_input(c, th);
		return;
	}
	/* Third (security): no compartments here, so nothing to compare. */
	if (th->flags & TCP_SYN) {
		/* Fourth, with RFC 5961 4.2: a SYN here gets a challenge ACK. */
		challenge_ack(c);
		return;
	}
	if (!ack_input(c, ip, th) || c->dead) /* fifth: the ACK field */
		return;
	/* Sixth (URG): not signalled; the text is read in line (RFC 9293 3.8.5). */
	text_input(c, &t); /* seventh: the text */
	if (!c->dead)
		fin_arrives(c, &t); /* eighth: the FIN */
}

/* Delivers the events collected in c->pending. */
static void tcp_fire_events(struct tl_tcp *c)
{
	uint8_t ev = c->pending;

	c->pending = 0;
	if (ev & TCP_EV_ACCEPTED) {
		struct tl_tcp *l = c->fl->listener;
		if (!l) {
			tl_tcp_abort(c); /* the listener is gone: nobody to accept */
			return;
		}
		/* The application meets the connection now, with the listener's events. */
		c->ev = l->ev;
		c->arg = l->arg;
		if (l->ev && l->ev->accepted)
			l->ev->accepted(l->arg, l, c);
	}
	if (c->dead || c->app_closed || !c->ev)
		return;
	if ((ev & TCP_EV_CONNECTED) && c->ev->connected)
		c->ev->connected(c->arg, c);
	if (!c->dead && !c->app_closed && (ev & TCP_EV_WRITABLE) && c->ev->writable)
		c->ev->writable(c->arg, c);
	if (!c->dead && !c->app_closed && (ev & TCP_EV_READABLE) && c->ev->readable)
		c->ev->readable(c->arg, c);
}

void tcp_input_done(struct tl_tcp *c)
{
	/* Events run while output waits, so an answer rides with the ACK. */
	if (!c->dead)
		tcp_fire_events(c);
	c->in_input = false;
	tcp_output(c);
	tcp_flight_after_input(c);
}

void tcp_conn_input(struct tl_tcp *c, const struct ipv4_hdr *ip, const struct tcp_hdr *th)
{
	if (!tcp_flight_get(c))
		return; /* no memory: the segment is dropped (counted), as if lost */
	c->in_input = true;
	if (c->state == TL_SYN_SENT)
		syn_sent_input(c, ip, th);
	else
		segment_arrives(c, ip, th);
	tcp_input_done(c);
}

/* RFC 1122 4.2.2.13: a SYN above RCV.NXT may reopen a passive TIME_WAIT, with
 * an ISS above the old one's (its rule 2, back to TIME_WAIT for an old
 * duplicate, is not kept: like Linux, the new half-open connection dies). */
static bool time_wait_reopen(tl_stack *s, struct tl_tcp *c, const struct ipv4_hdr *ip,
			     const struct tcp_hdr *th)
{
	struct tl_tcp *l;

	if (c->state != TL_TIME_WAIT || !c->passive ||
	    (th->flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) != TCP_SYN ||
	    !seq_gt(th->seq, c->rcv_nxt) || !(l = tcp_find_listener(s, th->dport)))
		return false;
	uint32_t floor = c->snd_max + 65536; /* a whole unscaled window beyond */
	s->cnt.tcp_time_wait_reopened++;
	tcp_drop(c, 0);
	listen_syn(s, l, ip, th, &floor);
	return true;
}

void tcp_input(tl_stack *s, const struct ipv4_hdr *ip)
{
	struct tcp_hdr th;

	s->cnt.tcp_in++;
	bool later = tcp_fast_sum_later(s, ip);
	if (!parse_segment(s, ip, &th, later))
		return;
	struct tl_tcp *c = tcp_lookup(s, ip->src, th.sport, th.dport);
	if (tl_tracing(s)) /* never with later: its checksum is known good */
		tcp_trace_segment(s, c, false, ip->src, ip->dst, &th);
	if (c && th.data_len && tcp_fast_input(c, ip, &th, !later)) {
		tcp_reap(s);
		return;
	}
	if (later && !parse_segment(s, ip, &th, false)) /* not predicted: the checksum now */
		return;
	if (c) {
		if (!time_wait_reopen(s, c, ip, &th))
			tcp_conn_input(c, ip, &th);
	} else {
		struct tl_tcp *l = tcp_find_listener(s, th.dport);
		if (l) {
			listen_input(s, l, ip, &th);
		} else {
			/* RFC 9293 3.10.7.1: CLOSED. RST answers all but a RST. */
			s->cnt.tcp_drop_no_conn++;
			if (!(th.flags & TCP_RST))
				tcp_send_reset_reply(s, ip, &th);
		}
	}
	tcp_reap(s);
}
