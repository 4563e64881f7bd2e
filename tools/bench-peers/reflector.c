/*
 * tl-bench-reflector: the raw TUN limit for tools/bench. It sits where a
 * stack would (10.10.0.2 behind tl0) but has no TCP at all: ICMP echo and
 * UDP port 7 are answered by swapping the addresses (and ports), everything
 * else is read and dropped, and a UDP datagram to port 19 asks for a train
 * of precomputed datagrams back to its sender, written as fast as the
 * device takes them. Whatever a stack does per packet comes on top of this.
 *
 * usage: tl-bench-reflector [--mtu N] [--train BYTES]
 * Runs until SIGTERM; prints what it did to standard error. SIGUSR1 prints
 * the rate at which discarded packets arrived since the last SIGUSR1.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcplab/tun.h"

static volatile sig_atomic_t stop, report;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	report = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void swap(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t t[4];

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

/* Writes a train of UDP datagrams of mtu bytes to the trigger's sender. */
static unsigned long long train(int tun, const uint8_t *trigger, uint32_t mtu,
				unsigned long long bytes)
{
	static uint8_t pkt[65536];
	unsigned long long sent = 0;
	size_t ihl = (size_t)(trigger[0] & 15) * 4;

	memset(pkt, 0, 28);
	memset(pkt + 28, 'x', mtu - 28);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(mtu >> 8);
	pkt[3] = (uint8_t)mtu;
	pkt[6] = 0x40; /* DF */
	pkt[8] = 64;
	pkt[9] = 17;
	memcpy(pkt + 12, trigger + 16, 4); /* from the trigger's destination */
	memcpy(pkt + 16, trigger + 12, 4); /* to its source */
	memset(pkt + 10, 0, 2);
	uint16_t c = ip_checksum(pkt, 20);
	pkt[10] = (uint8_t)(c >> 8);
	pkt[11] = (uint8_t)c;
	memcpy(pkt + 20, trigger + ihl + 2, 2); /* source port: the trigger's dport */
	memcpy(pkt + 22, trigger + ihl, 2);
	pkt[24] = (uint8_t)((mtu - 20) >> 8);
	pkt[25] = (uint8_t)(mtu - 20);
	pkt[26] = pkt[27] = 0; /* no UDP checksum (RFC 768) */
	struct pollfd p = { tun, POLLOUT, 0 };
	while (sent < bytes && !stop) {
		if (write(tun, pkt, mtu) < 0) {
			if (errno != EAGAIN)
				break;
			poll(&p, 1, 100);
			continue;
		}
		sent += mtu - 28;
	}
	return sent;
}

/* What the reflector counts while it runs. */
struct tally {
	unsigned long long in, answered, trained, dropped;
	double first, last; /* when the discard counting began and last moved */
};

/* One packet read from the device: answered in place (1), or consumed (0). */
static int reflect(int tun, uint8_t *pkt, size_t n, uint32_t mtu,
		   unsigned long long train_bytes, struct tally *t)
{
	size_t ihl = (size_t)(pkt[0] & 15) * 4;
	uint8_t proto = pkt[9];

	if (proto == 1 && pkt[ihl] == 8) {
		/* Echo request -> reply: swap addresses, type 0, fix the sum. */
		swap(pkt + 12, pkt + 16, 4);
		pkt[ihl] = 0;
		uint32_t sum = (uint32_t)(pkt[ihl + 2] << 8 | pkt[ihl + 3]) + 0x0800;
		sum = (sum & 0xffff) + (sum >> 16);
		pkt[ihl + 2] = (uint8_t)(sum >> 8);
		pkt[ihl + 3] = (uint8_t)sum;
		return 1;
	}
	if (proto == 17 && pkt[ihl + 2] == 0 && pkt[ihl + 3] == 7) {
		/* The sums cover both addresses and both ports: a swap keeps them. */
		swap(pkt + 12, pkt + 16, 4);
		swap(pkt + ihl, pkt + ihl + 2, 2);
		return 1;
	}
	if (proto == 17 && pkt[ihl + 2] == 0 && pkt[ihl + 3] == 19) {
		t->trained += train(tun, pkt, mtu, train_bytes);
		return 0;
	}
	/* Discard: count the payload the way a stack's discard would. */
	t->last = now_s();
	if (!t->dropped)
		t->first = t->last;
	t->dropped += (unsigned long long)n - ihl - 8;
	return 0;
}

/* Reads the device dry, answering what reflect answers. */
static void drain(int tun, uint8_t *pkt, size_t cap, uint32_t mtu,
		  unsigned long long train_bytes, struct tally *t)
{
	for (;;) {
		ssize_t n = read(tun, pkt, cap);
		if (n < 20)
			return;
		t->in++;
		if ((pkt[0] >> 4) == 4 && reflect(tun, pkt, (size_t)n, mtu, train_bytes, t) &&
		    write(tun, pkt, (size_t)n) == n)
			t->answered++;
	}
}

int main(int argc, char **argv)
{
	static uint8_t pkt[65536];
	char err[256];
	uint32_t mtu = 1500;
	unsigned long long train_bytes = 500ull << 20;
	struct tally t = { 0 };

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mtu"))
			mtu = (uint32_t)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--train"))
			train_bytes = strtoull(argv[i + 1], NULL, 10);
	}
	if (mtu < 576 || mtu > 65535) {
		fprintf(stderr, "tl-bench-reflector: bad --mtu\n");
		return 2;
	}
	int tun = tl_tun_open("tl0", TL_TUN_PLAIN, err, sizeof err);
	if (tun < 0 || tl_tun_configure("tl0", 0x0a0a0001, 24, mtu, err, sizeof err) < 0) {
		fprintf(stderr, "tl-bench-reflector: %s\n", err);
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGUSR1, on_usr1);
	struct pollfd p = { tun, POLLIN, 0 };
	while (!stop) {
		if (report) {
			report = 0;
			fprintf(stderr, "%.1f MB/s discard\n",
				t.last > t.first ? (double)t.dropped / (t.last - t.first) / 1e6 : 0.0);
			t.dropped = 0;
			t.first = t.last = 0;
		}
		if (poll(&p, 1, 200) > 0)
			drain(tun, pkt, sizeof pkt, mtu, train_bytes, &t);
	}
	fprintf(stderr, "tl-bench-reflector: %llu packets in, %llu answered, %llu train bytes\n",
		t.in, t.answered, t.trained);
	return 0;
}
