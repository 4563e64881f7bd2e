/*
 * Builds the seed corpus of the fuzz targets from the capture library:
 *   fuzz_corpus CAPTURE_DIR OUT_DIR [STAMP]
 * OUT_DIR/core/: each capture's packets to the recorded host as operations
 * of the core target (fuzz_core.h), TCP with sequence numbers relative to
 * what the host last sent, so they replay against our own ISNs;
 * OUT_DIR/replay/: the first 16 KiB of each capture behind an options byte;
 * OUT_DIR/options/: command lines from the documentation;
 * OUT_DIR/control/: requests to the control socket, good and bad.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_core.h"
#include "pcap_in.h"
#include "wire.h"

#define MAX_SEED 16384
#define NCONN 64

struct out {
	uint8_t b[MAX_SEED];
	size_t n;
	bool full;
};

/* The recorded host's side of one connection. */
struct hconn {
	uint32_t peer;
	uint16_t pport, hport;
	uint32_t snd_next, ack;
};

struct conv {
	uint32_t host;
	uint32_t peers[4];
	uint16_t pports[4];
	size_t npeers, npports;
	struct hconn c[NCONN];
	size_t nc;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (!n)
		return;
	if (o->full || o->n + n > sizeof o->b) {
		o->full = true;
		return;
	}
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void put8(struct out *o, uint8_t v) { put(o, &v, 1); }
static void put16be(struct out *o, uint16_t v) { put8(o, (uint8_t)(v >> 8)); put8(o, (uint8_t)v); }
static void put32be(struct out *o, uint32_t v) { put16be(o, (uint16_t)(v >> 16)); put16be(o, (uint16_t)v); }

/* An index for a value among at most 4 seen so far (in order of appearance). */
static uint8_t index_of(uint32_t *seen, size_t *n, uint32_t v)
{
	for (size_t i = 0; i < *n; i++)
		if (seen[i] == v)
			return (uint8_t)i;
	if (*n < 4)
		seen[(*n)++] = v;
	return (uint8_t)(*n - 1);
}

static uint8_t peer_index(struct conv *cv, uint32_t a)
{
	return index_of(cv->peers, &cv->npeers, a);
}

static uint8_t pport_index(struct conv *cv, uint16_t p)
{
	uint32_t seen[4];
	for (size_t i = 0; i < cv->npports; i++)
		seen[i] = cv->pports[i];
	uint8_t i = index_of(seen, &cv->npports, p);
	for (size_t k = 0; k < cv->npports; k++)
		cv->pports[k] = (uint16_t)seen[k];
	return i;
}

static uint8_t lport_index(uint16_t port)
{
	static const uint16_t lports[] = FZ_LPORTS;
	for (uint8_t i = 0; i < FZ_NLPORTS; i++)
		if (lports[i] == port)
			return i;
	return 7; /* a closed port */
}

static struct hconn *hconn_find(struct conv *cv, uint32_t peer, uint16_t pport, uint16_t hport,
				bool add)
{
	for (size_t i = 0; i < cv->nc; i++)
		if (cv->c[i].peer == peer && cv->c[i].pport == pport && cv->c[i].hport == hport)
			return &cv->c[i];
	if (!add || cv->nc == NCONN)
		return NULL;
	cv->c[cv->nc] = (struct hconn){ .peer = peer, .pport = pport, .hport = hport };
	return &cv->c[cv->nc++];
}

/* A segment the host sent: what the fuzz harness will track from ours. */
static void host_sent(struct conv *cv, const struct ipv4_hdr *ip)
{
	struct tcp_hdr h;

	if (ip->proto != IP_PROTO_TCP ||
	    tcp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, &h) != WIRE_OK)
		return;
	struct hconn *c = hconn_find(cv, ip->dst, h.dport, h.sport, true);
	if (!c)
		return;
	if (!(h.flags & TCP_RST))
		c->snd_next = h.seq + (uint32_t)h.data_len + !!(h.flags & TCP_SYN) +
			      !!(h.flags & TCP_FIN);
	if (h.flags & TCP_ACK)
		c->ack = h.ack;
}

