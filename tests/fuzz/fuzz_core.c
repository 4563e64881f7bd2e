/*
 * Fuzz target: the sans-I/O core driven by packets, clock steps and socket
 * calls decoded from the input (format in fuzz_core.h). After every step
 * the counters must add up and never go down, the clock must not go back,
 * polling must leave nothing due, and every packet the stack sends must be
 * a valid IPv4 packet from us, to an ordinary host, with correct checksums
 * (a fragment: UDP or ICMP, without DF, in pieces of 8 bytes).
 * A broken invariant aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_core.h"
#include "fuzz_target.h"
#include "tcplab/apps.h"
#include "tcplab/socket.h"
#include "tcplab/stack.h"
#include "wire.h"

#define NSLOTS 8
#define NTRACK 64
#define MAX_PKT 8192

struct in {
	const uint8_t *p;
	size_t n;
};

/* What each side last said on one connection, for relative seq/ack. */
struct track {
	uint32_t raddr;
	uint16_t rport, lport;
	uint32_t snd_next, ack; /* the stack's */
	uint32_t peer_ack;	/* the harness's last ACK number */
};

struct fz {
	tl_stack *s;
	uint8_t setup;
	tl_time now;
	struct tl_tcp *tcp[NSLOTS];
	bool active[NSLOTS]; /* tcp[i] came from tl_tcp_connect */
	bool listening[NSLOTS]; /* tcp[i] is a listener (no closed() for it) */
	struct tl_udp *udp[NSLOTS];
	struct track track[NTRACK];
	size_t ntrack, next_track;
	struct tl_counters last;
	uint8_t pkt[MAX_PKT];
	uint8_t buf[65536];
};

static const uint32_t peers[] = FZ_PEERS;
static const uint16_t rports[] = FZ_RPORTS;
static const uint16_t lports[] = FZ_LPORTS;

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_core: invariant broken: %s\n", what);
	abort();
}

static uint8_t u8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t u16(struct in *in)
{
	uint16_t hi = u8(in);
	return (uint16_t)(hi << 8 | u8(in));
}

static uint32_t u32(struct in *in)
{
	uint32_t hi = u16(in);
	return hi << 16 | u16(in);
}

/* Copies up to n input bytes to dst, zero-filling what is missing. */
static void take(struct in *in, uint8_t *dst, size_t n)
{
	size_t k = n < in->n ? n : in->n;
	memcpy(dst, in->p, k);
	memset(dst + k, 0, n - k);
	in->p += k;
	in->n -= k;
}

static int slot_of(struct fz *f, const struct tl_tcp *c)
{
	for (int i = 0; i < NSLOTS; i++)
		if (f->tcp[i] == c)
			return i;
	return -1;
}

static uint16_t lport_at(struct fz *f, uint8_t idx)
{
	idx %= FZ_NLPORTS + FZ_NEPH;
	if (idx < FZ_NLPORTS)
		return lports[idx];
	int slot = idx - FZ_NLPORTS;
	return f->tcp[slot] && f->active[slot] ? tl_tcp_local(f->tcp[slot]).port : 1;
}

static struct track *track_find(struct fz *f, uint32_t raddr, uint16_t rport, uint16_t lport,
				bool add)
{
	for (size_t i = 0; i < f->ntrack; i++) {
		struct track *t = &f->track[i];
		if (t->raddr == raddr && t->rport == rport && t->lport == lport)
			return t;
	}
	if (!add)
		return NULL;
	size_t i = f->ntrack < NTRACK ? f->ntrack++ : f->next_track++ % NTRACK;
	f->track[i] = (struct track){ .raddr = raddr, .rport = rport, .lport = lport };
	return &f->track[i];
}

/* ---- what the stack sends ---- */

static bool ordinary_host(uint32_t a)
{
	uint8_t top = (uint8_t)(a >> 24);
	return a != 0 && a != 0xffffffffu && top != 127 && top < 224 && a != FZ_HOST;
}

