/* The command line. One table, options[], declares every option: its flag,
 * the field it sets, how its value is read and bounded, its help line.
 * Parsing, --help and --list-options (which the tests and the man page
 * read) all come from it; docs/architecture.md shows how to add one. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "mq.h"
#include "tcplab/apps.h"

enum opt_kind {
	OPT_SWITCH,	/* no value: sets a bool */
	OPT_U32,	/* a decimal number in [min, max] */
	OPT_U64,
	OPT_ADDR,	/* A.B.C.D into a uint32_t, host byte order */
	OPT_STR,	/* kept as given, 1..max characters */
	OPT_CHOICE,	/* one of choices[], its value into a uint32_t */
	OPT_PROB,	/* fault: a probability, "0.05" or "5%" */
	OPT_DURATION,	/* fault: "25ms", "500us", "1s" */
	OPT_RATE,	/* fault: "10mbit" */
	OPT_FN,		/* read by fn */
};

enum opt_group { G_MAIN, G_TCP, G_BOUNDS, G_FAULT, G_REPLAY, G_COUNT };

struct opt_choice {
	const char *name;
	uint32_t value;
};

struct opt {
	const char *flag;
	const char *meta;		/* the value in --help; NULL: a switch */
	enum opt_kind kind;
	enum opt_group group;
	size_t field;			/* in struct tl_opts; faults: in struct tl_fault_cfg */
	size_t given;			/* 1 + offset of a bool set when given; 0: none */
	unsigned long long min, max;
	const char *unit;		/* of a number, in errors and help */
	const struct opt_choice *choices; /* ends with a NULL name */
	int (*fn)(struct tl_opts *o, const struct opt *d, const char *v);
	const char *dflt;		/* the default in words; NULL: the field's value */
	const char *help;
};

#define F(f) offsetof(struct tl_opts, f)
#define GIVEN(f) (offsetof(struct tl_opts, f) + 1)
#define FAULT(f) offsetof(struct tl_fault_cfg, f)
#define NO_DEFAULT ""

static const struct opt_choice on_off[] = { { "on", 1 }, { "off", 0 }, { NULL, 0 } };
static const struct opt_choice recoveries[] = {
	{ "rack", TL_RECOVERY_RACK }, { "newreno", TL_RECOVERY_NEWRENO }, { NULL, 0 }
};
static const struct opt_choice ccs[] = { { "reno", TL_CC_RENO }, { "cubic", TL_CC_CUBIC }, { NULL, 0 } };

static int trace_flag(struct tl_opts *o, const struct opt *d, const char *v);
static int kernel_addr_flag(struct tl_opts *o, const struct opt *d, const char *v);
static int connect_flag(struct tl_opts *o, const struct opt *d, const char *v);
static int faults_flag(struct tl_opts *o, const struct opt *d, const char *v);
static int services_flag(struct tl_opts *o, const struct opt *d, const char *v);

