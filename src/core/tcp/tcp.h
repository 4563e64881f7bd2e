/*
 * TCP internals. The TCB uses RFC 9293's own names (snd_una, snd_nxt,
 * rcv_nxt, ...) so the code reads next to the RFC. One concern per file:
 *   tcp_conn.c    connection table, ISNs, creation and destruction
 *   tcp_input.c   SEGMENT ARRIVES, RFC 9293 3.10.7, step by step
 *   tcp_output.c  building and sending segments
 *   tcp_reass.c   receive buffer and out-of-order reassembly
 *   tcp_timer.c   retransmission and TIME_WAIT timers, RTO arithmetic
 *   tcp_socket.c  the socket API that applications call
 *   tcp_trace.c   trace lines for segments and state changes
 */
#ifndef TL_TCP_H
#define TL_TCP_H

#include <stdbool.h>

#include "../stack_impl.h"
#include "ring.h"
#include "seq.h"

#define TCP_DEFAULT_MSS 536	/* RFC 9293 3.7.1: when the peer sends no MSS */
#define TCP_MAX_WSCALE 14	/* RFC 7323 2.3 */
#define TCP_EPHEMERAL_LO 49152	/* RFC 6335 6: dynamic ports */
#define TCP_NOT_HEAPED UINT32_MAX
#define TCP_SACKED_MAX 16	/* ranges the peer SACKed that we remember */
#define TCP_COOKIE_PERIOD_MS 64000 /* RFC 4987 3.6: the cookie's slowly moving counter */
#define TCP_RING_KEEP 4096	/* an empty buffer at most this large is kept */

/* Application events collected while a segment is processed. */
#define TCP_EV_ACCEPTED 0x01
#define TCP_EV_CONNECTED 0x02
#define TCP_EV_READABLE 0x04
#define TCP_EV_WRITABLE 0x08

/* The retransmission deadline (rto_at) serves one purpose at a time. */
enum tcp_xtimer {
	TCP_XT_RTO,			/* RFC 6298: retransmission timeout */
	TCP_XT_PERSIST,			/* RFC 9293 3.8.6.1: zero-window probe */
	TCP_XT_PTO,			/* RFC 8985 7: tail loss probe */
};

/* One received-but-not-yet-contiguous range [start, end). */
struct ooo_range {
	uint32_t start, end;
};

struct tl_tcp {
	tl_stack *stack;
	struct tl_tcp *hnext;		/* hash chain */
	struct tl_tcp *prev, *next;	/* list of all connections */
	enum tl_tcp_state state;
	uint32_t laddr, raddr;
	uint16_t lport, rport;

	/* Listener bookkeeping. */
	struct tl_tcp *listener;	/* the LISTEN socket that made us */
	int backlog, half_open;		/* on a listener */
	bool passive;			/* created by a passive open */
	tl_time cookie_at;		/* on a listener: last SYN cookie sent, or 0 */
	tl_time challenge_next;		/* earliest time for our next challenge ACK */

	/* Send sequence space, RFC 9293 3.3.1. */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	uint8_t snd_wscale, rcv_wscale;
	bool ws_ok;			/* both sides sent wscale, RFC 7323 2.2 */
	bool sack_ok;			/* the peer sent SACK-permitted, RFC 2018 */
	uint32_t sack_high;		/* highest right edge the peer SACKed */
	struct ooo_range sacked[TCP_SACKED_MAX]; /* the scoreboard, RFC 6675 */
	uint32_t sacked_n;
	uint32_t rexmit_next;		/* next hole to resend in this recovery */
	uint32_t rexmit_mark;		/* SND.MAX when snd_una was last resent */
	uint32_t rexmit_after;		/* first hole resent after that, if */
	bool rexmit_after_set;		/* ...one was */
	uint16_t mss;			/* largest segment we send */
	struct ring sndbuf;		/* bytes from snd_una on: in flight, then unsent */
	bool fin_queued;		/* FIN follows the last byte in sndbuf */
	bool fin_sent;
	uint32_t fin_seq;		/* valid once fin_sent */
	uint32_t cwnd, ssthresh;	/* RFC 5681 */
	uint32_t ca_acked;		/* bytes acked towards the next CA increase */
	uint32_t dupacks;		/* duplicate ACKs in a row, RFC 5681 3.2 */
	uint32_t sack_dupacks;		/* of those, the ones that SACKed new data */
	bool in_recovery;		/* NewReno fast recovery, RFC 6582 */
	uint32_t recover;		/* snd_max when recovery began */
	bool nodelay;			/* Nagle off */
	bool force_send;		/* persist override: send a small segment */

	/* Receive sequence space. */
	uint32_t irs, rcv_nxt;
	bool irs_known;
	uint32_t rcv_adv;		/* right edge we last advertised */
	struct ring rcvbuf;		/* readable bytes, then out-of-order ones */
	struct ooo_range *ooo;
	uint32_t ooo_n;
	uint32_t ooo_last;		/* seq of the latest out-of-order arrival */
	uint32_t ooo_held;		/* rcv_nxt to the end of the last range */
	bool fin_rcvd;			/* the peer's FIN is in sequence */
	bool rcv_fin_known;		/* a FIN arrived out of order */
	uint32_t rcv_fin_seq;

