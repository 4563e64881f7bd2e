/* The scoreboard: each segment sent from SND.UNA to SND.MAX with its send
 * time and what became of it (SACKed, lost, resent), RFC 6675 3 and RFC
 * 8985 5.2. Loss detection reads it; the pipe is counted from it. */
#include <stdlib.h>
#include <string.h>

#include "tcp.h"

#define SB_MIN_CAP 16u

static struct tcp_seg *at(const struct tcp_sb *b, uint32_t i)
{
	return &b->seg[(b->head + i) & (b->cap - 1)];
}

static uint32_t len_of(const struct tcp_seg *g)
{
	return g->end - g->start;
}

/* Room for one more entry, doubling the ring up to a bound. */
static bool sb_room(struct tcp_sb *b)
{
	if (b->n < b->cap)
		return true;
	if (b->cap >= TCP_SB_MAX)
		return false;
	uint32_t cap = b->cap ? 2 * b->cap : SB_MIN_CAP;
	struct tcp_seg *v = malloc(cap * sizeof *v);
	if (!v)
		return false;
	for (uint32_t i = 0; i < b->n; i++)
		v[i] = *at(b, i);
	free(b->seg);
	b->seg = v;
	b->cap = cap;
	b->head = 0;
	return true;
}

void tcp_sb_free(struct tl_tcp *c)
{
	uint32_t sends = c->fl->sb.sends; /* the order of sends goes on */

	free(c->fl->sb.seg);
	memset(&c->fl->sb, 0, sizeof c->fl->sb); /* padding too: see tcp_flight.c */
	c->fl->sb.high = c->snd_una;
	c->fl->sb.sends = sends;
}

struct tcp_seg *tcp_sb_at(const struct tl_tcp *c, uint32_t i)
{
	return at(&c->fl->sb, i);
}

