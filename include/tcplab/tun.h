/* The TUN device: create or attach, and configure the kernel's side. Part
 * of libtcplab beside the core, for a driver of its own (src/io/loop.c is
 * tcplab's). Linux only; creating a device needs CAP_NET_ADMIN. */
#ifndef TCPLAB_TUN_H
#define TCPLAB_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the device and its reader exchange. Every mode but TL_TUN_PLAIN puts
 * a struct virtio_net_hdr (linux/virtio_net.h) before each packet read or
 * written, and lets the kernel leave a TCP or UDP checksum to complete
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM) or say one is checked (F_DATA_VALID). */
enum tl_tun_offload {
	TL_TUN_PLAIN,	/* one IPv4 packet per read or write, as on the wire */
	TL_TUN_CSUM,	/* TUNSETOFFLOAD TUN_F_CSUM: checksums, packets up to the MTU */
	TL_TUN_TSO,	/* and TUN_F_TSO4: TCP segments of up to 64 KiB both ways */
};

/* Opens (creating if needed) TUN device name, IFF_TUN|IFF_NO_PI, non-blocking,
 * with IFF_VNET_HDR and TUNSETOFFLOAD unless TL_TUN_PLAIN. Returns the fd, or
 * -1 with a one-line reason in err (a kernel that refuses the offload too:
 * try again with TL_TUN_PLAIN). */
int tl_tun_open(const char *name, enum tl_tun_offload offload, char *err, size_t errlen);
/* Gives the kernel side addr/prefix, sets the MTU and brings the link up,
 * with ioctls (no external tools). Returns 0 or -1 with a reason in err. */
int tl_tun_configure(const char *name, uint32_t addr, int prefix, uint32_t mtu,
		     char *err, size_t errlen);

#endif
