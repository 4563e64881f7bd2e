/* The connection table, ISNs, and the life and death of a connection. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp.h"
#include "../siphash.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t tcp_isn(tl_stack *s, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	uint64_t a = (uint64_t)s->cfg.addr << 32 | raddr;
	uint64_t p = (uint64_t)lport << 16 | rport;
	/* RFC 9293 3.4.1 with RFC 6528 3: ISN = M + F(4-tuple, secret), M a
	 * 4-microsecond clock. */
	return (uint32_t)(s->now / 4) + (uint32_t)tl_siphash2(s->tcp->isn_key, a, p);
}

/* RFC 7323 7.1: a keyed hash of the 4-tuple offsets each connection's clock. */
uint32_t tcp_ts_offset(const struct tl_tcp *c)
{
	tl_stack *s = c->stack;
	uint64_t a = (uint64_t)s->cfg.addr << 32 | c->raddr;
	uint64_t p = 1ull << 63 | (uint64_t)c->lport << 16 | c->rport;

	return (uint32_t)tl_siphash2(s->tcp->isn_key, a, p);
}

/* An empty ring of more than keep bytes is freed; a smaller one starts again
 * at its front, so that the next segment is not split by the wrap. */
static void empty_ring(tl_stack *s, struct ring *r, uint32_t keep)
{
	if (r->cap <= keep) {
		r->head = 0;
		return;
	}
	ring_free(r);
	s->cnt.tcp_buf_released++;
}

/* Frees the rings that are empty and hold more than keep bytes. */
static void release_empty(struct tl_tcp *c, uint32_t keep)
{
	const struct tcp_flight *f = c->fl;

	if (c->sndbuf.len == 0)
		empty_ring(c->stack, &c->sndbuf, keep);
	/* Bytes past len in the receive ring are out-of-order data: keep them. */
	if (c->rcvbuf.len == 0 && (!f || f->ooo_n == 0))
		empty_ring(c->stack, &c->rcvbuf, keep);
	if (f && f->sb.n == 0 && f->sb.cap * sizeof *f->sb.seg > keep)
		tcp_sb_free(c);
}

/* A buffer to release later, or an in-flight part to give back. */
static bool idle_work(const struct tl_tcp *c)
{
	return (c->sndbuf.cap && c->sndbuf.len == 0) ||
	       (c->rcvbuf.cap && c->rcvbuf.len == 0 && c->fl->ooo_n == 0) ||
	       (c->snd_una == c->snd_max && c->state >= TL_ESTABLISHED);
}

void tcp_buf_trim(struct tl_tcp *c)
{
	tl_stack *s = c->stack;

	/* Without an in-flight part there is no idle timer: release at once. */
	release_empty(c, c->fl ? TCP_RING_KEEP : 0);
	if (!c->fl || c->dead || !idle_work(c) || !s->cfg.tcp_buf_idle_ms)
		return;
	c->fl->buf_emptied = s->now;
	if (c->fl->idle_at == TL_TIME_NEVER)
		tcp_set_idle_at(c, s->now + TL_MS(s->cfg.tcp_buf_idle_ms));
}

void tcp_buf_idle(struct tl_tcp *c)
{
	tl_time due = c->fl->buf_emptied + TL_MS(c->stack->cfg.tcp_buf_idle_ms);

	tcp_set_idle_at(c, TL_TIME_NEVER);
	if (due <= c->stack->now) {
		release_empty(c, 0);
		tcp_flight_idle(c);
	} else if (idle_work(c)) {
		tcp_set_idle_at(c, due); /* used again since: wait the rest */
	}
}

static uint32_t bucket_of(uint32_t nbuckets, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	uint64_t k = (uint64_t)raddr << 32 | (uint32_t)rport << 16 | lport;
	k *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(k >> 32) & (nbuckets - 1);
}

