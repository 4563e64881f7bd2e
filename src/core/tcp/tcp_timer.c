/* Timers: retransmission (RFC 6298), zero-window probes, TIME_WAIT. */
#include <errno.h>
#include <stdlib.h>

#include "tcp.h"

#define RTO_CLOCK_US 1000u /* G, the clock granularity of RFC 6298 2 */

static tl_time tcp_conn_deadline(const struct tl_tcp *c);

/* ---- the timer heap: a binary min-heap on each connection's deadline ---- */

static bool heap_before(const struct tl_tcp *a, const struct tl_tcp *b)
{
	return tcp_conn_deadline(a) < tcp_conn_deadline(b);
}

static void heap_place(struct tcp_table *t, uint32_t i, struct tl_tcp *c)
{
	t->heap[i] = c;
	c->heap_idx = i;
}

static void sift_up(struct tcp_table *t, uint32_t i)
{
	struct tl_tcp *c = t->heap[i];

	while (i > 0 && heap_before(c, t->heap[(i - 1) / 2])) {
		heap_place(t, i, t->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_place(t, i, c);
}

static void sift_down(struct tcp_table *t, uint32_t i)
{
	struct tl_tcp *c = t->heap[i];

	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		struct tl_tcp *best = c;
		if (l < t->heap_n && heap_before(t->heap[l], best))
			m = l, best = t->heap[l];
		if (l + 1 < t->heap_n && heap_before(t->heap[l + 1], best))
			m = l + 1, best = t->heap[l + 1];
		if (m == i)
			break;
		heap_place(t, i, best);
		i = m;
	}
	heap_place(t, i, c);
}

void tcp_timer_remove(struct tl_tcp *c)
{
	struct tcp_table *t = c->stack->tcp;
	uint32_t i = c->heap_idx;

	if (i == TCP_NOT_HEAPED)
		return;
	c->heap_idx = TCP_NOT_HEAPED;
	struct tl_tcp *last = t->heap[--t->heap_n];
	if (i == t->heap_n)
		return;
	heap_place(t, i, last);
	sift_up(t, i);
	sift_down(t, last->heap_idx);
}

bool tcp_timer_reserve(tl_stack *s, uint32_t n)
{
	struct tcp_table *t = s->tcp;
	uint32_t cap = t->heap_cap ? t->heap_cap : 64;

	while (cap < n)
		cap *= 2;
	if (cap == t->heap_cap)
		return true;
	struct tl_tcp **h = realloc(t->heap, cap * sizeof *h);
	if (!h)
		return false;
	t->heap = h;
	t->heap_cap = cap;
	return true;
}

/* Puts c where its (changed) deadline belongs. */
static void heap_update(struct tl_tcp *c)
{
	struct tcp_table *t = c->stack->tcp;

	if (c->dead)
		return;
	if (tcp_conn_deadline(c) == TL_TIME_NEVER) {
		tcp_timer_remove(c);
		return;
	}
	if (c->heap_idx == TCP_NOT_HEAPED)
		heap_place(t, t->heap_n++, c); /* its room was reserved when it was made */
	sift_up(t, c->heap_idx);
	sift_down(t, c->heap_idx);
}

/* Every deadline change goes through tcp_set_*_at, so the timer heap knows
 * each connection's earliest deadline without scanning. */
static void tcp_set_rto_at(struct tl_tcp *c, tl_time t)
{
	c->fl->rto_at = t;
	heap_update(c);
}

void tcp_set_tw_at(struct tl_tcp *c, tl_time t)
{
	c->tw_at = t;
	heap_update(c);
}

void tcp_set_delack_at(struct tl_tcp *c, tl_time t)
{
	if (c->fl->delack_at == t)
		return;
	c->fl->delack_at = t;
	heap_update(c);
}

void tcp_set_wupd_at(struct tl_tcp *c, tl_time t)
{
	c->fl->wupd_at = t;
	heap_update(c);
}

void tcp_set_idle_at(struct tl_tcp *c, tl_time t)
{
	c->fl->idle_at = t;
	heap_update(c);
}

static void timer_start(struct tl_tcp *c, enum tcp_xtimer kind, uint64_t us)
{
	c->fl->xtimer = kind;
	tcp_set_rto_at(c, c->stack->now + us);
}

void tcp_timer_rto_restart(struct tl_tcp *c)
{
	timer_start(c, TCP_XT_RTO, c->rtt.rto_us);
}

void tcp_timer_rto_stop(struct tl_tcp *c)
{
	c->fl->xtimer = TCP_XT_RTO;
	tcp_set_rto_at(c, TL_TIME_NEVER);
}

/* RFC 8985 7.2 (TLP_calc_PTO): a PTO after the last new data, but never
 * later than the RTO would fire: then the probe goes in the RTO's place. */
static tl_time pto_deadline(const struct tl_tcp *c, uint64_t pto)
{
	tl_time t = c->fl->pto_from + pto;

	return t < c->fl->rto_due ? t : c->fl->rto_due;
}

void tcp_timer_arm(struct tl_tcp *c)
{
	uint64_t pto = tcp_tlp_pto_us(c);

	c->fl->rto_due = c->stack->now + c->rtt.rto_us;
	if (pto == UINT64_MAX) {
		tcp_timer_rto_restart(c);
		return;
	}
	c->fl->xtimer = TCP_XT_PTO;
	c->fl->pto_from = c->stack->now;
	tcp_set_rto_at(c, pto_deadline(c, pto));
}

/* RFC 8985 7.2: new data restarts the PTO. Later is left to rto_expired,
 * which moves the timer when it fires; but a PTO armed for one segment in
 * flight held the delayed-ACK allowance, which a second segment ends. */
void tcp_timer_pto_sent(struct tl_tcp *c, bool was_one)
{
	c->fl->pto_from = c->stack->now;
	if (!was_one)
		return;
	uint64_t pto = tcp_tlp_pto_us(c);
	if (pto != UINT64_MAX)
		tcp_set_rto_at(c, pto_deadline(c, pto));
}

void tcp_timer_reorder(struct tl_tcp *c, uint64_t us)
{
	if (c->fl->rto_at == TL_TIME_NEVER || c->stack->now + us < c->fl->rto_at)
		timer_start(c, TCP_XT_REORDER, us);
}

static uint32_t clamp_rto(const struct tl_tcp *c, uint64_t rto)
{
	uint64_t lo = (uint64_t)c->stack->cfg.tcp_rto_min_ms * 1000u;
	uint64_t hi = (uint64_t)c->stack->cfg.tcp_rto_max_ms * 1000u;

	return (uint32_t)(rto < lo ? lo : rto > hi ? hi : rto);
}

/* The RTO of RFC 9293 3.8.1, as RFC 6298 2.3 computes it, with alpha =
 * 1/(8 n), beta = 1/(4 n): n = 1 for one sample per round trip, more when
 * every ACK gives one (RFC 7323 G). */
/* checkpoint 5 */
static void rtt_update(struct tl_tcp *c, uint32_t r, uint32_t n)
{
	struct tcp_rtt *t = &c->rtt;

	if (t->srtt_us == 0) {
		/* RFC 6298 2.2: the first measurement. */
		t->srtt_us = r ? r : 1;
		t->rttvar_us = r / 2;
	} else {
		int64_t diff = (int64_t)t->srtt_us - r;
		int64_t var = (int64_t)t->rttvar_us + ((diff < 0 ? -diff : diff) - t->rttvar_us) / (4 * n);
		t->rttvar_us = (uint32_t)var;
		t->srtt_us = (uint32_t)((int64_t)t->srtt_us - diff / (8 * n));
		if (t->srtt_us == 0)
			t->srtt_us = 1;
	}
	uint32_t k = 4 * t->rttvar_us;
	/* RFC 6298 2.2-2.4: RTO = SRTT + max(G, 4*RTTVAR), clamped. */
	c->rtt.rto_us = clamp_rto(c, (uint64_t)t->srtt_us + (k > RTO_CLOCK_US ? k : RTO_CLOCK_US));
	tcp_trace_rtt(c, r, n);
}

void tcp_rtt_sample(struct tl_tcp *c, uint32_t r)
{
	rtt_update(c, r, 1);
}

void tcp_rtt_from_ack(struct tl_tcp *c, const struct tcp_hdr *th)
{
	uint32_t r;

	if (!c->ts.ok)
		return;
	/* Karn in spirit: an ACK that also covers resent data may have waited for it. */
	if (c->fl->rec.delivered_xmit && !c->fl->rec.delivered_resent) {
		r = (uint32_t)(c->stack->now - c->fl->rec.delivered_xmit); /* to the us, as Linux prefers */
	} else if (th->opts.has_ts && th->opts.ts_ecr) {
		uint32_t ms = tcp_ts_now(c) - th->opts.ts_ecr; /* RFC 7323 4.2: RTTM */
		if (ms > c->stack->cfg.tcp_rto_max_ms)
			return; /* a TSecr from another life */
		r = ms * 1000;
	} else {
		return;
	}
	/* RFC 7323 G: ExpectedSamples = ceiling(FlightSize / (SMSS * 2)). */
	uint32_t flight = c->snd_max - th->ack, n = (flight + 2u * c->mss - 1) / (2u * c->mss);
	rtt_update(c, r, n ? n : 1);
}

void tcp_enter_time_wait(struct tl_tcp *c)
{
	tcp_set_state(c, TL_TIME_WAIT);
	tcp_timer_rto_stop(c);
	/* RFC 9293 3.10.7.4: TIME_WAIT lasts 2 MSL. */
	tcp_set_tw_at(c, c->stack->now + TL_MS(2 * (uint64_t)c->stack->cfg.tcp_msl_ms));
	tcp_buf_trim(c);
	tcp_tw_track(c);
}

static tl_time tcp_conn_deadline(const struct tl_tcp *c)
{
	const struct tcp_flight *f = c->fl;
	tl_time t = c->tw_at;

	if (!f)
		return t;
	t = f->rto_at < t ? f->rto_at : t;
	t = f->delack_at < t ? f->delack_at : t;
	t = f->idle_at < t ? f->idle_at : t;
	return f->wupd_at < t ? f->wupd_at : t;
}

void tcp_timer_check(struct tl_tcp *c)
{
	if (c->fl->rto_at != TL_TIME_NEVER)
		return;
	/* RFC 6298 5.1: a timer runs whenever data is outstanding... */
	if (c->snd_una != c->snd_max)
		tcp_timer_arm(c);
	/* ...and RFC 9293 3.8.6.1: the persist timer while data waits on the window. */
	else if (seq_lt(c->snd_nxt, tcp_data_end(c)))
		timer_start(c, TCP_XT_PERSIST, c->rtt.rto_us);
}

static bool synchronized(const struct tl_tcp *c)
{
	return c->state != TL_SYN_SENT && c->state != TL_SYN_RECEIVED;
}

/* RFC 9293 3.8.6.1: probe a closed window with data waiting; or (the
 * override) push a small segment when nothing is in flight. With data in
 * flight and the window open again, the timer is an RTO after all. */
static bool persisting(const struct tl_tcp *c)
{
	if (!synchronized(c))
		return false;
	if (c->snd_wnd == 0)
		return seq_lt(c->snd_una, tcp_data_end(c));
	return c->fl->xtimer == TCP_XT_PERSIST && c->snd_una == c->snd_max;
}

static const struct tl_event ev_persist = {
	"persist", "{peer}:{port} persist: zero-window probe, next in {next_ms} ms",
	{ TL_FIELD("peer", TL_ADDR), TL_FIELD("port", TL_NUM), TL_FIELD("next_ms", TL_NUM) },
};

/* The persist timer fired: probe a zero window, or push a small segment. */
static void persist_expired(struct tl_tcp *c)
{
	tl_stack *s = c->stack;

	c->fl->retries++;
	/* RFC 9293 3.8.6.1 and RFC 1122 4.2.2.17: probes back off like the RTO. */
	c->rtt.rto_us = clamp_rto(c, (uint64_t)c->rtt.rto_us * 2);
	if (c->snd_wnd == 0) {
		TL_TRACE(s, &ev_persist, TL_N(c->raddr), TL_N(c->rport), TL_N(c->rtt.rto_us / 1000));
		tcp_send_probe(c);
		timer_start(c, TCP_XT_PERSIST, c->rtt.rto_us);
		return;
	}
	c->force_send = true; /* RFC 1122 4.2.3.4 (d): the override timeout */
	tcp_output(c);
}

/* RFC 8985 7.2-7.3: the probe timer fired; it may have moved meanwhile. */
static void pto_expired(struct tl_tcp *c)
{
	uint64_t pto = tcp_tlp_pto_us(c);

	if (pto == UINT64_MAX)
		tcp_timer_rto_restart(c); /* recovery began, the window closed... */
	else if (pto_deadline(c, pto) > c->stack->now)
		tcp_set_rto_at(c, pto_deadline(c, pto)); /* new data since: RFC 8985 7.2 moved it */
	else
		tcp_send_loss_probe(c);
}

static const struct tl_event ev_timeout = {
	"timeout", "{peer}:{port} timeout after {retries} retransmissions",
	{ TL_FIELD("peer", TL_ADDR), TL_FIELD("port", TL_NUM), TL_FIELD("retries", TL_NUM) },
};
static const struct tl_event ev_rto = {
	"rto", "{peer}:{port} RTO fired (retry {retry}), {?syn:SYN again, }next rto {next_ms} ms",
	{ TL_FIELD("peer", TL_ADDR), TL_FIELD("port", TL_NUM), TL_FIELD("retry", TL_NUM),
	  TL_FIELD("next_ms", TL_NUM), TL_FIELD("syn", TL_NUM) },
};

static void rto_expired(struct tl_tcp *c)
{
	tl_stack *s = c->stack;

	tcp_set_rto_at(c, TL_TIME_NEVER);
	if (c->fl->xtimer == TCP_XT_REORDER) {
		tcp_rec_reorder_timeout(c);
		return;
	}
	if (c->fl->xtimer == TCP_XT_PTO) {
		pto_expired(c);
		return;
	}
	c->fl->rec.tlp_out = false;
	if (c->fl->retries >= s->cfg.tcp_max_retries) {
		/* RFC 9293 3.8.3 (R2), RFC 1122 4.2.3.5: give up and tell the application. */
		s->cnt.tcp_timeouts++;
		TL_TRACE(s, &ev_timeout, TL_N(c->raddr), TL_N(c->rport), TL_N(c->fl->retries));
		/* RFC 1122 4.2.3.9: an ICMP error that came before says why. */
		tcp_drop(c, c->soft_err ? -c->soft_err : -ETIMEDOUT);
		return;
	}
	if (persisting(c)) {
		persist_expired(c);
		return;
	}
	/* checkpoint 5: begin */
	c->fl->retries++;
	/* RFC 6298 5.5: back off the timer. */
	c->rtt.rto_us = clamp_rto(c, (uint64_t)c->rtt.rto_us * 2);
	/* RFC 6298 3: Karn, no RTT sample from a retransmitted segment. */
	c->fl->rtt.timing = false;
	/* checkpoint 5: end */
	s->cnt.tcp_rto++;
	s->cnt.tcp_rexmit++;
	c->rexmits++;
	if (synchronized(c)) {
		tcp_rec_rto(c);
	} else {
		c->snd_nxt = c->iss; /* the SYN again */
	}
	TL_TRACE(s, &ev_rto, TL_N(c->raddr), TL_N(c->rport), TL_N(c->fl->retries),
		 TL_N(c->rtt.rto_us / 1000), TL_IF(!synchronized(c), TL_N(1)));
	if (synchronized(c))
		tcp_trace_cwnd(c, "RTO");
	/* RFC 6298 5.4 + RFC 5681 3.1: resend from snd_una, one segment (cwnd). */
	tcp_output(c);
}

static void conn_timers(struct tl_tcp *c)
{
	tl_stack *s = c->stack;

	if (c->tw_at <= s->now) {
		tcp_set_tw_at(c, TL_TIME_NEVER);
		if (c->state == TL_TIME_WAIT)
			s->cnt.tcp_time_wait_expired++;
		/* TIME_WAIT over, or FIN_WAIT_2 left waiting too long. */
		tcp_drop(c, 0);
		return;
	}
	if (!c->fl)
		return;
	if (c->fl->rto_at <= s->now)
		rto_expired(c);
	if (!c->dead && c->fl->wupd_at <= s->now) {
		/* A window we reopened brought nothing: the update may have been
		 * lost, and the peer's persist timer may be far off. Say it again. */
		tcp_set_wupd_at(c, TL_TIME_NEVER);
		if (c->rcv_nxt == c->fl->wupd_rcv_nxt && c->fl->wupd_left) {
			c->fl->wupd_left--;
			c->ack_now = true;
			tcp_output(c);
			tcp_set_wupd_at(c, s->now + 2 * (tl_time)c->rtt.rto_us);
		}
	}
	if (!c->dead && c->fl->delack_at <= s->now) {
		/* RFC 1122 4.2.3.2: the delayed ACK is due. */
		tcp_set_delack_at(c, TL_TIME_NEVER);
		if (c->fl->ack_at_poll)
			s->cnt.tcp_batch_acks++;
		else
			s->cnt.tcp_delayed_acks++;
		c->ack_now = true;
		tcp_output(c);
	}
	if (!c->dead && c->fl->idle_at <= s->now)
		tcp_buf_idle(c); /* last: it may give the in-flight part back */
}

void tcp_poll(tl_stack *s)
{
	struct tcp_table *t = s->tcp;

	/* Each round clears or moves the due timer, so this ends; the bound is a
	 * guard against a bug turning into a hang. */
	for (uint32_t n = 0; t->heap_n && n < 4 * t->heap_n + 64; n++) {
		struct tl_tcp *c = t->heap[0];
		if (tcp_conn_deadline(c) > s->now)
			break;
		conn_timers(c);
	}
	tcp_reap(s);
}

tl_time tcp_next_deadline(const tl_stack *s)
{
	const struct tcp_table *t = s->tcp;

	return t->heap_n ? tcp_conn_deadline(t->heap[0]) : TL_TIME_NEVER;
}
