/*
 * libtcplab-preload.so: a program's IPv4 TCP sockets on tcplab (`tcplab run`,
 * docs/architecture.md "Programs' own sockets"). Each such socket is a real
 * AF_UNIX stream; bind, listen and connect send one request line on it to
 * the control socket named by $TCPLAB_SOCKET (src/io/attach.h has the
 * protocol), then it carries the connection's bytes, so read, write, poll,
 * epoll, sendfile and fork need no interception. What is intercepted keeps
 * a table of what each descriptor is as an inet socket.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define PUBLIC __attribute__((visibility("default")))
#define MSG_LEN 64		/* TL_ATT_MSG_LEN: an accepted connection's message */
#define CHUNK 1024		/* descriptors per table chunk */
#define CHUNKS 1024		/* so descriptors below 1M */
#define BUSY_TRIES 200		/* the control socket says busy: again, 5 ms apart */

enum st { S_NEW, S_BOUND, S_LISTEN, S_CONNECTING, S_CONNECTED, S_FAILED };

struct ent {
	bool used;
	int family;		/* AF_INET or AF_INET6, as the program asked */
	int type;		/* SOCK_STREAM or SOCK_DGRAM */
	int spare;		/* UDP: tcplab's end of the socket, until it has it; else -1 */
	enum st st;
	int err;		/* SO_ERROR */
	bool nodelay, reuse, keepalive, v6only, reuseport;
	bool shut_wr;		/* the program shut down writing */
	bool reset_told;	/* ECONNRESET was returned once */
	struct sockaddr_in local, peer;
	struct in_addr own;	/* UDP: tcplab's address, as the attach said */
};

static struct ent *chunks[CHUNKS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

#define REAL(name, ret, ...)                                                        \
	static ret (*real_##name)(__VA_ARGS__);                                     \
	static ret (*get_##name(void))(__VA_ARGS__)                                 \
	{                                                                           \
		if (!real_##name)                                                   \
			*(void **)&real_##name = dlsym(RTLD_NEXT, #name);           \
		return real_##name;                                                 \
	}

REAL(socket, int, int, int, int)
REAL(bind, int, int, const struct sockaddr *, socklen_t)
REAL(listen, int, int, int)
REAL(accept, int, int, struct sockaddr *, socklen_t *)
REAL(accept4, int, int, struct sockaddr *, socklen_t *, int)
REAL(connect, int, int, const struct sockaddr *, socklen_t)
REAL(getsockname, int, int, struct sockaddr *, socklen_t *)
REAL(getpeername, int, int, struct sockaddr *, socklen_t *)
REAL(setsockopt, int, int, int, int, const void *, socklen_t)
REAL(getsockopt, int, int, int, int, void *, socklen_t *)
REAL(close, int, int)
REAL(dup, int, int)
REAL(dup2, int, int, int)
REAL(dup3, int, int, int, int)
REAL(send, ssize_t, int, const void *, size_t, int)
REAL(sendto, ssize_t, int, const void *, size_t, int, const struct sockaddr *, socklen_t)
REAL(sendmsg, ssize_t, int, const struct msghdr *, int)
REAL(recv, ssize_t, int, void *, size_t, int)
REAL(recvfrom, ssize_t, int, void *, size_t, int, struct sockaddr *, socklen_t *)
REAL(recvmsg, ssize_t, int, struct msghdr *, int)
REAL(read, ssize_t, int, void *, size_t)
REAL(write, ssize_t, int, const void *, size_t)
REAL(readv, ssize_t, int, const struct iovec *, int)
REAL(writev, ssize_t, int, const struct iovec *, int)
REAL(sendmmsg, int, int, struct mmsghdr *, unsigned, int)
REAL(recvmmsg, int, int, struct mmsghdr *, unsigned, int, struct timespec *)
REAL(shutdown, int, int, int)
REAL(execve, int, const char *, char *const[], char *const[])
REAL(execvpe, int, const char *, char *const[], char *const[])
REAL(posix_spawn, int, pid_t *, const char *, const posix_spawn_file_actions_t *,
     const posix_spawnattr_t *, char *const[], char *const[])
REAL(posix_spawnp, int, pid_t *, const char *, const posix_spawn_file_actions_t *,
     const posix_spawnattr_t *, char *const[], char *const[])

static struct ent *ent_of(int fd, bool create)
{
	if (fd < 0 || fd >= CHUNK * CHUNKS)
		return NULL;
	struct ent *c = __atomic_load_n(&chunks[fd / CHUNK], __ATOMIC_ACQUIRE);
	if (!c && create) {
		pthread_mutex_lock(&mu);
		if (!(c = chunks[fd / CHUNK]) && (c = calloc(CHUNK, sizeof *c)))
			__atomic_store_n(&chunks[fd / CHUNK], c, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&mu);
	}
	if (!c)
		return NULL;
	struct ent *e = &c[fd % CHUNK];
	return create || e->used ? e : NULL;
}

/* One line on stderr for what tcplab cannot do, and the errno to fail with. */
static int unsupported(int err, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "tcplab run: %s: not supported on tcplab (%s)\n", line, strerror(err));
	errno = err;
	return -1;
}

/* ---- addresses ---- */

/* An inet address of the program's as IPv4; -1 (errno set) if not one. */
static int to_v4(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		memcpy(out, sa, sizeof *out);
		return 0;
	}
	if (!sa || sa->sa_family != AF_INET6 || len < sizeof(struct sockaddr_in6)) {
		errno = sa && len >= sizeof(sa_family_t) ? EAFNOSUPPORT : EINVAL;
		return -1;
	}
	const struct sockaddr_in6 *s6 = (const void *)sa;
	out->sin_port = s6->sin6_port;
	if (!memcmp(s6->sin6_addr.s6_addr, mapped, 12))
		memcpy(&out->sin_addr, s6->sin6_addr.s6_addr + 12, 4);
	else if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
		out->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
		out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		return unsupported(ENETUNREACH, "IPv6 address (only IPv4-mapped ones)");
	return 0;
}

/* Writes a as the program's family wants it (AF_INET6: IPv4-mapped). */
static void from_v4(int family, const struct sockaddr_in *a, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t n = sizeof(struct sockaddr_in);

	memset(&ss, 0, sizeof ss);
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = a->sin_port;
		if (a->sin_addr.s_addr != htonl(INADDR_ANY)) {
			s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(s6->sin6_addr.s6_addr + 12, &a->sin_addr, 4);
		}
		n = sizeof *s6;
	} else {
		memcpy(&ss, a, sizeof *a);
	}
	if (sa && len)
		memcpy(sa, &ss, *len < n ? *len : n);
	if (len)
		*len = n;
}

static int parse_addr(const char *ip, const char *port, struct sockaddr_in *out)
{
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)atoi(port));
	return inet_pton(AF_INET, ip, &out->sin_addr) == 1 ? 0 : -1;
}

