/* The bounds a hostile peer meets, in virtual time: SYN cookies (RFC 4987
 * 3.6), the TIME_WAIT cap, the global out-of-order bound, buffers released
 * when empty, RST and challenge ACK rate limits (RFC 5961 7), malformed
 * options and SYN+FIN (RFC 9293 3.1 MUST-7). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcph.h"
#include "tcp/tcp.h"
#include "../check_run.h"

#define PISS 1000u
#define FLOOD_ADDR 0x0a0a0064u /* 10.10.0.100: the spoofed crowd */
#define BACKLOG 16	       /* what tcph_listen asks for */

static uint32_t conns(const struct tcph *h)
{
	return h->s->tcp->count;
}

static struct tl_tcp *conn_of(const struct tcph *h)
{
	return tcp_lookup(h->s, PEER_ADDR, PEER_PORT, h->port);
}

/* BACKLOG SYNs from other ports fill the listener's half-open slots. */
static void fill_backlog(struct tcph *h)
{
	static struct tcph_peer flood[BACKLOG];

	for (uint16_t i = 0; i < BACKLOG; i++) {
		struct tcph_peer *p = &flood[i];
		tcph_peer(h, p, FLOOD_ADDR, (uint16_t)(50000 + i), 7777u * i);
		tcph_in(h, .peer = p, .flags = TCP_SYN);
		tcph_out(h, "flood SYN-ACK with state", .peer = p, .flags = TCP_SYN | TCP_ACK,
			 .ack = 1,
			 .len = 0);
	}
	ck_assert_uint_eq(conns(h), BACKLOG);
	ck_assert_uint_eq(tcph_cnt(h)->tcp_syncookies_sent, 0);
}

/* One more SYN, from the test's own port, gets a cookie: h->peer.iss. The
 * SYN-ACK goes to the SYN's sender (tcph_out checks) and announces our MSS. */
static void cookie_for(struct tcph *h, struct tcph_seg syn)
{
	syn.flags = TCP_SYN;
	tcph_in_seg(h, syn);
	tcph_out(h, "cookie SYN-ACK", .flags = TCP_SYN | TCP_ACK, .ack = 1, .len = 0, .mss = 1460);
}

START_TEST(cookie_when_backlog_full)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_listen(&h, 7);
	fill_backlog(&h);
	cookie_for(&h, TCPH_SEG(.mss = 1460, .wscale = 7, .sack_perm = true));
	/* RFC 4987 3.6: no state is kept for the cookie's SYN. */
	STEP_ASSERT(conns(&h) == BACKLOG, "1", "a cookie SYN-ACK creates no connection");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_syncookies_sent, 1);
	STEP_ASSERT(h.last.h.opts.has_wscale && h.last.h.opts.has_sack_perm, "1",
		    "the options the SYN offered are answered");
	tcph_expect_nothing(&h, "1 nothing else");
	/* The SYN-ACK is not retransmitted: nothing remembers it. */
	tcph_advance(&h, 500);
	tcph_drain(&h);
	/* The returning ACK with data makes an ESTABLISHED connection, accepted. */
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 1, .wnd = 1024, .data = "ping", .len = 4);
	STEP_ASSERT(tcph_state(&h) == TL_ESTABLISHED, "2", "the cookie's ACK establishes");
	ck_assert_int_eq(h.accepted, 1);
	ck_assert_uint_eq(conns(&h), BACKLOG + 1);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_syncookies_ok, 1);
	ck_assert_uint_eq(h.rx_len, 4);
	ck_assert(memcmp(h.rx, "ping", 4) == 0);
	/* What the cookie encoded came back: MSS, window scale, SACK. */
	struct tl_tcp *c = conn_of(&h);
	ck_assert_uint_eq(c->mss, 1460);
	ck_assert(c->ws_ok && c->snd_wscale == 7 && c->sack_ok);
	ck_assert_uint_eq(c->snd_wnd, 1024u << 7);
	/* Reading opened the window past the SYN-ACK's unscaled one: an update. */
	tcph_out(&h, "3 window update", .flags = TCP_ACK, .seq = 1, .ack = 5, .len = 0);
	/* Data flows back: the application echoes it. */
	ck_assert_int_eq(tl_tcp_send(h.conn, h.rx, 4), 4);
	struct seg *g = tcph_out(&h, "3 echo", .flags = TCP_ACK | TCP_PSH, .seq = 1, .ack = 5,
				 .len = 4);
	ck_assert(memcmp(g->data, "ping", 4) == 0);
	tcph_in(&h, .seq = 5, .wnd = 1024, .data = "more", .len = 4);
	ck_assert_uint_eq(h.rx_len, 8);
	tcph_free(&h);
}
END_TEST

