/* Building and sending segments. */
#include <string.h>

#include "tcp.h"

uint32_t tcp_rcv_wnd(const struct tl_tcp *c)
{
	uint32_t free_space = ring_free_space(&c->rcvbuf);
	uint32_t limit = 65535u << c->rcv_wscale;

	return free_space < limit ? free_space : limit;
}

/* Receiver SWS avoidance step: min(buffer/2, MSS), RFC 9293 3.8.6.2.2. */
uint32_t tcp_rcv_sws_step(const struct tl_tcp *c)
{
	uint32_t half = c->rcvbuf.max / 2;

	return half < c->mss ? half : c->mss;
}

/* checkpoint 3 */
static uint16_t window_field(struct tl_tcp *c, uint8_t flags)
{
	uint32_t wnd = tcp_rcv_wnd(c);
	uint32_t offered = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	/* RFC 7323 2.2: the window in a SYN segment is never scaled. */
	if (flags & TCP_SYN)
		return (uint16_t)(wnd > 65535 ? 65535 : wnd);
	/* RFC 9293 3.8.6.2.2: move the right edge only by a worthwhile step,
	 * and (3.8.6.2.1) never pull it back. */
	if (wnd < offered + tcp_rcv_sws_step(c))
		wnd = offered;
	uint32_t field = wnd >> c->rcv_wscale;
	uint32_t up = (offered + (1u << c->rcv_wscale) - 1) >> c->rcv_wscale;
	/* RFC 9293 3.8.6 SHLD-14, RFC 7323 2.4: round up where rounding down would shrink
	 * it, but never past the buffer: each round-up would move the edge on by up to
	 * 2^shift - 1 bytes the buffer does not have (RFC 7323 appendix F). */
	if (field << c->rcv_wscale < offered &&
	    (uint64_t)up << c->rcv_wscale <= ring_free_space(&c->rcvbuf))
		field = up;
	return (uint16_t)(field > 65535 ? 65535 : field);
}

/* RFC 2018 3: four blocks fit the option space, three beside timestamps. */
static uint32_t sack_max(const struct tl_tcp *c)
{
	return c->ts.ok ? TCP_MAX_SACK - 1 : TCP_MAX_SACK;
}

static void sack_add(struct tcp_opts *o, uint32_t start, uint32_t end)
{
	o->sack[o->sack_n][0] = start;
	o->sack[o->sack_n][1] = end;
	o->sack_n++;
}

/* RFC 2018 4: the block holding the latest arrival first, then the others;
 * before them all, RFC 2883 4: a duplicate just received. */
static void sack_blocks(const struct tl_tcp *c, struct tcp_opts *o)
{
	uint32_t first = 0;

	o->sack_n = 0;
	if (c->fl->dsack_pending)
		sack_add(o, c->fl->dsack_start, c->fl->dsack_end);
	for (uint32_t i = 0; i < c->fl->ooo_n; i++)
		if (seq_in(c->fl->ooo_last, c->fl->ooo[i].start, c->fl->ooo[i].end))
			first = i;
	if (c->fl->ooo_n)
		sack_add(o, c->fl->ooo[first].start, tcp_ooo_end(c, first));
	for (uint32_t i = 0; i < c->fl->ooo_n && o->sack_n < sack_max(c); i++)
		if (i != first)
			sack_add(o, c->fl->ooo[i].start, tcp_ooo_end(c, i));
	if (tcp_ooo_fin_alone(c) && o->sack_n < sack_max(c))
		sack_add(o, c->fl->rcv_fin_seq, c->fl->rcv_fin_seq + 1);
}

/* Whether the segment needs SACK blocks: RFC 2018 4 and RFC 2883 4. */
static bool sends_sack(const struct tl_tcp *c, uint8_t flags)
{
	return (flags & TCP_ACK) && c->sack_ok && c->fl && (tcp_ooo_ranges(c) || c->fl->dsack_pending);
}

