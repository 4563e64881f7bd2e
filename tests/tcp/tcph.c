#include "tcph.h"
#include "tcp/tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void capture(void *ctx, const uint8_t *pkt, size_t len)
{
	struct tcph *h = ctx;

	ck_assert_msg(h->qtail - h->qhead < TCPH_QUEUE, "output queue overflow");
	uint8_t *p = malloc(len);
	memcpy(p, pkt, len);
	h->q[h->qtail % TCPH_QUEUE] = p;
	h->qlen[h->qtail % TCPH_QUEUE] = len;
	h->qtail++;
}

static void trace(void *ctx, tl_time now, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%10.6f %s\n", (double)now / 1e6, line);
}

void tcph_init(struct tcph *h, void (*tweak)(struct tl_config *))
{
	memset(h, 0, sizeof *h);
	tl_config_defaults(&h->cfg);
	h->cfg.output = capture;
	h->cfg.output_ctx = h;
	h->cfg.tcp_msl_ms = 1000;
	if (getenv("TCPH_TRACE"))
		h->cfg.trace = trace;
	if (tweak)
		tweak(&h->cfg);
	h->s = tl_stack_new(&h->cfg);
	ck_assert_msg(h->s != NULL, "tl_stack_new failed");
	h->now = TL_MS(1000);
	tl_stack_poll(h->s, h->now);
	h->rx = malloc(TCPH_RX);
	h->app_reads = true;
}

void tcph_drain(struct tcph *h)
{
	while (h->qhead != h->qtail)
		free(h->q[h->qhead++ % TCPH_QUEUE]);
}

void tcph_free(struct tcph *h)
{
	tcph_drain(h);
	tl_stack_free(h->s);
	free(h->rx);
}

static void app_read(struct tcph *h, struct tl_tcp *c)
{
	ssize_t n;

	while ((n = tl_tcp_recv(c, h->rx + h->rx_len, TCPH_RX - h->rx_len)) > 0)
		h->rx_len += (size_t)n;
	if (n == 0)
		h->eof = true;
}

static void ev_accepted(void *arg, struct tl_tcp *l, struct tl_tcp *c)
{
	struct tcph *h = arg;
	(void)l;
	h->accepted++;
	h->conn = c;
}

static void ev_connected(void *arg, struct tl_tcp *c)
{
	struct tcph *h = arg;
	(void)c;
	h->connected++;
}

static void ev_readable(void *arg, struct tl_tcp *c)
{
	struct tcph *h = arg;
	h->readable++;
	if (h->app_reads)
		app_read(h, c);
}

static void ev_writable(void *arg, struct tl_tcp *c)
{
	struct tcph *h = arg;
	(void)c;
	h->writable++;
}

static void ev_closed(void *arg, struct tl_tcp *c, int err)
{
	struct tcph *h = arg;
	(void)c;
	h->closed++;
	h->closed_err = err;
	h->conn = NULL;
}

static const struct tl_tcp_events events = {
	.accepted = ev_accepted,
	.connected = ev_connected,
	.readable = ev_readable,
	.writable = ev_writable,
	.closed = ev_closed,
};

void tcph_listen(struct tcph *h, uint16_t port)
{
	h->port = port;
	ck_assert_int_eq(tl_tcp_listen(h->s, port, 16, &events, h, &h->listener), 0);
}

void tcph_send_opts(struct tcph *h, uint8_t flags, uint32_t seq, uint32_t ack,
		    uint16_t wnd, const void *data, size_t len,
		    const struct tcp_opts *o)
{
	tcph_send_from(h, PEER_ADDR, PEER_PORT, flags, seq, ack, wnd, data, len, o);
}

void tcph_send_from(struct tcph *h, uint32_t src, uint16_t sport, uint8_t flags,
		    uint32_t seq, uint32_t ack, uint16_t wnd, const void *data,
		    size_t len, const struct tcp_opts *o)
{
	uint8_t pkt[IPV4_HDR_LEN + 60 + 65536];
	uint8_t *seg = pkt + IPV4_HDR_LEN;
	struct tcp_hdr th;
	struct tcp_opts none;

	memset(&none, 0, sizeof none);
	memset(&th, 0, sizeof th);
	size_t opt_len = tcp_build_options(seg + TCP_HDR_LEN, o ? o : &none);
	if (len)
		memcpy(seg + TCP_HDR_LEN + opt_len, data, len);
	th.sport = sport;
	th.dport = h->port;
	th.seq = seq;
	th.ack = ack;
	th.flags = flags;
	th.wnd = wnd;
	tcp_build(seg, src, HOST_ADDR, &th, opt_len, len);
	ipv4_build(pkt, src, HOST_ADDR, IP_PROTO_TCP, TCP_HDR_LEN + opt_len + len, 1);
	tl_stack_input(h->s, pkt, IPV4_HDR_LEN + TCP_HDR_LEN + opt_len + len, h->now);
}

void tcph_send(struct tcph *h, uint8_t flags, uint32_t seq, uint32_t ack,
	       uint16_t wnd, const void *data, size_t len)
{
	tcph_send_opts(h, flags, seq, ack, wnd, data, len, NULL);
}

