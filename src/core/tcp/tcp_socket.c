/* The TCP socket API (RFC 9293 3.10: OPEN, SEND, RECEIVE, CLOSE, ABORT). */
#include <errno.h>
#include <string.h>

#include "tcp.h"

int tl_tcp_listen(tl_stack *s, uint16_t port, int backlog,
		  const struct tl_tcp_events *ev, void *arg, struct tl_tcp **out)
{
	if (port == 0)
		return -EINVAL;
	if (tcp_find_listener(s, port))
		return -EADDRINUSE;
	struct tl_tcp *l = tcp_listener_new(s, port, backlog);
	if (!l)
		return -ENOMEM;
	l->ev = ev;
	l->arg = arg;
	*out = l;
	return 0;
}

int tl_tcp_connect(tl_stack *s, const struct tl_endpoint *to,
		   const struct tl_tcp_events *ev, void *arg, struct tl_tcp **out)
{
	return tl_tcp_connect_from(s, 0, to, ev, arg, out);
}

int tl_tcp_connect_from(tl_stack *s, uint16_t lport, const struct tl_endpoint *to,
			const struct tl_tcp_events *ev, void *arg, struct tl_tcp **out)
{
	if (to->port == 0 || to->addr == 0)
		return -EINVAL;
	/* RFC 9293 3.4: a connection is named by its pair of sockets: one of each. */
	if (lport && tcp_lookup(s, to->addr, to->port, lport))
		return -EADDRINUSE;
	uint16_t port = lport ? lport : tcp_ephemeral_port(s, to->addr, to->port);
	if (port == 0)
		return -EADDRNOTAVAIL;
	struct tl_tcp *c = tcp_conn_new(s, to->addr, to->port, port);
	if (!c)
		return -ENOBUFS;
	c->ev = ev;
	c->arg = arg;
	c->ws_ok = true; /* offered in our SYN; the SYN-ACK decides */
	/* RFC 9293 3.10.1: OPEN (active): send SYN, enter SYN-SENT. */
	tcp_set_state(c, TL_SYN_SENT);
	s->cnt.tcp_active_opens++;
	tcp_output(c);
	*out = c;
	return 0;
}

void tl_tcp_set_events(struct tl_tcp *c, const struct tl_tcp_events *ev, void *arg)
{
	c->ev = ev;
	c->arg = arg;
}

static bool may_send(const struct tl_tcp *c)
{
	/* RFC 9293 3.10.2: SEND is allowed in ESTABLISHED and CLOSE-WAIT. */
	return !c->dead && !c->fin_queued &&
	       (c->state == TL_ESTABLISHED || c->state == TL_CLOSE_WAIT);
}

ssize_t tl_tcp_send(struct tl_tcp *c, const void *data, size_t len)
{
	if (c->state == TL_SYN_SENT || c->state == TL_SYN_RECEIVED)
		return -ENOTCONN;
	if (!may_send(c))
		return -EPIPE;
	uint32_t room = ring_free_space(&c->sndbuf);
	uint32_t n = len < room ? (uint32_t)len : room;
	if (n == 0)
		return 0;
	if (!tcp_flight_get(c) || ring_reserve(&c->sndbuf, c->sndbuf.len + n) < 0)
		return -ENOMEM;
	ring_write_at(&c->sndbuf, c->sndbuf.len, data, n);
	c->sndbuf.len += n;
	tcp_output(c);
	return n;
}

size_t tl_tcp_send_space(const struct tl_tcp *c)
{
	return may_send(c) ? ring_free_space(&c->sndbuf) : 0;
}

size_t tl_tcp_recv_avail(const struct tl_tcp *c)
{
	return c->rcvbuf.len;
}

/* RFC 1122 4.2.3.3: a pure window update only when it matters: what we
 * still offer is under half the buffer and reading at least doubles it
 * (Linux's rule). Otherwise the next ACK carries the new window anyway. */
static void maybe_window_update(struct tl_tcp *c)
{
	uint32_t offered = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t wnd = tcp_rcv_wnd(c);

	if (offered <= c->rcvbuf.max / 2 && wnd >= 2 * offered &&
	    wnd - offered >= tcp_rcv_sws_step(c)) {
		c->ack_now = true;
		tcp_output(c);
		/* From (nearly) closed to open: if the update is lost, the peer
		 * waits for its persist timer. Repeat it a few times if need be. */
		if (offered < c->mss && c->fl) {
			c->fl->wupd_rcv_nxt = c->rcv_nxt;
			c->fl->wupd_left = 3;
			tcp_set_wupd_at(c, c->stack->now + c->rtt.rto_us);
		}
	}
}

ssize_t tl_tcp_recv(struct tl_tcp *c, void *buf, size_t len)
{
	if (c->rcvbuf.len == 0) {
		if (c->fin_rcvd || c->dead || c->state == TL_CLOSED)
			return 0;
		return -EAGAIN;
	}
	uint32_t n = len < c->rcvbuf.len ? (uint32_t)len : c->rcvbuf.len;
	ring_read_at(&c->rcvbuf, 0, buf, n);
	ring_consume(&c->rcvbuf, n);
	tcp_buf_trim(c);
	if (c->state == TL_ESTABLISHED || c->state == TL_FIN_WAIT_1 ||
	    c->state == TL_FIN_WAIT_2)
		maybe_window_update(c);
	return n;
}

