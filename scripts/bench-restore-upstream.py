#!/usr/bin/env python3
"""A stand-in for upstream restore_neighbors.py's per-neighbor pattern, for docs/performance.md.

Written for this benchmark (not upstream's code): per neighbor, one pyroute2 IPRoute.neigh('add')
(NUD_STALE, EEXIST tolerated) and one scapy packet built and sent on a per-interface L2 socket (an
ARP who-has broadcast, or an NS to the solicited-node group), as upstream does; upstream's two
syslog calls per neighbor are left out (they would only add). The neighbors are neighsyncd-bench
restore's: even i IPv4 10.0.0.0 + i + 1, odd i IPv6 2000::i, on Ethernet0, Ethernet4, Vlan1000 in
turn. Run inside the namespace: ip netns exec NS python3 bench-restore-upstream.py N
(needs pyroute2 and scapy, e.g. in a venv: pip install pyroute2 scapy).
"""
import ipaddress
import logging
import socket
import sys
import time

from pyroute2 import IPRoute, NetlinkError

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # as upstream: no per-packet route warnings
from scapy.all import ARP, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6, Ether, conf, get_if_hwaddr
from scapy.all import in6_getnsma, in6_getnsmac

INTERFACES = ["Ethernet0", "Ethernet4", "Vlan1000"]


def neighbor(i):
    if i % 2 == 0:
        ip, family = str(ipaddress.IPv4Address(0x0A000000 | (i + 1))), socket.AF_INET
    else:
        ip, family = str(ipaddress.IPv6Address((0x2000 << 112) | i)), socket.AF_INET6
    mac = "02:00:%02x:%02x:%02x:%02x" % ((i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)
    return INTERFACES[i % len(INTERFACES)], family, ip, mac


def probe(family, smac, ip):
    if family == socket.AF_INET:
        return Ether(src=smac, dst="ff:ff:ff:ff:ff:ff") / ARP(op="who-has", pdst=ip)
    group = in6_getnsma(socket.inet_pton(socket.AF_INET6, ip))
    return (
        Ether(src=smac, dst=in6_getnsmac(group))
        / IPv6(dst=socket.inet_ntop(socket.AF_INET6, group))
        / ICMPv6ND_NS(tgt=ip)
        / ICMPv6NDOptSrcLLAddr(lladdr=smac)
    )


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    by_interface = {}
    for i in range(n):
        intf, family, ip, mac = neighbor(i)
        by_interface.setdefault(intf, []).append((family, ip, mac))
    ipr = IPRoute()
    added = sent = 0
    t_add = t_send = 0.0
    start = time.monotonic()
    for intf, neighbors in by_interface.items():
        index = ipr.link_lookup(ifname=intf)[0]
        smac = get_if_hwaddr(intf)
        s = conf.L2socket(iface=intf)
        for family, ip, mac in neighbors:
            t0 = time.monotonic()
            try:
                ipr.neigh("add", family=family, dst=ip, lladdr=mac, ifindex=index, state=4)  # NUD_STALE
                added += 1
            except NetlinkError as e:
                if e.code != 17:  # EEXIST
                    raise
            t1 = time.monotonic()
            s.send(probe(family, smac, ip))
            sent += 1
            t_send += time.monotonic() - t1
            t_add += t1 - t0
        s.close()
    total = time.monotonic() - start
    print(
        "upstream stand-in: %d neighbors: %.2f s (%.0f us each: pyroute2 add %.0f us, scapy build+send %.0f us); "
        "added %d, sent %d" % (n, total, total / n * 1e6, t_add / n * 1e6, t_send / n * 1e6, added, sent)
    )


if __name__ == "__main__":
    main()