static const struct opt options[] = {
	{ "--tun", "NAME", OPT_STR, G_MAIN, F(tun), 0, 1, 15, NULL, NULL, NULL, NULL,
	  "TUN device to create or attach to" },
	{ "--addr", "A.B.C.D", OPT_ADDR, G_MAIN, F(addr), GIVEN(have_addr), 0, 0, NULL, NULL, NULL,
	  NULL, "the stack's own address" },
	{ "--kernel-addr", "A.B.C.D/N", OPT_FN, G_MAIN, 0, 0, 0, 0, NULL, NULL, kernel_addr_flag,
	  "10.10.0.1/24", "address given to the kernel's side of the link" },
	{ "--services", "LIST", OPT_FN, G_MAIN, F(services), 0, 0, 0, NULL, NULL, services_flag,
	  "all", "the built-in services to run: some of echo (TCP and UDP 7 and 65432), discard "
	  "(TCP and UDP 9), chargen (TCP 19) and qotd (TCP 17), comma-separated, or all or none" },
	{ "--mtu", "N", OPT_U32, G_MAIN, F(mtu), 0, 576, 65535, NULL, NULL, NULL, NULL, "link MTU" },
	{ "--pcap", "FILE", OPT_STR, G_MAIN, F(pcap), 0, 1, 4096, NULL, NULL, NULL, NO_DEFAULT,
	  "write every packet the stack receives and sends" },
	{ "--trace", "[=json]", OPT_FN, G_MAIN, 0, 0, 0, 0, NULL, NULL, trace_flag, NO_DEFAULT,
	  "print each segment, state change and timer event, as text or as one JSON object per line" },
	{ "--seed", "N", OPT_U64, G_MAIN, F(seed), GIVEN(have_seed), 0, UINT64_MAX, NULL, NULL, NULL,
	  "random, from the kernel", "make ISNs and injected faults repeatable" },
	{ "--offload", "[on|off]", OPT_CHOICE, G_MAIN, F(offload), 0, 0, 0, NULL, on_off, NULL, NULL,
	  "TUN offloads where the kernel takes them: tcplab and the kernel exchange TCP segments of "
	  "up to 64 KiB (TSO), shown whole by the trace and --pcap, and the kernel leaves its "
	  "checksums to tcplab; with fault injection checksums only; off: one packet per segment "
	  "(tools/lab's default); alone: on" },
	{ "--user", "NAME", OPT_STR, G_MAIN, F(user), 0, 1, 64, NULL, NULL, NULL, NO_DEFAULT,
	  "once the TUN device and --pcap file are open, run as that user with no capabilities "
	  "(tools/lab: nobody)" },
	{ "--queues", "N", OPT_U32, G_MAIN, F(queues), 0, 1, TL_QUEUES_MAX, NULL, NULL, NULL, NULL,
	  "N stacks, one per TUN queue (IFF_MULTI_QUEUE) and thread, sharing nothing; the kernel "
	  "spreads flows over them. With N > 1, --connect and tcplab run are refused, and tcplab "
	  "ss and stats answer for all stacks" },
	{ "--connect", "A.B.C.D:PORT", OPT_FN, G_MAIN, 0, 0, 0, 0, NULL, NULL, connect_flag, NO_DEFAULT,
	  "also act as a TCP client: send standard input to that address, print what comes back, "
	  "exit at the end (the trace then goes to standard error)" },

	{ "--rcvbuf", "BYTES", OPT_U32, G_TCP, F(cfg.tcp_rcvbuf), GIVEN(have_rcvbuf), 1024, 1u << 30,
	  "bytes", NULL, NULL, "262144; on TUN at least 16 segments of the MTU's MSS, with offload 1 MiB",
	  "TCP receive buffer per connection" },
	{ "--sndbuf", "BYTES", OPT_U32, G_TCP, F(cfg.tcp_sndbuf), 0, 1024, 1u << 30, "bytes", NULL,
	  NULL, NULL, "TCP send buffer per connection" },
	{ "--init-cwnd", "N", OPT_U32, G_TCP, F(cfg.tcp_init_cwnd), 0, 1, 1000, "segments", NULL,
	  NULL, NULL, "initial congestion window" },
	{ "--delack", "MS", OPT_U32, G_TCP, F(cfg.tcp_delack_ms), 0, 0, 500, "ms", NULL, NULL, NULL,
	  "longest delay of an ACK, 0 = none" },
	{ "--ack-batch", "BYTES", OPT_U32, G_TCP, F(cfg.tcp_ack_batch_max), GIVEN(have_ack_batch), 0,
	  1u << 30, "bytes", NULL, NULL, "65536 on TUN, 0 in a replay",
	  "in-order data read in one batch from the device gets one ACK, up to BYTES "
	  "(0 = an ACK every second segment, RFC 1122)" },
	{ "--fast-path", "on|off", OPT_CHOICE, G_TCP, F(cfg.tcp_fast_path), 0, 0, 0, NULL, on_off,
	  NULL, NULL, "header prediction: in-order data past the full input path, its checksum "
	  "taken as it is copied (off: every segment walks RFC 9293 3.10.7.4)" },
	{ "--tlp", "on|off", OPT_CHOICE, G_TCP, F(cfg.tcp_tlp), 0, 0, 0, NULL, on_off, NULL, NULL,
	  "tail loss probes on SACK connections (RFC 8985 7)" },
	{ "--timestamps", "on|off", OPT_CHOICE, G_TCP, F(cfg.tcp_timestamps), 0, 0, 0, NULL, on_off,
	  NULL, NULL, "TCP timestamps (RFC 7323: an RTT sample from every ACK, PAWS, spurious "
	  "timeouts undone)" },
	{ "--recovery", "rack|newreno", OPT_CHOICE, G_TCP, F(cfg.tcp_recovery), 0, 0, 0, NULL,
	  recoveries, NULL, NULL, "loss recovery with SACK: RACK with PRR (RFC 8985, 6675, 6937) or "
	  "the classic duplicate-ACK path (RFC 5681, 6582), which peers without SACK get" },
	{ "--cc", "reno|cubic", OPT_CHOICE, G_TCP, F(cfg.tcp_cc), 0, 0, 0, NULL, ccs, NULL, NULL,
	  "congestion control: Reno (RFC 5681) or CUBIC (RFC 9438)" },

	{ "--syncookies", "on|off", OPT_CHOICE, G_BOUNDS, F(cfg.tcp_syncookies), 0, 0, 0, NULL, on_off,
	  NULL, NULL, "answer SYNs past a full backlog with SYN cookies (RFC 4987)" },
	{ "--max-conns", "N", OPT_U32, G_BOUNDS, F(cfg.tcp_max_conns), 0, 1, 1u << 24, NULL, NULL,
	  NULL, NULL, "TCP connections in all states together; past it a SYN is dropped" },
	{ "--time-wait-max", "N", OPT_U32, G_BOUNDS, F(cfg.tcp_time_wait_max), 0, 0, UINT32_MAX, NULL,
	  NULL, NULL, NULL, "TIME_WAIT entries kept; past it the oldest goes early (0 = no cap)" },
	{ "--ooo-max", "BYTES", OPT_U32, G_BOUNDS, F(cfg.tcp_ooo_bytes_max), 0, 0, UINT32_MAX, "bytes",
	  NULL, NULL, NULL, "out-of-order data held past holes, all connections together "
	  "(0 = no bound)" },
	{ "--rst-rate", "N", OPT_U32, G_BOUNDS, F(cfg.tcp_rst_per_sec), 0, 0, UINT32_MAX, NULL, NULL,
	  NULL, NULL, "RSTs a second to segments with no connection (0 = no limit)" },
	{ "--challenge-ack-rate", "N", OPT_U32, G_BOUNDS, F(cfg.tcp_challenge_ack_per_sec), 0, 0,
	  UINT32_MAX, NULL, NULL, NULL, NULL, "challenge ACKs a second, RFC 5961 7 (0 = no limit)" },
	{ "--challenge-ack-interval", "MS", OPT_U32, G_BOUNDS, F(cfg.tcp_challenge_ack_interval_ms), 0,
	  0, 3600000, "ms", NULL, NULL, NULL, "and at most one per connection in MS (0 = no limit)" },

	{ "--loss", "P", OPT_PROB, G_FAULT, FAULT(loss), 0, 0, 0, NULL, NULL, NULL, NO_DEFAULT,
	  "drop packets with probability P (0.05 or 5%)" },
	{ "--dup", "P", OPT_PROB, G_FAULT, FAULT(dup), 0, 0, 0, NULL, NULL, NULL, NO_DEFAULT,
	  "duplicate packets" },
	{ "--reorder", "P", OPT_PROB, G_FAULT, FAULT(reorder), 0, 0, 0, NULL, NULL, NULL, NO_DEFAULT,
	  "hold packets back by max(delay, 10ms) so others pass" },
	{ "--corrupt", "P", OPT_PROB, G_FAULT, FAULT(corrupt), 0, 0, 0, NULL, NULL, NULL, NO_DEFAULT,
	  "flip one bit" },
	{ "--delay", "D", OPT_DURATION, G_FAULT, FAULT(delay_us), 0, 0, 0, NULL, NULL, NULL,
	  NO_DEFAULT, "delay every packet (e.g. 25ms)" },
	{ "--jitter", "D", OPT_DURATION, G_FAULT, FAULT(jitter_us), 0, 0, 0, NULL, NULL, NULL,
	  NO_DEFAULT, "vary the delay by up to D either way" },
	{ "--rate", "R", OPT_RATE, G_FAULT, FAULT(rate_bps), 0, 0, 0, NULL, NULL, NULL, NO_DEFAULT,
	  "limit the link rate (e.g. 10mbit)" },
	{ "--faults-in", "SPEC", OPT_FN, G_FAULT, F(faults_in), 0, 0, 0, NULL, NULL, faults_flag,
	  NO_DEFAULT, "faults kernel to stack as a list, e.g. loss=0.05,delay=25ms" },
	{ "--faults-out", "SPEC", OPT_FN, G_FAULT, F(faults_out), 0, 0, 0, NULL, NULL, faults_flag,
	  NO_DEFAULT, "the same, stack to kernel" },

	{ "--replay", "FILE", OPT_STR, G_REPLAY, F(replay), 0, 1, 4096, NULL, NULL, NULL, NO_DEFAULT,
	  "feed one side of a capture to the stack at its recorded times and compare the stack's "
	  "answers with the recorded host's (--addr picks the host; default: the one that answered "
	  "the first SYN)" },
	{ "--time-tolerance", "MS", OPT_U32, G_REPLAY, F(time_tol_ms), 0, 0, 3600000, "ms", NULL, NULL,
	  NULL, "how far an answer's time may drift" },
	{ "--window-tolerance", "P", OPT_U32, G_REPLAY, F(window_tol_pct), 0, 0, 100, "percent", NULL,
	  NULL, NULL, "how far windows may differ" },
	{ "--lenient", NULL, OPT_SWITCH, G_REPLAY, F(lenient), 0, 0, 0, NULL, NULL, NULL, NO_DEFAULT,
	  "compare with another stack: bare ACKs may be folded into data, PSH and option values "
	  "ignored" },
	{ "--ack-state", NULL, OPT_SWITCH, G_REPLAY, F(ack_state), 0, 0, 0, NULL, NULL, NULL,
	  NO_DEFAULT, "check each recorded bare ACK against what tcplab has received (RCV.NXT, SACK "
	  "ranges) instead of against tcplab's own ACKs (a receiver that ACKs at other moments, as "
	  "Linux's delayed ACKs)" },
};