static void emit_time(struct out *o, uint64_t dt)
{
	static const uint64_t unit[] = { 1, 1000, 100000, 1000000 };
	for (uint8_t u = 0; u < 4 && dt; u++) {
		uint64_t n = dt / unit[u];
		if (n > 65535 && u < 3)
			continue;
		put8(o, FZ_OP_TIME);
		put8(o, u);
		put16be(o, (uint16_t)(n > 65535 ? 65535 : n));
		return;
	}
}

static void emit_tcp(struct out *o, struct conv *cv, const struct ipv4_hdr *ip,
		     const struct tcp_hdr *h)
{
	struct hconn *c = hconn_find(cv, ip->src, h->sport, h->dport, false);
	uint8_t mode = c ? 3 : 0;
	size_t olen = h->hdr_len - TCP_HDR_LEN;

	put8(o, FZ_OP_TCP);
	put8(o, peer_index(cv, ip->src));
	put8(o, pport_index(cv, h->sport));
	put8(o, lport_index(h->dport));
	put8(o, h->flags);
	put8(o, mode);
	put32be(o, c ? h->seq - c->ack : h->seq);
	put32be(o, c ? h->ack - c->snd_next : h->ack);
	put16be(o, h->wnd);
	put8(o, (uint8_t)olen);
	put(o, ip->payload + TCP_HDR_LEN, olen);
	put16be(o, (uint16_t)h->data_len);
	put8(o, h->data_len ? h->data[0] : 0);
}

/* One packet to the host as an operation (raw if it does not parse). */
static void emit_packet(struct out *o, struct conv *cv, const struct cap_packet *p)
{
	struct ipv4_hdr ip;
	struct tcp_hdr t;
	struct udp_hdr u;
	struct icmp_hdr ic;

	if (ipv4_parse(p->ip, p->len, &ip) != WIRE_OK)
		goto raw;
	if (ip.proto == IP_PROTO_TCP &&
	    tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &t) == WIRE_OK) {
		emit_tcp(o, cv, &ip, &t);
		return;
	}
	if (ip.proto == IP_PROTO_UDP &&
	    udp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &u) == WIRE_OK) {
		put8(o, FZ_OP_UDP);
		put8(o, peer_index(cv, ip.src));
		put8(o, pport_index(cv, u.sport));
		put8(o, lport_index(u.dport));
		put16be(o, (uint16_t)u.data_len);
		put8(o, u.data_len ? u.data[0] : 0);
		return;
	}
	if (ip.proto == IP_PROTO_ICMP && icmp_parse(ip.payload, ip.payload_len, &ic) == WIRE_OK &&
	    ip.payload_len <= ICMP_HDR_LEN + 255) {
		put8(o, FZ_OP_ICMP);
		put8(o, peer_index(cv, ip.src));
		put8(o, ic.type);
		put8(o, ic.code);
		put(o, ip.payload + 4, 4);
		put8(o, (uint8_t)(ip.payload_len - ICMP_HDR_LEN));
		put(o, ip.payload + ICMP_HDR_LEN, ip.payload_len - ICMP_HDR_LEN);
		return;
	}
raw:
	put8(o, FZ_OP_RAW);
	put16be(o, (uint16_t)p->len);
	put(o, p->ip, p->len);
}

/* The host: whoever received the first SYN, else the first packet. */
static uint32_t find_host(const struct capture *cap)
{
	for (size_t i = 0; i < cap->n; i++) {
		const uint8_t *p = cap->p[i].ip;
		if (cap->p[i].len >= 40 && p[9] == IP_PROTO_TCP &&
		    (p[(p[0] & 15) * 4 + 13] & (TCP_SYN | TCP_ACK)) == TCP_SYN)
			return get32(p + 16);
	}
	return cap->n && cap->p[0].len >= 20 ? get32(cap->p[0].ip + 16) : 0;
}

static int write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "fuzz_corpus: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

