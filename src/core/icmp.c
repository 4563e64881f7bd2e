/* ICMP (RFC 792): echo replies, and the errors: destination unreachable, time
 * exceeded (reassembly) and parameter problem (IP options). */
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
	/* RFC 1122 3.2.2.6: Record Route and Timestamp come back, updated. */
	size_t opt_len = ip_opts_echo(s, ip, s->out + IPV4_HDR_LEN);
	s->cnt.icmp_out_echo_options += opt_len != 0;
	/* RFC 792: the reply carries the request's identifier, sequence and data. */
	uint8_t *msg = s->out + IPV4_HDR_LEN + opt_len;
	size_t len = icmp_build(msg, ICMP_ECHO_REPLY, 0, get32(ip->payload + 4),
				h.data, h.data_len);
	s->cnt.icmp_out_echo_reply++;
	TL_TRACE(s, &ev_echo_reply, TL_N(ip->src), TL_N(h.id), TL_N(h.seq), TL_N(h.data_len));
	ip_output_opts(s, ip->src, IP_PROTO_ICMP, opt_len, len);
}

static const struct tl_event ev_error = {
	"icmp", "out ICMP {peer} < {type} code {code}{?pointer: pointer {pointer}}",
	{ TL_CONST_FIELD("dir", "out"), TL_FIELD("peer", TL_ADDR), TL_FIELD("type", TL_STR),
	  TL_FIELD("code", TL_NUM), TL_FIELD("pointer", TL_NUM) },
};

/* RFC 1122 3.2.2: no error about an ICMP error, nor about a fragment but the first. */
static bool error_allowed(const uint8_t *hdr, const uint8_t *data, size_t data_len)
{
	if (get16(hdr + 6) & IP_OFFMASK)
		return false;
	if (hdr[9] != IP_PROTO_ICMP)
		return true;
	uint8_t t = data_len ? data[0] : ICMP_DEST_UNREACH;
	return t != ICMP_DEST_UNREACH && t != ICMP_SOURCE_QUENCH && t != ICMP_REDIRECT &&
	       t != ICMP_TIME_EXCEEDED && t != ICMP_PARAM_PROBLEM;
}

/* RFC 792: an error quotes the IP header and the first 8 bytes of its data,
 * and goes to that header's source. False if it was not sent. */
static bool send_error(tl_stack *s, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *hdr,
		       size_t hdr_len, const uint8_t *data, size_t data_len)
{
	static const char *const names[] = { [ICMP_DEST_UNREACH] = "unreachable",
					      [ICMP_TIME_EXCEEDED] = "time exceeded",
					      [ICMP_PARAM_PROBLEM] = "parameter problem" };
	if (!error_allowed(hdr, data, data_len))
		return false;
	/* RFC 1812 4.3.2.8: errors are rate-limited. */
	if (!tl_bucket_take(s, &s->icmp_bucket, s->cfg.icmp_err_per_sec)) {
		s->cnt.icmp_out_rate_limited++;
		return false;
	}
	size_t n = data_len < 8 ? data_len : 8;
	uint8_t *msg = s->out + IPV4_HDR_LEN;
	memcpy(msg + ICMP_HDR_LEN, hdr, hdr_len);
	memcpy(msg + ICMP_HDR_LEN + hdr_len, data, n);
	size_t len = icmp_build(msg, type, code, rest, msg + ICMP_HDR_LEN, hdr_len + n);
	TL_TRACE(s, &ev_error, TL_N(get32(hdr + 12)), TL_S(names[type]), TL_N(code),
		 TL_IF(type == ICMP_PARAM_PROBLEM, TL_N(rest >> 24)));
	ip_output(s, get32(hdr + 12), IP_PROTO_ICMP, len);
	return true;
}

void icmp_send_unreach(tl_stack *s, const struct ipv4_hdr *ip, uint8_t code)
{
	if (send_error(s, ICMP_DEST_UNREACH, code, 0, ip->hdr, ip->hdr_len, ip->payload,
		       ip->payload_len))
		s->cnt.icmp_out_port_unreach++;
}

void icmp_send_param_problem(tl_stack *s, const struct ipv4_hdr *ip, uint8_t pointer)
{
	/* RFC 792: the pointer is the first octet of the rest of the header. */
	if (send_error(s, ICMP_PARAM_PROBLEM, 0, (uint32_t)pointer << 24, ip->hdr, ip->hdr_len,
		       ip->payload, ip->payload_len))
		s->cnt.icmp_out_param_problem++;
}

void icmp_send_reass_timeout(tl_stack *s, const uint8_t *hdr, size_t hdr_len,
			     const uint8_t *data, size_t data_len)
{
	if (send_error(s, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0, hdr, hdr_len, data, data_len))
		s->cnt.icmp_out_time_exceeded++;
}
