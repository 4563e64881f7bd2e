/* UDP (RFC 768): checksum, demultiplex to bound ports, port unreachable. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stack_impl.h"

/* Port 0 (RFC 768: no reply wanted) and the ports of services that answer
 * anything: echo, discard, daytime, qotd, chargen, time, our second echo. */
static const uint16_t loop_ports[] = { 0, 7, 9, 13, 17, 19, 37, 65432 };

static bool loop_port(uint16_t port)
{
	for (size_t i = 0; i < sizeof loop_ports / sizeof loop_ports[0]; i++)
		if (loop_ports[i] == port)
			return true;
	return false;
}

static struct tl_udp *udp_find(tl_stack *s, uint16_t port)
{
	for (struct tl_udp *u = s->udp_socks; u; u = u->next)
		if (u->port == port)
			return u;
	return NULL;
}

static const struct tl_event ev_udp_in = {
	"udp", "in  UDP {peer}:{port} > :{local_port} len {len}",
	{ TL_CONST_FIELD("dir", "in"), TL_FIELD("peer", TL_ADDR), TL_FIELD("port", TL_NUM),
	  TL_FIELD("local_port", TL_NUM), TL_FIELD("len", TL_NUM) },
};

void udp_input(tl_stack *s, const struct ipv4_hdr *ip)
{
	struct udp_hdr h;

	s->cnt.udp_in++;
	enum wire_err e = udp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, &h);
	if (e != WIRE_OK) {
		if (e == WIRE_CHECKSUM)
			s->cnt.udp_drop_checksum++;
		else if (e == WIRE_LENGTH)
			s->cnt.udp_drop_length++;
		else
			s->cnt.udp_drop_short++;
		return;
	}
	TL_TRACE(s, &ev_udp_in, TL_N(ip->src), TL_N(h.sport), TL_N(h.dport), TL_N(h.data_len));
	/* CERT CA-1996-01: two such services would bounce a datagram forever; on
	 * our loopback, one to a program's ephemeral port is that program's answer. */
	if (loop_port(h.sport) && !(s->looping && !loop_port(h.dport))) {
		s->cnt.udp_drop_loop_port++;
		return;
	}
	struct tl_udp *u = udp_find(s, h.dport);
	if (!u) {
		s->cnt.udp_drop_no_port++;
		/* RFC 1122 3.2.2.1 / 4.1.3.1: closed port -> ICMP port unreachable. */
		icmp_send_unreach(s, ip, ICMP_PORT_UNREACH);
		return;
	}
	s->cnt.udp_in_delivered++;
	struct tl_endpoint from = { ip->src, h.sport };
	u->deliver(u->arg, u, &from, h.data, h.data_len);
}

int tl_udp_open(tl_stack *s, uint16_t port, tl_udp_recv_fn recv, void *arg,
		struct tl_udp **out)
{
	if (port == 0 || !recv)
		return -EINVAL;
	if (udp_find(s, port))
		return -EADDRINUSE;
	struct tl_udp *u = calloc(1, sizeof *u);
	if (!u)
		return -ENOMEM;
	u->stack = s;
	u->port = port;
	u->deliver = recv;
	u->arg = arg;
	u->next = s->udp_socks;
	s->udp_socks = u;
	*out = u;
	return 0;
}

static const struct tl_event ev_udp_out = {
	"udp", "out UDP {peer}:{port} < :{local_port} len {len}",
	{ TL_CONST_FIELD("dir", "out"), TL_FIELD("peer", TL_ADDR), TL_FIELD("port", TL_NUM),
	  TL_FIELD("local_port", TL_NUM), TL_FIELD("len", TL_NUM) },
};

int tl_udp_sendto(struct tl_udp *u, const struct tl_endpoint *to,
		  const void *data, size_t len)
{
	tl_stack *s = u->stack;

	/* RFC 768, RFC 791 3.1: one datagram, in fragments if it must (ip_output). */
	if (len > TL_MAX_PACKET - IPV4_HDR_LEN - UDP_HDR_LEN) {
		s->cnt.udp_out_drop_too_big++;
		return -EMSGSIZE;
	}
	uint8_t *seg = s->out + IPV4_HDR_LEN;
	memmove(seg + UDP_HDR_LEN, data, len);
	udp_build(seg, s->cfg.addr, to->addr, u->port, to->port, len);
	s->cnt.udp_out++;
	TL_TRACE(s, &ev_udp_out, TL_N(to->addr), TL_N(to->port), TL_N(u->port), TL_N(len));
	ip_output(s, to->addr, IP_PROTO_UDP, UDP_HDR_LEN + len);
	return (int)len;
}

void tl_udp_set_error(struct tl_udp *u, tl_udp_error_fn fn)
{
	u->error = fn;
}

/* RFC 1122 4.1.3.3: UDP passes an ICMP error up to the socket that sent. */
void udp_icmp_error(tl_stack *s, const struct icmp_quote *q)
{
	struct tl_udp *u = udp_find(s, q->lport);

	if (!u) {
		s->cnt.udp_icmp_no_socket++;
		return;
	}
	s->cnt.udp_icmp_errors++;
	struct tl_endpoint peer = { q->peer, q->rport };
	if (u->error)
		u->error(u->arg, u, &peer, q->err);
}

void tl_udp_close(struct tl_udp *u)
{
	tl_stack *s = u->stack;

	for (struct tl_udp **p = &s->udp_socks; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			break;
		}
	free(u);
}

void tl_udp_foreach(tl_stack *s, tl_udp_each_fn fn, void *arg)
{
	for (const struct tl_udp *u = s->udp_socks; u; u = u->next)
		fn(arg, u);
}

struct tl_endpoint tl_udp_local(const struct tl_udp *u)
{
	struct tl_endpoint e = { u->stack->cfg.addr, u->port };
	return e;
}
