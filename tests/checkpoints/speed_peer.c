/* The benchmarks' peer: segments in, the stack's segments read back. */
#include <string.h>

#include "speed.h"

/* The stack's output: each TCP segment's header, read from the bytes
 * without checking them (the stack built them; the peer is not timed). */
static void capture(void *ctx, const uint8_t *pkt, size_t len)
{
	struct sp *p = ctx;
	size_t ihl = (size_t)(pkt[0] & 15) * 4;

	if (len < ihl + TCP_HDR_LEN || pkt[9] != IP_PROTO_TCP)
		return;
	const uint8_t *t = pkt + ihl;
	size_t doff = (size_t)(t[12] >> 4) * 4, total = get16(pkt + 2);
	p->out++;
	if (p->tail - p->head == SP_QUEUE) {
		p->overflow = true;
		return;
	}
	struct sp_seg *g = &p->q[p->tail++ % SP_QUEUE];
	g->sport = get16(t);
	g->dport = get16(t + 2);
	g->seq = get32(t + 4);
	g->ack = get32(t + 8);
	g->flags = t[13];
	g->wnd = get16(t + 14);
	g->len = (uint32_t)(total - ihl - doff);
}

bool sp_open(struct sp *p, void (*tweak)(struct tl_config *))
{
	memset(p, 0, sizeof *p);
	tl_config_defaults(&p->cfg);
	p->cfg.seed = 42;
	p->cfg.output = capture;
	p->cfg.output_ctx = p;
	if (tweak)
		tweak(&p->cfg);
	p->s = tl_stack_new(&p->cfg);
	if (!p->s)
		return false;
	tl_stack_poll(p->s, TL_MS(1000));
	return true;
}

void sp_close(struct sp *p)
{
	tl_stack_free(p->s);
	p->s = NULL;
}

bool sp_pop(struct sp *p, struct sp_seg *g)
{
	if (p->head == p->tail)
		return false;
	*g = p->q[p->head++ % SP_QUEUE];
	return true;
}

static size_t build_opts(uint8_t *buf, uint16_t pport, uint16_t lport, uint8_t flags,
			 uint32_t seq, uint32_t ack, uint16_t wnd, const void *data, uint32_t len,
			 const struct tcp_opts *o)
{
	uint8_t *seg = buf + IPV4_HDR_LEN;
	struct tcp_hdr h;
	size_t opt_len = o ? tcp_build_options(seg + TCP_HDR_LEN, o) : 0;

	memset(&h, 0, sizeof h);
	h.sport = pport;
	h.dport = lport;
	h.seq = seq;
	h.ack = ack;
	h.flags = flags;
	h.wnd = wnd;
	if (len)
		memcpy(seg + TCP_HDR_LEN + opt_len, data, len);
	tcp_build(seg, SP_PEER, SP_HOST, &h, opt_len, len);
	ipv4_build(buf, SP_PEER, SP_HOST, IP_PROTO_TCP, TCP_HDR_LEN + opt_len + len, 1);
	return IPV4_HDR_LEN + TCP_HDR_LEN + opt_len + len;
}

size_t sp_build(uint8_t *buf, uint16_t pport, uint16_t lport, uint8_t flags, uint32_t seq,
		uint32_t ack, uint16_t wnd, const void *data, uint32_t len)
{
	return build_opts(buf, pport, lport, flags, seq, ack, wnd, data, len, NULL);
}

void sp_send(struct sp *p, uint16_t pport, uint16_t lport, uint8_t flags, uint32_t seq,
	     uint32_t ack, uint16_t wnd, const void *data, uint32_t len)
{
	size_t n = build_opts(p->pkt, pport, lport, flags, seq, ack, wnd, data, len, NULL);

	tl_stack_input(p->s, p->pkt, n, tl_stack_now(p->s));
}

void sp_send_syn(struct sp *p, uint16_t pport, uint16_t lport, uint8_t flags, uint32_t seq,
		 uint32_t ack)
{
	struct tcp_opts o = { .has_mss = true, .mss = SP_MSS, .has_wscale = true, .wscale = 7 };
	size_t n = build_opts(p->pkt, pport, lport, flags, seq, ack, 65535, NULL, 0, &o);

	tl_stack_input(p->s, p->pkt, n, tl_stack_now(p->s));
}

struct tl_tcp *sp_conn(struct sp *p, uint16_t pport, uint16_t lport)
{
	return tcp_lookup(p->s, SP_PEER, pport, lport);
}

static void ev_accepted(void *arg, struct tl_tcp *l, struct tl_tcp *c)
{
	struct sp *p = arg;

	(void)l;
	p->accepted++;
	p->conn = c;
}

static void ev_connected(void *arg, struct tl_tcp *c)
{
	struct sp *p = arg;

	p->connected++;
	p->conn = c;
}

static void ev_readable(void *arg, struct tl_tcp *c)
{
	struct sp *p = arg;
	ssize_t n;

	while ((n = tl_tcp_recv(c, p->scratch, sizeof p->scratch)) > 0)
		p->read += (uint64_t)n;
	if (n == 0) {
		p->eof++;
		if (p->close_on_eof)
			tl_tcp_close(c);
	}
}

static void ev_closed(void *arg, struct tl_tcp *c, int err)
{
	struct sp *p = arg;

	(void)err;
	p->closed++;
	if (p->conn == c)
		p->conn = NULL;
}

const struct tl_tcp_events sp_events = {
	.accepted = ev_accepted,
	.connected = ev_connected,
	.readable = ev_readable,
	.closed = ev_closed,
};

bool sp_listen(struct sp *p, uint16_t port)
{
	return tl_tcp_listen(p->s, port, 1024, &sp_events, p, &p->listener) == 0;
}

uint32_t sp_accept(struct sp *p, uint16_t pport, uint16_t lport)
{
	struct sp_seg g;

	p->head = p->tail; /* what came before is not the answer */
	sp_send_syn(p, pport, lport, TCP_SYN, SP_PISS, 0);
	if (!sp_pop(p, &g) || g.flags != (TCP_SYN | TCP_ACK) || g.ack != SP_PISS + 1)
		return 0;
	uint32_t iss = g.seq;
	sp_send(p, pport, lport, TCP_ACK, SP_PISS + 1, iss + 1, 65535, NULL, 0);
	while (sp_pop(p, &g))
		;
	return sp_conn(p, pport, lport) ? iss : 0;
}
