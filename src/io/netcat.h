/* --connect: tcplab as a client. Standard input goes to the connection,
 * what comes back goes to standard output, like nc. */
#ifndef TL_NETCAT_H
#define TL_NETCAT_H

#include <stdbool.h>

#include "tcplab/socket.h"

struct netcat;

struct netcat *netcat_start(tl_stack *s, const struct tl_endpoint *to);
/* The fd to poll for input, or -1 while no input is wanted. */
int netcat_fd(const struct netcat *nc);
/* Standard input is readable. */
void netcat_stdin(struct netcat *nc);
/* True once the connection is over; *status is the exit status. */
bool netcat_done(const struct netcat *nc, int *status);
void netcat_free(struct netcat *nc);

#endif
