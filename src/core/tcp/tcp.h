/*
 * TCP internals. The TCB uses RFC 9293's own names (snd_una, snd_nxt,
 * rcv_nxt, ...) so the code reads next to the RFC. One concern per file:
 *   tcp_conn.c    connection table, ISNs, creation and destruction
 *   tcp_cookie.c  SYN cookies (RFC 4987 3.6)
 *   tcp_input.c   SEGMENT ARRIVES, RFC 9293 3.10.7, step by step
 *   tcp_fast.c    header prediction: in-order text past all of those steps
 *   tcp_output.c  building and sending segments
 *   tcp_sb.c      the scoreboard: each segment sent, SACKed, lost, resent
 *   tcp_recovery.c  loss recovery: SACK blocks, D-SACK and undo, PRR,
 *                 NewReno; the verbs the input path calls
 *   tcp_rack.c    RACK-TLP: losses by time, tail loss probes
 *   tcp_cc.c      congestion control behind a table of operations
 *   tcp_reass.c   receive buffer and out-of-order reassembly; when text is ACKed
 *   tcp_timer.c   the timer heap; RTO, persist, probe, reordering, delayed
 *                 ACK, window-update, idle and TIME_WAIT deadlines
 *   tcp_flight.c  the in-flight part of a TCB: taken to work, given back idle
 *   tcp_socket.c  the socket API that applications call
 *   tcp_trace.c   trace lines for segments and cwnd changes (trace.c formats them)
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
#define TCP_COOKIE_PERIOD_MS 64000 /* RFC 4987 3.6: the cookie's slowly moving counter */
#define TCP_RING_KEEP 4096	/* an empty buffer at most this large is kept */
#define TCP_BUCKETS_MIN 64u	/* the connection hash starts this small... */
#define TCP_BUCKETS_MAX (1u << 22) /* ...and doubles up to this */

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
	TCP_XT_REORDER,			/* RFC 8985 6.3: RACK's reordering timer */
};

/* RFC 6298: the RTT estimator; kept while the connection idles. */
struct tcp_rtt {
	uint32_t srtt_us, rttvar_us, rto_us;
};

/* RFC 6298 3 (Karn): the one segment being timed, while data flies. */
struct tcp_timing {
	bool timing;			/* seq, sent at start, is being timed */
	bool dirty;			/* another was resent since: SACK samples only */
	uint32_t seq;
	tl_time start;
};

/* One segment on the scoreboard (RFC 6675 3, RFC 8985 5.2). */
#define TCP_SEG_SACKED 0x01		/* the peer SACKed all of it */
#define TCP_SEG_LOST 0x02		/* deemed lost: resend it */
#define TCP_SEG_RETRANS 0x04		/* a retransmission of it is in flight */
#define TCP_SEG_EVER_RETRANS 0x08	/* sent more than once */
struct tcp_seg {
	uint32_t start, end;
	tl_time xmit;			/* when it last went out */
	uint32_t order;			/* and after how many sends of the connection */
	uint8_t flags;
};

/* The scoreboard: every segment sent from SND.UNA to SND.MAX, in order, in
 * a ring; its byte counts give the pipe (RFC 6675 4). */
struct tcp_sb {
	struct tcp_seg *seg;
	uint32_t head, n, cap;		/* cap is a power of two */
	uint32_t sacked, lost, retrans;	/* bytes with each flag */
	uint32_t sends;			/* segments sent so far, for tcp_seg.order */
	uint32_t high;			/* highest right edge the peer SACKed */
};

/* Where the sender stands in loss recovery. */
enum tcp_rec_state {
	TCP_REC_OPEN,			/* no loss being repaired */
	TCP_REC_FAST,			/* fast recovery, RFC 6675 / RFC 6582 */
	TCP_REC_LOSS,			/* after an RTO, until SND.UNA passes recover */
};

/* RACK's state that outlives a flight (RFC 8985 6.2), kept while idle. */
struct tcp_rack {
	uint32_t min_rtt_us;		/* RACK.min_RTT */
	uint16_t reo_wnd_mult;		/* RACK.reo_wnd_mult */
	uint8_t reo_wnd_persist;	/* RACK.reo_wnd_persist */
	bool on : 1;			/* the RACK path: SACK and --recovery rack */
	bool reordering_seen : 1;	/* RACK.reordering_seen */
};