static int core_seed(const char *dir, const char *name, const struct capture *cap, uint8_t setup)
{
	static struct out o;
	struct conv cv;
	char file[512];
	uint64_t last = cap->n ? cap->p[0].ts_us : 0;

	memset(&o, 0, sizeof o);
	memset(&cv, 0, sizeof cv);
	cv.host = find_host(cap);
	put8(&o, setup);
	put8(&o, 1);
	for (size_t i = 0; i < cap->n && !o.full; i++) {
		const struct cap_packet *p = &cap->p[i];
		struct ipv4_hdr ip;
		if (ipv4_parse(p->ip, p->len, &ip) == WIRE_OK && ip.src == cv.host) {
			host_sent(&cv, &ip);
			continue;
		}
		if (p->len < 20 || get32(p->ip + 16) != cv.host)
			continue;
		if (p->ts_us > last)
			emit_time(&o, p->ts_us - last);
		last = p->ts_us;
		size_t before = o.n;
		emit_packet(&o, &cv, p);
		if (o.full)
			o.n = before;
	}
	o.full = false;
	for (int i = 0; i < 4; i++)
		put8(&o, FZ_OP_DEADLINE);
	snprintf(file, sizeof file, "%s-%02x", name, setup);
	return write_file(dir, file, o.b, o.n);
}

/* The capture's first records (at most 16 KiB) behind an options byte. */
static int replay_seed(const char *dir, const char *name, const char *path, uint8_t flags)
{
	static uint8_t b[MAX_SEED + 1];
	char file[512];
	FILE *f = fopen(path, "rb");

	if (!f)
		return -1;
	b[0] = flags;
	size_t n = fread(b + 1, 1, MAX_SEED, f), end = 24;
	fclose(f);
	/* Classic pcap: a 24-byte header, then 16-byte record headers. */
	while (end + 16 <= n) {
		uint32_t caplen = (uint32_t)b[1 + end + 8] | (uint32_t)b[1 + end + 9] << 8 |
				  (uint32_t)b[1 + end + 10] << 16 | (uint32_t)b[1 + end + 11] << 24;
		if (end + 16 + caplen > n)
			break;
		end += 16 + caplen;
	}
	snprintf(file, sizeof file, "%s-%02x", name, flags);
	return write_file(dir, file, b, 1 + (end <= n ? end : n));
}

static void sock(struct out *o, uint8_t call, uint8_t slot, uint16_t arg)
{
	put8(o, FZ_OP_SOCK);
	put8(o, call);
	put8(o, slot);
	put16be(o, arg);
}

/* A TCP operation with relative numbers (mode) and no options beyond opt. */
static void seg(struct out *o, uint8_t peer, uint8_t rport, uint8_t lport, uint8_t flags,
		uint8_t mode, uint32_t seq, uint32_t ack, const uint8_t *opt, uint8_t optlen,
		uint16_t dlen)
{
	put8(o, FZ_OP_TCP);
	put8(o, peer);
	put8(o, rport);
	put8(o, lport);
	put8(o, flags);
	put8(o, mode);
	put32be(o, seq);
	put32be(o, ack);
	put16be(o, 65535);
	put8(o, optlen);
	put(o, opt, optlen);
	put16be(o, dlen);
	put8(o, 'x');
}

static void time_op(struct out *o, uint8_t unit, uint16_t n)
{
	put8(o, FZ_OP_TIME);
	put8(o, unit);
	put16be(o, n);
}

