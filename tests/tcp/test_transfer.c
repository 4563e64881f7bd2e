/* Data transfer in virtual time: the acceptability test, delayed and
 * immediate ACKs, reassembly, windows, segmentation, and sequence numbers
 * across the 2^32 wrap on both sides. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"
#include "tcph.h"

static uint32_t rto_ms_of(struct tl_tcp *c)
{
	return c->rtt.rto_us / 1000;
}
#include "../check_run.h"

#define PISS 5000u

static uint8_t blob[256 * 1024];

static void fill_blob(void)
{
	for (size_t i = 0; i < sizeof blob; i++)
		blob[i] = (uint8_t)(i * 7 + i / 251);
}

/* The peer sends bytes [off, off+len) of blob. */
static void send_data(struct tcph *h, uint32_t off, uint32_t len)
{
	tcph_in(h, .seq = 1 + off, .ack = 1, .data = blob + off, .len = len);
}

START_TEST(acceptability_four_cases)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	/* Case 2 (len 0, window > 0): inside the window, no answer needed. */
	tcph_in(&h, .seq = 1);
	tcph_expect_nothing(&h, "case 2 in window");
	/* Case 2, outside the window: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
	tcph_in(&h, .seq = 1 + 10000000);
	tcph_out(&h, "case 2 outside", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	/* Case 4 (len > 0, window > 0): entirely old data is answered, not delivered. */
	tcph_in(&h, .seq = -100, .data = blob, .len = 50);
	tcph_out(&h, "case 4 old data", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	ck_assert_uint_eq(h.rx_len, 0);
	/* Case 4, straddling the left edge: the new part is kept. */
	tcph_in(&h, .seq = 1 - 10, .data = blob, .len = 30);
	ck_assert_uint_eq(h.rx_len, 20);
	ck_assert_mem_eq(h.rx, blob + 10, 20);
	tcph_free(&h);
}
END_TEST

static void tiny_rcvbuf(struct tl_config *c)
{
	c->tcp_rcvbuf = 2048;
}

START_TEST(acceptability_zero_window)
{
	struct tcph h;

	tcph_init(&h, tiny_rcvbuf);
	h.app_reads = false;
	tcph_handshake(&h, 7, PISS);
	send_data(&h, 0, 1024);
	send_data(&h, 1024, 1024);
	struct seg *g = tcph_out(&h, "fill", .flags = TCP_ACK, .seq = 1, .ack = 1 + 2048, .len = 0);
	ck_assert_uint_eq(g->h.wnd, 0);
	/* Case 3 (len > 0, window 0): not acceptable; the ACK says window 0. */
	send_data(&h, 2048, 100);
	g = tcph_out(&h, "case 3", .flags = TCP_ACK, .seq = 1, .ack = 1 + 2048, .len = 0);
	ck_assert_uint_eq(g->h.wnd, 0);
	/* Case 1 (len 0, window 0): acceptable only at RCV.NXT. */
	tcph_in(&h, .seq = 1 + 2048);
	tcph_expect_nothing(&h, "case 1 at RCV.NXT");
	tcph_in(&h, .seq = 1 + 2049);
	tcph_out(&h, "case 1 elsewhere", .flags = TCP_ACK, .seq = 1, .ack = 1 + 2048, .len = 0);
	/* Reading opens the window and says so at once. */
	uint8_t buf[4096];
	ck_assert_int_eq(tl_tcp_recv(h.conn, buf, sizeof buf), 2048);
	g = tcph_out(&h, "window update", .flags = TCP_ACK, .seq = 1, .ack = 1 + 2048, .len = 0);
	ck_assert_uint_gt(g->h.wnd, 0);
	/* Nothing comes: the update may have been lost; it is said again. */
	uint32_t rto = rto_ms_of(h.conn);
	tcph_advance(&h, rto - 1);
	tcph_expect_nothing(&h, "not yet");
	tcph_advance(&h, 1);
	tcph_out(&h, "window update again", .flags = TCP_ACK, .seq = 1, .ack = 1 + 2048, .len = 0);
	/* Once data flows, no more repeats. */
	h.app_reads = true;
	send_data(&h, 2048, 100);
	tcph_advance(&h, h.cfg.tcp_delack_ms);
	tcph_drain(&h); /* the delayed ACK of that data */
	tcph_advance(&h, 10 * rto);
	tcph_expect_nothing(&h, "data flows again: no repeats");
	tcph_free(&h);
}
END_TEST

