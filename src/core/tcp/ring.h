/* A byte ring that grows on demand up to a fixed bound. Send and receive
 * buffers are rings; out-of-order data is written past the readable end. */
#ifndef TL_RING_H
#define TL_RING_H

#include <stdint.h>

struct ring {
	uint8_t *data;
	uint32_t cap;	/* allocated, a power of two, 0 until first use */
	uint32_t head;	/* offset of the first readable byte */
	uint32_t len;	/* readable bytes */
	uint32_t max;	/* the bound: cap never exceeds it (rounded up) */
};

void ring_init(struct ring *r, uint32_t max);
void ring_free(struct ring *r);
/* Grows so that offsets [0, need) past head are storable; -1 if over max or
 * out of memory. */
int ring_reserve(struct ring *r, uint32_t need);
/* Copies n bytes to offset off past head (off may exceed len). */
void ring_write_at(struct ring *r, uint32_t off, const uint8_t *src, uint32_t n);
/* Copies n bytes from offset off past head, without consuming. */
void ring_read_at(const struct ring *r, uint32_t off, uint8_t *dst, uint32_t n);
/* The same, returning the bytes' one's-complement sum (RFC 1071) as well. */
uint32_t ring_read_sum_at(const struct ring *r, uint32_t off, uint8_t *dst, uint32_t n);
/* ring_write_at, returning the bytes' one's-complement sum: one pass. */
uint32_t ring_write_sum_at(struct ring *r, uint32_t off, const uint8_t *src, uint32_t n);
void ring_consume(struct ring *r, uint32_t n);
static inline uint32_t ring_free_space(const struct ring *r)
{
	return r->len < r->max ? r->max - r->len : 0;
}

#endif
