/* The event loop: TUN in, stack, TUN out; timers; signals; counters. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include "attach.h"
#include "control.h"
#include "driver.h"
#include "mq.h"
#include "netcat.h"
#include "pcap_out.h"
#include "tcplab/apps.h"
#include "options.h"
#include "tcplab/tun.h"
#include "wire.h"

#define MAX_PKT (65536 + 16) /* a packet and its virtio_net_hdr */
/* The largest TCP payload in one IPv4 packet of 65535 bytes with 60 of TCP header. */
#define TL_TSO_MAX (65535 - 20 - 60)
/* In-order bytes one ACK may cover when it waits for the end of a batch. */
#define TL_ACK_BATCH_MAX (64 * 1024)
/* A receive buffer holds at least this many segments of the link's MSS, or
 * with TSO of the kernel's super-segments. */
#define TL_RCVBUF_SEGS 16

struct driver {
	const struct tl_opts *o;
	tl_stack *stack;
	int tun, sig;
	enum tl_tun_offload offload;	/* what the device took (--offload, faults, the kernel) */
	char offload_why[256];		/* if not TSO: why not */
	struct tl_pcap_out *pcap;
	struct tl_faults *fin, *fout;
	tl_time start;
	uint64_t tun_read_errors, tun_write_drops;
	struct netcat *nc;
	struct tl_ctl *ctl;		/* the control socket: tcplab ss, tcplab stats */
	struct tl_attach *att;		/* programs' sockets: tcplab run */
	uid_t uid;			/* --user: whom to become after setup */
	gid_t gid;
};

static tl_time mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (tl_time)ts.tv_sec * 1000000u + (tl_time)ts.tv_nsec / 1000u;
}

static void trace_line(void *ctx, tl_time now, const char *line)
{
	struct driver *d = ctx;
	FILE *f = d->o->connect ? stderr : stdout;

	tl_print_trace(f, (double)(now - d->start) / 1e6, d->o->trace_json, line);
}

static void fault_trace(void *ctx, const char *name, const char *what, size_t len)
{
	struct driver *d = ctx;
	char line[128];

	if (d->o->trace_json)
		snprintf(line, sizeof line,
			 "{\"ev\":\"fault\",\"dir\":\"%s\",\"what\":\"%s\",\"len\":%zu}",
			 name, what, len);
	else
		snprintf(line, sizeof line, "fault %s: %s (%zu bytes)", name, what, len);
	trace_line(d, mono_us(), line);
}

/* One packet to the device; a TCP super-segment (gso: the payload per wire
 * segment, tl_stack_out_gso_size) goes as one GSO packet, split by the kernel
 * as if its own GRO had built it; with tcp_csum_partial the kernel finishes
 * each TCP checksum (or, delivering it to its own TCP, needs none). */
static void tun_send(struct driver *d, const uint8_t *pkt, size_t len, uint32_t gso)
{
	ssize_t r;

	if (d->offload != TL_TUN_PLAIN) {
		struct virtio_net_hdr h;
		memset(&h, 0, sizeof h);
		size_t ihl = (size_t)(pkt[0] & 15) * 4;
		bool tcp = pkt[9] == IP_PROTO_TCP && len >= ihl + TCP_HDR_LEN;
		if (tcp && tl_stack_config(d->stack)->tcp_csum_partial) {
			h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			h.csum_start = (uint16_t)ihl;
			h.csum_offset = 16; /* the TCP checksum field */
		}
		if (gso && tcp) {
			h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
			h.hdr_len = (uint16_t)(ihl + (size_t)(pkt[ihl + 12] >> 4) * 4);
			h.gso_size = (uint16_t)gso;
		}
		struct iovec iov[2] = { { &h, sizeof h }, { (void *)pkt, len } };
		r = writev(d->tun, iov, 2);
	} else {
		r = write(d->tun, pkt, len);
	}
	if (r < 0)
		d->tun_write_drops++; /* the kernel's queue is full: a lost packet */
}

/* What the fault injector lets through: single segments (no TSO with faults). */
static void tun_write(void *ctx, const uint8_t *pkt, size_t len)
{
	tun_send(ctx, pkt, len, 0);
}

/* With offload, a packet from the kernel may leave its TCP or UDP checksum
 * to us (NEEDS_CSUM: the field holds the pseudo-header sum) or say it was
 * checked (DATA_VALID). The length of the packet after the header; in flags
 * TL_IN_CSUM_OK where the stack need not check a TCP checksum. A left one is
 * finished for UDP, and for TCP only if finish: a capture or faults follow. */
