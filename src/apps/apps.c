/* Starts the services: all of them, or those --services names. */
#include "tcplab/apps.h"
#include "apps_impl.h"

#include <stddef.h>

struct service {
	unsigned bit;
	const char *name;
	int (*start)(tl_stack *s, uint16_t port);
	uint16_t ports[2];	/* 0: none */
};

static const struct service services[] = {
	{ TL_SVC_ECHO, "echo", echo_start, { TL_PORT_ECHO, TL_PORT_ECHO_ALT } },
	{ TL_SVC_DISCARD, "discard", discard_start, { TL_PORT_DISCARD, 0 } },
	{ TL_SVC_CHARGEN, "chargen", chargen_start, { TL_PORT_CHARGEN, 0 } },
	{ TL_SVC_QOTD, "qotd", qotd_start, { TL_PORT_QOTD, 0 } },
};

#define N_SERVICES (sizeof services / sizeof services[0])

int tl_apps_start_some(tl_stack *s, unsigned mask)
{
	for (size_t i = 0; i < N_SERVICES; i++) {
		const struct service *v = &services[i];
		for (int k = 0; k < 2 && (mask & v->bit) && v->ports[k]; k++) {
			int err = v->start(s, v->ports[k]);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

int tl_apps_start(tl_stack *s)
{
	return tl_apps_start_some(s, TL_SVC_ALL);
}

const char *tl_apps_name(unsigned bit)
{
	for (size_t i = 0; i < N_SERVICES; i++)
		if (services[i].bit == bit)
			return services[i].name;
	return NULL;
}

const char *tl_apps_port_owner(unsigned mask, uint16_t port)
{
	for (size_t i = 0; i < N_SERVICES; i++)
		if ((mask & services[i].bit) &&
		    (services[i].ports[0] == port || services[i].ports[1] == port))
			return services[i].name;
	return NULL;
}
