/* `tcplab run [--tun NAME] -- COMMAND [ARGS...]`: COMMAND's IPv4 sockets on
 * the tcplab of this network namespace, through libtcplab-preload.so. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"

#define PRELOAD_NAME "libtcplab-preload.so"

static const char run_usage[] =
	"usage: tcplab run [--tun NAME] -- COMMAND [ARGS...]\n"
	"Runs COMMAND with its IPv4 sockets (TCP; AF_INET6 with IPv4-mapped\n"
	"addresses too) on the tcplab running in this network namespace: tcplab\n"
	"is its host (its TUN address, 127.0.0.0/8 and 0.0.0.0). Other sockets stay\n"
	"the kernel's. The exit status is COMMAND's.\n"
	"\n"
	"  --tun NAME            the tcplab on device NAME, where several run\n"
	"  -h, --help            this help\n"
	"Only the user running tcplab, and root, may attach.\n";

/* The library beside this binary (a build directory), else the installed one. */
static int find_preload(char *out, size_t n)
{
	char self[PATH_MAX - 64];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);

	if (len > 0) {
		self[len] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(out, n, "%s/%s", self, PRELOAD_NAME);
			if (access(out, R_OK) == 0)
				return 0;
		}
	}
	snprintf(out, n, "%s", TL_PRELOAD_INSTALLED);
	return access(out, R_OK) == 0 ? 0 : -1;
}

static int set_env(const char *tun, const char *lib)
{
	char sock[64], pre[PATH_MAX + 1024];
	const char *old = getenv("LD_PRELOAD");

	snprintf(sock, sizeof sock, "tcplab/%s", tun);
	if (old && *old)
		snprintf(pre, sizeof pre, "%s:%s", lib, old);
	else
		snprintf(pre, sizeof pre, "%s", lib);
	return setenv(TL_RUN_ENV, sock, 1) || setenv("LD_PRELOAD", pre, 1) ? -1 : 0;
}

int tl_run_command(int argc, char **argv)
{
	const char *want = NULL;
	char tun[32], lib[PATH_MAX];
	int i = 1;

	for (; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(run_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--tun") && i + 1 < argc) {
			want = argv[++i];
		} else if (!strncmp(argv[i], "--tun=", 6)) {
			want = argv[i] + 6;
		} else if (argv[i][0] != '-') {
			break; /* the command, without "--" */
		} else {
			fprintf(stderr, "tcplab run: unknown option '%s' (see tcplab run --help)\n",
				argv[i]);
			return 2;
		}
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i == argc) {
		fprintf(stderr, "tcplab run: no command (usage: tcplab run [--tun NAME] -- COMMAND)\n");
		return 2;
	}
	int r = tl_ctl_pick(want, tun);
	if (r)
		return r;
	if (find_preload(lib, sizeof lib) < 0) {
		fprintf(stderr, "tcplab run: %s is neither beside tcplab nor at %s\n", PRELOAD_NAME,
			TL_PRELOAD_INSTALLED);
		return 1;
	}
	if (set_env(tun, lib) < 0) {
		fprintf(stderr, "tcplab run: setenv: %s\n", strerror(errno));
		return 1;
	}
	execvp(argv[i], argv + i);
	fprintf(stderr, "tcplab run: %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