static size_t strip_vnet(uint8_t *buf, size_t n, uint8_t **pkt, bool finish, unsigned *flags)
{
	struct virtio_net_hdr h;

	if (n < sizeof h)
		return 0;
	memcpy(&h, buf, sizeof h);
	*pkt = buf + sizeof h;
	n -= sizeof h;
	bool tcp = n > 9 && (*pkt)[9] == IP_PROTO_TCP;
	*flags = (h.flags & VIRTIO_NET_HDR_F_DATA_VALID) && tcp ? TL_IN_CSUM_OK : 0;
	if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && h.csum_start + h.csum_offset + 2u <= n) {
		*flags = tcp ? TL_IN_CSUM_OK : 0; /* the kernel made it: nothing to check */
		uint8_t *field = *pkt + h.csum_start + h.csum_offset;
		if (!tcp || finish)
			put16(field, csum_fold(csum_add(0, *pkt + h.csum_start, n - h.csum_start)));
	}
	return n;
}

static void stack_output(void *ctx, const uint8_t *pkt, size_t len)
{
	struct driver *d = ctx;

	if (d->pcap)
		tl_pcap_write(d->pcap, pkt, len, tl_stack_now(d->stack));
	if (d->fout)
		tl_faults_push(d->fout, pkt, len, mono_us());
	else
		tun_send(d, pkt, len, tl_stack_out_gso_size(d->stack));
}

/* A packet the stack sent itself (its loopback): captured once, as it leaves. */
static void loop_tap(void *ctx, const uint8_t *pkt, size_t len)
{
	struct driver *d = ctx;

	tl_pcap_write(d->pcap, pkt, len, tl_stack_now(d->stack));
}

static void stack_input_flags(struct driver *d, const uint8_t *pkt, size_t len, unsigned flags)
{
	tl_time now = mono_us();

	if (d->pcap)
		tl_pcap_write(d->pcap, pkt, len, now);
	tl_stack_input_flags(d->stack, pkt, len, now, flags);
}

/* What the fault injector lets in: checked whole (a fault may have corrupted it). */
static void stack_input(void *ctx, const uint8_t *pkt, size_t len)
{
	stack_input_flags(ctx, pkt, len, 0);
}

/* Where counters go: text, one "name value  description" a line (as nstat,
 * with netstat -s's words), or members of one JSON object. */
struct counter_out {
	FILE *f;
	bool json;
	int n;
};

/* The longest counter name, tcp_challenge_ack_conn_limited: the name column. */
#define COUNTER_NAME_WIDTH 30

static void print_counter(void *ctx, const char *name, const char *desc, uint64_t v)
{
	struct counter_out *o = ctx;

	if (o->json)
		fprintf(o->f, "%s\n\"%s\":%llu", o->n++ ? "," : "", name, (unsigned long long)v);
	else
		fprintf(o->f, "%-*s %10llu  %s\n", COUNTER_NAME_WIDTH, name, (unsigned long long)v,
			desc);
}

static void print_faults(struct counter_out *o, const char *dir, const struct tl_faults *f)
{
	const struct tl_fault_stats *st = tl_faults_stats(f);
	char name[64], desc[64];
	const struct { const char *name, *desc; uint64_t v; } rows[] = {
		{ "lost", "packets dropped", st->lost },
		{ "duplicated", "packets duplicated", st->duplicated },
		{ "reordered", "packets reordered", st->reordered },
		{ "corrupted", "packets corrupted", st->corrupted },
		{ "overflow", "packets dropped, queue full", st->overflow },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		snprintf(name, sizeof name, "fault_%s_%s", dir, rows[i].name);
		snprintf(desc, sizeof desc, "fault %s: %s", dir, rows[i].desc);
		print_counter(o, name, desc, rows[i].v);
	}
}

/* The counters SIGUSR1 prints, and `tcplab stats` (--json: one object). */
/* What tcplab run's programs hold: bounded by 16 KiB staged per connection. */
static void print_attach(struct counter_out *o, const struct tl_attach *a)
{
	struct tl_attach_stats st;

	tl_attach_stats(a, &st);
	print_counter(o, "att_streams", "programs' sockets attached now (tcplab run)", st.streams);
	print_counter(o, "att_staged_bytes", "bytes taken from the stack, not yet in a program's socket",
		      st.staged);
	print_counter(o, "att_bytes_to_programs", "bytes written to programs' sockets", st.to_progs);
	print_counter(o, "att_bytes_from_programs", "bytes programs wrote to their connections",
		      st.from_progs);
}

