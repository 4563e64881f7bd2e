#include "netcat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct netcat {
	struct tl_tcp *conn;
	bool connected, stdin_eof, peer_eof, done;
	int status;
};

static void finish(struct netcat *nc, int status)
{
	nc->done = true;
	nc->status = status;
}

static void nc_readable(void *arg, struct tl_tcp *c)
{
	struct netcat *nc = arg;
	uint8_t buf[16384];
	ssize_t n;

	while ((n = tl_tcp_recv(c, buf, sizeof buf)) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
	fflush(stdout);
	if (n == 0 && !nc->peer_eof) {
		nc->peer_eof = true;
		/* Both sides have finished: the teardown can go on without us. */
		if (nc->stdin_eof || tl_tcp_state(c) == TL_TIME_WAIT) {
			tl_tcp_close(c);
			nc->conn = NULL;
			finish(nc, 0);
		}
	}
}

static void nc_connected(void *arg, struct tl_tcp *c)
{
	struct netcat *nc = arg;
	(void)c;
	nc->connected = true;
}

static void nc_closed(void *arg, struct tl_tcp *c, int err)
{
	struct netcat *nc = arg;
	(void)c;
	nc->conn = NULL;
	if (err)
		fprintf(stderr, "tcplab: connection: %s\n", strerror(-err));
	finish(nc, err ? 1 : 0);
}

static const struct tl_tcp_events nc_events = {
	.connected = nc_connected,
	.readable = nc_readable,
	.closed = nc_closed,
};

struct netcat *netcat_start(tl_stack *s, const struct tl_endpoint *to)
{
	struct netcat *nc = calloc(1, sizeof *nc);

	if (!nc)
		return NULL;
	int err = tl_tcp_connect(s, to, &nc_events, nc, &nc->conn);
	if (err < 0) {
		fprintf(stderr, "tcplab: --connect: %s\n", strerror(-err));
		free(nc);
		return NULL;
	}
	return nc;
}

int netcat_fd(const struct netcat *nc)
{
	if (!nc->connected || nc->stdin_eof || !nc->conn || nc->done)
		return -1;
	return tl_tcp_send_space(nc->conn) ? STDIN_FILENO : -1;
}

void netcat_stdin(struct netcat *nc)
{
	uint8_t buf[16384];

	if (netcat_fd(nc) < 0)
		return;
	size_t room = tl_tcp_send_space(nc->conn);
	ssize_t n = read(STDIN_FILENO, buf, room < sizeof buf ? room : sizeof buf);
	if (n > 0) {
		tl_tcp_send(nc->conn, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	nc->stdin_eof = true;
	tl_tcp_shutdown(nc->conn);
	if (nc->peer_eof) {
		tl_tcp_close(nc->conn);
		nc->conn = NULL;
		finish(nc, 0);
	}
}

bool netcat_done(const struct netcat *nc, int *status)
{
	if (nc->done)
		*status = nc->status;
	return nc->done;
}

void netcat_free(struct netcat *nc)
{
	free(nc);
}
