/* The receive side: in-order bytes go to the ring's readable part; bytes
 * past a hole are written where they belong and remembered as ranges. */
#include <stdlib.h>

#include "tcp.h"

/* checkpoint 2 */
static void tcp_ranges_drop_below(struct ooo_range *r, uint32_t *n, uint32_t seq)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < *n; i++) {
		if (seq_leq(r[i].end, seq))
			continue;
		r[k] = r[i];
		if (seq_lt(r[k].start, seq))
			r[k].start = seq;
		k++;
	}
	*n = k;
}

/* Sorted, disjoint sequence ranges: the out-of-order data held. */
/* checkpoint 2 */
static bool tcp_ranges_add(struct ooo_range *r, uint32_t *n, uint32_t max, uint32_t start,
		    uint32_t end)
{
	uint32_t i = 0;

	while (i < *n && seq_lt(r[i].end, start))
		i++;
	/* Merge every range that touches or overlaps [start, end). */
	uint32_t j = i;
	while (j < *n && seq_leq(r[j].start, end)) {
		start = seq_min(start, r[j].start);
		end = seq_max(end, r[j].end);
		j++;
	}
	if (j == i) {
		if (*n >= max)
			return false;
		for (uint32_t k = *n; k > i; k--)
			r[k] = r[k - 1];
		(*n)++;
	} else {
		for (uint32_t k = j; k < *n; k++)
			r[i + 1 + k - j] = r[k];
		*n -= j - i - 1;
	}
	r[i].start = start;
	r[i].end = end;
	return true;
}

static bool ooo_add(struct tl_tcp *c, uint32_t start, uint32_t end)
{
	uint32_t max = c->stack->cfg.tcp_ooo_max;

	if (!c->fl->ooo) {
		c->fl->ooo = calloc(max ? max : 1, sizeof *c->fl->ooo);
		if (!c->fl->ooo)
			return false;
	}
	return tcp_ranges_add(c->fl->ooo, &c->fl->ooo_n, max, start, end);
}

/* Keeps c->fl->ooo_held and the table's global sum up to date. */
static void tcp_ooo_account(struct tl_tcp *c)
{
	uint32_t held = c->fl->ooo_n ? c->fl->ooo[c->fl->ooo_n - 1].end - c->rcv_nxt : 0;

	c->stack->tcp->ooo_bytes += held;
	c->stack->tcp->ooo_bytes -= c->fl->ooo_held;
	c->fl->ooo_held = held;
}

/* The buffer a peer makes us hold past a hole, bounded over all connections. */
static bool ooo_global_room(struct tl_tcp *c, uint32_t extent)
{
	uint64_t max = c->stack->cfg.tcp_ooo_bytes_max;

	if (extent <= c->fl->ooo_held || max == 0)
		return true;
	return c->stack->tcp->ooo_bytes - c->fl->ooo_held + extent <= max;
}

/* checkpoint 2 */
uint32_t tcp_reass_insert(struct tl_tcp *c, uint32_t seq, const uint8_t *data,
			  uint32_t len)
{
	uint32_t off = seq - c->rcv_nxt;
	tl_stack *s = c->stack;

	if (off > 0 && !ooo_global_room(c, off + len)) {
		s->cnt.tcp_drop_ooo_global++;
		return 0;
	}
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
		tcp_ooo_account(c);
		c->fl->ooo_last = seq;
		s->cnt.tcp_ooo_queued++;
		return 0;
	}
	ring_write_at(&c->rcvbuf, c->rcvbuf.len, data, len);
	uint32_t before = c->rcv_nxt;
	c->rcv_nxt += len;
	/* The hole may now be filled: pull in every range that became contiguous. */
	while (c->fl->ooo_n && seq_leq(c->fl->ooo[0].start, c->rcv_nxt)) {
		if (seq_gt(c->fl->ooo[0].end, c->rcv_nxt))
			c->rcv_nxt = c->fl->ooo[0].end;
		tcp_ranges_drop_below(c->fl->ooo, &c->fl->ooo_n, c->rcv_nxt);
	}
	uint32_t added = c->rcv_nxt - before;
	c->rcvbuf.len += added;
	tcp_ooo_account(c);
	return added;
}

/* RFC 1122 4.2.3.2: ACK in-order data at least every second segment, else within the delay. */
void tcp_ack_in_order(struct tl_tcp *c, uint32_t len)
{
	tl_stack *s = c->stack;

	if (s->cfg.tcp_delack_ms == 0) {
		c->ack_now = true;
		return;
	}
	c->fl->unacked_bytes += len;
	bool second = ++c->fl->unacked_segs >= 2 || c->fl->unacked_bytes >= 2u * c->mss;
	uint32_t batch = s->cfg.tcp_ack_batch_max;
	if (second && batch && c->fl->unacked_bytes < batch) {
		/* Not RFC 1122: one ACK per batch the driver read, as Linux's GRO does. */
		c->fl->ack_at_poll = true;
		tcp_set_delack_at(c, s->now);
	} else if (second)
		c->ack_now = true;
	else if (c->fl->delack_at == TL_TIME_NEVER)
		tcp_set_delack_at(c, s->now + TL_MS(s->cfg.tcp_delack_ms));
}
