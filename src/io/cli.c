/* The command line: flags into struct tl_opts, one-line errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

static const char usage[] =
	"usage: tcplab [options]\n"
	"A user-space TCP/IP stack on a TUN device. It answers ping, serves UDP echo\n"
	"(ports 7, 65432) and discard (9), and TCP echo (7, 65432), discard (9),\n"
	"quote of the day (17) and chargen (19). Run it as root inside a network\n"
	"namespace (tools/lab does).\n"
	"\n"
	"  --tun NAME            TUN device to create or attach to (default tl0)\n"
	"  --addr A.B.C.D        the stack's own address (default 10.10.0.2)\n"
	"  --kernel-addr A.B.C.D/N\n"
	"                        address given to the kernel's side of the link\n"
	"                        (default 10.10.0.1/24)\n"
	"  --mtu N               link MTU, 576..65535 (default 1500)\n"
	"  --pcap FILE           write every packet the stack receives and sends\n"
	"  --trace[=json]        print each segment, state change and timer event,\n"
	"                        as text or as one JSON object per line\n"
	"  --seed N              make ISNs and injected faults repeatable\n"
	"  --offload             TUN offloads: the kernel and tcplab exchange TCP\n"
	"                        segments of up to 64 KiB (TSO) and leave checksums\n"
	"                        of its packets to tcplab (experimental)\n"
	"  --rcvbuf BYTES        TCP receive buffer per connection (default 262144)\n"
	"  --sndbuf BYTES        TCP send buffer per connection (default 262144)\n"
	"  --init-cwnd N         initial congestion window in segments (default 10)\n"
	"  --delack MS           longest delay of an ACK, 0 = none (default 40)\n"
	"  --ack-batch BYTES     in-order data read in one batch from the device\n"
	"                        gets one ACK, up to BYTES (default 65536 on TUN,\n"
	"                        0 = an ACK every second segment, RFC 1122)\n"
	"  --tlp on|off          tail loss probes on SACK connections (RFC 8985 7;\n"
	"                        default on)\n"
	"  --timestamps on|off   TCP timestamps (RFC 7323: an RTT sample from every\n"
	"                        ACK, PAWS, spurious timeouts undone; default on)\n"
	"  --recovery rack|newreno\n"
	"                        loss recovery with SACK: RACK with PRR (RFC 8985,\n"
	"                        6675, 6937; default) or the classic duplicate-ACK\n"
	"                        path (RFC 5681, 6582), which peers without SACK get\n"
	"  --cc reno|cubic       congestion control: Reno (RFC 5681) or CUBIC\n"
	"                        (RFC 9438; default)\n"
	"  --syncookies on|off   answer SYNs past a full backlog with SYN cookies\n"
	"                        (RFC 4987; default on)\n"
	"  --time-wait-max N     TIME_WAIT entries kept; past it the oldest goes\n"
	"                        early (default 16384, 0 = no cap)\n"
	"  --ooo-max BYTES       out-of-order data held past holes, all connections\n"
	"                        together (default 16777216, 0 = no bound)\n"
	"  --rst-rate N          RSTs a second to segments with no connection\n"
	"                        (default 200, 0 = no limit)\n"
	"  --challenge-ack-rate N\n"
	"                        challenge ACKs a second, RFC 5961 7 (default 1000,\n"
	"                        0 = no limit)\n"
	"  --challenge-ack-interval MS\n"
	"                        and at most one per connection in MS (default 500,\n"
	"                        0 = no limit)\n"
	"  --user NAME           once the TUN device and --pcap file are open, run\n"
	"                        as that user with no capabilities (tools/lab: nobody)\n"
	"  --connect A.B.C.D:PORT\n"
	"                        also act as a TCP client: send standard input to\n"
	"                        that address, print what comes back, exit at the end\n"
	"                        (the trace then goes to standard error)\n"
	"\n"
	"Fault injection, for both directions (prefix with --in- or --out- for one:\n"
	"in = kernel to stack, out = stack to kernel, e.g. --out-loss 0.05):\n"
	"  --loss P              drop packets with probability P (0.05 or 5%)\n"
	"  --dup P               duplicate packets\n"
	"  --reorder P           hold packets back by max(delay, 10ms) so others pass\n"
	"  --corrupt P           flip one bit\n"
	"  --delay D             delay every packet (e.g. 25ms)\n"
	"  --jitter D            vary the delay by up to D either way\n"
	"  --rate R              limit the link rate (e.g. 10mbit)\n"
	"  --faults-in SPEC, --faults-out SPEC\n"
	"                        the same as a list, e.g. loss=0.05,delay=25ms\n"
	"\n"
	"Replay (no device, no root needed):\n"
	"  --replay FILE         feed one side of a capture to the stack at its\n"
	"                        recorded times and compare the stack's answers\n"
	"                        with the recorded host's (--addr picks the host;\n"
	"                        default: the one that answered the first SYN)\n"
	"  --time-tolerance MS   how far an answer's time may drift (default 10)\n"
	"  --window-tolerance P  how far windows may differ, in % (default 0)\n"
	"  --lenient             compare with another stack: bare ACKs may be\n"
	"                        folded into data, PSH and option values ignored\n"
	"  --ack-state           check each recorded bare ACK against what tcplab\n"
	"                        has received (RCV.NXT, SACK ranges) instead of\n"
	"                        against tcplab's own ACKs (a receiver that ACKs\n"
	"                        at other moments, as Linux's delayed ACKs)\n"
	"\n"
	"  -h, --help            this help\n"
	"SIGINT or SIGTERM stops it; SIGUSR1 prints the counters (also printed at exit).\n";

static int fail(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "tcplab: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, " (see tcplab --help)\n");
	return -1;
}

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
	if (!*s || *end || errno || v > max || *s == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_prefix(const char *s, uint32_t *addr, int *prefix)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	unsigned long long p;

	if (!slash || (size_t)(slash - s) >= sizeof buf)
		return -1;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = 0;
	if (parse_addr(buf, addr) < 0 || parse_uint(slash + 1, 30, &p) < 0 || p < 1)
		return -1;
	*prefix = (int)p;
	return 0;
}

static int parse_endpoint(const char *s, struct tl_endpoint *ep)
{
	char buf[32];
	const char *colon = strrchr(s, ':');
	unsigned long long port;

	if (!colon || (size_t)(colon - s) >= sizeof buf)
		return -1;
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = 0;
	if (parse_addr(buf, &ep->addr) < 0 || parse_uint(colon + 1, 65535, &port) < 0 || !port)
		return -1;
	ep->port = (uint16_t)port;
	return 0;
}

/* Sets one fault field by name in one direction's config. */
static int set_fault(struct tl_fault_cfg *c, const char *name, const char *v)
{
	if (!strcmp(name, "loss"))
		return tl_parse_probability(v, &c->loss);
	if (!strcmp(name, "dup"))
		return tl_parse_probability(v, &c->dup);
	if (!strcmp(name, "reorder"))
		return tl_parse_probability(v, &c->reorder);
	if (!strcmp(name, "corrupt"))
		return tl_parse_probability(v, &c->corrupt);
	if (!strcmp(name, "delay"))
		return tl_parse_duration_us(v, &c->delay_us);
	if (!strcmp(name, "jitter"))
		return tl_parse_duration_us(v, &c->jitter_us);
	if (!strcmp(name, "rate"))
		return tl_parse_rate_bps(v, &c->rate_bps);
	return -2;
}

