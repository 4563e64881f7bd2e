/*
 * Fuzz target: the control channel's requests (src/io/control.c), as
 * tcplab reads them. The first byte sets how many bytes each read brings
 * (1..32); the rest is what one client after another sends: each request
 * line ends a client, the next bytes are the next one's. Every accepted
 * request is answered (ss, from a stack with its services); every refusal
 * must be one printable line. Requests of programs' sockets (tcplab run:
 * bind, listen, connect, udp) go to their own parser (src/io/attach.c),
 * whose refusals must also name an errno.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "control.h"
#include "fuzz_target.h"
#include "tcplab/apps.h"

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_control: %s\n", what);
	abort();
}

static void discard(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)pkt, (void)len;
}

static tl_stack *services(void)
{
	static tl_stack *s;
	struct tl_config cfg;

	if (s)
		return s;
	tl_config_defaults(&cfg);
	cfg.output = discard;
	s = tl_stack_new(&cfg);
	if (!s || tl_apps_start(s) < 0)
		fail("cannot start a stack");
	return s;
}

static bool printable(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return false;
	return true;
}

static void answer(const struct tl_ctl_req *req)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);

	if (!f)
		return;
	if (req->verb == TL_CTL_SS && tl_ss_print(f, services(), req->info, req->json) < 0)
		fail("ss failed");
	fclose(f);
	if (req->verb == TL_CTL_SS && req->json && (len < 3 || body[0] != '[' || strcmp(body + len - 2, "]\n")))
		fail("ss --json is not one array");
	free(body);
}

/* A program's socket request: parsed, or refused as "ENAME: why". */
static void attach_request(const struct tl_ctl_inbuf *b)
{
	struct tl_att_req req;
	char err[200];

	memset(err, 0, sizeof err);
	if (tl_att_parse(b->buf, b->len, &req, err, sizeof err) < 0) {
		size_t n = strlen(err);
		if (n < 3 || err[0] != 'E' || !strchr(err, ':') || !printable(err, n))
			fail("an attach refusal that is not one printable 'ENAME: why' line");
		return;
	}
	if (!printable(b->buf, b->len))
		fail("accepted an attach request with an unprintable byte");
	if (req.verb > TL_ATT_INFO || req.backlog < 0 || req.backlog > 65535)
		fail("accepted an attach request with no verb or a bad backlog");
}

/* One complete line: accepted and answered, or refused with a good reason. */
static void request(const struct tl_ctl_inbuf *b)
{
	struct tl_ctl_req req;
	char err[200];

	if (tl_att_is_request(b->buf, b->len)) {
		attach_request(b);
		return;
	}

	if (b->buf[b->len] != 0 || memchr(b->buf, '\n', b->len))
		fail("the line is not the bytes before its newline");
	memset(err, 0, sizeof err);
	if (tl_ctl_parse(b->buf, b->len, &req, err, sizeof err) < 0) {
		size_t n = strlen(err);
		if (n == 0 || !printable(err, n))
			fail("a refusal that is not one printable line");
		return;
	}
	if (!printable(b->buf, b->len))
		fail("accepted a request with an unprintable byte");
	if ((req.verb != TL_CTL_SS && req.verb != TL_CTL_STATS) || (req.verb == TL_CTL_STATS && req.info))
		fail("accepted a request that names no verb, or stats with info");
	answer(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tl_ctl_inbuf b = { .len = 0 };

	if (size < 1)
		return 0;
	size_t step = 1 + data[0] % 32, i = 1;
	while (i < size) {
		size_t n = size - i < step ? size - i : step;
		size_t before = b.len;
		int r = tl_ctl_feed(&b, (const char *)data + i, n);
		if (r < 0 && b.len != sizeof b.buf)
			fail("refused a line shorter than TL_CTL_REQ_MAX");
		if (r == 0) {
			i += n;
			continue;
		}
		if (r > 0)
			request(&b);
		/* The next client starts after this one's newline (or its excess). */
		i += r > 0 ? b.len - before + 1 : n;
		b.len = 0;
	}
	return 0;
}
