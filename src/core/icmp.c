/* ICMP (RFC 792): echo replies and destination-unreachable errors. */
#include <string.h>

#include "stack_impl.h"

void icmp_input(tl_stack *s, const struct ipv4_hdr *ip)
{
	struct icmp_hdr h;
	char a[16];

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
		return;
	}
	s->cnt.icmp_in_echo++;
	if (tl_tracing(s)) {
		struct tl_kv kv[] = { KV_S("dir", "in"), KV_S("peer", ip_str(ip->src, a)),
				      KV_S("type", "echo request"), KV_N("id", h.id),
				      KV_N("seq", h.seq), KV_N("len", h.data_len) };
		TL_TRACE_EV(s, "icmp", kv, "in  ICMP %s > echo request id %u seq %u len %zu",
			    a, h.id, h.seq, h.data_len);
	}
	/* RFC 792: the reply carries the request's identifier, sequence and data. */
	uint8_t *msg = s->out + IPV4_HDR_LEN;
	size_t len = icmp_build(msg, ICMP_ECHO_REPLY, 0, get32(ip->payload + 4),
				h.data, h.data_len);
	s->cnt.icmp_out_echo_reply++;
	if (tl_tracing(s)) {
		struct tl_kv kv[] = { KV_S("dir", "out"), KV_S("peer", ip_str(ip->src, a)),
				      KV_S("type", "echo reply"), KV_N("id", h.id),
				      KV_N("seq", h.seq), KV_N("len", h.data_len) };
		TL_TRACE_EV(s, "icmp", kv, "out ICMP %s < echo reply id %u seq %u len %zu",
			    a, h.id, h.seq, h.data_len);
	}
	ip_output(s, ip->src, IP_PROTO_ICMP, len);
}

void icmp_send_unreach(tl_stack *s, const struct ipv4_hdr *ip, uint8_t code)
{
	char a[16];

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
	if (tl_tracing(s)) {
		struct tl_kv kv[] = { KV_S("dir", "out"), KV_S("peer", ip_str(ip->src, a)),
				      KV_S("type", "unreachable"), KV_N("code", code) };
		TL_TRACE_EV(s, "icmp", kv, "out ICMP %s < unreachable code %u", a, code);
	}
	ip_output(s, ip->src, IP_PROTO_ICMP, len);
}
