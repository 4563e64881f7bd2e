/* The token bucket behind the ICMP error, RST and challenge ACK limits. */
#include "stack_impl.h"

bool tl_bucket_take(tl_stack *s, struct tl_bucket *b, uint32_t rate)
{
	if (rate == 0)
		return true;
	if (!b->started || s->now >= b->refill + TL_MS(1000)) {
		b->tokens = rate;
		b->refill = s->now;
		b->started = true;
	}
	if (b->tokens == 0)
		return false;
	b->tokens--;
	return true;
}
