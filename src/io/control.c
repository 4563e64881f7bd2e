/* The control channel's server: requests from `tcplab ss` and `tcplab stats`
 * on an abstract UNIX socket, served from the event loop without blocking. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "control.h"

int tl_ctl_feed(struct tl_ctl_inbuf *b, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b->len == sizeof b->buf)
			return -1;
		if (data[i] == '\n') {
			b->buf[b->len] = 0;
			return 1;
		}
		b->buf[b->len++] = data[i];
	}
	return b->len == sizeof b->buf ? -1 : 0;
}

/* Sets one flag of req from a word; -1 if the verb takes no such flag. */
static int set_flag(struct tl_ctl_req *req, const char *w, size_t n)
{
	if (n == 4 && !memcmp(w, "json", 4))
		req->json = true;
	else if (req->verb == TL_CTL_SS && n == 4 && !memcmp(w, "info", 4))
		req->info = true;
	else
		return -1;
	return 0;
}

static int set_verb(struct tl_ctl_req *req, const char *w, size_t n)
{
	if (n == 2 && !memcmp(w, "ss", 2))
		req->verb = TL_CTL_SS;
	else if (n == 5 && !memcmp(w, "stats", 5))
		req->verb = TL_CTL_STATS;
	else
		return -1;
	return 0;
}

int tl_ctl_parse(const char *line, size_t len, struct tl_ctl_req *req, char *err, size_t errlen)
{
	size_t i = 0, words = 0;

	memset(req, 0, sizeof *req);
	for (size_t k = 0; k < len; k++)
		if ((unsigned char)line[k] < 0x20 || (unsigned char)line[k] > 0x7e) {
			snprintf(err, errlen, "byte 0x%02x at offset %zu of the request is not printable",
				 (unsigned char)line[k], k);
			return -1;
		}
	while (i < len) {
		while (i < len && line[i] == ' ')
			i++;
		size_t start = i;
		while (i < len && line[i] != ' ')
			i++;
		if (i == start)
			break;
		int bad = words++ ? set_flag(req, line + start, i - start)
				  : set_verb(req, line + start, i - start);
		if (bad) {
			snprintf(err, errlen, "unknown %s '%.*s' (requests: ss [info] [json], stats [json])",
				 words > 1 ? "flag" : "request", (int)(i - start > 40 ? 40 : i - start),
				 line + start);
			return -1;
		}
	}
	if (words == 0) {
		snprintf(err, errlen, "empty request (requests: ss [info] [json], stats [json])");
		return -1;
	}
	return 0;
}

socklen_t tl_ctl_addr(const char *tun, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	/* An abstract name: sun_path[0] is NUL, the name has no terminator. */
	int n = snprintf(sa->sun_path + 1, sizeof sa->sun_path - 1, "%s%s", TL_CTL_PREFIX, tun);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof sa->sun_path - 1 ? (size_t)n : sizeof sa->sun_path - 2;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

/* ---- the server ---- */

struct client {
	int fd;				/* -1: a free slot */
	tl_time deadline;
	struct tl_ctl_inbuf in;
	char *out;			/* the answer, once there is one */
	size_t out_len, out_off;
	int passed;			/* a descriptor the request carried, or -1 */
};

struct tl_ctl {
	int fd;
	tl_ctl_answer_fn answer;
	void *ctx;
	struct client cl[TL_CTL_CLIENTS];
	int polled[TL_CTL_CLIENTS];	/* the client behind each pollfd after the first */
	int npolled;
	struct tl_attach *att;		/* programs' sockets: tcplab run */
	const char *no_attach;		/* why programs' requests are refused, or NULL */
};

void tl_ctl_refuse_attach(struct tl_ctl *c, const char *why)
{
	c->no_attach = why;
}

void tl_ctl_set_attach(struct tl_ctl *c, struct tl_attach *a)
{
	c->att = a;
}

struct tl_ctl *tl_ctl_open(const char *tun, tl_ctl_answer_fn answer, void *ctx, char *err,
			   size_t errlen)
{
	struct sockaddr_un sa;
	socklen_t len = tl_ctl_addr(tun, &sa);
	struct tl_ctl *c = calloc(1, sizeof *c);

	if (!c) {
		snprintf(err, errlen, "control socket: out of memory");
		return NULL;
	}
	c->answer = answer;
	c->ctx = ctx;
	for (int i = 0; i < TL_CTL_CLIENTS; i++)
		c->cl[i].fd = c->cl[i].passed = -1;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, len) < 0 ||
	    listen(c->fd, TL_CTL_CLIENTS) < 0) {
		snprintf(err, errlen, "control socket @%s%s: %s%s", TL_CTL_PREFIX, tun, strerror(errno),
			 errno == EADDRINUSE ? " (another tcplab on this device here?)" : "");
		tl_ctl_free(c);
		return NULL;
	}
	return c;
}

