#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcap_in.h"
#include "tcplab/apps.h"
#include "options.h"
#include "replay_frag.h"
#include "tcplab/socket.h"
#include "wire.h"

#define MAX_CONNS 1024
#define TIME_BASE TL_MS(1000) /* virtual time of the first packet */

/* What we know of one TCP connection's sequence spaces. */
struct conn {
	uint32_t peer;
	uint16_t pport, hport;
	bool rec_known, stack_known;
	uint32_t rec_iss, stack_iss;	/* the host's ISS: recorded, and ours */
	bool rec_ts_known, stack_ts_known;
	uint32_t rec_ts, stack_ts;	/* the host's first TSval: recorded, and ours */
};

#define MAX_RANGES 64
#define MAX_SNAPS 128 /* more than a receive batch (NAPI's 64) */

/* --ack-state: what one connection had received just before a packet was
 * fed to it, which held until that packet's time. */
struct rcv_snap {
	uint32_t raddr;
	uint16_t rport, lport;
	tl_time until;
	uint32_t rcv_nxt;
	int n;
	struct tl_seq_range have[MAX_RANGES];
};

struct emitted {
	uint8_t *pkt;
	size_t len;
	tl_time t;
	unsigned pieces;	/* a datagram tcplab sent in this many fragments, or 0 */
};

struct rp {
	const struct tl_replay_opts *o;
	const struct capture *cap;
	tl_time base;			/* virtual time of the first packet */
	uint32_t host;
	tl_stack *s;
	struct emitted *q;
	size_t qhead, qlen, qcap;
	struct conn conns[MAX_CONNS];
	size_t nconns;
	size_t fed, compared, folded;
	size_t states, own_acks;	/* --ack-state: ACKs checked, tcplab's not compared */
	struct rcv_snap snaps[MAX_SNAPS]; /* a ring, the newest at snap_n - 1 */
	size_t snap_n;
	size_t snap_matched;		/* the state the last recorded ACK matched */
	uint8_t scratch[65536];		/* a recorded answer with its checksums redone */
	struct rp_frags *rec_frags;	/* the recorded host's fragments, and ... */
	struct rp_frags *out_frags;	/* ... tcplab's, put back together to compare */
	size_t reassembled;		/* fragmented answers matched */
	const char *out_bad;		/* what was wrong with tcplab's fragments */
};