START_TEST(delayed_ack)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 9, PISS);
	uint32_t delay = h.cfg.tcp_delack_ms;
	/* The SYN-ACK's window was unscaled: the first read opens the real
	 * window, and that update goes out at once. */
	send_data(&h, 0, 1000);
	tcph_out(&h, "0 window update", .flags = TCP_ACK, .seq = 1, .ack = 1 + 1000, .len = 0);
	/* One segment: the ACK waits (RFC 1122 4.2.3.2). */
	send_data(&h, 1000, 1000);
	tcph_expect_nothing(&h, "1 ACK delayed");
	tcph_advance(&h, delay - 1);
	tcph_expect_nothing(&h, "2 still delayed");
	tcph_advance(&h, 1);
	tcph_out(&h, "3 delayed ACK due", .flags = TCP_ACK, .seq = 1, .ack = 1 + 2000, .len = 0);
	/* Two segments: the second is acknowledged at once. */
	send_data(&h, 2000, 1000);
	tcph_expect_nothing(&h, "4 first of two");
	send_data(&h, 3000, 1000);
	tcph_out(&h, "5 every second segment", .flags = TCP_ACK, .seq = 1, .ack = 1 + 4000,
		 .len = 0);
	ck_assert_uint_eq(h.rx_len, 4000);
	tcph_free(&h);
}
END_TEST