/* Loss detection and repair (tcp_recovery.c): RACK (RFC 8985), the
 * classic duplicate-ACK path (RFC 5681, 6582) and what both share. */
struct tcp_rec {
	enum tcp_rec_state state;
	uint32_t dupacks;		/* duplicate ACKs in a row, RFC 5681 3.2 */
	uint32_t sack_dupacks;		/* of those, the ones that SACKed new data */
	uint32_t rexmit_next;		/* classic: next hole to resend */
	uint32_t rexmit_mark;		/* classic: SND.MAX when snd_una was last resent */
	uint32_t rexmit_after;		/* classic: first hole resent after that, if */
	bool rexmit_after_set;		/* ...one was */
	/* RACK, RFC 8985 6.1 */
	tl_time rack_xmit;		/* RACK.xmit_ts */
	uint32_t rack_order;		/* its tcp_seg.order, in RACK.end_seq's stead */
	uint32_t rack_rtt_us;		/* RACK.rtt */
	uint32_t dsack_round;		/* RACK.dsack_round, valid if dsack_round_set */
	bool dsack_round_set;
	uint32_t fack;			/* RACK.fack: the highest SACK before this ACK */
	/* TLP, RFC 8985 7 */
	bool tlp_out;			/* a loss probe is unanswered... */
	bool tlp_rexmit;		/* ...it resent old data... */
	uint32_t tlp_end;		/* ...and SND.MAX was this */
	/* Undo, RFC 3708: the reduction is taken back if D-SACKs show that
	 * every retransmission of the episode was unnecessary. */
	bool undo_armed;
	uint32_t undo_retrans;		/* retransmissions not yet D-SACKed */
	uint32_t undo_marker;		/* SND.UNA when the episode began */
	uint32_t prior_cwnd, prior_ssthresh;
	uint32_t delivered;		/* bytes this ACK newly delivered (RFC 6937) */
	tl_time delivered_xmit;		/* earliest send time among them never resent, or 0 */
	bool delivered_resent;		/* one of them was resent: its ACK is ambiguous */
	bool eifel_armed;		/* RFC 3522: an RTO went out at... */
	uint32_t eifel_ts;		/* ...this TSval; an echo of an older one says spurious */
	bool sacked_new;		/* this ACK SACKed past the highest SACK */
};

/* Congestion state of RFC 5681, kept while idle. */
struct tcp_cong {
	uint32_t cwnd, ssthresh;
	uint32_t ca_acked;		/* bytes acked towards the next CA increase */
};

/* RFC 6937 (PRR), during fast recovery. */
struct tcp_prr {
	uint32_t prr_delivered, prr_out, recover_fs;
};

/* CUBIC, RFC 9438 4: windows in bytes, times in microseconds. */
struct tcp_cubic {
	uint32_t w_max;			/* the plateau: cwnd at the last congestion event */
	uint32_t cwnd_prior;		/* cwnd when ssthresh was last set (4.3) */
	uint32_t w_est;			/* what Reno's cwnd would be (4.3) */
	uint64_t w_est_frac, cwnd_frac;	/* remainders of their per-ACK divisions */
	int64_t k_us;			/* from the epoch's start to the plateau (4.2) */
	tl_time epoch;			/* start of this congestion avoidance stage */
	tl_time epoch_ack;		/* the stage's latest ACK */
	bool in_epoch;			/* a stage is under way: epoch is valid */
	bool after_rto;			/* the next stage follows a timeout (4.8) */
	bool idle;			/* nothing in flight or queued after epoch_ack */
};

/* Timestamps, RFC 7323 3-5: a millisecond clock offset per connection. */
struct tcp_tsopt {
	uint32_t recent;		/* TS.Recent, RFC 7323 4.3 */
	uint32_t last_ack_sent;		/* Last.ACK.sent, RFC 7323 4.3 */
	bool ok;			/* both SYNs carried TSopt */
};

/* One received-but-not-yet-contiguous range [start, end). */
struct ooo_range {
	uint32_t start, end;
};