static const char *ip_str(uint32_t a, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

static uint32_t src_of(const uint8_t *p, size_t len) { return len >= 20 ? get32(p + 12) : 0; }
static uint32_t dst_of(const uint8_t *p, size_t len) { return len >= 20 ? get32(p + 16) : 0; }

static void enqueue(struct rp *r, const uint8_t *pkt, size_t len, unsigned pieces)
{
	if (r->qlen == r->qcap) {
		size_t n = r->qcap ? 2 * r->qcap : 64;
		struct emitted *q = realloc(r->q, n * sizeof *q);
		if (!q)
			return;
		r->q = q;
		r->qcap = n;
	}
	struct emitted *e = &r->q[r->qlen++];
	e->pkt = malloc(len);
	if (!e->pkt) {
		r->qlen--;
		return;
	}
	memcpy(e->pkt, pkt, len);
	e->len = len;
	e->t = tl_stack_now(r->s);
	e->pieces = pieces;
}

/* tcplab's fragments are queued as the datagram they make up, once whole. */
static void emit(void *ctx, const uint8_t *pkt, size_t len)
{
	struct rp *r = ctx;
	struct rp_frags *f = r->out_frags;

	switch (rp_frag_add(f, pkt, len)) {
	case RPF_HELD:
		return;
	case RPF_DONE:
		enqueue(r, f->whole, f->whole_len, f->whole_pieces);
		return;
	case RPF_BAD:
		r->out_bad = f->why; /* queued as it is: it differs from any answer */
		break;
	case RPF_NOT:
		break;
	}
	enqueue(r, pkt, len, 0);
}

static void trace_line(void *ctx, tl_time now, const char *line)
{
	const struct rp *r = ctx;

	tl_print_trace(stdout, (double)(now - r->base) / 1e6, r->o->trace_json, line);
}

/* The host under test: the first SYN-ACK's sender, else the first ICMP echo
 * replier, else the sender of the first packet that answers an earlier one. */
static bool find_host(const struct capture *cap, uint32_t *host)
{
	struct ipv4_hdr ip;

	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < cap->n; i++) {
			const struct cap_packet *p = &cap->p[i];
			if (ipv4_parse(p->ip, p->len, &ip) != WIRE_OK)
				continue;
			if (pass == 0 && ip.proto == IP_PROTO_TCP && ip.payload_len >= 14 &&
			    (ip.payload[13] & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
				return *host = ip.src, true;
			if (pass == 1 && ip.proto == IP_PROTO_ICMP && ip.payload_len >= 1 &&
			    ip.payload[0] == ICMP_ECHO_REPLY)
				return *host = ip.src, true;
			if (pass == 2 && i > 0) {
				for (size_t j = 0; j < i; j++)
					if (src_of(cap->p[j].ip, cap->p[j].len) == ip.dst &&
					    dst_of(cap->p[j].ip, cap->p[j].len) == ip.src)
						return *host = ip.src, true;
			}
		}
	}
	return false;
}

static struct conn *conn_find(struct rp *r, uint32_t peer, uint16_t pport, uint16_t hport,
			      bool create)
{
	for (size_t i = 0; i < r->nconns; i++) {
		struct conn *c = &r->conns[i];
		if (c->peer == peer && c->pport == pport && c->hport == hport)
			return c;
	}
	if (!create || r->nconns == MAX_CONNS)
		return NULL;
	struct conn *c = &r->conns[r->nconns++];
	memset(c, 0, sizeof *c);
	c->peer = peer;
	c->pport = pport;
	c->hport = hport;
	return c;
}

static tl_time vtime(const struct rp *r, const struct cap_packet *p)
{
	return r->base + (p->ts_us - r->cap->p[0].ts_us);
}

/* Fires every timer due by now at its own deadline, so emissions carry the
 * time the stack meant to send them. */
static void run_until(struct rp *r, tl_time now)
{
	for (int guard = 0; guard < 100000; guard++) {
		tl_time d = tl_stack_next_deadline(r->s);
		if (d > now)
			break;
		tl_stack_poll(r->s, d);
	}
	tl_stack_poll(r->s, now);
}

/* Rewrites the peer's ACK (and SACK blocks) from the recorded host's
 * sequence space into ours; the checksum is redone only if it was right. */
static void translate_input(struct rp *r, uint8_t *pkt, size_t len)
{
	struct ipv4_hdr ip;
	struct tcp_hdr th;

	if (ipv4_parse(pkt, len, &ip) != WIRE_OK || ip.proto != IP_PROTO_TCP ||
	    tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &th) != WIRE_OK)
		return;
	struct conn *c = conn_find(r, ip.src, th.sport, th.dport, false);
	if (!c || !c->rec_known || !c->stack_known)
		return;
	uint32_t delta = c->stack_iss - c->rec_iss;
	uint8_t *seg = pkt + (ip.payload - pkt);
	if (th.flags & TCP_ACK)
		put32(seg + 8, th.ack + delta);
	for (size_t i = TCP_HDR_LEN; i + 1 < th.hdr_len;) {
		uint8_t kind = seg[i], olen = kind > 1 ? seg[i + 1] : 1;
		if (kind == 0 || olen == 0)
			break;
		if (kind == 5)
			for (size_t b = i + 2; b + 4 <= i + olen; b += 4)
				put32(seg + b, get32(seg + b) + delta);
		/* RFC 7323 3.2: TSecr echoes the host's clock: the recorded one's, so ours. */
		if (kind == 8 && olen == 10 && i + 10 <= th.hdr_len && c->rec_ts_known &&
		    c->stack_ts_known && get32(seg + i + 6))
			put32(seg + i + 6, get32(seg + i + 6) + (c->stack_ts - c->rec_ts));
		i += olen;
	}
	put16(seg + 16, 0);
	uint32_t sum = csum_pseudo(ip.src, ip.dst, IP_PROTO_TCP, (uint16_t)ip.payload_len);
	put16(seg + 16, csum_fold(csum_add(sum, seg, ip.payload_len)));
}