START_TEST(out_of_order_and_gap_fill)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 9, PISS);
	/* RFC 5681 4.2: out-of-order data gets an immediate duplicate ACK. */
	send_data(&h, 1000, 1000);
	tcph_out(&h, "1 dup ACK", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	send_data(&h, 3000, 500);
	tcph_out(&h, "2 dup ACK", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	ck_assert_uint_eq(h.rx_len, 0);
	/* Filling the first gap: an immediate cumulative ACK up to the next hole. */
	send_data(&h, 0, 1000);
	tcph_out(&h, "3 gap filled", .flags = TCP_ACK, .seq = 1, .ack = 1 + 2000, .len = 0);
	ck_assert_uint_eq(h.rx_len, 2000);
	send_data(&h, 2000, 1000);
	tcph_out(&h, "4 second gap filled", .flags = TCP_ACK, .seq = 1, .ack = 1 + 3500, .len = 0);
	ck_assert_uint_eq(h.rx_len, 3500);
	ck_assert_mem_eq(h.rx, blob, 3500);
	tcph_free(&h);
}
END_TEST

/* What --trace prints, collected: the lines docs/trace.md describes. */
static char trace_buf[16384];
static bool trace_json;

static void collect_trace(void *ctx, tl_time now, const char *line)
{
	size_t have = strlen(trace_buf);

	(void)ctx;
	(void)now;
	if (have + strlen(line) + 2 < sizeof trace_buf) {
		strcat(trace_buf, line);
		strcat(trace_buf, "\n");
	}
}

static void tracing(struct tl_config *c)
{
	c->trace = collect_trace;
	c->trace_json = trace_json;
}

static void assert_traced(const char *want)
{
	ck_assert_msg(strstr(trace_buf, want), "the trace lacks '%s':\n%s", want, trace_buf);
}

/* The trace as docs/trace.md shows it: the passive open from LISTEN (RFC
 * 9293 3.10.7.2), the window field and, scaled (RFC 7323 2.3), its bytes,
 * SACK blocks as ranges relative to the ACK, an RTT sample's estimator. */
START_TEST(trace_shows_scaled_windows_sack_ranges_and_rtt)
{
	struct tcph h;

	for (int json = 0; json < 2; json++) {
		trace_buf[0] = 0;
		trace_json = json;
		tcph_init(&h, tracing);
		tcph_accept(&h, 9, PISS, .mss = 1460, .wscale = 7, .sack_perm = true);
		send_data(&h, 1000, 1000);
		tcph_out(&h, "dup ACK", .flags = TCP_ACK, .ack = 1, .sack_n = 1,
			 .sack = { { 1001, 2001 } });
		send_data(&h, 3000, 500);
		tcph_out(&h, "dup ACK", .flags = TCP_ACK, .ack = 1, .sack_n = 2,
			 .sack = { { 3001, 3501 }, { 1001, 2001 } });
		if (json) {
			assert_traced("\"ev\":\"state\",\"peer\":\"10.10.0.1\"");
			assert_traced("\"from\":\"LISTEN\",\"to\":\"SYN_RECEIVED\"");
			assert_traced("\"win\":512,\"win_scaled\":65536,");
			assert_traced("\"opts\":\"sack 3001-3501 1001-2001\"");
			assert_traced("\"ev\":\"rtt\",\"peer\":\"10.10.0.1\"");
			assert_traced(",\"rto_us\":200000,\"n\":1}");
		} else {
			assert_traced(" LISTEN -> SYN_RECEIVED\n");
			assert_traced(" Flags [S], seq 5000, win 65535, options [mss 1460,sackOK,wscale 7]");
			assert_traced(" Flags [.], seq 1, ack 1, win 512 (65536), length 0\n");
			assert_traced(", options [sack 1001-2001], length 0\n");
			assert_traced(", options [sack 3001-3501 1001-2001], length 0\n");
			assert_traced(" RTT sample 0 ms: srtt 0.001 ms, rttvar 0 ms, rto 200 ms\n");
		}
		tcph_free(&h);
	}
}
END_TEST

/* Segments [i*500, i*500+700): each overlaps the next by 200 bytes. */
static void permuted_delivery(uint32_t seed0, uint32_t piss)
{
	struct tcph h;
	uint32_t order[16], seed = seed0;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 9, piss);
	for (uint32_t i = 0; i < 16; i++)
		order[i] = i;
	for (uint32_t i = 15; i > 0; i--) {
		seed = seed * 1103515245u + 12345u;
		uint32_t j = (seed >> 8) % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t k = 0; k < 16; k++) {
		uint32_t i = order[k];
		send_data(&h, i * 500, i == 15 ? 500 : 700);
		if (k % 3 == 0)
			send_data(&h, i * 500, 100); /* an exact duplicate of a part */
	}
	ck_assert_msg(h.rx_len == 8000, "seed %u: delivered %zu of 8000", seed0, h.rx_len);
	ck_assert_msg(!memcmp(h.rx, blob, 8000), "seed %u: bytes differ", seed0);
	tcph_drain(&h);
	tcph_free(&h);
}

START_TEST(reassembly_permutations)
{
	for (uint32_t seed = 1; seed <= 20; seed++)
		permuted_delivery(seed, PISS);
}
END_TEST

START_TEST(peer_sequence_wraps)
{
	/* The peer's ISS just below 2^32: its data crosses the wrap. */
	for (uint32_t seed = 1; seed <= 5; seed++)
		permuted_delivery(seed, 0xffffff00u);
}
END_TEST

static void small_ooo(struct tl_config *c)
{
	c->tcp_ooo_max = 2;
}

START_TEST(ooo_queue_bound)
{
	struct tcph h;

	tcph_init(&h, small_ooo);
	tcph_handshake(&h, 9, PISS);
	send_data(&h, 1000, 100);
	send_data(&h, 2000, 100);
	send_data(&h, 3000, 100); /* a third disjoint range: over the bound */
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_ooo_full, 1);
	send_data(&h, 0, 1000);
	send_data(&h, 1100, 900);
	send_data(&h, 2100, 2000);
	ck_assert_uint_eq(h.rx_len, 4100);
	ck_assert_mem_eq(h.rx, blob, 4100);
	tcph_free(&h);
}
END_TEST