/* The part of a connection that only a working connection needs: what is
 * in flight and its repair, the timers of sending and acknowledging, the
 * data held past a hole (tcp_flight.c). A connection idle with nothing in
 * flight gives it back, and takes a fresh one when it works again; a
 * listener keeps its own for its bookkeeping. */
struct tcp_flight {
	struct tcp_sb sb;		/* what was sent and what the peer SACKed */
	struct tcp_rec rec;		/* loss detection and repair */
	struct tcp_prr prr;
	struct tcp_cubic cubic;
	struct tcp_timing rtt;		/* the segment being timed */
	uint32_t retries;
	enum tcp_xtimer xtimer;		/* what rto_at means now */
	tl_time rto_at;			/* set only through tcp_set_*_at, as the others */
	tl_time pto_from;		/* a loss probe's PTO counts from this send */
	tl_time rto_due;		/* when the RTO would fire, while rto_at is a probe's */
	tl_time delack_at;
	tl_time wupd_at;		/* repeat a window update nobody answered */
	tl_time idle_at;		/* release empty buffers (and this) if still idle */
	tl_time buf_emptied;		/* when a buffer last became empty */
	uint32_t wupd_rcv_nxt;		/* rcv_nxt when that update went out */
	uint8_t wupd_left;
	uint8_t unacked_segs;		/* full segments received since our ACK */
	bool ack_at_poll;		/* delack_at is the end of the driver's batch */
	bool dsack_pending;		/* RFC 2883: report [dsack_start, dsack_end) */
	uint32_t unacked_bytes;		/* and their bytes (offloaded ones are large) */
	uint32_t dsack_start, dsack_end; /* ...a duplicate, in the next ACK */
	struct ooo_range *ooo;
	uint32_t ooo_n;
	uint32_t ooo_last;		/* seq of the latest out-of-order arrival */
	uint32_t ooo_held;		/* rcv_nxt to the end of the last range */
	uint32_t rcv_fin_seq;		/* the FIN's, while rcv_fin_known and not fin_rcvd */
	uint32_t ts_offset;		/* added to our clock, RFC 7323 7.1 (tcp_ts_offset) */
	tl_time challenge_next;		/* earliest time for our next challenge ACK */
	struct tl_tcp *listener;	/* the LISTEN socket that made us, until accepted */
	/* On a listener. */
	int backlog, half_open;
	tl_time cookie_at;		/* last SYN cookie sent, or 0 */
};

/* The TCB: what a connection keeps while it idles (RFC 9293 3.3.1's
 * variables, flat), and its in-flight part while it works. */
struct tl_tcp {
	tl_stack *stack;
	struct tl_tcp *hnext;		/* hash chain */
	struct tl_tcp *prev, *next;	/* list of all connections, or of TIME_WAIT's */
	struct tcp_flight *fl;		/* NULL while idle */
	const struct tl_tcp_events *ev;	/* the application side */
	void *arg;
	uint32_t raddr;			/* ours is the stack's */
	uint16_t lport, rport;
	uint16_t mss;			/* largest segment we send */
	uint8_t state;			/* enum tl_tcp_state */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t pending;		/* TCP_EV_* to deliver after the segment */
	uint8_t soft_err;		/* an ICMP error's errno, told if we time out */
	bool passive : 1;		/* created by a passive open */
	bool ws_ok : 1;			/* both sides sent wscale, RFC 7323 2.2 */
	bool sack_ok : 1;		/* the peer sent SACK-permitted, RFC 2018 */
	bool fin_queued : 1;		/* FIN follows the last byte in sndbuf */
	bool fin_sent : 1;
	bool nodelay : 1;		/* Nagle off */
	bool force_send : 1;		/* persist override: send a small segment */
	bool irs_known : 1;
	bool fin_rcvd : 1;		/* the peer's FIN is in sequence */
	bool rcv_fin_known : 1;		/* a FIN arrived out of order */
	bool ack_now : 1;		/* an ACK must go out */
	bool in_input : 1;		/* output waits until the segment is done */
	bool tw_linked : 1;		/* on the TIME_WAIT list */
	bool app_closed : 1;		/* no more callbacks */
	bool dead : 1;			/* unlinked, freed by tcp_reap */