/* ---- the channel to tcplab ---- */

static const struct { const char *name; int err; } errnames[] = {
	{ "ECONNREFUSED", ECONNREFUSED }, { "ECONNRESET", ECONNRESET },
	{ "ETIMEDOUT", ETIMEDOUT }, { "EADDRINUSE", EADDRINUSE },
	{ "EADDRNOTAVAIL", EADDRNOTAVAIL }, { "ENOBUFS", ENOBUFS }, { "ENOMEM", ENOMEM },
	{ "EINVAL", EINVAL }, { "EOPNOTSUPP", EOPNOTSUPP }, { "ECONNABORTED", ECONNABORTED },
};

/* The errno an "error: ENAME why" answer names. */
static int answer_errno(const char *line)
{
	if (strncmp(line, "error: ", 7))
		return ECONNABORTED;
	if (!strncmp(line + 7, "permission denied", 17) ||
	    !strncmp(line + 7, "EOPNOTSUPP: tcplab run", 22)) {
		fprintf(stderr, "tcplab run: the tcplab says: %s\n", line + 7);
		return EACCES;
	}
	for (size_t i = 0; i < sizeof errnames / sizeof errnames[0]; i++) {
		size_t n = strlen(errnames[i].name);
		if (!strncmp(line + 7, errnames[i].name, n) && (line[7 + n] == ':' || !line[7 + n]))
			return errnames[i].err;
	}
	return ECONNABORTED;
}

static void set_blocking(int fd, bool block, int *saved)
{
	int fl = fcntl(fd, F_GETFL);

	if (saved)
		*saved = fl;
	fcntl(fd, F_SETFL, block ? fl & ~O_NONBLOCK : fl | O_NONBLOCK);
}

/* Reads one answer line, byte by byte (the connection's bytes may follow):
 * 1, 0 if none came within timeout ms (-1: wait), -1 if the stream ended. */
static int read_line(int fd, char *line, size_t max, int timeout)
{
	size_t n = 0;

	while (n < max - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, n ? -1 : timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return 0;
		ssize_t k = r < 0 ? -1 : get_recv()(fd, line + n, 1, MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k <= 0)
			return -1;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	return 1;
}

/* Connects fd (an AF_UNIX stream) to tcplab; -1 with errno set. */
/* The control socket's abstract address from $TCPLAB_SOCKET: its length, 0 if unset. */
static socklen_t ctl_addr(struct sockaddr_un *sa)
{
	const char *name = getenv("TCPLAB_SOCKET");

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (!name || !*name || strlen(name) >= sizeof sa->sun_path - 1)
		return 0;
	memcpy(sa->sun_path + 1, name, strlen(name));
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static int dial(int fd)
{
	const char *name = getenv("TCPLAB_SOCKET");
	struct sockaddr_un sa;
	socklen_t len = ctl_addr(&sa);
	int fl;

	if (!len)
		return unsupported(ENETDOWN, "no tcplab named in TCPLAB_SOCKET (use tcplab run)");
	set_blocking(fd, true, &fl);
	int r = get_connect()(fd, (struct sockaddr *)&sa, len);
	int err = errno;
	fcntl(fd, F_SETFL, fl);
	if (r < 0) {
		fprintf(stderr, "tcplab run: cannot reach the tcplab at @%s: %s\n", name, strerror(err));
		errno = ENETDOWN;
	}
	return r;
}

/* A fresh AF_UNIX stream in place of fd, keeping its flags. */
static int renew(int fd)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD), err = errno;
	int n = get_socket()(AF_UNIX, SOCK_STREAM, 0);

	if (n < 0)
		return -1;
	fcntl(n, F_SETFL, fl);
	get_dup3()(n, fd, fdfl & FD_CLOEXEC ? O_CLOEXEC : 0);
	get_close()(n);
	errno = err;
	return 0;
}

