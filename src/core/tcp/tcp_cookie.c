/* SYN cookies, RFC 4987 3.6: when a listener's backlog is full, the
 * SYN-ACK's ISN carries what the connection must remember, and the ACK
 * that returns it rebuilds the connection. */
#include <string.h>

#include "tcp.h"
#include "../siphash.h"

/* RFC 4987 3.6: the MSS a cookie can say, in 3 bits (its low ones). */
static const uint16_t cookie_mss[8] = { 64, 536, 1200, 1300, 1400, 1440, 1460, 8960 };
#define COOKIE_NO_WSCALE 15

/* The low 8 bits: MSS index, the peer's window scale (15: none), SACK-permitted. */
static uint32_t cookie_bits(tl_stack *s, const struct tcp_hdr *th)
{
	uint32_t mss = th->opts.has_mss ? th->opts.mss : TCP_DEFAULT_MSS, i = 7;
	uint32_t ws = th->opts.wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : th->opts.wscale;

	if (mss > tcp_our_mss(s))
		mss = tcp_our_mss(s);
	while (i > 0 && cookie_mss[i] > mss)
		i--;
	ws = th->opts.has_wscale ? ws : COOKIE_NO_WSCALE;
	return i << 5 | ws << 1 | th->opts.has_sack_perm;
}

/* RFC 4987 3.6: 24 bits of a keyed hash of 4-tuple, peer ISN, counter and bits. */
static uint32_t cookie_hash(tl_stack *s, uint32_t raddr, uint16_t rport, uint16_t lport,
			    uint32_t pisn, uint64_t counter, uint32_t bits)
{
	uint64_t m[3] = { (uint64_t)s->cfg.addr << 32 | raddr,
			  (uint64_t)lport << 48 | (uint64_t)rport << 32 | pisn,
			  counter << 8 | bits };

	return (uint32_t)(tl_siphash(s->tcp->cookie_key, m, 3) >> 40);
}

static void cookie_decode(uint32_t bits, struct tcp_cookie *k)
{
	k->mss = cookie_mss[bits >> 5 & 7];
	k->has_wscale = (bits >> 1 & 15) != COOKIE_NO_WSCALE;
	k->wscale = k->has_wscale ? (uint8_t)(bits >> 1 & 15) : 0;
	k->sack_ok = bits & 1;
}

/* The ISN of a stateless SYN-ACK answering th (RFC 4987 3.6). */
static uint32_t tcp_cookie_make(tl_stack *s, uint32_t raddr, const struct tcp_hdr *th,
			 struct tcp_cookie *out)
{
	uint64_t counter = s->now / TL_MS(TCP_COOKIE_PERIOD_MS);
	uint32_t bits = cookie_bits(s, th);

	cookie_decode(bits, out);
	return cookie_hash(s, raddr, th->sport, th->dport, th->seq, counter, bits) << 8 | bits;
}

/* True if th->ack - 1 is a cookie we made lately for this peer; fills out. */
static bool tcp_cookie_check(tl_stack *s, uint32_t raddr, const struct tcp_hdr *th,
		      struct tcp_cookie *out)
{
	uint64_t counter = s->now / TL_MS(TCP_COOKIE_PERIOD_MS);
	uint32_t cookie = th->ack - 1, bits = cookie & 0xff;

	/* RFC 4987 3.6: valid for the current counter or the one before it. */
	for (uint64_t age = 0; age < 2 && age <= counter; age++)
		if (cookie_hash(s, raddr, th->sport, th->dport, th->seq - 1, counter - age,
				bits) == cookie >> 8) {
			cookie_decode(bits, out);
			return true;
		}
	return false;
}


/* RFC 4987 3.6: the backlog is full, so the SYN-ACK carries all we must know. */
void tcp_cookie_reply(tl_stack *s, struct tl_tcp *l, const struct ipv4_hdr *ip,
			 const struct tcp_hdr *th)
{
	struct tcp_cookie k;
	uint32_t isn = tcp_cookie_make(s, ip->src, th, &k);

	l->fl->cookie_at = s->now ? s->now : 1;
	s->cnt.tcp_syncookies_sent++;
	tcp_send_cookie_synack(s, ip, th, isn, &k);
}