	/* Send sequence space, RFC 9293 3.3.1. */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	uint32_t fin_seq;		/* valid once fin_sent */
	uint32_t recover;		/* RFC 6582: SND.MAX when recovery began */
	/* Receive sequence space. */
	uint32_t irs, rcv_nxt;
	uint32_t rcv_adv;		/* right edge we last advertised */
	uint32_t heap_idx;		/* place in the timer heap, or TCP_NOT_HEAPED */
	uint32_t rexmits;		/* segments resent, for tl_tcp_info */
	struct tcp_tsopt ts;		/* RFC 7323 timestamps */
	struct tcp_rtt rtt;
	struct tcp_cong cong;		/* congestion control */
	struct tcp_rack rack;
	struct ring sndbuf;		/* bytes from snd_una on: in flight, then unsent */
	struct ring rcvbuf;		/* readable bytes, then out-of-order ones */
	tl_time tw_at;			/* TIME_WAIT's end (or FIN_WAIT_2's), or TL_TIME_NEVER */
	tl_time ts_recent_at;		/* when TS.Recent was taken (PAWS' 24 days) */
};

/* What a SYN cookie remembers of the SYN, RFC 4987 3.6. */
struct tcp_cookie {
	uint16_t mss;			/* rounded down to a table entry */
	uint8_t wscale;			/* the peer's, if has_wscale */
	bool has_wscale, sack_ok;
};

struct tcp_table {
	struct tl_tcp **buckets;
	uint32_t nbuckets;		/* a power of two, at least count */
	uint32_t count;			/* connections, not listeners */
	uint32_t nlisteners;
	struct tl_tcp *all;		/* every connection and listener but TIME_WAIT's */
	struct tl_tcp *listeners;	/* chained through hnext */
	struct tl_tcp *graveyard;	/* chained through hnext */
	uint64_t isn_key[2];		/* RFC 6528 secret */
	uint64_t cookie_key[2];		/* RFC 4987 3.6 secret */
	struct tl_bucket rst_bucket, challenge_bucket;
	struct tl_tcp *tw_head, *tw_tail; /* TIME_WAIT entries, oldest first, through prev/next */
	uint32_t tw_count;
	uint64_t ooo_bytes;		/* sum of every connection's ooo_held */
	uint32_t flights;		/* connections holding an in-flight part */
	struct tl_tcp **heap;		/* connections with a timer, earliest first */
	uint32_t heap_n, heap_cap;
	uint16_t next_port;
};

/* tcp_timer.c: room in the timer heap for n TCBs, reserved as each is made
 * so that arming a timer never needs memory; false if there is none. */
bool tcp_timer_reserve(tl_stack *s, uint32_t n);

/* tcp_conn.c */
struct tl_tcp *tcp_lookup(tl_stack *s, uint32_t raddr, uint16_t rport, uint16_t lport);
struct tl_tcp *tcp_find_listener(tl_stack *s, uint16_t lport);
struct tl_tcp *tcp_conn_new(tl_stack *s, uint32_t raddr, uint16_t rport, uint16_t lport);
struct tl_tcp *tcp_listener_new(tl_stack *s, uint16_t lport, int backlog);
/* Picks a free ephemeral port towards raddr:rport, 0 if none. */
uint16_t tcp_ephemeral_port(tl_stack *s, uint32_t raddr, uint16_t rport);
/* Our TSval now: RFC 7323 5.4, one tick per millisecond. */
uint32_t tcp_ts_offset(const struct tl_tcp *c);
static inline uint32_t tcp_ts_now(const struct tl_tcp *c)
{
	return (uint32_t)(c->stack->now / 1000) + (c->fl ? c->fl->ts_offset : tcp_ts_offset(c));
}
void tcp_set_state(struct tl_tcp *c, enum tl_tcp_state st);
/* A SYN for listener l made c: LISTEN -> SYN_RECEIVED (RFC 9293 3.10.7.2). */
void tcp_passive_open(struct tl_tcp *c, struct tl_tcp *l);
/* The TIME_WAIT list: tcp_tw_track (re)appends c, enforcing the cap. */
void tcp_tw_track(struct tl_tcp *c);
void tcp_tw_unlink(struct tl_tcp *c);
/* Unlinks c; it is freed once the current input or poll call returns. */
void tcp_destroy(struct tl_tcp *c);
/* Tells the application (unless it closed) and destroys c. */
void tcp_drop(struct tl_tcp *c, int err);
void tcp_reap(tl_stack *s);
/* Releases buffers that are empty and large (counted); arms the idle timer
 * for small empty ones. */