/* An ICMP error quotes a segment the host sent (RFC 792): its sequence
 * number from the recorded host's space into ours, so that tcplab's check
 * that it is in flight (RFC 5927 4.1) sees its own. */
static void translate_icmp_quote(struct rp *r, uint8_t *pkt, size_t len)
{
	struct ipv4_hdr ip;

	if (ipv4_parse(pkt, len, &ip) != WIRE_OK || ip.proto != IP_PROTO_ICMP ||
	    ipv4_is_fragment(&ip) || ip.payload_len < 8 + IPV4_HDR_LEN + 8)
		return;
	uint8_t *m = pkt + (ip.payload - pkt), *q = m + 8;
	size_t ihl = (size_t)(q[0] & 15) * 4;
	if ((m[0] != ICMP_DEST_UNREACH && m[0] != ICMP_TIME_EXCEEDED && m[0] != ICMP_PARAM_PROBLEM) ||
	    q[0] >> 4 != 4 || ihl < IPV4_HDR_LEN || ip.payload_len < 8 + ihl + 8 ||
	    q[9] != IP_PROTO_TCP || get32(q + 12) != r->host)
		return;
	struct conn *c = conn_find(r, get32(q + 16), get16(q + ihl + 2), get16(q + ihl), false);
	if (!c || !c->rec_known || !c->stack_known)
		return;
	put32(q + ihl + 4, get32(q + ihl + 4) + (c->stack_iss - c->rec_iss));
	put16(m + 2, 0);
	put16(m + 2, csum_fold(csum_add(0, m, ip.payload_len)));
}

/* Before a TCP segment is fed, --ack-state keeps what its connection had. */
static void snap_receive_state(struct rp *r, const uint8_t *ip, size_t len, tl_time now)
{
	size_t ihl = len >= 20 ? (size_t)(ip[0] & 15) * 4 : 0;

	if (!r->o->ack_state || ihl < 20 || len < ihl + 4 || ip[9] != IP_PROTO_TCP)
		return;
	struct rcv_snap *m = &r->snaps[r->snap_n++ % MAX_SNAPS];
	struct tl_endpoint remote = { get32(ip + 12), get16(ip + ihl) };
	m->raddr = remote.addr;
	m->rport = remote.port;
	m->lport = get16(ip + ihl + 2);
	m->until = now;
	m->n = tl_tcp_rcv_ranges(r->s, &remote, m->lport, &m->rcv_nxt, m->have, MAX_RANGES);
}

static void feed(struct rp *r, const struct cap_packet *p)
{
	uint8_t *copy = malloc(p->len ? p->len : 1);

	if (!copy)
		return;
	memcpy(copy, p->ip, p->len);
	translate_input(r, copy, p->len);
	translate_icmp_quote(r, copy, p->len);
	run_until(r, vtime(r, p));
	snap_receive_state(r, copy, p->len, vtime(r, p));
	tl_stack_input(r->s, copy, p->len, vtime(r, p));
	free(copy);
	r->fed++;
}

/* ---- comparing one packet ---- */

struct view {
	bool ok;
	struct ipv4_hdr ip;
	struct tcp_hdr tcp;
	struct udp_hdr udp;
	struct icmp_hdr icmp;
	uint32_t rel_seq;	/* TCP seq relative to the host's ISS, if known */
	bool rel;
	unsigned pieces;	/* reassembled from this many fragments, or 0 */
};

/* A recorded answer is compared by content, not by its checksums: the
 * recorder may have offloaded them, or a person edited the capture. */
static const uint8_t *redo_checksums(struct rp *r, const uint8_t *pkt, size_t *len)
{
	size_t ihl = *len >= 20 ? (size_t)(pkt[0] & 15) * 4 : 0;

	if (ihl < 20 || ihl > *len || *len > sizeof r->scratch)
		return pkt;
	memcpy(r->scratch, pkt, *len);
	uint8_t *p = r->scratch;
	size_t total = get16(p + 2) < *len ? get16(p + 2) : *len;
	put16(p + 10, 0);
	put16(p + 10, csum_fold(csum_add(0, p, ihl)));
	uint8_t *l4 = p + ihl;
	size_t l4len = total > ihl ? total - ihl : 0;
	size_t at = p[9] == IP_PROTO_TCP ? 16 : p[9] == IP_PROTO_UDP ? 6 : p[9] == IP_PROTO_ICMP ? 2 : 0;
	if (!at || l4len < at + 2 || l4len > 0xffff)
		return p;
	put16(l4 + at, 0);
	uint32_t sum = p[9] == IP_PROTO_ICMP ? 0 : csum_pseudo(get32(p + 12), get32(p + 16), p[9], (uint16_t)l4len);
	put16(l4 + at, csum_fold(csum_add(sum, l4, l4len)));
	return p;
}

