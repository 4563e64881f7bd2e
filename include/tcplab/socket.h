/*
 * The socket API that applications use. Applications never see segments:
 * they get callbacks when something happens and call back into the stack.
 * Every call returns 0 or a count on success and a negative errno on error.
 *
 * The contract of the callbacks (tl_udp_recv_fn, struct tl_tcp_events):
 * - They run inside tl_stack_input or tl_stack_poll (and closed() also
 *   inside tl_stack_free), on the thread that called it; the stack takes no
 *   locks, so all calls on one stack must come from one thread at a time.
 * - From inside one, the application may call the socket functions of this
 *   header on any socket: send, receive, shutdown, close or abort this one
 *   or another, listen, connect. A TCP callback runs after the segment that
 *   caused it has been processed, so what it sends rides with the ACK.
 * - It must not call tl_stack_input, tl_stack_poll or tl_stack_free: the
 *   stack is in the middle of a packet or a timer and is not re-entrant.
 * - Pointers passed in (data, from) are valid until the callback returns.
 */
#ifndef TCPLAB_SOCKET_H
#define TCPLAB_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tcplab/stack.h"

struct tl_endpoint {
	uint32_t addr; /* host byte order */
	uint16_t port;
};

/* ---- UDP ---- */

struct tl_udp;
typedef void (*tl_udp_recv_fn)(void *arg, struct tl_udp *sock,
			       const struct tl_endpoint *from,
			       const uint8_t *data, size_t len);

/* Binds a port; -EADDRINUSE if taken, -ENOMEM. */
int tl_udp_open(tl_stack *s, uint16_t port, tl_udp_recv_fn recv, void *arg,
		struct tl_udp **out);
/* Sends one datagram from the socket's port; -EMSGSIZE if it won't fit. */
int tl_udp_sendto(struct tl_udp *sock, const struct tl_endpoint *to,
		  const void *data, size_t len);
void tl_udp_close(struct tl_udp *sock);
/* An ICMP error about a datagram the socket sent to peer: err is the errno
 * it means (ECONNREFUSED: port unreachable, RFC 1122 4.1.3.3). Called from
 * inside tl_stack_input; the same calls are allowed as in recv. */
typedef void (*tl_udp_error_fn)(void *arg, struct tl_udp *sock,
				const struct tl_endpoint *peer, int err);
void tl_udp_set_error(struct tl_udp *sock, tl_udp_error_fn fn);

/* ---- TCP ---- */

/* RFC 9293 section 3.3.2, in the RFC's order. */
enum tl_tcp_state {
	TL_CLOSED,
	TL_LISTEN,
	TL_SYN_SENT,
	TL_SYN_RECEIVED,
	TL_ESTABLISHED,
	TL_FIN_WAIT_1,
	TL_FIN_WAIT_2,
	TL_CLOSE_WAIT,
	TL_CLOSING,
	TL_LAST_ACK,
	TL_TIME_WAIT,
};
const char *tl_tcp_state_name(enum tl_tcp_state st);

struct tl_tcp;

/* Any callback may be NULL. conn is valid until closed() returns or the
 * application calls tl_tcp_close() or tl_tcp_abort(), also when it does so
 * from inside one of these callbacks (no further callback for conn follows). */
struct tl_tcp_events {
	/* A listener has a new established connection. It inherits the
	 * listener's events and arg; tl_tcp_set_events changes them. */
	void (*accepted)(void *arg, struct tl_tcp *listener, struct tl_tcp *conn);
	/* An active open completed. */
	void (*connected)(void *arg, struct tl_tcp *conn);
	/* Data or the peer's FIN can be read. */
	void (*readable)(void *arg, struct tl_tcp *conn);
	/* Send buffer space became free. */
	void (*writable)(void *arg, struct tl_tcp *conn);
	/* The connection is gone: err is 0 after an orderly close, else
	 * -ECONNRESET, -ECONNREFUSED, -ETIMEDOUT, or -ECONNABORTED when the
	 * stack itself is freed. The stack frees conn when this returns; do not
	 * call tl_tcp_close on it. */
	void (*closed)(void *arg, struct tl_tcp *conn, int err);
};

int tl_tcp_listen(tl_stack *s, uint16_t port, int backlog,
		  const struct tl_tcp_events *ev, void *arg,
		  struct tl_tcp **out);
/* Active open from an ephemeral port; connected() or closed() follows. */
int tl_tcp_connect(tl_stack *s, const struct tl_endpoint *to,
		   const struct tl_tcp_events *ev, void *arg,
		   struct tl_tcp **out);
/* The same from local port lport (0: an ephemeral one); -EADDRINUSE if that
 * pair of endpoints names a connection already. */