int tl_tcp_shutdown(struct tl_tcp *c)
{
	if (c->fin_queued)
		return 0;
	/* RFC 9293 3.6 and 3.10.4: CLOSE queues a FIN after the data already sent. */
	switch (c->state) {
	case TL_ESTABLISHED:
		tcp_set_state(c, TL_FIN_WAIT_1);
		break;
	case TL_CLOSE_WAIT:
		tcp_set_state(c, TL_LAST_ACK);
		break;
	default:
		return -ENOTCONN;
	}
	c->fin_queued = true;
	tcp_output(c);
	return 0;
}

void tl_tcp_close(struct tl_tcp *c)
{
	if (c->dead)
		return;
	c->app_closed = true;
	switch (c->state) {
	case TL_LISTEN:
	case TL_SYN_SENT:
	case TL_CLOSED:
		tcp_destroy(c); /* RFC 9293 3.10.4: nothing was promised yet */
		return;
	default:
		break;
	}
	/* RFC 2525 2.17: closing with unread data loses it: say so with RST. */
	if (c->rcvbuf.len > 0) {
		tl_tcp_abort(c);
		return;
	}
	tl_tcp_shutdown(c);
	if (c->state == TL_FIN_WAIT_2 && c->tw_at == TL_TIME_NEVER)
		tcp_set_tw_at(c, c->stack->now + TL_MS(2 * (uint64_t)c->stack->cfg.tcp_msl_ms));
}

void tl_tcp_abort(struct tl_tcp *c)
{
	if (c->dead)
		return;
	c->app_closed = true;
	switch (c->state) {
	case TL_SYN_RECEIVED:
	case TL_ESTABLISHED:
	case TL_FIN_WAIT_1:
	case TL_FIN_WAIT_2:
	case TL_CLOSE_WAIT:
		tcp_send_rst(c); /* RFC 9293 3.10.5: <SEQ=SND.NXT><CTL=RST> */
		break;
	default:
		break;
	}
	tcp_destroy(c);
}

void tl_tcp_set_nodelay(struct tl_tcp *c, bool nodelay)
{
	c->nodelay = nodelay;
	tcp_output(c);
}

enum tl_tcp_state tl_tcp_state(const struct tl_tcp *c) { return c->state; }

enum tl_tcp_state tl_tcp_state_of(tl_stack *s, const struct tl_endpoint *remote,
				  uint16_t lport)
{
	struct tl_tcp *c = tcp_lookup(s, remote->addr, remote->port, lport);

	if (c)
		return c->state;
	return tcp_find_listener(s, lport) ? TL_LISTEN : TL_CLOSED;
}

int tl_tcp_rcv_ranges(tl_stack *s, const struct tl_endpoint *remote, uint16_t lport,
		      uint32_t *rcv_nxt, struct tl_seq_range *ranges, int max)
{
	struct tl_tcp *c = tcp_lookup(s, remote->addr, remote->port, lport);

	if (!c)
		return -1;
	*rcv_nxt = c->rcv_nxt;
	uint32_t n = c->fl ? c->fl->ooo_n : 0;
	for (uint32_t i = 0; i < n && (int)i < max; i++) {
		ranges[i].start = c->fl->ooo[i].start;
		ranges[i].end = tcp_ooo_end(c, i);
	}
	if (!tcp_ooo_fin_alone(c))
		return (int)n;
	if ((int)n < max) {
		ranges[n].start = c->fl->rcv_fin_seq;
		ranges[n].end = c->fl->rcv_fin_seq + 1;
	}
	return (int)n + 1;
}

struct tl_endpoint tl_tcp_local(const struct tl_tcp *c)
{
	struct tl_endpoint e = { c->stack->cfg.addr, c->lport };
	return e;
}

struct tl_endpoint tl_tcp_remote(const struct tl_tcp *c)
{
	struct tl_endpoint e = { c->raddr, c->rport };
	return e;
}

void tl_tcp_info(const struct tl_tcp *c, struct tl_tcp_info *out)
{
	bool listener = c->state == TL_LISTEN;

	*out = (struct tl_tcp_info){
		.state = c->state,
		.local = tl_tcp_local(c),
		.remote = tl_tcp_remote(c),
		.recv_q = listener ? (uint32_t)c->fl->half_open : c->rcvbuf.len,
		.send_q = listener ? (uint32_t)c->fl->backlog : c->sndbuf.len,
	};
	if (listener)
		return;
	out->mss = c->mss;
	out->cwnd = c->cong.cwnd;
	out->ssthresh = c->cong.ssthresh;
	out->srtt_us = c->rtt.srtt_us;
	out->rttvar_us = c->rtt.rttvar_us;
	out->rto_us = c->rtt.rto_us;
	out->bytes_in_flight = tcp_flight_size(c);
	out->retrans = c->rexmits;
	out->snd_wnd = c->snd_wnd;
}

void tl_tcp_foreach(tl_stack *s, tl_tcp_each_fn fn, void *arg)
{
	for (const struct tl_tcp *c = s->tcp->all; c; c = c->next)
		fn(arg, c);
	for (const struct tl_tcp *c = s->tcp->tw_head; c; c = c->next)
		fn(arg, c);
}
