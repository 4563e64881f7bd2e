/* Writes every packet in and out to a pcap file (LINKTYPE_IPV4). */
#ifndef TL_PCAP_OUT_H
#define TL_PCAP_OUT_H

#include <stddef.h>
#include <stdint.h>

struct tl_pcap_out;

/* NULL with a reason in err if the file cannot be written. */
struct tl_pcap_out *tl_pcap_open(const char *path, char *err, size_t errlen);
/* Stamps the packet with the wall clock. */
void tl_pcap_write(struct tl_pcap_out *p, const uint8_t *pkt, size_t len);
void tl_pcap_flush(struct tl_pcap_out *p);
void tl_pcap_close(struct tl_pcap_out *p);

#endif