START_TEST(cookie_mss_rounded_down)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_listen(&h, 7);
	fill_backlog(&h);
	tcph_in(&h, .flags = TCP_SYN, .mss = 1000);
	/* No wscale or SACK-permitted the SYN did not offer. */
	tcph_out(&h, "1 cookie SYN-ACK", .flags = TCP_SYN | TCP_ACK, .ack = 1, .len = 0,
		 .wscale = TCPH_NONE, .sack_perm = TCPH_NONE);
	tcph_in(&h, .seq = 1);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	struct tl_tcp *c = conn_of(&h);
	/* RFC 4987 3.6: the MSS is one of a few table entries, at most the peer's. */
	ck_assert_uint_eq(c->mss, 536);
	ck_assert(!c->ws_ok && !c->sack_ok);
	tcph_expect_nothing(&h, "2 a bare ACK needs no answer");
	tcph_free(&h);
}
END_TEST

START_TEST(cookie_wrong_gets_rst)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_listen(&h, 7);
	fill_backlog(&h);
	cookie_for(&h, TCPH_SEG());
	/* RFC 9293 3.10.7.2: an ACK in LISTEN that is no cookie: <SEQ=SEG.ACK><CTL=RST>. */
	tcph_in(&h, .seq = 1, .ack = 2);
	tcph_out(&h, "1 RST", .flags = TCP_RST, .seq = 2, .len = 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_syncookies_failed, 1);
	/* The peer's ISN is in the cookie too: another SEQ fails. */
	tcph_in(&h, .seq = 2, .ack = 1);
	tcph_out(&h, "2 RST", .flags = TCP_RST, .seq = 1, .len = 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_syncookies_failed, 2);
	ck_assert_uint_eq(conns(&h), BACKLOG);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSED);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_syncookies_ok, 0);
	tcph_free(&h);
}
END_TEST

START_TEST(cookie_expires)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_listen(&h, 7);
	fill_backlog(&h);
	cookie_for(&h, TCPH_SEG());
	/* Two counter periods later the cookie is stale (the flood goes on). */
	tcph_advance(&h, 2 * TCP_COOKIE_PERIOD_MS);
	tcph_drain(&h);
	ck_assert_uint_eq(conns(&h), BACKLOG);
	struct tcph_peer late;
	tcph_peer(&h, &late, FLOOD_ADDR, 60000, 1);
	tcph_in(&h, .peer = &late, .flags = TCP_SYN);
	tcph_out(&h, "1 a fresh cookie", .peer = &late, .flags = TCP_SYN | TCP_ACK, .ack = 1,
		 .len = 0);
	tcph_in(&h, .seq = 1);
	tcph_out(&h, "2 RST for the stale cookie", .flags = TCP_RST, .seq = 1, .len = 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_syncookies_failed, 1);
	ck_assert_int_eq(tcph_state(&h), TL_CLOSED);
	tcph_free(&h);
}
END_TEST

START_TEST(cookie_previous_period_still_good)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_listen(&h, 7);
	fill_backlog(&h);
	cookie_for(&h, TCPH_SEG());
	/* One period on, the counter moved once: the cookie is still accepted. */
	tcph_advance(&h, TCP_COOKIE_PERIOD_MS);
	tcph_drain(&h);
	tcph_in(&h, .seq = 1);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_syncookies_ok, 1);
	tcph_free(&h);
}
END_TEST

static void no_cookies(struct tl_config *c) { c->tcp_syncookies = 0; }

START_TEST(cookies_off_drops)
{
	struct tcph h;

	tcph_init(&h, no_cookies);
	tcph_listen(&h, 7);
	fill_backlog(&h);
	tcph_in(&h, .flags = TCP_SYN, .seq = 0);
	tcph_expect_nothing(&h, "1 no answer with cookies off");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_listen_full, 1);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_syncookies_sent, 0);
	tcph_free(&h);
}
END_TEST

START_TEST(stray_ack_without_flood)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_listen(&h, 7);
	/* No cookie was sent lately: an ACK is plainly bad, not a failed cookie. */
	tcph_in(&h, .seq = 0, .ack = 4242);
	tcph_out(&h, "1 RST", .flags = TCP_RST, .seq = 4242, .len = 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_syncookies_failed, 0);
	tcph_free(&h);
}
END_TEST

static void tw_cap2(struct tl_config *c) { c->tcp_time_wait_max = 2; }

/* A connection from p, closed by us first, left in TIME_WAIT. */
static void to_time_wait(struct tcph *h, struct tcph_peer *p)
{
	tcph_in(h, .peer = p, .flags = TCP_SYN);
	tcph_out(h, "tw SYN-ACK", .peer = p, .flags = TCP_SYN | TCP_ACK, .ack = 1, .len = 0);
	tcph_in(h, .peer = p);
	tcph_close_first(h, p);
}

/* n peers from PEER_ADDR:41000 on. */
static void tw_peers(struct tcph *h, struct tcph_peer *p, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		tcph_peer(h, &p[i], PEER_ADDR, (uint16_t)(41000 + i), PISS);
}