/* "--loss", "--in-loss", "--out-loss": 1 if it was a fault flag. */
static int fault_flag(struct tl_opts *o, const char *flag, const char *v)
{
	const char *name = flag + 2;
	bool in = true, out = true;

	if (!strncmp(name, "in-", 3))
		out = false, name += 3;
	else if (!strncmp(name, "out-", 4))
		in = false, name += 4;
	int r = 0;
	if (in)
		r = set_fault(&o->faults_in, name, v);
	if (out && r == 0)
		r = set_fault(&o->faults_out, name, v);
	if (r == -2)
		return 0;
	if (r < 0)
		return fail("bad value '%s' for %s", v, flag);
	return 1;
}

static int fault_spec(struct tl_fault_cfg *c, const char *flag, const char *spec)
{
	char buf[256];

	if (strlen(spec) >= sizeof buf)
		return fail("%s%s is too long", flag, "");
	strcpy(buf, spec);
	for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			return fail("%s: '%s' is not name=value", flag, kv);
		*eq = 0;
		int r = set_fault(c, kv, eq + 1);
		if (r == -2)
			return fail("%s: unknown fault '%s'", flag, kv);
		if (r < 0)
			return fail("%s: bad value '%s'", flag, eq + 1);
	}
	return 0;
}

/* A TCP setting that is a number: 1 if flag is one, 0 if not, -1 after
 * printing why its value is bad. */
