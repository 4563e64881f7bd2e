/* The services, written only against the socket API. */
#ifndef TCPLAB_APPS_H
#define TCPLAB_APPS_H

#include "tcplab/stack.h"

#define TL_PORT_ECHO 7		/* RFC 862 */
#define TL_PORT_DISCARD 9	/* RFC 863 */
#define TL_PORT_QOTD 17		/* RFC 865 */
#define TL_PORT_CHARGEN 19	/* RFC 864 */
#define TL_PORT_ECHO_ALT 65432	/* the classic Python socket example */

/* Starts UDP echo and discard, and the TCP services (echo, discard,
 * chargen, qotd). Returns 0 or -errno. */
int tl_apps_start(tl_stack *s);

#endif
