/* A token bucket that refills continuously: one token every 1/rate seconds,
 * at most a burst of them saved up (docs/robustness.md#rate-limits). Private. */
#ifndef TL_BUCKET_H
#define TL_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

#include "tcplab/stack.h"

struct tl_bucket {
	uint32_t tokens;
	tl_time last;	/* the time up to which tokens have been credited */
	bool started;
};

/* Takes a token; false when the bucket (rate per second, 0 = no limit) is empty. */
bool tl_bucket_take(tl_stack *s, struct tl_bucket *b, uint32_t rate);

#endif
