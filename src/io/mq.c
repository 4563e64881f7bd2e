/* --queues N: N shared-nothing stacks, one per TUN queue and thread, as
 * Seastar and F-Stack scale. The kernel puts each flow on one queue (a hash
 * of its addresses and ports, or the queue its packets last came from), so
 * each queue's stack sees all of a flow it accepted. This thread keeps the
 * signals and the control socket; it reads a queue's stack only under that
 * queue's lock, which the queue drops while it sleeps. docs/architecture.md. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "mq.h"
#include "tcplab/tun.h"

struct queue {
	struct driver *d;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;	/* held by the queue except in ppoll */
	int stop;		/* the read end of mq.stop */
};

struct mq {
	const struct tl_opts *o;
	unsigned n;
	struct queue q[TL_QUEUES_MAX];
	int fds[TL_QUEUES_MAX];
	int stop[2];		/* a byte written here stops every queue */
	int sig;
	struct tl_ctl *ctl;
	struct tl_pcap_out *pcap;
	enum tl_tun_offload mode;	/* what every queue asked the kernel for */
};

/* One summed counter, as write_counters names it. */
struct sum_row {
	char name[64], desc[128];
	unsigned long long v;
};

#define SUM_ROWS_MAX 512

struct sums {
	struct sum_row r[SUM_ROWS_MAX];
	size_t n;
};

static tl_time now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (tl_time)ts.tv_sec * 1000000u + (tl_time)ts.tv_nsec / 1000u;
}

