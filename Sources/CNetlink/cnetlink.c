#define _GNU_SOURCE
#include "cnetlink.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

int nsd_netlink_open(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    struct sockaddr_nl sa;
    memset(&sa, 0, sizeof sa);
    sa.nl_family = AF_NETLINK;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { int e = errno; close(fd); return -e; }
    return fd;
}

int nsd_netlink_join(int fd, unsigned int group) {
    return setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0 ? -errno : 0;
}

int nsd_netlink_set_rcvbuf(int fd, int bytes, int *forced) {
    *forced = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0;
    if (!*forced && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) < 0) return -errno;
    int effective = 0;
    socklen_t len = sizeof effective;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &effective, &len) < 0) return -errno;
    return effective;
}

int nsd_netlink_request_dump(int fd, uint16_t type, uint32_t seq) {
    struct {
        struct nlmsghdr nh;
        union { struct ndmsg nd; struct ifinfomsg ifi; } body;
    } req;
    memset(&req, 0, sizeof req);
    size_t body = type == RTM_GETLINK ? sizeof(struct ifinfomsg) : sizeof(struct ndmsg);
    req.nh.nlmsg_len = NLMSG_LENGTH(body);
    req.nh.nlmsg_type = type;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.nh.nlmsg_seq = seq;
    req.body.nd.ndm_family = AF_UNSPEC;
    struct sockaddr_nl sa;
    memset(&sa, 0, sizeof sa);
    sa.nl_family = AF_NETLINK;
    for (;;) {
        ssize_t n = sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa);
        if (n >= 0) return 0;
        if (errno != EINTR) return -errno;
    }
}

int nsd_netlink_nudge(int fd, uint32_t seq) {
    /* The kernel acknowledges a control message that asks for it (netlink_rcv_skb: types below
       NLMSG_MIN_TYPE go straight to the ack, error 0): one datagram to our socket, whose receipt
       lets the kernel continue a dump that is waiting (netlink_recvmsg). */
    struct nlmsghdr nh;
    memset(&nh, 0, sizeof nh);
    nh.nlmsg_len = NLMSG_LENGTH(0);
    nh.nlmsg_type = NLMSG_NOOP;
    nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nh.nlmsg_seq = seq;
    struct sockaddr_nl sa;
    memset(&sa, 0, sizeof sa);
    sa.nl_family = AF_NETLINK;
    for (;;) {
        ssize_t n = sendto(fd, &nh, nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa);
        if (n >= 0) return 0;
        if (errno != EINTR) return -errno;
    }
}

int nsd_netns_enter(const char *path) {
    int previous = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (previous < 0) return -errno;
    int target = open(path, O_RDONLY | O_CLOEXEC);
    if (target < 0) { int e = errno; close(previous); return -e; }
    int rc = setns(target, CLONE_NEWNET);
    int e = errno;
    close(target);
    if (rc < 0) { close(previous); return -e; }
    return previous;
}

int nsd_netns_restore(int previous) {
    int rc = setns(previous, CLONE_NEWNET);
    int e = errno;
    close(previous);
    return rc < 0 ? -e : 0;
}

#include <signal.h>
#include <sys/signalfd.h>

int nsd_signalfd_open(void) {
    /* Every signal a supervisor or an operator may send whose default would end the process
       without a word: reported by the signalfd, never delivered. SIGQUIT keeps its default. */
    const int handled[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE };
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++) sigaddset(&set, handled[i]);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -errno;
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int nsd_signalfd_read(int fd, int *sender) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n != (ssize_t)sizeof info) return n < 0 ? -errno : -EIO;
    if (sender) *sender = (int)info.ssi_pid;
    return (int)info.ssi_signo;
}

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>

long long nsd_socket_drops(int fd) {
    unsigned int mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof mem;
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0) return -errno;
    if (len < (SK_MEMINFO_DROPS + 1) * sizeof mem[0]) return -EOPNOTSUPP;
    return mem[SK_MEMINFO_DROPS];
}

int nsd_eventfd_open(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

#include <malloc.h>

void nsd_release_free_memory(void) { malloc_trim(0); }

void nsd_malloc_for_large_tables(void) {
    // A fixed threshold (glibc raises it after each freed large block, up to 32 MiB, and then
    // puts later tables on the heap, where their free space stays resident between live
    // blocks): every table of 1 MiB or more gets its own mapping, returned on free.
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    // At most two arenas: the event loop's and one shared by the writer threads.
    mallopt(M_ARENA_MAX, 2);
}