static void check_tcp_out(struct fz *f, const struct ipv4_hdr *ip)
{
	struct tcp_hdr h;

	if (tcp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, &h) != WIRE_OK)
		fail("the stack sent a TCP segment that does not parse");
	struct track *t = track_find(f, ip->dst, h.dport, h.sport, true);
	uint32_t end = h.seq + (uint32_t)h.data_len + !!(h.flags & TCP_SYN) + !!(h.flags & TCP_FIN);
	if (!(h.flags & TCP_RST))
		t->snd_next = end;
	if (h.flags & TCP_ACK)
		t->ack = h.ack;
}

/* RFC 791 3.2: only UDP and ICMP, DF clear, every piece but the last a
 * multiple of 8 bytes, all within 65535. */
static void check_fragment_out(const struct ipv4_hdr *ip)
{
	if (ip->proto == IP_PROTO_TCP || ip->df)
		fail("the stack fragmented TCP, or a datagram with DF");
	if ((ip->mf && ip->payload_len % 8) || !ip->payload_len ||
	    ip->frag_off + ip->payload_len + IPV4_HDR_LEN > 65535)
		fail("the stack sent a malformed fragment");
}

static void output(void *ctx, const uint8_t *pkt, size_t len)
{
	struct fz *f = ctx;
	struct ipv4_hdr ip;
	struct udp_hdr u;
	struct icmp_hdr ic;

	if (len > tl_stack_config(f->s)->mtu)
		fail("the stack sent a packet larger than the MTU");
	if (ipv4_parse(pkt, len, &ip) != WIRE_OK || ip.hdr_len + ip.payload_len != len)
		fail("the stack sent an invalid IPv4 header");
	if (ip.src != FZ_HOST)
		fail("the stack sent a packet from another address");
	if (!ordinary_host(ip.dst))
		fail("the stack answered a broadcast, multicast, loopback or own address");
	if (ipv4_is_fragment(&ip)) {
		check_fragment_out(&ip);
		return;
	}
	switch (ip.proto) {
	case IP_PROTO_TCP:
		check_tcp_out(f, &ip);
		break;
	case IP_PROTO_UDP:
		if (udp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &u) != WIRE_OK)
			fail("the stack sent a UDP datagram that does not parse");
		break;
	case IP_PROTO_ICMP:
		if (icmp_parse(ip.payload, ip.payload_len, &ic) != WIRE_OK)
			fail("the stack sent an ICMP message that does not parse");
		break;
	default:
		fail("the stack sent an unknown protocol");
	}
}

static void trace(void *ctx, tl_time now, const char *line)
{
	struct fz *f = ctx;

	if (now > f->now || strchr(line, '\n'))
		fail("a trace line from the future or with a newline");
}

/* ---- the harness as an application ---- */

static void ev_accepted(void *arg, struct tl_tcp *listener, struct tl_tcp *conn);
static void ev_readable(void *arg, struct tl_tcp *conn);
static void ev_held(void *arg, struct tl_tcp *conn);
static void ev_closed(void *arg, struct tl_tcp *conn, int err);

static const struct tl_tcp_events events = {
	.accepted = ev_accepted,
	.connected = ev_held,
	.readable = ev_readable,
	.writable = ev_held,
	.closed = ev_closed,
};

static int free_slot(struct fz *f)
{
	return slot_of(f, NULL);
}

static void ev_accepted(void *arg, struct tl_tcp *listener, struct tl_tcp *conn)
{
	struct fz *f = arg;
	int i = free_slot(f);

	if (slot_of(f, listener) < 0)
		fail("accepted() on a listener the harness does not have");
	if (i < 0) {
		tl_tcp_close(conn);
		return;
	}
	f->tcp[i] = conn;
	f->active[i] = f->listening[i] = false;
}

static void ev_readable(void *arg, struct tl_tcp *conn)
{
	struct fz *f = arg;

	if (slot_of(f, conn) < 0)
		fail("readable() on a connection the harness does not have");
	if (f->setup & FZ_SET_AUTOREAD)
		while (tl_tcp_recv(conn, f->buf, sizeof f->buf) > 0)
			;
}

/* connected() and writable(): only for a connection the harness holds. */
static void ev_held(void *arg, struct tl_tcp *conn)
{
	struct fz *f = arg;

	if (slot_of(f, conn) < 0)
		fail("connected() or writable() on a connection the harness does not have");
}

