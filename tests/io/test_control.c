/* The control channel's server (src/io/control.c): requests parsed, fed in
 * pieces, and answered over a real socket, with the time passed in by hand. */
#include <check.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "../check_run.h"

START_TEST(requests_parsed)
{
	static const struct {
		const char *line;
		int ok;
		enum tl_ctl_verb verb;
		bool info, json;
		const char *why;
	} cases[] = {
		{ "ss", 1, TL_CTL_SS, false, false, NULL },
		{ "ss info json", 1, TL_CTL_SS, true, true, NULL },
		{ "  ss   json  info ", 1, TL_CTL_SS, true, true, NULL },
		{ "stats json", 1, TL_CTL_STATS, false, true, NULL },
		{ "stats info", 0, 0, false, false, "unknown flag 'info'" },
		{ "ss -i", 0, 0, false, false, "unknown flag '-i'" },
		{ "SS", 0, 0, false, false, "unknown request 'SS'" },
		{ "", 0, 0, false, false, "empty request" },
		{ "   ", 0, 0, false, false, "empty request" },
		{ "ss\tinfo", 0, 0, false, false, "byte 0x09 at offset 2" },
		{ "ss \x7f", 0, 0, false, false, "byte 0x7f at offset 3" },
	};
	struct tl_ctl_req req;
	char err[200];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = 0;
		int r = tl_ctl_parse(cases[i].line, strlen(cases[i].line), &req, err, sizeof err);
		ck_assert_msg((r == 0) == cases[i].ok, "'%s': parse returned %d (%s)", cases[i].line, r, err);
		if (r == 0)
			ck_assert_msg(req.verb == cases[i].verb && req.info == cases[i].info &&
					      req.json == cases[i].json, "'%s': verb and flags", cases[i].line);
		else
			ck_assert_msg(strstr(err, cases[i].why), "'%s': '%s' lacks '%s'", cases[i].line, err,
				      cases[i].why);
	}
}
END_TEST

START_TEST(lines_fed_in_pieces)
{
	struct tl_ctl_inbuf b = { .len = 0 };
	const char *req = "ss info\nignored";
	char big[TL_CTL_REQ_MAX + 10];

	for (size_t i = 0; i < 7; i++)
		ck_assert_msg(tl_ctl_feed(&b, req + i, 1) == 0, "step 1: byte %zu: more wanted", i);
	ck_assert_msg(tl_ctl_feed(&b, req + 7, strlen(req + 7)) == 1, "step 2: the newline ends it");
	ck_assert_msg(b.len == 7 && !strcmp(b.buf, "ss info"), "step 3: the line without newline");
	memset(big, 'a', sizeof big);
	b.len = 0;
	ck_assert_msg(tl_ctl_feed(&b, big, TL_CTL_REQ_MAX - 1) == 0, "step 4: 255 bytes may end yet");
	ck_assert_msg(tl_ctl_feed(&b, "\n", 1) == 1, "step 5: 255 bytes and a newline are a line");
	b.len = 0;
	ck_assert_msg(tl_ctl_feed(&b, big, sizeof big) == -1, "step 6: 256 bytes and no newline");
}
END_TEST

static const char *answer_hello(void *ctx, const struct tl_ctl_req *req, FILE *out)
{
	(void)ctx;
	fprintf(out, "hello %s%s\n", req->verb == TL_CTL_SS ? "ss" : "stats", req->json ? " json" : "");
	return NULL;
}

static struct tl_ctl *ctl;
static char tun[16];

static void setup(void)
{
	char err[256];

	snprintf(tun, sizeof tun, "tlut%d", (int)getpid() % 100000);
	ctl = tl_ctl_open(tun, answer_hello, NULL, err, sizeof err);
	ck_assert_msg(ctl != NULL, "%s", err);
}

static void teardown(void)
{
	tl_ctl_free(ctl);
}

