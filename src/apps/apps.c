/* Starts every service. */
#include "tcplab/apps.h"
#include "apps_impl.h"

int tl_apps_start(tl_stack *s)
{
	int err;

	if ((err = echo_start(s, TL_PORT_ECHO)) < 0 ||
	    (err = echo_start(s, TL_PORT_ECHO_ALT)) < 0 ||
	    (err = discard_start(s, TL_PORT_DISCARD)) < 0 ||
	    (err = chargen_start(s, TL_PORT_CHARGEN)) < 0 ||
	    (err = qotd_start(s, TL_PORT_QOTD)) < 0)
		return err;
	return 0;
}