/* RFC 7323 3.2: TSecr is valid only with ACK set, and zero otherwise. */
static uint32_t ts_ecr(const struct tl_tcp *c, uint8_t flags)
{
	return (flags & TCP_ACK) ? c->ts.recent : 0;
}

static size_t tcp_options(struct tl_tcp *c, uint8_t flags, uint8_t *buf)
{
	struct tcp_opts o;

	/* RFC 7323 3.2: TSopt in every segment once agreed, and most carry nothing else. */
	if (!(flags & TCP_SYN) && !sends_sack(c, flags))
		return c->ts.ok ? tcp_build_ts_option(buf, tcp_ts_now(c), ts_ecr(c, flags)) : 0;
	memset(&o, 0, sizeof o);
	if (flags & TCP_SYN) {
		/* RFC 9293 3.7.1: announce the largest segment we can receive. */
		o.has_mss = true;
		o.mss = tcp_our_mss(c->stack);
		/* RFC 7323 1.3: a SYN-ACK carries wscale only if the SYN did. */
		o.has_wscale = !(flags & TCP_ACK) || c->ws_ok;
		o.wscale = c->rcv_wscale;
		/* RFC 2018 2: SACK-permitted, likewise only if the SYN had it. */
		o.has_sack_perm = !(flags & TCP_ACK) || c->sack_ok;
		/* RFC 7323 3.2: TSopt in a SYN; in a SYN-ACK only if the SYN had it. */
		o.has_ts = (flags & TCP_ACK) ? c->ts.ok : c->stack->cfg.tcp_timestamps != 0;
	} else {
		o.has_ts = c->ts.ok; /* RFC 7323 3.2: then in every segment */
		if (sends_sack(c, flags))
			sack_blocks(c, &o);
	}
	if (o.has_ts) {
		o.ts_val = tcp_ts_now(c);
		o.ts_ecr = ts_ecr(c, flags);
	}
	return tcp_build_options(buf, &o);
}

/* tcp_build_sum, with the data's sum taken as it was copied; or with
 * tcp_csum_partial (not to ourselves: our own input checks it) the checksum
 * field holds only the pseudo-header sum, for the driver's kernel to finish
 * over the segment (TUN's NEEDS_CSUM). */
static void build(tl_stack *s, uint8_t *seg, uint32_t dst, const struct tcp_hdr *h,
		  size_t opt_len, size_t len, uint32_t data_sum)
{
	uint32_t src = s->cfg.addr;

	if (!s->cfg.tcp_csum_partial || dst == src) {
		tcp_build_sum(seg, src, dst, h, opt_len, len, data_sum);
		return;
	}
	tcp_build_sum(seg, src, dst, h, opt_len, 0, 0); /* the fields; the checksum is below */
	uint32_t sum = csum_pseudo(src, dst, IP_PROTO_TCP, (uint16_t)(TCP_HDR_LEN + opt_len + len));
	put16(seg + 16, (uint16_t)~csum_fold(sum));
}

/* Whatever waited for an ACK has it now. */
static void ack_sent(struct tl_tcp *c)
{
	tcp_set_delack_at(c, TL_TIME_NEVER);
	c->fl->dsack_pending = false; /* RFC 2883 4: reported once */
	c->fl->unacked_segs = 0;
	c->fl->unacked_bytes = 0;
	c->fl->ack_at_poll = false;
}

/* Sends one segment of the connection (without an in-flight part, a bare
 * ACK or RST); data comes from the send buffer. */
