/*
 * tl-bench-losssim: chargen sends BYTES to a SACK receiver over a path that
 * loses each packet, either way, with probability P, in virtual time. Prints
 * the virtual time the transfer took and the stack's loss counters, so loss
 * recovery can be compared between versions without a noisy machine.
 *
 * The receiver keeps all out-of-order data, reports the three most recent
 * ranges in SACK blocks (RFC 2018 4), and ACKs every second in-order segment
 * at once and anything out of order immediately, as Linux does; a lone
 * in-order segment is ACKed after a delayed-ACK timeout (Linux's minimum,
 * 40 ms), never held for good. A segment it
 * already holds whole is reported in a D-SACK, the first block of the next
 * ACK (RFC 2883 4), so the stack can tell a spurious retransmission.
 *
 * Losses are independent unless --burst makes them come in runs, and the
 * path keeps packets in order unless --reorder holds some back. Neither
 * touches the handshake, which is not what is measured. Without those flags
 * a seed gives the same losses, and the same output, as before they existed.
 * tl-bench-losssim --help prints the usage (usage_text below).
 *
 * --pcap FILE writes what the stack sees, stamped with the virtual time: its
 * own packets as sent (before the path loses any) and the peer's as they
 * reach it (after loss and reordering). `tcplab --replay FILE` replays it
 * exactly, since nothing in it depends on a real clock (captures/rack_loss
 * and captures/dsack_undo are recorded so, by tools/record).
 * TL_LOSSSIM_CC=reno or cubic picks the congestion control and
 * TL_LOSSSIM_RECOVERY=rack or newreno the loss recovery (default: the
 * stack's, tl_config_defaults); TL_LOSSSIM_TRACE=1 prints the JSON trace
 * on standard error.
 */
#include <errno.h>
#include <math.h> /* isfinite, a macro: no libm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcap_out.h"
#include "sim.h"

#define DELACK TL_MS(40) /* Linux's TCP_DELACK_MIN */
#define PEER_PORT 40000
#define NRANGE 256
#define RCV_WND (4u << 20)
#define WSCALE 7

static const char usage_text[] =
	"usage: tl-bench-losssim [OPTIONS] [BYTES [P [ONE_WAY_MS [SEED [TLP]]]]]\n"
	"  defaults 4194304 0.10 1 1 1: P is the loss rate each way (0 <= P < 1),\n"
	"  TLP 0 turns tail loss probes off\n"
	"  --burst L[,H]   losses in bursts: per direction a Gilbert-Elliott chain whose\n"
	"                  bad state lasts L packets on average (L >= 1) and loses each\n"
	"                  packet in it with probability H (default 1); P stays the\n"
	"                  long-run loss rate, so P < H\n"
	"  --reorder F,MS  each packet that gets through is held back MS ms more with\n"
	"                  probability F (0 <= F <= 1), so later ones overtake it\n"
	"  --limit S       give up after S seconds of virtual time (default 36000)\n"
	"  --pcap FILE     write what the stack sees to FILE: its packets as sent, the\n"
	"                  peer's as delivered, stamped with the virtual time\n"
	"  -h, --help      this text\n"
	"environment: TL_LOSSSIM_CC=reno|cubic, TL_LOSSSIM_RECOVERY=rack|newreno (default:\n"
	"  the stack's), TL_LOSSSIM_TRACE=1 (the JSON trace on standard error)\n"
	"prints \"T s for N bytes; ...\" and exits 0, or \"incomplete: ...\" and exits 1\n";

enum { DOWN, UP }; /* stack to peer, peer to stack */

/* One direction's impairments and what they did. */
struct path {
	bool bad;	   /* the Gilbert-Elliott chain's state */
	unsigned run;	   /* losses in a row so far */
	unsigned longest;  /* the longest such run */
	uint64_t lost, reordered;
};

static struct {
	tl_stack *s;
	tl_time now, delay;
	double loss;
	bool burst;
	double ge_p, ge_r, ge_h; /* good -> bad, bad -> good, loss when bad */
	double reorder;		 /* probability of being held back */
	tl_time reorder_hold;
	struct path path[2];
	uint64_t rng;
	struct sim_link down, up;
	uint32_t irs, rcv_nxt, snd_nxt;
	bool connected;
	uint32_t ooo[NRANGE][2]; /* [start, end) from irs, most recent first */
	int ooo_n;
	uint32_t dsack[2]; /* a duplicate the next ACK reports, if dsack_due */
	bool dsack_due;
	uint64_t dsacks;
	unsigned unacked;
	tl_time delack_at;	/* the held ACK goes then; TL_TIME_NEVER: none held */
	uint64_t received;
	struct tl_pcap_out *pcap;
} m;

