#!/usr/bin/env bash
# Captures kernel-sample.json: `ip -j neigh show nud all` in a private network namespace with
# SONiC-named interfaces and neighbors in every state the decision procedure cares about.
# Run as root: Tests/ReconcilerTests/Fixtures/make-kernel-sample.sh > kernel-sample.json
set -euo pipefail
ns="nsd-sample-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"
nsip() { ip -n "$ns" "$@"; }
nsip link add Ethernet0 type veth peer name peer0
nsip link add Ethernet4 type veth peer name peer4
nsip link add Vlan1000 type bridge
nsip link add eth0 type veth peer name peereth0
for l in Ethernet0 Ethernet4 Vlan1000 eth0 peer0 peer4 peereth0; do nsip link set "$l" up; done
nsip addr add 10.0.0.0/31 dev Ethernet0
nsip addr add 2000::1/64 dev Ethernet0
nsip addr add 192.168.0.1/24 dev Vlan1000
nsip addr add fc02:1000::1/64 dev Vlan1000
nsip addr add 10.250.0.2/24 dev eth0
nsip -batch - <<'B'
neigh add 10.0.0.1 lladdr 00:01:02:03:04:05 dev Ethernet0 nud reachable
neigh add 2000::2 lladdr 00:01:02:03:04:06 dev Ethernet0 nud stale
neigh add 10.0.0.3 lladdr 00:01:02:03:04:07 dev Ethernet0 nud permanent
neigh add 10.0.0.4 lladdr 00:01:02:03:04:08 dev Ethernet4 nud noarp
neigh add 10.0.0.5 dev Ethernet4 nud failed
neigh add 10.0.0.6 dev Ethernet4 nud incomplete
neigh add 10.0.0.7 lladdr 00:01:02:03:04:09 dev Ethernet4 nud delay
neigh add 10.0.0.8 lladdr 00:01:02:03:04:0a dev Ethernet4 nud probe
neigh add 10.0.0.9 lladdr ff:ff:ff:ff:ff:ff dev Ethernet4 nud reachable
neigh add 10.0.0.10 lladdr 00:00:00:00:00:00 dev Ethernet4 nud reachable
neigh add 10.0.0.11 lladdr 00:01:02:03:04:0b dev Ethernet4 nud noarp extern_learn
neigh add 169.254.0.1 lladdr 00:01:02:03:04:0c dev Ethernet0 nud reachable
neigh add fe80::2e0:ecff:fe3b:d6ac lladdr 00:e0:ec:3b:d6:ac dev Ethernet0 nud reachable router
neigh add 192.168.0.2 lladdr 52:54:00:aa:bb:cc dev Vlan1000 nud reachable
neigh add fc02:1000::2 lladdr 52:54:00:aa:bb:cd dev Vlan1000 nud reachable
neigh add 10.250.0.1 lladdr 52:54:00:12:34:56 dev eth0 nud stale
B
nsip -j neigh show nud all
