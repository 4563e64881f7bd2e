/* Header prediction (tcp_fast.c), in virtual time: the same segments give
 * the same packets, byte for byte, with the fast path on and off; it takes
 * exactly the plain in-order segments; a bad checksum on a predicted
 * segment is dropped and counted with nothing kept (RFC 9293 3.1). */
#include <stdlib.h>
#include <string.h>

#include "tcph.h"
#include "../check_run.h"

#define PISS 5000u
#define MSS 1460u
#define OUT_MAX (1u << 20)

static uint8_t blob[40 * MSS];

static void fast_off(struct tl_config *c)
{
	c->tcp_fast_path = 0;
}

/* Everything the stack sent since the last call, each packet's length
 * before its bytes, appended to out. */
static void take_raw(struct tcph *h, uint8_t *out, size_t *n)
{
	while (h->qhead != h->qtail) {
		unsigned i = h->qhead++ % TCPH_QUEUE;
		ck_assert_uint_le(*n + sizeof(size_t) + h->qlen[i], OUT_MAX);
		memcpy(out + *n, &h->qlen[i], sizeof(size_t));
		memcpy(out + *n + sizeof(size_t), h->q[i], h->qlen[i]);
		*n += sizeof(size_t) + h->qlen[i];
		free(h->q[i]);
	}
}

static uint32_t tsv = 100;

static void data(struct tcph *h, uint32_t seq, uint32_t len, bool ts)
{
	tcph_in(h, .seq = seq, .data = blob + seq - 1, .len = len, .ts = ts, .ts_val = tsv++);
}

/* A transfer with every kind of segment the fast path must leave alone:
 * a hole and its repair, a duplicate, a new window, an old TSval (with
 * timestamps), a FIN. Returns the packets' bytes in out. */
static size_t script(struct tcph *h, bool ts, uint8_t *out)
{
	size_t n = 0;
	uint32_t seq = 1;

	tsv = 100;
	tcph_accept(h, 9, PISS, .mss = MSS, .wscale = 7, .sack_perm = true, .ts = ts,
		    .ts_val = tsv++);
	/* The first carries a scaled window, new after the SYN's: the full path. */
	for (int i = 0; i < 6; i++, seq += MSS)
		data(h, seq, MSS, ts); /* then 5 predicted */
	tcph_advance(h, 0);
	data(h, seq + MSS, MSS, ts);   /* past a hole: the full path, a SACK */
	data(h, seq, MSS, ts);	       /* fills it: the full path */
	seq += 2 * MSS;
	data(h, seq - MSS, MSS, ts);   /* a duplicate: the full path, a D-SACK at once */
	data(h, seq, MSS, ts);	       /* predicted (the D-SACK went out) */
	seq += MSS;
	data(h, seq, MSS, ts);	       /* predicted */
	seq += MSS;
	tcph_in(h, .seq = seq, .data = blob + seq - 1, .len = MSS, .wnd = 256, .ts = ts,
		.ts_val = tsv++);      /* a new window: the full path */
	seq += MSS;
	tcph_in(h, .seq = seq, .data = blob + seq - 1, .len = MSS, .wnd = 256, .ts = ts,
		.ts_val = tsv++);      /* the same window again: predicted */
	seq += MSS;
	if (ts) /* RFC 7323 5.3: an old TSval goes the PAWS way */
		tcph_in(h, .seq = seq, .data = blob + seq - 1, .len = MSS, .wnd = 256, .ts = true,
			.ts_val = 50);
	tcph_advance(h, 50);
	tcph_in(h, .flags = TCP_FIN | TCP_ACK, .seq = seq, .data = blob + seq - 1, .len = 10,
		.wnd = 256, .ts = ts, .ts_val = tsv++);
	tcph_advance(h, 50);
	take_raw(h, out, &n);
	return n;
}

static void same_wire(bool ts)
{
	static uint8_t a[OUT_MAX], b[OUT_MAX];
	struct tcph on, off;

	tcph_init(&on, NULL);
	tcph_init(&off, fast_off);
	size_t na = script(&on, ts, a), nb = script(&off, ts, b);
	ck_assert_uint_gt(na, 0);
	ck_assert_uint_eq(na, nb);
	ck_assert_msg(memcmp(a, b, na) == 0, "the fast path changed what went out");
	ck_assert_uint_eq(on.rx_len, off.rx_len);
	ck_assert_uint_eq(on.rx_len, 12 * MSS + 10);
	ck_assert_msg(memcmp(on.rx, blob, on.rx_len) == 0, "the data read is not what was sent");
	ck_assert_msg(memcmp(off.rx, blob, off.rx_len) == 0, "the data read is not what was sent");
	ck_assert_int_eq(tcph_state(&on), TL_CLOSE_WAIT);
	ck_assert_uint_eq(tcph_cnt(&on)->tcp_predicted, 8);
	ck_assert_uint_eq(tcph_cnt(&off)->tcp_predicted, 0);
	ck_assert_uint_eq(tcph_cnt(&on)->tcp_drop_paws, ts ? 1 : 0);
	ck_assert_uint_eq(tcph_cnt(&on)->tcp_drop_paws, tcph_cnt(&off)->tcp_drop_paws);
	tcph_free(&on);
	tcph_free(&off);
}