#define N_OPTIONS (sizeof options / sizeof options[0])

static const char *const group_title[G_COUNT] = {
	[G_MAIN] = NULL,
	[G_TCP] = "TCP:",
	[G_BOUNDS] = "Bounds a hostile peer meets:",
	[G_FAULT] = "Fault injection, for both directions (prefix with --in- or --out- for one:\n"
		    "in = kernel to stack, out = stack to kernel, e.g. --out-loss 0.05):",
	[G_REPLAY] = "Replay (no device, no root needed):",
};

static const char usage_head[] =
	"usage: tcplab [options]\n"
	"A user-space TCP/IP stack on a TUN device. It answers ping, serves UDP echo\n"
	"(ports 7, 65432) and discard (9), and TCP echo (7, 65432), discard (9),\n"
	"quote of the day (17) and chargen (19). Run it as root inside a network\n"
	"namespace (tools/lab does).\n";
static const char usage_tail[] =
	"\n"
	"  -h, --help            this help\n"
	"  --list-options        every option as a table: flag, kind, bounds, default\n"
	"SIGINT or SIGTERM stops it; SIGUSR1 prints the counters (also printed at exit).\n"
	"tcplab ss [-i] [--json] and tcplab stats [--json] ask the running tcplab (--help).\n"
	"tcplab run [--tun NAME] -- COMMAND runs COMMAND's sockets on it (--help).\n";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tcplab: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see tcplab --help)\n");
	return -1;
}