	/* Timers (absolute deadlines, TL_TIME_NEVER when off). */
	tl_time rto_at, tw_at, delack_at; /* set only through tcp_set_*_at */
	tl_time wupd_at;		/* repeat a window update nobody answered */
	tl_time idle_at;		/* release empty buffers if still idle */
	tl_time buf_emptied;		/* when a buffer last became empty */
	uint32_t wupd_rcv_nxt;		/* rcv_nxt when that update went out */
	uint8_t wupd_left;
	uint32_t heap_idx;		/* place in the timer heap, or TCP_NOT_HEAPED */
	enum tcp_xtimer xtimer;		/* what rto_at means now */
	tl_time pto_from;		/* a loss probe's PTO counts from this send */
	bool tlp_out;			/* a loss probe is unanswered... */
	bool tlp_rexmit;		/* ...it resent old data... */
	uint32_t tlp_end;		/* ...and SND.MAX was this */
	uint8_t unacked_segs;		/* full segments received since our ACK */
	uint32_t unacked_bytes;		/* and their bytes (offloaded ones are large) */
	bool ack_at_poll;		/* delack_at is the end of the driver's batch */
	uint32_t rto_us, srtt_us, rttvar_us;
	bool rtt_timing;		/* one segment timed at a time, RFC 6298 */
	bool rtt_dirty;			/* another was resent since: SACK samples only */
	uint32_t rtt_seq;
	tl_time rtt_start;
	uint32_t retries;

	bool ack_now;			/* an ACK must go out */
	bool in_input;			/* output waits until the segment is done */
	uint8_t pending;		/* TCP_EV_* to deliver after the segment */
	struct tl_tcp *tw_prev, *tw_next; /* TIME_WAIT entries, oldest first */
	bool tw_linked;

	/* The application side. */
	const struct tl_tcp_events *ev;
	void *arg;
	bool app_closed;		/* no more callbacks */
	bool dead;			/* unlinked, freed by tcp_reap */
};

/* What a SYN cookie remembers of the SYN, RFC 4987 3.6. */
struct tcp_cookie {
	uint16_t mss;			/* rounded down to a table entry */
	uint8_t wscale;			/* the peer's, if has_wscale */
	bool has_wscale, sack_ok;
};

struct tcp_table {
	struct tl_tcp **buckets;
	uint32_t nbuckets;		/* a power of two */
	uint32_t count;			/* connections, not listeners */
	struct tl_tcp *all;		/* every connection and listener */
	struct tl_tcp *listeners;	/* chained through hnext */
	struct tl_tcp *graveyard;	/* chained through hnext */
	uint64_t isn_key[2];		/* RFC 6528 secret */
	uint64_t cookie_key[2];		/* RFC 4987 3.6 secret */
	struct tl_bucket rst_bucket, challenge_bucket;
	struct tl_tcp *tw_head, *tw_tail; /* TIME_WAIT entries, oldest first */
	uint32_t tw_count;
	uint64_t ooo_bytes;		/* sum of every connection's ooo_held */
	struct tl_tcp **heap;		/* connections with a timer, earliest first */
	uint32_t heap_n, heap_cap;
	uint16_t next_port;
};

/* tcp_conn.c */
struct tl_tcp *tcp_lookup(tl_stack *s, uint32_t raddr, uint16_t rport, uint16_t lport);
struct tl_tcp *tcp_find_listener(tl_stack *s, uint16_t lport);
struct tl_tcp *tcp_conn_new(tl_stack *s, uint32_t raddr, uint16_t rport, uint16_t lport);
struct tl_tcp *tcp_listener_new(tl_stack *s, uint16_t lport, int backlog);
/* Picks a free ephemeral port towards raddr:rport, 0 if none. */
uint16_t tcp_ephemeral_port(tl_stack *s, uint32_t raddr, uint16_t rport);
uint32_t tcp_isn(tl_stack *s, uint32_t raddr, uint16_t rport, uint16_t lport);
void tcp_set_state(struct tl_tcp *c, enum tl_tcp_state st);
/* The TIME_WAIT list: tcp_tw_track (re)appends c, enforcing the cap. */
void tcp_tw_track(struct tl_tcp *c);
void tcp_tw_unlink(struct tl_tcp *c);
/* Unlinks c; it is freed once the current input or poll call returns. */
void tcp_destroy(struct tl_tcp *c);
/* Tells the application (unless it closed) and destroys c. */
void tcp_drop(struct tl_tcp *c, int err);
void tcp_reap(tl_stack *s);
/* RFC 4987 3.6: the ISN of a stateless SYN-ACK answering th. */
uint32_t tcp_cookie_make(tl_stack *s, uint32_t raddr, const struct tcp_hdr *th,
			 struct tcp_cookie *out);
