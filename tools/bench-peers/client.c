/*
 * tl-bench-client: the kernel-side load for tools/bench, the same for every
 * stack under test. Prints one figure per run on standard output.
 *
 *   send ADDR PORT BYTES       bulk send into discard: MB/s
 *   recv ADDR PORT BYTES       bulk receive from chargen: MB/s
 *   recv-time ADDR PORT BYTES  the same, in seconds from the end of connect()
 *                              to the last byte, then the seconds connect()
 *                              took (for the loss table)
 *   rr ADDR PORT SECONDS       1-byte TCP echo round trips: per second
 *   lat ADDR PORT SECONDS      the same, each round trip timed: p50 p99 p99.9
 *                              in microseconds
 *   conn ADDR PORT SECONDS N   connect, 1-byte echo, close, N threads: per second
 *   idle ADDR PORT COUNT [SRC] open COUNT connections (from address SRC if
 *                              given), print "ready", hold them until
 *                              standard input closes
 *   udp-send ADDR PORT BYTES SIZE   datagrams of SIZE bytes: MB/s sent
 *   udp-rr ADDR PORT SECONDS   1-byte UDP round trips: per second
 *   udp-sink PORT BYTES [ADDR] receive datagrams until BYTES: MB/s; first
 *                              asks ADDR:19 for them with one datagram
 *   serve                      echo (7), discard (9) and chargen (19) on
 *                              TCP, for the Linux peer; with TL_BENCH_CC set,
 *                              its connections use that congestion control
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sendmmsg, recvmmsg */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sockaddr_in endpoint(const char *addr, const char *port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "tl-bench-client: bad address %s\n", addr);
		exit(2);
	}
	return sa;
}

static int dial(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0)
		die("connect");
	return fd;
}

/* Reads until EOF; returns the bytes read. */
static long long drain(int fd)
{
	long long total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0)
		total += n;
	return total;
}

static void bulk_send(const struct sockaddr_in *sa, long long bytes)
{
	memset(buf, 'x', sizeof buf);
	double t0 = now_s();
	int fd = dial(sa);
	for (long long left = bytes; left > 0;) {
		ssize_t n = write(fd, buf, left < (long long)sizeof buf ? (size_t)left : sizeof buf);
		if (n <= 0)
			die("write");
		left -= n;
	}
	shutdown(fd, SHUT_WR);
	drain(fd); /* the server closes once it has read everything */
	double t = now_s() - t0;
	close(fd);
	printf("%.1f MB/s\n", (double)bytes / t / 1e6);
}

/* Reads at least BYTES from a new connection; returns the seconds it took,
 * the handshake included, in *got what was read and in *hs the handshake. */
static double timed_recv(const struct sockaddr_in *sa, long long bytes, long long *got_out,
			 double *hs)
{
	double t0 = now_s();
	int fd = dial(sa);
	long long got = 0;
	*hs = now_s() - t0;
	while (got < bytes) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0)
			die("read");
		if (n == 0) {
			fprintf(stderr, "tl-bench-client: connection closed after %lld bytes\n", got);
			exit(1);
		}
		got += n;
	}
	double t = now_s() - t0;
	close(fd);
	*got_out = got;
	return t;
}

static void bulk_recv(const struct sockaddr_in *sa, long long bytes)
{
	long long got;
	double hs, t = timed_recv(sa, bytes, &got, &hs);
	printf("%.1f MB/s\n", (double)got / t / 1e6);
}

static void recv_time(const struct sockaddr_in *sa, long long bytes)
{
	long long got;
	double hs, t = timed_recv(sa, bytes, &got, &hs);
	printf("%.4f s after the handshake (%.4f s)\n", t - hs, hs);
}

static void ping_pong(int fd, double seconds, const char *what)
{
	long n = 0;
	double t0 = now_s(), t = 0;
	char c = 'x';

	while (t < seconds) {
		for (int i = 0; i < 100; i++, n++) {
			if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
				die(what);
		}
		t = now_s() - t0;
	}
	printf("%.0f per s\n", (double)n / t);
}

static void rr(const struct sockaddr_in *sa, double seconds)
{
	int fd = dial(sa), one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	ping_pong(fd, seconds, "echo");
	close(fd);
}