static int send_line(int fd, const char *line)
{
	size_t len = strlen(line), off = 0;
	int fl;

	set_blocking(fd, true, &fl);
	while (off < len) {
		ssize_t n = get_send()(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	fcntl(fd, F_SETFL, fl);
	if (off < len)
		errno = ECONNABORTED;
	return off == len ? 0 : -1;
}

/* Dials if needed, sends req and reads the answer into ans: 0 for "ok",
 * else -1 with errno set (and fd renewed). Retries while tcplab is busy. */
static int ask(int fd, bool dialed, const char *req, char *ans, size_t max)
{
	for (int i = 0; i < BUSY_TRIES; i++) {
		if (!dialed && dial(fd) < 0)
			return -1;
		/* A refusal may close the stream first: its answer is still there to read. */
		send_line(fd, req);
		if (read_line(fd, ans, max, -1) < 0)
			snprintf(ans, max, "error: ECONNABORTED: tcplab closed the channel");
		if (!strncmp(ans, "ok", 2))
			return 0;
		int err = answer_errno(ans);
		renew(fd);
		if (dialed || strncmp(ans, "error: busy", 11)) {
			errno = err;
			return -1;
		}
		usleep(5000);
	}
	errno = EAGAIN;
	return -1;
}

/* ---- UDP: datagrams with an 8-byte address header (src/io/attach.h) ---- */

#define UDP_HDR 8
#define UDP_ERROR 1 /* TL_ATT_UDP_ERROR: byte 6 of a header that is an ICMP error */
#define IOV_MAX_HERE 64

/* Sends "udp ADDR PORT" with tcplab's end of the socket; 0 or -1 (errno). */
static int udp_attach(struct ent *e, const struct sockaddr_in *a)
{
	char req[64], ans[128], ip[INET_ADDRSTRLEN], port[8], own[INET_ADDRSTRLEN] = "";
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct iovec iov = { req, 0 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof u.buf };

	if (e->spare < 0) {
		errno = EINVAL;
		return -1;
	}
	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
	iov.iov_len = (size_t)snprintf(req, sizeof req, "udp %s %u\n", ip, ntohs(a->sin_port));
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &e->spare, sizeof(int));
	for (int i = 0; i < BUSY_TRIES; i++) {
		int st = get_socket()(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (st < 0 || dial(st) < 0 ||
		    (get_sendmsg()(st, &mh, MSG_NOSIGNAL) < 0 && errno != EPIPE) ||
		    read_line(st, ans, sizeof ans, -1) < 0)
			snprintf(ans, sizeof ans, "error: ECONNABORTED");
		if (st >= 0)
			get_close()(st);
		if (!strncmp(ans, "ok", 2) && sscanf(ans, "ok %15s %7s %15s", ip, port, own) >= 2) {
			parse_addr(ip, port, &e->local);
			inet_pton(AF_INET, own, &e->own);
			get_close()(e->spare);
			e->spare = -1;
			return 0;
		}
		if (strncmp(ans, "error: busy", 11)) {
			errno = answer_errno(ans);
			return -1;
		}
		usleep(5000);
	}
	errno = EAGAIN;
	return -1;
}

static int udp_any(struct ent *e)
{
	struct sockaddr_in any = { .sin_family = AF_INET };

	return e->spare < 0 ? 0 : udp_attach(e, &any);
}

static ssize_t udp_send(int fd, struct ent *e, const struct iovec *v, size_t nv, int flags,
			const struct sockaddr *to, socklen_t tolen)
{
	struct iovec iov[IOV_MAX_HERE + 1];
	uint8_t hdr[UDP_HDR] = { 0 };
	struct sockaddr_in dst = e->peer;

	if (nv > IOV_MAX_HERE)
		return unsupported(EMSGSIZE, "a datagram in more than %d pieces", IOV_MAX_HERE);
	if (to && to_v4(to, tolen, &dst) < 0)
		return -1;
	if (!to && !dst.sin_port) {
		errno = EDESTADDRREQ;
		return -1;
	}
	if (udp_any(e) < 0)
		return -1;
	memcpy(hdr, &dst.sin_addr, 4);
	memcpy(hdr + 4, &dst.sin_port, 2);
	iov[0] = (struct iovec){ hdr, sizeof hdr };
	memcpy(iov + 1, v, nv * sizeof *v);
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = nv + 1 };
	ssize_t n = get_sendmsg()(fd, &mh, flags & (MSG_DONTWAIT | MSG_NOSIGNAL));
	return n < 0 ? -1 : n - UDP_HDR;
}

/* One datagram into v; from the connected peer only, if connected. */
static ssize_t udp_recv(int fd, struct ent *e, const struct iovec *v, size_t nv, int flags,
			struct sockaddr *from, socklen_t *fromlen, int *mflags)
{
	struct iovec iov[IOV_MAX_HERE + 1];
	uint8_t hdr[UDP_HDR];
	struct sockaddr_in src = { .sin_family = AF_INET };

	if (nv > IOV_MAX_HERE)
		return unsupported(EMSGSIZE, "a datagram in more than %d pieces", IOV_MAX_HERE);
	if (udp_any(e) < 0)
		return -1;
	iov[0] = (struct iovec){ hdr, sizeof hdr };
	memcpy(iov + 1, v, nv * sizeof *v);
	for (;;) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = nv + 1 };
		ssize_t n = get_recvmsg()(fd, &mh, flags & (MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC |
							 MSG_WAITALL));
		if (n < 0)
			return -1;
		if (n < UDP_HDR)
			continue;
		memcpy(&src.sin_addr, hdr, 4);
		memcpy(&src.sin_port, hdr + 4, 2);
		/* A connected socket takes datagrams from its peer only (RFC 8085 5.1). */
		bool other = src.sin_port != e->peer.sin_port ||
			     (src.sin_addr.s_addr != e->peer.sin_addr.s_addr &&
			      ntohl(e->peer.sin_addr.s_addr) >> 24 != 127);
		bool error = hdr[6] == UDP_ERROR;
		if ((e->peer.sin_port && other) || (error && !e->peer.sin_port)) {
			if (flags & MSG_PEEK)
				get_recv()(fd, hdr, 0, MSG_DONTWAIT);
			continue;
		}
		/* RFC 1122 4.1.3.3: an ICMP error for a connected socket is its errno, once. */
		if (error) {
			if (flags & MSG_PEEK)
				get_recv()(fd, hdr, 0, MSG_DONTWAIT);
			errno = hdr[7] ? hdr[7] : ECONNREFUSED;
			return -1;
		}
		if (from && fromlen)
			from_v4(e->family, &src, from, fromlen);
		if (mflags)
			*mflags = mh.msg_flags;
		return n - UDP_HDR;
	}
}

static struct ent *udp_ent(int fd)
{
	struct ent *e = ent_of(fd, false);

	return e && e->type == SOCK_DGRAM ? e : NULL;
}

static struct ent *tcp_ent(int fd)
{
	struct ent *e = ent_of(fd, false);

	return e && e->type == SOCK_STREAM && (e->st == S_CONNECTING || e->st == S_CONNECTED)
		       ? e
		       : NULL;
}

