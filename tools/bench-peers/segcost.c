/*
 * tl-bench-segcost: a loss-free transfer through the core in virtual time,
 * for counting instructions per data segment with callgrind (deterministic,
 * unlike seconds). The peer lives in this program; tools/bench collects only
 * inside tl_stack_input and tl_stack_poll, so the peer's own work (building
 * segments, checksums) is not counted; what it does inside them is minimal.
 *
 * usage: tl-bench-segcost rx|tx SEGMENTS [MTU]
 *   rx: the peer sends SEGMENTS full segments to discard (port 9)
 *   tx: chargen (port 19) sends until the peer has SEGMENTS full segments;
 *       the peer ACKs every second one, as Linux does
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/apps.h"
#include "tcplab/stack.h"
#include "wire.h"

#define STACK 0x0a0a0002u
#define PEER 0x0a0a0001u
#define PORT 40000

static struct {
	tl_stack *s;
	tl_time now;
	uint32_t snd_nxt, rcv_nxt, acked;
	bool synced;
	unsigned long long segs_in;
	uint32_t mss;
} m;

static uint8_t pkt[70000];

static void peer_send(uint16_t dport, uint8_t flags, const uint8_t *data, size_t len)
{
	struct tcp_hdr th;
	struct tcp_opts o;

	memset(&th, 0, sizeof th);
	memset(&o, 0, sizeof o);
	if (flags & TCP_SYN) {
		o.has_mss = o.has_sack_perm = o.has_wscale = true;
		o.mss = (uint16_t)m.mss;
		o.wscale = 7;
	}
	uint8_t *seg = pkt + IPV4_HDR_LEN;
	size_t opt_len = tcp_build_options(seg + TCP_HDR_LEN, &o);
	if (len)
		memcpy(seg + TCP_HDR_LEN + opt_len, data, len);
	th.sport = PORT;
	th.dport = dport;
	th.seq = m.snd_nxt;
	th.ack = m.acked;
	th.flags = flags;
	th.wnd = (flags & TCP_SYN) ? 65535 : 32768; /* 4 MiB with wscale 7 */
	tcp_build(seg, PEER, STACK, &th, opt_len, len);
	ipv4_build(pkt, PEER, STACK, IP_PROTO_TCP, (uint16_t)(TCP_HDR_LEN + opt_len + len), 1);
	m.snd_nxt += (uint32_t)len + ((flags & TCP_SYN) ? 1 : 0);
	m.now += 10; /* 10 us between packets */
	tl_stack_input(m.s, pkt, IPV4_HDR_LEN + TCP_HDR_LEN + opt_len + len, m.now);
}

/* Runs inside tl_stack_input/tl_stack_poll, so it reads only the fields it
 * needs: parsing (and checking the checksum) here would be counted as the core's. */
static void stack_out(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	if (len < IPV4_HDR_LEN + TCP_HDR_LEN || data[9] != IP_PROTO_TCP)
		return;
	size_t ihl = (size_t)(data[0] & 0x0f) * 4;
	const uint8_t *seg = data + ihl;
	size_t doff = (size_t)(seg[12] >> 4) * 4;
	if (ihl < IPV4_HDR_LEN || ihl + doff > len)
		return;
	uint32_t seq = get32(seg + 4);
	size_t data_len = len - ihl - doff;
	if ((seg[13] & TCP_SYN) && !m.synced) {
		m.synced = true;
		m.rcv_nxt = m.acked = seq + 1;
		return;
	}
	if (data_len && seq == m.rcv_nxt) {
		m.rcv_nxt += (uint32_t)data_len;
		m.segs_in++;
	}
}

int main(int argc, char **argv)
{
	static uint8_t data[65536];
	struct tl_config cfg;

	if (argc < 3 || (strcmp(argv[1], "rx") && strcmp(argv[1], "tx"))) {
		fprintf(stderr, "usage: tl-bench-segcost rx|tx SEGMENTS [MTU]\n");
		return 2;
	}
	unsigned long long n = strtoull(argv[2], NULL, 10);
	uint32_t mtu = argc > 3 ? (uint32_t)atoi(argv[3]) : 1500;
	bool rx = !strcmp(argv[1], "rx");

	tl_config_defaults(&cfg);
	cfg.addr = STACK;
	cfg.mtu = mtu;
	cfg.output = stack_out;
	m.mss = mtu - 40;
	m.s = tl_stack_new(&cfg);
	if (!m.s || tl_apps_start(m.s) < 0) {
		fprintf(stderr, "tl-bench-segcost: cannot start the stack\n");
		return 1;
	}
	uint16_t port = rx ? 9 : 19;
	m.snd_nxt = 1000;
	peer_send(port, TCP_SYN, NULL, 0);
	peer_send(port, TCP_ACK, NULL, 0);
	memset(data, 'd', sizeof data);
	if (rx) {
		for (unsigned long long i = 0; i < n; i++)
			peer_send(port, TCP_ACK, data, m.mss);
	} else {
		while (m.segs_in < n && m.acked != m.rcv_nxt) {
			/* One ACK per two segments received, oldest first. */
			uint32_t step = m.rcv_nxt - m.acked < 2 * m.mss ? m.rcv_nxt - m.acked : 2 * m.mss;
			m.acked += step;
			peer_send(port, TCP_ACK, NULL, 0);
			tl_stack_poll(m.s, m.now);
		}
	}
	tl_stack_poll(m.s, m.now + TL_MS(1000));
	printf("%s %llu segments of %u bytes\n", argv[1], rx ? n : m.segs_in, m.mss);
	tl_stack_free(m.s);
	return 0;
}
