#include "tcplab/tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *hint(int e)
{
	return e == EPERM || e == EACCES ? " (run as root or with CAP_NET_ADMIN)" : "";
}

/* checkpoint 8 */
int tl_tun_open(const char *name, enum tl_tun_offload offload, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open /dev/net/tun: %s%s", strerror(errno),
			 hint(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload != TL_TUN_PLAIN ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "cannot create TUN device %s: %s%s", name,
			 strerror(errno), hint(errno));
		close(fd);
		return -1;
	}
	int hdr = sizeof(struct virtio_net_hdr);
	unsigned feat = TUN_F_CSUM | (offload == TL_TUN_TSO ? TUN_F_TSO4 : 0);
	if (offload != TL_TUN_PLAIN && (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
					ioctl(fd, TUNSETOFFLOAD, feat) < 0)) {
		snprintf(err, errlen, "cannot turn on offloads on %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int ifioctl(int sock, unsigned long req, struct ifreq *ifr, const char *what,
		   char *err, size_t errlen)
{
	if (ioctl(sock, req, ifr) == 0)
		return 0;
	snprintf(err, errlen, "cannot %s on %s: %s%s", what, ifr->ifr_name,
		 strerror(errno), hint(errno));
	return -1;
}

static void set_in_addr(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(addr);
	memcpy(sa, &sin, sizeof sin);
}

int tl_tun_configure(const char *name, uint32_t addr, int prefix, uint32_t mtu,
		     char *err, size_t errlen)
{
	struct ifreq ifr;
	int rc = -1;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sock < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	set_in_addr(&ifr.ifr_addr, addr);
	if (ifioctl(sock, SIOCSIFADDR, &ifr, "set the address", err, errlen) < 0)
		goto out;
	set_in_addr(&ifr.ifr_netmask, prefix ? 0xffffffffu << (32 - prefix) : 0);
	if (ifioctl(sock, SIOCSIFNETMASK, &ifr, "set the netmask", err, errlen) < 0)
		goto out;
	ifr.ifr_mtu = (int)mtu;
	if (ifioctl(sock, SIOCSIFMTU, &ifr, "set the MTU", err, errlen) < 0)
		goto out;
	ifr.ifr_qlen = 1000; /* a longer queue than the default 500 for bulk runs */
	if (ifioctl(sock, SIOCSIFTXQLEN, &ifr, "set the queue length", err, errlen) < 0)
		goto out;
	if (ifioctl(sock, SIOCGIFFLAGS, &ifr, "read the flags", err, errlen) < 0)
		goto out;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ifioctl(sock, SIOCSIFFLAGS, &ifr, "bring the link up", err, errlen) < 0)
		goto out;
	rc = 0;
out:
	close(sock);
	return rc;
}
