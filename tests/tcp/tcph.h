/*
 * A virtual-time harness for TCP tests. The test plays the peer: it builds
 * segments, feeds them to the core, advances the clock by hand and checks
 * each segment the core sends. Nothing sleeps; nothing touches a network.
 * TCPH_TRACE=1 in the environment prints the core's trace to stderr.
 */
#ifndef TCPH_H
#define TCPH_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include "tcplab/socket.h"
#include "tcplab/stack.h"
#include "wire.h"

#define PEER_ADDR 0x0a0a0001u /* 10.10.0.1, the test */
#define HOST_ADDR 0x0a0a0002u /* 10.10.0.2, the stack under test */
#define PEER_PORT 40000
#define TCPH_PISS 1000u   /* the test's ISS unless a handshake names another */
#define TCPH_QUEUE 1024
#define TCPH_RX (4u << 20)

struct seg {
	uint32_t dst;			/* the IPv4 destination */
	struct tcp_hdr h;
	uint8_t data[65536];
	size_t len;
	uint32_t gso;			/* tl_stack_out_gso_size while it was output */
};

/* One peer: an address and port, and the two ISSes its relative sequence
 * numbers count from (tcpdump's and Wireshark's convention: the SYN is 0,
 * the first byte of data 1). The test is the default peer, h->peer. */
struct tcph_peer {
	uint32_t addr;
	uint16_t port;
	uint32_t piss;			/* the peer's ISS: what it sends counts from it */
	uint32_t iss;			/* the stack's ISS, learned from its SYN or SYN-ACK */
	bool synced;			/* iss is known (until then it counts as 0) */
	int wscale;			/* the scale its SYN offered, -1 for none */
	uint32_t sent;			/* relative: the end of what it has sent */
	uint32_t rcvd;			/* relative: the end of what the stack sent it */
};

#define TCPH_PEERS 256

struct tcph {
	tl_stack *s;
	struct tl_config cfg;
	tl_time now;
	uint8_t *q[TCPH_QUEUE];
	size_t qlen[TCPH_QUEUE];
	uint32_t qgso[TCPH_QUEUE];
	unsigned qhead, qtail;
	struct seg last;		/* the segment tcph_out returned */

	uint16_t port;			/* our side's port */
	struct tcph_peer peer;		/* the test's own connection */
	struct tcph_peer *peers[TCPH_PEERS]; /* every peer, for tcph_pop's bookkeeping */
	unsigned npeers;

	/* What the application saw. */
	struct tl_tcp *listener, *conn;
	int accepted, connected, readable, writable, closed, closed_err;
	bool app_reads;			/* read everything on readable() */
	bool eof;
	uint8_t *rx;
	size_t rx_len;
};

void tcph_init(struct tcph *h, void (*tweak)(struct tl_config *));
void tcph_free(struct tcph *h);
/* A listener on port whose events are recorded in h. */
void tcph_listen(struct tcph *h, uint16_t port);
/* An active open to h->peer; checks the SYN, learns the ISS; returns the SYN. */
struct seg *tcph_connect(struct tcph *h);

/* Advances the clock by ms and runs the timers. */
void tcph_advance(struct tcph *h, uint32_t ms);
/* Pops the next TCP segment the stack sent, false if none. */
bool tcph_pop(struct tcph *h, struct seg *out);
int tcph_pending(const struct tcph *h);
void tcph_drain(struct tcph *h);

/* Fails the test naming step if the stack sent anything. */
void tcph_expect_nothing(struct tcph *h, const char *step);

/*
 * The named-field API. A test names what it sets or checks with C's
 * designated initializers; a field it does not name keeps a default (in
 * what the peer sends) or is not checked (in what the stack must send):
 *
 *	tcph_in(&h, .seq = 1, .ack = 101, .data = blob, .len = 100);
 *	tcph_out(&h, "2 ACK", .flags = TCP_ACK, .seq = 101, .ack = 101, .len = 0);
 *
 * Sequence numbers are relative, in and out, as in --trace: the peer's
 * (seq in, ack out, its SACK blocks out) count from its ISS, the stack's
 * (ack in, seq out, SACK blocks in) from the stack's ISS. The macros fill
 * the unnamed fields with TCPH_UNSET first (hence -Wno-override-init in
 * meson.build): tests never write a sentinel.
 */
#define TCPH_UNSET INT64_MIN
#define TCPH_NONE (-1) /* .mss, .wscale, .ts, .sack_perm out: the option is absent */

/* A segment the peer sends. */
struct tcph_seg {
	struct tcph_peer *peer;	/* unset: h->peer */
	int64_t flags;		/* unset: ACK */
	int64_t seq;		/* unset: what the peer has sent so far (its SND.NXT) */
	int64_t ack;		/* unset: all the stack has sent it; 0 on the wire without ACK */
	int64_t wnd;		/* the raw field; unset: 64 KiB at the scale its SYN offered */
	const void *data;
	size_t len;
	int64_t mss, wscale;	/* options; unset: not sent */
	bool sack_perm, ts;
	uint32_t ts_val, ts_ecr;
	uint32_t sack[TCP_MAX_SACK][2]; /* relative [start, end); an empty one ends the list */
	bool abs;		/* seq and ack are absolute: a stray number, no connection's */
};