/* xorshift64*: the same losses for the same seed. */
static double rnd(void)
{
	m.rng ^= m.rng >> 12;
	m.rng ^= m.rng << 25;
	m.rng ^= m.rng >> 27;
	return (double)((m.rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* The path's verdict on a packet going dir: true if it is lost. */
static bool path_loses(int dir)
{
	struct path *w = &m.path[dir];
	bool lost;

	if (!m.burst) {
		lost = rnd() < m.loss;
	} else {
		/* Gilbert-Elliott: the state moves, then the packet meets it. */
		w->bad = w->bad ? rnd() >= m.ge_r : rnd() < m.ge_p;
		lost = w->bad && (m.ge_h >= 1 || rnd() < m.ge_h);
	}
	w->run = lost ? w->run + 1 : 0;
	if (w->run > w->longest)
		w->longest = w->run;
	w->lost += lost;
	return lost;
}

/* When a packet sent now the way dir arrives: the one-way delay, and with
 * --reorder sometimes a hold on top, in which later packets pass it. */
static tl_time arrival(int dir)
{
	tl_time at = m.now + m.delay;

	if (m.connected && m.reorder > 0 && rnd() < m.reorder) {
		m.path[dir].reordered++;
		at += m.reorder_hold;
	}
	return at;
}

static void trace(void *ctx, tl_time now, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%.6f %s\n", (double)now / 1e6, line);
}

/* --pcap: a packet the stack sent, or one the peer's link hands it. */
static void capture(void *ctx, const uint8_t *data, size_t len, tl_time now)
{
	(void)ctx;
	if (m.pcap)
		tl_pcap_write(m.pcap, data, len, now);
}

static void stack_out(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	capture(NULL, data, len, m.now);
	if (m.connected && path_loses(DOWN))
		return;
	struct sim_pkt *p = len <= SIM_MAXPKT ? sim_push_at(&m.down, arrival(DOWN)) : NULL;
	if (!p)
		return;
	p->len = len;
	memcpy(p->data, data, len);
}

static void peer_send(uint8_t flags, const struct tcp_opts *o)
{
	struct tcp_hdr th;
	uint8_t buf[SIM_MAXPKT];

	memset(&th, 0, sizeof th);
	uint8_t *seg = buf + IPV4_HDR_LEN;
	size_t opt_len = tcp_build_options(seg + TCP_HDR_LEN, o);
	th.sport = PEER_PORT;
	th.dport = 19;
	th.seq = m.snd_nxt;
	th.ack = m.irs + m.rcv_nxt;
	th.flags = flags;
	th.wnd = (flags & TCP_SYN) ? 65535 : RCV_WND >> WSCALE;
	tcp_build(seg, SIM_PEER, SIM_STACK, &th, opt_len, 0);
	ipv4_build(buf, SIM_PEER, SIM_STACK, IP_PROTO_TCP, (uint16_t)(TCP_HDR_LEN + opt_len), 1);
	if (flags & TCP_SYN)
		m.snd_nxt++;
	if (m.connected && path_loses(UP)) /* the handshake is not what is measured */
		return;
	struct sim_pkt *p = sim_push_at(&m.up, arrival(UP));
	if (!p)
		return;
	p->len = IPV4_HDR_LEN + TCP_HDR_LEN + opt_len;
	memcpy(p->data, buf, p->len);
}

static void send_ack(void)
{
	struct tcp_opts o;

	memset(&o, 0, sizeof o);
	/* RFC 2883 4: the duplicate first, in this ACK only; no timestamps, so
	 * a fourth block fits (RFC 2018 3). */
	if (m.dsack_due) {
		o.sack[0][0] = m.irs + m.dsack[0];
		o.sack[0][1] = m.irs + m.dsack[1];
		o.sack_n = 1;
		m.dsack_due = false;
		m.dsacks++;
	}
	for (int i = 0; i < m.ooo_n && i < 3; i++) {
		o.sack[o.sack_n][0] = m.irs + m.ooo[i][0];
		o.sack[o.sack_n][1] = m.irs + m.ooo[i][1];
		o.sack_n++;
	}
	m.unacked = 0;
	m.delack_at = TL_TIME_NEVER;
	peer_send(TCP_ACK, &o);
}

/* Moves range i to the front (the most recent, RFC 2018 4). */
static void to_front(int i)
{
	uint32_t r[2] = { m.ooo[i][0], m.ooo[i][1] };
	memmove(m.ooo[1], m.ooo[0], sizeof m.ooo[0] * (size_t)i);
	m.ooo[0][0] = r[0];
	m.ooo[0][1] = r[1];
}

/* RFC 2883 4: [start, end) arrived again; the next ACK says so. */
static void duplicate(uint32_t start, uint32_t end)
{
	m.dsack[0] = start;
	m.dsack[1] = end;
	m.dsack_due = true;
}

/* Returns true if the segment was out of order (or a duplicate). */
static bool peer_receive(uint32_t start, uint32_t end)
{
	if (end <= m.rcv_nxt) {
		duplicate(start, end); /* RFC 2883 4.1.1: below the cumulative ACK */
		return true;
	}
	if (start > m.rcv_nxt) {
		int i;
		for (i = 0; i < m.ooo_n; i++)
			if (start <= m.ooo[i][1] && end >= m.ooo[i][0])
				break;
		/* RFC 2883 4.1.2: inside a range held; that range is the second block. */
		if (i < m.ooo_n && start >= m.ooo[i][0] && end <= m.ooo[i][1])
			duplicate(start, end);
		if (i < m.ooo_n) {
			if (start < m.ooo[i][0])
				m.ooo[i][0] = start;
			if (end > m.ooo[i][1])
				m.ooo[i][1] = end;
			/* It may now touch another range: merge them. */
			for (int j = 0; j < m.ooo_n; j++) {
				if (j == i || m.ooo[j][0] > m.ooo[i][1] || m.ooo[j][1] < m.ooo[i][0])
					continue;
				if (m.ooo[j][0] < m.ooo[i][0])
					m.ooo[i][0] = m.ooo[j][0];
				if (m.ooo[j][1] > m.ooo[i][1])
					m.ooo[i][1] = m.ooo[j][1];
				memmove(m.ooo[j], m.ooo[j + 1], sizeof m.ooo[0] * (size_t)(m.ooo_n - j - 1));
				m.ooo_n--;
				if (j < i)
					i--;
				j = -1;
			}
			to_front(i);
		} else if (m.ooo_n < NRANGE) {
			m.ooo_n++;
			m.ooo[m.ooo_n - 1][0] = start;
			m.ooo[m.ooo_n - 1][1] = end;
			to_front(m.ooo_n - 1);
		}
		return true;
	}
	m.received += end - m.rcv_nxt;
	m.rcv_nxt = end;
	bool filled = false;
	for (int i = 0; i < m.ooo_n; i++) {
		if (m.ooo[i][0] > m.rcv_nxt)
			continue;
		if (m.ooo[i][1] > m.rcv_nxt) {
			m.received += m.ooo[i][1] - m.rcv_nxt;
			m.rcv_nxt = m.ooo[i][1];
		}
		memmove(m.ooo[i], m.ooo[i + 1], sizeof m.ooo[0] * (size_t)(m.ooo_n - i - 1));
		m.ooo_n--;
		filled = true;
		i = -1;
	}
	return filled; /* a hole was filled: ACK at once (RFC 5681 4.2) */
}

static void peer_input(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	struct ipv4_hdr ip;
	struct tcp_hdr th;

	if (ipv4_parse(data, len, &ip) != WIRE_OK || ip.proto != IP_PROTO_TCP ||
	    tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &th) != WIRE_OK)
		return;
	if ((th.flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		if (!m.connected) {
			m.irs = th.seq;
			m.rcv_nxt = 1;
			m.connected = true;
		}
		send_ack();
		return;
	}
	if (!m.connected || !th.data_len)
		return;
	uint32_t start = th.seq - m.irs;
	/* RFC 5681 4.2: out of order at once, else every second segment. */
	if (peer_receive(start, start + (uint32_t)th.data_len) || ++m.unacked >= 2 || m.ooo_n)
		send_ack();
	else if (m.delack_at == TL_TIME_NEVER)
		m.delack_at = m.now + DELACK; /* RFC 1122 4.2.3.2: under 0.5 s */
}

/* One event: the receiver's delayed ACK if it falls first, else sim_step's. */
static bool step(void)
{
	if (m.delack_at < sim_next(m.s, &m.down, &m.up)) {
		if (m.delack_at > m.now)
			m.now = m.delack_at;
		send_ack();
		return true;
	}
	return sim_step(m.s, &m.now, &m.down, &m.up, peer_input, NULL);
}

/* One line: the figures tools/bench reads first (time, then RTOs as the
 * sixth word), what the flags did after them. */
static void report(const struct tl_counters *c, uint64_t want, tl_time limit)
{
	if (m.received < want)
		printf("incomplete (%s): %llu of %llu bytes; ",
		       c->tcp_timeouts ? "the stack gave up" : m.now >= limit ? "time limit" : "stuck",
		       (unsigned long long)m.received, (unsigned long long)want);
	printf("%.3f s for %llu bytes; %llu RTOs, %llu fast retransmits, %llu retransmitted, "
	       "lost %llu down and %llu up",
	       (double)m.now / 1e6, (unsigned long long)m.received, (unsigned long long)c->tcp_rto,
	       (unsigned long long)c->tcp_fast_rexmit, (unsigned long long)c->tcp_rexmit,
	       (unsigned long long)m.path[DOWN].lost, (unsigned long long)m.path[UP].lost);
	if (m.burst)
		printf("; longest loss runs %u down and %u up", m.path[DOWN].longest,
		       m.path[UP].longest);
	if (m.reorder > 0)
		printf("; held back %llu down and %llu up", (unsigned long long)m.path[DOWN].reordered,
		       (unsigned long long)m.path[UP].reordered);
	printf("; RACK marked %llu lost, %llu D-SACKs, %llu reductions undone\n",
	       (unsigned long long)c->tcp_rack_lost, (unsigned long long)m.dsacks,
	       (unsigned long long)c->tcp_undo);
}

/* Strict number parsing: the whole string, finite, in [lo, hi]. */
static bool num(const char *str, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	double v = strtod(str, &end);
	if (end == str || *end || errno || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* "A,B" into a and b; without ",B", b keeps its value. */
static bool num_pair(const char *str, double lo_a, double hi_a, double *a, double lo_b,
		     double hi_b, double *b)
{
	char first[64];
	const char *comma = strchr(str, ',');
	size_t n = comma ? (size_t)(comma - str) : strlen(str);

	if (n >= sizeof first)
		return false;
	memcpy(first, str, n);
	first[n] = 0;
	return num(first, lo_a, hi_a, a) && (!comma || num(comma + 1, lo_b, hi_b, b));
}

static int bad_arg(const char *what, const char *arg)
{
	fprintf(stderr, "tl-bench-losssim: bad %s '%s' (tl-bench-losssim --help)\n", what, arg);
	return 2;
}

struct args {
	const char *pcap;
	uint64_t bytes, seed, limit;
	uint32_t tlp;
	bool seed_given, tlp_given;
};

/* One of the flags that take a value into a and m; 0 or 2. */
static int parse_flag(const char *o, const char *v, struct args *a)
{
	double x, y = 0;

	if (!v)
		return bad_arg(o, "(no value)");
	if (!strcmp(o, "--limit")) {
		if (!num(v, 1e-3, 1e9, &x))
			return bad_arg(o, v);
		a->limit = (tl_time)(x * 1e6 + 0.5);
	} else if (!strcmp(o, "--reorder")) {
		if (!strchr(v, ',') || !num_pair(v, 0, 1, &m.reorder, 0, 1e6, &y))
			return bad_arg(o, v);
		m.reorder_hold = (tl_time)(y * 1000 + 0.5);
	} else {
		y = 1;
		if (!num_pair(v, 1, 1e9, &x, 1e-6, 1, &y))
			return bad_arg(o, v);
		m.burst = true;
		m.ge_r = 1 / x; /* bad runs last 1/r packets on average */
		m.ge_h = y;
	}
	return 0;
}

/* Gilbert-Elliott's good -> bad probability for a long-run loss rate P: the
 * chain is bad a fraction P/H of the time, P/H = p / (p + r). */
static int burst_setup(void)
{
	double bad = m.loss / m.ge_h;

	m.ge_p = bad < 1 ? bad * m.ge_r / (1 - bad) : 2;
	if (m.ge_p > 1) {
		fprintf(stderr, "tl-bench-losssim: --burst L,H cannot lose %g of packets: "
				"needs P/H <= L/(L+1)\n", m.loss);
		return 2;
	}
	return 0;
}

/* The command line into a and m; 0, 2 for a bad one, -1 for --help. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const char *const names[] = { "BYTES", "P", "ONE_WAY_MS", "SEED", "TLP" };
	static const double lo[] = { 1, 0, 0, 0, 0 }, hi[] = { 1e15, 0.999999, 1e6, 1e15, 1 };
	double pos[] = { 4u << 20, 0.10, 1, 1, 1 };
	int npos = 0, rc;

	*a = (struct args){ .limit = TL_MS(36000 * 1000) };
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "-h") || !strcmp(o, "--help"))
			return -1;
		if (!strcmp(o, "--pcap")) {
			if (i + 1 == argc)
				return bad_arg(o, "(no value)");
			a->pcap = argv[++i];
			continue;
		}
		if (!strcmp(o, "--burst") || !strcmp(o, "--reorder") || !strcmp(o, "--limit")) {
			if ((rc = parse_flag(o, i + 1 < argc ? argv[i + 1] : NULL, a)))
				return rc;
			i++;
			continue;
		}
		if (o[0] == '-' && !(o[1] >= '0' && o[1] <= '9'))
			return bad_arg("option", o);
		if (npos == 5)
			return bad_arg("extra argument", o);
		bool whole = npos == 0 || npos >= 3; /* BYTES, SEED, TLP */
		double *v = &pos[npos];
		if (!num(o, lo[npos], hi[npos], v) || (whole && *v != (double)(uint64_t)*v))
			return bad_arg(names[npos], o);
		npos++;
	}
	a->bytes = (uint64_t)pos[0];
	m.loss = pos[1];
	m.delay = (tl_time)(pos[2] * 1000 + 0.5);
	a->seed = (uint64_t)pos[3];
	a->tlp = (uint32_t)pos[4];
	a->seed_given = npos > 3;
	a->tlp_given = npos > 4;
	return m.burst ? burst_setup() : 0;
}

/* One of the environment's two choices: NAME is A (0) or B (1), or unset
 * (keep). False for anything else. */
static bool env_choice(const char *name, const char *a, const char *b, uint32_t *out)
{
	const char *v = getenv(name);

	if (!v)
		return true;
	if (strcmp(v, a) && strcmp(v, b)) {
		fprintf(stderr, "tl-bench-losssim: %s is %s or %s, not '%s'\n", name, a, b, v);
		return false;
	}
	*out = strcmp(v, a) ? 1 : 0;
	return true;
}

/* The stack's settings from the flags and the environment; false if bad. */
static bool configure(struct tl_config *cfg, const struct args *a)
{
	tl_config_defaults(cfg);
	uint32_t cc = cfg->tcp_cc == TL_CC_CUBIC, rec = cfg->tcp_recovery == TL_RECOVERY_NEWRENO;

	if (!env_choice("TL_LOSSSIM_CC", "reno", "cubic", &cc) ||
	    !env_choice("TL_LOSSSIM_RECOVERY", "rack", "newreno", &rec))
		return false;
	cfg->tcp_cc = cc ? TL_CC_CUBIC : TL_CC_RENO;
	cfg->tcp_recovery = rec ? TL_RECOVERY_NEWRENO : TL_RECOVERY_RACK;
	if (a->tlp_given)
		cfg->tcp_tlp = a->tlp;
	cfg->output = stack_out;
	if (getenv("TL_LOSSSIM_TRACE")) {
		cfg->trace = trace;
		cfg->trace_json = true;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct tl_config cfg;
	struct args a;
	int rc = parse_args(argc, argv, &a);

	if (rc) {
		if (rc < 0)
			fputs(usage_text, stdout);
		return rc < 0 ? 0 : rc;
	}
	m.rng = a.seed_given ? a.seed * 0x9e3779b97f4a7c15ull + 1 : 1;
	if (!configure(&cfg, &a))
		return 2;
	if (a.pcap) {
		char err[256];
		if (!(m.pcap = tl_pcap_open(a.pcap, m.now, err, sizeof err))) {
			fprintf(stderr, "tl-bench-losssim: %s\n", err);
			return 1;
		}
		m.up.tap = capture;
	}
	if (!(m.s = sim_stack(&cfg))) {
		fprintf(stderr, "tl-bench-losssim: cannot start the stack\n");
		return 1;
	}
	struct tcp_opts syn = sim_syn_opts(WSCALE);
	m.snd_nxt = 1000;
	peer_send(TCP_SYN, &syn);

	m.delack_at = TL_TIME_NEVER;
	while (m.received < a.bytes && m.now < a.limit && step())
		;
	report(tl_stack_counters(m.s), a.bytes, a.limit);
	tl_pcap_close(m.pcap);
	tl_stack_free(m.s);
	return m.received >= a.bytes ? 0 : 1;
}