START_TEST(time_wait_cap_recycles_oldest)
{
	struct tcph h;

	struct tcph_peer p[4];

	tcph_init(&h, tw_cap2);
	tcph_listen(&h, 7);
	tw_peers(&h, p, 4);
	to_time_wait(&h, &p[0]);
	tcph_advance(&h, 100);
	to_time_wait(&h, &p[1]);
	ck_assert_uint_eq(h.s->tcp->tw_count, 2);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_time_wait_recycled, 0);
	/* The third over the cap of two: the oldest goes before its 2 MSL. */
	to_time_wait(&h, &p[2]);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_time_wait_recycled, 1);
	ck_assert_uint_eq(h.s->tcp->tw_count, 2);
	ck_assert(tcp_lookup(h.s, PEER_ADDR, 41000, 7) == NULL);
	ck_assert(tcp_lookup(h.s, PEER_ADDR, 41001, 7) != NULL);
	ck_assert(tcp_lookup(h.s, PEER_ADDR, 41002, 7) != NULL);
	/* A retransmitted FIN makes 41001 the youngest: 41002 is recycled next. */
	tcph_in(&h, .peer = &p[1], .flags = TCP_FIN | TCP_ACK, .abs = true, .seq = PISS + 1,
		.ack = 0);
	tcph_drain(&h);
	to_time_wait(&h, &p[3]);
	ck_assert(tcp_lookup(h.s, PEER_ADDR, 41001, 7) != NULL);
	ck_assert(tcp_lookup(h.s, PEER_ADDR, 41002, 7) == NULL);
	/* The survivors still expire after 2 MSL (MSL is 1 s here). */
	tcph_advance(&h, 2000);
	ck_assert_uint_eq(h.s->tcp->tw_count, 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_time_wait_expired, 2);
	ck_assert_uint_eq(conns(&h), 0);
	tcph_free(&h);
}
END_TEST

START_TEST(time_wait_default_no_recycling)
{
	struct tcph h;

	struct tcph_peer p[20];

	tcph_init(&h, NULL);
	tcph_listen(&h, 7);
	tw_peers(&h, p, 20);
	for (uint16_t i = 0; i < 20; i++)
		to_time_wait(&h, &p[i]);
	ck_assert_uint_eq(h.s->tcp->tw_count, 20);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_time_wait_recycled, 0);
	tcph_free(&h);
}
END_TEST

/* Arming a timer never needs memory: each TCB reserves its place in the
 * timer heap when it is made (before, the heap grew when timers were armed,
 * and a failed growth lost the timer). 150 connections opened one after the
 * other idle with no timer; then each gets a delayed ACK at once. */
START_TEST(timer_room_reserved)
{
	static struct tcph_peer p[150];
	static const uint8_t byte = 'x';
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_listen(&h, 7);
	tw_peers(&h, p, 150);
	for (uint16_t i = 0; i < 150; i++) {
		tcph_in(&h, .peer = &p[i], .flags = TCP_SYN);
		tcph_out(&h, "SYN-ACK", .peer = &p[i], .flags = TCP_SYN | TCP_ACK, .ack = 1, .len = 0);
		tcph_in(&h, .peer = &p[i]);
	}
	ck_assert_uint_eq(h.s->tcp->heap_n, 0);
	ck_assert_uint_ge(h.s->tcp->heap_cap, h.s->tcp->count + h.s->tcp->nlisteners);
	struct tl_tcp **heap = h.s->tcp->heap;
	uint32_t cap = h.s->tcp->heap_cap;
	h.app_reads = false;
	for (uint16_t i = 0; i < 150; i++)
		tcph_in(&h, .peer = &p[i], .seq = 1, .data = &byte, .len = 1);
	ck_assert_uint_eq(h.s->tcp->heap_n, 150); /* each waits on its delayed ACK */
	ck_assert_msg(h.s->tcp->heap == heap && h.s->tcp->heap_cap == cap,
		      "the timer heap grew while timers were armed");
	tcph_drain(&h);
	tcph_free(&h);
}
END_TEST

START_TEST(time_wait_reopened_by_new_syn)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_listen(&h, 7);
	to_time_wait(&h, &h.peer);
	uint32_t old = h.peer.iss;
	/* A SYN at or below RCV.NXT: the old rule, a challenge ACK; TIME_WAIT stays. */
	tcph_in(&h, .flags = TCP_SYN, .seq = 1);
	tcph_out(&h, "1 challenge ACK", .flags = TCP_ACK, .seq = 2, .ack = 2, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_TIME_WAIT);
	/* RFC 1122 4.2.2.13: a SYN above RCV.NXT reopens it, with an ISS above the old. */
	tcph_in(&h, .flags = TCP_SYN, .seq = 100000);
	struct seg *g = tcph_out(&h, "2 SYN-ACK", .flags = TCP_SYN | TCP_ACK, .ack = 100001,
				 .len = 0);
	STEP_ASSERT((int32_t)(g->h.seq - (old + 2 + 65535)) > 0, "2",
		    "the new ISS is a window above the old");
	ck_assert_int_eq(tcph_state(&h), TL_SYN_RECEIVED);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_time_wait_reopened, 1);
	ck_assert_uint_eq(h.s->tcp->tw_count, 0);
	tcph_in(&h, .seq = 100001, .data = "again", .len = 5);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	ck_assert_int_eq(h.accepted, 2);
	ck_assert_uint_eq(h.rx_len, 5);
	ck_assert_uint_eq(conns(&h), 1);
	tcph_free(&h);
}
END_TEST

