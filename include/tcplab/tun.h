/* The TUN device: create or attach, and configure the kernel's side. Part
 * of libtcplab beside the core, for a driver of its own (src/io/loop.c is
 * tcplab's). Linux only; creating a device needs CAP_NET_ADMIN. */
#ifndef TCPLAB_TUN_H
#define TCPLAB_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opens (creating if needed) TUN device name, IFF_TUN|IFF_NO_PI, non-blocking.
 * With offload, every packet read or written starts with a struct
 * virtio_net_hdr, and the kernel may hand over TCP segments of up to 64 KiB
 * (TSO) with the checksum left to complete. Returns the fd, or -1 with a
 * one-line reason in err. */
int tl_tun_open(const char *name, bool offload, char *err, size_t errlen);
/* Gives the kernel side addr/prefix, sets the MTU and brings the link up,
 * with ioctls (no external tools). Returns 0 or -1 with a reason in err. */
int tl_tun_configure(const char *name, uint32_t addr, int prefix, uint32_t mtu,
		     char *err, size_t errlen);

#endif
