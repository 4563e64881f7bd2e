/* Sequence arithmetic across the 2^32 wrap (RFC 9293 3.4) and the byte ring
 * behind the send and receive buffers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/ring.h"
#include "tcp/seq.h"
#include "../check_run.h"

START_TEST(seq_compare_across_wrap)
{
	ck_assert(seq_lt(0xfffffff0u, 0x10u));
	ck_assert(seq_gt(0x10u, 0xfffffff0u));
	ck_assert(seq_leq(0xffffffffu, 0u));
	ck_assert(seq_geq(0u, 0xffffffffu));
	ck_assert(seq_leq(5u, 5u) && seq_geq(5u, 5u) && !seq_lt(5u, 5u));
	/* Just under half the space ahead is "after"; the rest is "before". */
	ck_assert(seq_lt(0u, 0x7fffffffu));
	ck_assert(seq_gt(0u, 0x80000001u));
	ck_assert(seq_in(0x2u, 0xfffffffeu, 0x10u));
	ck_assert(!seq_in(0x10u, 0xfffffffeu, 0x10u));
	ck_assert(seq_in(0xfffffffeu, 0xfffffffeu, 0x10u));
	ck_assert_uint_eq(seq_max(0xfffffff0u, 0x10u), 0x10u);
	ck_assert_uint_eq(seq_min(0xfffffff0u, 0x10u), 0xfffffff0u);
}
END_TEST

START_TEST(ring_wraps_and_grows)
{
	struct ring r;
	uint8_t in[10000], out[10000];

	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(i * 13 + 1);
	ring_init(&r, 8192);
	ck_assert_uint_eq(r.cap, 0); /* nothing allocated until used */
	ck_assert_int_eq(ring_reserve(&r, 3000), 0);
	ck_assert_uint_eq(r.cap, 4096);
	ring_write_at(&r, 0, in, 3000);
	r.len = 3000;
	ring_consume(&r, 2500); /* head moves near the end */
	ring_write_at(&r, r.len, in + 3000, 1500); /* wraps around */
	r.len += 1500;
	ring_read_at(&r, 0, out, 2000);
	ck_assert_mem_eq(out, in + 2500, 2000);
	/* Growing keeps the bytes, including ones stored past len. */
	ring_write_at(&r, r.len + 100, in + 7000, 50);
	ck_assert_int_eq(ring_reserve(&r, 6000), 0);
	ck_assert_uint_eq(r.cap, 8192);
	ring_read_at(&r, 0, out, 2000);
	ck_assert_mem_eq(out, in + 2500, 2000);
	ring_read_at(&r, r.len + 100, out, 50);
	ck_assert_mem_eq(out, in + 7000, 50);
	ck_assert_int_eq(ring_reserve(&r, 8193), -1); /* over the bound */
	ck_assert_uint_eq(ring_free_space(&r), 8192 - 2000);
	ring_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("seq_ring");
	TCase *t = tcase_create("basics");

	tcase_add_test(t, seq_compare_across_wrap);
	tcase_add_test(t, ring_wraps_and_grows);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
