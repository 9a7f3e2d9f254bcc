#!/usr/bin/env bash
# End-to-end tests of `neighsyncd restore` (restore_neighbors.py's contract, spec §5): the built
# binary in a private network namespace against a private redis-server on a unix socket.
# Usage: Tests/e2e/restore.sh [path/to/neighsyncd]   (root: namespaces)
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-.build/debug/neighsyncd}")
[ "$(id -u)" -eq 0 ] || { echo "FAIL restore: needs root for network namespaces"; exit 1; }

NS="nsd-restore-$$"
PEER="nsd-restore-peer-$$"   # answers ARP and NS for the neighbors on Ethernet0
DIR=$(mktemp -d /tmp/nsd-restore-XXXXXX)
SOCK="$DIR/redis.sock"
RESTORE_PID=""
FAILS=0
PASSES=0

cleanup() {
  [ -n "$RESTORE_PID" ] && { kill -9 "$RESTORE_PID"; wait "$RESTORE_PID"; } 2>/dev/null
  redis-cli -s "$SOCK" shutdown nosave >/dev/null 2>&1
  ip netns del "$NS" 2>/dev/null
  ip netns del "$PEER" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT

ok()   { PASSES=$((PASSES + 1)); echo "ok   restore: $*"; }
fail() {
  FAILS=$((FAILS + 1)); echo "FAIL restore: $*"
  [ -f "$DIR/restore.log" ] && tail -n 20 "$DIR/restore.log" | sed 's/^/     | /'
}
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

R()  { redis-cli -s "$SOCK" -n "${DB:-0}" "$@"; }
N()  { ip -n "$NS" "$@"; }
S()  { DB=6 R "$@"; }

redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --dir "$DIR" --save "" --appendonly no \
  --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" >/dev/null
for _ in $(seq 100); do R ping >/dev/null 2>&1 && break; sleep 0.05; done
cat > "$DIR/db.json" <<JSON
{"INSTANCES": {"redis": {"hostname": "127.0.0.1", "port": 0, "unix_socket_path": "$SOCK"}},
 "DATABASES": {"APPL_DB": {"id": 0, "separator": ":", "instance": "redis"},
               "CONFIG_DB": {"id": 4, "separator": "|", "instance": "redis"},
               "STATE_DB": {"id": 6, "separator": "|", "instance": "redis"}}, "VERSION": "1.0"}
JSON

ip netns add "$NS" || exit 1
ip netns add "$PEER" || exit 1
N link set lo up   # up, with 127.0.0.1: only the planner keeps its entry out of the kernel
N link add Ethernet0 type veth peer name peer0 address 00:01:02:03:04:02
N link set peer0 netns "$PEER"
ip -n "$PEER" link set peer0 up
ip -n "$PEER" addr add 10.0.0.2/24 dev peer0
ip -n "$PEER" addr add fc00::2/64 dev peer0 nodad
N addr add 10.0.0.1/24 dev Ethernet0
N addr add fc00::1/64 dev Ethernet0 nodad
N link add Ethernet4 type veth peer name peer4
N addr add 10.0.4.1/24 dev Ethernet4
N link add Ethernet8 type veth peer name peer8
N link add Vlan1000 type bridge
N link set Ethernet8 master Vlan1000
N addr add 192.168.0.1/24 dev Vlan1000
# Carrier and an IPv4 address, but no IPv6 one (not even link-local) until the test adds it.
N link add Ethernet12 type veth peer name peer12
N link set Ethernet12 addrgenmode none
N addr add 10.0.12.1/24 dev Ethernet12
for l in Ethernet0 Ethernet8 peer8 Vlan1000 peer4 Ethernet12 peer12; do N link set "$l" up; done   # Ethernet4 down

R hset NEIGH_TABLE:Ethernet0:10.0.0.2 neigh 00:01:02:03:04:02 family IPv4 >/dev/null
R hset NEIGH_TABLE:Ethernet0:fc00::2 neigh 00:01:02:03:04:02 family IPv6 >/dev/null
R hset NEIGH_TABLE:Ethernet4:10.0.4.2 neigh 00:01:02:03:04:04 family IPv4 >/dev/null
R hset NEIGH_TABLE:Vlan1000:192.168.0.2 neigh 00:01:02:03:04:05 family IPv4 >/dev/null
R hset NEIGH_TABLE:Ethernet12:10.0.12.2 neigh 00:01:02:03:04:12 family IPv4 >/dev/null
R hset NEIGH_TABLE:Ethernet12:fc00:12::2 neigh 00:01:02:03:04:12 family IPv6 >/dev/null
R hset NEIGH_TABLE:lo:127.0.0.2 neigh 00:01:02:03:04:06 family IPv4 >/dev/null
# Malformed: each is logged and left out; nothing else is lost.
R hset NEIGH_TABLE:Ethernet0:10.0.0.9 family IPv4 >/dev/null                           # no neigh
R hset NEIGH_TABLE:Ethernet0:10.0.0.10 neigh 00:01:02:03:04:zz family IPv4 >/dev/null  # bad MAC
R hset NEIGH_TABLE:Ethernet0:FC00::10 neigh 00:01:02:03:04:10 family IPv6 >/dev/null   # not inet_ntop text

restore() {
  ip netns exec "$NS" "$BIN" restore --db-config "$DIR/db.json" --log-output stderr --metrics "$DIR/restore.prom" "$@" \
    >>"$DIR/restore.log" 2>&1
}
flag() { S hget 'NEIGH_RESTORE_TABLE|Flags' restored; }
# In the kernel with that MAC, STALE or better (a probe answered makes it REACHABLE).
stale() { N neigh show nud all dev "$1" | grep -cE "^$2 lladdr $3 (STALE|REACHABLE|DELAY|PROBE)"; }
absent() { [ -z "$(N neigh show nud all "$1")" ]; }
reachable() {  # waits up to 10 s for the peer's answer to a probe
  for _ in $(seq 100); do
    N neigh show nud reachable dev "$1" | grep -q "^$2 lladdr $3 REACHABLE" && return 0; sleep 0.1
  done
  N neigh show nud all dev "$1"; return 1
}
logged() { grep -qF -- "$1" "$DIR/restore.log"; }

# Not warm: nothing, no flag, exit 0; restore_count written 0 as checkWarmStart does.
restore; rc=$?
check "cold: exit 0" [ "$rc" -eq 0 ]
check "cold: no flag" [ -z "$(flag)" ]
check "cold: kernel untouched" [ "$(stale Ethernet0 10.0.0.2 00:01:02:03:04:02)" -eq 0 ]
check "cold: restore_count 0" [ "$(S hget 'WARM_RESTART_TABLE|neighsyncd' restore_count)" = "0" ]

# Warm restart enabled but no restore_count: checkWarmStart(…, False) falls back to a cold start.
S del 'WARM_RESTART_TABLE|neighsyncd' >/dev/null
S hset 'WARM_RESTART_ENABLE_TABLE|swss' enable true >/dev/null
restore; rc=$?
check "enabled without restore_count: exit 0" [ "$rc" -eq 0 ]
check "enabled without restore_count: no flag (cold)" [ -z "$(flag)" ]
check "enabled without restore_count: restore_count 0" \
  [ "$(S hget 'WARM_RESTART_TABLE|neighsyncd' restore_count)" = "0" ]

# Container-only warm restart: the flag at once, the kernel untouched, restore_count not incremented.
S hset 'WARM_RESTART_TABLE|neighsyncd' restore_count 3 >/dev/null
restore; rc=$?
check "container-only: exit 0" [ "$rc" -eq 0 ]
check "container-only: flag set" [ "$(flag)" = "true" ]
check "container-only: kernel untouched" [ "$(stale Ethernet0 10.0.0.2 00:01:02:03:04:02)" -eq 0 ]
check "container-only: restore_count kept" [ "$(S hget 'WARM_RESTART_TABLE|neighsyncd' restore_count)" = "3" ]
S del 'NEIGH_RESTORE_TABLE|Flags' >/dev/null

# System warm reboot, Ethernet4 down, Vlan1000 without a STATE_DB member, Ethernet12 without an IPv6
# address, Ethernet99 not there at all: at the timeout the flag is set all the same, exit 0 (upstream's
# loop ends and main sets it), with an ERROR naming the rest.
R hset NEIGH_TABLE:Ethernet99:10.9.9.9 neigh 00:01:02:03:04:99 family IPv4 >/dev/null
S hset 'WARM_RESTART_ENABLE_TABLE|system' enable true >/dev/null
restore --timeout 1 --interval 1; rc=$?
check "timeout: exit 0" [ "$rc" -eq 0 ]
check "timeout: flag set anyway" [ "$(flag)" = "true" ]
check "timeout: ready interface restored meanwhile" [ "$(stale Ethernet0 10.0.0.2 00:01:02:03:04:02)" -eq 1 ]
check "timeout: logged" logged \
  "not restored: Ethernet12 IPv6 (1), Ethernet4 IPv4 (1), Ethernet99 IPv4 (1), Vlan1000 IPv4 (1); setting"
check "timeout: unknown interface named" logged "no such interface (yet): Ethernet99;"
check "timeout: counted" logged "3 restored, 0 refused, 4 not ready"
check "timeout: progress textfile" grep -q '^neighsyncd_restore_phase{phase="timed_out"} 1$' "$DIR/restore.prom"
check "timeout: status shows it" \
  sh -c "'$BIN' status --restore-metrics '$DIR/restore.prom' | grep -q '^restore: *timed_out, 3 of 7 restored'"
S del 'NEIGH_RESTORE_TABLE|Flags' >/dev/null
R del NEIGH_TABLE:Ethernet99:10.9.9.9 >/dev/null
N neigh flush all
check "flushed" [ "$(stale Ethernet0 10.0.0.2 00:01:02:03:04:02)" -eq 0 ]

# System warm reboot: Ethernet4 comes up after the first pass, the VLAN's member appears, Ethernet12
# gets an IPv6 address; all restored.
: >"$DIR/restore.log"
restore --interval 1 --member-settle 1 & RESTORE_PID=$!
for _ in $(seq 300); do [ "$(stale Ethernet12 10.0.12.2 00:01:02:03:04:12)" -eq 1 ] && break; sleep 0.1; done
check "first pass restored Ethernet0 (IPv6)" [ "$(stale Ethernet0 fc00::2 00:01:02:03:04:02)" -eq 1 ]
check "first pass restored Ethernet12's IPv4" [ "$(stale Ethernet12 10.0.12.2 00:01:02:03:04:12)" -eq 1 ]
check "first pass: Ethernet12's IPv6 waits for an IPv6 address" absent fc00:12::2
check "no flag while interfaces wait" [ -z "$(flag)" ]
N link set Ethernet4 up
S hset 'VLAN_MEMBER_TABLE|Vlan1000|Ethernet8' tagging_mode untagged >/dev/null
N addr add fc00:12::1/64 dev Ethernet12 nodad
wait "$RESTORE_PID"; rc=$?; RESTORE_PID=""
check "system: exit 0" [ "$rc" -eq 0 ]
check "system: flag set" [ "$(flag)" = "true" ]
check "system: Ethernet0 IPv4 STALE" [ "$(stale Ethernet0 10.0.0.2 00:01:02:03:04:02)" -eq 1 ]
check "system: ARP answered: REACHABLE" reachable Ethernet0 10.0.0.2 00:01:02:03:04:02
check "system: NS answered: REACHABLE" reachable Ethernet0 fc00::2 00:01:02:03:04:02
check "system: Ethernet4 restored once up" [ "$(stale Ethernet4 10.0.4.2 00:01:02:03:04:04)" -eq 1 ]
check "system: Vlan1000 restored once it has a member" [ "$(stale Vlan1000 192.168.0.2 00:01:02:03:04:05)" -eq 1 ]
check "system: Ethernet12 IPv6 restored once it has an address" \
  [ "$(stale Ethernet12 fc00:12::2 00:01:02:03:04:12)" -eq 1 ]
# Nothing at all on lo: the kernel files an entry added there under 0.0.0.0, not its address.
check "system: lo (up, with an address) not restored" [ -z "$(N neigh show nud all dev lo)" ]
check "system: entry without neigh not restored" absent 10.0.0.9
check "system: entry without neigh logged" logged "Ethernet0:10.0.0.9: not restored: "
check "system: bad MAC not restored" absent 10.0.0.10
check "system: bad MAC logged" logged "Ethernet0:10.0.0.10: not restored: "
check "system: non-canonical key not restored" absent fc00::10
check "system: non-canonical key logged" logged "Ethernet0:FC00::10: not restored: key is not"
check "system: no daemon wording" bash -c "! grep -E 'will be (deleted|repaired)' '$DIR/restore.log'"
check "system: summary logged" logged "6 restored, 0 refused, 0 not ready"
check "system: waited once for the VLAN's members" \
  [ "$(grep -c "Vlan1000 has its members; waiting 1 s once" "$DIR/restore.log")" -eq 1 ]

check "system: progress textfile done" grep -q '^neighsyncd_restore_phase{phase="done"} 1$' "$DIR/restore.prom"
check "system: progress counts probes" grep -q '^neighsyncd_restore_probes_sent 6$' "$DIR/restore.prom"

# --from-journal: APPL_DB has lost NEIGH_TABLE; the journal's store view (a snapshot's) is restored.
ip netns exec "$NS" "$BIN" snapshot --db-config "$DIR/db.json" --out "$DIR/journal.sqlite" >/dev/null 2>&1
check "journal: snapshot taken" [ -s "$DIR/journal.sqlite" ]
R del NEIGH_TABLE:Ethernet0:10.0.0.2 NEIGH_TABLE:Ethernet0:fc00::2 NEIGH_TABLE:Ethernet4:10.0.4.2 \
  NEIGH_TABLE:Vlan1000:192.168.0.2 >/dev/null
S del 'NEIGH_RESTORE_TABLE|Flags' >/dev/null
N neigh flush all
restore --interval 1 --member-settle 0 --from-journal "$DIR/journal.sqlite"; rc=$?
check "journal: exit 0" [ "$rc" -eq 0 ]
check "journal: flag set" [ "$(flag)" = "true" ]
check "journal: Ethernet4 restored" [ "$(stale Ethernet4 10.0.4.2 00:01:02:03:04:04)" -eq 1 ]
check "journal: Vlan1000 restored" [ "$(stale Vlan1000 192.168.0.2 00:01:02:03:04:05)" -eq 1 ]
check "journal: source logged" \
  grep -q "reading neighbors from journal $DIR/journal.sqlite, not APPL_DB" "$DIR/restore.log"
check "journal: its malformed items named" logged "journal: Ethernet0:10.0.0.9: not restored: malformed entry"
check "journal: summary logged" grep -q "6 restored, 0 refused, 0 not ready" <(tail -n 3 "$DIR/restore.log")
restore --from-journal "$DIR/restore.log"; rc=$?
check "journal: not a journal: exit 1" [ "$rc" -eq 1 ]
check "journal: not a journal: named" grep -q "restore failed: .*restore.log" "$DIR/restore.log"
check "journal: not a journal: progress says failed" \
  grep -q '^neighsyncd_restore_phase{phase="failed"} 1$' "$DIR/restore.prom"

# Probing is bounded by --timeout: 300 neighbors at 20 probes/s would take 15 s; every ready
# interface is added first, the probes stop at the deadline, the flag is set.
S del 'NEIGH_RESTORE_TABLE|Flags' >/dev/null
N neigh flush all
for i in $(seq 1 300); do
  echo "hset NEIGH_TABLE:Ethernet0:10.0.$((1 + i / 250)).$((i % 250 + 1)) neigh 00:01:02:03:05:01 family IPv4"
done | R >/dev/null
started=$(date +%s)
timeout 60 ip netns exec "$NS" "$BIN" restore --db-config "$DIR/db.json" --log-output stderr \
  --timeout 2 --interval 1 --probe-rate 20 >>"$DIR/restore.log" 2>&1
rc=$?
elapsed=$(( $(date +%s) - started ))
check "bounded probes: exit 0" [ "$rc" -eq 0 ]
check "bounded probes: flag set" [ "$(flag)" = "true" ]
check "bounded probes: ended by timeout + interval + 5 s (took ${elapsed} s)" [ "$elapsed" -le 8 ]
check "bounded probes: rest dropped with a NOTICE" logged "probes not sent"
check "bounded probes: all added" [ "$(N neigh show nud all dev Ethernet0 | grep -c '^10\.0\.[12]\.')" -eq 300 ]
check "bounded probes: later interface added too" [ "$(stale Ethernet12 10.0.12.2 00:01:02:03:04:12)" -eq 1 ]

# The flag comes once every neighbor is in the kernel; the paced probes (15 s here) go on after it.
S del 'NEIGH_RESTORE_TABLE|Flags' >/dev/null
N neigh flush all
ip netns exec "$NS" "$BIN" restore --db-config "$DIR/db.json" --log-output stderr --metrics "$DIR/restore.prom" \
  --timeout 30 --interval 1 --probe-rate 20 >>"$DIR/restore.log" 2>&1 &
probing=$!
for _ in $(seq 1 50); do [ "$(flag)" = "true" ] && break; sleep 0.1; done
check "flag before the probes end: flag set" [ "$(flag)" = "true" ]
check "flag before the probes end: still probing" kill -0 "$probing"
check "flag before the probes end: all added" \
  [ "$(N neigh show nud all dev Ethernet0 | grep -c '^10\.0\.[12]\.')" -eq 300 ]
check "flag before the probes end: logged" logged "nothing left to add (0 refused); flag set; "
sleep 1.5   # the progress file is rewritten about once a second while probes go out
check "flag before the probes end: the progress file says so" \
  grep -q '^neighsyncd_restore_flag_set 1$' "$DIR/restore.prom"
check "flag before the probes end: probes counted while they run" \
  awk '$1 == "neighsyncd_restore_probes_sent" && $2 > 0 { ok = 1 } END { exit !ok }' "$DIR/restore.prom"
kill "$probing" 2>/dev/null
wait "$probing" 2>/dev/null

# Redis gone: exit 1, and so no flag.
S del 'NEIGH_RESTORE_TABLE|Flags' >/dev/null
redis-cli -s "$SOCK" shutdown nosave >/dev/null 2>&1
restore --timeout 1; rc=$?
check "redis down: exit 1" [ "$rc" -eq 1 ]
check "redis down: logged" logged "restore failed"

# A usage error exits 2.
"$BIN" restore --interval 0 >/dev/null 2>&1; rc=$?
check "usage error: exit 2" [ "$rc" -eq 2 ]

echo "restore: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
