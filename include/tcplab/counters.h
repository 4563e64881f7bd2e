/* Named counters for every protocol event and every drop reason. */
#ifndef TCPLAB_COUNTERS_H
#define TCPLAB_COUNTERS_H

#include <stdint.h>

/* X(name, description): printed as "<name> <value>  <description>", one a line. */
#define TL_COUNTERS(X)                                                        \
	X(ip_in_receives, "IP packets received")                              \
	X(ip_in_delivers, "IP packets delivered to ICMP, UDP or TCP")         \
	X(ip_drop_short, "IP packets dropped: shorter than the header")       \
	X(ip_drop_version, "IP packets dropped: version is not 4")            \
	X(ip_drop_ihl, "IP packets dropped: header length below 20 bytes")    \
	X(ip_drop_total_len, "IP packets dropped: total length disagrees")    \
	X(ip_drop_checksum, "IP packets dropped: bad header checksum")        \
	X(ip_drop_bad_options, "IP packets dropped: malformed options (answered by ICMP parameter problem)") \
	X(ip_drop_source_route, "IP packets dropped: source route option (LSRR, SSRR), not honoured") \
	X(ip_drop_broadcast_dst, "IP packets dropped: broadcast or multicast destination") \
	X(ip_drop_not_for_us, "IP packets dropped: destination is not us")    \
	X(ip_drop_land, "IP packets dropped: source is our own address (LAND)") \
	X(ip_drop_bad_source, "IP packets dropped: martian or broadcast source") \
	X(ip_drop_proto, "IP packets dropped: unknown protocol")              \
	X(ip_in_options, "IP packets received with options")                  \
	X(ip_frag_in, "IP fragments received for reassembly")                 \
	X(ip_frag_reassembled, "IP datagrams reassembled from fragments")     \
	X(ip_frag_drop_dup, "IP fragments dropped: duplicate of one held")    \
	X(ip_frag_drop_tiny, "IP fragments dropped: TCP header split (RFC 1858)") \
	X(ip_frag_drop_bad, "IP fragments dropped: empty, not a multiple of 8 bytes before the last, or past 65535 bytes") \
	X(ip_frag_timeout, "IP datagrams given up: reassembly timed out")     \
	X(ip_frag_drop_overlap, "IP datagrams given up: fragments overlap or disagree on its end (RFC 5722)") \
	X(ip_frag_drop_frags, "IP datagrams given up: too many fragments")    \
	X(ip_frag_drop_dgrams, "IP datagrams given up: too many in reassembly, the oldest dropped") \
	X(ip_frag_drop_mem, "IP datagrams given up: reassembly memory full, the oldest dropped") \
	X(ip_out_requests, "IP datagrams sent (one sent in fragments counts once)") \
	X(ip_frag_out_dgrams, "IP datagrams sent in fragments: larger than the MTU") \
	X(ip_frag_out, "IP fragments sent")                                   \
	X(ip_out_drop_too_big, "IP packets not sent: TCP larger than the MTU, or past 65535 bytes")    \
	X(ip_out_drop_martian, "IP packets not sent: martian or broadcast destination") \
	X(ip_loop_packets, "IP packets sent to our own address (loopback)") \
	X(ip_loop_drop_full, "IP packets to our own address dropped: loopback queue full") \
	X(icmp_in, "ICMP messages received")                                  \
	X(icmp_in_echo, "ICMP echo requests received")                        \
	X(icmp_in_other, "ICMP messages received other than echo requests") \
	X(icmp_in_errors, "ICMP errors received (unreachable, time exceeded, parameter problem)") \
	X(icmp_in_errors_not_ours, "ICMP errors ignored: the quote is not a TCP or UDP datagram of ours") \
	X(icmp_drop_short, "ICMP messages dropped: too short")                \
	X(icmp_drop_checksum, "ICMP messages dropped: bad checksum")          \
	X(icmp_out_echo_reply, "ICMP echo replies sent")                      \
	X(icmp_out_echo_options, "ICMP echo replies with the request's Record Route or Timestamp, updated") \
	X(icmp_out_port_unreach, "ICMP port unreachable messages sent")       \
	X(icmp_out_time_exceeded, "ICMP time exceeded messages sent: reassembly timed out") \
	X(icmp_out_param_problem, "ICMP parameter problem messages sent: malformed IP options") \
	X(icmp_out_rate_limited, "ICMP errors not sent: rate limit")          \
	X(udp_in, "UDP datagrams received")                                   \
	X(udp_in_delivered, "UDP datagrams delivered to a socket")            \
	X(udp_drop_short, "UDP datagrams dropped: too short")                 \
	X(udp_drop_length, "UDP datagrams dropped: length field disagrees")   \
	X(udp_drop_checksum, "UDP datagrams dropped: bad checksum")           \
	X(udp_drop_no_port, "UDP datagrams to a closed port")                 \
	X(udp_drop_loop_port, "UDP datagrams dropped: from a service port (loop guard)") \
	X(udp_out, "UDP datagrams sent")                                      \
	X(udp_out_drop_too_big, "UDP datagrams not sent: longer than 65507 bytes") \
	X(udp_icmp_errors, "UDP ICMP errors passed to the socket that sent the datagram") \
	X(udp_icmp_no_socket, "UDP ICMP errors ignored: no socket on the quoted port") \
	X(tcp_in, "TCP segments received")                                    \
	X(tcp_drop_short, "TCP segments dropped: too short")                  \
	X(tcp_drop_checksum, "TCP segments dropped: bad checksum")            \
	X(tcp_drop_bad_offset, "TCP segments dropped: bad data offset")       \
	X(tcp_in_bad_options, "TCP segments with malformed options: kept, the bad option (past a bad length, the rest) ignored") \
	X(tcp_drop_no_conn, "TCP segments to a closed port (answered by RST)") \
	X(tcp_drop_paws, "TCP segments dropped: older timestamp than the last (PAWS)") \
	X(tcp_drop_unacceptable, "TCP segments dropped: outside the window")  \
	X(tcp_drop_syn_fin, "TCP SYNs dropped: SYN and FIN together, to a listener") \
	X(tcp_drop_listen_full, "TCP SYNs dropped: accept backlog full")      \
	X(tcp_drop_table_full, "TCP SYNs dropped: connection table full")     \
	X(tcp_drop_ooo_full, "TCP segments dropped: out-of-order queue full") \
	X(tcp_drop_other, "TCP segments dropped: not valid in this state")    \
	X(tcp_out, "TCP segments sent")                                       \
	X(tcp_out_rst, "TCP resets sent")                                     \
	X(tcp_out_challenge_ack, "TCP challenge ACKs sent (RFC 5961)")        \
	X(tcp_rexmit, "TCP segments retransmitted")                           \
	X(tcp_rto, "TCP retransmission timeouts")                             \
	X(tcp_fast_rexmit, "TCP fast recoveries entered (three duplicate ACKs, or RACK)") \
	X(tcp_rack_lost, "TCP segments RACK deemed lost") \
	X(tcp_dsack_out, "TCP D-SACKs sent: data that arrived twice (RFC 2883)") \
	X(tcp_dsack_in, "TCP D-SACKs received: a segment arrived twice") \
	X(tcp_spurious_rto, "TCP timeouts found spurious by their timestamps (Eifel)") \
	X(tcp_undo, "TCP window reductions undone: D-SACKs or timestamps showed them spurious") \
	X(tcp_loss_probes, "TCP tail loss probes sent (RFC 8985 7)")          \
	X(tcp_loss_probe_repairs, "TCP losses a tail loss probe repaired: cwnd reduced") \
	X(tcp_dupacks_in, "TCP duplicate ACKs received")                      \
	X(tcp_persist_probes, "TCP zero-window probes sent")                  \
	X(tcp_snd_wnd_shrunk, "TCP windows reopened below what was sent: resent from SND.UNA") \
	X(tcp_delayed_acks, "TCP delayed ACKs sent by the timer")             \
	X(tcp_batch_acks, "TCP ACKs sent at the end of a batch of segments")  \
	X(tcp_ooo_queued, "TCP out-of-order segments queued")                 \
	X(tcp_dup_data, "TCP segments with only duplicate data")              \
	X(tcp_active_opens, "TCP active opens")                               \
	X(tcp_passive_opens, "TCP passive opens")                             \
	X(tcp_established, "TCP connections established")                     \
	X(tcp_resets_in, "TCP connections reset by the peer")                 \
	X(tcp_timeouts, "TCP connections aborted: too many retransmissions")  \
	X(tcp_icmp_no_conn, "TCP ICMP errors ignored: no connection sent what they quote") \
	X(tcp_icmp_bad_seq, "TCP ICMP errors ignored: quoted sequence number not in flight (RFC 5927)") \
	X(tcp_icmp_hard, "TCP connection attempts aborted by ICMP port or protocol unreachable") \
	X(tcp_icmp_soft, "TCP ICMP errors kept as a soft error (reported if the connection times out)") \
	X(tcp_pmtu_lowered, "TCP path MTU lowered by ICMP fragmentation needed (RFC 1191)") \
	X(tcp_pmtu_ignored, "TCP fragmentation needed ignored: MTU not below the path's") \
	X(tcp_time_wait_expired, "TCP TIME_WAIT entries expired")           \
	X(tcp_time_wait_recycled, "TCP TIME_WAIT entries recycled early: cap reached") \
	X(tcp_syncookies_sent, "TCP SYN cookies sent: accept backlog full")   \
	X(tcp_syncookies_ok, "TCP SYN cookies returned valid: connection made") \
	X(tcp_syncookies_failed, "TCP ACKs with an invalid or expired SYN cookie") \
	X(tcp_drop_ooo_global, "TCP segments dropped: global out-of-order bound") \
	X(tcp_out_rst_rate_limited, "TCP resets not sent: rate limit")       \
	X(tcp_challenge_ack_limited, "TCP challenge ACKs not sent: rate limit (RFC 5961 7)") \
	X(tcp_challenge_ack_conn_limited, "TCP challenge ACKs not sent: one per connection per interval") \
	X(tcp_buf_released, "TCP send or receive buffers released when empty") \
	X(tcp_time_wait_reopened, "TCP TIME_WAIT entries reopened by a new SYN") \
	X(tcp_predicted, "TCP segments of in-order data taken by header prediction (tcp_fast.c)") \
	X(tcp_flight_released, "TCP connections that gave back their in-flight part: idle, or in TIME_WAIT") \
	X(tcp_flight_nomem, "TCP segments dropped or calls refused: no memory for a connection's in-flight part")

struct tl_counters {
#define TL_COUNTER_FIELD(name, desc) uint64_t name;
	TL_COUNTERS(TL_COUNTER_FIELD)
#undef TL_COUNTER_FIELD
};

typedef void (*tl_counter_fn)(void *ctx, const char *name, const char *desc,
			      uint64_t value);

/* Calls fn once per counter, in declaration order. */
void tl_counters_foreach(const struct tl_counters *c, tl_counter_fn fn,
			 void *ctx);

#endif