#define LAT_MAX (1 << 21) /* round trips timed at most */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Round trips one at a time, each timed: the distribution, not the mean. */
static void latency(const struct sockaddr_in *sa, double seconds)
{
	static double us[LAT_MAX];
	int fd = dial(sa), one = 1;
	long n = 0;
	char c = 'x';
	double t0 = now_s(), t = t0;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (int i = 0; i < 1000; i++) /* warm up: caches, the peer's first wake-ups */
		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
			die("echo");
	while (t - t0 < seconds && n < LAT_MAX) {
		double s = now_s();
		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
			die("echo");
		t = now_s();
		us[n++] = (t - s) * 1e6;
	}
	close(fd);
	qsort(us, (size_t)n, sizeof us[0], cmp_double);
	printf("%.1f %.1f %.1f us (p50 p99 p99.9 of %ld)\n", us[n / 2], us[n * 99 / 100],
	       us[n * 999 / 1000], n);
}

struct conn_job {
	const struct sockaddr_in *sa;
	double until;
	long done;
};

/* connect, 1-byte echo, close: the client's FIN first, then the server's;
 * a zero linger then frees the client's socket without a TIME_WAIT, so
 * the ephemeral ports last (no RST is sent: the exchange is complete). */
static void *conn_loop(void *arg)
{
	struct conn_job *j = arg;
	struct linger lg = { 1, 0 };
	char c = 'x';

	while (now_s() < j->until) {
		int fd = dial(j->sa);
		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
			die("echo");
		shutdown(fd, SHUT_WR);
		drain(fd);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		close(fd);
		j->done++;
	}
	return NULL;
}

static void conns(const struct sockaddr_in *sa, double seconds, int threads)
{
	pthread_t th[16];
	struct conn_job jobs[16];
	double t0 = now_s();
	long total = 0;

	if (threads < 1 || threads > 16)
		threads = 2;
	for (int i = 0; i < threads; i++) {
		jobs[i] = (struct conn_job){ sa, t0 + seconds, 0 };
		pthread_create(&th[i], NULL, conn_loop, &jobs[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		total += jobs[i].done;
	}
	printf("%.0f per s\n", (double)total / (now_s() - t0));
}

/* dial from src (port chosen by connect, per destination: IP_BIND_ADDRESS_NO_PORT). */
static int dial_from(const struct sockaddr_in *sa, const char *src)
{
	struct sockaddr_in from = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		die("socket");
	if (inet_pton(AF_INET, src, &from.sin_addr) != 1) {
		fprintf(stderr, "tl-bench-client: bad source address %s\n", src);
		exit(2);
	}
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&from, sizeof from) < 0)
		die("bind");
	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0)
		die("connect");
	return fd;
}

static void idle(const struct sockaddr_in *sa, int count, const char *src)
{
	int *fds = calloc((size_t)count, sizeof *fds);

	for (int i = 0; i < count; i++)
		fds[i] = src ? dial_from(sa, src) : dial(sa);
	printf("ready\n");
	fflush(stdout);
	drain(0);
	for (int i = 0; i < count; i++)
		close(fds[i]);
	free(fds);
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int big = 8 << 20;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	return fd;
}

static void udp_send(const struct sockaddr_in *sa, long long bytes, int size)
{
	int fd = udp_socket();

	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0)
		die("connect");
	/* 64 datagrams per system call, so that the sender is not the limit. */
	struct mmsghdr msgs[64];
	struct iovec iov = { buf, (size_t)size };
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < 64; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	double t0 = now_s();
	long long sent = 0;
	while (sent < bytes) {
		int n = sendmmsg(fd, msgs, 64, 0);
		if (n < 0 && errno != ENOBUFS)
			die("sendmmsg");
		sent += n > 0 ? (long long)n * size : 0;
	}
	printf("%.1f MB/s\n", (double)sent / (now_s() - t0) / 1e6);
}

static void udp_rr(const struct sockaddr_in *sa, double seconds)
{
	int fd = udp_socket();
	struct timeval tv = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0)
		die("connect");
	ping_pong(fd, seconds, "udp echo");
}

