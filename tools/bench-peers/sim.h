/*
 * What the two virtual-time simulators share (tests/tools/cwnd_run.c and
 * tools/bench-peers/losssim.c): a queue of packets in flight one way (a FIFO,
 * or in order of arrival with sim_push_at), the
 * stack they drive, the client's SYN options, and one step of the event loop.
 */
#ifndef TL_SIM_H
#define TL_SIM_H

#include <stdbool.h>
#include <string.h>

#include "tcplab/apps.h"
#include "tcplab/stack.h"
#include "wire.h"

#define SIM_STACK 0x0a0a0002u /* 10.10.0.2 */
#define SIM_PEER 0x0a0a0001u  /* 10.10.0.1 */
#define SIM_MAXPKT 1600
#define SIM_NPKT 4096

struct sim_pkt {
	tl_time at; /* when it arrives at the other end */
	size_t len;
	uint8_t data[SIM_MAXPKT];
};

struct sim_link {
	struct sim_pkt p[SIM_NPKT];
	unsigned head, n;
	tl_time busy_until; /* a bottleneck's transmitter, if the link has one */
	/* If set, sees each packet as sim_step hands it to the stack (losssim's
	 * --pcap); only the link towards the stack is tapped. */
	void (*tap)(void *ctx, const uint8_t *data, size_t len, tl_time now);
	void *tap_ctx;
};

/* A slot at the tail, or NULL when the link is full. */
static inline struct sim_pkt *sim_push(struct sim_link *l)
{
	if (l->n == SIM_NPKT)
		return NULL;
	return &l->p[(l->head + l->n++) % SIM_NPKT];
}

/* A slot for a packet due at `at`, and `at` set: behind every packet due no
 * later, so one held back lets later ones pass it; NULL when the link is full.
 * With `at` never earlier than the tail's this is sim_push. */
static inline struct sim_pkt *sim_push_at(struct sim_link *l, tl_time at)
{
	if (l->n == SIM_NPKT)
		return NULL;
	unsigned i = l->n++;
	for (; i > 0; i--) {
		struct sim_pkt *prev = &l->p[(l->head + i - 1) % SIM_NPKT];
		if (prev->at <= at)
			break;
		l->p[(l->head + i) % SIM_NPKT] = *prev;
	}
	struct sim_pkt *p = &l->p[(l->head + i) % SIM_NPKT];
	p->at = at;
	return p;
}

static inline struct sim_pkt *sim_peek(struct sim_link *l)
{
	return l->n ? &l->p[l->head] : NULL;
}

static inline void sim_pop(struct sim_link *l)
{
	l->head = (l->head + 1) % SIM_NPKT;
	l->n--;
}

/* The stack on cfg at SIM_STACK, seed 1, with its services; NULL if not. */
static inline tl_stack *sim_stack(struct tl_config *cfg)
{
	cfg->addr = SIM_STACK;
	cfg->seed = 1;
	tl_stack *s = tl_stack_new(cfg);
	if (s && tl_apps_start(s) < 0) {
		tl_stack_free(s);
		s = NULL;
	}
	return s;
}

/* The client's SYN: MSS 1460, SACK permitted, window scale ws. */
static inline struct tcp_opts sim_syn_opts(uint8_t ws)
{
	struct tcp_opts o;

	memset(&o, 0, sizeof o);
	o.has_mss = o.has_sack_perm = o.has_wscale = true;
	o.mss = 1460;
	o.wscale = ws;
	return o;
}

/* When the next event falls: the stack's deadline or a packet's arrival. */
static inline tl_time sim_next(tl_stack *s, struct sim_link *down, struct sim_link *up)
{
	struct sim_pkt *d = sim_peek(down), *u = sim_peek(up);
	tl_time next = tl_stack_next_deadline(s);

	if (d && d->at < next)
		next = d->at;
	if (u && u->at < next)
		next = u->at;
	return next;
}

/* Runs the next event: the stack's own deadline, or else the first packet
 * due on either link (towards the stack first, to peer() the other way),
 * then polls the stack. A timer due at a packet's instant fires before the
 * packet, as in tcplab --replay (which runs the timers due by a packet's
 * time first), so that a capture of the run replays exactly. False when
 * nothing is left to happen. */
static inline bool sim_step(tl_stack *s, tl_time *now, struct sim_link *down,
			    struct sim_link *up, void (*peer)(void *, const uint8_t *, size_t),
			    void *ctx)
{
	struct sim_pkt *d = sim_peek(down), *u = sim_peek(up);
	tl_time deadline = tl_stack_next_deadline(s), next = sim_next(s, down, up);

	if (next == TL_TIME_NEVER)
		return false;
	if (next > *now)
		*now = next;
	if (deadline <= *now) {
		tl_stack_poll(s, *now);
		return true;
	}
	if (u && u->at <= *now) {
		if (up->tap)
			up->tap(up->tap_ctx, u->data, u->len, *now);
		tl_stack_input(s, u->data, u->len, *now);
		sim_pop(up);
	} else if (d && d->at <= *now) {
		peer(ctx, d->data, d->len);
		sim_pop(down);
	}
	tl_stack_poll(s, *now);
	return true;
}

#endif
