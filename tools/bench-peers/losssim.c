/*
 * tl-bench-losssim: chargen sends BYTES to a SACK receiver over a path that
 * loses each packet, either way, with probability P, in virtual time. Prints
 * the virtual time the transfer took and the stack's loss counters, so loss
 * recovery can be compared between versions without a noisy machine.
 *
 * The receiver keeps all out-of-order data, reports the three most recent
 * ranges in SACK blocks (RFC 2018 4), and ACKs every second in-order segment
 * at once and anything out of order immediately, as Linux does.
 *
 * usage: tl-bench-losssim [BYTES [P [ONE_WAY_MS [SEED [TLP]]]]]
 *        (default 4194304 0.10 1 1 1; TLP 0 turns tail loss probes off)
 * TL_LOSSSIM_CC=reno or cubic picks the congestion control (default: the
 * stack's, tl_config_defaults); TL_LOSSSIM_TRACE=1 prints the JSON trace
 * on standard error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define PEER_PORT 40000
#define NRANGE 256
#define RCV_WND (4u << 20)
#define WSCALE 7

static struct {
	tl_stack *s;
	tl_time now, delay;
	double loss;
	uint64_t rng;
	struct sim_link down, up;
	uint32_t irs, rcv_nxt, snd_nxt;
	bool connected;
	uint32_t ooo[NRANGE][2]; /* [start, end) from irs, most recent first */
	int ooo_n;
	unsigned unacked;
	uint64_t received, lost_down, lost_up;
} m;