/* True if th->ack - 1 is a cookie we made lately for this peer; fills out. */
bool tcp_cookie_check(tl_stack *s, uint32_t raddr, const struct tcp_hdr *th,
		      struct tcp_cookie *out);
/* Releases buffers that are empty and large (counted); arms the idle timer
 * for small empty ones. */
void tcp_buf_trim(struct tl_tcp *c);
/* The idle timer: releases the buffers still empty since tcp_buf_idle_ms. */
void tcp_buf_idle(struct tl_tcp *c);
uint16_t tcp_our_mss(const tl_stack *s);
uint8_t tcp_pick_wscale(uint32_t rcvbuf);

/* tcp_output.c */
/* Sends whatever the window and state allow, and a pending ACK. */
void tcp_output(struct tl_tcp *c);
void tcp_send_ack(struct tl_tcp *c);
/* RST in reply to a segment that has no connection (RFC 9293 3.10.7.1). */
void tcp_send_reset_reply(tl_stack *s, const struct ipv4_hdr *ip,
			  const struct tcp_hdr *th);
void tcp_send_rst(struct tl_tcp *c);
/* The SYN-ACK of a SYN cookie: no connection, RFC 4987 3.6. */
void tcp_send_cookie_synack(tl_stack *s, const struct ipv4_hdr *ip,
			    const struct tcp_hdr *th, uint32_t isn,
			    const struct tcp_cookie *k);
uint32_t tcp_rcv_wnd(const struct tl_tcp *c);
uint32_t tcp_rcv_sws_step(const struct tl_tcp *c);
/* One past the last data byte the application has given us. */
static inline uint32_t tcp_data_end(const struct tl_tcp *c)
{
	return c->snd_una + c->sndbuf.len;
}
static inline bool tcp_fin_acked(const struct tl_tcp *c)
{
	return c->fin_sent && seq_gt(c->snd_una, c->fin_seq);
}
/* A zero-window probe, RFC 9293 3.8.6.1. */
void tcp_send_probe(struct tl_tcp *c);
/* Resends the segment at snd_una, leaving snd_nxt alone (RFC 5681 3.2). */
void tcp_retransmit_first(struct tl_tcp *c);
/* Resends the next hole below the highest SACK (RFC 6675 NextSeg rule 1);
 * false if there is none. */
bool tcp_retransmit_hole(struct tl_tcp *c);
const struct ooo_range *tcp_sacked_at(const struct tl_tcp *c, uint32_t seq); /* or NULL */
/* Trace line for a congestion-state change. */
void tcp_trace_cwnd(struct tl_tcp *c, const char *why);

/* tcp_reass.c: sorted, disjoint sequence ranges (receive queue, scoreboard) */
bool tcp_ranges_add(struct ooo_range *r, uint32_t *n, uint32_t max, uint32_t start,
		    uint32_t end);
void tcp_ranges_drop_below(struct ooo_range *r, uint32_t *n, uint32_t seq);
/* Keeps c->ooo_held and the table's global sum up to date. */
void tcp_ooo_account(struct tl_tcp *c);
/* Stores segment text starting at seq; returns bytes newly in order. */
uint32_t tcp_reass_insert(struct tl_tcp *c, uint32_t seq, const uint8_t *data,
			  uint32_t len);

/* tcp_timer.c: every deadline change goes through these, so the timer heap
 * knows each connection's earliest deadline without scanning. */
void tcp_set_rto_at(struct tl_tcp *c, tl_time t);
void tcp_set_tw_at(struct tl_tcp *c, tl_time t);
void tcp_set_delack_at(struct tl_tcp *c, tl_time t);
void tcp_set_wupd_at(struct tl_tcp *c, tl_time t);
void tcp_set_idle_at(struct tl_tcp *c, tl_time t);
void tcp_timer_remove(struct tl_tcp *c);
void tcp_timer_rto_restart(struct tl_tcp *c);
void tcp_timer_arm(struct tl_tcp *c); /* the loss probe timer if due, else the RTO */
void tcp_send_loss_probe(struct tl_tcp *c);
void tcp_timer_rto_stop(struct tl_tcp *c);
void tcp_rtt_sample(struct tl_tcp *c, uint32_t rtt_us);
void tcp_enter_time_wait(struct tl_tcp *c);
/* Arms the RTO if data is outstanding and no timer runs, else the persist
 * timer if data waits on the window. */
void tcp_timer_check(struct tl_tcp *c);
tl_time tcp_conn_deadline(const struct tl_tcp *c);

/* tcp_input.c */
void tcp_ack_received(struct tl_tcp *c, const struct tcp_hdr *th);
/* Delivers the events collected in c->pending. */
void tcp_fire_events(struct tl_tcp *c);

/* tcp_trace.c */
void tcp_trace_segment(tl_stack *s, const struct tl_tcp *c, bool out,
		       uint32_t src, uint32_t dst, const struct tcp_hdr *th);


#endif
