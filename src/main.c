/* tcplab: parse the command line, then run the TUN loop or the replayer. */
#include "driver.h"
#include "replay.h"

int main(int argc, char **argv)
{
	struct tl_opts o;

	int r = tl_parse_args(argc, argv, &o);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (o.replay) {
		struct tl_replay_opts ro = { o.replay, o.have_addr, o.addr, o.have_seed ? o.seed : 1,
					     o.trace, o.trace_json, o.time_tol_ms, o.window_tol_pct,
					     o.lenient, o.mtu, o.tune };
		return tl_replay_run(&ro);
	}
	return tl_run(&o);
}
