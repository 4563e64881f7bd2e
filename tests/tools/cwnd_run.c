/*
 * A bulk transfer from chargen through a simulated bottleneck, in virtual
 * time, printing tcplab's --trace=json on standard output. The peer is a
 * receiver that ACKs every segment (with SACK blocks); the link between them
 * has a one-way delay, a rate limit with a drop-tail queue, and one outage.
 * So the trace shows slow start, losses at the queue, fast retransmit,
 * congestion avoidance and an RTO: tools/plot-cwnd draws it.
 *
 * usage: cwnd_run [BYTES [CC]]   (default 8000000 and the stack's default
 *        congestion control; CC is reno or cubic)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "sim.h"

#define PEER_PORT 40000
#define DELAY_US 10000u		      /* one way */
#define RATE_BPS 20000000u	      /* bottleneck, stack to peer */
#define QUEUE_MAX 40		      /* packets waiting at the bottleneck */
#define OUTAGE_FROM TL_MS(2500)	      /* everything is lost for a while */
#define OUTAGE_TO TL_MS(2600)
#define RCV_WND (1u << 20)
#define WSCALE 7

struct sim {
	tl_stack *s;
	tl_time now;
	struct sim_link down, up; /* stack -> peer, peer -> stack */
	uint32_t irs, rcv_nxt, snd_nxt;
	bool connected, fin;
	/* Out-of-order ranges the peer holds, [start, end) relative to irs. */
	uint32_t ooo[4][2];
	int ooo_n;
	uint64_t received, drops_queue, drops_outage;
};

static void stack_out(void *ctx, const uint8_t *data, size_t len)
{
	struct sim *m = ctx;
	struct sim_link *l = &m->down;

	if (m->now >= OUTAGE_FROM && m->now < OUTAGE_TO) {
		m->drops_outage++;
		return;
	}
	if (l->n >= QUEUE_MAX || len > SIM_MAXPKT) {
		m->drops_queue++;
		return;
	}
	tl_time start = l->busy_until > m->now ? l->busy_until : m->now;
	l->busy_until = start + (tl_time)len * 8 * 1000000u / RATE_BPS;
	struct sim_pkt *p = sim_push(l);
	p->at = l->busy_until + DELAY_US;
	p->len = len;
	memcpy(p->data, data, len);
}

static void trace(void *ctx, tl_time now, const char *line)
{
	(void)ctx;
	tl_print_trace(stdout, (double)now / 1e6, true, line);
}

/* The peer sends one segment towards the stack. */
static void peer_send(struct sim *m, uint8_t flags, const struct tcp_opts *o)
{
	struct sim_pkt *p = sim_push(&m->up);
	struct tcp_hdr th;
	struct tcp_opts none;

	if (!p)
		return;
	memset(&none, 0, sizeof none);
	memset(&th, 0, sizeof th);
	uint8_t *seg = p->data + IPV4_HDR_LEN;
	size_t opt_len = tcp_build_options(seg + TCP_HDR_LEN, o ? o : &none);
	th.sport = PEER_PORT;
	th.dport = 19;
	th.seq = m->snd_nxt;
	th.ack = m->irs + m->rcv_nxt;
	th.flags = flags;
	th.wnd = (flags & TCP_SYN) ? 65535 : RCV_WND >> WSCALE;
	tcp_build(seg, SIM_PEER, SIM_STACK, &th, opt_len, 0);
	ipv4_build(p->data, SIM_PEER, SIM_STACK, IP_PROTO_TCP, (uint16_t)(TCP_HDR_LEN + opt_len), 1);
	p->len = IPV4_HDR_LEN + TCP_HDR_LEN + opt_len;
	p->at = m->now + DELAY_US;
	if (flags & TCP_SYN)
		m->snd_nxt++;
}

static void send_ack(struct sim *m)
{
	struct tcp_opts o;

	memset(&o, 0, sizeof o);
	for (int i = 0; i < m->ooo_n && i < 3; i++) {
		o.sack[i][0] = m->irs + m->ooo[i][0];
		o.sack[i][1] = m->irs + m->ooo[i][1];
		o.sack_n = (uint8_t)(i + 1);
	}
	peer_send(m, TCP_ACK, &o);
}

