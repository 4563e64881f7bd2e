/*
 * ck_speed N: the speed benchmark of checkpoint N. Each does a fixed amount
 * of work five times and prints the best rate as "speed N VALUE UNIT";
 * tools/checkpoint test N holds it against the floor. A stub is quick at
 * doing nothing, so each first checks that the work was done right, and
 * prints "speed N: wrong result: WHY" and exits 1 when it was not. The
 * stack runs in virtual time: only the wall clock around it is real.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "speed.h"

#define RUNS 5

/* The stream: a 64 KiB pattern over and over; blob holds a little more
 * than one period so that a segment may start anywhere in the first. */
#define PERIOD 65536u
static uint8_t blob[PERIOD + 4096];

static double clock_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int wrong(int n, const char *fmt, ...)
{
	va_list ap;

	printf("speed %d: wrong result: ", n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 1;
}

static int rate(int n, double value, const char *unit)
{
	printf("speed %d %.3f %s\n", n, value, unit);
	return 0;
}

/* ---- 1: checksums and parsing ---- */

/* RFC 1071 word by word, the reference. */
static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	uint64_t acc = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* Parses pkt as the stack does; false unless it is the segment we built. */
static bool parse_packet(const uint8_t *pkt, size_t len)
{
	struct ipv4_hdr ip;
	struct tcp_hdr th;

	return ipv4_parse(pkt, len, &ip) == WIRE_OK &&
	       tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &th) == WIRE_OK &&
	       th.data_len == SP_MSS && th.seq == SP_PISS && th.sport == 40000;
}

static int speed_wire(void)
{
	static uint8_t pkt[1600];
	size_t len = sp_build(pkt, 40000, 9, TCP_ACK, SP_PISS, 1, 512, blob, SP_MSS);

	for (size_t n = 0; n < 3000; n += 7)
		if (csum_fold(csum_add(0, blob + n % 8, n)) != ref_csum(blob + n % 8, n))
			return wrong(1, "the checksum of %zu bytes is not RFC 1071's", n);
	if (!parse_packet(pkt, len))
		return wrong(1, "a good 1500-byte segment did not parse");
	pkt[len - 1] ^= 0x10;
	if (parse_packet(pkt, len))
		return wrong(1, "a segment with a flipped bit was taken");
	pkt[len - 1] ^= 0x10;
	double best = 0;
	for (int r = 0; r < RUNS; r++) {
		unsigned ok = 0, iters = 100000;
		double t0 = clock_s();
		for (unsigned i = 0; i < iters; i++)
			ok += parse_packet(pkt, len);
		double dt = clock_s() - t0;
		if (ok != iters)
			return wrong(1, "%u of %u parses failed", iters - ok, iters);
		double gbits = (double)len * iters * 8 / dt / 1e9;
		best = gbits > best ? gbits : best;
	}
	return rate(1, best, "Gbit/s");
}

/* ---- 2: the reassembler ---- */

#define R_SEG 1460u
#define R_WIN 32u	/* segments delivered out of order at a time */
#define R_SEGS 8192u

/* Inserts stream bytes [off, off + len), less what is in order already. */
static void r_put(struct tl_tcp *c, uint32_t isn, uint32_t off, uint32_t len)
{
	uint32_t nxt = c->rcv_nxt - isn;

	if (off + len <= nxt)
		return;
	if (off < nxt) {
		len -= nxt - off;
		off = nxt;
	}
	tcp_reass_insert(c, isn + off, blob + off % PERIOD, len);
}

/* One window of segments in a scrambled order, every fourth also in part again. */
static void r_window(struct tl_tcp *c, uint32_t isn, uint32_t first)
{
	for (uint32_t k = 0; k < R_WIN; k++) {
		uint32_t i = first + (k * 13 + 5) % R_WIN, off = i * R_SEG;
		r_put(c, isn, off, R_SEG);
		if (k % 4 == 0)
			r_put(c, isn, off + 100, 800);
	}
}