/* Did this listener send cookies within the two counters a cookie lives? */
static bool cookies_recent(const tl_stack *s, const struct tl_tcp *l)
{
	return l->fl->cookie_at && s->now - l->fl->cookie_at < 2 * TL_MS(TCP_COOKIE_PERIOD_MS);
}

/* The SYN the cookie stands for, as learn_peer_syn wants it. */
static void cookie_syn(const struct tcp_hdr *th, const struct tcp_cookie *k,
		       struct tcp_hdr *syn)
{
	memset(syn, 0, sizeof *syn);
	syn->seq = th->seq - 1;
	syn->ack = th->ack;
	syn->flags = TCP_SYN;
	syn->wnd = th->wnd; /* RFC 4987 3.6: the SYN's own window is not kept */
	syn->opts.has_mss = true;
	syn->opts.mss = k->mss;
	syn->opts.has_wscale = k->has_wscale;
	syn->opts.wscale = k->wscale;
	syn->opts.has_sack_perm = k->sack_ok;
}

#define COOKIE_FIELDS                                                                    \
	{ TL_FIELD("peer", TL_ADDR), TL_FIELD("port", TL_NUM), TL_FIELD("valid", TL_NUM), \
	  TL_FIELD("mss", TL_NUM), TL_FIELD("wscale", TL_NUM), TL_FIELD("sack", TL_YESNO) }
static const struct tl_event ev_cookie_valid = {
	"cookie", "{peer}:{port} SYN cookie valid: mss {mss}, wscale {wscale}, sack {sack}",
	COOKIE_FIELDS,
};
static const struct tl_event ev_cookie_invalid = {
	"cookie", "{peer}:{port} SYN cookie invalid or expired: RST", COOKIE_FIELDS,
};

/* k is NULL when the cookie was not good. */
static void trace_cookie(tl_stack *s, const struct ipv4_hdr *ip, const struct tcp_hdr *th,
			 const struct tcp_cookie *k)
{
	TL_TRACE(s, k ? &ev_cookie_valid : &ev_cookie_invalid, TL_N(ip->src), TL_N(th->sport),
		 TL_N(k != NULL), TL_N(k ? k->mss : 0), TL_N(k && k->has_wscale ? k->wscale : -1),
		 TL_N(k && k->sack_ok));
}

/* RFC 4987 3.6: a valid cookie ACK rebuilds the SYN-RECEIVED connection
 * (MSS rounded down to a table entry; window scale and SACK-permitted are
 * encoded; timestamps and SYN data are lost) and then takes the ACK. */
static void cookie_open(tl_stack *s, struct tl_tcp *l, const struct ipv4_hdr *ip,
			const struct tcp_hdr *th, const struct tcp_cookie *k)
{
	struct tl_tcp *c = tcp_conn_new(s, ip->src, th->sport, th->dport);
	struct tcp_hdr syn;

	if (!c) {
		s->cnt.tcp_drop_table_full++;
		return;
	}
	s->cnt.tcp_syncookies_ok++;
	cookie_syn(th, k, &syn);
	tcp_learn_peer_syn(c, &syn);
	c->iss = th->ack - 1;
	c->snd_una = c->recover = c->fl->sb.high = c->iss;
	c->snd_nxt = c->snd_max = th->ack; /* as if our SYN-ACK had gone out */
	c->rcv_adv = c->rcv_nxt + (s->cfg.tcp_rcvbuf > 65535 ? 65535 : s->cfg.tcp_rcvbuf);
	tcp_passive_open(c, l);
	tcp_conn_input(c, ip, th);
	if (!c->dead && c->state == TL_SYN_RECEIVED)
		tcp_destroy(c); /* no timer would ever end it: no SYN-ACK is outstanding */
}

/* RFC 9293 3.10.7.2 second: an ACK for LISTEN; a cookie's ACK is good. */
void tcp_listen_ack(tl_stack *s, struct tl_tcp *l, const struct ipv4_hdr *ip,
		       const struct tcp_hdr *th)
{
	struct tcp_cookie k;

	if (!(th->flags & TCP_SYN) && cookies_recent(s, l)) {
		bool ok = tcp_cookie_check(s, ip->src, th, &k);
		trace_cookie(s, ip, th, ok ? &k : NULL);
		if (ok) {
			cookie_open(s, l, ip, th, &k);
			return;
		}
		s->cnt.tcp_syncookies_failed++;
	}
	tcp_send_reset_reply(s, ip, th); /* any other ACK is bad */
}

