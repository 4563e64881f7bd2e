/* The receive side: in-order bytes go to the ring's readable part; bytes
 * past a hole are written where they belong and remembered as ranges. */
#include <stdlib.h>

#include "tcp.h"

static void ooo_remove_first(struct tl_tcp *c)
{
	for (uint32_t i = 1; i < c->ooo_n; i++)
		c->ooo[i - 1] = c->ooo[i];
	c->ooo_n--;
}

/* Adds [start, end) to the sorted, disjoint range list; false if full. */
static bool ooo_add(struct tl_tcp *c, uint32_t start, uint32_t end)
{
	uint32_t max = c->stack->cfg.tcp_ooo_max;
	uint32_t i = 0;

	if (!c->ooo) {
		c->ooo = calloc(max ? max : 1, sizeof *c->ooo);
		if (!c->ooo)
			return false;
	}
	while (i < c->ooo_n && seq_lt(c->ooo[i].end, start))
		i++;
	/* Merge every range that touches or overlaps [start, end). */
	uint32_t j = i;
	while (j < c->ooo_n && seq_leq(c->ooo[j].start, end)) {
		start = seq_min(start, c->ooo[j].start);
		end = seq_max(end, c->ooo[j].end);
		j++;
	}
	if (j == i) {
		if (c->ooo_n >= max)
			return false;
		for (uint32_t k = c->ooo_n; k > i; k--)
			c->ooo[k] = c->ooo[k - 1];
		c->ooo_n++;
	} else {
		for (uint32_t k = j; k < c->ooo_n; k++)
			c->ooo[i + 1 + k - j] = c->ooo[k];
		c->ooo_n -= j - i - 1;
	}
	c->ooo[i].start = start;
	c->ooo[i].end = end;
	return true;
}

uint32_t tcp_reass_insert(struct tl_tcp *c, uint32_t seq, const uint8_t *data,
			  uint32_t len)
{
	uint32_t off = seq - c->rcv_nxt;
	tl_stack *s = c->stack;

	if (ring_reserve(&c->rcvbuf, c->rcvbuf.len + off + len) < 0) {
		s->cnt.tcp_drop_ooo_full++;
		return 0;
	}
	if (off > 0) {
		if (!ooo_add(c, seq, seq + len)) {
			s->cnt.tcp_drop_ooo_full++;
			return 0;
		}
		ring_write_at(&c->rcvbuf, c->rcvbuf.len + off, data, len);
		c->ooo_last = seq;
		s->cnt.tcp_ooo_queued++;
		return 0;
	}
	ring_write_at(&c->rcvbuf, c->rcvbuf.len, data, len);
	uint32_t before = c->rcv_nxt;
	c->rcv_nxt += len;
	/* The hole may now be filled: pull in every range that became contiguous. */
	while (c->ooo_n && seq_leq(c->ooo[0].start, c->rcv_nxt)) {
		if (seq_gt(c->ooo[0].end, c->rcv_nxt))
			c->rcv_nxt = c->ooo[0].end;
		ooo_remove_first(c);
	}
	uint32_t added = c->rcv_nxt - before;
	c->rcvbuf.len += added;
	return added;
}
