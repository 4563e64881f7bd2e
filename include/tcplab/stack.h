/*
 * The sans-I/O core. Packets and the current time go in; packets and trace
 * lines come out through callbacks. The core never calls a syscall, a clock
 * or a random source: that is what lets tests run it in virtual time.
 */
#ifndef TCPLAB_STACK_H
#define TCPLAB_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcplab/counters.h"

/* Monotonic time in microseconds. Only the driver knows what it is tied to. */
typedef uint64_t tl_time;
#define TL_TIME_NEVER UINT64_MAX
#define TL_MS(ms) ((tl_time)(ms) * 1000u)

typedef struct tl_stack tl_stack;

/* A whole IPv4 packet leaves the stack. pkt is the stack's one output
 * buffer: it is valid only until the callback returns (copy it to keep it),
 * and the callback must not call any tl_* function of this stack but the
 * const getters (tl_stack_now, tl_stack_out_gso_size: how to split pkt),
 * since the next packet would be built in the same buffer. It runs inside
 * whichever call made the stack send: tl_stack_input, tl_stack_poll, or a
 * socket call (tl_tcp_send, tl_udp_sendto, ...). */
typedef void (*tl_output_fn)(void *ctx, const uint8_t *pkt, size_t len);
/* One trace event (no newline): a human-readable line, or with trace_json
 * one JSON object {"ev":NAME,...}; docs/trace.md lists the events. line is
 * valid until the callback returns; as for tl_output_fn, the callback must
 * not call into the stack. */
typedef void (*tl_trace_fn)(void *ctx, tl_time now, const char *line);

/* Loss recovery: RACK-TLP with SACK (RFC 8985, 6675, 6937), or the classic
 * duplicate-ACK path (RFC 5681, 6582) that peers without SACK always get. */
#define TL_RECOVERY_RACK 0
#define TL_RECOVERY_NEWRENO 1
/* Congestion control: Reno (RFC 5681) or CUBIC (RFC 9438). */
#define TL_CC_RENO 0
#define TL_CC_CUBIC 1

struct tl_config {
	uint32_t addr;		/* our IPv4 address, host byte order */
	uint32_t prefix_len;	/* of our link (0 = unknown): its network and
				 * broadcast addresses are no host's */
	uint32_t mtu;		/* largest IP packet we send or accept */
	uint64_t seed;		/* keys ISNs; the driver supplies randomness */
	uint32_t icmp_err_per_sec; /* ICMP error rate limit, 0 = unlimited */
	uint32_t ip_frag_timeout_ms; /* reassembly timeout from the first fragment (RFC 1122 3.3.2) */
	uint32_t ip_frag_mem_max;    /* bytes held for reassembly, all datagrams, bookkeeping included */
	uint32_t ip_frag_dgrams_max; /* datagrams in reassembly at once, 0 = no reassembly */
	uint32_t ip_frag_frags_max;  /* fragments held per datagram */