/* Reads what is left unread (at most a little), so that closing does not
 * reset the connection before the client has read the answer. */
static void drain_close(int fd)
{
	char junk[512];

	for (int i = 0; i < 8 && read(fd, junk, sizeof junk) > 0; i++)
		;
	close(fd);
}

static void client_close(struct client *k)
{
	drain_close(k->fd);
	if (k->passed >= 0)
		close(k->passed);
	free(k->out);
	memset(k, 0, sizeof *k);
	k->fd = k->passed = -1;
}

/* An answer of one line, "error: WHY". */
static void reply_error(struct client *k, const char *fmt, ...)
{
	char line[320];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line + 7, sizeof line - 8, fmt, ap);
	va_end(ap);
	memcpy(line, "error: ", 7);
	size_t len = 7 + (n < 0 ? 0 : (size_t)n < sizeof line - 8 ? (size_t)n : sizeof line - 9);
	line[len++] = '\n';
	free(k->out);
	k->out = malloc(len);
	k->out_len = k->out ? len : 0;
	k->out_off = 0;
	if (k->out)
		memcpy(k->out, line, len);
}

/* The answer's bytes, at most TL_CTL_RESP_MAX. */
struct outbuf {
	char *p;
	size_t len, cap;
	bool over;
};

static ssize_t outbuf_write(void *cookie, const char *data, size_t n)
{
	struct outbuf *b = cookie;

	if (b->over || n > TL_CTL_RESP_MAX - b->len) {
		b->over = true;
		return (ssize_t)n;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->over = true;
			return (ssize_t)n;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return (ssize_t)n;
}

static void answer(struct tl_ctl *c, struct client *k)
{
	struct tl_ctl_req req;
	struct outbuf b = { 0 };
	char err[200];

	if (c->att && tl_att_is_request(k->in.buf, k->in.len)) {
		tl_attach_take(c->att, k->fd, k->passed, k->in.buf, k->in.len);
		memset(k, 0, sizeof *k);
		k->fd = k->passed = -1;
		return;
	}
	if (c->no_attach && tl_att_is_request(k->in.buf, k->in.len)) {
		reply_error(k, "EOPNOTSUPP: %s", c->no_attach);
		return;
	}
	if (tl_ctl_parse(k->in.buf, k->in.len, &req, err, sizeof err) < 0) {
		reply_error(k, "%s", err);
		return;
	}
	FILE *f = fopencookie(&b, "w", (cookie_io_functions_t){ .write = outbuf_write });
	if (!f) {
		reply_error(k, "out of memory");
		return;
	}
	const char *why = c->answer(c->ctx, &req, f);
	fclose(f);
	if (why || b.over) {
		free(b.p);
		if (why)
			reply_error(k, "%s", why);
		else
			reply_error(k, "the answer is longer than %u MiB (or memory is short)",
				    TL_CTL_RESP_MAX >> 20);
		return;
	}
	char hdr[32];
	int h = snprintf(hdr, sizeof hdr, "ok %zu\n", b.len);
	k->out = malloc((size_t)h + b.len);
	if (!k->out) {
		free(b.p);
		reply_error(k, "out of memory");
		return;
	}
	memcpy(k->out, hdr, (size_t)h);
	if (b.len)
		memcpy(k->out + h, b.p, b.len);
	free(b.p);
	k->out_len = (size_t)h + b.len;
	k->out_off = 0;
}

/* Sends what the socket takes; closes once all is sent or on an error. */
static void write_out(struct client *k)
{
	while (k->out_off < k->out_len) {
		ssize_t n = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;
		k->out_off += (size_t)n;
	}
	client_close(k);
}

/* Reads n bytes, keeping a descriptor sent with them (a program's UDP socket). */
static ssize_t recv_passing(struct client *k, char *buf, size_t n)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct iovec iov = { buf, n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof u.buf };
	ssize_t r = recvmsg(k->fd, &mh, MSG_CMSG_CLOEXEC);
	struct cmsghdr *cm = r > 0 ? CMSG_FIRSTHDR(&mh) : NULL;

	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int))) {
		int fd;
		memcpy(&fd, CMSG_DATA(cm), sizeof fd);
		if (k->passed >= 0)
			close(k->passed);
		k->passed = fd;
	} else if (cm && cm->cmsg_type == SCM_RIGHTS) {
		int fds[(sizeof u.buf) / sizeof(int)];
		size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(cm), nfd * sizeof(int));
		for (size_t i = 0; i < nfd; i++)
			close(fds[i]);
	}
	return r;
}