static int complete(int fd, struct ent *e, bool block);

static socklen_t ctl_addr(struct sockaddr_un *sa);

/* Whether tcplab's control socket has gone (tcplab stopped), asked quietly. */
static bool stack_gone(void)
{
	struct sockaddr_un sa;
	socklen_t len = ctl_addr(&sa);
	int fd = len ? get_socket()(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;

	if (fd < 0)
		return false;
	bool gone = get_connect()(fd, (struct sockaddr *)&sa, len) < 0 && errno == ECONNREFUSED;
	get_close()(fd);
	return gone;
}

/* Before a read: a connect still under way is settled first (its answer
 * line must not reach the program). 0, or -1 with errno. */
static int tcp_before_read(int fd, struct ent *e, int flags)
{
	if (e->st == S_CONNECTING &&
	    !complete(fd, e, !(flags & MSG_DONTWAIT) && !(fcntl(fd, F_GETFL) & O_NONBLOCK))) {
		errno = EAGAIN;
		return -1;
	}
	if (e->st == S_FAILED) {
		errno = e->err ? e->err : ECONNABORTED;
		e->err = 0;
		return -1;
	}
	return 0;
}

/* After a read that returned n of want: the end of a stream that tcplab
 * closed whole while the program could still write was a reset (or a
 * timeout, or tcplab stopping): ECONNRESET once, then 0, as Linux reads. */
static ssize_t tcp_after_read(int fd, struct ent *e, ssize_t n, size_t want)
{
	struct pollfd p = { fd, POLLOUT, 0 };

	if (n != 0 || want == 0 || e->shut_wr || e->reset_told)
		return n;
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP)) {
		e->reset_told = true;
		errno = stack_gone() ? ECONNABORTED : ECONNRESET;
		return -1;
	}
	return 0;
}

static size_t iov_len(const struct iovec *v, int n)
{
	size_t t = 0;

	for (int i = 0; i < n; i++)
		t += v[i].iov_len;
	return t;
}

PUBLIC ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
		      socklen_t tolen)
{
	struct ent *e = udp_ent(fd);
	struct iovec v = { (void *)buf, len };

	return e ? udp_send(fd, e, &v, 1, flags, to, tolen)
		 : get_sendto()(fd, buf, len, flags, to, tolen);
}

PUBLIC ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return udp_ent(fd) ? sendto(fd, buf, len, flags, NULL, 0) : get_send()(fd, buf, len, flags);
}

PUBLIC ssize_t write(int fd, const void *buf, size_t len)
{
	return udp_ent(fd) ? sendto(fd, buf, len, 0, NULL, 0) : get_write()(fd, buf, len);
}

PUBLIC ssize_t writev(int fd, const struct iovec *v, int n)
{
	struct ent *e = udp_ent(fd);

	return e && n >= 0 ? udp_send(fd, e, v, (size_t)n, 0, NULL, 0) : get_writev()(fd, v, n);
}

PUBLIC ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct ent *e = udp_ent(fd);

	if (!e)
		return get_sendmsg()(fd, m, flags);
	if (m->msg_controllen)
		return unsupported(EOPNOTSUPP, "sendmsg with control messages on UDP");
	return udp_send(fd, e, m->msg_iov, m->msg_iovlen, flags, m->msg_name, m->msg_namelen);
}

PUBLIC int sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
	unsigned i = 0;

	if (!udp_ent(fd))
		return get_sendmmsg()(fd, v, n, flags);
	for (; i < n; i++) {
		ssize_t k = sendmsg(fd, &v[i].msg_hdr, flags);
		if (k < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned)k;
	}
	return (int)i;
}

PUBLIC ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
			socklen_t *fromlen)
{
	struct ent *e = ent_of(fd, false);
	struct iovec v = { buf, len };

	if (e && e->type == SOCK_DGRAM)
		return udp_recv(fd, e, &v, 1, flags, from, fromlen, NULL);
	if (!(e = tcp_ent(fd)))
		return get_recvfrom()(fd, buf, len, flags, from, fromlen);
	if (tcp_before_read(fd, e, flags) < 0)
		return -1;
	return tcp_after_read(fd, e, get_recv()(fd, buf, len, flags), len);
}

PUBLIC ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return ent_of(fd, false) ? recvfrom(fd, buf, len, flags, NULL, NULL)
				 : get_recv()(fd, buf, len, flags);
}

PUBLIC ssize_t read(int fd, void *buf, size_t len)
{
	return ent_of(fd, false) ? recvfrom(fd, buf, len, 0, NULL, NULL) : get_read()(fd, buf, len);
}

PUBLIC ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	struct ent *e = ent_of(fd, false);

	if (e && e->type == SOCK_DGRAM) {
		m->msg_controllen = 0;
		return udp_recv(fd, e, m->msg_iov, m->msg_iovlen, flags, m->msg_name,
				m->msg_name ? &m->msg_namelen : NULL, &m->msg_flags);
	}
	if (!(e = tcp_ent(fd)))
		return get_recvmsg()(fd, m, flags);
	if (tcp_before_read(fd, e, flags) < 0)
		return -1;
	m->msg_namelen = 0;
	return tcp_after_read(fd, e, get_recvmsg()(fd, m, flags),
			      iov_len(m->msg_iov, (int)m->msg_iovlen));
}

PUBLIC ssize_t readv(int fd, const struct iovec *v, int n)
{
	struct msghdr m = { .msg_iov = (struct iovec *)v, .msg_iovlen = n < 0 ? 0 : (size_t)n };

	return ent_of(fd, false) && n >= 0 ? recvmsg(fd, &m, 0) : get_readv()(fd, v, n);
}

PUBLIC int recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *timeout)
{
	unsigned i = 0;

	if (!udp_ent(fd))
		return get_recvmmsg()(fd, v, n, flags, timeout);
	int f = flags & ~MSG_WAITFORONE; /* the timeout is not kept */

	for (; i < n; i++) {
		ssize_t k = recvmsg(fd, &v[i].msg_hdr, i && (flags & MSG_WAITFORONE) ? f | MSG_DONTWAIT : f);
		if (k < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned)k;
	}
	return (int)i;
}

