/* The reassembler as a unit, as CS144's Reassembler tests take theirs:
 * tcp_reass_insert on a connection of its own, with no segment around it.
 * Bytes go in at sequence numbers (at or after RCV.NXT, as the receiver
 * trims them), in any order, overlapping, repeated, across the 2^32 wrap;
 * what comes out is the stream in order, and what is held past a hole is
 * bounded per connection and over all of them. */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"
#include "../check_run.h"

#define PEER 0x0a0a0001u
#define ISN 1000u

static uint8_t blob[64 * 1024];

struct rx {
	tl_stack *s;
	struct tl_tcp *c;
	uint32_t isn;		/* RCV.NXT before the first byte */
	uint8_t out[sizeof blob];
	size_t n;		/* bytes read so far */
};

static void no_output(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)pkt;
	(void)len;
}

static struct tl_tcp *rx_conn(struct rx *r, uint16_t port)
{
	struct tl_tcp *c = tcp_conn_new(r->s, PEER, port, 9);

	ck_assert_ptr_nonnull(c);
	c->rcv_nxt = r->isn;
	return c;
}

static void rx_open(struct rx *r, uint32_t isn, void (*tweak)(struct tl_config *))
{
	struct tl_config cfg;

	memset(r, 0, sizeof *r);
	tl_config_defaults(&cfg);
	cfg.output = no_output;
	if (tweak)
		tweak(&cfg);
	r->s = tl_stack_new(&cfg);
	ck_assert_ptr_nonnull(r->s);
	r->isn = isn;
	r->c = rx_conn(r, 40000);
}

/* Bytes [off, off + len) of the stream, less what is already in order (the
 * receiver trims that off before it calls the reassembler); returns what
 * came newly in order. */
static uint32_t put(struct rx *r, uint32_t off, uint32_t len)
{
	uint32_t nxt = r->c->rcv_nxt - r->isn;

	if (off + len <= nxt)
		return 0;
	if (off < nxt) {
		len -= nxt - off;
		off = nxt;
	}
	return tcp_reass_insert(r->c, r->isn + off, blob + off, len);
}

/* Reads everything readable, as the application would. */
static size_t drain(struct rx *r)
{
	ssize_t got = tl_tcp_recv(r->c, r->out + r->n, sizeof r->out - r->n);

	if (got <= 0)
		return 0;
	r->n += (size_t)got;
	return (size_t)got;
}

static void rx_close(struct rx *r)
{
	tl_stack_free(r->s);
}

static void fill_blob(void)
{
	for (size_t i = 0; i < sizeof blob; i++)
		blob[i] = (uint8_t)(i * 7 + i / 251);
}

START_TEST(in_order_bytes_come_out)
{
	struct rx r;

	rx_open(&r, ISN, NULL);
	ck_assert_uint_eq(put(&r, 0, 4), 4);
	ck_assert_uint_eq(r.c->rcv_nxt, ISN + 4);
	ck_assert_uint_eq(tl_tcp_recv_avail(r.c), 4);
	ck_assert_uint_eq(put(&r, 4, 100), 100);
	ck_assert_uint_eq(drain(&r), 104);
	ck_assert_mem_eq(r.out, blob, 104);
	ck_assert_uint_eq(put(&r, 104, 1), 1);
	ck_assert_uint_eq(drain(&r), 1);
	ck_assert_uint_eq(r.c->rcv_nxt, ISN + 105);
	ck_assert_uint_eq(r.c->fl->ooo_n, 0);
	rx_close(&r);
}
END_TEST

START_TEST(held_past_a_hole_until_it_fills)
{
	struct rx r;

	rx_open(&r, ISN, NULL);
	ck_assert_uint_eq(put(&r, 10, 10), 0);
	ck_assert_uint_eq(tl_tcp_recv_avail(r.c), 0);
	ck_assert_uint_eq(r.c->rcv_nxt, ISN);
	ck_assert_uint_eq(r.c->fl->ooo_n, 1);
	ck_assert_uint_eq(r.c->fl->ooo_last, ISN + 10); /* the latest arrival, for SACK */
	/* Held past the hole: 20 bytes from RCV.NXT, counted for the global bound. */
	ck_assert_uint_eq(r.c->fl->ooo_held, 20);
	ck_assert_uint_eq(r.s->tcp->ooo_bytes, 20);
	/* The hole is filled: both pieces come out, in one piece. */
	ck_assert_uint_eq(put(&r, 0, 10), 20);
	ck_assert_uint_eq(r.c->rcv_nxt, ISN + 20);
	ck_assert_uint_eq(r.c->fl->ooo_n, 0);
	ck_assert_uint_eq(r.s->tcp->ooo_bytes, 0);
	ck_assert_uint_eq(drain(&r), 20);
	ck_assert_mem_eq(r.out, blob, 20);
	rx_close(&r);
}
END_TEST

