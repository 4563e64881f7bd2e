/* IPv4 reassembly (RFC 791 3.2, RFC 815, RFC 1122 3.3.2): fragments are held
 * per datagram until none is missing, within bounds no peer can push past
 * (struct tl_config: ip_frag_*). */
#include <stdlib.h>
#include <string.h>

#include "stack_impl.h"

/* Bytes [off, off + len) of a datagram's payload. */
struct ip_frag {
	struct ip_frag *next; /* by offset; held fragments never overlap */
	uint32_t off, len;
	uint8_t data[];
};

/* RFC 791 3.2: a datagram is named by source, destination, protocol and ID. */
struct ip_reasm {
	struct ip_reasm *prev, *next; /* oldest first: deadlines in order */
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	uint8_t hdr_len;		/* of the first fragment (offset 0); 0 until it came */
	uint8_t hdr[IPV4_MAX_HDR_LEN];
	bool have_last;			/* the fragment with MF clear came: total is known */
	uint32_t total;			/* payload length, once have_last */
	uint32_t held;			/* payload bytes held */
	uint32_t end;			/* the highest end of a fragment held */
	uint32_t nfrags;
	size_t mem;
	tl_time deadline;
	struct ip_frag *frags;
};

static const struct tl_event ev_frag_in = {
	"frag", "in  IP {peer} > {proto} fragment id {id} off {off} len {len}{?mf: MF}",
	{ TL_CONST_FIELD("dir", "in"), TL_FIELD("peer", TL_ADDR), TL_FIELD("proto", TL_STR),
	  TL_FIELD("id", TL_NUM), TL_FIELD("off", TL_NUM), TL_FIELD("len", TL_NUM),
	  TL_FIELD("mf", TL_NUM) },
};
static const struct tl_event ev_reassembled = {
	"reasm", "IP {peer} id {id} reassembled: {proto} {len} bytes from {frags} fragments",
	{ TL_FIELD("peer", TL_ADDR), TL_FIELD("id", TL_NUM), TL_FIELD("proto", TL_STR),
	  TL_FIELD("len", TL_NUM), TL_FIELD("frags", TL_NUM) },
};
static const struct tl_event ev_frag_drop = {
	"frag_drop", "IP {peer} id {id} {what} dropped: {why}",
	{ TL_FIELD("peer", TL_ADDR), TL_FIELD("id", TL_NUM), TL_FIELD("what", TL_STR),
	  TL_FIELD("why", TL_STR) },
};

static const char *proto_name(uint8_t proto)
{
	return proto == IP_PROTO_ICMP ? "ICMP" : proto == IP_PROTO_UDP ? "UDP"
					       : proto == IP_PROTO_TCP ? "TCP" : "other";
}

static void reasm_free(tl_stack *s, struct ip_reasm *r)
{
	*(r->prev ? &r->prev->next : &s->reasm_head) = r->next;
	*(r->next ? &r->next->prev : &s->reasm_tail) = r->prev;
	while (r->frags) {
		struct ip_frag *f = r->frags;
		r->frags = f->next;
		free(f);
	}
	s->reasm_n--;
	s->reasm_mem -= r->mem;
	free(r);
}

static void give_up(tl_stack *s, struct ip_reasm *r, uint64_t *counter, const char *why)
{
	(*counter)++;
	TL_TRACE(s, &ev_frag_drop, TL_N(r->src), TL_N(r->id), TL_S("datagram"), TL_S(why));
	reasm_free(s, r);
}

static void drop_fragment(tl_stack *s, const struct ipv4_hdr *ip, uint64_t *counter,
			  const char *why)
{
	(*counter)++;
	TL_TRACE(s, &ev_frag_drop, TL_N(ip->src), TL_N(ip->id), TL_S("fragment"), TL_S(why));
}

/* Whether a fragment may be held at all, judged on its own. */
static bool fragment_ok(tl_stack *s, const struct ipv4_hdr *ip)
{
	size_t end = ip->frag_off + ip->payload_len;

	/* RFC 791 3.2: every fragment but the last carries a multiple of 8 bytes; none is empty. */
	if (!ip->payload_len || (ip->mf && ip->payload_len % 8)) {
		drop_fragment(s, ip, &s->cnt.ip_frag_drop_bad, "empty or not a multiple of 8 bytes");
		return false;
	}
	/* RFC 791 3.1: the datagram fits a 16-bit total length (the ping of death did not). */
	if (end + (ip->frag_off ? IPV4_HDR_LEN : ip->hdr_len) > TL_MAX_PACKET) {
		drop_fragment(s, ip, &s->cnt.ip_frag_drop_bad, "past 65535 bytes");
		return false;
	}
	if (ip->proto != IP_PROTO_TCP)
		return true;
	/* RFC 1858 3.2: a TCP fragment at offset 8 could rewrite the flags of the first. */
	if (ip->frag_off == 8) {
		drop_fragment(s, ip, &s->cnt.ip_frag_drop_tiny, "TCP fragment at offset 8");
		return false;
	}
	/* RFC 1858 3.1: the first TCP fragment carries the whole TCP header. */
	if (ip->frag_off == 0 && ip->payload_len < TCP_HDR_LEN) {
		drop_fragment(s, ip, &s->cnt.ip_frag_drop_tiny, "tiny first TCP fragment");
		return false;
	}
	return true;
}

