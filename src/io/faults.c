#include "faults.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REORDER_HOLD_US 10000 /* a reordered packet waits this long extra */

struct held {
	tl_time due;
	uint64_t order;		/* FIFO among packets due at the same time */
	uint8_t *pkt;
	size_t len;
};

struct tl_faults {
	struct tl_fault_cfg cfg;
	uint64_t rng;
	struct held *heap;	/* min-heap on (due, order) */
	size_t n, max;
	uint64_t next_order;
	tl_time last_due;	/* keeps unreordered packets in order */
	tl_time link_free;	/* when the rate-limited link is idle again */
	struct tl_fault_stats st;
	tl_fault_trace_fn trace;
	void *trace_ctx;
	const char *name;
};

static uint64_t next_rand(struct tl_faults *f)
{
	/* xorshift64*: small, fast, and the same on every machine. */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545f4914f6cdd1dull;
}

static bool chance(struct tl_faults *f, double p)
{
	return p > 0 && (double)(next_rand(f) >> 11) / 9007199254740992.0 < p;
}

bool tl_fault_cfg_active(const struct tl_fault_cfg *c)
{
	return c->loss > 0 || c->dup > 0 || c->reorder > 0 || c->corrupt > 0 ||
	       c->delay_us || c->jitter_us || c->rate_bps;
}

struct tl_faults *tl_faults_new(const struct tl_fault_cfg *cfg, uint64_t seed,
				size_t max_queue)
{
	struct tl_faults *f = calloc(1, sizeof *f);

	if (!f)
		return NULL;
	f->heap = calloc(max_queue ? max_queue : 1, sizeof *f->heap);
	if (!f->heap) {
		free(f);
		return NULL;
	}
	f->cfg = *cfg;
	f->max = max_queue ? max_queue : 1;
	f->rng = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
	if (f->rng == 0)
		f->rng = 1;
	f->name = "";
	return f;
}

void tl_faults_free(struct tl_faults *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->heap[i].pkt);
	free(f->heap);
	free(f);
}

void tl_faults_set_trace(struct tl_faults *f, tl_fault_trace_fn fn, void *ctx,
			 const char *name)
{
	f->trace = fn;
	f->trace_ctx = ctx;
	f->name = name;
}

static void note(struct tl_faults *f, const char *what, size_t len)
{
	if (f->trace)
		f->trace(f->trace_ctx, f->name, what, len);
}

static bool earlier(const struct held *a, const struct held *b)
{
	return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static void heap_push(struct tl_faults *f, struct held h)
{
	size_t i = f->n++;

	f->heap[i] = h;
	while (i > 0 && earlier(&f->heap[i], &f->heap[(i - 1) / 2])) {
		struct held t = f->heap[i];
		f->heap[i] = f->heap[(i - 1) / 2];
		f->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static struct held heap_pop(struct tl_faults *f)
{
	struct held top = f->heap[0];
	size_t i = 0;

	f->heap[0] = f->heap[--f->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < f->n && earlier(&f->heap[l], &f->heap[m]))
			m = l;
		if (r < f->n && earlier(&f->heap[r], &f->heap[m]))
			m = r;
		if (m == i)
			break;
		struct held t = f->heap[i];
		f->heap[i] = f->heap[m];
		f->heap[m] = t;
		i = m;
	}
	return top;
}

/* Departure time for one copy: serialisation at the rate, then delay. */
static tl_time due_time(struct tl_faults *f, size_t len, tl_time now, bool *reordered)
{
	tl_time t = now;

	if (f->cfg.rate_bps) {
		if (f->link_free > t)
			t = f->link_free;
		t += (tl_time)len * 8u * 1000000u / f->cfg.rate_bps;
		f->link_free = t;
	}
	int64_t d = f->cfg.delay_us;
	if (f->cfg.jitter_us)
		d += (int64_t)(next_rand(f) % (2u * f->cfg.jitter_us + 1)) - f->cfg.jitter_us;
	t += d > 0 ? (tl_time)d : 0;
	*reordered = chance(f, f->cfg.reorder);
	if (*reordered)
		return t + (f->cfg.delay_us > REORDER_HOLD_US ? f->cfg.delay_us : REORDER_HOLD_US);
	/* Without a reorder fault, jitter alone never reorders (like a queue). */
	if (t < f->last_due)
		t = f->last_due;
	f->last_due = t;
	return t;
}

static void hold(struct tl_faults *f, const uint8_t *pkt, size_t len, tl_time now)
{
	bool reordered;

	if (f->n >= f->max) {
		f->st.overflow++;
		note(f, "queue full, dropped", len);
		return;
	}
	uint8_t *copy = malloc(len);
	if (!copy) {
		f->st.overflow++;
		return;
	}
	memcpy(copy, pkt, len);
	if (len && chance(f, f->cfg.corrupt)) {
		uint64_t r = next_rand(f);
		copy[(r >> 3) % len] ^= (uint8_t)(1u << (r & 7));
		f->st.corrupted++;
		note(f, "corrupted one bit", len);
	}
	struct held h = { due_time(f, len, now, &reordered), f->next_order++, copy, len };
	if (reordered) {
		f->st.reordered++;
		note(f, "held back (reorder)", len);
	}
	heap_push(f, h);
}

void tl_faults_push(struct tl_faults *f, const uint8_t *pkt, size_t len, tl_time now)
{
	if (chance(f, f->cfg.loss)) {
		f->st.lost++;
		note(f, "dropped", len);
		return;
	}
	hold(f, pkt, len, now);
	if (chance(f, f->cfg.dup)) {
		f->st.duplicated++;
		note(f, "duplicated", len);
		hold(f, pkt, len, now);
	}
}

void tl_faults_release(struct tl_faults *f, tl_time now, tl_deliver_fn deliver,
		       void *ctx)
{
	while (f->n && f->heap[0].due <= now) {
		struct held h = heap_pop(f);
		f->st.passed++;
		deliver(ctx, h.pkt, h.len);
		free(h.pkt);
	}
}

tl_time tl_faults_next_deadline(const struct tl_faults *f)
{
	return f->n ? f->heap[0].due : TL_TIME_NEVER;
}

const struct tl_fault_stats *tl_faults_stats(const struct tl_faults *f)
{
	return &f->st;
}

int tl_parse_probability(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return -1;
	if (*end == '%') {
		v /= 100;
		end++;
	}
	if (*end || !(v >= 0 && v <= 1))
		return -1;
	*out = v;
	return 0;
}

/* Number with a unit from table; returns -1 on junk or overflow. */
static int parse_unit(const char *s, const char *const units[], const double scale[],
		      double max, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || !(v >= 0))
		return -1;
	for (int i = 0; units[i]; i++) {
		if (strcmp(end, units[i]) == 0) {
			v *= scale[i];
			if (v > max)
				return -1;
			*out = v;
			return 0;
		}
	}
	return -1;
}

int tl_parse_duration_us(const char *s, uint32_t *out)
{
	static const char *const units[] = { "us", "ms", "s", NULL };
	static const double scale[] = { 1, 1e3, 1e6 };
	double v;

	if (parse_unit(s, units, scale, 60e6, &v) < 0)
		return -1;
	*out = (uint32_t)llround(v);
	return 0;
}

int tl_parse_rate_bps(const char *s, uint64_t *out)
{
	static const char *const units[] = { "bit", "kbit", "mbit", "gbit", "bps", NULL };
	static const double scale[] = { 1, 1e3, 1e6, 1e9, 8 };
	double v;

	if (parse_unit(s, units, scale, 1e12, &v) < 0 || v < 1)
		return -1;
	*out = (uint64_t)llround(v);
	return 0;
}
