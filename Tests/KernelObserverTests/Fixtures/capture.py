#!/usr/bin/env python3
"""Captures golden rtnetlink bytes from this kernel, independently of neighsyncd's own code.

Run as root from this folder:  python3 capture.py
It builds a private namespace (veth + bridge with SONiC names), then writes:
  link-dump.bin    raw datagrams of an RTM_GETLINK dump
  neigh-dump.bin   raw datagrams of an RTM_GETNEIGH (AF_UNSPEC) dump, AF_BRIDGE FDB entries included
  live.bin         notifications for: add, MAC change, delete of Ethernet0 10.0.0.50
  neigh.json       `ip -j neigh show nud all` of the same table
  link.json        `ip -j link show` of the same links
Each .bin file is the datagrams concatenated; netlink messages are 4-byte aligned, so the
concatenation is itself a valid message stream.
"""
import json, os, socket, struct, subprocess, sys

NS = f"nsd-capture-{os.getpid()}"
RTM_GETLINK, RTM_GETNEIGH, NLMSG_DONE = 18, 30, 3
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
RTMGRP_NEIGH = 4

def sh(*args, **kw):
    return subprocess.run(["ip", "-n", NS, *args], check=True, capture_output=True, text=True, **kw).stdout

def dump(sock, msgtype, seq, body):
    req = struct.pack("=LHHLL", 16 + len(body), msgtype, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + body
    sock.send(req)
    out = b""
    while True:
        data = sock.recv(1 << 20)
        out += data
        off = 0
        while off < len(data):
            length, mtype = struct.unpack_from("=LH", data, off)
            if mtype == NLMSG_DONE:
                return out
            off += (length + 3) & ~3

def inside():
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    s.bind((0, 0))
    open("link-dump.bin", "wb").write(dump(s, RTM_GETLINK, 1, struct.pack("=BBHiII", 0, 0, 0, 0, 0, 0)))
    open("neigh-dump.bin", "wb").write(dump(s, RTM_GETNEIGH, 2, struct.pack("=BBHiHBB", 0, 0, 0, 0, 0, 0, 0)))
    live = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    live.bind((0, RTMGRP_NEIGH))
    for cmd in ("neigh add 10.0.0.50 lladdr 00:00:00:00:00:50 dev Ethernet0 nud reachable",
                "neigh change 10.0.0.50 lladdr 00:00:00:00:00:51 dev Ethernet0 nud reachable",
                "neigh del 10.0.0.50 dev Ethernet0"):
        subprocess.run(["ip", *cmd.split()], check=True)
    live.setblocking(False)
    out = b""
    while True:
        try:
            out += live.recv(1 << 20)
        except BlockingIOError:
            break
    open("live.bin", "wb").write(out)

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inside":
        return inside()
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        sh("link", "add", "Ethernet0", "type", "veth", "peer", "name", "peer0")
        sh("link", "add", "Ethernet4", "type", "veth", "peer", "name", "peer4")
        sh("link", "add", "Vlan1000", "type", "bridge")
        sh("link", "set", "Ethernet4", "master", "Vlan1000")
        for l in ("Ethernet0", "Ethernet4", "Vlan1000", "peer0", "peer4"):
            sh("link", "set", l, "up")
        sh("addr", "add", "10.0.0.0/24", "dev", "Ethernet0")
        sh("addr", "add", "192.168.0.1/24", "dev", "Vlan1000")
        batch = "\n".join([
            "neigh add 10.0.0.1 lladdr 00:01:02:03:04:05 dev Ethernet0 nud reachable",
            "neigh add 2000::2 lladdr 00:01:02:03:04:06 dev Ethernet0 nud stale",
            "neigh add 10.0.0.3 lladdr 00:01:02:03:04:07 dev Ethernet0 nud permanent",
            "neigh add 10.0.0.4 lladdr 00:01:02:03:04:08 dev Ethernet0 nud noarp extern_learn",
            "neigh add 10.0.0.5 dev Ethernet0 nud failed",
            "neigh add fe80::1 lladdr 00:01:02:03:04:09 dev Ethernet0 nud reachable router",
            "neigh add 192.168.0.2 lladdr 52:54:00:aa:bb:cc dev Vlan1000 nud reachable",
            "",
        ])
        subprocess.run(["ip", "-n", NS, "-batch", "-"], input=batch, check=True, text=True)
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run(["ip", "netns", "exec", NS, sys.executable, os.path.abspath(__file__), "--inside"], check=True, cwd=here)
        neigh = json.loads(sh("-j", "neigh", "show", "nud", "all"))
        open(os.path.join(here, "neigh.json"), "w").write(json.dumps(neigh, indent=1) + "\n")
        links = json.loads(sh("-j", "link", "show"))
        open(os.path.join(here, "link.json"), "w").write(json.dumps(links, indent=1) + "\n")
    finally:
        subprocess.run(["ip", "netns", "del", NS])

main()