/* Seeds for the socket calls: an active open, and a harness listener. */
static int socket_seeds(const char *dir)
{
	static const uint8_t mss[] = { 2, 4, 5, 0xb4 }, mss_ws[] = { 2, 4, 5, 0xb4, 1, 3, 3, 7 };
	static struct out o;
	const uint8_t ack = TCP_ACK, fin = TCP_FIN | TCP_ACK;

	memset(&o, 0, sizeof o);
	put8(&o, FZ_SET_AUTOREAD);
	put8(&o, 1);
	sock(&o, FZ_CALL_CONNECT, 0, 0x0000);
	seg(&o, 0, 0, FZ_NLPORTS, TCP_SYN | TCP_ACK, 2, 5000, 0, mss, 4, 0);
	sock(&o, FZ_CALL_SEND, 0, 3000);
	seg(&o, 0, 0, FZ_NLPORTS, ack, 3, 0, 0, NULL, 0, 100);
	sock(&o, FZ_CALL_RECV, 0, 1000);
	time_op(&o, 1, 300);
	sock(&o, FZ_CALL_SHUTDOWN, 0, 0);
	seg(&o, 0, 0, FZ_NLPORTS, fin, 3, 0, 0, NULL, 0, 0);
	for (int i = 0; i < 3; i++)
		put8(&o, FZ_OP_DEADLINE);
	sock(&o, FZ_CALL_CLOSE, 0, 0);
	if (write_file(dir, "api-connect", o.b, o.n) < 0)
		return -1;

	memset(&o, 0, sizeof o);
	put8(&o, FZ_SET_SMALL_BUF);
	put8(&o, 2);
	sock(&o, FZ_CALL_LISTEN, 0, 0x0405);
	seg(&o, 1, 1, 5, TCP_SYN, 0, 777, 0, mss_ws, 8, 0);
	seg(&o, 1, 1, 5, ack, 3, 0, 0, NULL, 0, 500);
	sock(&o, FZ_CALL_SEND, 1, 2000);
	seg(&o, 1, 1, 5, ack, 3, 0, 0, NULL, 0, 0);
	sock(&o, FZ_CALL_RECV, 1, 600);
	sock(&o, FZ_CALL_CLOSE, 1, 0);
	seg(&o, 1, 1, 5, fin, 3, 0, 0, NULL, 0, 0);
	time_op(&o, 3, 70);
	put8(&o, FZ_OP_DEADLINE);
	sock(&o, FZ_CALL_UDP_OPEN, 2, 6);
	put8(&o, FZ_OP_UDP);
	put8(&o, 0);
	put8(&o, 0);
	put8(&o, 6);
	put16be(&o, 10);
	put8(&o, 'u');
	sock(&o, FZ_CALL_UDP_SEND, 2, 20);
	sock(&o, FZ_CALL_UDP_CLOSE, 2, 0);
	if (write_file(dir, "api-listen", o.b, o.n) < 0)
		return -1;

	/* Fast retransmit and recovery: the stack sends, the peer ACKs one
	 * segment, then repeats that ACK three times, then ACKs everything. */
	memset(&o, 0, sizeof o);
	put8(&o, FZ_SET_NO_DELACK);
	put8(&o, 3);
	sock(&o, FZ_CALL_CONNECT, 0, 0x0101);
	seg(&o, 1, 1, FZ_NLPORTS, TCP_SYN | TCP_ACK, 2, 9000, 0, mss, 4, 0);
	sock(&o, FZ_CALL_SEND, 0, 30000);
	seg(&o, 1, 1, FZ_NLPORTS, ack, 3, 0, (uint32_t)-13140, NULL, 0, 0);
	for (int i = 0; i < 4; i++)
		seg(&o, 1, 1, FZ_NLPORTS, ack, 5, 0, 0, NULL, 0, 0);
	seg(&o, 1, 1, FZ_NLPORTS, ack, 3, 0, 0, NULL, 0, 0);
	time_op(&o, 1, 1500);
	put8(&o, FZ_OP_DEADLINE);
	if (write_file(dir, "api-recovery", o.b, o.n) < 0)
		return -1;

	/* TIME_WAIT: we close first, the peer ACKs and closes, then a RST and
	 * a SYN arrive in TIME_WAIT (RFC 1337), then 2 MSL pass. */
	memset(&o, 0, sizeof o);
	put8(&o, 0);
	put8(&o, 4);
	sock(&o, FZ_CALL_CONNECT, 0, 0x0002);
	seg(&o, 0, 2, FZ_NLPORTS, TCP_SYN | TCP_ACK, 2, 100, 0, mss, 4, 0);
	sock(&o, FZ_CALL_SHUTDOWN, 0, 0);
	seg(&o, 0, 2, FZ_NLPORTS, ack, 3, 0, 0, NULL, 0, 0);
	seg(&o, 0, 2, FZ_NLPORTS, fin, 3, 0, 0, NULL, 0, 0);
	seg(&o, 0, 2, FZ_NLPORTS, TCP_RST, 1, 0, 0, NULL, 0, 0);
	seg(&o, 0, 2, FZ_NLPORTS, TCP_SYN, 1, 100000, 0, NULL, 0, 0);
	time_op(&o, 3, 70);
	put8(&o, FZ_OP_DEADLINE);
	if (write_file(dir, "api-time-wait", o.b, o.n) < 0)
		return -1;

	/* SACK: duplicate ACKs carry SACK blocks for ever more of the tail,
	 * relative to the stack's next sequence number (mode bit 3). */
	static const uint8_t mss_sackok[] = { 2, 4, 5, 0xb4, 4, 2, 1, 1 };
	memset(&o, 0, sizeof o);
	put8(&o, FZ_SET_NO_DELACK);
	put8(&o, 6);
	sock(&o, FZ_CALL_CONNECT, 0, 0x0203);
	seg(&o, 2, 3, FZ_NLPORTS, TCP_SYN | TCP_ACK, 2, 7000, 0, mss_sackok, 8, 0);
	sock(&o, FZ_CALL_SEND, 0, 40000);
	seg(&o, 2, 3, FZ_NLPORTS, ack, 3, 0, (uint32_t)-13140, NULL, 0, 0);
	for (uint32_t k = 1; k <= 4; k++) {
		uint8_t sack[12] = { 1, 1, 5, 10 };
		uint32_t start = (uint32_t)-(int32_t)(1460 * 2 * k);
		sack[4] = (uint8_t)(start >> 24), sack[5] = (uint8_t)(start >> 16);
		sack[6] = (uint8_t)(start >> 8), sack[7] = (uint8_t)start;
		seg(&o, 2, 3, FZ_NLPORTS, ack, 1 | 4 | 8, 0, 0, sack, 12, 0);
	}
	seg(&o, 2, 3, FZ_NLPORTS, ack, 3, 0, 0, NULL, 0, 0);
	time_op(&o, 1, 2000);
	put8(&o, FZ_OP_DEADLINE);
	if (write_file(dir, "api-sack", o.b, o.n) < 0)
		return -1;

	/* A full backlog: SYNs to a harness listener with backlog 1 get SYN
	 * cookies; the ACK that returns one opens the connection. */
	memset(&o, 0, sizeof o);
	put8(&o, FZ_SET_AUTOREAD);
	put8(&o, 5);
	sock(&o, FZ_CALL_LISTEN, 0, 0x0105);
	for (uint8_t p = 0; p < 3; p++)
		seg(&o, p, p, 5, TCP_SYN, 0, 1000u * p, 0, mss_ws, 8, 0);
	seg(&o, 2, 2, 5, ack, 3, 0, 0, NULL, 0, 10);
	seg(&o, 1, 1, 5, ack, 3, 0, 0, NULL, 0, 0);
	sock(&o, FZ_CALL_SEND, 1, 100);
	time_op(&o, 3, 5);
	put8(&o, FZ_OP_DEADLINE);
	return write_file(dir, "api-backlog", o.b, o.n);
}