static void ev_closed(void *arg, struct tl_tcp *conn, int err)
{
	struct fz *f = arg;
	int i = slot_of(f, conn);

	if (i < 0)
		fail("closed() on a connection the harness does not have");
	if (err > 0)
		fail("closed() with a positive error");
	f->tcp[i] = NULL;
}

static void udp_recv(void *arg, struct tl_udp *sock, const struct tl_endpoint *from,
		     const uint8_t *data, size_t len)
{
	if (len > 65535 || !ordinary_host(from->addr))
		fail("a datagram delivered from a source the stack must drop");
}

static void call_listen(struct fz *f, int slot, uint16_t arg)
{
	struct tl_tcp *l;

	if (!f->tcp[slot] && tl_tcp_listen(f->s, lport_at(f, (uint8_t)arg), (arg >> 8) % 8,
					   &events, f, &l) == 0) {
		f->tcp[slot] = l;
		f->active[slot] = false;
		f->listening[slot] = true;
	}
}

static void call_connect(struct fz *f, int slot, uint16_t arg)
{
	struct tl_endpoint to = { peers[(arg >> 8) % FZ_NPEERS], rports[arg % FZ_NRPORTS] };
	struct tl_tcp *c;

	if (f->tcp[slot])
		return;
	if (tl_tcp_connect(f->s, &to, &events, f, &c) == 0) {
		f->tcp[slot] = c;
		f->active[slot] = true;
		f->listening[slot] = false;
	}
}

static void call_send(struct fz *f, struct tl_tcp *c, uint16_t n)
{
	size_t space = tl_tcp_send_space(c);

	memset(f->buf, 'a' + n % 26, n);
	ssize_t r = tl_tcp_send(c, f->buf, n);
	if (r > (ssize_t)n || (r >= 0 && (size_t)r > space))
		fail("tl_tcp_send took more than it was given or had room for");
}

static void call_recv(struct fz *f, struct tl_tcp *c, uint16_t n)
{
	size_t avail = tl_tcp_recv_avail(c);
	ssize_t r = tl_tcp_recv(c, f->buf, n);

	if (r > (ssize_t)n || (r > 0 && (size_t)r > avail))
		fail("tl_tcp_recv returned more than asked for or available");
}

static void call_udp(struct fz *f, uint8_t call, int slot, uint16_t arg)
{
	struct tl_endpoint to = { peers[0], rports[0] };

	if (call == FZ_CALL_UDP_OPEN && !f->udp[slot]) {
		tl_udp_open(f->s, lport_at(f, (uint8_t)arg), udp_recv, f, &f->udp[slot]);
	} else if (call == FZ_CALL_UDP_SEND && f->udp[slot]) {
		memset(f->buf, 'u', arg);
		tl_udp_sendto(f->udp[slot], &to, f->buf, arg);
	} else if (call == FZ_CALL_UDP_CLOSE && f->udp[slot]) {
		tl_udp_close(f->udp[slot]);
		f->udp[slot] = NULL;
	}
}

static void op_sock(struct fz *f, struct in *in)
{
	uint8_t call = u8(in) % FZ_CALL_COUNT;
	int slot = u8(in) % NSLOTS;
	uint16_t arg = u16(in);
	struct tl_tcp *c = f->tcp[slot];

	switch (call) {
	case FZ_CALL_LISTEN: call_listen(f, slot, arg); return;
	case FZ_CALL_CONNECT: call_connect(f, slot, arg); return;
	case FZ_CALL_UDP_OPEN:
	case FZ_CALL_UDP_SEND:
	case FZ_CALL_UDP_CLOSE: call_udp(f, call, slot, arg); return;
	default: break;
	}
	if (!c)
		return;
	if ((unsigned)tl_tcp_state(c) > TL_TIME_WAIT)
		fail("a connection in no known state");
	switch (call) {
	case FZ_CALL_SEND: call_send(f, c, arg); break;
	case FZ_CALL_RECV: call_recv(f, c, arg); break;
	case FZ_CALL_SHUTDOWN: tl_tcp_shutdown(c); break;
	case FZ_CALL_CLOSE: f->tcp[slot] = NULL; tl_tcp_close(c); break;
	case FZ_CALL_ABORT: f->tcp[slot] = NULL; tl_tcp_abort(c); break;
	default: tl_tcp_set_nodelay(c, arg & 1); break;
	}
}