static struct ip_reasm *reasm_find(tl_stack *s, const struct ipv4_hdr *ip)
{
	for (struct ip_reasm *r = s->reasm_head; r; r = r->next)
		if (r->id == ip->id && r->src == ip->src && r->dst == ip->dst && r->proto == ip->proto)
			return r;
	return NULL;
}

/* Keeps the bytes held under the bound: the oldest datagrams but keep go first. */
static bool make_room(tl_stack *s, size_t need, const struct ip_reasm *keep)
{
	while (s->reasm_mem + need > s->cfg.ip_frag_mem_max) {
		struct ip_reasm *old = s->reasm_head;
		if (old && old == keep)
			old = old->next;
		if (!old)
			return false;
		give_up(s, old, &s->cnt.ip_frag_drop_mem, "reassembly memory full");
	}
	return true;
}

static struct ip_reasm *reasm_new(tl_stack *s, const struct ipv4_hdr *ip)
{
	/* A bound on datagrams: the oldest makes way, as in FreeBSD. */
	if (s->reasm_n >= s->cfg.ip_frag_dgrams_max && s->reasm_head)
		give_up(s, s->reasm_head, &s->cnt.ip_frag_drop_dgrams, "too many in reassembly");
	if (s->reasm_n >= s->cfg.ip_frag_dgrams_max) {
		drop_fragment(s, ip, &s->cnt.ip_frag_drop_dgrams, "no reassembly");
		return NULL;
	}
	struct ip_reasm *r = make_room(s, sizeof *r, NULL) ? calloc(1, sizeof *r) : NULL;
	if (!r) {
		drop_fragment(s, ip, &s->cnt.ip_frag_drop_mem, "reassembly memory full");
		return NULL;
	}
	r->src = ip->src;
	r->dst = ip->dst;
	r->id = ip->id;
	r->proto = ip->proto;
	r->mem = sizeof *r;
	/* RFC 1122 3.3.2: a fixed timeout from the first fragment to arrive. */
	r->deadline = s->now + TL_MS(s->cfg.ip_frag_timeout_ms);
	r->prev = s->reasm_tail;
	*(s->reasm_tail ? &s->reasm_tail->next : &s->reasm_head) = r;
	s->reasm_tail = r;
	s->reasm_n++;
	s->reasm_mem += r->mem;
	return r;
}

enum fit { FIT_NEW, FIT_DUP, FIT_OVERLAP };

/* Where [off, end) goes among the fragments held: after every one that
 * ends by off; the same bytes again are a duplicate, any other overlap is one. */
static enum fit find_place(struct ip_reasm *r, uint32_t off, uint32_t end, struct ip_frag ***at)
{
	struct ip_frag **p = &r->frags;

	while (*p && (*p)->off + (*p)->len <= off)
		p = &(*p)->next;
	*at = p;
	if (*p && (*p)->off == off && (*p)->off + (*p)->len == end)
		return FIT_DUP;
	return *p && (*p)->off < end ? FIT_OVERLAP : FIT_NEW;
}

/* RFC 791 3.2: the last fragment fixes the datagram's end; nothing may lie past it. */
static bool end_agrees(const struct ip_reasm *r, const struct ipv4_hdr *ip, uint32_t end)
{
	if (!ip->mf)
		return r->have_last ? end == r->total : end >= r->end;
	return !r->have_last || end <= r->total;
}

static void hold(tl_stack *s, struct ip_reasm *r, struct ip_frag *f, struct ip_frag **at,
		 const struct ipv4_hdr *ip)
{
	f->next = *at;
	*at = f;
	r->nfrags++;
	r->held += f->len;
	r->mem += sizeof *f + f->len;
	s->reasm_mem += sizeof *f + f->len;
	if (f->off + f->len > r->end)
		r->end = f->off + f->len;
	if (!ip->mf) {
		r->have_last = true;
		r->total = f->off + f->len;
	}
	if (f->off == 0) {
		memcpy(r->hdr, ip->hdr, ip->hdr_len);
		r->hdr_len = (uint8_t)ip->hdr_len;
	}
}

