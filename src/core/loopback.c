/* The loopback (RFC 1122 3.2.1.3 (g), 3.3.4.2): what the stack sends to its
 * own address (programs' 127.0.0.0/8 under tcplab run) goes back in through
 * tl_stack_input at the next tl_stack_poll, traced as any other packet. */
#include <stdlib.h>
#include <string.h>

#include "stack_impl.h"

struct loop_pkt {
	size_t len;
	uint8_t data[];
};

void loop_output(tl_stack *s, const uint8_t *pkt, size_t len)
{
	struct loop_pkt *p = s->loop_n < TL_LOOP_MAX ? malloc(sizeof *p + len) : NULL;

	if (s->cfg.loop_tap)
		s->cfg.loop_tap(s->cfg.output_ctx, pkt, len);
	if (!p) {
		s->cnt.ip_loop_drop_full++; /* as a full device queue: TCP retransmits */
		return;
	}
	p->len = len;
	memcpy(p->data, pkt, len);
	s->loopq[(s->loop_head + s->loop_n++) % TL_LOOP_MAX] = p;
	s->cnt.ip_loop_packets++;
}

/* At most a queue's worth per poll: the answers they cause wait for the next. */
void loop_deliver(tl_stack *s)
{
	for (unsigned n = s->loop_n; n > 0 && s->loop_n > 0; n--) {
		struct loop_pkt *p = s->loopq[s->loop_head];
		s->loop_head = (s->loop_head + 1) % TL_LOOP_MAX;
		s->loop_n--;
		s->looping = true;
		tl_stack_input(s, p->data, p->len, s->now);
		s->looping = false;
		free(p);
	}
}

void loop_free(tl_stack *s)
{
	while (s->loop_n > 0) {
		free(s->loopq[s->loop_head]);
		s->loop_head = (s->loop_head + 1) % TL_LOOP_MAX;
		s->loop_n--;
	}
}
