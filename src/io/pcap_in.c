#include "pcap_in.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of link header before the IPv4 packet, or -1 if it is not IPv4. */
static long link_offset(int dlt, const uint8_t *d, size_t len)
{
	switch (dlt) {
	case DLT_RAW:
	case DLT_IPV4:
		return len && (d[0] >> 4) == 4 ? 0 : -1;
	case DLT_EN10MB:
		if (len >= 14 && d[12] == 0x08 && d[13] == 0x00)
			return 14;
		if (len >= 18 && d[12] == 0x81 && d[13] == 0x00 && d[16] == 0x08 && d[17] == 0x00)
			return 18; /* one VLAN tag */
		return -1;
	case DLT_LINUX_SLL:
		return len >= 16 && d[14] == 0x08 && d[15] == 0x00 ? 16 : -1;
	case DLT_LINUX_SLL2:
		return len >= 20 && d[0] == 0x08 && d[1] == 0x00 ? 20 : -1;
	case DLT_NULL:
	case DLT_LOOP:
		/* The family: 2 (AF_INET) in either byte order. */
		return len >= 4 && (d[0] == 2 || d[3] == 2) ? 4 : -1;
	default:
		return -2;
	}
}

static int add_packet(struct capture *cap, size_t *cap_alloc, const struct pcap_pkthdr *h,
		      const uint8_t *ip, size_t len, uint32_t frame)
{
	if (cap->n == *cap_alloc) {
		size_t n = *cap_alloc ? 2 * *cap_alloc : 256;
		struct cap_packet *p = realloc(cap->p, n * sizeof *p);
		if (!p)
			return -1;
		cap->p = p;
		*cap_alloc = n;
	}
	struct cap_packet *p = &cap->p[cap->n];
	p->ip = malloc(len ? len : 1);
	if (!p->ip)
		return -1;
	memcpy(p->ip, ip, len);
	p->len = len;
	p->frame = frame;
	p->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	cap->n++;
	return 0;
}

int capture_load(const char *path, struct capture *cap, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t alloc = 0;
	uint32_t frame = 0;
	int rc;

	memset(cap, 0, sizeof *cap);
	pcap_t *pc = pcap_open_offline(path, perr);
	if (!pc) {
		/* libpcap sometimes names the file itself. */
		snprintf(err, errlen, "%s%s%s", strstr(perr, path) ? "" : path,
			 strstr(perr, path) ? "" : ": ", perr);
		return -1;
	}
	int dlt = pcap_datalink(pc);
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
		frame++;
		long off = link_offset(dlt, d, h->caplen);
		if (off == -2) {
			snprintf(err, errlen, "%s: link type %s is not supported", path,
				 pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
			goto fail;
		}
		if (off < 0) {
			cap->skipped++;
			continue;
		}
		if (h->caplen < h->len) {
			snprintf(err, errlen, "%s: packet %u was cut to %u of %u bytes when captured",
				 path, frame, h->caplen, h->len);
			goto fail;
		}
		if (add_packet(cap, &alloc, h, d + off, h->caplen - (size_t)off, frame) < 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
	}
	if (rc == PCAP_ERROR) {
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(pc));
		goto fail;
	}
	pcap_close(pc);
	return 0;
fail:
	pcap_close(pc);
	capture_free(cap);
	return -1;
}

void capture_free(struct capture *cap)
{
	for (size_t i = 0; i < cap->n; i++)
		free(cap->p[i].ip);
	free(cap->p);
	memset(cap, 0, sizeof *cap);
}
