/* The services, written only against the socket API. */
#ifndef TCPLAB_APPS_H
#define TCPLAB_APPS_H

#include "tcplab/stack.h"

#define TL_PORT_ECHO 7		/* RFC 862 */
#define TL_PORT_DISCARD 9	/* RFC 863 */
#define TL_PORT_QOTD 17		/* RFC 865 */
#define TL_PORT_CHARGEN 19	/* RFC 864 */
#define TL_PORT_ECHO_ALT 65432	/* the classic Python socket example */

/* The services, one bit each, for tl_apps_start_some. */
#define TL_SVC_ECHO 0x1		/* TCP and UDP, ports 7 and 65432 */
#define TL_SVC_DISCARD 0x2	/* TCP and UDP, port 9 */
#define TL_SVC_CHARGEN 0x4	/* TCP, port 19 */
#define TL_SVC_QOTD 0x8		/* TCP, port 17 */
#define TL_SVC_ALL 0xf

/* Starts UDP echo and discard, and the TCP services (echo, discard,
 * chargen, qotd). Returns 0 or -errno. */
int tl_apps_start(tl_stack *s);
/* Starts the services whose bits are in mask. Returns 0 or -errno. */
int tl_apps_start_some(tl_stack *s, unsigned mask);
/* The service a mask bit names ("echo", ...), or NULL. */
const char *tl_apps_name(unsigned bit);
/* The service that holds TCP or UDP port on a stack started with mask,
 * or NULL: for a program told EADDRINUSE. */
const char *tl_apps_port_owner(unsigned mask, uint16_t port);

#endif