static void view_of(struct rp *r, const uint8_t *pkt, size_t len, bool stack, struct view *v)
{
	memset(v, 0, sizeof *v);
	if (!stack)
		pkt = redo_checksums(r, pkt, &len);
	if (ipv4_parse(pkt, len, &v->ip) != WIRE_OK)
		return;
	v->ok = true;
	if (v->ip.proto == IP_PROTO_TCP) {
		v->ok = tcp_parse(v->ip.payload, v->ip.payload_len, v->ip.src, v->ip.dst, &v->tcp) == WIRE_OK;
		struct conn *c = v->ok ? conn_find(r, v->ip.dst, v->tcp.dport, v->tcp.sport,
						   (v->tcp.flags & TCP_SYN) != 0) : NULL;
		if (c && (v->tcp.flags & TCP_SYN)) {
			if (stack)
				c->stack_known = true, c->stack_iss = v->tcp.seq;
			else
				c->rec_known = true, c->rec_iss = v->tcp.seq;
		}
		if (c && (v->tcp.flags & TCP_SYN) && v->tcp.opts.has_ts) {
			if (stack)
				c->stack_ts_known = true, c->stack_ts = v->tcp.opts.ts_val;
			else
				c->rec_ts_known = true, c->rec_ts = v->tcp.opts.ts_val;
		}
		if (c && (stack ? c->stack_known : c->rec_known)) {
			v->rel = true;
			v->rel_seq = v->tcp.seq - (stack ? c->stack_iss : c->rec_iss);
		}
	} else if (v->ip.proto == IP_PROTO_UDP) {
		v->ok = udp_parse(v->ip.payload, v->ip.payload_len, v->ip.src, v->ip.dst, &v->udp) == WIRE_OK;
	} else if (v->ip.proto == IP_PROTO_ICMP) {
		v->ok = icmp_parse(v->ip.payload, v->ip.payload_len, &v->icmp) == WIRE_OK;
	}
}

static void describe(const struct view *v, char *out, size_t n)
{
	char a[16], b[16];

	if (!v->ok) {
		snprintf(out, n, "(not a valid packet)");
		return;
	}
	ip_str(v->ip.src, a);
	ip_str(v->ip.dst, b);
	if (v->ip.proto == IP_PROTO_TCP) {
		const struct tcp_hdr *t = &v->tcp;
		snprintf(out, n, "TCP %s:%u > %s:%u flags %s%s%s%s%s seq %u%s ack %u win %u len %zu%s%s%s",
			 a, t->sport, b, t->dport, t->flags & TCP_SYN ? "S" : "",
			 t->flags & TCP_FIN ? "F" : "", t->flags & TCP_RST ? "R" : "",
			 t->flags & TCP_PSH ? "P" : "", t->flags & TCP_ACK ? "." : "",
			 v->rel ? v->rel_seq : t->seq, v->rel ? " (rel)" : "", t->ack, t->wnd,
			 t->data_len, t->opts.has_mss ? " mss" : "", t->opts.has_wscale ? " wscale" : "",
			 t->opts.has_sack_perm ? " sackOK" : "");
		for (uint8_t i = 0; i < t->opts.sack_n; i++) {
			size_t used = strlen(out);
			snprintf(out + used, n - used, "%s%u:%u", i ? " " : " sack ",
				 t->opts.sack[i][0], t->opts.sack[i][1]);
		}
	} else if (v->ip.proto == IP_PROTO_UDP) {
		snprintf(out, n, "UDP %s:%u > %s:%u len %zu", a, v->udp.sport, b, v->udp.dport,
			 v->udp.data_len);
	} else if (v->ip.proto == IP_PROTO_ICMP) {
		snprintf(out, n, "ICMP %s > %s type %u code %u id %u seq %u len %zu", a, b,
			 v->icmp.type, v->icmp.code, v->icmp.id, v->icmp.seq, v->icmp.data_len);
	} else {
		snprintf(out, n, "IP %s > %s proto %u", a, b, v->ip.proto);
	}
	size_t used = strlen(out);
	if (v->pieces)
		snprintf(out + used, n - used, " (from %u fragments)", v->pieces);
}

