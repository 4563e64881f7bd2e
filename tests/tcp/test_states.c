/* Every transition of the RFC 9293 state diagram (3.3.2, figure 5), in
 * virtual time, with the test playing the peer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcph.h"
#include "../check_run.h"

#define PISS 1000u

START_TEST(passive_open)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_listen(&h, 7);
	tcph_in(&h, .flags = TCP_SYN, .mss = 1200);
	/* LISTEN -> SYN_RECEIVED: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
	/* It carries MSS 1460, and no wscale when the SYN had none. */
	tcph_out(&h, "1 SYN-ACK", .flags = TCP_SYN | TCP_ACK, .ack = 1, .len = 0, .mss = 1460,
		 .wscale = TCPH_NONE);
	ck_assert_int_eq(tcph_state(&h), TL_SYN_RECEIVED);
	ck_assert_int_eq(h.accepted, 0);
	/* SYN_RECEIVED -> ESTABLISHED on the ACK of our SYN. */
	tcph_in(&h, .seq = 1);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	ck_assert_int_eq(h.accepted, 1);
	tcph_expect_nothing(&h, "2 no answer to the ACK");
	tcph_free(&h);
}
END_TEST

START_TEST(active_open)
{
	struct tcph h;

	tcph_init(&h, NULL);
	struct seg *syn = tcph_connect(&h);
	STEP_ASSERT(syn->h.opts.has_mss && syn->h.opts.has_wscale, "1", "SYN offers MSS and wscale");
	/* SYN_SENT -> ESTABLISHED on SYN,ACK: answer <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
	tcph_in(&h, .flags = TCP_SYN | TCP_ACK, .seq = 0, .mss = 1460, .wscale = 2);
	tcph_out(&h, "2 ACK", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	ck_assert_int_eq(h.connected, 1);
	tcph_free(&h);
}
END_TEST

START_TEST(simultaneous_open)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_connect(&h);
	/* RFC 9293 figure 8: both sent SYNs; theirs arrives in SYN_SENT. */
	tcph_in(&h, .flags = TCP_SYN, .seq = 0);
	tcph_out(&h, "2 SYN-ACK", .flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_SYN_RECEIVED);
	/* Their SYN-ACK acknowledges our SYN: SYN_RECEIVED -> ESTABLISHED. */
	tcph_in(&h, .flags = TCP_SYN | TCP_ACK, .seq = 0);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	ck_assert_int_eq(h.connected, 1);
	tcph_free(&h);
}
END_TEST

START_TEST(passive_close)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	/* ESTABLISHED -> CLOSE_WAIT on FIN: ACK it, tell the application. */
	tcph_in(&h, .flags = TCP_FIN | TCP_ACK, .seq = 1);
	tcph_out(&h, "1 ACK of FIN", .flags = TCP_ACK, .seq = 1, .ack = 2, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSE_WAIT);
	ck_assert(h.eof);
	/* CLOSE_WAIT -> LAST_ACK on close: our FIN. */
	tl_tcp_close(h.conn);
	tcph_out(&h, "2 FIN", .flags = TCP_FIN | TCP_ACK, .seq = 1, .ack = 2, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_LAST_ACK);
	/* LAST_ACK -> CLOSED on the ACK of our FIN. */
	tcph_in(&h, .seq = 2);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSED);
	tcph_expect_nothing(&h, "3 nothing after the last ACK");
	tcph_free(&h);
}
END_TEST

START_TEST(active_close_through_fin_wait_2)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	/* ESTABLISHED -> FIN_WAIT_1 on close. */
	tl_tcp_close(h.conn);
	tcph_out(&h, "1 FIN", .flags = TCP_FIN | TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_FIN_WAIT_1);
	/* FIN_WAIT_1 -> FIN_WAIT_2 on the ACK of our FIN. */
	tcph_in(&h, .seq = 1);
	ck_assert_int_eq(tcph_state(&h), TL_FIN_WAIT_2);
	tcph_expect_nothing(&h, "2 no answer to a pure ACK");
	/* FIN_WAIT_2 -> TIME_WAIT on their FIN. */
	tcph_in(&h, .flags = TCP_FIN | TCP_ACK, .seq = 1);
	tcph_out(&h, "3 ACK of FIN", .flags = TCP_ACK, .seq = 2, .ack = 2, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_TIME_WAIT);
	/* A retransmitted FIN in TIME_WAIT is acknowledged again. */
	tcph_advance(&h, 500);
	tcph_in(&h, .flags = TCP_FIN | TCP_ACK, .seq = 1);
	tcph_out(&h, "4 ACK of the FIN again", .flags = TCP_ACK, .seq = 2, .ack = 2, .len = 0);
	/* TIME_WAIT -> CLOSED after 2*MSL (MSL is 1 s here), restarted at step 4. */
	tcph_advance(&h, 1999);
	ck_assert_int_eq(tcph_state(&h), TL_TIME_WAIT);
	tcph_advance(&h, 1);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSED);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_time_wait_expired, 1);
	tcph_free(&h);
}
END_TEST