/* What the stack must send next; an unnamed field is not checked. */
struct tcph_want {
	struct tcph_peer *peer;	/* unset: h->peer; the segment must go to it */
	int64_t flags;		/* exactly, but PSH only if named (it is advisory) */
	int64_t seq, ack, len, wnd;
	int64_t mss, wscale;	/* the option's value, or TCPH_NONE: absent */
	int64_t sack_perm, ts;	/* 1: present, TCPH_NONE: absent */
	int64_t ts_val, ts_ecr;
	int64_t sack_n;		/* how many SACK blocks */
	uint32_t sack[TCP_MAX_SACK][2]; /* relative; each non-empty one is checked */
};

#define TCPH_SEG(...)                                                                      \
	((struct tcph_seg){ .flags = TCPH_UNSET, .seq = TCPH_UNSET, .ack = TCPH_UNSET,      \
			    .wnd = TCPH_UNSET, .mss = TCPH_UNSET, .wscale = TCPH_UNSET,     \
			    __VA_ARGS__ })
#define TCPH_WANT(...)                                                                     \
	((struct tcph_want){ .flags = TCPH_UNSET, .seq = TCPH_UNSET, .ack = TCPH_UNSET,     \
			     .len = TCPH_UNSET, .wnd = TCPH_UNSET, .mss = TCPH_UNSET,       \
			     .wscale = TCPH_UNSET, .sack_perm = TCPH_UNSET,                 \
			     .ts = TCPH_UNSET, .ts_val = TCPH_UNSET, .ts_ecr = TCPH_UNSET,  \
			     .sack_n = TCPH_UNSET, __VA_ARGS__ })

/* The peer sends one segment. */
#define tcph_in(h, ...) tcph_in_seg((h), TCPH_SEG(__VA_ARGS__))
/* Pops the stack's next segment and checks it, failing the test with the
 * step's name and relative numbers; returns it. */
#define tcph_out(h, step, ...) tcph_out_seg((h), (step), TCPH_WANT(__VA_ARGS__), __FILE__, __LINE__)

void tcph_in_seg(struct tcph *h, struct tcph_seg s);
struct seg *tcph_out_seg(struct tcph *h, const char *step, struct tcph_want w,
			 const char *file, int line);

/* Another peer (a crowd of them): addr:port with ISS piss. */
void tcph_peer(struct tcph *h, struct tcph_peer *p, uint32_t addr, uint16_t port,
	       uint32_t piss);

/* Relative to absolute and back, for white-box checks: the stack's
 * sequence numbers (SND.*) and the peer's (RCV.*), on h->peer. */
uint32_t tcph_snd_abs(const struct tcph *h, uint32_t rel);
uint32_t tcph_snd_rel(const struct tcph *h, uint32_t abs);
uint32_t tcph_rcv_abs(const struct tcph *h, uint32_t rel);
uint32_t tcph_rcv_rel(const struct tcph *h, uint32_t abs);

/* Handshakes. Passive: listen on port; the peer (ISS piss) sends a SYN
 * with the options named (a tcph_seg's .mss, .wscale, .sack_perm, .ts,
 * .ts_val); the SYN-ACK must acknowledge it (and echo its TSval), teaches
 * the stack's ISS and is ACKed (echoing the SYN-ACK's TSval); then
 * ESTABLISHED, accepted() called once, nothing sent. Returns the SYN-ACK. */
#define tcph_accept(h, port, piss, ...) tcph_accept_seg((h), (port), (piss), TCPH_SEG(__VA_ARGS__))
struct seg *tcph_accept_seg(struct tcph *h, uint16_t port, uint32_t piss, struct tcph_seg syn);
/* The usual one: MSS 1460 and wscale 7. */
void tcph_handshake(struct tcph *h, uint16_t port, uint32_t piss);
/* Active: tcph_connect, then the peer's SYN-ACK with the options named
 * must get an ACK; ESTABLISHED, connected() called once. */
#define tcph_open(h, piss, ...) tcph_open_seg((h), (piss), TCPH_SEG(__VA_ARGS__))
void tcph_open_seg(struct tcph *h, uint32_t piss, struct tcph_seg synack);

/* Closes, from ESTABLISHED with nothing in flight either way, each step
 * checked. We close first: our FIN, the peer's FIN acknowledging it, our
 * ACK: TIME_WAIT. The peer closes first: its FIN, our ACK, CLOSE_WAIT, the
 * application closes: our FIN, its ACK: CLOSED. Simultaneous: the FINs
 * cross, each side ACKs the other's: CLOSING, then TIME_WAIT. */
void tcph_close_first(struct tcph *h, struct tcph_peer *p);
void tcph_peer_closes_first(struct tcph *h);
void tcph_close_simultaneous(struct tcph *h);

enum tl_tcp_state tcph_state(const struct tcph *h);
const struct tl_counters *tcph_cnt(const struct tcph *h);

/* step and the message are string literals. */
#define STEP_ASSERT(cond, step, msg) ck_assert_msg(cond, "step " step ": " msg)

#endif
