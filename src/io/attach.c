/* Programs' sockets on the stack: the streams `tcplab run` attaches, pumped
 * between their AF_UNIX stream and a connection of the stack. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attach.h"
#include "tcplab/apps.h"
#include "tcplab/socket.h"

#define STAGE 16384		/* bytes taken from the stack, not yet written */
#define EPH_LO 40000		/* ports `listen` picks after `bind ADDR 0` */
#define EPH_N 20000

/* ---- the request parser ---- */

static const char *const verbs[] = { "bind", "listen", "connect", "udp", "info" };

static int verb_of(const char *w, size_t n)
{
	for (int v = 0; v < 5; v++)
		if (strlen(verbs[v]) == n && !memcmp(w, verbs[v], n))
			return v;
	return -1;
}

bool tl_att_is_request(const char *line, size_t len)
{
	size_t n = 0;

	while (n < len && line[n] != ' ')
		n++;
	return verb_of(line, n) >= 0;
}

/* The next word of line from *i: its length, 0 at the end. */
static size_t word(const char *line, size_t len, size_t *i, char *out, size_t max)
{
	while (*i < len && line[*i] == ' ')
		(*i)++;
	size_t start = *i;
	while (*i < len && line[*i] != ' ')
		(*i)++;
	size_t n = *i - start;
	if (n >= max)
		n = max - 1;
	memcpy(out, line + start, n);
	out[n] = 0;
	return *i - start;
}

static int number(const char *w, long max, long *out)
{
	char *end;

	if (!*w || *w == '-' || *w == '+')
		return -1;
	errno = 0;
	*out = strtol(w, &end, 10);
	return errno || *end || *out > max ? -1 : 0;
}

static int parse_args(const char *line, size_t len, size_t i, struct tl_att_req *req,
		      char *err, size_t errlen)
{
	char w[64];
	long v;
	struct in_addr in;

	if (req->verb != TL_ATT_LISTEN) {
		if (!word(line, len, &i, w, sizeof w) || inet_pton(AF_INET, w, &in) != 1) {
			snprintf(err, errlen, "EINVAL: '%s' is no IPv4 address", w);
			return -1;
		}
		req->addr = ntohl(in.s_addr);
	}
	if (!word(line, len, &i, w, sizeof w) || number(w, 65535, &v) < 0) {
		snprintf(err, errlen, "EINVAL: '%s' is no %s", w,
			 req->verb == TL_ATT_LISTEN ? "backlog" : "port");
		return -1;
	}
	if (req->verb == TL_ATT_LISTEN)
		req->backlog = (int)v;
	else
		req->port = (uint16_t)v;
	if (req->verb == TL_ATT_INFO) {
		if (!word(line, len, &i, w, sizeof w) || number(w, 65535, &v) < 0) {
			snprintf(err, errlen, "EINVAL: '%s' is no local port", w);
			return -1;
		}
		req->lport = (uint16_t)v;
	}
	while (word(line, len, &i, w, sizeof w)) {
		if (!strcmp(w, "nodelay")) {
			req->nodelay = true;
		} else if (!strcmp(w, "reuseport") && req->verb == TL_ATT_BIND) {
			req->reuseport = true;
		} else {
			snprintf(err, errlen, "EINVAL: unknown flag '%s'", w);
			return -1;
		}
	}
	return 0;
}

int tl_att_parse(const char *line, size_t len, struct tl_att_req *req, char *err, size_t errlen)
{
	char w[64];
	size_t i = 0;

	memset(req, 0, sizeof *req);
	for (size_t k = 0; k < len; k++)
		if ((unsigned char)line[k] < 0x20 || (unsigned char)line[k] > 0x7e) {
			snprintf(err, errlen, "EINVAL: byte 0x%02x at offset %zu is not printable",
				 (unsigned char)line[k], k);
			return -1;
		}
	size_t n = word(line, len, &i, w, sizeof w);
	int v = verb_of(line + i - n, n);
	if (v < 0) {
		snprintf(err, errlen, "EINVAL: unknown request '%s' (bind, listen, connect, udp, info)",
			 w);
		return -1;
	}
	req->verb = (enum tl_att_verb)v;
	return parse_args(line, len, i, req, err, errlen);
}