static bool is_pure_ack(const struct view *v)
{
	return v->ok && v->ip.proto == IP_PROTO_TCP && v->tcp.flags == TCP_ACK && !v->tcp.data_len;
}

static bool window_close(const struct rp *r, uint16_t a, uint16_t b)
{
	uint32_t d = a > b ? (uint32_t)(a - b) : (uint32_t)(b - a);

	return (uint64_t)d * 100 <= (uint64_t)r->o->window_tol_pct * (a > b ? a : b);
}

/* The first field that differs, or NULL. */
static const char *tcp_differs(const struct rp *r, const struct view *e, const struct view *g)
{
	const struct tcp_hdr *x = &e->tcp, *y = &g->tcp;
	uint8_t mask = r->o->lenient ? (uint8_t)~TCP_PSH : 0xff;

	if (x->sport != y->sport || x->dport != y->dport)
		return "ports";
	if ((x->flags & mask) != (y->flags & mask))
		return "flags";
	if ((e->rel ? e->rel_seq : x->seq) != (g->rel ? g->rel_seq : y->seq))
		return "sequence number";
	if ((x->flags & TCP_ACK) && x->ack != y->ack)
		return "acknowledgment number";
	if (x->data_len != y->data_len || memcmp(x->data, y->data, x->data_len))
		return "payload";
	if (!window_close(r, x->wnd, y->wnd))
		return "window";
	if (x->opts.has_mss != y->opts.has_mss || x->opts.has_wscale != y->opts.has_wscale)
		return "options";
	if (!r->o->lenient && (x->opts.has_sack_perm != y->opts.has_sack_perm ||
			       x->opts.mss != y->opts.mss || x->opts.wscale != y->opts.wscale))
		return "options";
	return NULL;
}

static const char *differs(const struct rp *r, const struct view *e, const struct view *g)
{
	if (!e->ok || !g->ok)
		return e->ok == g->ok ? NULL : "validity";
	if (e->ip.proto != g->ip.proto)
		return "protocol";
	if (e->ip.src != g->ip.src || e->ip.dst != g->ip.dst)
		return "addresses";
	switch (e->ip.proto) {
	case IP_PROTO_TCP:
		return tcp_differs(r, e, g);
	case IP_PROTO_UDP:
		if (e->udp.sport != g->udp.sport || e->udp.dport != g->udp.dport)
			return "ports";
		if (e->udp.data_len != g->udp.data_len || memcmp(e->udp.data, g->udp.data, e->udp.data_len))
			return "payload";
		return NULL;
	case IP_PROTO_ICMP:
		if (e->icmp.type != g->icmp.type || e->icmp.code != g->icmp.code ||
		    e->icmp.id != g->icmp.id || e->icmp.seq != g->icmp.seq)
			return "ICMP header";
		if (e->icmp.data_len != g->icmp.data_len ||
		    memcmp(e->icmp.data, g->icmp.data, e->icmp.data_len))
			return "payload";
		return NULL;
	default:
		return e->ip.payload_len == g->ip.payload_len &&
		       !memcmp(e->ip.payload, g->ip.payload, e->ip.payload_len) ? NULL : "payload";
	}
}

static void divergence(struct rp *r, const struct cap_packet *p, const char *what,
		       const struct view *e, const struct view *g, tl_time gt)
{
	char a[256], b[256], peer[16];

	describe(e, a, sizeof a);
	printf("DIVERGENCE at packet %u (t=%.6f s): %s differs\n", p->frame,
	       (double)(vtime(r, p) - r->base) / 1e6, what);
	printf("  recorded: %s\n", a);
	if (g) {
		describe(g, b, sizeof b);
		printf("  tcplab:   %s  (t=%.6f s)\n", b, (double)(gt - r->base) / 1e6);
	} else {
		printf("  tcplab:   sent nothing\n");
	}
	if (r->out_bad)
		printf("  tcplab's fragments were not one datagram: %s\n", r->out_bad);
	if (e->ok && e->ip.proto == IP_PROTO_TCP) {
		struct tl_endpoint remote = { e->ip.dst, e->tcp.dport };
		printf("  connection %s:%u > :%u is %s in tcplab\n", ip_str(e->ip.dst, peer),
		       e->tcp.dport, e->tcp.sport,
		       tl_tcp_state_name(tl_tcp_state_of(r->s, &remote, e->tcp.sport)));
	}
}

