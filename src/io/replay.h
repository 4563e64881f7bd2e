/* The replayer: one side of a capture is fed to the stack at its recorded
 * times (a virtual clock), and what the stack sends is compared with what
 * the recorded host sent. */
#ifndef TL_REPLAY_H
#define TL_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "options.h"
#include "tcplab/stack.h"

struct tl_replay_opts {
	const char *file;
	bool have_addr;
	uint32_t addr;			/* the host under test */
	uint64_t seed;
	bool trace;
	bool trace_json;
	uint32_t time_tol_ms;		/* emitted vs recorded time */
	uint32_t window_tol_pct;	/* 0: windows must match exactly */
	bool lenient;			/* conformance with another stack, see captures/README.md */
	bool ack_state;			/* bare ACKs against receive state, not tcplab's ACKs */
	uint32_t mtu;			/* the recorded host's MTU (its MSS follows) */
	unsigned services_off;		/* TL_SVC_* bits of services not started */
	const struct tl_config *cfg;	/* the settings the command line gave; NULL: defaults */
};

/* Returns the exit status: 0 no divergence, 1 divergence, 2 bad input. */
int tl_replay_run(const struct tl_replay_opts *o);

#endif
