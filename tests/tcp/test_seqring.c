/* Sequence arithmetic across the 2^32 wrap (RFC 9293 3.4) and the byte ring
 * behind the send and receive buffers. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/ring.h"
#include "tcp/seq.h"
#include "wire.h"
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

/* Against the definition, for pairs all over the space and near the wrap:
 * a < b when b - a, modulo 2^32, is in (0, 2^31). Exactly 2^31 apart is
 * undefined (RFC 9293 3.4 does not say), so no pair is. */
START_TEST(seq_agrees_with_the_definition)
{
	uint32_t x = 12345;

	for (int i = 0; i < 100000; i++) {
		x = x * 1103515245u + 12345u;
		uint32_t a = i % 2 ? x : 0xffffffffu - (x & 0xff), d = x >> (i % 32);
		uint32_t b = a + d;
		if (d == 0x80000000u)
			continue;
		bool lt = d != 0 && d < 0x80000000u;
		ck_assert_msg(seq_lt(a, b) == lt && seq_gt(b, a) == lt, "a %#x, b %#x", a, b);
		ck_assert_msg(seq_leq(a, b) == (lt || d == 0) && seq_geq(b, a) == (lt || d == 0),
			      "a %#x, b %#x", a, b);
		ck_assert_msg(seq_in(a, a, b) == lt && !seq_in(b, a, b), "a %#x, b %#x", a, b);
	}
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

/* ring_read_sum_at copies like ring_read_at and returns the bytes' sum,
 * whether the copy wraps after an even or an odd number of bytes. */
START_TEST(ring_read_sum_matches_the_copy)
{
	struct ring r;
	uint8_t in[4096], out[2000];

	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(i * 131 + 7);
	ring_init(&r, 4096);
	ck_assert_int_eq(ring_reserve(&r, 4096), 0);
	ring_write_at(&r, 0, in, 4096);
	r.len = 4096;
	for (uint32_t head = 4096 - 1600; head < 4096 - 1400; head++) {
		r.head = head;
		for (uint32_t n = 0; n < 2000; n += 97) {
			memset(out, 0, sizeof out);
			uint32_t sum = ring_read_sum_at(&r, 0, out, n);
			uint8_t want[2000];
			ring_read_at(&r, 0, want, n);
			ck_assert_mem_eq(out, want, n);
			ck_assert_msg(csum_fold(sum) == csum_fold(csum_add(0, want, n)),
				      "head %u n %u", head, n);
		}
	}
	ring_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("seq_ring");
	TCase *seq = tcase_create("sequence_numbers");
	TCase *t = tcase_create("basics");

	tcase_set_tags(seq, "checkpoint2"); /* tools/checkpoint test 2: seq.h */
	tcase_add_test(seq, seq_compare_across_wrap);
	tcase_add_test(seq, seq_agrees_with_the_definition);
	tcase_add_test(t, ring_wraps_and_grows);
	tcase_add_test(t, ring_read_sum_matches_the_copy);
	suite_add_tcase(s, seq);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
