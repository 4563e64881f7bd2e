/* Echo (RFC 862): send back whatever arrives, over UDP and TCP. */
#include <errno.h>

#include "apps_impl.h"

static void udp_echo(void *arg, struct tl_udp *sock, const struct tl_endpoint *from,
		     const uint8_t *data, size_t len)
{
	(void)arg; /* the core drops datagrams from service ports (udp.c) */
	tl_udp_sendto(sock, from, data, len);
}

/* Move what we can from the receive side to the send side; when the peer
 * has finished and everything is echoed, close our side too. */
static void tcp_echo_pump(void *arg, struct tl_tcp *c)
{
	uint8_t buf[16384];
	(void)arg;

	for (;;) {
		size_t room = tl_tcp_send_space(c);
		if (room == 0)
			return;
		ssize_t n = tl_tcp_recv(c, buf, room < sizeof buf ? room : sizeof buf);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			tl_tcp_close(c);
			return;
		}
		tl_tcp_send(c, buf, (size_t)n);
	}
}

static void tcp_echo_accepted(void *arg, struct tl_tcp *l, struct tl_tcp *c)
{
	(void)l;
	tcp_echo_pump(arg, c);
}

static const struct tl_tcp_events echo_events = {
	.accepted = tcp_echo_accepted,
	.readable = tcp_echo_pump,
	.writable = tcp_echo_pump,
};

int echo_start(tl_stack *s, uint16_t port)
{
	struct tl_udp *u;
	struct tl_tcp *l;
	int err = tl_udp_open(s, port, udp_echo, NULL, &u);

	if (err < 0)
		return err;
	return tl_tcp_listen(s, port, 128, &echo_events, NULL, &l);
}
