/*
 * The control channel: how `tcplab ss` and `tcplab stats` reach the running
 * tcplab. Each tcplab listens on the abstract UNIX socket "@tcplab/<tun>";
 * abstract names belong to the network namespace, so a client finds the
 * tcplabs of its own namespace in /proc/net/unix, with no configuration.
 *
 * Protocol (docs/architecture.md): the client sends one request line of at
 * most TL_CTL_REQ_MAX bytes, newline included: "ss [info] [json]" or
 * "stats [json]". The answer is "ok LEN\n" and LEN bytes of body, or one
 * line "error: WHY\n"; then tcplab closes the connection.
 */
#ifndef TL_CONTROL_H
#define TL_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "tcplab/stack.h"

#define TL_CTL_PREFIX "tcplab/"
#define TL_CTL_REQ_MAX 256		/* a request line, newline included */
#define TL_CTL_CLIENTS 8		/* requests served at once */
#define TL_CTL_TIMEOUT_MS 10000		/* a client's whole time, request to answer */
#define TL_CTL_RESP_MAX (64u << 20)	/* an answer's bytes */

enum tl_ctl_verb { TL_CTL_SS, TL_CTL_STATS };

struct tl_ctl_req {
	enum tl_ctl_verb verb;
	bool info;			/* ss: cwnd, rtt, ... per connection */
	bool json;
};

/* A request line as it arrives, in pieces. */
struct tl_ctl_inbuf {
	char buf[TL_CTL_REQ_MAX];
	size_t len;
};

/* Appends n bytes: 1 once buf holds a whole line (its newline replaced by
 * NUL, len its length; later bytes are ignored), 0 for more, -1 when
 * TL_CTL_REQ_MAX bytes came without a newline. */
int tl_ctl_feed(struct tl_ctl_inbuf *b, const char *data, size_t n);
/* Parses a request line without its newline: 0, or -1 with a one-line
 * reason in err. */
int tl_ctl_parse(const char *line, size_t len, struct tl_ctl_req *req, char *err,
		 size_t errlen);
/* The address of the tcplab on device tun; returns its length. */
socklen_t tl_ctl_addr(const char *tun, struct sockaddr_un *sa);

/* Writes the body of the answer to req: NULL, or why there is none. */
typedef const char *(*tl_ctl_answer_fn)(void *ctx, const struct tl_ctl_req *req, FILE *out);

struct tl_ctl;
/* Listens for the tcplab on tun; NULL with a reason in err. */
struct tl_ctl *tl_ctl_open(const char *tun, tl_ctl_answer_fn answer, void *ctx, char *err,
			   size_t errlen);
/* Fills at most 1 + TL_CTL_CLIENTS entries of p; returns how many. */
int tl_ctl_pollfds(struct tl_ctl *c, struct pollfd *p);
/* Serves what the n entries of p (as tl_ctl_pollfds filled them) report. */
void tl_ctl_serve(struct tl_ctl *c, const struct pollfd *p, int n, tl_time now);
/* When a client's time runs out, or TL_TIME_NEVER. */
tl_time tl_ctl_deadline(const struct tl_ctl *c);
void tl_ctl_free(struct tl_ctl *c);
struct tl_attach;
/* Requests of programs' sockets (attach.h) go to a; without it they are errors. */
void tl_ctl_set_attach(struct tl_ctl *c, struct tl_attach *a);
/* Answers programs' requests "error: EOPNOTSUPP: why" (--queues N). */
void tl_ctl_refuse_attach(struct tl_ctl *c, const char *why);

/* `tcplab ss` and `tcplab stats` (ctl_client.c): the exit status, or -1
 * if argv[1] names no subcommand. */
int tl_subcommand(int argc, char **argv);
/* Picks the tcplab to attach to (want: --tun or NULL) into tun, at least
 * 16 bytes: 0, or an exit status after a one-line error. */
int tl_ctl_pick(const char *want, char *tun);
/* `tcplab run` (run.c): argv[0] is "run"; returns only on an error. */
int tl_run_command(int argc, char **argv);
/* The variable naming the control socket for libtcplab-preload.so. */
#define TL_RUN_ENV "TCPLAB_SOCKET"

/* The bodies of the answers (ss.c): the sockets of s, as `ss -tuan`;
 * -1 if memory is short. */
int tl_ss_print(FILE *out, tl_stack *s, bool info, bool json);

#endif