static void *field_of(struct tl_opts *o, const struct opt *d) { return (char *)o + d->field; }

static int parse_addr(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || v > max || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	*out = v;
	return 0;
}

/* "A.B.C.D/N" or "A.B.C.D:PORT": the address before sep, the number after. */
static int parse_addr_num(const char *s, char sep, unsigned long long max, uint32_t *addr,
			  unsigned long long *n)
{
	char buf[32];
	const char *at = strrchr(s, sep);

	if (!at || (size_t)(at - s) >= sizeof buf)
		return -1;
	memcpy(buf, s, (size_t)(at - s));
	buf[at - s] = 0;
	if (parse_addr(buf, addr) < 0 || parse_uint(at + 1, max, n) < 0 || *n < 1)
		return -1;
	return 0;
}

static int kernel_addr_flag(struct tl_opts *o, const struct opt *d, const char *v)
{
	unsigned long long p;

	if (parse_addr_num(v, '/', 30, &o->kernel_addr, &p) < 0)
		return fail("bad value '%s' for %s (want A.B.C.D/N, N 1..30)", v, d->flag);
	o->kernel_prefix = (int)p;
	return 0;
}

static int connect_flag(struct tl_opts *o, const struct opt *d, const char *v)
{
	unsigned long long port;

	if (parse_addr_num(v, ':', 65535, &o->connect_to.addr, &port) < 0)
		return fail("bad value '%s' for %s (want A.B.C.D:PORT)", v, d->flag);
	o->connect_to.port = (uint16_t)port;
	o->connect = true;
	return 0;
}