static void rst5(struct tl_config *c) { c->tcp_rst_per_sec = 5; }

START_TEST(rst_rate_limited)
{
	struct tcph h;

	tcph_init(&h, rst5);
	h.port = 9999; /* nobody listens */
	for (int i = 0; i < 8; i++)
		tcph_in(&h, .flags = TCP_SYN, .seq = (uint32_t)i);
	for (int i = 0; i < 5; i++)
		tcph_out(&h, "1 RST within the rate", .flags = TCP_RST | TCP_ACK, .seq = 0,
			 .ack = (uint32_t)i + 1, .len = 0);
	tcph_expect_nothing(&h, "1 then no more this second");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_out_rst_rate_limited, 3);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_no_conn, 8);
	tcph_advance(&h, 1000);
	tcph_in(&h, .flags = TCP_SYN, .seq = 0);
	tcph_out(&h, "2 a new second, a new RST", .flags = TCP_RST | TCP_ACK, .seq = 0, .ack = 1,
		 .len = 0);
	tcph_free(&h);
}
END_TEST

/* n stray ACKs to a closed port, one every step_us of virtual time; the RSTs are drained. */
static void stray_acks(struct tcph *h, int n, tl_time step_us)
{
	for (int i = 0; i < n; i++) {
		tcph_in(h, .flags = TCP_ACK, .seq = 1, .ack = (uint32_t)i, .abs = true);
		tcph_drain(h);
		h->now += step_us;
	}
}

START_TEST(rst_limit_no_blackout)
{
	struct tcph h;

	tcph_init(&h, NULL); /* 200 RSTs a second, a burst of 20 */
	h.port = 9999;
	/* RFC 9293 3.10.7.1 answers each with a RST; 700 in 7 ms empty the bucket... */
	stray_acks(&h, 700, 10);
	uint64_t sent = tcph_cnt(&h)->tcp_out_rst;
	ck_assert_msg(sent >= 20 && sent <= 22, "step 1: the burst and a token or two: %lu RSTs",
		    (unsigned long)sent);
	/* ...but it refills a token every 5 ms: 60 ms later a SYN gets its RST. */
	tcph_advance(&h, 60);
	tcph_in(&h, .flags = TCP_SYN, .seq = 0);
	tcph_out(&h, "2 the SYN's RST", .flags = TCP_RST | TCP_ACK, .seq = 0, .ack = 1, .len = 0);
	tcph_free(&h);
}
END_TEST

START_TEST(rst_limit_long_run)
{
	struct tcph h;

	tcph_init(&h, NULL);
	h.port = 9999;
	/* A stray ACK every millisecond for 10 s: at most rate * 10 s + burst RSTs. */
	stray_acks(&h, 10000, 1000);
	uint64_t sent = tcph_cnt(&h)->tcp_out_rst;
	ck_assert_msg(sent >= 2000 && sent <= 2000 + 20, "step 1: %lu RSTs in 10 s",
		    (unsigned long)sent);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_out_rst_rate_limited, 10000 - sent);
	tcph_free(&h);
}
END_TEST

/* n SYNs on the synchronized connection (RFC 5961 4.2: each asks for a challenge ACK). */
static void syn_burst(struct tcph *h, int n)
{
	for (int i = 0; i < n; i++)
		tcph_in(h, .flags = TCP_SYN, .seq = 10, .wnd = 512);
}

static void challenge3(struct tl_config *c)
{
	c->tcp_challenge_ack_per_sec = 3;
	c->tcp_challenge_ack_interval_ms = 0; /* the global limit alone */
}

START_TEST(challenge_ack_rate_limited)
{
	struct tcph h;

	tcph_init(&h, challenge3);
	tcph_handshake(&h, 7, PISS);
	/* RFC 5961 4.2: a SYN on a synchronized connection gets a challenge ACK... */
	syn_burst(&h, 5);
	for (int i = 0; i < 3; i++)
		tcph_out(&h, "1 challenge ACK", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	/* ...RFC 5961 7: but only so many a second, for all connections. */
	tcph_expect_nothing(&h, "1 no more this second");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_out_challenge_ack, 3);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_challenge_ack_limited, 2);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_challenge_ack_conn_limited, 0);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	tcph_advance(&h, 1000);
	tcph_in(&h, .flags = TCP_RST, .seq = 100,
		.wnd = 512); /* RFC 5961 3.2: in window, not exact */
	tcph_out(&h, "2 a new second", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	tcph_free(&h);
}
END_TEST