static void at_time(struct tcph *h, tl_time t)
{
	h->now = t;
	tl_stack_poll(h->s, t);
}

START_TEST(our_sequence_wraps)
{
	struct tcph h;

	/* RFC 6528: ISS = hash(4-tuple) + now/4us. Learn the hash at one time,
	 * then open the same 4-tuple when the ISS lands just below 2^32. */
	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	uint32_t hash = h.peer.iss - (uint32_t)(h.now / 4);
	tcph_free(&h);
	tcph_init(&h, NULL);
	uint32_t want = 0xfffff000u;
	/* now/4 must be congruent to want - hash modulo 2^32. */
	at_time(&h, (tl_time)(uint32_t)(want - hash) * 4 + (1ull << 34));
	tcph_handshake(&h, 7, PISS);
	ck_assert_msg(h.peer.iss == want, "ISS %#x, wanted %#x", h.peer.iss, want);
	/* Send 8000 bytes: our sequence numbers cross zero on the way. */
	ck_assert_int_eq(tl_tcp_send(h.conn, blob, 8000), 8000);
	for (uint32_t off = 0; off < 7300; off += 1460) {
		struct seg *g = tcph_out(&h, "data across the wrap", .flags = TCP_ACK,
					 .seq = 1 + off, .ack = 1, .len = 1460);
		ck_assert_mem_eq(g->data, blob + off, 1460);
	}
	/* Nagle (RFC 896) holds the 700-byte tail until the data in flight is acked. */
	tcph_expect_nothing(&h, "Nagle holds the tail");
	tcph_in(&h, .seq = 1);
	struct seg *g = tcph_out(&h, "the tail", .flags = TCP_ACK, .seq = 1 + 7300, .ack = 1,
				 .len = 700);
	ck_assert_mem_eq(g->data, blob + 7300, 700);
	tcph_in(&h, .seq = 1);
	ck_assert_uint_eq(tl_tcp_send_space(h.conn), h.cfg.tcp_sndbuf);
	ck_assert_msg(seq_gt(h.peer.iss + 8001, 0) && h.peer.iss + 8001 < h.peer.iss, "did not wrap");
	tcph_free(&h);
}
END_TEST

START_TEST(segments_fit_mss_window_and_cwnd)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_accept(&h, 9, PISS, .mss = 1000);
	ck_assert_int_eq(tl_tcp_send(h.conn, blob, 30000), 30000);
	/* Initial window: 10 segments of the peer's MSS (RFC 6928). */
	for (uint32_t i = 0; i < 10; i++)
		tcph_out(&h, "IW segment", .flags = TCP_ACK, .seq = 1 + i * 1000, .ack = 1,
			 .len = 1000);
	tcph_expect_nothing(&h, "cwnd full");
	/* The peer's window, not cwnd, limits next: ack 2 segments, window 2500. */
	tcph_in(&h, .seq = 1, .ack = 1 + 2000, .wnd = 2500 + 8000);
	tcph_out(&h, "in window", .flags = TCP_ACK, .seq = 1 + 10000, .ack = 1, .len = 1000);
	tcph_out(&h, "in window", .flags = TCP_ACK, .seq = 1 + 11000, .ack = 1, .len = 1000);
	tcph_free(&h);
}
END_TEST

/* RFC 9293 3.10.7.4 fifth: the peer's window comes from a segment newer
 * than the one it last came from (SND.WL1 < SEG.SEQ, or SND.WL1 = SEG.SEQ
 * and SND.WL2 =< SEG.ACK), scaled by the shift the peer's SYN offered; an
 * old ACK overtaken on the way does not set it back. */
