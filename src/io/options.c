/* What the command line sets that both drivers (TUN and replay) share. */
#include "options.h"

#include "tcplab/stack.h"

void tl_tune_apply(const struct tl_tune *t, struct tl_config *cfg)
{
	if (t->rcvbuf)
		cfg->tcp_rcvbuf = t->rcvbuf;
	if (t->sndbuf)
		cfg->tcp_sndbuf = t->sndbuf;
	if (t->init_cwnd)
		cfg->tcp_init_cwnd = t->init_cwnd;
	if (t->have_delack)
		cfg->tcp_delack_ms = t->delack_ms;
	if (t->have_ack_batch)
		cfg->tcp_ack_batch_max = t->ack_batch;
	if (t->have_syncookies)
		cfg->tcp_syncookies = t->syncookies;
	if (t->have_time_wait_max)
		cfg->tcp_time_wait_max = t->time_wait_max;
	if (t->have_ooo_bytes_max)
		cfg->tcp_ooo_bytes_max = t->ooo_bytes_max;
	if (t->have_rst)
		cfg->tcp_rst_per_sec = t->rst_per_sec;
	if (t->have_challenge)
		cfg->tcp_challenge_ack_per_sec = t->challenge_per_sec;
	if (t->have_challenge_interval)
		cfg->tcp_challenge_ack_interval_ms = t->challenge_interval_ms;
	if (t->have_tlp)
		cfg->tcp_tlp = t->tlp;
	if (t->have_recovery)
		cfg->tcp_recovery = t->recovery;
	if (t->have_timestamps)
		cfg->tcp_timestamps = t->timestamps;
	if (t->have_cc)
		cfg->tcp_cc = t->cc;
}

void tl_print_trace(FILE *f, double secs, bool json, const char *line)
{
	/* The core's JSON object starts with '{'; the time goes first in it. */
	if (json && line[0] == '{')
		fprintf(f, "{\"t\":%.6f,%s\n", secs, line + 1);
	else
		fprintf(f, "%.6f %s\n", secs, line);
}
