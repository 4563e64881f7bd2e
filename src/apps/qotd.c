/* Quote of the day (RFC 865), TCP: on connect, send one quote and close.
 * It is the one service that closes first, which shows an active close. */
#include <string.h>

#include "apps_impl.h"

static const char quote[] =
	"\"Be conservative in what you do, be liberal in what you accept from "
	"others.\" -- RFC 793, 2.10\r\n";

static void qotd_accepted(void *arg, struct tl_tcp *l, struct tl_tcp *c)
{
	(void)arg, (void)l;
	tl_tcp_send(c, quote, sizeof quote - 1);
	tl_tcp_close(c);
}

static const struct tl_tcp_events qotd_events = {
	.accepted = qotd_accepted,
};

int qotd_start(tl_stack *s, uint16_t port)
{
	struct tl_tcp *l;

	return tl_tcp_listen(s, port, 128, &qotd_events, NULL, &l);
}