	uint32_t tcp_max_conns;	  /* connections, all states together */
	uint32_t tcp_rcvbuf;	  /* receive buffer per connection, bytes */
	uint32_t tcp_sndbuf;	  /* send buffer per connection, bytes */
	uint32_t tcp_ooo_max;	  /* out-of-order segments kept per connection */
	uint32_t tcp_msl_ms;	  /* maximum segment lifetime; TIME_WAIT = 2*MSL */
	uint32_t tcp_rto_min_ms;  /* RTO floor (RFC 6298 says 1 s; Linux 200 ms) */
	uint32_t tcp_rto_max_ms;  /* RTO ceiling */
	uint32_t tcp_rto_init_ms; /* RTO before the first RTT sample */
	uint32_t tcp_max_retries; /* retransmissions before abort */
	uint32_t tcp_delack_ms;	  /* longest an ACK may be delayed, 0 = never */
	uint32_t tcp_init_cwnd;	  /* initial window in segments (RFC 6928: 10) */
	uint32_t tcp_syncookies;  /* 1: SYN cookies when a backlog is full (RFC 4987 3.6) */
	uint32_t tcp_time_wait_max; /* TIME_WAIT entries kept, oldest recycled; 0 = no cap */
	uint32_t tcp_ooo_bytes_max; /* out-of-order extent, all connections together */
	uint32_t tcp_rst_per_sec; /* RSTs to segments without a connection, 0 = unlimited */
	uint32_t tcp_challenge_ack_per_sec; /* RFC 5961 7, all connections, 0 = unlimited */
	uint32_t tcp_challenge_ack_interval_ms; /* RFC 5961 7, one per connection per interval, 0 = unlimited */
	uint32_t tcp_tlp;	  /* 1: tail loss probes on SACK connections (RFC 8985 7) */
	uint32_t tcp_recovery;	  /* TL_RECOVERY_RACK or TL_RECOVERY_NEWRENO */
	uint32_t tcp_cc;	  /* TL_CC_RENO or TL_CC_CUBIC */
	uint32_t tcp_timestamps;  /* 1: offer and accept RFC 7323 timestamps */
	uint32_t tcp_buf_idle_ms; /* an empty buffer is released after this; 0 = kept */
	uint32_t tcp_flight_max;  /* connections working at once (each holding an
				   * in-flight part, about 400 bytes), 0 = no bound */
	uint32_t tcp_tso_max;	  /* TCP payload per packet when the driver splits
				   * large segments itself (TUN offload), 0 = MSS */
	uint32_t tcp_csum_partial; /* 1: every TCP segment to output carries only the
				    * pseudo-header sum in its checksum field (offset 16
				    * of the TCP header), for the driver to have it
				    * finished (TUN's NEEDS_CSUM); 0: whole checksums */
	uint32_t tcp_ack_batch_max; /* in-order bytes whose ACK may wait for the
				     * next tl_stack_poll (the driver polls after
				     * each batch it reads), 0 = every 2nd segment */
	uint32_t tcp_fast_path;	  /* 1: header prediction takes in-order text past the
				   * full input path (and sums it as it copies it) */

	tl_output_fn output;
	void *output_ctx;
	/* Optional, with output_ctx: each packet to our own address, which the
	 * stack delivers itself at its next tl_stack_poll (for captures). */
	tl_output_fn loop_tap;
	tl_trace_fn trace; /* NULL: no tracing */
	void *trace_ctx;
	bool trace_json;   /* events as JSON objects instead of text */
};

/* Fills cfg with the defaults the command line documents. */
void tl_config_defaults(struct tl_config *cfg);

/* Returns NULL if cfg is invalid or memory is short. */
tl_stack *tl_stack_new(const struct tl_config *cfg);
void tl_stack_free(tl_stack *s);

/* Feeds one IPv4 packet that arrived at time now. */
void tl_stack_input(tl_stack *s, const uint8_t *pkt, size_t len, tl_time now);

/* What a driver may know of a packet it feeds. */
#define TL_IN_CSUM_OK 1u /* its TCP checksum is good: the kernel checked it, or made
			  * the packet (TUN's VIRTIO_NET_HDR_F_DATA_VALID, F_NEEDS_CSUM) */
/* tl_stack_input with flags (TL_IN_*); a fragment's flags are ignored. */
void tl_stack_input_flags(tl_stack *s, const uint8_t *pkt, size_t len, tl_time now,
			  unsigned flags);

/* Advances the clock to now and runs every timer that is due. */
void tl_stack_poll(tl_stack *s, tl_time now);

/* The earliest time tl_stack_poll has work to do, or TL_TIME_NEVER. */
tl_time tl_stack_next_deadline(const tl_stack *s);

/* The time the stack last saw (input or poll). */
tl_time tl_stack_now(const tl_stack *s);

/* Valid only inside the output callback, about the packet it was handed:
 * the TCP payload bytes per segment on the wire if that packet is a TCP
 * super-segment to be split (a driver with TSO, tcp_tso_max set), else 0.
 * It is the connection's room per segment: its MSS, as the peer announced
 * it or path MTU discovery lowered it (RFC 1191), less the SACK blocks
 * this packet's header carries; the payload is a whole number of such
 * segments but the last. A TUN driver puts it in virtio_net_hdr.gso_size. */
uint32_t tl_stack_out_gso_size(const tl_stack *s);

const struct tl_counters *tl_stack_counters(const tl_stack *s);
const struct tl_config *tl_stack_config(const tl_stack *s);

#endif
