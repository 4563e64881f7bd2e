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

#endif
