/* The replayer compares a fragmented answer as the datagram its pieces make
 * up: the IP ID and where the pieces were cut are each sender's own. */
#ifndef TL_REPLAY_FRAG_H
#define TL_REPLAY_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RPF_MAX 65535

/* One sender's datagram in pieces; a sender sends one at a time. */
struct rp_frags {
	bool active;
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	size_t hdr_len;			/* the piece at offset 0's, once it came */
	uint8_t hdr[60];
	bool have_last;
	uint32_t total, held;		/* payload bytes: all (once have_last), held */
	uint32_t max_end;		/* the highest end of a piece held */
	unsigned n;			/* pieces held */
	uint8_t blocks[(RPF_MAX + 63) / 64]; /* the 8-byte blocks held, a bit each */
	uint8_t data[RPF_MAX];		/* the payload, at its offsets */
	uint8_t whole[RPF_MAX];		/* RPF_DONE: the datagram ... */
	size_t whole_len;		/* ... its length ... */
	unsigned whole_pieces;		/* ... and how many pieces it came in */
	const char *why;		/* RPF_BAD: what was wrong */
};

enum rp_frag_res {
	RPF_NOT,	/* not a fragment: compare it as it is */
	RPF_HELD,	/* a piece held, the datagram not whole yet */
	RPF_DONE,	/* the datagram is whole: whole, whole_len */
	RPF_BAD,	/* a piece that cannot be part of it: why; all dropped */
};

enum rp_frag_res rp_frag_add(struct rp_frags *f, const uint8_t *pkt, size_t len);

#endif