static void write_counters(struct driver *d, FILE *f, bool json)
{
	struct counter_out o = { f, json, 0 };

	fputs(json ? "{" : "tcplab counters:\n", f);
	tl_counters_foreach(tl_stack_counters(d->stack), print_counter, &o);
	print_counter(&o, "tun_read_errors", "TUN read errors", d->tun_read_errors);
	print_counter(&o, "tun_write_drops", "packets not written: TUN queue full",
		      d->tun_write_drops);
	if (d->att)
		print_attach(&o, d->att);
	if (d->fin)
		print_faults(&o, "in", d->fin);
	if (d->fout)
		print_faults(&o, "out", d->fout);
	if (json)
		fputs("\n}\n", f);
}

static void print_counters(struct driver *d)
{
	fflush(stdout);
	write_counters(d, stderr, false);
}

static const char *control_answer(void *ctx, const struct tl_ctl_req *req, FILE *out)
{
	struct driver *d = ctx;

	if (req->verb == TL_CTL_STATS)
		write_counters(d, out, req->json);
	else if (tl_ss_print(out, d->stack, req->info, req->json) < 0)
		return "out of memory listing the sockets";
	return NULL;
}

int tl_open_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any queue thread: theirs too */
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static uint64_t pick_seed(const struct tl_opts *o)
{
	uint64_t seed;

	if (o->have_seed)
		return o->seed;
	/* RFC 6528 wants a secret the peer cannot guess: ask the kernel. */
	if (getrandom(&seed, sizeof seed, 0) != sizeof seed)
		seed = (uint64_t)mono_us() ^ ((uint64_t)getpid() << 32);
	return seed;
}

/* 1 if /proc/self/status says field (CapEff, CapPrm...) is all zero. */
static int no_caps(const char *field)
{
	char line[256];
	int zero = 0;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, field, n) && line[n] == ':')
			zero = strtoull(line + n + 1, NULL, 16) == 0;
	fclose(f);
	return zero;
}

/* Every capability out of the bounding set, so no exec can bring one back. */
static int drop_bounding_set(void)
{
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -1;
	return 0;
}

/* Least privilege: with the device and files open, become d->uid, keep no
 * capability and no way back (setgroups, setgid, setuid, in that order). */