/* --services echo,discard,... or all or none (RFC 862-865). */
static int services_flag(struct tl_opts *o, const struct opt *d, const char *v)
{
	char buf[128];
	unsigned mask = 0;

	if (strlen(v) >= sizeof buf)
		return fail("%s: the list is too long", d->flag);
	strcpy(buf, v);
	for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		unsigned bit = 0;
		for (unsigned b = 1; b <= TL_SVC_ALL; b <<= 1)
			if (!strcmp(w, tl_apps_name(b)))
				bit = b;
		if (!bit && strcmp(w, "all") && strcmp(w, "none"))
			return fail("%s: unknown service '%s' (want echo, discard, chargen, qotd, "
				    "all or none)", d->flag, w);
		mask |= !strcmp(w, "all") ? TL_SVC_ALL : bit;
	}
	if (!*v)
		return fail("%s needs a list (e.g. echo,discard, all or none)", d->flag);
	o->services = mask;
	return 0;
}

/* --trace, --trace=text, --trace=json (v NULL: no '=value' was given). */
static int trace_flag(struct tl_opts *o, const struct opt *d, const char *v)
{
	if (v && strcmp(v, "text") && strcmp(v, "json"))
		return fail("%s takes text or json, not '%s'", d->flag, v);
	o->trace = true;
	o->trace_json = v && !strcmp(v, "json");
	return 0;
}

static bool is_fault(const struct opt *d)
{
	return d->kind == OPT_PROB || d->kind == OPT_DURATION || d->kind == OPT_RATE;
}

/* Reads a fault value into one direction's config: 0, or -1 if bad. */
static int set_fault(struct tl_fault_cfg *c, const struct opt *d, const char *v)
{
	void *p = (char *)c + d->field;

	if (d->kind == OPT_PROB)
		return tl_parse_probability(v, p);
	if (d->kind == OPT_DURATION)
		return tl_parse_duration_us(v, p);
	return tl_parse_rate_bps(v, p);
}

static const struct opt *find_fault(const char *name)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (is_fault(&options[i]) && !strcmp(options[i].flag + 2, name))
			return &options[i];
	return NULL;
}

