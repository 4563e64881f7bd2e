/* IPv4 (RFC 791): validate, demultiplex by protocol, send (in fragments
 * when it must); reassembly is ip_reass.c, options ip_opt.c. */
#include "siphash.h"
#include "stack_impl.h"

static void count_drop(tl_stack *s, enum wire_err e)
{
	switch (e) {
	case WIRE_VERSION: s->cnt.ip_drop_version++; break;
	case WIRE_IHL: s->cnt.ip_drop_ihl++; break;
	case WIRE_TOTAL_LEN: s->cnt.ip_drop_total_len++; break;
	case WIRE_CHECKSUM: s->cnt.ip_drop_checksum++; break;
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

/* Whether ip is for us and from a host we may answer; counted if not. */
static bool addressed_to_us(tl_stack *s, const struct ipv4_hdr *ip)
{
	if (broadcast_dst(s, ip->dst)) {
		s->cnt.ip_drop_broadcast_dst++;
		return false;
	}
	if (ip->dst != s->cfg.addr) {
		s->cnt.ip_drop_not_for_us++;
		return false;
	}
	/* CERT CA-1997-28 (LAND): a packet from our own address to us is forged,
	 * unless it came round our own loopback. */
	if (ip->src == ip->dst && !s->looping) {
		s->cnt.ip_drop_land++;
		return false;
	}
	if (martian_source(s, ip->src) && !s->looping) {
		s->cnt.ip_drop_bad_source++;
		return false;
	}
	return true;
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
	if (!addressed_to_us(s, &ip) || !ip_opts_input(s, &ip))
		return;
	/* RFC 1122 3.3.2: a host MUST reassemble fragments. */
	if (ipv4_is_fragment(&ip)) {
		ip_reass_input(s, &ip);
		return;
	}
	ip_deliver(s, &ip);
}

void ip_deliver(tl_stack *s, const struct ipv4_hdr *ip)
{
	switch (ip->proto) {
	case IP_PROTO_ICMP:
		s->cnt.ip_in_delivers++;
		icmp_input(s, ip);
		break;
	case IP_PROTO_UDP:
		s->cnt.ip_in_delivers++;
		udp_input(s, ip);
		break;
	case IP_PROTO_TCP:
		s->cnt.ip_in_delivers++;
		tcp_input(s, ip);
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
 * a destination's IDs repeat only after 65536 of its datagrams, as RFC 6864
 * 4.2 asks of those we fragment. */
static uint16_t ip_next_id(tl_stack *s, uint32_t dst)
{
	/* The last destination's hash is kept: a transfer hashes once, not per packet. */
	if (!s->ip_id_cached || dst != s->ip_id_dst) {
		s->ip_id_hash = tl_siphash2(s->ip_id_key, s->cfg.addr, dst);
		s->ip_id_dst = dst;
		s->ip_id_cached = true;
	}
	uint64_t h = s->ip_id_hash;

	return (uint16_t)(h + s->ip_id[(h >> 32) % TL_IP_ID_COUNTERS]++);
}

static const struct tl_event ev_opts_out = {
	"ipopt", "out IP {peer} < options {opts}",
	{ TL_CONST_FIELD("dir", "out"), TL_FIELD("peer", TL_ADDR), TL_FIELD("opts", TL_STR) },
};
static const struct tl_event ev_frag_out = {
	"frag", "out IP {peer} < fragment id {id} off {off} len {len}{?mf: MF}",
	{ TL_CONST_FIELD("dir", "out"), TL_FIELD("peer", TL_ADDR), TL_FIELD("id", TL_NUM),
	  TL_FIELD("off", TL_NUM), TL_FIELD("len", TL_NUM), TL_FIELD("mf", TL_NUM) },
};

/* RFC 791 3.2: pieces of the MTU less the header, in multiples of 8 bytes;
 * only the first carries our options (RR and TS are not copied, 3.1). */
static void ip_fragment(tl_stack *s, uint32_t dst, uint8_t proto, size_t opt_len,
			size_t payload_len, uint16_t id)
{
	size_t hlen = IPV4_HDR_LEN + opt_len, h_len = hlen, off = 0;
	uint8_t *h = s->out;

	s->cnt.ip_frag_out_dgrams++;
	while (off < payload_len) {
		size_t piece = (s->cfg.mtu - h_len) & ~(size_t)7;
		size_t n = payload_len - off < piece ? payload_len - off : piece;
		bool more = off + n < payload_len;
		ipv4_build_opts(h, s->cfg.addr, dst, proto, h_len - IPV4_HDR_LEN, n, id,
				(uint16_t)(off / 8 | (more ? IP_MF : 0)));
		s->cnt.ip_frag_out++;
		TL_TRACE(s, &ev_frag_out, TL_N(dst), TL_N(id), TL_N(off), TL_N(n), TL_IF(more, TL_N(1)));
		s->cfg.output(s->cfg.output_ctx, h, h_len + n);
		off += n;
		/* The next header goes over the tail of the piece just sent. */
		h = s->out + hlen + off - IPV4_HDR_LEN;
		h_len = IPV4_HDR_LEN;
	}
}

void ip_output_opts(tl_stack *s, uint32_t dst, uint8_t proto, size_t opt_len,
		    size_t payload_len)
{
	size_t len = IPV4_HDR_LEN + opt_len + payload_len;
	/* With TUN offload the driver hands large TCP segments over whole. */
	size_t tcp_max = s->cfg.tcp_tso_max ? TL_MAX_PACKET : s->cfg.mtu;
	char names[128];

	/* RFC 9293 3.7.1: TCP fits its segments to the MSS and never fragments;
	 * RFC 791 3.1: no datagram is longer than 65535 bytes. */
	if ((proto == IP_PROTO_TCP && len > tcp_max) || len > TL_MAX_PACKET) {
		s->cnt.ip_out_drop_too_big++;
		return;
	}
	/* RFC 1122 3.2.1.3: a reply never goes to a martian or broadcast address. */
	if (martian_source(s, dst)) {
		s->cnt.ip_out_drop_martian++;
		return;
	}
	uint16_t id = ip_next_id(s, dst);
	s->cnt.ip_out_requests++;
	if (opt_len)
		TL_TRACE(s, &ev_opts_out, TL_N(dst),
			 TL_S(ip_opts_names(s->out, IPV4_HDR_LEN + opt_len, names, sizeof names)));
	/* RFC 1122 3.3.4.2: a datagram to one of our own addresses stays inside,
	 * whole; so does TCP past the MTU (tcp_tso_max): the driver splits it. */
	bool whole = dst == s->cfg.addr || len <= s->cfg.mtu || proto == IP_PROTO_TCP;
	if (whole)
		ipv4_build_opts(s->out, s->cfg.addr, dst, proto, opt_len, payload_len, id, IP_DF);
	if (dst == s->cfg.addr)
		loop_output(s, s->out, len);
	else if (whole)
		s->cfg.output(s->cfg.output_ctx, s->out, len);
	/* RFC 1122 3.3.3: a host may fragment what it sends; we do only when it must. */
	else
		ip_fragment(s, dst, proto, opt_len, payload_len, id);
}

void ip_output(tl_stack *s, uint32_t dst, uint8_t proto, size_t payload_len)
{
	ip_output_opts(s, dst, proto, 0, payload_len);
}
