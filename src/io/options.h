/* Shared by the TUN loop and the replayer: trace printing, TCP settings. */
#ifndef TL_OPTIONS_H
#define TL_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Prints one trace event at secs since the start; see docs/trace.md. */
void tl_print_trace(FILE *f, double secs, bool json, const char *line);

struct tl_config;

/* TCP settings from the command line; 0 (and !have_delack) keeps a default. */
struct tl_tune {
	uint32_t rcvbuf, sndbuf, init_cwnd, delack_ms, ack_batch;
	bool have_delack, have_ack_batch;
	/* Bounds a hostile peer meets (0 is a value here: have_* says set). */
	uint32_t syncookies, time_wait_max, ooo_bytes_max, rst_per_sec, challenge_per_sec;
	bool have_syncookies, have_time_wait_max, have_ooo_bytes_max, have_rst, have_challenge;
	uint32_t challenge_interval_ms;
	bool have_challenge_interval;
	uint32_t tlp, recovery, cc, timestamps;
	bool have_tlp, have_recovery, have_cc, have_timestamps;
};
void tl_tune_apply(const struct tl_tune *t, struct tl_config *cfg);

#endif