static void drop_emitted(struct rp *r)
{
	free(r->q[r->qhead].pkt);
	r->qhead++;
}

static void state_divergence(const struct rp *r, const struct cap_packet *p, const char *what,
			     const struct view *e, uint32_t rcv_nxt,
			     const struct tl_seq_range *have, int n)
{
	char a[256];

	describe(e, a, sizeof a);
	printf("DIVERGENCE at packet %u (t=%.6f s): %s differs\n", p->frame,
	       (double)(vtime(r, p) - r->base) / 1e6, what);
	printf("  recorded: %s\n", a);
	if (n < 0) {
		printf("  tcplab:   no such connection\n");
		return;
	}
	printf("  tcplab:   RCV.NXT %u, out of order:", rcv_nxt);
	for (int i = 0; i < n && i < MAX_RANGES; i++)
		printf(" %u:%u", have[i].start, have[i].end);
	printf("%s\n", n ? "" : " none");
}

static bool seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

/* RFC 2883 4: a first block below the ACK, or inside the second, is a D-SACK. */
static bool is_dsack_block(const struct tcp_hdr *th, uint8_t i)
{
	const uint32_t (*b)[2] = th->opts.sack;

	if (i != 0)
		return false;
	return seq_le(b[0][1], th->ack) ||
	       (th->opts.sack_n > 1 && seq_le(b[1][0], b[0][0]) && seq_le(b[0][1], b[1][1]));
}

static bool holds_range(const struct tl_seq_range *have, int n, uint32_t start, uint32_t end)
{
	for (int i = 0; i < n && i < MAX_RANGES; i++)
		if (have[i].start == start && have[i].end == end)
			return true;
	return false;
}

/* The first field in which the recorded ACK e differs from a receive state. */
static const char *state_differs(const struct view *e, uint32_t rcv_nxt,
				 const struct tl_seq_range *have, int n)
{
	if (n < 0)
		return "connection";
	if (e->tcp.ack != rcv_nxt)
		return "acknowledgment number";
	for (uint8_t i = 0; i < e->tcp.opts.sack_n; i++) {
		const uint32_t *b = e->tcp.opts.sack[i];
		if (!is_dsack_block(&e->tcp, i) && !holds_range(have, n, b[0], b[1]))
			return "SACK block";
	}
	return NULL;
}

/* The earliest state the connection held within the time tolerance before
 * t, and no earlier than the one the previous ACK matched: the recorded
 * ACKs must follow tcplab's states in order (the earliest match leaves the
 * most for the ACKs after). */
static bool matches_recent_state(struct rp *r, const struct view *e, tl_time t)
{
	size_t first = r->snap_n > MAX_SNAPS ? r->snap_n - MAX_SNAPS : 0;

	for (size_t idx = first > r->snap_matched ? first : r->snap_matched; idx < r->snap_n; idx++) {
		const struct rcv_snap *m = &r->snaps[idx % MAX_SNAPS];
		if (m->until + TL_MS(r->o->time_tol_ms) < t)
			continue;
		if (m->raddr == e->ip.dst && m->rport == e->tcp.dport && m->lport == e->tcp.sport &&
		    !state_differs(e, m->rcv_nxt, m->have, m->n)) {
			r->snap_matched = idx;
			return true;
		}
	}
	return false;
}

/* --ack-state: a recorded bare ACK must say what tcplab had received by its
 * time: RCV.NXT as its ACK (RFC 9293 3.4), each SACK block one of the
 * ranges held beyond it (RFC 2018 4). The recorder may have captured the
 * ACK after the next segment had come in but before it was read, so a
 * state within the time tolerance counts. tcplab's own bare ACKs are not
 * compared. */