START_TEST(window_from_newer_segments_only)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 9, PISS);
	struct tl_tcp *c = tcp_lookup(h.s, PEER_ADDR, PEER_PORT, h.port);
	ck_assert_int_eq(tl_tcp_send(h.conn, blob, 3000), 3000);
	tcph_drain(&h);
	tcph_in(&h, .seq = 1, .ack = 1 + 1460, .wnd = 100);
	ck_assert_uint_eq(c->snd_wnd, 100u << 7);
	tcph_in(&h, .seq = 1, .ack = 1, .wnd = 1); /* older: same SEG.SEQ, lower SEG.ACK */
	ck_assert_uint_eq(c->snd_wnd, 100u << 7);
	tcph_in(&h, .seq = 1, .ack = 1 + 1460, .wnd = 2, .data = blob, .len = 10);
	ck_assert_uint_eq(c->snd_wnd, 2u << 7); /* same SEG.SEQ and SEG.ACK: taken */
	tcph_in(&h, .seq = 11, .ack = 1, .wnd = 60); /* newer SEG.SEQ, older SEG.ACK */
	ck_assert_uint_eq(c->snd_wnd, 60u << 7);
	tcph_free(&h);
}
END_TEST

START_TEST(default_mss_536)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_accept(&h, 9, PISS); /* no MSS option */
	tl_tcp_send(h.conn, blob, 2000);
	tcph_out(&h, "536", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 536);
	tcph_free(&h);
}
END_TEST

START_TEST(half_close_then_receive)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 9, PISS);
	tl_tcp_send(h.conn, "bye", 3);
	tcph_out(&h, "data", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 3);
	ck_assert_int_eq(tl_tcp_shutdown(h.conn), 0);
	tcph_out(&h, "FIN after the data", .flags = TCP_FIN | TCP_ACK, .seq = 4, .ack = 1,
		 .len = 0);
	tcph_in(&h, .seq = 1);
	ck_assert_int_eq(tcph_state(&h), TL_FIN_WAIT_2);
	/* The peer may still send: it is delivered. */
	send_data(&h, 0, 500);
	ck_assert_uint_eq(h.rx_len, 500);
	ck_assert_int_eq(tl_tcp_send(h.conn, "x", 1), -EPIPE);
	tcph_free(&h);
}
END_TEST

START_TEST(data_after_close_resets)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 9, PISS);
	tl_tcp_close(h.conn);
	tcph_out(&h, "FIN", .flags = TCP_FIN | TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	/* RFC 9293 3.10.4 / RFC 2525 2.17: nobody will read it: RST. */
	send_data(&h, 0, 100);
	tcph_out(&h, "RST", .flags = TCP_RST | TCP_ACK, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSED);
	tcph_free(&h);
}
END_TEST

/* The right edge an ACK advertises: SEG.ACK + (SEG.WND << scale), RFC 7323 2.3. */
static uint32_t right_edge(const struct seg *g, uint8_t scale)
{
	return g->h.ack + ((uint32_t)g->h.wnd << scale);
}

/* Pops what the stack sent; fails if an ACK's right edge is left of *edge. */
static int check_edges(struct tcph *h, const char *step, uint8_t scale, uint32_t *edge)
{
	static struct seg g;
	int acks = 0;

	while (tcph_pop(h, &g)) {
		if (!(g.h.flags & TCP_ACK))
			continue;
		uint32_t e = right_edge(&g, scale);
		/* RFC 7323 appendix F: back by less than a unit of the scale, where
		 * rounding up would offer more than the buffer holds. */
		ck_assert_msg(!seq_lt(e, *edge) || *edge - e < (1u << scale),
			      "step %s: the right edge moved back %u bytes", step, *edge - e);
		*edge = e;
		acks++;
	}
	return acks;
}