static int drop_privileges(struct driver *d)
{
	const char *step = NULL;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		step = "PR_SET_NO_NEW_PRIVS";
	else if (drop_bounding_set() < 0)
		step = "PR_CAPBSET_DROP";
	else if (setgroups(1, &d->gid) < 0)
		step = "setgroups";
	else if (setgid(d->gid) < 0)
		step = "setgid";
	else if (setuid(d->uid) < 0)
		step = "setuid";
	if (step) {
		fprintf(stderr, "tcplab: --user %s: %s: %s (needs CAP_SETPCAP, CAP_SETGID, CAP_SETUID)\n",
			d->o->user, step, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) {
		fprintf(stderr, "tcplab: --user %s: could regain root\n", d->o->user);
		return -1;
	}
	if (!no_caps("CapEff") || !no_caps("CapPrm")) {
		fprintf(stderr, "tcplab: --user %s: capabilities are still held\n", d->o->user);
		return -1;
	}
	return 0;
}

/* --offload on asks for TSO, or with faults (which work per packet) for
 * checksum offload only; a kernel that refuses gets one packet per segment,
 * and why in d->offload_why. */
static int open_tun(struct driver *d, const struct tl_opts *o, char *err, size_t n)
{
	bool faults = tl_fault_cfg_active(&o->faults_in) || tl_fault_cfg_active(&o->faults_out);

	d->offload = !o->offload ? TL_TUN_PLAIN : faults ? TL_TUN_CSUM : TL_TUN_TSO;
	snprintf(d->offload_why, sizeof d->offload_why, "--offload off");
	d->tun = tl_tun_open(o->tun, d->offload, err, n);
	if (d->tun < 0 && d->offload != TL_TUN_PLAIN) {
		snprintf(d->offload_why, sizeof d->offload_why, "%s", err);
		d->offload = TL_TUN_PLAIN;
		d->tun = tl_tun_open(o->tun, TL_TUN_PLAIN, err, n);
	}
	return d->tun < 0 ? -1 : 0;
}

/* One line on stderr, once tcplab runs: what the device took. */
static void log_offload(const struct driver *d)
{
	if (d->offload == TL_TUN_TSO)
		fprintf(stderr, "tcplab: offload on: TSO and checksums on %s, TCP segments of up to "
			"64 KiB each way (--offload off: one packet per segment)\n", d->o->tun);
	else if (d->offload == TL_TUN_CSUM)
		fprintf(stderr, "tcplab: offload checksums only on %s, no TSO: the fault injector "
			"works per packet\n", d->o->tun);
	else
		fprintf(stderr, "tcplab: offload off (%s): one packet per segment\n", d->offload_why);
}

/* The driver's stack on its device: the config, the services, the faults. */
static int start_stack(struct driver *d, const struct tl_opts *o, uint64_t seed, const char *what)
{
	struct tl_config cfg = o->cfg;

	if (d->offload == TL_TUN_TSO)
		cfg.tcp_tso_max = TL_TSO_MAX;
	/* The kernel finishes TCP checksums, unless a capture wants them whole. */
	cfg.tcp_csum_partial = d->offload == TL_TUN_TSO && !o->pcap;
	/* read_tun drains the device, then the loop polls: ACK once per batch. */
	if (!o->have_ack_batch)
		cfg.tcp_ack_batch_max = TL_ACK_BATCH_MAX;
	/* RFC 9293 3.8.6.2.2: the edge moves by min(buffer/2, MSS); 256 KiB at MTU 65000
	 * is four segments, and the sender waits on each step. With TSO the kernel
	 * sends up to 64 KiB at a time, whatever the MTU: four of those in flight are
	 * too few for a fresh connection's sender to ramp up against. */
	uint32_t seg = d->offload == TL_TUN_TSO ? TL_TSO_MAX : o->mtu - IPV4_HDR_LEN - TCP_HDR_LEN;
	uint32_t segs = TL_RCVBUF_SEGS * seg;
	if (!o->have_rcvbuf && cfg.tcp_rcvbuf < segs)
		cfg.tcp_rcvbuf = segs;
	cfg.addr = o->addr;
	cfg.prefix_len = (uint32_t)o->kernel_prefix;
	cfg.mtu = o->mtu;
	cfg.seed = seed;
	cfg.output = stack_output;
	cfg.output_ctx = d;
	cfg.loop_tap = d->pcap ? loop_tap : NULL;
	cfg.trace = o->trace ? trace_line : NULL;
	cfg.trace_ctx = d;
	cfg.trace_json = o->trace_json;
	d->stack = tl_stack_new(&cfg);
	if (!d->stack || tl_apps_start_some(d->stack, o->services) < 0) {
		fprintf(stderr, "tcplab: cannot start %s\n", what);
		return -1;
	}
	if (tl_fault_cfg_active(&o->faults_in))
		d->fin = tl_faults_new(&o->faults_in, seed ^ 0x1111, 10000);
	if (tl_fault_cfg_active(&o->faults_out))
		d->fout = tl_faults_new(&o->faults_out, seed ^ 0x2222, 10000);
	if (o->trace && d->fin)
		tl_faults_set_trace(d->fin, fault_trace, d, "in");
	if (o->trace && d->fout)
		tl_faults_set_trace(d->fout, fault_trace, d, "out");
	return 0;
}

static int setup(struct driver *d, const struct tl_opts *o)
{
	char err[256];
	uint64_t seed = pick_seed(o);

	if (open_tun(d, o, err, sizeof err) < 0 ||
	    tl_tun_configure(o->tun, o->kernel_addr, o->kernel_prefix, o->mtu, err, sizeof err) < 0) {
		fprintf(stderr, "tcplab: %s\n", err);
		return -1;
	}
	if (o->pcap && !(d->pcap = tl_pcap_open(o->pcap, mono_us(), err, sizeof err))) {
		fprintf(stderr, "tcplab: %s\n", err);
		return -1;
	}
	if (o->user && drop_privileges(d) < 0)
		return -1;
	d->sig = tl_open_signals();
	d->start = mono_us();
	return start_stack(d, o, seed, "the stack");
}

/* Drains the TUN device: every packet that is ready, then back to poll. */
/* checkpoint 8 */
static void read_tun(struct driver *d)
{
	static _Thread_local uint8_t buf[MAX_PKT]; /* one per queue thread */

	for (;;) {
		ssize_t n = read(d->tun, buf, sizeof buf);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				d->tun_read_errors++;
			if (errno != EINTR)
				return;
			continue;
		}
		uint8_t *pkt = buf;
		size_t len = (size_t)n;
		unsigned flags = 0;
		if (d->offload != TL_TUN_PLAIN &&
		    !(len = strip_vnet(buf, len, &pkt, d->pcap || d->fin, &flags)))
			continue;
		if (d->fin)
			tl_faults_push(d->fin, pkt, len, mono_us());
		else
			stack_input_flags(d, pkt, len, flags);
	}
}

