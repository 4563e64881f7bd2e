#include "tcph.h"
#include "tcp/tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sequence space a segment takes, SYN and FIN included. */
static uint32_t seg_end(uint32_t rel_seq, const struct tcp_hdr *t, size_t len)
{
	return rel_seq + (uint32_t)len + !!(t->flags & TCP_SYN) + !!(t->flags & TCP_FIN);
}

static void capture(void *ctx, const uint8_t *pkt, size_t len)
{
	struct tcph *h = ctx;

	ck_assert_msg(h->qtail - h->qhead < TCPH_QUEUE, "output queue overflow");
	uint8_t *p = malloc(len);
	memcpy(p, pkt, len);
	h->q[h->qtail % TCPH_QUEUE] = p;
	h->qlen[h->qtail % TCPH_QUEUE] = len;
	h->qgso[h->qtail % TCPH_QUEUE] = tl_stack_out_gso_size(h->s);
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
	tcph_peer(h, &h->peer, PEER_ADDR, PEER_PORT, TCPH_PISS);
}

void tcph_peer(struct tcph *h, struct tcph_peer *p, uint32_t addr, uint16_t port,
	       uint32_t piss)
{
	memset(p, 0, sizeof *p);
	p->addr = addr;
	p->port = port;
	p->piss = piss;
	p->wscale = -1;
	for (unsigned i = 0; i < h->npeers; i++)
		if (h->peers[i] == p)
			return;
	ck_assert_msg(h->npeers < TCPH_PEERS, "too many peers");
	h->peers[h->npeers++] = p;
}

void tcph_drain(struct tcph *h)
{
	struct seg g;

	/* Popped, not just freed: the peers see what they were sent. */
	while (tcph_pop(h, &g))
		;
}