/* --faults-in / --faults-out SPEC: name=value,... of the fault options. */
static int faults_flag(struct tl_opts *o, const struct opt *d, const char *spec)
{
	char buf[256];

	if (strlen(spec) >= sizeof buf)
		return fail("%s is too long", d->flag);
	strcpy(buf, spec);
	for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			return fail("%s: '%s' is not name=value", d->flag, kv);
		*eq = 0;
		const struct opt *f = find_fault(kv);
		if (!f)
			return fail("%s: unknown fault '%s'", d->flag, kv);
		if (set_fault(field_of(o, d), f, eq + 1) < 0)
			return fail("%s: bad value '%s' for %s", d->flag, eq + 1, kv);
	}
	return 0;
}

/* What a value must look like, for an error message. */
static const char *wanted(const struct opt *d, char *buf, size_t n)
{
	size_t k = 0;

	switch (d->kind) {
	case OPT_U32:
	case OPT_U64:
		snprintf(buf, n, "%llu..%llu%s%s", d->min, d->max, d->unit ? " " : "",
			 d->unit ? d->unit : "");
		break;
	case OPT_CHOICE:
		buf[0] = 0;
		for (const struct opt_choice *c = d->choices; c->name && k < n; c++)
			k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? " or " : "", c->name);
		break;
	case OPT_ADDR:
		snprintf(buf, n, "A.B.C.D");
		break;
	case OPT_STR:
		snprintf(buf, n, "1..%llu characters", d->max);
		break;
	case OPT_PROB:
		snprintf(buf, n, "a probability, 0.05 or 5%%");
		break;
	case OPT_DURATION:
		snprintf(buf, n, "a duration, 25ms or 500us");
		break;
	case OPT_RATE:
		snprintf(buf, n, "a rate, 10mbit or 512kbit");
		break;
	default:
		snprintf(buf, n, "%s", d->meta);
	}
	return buf;
}

static int bad(const struct opt *d, const char *v)
{
	char w[128];

	return fail("bad value '%s' for %s (want %s)", v, d->flag, wanted(d, w, sizeof w));
}

static bool is_choice(const struct opt *d, const char *v)
{
	for (const struct opt_choice *c = d->choices; c->name; c++)
		if (!strcmp(c->name, v))
			return true;
	return false;
}

static int set_choice(struct tl_opts *o, const struct opt *d, const char *v)
{
	for (const struct opt_choice *c = d->choices; c->name; c++) {
		if (!strcmp(c->name, v)) {
			*(uint32_t *)field_of(o, d) = c->value;
			return 0;
		}
	}
	return bad(d, v);
}

/* Sets the field of d from v: 0, or -1 after printing why not. */
static int set_value(struct tl_opts *o, const struct opt *d, const char *v)
{
	unsigned long long n;
	void *p = field_of(o, d);

	switch (d->kind) {
	case OPT_U32:
	case OPT_U64:
		if (parse_uint(v, d->max, &n) < 0 || n < d->min)
			return bad(d, v);
		if (d->kind == OPT_U32)
			*(uint32_t *)p = (uint32_t)n;
		else
			*(uint64_t *)p = n;
		return 0;
	case OPT_ADDR:
		return parse_addr(v, p) < 0 ? bad(d, v) : 0;
	case OPT_STR:
		if (strlen(v) < d->min || strlen(v) > d->max)
			return bad(d, v);
		*(const char **)p = v;
		return 0;
	case OPT_CHOICE:
		return set_choice(o, d, v);
	case OPT_FN:
		return d->fn(o, d, v);
	default:
		return -1;
	}
}

/* A fault option applies to both directions, or to one with --in-/--out-. */
static int fault_value(struct tl_opts *o, const char *flag, size_t len, const struct opt *d,
		       int dirs, const char *v)
{
	char w[128];

	if (((dirs & 1) && set_fault(&o->faults_in, d, v) < 0) ||
	    ((dirs & 2) && set_fault(&o->faults_out, d, v) < 0))
		return fail("bad value '%s' for %.*s (want %s)", v, (int)len, flag,
			    wanted(d, w, sizeof w));
	return 0;
}

static const struct opt *find(const char *flag, size_t len, bool faults_only)
{
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct opt *d = &options[i];
		if (strlen(d->flag) == len && !strncmp(d->flag, flag, len) &&
		    (!faults_only || is_fault(d)))
			return d;
	}
	return NULL;
}