void tcp_buf_trim(struct tl_tcp *c);
/* The idle timer: releases the buffers still empty since tcp_buf_idle_ms. */
void tcp_buf_idle(struct tl_tcp *c);
uint16_t tcp_our_mss(const tl_stack *s);
uint8_t tcp_pick_wscale(uint32_t rcvbuf);

/* tcp_flight.c: the in-flight part, c->fl */
/* c's part, taken fresh if it has none; NULL (counted) if memory is short. */
struct tcp_flight *tcp_flight_get(struct tl_tcp *c);
/* The idle timer: gives the part back if nothing is in flight. */
void tcp_flight_idle(struct tl_tcp *c);
/* The end of a segment's processing: TIME_WAIT and untouched connections give it back. */
void tcp_flight_after_input(struct tl_tcp *c);
void tcp_flight_drop(struct tl_tcp *c);

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
/* RFC 5681 2: FlightSize, sent and not yet cumulatively acknowledged. */
static inline uint32_t tcp_flight_size(const struct tl_tcp *c)
{
	return c->snd_max - c->snd_una;
}
static inline bool tcp_fin_acked(const struct tl_tcp *c)
{
	return c->fin_sent && seq_gt(c->snd_una, c->fin_seq);
}
/* A zero-window probe, RFC 9293 3.8.6.1. */
void tcp_send_probe(struct tl_tcp *c);
/* The end of out-of-order range i, the held FIN included: it takes a
 * sequence number of its own (RFC 9293 3.4), so the SACK block covers it. */
static inline uint32_t tcp_ooo_end(const struct tl_tcp *c, uint32_t i)
{
	uint32_t end = c->fl->ooo[i].end;

	return c->rcv_fin_known && !c->fin_rcvd && end == c->fl->rcv_fin_seq ? end + 1 : end;
}

/* A FIN held beyond a hole with no data of its own before it. */
static inline bool tcp_ooo_fin_alone(const struct tl_tcp *c)
{
	uint32_t n = c->fl ? c->fl->ooo_n : 0;

	return c->rcv_fin_known && !c->fin_rcvd && (n == 0 || c->fl->ooo[n - 1].end != c->fl->rcv_fin_seq);
}

/* How many ranges our SACK blocks may report (RFC 2018 4). */
static inline uint32_t tcp_ooo_ranges(const struct tl_tcp *c)
{
	return (c->fl ? c->fl->ooo_n : 0) + tcp_ooo_fin_alone(c);
}

/* Sends [seq, seq + len) again, with PSH and FIN where they were. */
void tcp_resend(struct tl_tcp *c, uint32_t seq, uint32_t len);
/* Data per segment: the MSS less the options it carries. */
uint32_t tcp_seg_room_sack(const struct tl_tcp *c);
static inline uint32_t tcp_seg_room(const struct tl_tcp *c)
{
	if (!c->fl || (tcp_ooo_ranges(c) == 0 && !c->fl->dsack_pending))
		return c->mss;
	return tcp_seg_room_sack(c);
}
/* Trace line for a congestion-state change. */
void tcp_trace_cwnd(struct tl_tcp *c, const char *why);
/* An RTT sample and the estimator after it (RFC 6298 2), n samples a round trip. */
void tcp_trace_rtt(struct tl_tcp *c, uint32_t rtt_us, uint32_t n);

/* tcp_reass.c: receive buffer and out-of-order reassembly */
/* Stores segment text starting at seq; returns bytes newly in order. */
uint32_t tcp_reass_insert(struct tl_tcp *c, uint32_t seq, const uint8_t *data,
			  uint32_t len);

/* tcp_timer.c: every deadline change goes through these, so the timer heap
 * knows each connection's earliest deadline without scanning. */