/* One FZ_OP_FRAG: bytes [start * 8, + flen) of the datagram kind makes. */
static void frag(struct out *o, uint8_t kind, uint8_t id, uint16_t dlen, uint16_t start,
		 uint16_t flen, uint8_t fl)
{
	put8(o, FZ_OP_FRAG);
	put8(o, kind);
	put8(o, 0);
	put8(o, id);
	put8(o, 0); /* port 7 */
	put16be(o, dlen);
	put16be(o, start);
	put16be(o, flen);
	put8(o, fl);
}

/* Seeds for reassembly: a ping of 3000 bytes and one with Record Route in
 * pieces, UDP out of order, a SYN whole and in tiny pieces, an overlap,
 * and a first fragment left to time out. */
static int frag_seeds(const char *dir)
{
	static struct out o;

	memset(&o, 0, sizeof o);
	put8(&o, FZ_SET_TRACE);
	put8(&o, 7);
	for (uint16_t k = 0; k < 3; k++)
		frag(&o, 0, 1, 3008, (uint16_t)(185 * k), 1480, FZ_FRAG_MF_AUTO);
	frag(&o, 0, 2, 2008, 0, 1440, FZ_FRAG_MF_AUTO | FZ_FRAG_RR | FZ_FRAG_TS | 0x40);
	frag(&o, 0, 2, 2008, 180, 1440, FZ_FRAG_MF_AUTO);
	frag(&o, 1, 3, 3000, 185, 1480, FZ_FRAG_MF_AUTO);
	frag(&o, 1, 3, 3000, 0, 1480, FZ_FRAG_MF_AUTO);
	frag(&o, 1, 3, 3000, 370, 1480, FZ_FRAG_MF_AUTO);
	if (write_file(dir, "frag-ping-udp", o.b, o.n) < 0)
		return -1;

	memset(&o, 0, sizeof o);
	put8(&o, 0);
	put8(&o, 8);
	frag(&o, 2, 0, 40, 3, 8, FZ_FRAG_MF_AUTO);
	frag(&o, 2, 0, 40, 4, 8, FZ_FRAG_MF_AUTO);
	frag(&o, 2, 0, 40, 0, 24, FZ_FRAG_MF_AUTO);
	for (uint16_t k = 0; k < 5; k++)
		frag(&o, 2, 1, 40, k, 8, FZ_FRAG_MF_AUTO);
	frag(&o, 0, 2, 2000, 0, 1480, FZ_FRAG_MF_AUTO);
	frag(&o, 0, 2, 2000, 184, 1480, FZ_FRAG_MF_AUTO);
	frag(&o, 0, 3, 2000, 0, 1480, FZ_FRAG_MF_AUTO);
	time_op(&o, 3, 31);
	put8(&o, FZ_OP_DEADLINE);
	return write_file(dir, "frag-syn-overlap-timeout", o.b, o.n);
}

