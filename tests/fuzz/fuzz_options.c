/*
 * Fuzz target: the command-line parser. The input is the argument list,
 * arguments separated by NUL bytes (argv[0] is added). What it accepts must
 * be within the documented ranges. Its messages are silenced by libFuzzer
 * (-close_fd_mask=3 in tools/fuzz).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "fuzz_target.h"

#define MAX_ARGS 64

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_options: accepted %s\n", what);
	abort();
}

static bool probability(double p)
{
	return p >= 0 && p <= 1;
}

static bool probabilities_ok(const struct tl_fault_cfg *c)
{
	return probability(c->loss) && probability(c->dup) && probability(c->reorder) &&
	       probability(c->corrupt);
}

static void check_accepted(const struct tl_opts *o)
{
	uint32_t mask = 0xffffffffu << (32 - o->kernel_prefix);

	if (o->mtu < 576 || o->mtu > 65535)
		fail("an MTU out of range");
	if (o->kernel_prefix < 1 || o->kernel_prefix > 30)
		fail("a prefix length out of range");
	if (!o->replay && ((o->addr & mask) != (o->kernel_addr & mask) || o->addr == o->kernel_addr))
		fail("an address outside the kernel's subnet");
	if (o->cfg.tcp_rcvbuf < 1024 || o->cfg.tcp_sndbuf < 1024)
		fail("a buffer below 1024 bytes");
	if (o->window_tol_pct > 100 || (o->tun && strlen(o->tun) >= 16))
		fail("a window tolerance over 100% or a long interface name");
	if (!probabilities_ok(&o->faults_in) || !probabilities_ok(&o->faults_out))
		fail("a probability outside 0..1 (or not a number)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	char *argv[MAX_ARGS + 1] = { "tcplab" };
	int argc = 1;
	struct tl_opts o;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	for (size_t i = 0; i <= size && argc < MAX_ARGS; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	int rc = tl_parse_args(argc, argv, &o);
	if (rc < -1 || rc > 1)
		abort();
	if (rc == 0)
		check_accepted(&o);
	fflush(stdout);
	free(buf);
	return 0;
}
