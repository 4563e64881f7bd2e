/* The requests of programs' sockets (src/io/attach.c, tcplab run): parsed
 * or refused with the errno name the preload library maps. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "../check_run.h"

START_TEST(requests_parsed)
{
	static const struct {
		const char *line;
		int ok;
		enum tl_att_verb verb;
		uint32_t addr;
		uint16_t port;
		int backlog;
		bool nodelay;
		const char *why;
	} cases[] = {
		{ "bind 0.0.0.0 65432", 1, TL_ATT_BIND, 0, 65432, 0, false, NULL },
		{ "bind 127.0.0.1 0", 1, TL_ATT_BIND, 0x7f000001, 0, 0, false, NULL },
		{ "listen 128 nodelay", 1, TL_ATT_LISTEN, 0, 0, 128, true, NULL },
		{ "connect 10.10.0.1 80", 1, TL_ATT_CONNECT, 0x0a0a0001, 80, 0, false, NULL },
		{ "  connect  10.10.0.1  80  nodelay ", 1, TL_ATT_CONNECT, 0x0a0a0001, 80, 0, true, NULL },
		{ "connect 10.10.0.1 65536", 0, 0, 0, 0, 0, false, "EINVAL: '65536' is no port" },
		{ "connect 10.10.0.1 -1", 0, 0, 0, 0, 0, false, "is no port" },
		{ "connect 10.10.0.1", 0, 0, 0, 0, 0, false, "'' is no port" },
		{ "connect ::1 80", 0, 0, 0, 0, 0, false, "'::1' is no IPv4 address" },
		{ "bind 1.2.3 80", 0, 0, 0, 0, 0, false, "no IPv4 address" },
		{ "listen x", 0, 0, 0, 0, 0, false, "'x' is no backlog" },
		{ "listen 5 fast", 0, 0, 0, 0, 0, false, "unknown flag 'fast'" },
		{ "accept", 0, 0, 0, 0, 0, false, "unknown request 'accept'" },
		{ "", 0, 0, 0, 0, 0, false, "unknown request ''" },
		{ "bind\t0.0.0.0 1", 0, 0, 0, 0, 0, false, "byte 0x09 at offset 4" },
	};
	struct tl_att_req req;
	char err[200];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = 0;
		int r = tl_att_parse(cases[i].line, strlen(cases[i].line), &req, err, sizeof err);
		ck_assert_msg((r == 0) == cases[i].ok, "'%s': parse returned %d (%s)", cases[i].line, r,
			      err);
		if (r < 0) {
			ck_assert_msg(strstr(err, cases[i].why), "'%s': reason '%s', expected '%s'",
				      cases[i].line, err, cases[i].why);
			continue;
		}
		ck_assert_msg(req.verb == cases[i].verb && req.addr == cases[i].addr &&
			      req.port == cases[i].port && req.backlog == cases[i].backlog &&
			      req.nodelay == cases[i].nodelay, "'%s': parsed wrong", cases[i].line);
	}
}
END_TEST

START_TEST(verbs_recognised)
{
	ck_assert(tl_att_is_request("bind 0.0.0.0 1", 14));
	ck_assert(tl_att_is_request("connect", 7));
	ck_assert(!tl_att_is_request("ss info", 7));
	ck_assert(!tl_att_is_request("bindx", 5));
	ck_assert(!tl_att_is_request("", 0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("attach");
	TCase *p = tcase_create("parse");

	tcase_add_test(p, requests_parsed);
	tcase_add_test(p, verbs_recognised);
	suite_add_tcase(s, p);
	return tl_check_run(s);
}