static void ooo_small(struct tl_config *c) { c->tcp_ooo_bytes_max = 10000; }

static uint8_t blob[4000];

/* An established connection from PEER_ADDR:port. */
static void open_from(struct tcph *h, struct tcph_peer *p, uint16_t port)
{
	tcph_peer(h, p, PEER_ADDR, port, PISS);
	tcph_in(h, .peer = p, .flags = TCP_SYN, .mss = 1460, .sack_perm = true);
	tcph_out(h, "open SYN-ACK", .peer = p, .flags = TCP_SYN | TCP_ACK, .ack = 1, .len = 0);
	tcph_in(h, .peer = p);
}

START_TEST(challenge_ack_per_connection)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	/* RFC 5961 7: one connection gets one challenge ACK per 500 ms (default)... */
	syn_burst(&h, 5);
	tcph_out(&h, "1 one challenge ACK", .flags = TCP_ACK, .seq = 1, .ack = 1, .len = 0);
	tcph_expect_nothing(&h, "1 no more on this connection");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_challenge_ack_conn_limited, 4);
	/* ...which leaves the shared budget alone: another connection gets its own. */
	struct tcph_peer other;
	open_from(&h, &other, 42000);
	tcph_in(&h, .peer = &other, .flags = TCP_SYN, .seq = 10, .wnd = 512);
	tcph_out(&h, "2 the other connection's challenge ACK", .peer = &other, .flags = TCP_ACK,
		 .seq = 1, .ack = 1, .len = 0);
	tcph_advance(&h, 499);
	tcph_in(&h, .flags = TCP_RST, .seq = 100,
		.wnd = 512); /* RFC 5961 3.2: in window, not exact */
	tcph_expect_nothing(&h, "3 499 ms later: still held back");
	tcph_advance(&h, 1);
	tcph_in(&h, .flags = TCP_RST, .seq = 100, .wnd = 512);
	tcph_out(&h, "4 500 ms later: the next one", .flags = TCP_ACK, .seq = 1, .ack = 1,
		 .len = 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_out_challenge_ack, 3);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_challenge_ack_conn_limited, 5);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_challenge_ack_limited, 0);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	tcph_free(&h);
}
END_TEST

START_TEST(ooo_global_bound)
{
	struct tcph h;

	tcph_init(&h, ooo_small);
	tcph_listen(&h, 7);
	struct tcph_peer a, b;
	open_from(&h, &a, 42000);
	open_from(&h, &b, 42001);
	/* A holds 1000..2000 and 8000..9000 past its hole: 9000 bytes of extent. */
	tcph_in(&h, .peer = &a, .seq = 1 + 1000, .data = blob, .len = 1000);
	tcph_in(&h, .peer = &a, .seq = 1 + 8000, .data = blob, .len = 1000);
	ck_assert_uint_eq(h.s->tcp->ooo_bytes, 9000);
	/* B would take the sum past 10000: dropped, counted, no SACK for it. */
	tcph_in(&h, .peer = &b, .seq = 1 + 1000, .data = blob, .len = 1000);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_ooo_global, 1);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_ooo_queued, 2);
	tcph_drain(&h);
	/* Inside A's extent nothing is refused. */
	tcph_in(&h, .peer = &a, .seq = 1 + 3000, .data = blob, .len = 1000);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_ooo_global, 1);
	/* A's holes fill: its extent goes, and B's segment fits again. */
	tcph_in(&h, .peer = &a, .seq = 1, .data = blob, .len = 1000);
	tcph_in(&h, .peer = &a, .seq = 1 + 2000, .data = blob, .len = 1000);
	tcph_in(&h, .peer = &a, .seq = 1 + 4000, .data = blob, .len = 4000);
	ck_assert_uint_eq(h.s->tcp->ooo_bytes, 0);
	ck_assert_uint_eq(h.rx_len, 9000);
	tcph_in(&h, .peer = &b, .seq = 1 + 1000, .data = blob, .len = 1000);
	ck_assert_uint_eq(h.s->tcp->ooo_bytes, 2000);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_ooo_global, 1);
	/* A connection that goes away gives its share back. */
	tcph_in(&h, .peer = &b, .flags = TCP_RST, .seq = 1, .wnd = 0);
	ck_assert_uint_eq(h.s->tcp->ooo_bytes, 0);
	tcph_free(&h);
}
END_TEST

static void keep_idle(struct tl_config *c) { c->tcp_buf_idle_ms = 0; }