/* Reads what is in order; false if it is not the stream. */
static bool r_drain(struct tl_tcp *c, uint8_t *buf, uint64_t *got)
{
	ssize_t n;

	while ((n = tl_tcp_recv(c, buf, 65536)) > 0) {
		for (ssize_t i = 0; i < n;) {
			size_t at = (size_t)((*got + (uint64_t)i) % PERIOD);
			size_t run = PERIOD - at < (size_t)(n - i) ? PERIOD - at : (size_t)(n - i);
			if (memcmp(buf + i, blob + at, run))
				return false;
			i += (ssize_t)run;
		}
		*got += (uint64_t)n;
	}
	return true;
}

static int speed_reass(void)
{
	static uint8_t buf[65536];
	double best = 0;

	for (int r = 0; r < RUNS; r++) {
		struct sp p;
		if (!sp_open(&p, NULL))
			return wrong(2, "no stack");
		struct tl_tcp *c = tcp_conn_new(p.s, SP_PEER, 40000, 9);
		uint32_t isn = 0xfff00000u; /* the stream crosses 2^32 */
		uint64_t got = 0;
		c->rcv_nxt = isn;
		double t0 = clock_s();
		for (uint32_t w = 0; w < R_SEGS; w += R_WIN) {
			r_window(c, isn, w);
			if (!r_drain(c, buf, &got))
				return wrong(2, "the bytes read are not the stream's, from byte %llu",
					     (unsigned long long)got);
		}
		double dt = clock_s() - t0;
		sp_close(&p);
		if (got != (uint64_t)R_SEGS * R_SEG)
			return wrong(2, "%llu bytes came out in order, not %u", (unsigned long long)got,
				     R_SEGS * R_SEG);
		double gbits = (double)got * 8 / dt / 1e9;
		best = gbits > best ? gbits : best;
	}
	return rate(2, best, "Gbit/s");
}

/* ---- 3: the receiver ---- */

#define RX_SEGS 2048u

/* The peer's segments, built once: in order, each acknowledging the SYN-ACK. */
static uint8_t (*rx_pkts)[1600];
static size_t rx_len[RX_SEGS];

static void rx_build(uint32_t iss)
{
	if (!rx_pkts)
		rx_pkts = malloc(RX_SEGS * sizeof *rx_pkts);
	for (uint32_t i = 0; i < RX_SEGS; i++)
		rx_len[i] = sp_build(rx_pkts[i], 40000, 9, TCP_ACK, SP_PISS + 1 + i * SP_MSS, iss + 1,
				     65535, blob + (i * SP_MSS) % PERIOD, SP_MSS);
}

/* One transfer through a fresh stack: its seconds, or a negative number if wrong. */
static double rx_run(uint32_t *iss_seen, uint64_t *acks)
{
	struct sp p;
	struct sp_seg g;

	if (!sp_open(&p, NULL) || !sp_listen(&p, 9))
		return -1;
	uint32_t iss = sp_accept(&p, 40000, 9);
	if (!iss || (*iss_seen && iss != *iss_seen))
		return -1;
	if (!*iss_seen)
		rx_build(iss);
	*iss_seen = iss;
	tl_time now = tl_stack_now(p.s);
	double t0 = clock_s();
	for (uint32_t i = 0; i < RX_SEGS; i++) {
		tl_stack_input(p.s, rx_pkts[i], rx_len[i], now);
		p.head = p.tail; /* the ACKs: counted, not kept */
	}
	double dt = clock_s() - t0;
	*acks = p.out;
	p.tail = p.head = 0;
	tl_stack_poll(p.s, now + TL_MS(200)); /* the last delayed ACK */
	bool ok = p.read == (uint64_t)RX_SEGS * SP_MSS && sp_pop(&p, &g) &&
		  g.ack == SP_PISS + 1 + RX_SEGS * SP_MSS;
	sp_close(&p);
	return ok ? dt : -1;
}