/* ---- packets to the stack ---- */

static void fix_l4(uint8_t proto, uint32_t src, uint32_t dst, uint8_t *l4, size_t len)
{
	size_t at = proto == IP_PROTO_TCP ? 16 : proto == IP_PROTO_UDP ? 6 : 2;

	if (proto != IP_PROTO_TCP && proto != IP_PROTO_UDP && proto != IP_PROTO_ICMP)
		return;
	if (len < at + 2)
		return;
	put16(l4 + at, 0);
	uint32_t sum = csum_add(0, l4, len);
	if (proto != IP_PROTO_ICMP)
		sum += csum_pseudo(src, dst, proto, (uint16_t)len);
	uint16_t c = csum_fold(sum);
	put16(l4 + at, proto == IP_PROTO_UDP && c == 0 ? 0xffff : c);
}

static void feed(struct fz *f, size_t len)
{
	tl_stack_input(f->s, f->pkt, len, f->now);
}

static void op_raw(struct fz *f, struct in *in)
{
	size_t len = u16(in) % MAX_PKT;

	take(in, f->pkt, len);
	feed(f, len);
}

static void op_ip(struct fz *f, struct in *in)
{
	uint8_t proto = u8(in);
	uint32_t src = peers[u8(in) % FZ_NPEERS];
	uint8_t fl = u8(in);
	size_t len = u16(in) % (MAX_PKT - IPV4_HDR_LEN);
	uint32_t dst = fl & FZ_IP_OTHER_DST ? 0x0a0a00ffu : FZ_HOST;

	take(in, f->pkt + IPV4_HDR_LEN, len);
	if (!(fl & FZ_IP_BAD_SUM))
		fix_l4(proto, src, dst, f->pkt + IPV4_HDR_LEN, len);
	ipv4_build(f->pkt, src, dst, proto, len, 1);
	f->pkt[6] = (uint8_t)((fl & FZ_IP_DF ? 0x40 : 0) | (fl & FZ_IP_MF ? 0x20 : 0));
	f->pkt[8] = (uint8_t)(fl >> 4); /* TTL, may be 0 */
	put16(f->pkt + 10, 0);
	put16(f->pkt + 10, csum_fold(csum_add(0, f->pkt, IPV4_HDR_LEN)));
	feed(f, IPV4_HDR_LEN + len);
}

/* Adds base to every edge of the SACK blocks (RFC 2018 3) in the options. */
static void sack_relative(uint8_t *opt, size_t len, uint32_t base)
{
	for (size_t i = 0; i < len;) {
		if (opt[i] == 0)
			return;
		if (opt[i] == 1 || i + 1 >= len || opt[i + 1] < 2) {
			i++;
			continue;
		}
		size_t l = opt[i + 1];
		if (opt[i] == 5)
			for (size_t e = i + 2; e + 4 <= i + l && e + 4 <= len; e += 4)
				put32(opt + e, get32(opt + e) + base);
		i += l;
	}
}

static void op_tcp(struct fz *f, struct in *in)
{
	uint32_t src = peers[u8(in) % FZ_NPEERS];
	struct tcp_hdr h = { .sport = rports[u8(in) % FZ_NRPORTS] };
	h.dport = lport_at(f, u8(in));
	h.flags = u8(in);
	uint8_t mode = u8(in);
	h.seq = u32(in);
	h.ack = u32(in);
	h.wnd = u16(in);
	size_t olen = u8(in) % 41;
	uint8_t *l4 = f->pkt + IPV4_HDR_LEN;
	take(in, l4 + TCP_HDR_LEN, olen);
	for (; olen % 4; olen++)
		l4[TCP_HDR_LEN + olen] = 0; /* end of options */
	size_t dlen = u16(in) % 2048;
	memset(l4 + TCP_HDR_LEN + olen, u8(in), dlen);
	struct track *t = track_find(f, src, h.sport, h.dport, mode & 15);
	if (mode & 1)
		h.seq += t->ack;
	if (mode & 2)
		h.ack += t->snd_next;
	else if (mode & 4)
		h.ack += t->peer_ack;
	if ((mode & 7) && (h.flags & TCP_ACK))
		t->peer_ack = h.ack;
	if (mode & 8)
		sack_relative(l4 + TCP_HDR_LEN, olen, t->snd_next);
	tcp_build(l4, src, FZ_HOST, &h, olen, dlen);
	ipv4_build(f->pkt, src, FZ_HOST, IP_PROTO_TCP, TCP_HDR_LEN + olen + dlen, 1);
	feed(f, IPV4_HDR_LEN + TCP_HDR_LEN + olen + dlen);
}