void tcp_set_tw_at(struct tl_tcp *c, tl_time t);
void tcp_set_delack_at(struct tl_tcp *c, tl_time t);
void tcp_set_wupd_at(struct tl_tcp *c, tl_time t);
void tcp_set_idle_at(struct tl_tcp *c, tl_time t);
void tcp_timer_remove(struct tl_tcp *c);
void tcp_timer_rto_restart(struct tl_tcp *c);
void tcp_timer_arm(struct tl_tcp *c); /* the loss probe timer if allowed, else the RTO */
/* New data went out under the probe timer; was_one: the flight had been one segment. */
void tcp_timer_pto_sent(struct tl_tcp *c, bool was_one);
/* RACK's reordering timer, us from now, unless the RTO comes sooner. */
void tcp_timer_reorder(struct tl_tcp *c, uint64_t us);
void tcp_timer_rto_stop(struct tl_tcp *c);
void tcp_rtt_sample(struct tl_tcp *c, uint32_t rtt_us);
/* RFC 7323 4.2 and appendix G: with timestamps, a sample from every ACK
 * of new data (the scoreboard's send time, or TSecr after a resend). */
void tcp_rtt_from_ack(struct tl_tcp *c, const struct tcp_hdr *th);
void tcp_enter_time_wait(struct tl_tcp *c);
/* Arms the RTO if data is outstanding and no timer runs, else the persist
 * timer if data waits on the window. */
void tcp_timer_check(struct tl_tcp *c);

/* tcp_sb.c: the scoreboard */
void tcp_sb_sent(struct tl_tcp *c, uint32_t seq, uint32_t end);
/* Removes what ack covers; tcp_rec_delivered sees each segment not SACKed before. */
void tcp_sb_ack(struct tl_tcp *c, uint32_t ack);
void tcp_sb_free(struct tl_tcp *c);
struct tcp_seg *tcp_sb_at(const struct tl_tcp *c, uint32_t i);
uint32_t tcp_sb_find(const struct tl_tcp *c, uint32_t seq);
bool tcp_sb_split(struct tl_tcp *c, uint32_t i, uint32_t seq);
void tcp_sb_mark_sacked(struct tl_tcp *c, struct tcp_seg *g);
void tcp_sb_mark_lost(struct tl_tcp *c, struct tcp_seg *g);
void tcp_sb_mark_all_lost(struct tl_tcp *c, bool forget_sacks);
void tcp_sb_unmark_lost(struct tl_tcp *c);
uint32_t tcp_sb_sacked_end(const struct tl_tcp *c, uint32_t seq);
uint32_t tcp_sb_unsacked_run(const struct tl_tcp *c, uint32_t seq, uint32_t limit);
bool tcp_sb_is_sacked(const struct tl_tcp *c, uint32_t seq);
#define TCP_SB_MAX (1u << 17) /* segments: bounds a peer that SACKs every other byte */
static inline bool tcp_sb_full(const struct tl_tcp *c)
{
	return c->fl->sb.n == c->fl->sb.cap && c->fl->sb.cap >= TCP_SB_MAX;
}
/* RFC 6675 4: the sender's estimate of the bytes in the network. */
static inline uint32_t tcp_sb_pipe(const struct tl_tcp *c)
{
	const struct tcp_sb *b = &c->fl->sb;
	uint32_t out = c->snd_max - c->snd_una, gone = b->sacked + b->lost;

	return (out > gone ? out - gone : 0) + b->retrans;
}

/* tcp_recovery.c: loss detection and repair, the verbs the input path calls */
/* RACK, or the classic path (decided by the SYNs). */
static inline bool tcp_rec_rack(const struct tl_tcp *c)
{
	return c->rack.on;
}
/* Every ACK, first: its SACK blocks (D-SACK too) onto the scoreboard. */
void tcp_rec_sacks(struct tl_tcp *c, const struct tcp_hdr *th);
/* Every ACK, after SND.UNA moved by acked (of which data were data bytes). */
void tcp_rec_ack(struct tl_tcp *c, const struct tcp_hdr *th, uint32_t acked, uint32_t data);
void tcp_rec_delivered(struct tl_tcp *c, const struct tcp_seg *g);
void tcp_rec_rto(struct tl_tcp *c);
void tcp_rec_reorder_timeout(struct tl_tcp *c);
/* A closed window reopened below SND.NXT: what lay past it is lost. */
void tcp_rec_resend_all(struct tl_tcp *c);
/* RACK: resend lost segments while cwnd allows (RFC 6675 NextSeg rule 1). */
bool tcp_rec_resend_lost(struct tl_tcp *c);