static void udp_sink(int port, long long bytes, const char *trigger)
{
	int fd = udp_socket();
	struct sockaddr_in sa;
	struct timeval tv = { 2, 0 };
	long long got = 0;
	double t0 = 0, t1 = 0;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("bind");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (trigger) {
		struct sockaddr_in to = endpoint(trigger, "19");
		if (sendto(fd, "go", 2, 0, (struct sockaddr *)&to, sizeof to) < 0)
			die("sendto");
	}
	struct mmsghdr msgs[64];
	struct iovec iov[64];
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < 64; i++) {
		iov[i] = (struct iovec){ buf + (size_t)i * 16384, 16384 };
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (got < bytes) {
		int n = recvmmsg(fd, msgs, 64, MSG_WAITFORONE, NULL);
		if (n <= 0)
			break; /* the train ended (datagrams may be lost) */
		if (got == 0)
			t0 = now_s();
		for (int i = 0; i < n; i++)
			got += msgs[i].msg_len;
		t1 = now_s();
	}
	printf("%.1f MB/s\n", t1 > t0 ? (double)got / (t1 - t0) / 1e6 : 0.0);
}

/* ---- serve: the Linux peer's services, one epoll loop ---- */

static int listener(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* The connections it accepts inherit the listener's congestion control. */
	const char *cc = getenv("TL_BENCH_CC");
	if (cc && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) < 0)
		die("TCP_CONGESTION (TL_BENCH_CC)");
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4096) < 0)
		die("listen");
	return fd;
}

static void serve(void)
{
	int ep = epoll_create1(0), ports[3] = { 7, 9, 19 };
	int lfd[3];
	/* Per descriptor: which service it is (the port), 0 for none. */
	static short service[1 << 20];
	struct epoll_event ev[256];

	memset(buf, 'x', sizeof buf);
	for (int i = 0; i < 3; i++) {
		lfd[i] = listener(ports[i]);
		struct epoll_event e = { .events = EPOLLIN, .data.fd = lfd[i] };
		epoll_ctl(ep, EPOLL_CTL_ADD, lfd[i], &e);
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int n = epoll_wait(ep, ev, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd, l = -1;
			for (int k = 0; k < 3; k++)
				if (fd == lfd[k])
					l = k;
			if (l >= 0) {
				int c;
				while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					if (c >= (int)(sizeof service / sizeof service[0])) {
						close(c);
						continue;
					}
					service[c] = (short)ports[l];
					struct epoll_event e = { .events = EPOLLIN | (ports[l] == 19 ? EPOLLOUT : 0),
								 .data.fd = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
				}
				continue;
			}
			if (service[fd] == 19 && (ev[i].events & EPOLLOUT)) {
				if (write(fd, buf, 65536) < 0 && errno != EAGAIN) {
					close(fd);
					continue;
				}
			}
			if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				ssize_t r = read(fd, buf, sizeof buf);
				if (r == 0 || (r < 0 && errno != EAGAIN)) {
					service[fd] = 0;
					close(fd);
				} else if (r > 0 && service[fd] == 7) {
					for (ssize_t off = 0; off < r;) {
						ssize_t w = write(fd, buf + off, (size_t)(r - off));
						if (w > 0)
							off += w;
						else if (errno != EAGAIN)
							break;
					}
				}
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };

	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGPIPE, SIG_IGN); /* a peer that closes first is not a crash */
	if (argc == 2 && !strcmp(argv[1], "serve")) {
		serve();
		return 0;
	}
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "udp-sink")) {
		udp_sink(atoi(argv[2]), atoll(argv[3]), argc == 5 ? argv[4] : NULL);
		return 0;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: tl-bench-client MODE ADDR PORT ARG... (see the source)\n");
		return 2;
	}
	struct sockaddr_in sa = endpoint(argv[2], argv[3]);
	const char *m = argv[1];
	if (!strcmp(m, "send"))
		bulk_send(&sa, atoll(argv[4]));
	else if (!strcmp(m, "recv"))
		bulk_recv(&sa, atoll(argv[4]));
	else if (!strcmp(m, "recv-time"))
		recv_time(&sa, atoll(argv[4]));
	else if (!strcmp(m, "rr"))
		rr(&sa, atof(argv[4]));
	else if (!strcmp(m, "lat"))
		latency(&sa, atof(argv[4]));
	else if (!strcmp(m, "conn") && argc == 6)
		conns(&sa, atof(argv[4]), atoi(argv[5]));
	else if (!strcmp(m, "idle"))
		idle(&sa, atoi(argv[4]), argc > 5 ? argv[5] : NULL);
	else if (!strcmp(m, "udp-send") && argc == 6)
		udp_send(&sa, atoll(argv[4]), atoi(argv[5]));
	else if (!strcmp(m, "udp-rr"))
		udp_rr(&sa, atof(argv[4]));
	else {
		fprintf(stderr, "tl-bench-client: unknown mode or wrong arguments: %s\n", m);
		return 2;
	}
	return 0;
}