int tcp_init(tl_stack *s)
{
	struct tcp_table *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->nbuckets = TCP_BUCKETS_MIN;
	t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
	if (!t->buckets) {
		free(t);
		return -ENOMEM;
	}
	uint64_t x = s->cfg.seed;
	t->isn_key[0] = splitmix64(&x);
	t->isn_key[1] = splitmix64(&x);
	t->next_port = (uint16_t)(TCP_EPHEMERAL_LO + splitmix64(&x) % 16384);
	t->cookie_key[0] = splitmix64(&x);
	t->cookie_key[1] = splitmix64(&x);
	s->tcp = t;
	return 0;
}

static void conn_free(struct tl_tcp *c)
{
	ring_free(&c->sndbuf);
	ring_free(&c->rcvbuf);
	tcp_flight_drop(c);
	free(c);
}

void tcp_free(tl_stack *s)
{
	struct tcp_table *t = s->tcp;
	if (!t)
		return;
	tcp_reap(s);
	while (t->tw_head)
		tcp_tw_unlink(t->tw_head); /* one list of them all */
	/* The stack is going away: applications hear it, and free their state. */
	for (struct tl_tcp *c = t->all; c; c = c->next)
		if (c->state != TL_LISTEN && !c->app_closed && c->ev && c->ev->closed) {
			c->app_closed = true;
			c->ev->closed(c->arg, c, -ECONNABORTED);
		}
	while (t->all) {
		struct tl_tcp *c = t->all;
		t->all = c->next;
		conn_free(c);
	}
	free(t->buckets);
	free(t->heap);
	free(t);
	s->tcp = NULL;
}

struct tl_tcp *tcp_lookup(tl_stack *s, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	struct tcp_table *t = s->tcp;
	struct tl_tcp *c = t->buckets[bucket_of(t->nbuckets, raddr, rport, lport)];

	for (; c; c = c->hnext)
		if (c->raddr == raddr && c->rport == rport && c->lport == lport)
			return c;
	return NULL;
}

struct tl_tcp *tcp_find_listener(tl_stack *s, uint16_t lport)
{
	for (struct tl_tcp *l = s->tcp->listeners; l; l = l->hnext)
		if (l->lport == lport)
			return l;
	return NULL;
}

/* One bucket per connection or more: the table doubles as connections come
 * (out of memory, the chains just grow longer), so that its memory follows
 * the connections open and not the --max-conns bound. */
