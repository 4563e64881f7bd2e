/* tcplab: parse the command line, then run the TUN loop or the replayer;
 * or ask a running tcplab (tcplab ss, tcplab stats). */
#include "control.h"
#include "driver.h"
#include "replay.h"
#include "tcplab/apps.h"

int main(int argc, char **argv)
{
	struct tl_opts o;

	int r = tl_subcommand(argc, argv);
	if (r >= 0)
		return r;
	r = tl_parse_args(argc, argv, &o);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (o.replay) {
		struct tl_replay_opts ro = {
			.file = o.replay, .have_addr = o.have_addr, .addr = o.addr,
			.seed = o.have_seed ? o.seed : 1, .trace = o.trace, .trace_json = o.trace_json,
			.time_tol_ms = o.time_tol_ms, .window_tol_pct = o.window_tol_pct,
			.lenient = o.lenient, .ack_state = o.ack_state, .mtu = o.mtu, .cfg = &o.cfg,
			.services_off = TL_SVC_ALL & ~o.services,
		};
		return tl_replay_run(&ro);
	}
	return tl_run(&o);
}
