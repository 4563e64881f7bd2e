/* ICMP (RFC 792): echo replies and destination-unreachable errors. */
#include <string.h>

#include "stack_impl.h"

static const struct tl_event ev_echo_request = {
	"icmp", "in  ICMP {peer} > echo request id {id} seq {seq} len {len}",
	{ TL_CONST_FIELD("dir", "in"), TL_FIELD("peer", TL_ADDR),
	  TL_CONST_FIELD("type", "echo request"), TL_FIELD("id", TL_NUM), TL_FIELD("seq", TL_NUM),
	  TL_FIELD("len", TL_NUM) },
};
static const struct tl_event ev_echo_reply = {
	"icmp", "out ICMP {peer} < echo reply id {id} seq {seq} len {len}",
	{ TL_CONST_FIELD("dir", "out"), TL_FIELD("peer", TL_ADDR),
	  TL_CONST_FIELD("type", "echo reply"), TL_FIELD("id", TL_NUM), TL_FIELD("seq", TL_NUM),
	  TL_FIELD("len", TL_NUM) },
};

void icmp_input(tl_stack *s, const struct ipv4_hdr *ip)
{
	struct icmp_hdr h;

	s->cnt.icmp_in++;
	enum wire_err e = icmp_parse(ip->payload, ip->payload_len, &h);
	if (e != WIRE_OK) {
		if (e == WIRE_CHECKSUM)
			s->cnt.icmp_drop_checksum++;
		else
			s->cnt.icmp_drop_short++;
		return;
	}
	/* RFC 1122 3.2.2: an ICMP error (or anything but a request) is never answered. */
	if (h.type != ICMP_ECHO_REQUEST) {
		s->cnt.icmp_in_other++;
		icmp_error_input(s, ip, &h);
		return;
	}
	s->cnt.icmp_in_echo++;
	TL_TRACE(s, &ev_echo_request, TL_N(ip->src), TL_N(h.id), TL_N(h.seq), TL_N(h.data_len));
	/* RFC 792: the reply carries the request's identifier, sequence and data. */
	uint8_t *msg = s->out + IPV4_HDR_LEN;
	size_t len = icmp_build(msg, ICMP_ECHO_REPLY, 0, get32(ip->payload + 4),
				h.data, h.data_len);
	s->cnt.icmp_out_echo_reply++;
	TL_TRACE(s, &ev_echo_reply, TL_N(ip->src), TL_N(h.id), TL_N(h.seq), TL_N(h.data_len));
	ip_output(s, ip->src, IP_PROTO_ICMP, len);
}

static const struct tl_event ev_unreachable = {
	"icmp", "out ICMP {peer} < unreachable code {code}",
	{ TL_CONST_FIELD("dir", "out"), TL_FIELD("peer", TL_ADDR),
	  TL_CONST_FIELD("type", "unreachable"), TL_FIELD("code", TL_NUM) },
};

void icmp_send_unreach(tl_stack *s, const struct ipv4_hdr *ip, uint8_t code)
{
	if (!tl_bucket_take(s, &s->icmp_bucket, s->cfg.icmp_err_per_sec)) {
		s->cnt.icmp_out_rate_limited++;
		return;
	}
	/* RFC 792: quote the IP header and the first 8 bytes of its data. */
	size_t quote = IPV4_HDR_LEN + (ip->payload_len < 8 ? ip->payload_len : 8);
	uint8_t *msg = s->out + IPV4_HDR_LEN;
	memcpy(msg + ICMP_HDR_LEN, ip->payload - IPV4_HDR_LEN, quote);
	size_t len = icmp_build(msg, ICMP_DEST_UNREACH, code, 0,
				msg + ICMP_HDR_LEN, quote);
	s->cnt.icmp_out_port_unreach++;
	TL_TRACE(s, &ev_unreachable, TL_N(ip->src), TL_N(code));
	ip_output(s, ip->src, IP_PROTO_ICMP, len);
}