START_TEST(window_edge_kept_on_fin)
{
	struct tcph h;

	tcph_init(&h, NULL);
	h.app_reads = false;
	struct seg *g = tcph_accept(&h, 9, PISS, .mss = 1460, .wscale = 7);
	uint8_t scale = g->h.opts.wscale;
	uint32_t edge = g->h.ack + g->h.wnd; /* RFC 7323 2.2: the SYN's window is not scaled */
	ck_assert_uint_eq(scale, 3);
	/* Odd amounts: what is left of the offer is no multiple of the scale unit. */
	send_data(&h, 0, 5);
	tcph_advance(&h, h.cfg.tcp_delack_ms);
	ck_assert_int_eq(check_edges(&h, "1 5 bytes", scale, &edge), 1);
	send_data(&h, 5, 3);
	tcph_advance(&h, h.cfg.tcp_delack_ms);
	ck_assert_int_eq(check_edges(&h, "2 3 bytes", scale, &edge), 1);
	/* RFC 9293 3.8.6 SHLD-14: the ACK of the FIN does not shrink the window either. */
	tcph_in(&h, .flags = TCP_FIN | TCP_ACK, .seq = 9, .ack = 1);
	ck_assert_int_eq(check_edges(&h, "3 the ACK of the FIN", scale, &edge), 1);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSE_WAIT);
	tcph_free(&h);
}
END_TEST

/* RFC 9293 3.10.7.4: only what lies inside the window is kept; a segment
 * that starts inside and runs past the right edge is cut there, and the
 * ACK says what was taken. */
START_TEST(trim_to_the_window)
{
	struct tcph h;

	tcph_init(&h, tiny_rcvbuf);
	h.app_reads = false;
	tcph_handshake(&h, 7, PISS);
	send_data(&h, 0, 1000);
	/* 3000 bytes into the 1048 left: the first 1048 are kept. */
	send_data(&h, 1000, 3000);
	struct seg *g = tcph_out(&h, "2 part kept", .flags = TCP_ACK, .ack = 1 + 2048, .len = 0);
	ck_assert_uint_eq(g->h.wnd, 0);
	ck_assert_uint_eq(tl_tcp_recv_avail(h.conn), 2048);
	/* Entirely beyond the window: nothing kept, the same ACK again. */
	send_data(&h, 5000, 100);
	tcph_out(&h, "3 beyond the window", .flags = TCP_ACK, .ack = 1 + 2048, .len = 0, .wnd = 0);
	uint8_t buf[2048];
	ck_assert_int_eq(tl_tcp_recv(h.conn, buf, sizeof buf), 2048);
	ck_assert_mem_eq(buf, blob, 2048);
	tcph_drain(&h);
	/* Straddling the left edge: what is new is kept. */
	send_data(&h, 2000, 100);
	ck_assert_uint_eq(tl_tcp_recv_avail(h.conn), 52);
	ck_assert_int_eq(tl_tcp_recv(h.conn, buf, sizeof buf), 52);
	ck_assert_mem_eq(buf, blob + 2048, 52);
	tcph_free(&h);
}
END_TEST

/* The window field: unscaled in the SYN-ACK (RFC 7323 2.2), which offers
 * the shift that covers the buffer; then the free buffer >> that shift. */
START_TEST(window_field_scaled)
{
	struct tcph h;

	tcph_init(&h, NULL);
	struct seg *g = tcph_accept(&h, 9, PISS, .mss = 1460, .wscale = 7);
	ck_assert_uint_eq(g->h.wnd, 65535);
	ck_assert_uint_eq(g->h.opts.wscale, 3); /* 256 KiB: 65535 << 3 covers it */
	send_data(&h, 0, 1000);
	/* The application read it all: 256 KiB free, 32768 << 3. */
	tcph_out(&h, "1 the real window", .flags = TCP_ACK, .ack = 1 + 1000, .len = 0,
		 .wnd = (256 * 1024) >> 3);
	tcph_free(&h);
}
END_TEST

/* Receiver SWS avoidance (RFC 9293 3.8.6.2.2): reading a little does not
 * move the right edge; reading an MSS or more does, by all of it. */
