/*
 * Fuzz target: the pcap replayer. The first byte picks replay options (bit
 * 0 trace, 1 JSON trace, 2 lenient, 3 --addr 10.10.0.2, 4 window tolerance,
 * 5 --ack-state
 * 100%); the rest is the capture file, handed to tl_replay_run through a
 * memory file (memfd), so nothing touches the disk. The replayer's output
 * is silenced by libFuzzer (-close_fd_mask=3 in tools/fuzz), not here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_target.h"
#include "replay.h"

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tl_replay_opts o = { .addr = 0x0a0a0002, .seed = 1, .time_tol_ms = 10, .mtu = 1500 };
	char path[64];

	if (size < 1)
		return 0;
	int fd = memfd_create("fuzz_replay", 0);
	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	if (write_all(fd, data + 1, size - 1) < 0) {
		perror("write");
		abort();
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	o.file = path;
	o.trace = data[0] & 1;
	o.trace_json = data[0] & 2;
	o.lenient = data[0] & 4;
	o.have_addr = data[0] & 8;
	o.window_tol_pct = data[0] & 16 ? 100 : 0;
	o.ack_state = data[0] & 32;
	int rc = tl_replay_run(&o);
	close(fd);
	if (rc < 0 || rc > 2) {
		fprintf(stderr, "fuzz_replay: tl_replay_run returned %d\n", rc);
		abort();
	}
	fflush(stdout);
	return 0;
}
