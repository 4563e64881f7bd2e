#ifndef TL_APPS_IMPL_H
#define TL_APPS_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "tcplab/socket.h"

/* Each starts the UDP and TCP flavour of one service on port. */
int echo_start(tl_stack *s, uint16_t port);
int discard_start(tl_stack *s, uint16_t port);
int chargen_start(tl_stack *s, uint16_t port);
int qotd_start(tl_stack *s, uint16_t port);

/* Never answer a datagram from another service port: two echo servers
 * would bounce it forever (the classic UDP echo/chargen loop). */
static inline bool udp_service_port(uint16_t port)
{
	return port == 7 || port == 9 || port == 13 || port == 17 ||
	       port == 19 || port == 37;
}

#endif