/* The held ranges stay sorted and disjoint: a piece that touches or
 * overlaps others merges with them, one inside another changes nothing. */
START_TEST(ranges_merge)
{
	struct rx r;

	rx_open(&r, ISN, NULL);
	put(&r, 100, 10);
	put(&r, 300, 10);
	put(&r, 200, 10);
	ck_assert_uint_eq(r.c->fl->ooo_n, 3);
	ck_assert_uint_eq(r.c->fl->ooo[0].start, ISN + 100);
	ck_assert_uint_eq(r.c->fl->ooo[1].start, ISN + 200);
	ck_assert_uint_eq(r.c->fl->ooo[2].start, ISN + 300);
	put(&r, 110, 10); /* touches [100, 110) */
	ck_assert_uint_eq(r.c->fl->ooo_n, 3);
	ck_assert_uint_eq(r.c->fl->ooo[0].end, ISN + 120);
	put(&r, 203, 4); /* inside [200, 210) */
	ck_assert_uint_eq(r.c->fl->ooo_n, 3);
	ck_assert_uint_eq(r.c->fl->ooo[1].end, ISN + 210);
	put(&r, 115, 190); /* from inside the first into the third */
	ck_assert_uint_eq(r.c->fl->ooo_n, 1);
	ck_assert_uint_eq(r.c->fl->ooo[0].start, ISN + 100);
	ck_assert_uint_eq(r.c->fl->ooo[0].end, ISN + 310);
	ck_assert_uint_eq(put(&r, 0, 100), 310);
	ck_assert_uint_eq(drain(&r), 310);
	ck_assert_mem_eq(r.out, blob, 310);
	rx_close(&r);
}
END_TEST

/* A piece that reaches past held ranges takes them all in at once; one
 * that ends inside a held range takes that range's end. */
START_TEST(fill_reaches_past_held_ranges)
{
	struct rx r;

	rx_open(&r, ISN, NULL);
	put(&r, 50, 50);
	put(&r, 120, 30);
	ck_assert_uint_eq(put(&r, 0, 60), 100);
	ck_assert_uint_eq(r.c->fl->ooo_n, 1);
	ck_assert_uint_eq(put(&r, 100, 40), 50);
	ck_assert_uint_eq(r.c->rcv_nxt, ISN + 150);
	ck_assert_uint_eq(r.c->fl->ooo_n, 0);
	ck_assert_uint_eq(r.c->fl->ooo_held, 0);
	ck_assert_uint_eq(drain(&r), 150);
	ck_assert_mem_eq(r.out, blob, 150);
	rx_close(&r);
}
END_TEST

/* Pieces [i*500, i*500+700) in a shuffled order (each overlaps the next by
 * 200), some sent twice: the stream comes out whole, whatever the order. */
