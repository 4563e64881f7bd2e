/* Character generator (RFC 864), TCP only: 72-character lines of the 95
 * printable ASCII characters, each line starting one character later. */
#include <errno.h>
#include <stdlib.h>

#include "apps_impl.h"

#define LINE_CHARS 72
#define LINE_LEN (LINE_CHARS + 2)
#define PATTERN_LEN 95

/* All 95 distinct lines, back to back: the stream repeats with this period. */
static uint8_t pattern[PATTERN_LEN * LINE_LEN];

static void build_pattern(void)
{
	for (int line = 0; line < PATTERN_LEN; line++) {
		uint8_t *p = pattern + line * LINE_LEN;
		for (int i = 0; i < LINE_CHARS; i++)
			p[i] = (uint8_t)(' ' + (line + i) % PATTERN_LEN);
		p[LINE_CHARS] = '\r';
		p[LINE_CHARS + 1] = '\n';
	}
}

struct chargen {
	size_t pos; /* offset into pattern of the next byte to send */
};

static void chargen_fill(void *arg, struct tl_tcp *c)
{
	struct chargen *g = arg;
	uint8_t buf[256];

	/* RFC 864: anything the client sends is thrown away. */
	ssize_t r;
	while ((r = tl_tcp_recv(c, buf, sizeof buf)) > 0)
		;
	if (r == 0) {
		free(g);
		tl_tcp_close(c);
		return;
	}
	for (;;) {
		size_t n = sizeof pattern - g->pos;
		ssize_t sent = tl_tcp_send(c, pattern + g->pos, n);
		if (sent <= 0)
			return;
		g->pos = (g->pos + (size_t)sent) % sizeof pattern;
	}
}

static void chargen_closed(void *arg, struct tl_tcp *c, int err)
{
	(void)c, (void)err;
	free(arg);
}

static const struct tl_tcp_events chargen_conn_events = {
	.readable = chargen_fill,
	.writable = chargen_fill,
	.closed = chargen_closed,
};

static void chargen_accepted(void *arg, struct tl_tcp *l, struct tl_tcp *c)
{
	(void)arg, (void)l;
	struct chargen *g = calloc(1, sizeof *g);
	if (!g) {
		tl_tcp_abort(c);
		return;
	}
	tl_tcp_set_events(c, &chargen_conn_events, g);
	chargen_fill(g, c);
}

static const struct tl_tcp_events chargen_listen_events = {
	.accepted = chargen_accepted,
};

int chargen_start(tl_stack *s, uint16_t port)
{
	struct tl_tcp *l;

	if (pattern[0] == 0)
		build_pattern();
	return tl_tcp_listen(s, port, 128, &chargen_listen_events, NULL, &l);
}
