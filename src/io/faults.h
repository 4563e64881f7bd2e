/*
 * The fault injector: loss, duplication, reordering, corruption, delay with
 * jitter and a rate limit, for one direction of the link. This kernel has no
 * netem, so this is how tcplab gets a bad network. It is pure code (no clock,
 * no syscalls): packets go in with the time, come out when due, and the
 * same seed gives the same faults.
 */
#ifndef TL_FAULTS_H
#define TL_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcplab/stack.h"

struct tl_fault_cfg {
	double loss;		/* probability a packet is dropped */
	double dup;		/* probability it is sent twice */
	double reorder;		/* probability it is held back behind later ones */
	double corrupt;		/* probability one bit of it is flipped */
	uint32_t delay_us;	/* added to every packet */
	uint32_t jitter_us;	/* delay varies by up to this much either way */
	uint64_t rate_bps;	/* link rate in bits per second, 0 = unlimited */
};

struct tl_fault_stats {
	uint64_t passed, lost, duplicated, reordered, corrupted, overflow;
};

typedef void (*tl_deliver_fn)(void *ctx, const uint8_t *pkt, size_t len);
/* An injected fault, for --trace: the injector's name ("in" or "out"),
 * what it did ("dropped", ...) and the packet's length. */
typedef void (*tl_fault_trace_fn)(void *ctx, const char *name, const char *what,
				  size_t len);

struct tl_faults;

/* max_queue bounds the packets held at once; beyond it they are dropped. */
struct tl_faults *tl_faults_new(const struct tl_fault_cfg *cfg, uint64_t seed,
				size_t max_queue);
void tl_faults_free(struct tl_faults *f);
bool tl_fault_cfg_active(const struct tl_fault_cfg *cfg);
void tl_faults_set_trace(struct tl_faults *f, tl_fault_trace_fn fn, void *ctx,
			 const char *name);

/* Takes a packet that is sent at time now. */
void tl_faults_push(struct tl_faults *f, const uint8_t *pkt, size_t len, tl_time now);
/* Delivers every packet due by now, earliest first. */
void tl_faults_release(struct tl_faults *f, tl_time now, tl_deliver_fn deliver,
		       void *ctx);
/* When the next held packet is due, or TL_TIME_NEVER. */
tl_time tl_faults_next_deadline(const struct tl_faults *f);
const struct tl_fault_stats *tl_faults_stats(const struct tl_faults *f);

/* Parsers for the command line; each returns 0 or -1 on a malformed value. */
int tl_parse_probability(const char *s, double *out);	/* "0.05" or "5%" */
int tl_parse_duration_us(const char *s, uint32_t *out);	/* "25ms", "500us", "1s" */
int tl_parse_rate_bps(const char *s, uint64_t *out);	/* "10mbit", "1gbit", "512kbit" */

#endif