static int speed_receiver(void)
{
	uint32_t iss = 0;
	uint64_t acks = 0;
	double best = 0;

	for (int r = 0; r < RUNS; r++) {
		double dt = rx_run(&iss, &acks);
		if (dt < 0)
			return wrong(3, "%u in-order segments were not all read and acknowledged",
				     RX_SEGS);
		if (acks < RX_SEGS / 4)
			return wrong(3, "%llu ACKs for %u segments", (unsigned long long)acks, RX_SEGS);
		double m = RX_SEGS / dt / 1e6;
		best = m > best ? m : best;
	}
	return rate(3, best, "Mseg/s");
}

/* ---- 4 and 6: a sender, the peer ACKing ---- */

#define TX_SEGS 8192u

/* The peer as a receiver: one hole at most (each loss is its own). */
struct rcv {
	uint32_t nxt;		/* relative: the next byte it expects */
	uint32_t held;		/* the end of what it holds past the hole, if hole */
	bool hole;
	uint32_t next_loss;	/* relative: drop the first new segment from here */
	uint32_t losses, acks;
	uint32_t max_seen;
};

/* What the peer makes of one data segment; true if it answers with an ACK. */
static bool rcv_data(struct rcv *r, uint32_t seq, uint32_t len, uint32_t loss_every)
{
	uint32_t end = seq + len;

	if (loss_every && !r->hole && seq >= r->next_loss && seq >= r->max_seen) {
		r->next_loss = seq + loss_every;
		r->losses++;
		r->max_seen = end;
		return false;
	}
	r->max_seen = end > r->max_seen ? end : r->max_seen;
	if (seq > r->nxt) {
		r->hole = true;
		r->held = end > r->held ? end : r->held;
	} else if (end > r->nxt) {
		r->nxt = end;
		if (r->hole && r->held > r->nxt)
			r->nxt = r->held;
		r->hole = false;
	}
	return true;
}

/* Keeps the send buffer full, a period at a time. */
static void tx_fill(struct sp *p)
{
	while (p->conn && tl_tcp_send_space(p->conn) >= PERIOD)
		tl_tcp_send(p->conn, blob, PERIOD);
}

/* Runs until the peer has total bytes; ACKs each segment (or every second
 * one when ack_every2). Seconds, or negative if it stalled. */
static double tx_run(struct sp *p, uint32_t iss, struct rcv *r, uint32_t total,
		     uint32_t loss_every, bool ack_every2)
{
	struct sp_seg g;
	uint32_t unacked = 0, stalls = 0;
	double t0 = clock_s();

	while (r->nxt < total) {
		tx_fill(p);
		if (!sp_pop(p, &g)) {
			tl_time next = tl_stack_next_deadline(p->s); /* a timer must move it */
			if (next == TL_TIME_NEVER || ++stalls > 100)
				return -1;
			tl_stack_poll(p->s, next);
			continue;
		}
		stalls = 0;
		if (g.len == 0 || !rcv_data(r, g.seq - iss - 1, g.len, loss_every))
			continue;
		if (ack_every2 && ++unacked < 2 && p->head != p->tail)
			continue;
		unacked = 0;
		r->acks++;
		sp_send(p, 40000, 9, TCP_ACK, SP_PISS + 1, iss + 1 + r->nxt, 4096, NULL, 0);
	}
	return p->overflow ? -1 : clock_s() - t0;
}

static int speed_sender(void)
{
	double best = 0;

	for (int r = 0; r < RUNS; r++) {
		struct sp p;
		struct rcv rv = { 0 };
		if (!sp_open(&p, NULL) || !sp_listen(&p, 9))
			return wrong(4, "no stack");
		uint32_t iss = sp_accept(&p, 40000, 9);
		if (!iss)
			return wrong(4, "the handshake failed");
		double dt = tx_run(&p, iss, &rv, TX_SEGS * SP_MSS, 0, true);
		sp_close(&p);
		if (dt < 0)
			return wrong(4, "the transfer stalled at byte %u of %u", rv.nxt, TX_SEGS * SP_MSS);
		double m = TX_SEGS / dt / 1e6;
		best = m > best ? m : best;
	}
	return rate(4, best, "Mseg/s");
}

