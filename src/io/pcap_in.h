/* Reads a whole capture (pcap or pcapng, through libpcap) into memory as
 * bare IPv4 packets with their timestamps. */
#ifndef TL_PCAP_IN_H
#define TL_PCAP_IN_H

#include <stddef.h>
#include <stdint.h>

struct cap_packet {
	uint64_t ts_us;		/* capture timestamp, microseconds */
	uint32_t frame;		/* 1-based frame number in the file */
	uint8_t *ip;		/* the IPv4 packet (link header removed) */
	size_t len;
};

struct capture {
	struct cap_packet *p;
	size_t n;
	size_t skipped;		/* frames that are not IPv4 */
};

/* Returns 0, or -1 with a one-line reason in err (unreadable, truncated,
 * unsupported link type, a packet cut short by the snap length). */
int capture_load(const char *path, struct capture *cap, char *err, size_t errlen);
void capture_free(struct capture *cap);

#endif
