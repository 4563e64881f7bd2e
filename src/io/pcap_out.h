/* Writes every packet in and out to a pcap file (LINKTYPE_IPV4). */
#ifndef TL_PCAP_OUT_H
#define TL_PCAP_OUT_H

#include <stddef.h>
#include <stdint.h>

struct tl_pcap_out;

/* NULL with a reason in err if the file cannot be written. */
/* now_us: the driver's monotonic clock, which tl_pcap_write takes too. */
struct tl_pcap_out *tl_pcap_open(const char *path, uint64_t now_us, char *err, size_t errlen);
/* Stamps the packet with the time the stack saw it (now_us, on the wall
 * clock), so a replay feeds the stack the very times it had. */
void tl_pcap_write(struct tl_pcap_out *p, const uint8_t *pkt, size_t len, uint64_t now_us);
void tl_pcap_flush(struct tl_pcap_out *p);
void tl_pcap_close(struct tl_pcap_out *p);

#endif
