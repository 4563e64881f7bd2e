/* The stack object and the helpers the protocol files share. Private. */
#ifndef TL_STACK_IMPL_H
#define TL_STACK_IMPL_H

#include "tcplab/socket.h"
#include "tcplab/stack.h"
#include "bucket.h"
#include "trace.h"
#include "wire.h"

#define TL_MAX_PACKET 65535
#define TL_IP_ID_COUNTERS 256 /* destinations share a counter only by hash */

struct tl_udp {
	tl_stack *stack;
	uint16_t port;
	tl_udp_recv_fn deliver;	/* the application's callback, not recv(2) */
	tl_udp_error_fn error;	/* ICMP errors about what it sent, or NULL */
	void *arg;
	struct tl_udp *next;
};

struct tcp_table; /* tcp/tcp.h */

#define TL_LOOP_MAX 256 /* packets on the loopback at once */
struct loop_pkt;
struct ip_reasm; /* ip_reass.c */

struct tl_stack {
	struct tl_config cfg;
	struct tl_counters cnt;
	tl_time now;
	uint64_t ip_id_key[2];			/* RFC 7739 5.3 secret */
	uint16_t ip_id[TL_IP_ID_COUNTERS];	/* RFC 7739 5.3 counters */
	bool ip_id_cached;			/* the last destination hashed... */
	uint32_t ip_id_dst;
	uint64_t ip_id_hash;			/* ...and its hash */

	struct tl_bucket icmp_bucket; /* RFC 1122 3.2.2: errors are rate-limited */

	struct tl_udp *udp_socks;
	struct tcp_table *tcp;

	struct loop_pkt *loopq[TL_LOOP_MAX]; /* sent to ourselves, not yet delivered */
	unsigned loop_head, loop_n;
	bool looping;		/* delivering one of them: our own source is no LAND */

	struct ip_reasm *reasm_head, *reasm_tail; /* in reassembly, oldest (first due) first */
	uint32_t reasm_n;
	size_t reasm_mem;	/* bytes they hold, their fragments' included */

	uint32_t out_gso_size;	/* while out is handed out: tl_stack_out_gso_size */
	bool in_csum_ok;	/* in tl_stack_input_flags with TL_IN_CSUM_OK */
	uint8_t out[TL_MAX_PACKET]; /* packets are built here, then handed out */
	uint8_t reasm_buf[TL_MAX_PACKET]; /* a reassembled datagram, while it is delivered */
};

/* loopback.c: a packet to our own address, delivered at the next poll. */
void loop_output(tl_stack *s, const uint8_t *pkt, size_t len);
void loop_deliver(tl_stack *s);
void loop_free(tl_stack *s);

/* Sends out[0 .. IPV4_HDR_LEN + payload_len) after writing the IP header;
 * in fragments if it is larger than the MTU and not TCP. */
void ip_output(tl_stack *s, uint32_t dst, uint8_t proto, size_t payload_len);
/* The same with opt_len bytes of IP options already at out + 20 (a
 * multiple of 4) and the payload after them. */
void ip_output_opts(tl_stack *s, uint32_t dst, uint8_t proto, size_t opt_len,
		    size_t payload_len);
/* A whole datagram for us, options checked: to ICMP, UDP or TCP. */
void ip_deliver(tl_stack *s, const struct ipv4_hdr *ip);

/* ip_opt.c: IP options in (checked, traced) and in an echo reply. */
bool ip_opts_input(tl_stack *s, const struct ipv4_hdr *ip); /* false: dropped */
/* Writes the reply's options to out (padded to 4 bytes); returns their length. */
size_t ip_opts_echo(tl_stack *s, const struct ipv4_hdr *ip, uint8_t *out);
/* The option list as the trace names it, in buf. */
const char *ip_opts_names(const uint8_t *hdr, size_t hdr_len, char *buf, size_t n);

/* ip_reass.c: fragments held until their datagram is whole. */
void ip_reass_input(tl_stack *s, const struct ipv4_hdr *ip);
void ip_reass_poll(tl_stack *s);
tl_time ip_reass_deadline(const tl_stack *s);
void ip_reass_free(tl_stack *s);

void icmp_input(tl_stack *s, const struct ipv4_hdr *ip);
/* RFC 792 destination unreachable quoting the offending packet. */
void icmp_send_unreach(tl_stack *s, const struct ipv4_hdr *ip, uint8_t code);
/* RFC 792 parameter problem, pointing at the octet in error of ip's header. */
void icmp_send_param_problem(tl_stack *s, const struct ipv4_hdr *ip, uint8_t pointer);
/* RFC 792 time exceeded, fragment reassembly: quotes the first fragment's
 * header (its source is the destination) and data. */
void icmp_send_reass_timeout(tl_stack *s, const uint8_t *hdr, size_t hdr_len,
			     const uint8_t *data, size_t data_len);

/* An ICMP error about a datagram of ours, as its quote tells. */
struct icmp_quote {
	uint8_t type, code;
	int err;		/* the errno it means (ECONNREFUSED for port unreachable) */
	uint16_t mtu;		/* fragmentation needed: the next hop's MTU (RFC 1191 4), or 0 */
	uint16_t quoted_len;	/* the quoted datagram's total length */
	uint8_t proto;
	uint32_t peer;		/* where that datagram went */
	uint16_t lport, rport;	/* its ports: ours, the peer's */
	uint32_t seq;		/* TCP: its sequence number */
};
void icmp_error_input(tl_stack *s, const struct ipv4_hdr *ip, const struct icmp_hdr *h);
void tcp_icmp_error(tl_stack *s, const struct icmp_quote *q);
void udp_icmp_error(tl_stack *s, const struct icmp_quote *q);

void udp_input(tl_stack *s, const struct ipv4_hdr *ip);

/* tcp/: connection table lifetime, input and timers. */
int tcp_init(tl_stack *s);
void tcp_free(tl_stack *s);
void tcp_input(tl_stack *s, const struct ipv4_hdr *ip);
void tcp_poll(tl_stack *s);
tl_time tcp_next_deadline(const tl_stack *s);

/* Whether trace events are wanted at all (TL_TRACE asks first). */
static inline int tl_tracing(const tl_stack *s) { return s->cfg.trace != NULL; }

#endif
