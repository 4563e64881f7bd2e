/* The in-flight part of a connection (struct tcp_flight): taken when the
 * connection works, given back when it idles with nothing in flight. What
 * the part held must then be what a fresh one holds, field for field, once
 * the fields that nothing reads while idle are cleared: so a connection
 * behaves the same with the part given back and taken again as with the
 * part kept. One whose part still differs (a CUBIC curve under way, an
 * undo armed) keeps it. The comparison is memcmp's, so the part is only
 * ever written member by member or by memset: no struct assignment leaves
 * stray bytes in its padding. */
#include <stdlib.h>
#include <string.h>

#include "tcp.h"

static void flight_init(const struct tl_tcp *c, struct tcp_flight *f)
{
	memset(f, 0, sizeof *f);
	f->sb.high = c->snd_una;
	f->ts_offset = tcp_ts_offset(c);
	f->xtimer = TCP_XT_RTO;
	f->rto_at = f->delack_at = f->wupd_at = f->idle_at = TL_TIME_NEVER;
}

struct tcp_flight *tcp_flight_get(struct tl_tcp *c)
{
	tl_stack *s = c->stack;

	if (c->fl)
		return c->fl;
	bool bounded = s->cfg.tcp_flight_max && c->state != TL_LISTEN;
	if (bounded && s->tcp->flights >= s->cfg.tcp_flight_max)
		c->fl = NULL;
	else
		c->fl = malloc(sizeof *c->fl);
	if (!c->fl) {
		s->cnt.tcp_flight_nomem++;
		return NULL;
	}
	s->tcp->flights += c->state != TL_LISTEN;
	flight_init(c, c->fl);
	/* Taken for a call that may send nothing: given back after the idle time. */
	if (c->state >= TL_ESTABLISHED && s->cfg.tcp_buf_idle_ms) {
		c->fl->buf_emptied = s->now;
		tcp_set_idle_at(c, s->now + TL_MS(s->cfg.tcp_buf_idle_ms));
	}
	return c->fl;
}

/* Clears what nothing reads while nothing is in flight, each a value that
 * is written before it is read again. */
static void clear_dead(const struct tl_tcp *c, struct tcp_flight *f)
{
	struct tcp_rec *r = &f->rec;

	if (c->ts.ok || !f->rtt.timing)
		memset(&f->rtt, 0, sizeof f->rtt); /* RFC 7323 4.2: TSecr times instead */
	f->pto_from = f->rto_due = 0;	/* read only while rto_at runs */
	f->buf_emptied = 0;		/* read only when idle_at fires */
	f->wupd_rcv_nxt = f->wupd_left = 0; /* read only when wupd_at fires */
	f->dsack_start = f->dsack_end = 0; /* read only if dsack_pending */
	f->ooo_last = 0;		/* read only with ranges held */
	if (c->fin_rcvd)
		f->rcv_fin_seq = 0;	/* read only while the FIN is held */
	if (!(c->pending & TCP_EV_ACCEPTED))
		f->listener = NULL;	/* read only until the accept */
	if (f->challenge_next <= c->stack->now)
		f->challenge_next = 0;	/* RFC 5961 7: the interval is over */
	memset(&f->prr, 0, sizeof f->prr); /* RFC 6937: set when recovery begins */
	r->rexmit_next = r->rexmit_mark = r->rexmit_after = 0; /* likewise */
	r->rexmit_after_set = false;
	/* RFC 8985 6.2: every segment sent from now on is newer than RACK.xmit_ts. */
	r->rack_xmit = 0;
	r->rack_order = r->rack_rtt_us = 0;
	f->sb.sends = 0; /* the order of sends starts again with RACK.xmit_ts */
	if (r->dsack_round_set && seq_geq(c->snd_una, r->dsack_round))
		r->dsack_round = 0, r->dsack_round_set = false; /* that round is over */
	r->fack = r->delivered = 0;	/* per ACK */
	r->delivered_xmit = 0;
	r->delivered_resent = r->sacked_new = false;
	if (!r->tlp_out)
		r->tlp_rexmit = false, r->tlp_end = 0;
	if (!r->eifel_armed)
		r->eifel_ts = 0;
}

/* Nothing in flight, queued, held past a hole or due: the part may go. */
static bool quiet(const struct tl_tcp *c)
{
	const struct tcp_flight *f = c->fl;

	return f && c->state >= TL_ESTABLISHED && !c->in_input && !c->dead &&
	       c->snd_una == c->snd_max && c->sndbuf.len == 0 && c->sndbuf.cap == 0 &&
	       c->rcvbuf.cap == 0 && f->ooo_n == 0 && f->sb.n == 0 &&
	       (c->fin_rcvd || !c->rcv_fin_known) &&
	       f->rto_at == TL_TIME_NEVER && f->delack_at == TL_TIME_NEVER &&
	       f->wupd_at == TL_TIME_NEVER && !c->ack_now && !c->force_send;
}

static void flight_free(struct tl_tcp *c)
{
	struct tcp_flight *f = c->fl;

	c->stack->tcp->ooo_bytes -= f->ooo_held;
	c->stack->tcp->flights -= c->state != TL_LISTEN;
	free(f->sb.seg);
	free(f->ooo);
	free(f);
	c->fl = NULL;
}

void tcp_flight_drop(struct tl_tcp *c)
{
	if (c->fl)
		flight_free(c);
}

/* Gives the part back if it matches a fresh one; true if it went. */
static bool flight_release(struct tl_tcp *c)
{
	struct tcp_flight *f = c->fl, fresh;

	if (f->sb.cap)
		tcp_sb_free(c);
	free(f->ooo);
	f->ooo = NULL;
	tcp_set_idle_at(c, TL_TIME_NEVER);
	clear_dead(c, f);
	flight_init(c, &fresh);
	if (memcmp(f, &fresh, sizeof fresh) != 0)
		return false;
	flight_free(c);
	c->stack->cnt.tcp_flight_released++;
	return true;
}

void tcp_flight_idle(struct tl_tcp *c)
{
	if (quiet(c))
		flight_release(c);
}

/* After a segment: TIME_WAIT sends no data again, so its part goes (a
 * fresh one answers a late segment the same); a connection that has sent
 * nothing but its SYN gives it back as soon as it is quiet. */
void tcp_flight_after_input(struct tl_tcp *c)
{
	struct tcp_flight *f = c->fl;

	if (!f || c->dead || c->in_input)
		return;
	if (c->state == TL_TIME_WAIT && f->challenge_next <= c->stack->now &&
	    c->rcvbuf.len == 0 && f->delack_at == TL_TIME_NEVER) {
		tcp_set_wupd_at(c, TL_TIME_NEVER);
		tcp_set_idle_at(c, TL_TIME_NEVER);
		tcp_timer_rto_stop(c);
		ring_free(&c->sndbuf);
		ring_free(&c->rcvbuf);
		flight_free(c);
		c->stack->cnt.tcp_flight_released++;
		return;
	}
	if (c->snd_max - c->iss == 1 && quiet(c))
		flight_release(c);
}