int tl_tcp_connect_from(tl_stack *s, uint16_t lport, const struct tl_endpoint *to,
			const struct tl_tcp_events *ev, void *arg, struct tl_tcp **out);
void tl_tcp_set_events(struct tl_tcp *c, const struct tl_tcp_events *ev,
		       void *arg);

/* Copies up to len bytes into the send buffer; returns how many it took
 * (0 when full), -EPIPE after shutdown, -ENOTCONN before the handshake. */
ssize_t tl_tcp_send(struct tl_tcp *c, const void *data, size_t len);
/* Free bytes in the send buffer. */
size_t tl_tcp_send_space(const struct tl_tcp *c);
/* Returns bytes read, 0 at end of stream (peer's FIN), -EAGAIN if empty. */
ssize_t tl_tcp_recv(struct tl_tcp *c, void *buf, size_t len);
/* Bytes ready to read. */
size_t tl_tcp_recv_avail(const struct tl_tcp *c);
/* Half-close: FIN after the buffered data. */
int tl_tcp_shutdown(struct tl_tcp *c);
/* The application is done with conn: FIN after buffered data, then the stack
 * finishes the teardown on its own. No callbacks after this. */
void tl_tcp_close(struct tl_tcp *c);
/* Reset now (RST) and free. No callbacks after this. */
void tl_tcp_abort(struct tl_tcp *c);

/* Nagle's algorithm (RFC 896) is on by default; true turns it off. */
void tl_tcp_set_nodelay(struct tl_tcp *c, bool nodelay);

enum tl_tcp_state tl_tcp_state(const struct tl_tcp *c);
/* The state of the connection from remote to our port lport: CLOSED if
 * there is none, LISTEN if only a listener. For tools that watch the stack. */
enum tl_tcp_state tl_tcp_state_of(tl_stack *s, const struct tl_endpoint *remote,
				  uint16_t lport);
/* A span of sequence space, [start, end). */
struct tl_seq_range {
	uint32_t start, end;
};
/* What the connection from remote to our port lport has received: RCV.NXT
 * and up to max of the out-of-order ranges it holds beyond it (what its
 * SACK blocks report, RFC 2018 4), in sequence order. Returns how many
 * ranges it holds (may be more than max), or -1 if there is no such
 * connection. For tools that check the stack, as tl_tcp_state_of. */
int tl_tcp_rcv_ranges(tl_stack *s, const struct tl_endpoint *remote, uint16_t lport,
		      uint32_t *rcv_nxt, struct tl_seq_range *ranges, int max);
struct tl_endpoint tl_tcp_local(const struct tl_tcp *c);
struct tl_endpoint tl_tcp_remote(const struct tl_tcp *c);

/* ---- Watching the stack: what `tcplab ss` shows ---- */

/* One TCP socket, as `ss -tin` shows it. Sizes in bytes, times in
 * microseconds. A listener has remote 0.0.0.0:0 and no send state. */
struct tl_tcp_info {
	enum tl_tcp_state state;
	struct tl_endpoint local, remote;
	uint32_t recv_q;	/* in order, not yet read; a listener: half-open connections */
	uint32_t send_q;	/* given by the application, not yet acknowledged;
				 * a listener: its backlog */
	uint32_t mss;		/* the largest segment we send */
	uint32_t cwnd;
	uint32_t ssthresh;	/* UINT32_MAX: not set yet (slow start) */
	uint32_t srtt_us, rttvar_us; /* 0 and 0 before the first RTT sample */
	uint32_t rto_us;
	uint32_t bytes_in_flight; /* SND.MAX - SND.UNA, RFC 5681 2's FlightSize */
	uint64_t retrans;	/* segments sent again, over the connection's life */
	uint32_t snd_wnd;	/* the peer's window (SND.WND), scaled */
};
void tl_tcp_info(const struct tl_tcp *c, struct tl_tcp_info *out);

/* Calls fn once for each TCP listener and connection, TIME_WAIT included,
 * and each UDP socket. Inside fn only the read-only calls may be used:
 * tl_tcp_info, tl_tcp_state, tl_tcp_local, tl_tcp_remote, tl_tcp_recv_avail,
 * tl_tcp_send_space and tl_udp_local. Anything that sends, opens, closes or
 * feeds the stack (input, poll) changes the lists being walked: do it after
 * the walk returns. */
typedef void (*tl_tcp_each_fn)(void *arg, const struct tl_tcp *c);
void tl_tcp_foreach(tl_stack *s, tl_tcp_each_fn fn, void *arg);
typedef void (*tl_udp_each_fn)(void *arg, const struct tl_udp *u);
void tl_udp_foreach(tl_stack *s, tl_udp_each_fn fn, void *arg);
/* The address and port a UDP socket receives on. */
struct tl_endpoint tl_udp_local(const struct tl_udp *u);

#endif