/* ---- the socket calls ---- */

PUBLIC int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC), sv[2] = { -1, -1 };

	if (domain != AF_INET && domain != AF_INET6)
		return get_socket()(domain, type, protocol);
	if ((base != SOCK_STREAM && base != SOCK_DGRAM) ||
	    (protocol && protocol != (base == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP)))
		return unsupported(EPROTONOSUPPORT, "inet socket of type %d protocol %d", base,
				   protocol);
	if (base == SOCK_STREAM)
		sv[0] = get_socket()(AF_UNIX, SOCK_STREAM | flags, 0);
	else if (socketpair(AF_UNIX, SOCK_SEQPACKET | flags, 0, sv) == 0)
		fcntl(sv[1], F_SETFD, FD_CLOEXEC);
	struct ent *e = sv[0] < 0 ? NULL : ent_of(sv[0], true);
	if (sv[0] >= 0 && !e) {
		get_close()(sv[0]);
		if (sv[1] >= 0)
			get_close()(sv[1]);
		errno = EMFILE;
		return -1;
	}
	if (e) {
		memset(e, 0, sizeof *e);
		e->used = true;
		e->family = domain;
		e->type = base;
		e->spare = sv[1];
		e->local.sin_family = e->peer.sin_family = AF_INET;
	}
	return sv[0];
}

PUBLIC int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct ent *e = ent_of(fd, false);
	struct sockaddr_in a;
	char req[80], ans[128], ip[INET_ADDRSTRLEN];

	if (!e)
		return get_bind()(fd, sa, len);
	if (to_v4(sa, len, &a) < 0)
		return -1;
	if (e->type == SOCK_DGRAM)
		return udp_attach(e, &a);
	if (e->st != S_NEW) {
		errno = EINVAL;
		return -1;
	}
	inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
	snprintf(req, sizeof req, "bind %s %u%s\n", ip, ntohs(a.sin_port),
		 e->reuseport ? " reuseport" : "");
	if (ask(fd, false, req, ans, sizeof ans) < 0)
		return -1;
	e->local = a;
	e->st = S_BOUND;
	return 0;
}

PUBLIC int listen(int fd, int backlog)
{
	struct ent *e = ent_of(fd, false);
	char req[64], ans[128], ip[INET_ADDRSTRLEN], port[8];

	if (!e)
		return get_listen()(fd, backlog);
	if (e->type == SOCK_DGRAM) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (e->st == S_LISTEN)
		return 0;
	if (e->st == S_NEW) {
		struct sockaddr_in any = { .sin_family = AF_INET };
		if (bind(fd, (struct sockaddr *)&any, sizeof any) < 0)
			return -1;
	}
	if (e->st != S_BOUND) {
		errno = EINVAL;
		return -1;
	}
	snprintf(req, sizeof req, "listen %d%s\n", backlog < 1 ? 1 : backlog > 65535 ? 65535 : backlog,
		 e->nodelay ? " nodelay" : "");
	if (ask(fd, true, req, ans, sizeof ans) < 0) {
		e->st = S_NEW;
		return -1;
	}
	if (sscanf(ans, "ok %15s %7s", ip, port) == 2)
		e->local.sin_port = htons((uint16_t)atoi(port));
	e->st = S_LISTEN;
	return 0;
}

/* Receives one accepted connection's message and its descriptor. */
static int recv_conn(int fd, char *msg, int flags)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct iovec iov = { msg, MSG_LEN };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof u.buf };
	int cfd = -1;

	ssize_t n = get_recvmsg()(fd, &mh, MSG_WAITALL | (flags & SOCK_CLOEXEC ? MSG_CMSG_CLOEXEC : 0));
	if (n < 0)
		return -1;
	if (n == 0)
		return -2;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&cfd, CMSG_DATA(cm), sizeof cfd);
	if (n != MSG_LEN || cfd < 0) {
		if (cfd >= 0)
			get_close()(cfd);
		errno = ECONNABORTED; /* tcplab stopped */
		return -1;
	}
	msg[MSG_LEN - 1] = 0;
	return cfd;
}

/* tcplab is gone: the listener becomes one that is never readable, so a
 * server's poll or epoll loop sleeps instead of spinning on accept. */
static void park(int fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX }; /* autobind */
	int q = get_socket()(AF_UNIX, SOCK_STREAM, 0), fl = fcntl(fd, F_GETFL);
	int cloexec = fcntl(fd, F_GETFD) & FD_CLOEXEC ? O_CLOEXEC : 0;

	if (q < 0)
		return;
	if (get_bind()(q, (struct sockaddr *)&sa, sizeof(sa_family_t)) == 0 &&
	    get_listen()(q, 1) == 0) {
		fcntl(q, F_SETFL, fl);
		get_dup3()(q, fd, cloexec);
		fprintf(stderr, "tcplab run: tcplab stopped: listening socket %d accepts no more\n",
			fd);
	}
	get_close()(q);
}

PUBLIC int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	struct ent *e = ent_of(fd, false);
	char msg[MSG_LEN], pa[16], pp[8], la[16], lp[8];

	if (!e)
		return get_accept4()(fd, sa, len, flags);
	if (e->st != S_LISTEN) {
		errno = e->type == SOCK_DGRAM ? EOPNOTSUPP : EINVAL;
		return -1;
	}
	int cfd = recv_conn(fd, msg, flags);
	if (cfd == -2) {
		park(fd);
		errno = ECONNABORTED;
		return -1;
	}
	if (cfd < 0)
		return -1;
	struct ent *c = ent_of(cfd, true);
	if (!c) {
		get_close()(cfd);
		errno = EMFILE;
		return -1;
	}
	memset(c, 0, sizeof *c);
	c->used = true;
	c->family = e->family;
	c->type = SOCK_STREAM;
	c->spare = -1;
	c->st = S_CONNECTED;
	c->nodelay = e->nodelay;
	if (sscanf(msg, "conn %15s %7s %15s %7s", pa, pp, la, lp) != 4 ||
	    parse_addr(pa, pp, &c->peer) < 0 || parse_addr(la, lp, &c->local) < 0)
		c->local.sin_family = c->peer.sin_family = AF_INET;
	int fl = fcntl(cfd, F_GETFL);
	fcntl(cfd, F_SETFL, flags & SOCK_NONBLOCK ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
	if (sa && len)
		from_v4(c->family, &c->peer, sa, len);
	return cfd;
}