static void op_udp(struct fz *f, struct in *in)
{
	uint32_t src = peers[u8(in) % FZ_NPEERS];
	uint16_t sport = rports[u8(in) % FZ_NRPORTS];
	uint16_t dport = lport_at(f, u8(in));
	size_t len = u16(in) % 2048;
	uint8_t *l4 = f->pkt + IPV4_HDR_LEN;

	memset(l4 + UDP_HDR_LEN, u8(in), len);
	udp_build(l4, src, FZ_HOST, sport, dport, len);
	ipv4_build(f->pkt, src, FZ_HOST, IP_PROTO_UDP, UDP_HDR_LEN + len, 1);
	feed(f, IPV4_HDR_LEN + UDP_HDR_LEN + len);
}

static void op_icmp(struct fz *f, struct in *in)
{
	uint32_t src = peers[u8(in) % FZ_NPEERS];
	uint8_t type = u8(in), code = u8(in);
	uint32_t rest = u32(in);
	size_t len = u8(in);
	uint8_t data[256];

	take(in, data, len);
	size_t m = icmp_build(f->pkt + IPV4_HDR_LEN, type, code, rest, data, len);
	ipv4_build(f->pkt, src, FZ_HOST, IP_PROTO_ICMP, m, 1);
	feed(f, IPV4_HDR_LEN + m);
}

/* The datagram FZ_OP_FRAG cuts from: the same for the same kind, peer, id
 * and length, so that fragments of one ID fit together. */
static void frag_datagram(struct fz *f, uint8_t kind, uint32_t src, uint8_t id, uint16_t lport,
			  size_t dlen)
{
	uint8_t *d = f->buf;
	struct tcp_hdr h = { .sport = rports[id % FZ_NRPORTS], .dport = lport, .seq = id,
			     .flags = TCP_SYN, .wnd = 65535 };
	struct tcp_opts o = { .has_mss = true, .mss = 1460, .has_sack_perm = true,
			      .has_ts = true, .ts_val = id, .has_wscale = true, .wscale = 7 };

	for (size_t i = 0; i < dlen; i++)
		d[i] = (uint8_t)(i * 7 + id + kind);
	if (kind % 4 == 0 && dlen >= ICMP_HDR_LEN)
		icmp_build(d, ICMP_ECHO_REQUEST, 0, (uint32_t)id << 16 | kind, d + ICMP_HDR_LEN,
			   dlen - ICMP_HDR_LEN);
	else if (kind % 4 == 1 && dlen >= UDP_HDR_LEN)
		udp_build(d, src, FZ_HOST, h.sport, lport, dlen - UDP_HDR_LEN);
	else if (kind % 4 == 2 && dlen >= TCP_HDR_LEN + 20)
		tcp_build(d, src, FZ_HOST, &h, tcp_build_options(d + TCP_HDR_LEN, &o),
			  dlen - TCP_HDR_LEN - 20);
}

/* The options FZ_OP_FRAG puts in its header; returns their length. */
static size_t frag_options(uint8_t *o, uint8_t fl)
{
	size_t n = 0;

	if (fl & FZ_FRAG_RR) {
		memset(o, 0, 15);
		o[0] = IPOPT_RR, o[1] = 15, o[2] = 4;
		n = 15;
	}
	if (fl & FZ_FRAG_TS) {
		memset(o + n, 0, 20);
		o[n] = IPOPT_TS, o[n + 1] = 20, o[n + 2] = 5, o[n + 3] = fl >> 6;
		n += 20;
	}
	if (fl & FZ_FRAG_BAD_OPT) {
		o[n] = 25;
		o[n + 1] = 9; /* one past the end */
		n += 4;
	}
	while (n % 4)
		o[n++] = IPOPT_EOL;
	return n;
}

