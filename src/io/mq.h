/* --queues N: N shared-nothing stacks, one per TUN queue and thread (mq.c).
 * The single-queue path (loop.c:tl_run) does not come here. */
#ifndef TL_MQ_H
#define TL_MQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "tcplab/tun.h"
#include <stdio.h>

#include "driver.h"
#include "pcap_out.h"

#define TL_QUEUES_MAX 64

/* Runs N queues until SIGINT/SIGTERM; the process exit status. */
int tl_run_queues(const struct tl_opts *o);

/* Per-queue drivers, from loop.c (they share its static helpers). */
struct driver;
struct driver *tl_queue_new(const struct tl_opts *o, int tun, enum tl_tun_offload mode,
			    struct tl_pcap_out *pcap, uint64_t seed, tl_time start);
int tl_queue_loop(struct driver *d, int stop, pthread_mutex_t *lock);
void tl_queue_counters(struct driver *d, FILE *f);
tl_stack *tl_queue_stack(struct driver *d);
void tl_queue_free(struct driver *d);
int tl_queue_user(const struct tl_opts *o, bool drop);
/* Blocks SIGINT, SIGTERM and SIGUSR1 (in every thread started after) and
 * returns a signalfd for them; SIGPIPE is ignored. */
int tl_open_signals(void);

#endif
