/* A token bucket refilled once a second (RFC 1812 4.3.2.8 style). Private. */
#ifndef TL_BUCKET_H
#define TL_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

#include "tcplab/stack.h"

struct tl_bucket {
	uint32_t tokens;
	tl_time refill;
	bool started;
};

/* Takes a token; false when the bucket (rate per second, 0 = no limit) is empty. */
bool tl_bucket_take(tl_stack *s, struct tl_bucket *b, uint32_t rate);

#endif