/* One queue of the multi-queue device name: its fd, or -1 with err. */
static int open_queue(const char *name, enum tl_tun_offload mode, char *err, size_t errlen)
{
	struct ifreq ifr;
	int hdr = sizeof(struct virtio_net_hdr);
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | (mode != TL_TUN_PLAIN ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "--queues: the kernel refuses a multi-queue TUN device %s: %s",
			 name, strerror(errno));
		close(fd);
		return -1;
	}
	unsigned feat = TUN_F_CSUM | (mode == TL_TUN_TSO ? TUN_F_TSO4 : 0);
	if (mode != TL_TUN_PLAIN && (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
				     ioctl(fd, TUNSETOFFLOAD, feat) < 0)) {
		snprintf(err, errlen, "cannot turn on offloads on %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* splitmix64: queue q's seed, far from every other queue's. */
static uint64_t queue_seed(uint64_t seed, unsigned q)
{
	uint64_t z = seed + (q + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t main_seed(const struct tl_opts *o)
{
	uint64_t seed;

	if (o->have_seed)
		return o->seed;
	/* RFC 6528 wants a secret the peer cannot guess: ask the kernel. */
	if (getrandom(&seed, sizeof seed, 0) != sizeof seed)
		seed = now_us() ^ ((uint64_t)getpid() << 32);
	return seed;
}

/* Adds one queue's counters (its SIGUSR1 text) to s, row by row. */
static void add_counters(struct sums *s, struct driver *d)
{
	char *text = NULL, line[256];
	size_t len = 0, i = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	tl_queue_counters(d, f);
	fclose(f);
	FILE *in = fmemopen(text, len, "r");
	while (in && fgets(line, sizeof line, in) && i < SUM_ROWS_MAX) {
		struct sum_row r;
		int desc_at = 0;
		if (sscanf(line, "%63s %llu %n", r.name, &r.v, &desc_at) != 2)
			continue;
		if (i == s->n) {
			snprintf(s->r[i].name, sizeof s->r[i].name, "%s", r.name);
			snprintf(s->r[i].desc, sizeof s->r[i].desc, "%.*s", (int)strcspn(line + desc_at, "\n"),
				 line + desc_at);
			s->n++;
		}
		s->r[i++].v += r.v;
	}
	if (in)
		fclose(in);
	free(text);
}

/* Every queue's counters summed; each queue read under its lock. */
static void sum_counters(struct mq *m, struct sums *s)
{
	s->n = 0;
	memset(s->r, 0, sizeof s->r);
	for (unsigned i = 0; i < m->n; i++) {
		pthread_mutex_lock(&m->q[i].lock);
		add_counters(s, m->q[i].d);
		pthread_mutex_unlock(&m->q[i].lock);
	}
}

static void print_sums(FILE *f, const struct sums *s, bool json)
{
	fputs(json ? "{" : "tcplab counters (all queues):\n", f);
	for (size_t i = 0; i < s->n; i++) {
		if (json)
			fprintf(f, "%s\n\"%s\":%llu", i ? "," : "", s->r[i].name, s->r[i].v);
		else
			fprintf(f, "%-30s %10llu  %s\n", s->r[i].name, s->r[i].v, s->r[i].desc);
	}
	if (json)
		fputs("\n}\n", f);
}

static unsigned long long row_of(const struct sums *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->r[i].name, name))
			return s->r[i].v;
	return 0;
}

/* At exit: the sums, then one line per queue, so the spread shows. */
static void print_exit_counters(struct mq *m)
{
	static struct sums s, one;

	fflush(stdout);
	sum_counters(m, &s);
	print_sums(stderr, &s, false);
	for (unsigned i = 0; i < m->n; i++) {
		one.n = 0;
		memset(one.r, 0, sizeof one.r);
		add_counters(&one, m->q[i].d);
		fprintf(stderr, "queue %u: ip_in_receives %llu ip_out_requests %llu "
				"tcp_passive_opens %llu tcp_established %llu\n", i,
			row_of(&one, "ip_in_receives"), row_of(&one, "ip_out_requests"),
			row_of(&one, "tcp_passive_opens"), row_of(&one, "tcp_established"));
	}
}

/* Appends what tl_ss_print wrote for one stack: text without its header
 * after the first, JSON without its brackets. */
static void append_ss(FILE *out, const char *body, bool json, bool first, bool *any)
{
	if (!json) {
		fputs(first ? body : body + strcspn(body, "\n") + (body[0] ? 1 : 0), out);
		return;
	}
	const char *a = strchr(body, '['), *b = strrchr(body, ']');
	if (!a || !b || b <= a + 1)
		return;
	size_t n = (size_t)(b - a - 1);
	while (n && (a[n] == '\n'))
		n--;
	if (n == 0)
		return;
	fprintf(out, "%s%.*s", *any ? "," : "", (int)n, a + 1);
	*any = true;
}

static const char *answer_ss(struct mq *m, const struct tl_ctl_req *req, FILE *out)
{
	bool any = false;

	if (req->json)
		fputc('[', out);
	for (unsigned i = 0; i < m->n; i++) {
		char *body = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&body, &len);
		if (!f)
			return "out of memory listing the sockets";
		pthread_mutex_lock(&m->q[i].lock);
		int r = tl_ss_print(f, tl_queue_stack(m->q[i].d), req->info, req->json);
		pthread_mutex_unlock(&m->q[i].lock);
		fclose(f);
		if (r == 0)
			append_ss(out, body, req->json, i == 0, &any);
		free(body);
		if (r < 0)
			return "out of memory listing the sockets";
	}
	if (req->json)
		fputs("\n]\n", out);
	return NULL;
}

/* tcplab stats and ss answer for all queues: sums, and every stack's sockets. */
static const char *control_answer(void *ctx, const struct tl_ctl_req *req, FILE *out)
{
	struct mq *m = ctx;
	static struct sums s;

	if (req->verb != TL_CTL_STATS)
		return answer_ss(m, req, out);
	sum_counters(m, &s);
	print_sums(out, &s, req->json);
	return NULL;
}

static void *queue_main(void *arg)
{
	struct queue *q = arg;

	tl_queue_loop(q->d, q->stop, &q->lock);
	return NULL;
}

/* Why a mode cannot run on several queues, or NULL. */
static const char *conflict(const struct tl_opts *o)
{
	if (o->connect)
		return "--connect needs --queues 1: the kernel may steer its replies to "
		       "another queue's stack";
	return NULL;
}

/* The device's N queues, its addresses and the --pcap file; then --user. */
static int open_all(struct mq *m)
{
	const struct tl_opts *o = m->o;
	char err[256];

	bool faults = tl_fault_cfg_active(&o->faults_in) || tl_fault_cfg_active(&o->faults_out);

	/* As one queue's open_tun: faults work per packet, so checksums only. */
	m->mode = !o->offload ? TL_TUN_PLAIN : faults ? TL_TUN_CSUM : TL_TUN_TSO;
	for (unsigned i = 0; i < m->n; i++)
		if ((m->fds[i] = open_queue(o->tun, m->mode, err, sizeof err)) < 0) {
			fprintf(stderr, "tcplab: %s\n", err);
			return -1;
		}
	if (tl_tun_configure(o->tun, o->kernel_addr, o->kernel_prefix, o->mtu, err, sizeof err) < 0 ||
	    (o->pcap && !(m->pcap = tl_pcap_open(o->pcap, now_us(), err, sizeof err)))) {
		fprintf(stderr, "tcplab: %s\n", err);
		return -1;
	}
	if (o->user && tl_queue_user(o, true) < 0)
		return -1;
	return 0;
}

/* One stack per queue, each with its own seed; then the control socket. */
static int start_stacks(struct mq *m)
{
	uint64_t seed = main_seed(m->o);
	tl_time start = now_us();
	char err[256];

	for (unsigned i = 0; i < m->n; i++) {
		struct queue *q = &m->q[i];
		q->stop = m->stop[0];
		q->d = tl_queue_new(m->o, m->fds[i], m->mode, m->pcap, queue_seed(seed, i), start);
		if (!q->d)
			return -1;
		m->fds[i] = -1; /* the driver closes it */
	}
	m->ctl = tl_ctl_open(m->o->tun, control_answer, m, err, sizeof err);
	if (m->ctl)
		tl_ctl_refuse_attach(m->ctl, "tcplab run needs a tcplab with --queues 1");
	else
		fprintf(stderr, "tcplab: %s; tcplab ss and stats will not find this one\n", err);
	return 0;
}

static int start_threads(struct mq *m)
{
	for (unsigned i = 0; i < m->n; i++) {
		int e = pthread_create(&m->q[i].thread, NULL, queue_main, &m->q[i]);
		if (e) {
			fprintf(stderr, "tcplab: cannot start queue %u's thread: %s\n", i, strerror(e));
			return -1;
		}
		m->q[i].running = true;
	}
	return 0;
}

/* Signals and the control socket until SIGINT or SIGTERM: the exit status. */
static int control_loop(struct mq *m)
{
	static struct sums s;

	for (;;) {
		struct pollfd p[1 + 1 + TL_CTL_CLIENTS] = { { m->sig, POLLIN, 0 } };
		int nc = m->ctl ? tl_ctl_pollfds(m->ctl, p + 1) : 0;
		tl_time t = m->ctl ? tl_ctl_deadline(m->ctl) : TL_TIME_NEVER, now = now_us();
		int ms = t == TL_TIME_NEVER ? -1 : t <= now ? 0 : (int)((t - now) / 1000 + 1);
		if (poll(p, (nfds_t)(1 + nc), ms) < 0 && errno != EINTR) {
			perror("tcplab: poll");
			return 1;
		}
		struct signalfd_siginfo si;
		while ((p[0].revents & POLLIN) && read(m->sig, &si, sizeof si) == sizeof si) {
			if (si.ssi_signo != SIGUSR1)
				return 0;
			sum_counters(m, &s);
			print_sums(stderr, &s, false);
		}
		if (m->ctl)
			tl_ctl_serve(m->ctl, p + 1, nc, now_us());
	}
}

static void stop_all(struct mq *m)
{
	if (m->stop[1] >= 0 && write(m->stop[1], "x", 1) < 0)
		perror("tcplab: stopping the queues");
	for (unsigned i = 0; i < m->n; i++)
		if (m->q[i].running)
			pthread_join(m->q[i].thread, NULL);
}

static void free_all(struct mq *m)
{
	tl_ctl_free(m->ctl);
	for (unsigned i = 0; i < m->n; i++) {
		tl_queue_free(m->q[i].d);
		pthread_mutex_destroy(&m->q[i].lock);
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	}
	tl_pcap_close(m->pcap);
	close(m->stop[0]);
	close(m->stop[1]);
	if (m->sig >= 0)
		close(m->sig);
}

int tl_run_queues(const struct tl_opts *o)
{
	static struct mq m;
	const char *why = conflict(o);
	int status = 1;

	if (why) {
		fprintf(stderr, "tcplab: %s\n", why);
		return 2;
	}
	if (o->user && tl_queue_user(o, false) < 0)
		return 2;
	memset(&m, 0, sizeof m);
	m.o = o;
	m.n = o->queues;
	for (unsigned i = 0; i < TL_QUEUES_MAX; i++)
		m.fds[i] = -1;
	for (unsigned i = 0; i < m.n; i++)
		pthread_mutex_init(&m.q[i].lock, NULL);
	m.sig = tl_open_signals();
	if (pipe2(m.stop, O_CLOEXEC) < 0) {
		perror("tcplab: pipe");
		return 1;
	}
	if (open_all(&m) == 0 && start_stacks(&m) == 0 && start_threads(&m) == 0) {
		static const char *const said[] = { [TL_TUN_PLAIN] = "off: one packet per segment",
			[TL_TUN_CSUM] = "checksums only (faults work per packet)",
			[TL_TUN_TSO] = "on: TSO and checksums" };
		fprintf(stderr, "tcplab: %u queues on %s, offload %s\n", m.n, o->tun, said[m.mode]);
		status = control_loop(&m);
	}
	stop_all(&m);
	if (status == 0)
		print_exit_counters(&m);
	free_all(&m);
	return status;
}