/* The option arg[0, len) names, and for a fault the directions it sets:
 * 1 in, 2 out, 3 both ("--in-loss" is "--loss" for one direction). */
static const struct opt *lookup(const char *arg, size_t len, int *dirs)
{
	char flag[64];
	const struct opt *d = find(arg, len, false);
	size_t skip = !strncmp(arg, "--in-", 5) ? 3 : !strncmp(arg, "--out-", 6) ? 4 : 0;

	*dirs = 3;
	if (d || !skip || len >= sizeof flag)
		return d;
	*dirs = skip == 3 ? 1 : 2;
	snprintf(flag, sizeof flag, "--%.*s", (int)(len - 2 - skip), arg + 2 + skip);
	return find(flag, strlen(flag), true);
}

/* The defaults --help documents: the core's (tl_config_defaults), the
 * driver's, and a TCP buffer ACKed once per TUN batch unless told. */
static void default_opts(struct tl_opts *o)
{
	memset(o, 0, sizeof *o);
	o->tun = "tl0";
	o->addr = 0x0a0a0002;
	o->kernel_addr = 0x0a0a0001;
	o->kernel_prefix = 24;
	o->mtu = 1500;
	o->time_tol_ms = 10;
	o->services = TL_SVC_ALL;
	o->offload = 1;
	o->queues = 1;
	tl_config_defaults(&o->cfg);
}

/* One argument (and the next, if it takes a value): the count used, or -1. */
static int one_arg(struct tl_opts *o, const char *a, const char *next)
{
	const char *eq = strchr(a, '=');
	size_t len = eq ? (size_t)(eq - a) : strlen(a);
	int dirs;
	const struct opt *d = strncmp(a, "--", 2) ? NULL : lookup(a, len, &dirs);

	if (strncmp(a, "--", 2))
		return fail("unexpected argument '%s'", a);
	if (!d)
		return fail("unknown option '%.*s'", (int)len, a);
	if (d->given)
		*(bool *)((char *)o + d->given - 1) = true;
	/* "[on|off]": a choice that may stand alone (its first), or take the next argument. */
	if (d->kind == OPT_CHOICE && d->meta[0] == '[' && !eq) {
		bool takes = next && is_choice(d, next);
		return set_choice(o, d, takes ? next : d->choices[0].name) < 0 ? -1 : takes ? 2 : 1;
	}
	if (!d->meta || d->fn == trace_flag) {
		if (eq && d->fn != trace_flag)
			return fail("%s takes no value", d->flag);
		if (d->fn)
			return d->fn(o, d, eq ? eq + 1 : NULL) < 0 ? -1 : 1;
		*(bool *)field_of(o, d) = true;
		return 1;
	}
	const char *v = eq ? eq + 1 : next;
	if (!v)
		return fail("%s needs a value", d->flag);
	if (is_fault(d) ? fault_value(o, a, len, d, dirs, v) < 0 : set_value(o, d, v) < 0)
		return -1;
	return eq ? 1 : 2;
}

#define HELP_INDENT 24
#define HELP_WIDTH 79

/* Prints text from column col, wrapped at HELP_WIDTH, further lines indented. */
static void wrap(FILE *f, const char *text, size_t col)
{
	const char *p = text;

	while (*p) {
		size_t room = HELP_WIDTH - col, n = strlen(p);
		if (n > room) {
			n = room;
			while (n > 0 && p[n] != ' ')
				n--;
			if (n == 0) /* one word longer than the room */
				n = strcspn(p, " ");
		}
		fprintf(f, "%.*s\n", (int)n, p);
		p += n;
		while (*p == ' ')
			p++;
		if (*p)
			fprintf(f, "%*s", HELP_INDENT, "");
		col = HELP_INDENT;
	}
}