static int tune_number(struct tl_tune *t, const char *flag, const char *v)
{
	unsigned long long n;

	if (!strcmp(flag, "--rcvbuf") || !strcmp(flag, "--sndbuf")) {
		if (parse_uint(v, 1u << 30, &n) < 0 || n < 1024)
			return fail("bad size '%s' for %s (want 1024..1073741824 bytes)", v, flag);
		*(flag[2] == 'r' ? &t->rcvbuf : &t->sndbuf) = (uint32_t)n;
	} else if (!strcmp(flag, "--init-cwnd")) {
		if (parse_uint(v, 1000, &n) < 0 || n < 1)
			return fail("bad value '%s' for %s (want 1..1000 segments)", v, flag);
		t->init_cwnd = (uint32_t)n;
	} else if (!strcmp(flag, "--delack")) {
		if (parse_uint(v, 500, &n) < 0)
			return fail("bad value '%s' for %s (want 0..500 ms)", v, flag);
		t->delack_ms = (uint32_t)n;
		t->have_delack = true;
	} else if (!strcmp(flag, "--ack-batch")) {
		if (parse_uint(v, 1u << 30, &n) < 0)
			return fail("bad size '%s' for %s (want bytes, 0 = off)", v, flag);
		t->ack_batch = (uint32_t)n;
		t->have_ack_batch = true;
	} else if (!strcmp(flag, "--time-wait-max") || !strcmp(flag, "--ooo-max") ||
		   !strcmp(flag, "--rst-rate") || !strcmp(flag, "--challenge-ack-rate")) {
		if (parse_uint(v, UINT32_MAX, &n) < 0)
			return fail("bad value '%s' for %s (want a number, 0 = no bound)", v, flag);
		uint32_t *field = flag[2] == 't' ? &t->time_wait_max
				  : flag[2] == 'o' ? &t->ooo_bytes_max
				  : flag[2] == 'r' ? &t->rst_per_sec : &t->challenge_per_sec;
		bool *have = flag[2] == 't' ? &t->have_time_wait_max
			     : flag[2] == 'o' ? &t->have_ooo_bytes_max
			     : flag[2] == 'r' ? &t->have_rst : &t->have_challenge;
		*field = (uint32_t)n;
		*have = true;
	} else if (!strcmp(flag, "--challenge-ack-interval")) {
		if (parse_uint(v, 3600000, &n) < 0)
			return fail("bad value '%s' for %s (want milliseconds, 0 = no limit)", v, flag);
		t->challenge_interval_ms = (uint32_t)n;
		t->have_challenge_interval = true;
	} else {
		return 0;
	}
	return 1;
}

/* A TCP setting that is a choice of names: 1, 0 or -1 as tune_number. */
static int tune_choice(struct tl_tune *t, const char *flag, const char *v)
{
	if (!strcmp(flag, "--syncookies") || !strcmp(flag, "--tlp")) {
		if (strcmp(v, "on") && strcmp(v, "off"))
			return fail("bad value '%s' for %s (want on or off)", v, flag);
		if (flag[2] == 't') {
			t->tlp = !strcmp(v, "on");
			t->have_tlp = true;
		} else {
			t->syncookies = !strcmp(v, "on");
			t->have_syncookies = true;
		}
	} else if (!strcmp(flag, "--recovery")) {
		if (strcmp(v, "rack") && strcmp(v, "newreno"))
			return fail("bad value '%s' for %s (want rack or newreno)", v, flag);
		t->recovery = strcmp(v, "rack") ? TL_RECOVERY_NEWRENO : TL_RECOVERY_RACK;
		t->have_recovery = true;
	} else if (!strcmp(flag, "--timestamps")) {
		if (strcmp(v, "on") && strcmp(v, "off"))
			return fail("bad value '%s' for %s (want on or off)", v, flag);
		t->timestamps = !strcmp(v, "on");
		t->have_timestamps = true;
	} else if (!strcmp(flag, "--cc")) {
		if (strcmp(v, "reno") && strcmp(v, "cubic"))
			return fail("bad value '%s' for %s (want reno or cubic)", v, flag);
		t->cc = strcmp(v, "cubic") ? TL_CC_RENO : TL_CC_CUBIC;
		t->have_cc = true;
	} else {
		return 0;
	}
	return 1;
}