void tcph_advance(struct tcph *h, uint32_t ms)
{
	h->now += TL_MS(ms);
	tl_stack_poll(h->s, h->now);
}

int tcph_pending(const struct tcph *h)
{
	return (int)(h->qtail - h->qhead);
}

bool tcph_pop(struct tcph *h, struct seg *out)
{
	while (h->qhead != h->qtail) {
		unsigned i = h->qhead++ % TCPH_QUEUE;
		struct ipv4_hdr ip;
		bool ok = ipv4_parse(h->q[i], h->qlen[i], &ip) == WIRE_OK &&
			  ip.proto == IP_PROTO_TCP;
		if (ok) {
			ck_assert_msg(tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst,
						&out->h) == WIRE_OK,
				      "the stack sent a TCP segment that does not parse");
			out->len = out->h.data_len;
			memcpy(out->data, out->h.data, out->len);
			out->h.data = out->data;
		}
		free(h->q[i]);
		if (ok)
			return true;
	}
	return false;
}

static void flags_str(uint8_t f, char *b)
{
	sprintf(b, "%s%s%s%s%s", f & TCP_SYN ? "S" : "", f & TCP_FIN ? "F" : "",
		f & TCP_RST ? "R" : "", f & TCP_PSH ? "P" : "", f & TCP_ACK ? "." : "");
}

struct seg *tcph_expect(struct tcph *h, const char *step, uint8_t flags,
			int64_t seq, int64_t ack, int64_t len)
{
	struct seg *g = &h->last;
	char want[8], got[8];

	ck_assert_msg(tcph_pop(h, g), "step %s: expected a segment, the stack sent none", step);
	flags_str(flags, want);
	flags_str(g->h.flags, got);
	/* PSH is advisory: compare it only when the step asks for it. */
	uint8_t mask = (flags & TCP_PSH) ? 0xff : (uint8_t)~TCP_PSH;
	ck_assert_msg((g->h.flags & mask) == (flags & mask),
		      "step %s: flags [%s], expected [%s] (seq %u ack %u len %zu)", step, got,
		      want, g->h.seq, g->h.ack, g->len);
	if (seq != ANY)
		ck_assert_msg(g->h.seq == (uint32_t)seq, "step %s: seq %u, expected %u",
			      step, g->h.seq, (uint32_t)seq);
	if (ack != ANY)
		ck_assert_msg(g->h.ack == (uint32_t)ack, "step %s: ack %u, expected %u",
			      step, g->h.ack, (uint32_t)ack);
	if (len != ANY)
		ck_assert_msg(g->len == (size_t)len, "step %s: length %zu, expected %lld",
			      step, g->len, (long long)len);
	return g;
}

void tcph_expect_nothing(struct tcph *h, const char *step)
{
	struct seg g;

	if (tcph_pop(h, &g)) {
		char f[8];
		flags_str(g.h.flags, f);
		ck_abort_msg("step %s: expected nothing, the stack sent [%s] seq %u ack %u len %zu",
			     step, f, g.h.seq, g.h.ack, g.len);
	}
}

void tcph_handshake(struct tcph *h, uint16_t port, uint32_t piss)
{
	struct tcp_opts o;

	memset(&o, 0, sizeof o);
	o.has_mss = true;
	o.mss = 1460;
	o.has_wscale = true;
	o.wscale = 7;
	tcph_listen(h, port);
	h->piss = piss;
	tcph_send_opts(h, TCP_SYN, piss, 0, 65535, NULL, 0, &o);
	struct seg *g = tcph_expect(h, "handshake SYN-ACK", TCP_SYN | TCP_ACK, ANY, piss + 1, 0);
	h->iss = g->h.seq;
	tcph_send(h, TCP_ACK, piss + 1, h->iss + 1, 512, NULL, 0);
	ck_assert_msg(h->accepted == 1, "handshake: accepted() not called");
	ck_assert_int_eq(tcph_state(h), TL_ESTABLISHED);
	tcph_expect_nothing(h, "handshake: nothing after the ACK");
}

uint32_t tcph_connect(struct tcph *h)
{
	struct tl_endpoint to = { PEER_ADDR, PEER_PORT };

	ck_assert_int_eq(tl_tcp_connect(h->s, &to, &events, h, &h->conn), 0);
	struct seg *g = tcph_expect(h, "connect: SYN", TCP_SYN, ANY, ANY, 0);
	h->iss = g->h.seq;
	h->port = g->h.sport;
	ck_assert_int_eq(tl_tcp_state(h->conn), TL_SYN_SENT);
	return h->iss;
}

enum tl_tcp_state tcph_state(const struct tcph *h)
{
	/* Looked up, not remembered: the stack frees a connection it closes. */
	struct tl_tcp *c = tcp_lookup(h->s, PEER_ADDR, PEER_PORT, h->port);
	return c ? tl_tcp_state(c) : TL_CLOSED;
}

const struct tl_counters *tcph_cnt(const struct tcph *h)
{
	return tl_stack_counters(h->s);
}