static void send_segment(struct tl_tcp *c, uint8_t flags, uint32_t seq, uint32_t len)
{
	tl_stack *s = c->stack;
	uint8_t *seg = s->out + IPV4_HDR_LEN;
	uint32_t room = tcp_seg_room(c); /* before tcp_options reports the D-SACK */
	size_t opt_len = tcp_options(c, flags, seg + TCP_HDR_LEN);
	struct tcp_hdr h;
	uint8_t *data = seg + TCP_HDR_LEN + opt_len;
	uint32_t sum = 0;

	/* The data's checksum is taken as it is copied, in one pass, unless the kernel makes it. */
	if (!s->cfg.tcp_csum_partial || c->raddr == s->cfg.addr)
		sum = ring_read_sum_at(&c->sndbuf, seq - c->snd_una, data, len);
	else if (len)
		ring_read_at(&c->sndbuf, seq - c->snd_una, data, len);

	/* Every field but opts, which only the trace reads and fills first. */
	h.sport = c->lport;
	h.dport = c->rport;
	h.seq = seq;
	h.ack = (flags & TCP_ACK) ? c->rcv_nxt : 0;
	h.flags = flags;
	h.wnd = window_field(c, flags);
	h.urp = 0;
	h.hdr_len = TCP_HDR_LEN + opt_len;
	h.opts_bad = false;
	h.data = data;
	h.data_len = len;
	build(s, seg, c->raddr, &h, opt_len, len, sum);
	if (flags & TCP_ACK) {
		if (c->fl)
			ack_sent(c);
		c->ts.last_ack_sent = c->rcv_nxt; /* RFC 7323 4.3 */
		uint32_t edge = c->rcv_nxt + ((uint32_t)h.wnd << ((flags & TCP_SYN) ? 0 : c->rcv_wscale));
		if (seq_gt(edge, c->rcv_adv) || (flags & TCP_SYN))
			c->rcv_adv = edge;
		c->ack_now = false;
	}
	if (tl_tracing(s)) {
		tcp_parse_options(seg + TCP_HDR_LEN, opt_len, &h.opts);
		tcp_trace_segment(s, c, true, s->cfg.addr, c->raddr, &h);
	}
	s->cnt.tcp_out++;
	if (flags & TCP_RST)
		s->cnt.tcp_out_rst++;
	s->out_gso_size = len > room ? room : 0; /* send_room: whole segments of room */
	ip_output(s, c->raddr, IP_PROTO_TCP, TCP_HDR_LEN + opt_len + len);
	s->out_gso_size = 0;
}

/* RFC 9293 3.8.6: a peer that shrank its window may have pulled its right
 * edge below SND.MAX, and drops a segment past it as unacceptable: use the
 * edge then, unless it is less than one scaling unit away (as Linux does). */
static uint32_t acceptable_seq(const struct tl_tcp *c)
{
	uint32_t edge = c->snd_una + c->snd_wnd;

	if (c->state == TL_SYN_SENT || !seq_gt(c->snd_max, edge) ||
	    c->snd_max - edge < (1u << c->snd_wscale))
		return c->snd_max;
	return edge;
}

/* RFC 9293 3.10.7.4 sends <SEQ=SND.NXT>; after a timeout we move snd_nxt
 * back to resend, so a bare ACK uses the highest SEQ sent instead. A lower
 * one would make the peer ignore the window it carries (SND.WL1 rule). */
void tcp_send_ack(struct tl_tcp *c)
{
	send_segment(c, TCP_ACK, acceptable_seq(c), 0);
}

void tcp_send_rst(struct tl_tcp *c)
{
	/* RFC 9293 3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>. */
	send_segment(c, TCP_RST | TCP_ACK, acceptable_seq(c), 0);
}

/* A segment that belongs to no connection, to the sender of ip. */
static void send_stateless(tl_stack *s, const struct ipv4_hdr *ip, struct tcp_hdr *h,
			   const struct tcp_opts *o)
{
	uint8_t *seg = s->out + IPV4_HDR_LEN;
	size_t opt_len = o ? tcp_build_options(seg + TCP_HDR_LEN, o) : 0;

	build(s, seg, ip->src, h, opt_len, 0, 0);
	if (tl_tracing(s)) {
		tcp_parse_options(seg + TCP_HDR_LEN, opt_len, &h->opts);
		tcp_trace_segment(s, NULL, true, s->cfg.addr, ip->src, h);
	}
	s->cnt.tcp_out++;
	if (h->flags & TCP_RST)
		s->cnt.tcp_out_rst++;
	ip_output(s, ip->src, IP_PROTO_TCP, TCP_HDR_LEN + opt_len);
}