/* tcp_rack.c: RACK-TLP, RFC 8985 */
void tcp_rack_delivered(struct tl_tcp *c, const struct tcp_seg *g);
void tcp_rack_dsack(struct tl_tcp *c);
void tcp_rack_episode_end(struct tl_tcp *c);
uint64_t tcp_rack_detect_loss(struct tl_tcp *c, uint32_t *newly_lost);
uint64_t tcp_tlp_pto_us(const struct tl_tcp *c); /* UINT64_MAX: no probe now */
void tcp_tlp_ack(struct tl_tcp *c, const struct tcp_hdr *th);
void tcp_send_loss_probe(struct tl_tcp *c);

/* tcp_cc.c: congestion control behind a table of operations */
struct tcp_cc_ops {
	const char *name;
	void (*on_ack)(struct tl_tcp *c, uint32_t acked); /* grow, outside recovery */
	uint32_t (*ssthresh)(struct tl_tcp *c);	/* after a loss (also an RTO's) */
	void (*on_rto)(struct tl_tcp *c);	/* after ssthresh on a timeout; may be NULL */
};
const struct tcp_cc_ops *tcp_cc(const struct tl_tcp *c);
void tcp_cc_init(struct tl_tcp *c);
void tcp_cc_on_ack(struct tl_tcp *c, uint32_t acked);
void tcp_cc_loss(struct tl_tcp *c);	/* a loss repaired by fast recovery */
void tcp_cc_rto(struct tl_tcp *c);	/* a retransmission timeout */

/* tcp_input.c */
/* RFC 9293 3.10.7.2-3: take the peer's ISN, window and SYN options. */
void tcp_learn_peer_syn(struct tl_tcp *c, const struct tcp_hdr *th);
/* A segment for connection c, then its events and output. */
void tcp_conn_input(struct tl_tcp *c, const struct ipv4_hdr *ip, const struct tcp_hdr *th);
/* RFC 7323 4.3 (2): keep the TSval of the segment our next ACK answers. */
void tcp_ts_update_recent(struct tl_tcp *c, const struct tcp_hdr *th);
/* After a segment: the application's events, then output. */
void tcp_input_done(struct tl_tcp *c);
/* RFC 1122 4.2.3.2 (tcp_reass.c): the ACK policy for len bytes of in-order text. */
void tcp_ack_in_order(struct tl_tcp *c, uint32_t len);
/* tcp_fast.c: takes a predicted segment whole (true; also when its checksum,
 * unless summed says it was checked, is bad), else false and nothing changed. */
bool tcp_fast_input(struct tl_tcp *c, const struct ipv4_hdr *ip, const struct tcp_hdr *th,
		    bool summed);
/* tcp_input may leave the checksum of a segment with text to tcp_fast_input,
 * which sums it as it copies the text if it predicts the segment. */
static inline bool tcp_fast_sum_later(tl_stack *s, const struct ipv4_hdr *ip)
{
	return s->cfg.tcp_fast_path && !s->in_csum_ok && !tl_tracing(s) && ip->payload_len > 12 &&
	       ip->payload_len > (size_t)(ip->payload[12] >> 4) * 4;
}

/* tcp_cookie.c: SYN cookies, RFC 4987 3.6 */
void tcp_cookie_reply(tl_stack *s, struct tl_tcp *l, const struct ipv4_hdr *ip,
		      const struct tcp_hdr *th);
/* RFC 9293 3.10.7.2 second: an ACK for a listener (a cookie's, or a RST). */
void tcp_listen_ack(tl_stack *s, struct tl_tcp *l, const struct ipv4_hdr *ip,
		    const struct tcp_hdr *th);

/* tcp_trace.c */
void tcp_trace_segment(tl_stack *s, const struct tl_tcp *c, bool out,
		       uint32_t src, uint32_t dst, const struct tcp_hdr *th);


#endif
