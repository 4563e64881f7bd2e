#include "pcap_out.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

struct tl_pcap_out {
	pcap_t *dead;
	pcap_dumper_t *dump;
	struct timeval wall0;	/* the wall clock when mono0 was read */
	uint64_t mono0;
};

struct tl_pcap_out *tl_pcap_open(const char *path, uint64_t now_us, char *err, size_t errlen)
{
	struct tl_pcap_out *p = calloc(1, sizeof *p);

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* DLT_RAW: each record is a bare IPv4 packet, as the TUN device gives them. */
	p->dead = pcap_open_dead(DLT_RAW, 65535);
	p->dump = p->dead ? pcap_dump_open(p->dead, path) : NULL;
	if (!p->dump) {
		snprintf(err, errlen, "cannot write capture %s: %s", path,
			 p->dead ? pcap_geterr(p->dead) : "pcap_open_dead failed");
		if (p->dead)
			pcap_close(p->dead);
		free(p);
		return NULL;
	}
	gettimeofday(&p->wall0, NULL);
	/* The wall clock moved by under a millisecond to the monotonic clock's
	 * phase: a replay then ticks TCP timestamps as this run did. */
	long phase = (long)(now_us % 1000) - p->wall0.tv_usec % 1000;
	p->wall0.tv_usec += phase < 0 ? phase + 1000 : phase;
	if (p->wall0.tv_usec >= 1000000) {
		p->wall0.tv_usec -= 1000000;
		p->wall0.tv_sec++;
	}
	p->mono0 = now_us;
	return p;
}

void tl_pcap_write(struct tl_pcap_out *p, const uint8_t *pkt, size_t len, uint64_t now_us)
{
	struct pcap_pkthdr h;
	uint64_t us = (uint64_t)p->wall0.tv_usec + (now_us - p->mono0);

	h.ts.tv_sec = p->wall0.tv_sec + (time_t)(us / 1000000);
	h.ts.tv_usec = (suseconds_t)(us % 1000000);
	h.caplen = h.len = (bpf_u_int32)len;
	/* --queues: several threads write; one record at a time (stdio's lock). */
	flockfile(pcap_dump_file(p->dump));
	pcap_dump((u_char *)p->dump, &h, pkt);
	funlockfile(pcap_dump_file(p->dump));
}

void tl_pcap_flush(struct tl_pcap_out *p)
{
	pcap_dump_flush(p->dump);
}

void tl_pcap_close(struct tl_pcap_out *p)
{
	if (!p)
		return;
	pcap_dump_close(p->dump);
	pcap_close(p->dead);
	free(p);
}
