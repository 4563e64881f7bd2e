/* Temporary: replaced by the real TCP. */
#include <errno.h>
#include "../stack_impl.h"
int tcp_init(tl_stack *s) { (void)s; return 0; }
void tcp_free(tl_stack *s) { (void)s; }
void tcp_input(tl_stack *s, const struct ipv4_hdr *ip) { (void)ip; s->cnt.tcp_in++; }
void tcp_poll(tl_stack *s) { (void)s; }
tl_time tcp_next_deadline(const tl_stack *s) { (void)s; return TL_TIME_NEVER; }
int tl_tcp_listen(tl_stack *s, uint16_t port, int backlog, const struct tl_tcp_events *ev, void *arg, struct tl_tcp **out) { (void)s; (void)port; (void)backlog; (void)ev; (void)arg; (void)out; return 0; }
void tl_tcp_set_events(struct tl_tcp *c, const struct tl_tcp_events *ev, void *arg) { (void)c; (void)ev; (void)arg; }
ssize_t tl_tcp_send(struct tl_tcp *c, const void *d, size_t l) { (void)c; (void)d; (void)l; return -ENOSYS; }
size_t tl_tcp_send_space(const struct tl_tcp *c) { (void)c; return 0; }
ssize_t tl_tcp_recv(struct tl_tcp *c, void *b, size_t l) { (void)c; (void)b; (void)l; return -ENOSYS; }
void tl_tcp_close(struct tl_tcp *c) { (void)c; }
void tl_tcp_abort(struct tl_tcp *c) { (void)c; }
