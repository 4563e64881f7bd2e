/* ACKs held to the end of the driver's batch (tcp_ack_batch_max), in virtual
 * time: nothing goes out while a batch is being read, one ACK covers it at
 * the next poll, the byte bound forces an ACK, and out-of-order data is
 * still acknowledged at once (RFC 5681 4.2). */
#include <string.h>

#include "tcph.h"
#include "../check_run.h"

#define PISS 9000u
#define MSS 1460u

static uint8_t blob[64 * MSS];

static void batch_8k(struct tl_config *c)
{
	c->tcp_ack_batch_max = 8 * MSS;
}

#define BASE (1 + 100) /* after open_window's 100 bytes */

/* The SYN-ACK's window was unscaled: the first read opens the real window,
 * and that update goes out at once. Get it out of the way. */
static void open_window(struct tcph *h)
{
	tcph_handshake(h, 9, PISS);
	tcph_in(h, .seq = 1, .data = blob, .len = 100);
	tcph_out(h, "the window update", .flags = TCP_ACK, .seq = 1, .ack = BASE, .len = 0);
}

static void send_seg(struct tcph *h, uint32_t i)
{
	tcph_in(h, .seq = BASE + i * MSS, .data = blob + i * MSS, .len = MSS);
}

START_TEST(one_ack_per_batch)
{
	struct tcph h;

	tcph_init(&h, batch_8k);
	open_window(&h);
	for (uint32_t i = 0; i < 5; i++)
		send_seg(&h, i);
	tcph_expect_nothing(&h, "while the batch is read");
	tcph_advance(&h, 0);
	tcph_out(&h, "the poll after the batch", .flags = TCP_ACK, .seq = 1, .ack = BASE + 5 * MSS,
		 .len = 0);
	tcph_expect_nothing(&h, "one ACK for the batch");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_batch_acks, 1);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_delayed_acks, 0);
	tcph_free(&h);
}
END_TEST

START_TEST(bound_forces_ack)
{
	struct tcph h;

	tcph_init(&h, batch_8k);
	open_window(&h);
	for (uint32_t i = 0; i < 7; i++)
		send_seg(&h, i);
	tcph_expect_nothing(&h, "below the bound");
	send_seg(&h, 7);
	tcph_out(&h, "at the bound", .flags = TCP_ACK, .seq = 1, .ack = BASE + 8 * MSS, .len = 0);
	tcph_advance(&h, 0);
	tcph_expect_nothing(&h, "nothing left for the poll");
	tcph_free(&h);
}
END_TEST

START_TEST(single_segment_keeps_delay)
{
	struct tcph h;

	tcph_init(&h, batch_8k);
	open_window(&h);
	send_seg(&h, 0);
	tcph_advance(&h, 0);
	tcph_expect_nothing(&h, "one segment waits for the delayed-ACK timer");
	tcph_advance(&h, 40);
	tcph_out(&h, "the delayed ACK", .flags = TCP_ACK, .seq = 1, .ack = BASE + MSS, .len = 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_delayed_acks, 1);
	tcph_free(&h);
}
END_TEST

START_TEST(out_of_order_acked_at_once)
{
	struct tcph h;

	tcph_init(&h, batch_8k);
	open_window(&h);
	send_seg(&h, 1);
	tcph_out(&h, "a gap: duplicate ACK at once", .flags = TCP_ACK, .seq = 1, .ack = BASE,
		 .len = 0);
	tcph_free(&h);
}
END_TEST

START_TEST(off_by_default)
{
	struct tcph h;

	tcph_init(&h, NULL);
	open_window(&h);
	send_seg(&h, 0);
	send_seg(&h, 1);
	tcph_out(&h, "every second segment (RFC 1122 4.2.3.2)", .flags = TCP_ACK, .seq = 1,
		 .ack = BASE + 2 * MSS, .len = 0);
	tcph_free(&h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tcp_ackbatch");
	TCase *tc = tcase_create("ack_batch");

	memset(blob, 'b', sizeof blob);
	tcase_add_test(tc, one_ack_per_batch);
	tcase_add_test(tc, bound_forces_ack);
	tcase_add_test(tc, single_segment_keeps_delay);
	tcase_add_test(tc, out_of_order_acked_at_once);
	tcase_add_test(tc, off_by_default);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_check_run(suite());
}