#define CMD(s) { s, sizeof s - 1 }
static const struct {
	const char *args;
	size_t len;
} cmdlines[] = {
	CMD("--help"),
	CMD("--tun\0tl1\0--addr\0" "10.10.0.2\0--kernel-addr\0" "10.10.0.1/24\0--mtu\0" "1500"),
	CMD("--trace=json\0--pcap\0/tmp/x.pcap\0--seed\0" "42"),
	CMD("--loss\0" "0.1\0--in-dup\0" "5%\0--out-reorder\0" "0.2\0--corrupt\0" "0.01"),
	CMD("--delay\0" "25ms\0--jitter\0" "5ms\0--rate\0" "10mbit"),
	CMD("--faults-in\0loss=0.05,delay=25ms\0--faults-out\0dup=0.1,rate=1gbit"),
	CMD("--replay\0captures/echo.pcap\0--lenient\0--time-tolerance\0" "100\0"
	    "--window-tolerance\0" "100"),
	CMD("--rcvbuf\0" "65536\0--sndbuf\0" "4096\0--init-cwnd\0" "4\0--delack\0" "0"),
	CMD("--connect\0" "10.10.0.1:7\0--offload"),
	CMD("--mtu\0" "70000"),
	CMD("--trace=xml"),
	CMD("--syncookies\0off\0--time-wait-max\0" "0\0--ooo-max\0" "1048576\0--rst-rate\0"
	    "200\0--challenge-ack-rate\0" "1000\0--challenge-ack-interval\0" "500\0--user\0nobody"),
};

