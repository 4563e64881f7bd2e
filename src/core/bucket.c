/* The token bucket behind the ICMP error, RST and challenge ACK limits. */
#include "stack_impl.h"

#define US_PER_S 1000000u

/* The most tokens a bucket holds: a tenth of a second's worth, at least
 * min(rate, 10). Never more than the rate, so a second refills it. */
static uint32_t tl_bucket_burst(uint32_t rate)
{
	uint32_t small = rate < 10 ? rate : 10;

	return rate / 10 > small ? rate / 10 : small;
}

/* Credits the tokens earned since b->last, keeping the fraction of the next one. */
static void refill(tl_stack *s, struct tl_bucket *b, uint32_t rate)
{
	uint32_t burst = tl_bucket_burst(rate);
	tl_time elapsed = s->now - b->last;

	/* A second refills any bucket (burst <= rate); past it the product could overflow. */
	if (!b->started || elapsed >= US_PER_S) {
		b->tokens = burst;
		b->last = s->now;
		b->started = true;
		return;
	}
	uint64_t earned = elapsed * rate / US_PER_S;
	if (earned == 0)
		return;
	if (b->tokens + earned >= burst) {
		b->tokens = burst;
		b->last = s->now;
		return;
	}
	b->tokens += (uint32_t)earned;
	b->last += (earned * US_PER_S + rate - 1) / rate;
}

bool tl_bucket_take(tl_stack *s, struct tl_bucket *b, uint32_t rate)
{
	if (rate == 0)
		return true;
	refill(s, b, rate);
	if (b->tokens == 0)
		return false;
	b->tokens--;
	return true;
}
