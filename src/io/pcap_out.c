#include "pcap_out.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

struct tl_pcap_out {
	pcap_t *dead;
	pcap_dumper_t *dump;
};

struct tl_pcap_out *tl_pcap_open(const char *path, char *err, size_t errlen)
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
	return p;
}

void tl_pcap_write(struct tl_pcap_out *p, const uint8_t *pkt, size_t len)
{
	struct pcap_pkthdr h;

	gettimeofday(&h.ts, NULL);
	h.caplen = h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)p->dump, &h, pkt);
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