START_TEST(small_buffers_kept_without_idle_time)
{
	struct tcph h;

	tcph_init(&h, keep_idle);
	tcph_handshake(&h, 7, PISS);
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 1, .data = "hi", .len = 2);
	tcph_advance(&h, 60000);
	ck_assert_uint_eq(h.conn->rcvbuf.cap, TCP_RING_KEEP);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_buf_released, 0);
	tcph_free(&h);
}
END_TEST

START_TEST(buffers_released_when_empty)
{
	struct tcph h;
	static uint8_t big[10000];

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	struct tl_tcp *c = h.conn;
	/* The receive buffer grows while the application does not read... */
	h.app_reads = false;
	for (uint32_t off = 0; off < 10000; off += 1000)
		tcph_in(&h, .seq = 1 + off, .data = big, .len = 1000);
	ck_assert_uint_ge(c->rcvbuf.cap, 10000);
	/* ...and goes once it is read empty. */
	uint8_t buf[10000];
	ck_assert_int_eq(tl_tcp_recv(c, buf, sizeof buf), 10000);
	ck_assert_uint_eq(c->rcvbuf.cap, 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_buf_released, 1);
	/* The send buffer grows with what waits for an ACK, and goes with the ACK. */
	tcph_drain(&h);
	ck_assert_int_eq(tl_tcp_send(c, big, sizeof big), (int)sizeof big);
	ck_assert_uint_ge(c->sndbuf.cap, sizeof big);
	tcph_in(&h, .seq = 10001, .ack = 1 + 6 * 1460);
	ck_assert_uint_eq(c->sndbuf.len, sizeof big - 6 * 1460);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_buf_released, 1);
	tcph_in(&h, .seq = 10001, .ack = 1 + sizeof big);
	ck_assert_uint_eq(c->sndbuf.len, 0);
	ck_assert_uint_eq(c->sndbuf.cap, 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_buf_released, 2);
	/* A small exchange keeps its small buffers: no allocation per round trip. */
	h.app_reads = true;
	tcph_drain(&h);
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 10001, .data = "hi", .len = 2);
	ck_assert_uint_eq(c->rcvbuf.cap, TCP_RING_KEEP);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_buf_released, 2);
	/* Used again within the idle time (1 s): kept. */
	tcph_advance(&h, 600);
	tcph_drain(&h);
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 10003, .data = "hi", .len = 2);
	tcph_advance(&h, 600);
	ck_assert_uint_eq(c->rcvbuf.cap, TCP_RING_KEEP);
	/* Idle for the whole idle time: even the small buffer goes. */
	tcph_advance(&h, 400);
	ck_assert_uint_eq(c->rcvbuf.cap, 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_buf_released, 3);
	ck_assert_uint_eq(h.rx_len, 4);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	tcph_free(&h);
}
END_TEST

START_TEST(emptied_buffer_starts_at_its_front)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	struct tl_tcp *c = h.conn;
	/* Read empty, the kept buffer starts again at its front: no segment is split. */
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 1, .data = "hi", .len = 2);
	ck_assert_uint_eq(c->rcvbuf.len, 0);
	ck_assert_uint_eq(c->rcvbuf.head, 0);
	/* Out-of-order bytes past the hole stay where they are stored. */
	tcph_in(&h, .seq = 6, .data = "!", .len = 1);
	tcph_in(&h, .seq = 3, .data = "hi", .len = 2);
	ck_assert_uint_eq(c->rcvbuf.head, 2);
	tcph_in(&h, .seq = 5, .data = "?", .len = 1);
	ck_assert_uint_eq(h.rx_len, 6);
	ck_assert_mem_eq(h.rx, "hihi?!", 6);
	ck_assert_uint_eq(c->rcvbuf.head, 0);
	tcph_free(&h);
}
END_TEST

START_TEST(in_flight_part_given_back_when_idle)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_handshake(&h, 7, PISS);
	struct tl_tcp *c = h.conn;
	/* Only its SYN-ACK ever sent, and that acknowledged: given back at once. */
	ck_assert_ptr_null(c->fl);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_flight_released, 1);
	/* A segment takes a fresh one; after its ACK and a second idle it goes. */
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 1, .data = "hi", .len = 2);
	ck_assert_ptr_nonnull(c->fl);
	tcph_advance(&h, 100);
	tcph_out(&h, "1 the delayed ACK", .flags = TCP_ACK, .seq = 1, .ack = 3, .len = 0);
	tcph_advance(&h, 1000);
	ck_assert_ptr_null(c->fl);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_flight_released, 2);
	/* Sending takes it again; the RTT estimate and cwnd outlived it. */
	uint32_t srtt = c->rtt.srtt_us, cwnd = c->cong.cwnd;
	ck_assert_int_eq(tl_tcp_send(c, "abc", 3), 3);
	tcph_out(&h, "2 data", .flags = TCP_ACK | TCP_PSH, .seq = 1, .ack = 3, .len = 3);
	ck_assert_ptr_nonnull(c->fl);
	ck_assert_uint_eq(c->rtt.srtt_us, srtt);
	ck_assert_uint_eq(c->cong.cwnd, cwnd);
	tcph_advance(&h, 10);
	tcph_in(&h, .seq = 3, .ack = 4);
	tcph_advance(&h, 1100);
	tcph_expect_nothing(&h, "3 idle");
	ck_assert_ptr_null(c->fl);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_flight_released, 3);
	ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
	tcph_free(&h);
}
END_TEST

