/* The stack object and the helpers the protocol files share. Private. */
#ifndef TL_STACK_IMPL_H
#define TL_STACK_IMPL_H

#include "tcplab/socket.h"
#include "tcplab/stack.h"
#include "wire.h"

#define TL_MAX_PACKET 65535

struct tl_udp {
	tl_stack *stack;
	uint16_t port;
	tl_udp_recv_fn deliver;	/* the application's callback, not recv(2) */
	void *arg;
	struct tl_udp *next;
};

struct tcp_table; /* tcp/tcp_conn.h */

/* A token bucket refilled once a second (RFC 1812 4.3.2.8 style). */
struct tl_bucket {
	uint32_t tokens;
	tl_time refill;
	bool started;
};

#define TL_LOOP_MAX 256 /* packets on the loopback at once */
struct loop_pkt;

struct tl_stack {
	struct tl_config cfg;
	struct tl_counters cnt;
	tl_time now;
	uint16_t ip_id;

	struct tl_bucket icmp_bucket; /* RFC 1122 3.2.2: errors are rate-limited */

	struct tl_udp *udp_socks;
	struct tcp_table *tcp;

	struct loop_pkt *loopq[TL_LOOP_MAX]; /* sent to ourselves, not yet delivered */
	unsigned loop_head, loop_n;
	bool looping;		/* delivering one of them: our own source is no LAND */

	uint8_t out[TL_MAX_PACKET]; /* packets are built here, then handed out */
};

/* loopback.c: a packet to our own address, delivered at the next poll. */
void loop_output(tl_stack *s, const uint8_t *pkt, size_t len);
void loop_deliver(tl_stack *s);
void loop_free(tl_stack *s);

/* Takes a token; false when the bucket (rate per second, 0 = no limit) is empty. */
bool tl_bucket_take(tl_stack *s, struct tl_bucket *b, uint32_t rate);

/* Sends out[0 .. IPV4_HDR_LEN + payload_len) after writing the IP header. */
void ip_output(tl_stack *s, uint32_t dst, uint8_t proto, size_t payload_len);
/* Largest transport payload that fits one IP packet at our MTU. */
size_t ip_max_payload(const tl_stack *s);

void icmp_input(tl_stack *s, const struct ipv4_hdr *ip);
/* RFC 792 destination unreachable quoting the offending packet. */
void icmp_send_unreach(tl_stack *s, const struct ipv4_hdr *ip, uint8_t code);

void udp_input(tl_stack *s, const struct ipv4_hdr *ip);

/* tcp/: connection table lifetime, input and timers. */
int tcp_init(tl_stack *s);
void tcp_free(tl_stack *s);
void tcp_input(tl_stack *s, const struct ipv4_hdr *ip);
void tcp_poll(tl_stack *s);
tl_time tcp_next_deadline(const tl_stack *s);

/* One field of a trace event: a number, or a string when s is set. */
struct tl_kv {
	const char *k;
	const char *s;
	int64_t n;
};
#define KV_N(key, v) { (key), NULL, (int64_t)(v) }
#define KV_S(key, v) { (key), (v), 0 }
/* Emits trace event ev: one JSON object built from its fields when the
 * config asks for JSON, else the text line that fmt formats. */
void tl_trace_ev(tl_stack *s, const char *ev, const struct tl_kv *kv, size_t n,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define TL_TRACE_EV(s, ev, kv, ...) \
	tl_trace_ev((s), (ev), (kv), sizeof(kv) / sizeof((kv)[0]), __VA_ARGS__)
static inline int tl_tracing(const tl_stack *s) { return s->cfg.trace != NULL; }
/* "a.b.c.d" into buf (16 bytes). */
const char *ip_str(uint32_t addr, char buf[16]);

#endif
