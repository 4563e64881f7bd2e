/* The replayer, in Check: a capture made here from a stack with one seed is
 * replayed against a stack with another, so every TCP answer only matches if
 * the sequence numbers are translated; an edited answer is caught at its
 * packet; broken files are refused with a clear error. */
#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check_run.h"
#include "replay.h"
#include "tcplab/apps.h"
#include "tcplab/stack.h"
#include "wire.h"

#define PEER 0x0a0a0001u
#define HOST 0x0a0a0002u

static pcap_dumper_t *dump;
static tl_time clock_us;
static uint32_t first_iss;

static void write_pkt(const uint8_t *p, size_t len)
{
	struct pcap_pkthdr h;

	h.ts.tv_sec = (time_t)(clock_us / 1000000u);
	h.ts.tv_usec = (suseconds_t)(clock_us % 1000000u);
	h.caplen = h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)dump, &h, p);
}

static void host_output(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	if (len >= 40 && p[9] == IP_PROTO_TCP && (p[33] & TCP_SYN))
		first_iss = get32(p + 24);
	write_pkt(p, len);
}

/* The client's side of "hello" to echo: handshake, data, FIN, last ACK. */
static void client_send(tl_stack *s, uint8_t flags, uint32_t seq, uint32_t ack,
			const char *data)
{
	uint8_t pkt[128];
	struct tcp_hdr th;
	size_t n = data ? strlen(data) : 0;

	memset(&th, 0, sizeof th);
	th.sport = 40000;
	th.dport = 7;
	th.seq = seq;
	th.ack = ack;
	th.flags = flags;
	th.wnd = 65535;
	memcpy(pkt + 40, data ? data : "", n);
	tcp_build(pkt + 20, PEER, HOST, &th, 0, n);
	ipv4_build(pkt, PEER, HOST, IP_PROTO_TCP, 20 + n, 1);
	clock_us += 1000;
	write_pkt(pkt, 40 + n);
	tl_stack_input(s, pkt, 40 + n, clock_us);
}

/* Records an echo session with a stack seeded 77 to path. */
static void record(const char *path)
{
	struct tl_config c;
	pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);

	dump = pcap_dump_open(dead, path);
	ck_assert_ptr_nonnull(dump);
	tl_config_defaults(&c);
	c.seed = 77;
	c.output = host_output;
	tl_stack *s = tl_stack_new(&c);
	tl_apps_start(s);
	clock_us = 1700000000ull * 1000000u;
	client_send(s, TCP_SYN, 1000, 0, NULL);
	uint32_t iss = first_iss;
	client_send(s, TCP_ACK, 1001, iss + 1, NULL);
	client_send(s, TCP_ACK | TCP_PSH, 1001, iss + 1, "hello\n");
	client_send(s, TCP_ACK | TCP_FIN, 1007, iss + 7, NULL);
	client_send(s, TCP_ACK, 1008, iss + 8, NULL);
	tl_stack_free(s);
	pcap_dump_close(dump);
	pcap_close(dead);
}

static int replay(const char *path)
{
	struct tl_replay_opts o = { .file = path, .seed = 1, .time_tol_ms = 10, .mtu = 1500 };

	fflush(stdout);
	return tl_replay_run(&o);
}

START_TEST(translated_replay_matches)
{
	char path[] = "/tmp/tl-replay-XXXXXX";
	int fd = mkstemp(path);

	close(fd);
	record(path);
	/* Seed 77 recorded, seed 1 replays: the ISNs differ, so the answers only
	 * match through the ISN translation. */
	ck_assert_int_eq(replay(path), 0);
	unlink(path);
}
END_TEST

/* Flips one payload byte of the n-th record of a pcap file. */
static void alter_record(const char *path, int n)
{
	FILE *f = fopen(path, "r+b");
	uint8_t hdr[16];
	long off = 24;

	ck_assert_ptr_nonnull(f);
	for (int i = 1;; i++) {
		fseek(f, off, SEEK_SET);
		ck_assert_int_eq(fread(hdr, 1, 16, f), 16);
		uint32_t incl = (uint32_t)hdr[8] | (uint32_t)hdr[9] << 8 | (uint32_t)hdr[10] << 16 |
				(uint32_t)hdr[11] << 24;
		if (i == n) {
			fseek(f, off + 16 + (long)incl - 2, SEEK_SET);
			int b = fgetc(f);
			fseek(f, off + 16 + (long)incl - 2, SEEK_SET);
			fputc(b ^ 0x20, f);
			break;
		}
		off += 16 + (long)incl;
	}
	fclose(f);
}

START_TEST(edited_answer_is_found)
{
	char path[] = "/tmp/tl-replay-XXXXXX";
	int fd = mkstemp(path);

	close(fd);
	record(path);
	/* Records: 1 SYN, 2 SYN-ACK, 3 ACK, 4 data, 5 the echo, ... */
	alter_record(path, 5);
	ck_assert_int_eq(replay(path), 1);
	unlink(path);
}
END_TEST

START_TEST(broken_files_are_refused)
{
	char path[] = "/tmp/tl-replay-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_eq(write(fd, "not a capture at all, just some text\n", 38), 38);
	close(fd);
	ck_assert_int_eq(replay(path), 2);
	record(path);
	ck_assert_int_eq(truncate(path, 100), 0); /* cut inside a record */
	ck_assert_int_eq(replay(path), 2);
	unlink(path);
	ck_assert_int_eq(replay("/nonexistent/capture.pcap"), 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("replay");
	TCase *t = tcase_create("replayer");

	tcase_add_test(t, translated_replay_matches);
	tcase_add_test(t, edited_answer_is_found);
	tcase_add_test(t, broken_files_are_refused);
	suite_add_tcase(s, t);
	return tl_check_run(s);
}
