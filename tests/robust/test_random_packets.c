/* Robustness: random and malformed packets through the core. Nothing may
 * crash or leak (the sanitizer build runs this too), every packet must be
 * accounted for by the counters, and the same seed gives the same output.
 * Half the TCP segments take their numbers from what the stack last sent on
 * that connection, so they get past the handshake into data and teardown. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/apps.h"
#include "tcplab/stack.h"
#include "wire.h"
#include "../check_run.h"

#define PEER 0x0a0a0001u
#define HOST 0x0a0a0002u
#define PACKETS 10000
#define MILLION 1000000
#define NPEER_PORTS 8
#define NPORTS 6

static uint64_t rng;
static uint64_t out_hash, out_count;
static const uint16_t ports[NPORTS] = { 7, 9, 19, 65432, 1, 80 };

/* The stack's last segment per (peer port, our port): its next sequence
 * number and its ACK. */
static struct {
	uint32_t snd_next, ack;
	bool known;
} seen[NPEER_PORTS][NPORTS];

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static int port_index(uint16_t port)
{
	for (int i = 0; i < NPORTS; i++)
		if (ports[i] == port)
			return i;
	return -1;
}

static void remember(const uint8_t *p, size_t len)
{
	struct ipv4_hdr ip;
	struct tcp_hdr h;

	if (ipv4_parse(p, len, &ip) != WIRE_OK || ip.proto != IP_PROTO_TCP ||
	    tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &h) != WIRE_OK)
		return;
	int lp = port_index(h.sport);
	if (lp < 0 || h.dport < 1024 || h.dport >= 1024 + NPEER_PORTS || (h.flags & TCP_RST))
		return;
	seen[h.dport - 1024][lp].snd_next = h.seq + (uint32_t)h.data_len +
					     !!(h.flags & TCP_SYN) + !!(h.flags & TCP_FIN);
	seen[h.dport - 1024][lp].ack = h.flags & TCP_ACK ? h.ack : seen[h.dport - 1024][lp].ack;
	seen[h.dport - 1024][lp].known = true;
}

static void hash_output(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++)
		out_hash = (out_hash ^ p[i]) * 0x100000001b3ull;
	out_count++;
	remember(p, len);
}

/* Sequence and acknowledgement numbers: random, or near what the stack
 * expects on this connection. */
static void tcp_numbers(struct tcp_hdr *h, int pp, int lp)
{
	h->seq = rnd() % 3 ? 1000 + rnd() % 70000 : rnd();
	h->ack = rnd();
	if (!seen[pp][lp].known || rnd() % 2)
		return;
	h->seq = seen[pp][lp].ack + (rnd() % 4 ? 0 : rnd() % 3000);
	h->ack = seen[pp][lp].snd_next - (rnd() % 4 ? 0 : rnd() % 2000);
}

/* A valid packet of a random kind, to be mutated or not. */
static size_t base_packet(uint8_t *p)
{
	uint8_t *l4 = p + IPV4_HDR_LEN;
	size_t n = rnd() % 200;
	int lp = (int)(rnd() % NPORTS), pp = (int)(rnd() % NPEER_PORTS);
	uint16_t port = ports[lp];

	for (size_t i = 0; i < n; i++)
		l4[40 + i] = (uint8_t)rnd();
	switch (rnd() % 3) {
	case 0: {
		size_t m = icmp_build(l4, rnd() % 4 ? ICMP_ECHO_REQUEST : (uint8_t)rnd(), 0, rnd(),
				      l4 + 40, n);
		ipv4_build(p, PEER, HOST, IP_PROTO_ICMP, m, (uint16_t)rnd());
		return IPV4_HDR_LEN + m;
	}
	case 1:
		memmove(l4 + UDP_HDR_LEN, l4 + 40, n);
		udp_build(l4, PEER, HOST, (uint16_t)(1024 + pp), port, n);
		ipv4_build(p, PEER, HOST, IP_PROTO_UDP, UDP_HDR_LEN + n, (uint16_t)rnd());
		return IPV4_HDR_LEN + UDP_HDR_LEN + n;
	default: {
		struct tcp_hdr h;
		struct tcp_opts o = { .has_mss = rnd() % 2, .mss = (uint16_t)rnd(),
				      .has_wscale = rnd() % 2, .wscale = (uint8_t)(rnd() % 20) };
		static const uint8_t flags[] = { TCP_SYN, TCP_ACK, TCP_ACK | TCP_PSH,
						 TCP_FIN | TCP_ACK, TCP_RST, TCP_SYN | TCP_ACK };
		memset(&h, 0, sizeof h);
		h.sport = (uint16_t)(1024 + pp);
		h.dport = port;
		tcp_numbers(&h, pp, lp);
		h.flags = flags[rnd() % 6];
		h.wnd = (uint16_t)rnd();
		size_t ol = tcp_build_options(l4 + TCP_HDR_LEN, &o);
		memmove(l4 + TCP_HDR_LEN + ol, l4 + 40, n);
		tcp_build(l4, PEER, HOST, &h, ol, n);
		ipv4_build(p, PEER, HOST, IP_PROTO_TCP, TCP_HDR_LEN + ol + n, (uint16_t)rnd());
		return IPV4_HDR_LEN + TCP_HDR_LEN + ol + n;
	}
	}
}

