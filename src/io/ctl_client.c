/* `tcplab ss` and `tcplab stats`: find the tcplab of this network namespace
 * (its control socket in /proc/net/unix), ask, print the answer. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "control.h"

#define MAX_FOUND 32
#define ANSWER_TIMEOUT_S 15
#define NAME_MAX_LEN 15			/* IFNAMSIZ - 1 */
#define LISTENING 0x10000		/* __SO_ACCEPTCON in /proc/net/unix's Flags */

static const char ss_usage[] =
	"usage: tcplab ss [-i] [--json] [--tun NAME]\n"
	"The sockets of the tcplab running in this network namespace, as ss -tuan\n"
	"shows the kernel's: state, receive and send queue, local and peer address.\n"
	"Recv-Q is bytes received and not yet read (a listener: connections being\n"
	"set up), Send-Q bytes not yet acknowledged (a listener: its backlog).\n"
	"\n"
	"  -i, --info            also, per TCP connection: mss, cwnd, ssthresh, rtt\n"
	"                        (srtt/rttvar), rto, bytes_in_flight, retrans\n"
	"                        (segments sent again) and snd_wnd (the peer's\n"
	"                        window); sizes in bytes (B), times in milliseconds\n"
	"  --json                a JSON array of one object per socket with every\n"
	"                        field, -i or not (bytes; srtt, rttvar, rto in ms)\n"
	"  --tun NAME            the tcplab on device NAME, where several run\n"
	"  -h, --help            this help\n"
	"Only the user running tcplab, and root, may ask.\n";

static const char stats_usage[] =
	"usage: tcplab stats [--json] [--tun NAME]\n"
	"The counters of the tcplab running in this network namespace, as SIGUSR1\n"
	"prints them: every protocol event and drop reason, netstat -s style.\n"
	"\n"
	"  --json                one JSON object, counter name to value\n"
	"  --tun NAME            the tcplab on device NAME, where several run\n"
	"  -h, --help            this help\n"
	"Only the user running tcplab, and root, may ask.\n";

struct sub_opts {
	const char *cmd;		/* "ss" or "stats" */
	const char *tun;
	bool info, json;
};

static int usage_error(const struct sub_opts *o, const char *fmt, const char *arg)
{
	fprintf(stderr, "tcplab %s: ", o->cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see tcplab %s --help)\n", o->cmd);
	return 2;
}

static bool valid_name(const char *n)
{
	size_t len = strlen(n);

	return len > 0 && len <= NAME_MAX_LEN && !strpbrk(n, "/: \t\n");
}

/* 0 to go on, 1 after --help, 2 after a usage error. */
static int parse(int argc, char **argv, struct sub_opts *o)
{
	bool ss = !strcmp(o->cmd, "ss");

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(ss ? ss_usage : stats_usage, stdout);
			return 1;
		} else if (ss && (!strcmp(a, "-i") || !strcmp(a, "--info"))) {
			o->info = true;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strncmp(a, "--tun=", 6)) {
			o->tun = a + 6;
		} else if (!strcmp(a, "--tun")) {
			if (i + 1 == argc)
				return usage_error(o, "%s needs a value", a);
			o->tun = argv[++i];
		} else {
			return usage_error(o, "unknown option '%s'", a);
		}
	}
	if (o->tun && !valid_name(o->tun))
		return usage_error(o, "bad device name '%s' for --tun", o->tun);
	return 0;
}

/* The devices of the tcplabs listening in this network namespace. */
static int find_running(char found[][NAME_MAX_LEN + 1], int max)
{
	static const char prefix[] = "@" TL_CTL_PREFIX;
	char line[512], path[256];
	unsigned long flags;
	int n = 0;
	FILE *f = fopen("/proc/net/unix", "r");

	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof line, f)) {
		/* Num RefCount Protocol Flags Type St Inode Path */
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %255s", &flags, path) != 2 ||
		    !(flags & LISTENING) || strncmp(path, prefix, sizeof prefix - 1))
			continue;
		const char *name = path + sizeof prefix - 1;
		if (!valid_name(name))
			continue;
		bool dup = false;
		for (int i = 0; i < n && !dup; i++)
			dup = !strcmp(found[i], name);
		if (!dup)
			strcpy(found[n++], name);
	}
	fclose(f);
	return n;
}

/* Picks the tcplab to ask: 0, or an exit status after a one-line error. */
static int pick(const struct sub_opts *o, char *tun)
{
	char found[MAX_FOUND][NAME_MAX_LEN + 1], list[MAX_FOUND * (NAME_MAX_LEN + 2)] = "";

	if (o->tun) {
		strcpy(tun, o->tun);
		return 0;
	}
	int n = find_running(found, MAX_FOUND);
	if (n < 0) {
		fprintf(stderr, "tcplab: cannot read /proc/net/unix: %s\n", strerror(errno));
		return 1;
	}
	if (n == 0) {
		fprintf(stderr, "tcplab: no tcplab is running in this network namespace\n");
		return 1;
	}
	if (n == 1) {
		strcpy(tun, found[0]);
		return 0;
	}
	for (int i = 0; i < n; i++)
		strcat(strcat(list, i ? ", " : ""), found[i]);
	fprintf(stderr, "tcplab: %d tcplabs run in this network namespace (%s): pick one with --tun NAME\n",
		n, list);
	return 2;
}