static void op_frag(struct fz *f, struct in *in)
{
	uint8_t kind = u8(in);
	uint32_t src = peers[u8(in) % FZ_NPEERS];
	uint8_t id = u8(in) % 4;
	uint16_t lport = lport_at(f, u8(in));
	size_t dlen = u16(in) % 4096, off = (size_t)(u16(in) % 8192) * 8, n = u16(in) % 2048;
	uint8_t fl = u8(in);
	uint8_t proto = kind % 4 == 0 ? IP_PROTO_ICMP : kind % 4 == 2 ? IP_PROTO_TCP
					       : IP_PROTO_UDP;

	if ((fl & FZ_FRAG_MF_AUTO) && off < dlen && n > dlen - off)
		n = dlen - off;
	frag_datagram(f, kind, src, id, lport, dlen);
	size_t opt_len = frag_options(f->pkt + IPV4_HDR_LEN, fl);
	uint8_t *piece = f->pkt + IPV4_HDR_LEN + opt_len;
	for (size_t i = 0; i < n; i++)
		piece[i] = off + i < dlen ? f->buf[off + i] : (uint8_t)i;
	bool mf = fl & FZ_FRAG_MF_AUTO ? off + n < dlen : (fl & FZ_FRAG_MF) != 0;
	ipv4_build_opts(f->pkt, src, FZ_HOST, proto, opt_len, n, id,
			(uint16_t)(off / 8 | (mf ? IP_MF : 0)));
	feed(f, IPV4_HDR_LEN + opt_len + n);
}

/* ---- time ---- */

static void poll_at(struct fz *f, tl_time now)
{
	f->now = now;
	tl_stack_poll(f->s, now);
	/* The loopback carries a queue's worth per poll, so work may remain due
	 * at this instant; it must die out, not chase itself for ever. */
	for (int i = 0; i < 1000 && tl_stack_next_deadline(f->s) <= now; i++)
		tl_stack_poll(f->s, now);
	if (tl_stack_next_deadline(f->s) <= now)
		fail("still work due after 1000 polls at one instant");
}

static void op_time(struct fz *f, struct in *in)
{
	static const tl_time unit[] = { 1, 1000, 100000, 1000000 };
	tl_time u = unit[u8(in) % 4];

	poll_at(f, f->now + u * u16(in));
}

static void op_deadline(struct fz *f)
{
	tl_time d = tl_stack_next_deadline(f->s);

	if (d != TL_TIME_NEVER && d < f->now)
		fail("a deadline in the past");
	poll_at(f, d == TL_TIME_NEVER ? f->now : d);
}

/* ---- invariants ---- */

enum layer { L_OTHER, L_IP, L_ICMP, L_UDP, L_TCP };

struct sums {
	const struct tl_counters *prev;
	size_t i;
	uint64_t drops[5];
};

static bool prefixed(const char *name, const char *p)
{
	return !strncmp(name, p, strlen(p));
}

static enum layer layer_of(const char *name)
{
	return prefixed(name, "ip_drop_")     ? L_IP
	       : prefixed(name, "icmp_drop_") ? L_ICMP
	       : prefixed(name, "udp_drop_")  ? L_UDP
	       : prefixed(name, "tcp_drop_")  ? L_TCP
					      : L_OTHER;
}

/* Which layer's drop counter each counter is, worked out once by name. */
static const char *const counter_names[] = {
#define TL_COUNTER_NAME(name, desc) #name,
	TL_COUNTERS(TL_COUNTER_NAME)
#undef TL_COUNTER_NAME
};
#define NCOUNTERS (sizeof counter_names / sizeof *counter_names)
static uint8_t counter_layer[NCOUNTERS];
static bool layers_known;