/* ---- 5: the retransmission timer ---- */

#define RTO_CONNS 1000u

static void few_retries(struct tl_config *c)
{
	c->tcp_max_retries = 8;
	c->tcp_rto_max_ms = 4000;
}

/* RTO_CONNS connections, each with 100 bytes never acknowledged. */
static bool rto_setup(struct sp *p)
{
	if (!sp_open(p, few_retries) || !sp_listen(p, 9))
		return false;
	for (uint32_t i = 0; i < RTO_CONNS; i++) {
		if (!sp_accept(p, (uint16_t)(10000 + i), 9) || !p->conn)
			return false;
		if (tl_tcp_send(p->conn, blob, 100) != 100)
			return false;
	}
	p->head = p->tail;
	return true;
}

/* Every timer in turn until the connections give up; the seconds, or negative. */
static double rto_run(struct sp *p, tl_time *span)
{
	tl_time start = tl_stack_now(p->s);
	double t0 = clock_s();

	for (uint32_t rounds = 0; p->closed < RTO_CONNS; rounds++) {
		tl_time next = tl_stack_next_deadline(p->s);
		if (next == TL_TIME_NEVER || rounds > 64 * RTO_CONNS)
			return -1;
		tl_stack_poll(p->s, next);
		p->head = p->tail;
	}
	*span = tl_stack_now(p->s) - start;
	return clock_s() - t0;
}

static int speed_rto(void)
{
	double best = 0;

	for (int r = 0; r < RUNS; r++) {
		struct sp p;
		tl_time span = 0;
		if (!rto_setup(&p))
			return wrong(5, "could not open %u connections with data in flight", RTO_CONNS);
		double dt = rto_run(&p, &span);
		const struct tl_counters *k = tl_stack_counters(p.s);
		uint64_t rtos = k->tcp_rto, timeouts = k->tcp_timeouts;
		sp_close(&p);
		if (dt < 0 || timeouts != RTO_CONNS)
			return wrong(5, "%llu of %u connections gave up after their retries",
				     (unsigned long long)timeouts, RTO_CONNS);
		if (rtos != 8ull * RTO_CONNS)
			return wrong(5, "%llu timeouts, not 8 per connection", (unsigned long long)rtos);
		/* Backed off from 200 ms to the ceiling of 4 s, they last 22 s; at a
		 * constant RTO of even 1 s, 9. */
		if (span < TL_MS(10000))
			return wrong(5, "they gave up after %.1f s: the RTO did not back off",
				     (double)span / 1e6);
		double k_s = (double)rtos / dt / 1e3;
		best = k_s > best ? k_s : best;
	}
	return rate(5, best, "k/s");
}

/* ---- 6: Reno, one segment in 1000 lost ---- */

static void reno(struct tl_config *c)
{
	c->tcp_cc = TL_CC_RENO;
	c->tcp_recovery = TL_RECOVERY_NEWRENO;
}

static int speed_reno(void)
{
	double best = 0;

	for (int r = 0; r < RUNS; r++) {
		struct sp p;
		struct rcv rv = { .next_loss = 100 * SP_MSS };
		if (!sp_open(&p, reno) || !sp_listen(&p, 9))
			return wrong(6, "no stack");
		uint32_t iss = sp_accept(&p, 40000, 9);
		if (!iss)
			return wrong(6, "the handshake failed");
		double dt = tx_run(&p, iss, &rv, TX_SEGS * SP_MSS, 1000 * SP_MSS, false);
		const struct tl_counters *k = tl_stack_counters(p.s);
		uint64_t fast = k->tcp_fast_rexmit, rtos = k->tcp_rto;
		sp_close(&p);
		if (dt < 0)
			return wrong(6, "the transfer stalled at byte %u", rv.nxt);
		if (fast < rv.losses || rtos > 0)
			return wrong(6, "%u losses, %llu fast retransmits, %llu timeouts", rv.losses,
				     (unsigned long long)fast, (unsigned long long)rtos);
		double m = rv.acks / dt / 1e6;
		best = m > best ? m : best;
	}
	return rate(6, best, "MACK/s");
}