static void read_request(struct tl_ctl *c, struct client *k)
{
	char buf[TL_CTL_REQ_MAX];
	ssize_t n = recv(k->fd, buf, sizeof buf, MSG_PEEK);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* Only up to the newline: a program's bytes may follow its request. */
	char *nl = n > 0 ? memchr(buf, '\n', (size_t)n) : NULL;
	if (n > 0)
		n = recv_passing(k, buf, nl ? (size_t)(nl - buf) + 1 : (size_t)n);
	if (n <= 0) {
		if (n < 0 || k->in.len == 0) {
			client_close(k);
			return;
		}
		reply_error(k, "the request ends without a newline");
	} else {
		int r = tl_ctl_feed(&k->in, buf, (size_t)n);
		if (r == 0)
			return;
		if (r < 0)
			reply_error(k, "request longer than %d bytes", TL_CTL_REQ_MAX - 1);
		else
			answer(c, k);
	}
	if (k->fd < 0)
		return; /* handed over to the programs' sockets */
	if (k->out)
		write_out(k);
	else
		client_close(k);
}

/* Only tcplab's own user and root may ask (SO_PEERCRED). */
static bool peer_allowed(int fd, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof cr;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	*uid = cr.uid;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void refuse_now(int fd, const char *line)
{
	(void)!send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	drain_close(fd);
}

static void accept_one(struct tl_ctl *c, int fd, tl_time now)
{
	struct client *k = NULL;
	uid_t uid = (uid_t)-1;

	for (int i = 0; i < TL_CTL_CLIENTS && !k; i++)
		if (c->cl[i].fd < 0)
			k = &c->cl[i];
	if (!k) {
		refuse_now(fd, "error: busy: every request slot is taken, try again\n");
		return;
	}
	k->fd = fd;
	k->deadline = now + TL_MS(TL_CTL_TIMEOUT_MS);
	if (!peer_allowed(fd, &uid)) {
		reply_error(k, "permission denied: uid %ld may not ask the tcplab of uid %ld "
			    "(only that user and root may)", uid == (uid_t)-1 ? -1L : (long)uid,
			    (long)geteuid());
		write_out(k);
	}
}

/* Clients past their time are told so (if still silent) and closed. */
static void expire(struct tl_ctl *c, tl_time now)
{
	for (int i = 0; i < TL_CTL_CLIENTS; i++) {
		struct client *k = &c->cl[i];
		if (k->fd < 0 || k->deadline > now)
			continue;
		if (!k->out) {
			char line[64];
			snprintf(line, sizeof line, "error: no request line within %d s\n",
				 TL_CTL_TIMEOUT_MS / 1000);
			(void)!send(k->fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		client_close(k);
	}
}

void tl_ctl_serve(struct tl_ctl *c, const struct pollfd *p, int n, tl_time now)
{
	for (int i = 1; i < n && i <= c->npolled; i++) {
		struct client *k = &c->cl[c->polled[i - 1]];
		if (k->fd != p[i].fd || !p[i].revents)
			continue;
		if (!k->out)
			read_request(c, k);
		else if (p[i].revents & (POLLOUT | POLLERR | POLLHUP))
			write_out(k);
	}
	/* A bounded number per round: a flood of connections cannot hold the loop. */
	for (int i = 0; n > 0 && (p[0].revents & POLLIN) && i < TL_CTL_CLIENTS + 1; i++) {
		int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		accept_one(c, fd, now);
	}
	expire(c, now);
}

int tl_ctl_pollfds(struct tl_ctl *c, struct pollfd *p)
{
	int n = 1;

	p[0] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	c->npolled = 0;
	for (int i = 0; i < TL_CTL_CLIENTS; i++) {
		struct client *k = &c->cl[i];
		if (k->fd < 0)
			continue;
		p[n++] = (struct pollfd){ .fd = k->fd, .events = k->out ? POLLOUT : POLLIN };
		c->polled[c->npolled++] = i;
	}
	return n;
}

tl_time tl_ctl_deadline(const struct tl_ctl *c)
{
	tl_time t = TL_TIME_NEVER;

	for (int i = 0; i < TL_CTL_CLIENTS; i++)
		if (c->cl[i].fd >= 0 && c->cl[i].deadline < t)
			t = c->cl[i].deadline;
	return t;
}

void tl_ctl_free(struct tl_ctl *c)
{
	if (!c)
		return;
	for (int i = 0; i < TL_CTL_CLIENTS; i++)
		if (c->cl[i].fd >= 0)
			client_close(&c->cl[i]);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
