/* The walk over sockets and tl_tcp_info, in virtual time: two stacks wired
 * back to back, the client (10.10.0.1, no services) and the server
 * (10.10.0.2, the usual services), through the public API only. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/apps.h"
#include "tcplab/socket.h"
#include "tcplab/stack.h"
#include "../check_run.h"

#define CLIENT 0x0a0a0001u
#define SERVER 0x0a0a0002u
#define QMAX 1024
#define PKT_MAX 1500

/* Packets one stack sent that the other has not been given yet. */
struct queue {
	uint8_t (*pkt)[PKT_MAX];
	size_t len[QMAX];
	int n;
	int drop;			/* drop this many of the next packets */
};

static struct queue to_server, to_client;
static tl_stack *client, *server;
static tl_time now;

static void enqueue(void *ctx, const uint8_t *p, size_t len)
{
	struct queue *q = ctx;

	ck_assert_uint_le(len, PKT_MAX);
	ck_assert_int_lt(q->n, QMAX);
	if (q->drop > 0) {
		q->drop--;
		return;
	}
	memcpy(q->pkt[q->n], p, len);
	q->len[q->n++] = len;
}

static tl_stack *new_stack(uint32_t addr, struct queue *out)
{
	struct tl_config c;

	tl_config_defaults(&c);
	c.addr = addr;
	c.prefix_len = 24;
	c.seed = addr;
	c.output = enqueue;
	c.output_ctx = out;
	tl_stack *s = tl_stack_new(&c);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void setup(void)
{
	to_server = (struct queue){ .pkt = malloc(QMAX * PKT_MAX) };
	to_client = (struct queue){ .pkt = malloc(QMAX * PKT_MAX) };
	ck_assert(to_server.pkt && to_client.pkt);
	now = 1000000;
	client = new_stack(CLIENT, &to_server);
	server = new_stack(SERVER, &to_client);
	ck_assert_int_eq(tl_apps_start(server), 0);
}

static void teardown(void)
{
	tl_stack_free(client);
	tl_stack_free(server);
	free(to_server.pkt);
	free(to_client.pkt);
}

/* Hands every queued packet to its stack: a copy first, as the stack may
 * answer (and enqueue) while it reads. */
static void deliver(struct queue *q, tl_stack *to)
{
	static uint8_t copy[QMAX][PKT_MAX];
	static size_t len[QMAX];
	int n = q->n;

	memcpy(copy, q->pkt, (size_t)n * PKT_MAX);
	memcpy(len, q->len, (size_t)n * sizeof len[0]);
	q->n = 0;
	for (int i = 0; i < n; i++)
		tl_stack_input(to, copy[i], len[i], now);
}

/* Runs the wire for ms of virtual time: one millisecond each way. */
static void run_ms(int ms)
{
	for (int i = 0; i < ms; i++) {
		now += 1000;
		deliver(&to_server, server);
		deliver(&to_client, client);
		tl_stack_poll(client, now);
		tl_stack_poll(server, now);
	}
}

/* What a walk saw. */
struct seen {
	int tcp, udp, listeners;
	struct tl_tcp_info info[64];
	uint16_t udp_ports[16];
};

static void see_tcp(void *arg, const struct tl_tcp *c)
{
	struct seen *w = arg;

	ck_assert_int_lt(w->tcp, 64);
	tl_tcp_info(c, &w->info[w->tcp]);
	if (w->info[w->tcp].state == TL_LISTEN)
		w->listeners++;
	w->tcp++;
}

static void see_udp(void *arg, const struct tl_udp *u)
{
	struct seen *w = arg;

	ck_assert_int_lt(w->udp, 16);
	w->udp_ports[w->udp++] = tl_udp_local(u).port;
}

static struct seen walk(tl_stack *s)
{
	struct seen w;

	memset(&w, 0, sizeof w);
	tl_tcp_foreach(s, see_tcp, &w);
	tl_udp_foreach(s, see_udp, &w);
	return w;
}

/* The connection (not listener) walk found on local port lport, or NULL. */
static const struct tl_tcp_info *conn_on(const struct seen *w, uint16_t lport)
{
	for (int i = 0; i < w->tcp; i++)
		if (w->info[i].state != TL_LISTEN && w->info[i].local.port == lport)
			return &w->info[i];
	return NULL;
}

static struct tl_tcp *connect_to(uint16_t port)
{
	static const struct tl_tcp_events no_events;
	struct tl_endpoint to = { SERVER, port };
	struct tl_tcp *c;

	ck_assert_int_eq(tl_tcp_connect(client, &to, &no_events, NULL, &c), 0);
	run_ms(10);
	ck_assert_msg(tl_tcp_state(c) == TL_ESTABLISHED, "the handshake to port %u completes", port);
	return c;
}

START_TEST(services_are_listed)
{
	struct seen w = walk(server);
	bool tcp7 = false, udp7 = false;

	ck_assert_msg(w.tcp == w.listeners && w.listeners >= 5, "step 1: only listeners, 5 or more");
	ck_assert_msg(w.udp >= 3, "step 2: the UDP services");
	for (int i = 0; i < w.tcp; i++) {
		const struct tl_tcp_info *t = &w.info[i];
		ck_assert_msg(t->local.addr == SERVER && t->remote.addr == 0 && t->remote.port == 0,
			      "step 3: a listener is bound to our address, no peer");
		ck_assert_msg(t->recv_q == 0 && t->send_q > 0, "step 4: no half-open, a backlog");
		tcp7 |= t->local.port == 7;
	}
	for (int i = 0; i < w.udp; i++)
		udp7 |= w.udp_ports[i] == 7;
	ck_assert_msg(tcp7 && udp7, "step 5: echo on TCP and UDP port 7");
	w = walk(client);
	ck_assert_msg(w.tcp == 0 && w.udp == 0, "step 6: nothing on a stack without services");
}
END_TEST

START_TEST(connection_info_both_ends)
{
	struct tl_tcp *c = connect_to(9);
	uint16_t cport = tl_tcp_local(c).port;
	char data[3000] = { 0 };

	tl_tcp_set_nodelay(c, true);
	ck_assert_int_eq(tl_tcp_send(c, data, sizeof data), (int)sizeof data);
	struct seen w = walk(client);
	const struct tl_tcp_info *t = conn_on(&w, cport);
	ck_assert_msg(w.tcp == 1 && t, "step 1: the client sees its one connection");
	ck_assert_msg(t->state == TL_ESTABLISHED && t->remote.addr == SERVER && t->remote.port == 9,
		      "step 2: established, to the server's discard port");
	ck_assert_msg(t->send_q == 3000 && t->bytes_in_flight == 3000,
		      "step 3: 3000 bytes queued and sent, none acknowledged (%u, %u)",
		      t->send_q, t->bytes_in_flight);
	ck_assert_msg(t->cwnd == 10 * t->mss && t->ssthresh == UINT32_MAX,
		      "step 4: initial window (RFC 6928), ssthresh not set");
	ck_assert_msg(t->srtt_us >= 1000 && t->rto_us >= 200000,
		      "step 5: an RTT sample from the handshake, RTO at its floor or above");
	ck_assert_msg(t->snd_wnd > 0 && t->retrans == 0, "step 6: the server's window, no resends");
	run_ms(50);
	w = walk(client);
	t = conn_on(&w, cport);
	ck_assert_msg(t->send_q == 0 && t->bytes_in_flight == 0, "step 7: all acknowledged");
	w = walk(server);
	t = conn_on(&w, 9);
	ck_assert_msg(t && t->remote.addr == CLIENT && t->remote.port == cport,
		      "step 8: the server sees the connection from the client's port");
	ck_assert_msg(t->recv_q == 0, "step 9: discard read everything");
}
END_TEST

START_TEST(unread_bytes_are_the_recv_queue)
{
	struct tl_tcp *c = connect_to(19);

	run_ms(50);
	struct seen w = walk(client);
	const struct tl_tcp_info *t = conn_on(&w, tl_tcp_local(c).port);
	ck_assert_msg(t->recv_q > 0 && t->recv_q == tl_tcp_recv_avail(c),
		      "step 1: chargen's unread lines are the receive queue (%u)", t->recv_q);
	w = walk(server);
	t = conn_on(&w, 19);
	ck_assert_msg(t->send_q > 0, "step 2: the server holds more, unacknowledged or unsent");
}
END_TEST

START_TEST(retransmissions_are_counted)
{
	struct tl_tcp *c = connect_to(9);
	uint16_t cport = tl_tcp_local(c).port;

	to_server.drop = 1;
	ck_assert_int_eq(tl_tcp_send(c, "lost once", 9), 9);
	struct seen w = walk(client);
	const struct tl_tcp_info *t = conn_on(&w, cport);
	ck_assert_msg(t->bytes_in_flight == 9 && t->retrans == 0, "step 1: sent, not yet resent");
	uint32_t rto = t->rto_us;
	run_ms((int)(rto / 1000) + 20);
	w = walk(client);
	t = conn_on(&w, cport);
	ck_assert_msg(t->retrans == 1, "step 2: one segment resent after the RTO (%llu)",
		      (unsigned long long)t->retrans);
	ck_assert_msg(t->bytes_in_flight == 0 && t->send_q == 0, "step 3: then acknowledged");
	ck_assert_msg(t->rto_us >= rto, "step 4: RFC 6298 5.5 backed off (or measured again)");
}
END_TEST

START_TEST(time_wait_is_listed)
{
	struct tl_tcp *c = connect_to(7);
	uint16_t cport = tl_tcp_local(c).port;

	tl_tcp_close(c);
	run_ms(100);
	struct seen w = walk(client);
	const struct tl_tcp_info *t = conn_on(&w, cport);
	ck_assert_msg(t && t->state == TL_TIME_WAIT, "step 1: who closed first is in TIME_WAIT");
	ck_assert_msg(t->send_q == 0 && t->recv_q == 0, "step 2: with nothing queued");
	w = walk(server);
	ck_assert_msg(!conn_on(&w, 7), "step 3: the server's side is gone");
	now += TL_MS(2 * tl_stack_config(client)->tcp_msl_ms) + 1000;
	tl_stack_poll(client, now);
	w = walk(client);
	ck_assert_msg(w.tcp == 0, "step 4: RFC 9293 3.10.7.4: gone after 2 MSL");
}
END_TEST

START_TEST(many_connections_each_once)
{
	uint16_t ports[20];

	for (int i = 0; i < 20; i++)
		ports[i] = tl_tcp_local(connect_to(i % 2 ? 7 : 9)).port;
	struct seen w = walk(client);
	ck_assert_msg(w.tcp == 20, "step 1: 20 connections, got %d", w.tcp);
	for (int i = 0; i < 20; i++) {
		int found = 0;
		for (int j = 0; j < w.tcp; j++)
			found += w.info[j].local.port == ports[i];
		ck_assert_msg(found == 1, "step 2: port %u seen once, not %d times", ports[i], found);
	}
	w = walk(server);
	ck_assert_msg(w.tcp - w.listeners == 20, "step 3: the server sees the same 20");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sockets");
	TCase *t = tcase_create("walk");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, services_are_listed);
	tcase_add_test(t, connection_info_both_ends);
	tcase_add_test(t, unread_bytes_are_the_recv_queue);
	tcase_add_test(t, retransmissions_are_counted);
	tcase_add_test(t, time_wait_is_listed);
	tcase_add_test(t, many_connections_each_once);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