START_TEST(same_wire_plain)
{
	same_wire(false);
}
END_TEST

START_TEST(same_wire_timestamps)
{
	same_wire(true);
}
END_TEST

/* The peer's next in-order segment, built here so that a byte can be
 * changed after its checksum was made. */
static size_t build_next(struct tcph *h, uint8_t *pkt, uint32_t rel_seq, uint32_t len)
{
	struct tcp_hdr th;

	memset(&th, 0, sizeof th);
	th.sport = PEER_PORT;
	th.dport = 9;
	th.seq = tcph_rcv_abs(h, rel_seq);
	th.ack = tcph_snd_abs(h, 1);
	th.flags = TCP_ACK;
	th.wnd = 512; /* 64 KiB at scale 7, as tcph_in sends it */
	memcpy(pkt + IPV4_HDR_LEN + TCP_HDR_LEN, blob + rel_seq - 1, len);
	tcp_build(pkt + IPV4_HDR_LEN, PEER_ADDR, HOST_ADDR, &th, 0, len);
	ipv4_build(pkt, PEER_ADDR, HOST_ADDR, IP_PROTO_TCP, (uint16_t)(TCP_HDR_LEN + len), 7);
	return IPV4_HDR_LEN + TCP_HDR_LEN + len;
}

/* A connection to discard, and its first segment (the full path: it
 * brings the first scaled window). */
static void open_discard(struct tcph *h)
{
	tcph_init(h, NULL);
	tcph_accept(h, 9, PISS, .mss = MSS, .wscale = 7, .sack_perm = true);
	data(h, 1, MSS, false);
}

START_TEST(bad_checksum_dropped)
{
	static uint8_t pkt[2048];
	struct tcph h;

	open_discard(&h);
	data(&h, 1 + MSS, MSS, false);
	tcph_advance(&h, 50);
	tcph_drain(&h);
	size_t len = build_next(&h, pkt, 1 + 2 * MSS, MSS);
	pkt[len - 100] ^= 0x40; /* a bit of the text flips on the way */
	tl_stack_input(h.s, pkt, len, h.now);
	tcph_advance(&h, 50);
	tcph_expect_nothing(&h, "a bad checksum is not answered");
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_checksum, 1);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_predicted, 1);
	ck_assert_uint_eq(h.rx_len, 2 * MSS);
	len = build_next(&h, pkt, 1 + 2 * MSS, MSS); /* sent again, whole */
	tl_stack_input(h.s, pkt, len, h.now);
	tcph_advance(&h, 50);
	tcph_out(&h, "the resent segment is taken", .flags = TCP_ACK, .ack = 1 + 3 * MSS, .len = 0);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_predicted, 2);
	ck_assert_uint_eq(h.rx_len, 3 * MSS);
	ck_assert_msg(memcmp(h.rx, blob, 3 * MSS) == 0, "the data read is not what was sent");
	tcph_free(&h);
}
END_TEST

/* A driver that vouches for the checksum (TL_IN_CSUM_OK) is believed. */
START_TEST(driver_checksum_trusted)
{
	static uint8_t pkt[2048];
	struct tcph h;

	open_discard(&h);
	size_t len = build_next(&h, pkt, 1 + MSS, MSS);
	put16(pkt + IPV4_HDR_LEN + 16, 0); /* a checksum nobody checks */
	tl_stack_input_flags(h.s, pkt, len, h.now, TL_IN_CSUM_OK);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_predicted, 1);
	ck_assert_uint_eq(tcph_cnt(&h)->tcp_drop_checksum, 0);
	ck_assert_uint_eq(h.rx_len, 2 * MSS);
	tcph_free(&h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tcp_fastpath");
	TCase *tc = tcase_create("fastpath");

	tcase_add_test(tc, same_wire_plain);
	tcase_add_test(tc, same_wire_timestamps);
	tcase_add_test(tc, bad_checksum_dropped);
	tcase_add_test(tc, driver_checksum_trusted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_check_run(suite());
}