/* A connected socket to the tcplab on tun, or -1 after a one-line error. */
static int dial(const char *tun, bool named)
{
	struct sockaddr_un sa;
	socklen_t len = tl_ctl_addr(tun, &sa);
	struct timeval tv = { ANSWER_TIMEOUT_S, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fprintf(stderr, "tcplab: socket: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, len) == 0)
		return fd;
	if (errno == ECONNREFUSED || errno == ENOENT)
		fprintf(stderr, "tcplab: no tcplab is running on %s in this network namespace%s\n",
			tun, named ? "" : " (it just stopped?)");
	else
		fprintf(stderr, "tcplab: connecting to the tcplab on %s: %s\n", tun, strerror(errno));
	close(fd);
	return -1;
}

static int read_failed(const char *tun, ssize_t n)
{
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		fprintf(stderr, "tcplab: the tcplab on %s did not answer within %d s\n", tun,
			ANSWER_TIMEOUT_S);
	else if (n < 0)
		fprintf(stderr, "tcplab: reading the answer of the tcplab on %s: %s\n", tun,
			strerror(errno));
	else
		fprintf(stderr, "tcplab: the tcplab on %s closed without an answer\n", tun);
	return 1;
}

/* Reads "ok LEN" or "error: WHY" into line; returns bytes read past it
 * (they begin the body, left in body), or -1 after a one-line error. */
static ssize_t read_status(int fd, const char *tun, char *line, size_t max, char *body)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = read(fd, line + got, max - 1 - got);
		if (n <= 0) {
			read_failed(tun, n);
			return -1;
		}
		got += (size_t)n;
		char *nl = memchr(line, '\n', got);
		if (nl) {
			size_t rest = got - (size_t)(nl + 1 - line);
			memcpy(body, nl + 1, rest);
			*nl = 0;
			return (ssize_t)rest;
		}
		if (got == max - 1) {
			fprintf(stderr, "tcplab: the tcplab on %s sent a status line over %zu bytes\n",
				tun, max - 1);
			return -1;
		}
	}
}

/* Copies the body of LEN bytes to stdout: the exit status. */
static int copy_body(int fd, const char *tun, char *buf, size_t have, unsigned long long len)
{
	unsigned long long got = have;

	fwrite(buf, 1, have, stdout);
	while (got < len) {
		ssize_t n = read(fd, buf, 65536);
		if (n <= 0) {
			fflush(stdout);
			if (n < 0)
				return read_failed(tun, n);
			fprintf(stderr, "tcplab: the answer of the tcplab on %s was cut short "
				"(%llu of %llu bytes)\n", tun, got, len);
			return 1;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		got += (unsigned long long)n;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static int ask(const struct sub_opts *o, const char *tun)
{
	char req[64], line[512], *buf = malloc(65536 + sizeof line);
	unsigned long long len;
	int fd = buf ? dial(tun, o->tun != NULL) : -1;

	if (fd < 0) {
		free(buf);
		return 1;
	}
	snprintf(req, sizeof req, "%s%s%s\n", o->cmd, o->info ? " info" : "", o->json ? " json" : "");
	/* A refusal may close the socket first; its answer is still there to read. */
	(void)!send(fd, req, strlen(req), MSG_NOSIGNAL);
	ssize_t rest = read_status(fd, tun, line, sizeof line, buf);
	int status = 1;
	if (rest >= 0 && !strncmp(line, "error: ", 7))
		fprintf(stderr, "tcplab: the tcplab on %s says: %s\n", tun, line + 7);
	else if (rest >= 0 && sscanf(line, "ok %llu", &len) == 1)
		status = copy_body(fd, tun, buf, (size_t)rest, len);
	else if (rest >= 0)
		fprintf(stderr, "tcplab: the tcplab on %s sent a bad status line\n", tun);
	close(fd);
	free(buf);
	return status;
}

int tl_ctl_pick(const char *want, char *tun)
{
	struct sub_opts o = { .cmd = "run", .tun = want };

	char found[MAX_FOUND][NAME_MAX_LEN + 1];

	if (want && !valid_name(want))
		return usage_error(&o, "bad device name '%s' for --tun", want);
	int n = want ? find_running(found, MAX_FOUND) : 0;
	for (int i = 0; i < n; i++)
		if (!strcmp(found[i], want))
			return pick(&o, tun);
	if (want) {
		fprintf(stderr, "tcplab: no tcplab is running on %s in this network namespace\n", want);
		return 1;
	}
	return pick(&o, tun);
}

int tl_subcommand(int argc, char **argv)
{
	struct sub_opts o = { 0 };
	char tun[NAME_MAX_LEN + 1];

	if (argc >= 2 && !strcmp(argv[1], "run"))
		return tl_run_command(argc - 1, argv + 1);
	if (argc < 2 || (strcmp(argv[1], "ss") && strcmp(argv[1], "stats")))
		return -1;
	o.cmd = argv[1];
	int r = parse(argc - 1, argv + 1, &o);
	if (r)
		return r == 1 ? 0 : r;
	r = pick(&o, tun);
	return r ? r : ask(&o, tun);
}