void tcp_send_cookie_synack(tl_stack *s, const struct ipv4_hdr *ip,
			    const struct tcp_hdr *th, uint32_t isn,
			    const struct tcp_cookie *k)
{
	struct tcp_opts o;
	struct tcp_hdr h;

	memset(&o, 0, sizeof o);
	memset(&h, 0, sizeof h);
	/* RFC 4987 3.6: <SEQ=cookie><ACK=SEG.SEQ+1><CTL=SYN,ACK>, options as a
	 * connection would send them (tcp_options), from the cookie's fields. */
	o.has_mss = true;
	o.mss = tcp_our_mss(s);
	o.has_wscale = k->has_wscale;
	o.wscale = tcp_pick_wscale(s->cfg.tcp_rcvbuf);
	o.has_sack_perm = k->sack_ok;
	h.sport = th->dport;
	h.dport = th->sport;
	h.seq = isn;
	h.ack = th->seq + 1;
	h.flags = TCP_SYN | TCP_ACK;
	h.wnd = (uint16_t)(s->cfg.tcp_rcvbuf > 65535 ? 65535 : s->cfg.tcp_rcvbuf);
	send_stateless(s, ip, &h, &o);
}

/* RFC 9293 3.5.2 (reset generation) and 3.10.7.1: the RST answering a
 * segment that belongs to no connection, believable to its sender. */
