/* The stack's loopback in virtual time: a connection from the stack to its
 * own address opens, carries bytes both ways and closes without one packet
 * leaving through the output callback. */
#include <check.h>
#include <string.h>

#include "tcplab/socket.h"
#include "tcplab/stack.h"
#include "../check_run.h"

#define ADDR 0x0a0a0002u
#define PORT 65432

static tl_stack *s;
static tl_time now;
static int sent_out, tapped, accepted_n, connected_n;
static struct tl_tcp *server_conn;
static char got_server[64], got_client[64];

static void output(void *ctx, const uint8_t *p, size_t len) { sent_out++; }
static void tap(void *ctx, const uint8_t *p, size_t len) { tapped++; }

static void on_accepted(void *arg, struct tl_tcp *l, struct tl_tcp *c)
{
	accepted_n++;
	server_conn = c;
}

static void on_connected(void *arg, struct tl_tcp *c) { connected_n++; }

static void on_readable(void *arg, struct tl_tcp *c)
{
	char *into = c == server_conn ? got_server : got_client;
	size_t have = strlen(into);
	ssize_t n = tl_tcp_recv(c, into + have, 63 - have);
	if (n > 0)
		into[have + (size_t)n] = 0;
}

static const struct tl_tcp_events ev = {
	.accepted = on_accepted, .connected = on_connected,
	.readable = on_readable,
};

/* Polls while the loopback has packets (it says so with a deadline of now). */
static void run(const char *step)
{
	for (int i = 0; i < 100 && tl_stack_next_deadline(s) <= now; i++)
		tl_stack_poll(s, now);
	ck_assert_msg(tl_stack_next_deadline(s) > now, "%s: the loopback never drained", step);
}

START_TEST(connection_to_ourselves)
{
	struct tl_config c;
	struct tl_tcp *l, *client;

	tl_config_defaults(&c);
	c.addr = ADDR;
	c.prefix_len = 24;
	c.seed = 7;
	c.output = output;
	c.loop_tap = tap;
	s = tl_stack_new(&c);
	now = 1000000;
	ck_assert_int_eq(tl_tcp_listen(s, PORT, 8, &ev, NULL, &l), 0);
	ck_assert_int_eq(tl_tcp_connect(s, &(struct tl_endpoint){ ADDR, PORT }, &ev, NULL, &client), 0);
	run("handshake");
	ck_assert_msg(connected_n == 1 && accepted_n == 1, "handshake: connected %d, accepted %d",
		      connected_n, accepted_n);
	ck_assert_int_eq(tl_tcp_send(client, "Hello Server!", 13), 13);
	run("client sends");
	ck_assert_str_eq(got_server, "Hello Server!");
	ck_assert_int_eq(tl_tcp_send(server_conn, got_server, 13), 13);
	run("server echoes");
	ck_assert_str_eq(got_client, "Hello Server!");
	uint16_t cport = tl_tcp_local(client).port;
	tl_tcp_close(client);
	tl_tcp_close(server_conn);
	run("both close");
	struct tl_endpoint cl = { ADDR, cport };
	enum tl_tcp_state st = tl_tcp_state_of(s, &cl, PORT);
	ck_assert_msg(st == TL_CLOSED || st == TL_TIME_WAIT || st == TL_LISTEN,
		      "both close: the server's side is %s", tl_tcp_state_name(st));
	ck_assert_msg(sent_out == 0, "%d packets left through the output", sent_out);
	ck_assert_msg(tapped >= 9, "the tap saw %d packets, expected the handshake, data, ACKs, FINs",
		      tapped);
	ck_assert_uint_eq(tl_stack_counters(s)->ip_loop_packets, (uint64_t)tapped);
	ck_assert_uint_eq(tl_stack_counters(s)->ip_drop_land, 0);
	tl_stack_free(s);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("loopback");
	TCase *t = tcase_create("loopback");

	tcase_add_test(t, connection_to_ourselves);
	suite_add_tcase(su, t);
	return tl_check_run(su);
}