static size_t mutate(uint8_t *p, size_t len)
{
	switch (rnd() % 6) {
	case 0: /* flip bits */
		for (int i = 1 + rnd() % 4; i > 0; i--)
			p[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
		return len;
	case 1: /* truncate */
		return rnd() % len;
	case 2: /* a length field lies, checksum fixed so it gets past IP */
		put16(p + 2, (uint16_t)rnd());
		put16(p + 10, 0);
		put16(p + 10, csum_fold(csum_add(0, p, 20)));
		return len;
	case 3: /* random bytes after a valid-looking start */
		for (size_t i = 20; i < len; i++)
			p[i] = (uint8_t)rnd();
		return len;
	case 4: /* random header fields with a correct IP checksum */
		p[0] = (uint8_t)(0x40 | (rnd() % 16));
		put16(p + 6, (uint16_t)(rnd() % 4 ? 0x4000 : rnd()));
		p[9] = (uint8_t)(rnd() % 4 ? p[9] : rnd());
		put16(p + 10, 0);
		put16(p + 10, csum_fold(csum_add(0, p, (size_t)(p[0] & 15) * 4 > len ? 20 : (size_t)(p[0] & 15) * 4)));
		return len;
	default: /* valid */
		return len;
	}
}

/* Drop counters by layer, found by name so that new ones count too. */
struct drops {
	uint64_t ip, icmp, udp, tcp;
};

static void add_drop(void *ctx, const char *name, const char *desc, uint64_t v)
{
	struct drops *d = ctx;

	(void)desc;
	if (!strncmp(name, "ip_drop_", 8))
		d->ip += v;
	else if (!strncmp(name, "icmp_drop_", 10))
		d->icmp += v;
	else if (!strncmp(name, "udp_drop_", 9))
		d->udp += v;
	else if (!strncmp(name, "tcp_drop_", 9))
		d->tcp += v;
}

static void check_counters(const struct tl_counters *c, uint64_t packets)
{
	struct drops d = { 0 };

	tl_counters_foreach(c, add_drop, &d);
	ck_assert_uint_eq(c->ip_in_receives, packets);
	/* A fragment goes to reassembly; a datagram it completes is delivered. */
	ck_assert_msg(c->ip_in_receives + c->ip_frag_reassembled ==
			      c->ip_in_delivers + d.ip + c->ip_frag_in,
		      "IP: %llu received + %llu reassembled != %llu delivered + %llu dropped"
		      " + %llu fragments",
		      (unsigned long long)c->ip_in_receives,
		      (unsigned long long)c->ip_frag_reassembled,
		      (unsigned long long)c->ip_in_delivers, (unsigned long long)d.ip,
		      (unsigned long long)c->ip_frag_in);
	ck_assert_uint_eq(c->ip_in_delivers, c->icmp_in + c->udp_in + c->tcp_in);
	ck_assert_uint_eq(c->icmp_in, c->icmp_in_echo + c->icmp_in_other + d.icmp);
	ck_assert_uint_eq(c->udp_in, c->udp_in_delivered + d.udp);
	ck_assert_uint_ge(c->tcp_in, d.tcp);
	/* The mix must reach every layer, or the test proves little. */
	ck_assert_uint_gt(c->icmp_in_echo, packets / 100);
	ck_assert_uint_gt(c->udp_in_delivered, packets / 100);
	ck_assert_uint_gt(c->tcp_passive_opens, packets / 1000);
	ck_assert_uint_gt(c->tcp_established, packets / 1000);
	ck_assert_uint_gt(c->ip_frag_in, packets / 1000);
	ck_assert_uint_gt(c->ip_in_options, packets / 1000);
}

/* Runs the whole stream; returns the hash of everything the stack sent. */
static uint64_t run(uint64_t seed, int packets, bool check)
{
	struct tl_config cfg;
	uint8_t p[2048];
	tl_time now = TL_MS(1);

	rng = seed;
	memset(seen, 0, sizeof seen);
	out_hash = 0xcbf29ce484222325ull;
	out_count = 0;
	tl_config_defaults(&cfg);
	cfg.output = hash_output;
	cfg.seed = seed;
	cfg.tcp_msl_ms = 100;
	tl_stack *s = tl_stack_new(&cfg);
	ck_assert_int_eq(tl_apps_start(s), 0);
	for (int i = 0; i < packets; i++) {
		size_t len = base_packet(p);
		if (rnd() % 4)
			len = mutate(p, len);
		tl_stack_input(s, p, len, now);
		now += rnd() % 50000;
		if (rnd() % 8 == 0)
			tl_stack_poll(s, now);
	}
	tl_stack_poll(s, now + TL_MS(3600 * 1000));
	if (check)
		check_counters(tl_stack_counters(s), (uint64_t)packets);
	tl_stack_free(s);
	return out_hash;
}

START_TEST(random_packets_are_accounted_for)
{
	run(0x5eed + (uint64_t)_i, PACKETS, true);
	ck_assert_uint_gt(out_count, 1000);
}
END_TEST

/* The figure: a million random and malformed packets, one stack. */
START_TEST(a_million_packets_are_accounted_for)
{
	run(0x1000000, MILLION, true);
	ck_assert_uint_gt(out_count, MILLION / 10);
}
END_TEST

START_TEST(same_seed_same_output)
{
	uint64_t a = run(12345, PACKETS, false), b = run(12345, PACKETS, false);
	uint64_t c = run(54321, PACKETS, false);

	ck_assert_msg(a == b, "two runs with one seed differ");
	ck_assert_msg(a != c, "two seeds give the same output: the test is not exercising anything");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("robust");
	TCase *t = tcase_create("random_packets");

	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, random_packets_are_accounted_for, 0, 3);
	tcase_add_test(t, same_seed_same_output);
	suite_add_tcase(s, t);
	TCase *m = tcase_create("a_million_packets");
	tcase_set_timeout(m, 280);
	tcase_add_test(m, a_million_packets_are_accounted_for);
	suite_add_tcase(s, m);
	return tl_check_run(s);
}