/* The first entry whose end lies past seq (c->fl->sb.n if none). */
uint32_t tcp_sb_find(const struct tl_tcp *c, uint32_t seq)
{
	uint32_t lo = 0, hi = c->fl->sb.n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (seq_gt(at(&c->fl->sb, mid)->end, seq))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Entry i becomes [start, seq) and [seq, end), both with its flags; false
 * when the ring is at its bound (the caller then treats it whole). */
bool tcp_sb_split(struct tl_tcp *c, uint32_t i, uint32_t seq)
{
	struct tcp_sb *b = &c->fl->sb;

	if (!seq_lt(at(b, i)->start, seq) || !seq_lt(seq, at(b, i)->end) || !sb_room(b))
		return false;
	for (uint32_t j = b->n; j > i + 1; j--)
		*at(b, j) = *at(b, j - 1);
	b->n++;
	*at(b, i + 1) = *at(b, i);
	at(b, i + 1)->start = seq;
	at(b, i)->end = seq;
	return true;
}

static void set_flag(struct tcp_sb *b, struct tcp_seg *g, uint8_t f)
{
	if (g->flags & f)
		return;
	g->flags |= f;
	uint32_t *count = f == TCP_SEG_SACKED ? &b->sacked : f == TCP_SEG_LOST ? &b->lost : &b->retrans;
	*count += len_of(g);
}

static void clear_flag(struct tcp_sb *b, struct tcp_seg *g, uint8_t f)
{
	if (!(g->flags & f))
		return;
	g->flags &= (uint8_t)~f;
	uint32_t *count = f == TCP_SEG_SACKED ? &b->sacked : f == TCP_SEG_LOST ? &b->lost : &b->retrans;
	*count -= len_of(g);
}

void tcp_sb_mark_sacked(struct tl_tcp *c, struct tcp_seg *g)
{
	set_flag(&c->fl->sb, g, TCP_SEG_SACKED);
	clear_flag(&c->fl->sb, g, TCP_SEG_LOST);
	clear_flag(&c->fl->sb, g, TCP_SEG_RETRANS);
}

/* RFC 8985 6.2 step 5: lost, and if it was a retransmission, that too. */
void tcp_sb_mark_lost(struct tl_tcp *c, struct tcp_seg *g)
{
	set_flag(&c->fl->sb, g, TCP_SEG_LOST);
	clear_flag(&c->fl->sb, g, TCP_SEG_RETRANS);
}

/* RFC 6675 5.1 (after an RTO): everything not SACKed is lost; with
 * forget_sacks, the SACKed too (the receiver may have reneged). */
void tcp_sb_mark_all_lost(struct tl_tcp *c, bool forget_sacks)
{
	for (uint32_t i = 0; i < c->fl->sb.n; i++) {
		struct tcp_seg *g = at(&c->fl->sb, i);
		if (forget_sacks)
			clear_flag(&c->fl->sb, g, TCP_SEG_SACKED);
		if (!(g->flags & TCP_SEG_SACKED))
			tcp_sb_mark_lost(c, g);
	}
	if (forget_sacks)
		c->fl->sb.high = c->snd_una;
}

/* RFC 4015 3: the RTO was spurious: what it marked lost, and did not
 * resend yet, is still in flight. */
void tcp_sb_unmark_lost(struct tl_tcp *c)
{
	for (uint32_t i = 0; i < c->fl->sb.n; i++)
		if (!(at(&c->fl->sb, i)->flags & TCP_SEG_RETRANS))
			clear_flag(&c->fl->sb, at(&c->fl->sb, i), TCP_SEG_LOST);
}

/* Records [seq, end) going out: a new segment, or every entry it resends. */
void tcp_sb_sent(struct tl_tcp *c, uint32_t seq, uint32_t end)
{
	struct tcp_sb *b = &c->fl->sb;
	tl_time now = c->stack->now;

	if (c->fl->rec.state == TCP_REC_FAST)
		c->fl->prr.prr_out += end - seq; /* RFC 6937 3: what recovery sent */
	if (seq_geq(seq, c->snd_max)) {
		if (b->n < b->cap || sb_room(b))
			*at(b, b->n++) = (struct tcp_seg){ .start = seq, .end = end, .xmit = now,
							   .order = ++b->sends };
		return;
	}
	b->sends++;
	for (uint32_t i = tcp_sb_find(c, seq); i < b->n && seq_lt(at(b, i)->start, end); i++) {
		struct tcp_seg *g = at(b, i);
		g->xmit = now;
		g->order = b->sends;
		g->flags |= TCP_SEG_EVER_RETRANS;
		if (!(g->flags & TCP_SEG_SACKED))
			set_flag(b, g, TCP_SEG_RETRANS);
		if (c->fl->rec.undo_armed)
			c->fl->rec.undo_retrans++;
	}
}

static void trim_front(struct tcp_sb *b, struct tcp_seg *g, uint32_t ack)
{
	uint32_t cut = ack - g->start;

	b->sacked -= g->flags & TCP_SEG_SACKED ? cut : 0;
	b->lost -= g->flags & TCP_SEG_LOST ? cut : 0;
	b->retrans -= g->flags & TCP_SEG_RETRANS ? cut : 0;
	g->start = ack;
}

/* RFC 9293 3.10.7.4 fifth: entries up to ack leave the queue; calls
 * tcp_rec_delivered for each one not SACKed before. */
void tcp_sb_ack(struct tl_tcp *c, uint32_t ack)
{
	struct tcp_sb *b = &c->fl->sb;

	while (b->n && seq_leq(at(b, 0)->end, ack)) {
		struct tcp_seg *g = at(b, 0);
		if (!(g->flags & TCP_SEG_SACKED))
			tcp_rec_delivered(c, g);
		if (g->flags & (TCP_SEG_SACKED | TCP_SEG_LOST | TCP_SEG_RETRANS)) {
			clear_flag(b, g, TCP_SEG_SACKED);
			clear_flag(b, g, TCP_SEG_LOST);
			clear_flag(b, g, TCP_SEG_RETRANS);
		}
		b->head = (b->head + 1) & (b->cap - 1);
		b->n--;
	}
	if (b->n && seq_lt(at(b, 0)->start, ack))
		trim_front(b, at(b, 0), ack); /* a partly acknowledged segment */
	if (seq_lt(b->high, ack))
		b->high = ack;
}

/* The end of the SACKed run holding seq, or seq itself (RFC 6675 IsLost's input). */
uint32_t tcp_sb_sacked_end(const struct tl_tcp *c, uint32_t seq)
{
	for (uint32_t i = tcp_sb_find(c, seq); i < c->fl->sb.n; i++) {
		const struct tcp_seg *g = at(&c->fl->sb, i);
		if (!(g->flags & TCP_SEG_SACKED) || seq_gt(g->start, seq))
			break;
		seq = g->end;
	}
	return seq;
}

/* Bytes from seq up to the next SACKed segment, at most limit. */
uint32_t tcp_sb_unsacked_run(const struct tl_tcp *c, uint32_t seq, uint32_t limit)
{
	for (uint32_t i = tcp_sb_find(c, seq); i < c->fl->sb.n; i++) {
		const struct tcp_seg *g = at(&c->fl->sb, i);
		if (g->flags & TCP_SEG_SACKED)
			return seq_gt(g->start, seq) && g->start - seq < limit ? g->start - seq : limit;
	}
	return limit;
}

bool tcp_sb_is_sacked(const struct tl_tcp *c, uint32_t seq)
{
	uint32_t i = tcp_sb_find(c, seq);

	return i < c->fl->sb.n && seq_leq(at(&c->fl->sb, i)->start, seq) &&
	       (at(&c->fl->sb, i)->flags & TCP_SEG_SACKED);
}