/* The default in words, from the table or from the field in def; NULL: none. */
static const char *default_text(const struct opt *d, struct tl_opts *def, char *buf, size_t n)
{
	const void *p = field_of(def, d);

	if (d->dflt)
		return *d->dflt ? d->dflt : NULL;
	switch (d->kind) {
	case OPT_U32:
		snprintf(buf, n, "%u", *(const uint32_t *)p);
		return buf;
	case OPT_ADDR: {
		uint32_t a = *(const uint32_t *)p;
		snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
		return buf;
	}
	case OPT_STR:
		return *(const char *const *)p;
	case OPT_CHOICE:
		for (const struct opt_choice *c = d->choices; c->name; c++)
			if (c->value == *(const uint32_t *)p)
				return c->name;
		return NULL;
	default:
		return NULL;
	}
}

static void print_option(FILE *f, const struct opt *d, struct tl_opts *def)
{
	char head[64], text[512], dflt[64], range[64];
	const char *dv = default_text(d, def, dflt, sizeof dflt);

	snprintf(head, sizeof head, "  %s%s%s", d->flag, d->meta && strncmp(d->meta, "[=", 2) ? " " : "",
		 d->meta ? d->meta : "");
	range[0] = 0;
	if ((d->kind == OPT_U32 || d->kind == OPT_U64) && d->max < UINT32_MAX)
		snprintf(range, sizeof range, ", %llu..%llu%s%s", d->min, d->max, d->unit ? " " : "",
			 d->unit ? d->unit : "");
	snprintf(text, sizeof text, "%s%s%s%s%s", d->help, range, dv ? " (default " : "",
		 dv ? dv : "", dv ? ")" : "");
	fputs(head, f);
	if (strlen(head) + 2 > HELP_INDENT)
		fprintf(f, "\n%*s", HELP_INDENT, "");
	else
		fprintf(f, "%*s", (int)(HELP_INDENT - strlen(head)), "");
	wrap(f, text, HELP_INDENT);
}

static void print_usage(FILE *f)
{
	struct tl_opts def;

	default_opts(&def);
	fputs(usage_head, f);
	for (int g = 0; g < G_COUNT; g++) {
		fprintf(f, "\n%s%s", group_title[g] ? group_title[g] : "", group_title[g] ? "\n" : "");
		for (size_t i = 0; i < N_OPTIONS; i++)
			if (options[i].group == (enum opt_group)g)
				print_option(f, &options[i], &def);
	}
	fputs(usage_tail, f);
}

static const char *const kind_name[] = {
	[OPT_SWITCH] = "switch", [OPT_U32] = "number", [OPT_U64] = "number",
	[OPT_ADDR] = "address", [OPT_STR] = "string", [OPT_CHOICE] = "choice",
	[OPT_PROB] = "probability", [OPT_DURATION] = "duration", [OPT_RATE] = "rate",
	[OPT_FN] = "special",
};

/* --list-options: one line per option, tab-separated, for tests and tools. */
static void list_options(FILE *f)
{
	struct tl_opts def;
	char dflt[64], w[128];

	default_opts(&def);
	fprintf(f, "# flag\tvalue\tkind\taccepts\tdefault\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct opt *d = &options[i];
		const char *dv = default_text(d, &def, dflt, sizeof dflt);
		fprintf(f, "%s\t%s\t%s\t%s\t%s\n", d->flag, d->meta ? d->meta : "-", kind_name[d->kind],
			d->kind == OPT_SWITCH ? "-" : wanted(d, w, sizeof w), dv ? dv : "-");
	}
}

int tl_parse_args(int argc, char **argv, struct tl_opts *o)
{
	default_opts(o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_usage(stdout);
			return 1;
		}
		if (!strcmp(a, "--list-options")) {
			list_options(stdout);
			return 1;
		}
		int used = one_arg(o, a, i + 1 < argc ? argv[i + 1] : NULL);
		if (used < 0)
			return -1;
		i += used - 1;
	}
	uint32_t mask = 0xffffffffu << (32 - o->kernel_prefix);
	if (o->replay)
		return 0;
	if ((o->addr & mask) != (o->kernel_addr & mask) || o->addr == o->kernel_addr)
		return fail("--addr must be another address in the --kernel-addr subnet");
	return 0;
}