/* Returns 1 to stop. */
static int read_signals(struct driver *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo == SIGUSR1)
			print_counters(d);
		else
			return 1;
	}
	return 0;
}

/* Until the earliest deadline, to the microsecond (NULL: none). */
/* checkpoint 8 */
static const struct timespec *poll_timeout(struct driver *d, tl_time now, struct timespec *ts)
{
	tl_time t = tl_stack_next_deadline(d->stack);

	if (d->fin && tl_faults_next_deadline(d->fin) < t)
		t = tl_faults_next_deadline(d->fin);
	if (d->fout && tl_faults_next_deadline(d->fout) < t)
		t = tl_faults_next_deadline(d->fout);
	if (d->ctl && tl_ctl_deadline(d->ctl) < t)
		t = tl_ctl_deadline(d->ctl);
	if (t == TL_TIME_NEVER)
		return NULL;
	uint64_t us = t <= now ? 0 : t - now > 60000000u ? 60000000u : t - now;
	ts->tv_sec = (time_t)(us / 1000000);
	ts->tv_nsec = (long)(us % 1000000) * 1000;
	return ts;
}

static void teardown(struct driver *d)
{
	if (d->pcap)
		tl_pcap_close(d->pcap);
	netcat_free(d->nc);
	tl_ctl_free(d->ctl);
	tl_stack_free(d->stack);
	tl_attach_free(d->att); /* after the stack: its last closed() calls find them */
	tl_faults_free(d->fin);
	tl_faults_free(d->fout);
	if (d->tun >= 0)
		close(d->tun);
	if (d->sig >= 0)
		close(d->sig);
}

/* --user NAME, before anything is opened: a bad name is a usage error. */
static int lookup_user(struct driver *d, const char *name)
{
	struct passwd *pw = getpwnam(name);

	if (!pw) {
		fprintf(stderr, "tcplab: --user: no such user '%s'\n", name);
		return -1;
	}
	if (pw->pw_uid == 0) {
		fprintf(stderr, "tcplab: --user: '%s' is root, which drops nothing\n", name);
		return -1;
	}
	d->uid = pw->pw_uid;
	d->gid = pw->pw_gid;
	return 0;
}

/* The control socket is a convenience: without it, tcplab still runs. */
static void open_control(struct driver *d)
{
	char err[256];

	d->ctl = tl_ctl_open(d->o->tun, control_answer, d, err, sizeof err);
	if (d->ctl && (d->att = tl_attach_new(d->stack, d->o->services)))
		tl_ctl_set_attach(d->ctl, d->att);
	if (!d->ctl)
		fprintf(stderr, "tcplab: %s; tcplab ss and stats will not find this one\n", err);
}

/* Until a signal stops it or --connect is done; returns the exit status. */
static int run_loop(struct driver *d)
{
	const struct tl_opts *o = d->o;
	int status = 0;

	for (;;) {
		struct pollfd p[4 + TL_CTL_CLIENTS + TL_ATT_MAX]; /* only the np in use are filled */
		p[0] = (struct pollfd){ d->tun, POLLIN, 0 };
		p[1] = (struct pollfd){ d->sig, POLLIN, 0 };
		p[2] = (struct pollfd){ d->nc ? netcat_fd(d->nc) : -1, POLLIN, 0 };
		int nc = 3 + (d->ctl ? tl_ctl_pollfds(d->ctl, p + 3) : 0);
		int np = nc + (d->att ? tl_attach_pollfds(d->att, p + nc, TL_ATT_MAX) : 0);
		struct timespec ts;
		int n = ppoll(p, (nfds_t)np, poll_timeout(d, mono_us(), &ts), NULL);
		if (n < 0 && errno != EINTR) {
			perror("tcplab: poll");
			return 1;
		}
		if ((p[1].revents & POLLIN) && read_signals(d))
			return status;
		/* Timers that fell due before these packets run first, as in a replay. */
		tl_stack_poll(d->stack, mono_us());
		if (p[0].revents & POLLIN)
			read_tun(d);
		tl_time now = mono_us();
		if (d->fin)
			tl_faults_release(d->fin, now, stack_input, d);
		if (p[2].revents & (POLLIN | POLLHUP))
			netcat_stdin(d->nc);
		tl_stack_poll(d->stack, now);
		if (d->fout)
			tl_faults_release(d->fout, now, tun_write, d);
		if (d->ctl)
			tl_ctl_serve(d->ctl, p + 3, nc - 3, now);
		/* After the control socket: a request it handed over and refused closes now. */
		if (d->att)
			tl_attach_serve(d->att, p + nc, np - nc);
		if (o->trace)
			fflush(o->connect ? stderr : stdout);
		if (d->nc && netcat_done(d->nc, &status))
			return status;
	}
}