static int options_seeds(const char *dir)
{
	char file[32];

	for (size_t i = 0; i < sizeof cmdlines / sizeof *cmdlines; i++) {
		snprintf(file, sizeof file, "cmdline-%02zu", i);
		if (write_file(dir, file, cmdlines[i].args, cmdlines[i].len) < 0)
			return -1;
	}
	return 0;
}

/* A read size byte (fuzz_control.c), then what clients send. */
static const struct {
	const char *req;
	size_t len;
} requests[] = {
	CMD("\x1fss\n"),
	CMD("\x1fss info json\n"),
	CMD("\x00stats json\nss info\n"),
	CMD("\x03stats\nss json info\nbogus\n\n"),
	CMD("\x1f  ss   info  \nstats info\nss\x00\xff\n"),
	CMD("\x1f" "bind 0.0.0.0 65432\nlisten 128 nodelay\nconnect 127.0.0.1 7\n"),
	CMD("\x02udp 10.10.0.2 0\nbind 1.2.3 99999\nlisten -1\nconnect ::1 80 fast\n"),
};

static int control_seeds(const char *dir)
{
	char file[32];

	for (size_t i = 0; i < sizeof requests / sizeof *requests; i++) {
		snprintf(file, sizeof file, "request-%02zu", i);
		if (write_file(dir, file, requests[i].req, requests[i].len) < 0)
			return -1;
	}
	return 0;
}

static int mkdir_p(const char *a, const char *b, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s", a, b ? "/" : "", b ? b : "");
	if (mkdir(out, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "fuzz_corpus: cannot create %s: %s\n", out, strerror(errno));
		return -1;
	}
	return 0;
}

static int one_capture(const char *capdir, const char *file, const char *core,
		       const char *replay)
{
	char path[4096], name[256], err[512];
	struct capture cap;

	snprintf(path, sizeof path, "%s/%s", capdir, file);
	snprintf(name, sizeof name, "%.*s", (int)(strlen(file) - 5), file);
	if (capture_load(path, &cap, err, sizeof err) < 0) {
		fprintf(stderr, "fuzz_corpus: %s\n", err);
		return -1;
	}
	int rc = core_seed(core, name, &cap, 0) | core_seed(core, name, &cap, FZ_SET_TRACE) |
		 replay_seed(replay, name, path, 0) | replay_seed(replay, name, path, 0x0b);
	capture_free(&cap);
	return rc;
}

int main(int argc, char **argv)
{
	char core[4096], replay[4096], options[4096], control[4096];
	struct dirent *e;
	int n = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: fuzz_corpus CAPTURE_DIR OUT_DIR [STAMP]\n");
		return 2;
	}
	DIR *d = opendir(argv[1]);
	if (!d) {
		fprintf(stderr, "fuzz_corpus: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (mkdir_p(argv[2], NULL, core, sizeof core) < 0 ||
	    mkdir_p(argv[2], "core", core, sizeof core) < 0 ||
	    mkdir_p(argv[2], "replay", replay, sizeof replay) < 0 ||
	    mkdir_p(argv[2], "options", options, sizeof options) < 0 || options_seeds(options) < 0 ||
	    mkdir_p(argv[2], "control", control, sizeof control) < 0 || control_seeds(control) < 0 ||
	    socket_seeds(core) < 0 || frag_seeds(core) < 0)
		return 1;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l <= 5 || strcmp(e->d_name + l - 5, ".pcap"))
			continue;
		if (one_capture(argv[1], e->d_name, core, replay) < 0)
			return 1;
		n++;
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "fuzz_corpus: no .pcap files in %s\n", argv[1]);
		return 1;
	}
	FILE *stamp = argc > 3 ? fopen(argv[3], "w") : NULL;
	if (argc > 3 && (!stamp || fclose(stamp) != 0)) {
		fprintf(stderr, "fuzz_corpus: cannot write %s\n", argv[3]);
		return 1;
	}
	printf("fuzz_corpus: %d captures -> %s\n", n, argv[2]);
	return 0;
}
