/* The peer the speed benchmarks play (tests/checkpoints/speed.c): it
 * builds segments for the stack and reads back what the stack sends,
 * with no test harness in between, so that what is timed is the stack.
 * Everything runs in virtual time; nothing touches a network. */
#ifndef CK_SPEED_H
#define CK_SPEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp/tcp.h"

#define SP_HOST 0x0a0a0002u	/* the stack */
#define SP_PEER 0x0a0a0001u	/* the benchmark */
#define SP_PISS 5000u		/* the peer's ISS */
#define SP_MSS 1460u
#define SP_QUEUE 4096

/* One segment the stack sent, its header as the peer reads it. */
struct sp_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint32_t len;		/* data bytes */
};

struct sp {
	tl_stack *s;
	struct tl_config cfg;
	struct sp_seg q[SP_QUEUE]; /* what the stack sent, oldest first */
	unsigned head, tail;
	uint64_t out;		/* segments it sent, all told */
	bool overflow;
	uint8_t pkt[IPV4_HDR_LEN + TCP_HDR_LEN + 40 + 65536];
	/* The application on the stack's side. */
	struct tl_tcp *listener, *conn;
	uint64_t accepted, connected, closed, read, eof;
	bool close_on_eof;	/* close a connection once its peer's FIN is read */
	uint8_t scratch[65536];
};

/* A stack with tl_config_defaults, then tweak; the seed and the clock are
 * fixed, so the same calls give the same ISSes. */
bool sp_open(struct sp *p, void (*tweak)(struct tl_config *));
void sp_close(struct sp *p);
/* Listens on port with events that read everything and count. */
bool sp_listen(struct sp *p, uint16_t port);
/* The peer (from its port pport to lport) sends a segment; sequence numbers absolute. */
void sp_send(struct sp *p, uint16_t pport, uint16_t lport, uint8_t flags, uint32_t seq,
	     uint32_t ack, uint16_t wnd, const void *data, uint32_t len);
/* The same with the MSS and window-scale options of a SYN. */
void sp_send_syn(struct sp *p, uint16_t pport, uint16_t lport, uint8_t flags, uint32_t seq,
		 uint32_t ack);
/* Builds a whole IPv4 packet into buf (at least 1500 + 60 bytes); returns its length. */
size_t sp_build(uint8_t *buf, uint16_t pport, uint16_t lport, uint8_t flags, uint32_t seq,
		uint32_t ack, uint16_t wnd, const void *data, uint32_t len);
/* Pops the stack's oldest unread segment; false if none. */
bool sp_pop(struct sp *p, struct sp_seg *g);
/* A passive open from pport to the listener on lport: SYN, SYN-ACK, ACK.
 * Returns the stack's ISS, or 0 (and no connection) if it failed. */
uint32_t sp_accept(struct sp *p, uint16_t pport, uint16_t lport);
/* The connection from pport to lport on the stack, or NULL. */
struct tl_tcp *sp_conn(struct sp *p, uint16_t pport, uint16_t lport);
/* The application's events: read all, count, close on EOF if asked. */
extern const struct tl_tcp_events sp_events;

#endif