int tl_run(const struct tl_opts *o)
{
	struct driver d;

	memset(&d, 0, sizeof d);
	d.o = o;
	d.tun = d.sig = -1;
	/* A trace line reaches the pipe before a program on tcplab can print what it led to. */
	if (o->trace && !o->connect)
		setvbuf(stdout, NULL, _IOLBF, 0);
	if (o->queues > 1)
		return tl_run_queues(o);
	if (o->user && lookup_user(&d, o->user) < 0)
		return 2;
	if (setup(&d, o) < 0) {
		teardown(&d);
		return 1;
	}
	if (o->connect && !(d.nc = netcat_start(d.stack, &o->connect_to))) {
		teardown(&d);
		return 1;
	}
	open_control(&d);
	log_offload(&d);
	int status = run_loop(&d);
	print_counters(&d);
	teardown(&d);
	return status;
}

/* --queues N (mq.c): one driver per TUN queue, each on its own thread. */

/* Queue q's driver on its own fd, stack and seed; NULL after a line on stderr. */
struct driver *tl_queue_new(const struct tl_opts *o, int tun, enum tl_tun_offload mode,
			    struct tl_pcap_out *pcap, uint64_t seed, tl_time start)
{
	struct driver *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	d->o = o;
	d->tun = tun;
	d->sig = -1;
	d->pcap = pcap;
	d->start = start;
	d->offload = mode;
	if (start_stack(d, o, seed, "a queue's stack") < 0) {
		tl_stack_free(d->stack);
		free(d);
		return NULL;
	}
	return d;
}

/* A queue's loop: holds lock except while it sleeps in ppoll, so the control
 * thread reads this stack only between batches. Ends when stop is readable. */
int tl_queue_loop(struct driver *d, int stop, pthread_mutex_t *lock)
{
	pthread_mutex_lock(lock);
	for (;;) {
		struct pollfd p[2] = { { d->tun, POLLIN, 0 }, { stop, POLLIN, 0 } };
		struct timespec ts;
		const struct timespec *to = poll_timeout(d, mono_us(), &ts);
		pthread_mutex_unlock(lock);
		int n = ppoll(p, 2, to, NULL);
		pthread_mutex_lock(lock);
		if (n < 0 && errno != EINTR) {
			perror("tcplab: poll");
			break;
		}
		if (p[1].revents & POLLIN)
			break;
		tl_stack_poll(d->stack, mono_us());
		if (p[0].revents & POLLIN)
			read_tun(d);
		tl_time now = mono_us();
		if (d->fin)
			tl_faults_release(d->fin, now, stack_input, d);
		tl_stack_poll(d->stack, now);
		if (d->fout)
			tl_faults_release(d->fout, now, tun_write, d);
		if (d->o->trace)
			fflush(stdout);
	}
	pthread_mutex_unlock(lock);
	return 0;
}

/* The counters of one queue, as SIGUSR1 prints them. */
void tl_queue_counters(struct driver *d, FILE *f)
{
	write_counters(d, f, false);
}

tl_stack *tl_queue_stack(struct driver *d)
{
	return d->stack;
}

void tl_queue_free(struct driver *d)
{
	if (!d)
		return;
	d->pcap = NULL; /* shared: mq.c closes it */
	teardown(d);
	free(d);
}

/* --user with several queues, the same checks and steps as with one: -1 if
 * no such user (before anything is opened), -2 if dropping failed. */
int tl_queue_user(const struct tl_opts *o, bool drop)
{
	struct driver d;

	memset(&d, 0, sizeof d);
	d.o = o;
	if (lookup_user(&d, o->user) < 0)
		return -1;
	return drop && drop_privileges(&d) < 0 ? -2 : 0;
}