START_TEST(fin_wait_1_to_time_wait)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	tl_tcp_close(h.conn);
	tcph_out(&h, "1 FIN", .flags = TCP_FIN | TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	/* FIN_WAIT_1 -> TIME_WAIT when their FIN also acknowledges ours. */
	tcph_in(&h, .flags = TCP_FIN | TCP_ACK, .seq = 1);
	tcph_out(&h, "2 ACK", .flags = TCP_ACK, .seq = 2, .ack = 2, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_TIME_WAIT);
	tcph_free(&h);
}
END_TEST

START_TEST(simultaneous_close)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	tl_tcp_close(h.conn);
	tcph_out(&h, "1 FIN", .flags = TCP_FIN | TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	/* FIN_WAIT_1 -> CLOSING: their FIN crossed ours and does not ack it. */
	tcph_in(&h, .flags = TCP_FIN | TCP_ACK, .seq = 1, .ack = 1);
	tcph_out(&h, "2 ACK of their FIN", .flags = TCP_ACK, .seq = 2, .ack = 2, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSING);
	/* CLOSING -> TIME_WAIT when our FIN is acknowledged. */
	tcph_in(&h, .seq = 2);
	ck_assert_int_eq(tcph_state(&h), TL_TIME_WAIT);
	tcph_free(&h);
}
END_TEST

START_TEST(syn_received_rst_returns_to_listen)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_listen(&h, 7);
	tcph_in(&h, .flags = TCP_SYN, .seq = 0);
	tcph_out(&h, "1 SYN-ACK", .flags = TCP_SYN | TCP_ACK, .ack = 1, .len = 0);
	tcph_in(&h, .flags = TCP_RST, .seq = 1, .wnd = 0);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSED);
	ck_assert_int_eq(h.accepted, 0);
	ck_assert_int_eq(h.closed, 0);
	tcph_expect_nothing(&h, "2 RST is not answered");
	/* The listener is still there. */
	tcph_in(&h, .flags = TCP_SYN, .seq = 5000);
	tcph_out(&h, "3 a new SYN-ACK", .flags = TCP_SYN | TCP_ACK, .ack = 5001, .len = 0);
	tcph_free(&h);
}
END_TEST

START_TEST(syn_sent_rst_is_refused)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_connect(&h);
	/* An RST that does not acknowledge our SYN is ignored. */
	tcph_in(&h, .flags = TCP_RST | TCP_ACK, .abs = true, .seq = 0, .ack = tcph_snd_abs(&h, 7),
		.wnd = 0);
	ck_assert_int_eq(tcph_state(&h), TL_SYN_SENT);
	tcph_in(&h, .flags = TCP_RST | TCP_ACK, .abs = true, .seq = 0, .ack = tcph_snd_abs(&h, 1),
		.wnd = 0);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSED);
	ck_assert_int_eq(h.closed, 1);
	ck_assert_int_eq(h.closed_err, -ECONNREFUSED);
	tcph_free(&h);
}
END_TEST

START_TEST(syn_sent_bad_ack_gets_rst)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_connect(&h);
	/* RFC 9293 3.10.7.3: SEG.ACK =< ISS or > SND.NXT: <SEQ=SEG.ACK><CTL=RST>. */
	tcph_in(&h, .flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 100);
	tcph_out(&h, "1 RST", .flags = TCP_RST, .seq = 100, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_SYN_SENT);
	tcph_free(&h);
}
END_TEST

START_TEST(closed_port_syn_gets_rst_ack)
{
	struct tcph h;

	tcph_init(&h, NULL);
	h.port = 1;
	tcph_in(&h, .flags = TCP_SYN, .seq = 0);
	/* RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
	tcph_out(&h, "1 RST,ACK", .flags = TCP_RST | TCP_ACK, .seq = 0, .ack = 1, .len = 0);
	tcph_in(&h, .seq = 0, .ack = 4242, .data = "abc", .len = 3);
	/* An ACK: <SEQ=SEG.ACK><CTL=RST>. */
	tcph_out(&h, "2 RST", .flags = TCP_RST, .seq = 4242, .len = 0);
	tcph_in(&h, .flags = TCP_RST, .seq = 0, .wnd = 0);
	tcph_expect_nothing(&h, "3 an RST is never answered");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_no_conn, 3);
	tcph_free(&h);
}
END_TEST

START_TEST(listen_ack_gets_rst)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_listen(&h, 7);
	tcph_in(&h, .seq = 0, .ack = 777);
	tcph_out(&h, "1 RST", .flags = TCP_RST, .seq = 777, .len = 0);
	tcph_free(&h);
}
END_TEST

