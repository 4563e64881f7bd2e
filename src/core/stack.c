/* Stack lifetime, the clock and the counters. */
#include <stdlib.h>
#include <string.h>

#include "siphash.h"
#include "stack_impl.h"

void tl_config_defaults(struct tl_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->addr = 0x0a0a0002; /* 10.10.0.2 */
	cfg->mtu = 1500;
	cfg->seed = 1;
	cfg->icmp_err_per_sec = 100;
	cfg->ip_frag_timeout_ms = 30000; /* Linux's and FreeBSD's; RFC 1122 3.3.2 suggests 60-120 s */
	cfg->ip_frag_mem_max = 4u << 20;  /* Linux's ipfrag_high_thresh */
	cfg->ip_frag_dgrams_max = 256;
	cfg->ip_frag_frags_max = 64;	  /* a 64 KiB datagram at MTU 1500 is 45 */
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
	cfg->tcp_fast_path = 1;
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
	/* The IP ID secret, from the seed as the ISN secret is (RFC 7739 5.3). */
	const uint64_t k[2] = { cfg->seed, 0x69702d6964ull };
	s->ip_id_key[0] = tl_siphash2(k, 0, 0);
	s->ip_id_key[1] = tl_siphash2(k, 1, 0);
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
	ip_reass_free(s);
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
	ip_reass_poll(s);
	loop_deliver(s);
}

tl_time tl_stack_next_deadline(const tl_stack *s)
{
	tl_time tcp = tcp_next_deadline(s), reass = ip_reass_deadline(s);

	return s->loop_n ? s->now : tcp < reass ? tcp : reass;
}

tl_time tl_stack_now(const tl_stack *s) { return s->now; }

void tl_stack_input_flags(tl_stack *s, const uint8_t *pkt, size_t len, tl_time now,
			  unsigned flags)
{
	/* A reassembled datagram is checked whole, whatever its last piece said. */
	bool frag = len >= IPV4_HDR_LEN && (get16(pkt + 6) & 0x3fff) != 0;

	s->in_csum_ok = (flags & TL_IN_CSUM_OK) && !frag;
	tl_stack_input(s, pkt, len, now);
	s->in_csum_ok = false;
}

uint32_t tl_stack_out_gso_size(const tl_stack *s) { return s->out_gso_size; }

const struct tl_counters *tl_stack_counters(const tl_stack *s) { return &s->cnt; }

const struct tl_config *tl_stack_config(const tl_stack *s) { return &s->cfg; }

void tl_counters_foreach(const struct tl_counters *c, tl_counter_fn fn, void *ctx)
{
#define TL_COUNTER_CALL(name, desc) fn(ctx, #name, desc, c->name);
	TL_COUNTERS(TL_COUNTER_CALL)
#undef TL_COUNTER_CALL
}