START_TEST(window_moves_in_worthwhile_steps)
{
	struct tcph h;
	uint8_t buf[4096];

	tcph_init(&h, NULL);
	h.app_reads = false;
	tcph_handshake(&h, 9, PISS);
	for (uint32_t i = 0; i < 20; i++)
		send_data(&h, i * 1000, 1000);
	tcph_drain(&h);
	send_data(&h, 30000, 10); /* out of order: an ACK at once */
	struct seg *g = tcph_out(&h, "1 the edge", .flags = TCP_ACK, .ack = 1 + 20000, .len = 0);
	uint32_t edge = g->h.ack + ((uint32_t)g->h.wnd << 3);
	ck_assert_int_eq(tl_tcp_recv(h.conn, buf, 500), 500);
	tcph_expect_nothing(&h, "2 no update for 500 bytes");
	send_data(&h, 30000, 10);
	g = tcph_out(&h, "3 the edge stays", .flags = TCP_ACK, .ack = 1 + 20000, .len = 0);
	ck_assert_uint_eq(g->h.ack + ((uint32_t)g->h.wnd << 3), edge);
	ck_assert_int_eq(tl_tcp_recv(h.conn, buf, 2000), 2000);
	send_data(&h, 30000, 10);
	g = tcph_out(&h, "4 the edge moves", .flags = TCP_ACK, .ack = 1 + 20000, .len = 0);
	uint32_t moved = g->h.ack + ((uint32_t)g->h.wnd << 3) - edge;
	ck_assert_msg(moved > 2500 - 8 && moved <= 2500, "the edge moved %u bytes, not 2500", moved);
	tcph_free(&h);
}
END_TEST

static uint32_t lcg(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 8;
}

static void rcvbuf_1m(struct tl_config *c) { c->tcp_rcvbuf = 1u << 20; }

/* A connection to discard whose application reads only when told; its
 * window scale in *scale, and the right edge of the SYN-ACK returned. */
static uint32_t open_reader(struct tcph *h, void (*tweak)(struct tl_config *), uint8_t *scale)
{
	tcph_init(h, tweak);
	h->app_reads = false;
	struct seg *g = tcph_accept(h, 9, PISS, .mss = 1460, .wscale = 7);
	*scale = g->h.opts.wscale;
	ck_assert_uint_gt(*scale, 0);
	return g->h.ack + g->h.wnd; /* RFC 7323 2.2: the SYN's window is not scaled */
}

/* A transfer of odd-sized segments, reads and pauses, the peer filling the
 * window to its edge: no ACK's right edge is left of the last by a unit of
 * the scale, and every byte sent inside the window is taken (the edge never
 * promises more than the buffer holds). */
static void edge_never_left(void (*tweak)(struct tl_config *), uint32_t seed)
{
	static uint8_t buf[65536];
	struct tcph h;
	uint32_t x = seed, sent = 0;
	int acks = 0;

	uint8_t scale;
	uint32_t edge = open_reader(&h, tweak, &scale);
	for (int i = 0; i < 4000; i++) {
		uint32_t room = edge - (h.peer.piss + 1 + sent), len = 1 + lcg(&x) % 1460;
		if (len > room)
			len = room;
		if (len) {
			tcph_in(&h, .seq = 1 + sent, .ack = 1, .data = blob + sent % 65536, .len = len);
			sent += len;
		}
		if (lcg(&x) % 4 == 0)
			(void)tl_tcp_recv(h.conn, buf, 1 + lcg(&x) % sizeof buf);
		if (lcg(&x) % 3 == 0)
			tcph_advance(&h, lcg(&x) % 50);
		acks += check_edges(&h, "transfer", scale, &edge);
	}
	ck_assert_uint_eq(tcph_rcv_rel(&h, h.conn->rcv_nxt), 1 + sent); /* every byte taken */
	/* RFC 9293 3.8.6 SHLD-14, RFC 7323 2.4: nor on the peer's FIN. */
	tcph_in(&h, .flags = TCP_FIN | TCP_ACK, .seq = 1 + sent, .ack = 1);
	acks += check_edges(&h, "FIN", scale, &edge);
	ck_assert_msg(sent > 1000000 && acks > 500, "moved %u bytes, %d ACKs", sent, acks);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_ooo_full, 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_unacceptable, 0);
	tcph_free(&h);
}