/* ---- 7: the state machine ---- */

#define ST_CONNS 4000u

/* The peer opens, sends 10 bytes and its FIN; the application reads them
 * and closes; the peer ACKs the stack's FIN: CLOSED. */
static bool passive_once(struct sp *p, uint16_t pport)
{
	struct sp_seg g;
	uint32_t iss = sp_accept(p, pport, 9);

	if (!iss)
		return false;
	sp_send(p, pport, 9, TCP_ACK | TCP_FIN, SP_PISS + 1, iss + 1, 65535, blob, 10);
	bool fin = false;
	while (sp_pop(p, &g))
		fin |= (g.flags & TCP_FIN) && g.ack == SP_PISS + 12;
	if (!fin)
		return false;
	sp_send(p, pport, 9, TCP_ACK, SP_PISS + 12, iss + 2, 65535, NULL, 0);
	return !sp_conn(p, pport, 9);
}

/* The stack opens to the peer, sends 10 bytes and closes; the peer ACKs
 * and sends its FIN; the stack ACKs it: TIME_WAIT. */
static bool active_once(struct sp *p, uint16_t pport)
{
	struct tl_endpoint to = { SP_PEER, pport };
	struct tl_tcp *c;
	struct sp_seg g;

	if (tl_tcp_connect(p->s, &to, &sp_events, p, &c) < 0 || !sp_pop(p, &g) ||
	    g.flags != TCP_SYN)
		return false;
	uint16_t lport = g.sport;
	uint32_t iss = g.seq;
	sp_send_syn(p, pport, lport, TCP_SYN | TCP_ACK, SP_PISS, iss + 1);
	if (tl_tcp_send(c, blob, 10) != 10)
		return false;
	tl_tcp_close(c);
	p->head = p->tail;
	sp_send(p, pport, lport, TCP_ACK | TCP_FIN, SP_PISS + 1, iss + 12, 65535, NULL, 0);
	bool acked = false;
	while (sp_pop(p, &g))
		acked |= g.ack == SP_PISS + 2;
	struct tl_tcp *tw = sp_conn(p, pport, lport);
	return acked && tw && tl_tcp_state(tw) == TL_TIME_WAIT;
}

static int speed_states(void)
{
	double best = 0;

	for (int r = 0; r < RUNS; r++) {
		struct sp p;
		if (!sp_open(&p, NULL) || !sp_listen(&p, 9))
			return wrong(7, "no stack");
		p.close_on_eof = true;
		double t0 = clock_s();
		for (uint32_t i = 0; i < ST_CONNS; i++) {
			uint16_t port = (uint16_t)(10000 + i);
			if (!passive_once(&p, port))
				return wrong(7, "connection %u (passive, the peer closes first) did not "
					     "end CLOSED", i);
			if (!active_once(&p, port))
				return wrong(7, "connection %u (active, we close first) did not end in "
					     "TIME_WAIT", i);
		}
		double dt = clock_s() - t0;
		sp_close(&p);
		double k = 2.0 * ST_CONNS / dt / 1e3;
		best = k > best ? k : best;
	}
	return rate(7, best, "kconn/s");
}

int main(int argc, char **argv)
{
	static int (*const bench[])(void) = {
		NULL, speed_wire, speed_reass, speed_receiver, speed_sender, speed_rto, speed_reno,
		speed_states,
	};
	int n = argc == 2 ? atoi(argv[1]) : 0;

	if (n < 1 || n >= (int)(sizeof bench / sizeof bench[0])) {
		fprintf(stderr, "usage: ck_speed N (1 to %zu): the speed benchmark of checkpoint N\n",
			sizeof bench / sizeof bench[0] - 1);
		return 2;
	}
	for (size_t i = 0; i < sizeof blob; i++)
		blob[i] = (uint8_t)(i % PERIOD * 7 + i % PERIOD / 251);
	return bench[n]();
}
