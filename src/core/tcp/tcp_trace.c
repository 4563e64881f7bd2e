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

void tcp_trace_segment(tl_stack *s, const struct tl_tcp *c, bool out,
		       uint32_t src, uint32_t dst, const struct tcp_hdr *th)
{
	char a[16], b[16], fl[8], opts[96];
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
	ip_str(src, a);
	ip_str(dst, b);
	char ackpart[32] = "";
	if (th->flags & TCP_ACK)
		snprintf(ackpart, sizeof ackpart, ", ack %u", th->ack - ack_base);

	struct tl_kv kv[16];
	size_t n = 0;
	kv[n++] = (struct tl_kv)KV_S("dir", out ? "out" : "in");
	kv[n++] = (struct tl_kv)KV_S("src", a);
	kv[n++] = (struct tl_kv)KV_N("sport", th->sport);
	kv[n++] = (struct tl_kv)KV_S("dst", b);
	kv[n++] = (struct tl_kv)KV_N("dport", th->dport);
	kv[n++] = (struct tl_kv)KV_S("flags", fl);
	kv[n++] = (struct tl_kv)KV_N("seq", th->seq - seq_base);
	if (th->flags & TCP_ACK)
		kv[n++] = (struct tl_kv)KV_N("ack", th->ack - ack_base);
	kv[n++] = (struct tl_kv)KV_N("win", th->wnd);
	kv[n++] = (struct tl_kv)KV_N("len", th->data_len);
	kv[n++] = (struct tl_kv)KV_S("opts", opts);
	if (c && c->state >= TL_ESTABLISHED) {
		/* The sender's state as the segment passed, for tools/plot-cwnd. */
		kv[n++] = (struct tl_kv)KV_N("cwnd", c->cong.cwnd);
		kv[n++] = (struct tl_kv)KV_N("ssthresh",
					     c->cong.ssthresh == UINT32_MAX ? 0 : c->cong.ssthresh);
		kv[n++] = (struct tl_kv)KV_N("flight", c->snd_max - c->snd_una);
		kv[n++] = (struct tl_kv)KV_N("rwnd", c->snd_wnd);
	}
	tl_trace_ev(s, "seg", kv, n,
		    "%s %s:%u > %s:%u Flags [%s], seq %u%s, win %u%s%s%s, length %zu",
		    out ? "out" : "in ", a, th->sport, b, th->dport, fl, th->seq - seq_base,
		    ackpart, th->wnd, opts[0] ? ", options [" : "", opts, opts[0] ? "]" : "",
		    th->data_len);
}

void tcp_trace_cwnd(struct tl_tcp *c, const char *why)
{
	tl_stack *s = c->stack;
	char a[16], ss[16] = "inf";

	if (!tl_tracing(s))
		return;
	if (c->cong.ssthresh != UINT32_MAX)
		snprintf(ss, sizeof ss, "%u", c->cong.ssthresh);
	struct tl_kv kv[] = { KV_S("peer", ip_str(c->raddr, a)), KV_N("port", c->rport),
			      KV_N("cwnd", c->cong.cwnd),
			      KV_N("ssthresh", c->cong.ssthresh == UINT32_MAX ? 0 : c->cong.ssthresh),
			      KV_N("flight", c->snd_max - c->snd_una), KV_N("rwnd", c->snd_wnd),
			      KV_N("mss", c->mss), KV_S("why", why) };
	TL_TRACE_EV(s, "cwnd", kv, "%s:%u cwnd %u ssthresh %s flight %u (%s)", a, c->rport,
		    c->cong.cwnd, ss, c->snd_max - c->snd_una, why);
}