PUBLIC int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return ent_of(fd, false) ? accept4(fd, sa, len, 0) : get_accept()(fd, sa, len);
}

/* UDP connect: a default destination and a filter, nothing sent (RFC 8085 5.1). */
static int udp_connect(struct ent *e, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_in a;

	if (sa && len >= sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC) {
		memset(&e->peer, 0, sizeof e->peer);
		e->peer.sin_family = AF_INET;
		return 0;
	}
	if (to_v4(sa, len, &a) < 0 || udp_any(e) < 0)
		return -1;
	e->peer = a;
	/* The source address a route to the peer picks (RFC 1122 3.3.4.3). */
	if (e->local.sin_addr.s_addr == htonl(INADDR_ANY))
		e->local.sin_addr.s_addr = ntohl(a.sin_addr.s_addr) >> 24 == 127
						   ? htonl(INADDR_LOOPBACK)
						   : e->own.s_addr;
	return 0;
}

/* The answer to a connect, if it came (or block: once it comes): 1 when
 * settled (e->st CONNECTED or FAILED with e->err), 0 while pending. */
static int complete(int fd, struct ent *e, bool block)
{
	char ans[128], ip[INET_ADDRSTRLEN], port[8];
	int r = read_line(fd, ans, sizeof ans, block ? -1 : 0);

	if (r == 0)
		return 0;
	if (r > 0 && sscanf(ans, "ok %15s %7s", ip, port) == 2) {
		parse_addr(ip, port, &e->local);
		e->st = S_CONNECTED;
		return 1;
	}
	e->err = r < 0 ? ECONNABORTED : answer_errno(ans);
	e->st = S_FAILED;
	return 1;
}

static int connect_start(int fd, struct ent *e, const struct sockaddr_in *a)
{
	char req[80], ip[INET_ADDRSTRLEN];

	if (e->st == S_NEW && dial(fd) < 0)
		return -1;
	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
	snprintf(req, sizeof req, "connect %s %u%s\n", ip, ntohs(a->sin_port),
		 e->nodelay ? " nodelay" : "");
	if (send_line(fd, req) < 0) {
		renew(fd);
		e->st = S_NEW;
		return -1;
	}
	e->peer = *a;
	e->st = S_CONNECTING;
	return 0;
}

PUBLIC int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct ent *e = ent_of(fd, false);
	struct sockaddr_in a;

	if (!e)
		return get_connect()(fd, sa, len);
	if (e->type == SOCK_DGRAM)
		return udp_connect(e, sa, len);
	bool nonblock = fcntl(fd, F_GETFL) & O_NONBLOCK;
	if (e->st == S_CONNECTING) {
		errno = complete(fd, e, !nonblock) ? e->st == S_CONNECTED ? EISCONN : e->err
						   : EALREADY;
		if (e->st == S_FAILED)
			e->err = 0;
		return -1;
	}
	if (e->st == S_CONNECTED || e->st == S_LISTEN) {
		errno = e->st == S_CONNECTED ? EISCONN : EINVAL;
		return -1;
	}
	if (sa && sa->sa_family == AF_UNSPEC)
		return unsupported(EOPNOTSUPP, "connect to AF_UNSPEC");
	if (to_v4(sa, len, &a) < 0 || connect_start(fd, e, &a) < 0)
		return -1;
	if (nonblock) {
		errno = EINPROGRESS;
		return -1;
	}
	complete(fd, e, true);
	if (e->st == S_CONNECTED)
		return 0;
	errno = e->err;
	e->err = 0;
	e->st = S_NEW;
	renew(fd);
	return -1;
}

PUBLIC int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct ent *e = ent_of(fd, false);

	if (!e)
		return get_getsockname()(fd, sa, len);
	from_v4(e->family, &e->local, sa, len);
	return 0;
}

PUBLIC int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct ent *e = ent_of(fd, false);

	if (!e)
		return get_getpeername()(fd, sa, len);
	if (e->st == S_CONNECTING)
		complete(fd, e, false);
	if (e->type == SOCK_DGRAM ? !e->peer.sin_port : e->st != S_CONNECTED) {
		errno = ENOTCONN;
		return -1;
	}
	from_v4(e->family, &e->peer, sa, len);
	return 0;
}

/* The table's flag a boolean option sets, or NULL. */
static bool *flag_of(struct ent *e, int level, int name)
{
	if (level == SOL_SOCKET && name == SO_REUSEADDR)
		return &e->reuse;
	if (level == SOL_SOCKET && name == SO_REUSEPORT)
		return &e->reuseport;
	if (level == SOL_SOCKET && name == SO_KEEPALIVE)
		return &e->keepalive;
	if (level == IPPROTO_TCP && name == TCP_NODELAY)
		return &e->nodelay;
	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY)
		return &e->v6only;
	return NULL;
}

/* Options the AF_UNIX stream itself honours as the program means them. */
static bool on_stream(int level, int name)
{
	return level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF ||
				       name == SO_RCVTIMEO || name == SO_SNDTIMEO ||
				       name == SO_RCVLOWAT || name == SO_SNDLOWAT ||
				       name == SO_PRIORITY);
}

