/* The driver: the TUN device, the event loop and everything with syscalls. */
#ifndef TL_DRIVER_H
#define TL_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "faults.h"
#include "options.h"
#include "tcplab/socket.h"
#include "tcplab/stack.h"

struct tl_opts {
	const char *tun;
	uint32_t addr;			/* the stack's address */
	uint32_t kernel_addr;		/* the kernel side of the TUN link */
	int kernel_prefix;
	uint32_t mtu;
	const char *pcap;
	bool trace;
	bool trace_json;	/* --trace=json */
	bool have_seed;
	uint64_t seed;
	struct tl_fault_cfg faults_in;	/* packets from the kernel to the stack */
	struct tl_fault_cfg faults_out;	/* packets from the stack to the kernel */
	bool connect;			/* netcat mode: --connect */
	struct tl_endpoint connect_to;
	bool have_addr;			/* --addr was given */
	const char *replay;		/* --replay FILE: no device, a capture */
	uint32_t time_tol_ms, window_tol_pct;
	bool lenient;
	bool ack_state;			/* --ack-state */
	uint32_t offload;		/* --offload on|off: 1, ask the kernel for TSO and checksums */
	struct tl_config cfg;		/* --rcvbuf, --init-cwnd, ...: the core's settings */
	bool have_ack_batch;		/* --ack-batch was given */
	bool have_rcvbuf;		/* --rcvbuf was given */
	unsigned services;		/* --services: TL_SVC_* bits */
	const char *user;		/* --user: drop to this account after setup */
	uint32_t queues;		/* --queues: stacks, one per TUN queue and thread */
};

/* Fills o with the defaults, then the flags in argv: 0 to run, 1 after
 * printing --help, -1 after printing a one-line error to stderr. */
int tl_parse_args(int argc, char **argv, struct tl_opts *o);

/* Runs until SIGINT/SIGTERM (or the --connect connection ends); returns the
 * process exit status. */
int tl_run(const struct tl_opts *o);

#endif
