/* IPv4 (RFC 791): validate, demultiplex by protocol, send. */
#include "siphash.h"
#include "stack_impl.h"

static void count_drop(tl_stack *s, enum wire_err e)
{
	switch (e) {
	case WIRE_VERSION: s->cnt.ip_drop_version++; break;
	case WIRE_IHL: s->cnt.ip_drop_ihl++; break;
	case WIRE_TOTAL_LEN: s->cnt.ip_drop_total_len++; break;
	case WIRE_CHECKSUM: s->cnt.ip_drop_checksum++; break;
	case WIRE_FRAGMENT: s->cnt.ip_drop_fragment++; break;
	case WIRE_OPTIONS: s->cnt.ip_drop_options++; break;
	default: s->cnt.ip_drop_short++; break;
	}
}

/* RFC 1122 3.2.1.3 (d) and 3.3.6: our subnet's broadcast address, with host
 * bits all ones or (the old form) all zeros, when the driver told us the prefix. */
static int subnet_broadcast(const tl_stack *s, uint32_t a)
{
	uint32_t p = s->cfg.prefix_len;
	if (p == 0 || p > 30)
		return 0;
	uint32_t mask = 0xffffffffu << (32 - p);
	return (a & mask) == (s->cfg.addr & mask) && ((a & ~mask) == ~mask || (a & ~mask) == 0);
}

/* RFC 1122 3.2.1.3: "this network" (0/8), loopback, multicast, reserved and
 * broadcast addresses never name one host we could answer. */
static int martian_source(const tl_stack *s, uint32_t a)
{
	uint8_t top = (uint8_t)(a >> 24);
	return top == 0 || top == 127 || top >= 224 || subnet_broadcast(s, a);
}

/* RFC 1122 3.2.2 / 3.3.6: a broadcast or multicast packet gets no answer. */
static int broadcast_dst(const tl_stack *s, uint32_t dst)
{
	/* 224/4 multicast, 240/4, 255.255.255.255, the subnet's broadcast */
	return dst >= 0xe0000000u || subnet_broadcast(s, dst);
}

void tl_stack_input(tl_stack *s, const uint8_t *pkt, size_t len, tl_time now)
{
	struct ipv4_hdr ip;

	if (now > s->now)
		s->now = now;
	s->cnt.ip_in_receives++;
	enum wire_err e = ipv4_parse(pkt, len, &ip);
	if (e != WIRE_OK) {
		count_drop(s, e);
		return;
	}
	if (broadcast_dst(s, ip.dst)) {
		s->cnt.ip_drop_broadcast_dst++;
		return;
	}
	if (ip.dst != s->cfg.addr) {
		s->cnt.ip_drop_not_for_us++;
		return;
	}
	/* CERT CA-1997-28 (LAND): a packet from our own address to us is forged,
	 * unless it came round our own loopback. */
	if (ip.src == ip.dst && !s->looping) {
		s->cnt.ip_drop_land++;
		return;
	}
	if (martian_source(s, ip.src) && !s->looping) {
		s->cnt.ip_drop_bad_source++;
		return;
	}
	switch (ip.proto) {
	case IP_PROTO_ICMP:
		s->cnt.ip_in_delivers++;
		icmp_input(s, &ip);
		break;
	case IP_PROTO_UDP:
		s->cnt.ip_in_delivers++;
		udp_input(s, &ip);
		break;
	case IP_PROTO_TCP:
		s->cnt.ip_in_delivers++;
		tcp_input(s, &ip);
		break;
	default:
		/* RFC 1122 3.2.2.1 would allow protocol unreachable; we stay quiet. */
		s->cnt.ip_drop_proto++;
		break;
	}
}

/* RFC 7739 5.3: ID = F(dst, secret) + counter[G(dst, secret)]. Not one global
 * counter, which tells every host how much we send to the others (RFC 7739 3),
 * and not random IDs, which repeat sooner for one destination (RFC 7739 5.2);
 * our datagrams are atomic (DF), so RFC 6864 4.1 asks no more. */
static uint16_t ip_next_id(tl_stack *s, uint32_t dst)
{
	uint64_t h = tl_siphash2(s->ip_id_key, s->cfg.addr, dst);

	return (uint16_t)(h + s->ip_id[(h >> 32) % TL_IP_ID_COUNTERS]++);
}

size_t ip_max_payload(const tl_stack *s)
{
	return s->cfg.mtu - IPV4_HDR_LEN;
}

void ip_output(tl_stack *s, uint32_t dst, uint8_t proto, size_t payload_len)
{
	/* With TUN offload the driver hands large TCP segments over whole. */
	size_t max = proto == IP_PROTO_TCP && s->cfg.tcp_tso_max ? TL_MAX_PACKET - IPV4_HDR_LEN
								  : ip_max_payload(s);
	if (payload_len > max) {
		s->cnt.ip_out_drop_too_big++;
		return;
	}
	/* RFC 1122 3.2.1.3: a reply never goes to a martian or broadcast address. */
	if (martian_source(s, dst)) {
		s->cnt.ip_out_drop_martian++;
		return;
	}
	ipv4_build(s->out, s->cfg.addr, dst, proto, payload_len, ip_next_id(s, dst));
	s->cnt.ip_out_requests++;
	/* RFC 1122 3.3.4.2: a datagram to one of our own addresses stays inside. */
	if (dst == s->cfg.addr)
		loop_output(s, s->out, IPV4_HDR_LEN + payload_len);
	else
		s->cfg.output(s->cfg.output_ctx, s->out, IPV4_HDR_LEN + payload_len);
}