void tcph_free(struct tcph *h)
{
	while (h->qhead != h->qtail)
		free(h->q[h->qhead++ % TCPH_QUEUE]);
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

static struct tcp_opts seg_opts(const struct tcph_seg *s)
{
	struct tcp_opts o;

	memset(&o, 0, sizeof o);
	o.has_mss = s->mss != TCPH_UNSET;
	o.mss = o.has_mss ? (uint16_t)s->mss : 0;
	o.has_wscale = s->wscale != TCPH_UNSET;
	o.wscale = o.has_wscale ? (uint8_t)s->wscale : 0;
	o.has_sack_perm = s->sack_perm;
	o.has_ts = s->ts;
	o.ts_val = s->ts_val;
	o.ts_ecr = s->ts_ecr;
	return o;
}

/* SACK blocks, relative to the stack's ISS, until an empty one. */
static void seg_sack(const struct tcph_peer *p, const struct tcph_seg *s, struct tcp_opts *o)
{
	for (o->sack_n = 0; o->sack_n < TCP_MAX_SACK; o->sack_n++) {
		const uint32_t *b = s->sack[o->sack_n];
		if (b[0] == b[1])
			break;
		o->sack[o->sack_n][0] = p->iss + b[0];
		o->sack[o->sack_n][1] = p->iss + b[1];
	}
}

/* The raw window: 64 KiB at the scale the peer's SYN offered. */
static uint16_t default_wnd(const struct tcph_peer *p, uint8_t flags)
{
	if ((flags & TCP_SYN) || p->wscale < 0)
		return 65535;
	uint32_t w = 65536u >> p->wscale;
	return (uint16_t)(w > 65535 ? 65535 : w);
}

/* Fills th from s: relative numbers made absolute, defaults for the rest. */
static void seg_hdr(struct tcph_peer *p, const struct tcph_seg *s, struct tcp_hdr *th)
{
	uint32_t seq = s->seq == TCPH_UNSET ? p->sent : (uint32_t)s->seq;
	uint32_t ack = s->ack == TCPH_UNSET ? p->rcvd : (uint32_t)s->ack;
	bool abs = s->abs && s->seq != TCPH_UNSET;

	memset(th, 0, sizeof *th);
	th->sport = p->port;
	th->flags = s->flags == TCPH_UNSET ? TCP_ACK : (uint8_t)s->flags;
	th->seq = abs ? seq : p->piss + seq;
	if (s->abs && s->ack != TCPH_UNSET)
		th->ack = ack;
	else if ((th->flags & TCP_ACK) || s->ack != TCPH_UNSET)
		th->ack = p->iss + ack;
	th->wnd = s->wnd == TCPH_UNSET ? default_wnd(p, th->flags) : (uint16_t)s->wnd;
}

static void input(struct tcph *h, uint32_t src, struct tcp_hdr *th, const struct tcp_opts *o,
		  const void *data, size_t len)
{
	uint8_t pkt[IPV4_HDR_LEN + 60 + 65536];
	uint8_t *seg = pkt + IPV4_HDR_LEN;

	ck_assert_msg(len <= 65536, "segment too long");
	size_t opt_len = tcp_build_options(seg + TCP_HDR_LEN, o);
	if (len)
		memcpy(seg + TCP_HDR_LEN + opt_len, data, len);
	th->dport = h->port;
	tcp_build(seg, src, HOST_ADDR, th, opt_len, len);
	ipv4_build(pkt, src, HOST_ADDR, IP_PROTO_TCP, TCP_HDR_LEN + opt_len + len, 1);
	tl_stack_input(h->s, pkt, IPV4_HDR_LEN + TCP_HDR_LEN + opt_len + len, h->now);
}

void tcph_in_seg(struct tcph *h, struct tcph_seg s)
{
	struct tcph_peer *p = s.peer ? s.peer : &h->peer;
	struct tcp_hdr th;
	struct tcp_opts o = seg_opts(&s);

	seg_hdr(p, &s, &th);
	seg_sack(p, &s, &o);
	if (th.flags & TCP_SYN)
		p->wscale = o.has_wscale ? o.wscale : -1;
	if (!s.abs) {
		uint32_t end = seg_end(th.seq - p->piss, &th, s.len);
		if (seq_gt(end, p->sent))
			p->sent = end;
	}
	input(h, p->addr, &th, &o, s.data, s.len);
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

static struct tcph_peer *peer_of(struct tcph *h, const struct seg *g)
{
	for (unsigned i = 0; i < h->npeers; i++)
		if (h->peers[i]->addr == g->dst && h->peers[i]->port == g->h.dport)
			return h->peers[i];
	return NULL;
}

/* What the stack sent a peer: its first SYN teaches the ISS. */
static void seen(struct tcph *h, const struct seg *g)
{
	struct tcph_peer *p = peer_of(h, g);

	if (!p)
		return;
	if ((g->h.flags & TCP_SYN) && !p->synced) {
		p->iss = g->h.seq;
		p->synced = true;
		p->rcvd = 0;
	}
	uint32_t end = seg_end(g->h.seq - p->iss, &g->h, g->len);
	if (seq_gt(end, p->rcvd))
		p->rcvd = end;
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
			out->dst = ip.dst;
			out->gso = h->qgso[i];
			out->len = out->h.data_len;
			memcpy(out->data, out->h.data, out->len);
			out->h.data = out->data;
			seen(h, out);
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

/* A segment the stack sent, as --trace shows it: relative, then absolute. */
static void describe(const struct tcph_peer *p, const struct seg *g, char *b, size_t n)
{
	char f[8];

	flags_str(g->h.flags, f);
	snprintf(b, n, "[%s] seq %u ack %u len %zu win %u (absolute seq %u ack %u)", f,
		 g->h.seq - p->iss, g->h.ack - p->piss, g->len, g->h.wnd, g->h.seq, g->h.ack);
}

/* The segment a step expects, as describe shows one: the fields it names
 * (sequence numbers relative), the others left out. */
static void describe_want(const struct tcph_want *w, char *b, size_t n)
{
	char f[8] = "any";
	size_t k;

	if (w->flags != TCPH_UNSET)
		flags_str((uint8_t)w->flags, f);
	snprintf(b, n, "[%s]", f);
	if (w->seq != TCPH_UNSET && (k = strlen(b)) < n)
		snprintf(b + k, n - k, " seq %u", (uint32_t)w->seq);
	if (w->ack != TCPH_UNSET && (k = strlen(b)) < n)
		snprintf(b + k, n - k, " ack %u", (uint32_t)w->ack);
	if (w->len != TCPH_UNSET && (k = strlen(b)) < n)
		snprintf(b + k, n - k, " len %lld", (long long)w->len);
	if (w->wnd != TCPH_UNSET && (k = strlen(b)) < n)
		snprintf(b + k, n - k, " win %lld", (long long)w->wnd);
}

/* Where a check failed: the step, the caller's line, the segments. */
struct where {
	const char *step, *file;
	int line;
	char want[96];
	char got[160];
};

#define FAIL_UNLESS(cond, w, fmt, ...)                                                     \
	ck_assert_msg(cond, "%s:%d: step %s: " fmt "; expected %s; the stack sent %s", (w)->file, \
		      (w)->line, (w)->step, __VA_ARGS__, (w)->want, (w)->got)

/* A sequence number, compared relative to base; printed both ways. */
static void check_seq(const struct where *w, const char *what, int64_t want, uint32_t got,
		      uint32_t base)
{
	if (want == TCPH_UNSET)
		return;
	FAIL_UNLESS(got - base == (uint32_t)want, w, "%s %u (absolute %u), expected %u (absolute %u)",
		    what, got - base, got, (uint32_t)want, base + (uint32_t)want);
}

static void check_num(const struct where *w, const char *what, int64_t want, int64_t got)
{
	if (want == TCPH_UNSET)
		return;
	FAIL_UNLESS(got == want, w, "%s %lld, expected %lld", what, (long long)got, (long long)want);
}

/* An option: TCPH_NONE wants it absent, a value wants it with that value. */
static void check_opt(const struct where *w, const char *what, int64_t want, bool has,
		      int64_t got)
{
	if (want == TCPH_UNSET)
		return;
	if (want == TCPH_NONE) {
		FAIL_UNLESS(!has, w, "%s %lld present, expected none", what, (long long)got);
		return;
	}
	FAIL_UNLESS(has, w, "no %s, expected %lld", what, (long long)want);
	check_num(w, what, want, got);
}

static void check_sack(const struct where *w, const struct tcph_peer *p,
		       const struct tcph_want *want, const struct tcp_opts *o)
{
	check_num(w, "SACK blocks", want->sack_n, o->sack_n);
	for (unsigned i = 0; i < TCP_MAX_SACK; i++) {
		const uint32_t *b = want->sack[i];
		if (b[0] == b[1])
			continue;
		FAIL_UNLESS(i < o->sack_n, w, "no SACK block %u, expected [%u, %u)", i, b[0], b[1]);
		check_seq(w, "SACK block start", b[0], o->sack[i][0], p->piss);
		check_seq(w, "SACK block end", b[1], o->sack[i][1], p->piss);
	}
}

static void check_flags(const struct where *w, int64_t flags, uint8_t got)
{
	char want_s[8], got_s[8];

	if (flags == TCPH_UNSET)
		return;
	/* PSH is advisory: compare it only when the step asks for it. */
	uint8_t mask = (flags & TCP_PSH) ? 0xff : (uint8_t)~TCP_PSH;
	flags_str((uint8_t)flags, want_s);
	flags_str(got, got_s);
	FAIL_UNLESS((got & mask) == (flags & mask), w, "flags [%s], expected [%s]", got_s, want_s);
}

static void check_opts(const struct where *w, const struct tcph_want *want,
		       const struct tcp_opts *o)
{
	check_opt(w, "MSS", want->mss, o->has_mss, o->mss);
	check_opt(w, "wscale", want->wscale, o->has_wscale, o->wscale);
	check_opt(w, "SACK-permitted", want->sack_perm, o->has_sack_perm, 1);
	check_opt(w, "TSopt", want->ts, o->has_ts, 1);
	if (want->ts_val != TCPH_UNSET || want->ts_ecr != TCPH_UNSET)
		FAIL_UNLESS(o->has_ts, w, "%s", "no TSopt, expected one");
	check_num(w, "TSval", want->ts_val, o->ts_val);
	check_num(w, "TSecr", want->ts_ecr, o->ts_ecr);
}

struct seg *tcph_out_seg(struct tcph *h, const char *step, struct tcph_want want,
			 const char *file, int line)
{
	struct tcph_peer *p = want.peer ? want.peer : &h->peer;
	struct seg *g = &h->last;
	struct where w = { step, file, line, "", "" };

	describe_want(&want, w.want, sizeof w.want);
	ck_assert_msg(tcph_pop(h, g), "%s:%d: step %s: expected %s; the stack sent none", file, line,
		      step, w.want);
	/* A SYN whose seq the step leaves open starts a connection: a new ISS. */
	if ((g->h.flags & TCP_SYN) && want.seq == TCPH_UNSET && peer_of(h, g) == p) {
		p->iss = g->h.seq;
		p->rcvd = seg_end(0, &g->h, g->len);
	}
	describe(p, g, w.got, sizeof w.got);
	FAIL_UNLESS(g->dst == p->addr && g->h.dport == p->port, &w, "sent to %#x:%u, expected %#x:%u",
		    g->dst, g->h.dport, p->addr, p->port);
	check_flags(&w, want.flags, g->h.flags);
	check_seq(&w, "seq", want.seq, g->h.seq, p->iss);
	check_seq(&w, "ack", want.ack, g->h.ack, p->piss);
	check_num(&w, "length", want.len, (int64_t)g->len);
	check_num(&w, "window", want.wnd, g->h.wnd);
	check_opts(&w, &want, &g->h.opts);
	check_sack(&w, p, &want, &g->h.opts);
	return g;
}

void tcph_expect_nothing(struct tcph *h, const char *step)
{
	struct seg g;

	if (tcph_pop(h, &g)) {
		char d[160];
		struct tcph_peer *p = peer_of(h, &g);
		describe(p ? p : &h->peer, &g, d, sizeof d);
		ck_abort_msg("step %s: expected nothing, the stack sent %s", step, d);
	}
}

uint32_t tcph_snd_abs(const struct tcph *h, uint32_t rel) { return h->peer.iss + rel; }
uint32_t tcph_snd_rel(const struct tcph *h, uint32_t abs) { return abs - h->peer.iss; }
uint32_t tcph_rcv_abs(const struct tcph *h, uint32_t rel) { return h->peer.piss + rel; }
uint32_t tcph_rcv_rel(const struct tcph *h, uint32_t abs) { return abs - h->peer.piss; }

static enum tl_tcp_state peer_state(const struct tcph *h, const struct tcph_peer *p)
{
	/* Looked up, not remembered: the stack frees a connection it closes. */
	struct tl_tcp *c = tcp_lookup(h->s, p->addr, p->port, h->port);
	return c ? tl_tcp_state(c) : TL_CLOSED;
}

struct seg *tcph_accept_seg(struct tcph *h, uint16_t port, uint32_t piss, struct tcph_seg syn)
{
	int accepted = h->accepted;

	tcph_listen(h, port);
	tcph_peer(h, &h->peer, PEER_ADDR, PEER_PORT, piss);
	syn.flags = TCP_SYN;
	tcph_in_seg(h, syn);
	struct seg *g = tcph_out(h, "handshake SYN-ACK", .flags = TCP_SYN | TCP_ACK, .ack = 1,
				 .len = 0, .ts = syn.ts ? 1 : TCPH_UNSET,
				 .ts_ecr = syn.ts ? syn.ts_val : TCPH_UNSET);
	tcph_in(h, .ts = syn.ts, .ts_val = syn.ts_val, .ts_ecr = g->h.opts.ts_val);
	ck_assert_msg(h->accepted == accepted + 1, "handshake: accepted() not called");
	ck_assert_int_eq(tcph_state(h), TL_ESTABLISHED);
	tcph_expect_nothing(h, "handshake: nothing after the ACK");
	return g;
}

void tcph_handshake(struct tcph *h, uint16_t port, uint32_t piss)
{
	tcph_accept(h, port, piss, .mss = 1460, .wscale = 7);
}

struct seg *tcph_connect(struct tcph *h)
{
	struct tl_endpoint to = { h->peer.addr, h->peer.port };

	ck_assert_int_eq(tl_tcp_connect(h->s, &to, &events, h, &h->conn), 0);
	h->port = 0; /* not known until the SYN names it */
	struct tcph_peer *p = &h->peer;
	struct seg *g = &h->last;
	ck_assert_msg(tcph_pop(h, g), "connect: no SYN");
	h->port = g->h.sport;
	p->iss = g->h.seq;
	p->synced = true;
	p->rcvd = 1;
	check_flags(&(struct where){ "connect: SYN", __FILE__, __LINE__, "[S]", "" }, TCP_SYN,
		    g->h.flags);
	ck_assert_uint_eq(g->len, 0);
	ck_assert_int_eq(tl_tcp_state(h->conn), TL_SYN_SENT);
	return g;
}

void tcph_open_seg(struct tcph *h, uint32_t piss, struct tcph_seg synack)
{
	tcph_connect(h);
	h->peer.piss = piss;
	synack.flags = TCP_SYN | TCP_ACK;
	tcph_in_seg(h, synack);
	tcph_out(h, "open: ACK of the SYN-ACK", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	ck_assert_int_eq(tcph_state(h), TL_ESTABLISHED);
	ck_assert_int_eq(h->connected, 1);
}

void tcph_close_first(struct tcph *h, struct tcph_peer *p)
{
	if (!p)
		p = &h->peer;
	uint32_t snd = p->rcvd, rcv = p->sent;
	tl_tcp_close(h->conn);
	tcph_out(h, "close: our FIN", .peer = p, .flags = TCP_FIN | TCP_ACK, .seq = snd, .ack = rcv,
		 .len = 0);
	/* FIN_WAIT_1 -> TIME_WAIT: their FIN acknowledges ours. */
	tcph_in(h, .peer = p, .flags = TCP_FIN | TCP_ACK, .seq = rcv, .ack = snd + 1);
	tcph_out(h, "close: our ACK of their FIN", .peer = p, .flags = TCP_ACK, .seq = snd + 1,
		 .ack = rcv + 1, .len = 0);
	ck_assert_int_eq(peer_state(h, p), TL_TIME_WAIT);
}

void tcph_peer_closes_first(struct tcph *h)
{
	uint32_t snd = h->peer.rcvd, rcv = h->peer.sent;

	tcph_in(h, .flags = TCP_FIN | TCP_ACK, .seq = rcv, .ack = snd);
	tcph_out(h, "close: our ACK of their FIN", .flags = TCP_ACK, .seq = snd, .ack = rcv + 1,
		 .len = 0);
	ck_assert_int_eq(tcph_state(h), TL_CLOSE_WAIT);
	tl_tcp_close(h->conn);
	tcph_out(h, "close: our FIN", .flags = TCP_FIN | TCP_ACK, .seq = snd, .ack = rcv + 1,
		 .len = 0);
	ck_assert_int_eq(tcph_state(h), TL_LAST_ACK);
	tcph_in(h, .seq = rcv + 1, .ack = snd + 1);
	ck_assert_int_eq(tcph_state(h), TL_CLOSED);
}

void tcph_close_simultaneous(struct tcph *h)
{
	uint32_t snd = h->peer.rcvd, rcv = h->peer.sent;

	tl_tcp_close(h->conn);
	tcph_out(h, "close: our FIN", .flags = TCP_FIN | TCP_ACK, .seq = snd, .ack = rcv, .len = 0);
	/* Their FIN crossed ours and does not acknowledge it: CLOSING. */
	tcph_in(h, .flags = TCP_FIN | TCP_ACK, .seq = rcv, .ack = snd);
	tcph_out(h, "close: our ACK of their FIN", .flags = TCP_ACK, .seq = snd + 1,
		 .ack = rcv + 1, .len = 0);
	ck_assert_int_eq(tcph_state(h), TL_CLOSING);
	tcph_in(h, .seq = rcv + 1, .ack = snd + 1);
	ck_assert_int_eq(tcph_state(h), TL_TIME_WAIT);
}

enum tl_tcp_state tcph_state(const struct tcph *h)
{
	return peer_state(h, &h->peer);
}

const struct tl_counters *tcph_cnt(const struct tcph *h)
{
	return tl_stack_counters(h->s);
}
