/* Stack lifetime, the clock, counters and trace plumbing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack_impl.h"

void tl_config_defaults(struct tl_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->addr = 0x0a0a0002; /* 10.10.0.2 */
	cfg->mtu = 1500;
	cfg->seed = 1;
	cfg->icmp_err_per_sec = 100;
	cfg->tcp_max_conns = 65536;
	cfg->tcp_rcvbuf = 256 * 1024;
	cfg->tcp_sndbuf = 256 * 1024;
	cfg->tcp_ooo_max = 256;
	cfg->tcp_msl_ms = 30000;
	cfg->tcp_rto_min_ms = 200;
	cfg->tcp_rto_max_ms = 60000;
	cfg->tcp_rto_init_ms = 1000;
	cfg->tcp_max_retries = 15;
	cfg->tcp_delack_ms = 40; /* Linux's minimum; RFC 1122 4.2.3.2 allows up to 500 */
	cfg->tcp_init_cwnd = 10;
	cfg->tcp_syncookies = 1;
	cfg->tcp_time_wait_max = 16384;
	cfg->tcp_ooo_bytes_max = 16u << 20;
	cfg->tcp_rst_per_sec = 200;		/* FreeBSD's icmplim, which covers RSTs too */
	cfg->tcp_challenge_ack_per_sec = 1000;	/* Linux's tcp_challenge_ack_limit */
	cfg->tcp_challenge_ack_interval_ms = 500; /* Linux's tcp_invalid_ratelimit */
	cfg->tcp_tlp = 1;
	cfg->tcp_timestamps = 1;
	cfg->tcp_cc = TL_CC_CUBIC; /* docs/09-congestion-control.md#cubic: measured */
	cfg->tcp_buf_idle_ms = 1000;
}

tl_stack *tl_stack_new(const struct tl_config *cfg)
{
	if (!cfg->output || cfg->mtu < 576 || cfg->mtu > TL_MAX_PACKET ||
	    cfg->tcp_rcvbuf < 1024 || cfg->tcp_sndbuf < 1024)
		return NULL;
	tl_stack *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->ip_id = (uint16_t)cfg->seed;
	if (tcp_init(s) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void tl_stack_free(tl_stack *s)
{
	if (!s)
		return;
	tcp_free(s);
	loop_free(s);
	while (s->udp_socks) {
		struct tl_udp *u = s->udp_socks;
		s->udp_socks = u->next;
		free(u);
	}
	free(s);
}

static void advance(tl_stack *s, tl_time now)
{
	if (now > s->now)
		s->now = now;
}

void tl_stack_poll(tl_stack *s, tl_time now)
{
	advance(s, now);
	tcp_poll(s);
	loop_deliver(s);
}

tl_time tl_stack_next_deadline(const tl_stack *s)
{
	return s->loop_n ? s->now : tcp_next_deadline(s);
}

tl_time tl_stack_now(const tl_stack *s) { return s->now; }

const struct tl_counters *tl_stack_counters(const tl_stack *s) { return &s->cnt; }

const struct tl_config *tl_stack_config(const tl_stack *s) { return &s->cfg; }

void tl_counters_foreach(const struct tl_counters *c, tl_counter_fn fn, void *ctx)
{
#define TL_COUNTER_CALL(name, desc) fn(ctx, #name, desc, c->name);
	TL_COUNTERS(TL_COUNTER_CALL)
#undef TL_COUNTER_CALL
}

static size_t json_string(char *out, size_t n, const char *str)
{
	size_t k = 0;

	for (; *str && k + 3 < n; str++) {
		if (*str == '"' || *str == '\\')
			out[k++] = '\\';
		out[k++] = (unsigned char)*str < 0x20 ? ' ' : *str;
	}
	out[k] = 0;
	return k;
}

void tl_trace_ev(tl_stack *s, const char *ev, const struct tl_kv *kv, size_t n,
		 const char *fmt, ...)
{
	char line[640], str[128];
	va_list ap;
	size_t k;

	if (!s->cfg.trace)
		return;
	if (!s->cfg.trace_json) {
		va_start(ap, fmt);
		vsnprintf(line, sizeof line, fmt, ap);
		va_end(ap);
		s->cfg.trace(s->cfg.trace_ctx, s->now, line);
		return;
	}
	k = (size_t)snprintf(line, sizeof line, "{\"ev\":\"%s\"", ev);
	for (size_t i = 0; i < n && k < sizeof line; i++) {
		if (kv[i].s) {
			json_string(str, sizeof str, kv[i].s);
			k += (size_t)snprintf(line + k, sizeof line - k, ",\"%s\":\"%s\"",
					      kv[i].k, str);
		} else {
			k += (size_t)snprintf(line + k, sizeof line - k, ",\"%s\":%lld",
					      kv[i].k, (long long)kv[i].n);
		}
	}
	if (k + 2 <= sizeof line)
		snprintf(line + k, sizeof line - k, "}");
	s->cfg.trace(s->cfg.trace_ctx, s->now, line);
}

const char *ip_str(uint32_t a, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		 a & 255);
	return buf;
}

bool tl_bucket_take(tl_stack *s, struct tl_bucket *b, uint32_t rate)
{
	if (rate == 0)
		return true;
	if (!b->started || s->now >= b->refill + TL_MS(1000)) {
		b->tokens = rate;
		b->refill = s->now;
		b->started = true;
	}
	if (b->tokens == 0)
		return false;
	b->tokens--;
	return true;
}
