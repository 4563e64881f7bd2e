/* Discard (RFC 863): read and throw away; close when the peer does. */
#include <errno.h>

#include "apps_impl.h"

static void udp_discard(void *arg, struct tl_udp *sock,
			const struct tl_endpoint *from, const uint8_t *data,
			size_t len)
{
	(void)arg, (void)sock, (void)from, (void)data, (void)len;
}

static void tcp_discard_read(void *arg, struct tl_tcp *c)
{
	uint8_t buf[16384];
	ssize_t n;
	(void)arg;

	while ((n = tl_tcp_recv(c, buf, sizeof buf)) > 0)
		;
	if (n == 0)
		tl_tcp_close(c);
}

static void tcp_discard_accepted(void *arg, struct tl_tcp *l, struct tl_tcp *c)
{
	(void)l;
	tcp_discard_read(arg, c);
}

static const struct tl_tcp_events discard_events = {
	.accepted = tcp_discard_accepted,
	.readable = tcp_discard_read,
};

int discard_start(tl_stack *s, uint16_t port)
{
	struct tl_udp *u;
	struct tl_tcp *l;
	int err = tl_udp_open(s, port, udp_discard, NULL, &u);

	if (err < 0)
		return err;
	return tl_tcp_listen(s, port, 128, &discard_events, NULL, &l);
}
