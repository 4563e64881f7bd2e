/* ICMP errors about our segments: hard errors, soft errors and path MTU
 * discovery (RFC 1122 4.2.3.9, RFC 5927, RFC 1191). */
#include <errno.h>

#include "tcp.h"

#define PMTU_MIN 552 /* as Linux's min_pmtu: a forged tiny MTU shrinks nothing (RFC 5927 7.2) */

static const struct tl_event ev_pmtu = {
	"pmtu", "{peer}:{port} path MTU {mtu}: segments of {mss} bytes from now on",
	{ TL_FIELD("peer", TL_ADDR), TL_FIELD("port", TL_NUM), TL_FIELD("mtu", TL_NUM),
	  TL_FIELD("mss", TL_NUM) },
};

static const struct tl_event ev_soft = {
	"icmp_error", "{peer}:{port} {what}: {err}",
	{ TL_FIELD("peer", TL_ADDR), TL_FIELD("port", TL_NUM), TL_FIELD("what", TL_STR),
	  TL_FIELD("err", TL_NUM) },
};

/* RFC 1191 5 and 7: a router that does not say its MTU dropped a datagram
 * of quoted_len bytes; the next plateau below is a guess that holds. */
static uint32_t plateau_below(uint32_t quoted_len)
{
	static const uint16_t plateaus[] = { 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296 };

	for (size_t i = 0; i < sizeof plateaus / sizeof plateaus[0]; i++)
		if (plateaus[i] < quoted_len)
			return plateaus[i];
	return 68;
}

static void pmtu_lower(struct tl_tcp *c, const struct icmp_quote *q)
{
	tl_stack *s = c->stack;
	uint32_t mtu = q->mtu ? q->mtu : plateau_below(q->quoted_len);
	uint32_t hdrs = IPV4_HDR_LEN + TCP_HDR_LEN + (c->ts.ok ? 12u : 0u);

	if (mtu < PMTU_MIN)
		mtu = PMTU_MIN;
	/* RFC 1191 6.3 / RFC 5927 7.2: only an MTU below the segments we send is news. */
	if (mtu >= c->mss + hdrs) {
		s->cnt.tcp_pmtu_ignored++;
		return;
	}
	c->mss = (uint16_t)(mtu - hdrs);
	s->cnt.tcp_pmtu_lowered++;
	TL_TRACE(s, &ev_pmtu, TL_N(c->raddr), TL_N(c->rport), TL_N(mtu), TL_N(c->mss));
	/* RFC 1191 6.4: the segment was dropped; resend now, no congestion response. */
	c->fl->rtt.timing = false;
	tcp_rec_resend_all(c);
	tcp_output(c);
}

void tcp_icmp_error(tl_stack *s, const struct icmp_quote *q)
{
	struct tl_tcp *c = tcp_lookup(s, q->peer, q->rport, q->lport);

	if (!c || c->state == TL_TIME_WAIT) {
		s->cnt.tcp_icmp_no_conn++;
		return;
	}
	/* RFC 5927 4.1: believe only an error that quotes a sequence number in flight. */
	if (seq_lt(q->seq, c->snd_una) || !seq_lt(q->seq, c->snd_max)) {
		s->cnt.tcp_icmp_bad_seq++;
		return;
	}
	if (q->type == ICMP_DEST_UNREACH && q->code == ICMP_FRAG_NEEDED) {
		pmtu_lower(c, q);
	} else if (c->state == TL_SYN_SENT && q->type == ICMP_DEST_UNREACH &&
		   (q->code == 2 || q->code == ICMP_PORT_UNREACH)) {
		/* RFC 1122 4.2.3.9: protocol or port unreachable is a hard error: abort the open. */
		s->cnt.tcp_icmp_hard++;
		TL_TRACE(s, &ev_soft, TL_N(c->raddr), TL_N(c->rport), TL_S("connect refused"),
			 TL_N(ECONNREFUSED));
		tcp_drop(c, -ECONNREFUSED);
		tcp_reap(s);
	} else {
		/* RFC 1122 4.2.3.9, RFC 5461: the rest are soft; kept in case we time out. */
		s->cnt.tcp_icmp_soft++;
		c->soft_err = q->err;
		TL_TRACE(s, &ev_soft, TL_N(c->raddr), TL_N(c->rport), TL_S("soft error"),
			 TL_N(q->err));
	}
}