/* Accepted and without effect: keepalive timing, ACK and TOS hints. */
static bool no_effect(int level, int name)
{
	return (level == IPPROTO_TCP && (name == TCP_KEEPIDLE || name == TCP_KEEPINTVL ||
					 name == TCP_KEEPCNT || name == TCP_QUICKACK ||
					 name == TCP_DEFER_ACCEPT)) ||
	       (level == SOL_SOCKET && (name == SO_LINGER || name == SO_BROADCAST)) ||
	       (level == IPPROTO_IP && name == IP_TOS) ||
	       (level == IPPROTO_IPV6 && name == IPV6_TCLASS);
}

PUBLIC int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct ent *e = ent_of(fd, false);

	if (!e || on_stream(level, name))
		return get_setsockopt()(fd, level, name, val, len);
	bool *f = flag_of(e, level, name);
	if (f) {
		if (!val || len < sizeof(int)) {
			errno = EINVAL;
			return -1;
		}
		*f = *(const int *)val != 0;
		return 0;
	}
	if (no_effect(level, name))
		return 0;
	return unsupported(ENOPROTOOPT, "setsockopt level %d option %d", level, name);
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (!val || !len || *len < sizeof(int)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(val, &v, sizeof v);
	*len = sizeof v;
	return 0;
}

static uint8_t linux_state(unsigned st)
{
	static const uint8_t map[] = { TCP_CLOSE, TCP_LISTEN, TCP_SYN_SENT, TCP_SYN_RECV,
				       TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_FIN_WAIT2,
				       TCP_CLOSE_WAIT, TCP_CLOSING, TCP_LAST_ACK, TCP_TIME_WAIT };

	return st < sizeof map ? map[st] : TCP_CLOSE;
}

/* Asks tcplab for the connection's numbers and its congestion control
 * ("info", src/io/attach.h); a socket not connected asks for the latter. */
static int ask_info(const struct ent *e, struct tcp_info *ti, char cc[16])
{
	char req[96], ans[192], ip[INET_ADDRSTRLEN];
	unsigned v[11];
	unsigned long long retr;
	int st = get_socket()(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool conn = e->type == SOCK_STREAM && e->st == S_CONNECTED;

	inet_ntop(AF_INET, &e->peer.sin_addr, ip, sizeof ip);
	snprintf(req, sizeof req, "info %s %u %u\n", conn ? ip : "0.0.0.0",
		 conn ? ntohs(e->peer.sin_port) : 0, ntohs(e->local.sin_port));
	int ok = st >= 0 && dial(st) == 0 && send_line(st, req) == 0 &&
		 read_line(st, ans, sizeof ans, 2000) == 1 &&
		 sscanf(ans, "ok %u %u %u %u %u %u %u %u %llu %u %u %u %15s", &v[0], &v[1], &v[2],
			&v[3], &v[4], &v[5], &v[6], &v[7], &retr, &v[8], &v[9], &v[10], cc) == 13;
	if (st >= 0)
		get_close()(st);
	if (!ok || !conn)
		return ok ? 0 : -1;
	unsigned mss = v[1] ? v[1] : 1;
	ti->tcpi_state = linux_state(v[0]);
	ti->tcpi_snd_mss = ti->tcpi_rcv_mss = ti->tcpi_advmss = v[1];
	ti->tcpi_snd_cwnd = v[2] / mss;
	ti->tcpi_snd_ssthresh = v[3] == UINT32_MAX ? 0x7fffffff : v[3] / mss;
	ti->tcpi_rtt = v[4];
	ti->tcpi_rttvar = v[5];
	ti->tcpi_rto = v[6];
	ti->tcpi_unacked = (v[7] + mss - 1) / mss;
	ti->tcpi_total_retrans = (uint32_t)retr;
	ti->tcpi_pmtu = v[1] + 40;
	return 0;
}

/* TCP_INFO as Linux fills it, from what tcplab knows (the rest is zero),
 * or TCP_CONGESTION: the name, NUL-padded. */
static int tcp_info_of(const struct ent *e, int name, void *val, socklen_t *len)
{
	struct tcp_info ti = { .tcpi_state = e->st == S_LISTEN ? TCP_LISTEN : TCP_CLOSE };
	char cc[16] = "";

	if (!val || !len) {
		errno = EFAULT;
		return -1;
	}
	if (ask_info(e, &ti, cc) < 0)
		ti.tcpi_state = TCP_CLOSE; /* gone from the stack already */
	memset(val, 0, *len);
	if (name == TCP_CONGESTION) {
		if (!*cc)
			return unsupported(ENOPROTOOPT, "TCP_CONGESTION without an answer from tcplab");
		*len = *len < sizeof cc ? *len : sizeof cc;
		memcpy(val, cc, *len);
		return 0;
	}
	memcpy(val, &ti, *len < sizeof ti ? *len : sizeof ti);
	return 0;
}

PUBLIC int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct ent *e = ent_of(fd, false);

	if (!e || on_stream(level, name))
		return get_getsockopt()(fd, level, name, val, len);
	bool *f = flag_of(e, level, name);
	if (f)
		return put_int(val, len, *f);
	if (level == SOL_SOCKET && name == SO_ERROR) {
		if (e->st == S_CONNECTING)
			complete(fd, e, true);
		int err = e->err;
		e->err = 0;
		return put_int(val, len, err);
	}
	if (level == SOL_SOCKET && name == SO_TYPE)
		return put_int(val, len, e->type);
	if (level == SOL_SOCKET && name == SO_DOMAIN)
		return put_int(val, len, e->family);
	if (level == SOL_SOCKET && name == SO_PROTOCOL)
		return put_int(val, len, e->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
	if (level == SOL_SOCKET && name == SO_ACCEPTCONN)
		return put_int(val, len, e->st == S_LISTEN);
	if (level == IPPROTO_TCP && name == TCP_MAXSEG)
		return put_int(val, len, 1460);
	if (level == IPPROTO_TCP && (name == TCP_INFO || name == TCP_CONGESTION))
		return tcp_info_of(e, name, val, len);
	return unsupported(ENOPROTOOPT, "getsockopt level %d option %d", level, name);
}

PUBLIC int shutdown(int fd, int how)
{
	struct ent *e = ent_of(fd, false);

	if (e && e->type == SOCK_STREAM && e->st == S_CONNECTING)
		complete(fd, e, true);
	if (e && e->type == SOCK_STREAM && e->st != S_CONNECTED) {
		errno = ENOTCONN;
		return -1;
	}
	int r = get_shutdown()(fd, how);
	if (r == 0 && e && (how == SHUT_WR || how == SHUT_RDWR))
		e->shut_wr = true;
	return r;
}

/* ---- descriptors: the table follows close and dup ---- */

PUBLIC int close(int fd)
{
	struct ent *e = ent_of(fd, false);

	if (e) {
		e->used = false;
		if (e->spare >= 0)
			get_close()(e->spare);
		e->spare = -1;
	}
	return get_close()(fd);
}

static int copied(int from, int to)
{
	struct ent *e = ent_of(from, false), *t = to >= 0 && to != from ? ent_of(to, true) : NULL;

	if (t) {
		*t = e ? *e : (struct ent){ 0 };
		t->spare = -1; /* the original keeps tcplab's end until it is sent */
	}
	return to;
}

PUBLIC int dup(int fd)
{
	return copied(fd, get_dup()(fd));
}

PUBLIC int dup2(int fd, int to)
{
	return copied(fd, get_dup2()(fd, to));
}

PUBLIC int dup3(int fd, int to, int flags)
{
	return copied(fd, get_dup3()(fd, to, flags));
}

/* ---- exec: the table goes with the descriptors that stay open ---- */

#define FDS_ENV "TCPLAB_FDS"
#define FDS_MAX 65536 /* bytes of the variable: about 1000 sockets */

extern char **environ;

/* "TCPLAB_FDS=fd,family,type,state,flags,laddr,lport,paddr,pport;..." for
 * the inet sockets an exec keeps (not close-on-exec). */
static const char *fds_var(void)
{
	static char buf[FDS_MAX];
	size_t n = (size_t)snprintf(buf, sizeof buf, "%s=", FDS_ENV);

	for (int fd = 0; fd < CHUNK * CHUNKS && n < sizeof buf - 80; fd++) {
		if (!chunks[fd / CHUNK]) {
			fd += CHUNK - 1 - fd % CHUNK;
			continue;
		}
		const struct ent *e = ent_of(fd, false);
		if (!e || (fcntl(fd, F_GETFD) & FD_CLOEXEC))
			continue;
		unsigned fl = e->nodelay | e->reuse << 1 | e->keepalive << 2 | e->v6only << 3 |
			      e->shut_wr << 4 | e->reuseport << 5;
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%d,%d,%d,%d,%u,%x,%u,%x,%u;", fd,
				      e->family, e->type, (int)e->st, fl, e->local.sin_addr.s_addr,
				      e->local.sin_port, e->peer.sin_addr.s_addr, e->peer.sin_port);
	}
	return buf;
}

