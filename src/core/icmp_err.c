/* ICMP errors that reach the transport (RFC 1122 3.2.2.1, 4.1.3.3, 4.2.3.9;
 * RFC 5927): the datagram an error quotes names the connection or socket
 * it is about; they decide what to believe. */
#include <errno.h>

#include "stack_impl.h"

static const struct tl_event ev_error = {
	"icmp", "in  ICMP {peer} > {kind} code {code} about {to}:{port} proto {proto}",
	{ TL_CONST_FIELD("dir", "in"), TL_FIELD("peer", TL_ADDR), TL_FIELD("kind", TL_STR),
	  TL_FIELD("code", TL_NUM), TL_FIELD("to", TL_ADDR), TL_FIELD("port", TL_NUM),
	  TL_FIELD("proto", TL_NUM) },
};

/* The errno an error means to an application, as Linux maps them. */
static int error_errno(uint8_t type, uint8_t code)
{
	static const int unreach[] = { ENETUNREACH, EHOSTUNREACH, ENOPROTOOPT, ECONNREFUSED,
				       EMSGSIZE, EOPNOTSUPP, ENETUNREACH, EHOSTDOWN, ENONET,
				       ENETUNREACH, EHOSTUNREACH, ENETUNREACH, EHOSTUNREACH };

	if (type == ICMP_DEST_UNREACH)
		return code < sizeof unreach / sizeof unreach[0] ? unreach[code] : EHOSTUNREACH;
	return type == ICMP_PARAM_PROBLEM ? EPROTO : EHOSTUNREACH;
}

static const char *kind_name(uint8_t type)
{
	return type == ICMP_DEST_UNREACH ? "unreachable"
	       : type == ICMP_TIME_EXCEEDED ? "time exceeded"
					    : "parameter problem";
}

/* Reads the quoted datagram: 0, or -1 if it cannot be one of ours (RFC 792:
 * its IP header and at least 8 bytes of its data, from our address). */
static int read_quote(const tl_stack *s, const struct icmp_hdr *h, struct icmp_quote *q)
{
	const uint8_t *d = h->data;

	if (h->data_len < IPV4_HDR_LEN + 8 || d[0] >> 4 != 4 || (d[0] & 0xf) < 5)
		return -1;
	size_t ihl = (size_t)(d[0] & 0xf) * 4;
	if (h->data_len < ihl + 8 || get32(d + 12) != s->cfg.addr || (get16(d + 6) & 0x1fff))
		return -1;
	q->type = h->type;
	q->code = h->code;
	q->err = error_errno(h->type, h->code);
	q->mtu = h->type == ICMP_DEST_UNREACH && h->code == ICMP_FRAG_NEEDED ? h->seq : 0;
	q->quoted_len = get16(d + 2);
	q->proto = d[9];
	q->peer = get32(d + 16);
	q->lport = get16(d + ihl);
	q->rport = get16(d + ihl + 2);
	q->seq = get32(d + ihl + 4);
	return 0;
}

void icmp_error_input(tl_stack *s, const struct ipv4_hdr *ip, const struct icmp_hdr *h)
{
	struct icmp_quote q;

	/* RFC 6633: source quench is ignored; so is every type we do not name here. */
	if (h->type != ICMP_DEST_UNREACH && h->type != ICMP_TIME_EXCEEDED &&
	    h->type != ICMP_PARAM_PROBLEM)
		return;
	s->cnt.icmp_in_errors++;
	if (read_quote(s, h, &q) < 0 ||
	    (q.proto != IP_PROTO_TCP && q.proto != IP_PROTO_UDP)) {
		s->cnt.icmp_in_errors_not_ours++;
		return;
	}
	TL_TRACE(s, &ev_error, TL_N(ip->src), TL_S(kind_name(h->type)), TL_N(h->code),
		 TL_N(q.peer), TL_N(q.rport), TL_N(q.proto));
	if (q.proto == IP_PROTO_TCP)
		tcp_icmp_error(s, &q);
	else
		udp_icmp_error(s, &q);
}
