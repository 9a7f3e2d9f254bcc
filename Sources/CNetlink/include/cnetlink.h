// Linux rtnetlink constants and the few calls Swift cannot reach directly.
#ifndef CNETLINK_H
#define CNETLINK_H

#include <stdint.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/neighbour.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>

#ifndef SO_RCVBUFFORCE
#define SO_RCVBUFFORCE 33
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif


static const int nsd_NLMSG_HDRLEN = NLMSG_HDRLEN;
static const int nsd_NDMSG_LEN = sizeof(struct ndmsg);
static const int nsd_IFINFOMSG_LEN = sizeof(struct ifinfomsg);
static const int nsd_RTA_HDRLEN = sizeof(struct rtattr);

/// Opens a non-blocking, close-on-exec NETLINK_ROUTE socket; -errno on failure.
int nsd_netlink_open(void);
/// Joins a multicast group (RTNLGRP_*); -errno on failure.
int nsd_netlink_join(int fd, unsigned int group);
/// Asks for `bytes` of receive buffer, first with SO_RCVBUFFORCE (needs CAP_NET_ADMIN), then
/// SO_RCVBUF. Returns the effective size the kernel reports, or -errno.
int nsd_netlink_set_rcvbuf(int fd, int bytes, int *forced);
/// Sends an RTM_GETNEIGH (AF_UNSPEC) or RTM_GETLINK dump request with sequence `seq`.
int nsd_netlink_request_dump(int fd, uint16_t type, uint32_t seq);
/// Sends NLMSG_NOOP with NLM_F_ACK and sequence `seq`: the kernel answers with an ack (error 0).
int nsd_netlink_nudge(int fd, uint32_t seq);
/// Enters the network namespace at `path` on this thread; returns a descriptor of the one
/// left (for nsd_netns_restore), or -errno.
int nsd_netns_enter(const char *path);
int nsd_netns_restore(int previous);



/// Blocks SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM and SIGPIPE for the calling thread
/// (call before other threads start, so they inherit it) and returns a signalfd that reports
/// them; -errno on failure.
int nsd_signalfd_open(void);
/// Reads one signal from the signalfd; returns its number (and the sender's pid in `sender`,
/// when not NULL), or -errno (-EAGAIN: none waiting).
int nsd_signalfd_read(int fd, int *sender);
/// Notifications the kernel dropped on this socket since it was made (SO_MEMINFO's
/// SK_MEMINFO_DROPS), or -errno. Counts also the drops that raised no ENOBUFS.
long long nsd_socket_drops(int fd);
/// A non-blocking eventfd (a worker thread's "done" bell for poll); -errno on failure.
int nsd_eventfd_open(void);
/// Returns freed heap memory to the system (malloc_trim), after whole-table work.
void nsd_release_free_memory(void);
/// Large allocations (whole tables) in mappings of their own, so freeing one returns it to the
/// system at once; fewer malloc arenas. Call first thing, before other threads start.
void nsd_malloc_for_large_tables(void);

#endif
