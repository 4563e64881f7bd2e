/*
 * Programs' sockets on the stack (`tcplab run`, docs/architecture.md "Programs'
 * own sockets"). A program's TCP socket is an AF_UNIX stream to the control
 * socket; its first lines are requests, answered "ok ..." or "error: ENAME
 * why"; then the stream carries the connection's bytes both ways.
 *
 *   bind ADDR PORT       reserve PORT (ADDR: 0.0.0.0, 127.x or ours)
 *   listen BACKLOG       after bind; each accepted connection then arrives
 *                        as a TL_ATT_MSG_LEN message "conn PADDR PPORT LADDR
 *                        LPORT" carrying its stream (SCM_RIGHTS)
 *   connect ADDR PORT    answered once the handshake ends: "ok LADDR LPORT"
 *   info ADDR PORT LPORT answered "ok STATE MSS CWND SSTHRESH SRTT_US RTTVAR_US
 *                        RTO_US IN_FLIGHT RETRANS SND_WND RECV_Q SEND_Q CC" for
 *                        the connection from local LPORT to ADDR:PORT (the
 *                        program's TCP_INFO, TCP_CONGESTION; PORT 0: no
 *                        connection, zeros and CC); the stream then closes
 *   udp ADDR PORT        binds a UDP port (0: any) for the SOCK_SEQPACKET
 *                        socket sent with the line (SCM_RIGHTS); answered
 *                        "ok ADDR PORT OURADDR" on the stream, which then
 *                        closes. Each datagram on the
 *                        socket, both ways, is a TL_ATT_UDP_HDR header (IPv4
 *                        address and port, network order, 2 bytes of zero)
 *                        and the payload: the peer's address, or where to.
 *                        A header alone with byte 6 TL_ATT_UDP_ERROR is an
 *                        ICMP error about what went to that address: byte 7
 *                        is its errno (ECONNREFUSED: port unreachable).
 * A request may end with " nodelay" (TCP_NODELAY); a bind with " reuseport"
 * (SO_REUSEPORT) may share its port with other such sockets: their
 * listeners take the port's connections in turn.
 */
#ifndef TL_ATTACH_H
#define TL_ATTACH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcplab/stack.h"

#define TL_ATT_MAX 1024		/* attached streams, listeners and connections */
#define TL_ATT_MSG_LEN 64	/* an accepted connection's message */
#define TL_ATT_UDP_HDR 8	/* before each datagram of a UDP socket */
#define TL_ATT_UDP_ERROR 1	/* its byte 6: an ICMP error, not a datagram */

enum tl_att_verb { TL_ATT_BIND, TL_ATT_LISTEN, TL_ATT_CONNECT, TL_ATT_UDP, TL_ATT_INFO };

struct tl_att_req {
	enum tl_att_verb verb;
	uint32_t addr;		/* host byte order */
	uint16_t port;
	uint16_t lport;		/* info: the connection's local port */
	int backlog;
	bool nodelay;
	bool reuseport;
};

/* 1 if line starts with an attach verb (the control channel hands it over). */
bool tl_att_is_request(const char *line, size_t len);
/* Parses a request line without its newline: 0, or -1 with a one-line reason. */
int tl_att_parse(const char *line, size_t len, struct tl_att_req *req, char *err, size_t errlen);

struct tl_attach;
struct tl_attach *tl_attach_new(tl_stack *s, unsigned services);
/* Takes over fd, whose first request line is line; passed is the
 * descriptor the line carried, or -1 (taken over too). */
void tl_attach_take(struct tl_attach *a, int fd, int passed, const char *line, size_t len);
/* Fills at most max entries of p; returns how many. */
int tl_attach_pollfds(struct tl_attach *a, struct pollfd *p, int max);
/* Serves what the n entries of p (as tl_attach_pollfds filled them) report. */
void tl_attach_serve(struct tl_attach *a, const struct pollfd *p, int n);
/* What is held between programs and the stack, for the counters. */
struct tl_attach_stats {
	uint64_t streams;	/* attached now: listeners, connections, UDP sockets */
	uint64_t staged;	/* bytes taken from the stack, not yet in a program's socket */
	uint64_t to_progs;	/* bytes written to programs, since the start */
	uint64_t from_progs;	/* bytes programs wrote to their connections */
};
void tl_attach_stats(const struct tl_attach *a, struct tl_attach_stats *out);
void tl_attach_free(struct tl_attach *a);

#endif