START_TEST(rst_exact_resets)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	tcph_in(&h, .flags = TCP_RST, .seq = 1, .wnd = 0);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSED);
	ck_assert_int_eq(h.closed, 1);
	ck_assert_int_eq(h.closed_err, -ECONNRESET);
	tcph_expect_nothing(&h, "1 no answer to a reset");
	tcph_free(&h);
}
END_TEST

START_TEST(rst_in_window_gets_challenge_ack)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	/* RFC 5961 3.2: in the window but not RCV.NXT: challenge ACK. */
	tcph_in(&h, .flags = TCP_RST, .seq = 100, .wnd = 0);
	tcph_out(&h, "1 challenge ACK", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_out_challenge_ack, 1);
	/* Outside the window: silently dropped. */
	tcph_in(&h, .flags = TCP_RST, .seq = 10000000, .wnd = 0);
	tcph_expect_nothing(&h, "2 out-of-window RST ignored");
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	tcph_free(&h);
}
END_TEST

START_TEST(syn_in_established_gets_challenge_ack)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	/* RFC 5961 4.2: a SYN in a synchronized state, in window or not. */
	tcph_in(&h, .flags = TCP_SYN, .seq = 1);
	tcph_out(&h, "1 challenge ACK", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	tcph_free(&h);
}
END_TEST

START_TEST(rst_ignored_in_time_wait)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	tcph_close_first(&h, NULL);
	/* RFC 1337: an RST must not cut TIME_WAIT short. */
	tcph_in(&h, .flags = TCP_RST, .seq = 2, .wnd = 0);
	ck_assert_int_eq(tcph_state(&h), TL_TIME_WAIT);
	tcph_free(&h);
}
END_TEST

START_TEST(abort_sends_rst)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	tl_tcp_abort(h.conn);
	tcph_out(&h, "1 RST", .flags = TCP_RST | TCP_ACK, .seq = 1, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSED);
	ck_assert_int_eq(h.closed, 0);
	tcph_free(&h);
}
END_TEST

START_TEST(syn_sent_timeout)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_connect(&h);
	/* The SYN is retransmitted with the RTO doubling: 1, 2, 4, ... s. */
	uint32_t rto = 1000;
	for (unsigned i = 0; i < h.cfg.tcp_max_retries; i++) {
		tcph_advance(&h, rto - 1);
		tcph_expect_nothing(&h, "before the RTO");
		tcph_advance(&h, 1);
		tcph_out(&h, "SYN again", .flags = TCP_SYN, .seq = 0, .len = 0);
		rto = rto * 2 > h.cfg.tcp_rto_max_ms ? h.cfg.tcp_rto_max_ms : rto * 2;
	}
	tcph_advance(&h, rto);
	ck_assert_int_eq(h.closed, 1);
	ck_assert_int_eq(h.closed_err, -ETIMEDOUT);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSED);
	tcph_free(&h);
}
END_TEST

START_TEST(freeing_the_stack_tells_the_app)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	tl_stack_free(h.s);
	h.s = NULL;
	/* Applications hear of it and can free what they keep per connection. */
	ck_assert_int_eq(h.closed, 1);
	ck_assert_int_eq(h.closed_err, -ECONNABORTED);
	tcph_free(&h);
}
END_TEST

static Suite *states_suite(void)
{
	Suite *s = suite_create("tcp_states");
	TCase *t = tcase_create("rfc9293_diagram");

	tcase_set_tags(t, "checkpoint7"); /* tools/checkpoint test 7 */

	tcase_add_test(t, passive_open);
	tcase_add_test(t, active_open);
	tcase_add_test(t, simultaneous_open);
	tcase_add_test(t, passive_close);
	tcase_add_test(t, active_close_through_fin_wait_2);
	tcase_add_test(t, fin_wait_1_to_time_wait);
	tcase_add_test(t, simultaneous_close);
	tcase_add_test(t, syn_received_rst_returns_to_listen);
	tcase_add_test(t, syn_sent_rst_is_refused);
	tcase_add_test(t, syn_sent_bad_ack_gets_rst);
	tcase_add_test(t, closed_port_syn_gets_rst_ack);
	tcase_add_test(t, listen_ack_gets_rst);
	tcase_add_test(t, rst_exact_resets);
	tcase_add_test(t, rst_in_window_gets_challenge_ack);
	tcase_add_test(t, syn_in_established_gets_challenge_ack);
	tcase_add_test(t, rst_ignored_in_time_wait);
	tcase_add_test(t, abort_sends_rst);
	tcase_add_test(t, syn_sent_timeout);
	tcase_add_test(t, freeing_the_stack_tells_the_app);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tl_check_run(states_suite());
}
