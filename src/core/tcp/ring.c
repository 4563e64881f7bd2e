#include "ring.h"

#include <stdlib.h>
#include <string.h>

#include "wire.h"

void ring_init(struct ring *r, uint32_t max)
{
	memset(r, 0, sizeof *r);
	r->max = max;
}

void ring_free(struct ring *r)
{
	free(r->data);
	r->data = NULL;
	r->cap = r->head = r->len = 0;
}

int ring_reserve(struct ring *r, uint32_t need)
{
	if (need > r->max) /* cap may be more (a power of two), but never more is stored */
		return -1;
	if (need <= r->cap)
		return 0;
	uint32_t cap = r->cap ? r->cap : 4096;
	while (cap < need)
		cap *= 2;
	uint8_t *d = malloc(cap);
	if (!d)
		return -1;
	/* Linearise everything stored, including bytes past len. */
	if (r->cap) {
		uint32_t first = r->cap - r->head;
		memcpy(d, r->data + r->head, first);
		memcpy(d + first, r->data, r->head);
	}
	free(r->data);
	r->data = d;
	r->cap = cap;
	r->head = 0;
	return 0;
}

void ring_write_at(struct ring *r, uint32_t off, const uint8_t *src, uint32_t n)
{
	if (n == 0)
		return;
	uint32_t pos = (r->head + off) & (r->cap - 1);
	uint32_t first = r->cap - pos < n ? r->cap - pos : n;

	memcpy(r->data + pos, src, first);
	if (first < n) /* it wraps */
		memcpy(r->data, src + first, n - first);
}

void ring_read_at(const struct ring *r, uint32_t off, uint8_t *dst, uint32_t n)
{
	if (n == 0)
		return;
	uint32_t pos = (r->head + off) & (r->cap - 1);
	uint32_t first = r->cap - pos < n ? r->cap - pos : n;

	memcpy(dst, r->data + pos, first);
	if (first < n) /* it wraps */
		memcpy(dst + first, r->data, n - first);
}

uint32_t ring_read_sum_at(const struct ring *r, uint32_t off, uint8_t *dst, uint32_t n)
{
	if (n == 0)
		return 0;
	uint32_t pos = (r->head + off) & (r->cap - 1);
	uint32_t first = r->cap - pos < n ? r->cap - pos : n;
	uint32_t sum = csum_copy_vec(dst, r->data + pos, first);

	if (first < n) /* it wraps */
		sum = csum_join(sum, csum_copy_vec(dst + first, r->data, n - first), first);
	return sum;
}

uint32_t ring_write_sum_at(struct ring *r, uint32_t off, const uint8_t *src, uint32_t n)
{
	if (n == 0)
		return 0;
	uint32_t pos = (r->head + off) & (r->cap - 1);
	uint32_t first = r->cap - pos < n ? r->cap - pos : n;
	uint32_t sum = csum_copy_vec(r->data + pos, src, first);

	if (first < n) /* it wraps */
		sum = csum_join(sum, csum_copy_vec(r->data, src + first, n - first), first);
	return sum;
}

void ring_consume(struct ring *r, uint32_t n)
{
	r->len -= n;
	if (r->cap)
		r->head = (r->head + n) & (r->cap - 1);
}