static bool check_ack_state(struct rp *r, const struct cap_packet *p, const struct view *e)
{
	struct tl_endpoint remote = { e->ip.dst, e->tcp.dport };
	struct tl_seq_range have[MAX_RANGES];
	uint32_t rcv_nxt = 0;
	struct view g;

	while (r->qhead < r->qlen) {
		view_of(r, r->q[r->qhead].pkt, r->q[r->qhead].len, true, &g);
		if (!is_pure_ack(&g))
			break;
		drop_emitted(r);
		r->own_acks++;
	}
	int n = tl_tcp_rcv_ranges(r->s, &remote, e->tcp.sport, &rcv_nxt, have, MAX_RANGES);
	if (matches_recent_state(r, e, vtime(r, p))) {
		r->states++;
		return true;
	}
	const char *what = state_differs(e, rcv_nxt, have, n);
	if (what) {
		state_divergence(r, p, what, e, rcv_nxt, have, n);
		return false;
	}
	r->snap_matched = r->snap_n;
	r->states++;
	return true;
}

/* The recorded answer p as a view, or the datagram it completes: 1; a
 * piece of one not yet whole: 0; a piece that cannot be one: -1, told. */
static int recorded_view(struct rp *r, const struct cap_packet *p, struct view *e)
{
	struct rp_frags *f = r->rec_frags;

	switch (rp_frag_add(f, p->ip, p->len)) {
	case RPF_HELD:
		return 0;
	case RPF_BAD:
		printf("DIVERGENCE at packet %u (t=%.6f s): the recorded fragments differ: %s\n",
		       p->frame, (double)(vtime(r, p) - r->base) / 1e6, f->why);
		return -1;
	case RPF_DONE:
		view_of(r, f->whole, f->whole_len, false, e);
		e->pieces = f->whole_pieces;
		return 1;
	case RPF_NOT:
		break;
	}
	view_of(r, p->ip, p->len, false, e);
	return 1;
}

/* Compares the recorded host packet p with the next one tcplab sent.
 * Returns false on divergence. */
static bool check_output(struct rp *r, const struct cap_packet *p)
{
	struct view e, g;

	run_until(r, vtime(r, p));
	/* A timer a little late against the recording may still be in time. */
	if (r->qhead == r->qlen &&
	    tl_stack_next_deadline(r->s) <= vtime(r, p) + TL_MS(r->o->time_tol_ms))
		run_until(r, tl_stack_next_deadline(r->s));
	int got = recorded_view(r, p, &e);
	if (got <= 0)
		return got == 0;
	if (r->o->ack_state && is_pure_ack(&e))
		return check_ack_state(r, p, &e);
	for (;;) {
		if (r->qhead == r->qlen) {
			if (r->o->lenient && is_pure_ack(&e)) {
				r->folded++; /* a bare ACK folded into a later segment */
				return true;
			}
			divergence(r, p, "packet", &e, NULL, 0);
			return false;
		}
		struct emitted *m = &r->q[r->qhead];
		view_of(r, m->pkt, m->len, true, &g);
		g.pieces = m->pieces;
		const char *what = differs(r, &e, &g);
		if (!what) {
			uint64_t dt = m->t > vtime(r, p) ? m->t - vtime(r, p) : vtime(r, p) - m->t;
			if (dt > TL_MS(r->o->time_tol_ms)) {
				divergence(r, p, "time", &e, &g, m->t);
				return false;
			}
			r->reassembled += e.pieces || g.pieces;
			drop_emitted(r);
			r->compared++;
			return true;
		}
		if (r->o->lenient && is_pure_ack(&e) && !is_pure_ack(&g)) {
			r->folded++;
			return true;
		}
		if ((r->o->lenient || r->o->ack_state) && is_pure_ack(&g) && !is_pure_ack(&e)) {
			drop_emitted(r);
			r->folded++;
			continue;
		}
		divergence(r, p, what, &e, &g, m->t);
		return false;
	}
}

