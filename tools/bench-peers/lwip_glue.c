/*
 * tl-bench-lwip: lwIP 2.1 (Debian's liblwip, built with its own lwipopts.h)
 * behind the same TUN device as tcplab, serving the same TCP services: echo
 * (7), discard (9) and chargen (19). The reader thread hands packets to
 * ip_input under lwIP's core lock (no mailbox hop); lwIP's own thread runs
 * its timers. The embedded-stack anchor of tools/bench.
 *
 * usage: tl-bench-lwip [--mtu N]       runs until SIGTERM
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"

#include "tcplab/tun.h"

static int tun;
static struct netif nif;
static uint16_t mtu = 1500;
static volatile sig_atomic_t stop;
static char pattern[65536];

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static err_t tun_output(struct netif *n, struct pbuf *p, const ip4_addr_t *to)
{
	static uint8_t out[65536];
	(void)n;
	(void)to;
	uint16_t len = pbuf_copy_partial(p, out, p->tot_len, 0);
	if (write(tun, out, len) < 0 && errno != EAGAIN)
		return ERR_IF;
	return ERR_OK;
}

static err_t nif_init(struct netif *n)
{
	n->name[0] = 't';
	n->name[1] = 'l';
	n->output = tun_output;
	n->mtu = mtu;
	return ERR_OK;
}

/* ---- services, on lwIP's raw API (callbacks run under the core lock) ---- */

static err_t discard_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	(void)err;
	if (!p) {
		tcp_close(pcb);
		return ERR_OK;
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	(void)err;
	if (!p) {
		tcp_close(pcb);
		return ERR_OK;
	}
	if (tcp_sndbuf(pcb) < p->tot_len)
		return ERR_MEM; /* lwIP keeps the data and offers it again later */
	for (struct pbuf *q = p; q; q = q->next)
		tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);
	tcp_output(pcb);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t chargen_fill(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)arg;
	(void)len;
	for (;;) {
		u16_t room = tcp_sndbuf(pcb);
		if (room < 536 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 4)
			break;
		if (tcp_write(pcb, pattern, room > 16384 ? 16384 : room, 0) != ERR_OK)
			break;
	}
	tcp_output(pcb);
	return ERR_OK;
}

static err_t chargen_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)err;
	if (!p) {
		tcp_sent(pcb, NULL);
		tcp_close(pcb);
		return ERR_OK;
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return chargen_fill(arg, pcb, 0);
}

static err_t accepted(void *arg, struct tcp_pcb *pcb, err_t err)
{
	uintptr_t port = (uintptr_t)arg;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	if (port == 7) {
		tcp_recv(pcb, echo_recv);
	} else if (port == 9) {
		tcp_recv(pcb, discard_recv);
	} else {
		tcp_recv(pcb, chargen_recv);
		tcp_sent(pcb, chargen_fill);
		chargen_fill(NULL, pcb, 0);
	}
	return ERR_OK;
}

static void listen_on(uintptr_t port)
{
	struct tcp_pcb *pcb = tcp_new();

	if (!pcb || tcp_bind(pcb, IP_ADDR_ANY, (u16_t)port) != ERR_OK) {
		fprintf(stderr, "tl-bench-lwip: cannot bind port %lu\n", (unsigned long)port);
		exit(1);
	}
	pcb = tcp_listen_with_backlog(pcb, 255);
	tcp_arg(pcb, (void *)port);
	tcp_accept(pcb, accepted);
}

int main(int argc, char **argv)
{
	static uint8_t pkt[65536];
	char err[256];
	ip4_addr_t addr, mask, gw;

	if (argc == 3 && !strcmp(argv[1], "--mtu"))
		mtu = (uint16_t)atoi(argv[2]);
	if (mtu < 576) {
		fprintf(stderr, "tl-bench-lwip: bad --mtu\n");
		return 2;
	}
	memset(pattern, 'x', sizeof pattern);
	tun = tl_tun_open("tl0", TL_TUN_PLAIN, err, sizeof err);
	if (tun < 0 || tl_tun_configure("tl0", 0x0a0a0001, 24, mtu, err, sizeof err) < 0) {
		fprintf(stderr, "tl-bench-lwip: %s\n", err);
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	tcpip_init(NULL, NULL);
	IP4_ADDR(&addr, 10, 10, 0, 2);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 10, 10, 0, 1);
	LOCK_TCPIP_CORE();
	netif_add(&nif, &addr, &mask, &gw, NULL, nif_init, ip_input);
	netif_set_default(&nif);
	netif_set_link_up(&nif);
	netif_set_up(&nif);
	listen_on(7);
	listen_on(9);
	listen_on(19);
	UNLOCK_TCPIP_CORE();

	struct pollfd p = { tun, POLLIN, 0 };
	while (!stop) {
		if (poll(&p, 1, 200) <= 0)
			continue;
		LOCK_TCPIP_CORE();
		for (;;) {
			ssize_t n = read(tun, pkt, sizeof pkt);
			if (n <= 0)
				break;
			struct pbuf *b = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
			if (!b)
				break;
			pbuf_take(b, pkt, (u16_t)n);
			if (nif.input(b, &nif) != ERR_OK)
				pbuf_free(b);
		}
		UNLOCK_TCPIP_CORE();
	}
	return 0;
}
