/* Header prediction: the in-order data segment of a bulk transfer, taken
 * without walking SEGMENT ARRIVES (Van Jacobson's fast path, as BSD and
 * Linux have it). A segment is predicted only when every step of RFC 9293
 * 3.10.7.4 would do nothing for it but deliver its text; anything else
 * takes the full path in tcp_input.c, which is the one to read first. */
#include "tcp.h"

/* Only ACK (and PSH) set, and the options this connection always carries. */
static bool plain_header(const struct tl_tcp *c, const struct tcp_hdr *th)
{
	if ((th->flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_URG | TCP_ACK)) != TCP_ACK)
		return false;
	if (!c->ts.ok)
		return th->hdr_len == TCP_HDR_LEN;
	/* RFC 7323 5.3 R1: a TSval older than TS.Recent goes the PAWS way. */
	return th->hdr_len == TCP_HDR_LEN + 12 && th->opts.has_ts && !th->opts_bad &&
	       th->opts.sack_n == 0 && !seq_lt(th->opts.ts_val, c->ts.recent);
}

/* checkpoint 3 */
static bool predicted(const struct tl_tcp *c, const struct tcp_hdr *th)
{
	const struct tcp_flight *f = c->fl;

	/* RFC 9293 3.10.7.4 first: exactly the next byte and inside the window, so
	 * nothing is trimmed; fifth: it acknowledges nothing new and keeps the window. */
	return c->stack->cfg.tcp_fast_path && c->state == TL_ESTABLISHED && f && !c->app_closed &&
	       !c->rcv_fin_known && th->data_len && th->seq == c->rcv_nxt &&
	       th->ack == c->snd_una && c->snd_una == c->snd_max && c->snd_wnd &&
	       ((uint32_t)th->wnd << c->snd_wscale) == c->snd_wnd && plain_header(c, th) &&
	       f->ooo_n == 0 && !f->dsack_pending && f->rec.state == TCP_REC_OPEN &&
	       !f->rec.tlp_out && th->data_len <= tcp_rcv_wnd(c);
}

/* The text goes past the readable end of the receive ring; unless the
 * checksum was checked already (summed), it is summed as it is copied (RFC 9293
 * 3.1), and nothing is kept if it is wrong. */
static bool copy_text(struct tl_tcp *c, const struct ipv4_hdr *ip, const struct tcp_hdr *th,
		      bool summed)
{
	tl_stack *s = c->stack;
	uint32_t len = (uint32_t)th->data_len;

	if (summed) {
		ring_write_at(&c->rcvbuf, c->rcvbuf.len, th->data, len);
		return true;
	}
	uint32_t sum = csum_pseudo(ip->src, ip->dst, IP_PROTO_TCP, (uint16_t)ip->payload_len);
	sum = csum_add_vec(sum, ip->payload, th->hdr_len);
	sum = csum_join(sum, ring_write_sum_at(&c->rcvbuf, c->rcvbuf.len, th->data, len), th->hdr_len);
	if (csum_fold(sum) == 0)
		return true;
	s->cnt.tcp_drop_checksum++;
	return false;
}

/* RFC 9293 3.10.7.4 for a predicted segment: what the full path would do. */
static void take_text(struct tl_tcp *c, const struct tcp_hdr *th)
{
	uint32_t len = (uint32_t)th->data_len;

	tcp_ts_update_recent(c, th);
	c->snd_wl1 = th->seq; /* fifth: the window is the same, from a newer segment */
	c->snd_wl2 = th->ack;
	c->rcvbuf.len += len; /* seventh: the text, in order */
	c->rcv_nxt += len;
	c->pending |= TCP_EV_READABLE;
	tcp_ack_in_order(c, len);
}

bool tcp_fast_input(struct tl_tcp *c, const struct ipv4_hdr *ip, const struct tcp_hdr *th,
		    bool summed)
{
	if (!predicted(c, th) || ring_reserve(&c->rcvbuf, c->rcvbuf.len + (uint32_t)th->data_len) < 0)
		return false;
	if (copy_text(c, ip, th, summed)) {
		c->stack->cnt.tcp_predicted++;
		c->in_input = true;
		take_text(c, th);
		tcp_input_done(c);
	}
	return true;
}