/* One flag that takes a value; returns 0, or -1 after printing why. */
static int value_flag(struct tl_opts *o, const char *flag, const char *v)
{
	unsigned long long n;

	if (!strcmp(flag, "--tun")) {
		if (!*v || strlen(v) >= 16)
			return fail("bad interface name '%s'%s", v, "");
		o->tun = v;
	} else if (!strcmp(flag, "--addr")) {
		if (parse_addr(v, &o->addr) < 0)
			return fail("bad address '%s' for %s", v, flag);
		o->have_addr = true;
	} else if (!strcmp(flag, "--replay")) {
		o->replay = v;
	} else if (!strcmp(flag, "--time-tolerance")) {
		if (parse_uint(v, 3600000, &n) < 0)
			return fail("bad value '%s' for %s (want milliseconds)", v, flag);
		o->time_tol_ms = (uint32_t)n;
	} else if (!strcmp(flag, "--window-tolerance")) {
		if (parse_uint(v, 100, &n) < 0)
			return fail("bad value '%s' for %s (want 0..100)", v, flag);
		o->window_tol_pct = (uint32_t)n;
	} else if (!strcmp(flag, "--kernel-addr")) {
		if (parse_prefix(v, &o->kernel_addr, &o->kernel_prefix) < 0)
			return fail("bad address '%s' for %s (want A.B.C.D/N)", v, flag);
	} else if (!strcmp(flag, "--mtu")) {
		if (parse_uint(v, 65535, &n) < 0 || n < 576)
			return fail("bad MTU '%s' (want 576..65535)%s", v, "");
		o->mtu = (uint32_t)n;
	} else if (!strcmp(flag, "--pcap")) {
		o->pcap = v;
	} else if (!strcmp(flag, "--seed")) {
		if (parse_uint(v, UINT64_MAX, &n) < 0)
			return fail("bad seed '%s' (want a number)%s", v, "");
		o->seed = n;
		o->have_seed = true;
	} else if (!strcmp(flag, "--connect")) {
		if (parse_endpoint(v, &o->connect_to) < 0)
			return fail("bad endpoint '%s' for %s (want A.B.C.D:PORT)", v, flag);
		o->connect = true;
	} else if (!strcmp(flag, "--user")) {
		if (!*v || strlen(v) > 64)
			return fail("bad user name '%s' for %s", v, flag);
		o->user = v;
	} else if (!strcmp(flag, "--faults-in")) {
		return fault_spec(&o->faults_in, flag, v);
	} else if (!strcmp(flag, "--faults-out")) {
		return fault_spec(&o->faults_out, flag, v);
	} else {
		int r = tune_number(&o->tune, flag, v);
		if (r == 0)
			r = tune_choice(&o->tune, flag, v);
		if (r == 0)
			r = fault_flag(o, flag, v);
		return r == 1 ? 0 : r == 0 ? fail("unknown option '%s'%s", flag, "") : -1;
	}
	return 0;
}

/* The defaults the command line documents. */
static void default_opts(struct tl_opts *o)
{
	memset(o, 0, sizeof *o);
	o->tun = "tl0";
	o->addr = 0x0a0a0002;
	o->kernel_addr = 0x0a0a0001;
	o->kernel_prefix = 24;
	o->mtu = 1500;
	o->time_tol_ms = 10;
}

int tl_parse_args(int argc, char **argv, struct tl_opts *o)
{
	default_opts(o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 1;
		}
		if (!strcmp(a, "--trace") || !strcmp(a, "--trace=text") ||
		    !strcmp(a, "--trace=json")) {
			o->trace = true;
			o->trace_json = !strcmp(a, "--trace=json");
			continue;
		}
		if (!strncmp(a, "--trace=", 8))
			return fail("--trace takes text or json, not '%s'%s", a + 8, "");
		if (!strcmp(a, "--offload")) {
			o->offload = true;
			continue;
		}
		if (!strcmp(a, "--lenient")) {
			o->lenient = true;
			continue;
		}
		if (!strcmp(a, "--ack-state")) {
			o->ack_state = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			return fail("unexpected argument '%s'%s", a, "");
		if (i + 1 >= argc)
			return fail("%s needs a value%s", a, "");
		if (value_flag(o, a, argv[++i]) < 0)
			return -1;
	}
	uint32_t mask = 0xffffffffu << (32 - o->kernel_prefix);
	if (o->replay)
		return 0;
	if ((o->addr & mask) != (o->kernel_addr & mask) || o->addr == o->kernel_addr)
		return fail("--addr must be another address in the --kernel-addr subnet%s%s", "", "");
	return 0;
}