/* ---- the streams ---- */

enum att_state { AT_REQ, AT_BOUND, AT_LISTEN, AT_CONNECTING, AT_DATA, AT_UDP };

struct att {
	int fd;
	enum att_state st;
	struct tl_attach *a;
	struct tl_tcp *conn;		/* the listener or the connection; NULL once gone */
	struct tl_udp *udp;		/* AT_UDP: its socket */
	uint16_t port;			/* what bind reserved */
	uint32_t addr;			/* and the address it named */
	bool nodelay;
	bool reuseport;			/* SO_REUSEPORT: shares its port with others that set it */
	unsigned turn;			/* a group's listener: whose turn to take a connection */
	bool prog_eof;			/* the program shut down writing */
	bool peer_eof;			/* the peer's FIN, passed on as our SHUT_WR */
	bool hup;			/* the program closed its end */
	bool out_due;			/* the stack has bytes for it: pump at the round's end */
	bool dead;			/* to be freed after this round */
	long pid;
	size_t off, len;		/* of stage: from the stack, not yet written */
	uint8_t stage[STAGE];
};

struct tl_attach {
	tl_stack *s;
	unsigned services;
	bool stopping;
	uint64_t to_progs, from_progs;
	bool due;			/* some stream's out_due is set */
	struct att *at[TL_ATT_MAX];
	int hi;				/* at[hi] and all after it are free: the loops stop there */
	int polled[TL_ATT_MAX];
	int npolled;
};

static const struct tl_tcp_events events;

struct tl_attach *tl_attach_new(tl_stack *s, unsigned services)
{
	struct tl_attach *a = calloc(1, sizeof *a);
	struct rlimit rl;

