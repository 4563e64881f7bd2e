/*
 * The input format of the core fuzz target: a setup byte, a seed byte, then
 * a sequence of operations until the input ends. Multi-byte fields are
 * big-endian; a field cut off by the end of the input reads as zero.
 * tests/fuzz/corpus.c writes this format from captures.
 */
#ifndef TL_FUZZ_CORE_H
#define TL_FUZZ_CORE_H

#define FZ_HOST 0x0a0a0002u /* the stack: 10.10.0.2 */

/* Setup byte: which configuration the stack starts with. */
#define FZ_SET_NO_APPS 0x01	/* do not start echo, discard, chargen, qotd */
#define FZ_SET_SMALL_BUF 0x02	/* 1024-byte send and receive buffers */
#define FZ_SET_FEW_CONNS 0x04	/* at most 4 connections, 2 out-of-order segments */
#define FZ_SET_NO_DELACK 0x08	/* ACK at once */
#define FZ_SET_AUTOREAD 0x10	/* the harness reads whatever becomes readable */
#define FZ_SET_SMALL_MTU 0x20	/* MTU 576 */
#define FZ_SET_TRACE 0x40	/* a trace callback (text) */
#define FZ_SET_JSON 0x80	/* with FZ_SET_TRACE: JSON events */

/* Operation codes: the op byte modulo FZ_OP_COUNT. */
enum fz_op {
	/* u16 len, len bytes: fed as they are. */
	FZ_OP_RAW,
	/* u8 proto, u8 peer, u8 ipflags, u16 len, len bytes: a valid IPv4 header
	 * to us around the bytes; TCP, UDP and ICMP checksums fixed. */
	FZ_OP_IP,
	/* u8 peer, u8 rport, u8 lport, u8 flags, u8 mode, u32 seq, u32 ack,
	 * u16 wnd, u8 optlen, optlen bytes, u16 datalen, u8 fill: a TCP segment
	 * with valid checksums. mode bit 0: seq is added to the last ACK the
	 * stack sent on this connection; bit 1: ack is added to the stack's
	 * next sequence number; else bit 2: ack is added to the last ACK number
	 * the harness sent there (0 is a duplicate ACK); bit 3: the edges of
	 * SACK blocks in the options are added to the stack's next sequence
	 * number. */
	FZ_OP_TCP,
	/* u8 peer, u8 rport, u8 lport, u16 len, u8 fill: a valid UDP datagram. */
	FZ_OP_UDP,
	/* u8 peer, u8 type, u8 code, u32 rest, u8 len, len bytes: valid ICMP. */
	FZ_OP_ICMP,
	/* u8 unit, u16 n: the clock advances by n units (us, ms, 100 ms, s),
	 * then tl_stack_poll. */
	FZ_OP_TIME,
	/* The clock jumps to tl_stack_next_deadline, then tl_stack_poll. */
	FZ_OP_DEADLINE,
	/* u8 call, u8 slot, u16 arg: a socket API call (enum fz_call). */
	FZ_OP_SOCK,
	/* u8 kind, u8 peer, u8 id, u8 lport, u16 dlen, u16 start, u16 flen,
	 * u8 fragflags: one fragment of a datagram of dlen % 4096 bytes that
	 * kind % 4 makes (an echo request, UDP to lport, a TCP SYN to lport
	 * with 20 bytes of options, or a pattern with no valid checksum) from
	 * kind, peer, id and dlen alone, so that fragments of one id fit
	 * together: bytes [start * 8, + flen % 2048) of it, ID id % 4, offset
	 * start % 8192, MF and options as fragflags says (FZ_FRAG_*). */
	FZ_OP_FRAG,
	FZ_OP_COUNT
};

/* Socket calls: the call byte modulo FZ_CALL_COUNT. slot picks one of the
 * harness's sockets; arg is a port index, a length or a flag. */
enum fz_call {
	FZ_CALL_LISTEN,	  /* arg: local port index, backlog */
	FZ_CALL_CONNECT,  /* arg: peer and remote port index */
	FZ_CALL_SEND,	  /* arg: bytes */
	FZ_CALL_RECV,	  /* arg: bytes */
	FZ_CALL_SHUTDOWN,
	FZ_CALL_CLOSE,
	FZ_CALL_ABORT,
	FZ_CALL_NODELAY,  /* arg: on or off */
	FZ_CALL_UDP_OPEN, /* arg: local port index */
	FZ_CALL_UDP_SEND, /* arg: length; to peer 0, remote port index 0 */
	FZ_CALL_UDP_CLOSE,
	FZ_CALL_COUNT
};

/* Index tables (index modulo the size). Peers 0-3 are ordinary hosts; 4-7
 * are sources the stack must not answer (broadcast, loopback, multicast,
 * our own address). */
#define FZ_PEERS { 0x0a0a0001u, 0x0a0a0003u, 0xc0000201u, 0x0a0a0001u, \
		   0xffffffffu, 0x7f000001u, 0xe0000001u, FZ_HOST }
#define FZ_NPEERS 8
/* Remote ports: 4 client ports, then service ports (UDP loop protection). */
#define FZ_RPORTS { 40000, 40001, 40002, 40003, 7, 9, 19, 65432 }
#define FZ_NRPORTS 8
/* Local ports: services, two harness ports, a closed one, then the
 * ephemeral ports of the harness's active opens (slots 0-3). */
#define FZ_LPORTS { 7, 9, 17, 19, 65432, 5000, 5001, 1 }
#define FZ_NLPORTS 8
#define FZ_NEPH 4

/* ipflags of FZ_OP_IP */
#define FZ_IP_DF 0x01
#define FZ_IP_MF 0x02	    /* a first fragment (ID 1, offset 0) */
#define FZ_IP_OTHER_DST 0x04 /* to 10.10.0.255, not to us */
#define FZ_IP_BAD_SUM 0x08  /* leave the transport checksum as it is */

/* fragflags of FZ_OP_FRAG */
#define FZ_FRAG_MF_AUTO 0x01 /* the piece ends by the datagram's end; MF unless there */
#define FZ_FRAG_MF 0x02	     /* else: MF as this bit */
#define FZ_FRAG_RR 0x04	     /* a Record Route option, 3 slots */
#define FZ_FRAG_TS 0x08	     /* a 20-byte Timestamp option, its flags the top 2 bits */
#define FZ_FRAG_BAD_OPT 0x10 /* then an option whose length runs past the header */

#endif