/* The receiver: in-order data moves rcv_nxt, the rest is kept as ranges. */
static void peer_receive(struct sim *m, uint32_t start, uint32_t end)
{
	if (end <= m->rcv_nxt)
		return;
	if (start <= m->rcv_nxt) {
		m->received += end - m->rcv_nxt;
		m->rcv_nxt = end;
	} else {
		int i;
		for (i = 0; i < m->ooo_n; i++)
			if (start <= m->ooo[i][1] && end >= m->ooo[i][0])
				break;
		if (i < m->ooo_n) {
			if (start < m->ooo[i][0]) m->ooo[i][0] = start;
			if (end > m->ooo[i][1]) m->ooo[i][1] = end;
		} else if (m->ooo_n < 4) {
			memmove(m->ooo[1], m->ooo[0], sizeof m->ooo[0] * (size_t)m->ooo_n);
			m->ooo[0][0] = start;
			m->ooo[0][1] = end;
			m->ooo_n++;
		}
	}
	for (int again = 1; again;) {
		again = 0;
		for (int i = 0; i < m->ooo_n; i++) {
			if (m->ooo[i][0] > m->rcv_nxt)
				continue;
			if (m->ooo[i][1] > m->rcv_nxt) {
				m->received += m->ooo[i][1] - m->rcv_nxt;
				m->rcv_nxt = m->ooo[i][1];
			}
			memmove(m->ooo[i], m->ooo[i + 1], sizeof m->ooo[0] * (size_t)(m->ooo_n - i - 1));
			m->ooo_n--;
			again = 1;
			break;
		}
	}
}

static void peer_input(void *ctx, const uint8_t *data, size_t len)
{
	struct sim *m = ctx;
	struct ipv4_hdr ip;
	struct tcp_hdr th;

	if (ipv4_parse(data, len, &ip) != WIRE_OK || ip.proto != IP_PROTO_TCP ||
	    tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &th) != WIRE_OK)
		return;
	if ((th.flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) && !m->connected) {
		m->irs = th.seq;
		m->rcv_nxt = 1;
		m->connected = true;
		send_ack(m);
		return;
	}
	if (!m->connected || !th.data_len)
		return;
	uint32_t start = th.seq - m->irs;
	peer_receive(m, start, start + (uint32_t)th.data_len);
	send_ack(m);
}

int main(int argc, char **argv)
{
	static struct sim m;
	struct tl_config cfg;
	uint64_t want = argc > 1 ? strtoull(argv[1], NULL, 10) : 8000000;

	tl_config_defaults(&cfg);
	if (argc > 2 && strcmp(argv[2], "reno") && strcmp(argv[2], "cubic")) {
		fprintf(stderr, "usage: cwnd_run [BYTES [reno|cubic]]\n");
		return 2;
	}
	if (argc > 2)
		cfg.tcp_cc = strcmp(argv[2], "cubic") ? TL_CC_RENO : TL_CC_CUBIC;
	cfg.output = stack_out;
	cfg.output_ctx = &m;
	cfg.trace = trace;
	cfg.trace_json = true;
	if (!(m.s = sim_stack(&cfg))) {
		fprintf(stderr, "cwnd_run: cannot start the stack\n");
		return 1;
	}
	struct tcp_opts syn = sim_syn_opts(WSCALE);
	m.snd_nxt = 1000;
	peer_send(&m, TCP_SYN, &syn);

	while (m.received < want && m.now < TL_MS(30000) &&
	       sim_step(m.s, &m.now, &m.down, &m.up, peer_input, &m))
		;
	fprintf(stderr,
		"cwnd_run: %llu bytes in %.3f s of virtual time; dropped %llu at the queue, "
		"%llu in the outage\n",
		(unsigned long long)m.received, (double)m.now / 1e6,
		(unsigned long long)m.drops_queue, (unsigned long long)m.drops_outage);
	tl_stack_free(m.s);
	return m.received >= want ? 0 : 1;
}