static int dial(void)
{
	struct sockaddr_un sa;
	socklen_t len = tl_ctl_addr(tun, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

/* One turn of the event loop, at time now. */
static void serve_round(tl_time now)
{
	struct pollfd p[1 + TL_CTL_CLIENTS];
	int n = tl_ctl_pollfds(ctl, p);

	ck_assert_int_ge(poll(p, (nfds_t)n, 10), 0);
	tl_ctl_serve(ctl, p, n, now);
}

/* Serves at time now until the client has its whole answer, for at most
 * rounds turns. */
static void serve_for(int rounds, int fd, tl_time now, char *out, size_t max)
{
	size_t got = 0;

	for (int round = 0; round < rounds; round++) {
		serve_round(now);
		ssize_t r = recv(fd, out + got, max - 1 - got, MSG_DONTWAIT);
		if (r == 0)
			break;
		if (r > 0)
			got += (size_t)r;
	}
	out[got] = 0;
}

static void ask(const char *req, char *out, size_t max)
{
	int fd = dial();

	ck_assert_int_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	serve_for(200, fd, 1000000, out, max);
	close(fd);
}

START_TEST(answers_over_the_socket)
{
	char out[512];

	ask("ss json\n", out, sizeof out);
	ck_assert_msg(!strcmp(out, "ok 14\nhello ss json\n"), "step 1: ss json: '%s'", out);
	ask("stats\n", out, sizeof out);
	ck_assert_msg(!strcmp(out, "ok 12\nhello stats\n"), "step 2: stats: '%s'", out);
	ask("ss fast\n", out, sizeof out);
	ck_assert_msg(!strncmp(out, "error: unknown flag 'fast'", 26) && strchr(out, '\n') == out + strlen(out) - 1,
		      "step 3: one error line: '%s'", out);
	int fd = dial();
	ck_assert_int_eq(send(fd, "ss", 2, MSG_NOSIGNAL), 2);
	serve_for(5, fd, 1000000, out, sizeof out);
	ck_assert_msg(out[0] == 0 && tl_ctl_deadline(ctl) != TL_TIME_NEVER,
		      "step 4: waiting for the rest of the line");
	close(fd);
}
END_TEST

START_TEST(silent_client_timed_out)
{
	char out[128];
	int fd = dial();
	tl_time t0 = 5000000;

	serve_for(5, fd, t0, out, 20);
	ck_assert_msg(out[0] == 0 && tl_ctl_deadline(ctl) == t0 + TL_MS(TL_CTL_TIMEOUT_MS),
		      "step 1: accepted, waiting, deadline set");
	serve_for(200, fd, t0 + TL_MS(TL_CTL_TIMEOUT_MS), out, sizeof out);
	ck_assert_msg(!strcmp(out, "error: no request line within 10 s\n"), "step 2: told: '%s'", out);
	ck_assert_msg(tl_ctl_deadline(ctl) == TL_TIME_NEVER, "step 3: and closed");
	close(fd);
}
END_TEST

START_TEST(busy_past_the_slots)
{
	int fds[TL_CTL_CLIENTS + 1];
	char out[128];

	for (int i = 0; i < TL_CTL_CLIENTS + 1; i++) {
		fds[i] = dial();
		serve_round(1000000);
	}
	serve_for(200, fds[TL_CTL_CLIENTS], 1000000, out, sizeof out);
	ck_assert_msg(!strncmp(out, "error: busy", 11), "step 1: the ninth is told busy: '%s'", out);
	for (int i = 0; i < TL_CTL_CLIENTS + 1; i++)
		close(fds[i]);
	ask("stats json\n", out, sizeof out);
	ck_assert_msg(!strcmp(out, "ok 17\nhello stats json\n"), "step 2: then served again: '%s'", out);
}
END_TEST

static void drop_output(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)pkt, (void)len;
}

/* A stack with no socket at all (--services none, nothing attached): the
 * header alone, in text and JSON (an empty array), and no sort of nothing. */
START_TEST(ss_with_no_socket)
{
	struct tl_config cfg;
	char *buf = NULL;
	size_t len = 0;

	tl_config_defaults(&cfg);
	cfg.addr = 0x0a0a0002u;
	cfg.prefix_len = 24;
	cfg.output = drop_output;
	tl_stack *st = tl_stack_new(&cfg);
	ck_assert_ptr_nonnull(st);
	FILE *f = open_memstream(&buf, &len);
	ck_assert_int_eq(tl_ss_print(f, st, true, false), 0);
	fclose(f);
	ck_assert_msg(strncmp(buf, "Netid", 5) == 0 && !strchr(buf, '\n')[1], "%s", buf);
	free(buf);
	f = open_memstream(&buf, &len);
	ck_assert_int_eq(tl_ss_print(f, st, false, true), 0);
	fclose(f);
	ck_assert_str_eq(buf, "[\n]\n");
	free(buf);
	tl_stack_free(st);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("control");
	TCase *p = tcase_create("parse");
	TCase *t = tcase_create("server");

	tcase_add_test(p, requests_parsed);
	tcase_add_test(p, lines_fed_in_pieces);
	tcase_add_test(p, ss_with_no_socket);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, answers_over_the_socket);
	tcase_add_test(t, silent_client_timed_out);
	tcase_add_test(t, busy_past_the_slots);
	suite_add_tcase(s, p);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