/* RFC 7323 appendix F: an application that does not read, a peer that fills
 * every window to its edge in odd-sized segments. Each ACK that keeps the
 * edge rounds the field up; the edge must still never pass the buffer, so
 * that everything sent inside it is taken (before, it crept past by up to
 * 2^scale - 1 bytes an ACK, and the last segments were dropped). */
START_TEST(window_never_past_the_buffer)
{
	struct tcph h;
	uint32_t sent = 0;

	uint8_t scale;
	uint32_t edge = open_reader(&h, rcvbuf_1m, &scale);
	for (int i = 0; i < 4000; i++) {
		uint32_t room = edge - (h.peer.piss + 1 + sent), len = room < 997 ? room : 997;
		if (len == 0) {
			tcph_advance(&h, 50); /* the delayed ACK, with what is left */
			check_edges(&h, "waiting", scale, &edge);
			if (edge == h.peer.piss + 1 + sent)
				break;
			continue;
		}
		tcph_in(&h, .seq = 1 + sent, .ack = 1, .data = blob + sent % 65536, .len = len);
		sent += len;
		check_edges(&h, "filling", scale, &edge);
	}
	ck_assert_uint_eq(edge, h.peer.piss + 1 + sent); /* the window closed */
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_ooo_full, 0);
	ck_assert_uint_eq(h.conn->rcvbuf.len, sent);
	ck_assert_uint_le(sent, 1u << 20);
	ck_assert_uint_ge(sent, (1u << 20) - (1u << scale));
	tcph_free(&h);
}
END_TEST

START_TEST(window_edge_never_moves_left)
{
	edge_never_left(NULL, 1);	/* 256 KiB: scale 3 */
	edge_never_left(rcvbuf_1m, 2);	/* 1 MiB: scale 5 */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_transfer");
	TCase *rcv = tcase_create("receiver");
	TCase *snd = tcase_create("sender");
	TCase *fin = tcase_create("closing");
	TCase *tr = tcase_create("trace"); /* in no checkpoint */

	fill_blob();
	/* tools/checkpoint test 3, 4 and 7 run these. */
	tcase_set_tags(rcv, "checkpoint3");
	tcase_set_tags(snd, "checkpoint4");
	tcase_set_tags(fin, "checkpoint7");
	tcase_add_test(rcv, acceptability_four_cases);
	tcase_add_test(rcv, acceptability_zero_window);
	tcase_add_test(rcv, delayed_ack);
	tcase_add_test(rcv, out_of_order_and_gap_fill);
	tcase_add_test(rcv, reassembly_permutations);
	tcase_add_test(rcv, peer_sequence_wraps);
	tcase_add_test(rcv, ooo_queue_bound);
	tcase_add_test(rcv, trim_to_the_window);
	tcase_add_test(rcv, window_field_scaled);
	tcase_add_test(rcv, window_moves_in_worthwhile_steps);
	tcase_add_test(rcv, window_edge_never_moves_left);
	tcase_add_test(rcv, window_never_past_the_buffer);
	tcase_add_test(snd, our_sequence_wraps);
	tcase_add_test(snd, segments_fit_mss_window_and_cwnd);
	tcase_add_test(snd, default_mss_536);
	tcase_add_test(snd, window_from_newer_segments_only);
	tcase_add_test(fin, half_close_then_receive);
	tcase_add_test(fin, data_after_close_resets);
	tcase_add_test(fin, window_edge_kept_on_fin);
	suite_add_tcase(s, rcv);
	suite_add_tcase(s, snd);
	suite_add_tcase(s, fin);
	tcase_add_test(tr, trace_shows_scaled_windows_sack_ranges_and_rtt);
	suite_add_tcase(s, tr);
	return tl_check_run(s);
}