static void one_working(struct tl_config *c) { c->tcp_flight_max = 1; }

START_TEST(working_connections_bounded)
{
	struct tcph h;
	struct tcph_peer b;

	tcph_init(&h, one_working);
	tcph_handshake(&h, 7, PISS);
	struct tl_tcp *a = h.conn;
	tcph_peer(&h, &b, FLOOD_ADDR, 60000, 1);
	tcph_in(&h, .peer = &b, .flags = TCP_SYN);
	tcph_out(&h, "1 B's SYN-ACK", .peer = &b, .flags = TCP_SYN | TCP_ACK, .ack = 1, .len = 0);
	tcph_in(&h, .peer = &b, .seq = 1);
	ck_assert_uint_eq(h.s->tcp->count, 2);
	/* B's data, unread, holds the one in-flight part... */
	h.app_reads = false;
	tcph_in(&h, .peer = &b, .flags = TCP_ACK | TCP_PSH, .seq = 1, .data = "hi", .len = 2);
	tcph_drain(&h);
	/* ...so A's segment finds none: dropped and counted, as if lost; A's send fails. */
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 1, .data = "hi", .len = 2);
	tcph_expect_nothing(&h, "2 no memory, no answer");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_flight_nomem, 1);
	ck_assert_int_eq(tl_tcp_send(a, "x", 1), -ENOMEM);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_flight_nomem, 2);
	/* A third peer's SYN makes no connection. */
	struct tcph_peer d;
	tcph_peer(&h, &d, FLOOD_ADDR + 1, 60000, 1);
	tcph_in(&h, .peer = &d, .flags = TCP_SYN);
	tcph_expect_nothing(&h, "3 no SYN-ACK");
	ck_assert_uint_eq(h.s->tcp->count, 2);
	/* Once B is read and idle, A's retransmission is taken. */
	uint8_t buf[8];
	ck_assert_int_eq(tl_tcp_recv(h.conn, buf, sizeof buf), 2);
	tcph_advance(&h, 1100);
	tcph_drain(&h);
	h.app_reads = true;
	tcph_in(&h, .flags = TCP_ACK | TCP_PSH, .seq = 1, .data = "hi", .len = 2);
	ck_assert_ptr_nonnull(a->fl);
	tcph_free(&h);
}
END_TEST

/* The peer sends a segment with these raw option bytes (a multiple of 4), seq PISS. */
static void raw_segment(struct tcph *h, uint8_t flags, const uint8_t *opts, size_t opt_len)
{
	uint8_t pkt[80];
	uint8_t *t = pkt + IPV4_HDR_LEN;
	size_t len = TCP_HDR_LEN + opt_len;

	memset(pkt, 0, sizeof pkt);
	put16(t, PEER_PORT);
	put16(t + 2, h->port);
	put32(t + 4, PISS);
	t[12] = (uint8_t)(len / 4 << 4);
	t[13] = flags;
	put16(t + 14, 1000);
	memcpy(t + TCP_HDR_LEN, opts, opt_len);
	put16(t + 16, csum_fold(csum_add(csum_pseudo(PEER_ADDR, HOST_ADDR, IP_PROTO_TCP,
						      (uint16_t)len), t, len)));
	ipv4_build(pkt, PEER_ADDR, HOST_ADDR, IP_PROTO_TCP, len, 1);
	tl_stack_input(h->s, pkt, IPV4_HDR_LEN + len, h->now);
}

/* Option lists Linux's parser stops in: length 0, length 1, past the header. */
static const uint8_t bad_opts[3][8] = {
	{ 2, 4, 0x05, 0xb4, 8, 0, 1, 1 },
	{ 2, 4, 0x05, 0xb4, 3, 1, 0, 0 },
	{ 2, 4, 0x05, 0xb4, 1, 3, 6, 7 },
};

START_TEST(bad_options_closed_port_rst)
{
	struct tcph h;

	tcph_init(&h, NULL);
	h.port = 9999; /* nobody listens */
	/* RFC 9293 3.1 MUST-7: handled safely; 3.10.7.1: a closed port answers with RST. */
	for (int i = 0; i < 3; i++) {
		raw_segment(&h, TCP_SYN, bad_opts[i], 8);
		tcph_out(&h, "1 RST to the SYN", .flags = TCP_RST | TCP_ACK, .seq = 0, .ack = 1,
			 .len = 0);
	}
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_in_bad_options, 3);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_no_conn, 3);
	tcph_free(&h);
}
END_TEST

