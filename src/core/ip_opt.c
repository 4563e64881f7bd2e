/* IPv4 options (RFC 791 3.1): checked on the way in, named in the trace, and
 * Record Route and Timestamp returned in echo replies (RFC 1122 3.2.2.6). */
#include <stdio.h>
#include <string.h>

#include "stack_impl.h"

static const struct tl_event ev_opts_in = {
	"ipopt", "in  IP {peer} > options {opts}",
	{ TL_CONST_FIELD("dir", "in"), TL_FIELD("peer", TL_ADDR), TL_FIELD("opts", TL_STR) },
};

static const char *opt_name(uint8_t kind)
{
	switch (kind) {
	case IPOPT_EOL: return "EOL";
	case IPOPT_NOP: return "NOP";
	case IPOPT_RR: return "RR";
	case IPOPT_TS: return "TS";
	case IPOPT_SEC: return "SEC";
	case IPOPT_LSRR: return "LSRR";
	case IPOPT_SID: return "SID";
	case IPOPT_SSRR: return "SSRR";
	case IPOPT_RA: return "RA";
	default: return NULL;
	}
}

/* One option of olen bytes at o: its name, and for a route or timestamp
 * list how many of its slots are filled. */
static int name_one(const uint8_t *o, size_t olen, char *buf, size_t n)
{
	const char *name = opt_name(o[0]);
	bool route = o[0] == IPOPT_RR || o[0] == IPOPT_LSRR || o[0] == IPOPT_SSRR;

	if (!name)
		return snprintf(buf, n, "opt %u", o[0]);
	if (route && olen >= 3 && o[2] >= 4)
		return snprintf(buf, n, "%s %u/%zu", name, (o[2] - 4) / 4, (olen - 3) / 4);
	if (o[0] == IPOPT_TS && olen >= 4 && o[2] >= 5) {
		size_t entry = (o[3] & 15) == IPOPT_TS_TSONLY ? 4 : 8;
		return snprintf(buf, n, "TS %s %zu/%zu", (o[3] & 15) == IPOPT_TS_TSONLY ? "tsonly"
							 : (o[3] & 15) == IPOPT_TS_PRESPEC ? "prespec"
											    : "tsandaddr",
				(o[2] - 5) / entry, (olen - 4) / entry);
	}
	return snprintf(buf, n, "%s", name);
}

const char *ip_opts_names(const uint8_t *hdr, size_t hdr_len, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = IPV4_HDR_LEN; i < hdr_len && used + 2 < n;) {
		uint8_t kind = hdr[i];
		size_t olen = kind <= IPOPT_NOP ? 1 : i + 1 < hdr_len ? hdr[i + 1] : 0;
		bool bad = kind > IPOPT_NOP && (olen < 2 || i + olen > hdr_len);
		if (used)
			buf[used++] = ',';
		int k = bad ? snprintf(buf + used, n - used, "opt %u bad length", kind)
			    : name_one(hdr + i, olen, buf + used, n - used);
		used = k < 0 ? used : used + (size_t)k < n ? used + (size_t)k : n - 1;
		buf[used] = 0;
		if (bad || kind == IPOPT_EOL)
			break;
		i += olen;
	}
	return buf;
}

bool ip_opts_input(tl_stack *s, const struct ipv4_hdr *ip)
{
	struct ipv4_opts o;
	char names[128];

	if (ip->hdr_len == IPV4_HDR_LEN)
		return true;
	s->cnt.ip_in_options++;
	TL_TRACE(s, &ev_opts_in, TL_N(ip->src), TL_S(ip_opts_names(ip->hdr, ip->hdr_len, names, sizeof names)));
	if (ipv4_parse_options(ip->hdr, ip->hdr_len, &o) != WIRE_OK) {
		s->cnt.ip_drop_bad_options++;
		/* RFC 1122 3.2.2.5: a host SHOULD answer a malformed option with a parameter problem. */
		icmp_send_param_problem(s, ip, o.bad);
		return false;
	}
	/* RFC 7126 4.3, 4.4: a host drops source-routed datagrams by default; we honour none. */
	if (o.srr) {
		s->cnt.ip_drop_source_route++;
		return false;
	}
	/* RFC 1122 3.2.1.8: every other option is accepted, an unknown one ignored. */
	return true;
}

/* RFC 791 3.1: not milliseconds since midnight UT (the core has no wall
 * clock), so the high-order bit marks the value as non-standard. */
static uint32_t timestamp(const tl_stack *s)
{
	return (uint32_t)((s->now / 1000) & 0x7fffffff) | 0x80000000u;
}

/* RFC 791 3.1: our address where the pointer is, unless the route is full. */
static size_t echo_route(const tl_stack *s, const uint8_t *o, uint8_t *out)
{
	size_t len = o[1];

	memcpy(out, o, len);
	if (out[2] + 3u <= len) {
		put32(out + out[2] - 1, s->cfg.addr);
		out[2] += 4;
	}
	return len;
}

/* RFC 791 3.1: a timestamp (after our address, or at our prespecified
 * one) where the pointer is; with no room the overflow count goes up. */
static size_t echo_timestamp(const tl_stack *s, const uint8_t *o, uint8_t *out)
{
	size_t len = o[1], entry = (o[3] & 15) == IPOPT_TS_TSONLY ? 4 : 8;
	uint8_t *at = out + o[2] - 1;

	memcpy(out, o, len);
	if (o[2] + entry - 1 > len) {
		out[3] = (uint8_t)(out[3] + 0x10); /* below 15: ipv4_parse_options saw to it */
		return len;
	}
	if ((o[3] & 15) == IPOPT_TS_PRESPEC && get32(at) != s->cfg.addr)
		return len;
	if ((o[3] & 15) != IPOPT_TS_TSONLY) {
		put32(at, s->cfg.addr);
		at += 4;
	}
	put32(at, timestamp(s));
	out[2] = (uint8_t)(out[2] + entry);
	return len;
}

size_t ip_opts_echo(tl_stack *s, const struct ipv4_hdr *ip, uint8_t *out)
{
	struct ipv4_opts o;
	size_t n = 0;

	if (ip->hdr_len == IPV4_HDR_LEN ||
	    ipv4_parse_options(ip->hdr, ip->hdr_len, &o) != WIRE_OK)
		return 0;
	if (o.rr)
		n += echo_route(s, ip->hdr + o.rr, out + n);
	if (o.ts)
		n += echo_timestamp(s, ip->hdr + o.ts, out + n);
	while (n % 4)
		out[n++] = IPOPT_EOL;
	return n;
}