static void add_counter(void *ctx, const char *name, const char *desc, uint64_t v)
{
	struct sums *s = ctx;
	const uint64_t *prev = (const uint64_t *)s->prev;

	if (v < prev[s->i])
		fail(name);
	s->drops[counter_layer[s->i++]] += v;
}

/* Every counter only grows; each layer accounts for what it received. */
static void check_counters(struct fz *f)
{
	const struct tl_counters *c = tl_stack_counters(f->s);
	struct sums s = { .prev = &f->last };

	if (!layers_known) {
		for (size_t i = 0; i < NCOUNTERS; i++)
			counter_layer[i] = (uint8_t)layer_of(counter_names[i]);
		layers_known = true;
	}
	tl_counters_foreach(c, add_counter, &s);
	if (c->ip_in_receives + c->ip_frag_reassembled !=
	    c->ip_in_delivers + s.drops[L_IP] + c->ip_frag_in)
		fail("IP: received + reassembled != delivered + dropped + fragments");
	if (c->ip_in_delivers != c->icmp_in + c->udp_in + c->tcp_in)
		fail("IP: delivered != ICMP + UDP + TCP received");
	if (c->icmp_in != c->icmp_in_echo + c->icmp_in_other + s.drops[L_ICMP])
		fail("ICMP: received != echo + other + dropped");
	if (c->udp_in != c->udp_in_delivered + s.drops[L_UDP])
		fail("UDP: received != delivered + dropped");
	if (c->tcp_in < s.drops[L_TCP])
		fail("TCP: more segments dropped than received");
	if (tl_stack_now(f->s) != f->now)
		fail("tl_stack_now is not the last time given");
	f->last = *c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *f = calloc(1, sizeof *f);
	struct in in = { data, size };
	struct tl_config cfg;

	if (!f)
		return 0;
	f->setup = u8(&in);
	tl_config_defaults(&cfg);
	cfg.seed = u8(&in);
	cfg.output = output;
	cfg.output_ctx = f;
	if (f->setup & FZ_SET_SMALL_BUF)
		cfg.tcp_rcvbuf = cfg.tcp_sndbuf = 1024;
	if (f->setup & FZ_SET_FEW_CONNS)
		cfg.tcp_max_conns = 4, cfg.tcp_ooo_max = 2;
	if (f->setup & FZ_SET_NO_DELACK)
		cfg.tcp_delack_ms = 0;
	if (f->setup & FZ_SET_SMALL_MTU)
		cfg.mtu = 576;
	if (f->setup & FZ_SET_TRACE) {
		cfg.trace = trace;
		cfg.trace_ctx = f;
		cfg.trace_json = f->setup & FZ_SET_JSON;
	}
	f->now = TL_MS(1000);
	f->s = tl_stack_new(&cfg);
	if (!f->s)
		fail("tl_stack_new refused a valid configuration");
	if (!(f->setup & FZ_SET_NO_APPS) && tl_apps_start(f->s) < 0)
		fail("tl_apps_start failed");
	poll_at(f, f->now);
	while (in.n) {
		switch (u8(&in) % FZ_OP_COUNT) {
		case FZ_OP_RAW: op_raw(f, &in); break;
		case FZ_OP_IP: op_ip(f, &in); break;
		case FZ_OP_TCP: op_tcp(f, &in); break;
		case FZ_OP_UDP: op_udp(f, &in); break;
		case FZ_OP_ICMP: op_icmp(f, &in); break;
		case FZ_OP_TIME: op_time(f, &in); break;
		case FZ_OP_DEADLINE: op_deadline(f); break;
		case FZ_OP_FRAG: op_frag(f, &in); break;
		default: op_sock(f, &in); break;
		}
		check_counters(f);
	}
	for (int i = 0; i < NSLOTS; i++)
		if (f->udp[i])
			tl_udp_close(f->udp[i]);
	for (int i = 0; i < NSLOTS; i++)
		if (f->listening[i])
			f->tcp[i] = NULL;
	tl_stack_free(f->s);
	for (int i = 0; i < NSLOTS; i++)
		if (f->tcp[i])
			fail("tl_stack_free left a connection without closed()");
	free(f);
	return 0;
}
