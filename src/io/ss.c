/* `tcplab ss`: the stack's sockets as `ss -tuan` shows the kernel's, from
 * the core's walk (tl_tcp_foreach, tl_udp_foreach). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "tcplab/socket.h"

struct row {
	bool udp;
	struct tl_tcp_info t;		/* for UDP: state CLOSED, local only */
};

struct rows {
	struct row *r;
	size_t n, cap;
	bool short_of_memory;
};

static struct row *add_row(struct rows *w)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct row *r = realloc(w->r, cap * sizeof *r);
		if (!r) {
			w->short_of_memory = true;
			return NULL;
		}
		w->r = r;
		w->cap = cap;
	}
	struct row *r = &w->r[w->n++];
	memset(r, 0, sizeof *r);
	return r;
}

static void add_tcp(void *arg, const struct tl_tcp *c)
{
	struct row *r = add_row(arg);

	if (r)
		tl_tcp_info(c, &r->t);
}

static void add_udp(void *arg, const struct tl_udp *u)
{
	struct row *r = add_row(arg);

	if (r) {
		r->udp = true;
		r->t.local = tl_udp_local(u);
	}
}

/* UDP first, then listeners, then connections; each by port and peer. */
static int row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	int ka = a->udp ? 0 : a->t.state == TL_LISTEN ? 1 : 2;
	int kb = b->udp ? 0 : b->t.state == TL_LISTEN ? 1 : 2;

	if (ka != kb)
		return ka - kb;
	if (a->t.local.port != b->t.local.port)
		return a->t.local.port < b->t.local.port ? -1 : 1;
	if (a->t.remote.addr != b->t.remote.addr)
		return a->t.remote.addr < b->t.remote.addr ? -1 : 1;
	return (int)a->t.remote.port - (int)b->t.remote.port;
}

static const char *addr_str(uint32_t addr, char *buf)
{
	struct in_addr a = { htonl(addr) };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN) ? buf : "?";
}

/* "A.B.C.D:PORT", or "0.0.0.0:*" for no peer. */
static const char *endpoint_str(const struct tl_endpoint *e, char *buf)
{
	char a[INET_ADDRSTRLEN];

	if (e->addr == 0 && e->port == 0)
		return strcpy(buf, "0.0.0.0:*");
	snprintf(buf, 32, "%s:%u", addr_str(e->addr, a), e->port);
	return buf;
}

static bool is_conn(const struct row *r)
{
	return !r->udp && r->t.state != TL_LISTEN;
}

static const char *state_str(const struct row *r)
{
	return r->udp ? "UNCONN" : tl_tcp_state_name(r->t.state);
}

/* ss -i's line: sizes in bytes (B), times in milliseconds. */
static void print_info(FILE *out, const struct tl_tcp_info *t)
{
	char ss[16] = "inf";

	if (t->ssthresh != UINT32_MAX)
		snprintf(ss, sizeof ss, "%uB", t->ssthresh);
	fprintf(out, "\t mss:%uB cwnd:%uB ssthresh:%s rtt:%g/%gms rto:%gms "
		     "bytes_in_flight:%uB retrans:%llu snd_wnd:%uB\n",
		t->mss, t->cwnd, ss, t->srtt_us / 1e3, t->rttvar_us / 1e3, t->rto_us / 1e3,
		t->bytes_in_flight, (unsigned long long)t->retrans, t->snd_wnd);
}

static void print_text(FILE *out, const struct rows *w, bool info)
{
	char l[32], p[32];

	fprintf(out, "%-5s %-12s %-6s %-6s %21s %21s\n", "Netid", "State", "Recv-Q", "Send-Q",
		"Local Address:Port", "Peer Address:Port");
	for (size_t i = 0; i < w->n; i++) {
		const struct row *r = &w->r[i];
		fprintf(out, "%-5s %-12s %-6u %-6u %21s %21s\n", r->udp ? "udp" : "tcp", state_str(r),
			r->t.recv_q, r->t.send_q, endpoint_str(&r->t.local, l),
			endpoint_str(&r->t.remote, p));
		if (info && is_conn(r))
			print_info(out, &r->t);
	}
}

static void print_json_info(FILE *out, const struct tl_tcp_info *t)
{
	fprintf(out, ",\"mss\":%u,\"cwnd\":%u,", t->mss, t->cwnd);
	if (t->ssthresh == UINT32_MAX)
		fprintf(out, "\"ssthresh\":null");
	else
		fprintf(out, "\"ssthresh\":%u", t->ssthresh);
	fprintf(out, ",\"srtt\":%.3f,\"rttvar\":%.3f,\"rto\":%.3f,\"bytes_in_flight\":%u,"
		     "\"retrans\":%llu,\"snd_wnd\":%u",
		t->srtt_us / 1e3, t->rttvar_us / 1e3, t->rto_us / 1e3, t->bytes_in_flight,
		(unsigned long long)t->retrans, t->snd_wnd);
}

/* One object per socket; every field, -i or not (sizes in bytes, times in ms). */
static void print_json(FILE *out, const struct rows *w)
{
	char l[32], p[32], la[INET_ADDRSTRLEN], pa[INET_ADDRSTRLEN];

	fputc('[', out);
	for (size_t i = 0; i < w->n; i++) {
		const struct row *r = &w->r[i];
		const struct tl_tcp_info *t = &r->t;
		fprintf(out, "%s\n{\"netid\":\"%s\",\"state\":\"%s\",\"recv_q\":%u,\"send_q\":%u,"
			     "\"local\":\"%s\",\"local_addr\":\"%s\",\"local_port\":%u,"
			     "\"remote\":\"%s\",\"remote_addr\":\"%s\",\"remote_port\":%u",
			i ? "," : "", r->udp ? "udp" : "tcp", state_str(r), t->recv_q, t->send_q,
			endpoint_str(&t->local, l), addr_str(t->local.addr, la), t->local.port,
			endpoint_str(&t->remote, p), addr_str(t->remote.addr, pa), t->remote.port);
		if (is_conn(r))
			print_json_info(out, t);
		fputc('}', out);
	}
	fputs("\n]\n", out);
}

int tl_ss_print(FILE *out, tl_stack *s, bool info, bool json)
{
	struct rows w = { 0 };

	tl_udp_foreach(s, add_udp, &w);
	tl_tcp_foreach(s, add_tcp, &w);
	if (w.short_of_memory) {
		free(w.r);
		return -1;
	}
	if (w.n) /* no socket at all: no array to sort (qsort wants one) */
		qsort(w.r, w.n, sizeof *w.r, row_cmp);
	if (json)
		print_json(out, &w);
	else
		print_text(out, &w, info);
	free(w.r);
	return 0;
}
