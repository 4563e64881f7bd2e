/* Trace lines for segments, tcpdump-like, with relative sequence numbers. */
#include <stdio.h>

#include "tcp.h"

static void flag_string(uint8_t f, char out[8])
{
	char *p = out;

	if (f & TCP_SYN) *p++ = 'S';
	if (f & TCP_FIN) *p++ = 'F';
	if (f & TCP_RST) *p++ = 'R';
	if (f & TCP_PSH) *p++ = 'P';
	if (f & TCP_URG) *p++ = 'U';
	if (f & TCP_ACK) *p++ = '.';
	*p = 0;
	if (p == out)
		snprintf(out, 8, "none");
}

/* The options as tcpdump lists them, SACK blocks as ranges relative to
 * sack_base (the ACK's sequence space): "sack 1449-2897 4345-5793". */
static void option_string(const struct tcp_opts *o, uint32_t sack_base, char *out, size_t n)
{
	int k = 0;

	out[0] = 0;
	if (o->has_mss)
		k += snprintf(out + k, n - (size_t)k, "%smss %u", k ? "," : "", o->mss);
	if (o->has_sack_perm && (size_t)k < n)
		k += snprintf(out + k, n - (size_t)k, "%ssackOK", k ? "," : "");
	if (o->has_ts && (size_t)k < n)
		k += snprintf(out + k, n - (size_t)k, "%sTS val %u ecr %u", k ? "," : "",
			      o->ts_val, o->ts_ecr);
	if (o->has_wscale && (size_t)k < n)
		k += snprintf(out + k, n - (size_t)k, "%swscale %u", k ? "," : "", o->wscale);
	for (uint8_t i = 0; i < o->sack_n && (size_t)k < n; i++)
		k += snprintf(out + k, n - (size_t)k, "%s%u-%u", i ? " " : k ? ",sack " : "sack ",
			      o->sack[i][0] - sack_base, o->sack[i][1] - sack_base);
}

static const struct tl_event ev_seg = {
	"seg",
	"{dir} {src}:{sport} > {dst}:{dport} Flags [{flags}], seq {seq}{?ack:, ack {ack}}, "
	"win {win}{?win_scaled: ({win_scaled})}{?opts:, options [{opts}]}, length {len}",
	{ TL_FIELD("dir", TL_DIR), TL_FIELD("src", TL_ADDR), TL_FIELD("sport", TL_NUM),
	  TL_FIELD("dst", TL_ADDR), TL_FIELD("dport", TL_NUM), TL_FIELD("flags", TL_STR),
	  TL_FIELD("seq", TL_NUM), TL_FIELD("ack", TL_NUM), TL_FIELD("win", TL_NUM),
	  /* the window in bytes, when the field is scaled (RFC 7323 2.3) and not 0 */
	  TL_FIELD("win_scaled", TL_NUM), TL_FIELD("len", TL_NUM), TL_FIELD("opts", TL_STR),
	  /* the sender's state as the segment passed, for tools/plot-cwnd */
	  TL_FIELD("cwnd", TL_NUM), TL_FIELD("ssthresh", TL_WND), TL_FIELD("flight", TL_NUM),
	  TL_FIELD("rwnd", TL_NUM) },
};

/* The shift of the segment's window field: RFC 7323 2.2, never in a SYN;
 * ours on the way out, the peer's on the way in; 0 with no connection. */
static uint8_t window_shift(const struct tl_tcp *c, bool out, const struct tcp_hdr *th)
{
	if (!c || c->state == TL_LISTEN || (th->flags & TCP_SYN))
		return 0;
	return out ? c->rcv_wscale : c->snd_wscale;
}

void tcp_trace_segment(tl_stack *s, const struct tl_tcp *c, bool out,
		       uint32_t src, uint32_t dst, const struct tcp_hdr *th)
{
	char fl[8], opts[160];
	/* Relative to each side's ISN, as tcpdump shows them; absolute when
	 * no connection knows the ISNs. */
	uint32_t seq_base = 0, ack_base = 0;

	if (c && c->state != TL_LISTEN) {
		uint32_t peer = c->irs_known ? c->irs : (out ? 0 : th->seq);
		seq_base = out ? c->iss : peer;
		ack_base = out ? peer : c->iss;
	}
	flag_string(th->flags, fl);
	option_string(&th->opts, ack_base, opts, sizeof opts);
	bool est = c && c->state >= TL_ESTABLISHED;
	uint8_t shift = window_shift(c, out, th);
	TL_TRACE(s, &ev_seg, TL_N(out), TL_N(src), TL_N(th->sport), TL_N(dst), TL_N(th->dport),
		 TL_S(fl), TL_N(th->seq - seq_base),
		 TL_IF(th->flags & TCP_ACK, TL_N(th->ack - ack_base)), TL_N(th->wnd),
		 TL_IF(shift && th->wnd, TL_N((uint32_t)th->wnd << shift)), TL_N(th->data_len),
		 TL_S(opts),
		 TL_IF(est, TL_N(c->cong.cwnd)), TL_IF(est, TL_N(c->cong.ssthresh)),
		 TL_IF(est, TL_N(c->snd_max - c->snd_una)), TL_IF(est, TL_N(c->snd_wnd)));
}

static const struct tl_event ev_cwnd = {
	"cwnd", "{peer}:{port} cwnd {cwnd} ssthresh {ssthresh} flight {flight} ({why})",
	{ TL_FIELD("peer", TL_ADDR), TL_FIELD("port", TL_NUM), TL_FIELD("cwnd", TL_NUM),
	  TL_FIELD("ssthresh", TL_WND), TL_FIELD("flight", TL_NUM), TL_FIELD("rwnd", TL_NUM),
	  TL_FIELD("mss", TL_NUM), TL_FIELD("why", TL_STR) },
};

void tcp_trace_cwnd(struct tl_tcp *c, const char *why)
{
	TL_TRACE(c->stack, &ev_cwnd, TL_N(c->raddr), TL_N(c->rport), TL_N(c->cong.cwnd),
		 TL_N(c->cong.ssthresh), TL_N(c->snd_max - c->snd_una), TL_N(c->snd_wnd),
		 TL_N(c->mss), TL_S(why));
}

static const struct tl_event ev_rtt = {
	"rtt", "{peer}:{port} RTT sample {rtt_us} ms: srtt {srtt_us} ms, rttvar {rttvar_us} ms, "
	"rto {rto_us} ms",
	{ TL_FIELD("peer", TL_ADDR), TL_FIELD("port", TL_NUM), TL_FIELD("rtt_us", TL_US),
	  TL_FIELD("srtt_us", TL_US), TL_FIELD("rttvar_us", TL_US), TL_FIELD("rto_us", TL_US),
	  /* samples expected per round trip, RFC 7323 G: the gains are 1/(8n), 1/(4n) */
	  TL_FIELD("n", TL_NUM) },
};

void tcp_trace_rtt(struct tl_tcp *c, uint32_t rtt_us, uint32_t n)
{
	TL_TRACE(c->stack, &ev_rtt, TL_N(c->raddr), TL_N(c->rport), TL_N(rtt_us),
		 TL_N(c->rtt.srtt_us), TL_N(c->rtt.rttvar_us), TL_N(c->rtt.rto_us), TL_N(n));
}