START_TEST(bad_options_open_port_synack)
{
	struct tcph h;

	for (int i = 0; i < 3; i++) {
		tcph_init(&h, NULL);
		tcph_listen(&h, 9);
		/* RFC 9293 3.1 MUST-7: the MSS before the bad option counts, the rest is ignored. */
		raw_segment(&h, TCP_SYN, bad_opts[i], 8);
		tcph_out(&h, "1 SYN-ACK", .flags = TCP_SYN | TCP_ACK, .ack = 1, .len = 0,
			 .wscale = TCPH_NONE);
		tcph_in(&h, .seq = 1, .ack = 1);
		ck_assert_int_eq(tcph_state(&h), TL_ESTABLISHED);
		tl_tcp_send(h.conn, blob, 2000);
		tcph_out(&h, "2 a segment of the SYN's MSS", .flags = TCP_ACK, .seq = 1, .len = 1460);
		ck_assert_uint_eq(tcph_cnt(&h)->tcp_in_bad_options, 1);
		tcph_free(&h);
	}
}
END_TEST

START_TEST(bad_option_length_ignored)
{
	struct tcph h;
	/* An MSS of length 3 (Linux skips it by its length), then a good window scale. */
	static const uint8_t opts[8] = { 2, 3, 0x05, 3, 3, 7, 1, 0 };

	tcph_init(&h, NULL);
	tcph_listen(&h, 9);
	raw_segment(&h, TCP_SYN, opts, 8);
	/* RFC 9293 3.7.1: no MSS understood: 536; RFC 7323 2.2: the scale is taken. */
	tcph_out(&h, "1 SYN-ACK with a scale", .flags = TCP_SYN | TCP_ACK, .ack = 1, .len = 0,
		 .wscale = 3);
	tcph_in(&h, .seq = 1, .ack = 1);
	tl_tcp_send(h.conn, blob, 2000);
	tcph_out(&h, "2 536 bytes", .flags = TCP_ACK, .seq = 1, .len = 536);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_in_bad_options, 1);
	tcph_free(&h);
}
END_TEST

START_TEST(syn_fin_dropped)
{
	struct tcph h;

	tcph_init(&h, NULL);
	tcph_listen(&h, 9);
	/* RFC 9293 3.10.7.2: SYN+FIN is a probe, not an open: no SYN-ACK (as Linux). */
	tcph_in(&h, .flags = TCP_SYN | TCP_FIN, .seq = 0);
	tcph_expect_nothing(&h, "1 no SYN-ACK");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_syn_fin, 1);
	ck_assert_uint_eq(conns(&h), 0);
	/* RFC 9293 3.10.7.1: a closed port still answers it with RST. */
	h.port = 9999;
	tcph_in(&h, .flags = TCP_SYN | TCP_FIN, .seq = 0);
	tcph_out(&h, "2 RST on a closed port", .flags = TCP_RST | TCP_ACK, .seq = 0, .ack = 2,
		 .len = 0);
	tcph_free(&h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tcp_defense");
	TCase *t = tcase_create("cookies");
	tcase_add_test(t, cookie_when_backlog_full);
	tcase_add_test(t, timer_room_reserved);
	tcase_add_test(t, cookie_mss_rounded_down);
	tcase_add_test(t, cookie_wrong_gets_rst);
	tcase_add_test(t, cookie_expires);
	tcase_add_test(t, cookie_previous_period_still_good);
	tcase_add_test(t, cookies_off_drops);
	tcase_add_test(t, stray_ack_without_flood);
	suite_add_tcase(s, t);
	t = tcase_create("bounds");
	tcase_add_test(t, time_wait_cap_recycles_oldest);
	tcase_add_test(t, time_wait_default_no_recycling);
	tcase_add_test(t, time_wait_reopened_by_new_syn);
	tcase_add_test(t, rst_rate_limited);
	tcase_add_test(t, rst_limit_no_blackout);
	tcase_add_test(t, rst_limit_long_run);
	tcase_add_test(t, challenge_ack_rate_limited);
	tcase_add_test(t, challenge_ack_per_connection);
	tcase_add_test(t, ooo_global_bound);
	tcase_add_test(t, buffers_released_when_empty);
	tcase_add_test(t, emptied_buffer_starts_at_its_front);
	tcase_add_test(t, in_flight_part_given_back_when_idle);
	tcase_add_test(t, working_connections_bounded);
	tcase_add_test(t, small_buffers_kept_without_idle_time);
	suite_add_tcase(s, t);
	t = tcase_create("odd segments");
	tcase_add_test(t, bad_options_closed_port_rst);
	tcase_add_test(t, bad_options_open_port_synack);
	tcase_add_test(t, bad_option_length_ignored);
	tcase_add_test(t, syn_fin_dropped);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tl_check_run(suite());
}