	/* Two descriptors per connection at most: as many as we may have. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	if (a) {
		a->s = s;
		a->services = services;
	}
	return a;
}

static struct att *att_new(struct tl_attach *a, int fd, enum att_state st)
{
	for (int i = 0; i < TL_ATT_MAX; i++) {
		if (a->at[i])
			continue;
		struct att *t = calloc(1, sizeof *t);
		if (!t)
			return NULL;
		t->fd = fd;
		t->st = st;
		t->a = a;
		a->at[i] = t;
		if (i >= a->hi)
			a->hi = i + 1;
		return t;
	}
	return NULL;
}

static void reply(struct att *t, const char *fmt, ...)
{
	char line[320];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof line - 1 ? (size_t)n : sizeof line - 2;
	line[len++] = '\n';
	(void)!send(t->fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void fail(struct att *t, const char *fmt, ...)
{
	char why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	reply(t, "error: %s", why);
	t->dead = true;
}

static const char *errname(int err)
{
	switch (err) {
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case ENOBUFS: return "ENOBUFS";
	case ENOMEM: return "ENOMEM";
	case EINVAL: return "EINVAL";
	case EISCONN: return "EISCONN";
	default: return "ECONNABORTED";
	}
}

static char *ip_str(uint32_t addr, char *buf)
{
	struct in_addr in = { htonl(addr) };

	return (char *)inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

/* Traffic between our own sockets is the loopback's: 127.0.0.1 to the program. */
static uint32_t shown(const struct tl_attach *a, uint32_t addr)
{
	return addr == tl_stack_config(a->s)->addr ? 0x7f000001u : addr;
}

/* What holds port: NULL if nothing does, else a reason for EADDRINUSE. */
static const char *port_holder(struct tl_attach *a, const struct att *self, uint16_t port,
			       char *why, size_t n)
{
	const char *svc = tl_apps_port_owner(a->services, port);

	if (svc) {
		snprintf(why, n, "port %u is held by tcplab's %s service (tcplab --services "
			 "without %s frees it)", port, svc, svc);
		return why;
	}
	bool shared = false;
	for (int i = 0; i < TL_ATT_MAX; i++) {
		const struct att *t = a->at[i];
		if (!t || t == self || t->dead || t->port != port ||
		    (t->st != AT_BOUND && t->st != AT_LISTEN))
			continue;
		if (!self->reuseport || !t->reuseport) {
			snprintf(why, n, "port %u is held by another program (pid %ld)", port, t->pid);
			return why;
		}
		shared = true;
	}
	if (!shared && tl_tcp_state_of(a->s, &(struct tl_endpoint){ 0, 0 }, port) == TL_LISTEN) {
		snprintf(why, n, "port %u is held by a listener of the stack", port);
		return why;
	}
	return NULL;
}

static bool local_addr(const struct tl_attach *a, uint32_t addr)
{
	return addr == 0 || addr >> 24 == 127 || addr == tl_stack_config(a->s)->addr;
}

static void do_bind(struct att *t, const struct tl_att_req *r)
{
	char why[200], ip[INET_ADDRSTRLEN];

	if (t->st != AT_REQ) {
		fail(t, "EINVAL: the socket is bound already");
		return;
	}
	if (!local_addr(t->a, r->addr)) {
		fail(t, "EADDRNOTAVAIL: %s is not tcplab's address", ip_str(r->addr, ip));
		return;
	}
	t->reuseport = r->reuseport;
	if (r->port && port_holder(t->a, t, r->port, why, sizeof why)) {
		fprintf(stderr, "tcplab: a program (pid %ld) cannot bind: %s\n", t->pid, why);
		fail(t, "EADDRINUSE: %s", why);
		return;
	}
	t->port = r->port;
	t->addr = r->addr;
	t->st = AT_BOUND;
	reply(t, "ok %s %u", ip_str(r->addr, ip), r->port);
}

/* A free port for `listen` after `bind ADDR 0`, or 0. */
static uint16_t pick_port(struct tl_attach *a, const struct att *self)
{
	char why[200];

	for (unsigned i = 0; i < EPH_N; i++) {
		uint16_t p = (uint16_t)(EPH_LO + (i * 7919u + (unsigned)self->fd) % EPH_N);
		if (!port_holder(a, self, p, why, sizeof why))
			return p;
	}
	return 0;
}

/* The index of the next listener of port's SO_REUSEPORT group from index
 * from on (round robin), or -1; not self. */
static int group_next(const struct tl_attach *a, uint16_t port, unsigned from,
		      const struct att *self)
{
	for (unsigned k = 0; k < TL_ATT_MAX; k++) {
		unsigned i = (from + k) % TL_ATT_MAX;
		const struct att *t = a->at[i];
		if (t && t != self && !t->dead && t->st == AT_LISTEN && t->reuseport &&
		    t->port == port)
			return (int)i;
	}
	return -1;
}

/* The group member holding the stack's listener for port, or NULL. */
static struct att *group_holder(struct tl_attach *a, uint16_t port)
{
	for (int i = 0; i < TL_ATT_MAX; i++) {
		struct att *t = a->at[i];
		if (t && !t->dead && t->st == AT_LISTEN && t->reuseport && t->port == port && t->conn)
			return t;
	}
	return NULL;
}

/* A group's listener goes: another member takes the stack's listener over. */
static bool hand_over(struct att *t)
{
	int i = t->reuseport ? group_next(t->a, t->port, 0, t) : -1;

	if (i < 0)
		return false;
	struct att *o = t->a->at[i];
	o->conn = t->conn;
	tl_tcp_set_events(o->conn, &events, o);
	t->conn = NULL;
	return true;
}

static void do_listen(struct att *t, const struct tl_att_req *r)
{
	char ip[INET_ADDRSTRLEN];

	if (t->st != AT_BOUND) {
		fail(t, "EINVAL: listen before bind");
		return;
	}
	if (!t->port && !(t->port = pick_port(t->a, t))) {
		fail(t, "EADDRINUSE: no free port to listen on");
		return;
	}
	int err = t->reuseport && group_holder(t->a, t->port)
			  ? 0 /* SO_REUSEPORT: the group's listener serves this one too */
			  : tl_tcp_listen(t->a->s, t->port, r->backlog > 0 ? r->backlog : 1, &events,
					  t, &t->conn);
	if (err < 0) {
		fail(t, "%s: listen on port %u: %s", errname(-err), t->port, strerror(-err));
		return;
	}
	t->nodelay = r->nodelay;
	t->st = AT_LISTEN;
	reply(t, "ok %s %u", ip_str(t->addr ? t->addr : tl_stack_config(t->a->s)->addr, ip),
	      t->port);
}

static void do_connect(struct att *t, const struct tl_att_req *r)
{
	struct tl_endpoint to = { r->addr, r->port };

	if (t->st != AT_REQ && t->st != AT_BOUND) {
		fail(t, "EISCONN: the socket is connected or listening");
		return;
	}
	/* 127.0.0.0/8 is tcplab's own loopback: the stack's own address. */
	if (to.addr >> 24 == 127)
		to.addr = tl_stack_config(t->a->s)->addr;
	t->nodelay = r->nodelay;
	t->st = AT_CONNECTING;
	int err = tl_tcp_connect_from(t->a->s, t->port, &to, &events, t, &t->conn);
	if (err < 0) {
		t->conn = NULL;
		fail(t, "%s: connect: %s", errname(-err), strerror(-err));
	}
}

static void udp_recv(void *arg, struct tl_udp *u, const struct tl_endpoint *from,
		     const uint8_t *data, size_t len)
{
	struct att *t = arg;
	uint8_t hdr[TL_ATT_UDP_HDR] = { 0 };
	uint32_t addr = htonl(shown(t->a, from->addr));
	uint16_t port = htons(from->port);
	struct iovec iov[2] = { { hdr, sizeof hdr }, { (void *)data, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	(void)u;
	memcpy(hdr, &addr, 4);
	memcpy(hdr + 4, &port, 2);
	/* A full socket buffer drops the datagram, as the kernel's would. */
	(void)!sendmsg(t->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* An ICMP error about a datagram the program sent: a header-only datagram
 * marked as one (src/io/attach.h), which a connected socket turns into errno. */
static void udp_error(void *arg, struct tl_udp *u, const struct tl_endpoint *peer, int err)
{
	struct att *t = arg;
	uint8_t hdr[TL_ATT_UDP_HDR] = { 0 };
	uint32_t addr = htonl(shown(t->a, peer->addr));
	uint16_t port = htons(peer->port);

	(void)u;
	memcpy(hdr, &addr, 4);
	memcpy(hdr + 4, &port, 2);
	hdr[6] = TL_ATT_UDP_ERROR;
	hdr[7] = (uint8_t)err;
	(void)!send(t->fd, hdr, sizeof hdr, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Opens the UDP port (0: the first free one from EPH_LO): 0 or -errno. */
static int udp_open(struct att *t, uint16_t port)
{
	int err = -EADDRINUSE;

	for (unsigned i = 0; i < (port ? 1u : EPH_N) && err == -EADDRINUSE; i++) {
		t->port = port ? port : (uint16_t)(EPH_LO + (i * 7919u + (unsigned)t->fd) % EPH_N);
		err = tl_udp_open(t->a->s, t->port, udp_recv, t, &t->udp);
	}
	if (err == 0)
		tl_udp_set_error(t->udp, udp_error);
	return err;
}

static void do_udp(struct att *t, int passed, const struct tl_att_req *r)
{
	char ip[INET_ADDRSTRLEN];
	const char *svc = tl_apps_port_owner(t->a->services, r->port);

	if (passed < 0 || t->st != AT_REQ) {
		fail(t, "EINVAL: udp needs its socket, on a fresh stream");
		return;
	}
	if (!local_addr(t->a, r->addr)) {
		fail(t, "EADDRNOTAVAIL: %s is not tcplab's address", ip_str(r->addr, ip));
		return;
	}
	int err = udp_open(t, r->port);
	if (err == -EADDRINUSE && svc) {
		fprintf(stderr, "tcplab: a program (pid %ld) cannot bind UDP port %u: held by the "
			"%s service (tcplab --services without %s frees it)\n", t->pid, r->port, svc, svc);
		fail(t, "EADDRINUSE: UDP port %u is held by tcplab's %s service", r->port, svc);
	} else if (err < 0) {
		fail(t, "%s: UDP port %u: %s", errname(-err), r->port, strerror(-err));
	}
	if (err < 0) {
		close(passed);
		return;
	}
	char own[INET_ADDRSTRLEN];
	reply(t, "ok %s %u %s", ip_str(r->addr, ip), t->port,
	      ip_str(tl_stack_config(t->a->s)->addr, own));
	close(t->fd);
	t->fd = passed;
	t->st = AT_UDP;
}

/* Datagrams from the program, a bounded number per round. */
static void pump_udp(struct att *t)
{
	static uint8_t buf[TL_ATT_UDP_HDR + 65536];

	for (int i = 0; i < 64 && !t->dead; i++) {
		ssize_t n = recv(t->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			t->dead = true;
			return;
		}
		if (n < TL_ATT_UDP_HDR)
			continue;
		uint32_t addr;
		uint16_t port;
		memcpy(&addr, buf, 4);
		memcpy(&port, buf + 4, 2);
		struct tl_endpoint to = { ntohl(addr), ntohs(port) };
		if (to.addr >> 24 == 127)
			to.addr = tl_stack_config(t->a->s)->addr; /* our loopback */
		tl_udp_sendto(t->udp, &to, buf + TL_ATT_UDP_HDR, (size_t)n - TL_ATT_UDP_HDR);
	}
}

struct info_find {
	struct tl_endpoint remote;
	uint16_t lport;
	struct tl_tcp_info info;
	bool found;
};

static void info_match(void *arg, const struct tl_tcp *c)
{
	struct info_find *f = arg;
	struct tl_endpoint r = tl_tcp_remote(c);

	if (!f->found && tl_tcp_state(c) != TL_LISTEN && tl_tcp_local(c).port == f->lport &&
	    r.addr == f->remote.addr && r.port == f->remote.port) {
		tl_tcp_info(c, &f->info);
		f->found = true;
	}
}

/* A program's TCP_INFO: the numbers tcplab ss -i shows. */
static void do_info(struct att *t, const struct tl_att_req *r)
{
	struct info_find f = { { r->addr, r->port }, r->lport, { 0 }, false };
	const struct tl_tcp_info *i = &f.info;

	if (f.remote.addr >> 24 == 127)
		f.remote.addr = tl_stack_config(t->a->s)->addr;
	const char *cc = tl_stack_config(t->a->s)->tcp_cc == TL_CC_CUBIC ? "cubic" : "reno";

	tl_tcp_foreach(t->a->s, info_match, &f);
	if (!f.found && r->port) {
		fail(t, "ENOTCONN: no connection from port %u to that peer", r->lport);
		return;
	}
	reply(t, "ok %d %u %u %u %u %u %u %u %llu %u %u %u %s", (int)i->state, i->mss, i->cwnd,
	      i->ssthresh, i->srtt_us, i->rttvar_us, i->rto_us, i->bytes_in_flight,
	      (unsigned long long)i->retrans, i->snd_wnd, i->recv_q, i->send_q, cc);
	t->dead = true;
}

static void handle(struct att *t, int passed, const char *line, size_t len)
{
	struct tl_att_req r;
	char err[200];

	int bad = tl_att_parse(line, len, &r, err, sizeof err);

	if ((bad || r.verb != TL_ATT_UDP) && passed >= 0)
		close(passed);
	if (bad)
		fail(t, "%s", err);
	else if (r.verb == TL_ATT_UDP)
		do_udp(t, passed, &r);
	else if (r.verb == TL_ATT_BIND)
		do_bind(t, &r);
	else if (r.verb == TL_ATT_LISTEN)
		do_listen(t, &r);
	else if (r.verb == TL_ATT_INFO)
		do_info(t, &r);
	else
		do_connect(t, &r);
}

/* The peer's pid, for the log. */
static long peer_pid(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof cr;

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ? -1 : (long)cr.pid;
}

void tl_attach_take(struct tl_attach *a, int fd, int passed, const char *line, size_t len)
{
	struct att *t = att_new(a, fd, AT_REQ);

	if (!t) {
		if (passed >= 0)
			close(passed);
		(void)!send(fd, "error: ENOBUFS: too many programs' sockets\n", 43,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	t->pid = peer_pid(fd);
	handle(t, passed, line, len);
}

/* A request line on a stream not yet carrying data, read up to its newline
 * only (stage holds a line's start until its newline comes). */
static void read_request(struct att *t)
{
	char buf[256];
	size_t room = sizeof buf - t->len;
	ssize_t n = recv(t->fd, buf, room, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		t->dead = true;
		return;
	}
	char *nl = memchr(buf, '\n', (size_t)n);
	size_t take = nl ? (size_t)(nl - buf) + 1 : (size_t)n;
	if (recv(t->fd, t->stage + t->len, take, MSG_DONTWAIT) != (ssize_t)take) {
		t->dead = true;
		return;
	}
	t->len += take;
	if (nl) {
		size_t len = t->len - 1;
		t->len = 0;
		handle(t, -1, (const char *)t->stage, len);
	} else if (t->len == sizeof buf) {
		fail(t, "EINVAL: request longer than %zu bytes", sizeof buf - 1);
	}
}

/* ---- pumping bytes ---- */

/* The program is done with the connection: as the kernel does on close,
 * RST if it left data unread, else FIN after what it wrote. */
static void finish(struct att *t)
{
	if (t->st == AT_LISTEN && t->conn && hand_over(t)) {
		t->dead = true;
		return;
	}
	if (t->conn) {
		if (t->len > t->off || tl_tcp_recv_avail(t->conn))
			tl_tcp_abort(t->conn);
		else
			tl_tcp_close(t->conn);
		t->conn = NULL;
	}
	t->dead = true;
}

static void abort_conn(struct att *t)
{
	if (t->conn)
		tl_tcp_abort(t->conn);
	t->conn = NULL;
	t->dead = true;
}

/* Stack to program: as much as the program's socket takes; what it does
 * not take stays in the stack, whose window closes (RFC 9293 3.8.6.2.2). */
static void pump_out(struct att *t)
{
	while (!t->dead) {
		if (t->off == t->len) {
			t->off = t->len = 0;
			ssize_t n = t->conn ? tl_tcp_recv(t->conn, t->stage, sizeof t->stage) : -EAGAIN;
			if (n == 0 && !t->peer_eof) {
				t->peer_eof = true;
				shutdown(t->fd, SHUT_WR);
				if (t->prog_eof)
					finish(t);
			}
			if (n <= 0)
				return;
			t->len = (size_t)n;
		}
		ssize_t w = send(t->fd, t->stage + t->off, t->len - t->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (w < 0) {
			abort_conn(t); /* RFC 9293 3.10.4: data for a closed program: reset */
			return;
		}
		t->off += (size_t)w;
		t->a->to_progs += (uint64_t)w;
	}
}

/* Program to stack: as much as the send buffer takes. */
static void pump_in(struct att *t)
{
	static uint8_t buf[65536];

	while (!t->dead && t->conn && !t->prog_eof) {
		size_t room = tl_tcp_send_space(t->conn);
		if (room == 0)
			return;
		ssize_t n = read(t->fd, buf, room < sizeof buf ? room : sizeof buf);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			abort_conn(t); /* it closed with our bytes unread: ECONNRESET */
			return;
		}
		if (n > 0) {
			tl_tcp_send(t->conn, buf, (size_t)n);
			t->a->from_progs += (uint64_t)n;
			continue;
		}
		t->prog_eof = true;
		if (t->hup || t->peer_eof)
			finish(t);
		else
			tl_tcp_shutdown(t->conn);
	}
}

/* ---- the stack's events ---- */

/* Hands the program's end fd of connection c to listener l: 0 or -1. */
static int send_conn(struct att *l, struct tl_tcp *c, int fd)
{
	char msg[TL_ATT_MSG_LEN] = { 0 }, pa[INET_ADDRSTRLEN], la[INET_ADDRSTRLEN];
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct tl_endpoint p = tl_tcp_remote(c), me = tl_tcp_local(c);
	struct iovec iov = { msg, sizeof msg };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof u.buf };

	bool loop = p.addr == me.addr;
	snprintf(msg, sizeof msg, "conn %s %u %s %u\n", ip_str(shown(l->a, p.addr), pa), p.port,
		 ip_str(loop ? 0x7f000001u : me.addr, la), me.port);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	return sendmsg(l->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof msg ? 0 : -1;
}

static void ev_accepted(void *arg, struct tl_tcp *listener, struct tl_tcp *c)
{
	struct att *l = arg, *t = NULL;
	int sv[2];

	(void)listener;
	int next = l->reuseport ? group_next(l->a, l->port, l->turn, NULL) : -1;
	if (next >= 0) { /* SO_REUSEPORT: the group's listeners in turn */
		l->turn = (unsigned)next + 1;
		l = l->a->at[next];
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		tl_tcp_abort(c);
		return;
	}
	int sent = (t = att_new(l->a, sv[0], AT_DATA)) ? send_conn(l, c, sv[1]) : -1;
	close(sv[1]);
	/* The program's backlog (its socket's buffer) is full: as a full queue, RST. */
	if (sent < 0) {
		if (t)
			t->dead = true;
		else
			close(sv[0]);
		tl_tcp_abort(c);
		return;
	}
	t->conn = c;
	t->pid = l->pid;
	tl_tcp_set_nodelay(c, l->nodelay);
	tl_tcp_set_events(c, &events, t);
}

static void ev_connected(void *arg, struct tl_tcp *c)
{
	struct att *t = arg;
	char ip[INET_ADDRSTRLEN];
	struct tl_endpoint me = tl_tcp_local(c);

	tl_tcp_set_nodelay(c, t->nodelay);
	t->st = AT_DATA;
	bool loop = tl_tcp_remote(c).addr == me.addr;
	reply(t, "ok %s %u", ip_str(loop ? 0x7f000001u : me.addr, ip), me.port);
}

/* Bytes arrived: written to the program once per round, after the whole
 * batch of packets, not once per segment (a system call each); at once when
 * 64 KiB wait, so that the stack's window does not close while the
 * program's socket still has room. */
static void ev_readable(void *arg, struct tl_tcp *c)
{
	struct att *t = arg;

	if (tl_tcp_recv_avail(c) >= 4 * STAGE) {
		t->out_due = false;
		pump_out(t);
	} else {
		t->out_due = t->a->due = true;
	}
}

static void ev_closed(void *arg, struct tl_tcp *c, int err)
{
	struct att *t = arg;

	(void)c;
	if (t->out_due) { /* what arrived before the end goes to the program first */
		t->out_due = false;
		pump_out(t);
	}
	t->conn = NULL;
	if (t->st == AT_CONNECTING)
		fail(t, "%s: connect: %s", errname(-err), strerror(-err));
	else if (t->st != AT_DATA || t->off == t->len)
		t->dead = true;
	/* else: what is staged is written first (pump_out), then the stream closes */
}

static const struct tl_tcp_events events = {
	.accepted = ev_accepted,
	.connected = ev_connected,
	.readable = ev_readable,
	.closed = ev_closed,
};

/* ---- the loop's side ---- */

static short wanted(const struct att *t)
{
	switch (t->st) {
	case AT_CONNECTING:
		return 0;
	case AT_UDP:
		return POLLIN;
	case AT_DATA:
		return (short)((t->conn && !t->prog_eof && tl_tcp_send_space(t->conn) ? POLLIN : 0) |
			       (t->off < t->len ? POLLOUT : 0));
	default:
		return POLLIN;
	}
}

int tl_attach_pollfds(struct tl_attach *a, struct pollfd *p, int max)
{
	int n = 0;

	for (int i = 0; i < a->hi && n < max; i++) {
		struct att *t = a->at[i];
		if (!t)
			continue;
		short ev = wanted(t);
		/* Closed by the program but its bytes wait for room: no POLLHUP spin. */
		p[n] = (struct pollfd){ .fd = t->hup && !ev ? -1 : t->fd, .events = ev };
		a->polled[n++] = i;
	}
	a->npolled = n;
	return n;
}

static void serve_one(struct att *t, short rev)
{
	if (rev & (POLLHUP | POLLERR))
		t->hup = true;
	switch (t->st) {
	case AT_REQ:
	case AT_BOUND:
		read_request(t);
		break;
	case AT_LISTEN:
	case AT_CONNECTING:
		/* The program closed it (or sent bytes it may not send here). */
		finish(t);
		break;
	case AT_UDP:
		pump_udp(t);
		if (t->hup)
			t->dead = true;
		break;
	case AT_DATA:
		pump_in(t);
		pump_out(t);
		if (t->hup && t->prog_eof)
			finish(t);
		if (!t->conn && t->off == t->len)
			t->dead = true;
		break;
	}
}

static void reap(struct tl_attach *a)
{
	for (int i = 0; i < a->hi; i++) {
		struct att *t = a->at[i];
		if (!t || !t->dead)
			continue;
		if (t->conn)
			tl_tcp_abort(t->conn);
		if (t->udp)
			tl_udp_close(t->udp);
		close(t->fd);
		free(t);
		a->at[i] = NULL;
	}
	while (a->hi && !a->at[a->hi - 1])
		a->hi--;
}

void tl_attach_serve(struct tl_attach *a, const struct pollfd *p, int n)
{
	for (int i = 0; i < n && i < a->npolled; i++) {
		struct att *t = a->at[a->polled[i]];
		if (t && !t->dead && p[i].revents)
			serve_one(t, p[i].revents);
	}
	for (int i = 0; a->due && i < a->hi; i++) {
		struct att *t = a->at[i];
		if (t && t->out_due && !t->dead) {
			t->out_due = false;
			pump_out(t);
		}
	}
	a->due = false;
	reap(a);
}

void tl_attach_stats(const struct tl_attach *a, struct tl_attach_stats *out)
{
	*out = (struct tl_attach_stats){ 0, 0, a->to_progs, a->from_progs };
	for (int i = 0; i < TL_ATT_MAX; i++)
		if (a->at[i]) {
			out->streams++;
			out->staged += a->at[i]->len - a->at[i]->off;
		}
}

void tl_attach_free(struct tl_attach *a)
{
	if (!a)
		return;
	for (int i = 0; i < TL_ATT_MAX; i++)
		if (a->at[i]) {
			a->at[i]->dead = true;
			a->at[i]->conn = NULL;
			a->at[i]->udp = NULL; /* the stack freed it */
		}
	reap(a);
	free(a);
}