/* False if the fragment was not kept (and maybe its datagram given up). */
static bool add_fragment(tl_stack *s, struct ip_reasm *r, const struct ipv4_hdr *ip)
{
	uint32_t off = ip->frag_off, end = off + (uint32_t)ip->payload_len;
	struct ip_frag **at = NULL;
	enum fit fit = end_agrees(r, ip, end) ? find_place(r, off, end, &at) : FIT_OVERLAP;

	/* RFC 8200 4.5, as Linux does for IPv4 too: an exact duplicate goes alone. */
	if (fit == FIT_DUP) {
		drop_fragment(s, ip, &s->cnt.ip_frag_drop_dup, "duplicate");
		return false;
	}
	/* RFC 5722 4, applied to IPv4 as Linux does: an overlap discards the datagram. */
	if (fit == FIT_OVERLAP) {
		give_up(s, r, &s->cnt.ip_frag_drop_overlap, "fragments overlap");
		return false;
	}
	if (r->nfrags >= s->cfg.ip_frag_frags_max) {
		give_up(s, r, &s->cnt.ip_frag_drop_frags, "too many fragments");
		return false;
	}
	size_t need = sizeof(struct ip_frag) + ip->payload_len;
	struct ip_frag *f = make_room(s, need, r) ? malloc(need) : NULL;
	if (!f) {
		give_up(s, r, &s->cnt.ip_frag_drop_mem, "reassembly memory full");
		return false;
	}
	f->off = off;
	f->len = (uint32_t)ip->payload_len;
	memcpy(f->data, ip->payload, f->len);
	hold(s, r, f, at, ip);
	return true;
}

/* RFC 791 3.2: the first fragment's header with the whole length and no
 * fragment fields, then the data in order; delivered as any datagram. */
static void reasm_deliver(tl_stack *s, struct ip_reasm *r)
{
	uint8_t *p = s->reasm_buf;
	size_t len = r->hdr_len + (size_t)r->total;
	struct ipv4_hdr ip;

	if (len > TL_MAX_PACKET) {
		give_up(s, r, &s->cnt.ip_frag_drop_bad, "past 65535 bytes");
		return;
	}
	memcpy(p, r->hdr, r->hdr_len);
	for (const struct ip_frag *f = r->frags; f; f = f->next)
		memcpy(p + r->hdr_len + f->off, f->data, f->len);
	put16(p + 2, (uint16_t)len);
	put16(p + 6, get16(p + 6) & IP_DF);
	put16(p + 10, 0);
	put16(p + 10, csum_fold(csum_add(0, p, r->hdr_len)));
	s->cnt.ip_frag_reassembled++;
	TL_TRACE(s, &ev_reassembled, TL_N(r->src), TL_N(r->id), TL_S(proto_name(r->proto)),
		 TL_N(r->total), TL_N(r->nfrags));
	reasm_free(s, r);
	if (ipv4_parse(p, len, &ip) == WIRE_OK)
		ip_deliver(s, &ip);
}

void ip_reass_input(tl_stack *s, const struct ipv4_hdr *ip)
{
	s->cnt.ip_frag_in++;
	TL_TRACE(s, &ev_frag_in, TL_N(ip->src), TL_S(proto_name(ip->proto)), TL_N(ip->id),
		 TL_N(ip->frag_off), TL_N(ip->payload_len), TL_IF(ip->mf, TL_N(1)));
	if (!fragment_ok(s, ip))
		return;
	struct ip_reasm *r = reasm_find(s, ip);
	if (!r && !(r = reasm_new(s, ip)))
		return;
	if (!add_fragment(s, r, ip))
		return;
	/* RFC 815: complete when no hole is left; with no overlaps, when the bytes add up. */
	if (r->have_last && r->held == r->total)
		reasm_deliver(s, r);
}

void ip_reass_poll(tl_stack *s)
{
	while (s->reasm_head && s->reasm_head->deadline <= s->now) {
		struct ip_reasm *r = s->reasm_head;
		/* RFC 1122 3.3.2: time exceeded to the source, if fragment zero came. */
		if (r->hdr_len)
			icmp_send_reass_timeout(s, r->hdr, r->hdr_len, r->frags->data, r->frags->len);
		give_up(s, r, &s->cnt.ip_frag_timeout, "reassembly timed out");
	}
}

tl_time ip_reass_deadline(const tl_stack *s)
{
	return s->reasm_head ? s->reasm_head->deadline : TL_TIME_NEVER;
}

void ip_reass_free(tl_stack *s)
{
	while (s->reasm_head)
		reasm_free(s, s->reasm_head);
}