static void buckets_grow(struct tcp_table *t)
{
	uint32_t n = 2 * t->nbuckets;
	struct tl_tcp **b = calloc(n, sizeof *b);

	if (!b)
		return;
	for (uint32_t i = 0; i < t->nbuckets; i++)
		while (t->buckets[i]) {
			struct tl_tcp *c = t->buckets[i];
			t->buckets[i] = c->hnext;
			uint32_t k = bucket_of(n, c->raddr, c->rport, c->lport);
			c->hnext = b[k];
			b[k] = c;
		}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

static void list_add(struct tcp_table *t, struct tl_tcp *c)
{
	c->prev = NULL;
	c->next = t->all;
	if (t->all)
		t->all->prev = c;
	t->all = c;
}

static void list_del(struct tcp_table *t, struct tl_tcp *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		t->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

uint16_t tcp_our_mss(const tl_stack *s)
{
	return (uint16_t)(s->cfg.mtu - IPV4_HDR_LEN - TCP_HDR_LEN);
}

uint8_t tcp_pick_wscale(uint32_t rcvbuf)
{
	uint8_t ws = 0;
	/* RFC 7323 2.2: the smallest shift that lets the window cover the buffer. */
	while (ws < TCP_MAX_WSCALE && (65535u << ws) < rcvbuf)
		ws++;
	return ws;
}

struct tl_tcp *tcp_conn_new(tl_stack *s, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	struct tcp_table *t = s->tcp;

	if (t->count >= s->cfg.tcp_max_conns || !tcp_timer_reserve(s, t->count + t->nlisteners + 1))
		return NULL;
	struct tl_tcp *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->stack = s;
	c->tw_at = TL_TIME_NEVER;
	c->heap_idx = TCP_NOT_HEAPED;
	if (!tcp_flight_get(c)) {
		free(c);
		return NULL;
	}
	c->state = TL_CLOSED;
	c->raddr = raddr;
	c->rport = rport;
	c->lport = lport;
	c->mss = TCP_DEFAULT_MSS;
	ring_init(&c->sndbuf, s->cfg.tcp_sndbuf);
	ring_init(&c->rcvbuf, s->cfg.tcp_rcvbuf);
	c->rcv_wscale = tcp_pick_wscale(s->cfg.tcp_rcvbuf);
	c->rtt.rto_us = s->cfg.tcp_rto_init_ms * 1000u;
	c->iss = tcp_isn(s, raddr, rport, lport);
	c->fl->ts_offset = tcp_ts_offset(c);
	c->snd_una = c->snd_nxt = c->snd_max = c->recover = c->fl->sb.high = c->iss;
	c->rack.reo_wnd_mult = 1;
	uint32_t b = bucket_of(t->nbuckets, raddr, rport, lport);
	c->hnext = t->buckets[b];
	t->buckets[b] = c;
	list_add(t, c);
	if (++t->count > t->nbuckets && t->nbuckets < TCP_BUCKETS_MAX)
		buckets_grow(t);
	return c;
}

struct tl_tcp *tcp_listener_new(tl_stack *s, uint16_t lport, int backlog)
{
	struct tcp_table *t = s->tcp;

	if (!tcp_timer_reserve(s, t->count + t->nlisteners + 1))
		return NULL;
	struct tl_tcp *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->stack = s;
	l->state = TL_LISTEN;
	l->tw_at = TL_TIME_NEVER;
	l->heap_idx = TCP_NOT_HEAPED;
	if (!tcp_flight_get(l)) {
		free(l);
		return NULL;
	}
	l->lport = lport;
	l->fl->backlog = backlog > 0 ? backlog : 1;
	l->hnext = t->listeners;
	t->listeners = l;
	t->nlisteners++;
	list_add(t, l);
	return l;
}

uint16_t tcp_ephemeral_port(tl_stack *s, uint32_t raddr, uint16_t rport)
{
	struct tcp_table *t = s->tcp;

	for (uint32_t i = 0; i < 65536 - TCP_EPHEMERAL_LO; i++) {
		uint16_t p = t->next_port;
		t->next_port = p == 65535 ? TCP_EPHEMERAL_LO : (uint16_t)(p + 1);
		if (!tcp_lookup(s, raddr, rport, p) && !tcp_find_listener(s, p))
			return p;
	}
	return 0;
}

static void unlink_hash(struct tcp_table *t, struct tl_tcp *c)
{
	struct tl_tcp **p;

	if (c->state == TL_LISTEN)
		p = &t->listeners;
	else
		p = &t->buckets[bucket_of(t->nbuckets, c->raddr, c->rport, c->lport)];
	for (; *p; p = &(*p)->hnext)
		if (*p == c) {
			*p = c->hnext;
			return;
		}
}

void tcp_destroy(struct tl_tcp *c)
{
	tl_stack *s = c->stack;
	struct tcp_table *t = s->tcp;

	if (c->dead)
		return;
	if (c->state != TL_LISTEN) {
		t->count--;
	} else {
		t->nlisteners--;
		/* Orphan the connections this listener spawned (none in TIME_WAIT). */
		for (struct tl_tcp *o = t->all; o; o = o->next)
			if (o->fl && o->fl->listener == c)
				o->fl->listener = NULL;
	}
	if (c->fl) {
		t->ooo_bytes -= c->fl->ooo_held;
		c->fl->ooo_held = 0;
	}
	unlink_hash(t, c);
	tcp_tw_unlink(c);
	list_del(t, c);
	tcp_timer_remove(c);
	if (c->state != TL_CLOSED && c->state != TL_LISTEN)
		tcp_set_state(c, TL_CLOSED);
	c->dead = true;
	c->app_closed = true;
	c->hnext = t->graveyard;
	t->graveyard = c;
}

/* A TIME_WAIT entry is on the TIME_WAIT list instead of the list of all,
 * through the same links. */
static void tw_remove(struct tcp_table *t, struct tl_tcp *c)
{
	*(c->prev ? &c->prev->next : &t->tw_head) = c->next;
	*(c->next ? &c->next->prev : &t->tw_tail) = c->prev;
	c->tw_linked = false;
	t->tw_count--;
}

void tcp_tw_unlink(struct tl_tcp *c)
{
	struct tcp_table *t = c->stack->tcp;

	if (!c->tw_linked)
		return;
	tw_remove(t, c);
	list_add(t, c);
}

/* Appends c as the youngest TIME_WAIT entry; recycles the oldest past the cap. */
void tcp_tw_track(struct tl_tcp *c)
{
	tl_stack *s = c->stack;
	struct tcp_table *t = s->tcp;

	if (c->tw_linked)
		tw_remove(t, c);
	else
		list_del(t, c);
	c->prev = t->tw_tail;
	c->next = NULL;
	*(t->tw_tail ? &t->tw_tail->next : &t->tw_head) = c;
	t->tw_tail = c;
	c->tw_linked = true;
	t->tw_count++;
	/* RFC 9293 3.10.7.4 wants 2 MSL; past the cap, like Linux's
	 * tcp_max_tw_buckets, the oldest entry goes early (RFC 6191 not used). */
	while (s->cfg.tcp_time_wait_max && t->tw_count > s->cfg.tcp_time_wait_max) {
		s->cnt.tcp_time_wait_recycled++;
		tcp_drop(t->tw_head, 0);
	}
}

void tcp_drop(struct tl_tcp *c, int err)
{
	if (!c->app_closed && c->ev && c->ev->closed) {
		c->app_closed = true;
		c->ev->closed(c->arg, c, err);
	}
	tcp_destroy(c);
}

void tcp_reap(tl_stack *s)
{
	struct tcp_table *t = s->tcp;

	while (t->graveyard) {
		struct tl_tcp *c = t->graveyard;
		t->graveyard = c->hnext;
		conn_free(c);
	}
}

const char *tl_tcp_state_name(enum tl_tcp_state st)
{
	static const char *const names[] = {
		"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
		"FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK",
		"TIME_WAIT",
	};
	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

static const struct tl_event ev_state = {
	"state", "{peer}:{port} {from} -> {to}",
	{ TL_FIELD("peer", TL_ADDR), TL_FIELD("port", TL_NUM), TL_FIELD("from", TL_STR),
	  TL_FIELD("to", TL_STR) },
};

/* RFC 9293 3.10.7.2 third, figure 5 in 3.3.2: a SYN moves the LISTEN TCB to
 * SYN-RECEIVED. The listener stays to take more SYNs, as with sockets; the
 * new connection c, made for this SYN, takes that step in its place. */
void tcp_passive_open(struct tl_tcp *c, struct tl_tcp *l)
{
	c->fl->listener = l;
	c->passive = true;
	c->state = TL_LISTEN;
	tcp_set_state(c, TL_SYN_RECEIVED);
	l->fl->half_open++;
	c->stack->cnt.tcp_passive_opens++;
}

void tcp_set_state(struct tl_tcp *c, enum tl_tcp_state st)
{
	tl_stack *s = c->stack;

	if (c->state == st)
		return;
	TL_TRACE(s, &ev_state, TL_N(c->raddr), TL_N(c->rport), TL_S(tl_tcp_state_name(c->state)),
		 TL_S(tl_tcp_state_name(st)));
	if (c->state == TL_SYN_RECEIVED && c->fl && c->fl->listener)
		c->fl->listener->fl->half_open--;
	if (c->state == TL_TIME_WAIT)
		tcp_tw_unlink(c);
	if (st == TL_ESTABLISHED)
		s->cnt.tcp_established++;
	c->state = st;
}
