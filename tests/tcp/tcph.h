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
#define ANY (-1)	      /* a field tcph_expect does not check */
#define TCPH_QUEUE 1024
#define TCPH_RX (4u << 20)

struct seg {
	struct tcp_hdr h;
	uint8_t data[65536];
	size_t len;
};

struct tcph {
	tl_stack *s;
	struct tl_config cfg;
	tl_time now;
	uint8_t *q[TCPH_QUEUE];
	size_t qlen[TCPH_QUEUE];
	unsigned qhead, qtail;
	struct seg last;		/* the segment tcph_expect returned */

	uint16_t port;			/* our side's port */
	uint32_t iss;			/* the stack's ISS, learned from its SYN */
	uint32_t piss;			/* the test's ISS */

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
/* An active open to PEER_ADDR:PEER_PORT; returns the SYN's sequence number. */
uint32_t tcph_connect(struct tcph *h);

/* The peer sends one segment (with options if o is not NULL). */
void tcph_send(struct tcph *h, uint8_t flags, uint32_t seq, uint32_t ack,
	       uint16_t wnd, const void *data, size_t len);
void tcph_send_opts(struct tcph *h, uint8_t flags, uint32_t seq, uint32_t ack,
		    uint16_t wnd, const void *data, size_t len,
		    const struct tcp_opts *o);
/* The same from another peer address and port (a crowd of peers). */
void tcph_send_from(struct tcph *h, uint32_t src, uint16_t sport, uint8_t flags,
		    uint32_t seq, uint32_t ack, uint16_t wnd, const void *data,
		    size_t len, const struct tcp_opts *o);
/* Advances the clock by ms and runs the timers. */
void tcph_advance(struct tcph *h, uint32_t ms);
/* Pops the next TCP segment the stack sent, false if none. */
bool tcph_pop(struct tcph *h, struct seg *out);
int tcph_pending(const struct tcph *h);
void tcph_drain(struct tcph *h);

/* Checks the next segment: flags exactly, seq, ack and payload length
 * unless ANY. Fails the test naming step. Returns it. */
struct seg *tcph_expect(struct tcph *h, const char *step, uint8_t flags,
			int64_t seq, int64_t ack, int64_t len);
void tcph_expect_nothing(struct tcph *h, const char *step);

/* Passive open on port from peer ISS piss, with MSS 1460 and wscale 7;
 * leaves the connection ESTABLISHED and the queue empty. */
void tcph_handshake(struct tcph *h, uint16_t port, uint32_t piss);

enum tl_tcp_state tcph_state(const struct tcph *h);
const struct tl_counters *tcph_cnt(const struct tcph *h);

/* step and the message are string literals. */
#define STEP_ASSERT(cond, step, msg) ck_assert_msg(cond, "step " step ": " msg)

#endif