static int replay(struct rp *r)
{
	for (size_t i = 0; i < r->cap->n; i++) {
		const struct cap_packet *p = &r->cap->p[i];
		if (dst_of(p->ip, p->len) == r->host)
			feed(r, p);
		else if (src_of(p->ip, p->len) == r->host && !check_output(r, p))
			return 1;
	}
	if (r->out_frags->active) {
		printf("DIVERGENCE after the last packet: tcplab sent %u fragments of a datagram, "
		       "not all of it\n", r->out_frags->n);
		return 1;
	}
	while (r->qhead < r->qlen) {
		struct view g;
		view_of(r, r->q[r->qhead].pkt, r->q[r->qhead].len, true, &g);
		g.pieces = r->q[r->qhead].pieces;
		if ((r->o->lenient || r->o->ack_state) && is_pure_ack(&g)) {
			drop_emitted(r);
			continue;
		}
		char b[256];
		describe(&g, b, sizeof b);
		printf("DIVERGENCE after the last packet: tcplab sent more than the recording has\n"
		       "  tcplab:   %s\n", b);
		return 1;
	}
	return 0;
}

static void free_queue(struct rp *r)
{
	for (size_t i = r->qhead; i < r->qlen; i++)
		free(r->q[i].pkt);
	free(r->q);
}

/* The stack under test, configured as the recorded host, its services started. */
static bool start_stack(struct rp *r)
{
	const struct tl_replay_opts *o = r->o;
	struct tl_config cfg;

	if (o->cfg)
		cfg = *o->cfg;
	else
		tl_config_defaults(&cfg);
	cfg.addr = r->host;
	cfg.mtu = o->mtu;
	cfg.seed = o->seed;
	cfg.output = emit;
	cfg.output_ctx = r;
	if (o->trace) {
		cfg.trace = trace_line;
		cfg.trace_ctx = r;
		cfg.trace_json = o->trace_json;
	}
	/* The live clock's sub-millisecond phase (pcap_out keeps it), so that our
	 * millisecond timestamps tick where the recorded host's did. */
	r->base = TIME_BASE + (r->cap->n ? r->cap->p[0].ts_us % 1000 : 0);
	r->rec_frags = calloc(1, sizeof *r->rec_frags);
	r->out_frags = calloc(1, sizeof *r->out_frags);
	r->s = r->rec_frags && r->out_frags ? tl_stack_new(&cfg) : NULL;
	if (!r->s || tl_apps_start_some(r->s, TL_SVC_ALL & ~o->services_off) < 0)
		return false;
	tl_stack_poll(r->s, r->base);
	return true;
}

static void report(const struct rp *r)
{
	const struct tl_replay_opts *o = r->o;
	char a[16];

	printf("replay %s: host %s, %zu packets: %zu fed to tcplab, %zu answers matched, "
	       "%zu bare ACKs folded; tolerances: time %u ms, window %u%%%s; no divergence\n",
	       o->file, ip_str(r->host, a), r->cap->n, r->fed, r->compared, r->folded,
	       o->time_tol_ms, o->window_tol_pct, o->lenient ? ", lenient" : "");
	if (r->reassembled)
		printf("  fragments: %zu answers sent in fragments compared as the datagrams they "
		       "make up (IP IDs and where the pieces were cut not compared)\n", r->reassembled);
	if (o->ack_state)
		printf("  --ack-state: %zu recorded ACKs matched tcplab's receive state; "
		       "tcplab's own %zu bare ACKs not compared\n", r->states, r->own_acks);
}

int tl_replay_run(const struct tl_replay_opts *o)
{
	struct capture cap;
	struct rp r;
	char err[512];

	if (capture_load(o->file, &cap, err, sizeof err) < 0) {
		fprintf(stderr, "tcplab: %s\n", err);
		return 2;
	}
	memset(&r, 0, sizeof r);
	r.o = o;
	r.cap = &cap;
	r.host = o->addr;
	if (cap.n == 0 || (!o->have_addr && !find_host(&cap, &r.host))) {
		fprintf(stderr, "tcplab: %s: %s\n", o->file, cap.n ? "cannot tell which host answers; give --addr"
							    : "no IPv4 packets");
		capture_free(&cap);
		return 2;
	}
	int status = 2;
	if (!start_stack(&r))
		fprintf(stderr, "tcplab: cannot start the stack\n");
	else if ((status = replay(&r)) == 0)
		report(&r);
	free_queue(&r);
	tl_stack_free(r.s);
	free(r.rec_frags);
	free(r.out_frags);
	capture_free(&cap);
	return status;
}
