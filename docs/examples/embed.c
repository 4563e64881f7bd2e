/*
 * embed: tcplab's core inside another program, with no device and no
 * network. The program plays the wire: it hands the stack an ICMP echo
 * request and a UDP datagram for the echo service, and reads the answers
 * the stack gives its output callback. Build it against the installed
 * library:
 *
 *   cc embed.c $(pkg-config --cflags --libs tcplab) -o embed && ./embed
 */
#include <stdio.h>
#include <string.h>

#include <tcplab/apps.h>
#include <tcplab/socket.h>
#include <tcplab/stack.h>

#define US 0x0a0a0001u	 /* 10.10.0.1, this program */
#define STACK 0x0a0a0002u /* 10.10.0.2, the stack */

static uint8_t answer[2048];
static size_t answer_len;

/* The stack's one output buffer is valid only during the call: copy it. */
static void output(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	answer_len = len < sizeof answer ? len : sizeof answer;
	memcpy(answer, pkt, answer_len);
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)), put16(p + 2, (uint16_t)v); }

/* RFC 1071: the Internet checksum. */
static uint16_t checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4 packet from us to the stack around the payload at pkt + 20. */
static size_t ipv4(uint8_t *pkt, uint8_t proto, size_t payload)
{
	memset(pkt, 0, 20);
	pkt[0] = 0x45;
	put16(pkt + 2, (uint16_t)(20 + payload));
	pkt[8] = 64;
	pkt[9] = proto;
	put32(pkt + 12, US);
	put32(pkt + 16, STACK);
	put16(pkt + 10, checksum(pkt, 20));
	return 20 + payload;
}

static int ping(tl_stack *s)
{
	uint8_t pkt[64] = { 0 };
	uint8_t *icmp = pkt + 20;

	icmp[0] = 8; /* echo request, RFC 792 */
	put16(icmp + 4, 0x1234);
	put16(icmp + 6, 1);
	memcpy(icmp + 8, "embedded", 8);
	put16(icmp + 2, checksum(icmp, 16));
	answer_len = 0;
	tl_stack_input(s, pkt, ipv4(pkt, 1, 16), TL_MS(1));
	return answer_len == 36 && answer[20] == 0 && !memcmp(answer + 28, "embedded", 8);
}

static int udp_echo(tl_stack *s)
{
	uint8_t pkt[64] = { 0 };
	uint8_t *udp = pkt + 20;

	put16(udp, 40000);
	put16(udp + 2, TL_PORT_ECHO);
	put16(udp + 4, 8 + 5);
	memcpy(udp + 8, "hello", 5); /* checksum 0: none, RFC 768 */
	answer_len = 0;
	tl_stack_input(s, pkt, ipv4(pkt, 17, 13), TL_MS(2));
	return answer_len == 33 && !memcmp(answer + 28, "hello", 5);
}

int main(void)
{
	struct tl_config cfg;

	tl_config_defaults(&cfg);
	cfg.output = output;
	tl_stack *s = tl_stack_new(&cfg);
	if (!s || tl_apps_start(s) < 0) {
		fprintf(stderr, "embed: cannot start the stack\n");
		return 1;
	}
	int ok = ping(s) && udp_echo(s);
	printf("embed: %s, %llu packets in\n", ok ? "ping and UDP echo answered" : "no answer",
	       (unsigned long long)tl_stack_counters(s)->ip_in_receives);
	tl_stack_free(s);
	return ok ? 0 : 1;
}