/* envp with our variable in place of any old one; NULL if out of memory. */
static char **with_fds(char *const envp[])
{
	size_t n = 0, k = 0;

	while (envp && envp[n])
		n++;
	char **out = malloc((n + 2) * sizeof *out);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], FDS_ENV "=", sizeof FDS_ENV))
			out[k++] = envp[i];
	const char *v = fds_var();
	if (v[sizeof FDS_ENV])
		out[k++] = (char *)v;
	out[k] = NULL;
	return out;
}

PUBLIC int execve(const char *path, char *const argv[], char *const envp[])
{
	char **env = with_fds(envp);
	int r = get_execve()(path, argv, env ? env : envp);

	free(env);
	return r;
}

PUBLIC int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

PUBLIC int execvpe(const char *file, char *const argv[], char *const envp[])
{
	char **env = with_fds(envp);
	int r = get_execvpe()(file, argv, env ? env : envp);

	free(env);
	return r;
}

PUBLIC int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

PUBLIC int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		       const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	char **env = with_fds(envp);
	int r = get_posix_spawn()(pid, path, fa, at, argv, env ? env : envp);

	free(env);
	return r;
}

PUBLIC int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	char **env = with_fds(envp);
	int r = get_posix_spawnp()(pid, file, fa, at, argv, env ? env : envp);

	free(env);
	return r;
}

/* One entry of the variable, if fd is still a socket: into the table. */
static void restore_one(const char *item)
{
	int fd, family, type, st;
	unsigned fl, la, lp, pa, pp, ty;
	socklen_t len = sizeof ty;

	if (sscanf(item, "%d,%d,%d,%d,%u,%x,%u,%x,%u", &fd, &family, &type, &st, &fl, &la, &lp,
		   &pa, &pp) != 9 || st < S_NEW || st > S_FAILED ||
	    get_getsockopt()(fd, SOL_SOCKET, SO_TYPE, &ty, &len) < 0 ||
	    (int)ty != (type == SOCK_STREAM ? SOCK_STREAM : SOCK_SEQPACKET))
		return;
	struct ent *e = ent_of(fd, true);
	if (!e)
		return;
	*e = (struct ent){ .used = true, .family = family, .type = type, .spare = -1,
			   .st = (enum st)st, .nodelay = fl & 1, .reuse = fl >> 1 & 1,
			   .keepalive = fl >> 2 & 1, .v6only = fl >> 3 & 1, .shut_wr = fl >> 4 & 1,
			   .reuseport = fl >> 5 & 1 };
	e->local = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = (in_port_t)lp,
					 .sin_addr.s_addr = la };
	e->peer = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = (in_port_t)pp,
					.sin_addr.s_addr = pa };
}

__attribute__((constructor)) static void restore(void)
{
	const char *v = getenv(FDS_ENV);

	for (; v && *v; v = strchr(v, ';') ? strchr(v, ';') + 1 : "")
		restore_one(v);
}