void tcp_send_reset_reply(tl_stack *s, const struct ipv4_hdr *ip,
			  const struct tcp_hdr *th)
{
	struct tcp_hdr h;

	/* Not in RFC 9293 3.10.7.1: RSTs to strangers are bounded, like ICMP errors. */
	if (!tl_bucket_take(s, &s->tcp->rst_bucket, s->cfg.tcp_rst_per_sec)) {
		s->cnt.tcp_out_rst_rate_limited++;
		return;
	}
	memset(&h, 0, sizeof h);
	h.sport = th->dport;
	h.dport = th->sport;
	if (th->flags & TCP_ACK) {
		/* RFC 9293 3.10.7.1: <SEQ=SEG.ACK><CTL=RST>. */
		h.seq = th->ack;
		h.flags = TCP_RST;
	} else {
		/* RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
		uint32_t seg_len = (uint32_t)th->data_len + !!(th->flags & TCP_SYN) +
				   !!(th->flags & TCP_FIN);
		h.ack = th->seq + seg_len;
		h.flags = TCP_RST | TCP_ACK;
	}
	send_stateless(s, ip, &h, NULL);
}

static void sent_new(struct tl_tcp *c, uint32_t seq, uint32_t seg_len)
{
	uint32_t end = seq + seg_len;
	bool fresh = seq_geq(seq, c->snd_max);
	bool was_one = c->snd_max - c->snd_una <= c->mss;

	if (seq != c->iss)
		tcp_sb_sent(c, seq, end); /* data and FIN: the SYN is not on the scoreboard */
	/* RFC 6298 3 + Karn: time one segment, never a retransmitted one. */
	if (!c->fl->rtt.timing && seq_geq(seq, c->snd_max)) {
		c->fl->rtt.timing = true;
		c->fl->rtt.dirty = false;
		c->fl->rtt.seq = seq;
		c->fl->rtt.start = c->stack->now;
	}
	c->snd_nxt = end;
	if (seq_gt(end, c->snd_max))
		c->snd_max = end;
	/* RFC 6298 5.1: start the timer when data goes out and it is off;
	 * RFC 8985 7.2: restart a probe timer when new data goes out. */
	if (c->fl->rto_at == TL_TIME_NEVER || c->fl->xtimer == TCP_XT_PERSIST) {
		tcp_timer_arm(c);
	} else if (c->fl->xtimer == TCP_XT_PTO && fresh) {
		tcp_timer_pto_sent(c, was_one);
	}
}

static void output_syn(struct tl_tcp *c)
{
	uint8_t flags = c->state == TL_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK;

	if (c->snd_nxt == c->iss) {
		send_segment(c, flags, c->iss, 0);
		sent_new(c, c->iss, 1);
	} else if (c->ack_now) {
		tcp_send_ack(c);
	}
}

static bool can_send_data(enum tl_tcp_state st)
{
	return st == TL_ESTABLISHED || st == TL_CLOSE_WAIT || st == TL_FIN_WAIT_1 ||
	       st == TL_CLOSING || st == TL_LAST_ACK;
}

/* How many bytes past snd_nxt the peer's window and cwnd allow. */
/* checkpoint 4 */
static uint32_t usable_window(const struct tl_tcp *c)
{
	uint32_t edge = c->snd_una + c->snd_wnd, cwnd = c->cong.cwnd, used;
	uint32_t wnd = seq_gt(edge, c->snd_nxt) ? edge - c->snd_nxt : 0;

	if (tcp_rec_rack(c)) {
		used = tcp_sb_pipe(c); /* RFC 6675 5: what is in the network */
	} else {
		/* RFC 3042: the first two duplicate ACKs each let one new segment out. */
		if (c->fl->rec.state != TCP_REC_FAST && c->fl->rec.dupacks && c->fl->rec.dupacks <= 2)
			cwnd += c->fl->rec.dupacks * (uint32_t)c->mss;
		used = c->snd_nxt - c->snd_una;
	}
	uint32_t room = cwnd > used ? cwnd - used : 0;
	return wnd < room ? wnd : room;
}

static bool fin_due(const struct tl_tcp *c)
{
	return c->fin_queued && c->snd_nxt == tcp_data_end(c) && !tcp_fin_acked(c);
}

/* Data per segment: the MSS less the options it carries (RFC 9293 3.7.1). */
uint32_t tcp_seg_room_sack(const struct tl_tcp *c)
{
	uint32_t blocks = tcp_ooo_ranges(c) + c->fl->dsack_pending;
	uint32_t n = blocks < sack_max(c) ? blocks : sack_max(c);

	return c->mss - (c->sack_ok && n ? 4 + 8 * n : 0);
}

/* New data may go out in segments of many MSS when the driver offloads the
 * segmentation (TSO); always a whole number of segments but the last. */
static uint32_t send_room(const struct tl_tcp *c)
{
	uint32_t room = tcp_seg_room(c), tso = c->stack->cfg.tcp_tso_max;

	return tso > room ? tso / room * room : room;
}

/* RFC 1122 4.2.3.4 (sender SWS) with Nagle, RFC 896: send now or wait? */
/* checkpoint 4 */
static bool worth_sending(const struct tl_tcp *c, uint32_t len, uint32_t avail)
{
	if (len >= tcp_seg_room(c) || seq_lt(c->snd_nxt, c->snd_max) || c->force_send)
		return true; /* a full segment, a retransmission, or the override */
	if (len == avail && (c->nodelay || c->snd_una == c->snd_max))
		return true; /* all we have, and nothing unacknowledged (Nagle) */
	return c->max_snd_wnd && len >= c->max_snd_wnd / 2;
}

/* Sends data segments while the window allows; returns true if any went. */
static bool output_data(struct tl_tcp *c)
{
	bool sent = false;

	if (tcp_rec_rack(c) && c->fl->sb.lost > c->fl->sb.retrans)
		sent = tcp_rec_resend_lost(c);
	while (seq_lt(c->snd_nxt, tcp_data_end(c)) && !tcp_sb_full(c)) {
		/* Resending after a timeout: skip what the peer has SACKed (RFC 6675 5.1). */
		uint32_t skip = seq_lt(c->snd_nxt, c->snd_max) ? tcp_sb_sacked_end(c, c->snd_nxt) : c->snd_nxt;
		if (skip != c->snd_nxt) {
			c->snd_nxt = skip;
			continue;
		}
		uint32_t avail = tcp_data_end(c) - c->snd_nxt;
		uint32_t len = usable_window(c);
		if (len > avail)
			len = avail;
		uint32_t room = seq_lt(c->snd_nxt, c->snd_max) ? tcp_seg_room(c) : send_room(c);
		if (len > room)
			len = room;
		if (seq_lt(c->snd_nxt, c->snd_max))
			len = tcp_sb_unsacked_run(c, c->snd_nxt, len);
		if (len == 0 || !worth_sending(c, len, avail))
			break;
		uint8_t flags = TCP_ACK;
		uint32_t seq = c->snd_nxt;
		if (seq + len == tcp_data_end(c))
			flags |= TCP_PSH;
		bool fin = false;
		if (c->fin_queued && seq + len == tcp_data_end(c)) {
			flags |= TCP_FIN; /* piggyback the FIN on the last data */
			fin = true;
		}
		send_segment(c, flags, seq, len);
		if (fin) {
			c->fin_sent = true;
			c->fin_seq = seq + len;
		}
		sent_new(c, seq, len + fin);
		sent = true;
	}
	return sent;
}

void tcp_output(struct tl_tcp *c)
{
	if (c->dead || c->in_input || !tcp_flight_get(c))
		return;
	switch (c->state) {
	case TL_SYN_SENT:
	case TL_SYN_RECEIVED:
		output_syn(c);
		return;
	default:
		break;
	}
	bool sent = can_send_data(c->state) && output_data(c);
	if (can_send_data(c->state) && fin_due(c)) {
		send_segment(c, TCP_FIN | TCP_ACK, c->snd_nxt, 0);
		c->fin_sent = true;
		c->fin_seq = c->snd_nxt;
		sent_new(c, c->snd_nxt, 1);
		sent = true;
	}
	if (!sent && c->ack_now)
		tcp_send_ack(c);
	c->force_send = false;
	if (can_send_data(c->state))
		tcp_timer_check(c);
}

void tcp_send_probe(struct tl_tcp *c)
{
	/* RFC 9293 3.8.6.1 asks for a probe the peer must answer. Like Linux,
	 * send an old sequence number with no data: the peer ACKs it with its
	 * window, and no byte is pushed past the window. */
	c->stack->cnt.tcp_persist_probes++;
	send_segment(c, TCP_ACK, c->snd_una - 1, 0);
}

/* RFC 6298 3 (Karn): resending the timed segment spoils its sample.
 * Resending another leaves the SACK of the timed one a clean sample, but a
 * cumulative ACK past both may have waited for the resent one. */
static void karn(struct tl_tcp *c, uint32_t seq, uint32_t len)
{
	if (c->fl->rtt.timing && seq_in(c->fl->rtt.seq, seq, seq + (len ? len : 1)))
		c->fl->rtt.timing = false;
	c->fl->rtt.dirty = true;
}

void tcp_resend(struct tl_tcp *c, uint32_t seq, uint32_t len)
{
	uint8_t flags = TCP_ACK;

	if (seq + len == tcp_data_end(c))
		flags |= TCP_PSH;
	if (c->fin_sent && seq + len == c->fin_seq)
		flags |= TCP_FIN;
	c->stack->cnt.tcp_rexmit++;
	c->rexmits++;
	karn(c, seq, len);
	send_segment(c, flags, seq, len);
	tcp_sb_sent(c, seq, seq + len + !!(flags & TCP_FIN));
}
