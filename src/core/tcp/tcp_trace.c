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

static void option_string(const struct tcp_opts *o, char *out, size_t n)
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
	if (o->sack_n && (size_t)k < n)
		snprintf(out + k, n - (size_t)k, "%ssack %u", k ? "," : "", o->sack_n);
}

static const struct tl_event ev_seg = {
	"seg",
	"{dir} {src}:{sport} > {dst}:{dport} Flags [{flags}], seq {seq}{?ack:, ack {ack}}, "
	"win {win}{?opts:, options [{opts}]}, length {len}",
	{ TL_FIELD("dir", TL_DIR), TL_FIELD("src", TL_ADDR), TL_FIELD("sport", TL_NUM),
	  TL_FIELD("dst", TL_ADDR), TL_FIELD("dport", TL_NUM), TL_FIELD("flags", TL_STR),
	  TL_FIELD("seq", TL_NUM), TL_FIELD("ack", TL_NUM), TL_FIELD("win", TL_NUM),
	  TL_FIELD("len", TL_NUM), TL_FIELD("opts", TL_STR),
	  /* the sender's state as the segment passed, for tools/plot-cwnd */
	  TL_FIELD("cwnd", TL_NUM), TL_FIELD("ssthresh", TL_WND), TL_FIELD("flight", TL_NUM),
	  TL_FIELD("rwnd", TL_NUM) },
};

void tcp_trace_segment(tl_stack *s, const struct tl_tcp *c, bool out,
		       uint32_t src, uint32_t dst, const struct tcp_hdr *th)
{
	char fl[8], opts[96];
	/* Relative to each side's ISN, as tcpdump shows them; absolute when
	 * no connection knows the ISNs. */
	uint32_t seq_base = 0, ack_base = 0;

	if (c && c->state != TL_LISTEN) {
		uint32_t peer = c->irs_known ? c->irs : (out ? 0 : th->seq);
		seq_base = out ? c->iss : peer;
		ack_base = out ? peer : c->iss;
	}
	flag_string(th->flags, fl);
	option_string(&th->opts, opts, sizeof opts);
	bool est = c && c->state >= TL_ESTABLISHED;
	TL_TRACE(s, &ev_seg, TL_N(out), TL_N(src), TL_N(th->sport), TL_N(dst), TL_N(th->dport),
		 TL_S(fl), TL_N(th->seq - seq_base),
		 TL_IF(th->flags & TCP_ACK, TL_N(th->ack - ack_base)), TL_N(th->wnd),
		 TL_N(th->data_len), TL_S(opts), TL_IF(est, TL_N(c->cong.cwnd)),
		 TL_IF(est, TL_N(c->cong.ssthresh)), TL_IF(est, TL_N(c->snd_max - c->snd_una)),
		 TL_IF(est, TL_N(c->snd_wnd)));
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