/* xorshift64*: the same losses for the same seed. */
static double rnd(void)
{
	m.rng ^= m.rng >> 12;
	m.rng ^= m.rng << 25;
	m.rng ^= m.rng >> 27;
	return (double)((m.rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static void trace(void *ctx, tl_time now, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%.6f %s\n", (double)now / 1e6, line);
}

static void stack_out(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	if (m.connected && rnd() < m.loss) {
		m.lost_down++;
		return;
	}
	struct sim_pkt *p = len <= SIM_MAXPKT ? sim_push(&m.down) : NULL;
	if (!p)
		return;
	p->at = m.now + m.delay;
	p->len = len;
	memcpy(p->data, data, len);
}

static void peer_send(uint8_t flags, const struct tcp_opts *o)
{
	struct tcp_hdr th;
	uint8_t buf[SIM_MAXPKT];

	memset(&th, 0, sizeof th);
	uint8_t *seg = buf + IPV4_HDR_LEN;
	size_t opt_len = tcp_build_options(seg + TCP_HDR_LEN, o);
	th.sport = PEER_PORT;
	th.dport = 19;
	th.seq = m.snd_nxt;
	th.ack = m.irs + m.rcv_nxt;
	th.flags = flags;
	th.wnd = (flags & TCP_SYN) ? 65535 : RCV_WND >> WSCALE;
	tcp_build(seg, SIM_PEER, SIM_STACK, &th, opt_len, 0);
	ipv4_build(buf, SIM_PEER, SIM_STACK, IP_PROTO_TCP, (uint16_t)(TCP_HDR_LEN + opt_len), 1);
	if (flags & TCP_SYN)
		m.snd_nxt++;
	if (m.connected && rnd() < m.loss) { /* the handshake is not what is measured */
		m.lost_up++;
		return;
	}
	struct sim_pkt *p = sim_push(&m.up);
	if (!p)
		return;
	p->len = IPV4_HDR_LEN + TCP_HDR_LEN + opt_len;
	memcpy(p->data, buf, p->len);
	p->at = m.now + m.delay;
}

static void send_ack(void)
{
	struct tcp_opts o;

	memset(&o, 0, sizeof o);
	for (int i = 0; i < m.ooo_n && i < 3; i++) {
		o.sack[i][0] = m.irs + m.ooo[i][0];
		o.sack[i][1] = m.irs + m.ooo[i][1];
		o.sack_n = (uint8_t)(i + 1);
	}
	m.unacked = 0;
	peer_send(TCP_ACK, &o);
}

/* Moves range i to the front (the most recent, RFC 2018 4). */
static void to_front(int i)
{
	uint32_t r[2] = { m.ooo[i][0], m.ooo[i][1] };
	memmove(m.ooo[1], m.ooo[0], sizeof m.ooo[0] * (size_t)i);
	m.ooo[0][0] = r[0];
	m.ooo[0][1] = r[1];
}

/* Returns true if the segment was out of order (or a duplicate). */
static bool peer_receive(uint32_t start, uint32_t end)
{
	if (end <= m.rcv_nxt)
		return true;
	if (start > m.rcv_nxt) {
		int i;
		for (i = 0; i < m.ooo_n; i++)
			if (start <= m.ooo[i][1] && end >= m.ooo[i][0])
				break;
		if (i < m.ooo_n) {
			if (start < m.ooo[i][0])
				m.ooo[i][0] = start;
			if (end > m.ooo[i][1])
				m.ooo[i][1] = end;
			/* It may now touch another range: merge them. */
			for (int j = 0; j < m.ooo_n; j++) {
				if (j == i || m.ooo[j][0] > m.ooo[i][1] || m.ooo[j][1] < m.ooo[i][0])
					continue;
				if (m.ooo[j][0] < m.ooo[i][0])
					m.ooo[i][0] = m.ooo[j][0];
				if (m.ooo[j][1] > m.ooo[i][1])
					m.ooo[i][1] = m.ooo[j][1];
				memmove(m.ooo[j], m.ooo[j + 1], sizeof m.ooo[0] * (size_t)(m.ooo_n - j - 1));
				m.ooo_n--;
				if (j < i)
					i--;
				j = -1;
			}
			to_front(i);
		} else if (m.ooo_n < NRANGE) {
			m.ooo_n++;
			m.ooo[m.ooo_n - 1][0] = start;
			m.ooo[m.ooo_n - 1][1] = end;
			to_front(m.ooo_n - 1);
		}
		return true;
	}
	m.received += end - m.rcv_nxt;
	m.rcv_nxt = end;
	bool filled = false;
	for (int i = 0; i < m.ooo_n; i++) {
		if (m.ooo[i][0] > m.rcv_nxt)
			continue;
		if (m.ooo[i][1] > m.rcv_nxt) {
			m.received += m.ooo[i][1] - m.rcv_nxt;
			m.rcv_nxt = m.ooo[i][1];
		}
		memmove(m.ooo[i], m.ooo[i + 1], sizeof m.ooo[0] * (size_t)(m.ooo_n - i - 1));
		m.ooo_n--;
		filled = true;
		i = -1;
	}
	return filled; /* a hole was filled: ACK at once (RFC 5681 4.2) */
}

static void peer_input(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	struct ipv4_hdr ip;
	struct tcp_hdr th;

	if (ipv4_parse(data, len, &ip) != WIRE_OK || ip.proto != IP_PROTO_TCP ||
	    tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &th) != WIRE_OK)
		return;
	if ((th.flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		if (!m.connected) {
			m.irs = th.seq;
			m.rcv_nxt = 1;
			m.connected = true;
		}
		send_ack();
		return;
	}
	if (!m.connected || !th.data_len)
		return;
	uint32_t start = th.seq - m.irs;
	/* RFC 5681 4.2: out of order at once, else every second segment. */
	if (peer_receive(start, start + (uint32_t)th.data_len) || ++m.unacked >= 2 || m.ooo_n)
		send_ack();
}

int main(int argc, char **argv)
{
	struct tl_config cfg;
	uint64_t want = argc > 1 ? strtoull(argv[1], NULL, 10) : 4u << 20;
	m.loss = argc > 2 ? atof(argv[2]) : 0.10;
	m.delay = TL_MS(argc > 3 ? strtoull(argv[3], NULL, 10) : 1);
	m.rng = argc > 4 ? strtoull(argv[4], NULL, 10) * 0x9e3779b97f4a7c15ull + 1 : 1;
	if (!want || m.loss < 0 || m.loss >= 1) {
		fprintf(stderr, "usage: tl-bench-losssim [BYTES [P [ONE_WAY_MS [SEED [TLP]]]]] (0 <= P < 1)\n");
		return 2;
	}

	tl_config_defaults(&cfg);
	if (argc > 5)
		cfg.tcp_tlp = (uint32_t)atoi(argv[5]);
	const char *cc = getenv("TL_LOSSSIM_CC");
	if (cc && strcmp(cc, "reno") && strcmp(cc, "cubic")) {
		fprintf(stderr, "tl-bench-losssim: TL_LOSSSIM_CC is reno or cubic, not '%s'\n", cc);
		return 2;
	}
	if (cc)
		cfg.tcp_cc = strcmp(cc, "cubic") ? TL_CC_RENO : TL_CC_CUBIC;
	cfg.output = stack_out;
	if (getenv("TL_LOSSSIM_TRACE")) {
		cfg.trace = trace;
		cfg.trace_json = true;
	}
	if (!(m.s = sim_stack(&cfg))) {
		fprintf(stderr, "tl-bench-losssim: cannot start the stack\n");
		return 1;
	}
	struct tcp_opts syn = sim_syn_opts(WSCALE);
	m.snd_nxt = 1000;
	peer_send(TCP_SYN, &syn);

	const tl_time limit = TL_MS(3600 * 1000);
	while (m.received < want && m.now < limit &&
	       sim_step(m.s, &m.now, &m.down, &m.up, peer_input, NULL))
		;
	const struct tl_counters *c = tl_stack_counters(m.s);
	printf("%.3f s for %llu bytes; %llu RTOs, %llu fast retransmits, %llu retransmitted, "
	       "lost %llu down and %llu up\n",
	       (double)m.now / 1e6, (unsigned long long)m.received, (unsigned long long)c->tcp_rto,
	       (unsigned long long)c->tcp_fast_rexmit, (unsigned long long)c->tcp_rexmit,
	       (unsigned long long)m.lost_down, (unsigned long long)m.lost_up);
	tl_stack_free(m.s);
	return m.received >= want ? 0 : 1;
}
