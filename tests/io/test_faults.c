/* The fault injector in virtual time: what goes in, when it comes out. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "../check_run.h"

struct sink {
	uint32_t ids[20000];
	tl_time at[20000];
	size_t n;
	tl_time now;
	int corrupted;
};

static void deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	struct sink *s = ctx;
	uint32_t id;

	ck_assert_uint_eq(len, 64);
	memcpy(&id, pkt, 4);
	for (size_t i = 4; i < len; i++)
		if (pkt[i] != (uint8_t)i)
			s->corrupted++;
	s->ids[s->n] = id;
	s->at[s->n++] = s->now;
}

/* Sends n packets, one every gap_us, and runs the clock until all are out. */
static void run(struct tl_faults *f, struct sink *s, uint32_t n, uint32_t gap_us)
{
	uint8_t pkt[64];

	for (size_t i = 4; i < sizeof pkt; i++)
		pkt[i] = (uint8_t)i;
	memset(s, 0, sizeof *s);
	for (uint32_t i = 0; i < n; i++) {
		s->now = (tl_time)i * gap_us;
		memcpy(pkt, &i, 4);
		tl_faults_release(f, s->now, deliver, s);
		tl_faults_push(f, pkt, sizeof pkt, s->now);
		tl_faults_release(f, s->now, deliver, s);
	}
	for (int guard = 0; guard < 100000 && tl_faults_next_deadline(f) != TL_TIME_NEVER; guard++) {
		s->now = tl_faults_next_deadline(f);
		tl_faults_release(f, s->now, deliver, s);
	}
}

static struct sink sink;

START_TEST(no_faults_is_transparent)
{
	struct tl_fault_cfg c = { 0 };
	struct tl_faults *f = tl_faults_new(&c, 1, 64);

	ck_assert(!tl_fault_cfg_active(&c));
	run(f, &sink, 100, 1000);
	ck_assert_uint_eq(sink.n, 100);
	for (uint32_t i = 0; i < 100; i++) {
		ck_assert_uint_eq(sink.ids[i], i);
		ck_assert_uint_eq(sink.at[i], (tl_time)i * 1000);
	}
	tl_faults_free(f);
}
END_TEST

START_TEST(loss_rate_and_determinism)
{
	struct tl_fault_cfg c = { .loss = 0.1 };
	struct tl_faults *f = tl_faults_new(&c, 42, 64);

	run(f, &sink, 10000, 10);
	uint64_t lost = tl_faults_stats(f)->lost;
	/* 10% of 10,000: a binomial with sd 30; 6 sd either way. */
	ck_assert_msg(lost > 820 && lost < 1180, "lost %llu of 10000", (unsigned long long)lost);
	ck_assert_uint_eq(sink.n + lost, 10000);
	tl_faults_free(f);
	f = tl_faults_new(&c, 42, 64);
	run(f, &sink, 10000, 10);
	ck_assert_uint_eq(tl_faults_stats(f)->lost, lost);
	tl_faults_free(f);
}
END_TEST

START_TEST(delay_keeps_order)
{
	struct tl_fault_cfg c = { .delay_us = 25000, .jitter_us = 5000 };
	struct tl_faults *f = tl_faults_new(&c, 7, 1000);

	run(f, &sink, 500, 100);
	ck_assert_uint_eq(sink.n, 500);
	for (uint32_t i = 0; i < 500; i++) {
		ck_assert_uint_eq(sink.ids[i], i);
		tl_time sent = (tl_time)i * 100;
		ck_assert_msg(sink.at[i] >= sent + 20000, "packet %u early", i);
	}
	tl_faults_free(f);
}
END_TEST

START_TEST(reorder_holds_packets_back)
{
	struct tl_fault_cfg c = { .reorder = 0.25, .delay_us = 20000 };
	struct tl_faults *f = tl_faults_new(&c, 3, 1000);

	run(f, &sink, 1000, 1000);
	ck_assert_uint_eq(sink.n, 1000);
	uint32_t inversions = 0;
	for (uint32_t i = 1; i < sink.n; i++)
		inversions += sink.ids[i] < sink.ids[i - 1];
	ck_assert_msg(inversions > 100, "only %u reorderings", inversions);
	ck_assert_uint_gt(tl_faults_stats(f)->reordered, 150);
	tl_faults_free(f);
}
END_TEST

START_TEST(dup_and_corrupt)
{
	struct tl_fault_cfg c = { .dup = 0.05, .corrupt = 0.05 };
	struct tl_faults *f = tl_faults_new(&c, 9, 64);

	run(f, &sink, 4000, 10);
	const struct tl_fault_stats *st = tl_faults_stats(f);
	ck_assert_uint_eq(sink.n, 4000 + st->duplicated);
	ck_assert_uint_gt(st->duplicated, 100);
	ck_assert_uint_gt(st->corrupted, 100);
	/* A flip in the id bytes is not seen by the payload check. */
	ck_assert_uint_le((uint64_t)sink.corrupted, st->corrupted);
	ck_assert_uint_gt((uint64_t)sink.corrupted, st->corrupted / 2);
	tl_faults_free(f);
}
END_TEST

START_TEST(rate_limit_serialises)
{
	/* 64 bytes at 512 kbit/s: one packet per millisecond. */
	struct tl_fault_cfg c = { .rate_bps = 512000 };
	struct tl_faults *f = tl_faults_new(&c, 1, 100);

	run(f, &sink, 50, 0);
	ck_assert_uint_eq(sink.n, 50);
	for (uint32_t i = 0; i < 50; i++)
		ck_assert_uint_eq(sink.at[i], (tl_time)(i + 1) * 1000);
	tl_faults_free(f);
}
END_TEST

START_TEST(queue_is_bounded)
{
	struct tl_fault_cfg c = { .delay_us = 1000000 };
	struct tl_faults *f = tl_faults_new(&c, 1, 10);

	run(f, &sink, 100, 0);
	ck_assert_uint_eq(sink.n, 10);
	ck_assert_uint_eq(tl_faults_stats(f)->overflow, 90);
	tl_faults_free(f);
}
END_TEST

START_TEST(parsers)
{
	double p;
	uint32_t us;
	uint64_t bps;

	ck_assert_int_eq(tl_parse_probability("0.05", &p), 0);
	ck_assert(p == 0.05);
	ck_assert_int_eq(tl_parse_probability("10%", &p), 0);
	ck_assert(p == 0.1);
	ck_assert_int_eq(tl_parse_probability("1.5", &p), -1);
	ck_assert_int_eq(tl_parse_probability("x", &p), -1);
	ck_assert_int_eq(tl_parse_duration_us("25ms", &us), 0);
	ck_assert_uint_eq(us, 25000);
	ck_assert_int_eq(tl_parse_duration_us("1s", &us), 0);
	ck_assert_uint_eq(us, 1000000);
	ck_assert_int_eq(tl_parse_duration_us("25", &us), -1);
	ck_assert_int_eq(tl_parse_rate_bps("10mbit", &bps), 0);
	ck_assert_uint_eq(bps, 10000000);
	ck_assert_int_eq(tl_parse_rate_bps("fast", &bps), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("faults");
	TCase *t = tcase_create("injector");

	tcase_add_test(t, no_faults_is_transparent);
	tcase_add_test(t, loss_rate_and_determinism);
	tcase_add_test(t, delay_keeps_order);
	tcase_add_test(t, reorder_holds_packets_back);
	tcase_add_test(t, dup_and_corrupt);
	tcase_add_test(t, rate_limit_serialises);
	tcase_add_test(t, queue_is_bounded);
	tcase_add_test(t, parsers);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
