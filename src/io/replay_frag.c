/* Fragments put back together for the replayer's comparison (RFC 791 3.2).
 * Unlike the stack's reassembly this trusts its input to come from one
 * well-behaved sender: one datagram at a time, no overlaps. */
#include "replay_frag.h"

#include <string.h>

#include "wire.h"

static void reset(struct rp_frags *f)
{
	f->active = false;
	f->hdr_len = 0;
	f->have_last = false;
	f->total = f->held = f->max_end = 0;
	f->n = 0;
	memset(f->blocks, 0, sizeof f->blocks);
}

static enum rp_frag_res bad(struct rp_frags *f, const char *why)
{
	reset(f);
	f->why = why;
	return RPF_BAD;
}

/* Marks the 8-byte blocks of [off, end) held; false if one already was. */
static bool claim(struct rp_frags *f, uint32_t off, uint32_t end)
{
	for (uint32_t b = off / 8; b < (end + 7) / 8; b++)
		if (f->blocks[b / 8] & (1u << (b % 8)))
			return false;
	for (uint32_t b = off / 8; b < (end + 7) / 8; b++)
		f->blocks[b / 8] |= (uint8_t)(1u << (b % 8));
	return true;
}

/* RFC 791 3.2: piece zero's header with the whole length and no fragment fields. */
static void build_whole(struct rp_frags *f)
{
	memcpy(f->whole, f->hdr, f->hdr_len);
	memcpy(f->whole + f->hdr_len, f->data, f->total);
	f->whole_len = f->hdr_len + f->total;
	put16(f->whole + 2, (uint16_t)f->whole_len);
	put16(f->whole + 6, get16(f->whole + 6) & IP_DF);
	put16(f->whole + 10, 0);
	put16(f->whole + 10, csum_fold(csum_add(0, f->whole, f->hdr_len)));
}

static bool same_datagram(const struct rp_frags *f, const struct ipv4_hdr *ip)
{
	return f->id == ip->id && f->src == ip->src && f->dst == ip->dst && f->proto == ip->proto;
}

enum rp_frag_res rp_frag_add(struct rp_frags *f, const uint8_t *pkt, size_t len)
{
	struct ipv4_hdr ip;

	if (ipv4_parse(pkt, len, &ip) != WIRE_OK || !ipv4_is_fragment(&ip))
		return RPF_NOT;
	uint32_t off = ip.frag_off, end = off + (uint32_t)ip.payload_len;
	if (f->active && !same_datagram(f, &ip))
		return bad(f, "pieces of two datagrams interleaved");
	/* RFC 791 3.2: every piece but the last is a multiple of 8 bytes; none ends past 65535. */
	if (!ip.payload_len || (ip.mf && ip.payload_len % 8) ||
	    end + (off ? IPV4_HDR_LEN : ip.hdr_len) > RPF_MAX)
		return bad(f, "a malformed piece");
	/* RFC 791 3.2: the piece without MF fixes the end; nothing lies past it. */
	if ((f->have_last && (!ip.mf || end > f->total)) || (!ip.mf && end < f->max_end) ||
	    !claim(f, off, end))
		return bad(f, "pieces overlap or disagree on the end");
	if (!f->active) {
		f->active = true;
		f->src = ip.src, f->dst = ip.dst, f->id = ip.id, f->proto = ip.proto;
	}
	memcpy(f->data + off, ip.payload, ip.payload_len);
	f->held += (uint32_t)ip.payload_len;
	f->n++;
	if (end > f->max_end)
		f->max_end = end;
	if (!ip.mf)
		f->have_last = true, f->total = end;
	if (off == 0)
		memcpy(f->hdr, ip.hdr, ip.hdr_len), f->hdr_len = ip.hdr_len;
	if (!f->have_last || f->held != f->total || !f->hdr_len)
		return RPF_HELD;
	/* RFC 791 3.1: with piece zero's options the whole may not pass 65535 bytes. */
	if (f->hdr_len + f->total > RPF_MAX)
		return bad(f, "the datagram would pass 65535 bytes");
	build_whole(f);
	f->whole_pieces = f->n;
	reset(f);
	return RPF_DONE;
}