static void shuffled(uint32_t isn, uint32_t seed0)
{
	struct rx r;
	uint32_t order[32], seed = seed0;

	rx_open(&r, isn, NULL);
	for (uint32_t i = 0; i < 32; i++)
		order[i] = i;
	for (uint32_t i = 31; i > 0; i--) {
		seed = seed * 1103515245u + 12345u;
		uint32_t j = (seed >> 8) % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	uint32_t total = 0;
	for (uint32_t k = 0; k < 32; k++) {
		uint32_t i = order[k];
		total += put(&r, i * 500, i == 31 ? 500 : 700);
		if (k % 3 == 0)
			total += put(&r, i * 500 + 100, 200);
		if (k % 5 == 0)
			drain(&r);
	}
	drain(&r);
	ck_assert_msg(total == 16000 && r.n == 16000, "seed %u: %u in order, %zu read of 16000",
		      seed0, total, r.n);
	ck_assert_msg(!memcmp(r.out, blob, 16000), "seed %u: the bytes differ", seed0);
	ck_assert_uint_eq(r.c->fl->ooo_n, 0);
	ck_assert_uint_eq(r.s->tcp->ooo_bytes, 0);
	rx_close(&r);
}

START_TEST(any_order_any_overlap)
{
	for (uint32_t seed = 1; seed <= 30; seed++)
		shuffled(ISN, seed);
}
END_TEST

START_TEST(across_the_wrap)
{
	/* RCV.NXT just below 2^32: the stream crosses zero on the way. */
	for (uint32_t seed = 1; seed <= 10; seed++)
		shuffled(0xffffff00u, seed);
	for (uint32_t seed = 1; seed <= 10; seed++)
		shuffled(0xfffff000u + seed * 97, seed);
}
END_TEST

static void two_ranges(struct tl_config *c) { c->tcp_ooo_max = 2; }

/* tcp_ooo_max bounds the ranges a connection holds: a piece that would
 * make one more is dropped and counted; one that merges is not. */
START_TEST(bound_on_ranges)
{
	struct rx r;

	rx_open(&r, ISN, two_ranges);
	put(&r, 100, 10);
	put(&r, 200, 10);
	ck_assert_uint_eq(put(&r, 300, 10), 0);
	ck_assert_uint_eq(r.c->fl->ooo_n, 2);
	ck_assert_uint_eq(tl_stack_counters(r.s)->tcp_drop_ooo_full, 1);
	put(&r, 210, 10); /* merges with [200, 210) */
	ck_assert_uint_eq(r.c->fl->ooo_n, 2);
	ck_assert_uint_eq(tl_stack_counters(r.s)->tcp_drop_ooo_full, 1);
	ck_assert_uint_eq(put(&r, 0, 100), 110);
	ck_assert_uint_eq(r.c->fl->ooo_n, 1);
	ck_assert_uint_eq(put(&r, 300, 10), 0); /* room again */
	ck_assert_uint_eq(r.c->fl->ooo_n, 2);
	rx_close(&r);
}
END_TEST

static void small_buffer(struct tl_config *c) { c->tcp_rcvbuf = 4096; }

/* The receive buffer bounds everything: in order or not, nothing is stored
 * past its end (the receiver's window keeps a polite peer inside it). */
START_TEST(bound_on_the_buffer)
{
	struct rx r;

	rx_open(&r, ISN, small_buffer);
	ck_assert_uint_eq(put(&r, 4000, 200), 0);
	ck_assert_uint_eq(r.c->fl->ooo_n, 0);
	ck_assert_uint_eq(tl_stack_counters(r.s)->tcp_drop_ooo_full, 1);
	ck_assert_uint_eq(put(&r, 0, 3000), 3000);
	ck_assert_uint_eq(put(&r, 3000, 1500), 0);
	ck_assert_uint_eq(r.c->rcv_nxt, ISN + 3000);
	ck_assert_uint_eq(tl_stack_counters(r.s)->tcp_drop_ooo_full, 2);
	ck_assert_uint_eq(drain(&r), 3000); /* reading makes room */
	ck_assert_uint_eq(put(&r, 3000, 1500), 1500);
	ck_assert_uint_eq(drain(&r), 1500);
	ck_assert_mem_eq(r.out, blob, 4500);
	rx_close(&r);
}
END_TEST

static void global_10k(struct tl_config *c) { c->tcp_ooo_bytes_max = 10000; }

/* tcp_ooo_bytes_max bounds what all connections hold past their holes,
 * counted from each one's RCV.NXT to its last held byte (ooo_held). In-order
 * bytes are never refused by it. */
START_TEST(bound_over_all_connections)
{
	struct rx r;

	rx_open(&r, ISN, global_10k);
	struct tl_tcp *a = r.c, *b = rx_conn(&r, 40001);
	ck_assert_uint_eq(tcp_reass_insert(a, ISN + 5000, blob, 1000), 0);
	ck_assert_uint_eq(r.s->tcp->ooo_bytes, 6000);
	ck_assert_uint_eq(tcp_reass_insert(b, ISN + 3000, blob, 1000), 0);
	ck_assert_uint_eq(r.s->tcp->ooo_bytes, 10000);
	/* b would hold 2000 more: over the bound, dropped and counted. */
	ck_assert_uint_eq(tcp_reass_insert(b, ISN + 5000, blob, 1000), 0);
	ck_assert_uint_eq(tl_stack_counters(r.s)->tcp_drop_ooo_global, 1);
	ck_assert_uint_eq(b->fl->ooo_n, 1);
	/* Inside what b already holds the extent does not grow: taken. */
	ck_assert_uint_eq(tcp_reass_insert(b, ISN + 100, blob + 100, 100), 0);
	ck_assert_uint_eq(b->fl->ooo_n, 2);
	ck_assert_uint_eq(r.s->tcp->ooo_bytes, 10000);
	/* In order: always taken, and what a holds counts from its new RCV.NXT. */
	ck_assert_uint_eq(tcp_reass_insert(a, ISN, blob, 4000), 4000);
	ck_assert_uint_eq(a->fl->ooo_held, 2000);
	ck_assert_uint_eq(r.s->tcp->ooo_bytes, 6000);
	rx_close(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_reass");
	TCase *t = tcase_create("reassembler");

	fill_blob();
	tcase_set_tags(t, "checkpoint2"); /* tools/checkpoint test 2 */
	tcase_add_test(t, in_order_bytes_come_out);
	tcase_add_test(t, held_past_a_hole_until_it_fills);
	tcase_add_test(t, ranges_merge);
	tcase_add_test(t, fill_reaches_past_held_ranges);
	tcase_add_test(t, any_order_any_overlap);
	tcase_add_test(t, across_the_wrap);
	tcase_add_test(t, bound_on_ranges);
	tcase_add_test(t, bound_on_the_buffer);
	tcase_add_test(t, bound_over_all_connections);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
