#!/usr/bin/env bash
# End-to-end tests of `neighsyncd run`: the built binary in a private network namespace, a
# private redis-server on a unix socket, and `neighsyncd consume` playing orchagent.
# Usage: Tests/e2e/e2e.sh [path/to/neighsyncd]   (root: namespaces, sysctl)
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-.build/debug/neighsyncd}")
[ "$(id -u)" -eq 0 ] || { echo "FAIL e2e: needs root for network namespaces"; exit 1; }
scripts/kernel-limits

NS="nsd-e2e-$$"
DIR=$(mktemp -d /tmp/nsd-e2e-XXXXXX)
SOCK="$DIR/redis.sock"
DAEMON_PID=""
CONSUMER_PID=""
SYSLOG_PID=""
FAILS=0
PASSES=0

cleanup() {
  [ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
  [ -n "$CONSUMER_PID" ] && { kill -9 "$CONSUMER_PID"; wait "$CONSUMER_PID"; } 2>/dev/null
  [ -n "$SYSLOG_PID" ] && { kill -9 "$SYSLOG_PID"; wait "$SYSLOG_PID"; } 2>/dev/null
  redis-cli -s "$SOCK" shutdown nosave >/dev/null 2>&1
  ip netns del "$NS" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT

ok()   { PASSES=$((PASSES + 1)); echo "ok   e2e: $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL e2e: $*"; [ -f "$DIR/daemon.log" ] && tail -n 20 "$DIR/daemon.log" | sed 's/^/     | /'; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

R()  { redis-cli -s "$SOCK" -n "${DB:-0}" "$@"; }
N()  { ip -n "$NS" "$@"; }

start_redis() {
  redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --dir "$DIR" --save "" --appendonly no \
    --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" \
    --notify-keyspace-events AKE >/dev/null  # as SONiC's database container configures it
  for _ in $(seq 100); do R ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "redis-server did not start"; exit 1
}
stop_redis() { kill -9 "$(cat "$DIR/redis.pid")" 2>/dev/null; rm -f "$SOCK"; sleep 0.1; }

cat > "$DIR/db.json" <<JSON
{"INSTANCES": {"redis": {"hostname": "127.0.0.1", "port": 0, "unix_socket_path": "$SOCK"}},
 "DATABASES": {"APPL_DB": {"id": 0, "separator": ":", "instance": "redis"},
               "CONFIG_DB": {"id": 4, "separator": "|", "instance": "redis"},
               "STATE_DB": {"id": 6, "separator": "|", "instance": "redis"}}, "VERSION": "1.0"}
JSON

start_daemon() {  # extra flags...
  ip netns exec "$NS" "$BIN" run --db-config "$DIR/db.json" --journal "${JOURNAL:-$DIR/journal.sqlite}" \
    --log-output stderr --log-level "${LOG_LEVEL:-info}" --metrics "$DIR/metrics.prom" "$@" >>"$DIR/daemon.log" 2>&1 &
  DAEMON_PID=$!
}
stop_daemon() {  # SIGTERM; returns the exit status
  [ -n "$DAEMON_PID" ] || return 0
  kill -TERM "$DAEMON_PID"; local rc=0; wait "$DAEMON_PID" || rc=$?; DAEMON_PID=""; return $rc
}
kill_daemon() { [ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""; }
start_consumer() { "$BIN" consume --db-config "$DIR/db.json" >/dev/null 2>&1 & CONSUMER_PID=$!; }

# APPL_DB (as orchagent will see it) equals the kernel, by the reconciler's own rules and by count.
converged() {
  N -j neigh show nud all > "$DIR/k.json"
  "$BIN" store-dump --db-config "$DIR/db.json" > "$DIR/s.json" || return 1
  DB=4 R --scan --pattern '*' > /dev/null
  "$BIN" reconcile --kernel "$DIR/k.json" --store "$DIR/s.json" ${CONFIG_DUMP:+--config-db "$CONFIG_DUMP"} > "$DIR/plan.txt" 2>&1
}
wait_converged() {  # seconds
  for _ in $(seq $(( ${1:-30} * 5 ))); do converged && return 0; sleep 0.2; done
  head -n 5 "$DIR/plan.txt"; return 1
}
# Every published neighbor is in NEIGH_TABLE once the consumer popped it.
table_count() { R --scan --pattern 'NEIGH_TABLE:*' | wc -l; }
kernel_publishable() {  # REACHABLE/STALE/PERMANENT/DELAY/PROBE with a MAC, no fe80/ff02, on our links
  N neigh show nud all | grep -vE '^(fe80|ff02)' | grep -E 'lladdr' | grep -vE 'NOARP|FAILED|INCOMPLETE' | grep -vc 'ff:ff:ff:ff:ff:ff'
}
wait_table() {  # expected count
  for _ in $(seq 150); do [ "$(table_count)" -eq "$1" ] && [ "$(R scard NEIGH_TABLE_KEY_SET)" -eq 0 ] && return 0; sleep 0.2; done
  echo "NEIGH_TABLE has $(table_count), expected $1"; return 1
}
burst() {  # op count offset mac-prefix
  burst_file "$@"
  N -force -batch "$DIR/burst-$3.txt" 2>/dev/null
}
burst_file() {  # op count offset mac-prefix: writes the ip -batch file only
  python3 - "$@" > "$DIR/burst-$3.txt" <<'PY'
import sys
op, n, off, mp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]   # mp: one hex digit
devs = ["Ethernet0", "Ethernet4", "Vlan1000"]
for i in range(off, off + n):
    ip = f"10.{100 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}" if i % 2 == 0 else f"2001::{i >> 16:x}:{i & 0xffff:x}"
    if op == "add":
        print(f"neigh replace {ip} lladdr 0{mp}:00:00:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x} dev {devs[i % 3]} nud reachable")
    else:
        print(f"neigh del {ip} dev {devs[i % 3]}")
PY
  [ "${PIPESTATUS[0]}" -eq 0 ] || fail "burst_file $*: the generator failed; the burst is empty"
}

# --- the world ---------------------------------------------------------------------------
start_redis
ip netns add "$NS"
N link add Ethernet0 type veth peer name peer0
N link add Ethernet4 type veth peer name peer4
N link add Ethernet8 type veth peer name peer8
N link add Vlan1000 type bridge
for l in Ethernet0 Ethernet4 Ethernet8 Vlan1000 peer0 peer4 peer8; do N link set "$l" up; done
start_consumer

# --- 0. kernel-dump: the raw table by default; --published filters; reconcile decides the same ----
N neigh add 10.9.0.50 lladdr 00:01:02:03:09:50 dev Ethernet8 nud noarp
N neigh add 10.9.0.51 dev Ethernet8 nud incomplete
N neigh add 10.9.0.52 dev Ethernet8 nud failed
N neigh add 10.9.0.54 lladdr 00:01:02:03:09:54 dev Ethernet8 nud reachable
kdump() { ip netns exec "$NS" "$BIN" kernel-dump --json "$@"; }
kdump > "$DIR/raw.json" 2>"$DIR/kdump.err"; kdump --published > "$DIR/published.json" 2>>"$DIR/kdump.err"
has() { python3 -c 'import json, sys; t = json.load(open(sys.argv[1]))
sys.exit(0 if any(e["dst"] == sys.argv[2] and e.get("state") == [sys.argv[3]] for e in t) else 1)' "$@" 2>/dev/null; }
R_JSON="$DIR/raw.json"
check "kernel-dump: NOARP, INCOMPLETE and FAILED entries by default" eval \
  'has "$R_JSON" 10.9.0.50 NOARP && has "$R_JSON" 10.9.0.51 INCOMPLETE && has "$R_JSON" 10.9.0.52 FAILED'
check "kernel-dump --published: only what the daemon would publish" eval \
  'has "$DIR/published.json" 10.9.0.54 REACHABLE && ! grep -qE "10\.9\.0\.5[012]" "$DIR/published.json"'
echo '{}' > "$DIR/empty-store.json"
plan_of() { "$BIN" reconcile --kernel "$1" --store "$DIR/empty-store.json" --format json 2>/dev/null; [ $? -eq 1 ]; }
N -j neigh show nud all > "$DIR/ip.json"
check "reconcile: the same plan from a raw dump, a filtered one and ip -j neigh" eval \
  'plan_of "$DIR/raw.json" > "$DIR/plan-raw" && plan_of "$DIR/published.json" > "$DIR/plan-published" \
   && plan_of "$DIR/ip.json" > "$DIR/plan-ip" && grep -q "Ethernet8:10.9.0.54" "$DIR/plan-raw" \
   && cmp -s "$DIR/plan-raw" "$DIR/plan-published" && cmp -s "$DIR/plan-raw" "$DIR/plan-ip"'
[ -s "$DIR/kdump.err" ] && fail "kernel-dump wrote to stderr: $(head -n 3 "$DIR/kdump.err")"
for a in 10.9.0.50 10.9.0.51 10.9.0.52 10.9.0.54; do N neigh del "$a" dev Ethernet8; done

# --- 1. test_neighbor: IPv6 and IPv4 add/remove, exact fields -----------------------------------
# A symlink planted at the metrics file's old fixed temp name, and a umask that hides nothing.
echo precious > "$DIR/victim"
for t in metrics.prom.tmp .metrics.prom.tmp metrics.prom.new; do ln -s "$DIR/victim" "$DIR/$t"; done
UMASK=$(umask); umask 000
start_daemon
umask "$UMASK"
burst add 3000 0 2
check "cold start publishes 3,000 neighbors" wait_converged 30
wait_file() { for _ in $(seq 150); do [ -f "$1" ] && return 0; sleep 0.2; done; return 1; }
check "metrics written under umask 000: mode 0644, planted symlinks not followed" eval \
  'wait_file "$DIR/metrics.prom" && [ "$(stat -c %a "$DIR/metrics.prom")" = 644 ] && [ "$(cat "$DIR/victim")" = precious ]'
check "orchagent sees them all" wait_table "$(kernel_publishable)"
N neigh add 2000::2 lladdr 00:01:02:03:04:05 dev Ethernet8 nud permanent
N neigh add 10.0.0.2 lladdr 00:01:02:03:04:05 dev Ethernet8 nud permanent
sleep 0.5
check "IPv6 entry has exactly neigh and family=IPv6" test "$(R hgetall NEIGH_TABLE:Ethernet8:2000::2 | tr '\n' ' ')" = "neigh 00:01:02:03:04:05 family IPv6 "
check "IPv4 entry has exactly neigh and family=IPv4" test "$(R hgetall NEIGH_TABLE:Ethernet8:10.0.0.2 | tr '\n' ' ')" = "neigh 00:01:02:03:04:05 family IPv4 "
N neigh del 2000::2 dev Ethernet8; N neigh del 10.0.0.2 dev Ethernet8
sleep 0.5
check "removed neighbors leave NEIGH_TABLE" test "$(R exists NEIGH_TABLE:Ethernet8:2000::2 NEIGH_TABLE:Ethernet8:10.0.0.2)" -eq 0
N neigh replace 10.0.0.3 lladdr 00:00:00:00:00:01 dev Ethernet8 nud reachable
N neigh replace 10.0.0.3 lladdr 00:00:00:00:00:02 dev Ethernet8 nud reachable
N neigh replace 10.0.0.3 lladdr 00:00:00:00:00:03 dev Ethernet8 nud reachable
sleep 0.5
check "MAC changed twice: kernel and APPL_DB agree" test "$(R hget NEIGH_TABLE:Ethernet8:10.0.0.3 neigh)" = "00:00:00:00:00:03"

# --- 1b. link names that are not keys (issue 11, defect 9) -------------------------------------------
# Eth\xff and Eth\xfe once both became "Eth\uFFFD": one key for two links. They are refused.
FF=$(printf 'Eth\377'); FE=$(printf 'Eth\376')
N link add "$FF" type veth peer name peerff; N link add "$FE" type veth peer name peerfe
for l in "$FF" "$FE" peerff peerfe; do N link set "$l" up; done
N neigh replace 10.77.0.2 lladdr 00:00:00:00:77:01 dev "$FF" nud permanent
N neigh replace 10.77.0.2 lladdr 00:00:00:00:77:02 dev "$FE" nud permanent
N neigh replace 10.77.0.9 lladdr 00:00:00:00:77:09 dev Ethernet8 nud permanent   # a marker, handled after them
wait_key() { for _ in $(seq 150); do [ "$(R exists "$1")" -eq 1 ] && return 0; sleep 0.2; done; return 1; }
wait_key_value() { for _ in $(seq 150); do [ "$(R hget "$1" neigh)" = "$2" ] && return 0; sleep 0.2; done; return 1; }
check "a neighbor after those on refused links is published" wait_key NEIGH_TABLE:Ethernet8:10.77.0.9
check "neighbors on links named Eth\\xff / Eth\\xfe are never published" \
  test -z "$(R --scan --pattern '*10.77.0.2*'; R smembers NEIGH_TABLE_KEY_SET | grep -a 10.77.0.2)"
check "no published key holds U+FFFD" test "$(R --scan | LC_ALL=C grep -ac $'\xef\xbf\xbd')" -eq 0
N link del "$FF"; N link del "$FE"; N neigh del 10.77.0.9 dev Ethernet8

# --- 2. link-local on/off, existing link-local neighbors replayed -----------------------------------
N neigh add fe80::2 lladdr 00:00:00:00:fe:02 dev Ethernet0 nud reachable
sleep 0.3
check "fe80 ignored while link-local is off" test "$(R exists NEIGH_TABLE:Ethernet0:fe80::2)" -eq 0
DB=4 R hset "INTERFACE|Ethernet0" ipv6_use_link_local_only enable >/dev/null
sleep 0.5
check "turning link-local on publishes the existing fe80 neighbor" test "$(R hget NEIGH_TABLE:Ethernet0:fe80::2 neigh)" = "00:00:00:00:fe:02"
DB=4 R del "INTERFACE|Ethernet0" >/dev/null
sleep 0.5
check "turning it off removes it" test "$(R exists NEIGH_TABLE:Ethernet0:fe80::2)" -eq 0

# --- 3. dual-ToR: unresolved neighbor gets the zero MAC, DELNEIGH removes it -----------------------
DB=4 R hset "PEER_SWITCH|peer_switch_hostname" address_ipv4 10.1.0.33 >/dev/null
N neigh add 10.0.0.77 dev Ethernet8 nud incomplete
sleep 0.5
check "dual-ToR: INCOMPLETE published with 00:00:00:00:00:00" test "$(R hget NEIGH_TABLE:Ethernet8:10.0.0.77 neigh)" = "00:00:00:00:00:00"
N neigh del 10.0.0.77 dev Ethernet8
sleep 0.5
check "dual-ToR: DELNEIGH removes it" test "$(R exists NEIGH_TABLE:Ethernet8:10.0.0.77)" -eq 0

# --- 3b. dual-ToR: a FAILED IPv6 neighbor goes to NEIGH_FAILED_TABLE, a valid state removes it ------
# A real FAILED: one datagram to an address nobody answers makes the kernel solicit it (INCOMPLETE,
# no notification) and report FAILED about 3 s later. (`ip neigh replace … nud failed` notifies
# nothing.) nbrmgrd's pop of the table, as a ConsumerStateTable does it:
pop_failed() {
  R eval "for _, k in ipairs(redis.call('SPOP', KEYS[1], 128)) do
      if redis.call('SREM', KEYS[2], k) == 1 then redis.call('DEL', 'NEIGH_FAILED_TABLE:' .. k) end
      local f = redis.call('HGETALL', '_NEIGH_FAILED_TABLE:' .. k)
      if #f > 0 then redis.call('HSET', 'NEIGH_FAILED_TABLE:' .. k, unpack(f)) end
      redis.call('DEL', '_NEIGH_FAILED_TABLE:' .. k)
    end" 2 NEIGH_FAILED_TABLE_KEY_SET NEIGH_FAILED_TABLE_DEL_SET >/dev/null
}
failed_row() {  # the consumed row's fields, or "gone"
  pop_failed
  if [ "$(R exists NEIGH_FAILED_TABLE:Ethernet8:fc02:1000::5)" -eq 0 ]; then echo gone; return; fi
  R hgetall NEIGH_FAILED_TABLE:Ethernet8:fc02:1000::5 | tr '\n' ' '
}
wait_failed_row() {  # expected row text
  for _ in $(seq 50); do [ "$(failed_row)" = "$1" ] && return 0; sleep 0.2; done; return 1
}
N addr add fc02:1000::1/64 dev Ethernet8 nodad
ip netns exec "$NS" python3 -c 'import socket
socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"x", ("fc02:1000::5", 9))'
for _ in $(seq 50); do N neigh show fc02:1000::5 dev Ethernet8 | grep -q FAILED && break; sleep 0.2; done
check "dual-ToR: the kernel reports fc02:1000::5 FAILED" eval 'N neigh show fc02:1000::5 dev Ethernet8 | grep -q FAILED'
check "dual-ToR: the FAILED IPv6 neighbor is in NEIGH_FAILED_TABLE with NULL=NULL" wait_failed_row "NULL NULL "
check "dual-ToR: NEIGH_TABLE still gets its zero-MAC SET" \
  test "$(R hget NEIGH_TABLE:Ethernet8:fc02:1000::5 neigh)" = "00:00:00:00:00:00"
N neigh replace fc02:1000::5 lladdr 00:01:02:03:04:05 dev Ethernet8 nud reachable
check "dual-ToR: resolved (REACHABLE), its NEIGH_FAILED_TABLE row is removed" wait_failed_row gone
check "dual-ToR: and NEIGH_TABLE holds its MAC" wait_key_value NEIGH_TABLE:Ethernet8:fc02:1000::5 00:01:02:03:04:05
failed_counted() {
  grep -qE '^neighsyncd_failed_table_sets_total [1-9]' "$DIR/metrics.prom" \
    && grep -qE '^neighsyncd_failed_table_dels_total [1-9]' "$DIR/metrics.prom"
}
wait_failed_counted() { for _ in $(seq 40); do failed_counted && return 0; sleep 0.2; done; return 1; }
check "dual-ToR: the metrics count the row's set and del" wait_failed_counted
N neigh del fc02:1000::5 dev Ethernet8
N addr del fc02:1000::1/64 dev Ethernet8
DB=4 R del "PEER_SWITCH|peer_switch_hostname" >/dev/null

# --- 4. 50,000-neighbor burst, add then delete, with an 8 MiB receive buffer ------------------------
check "SIGTERM exits 0" stop_daemon
check "each refused link was logged once, escaped (1b)" \
  test "$(grep -c 'named "Eth\\x\(ff\|fe\)" refused' "$DIR/daemon.log")" -eq 2
start_daemon --rcvbuf 8388608
sleep 1
burst add 50000 10000 4
check "50k burst added: APPL_DB equals the kernel entry by entry" wait_converged 120
burst del 50000 10000 4
check "50k burst deleted: APPL_DB equals the kernel entry by entry" wait_converged 120
check "orchagent's table matches the kernel" wait_table "$(kernel_publishable)"
grep -q "overrun" "$DIR/daemon.log" && echo "     (the burst overran the 8 MiB buffer; recovered by re-dump)"

# --- 5. SIGKILL in the middle of a burst, then restart -----------------------------------------
burst add 20000 100000 6 &
BURST=$!
sleep 0.3
kill_daemon
wait $BURST
start_daemon
check "SIGKILL mid-burst, restart: converged, nothing lost or extra" wait_converged 60

# --- 6. redis-server restarted in the middle of a burst (its data is lost) -------------------------
kill -9 "$CONSUMER_PID"; wait "$CONSUMER_PID" 2>/dev/null; CONSUMER_PID=""
burst del 20000 100000 6 &
BURST=$!
sleep 0.2
stop_redis
start_redis
wait $BURST
start_consumer
check "redis restarted mid-burst: converged, nothing lost or extra" wait_converged 60
check "orchagent's table rebuilt" wait_table "$(kernel_publishable)"
# The same with nothing to write: the idle APPL_DB connection closing is what says the table is gone.
kill -9 "$CONSUMER_PID"; wait "$CONSUMER_PID" 2>/dev/null; CONSUMER_PID=""
stop_redis
start_redis
start_consumer
check "redis restarted while idle: NEIGH_TABLE rewritten" wait_converged 60
check "SIGTERM exits 0 after all that" stop_daemon
grep -q '^neighsyncd_batches_acknowledged_total [1-9]' "$DIR/metrics.prom" && ok "metrics textfile written" || fail "metrics textfile"
ip netns exec "$NS" "$BIN" snapshot --db-config "$DIR/db.json" --out "$DIR/snap.sqlite" > /dev/null
"$BIN" reconcile --journal "$DIR/snap.sqlite" > "$DIR/snap-plan.txt"
check "snapshot + reconcile --journal: in sync ($(head -n 1 "$DIR/snap-plan.txt"))" grep -q '^0 set, 0 del, [1-9]' "$DIR/snap-plan.txt"
R del "NEIGH_TABLE:Ethernet0:10.100.0.0" >/dev/null   # an entry orchagent lost
rm -f "$DIR/snap2.sqlite"; ip netns exec "$NS" "$BIN" snapshot --db-config "$DIR/db.json" --out "$DIR/snap2.sqlite" > /dev/null
rc=0; "$BIN" reconcile --journal "$DIR/snap2.sqlite" --format json > "$DIR/snap-plan.json" || rc=$?
check "snapshot + reconcile --journal finds the lost entry (exit 1)" test "$rc" -eq 1 -a "$(grep -c 'Ethernet0:10.100.0.0' "$DIR/snap-plan.json")" -eq 1
"$BIN" status --metrics "$DIR/metrics.prom" --journal "$DIR/journal.sqlite" > "$DIR/status.txt" 2>&1
check "neighsyncd status shows phase, counts and the journal" grep -qE '^journal: .*last batch [0-9]+' "$DIR/status.txt"

# --- 7. warm restart syncup (test_warm_reboot.py::test_swss_neighbor_syncup) -----------------------
N -force -batch - <<'B' >/dev/null 2>&1
neigh flush all
B
for i in 0 1 2 3; do
  N neigh replace 10.0.0.$((i + 1)) lladdr 00:00:00:00:00:0$((i + 1)) dev Ethernet$((i < 2 ? 0 : 4)) nud reachable
  N neigh replace 2000::$((i + 1)) lladdr 00:00:00:00:01:0$((i + 1)) dev Ethernet$((i < 2 ? 0 : 4)) nud reachable
done
start_daemon; wait_converged 30; wait_table "$(kernel_publishable)" >/dev/null; stop_daemon
DB=6 R hset "WARM_RESTART_ENABLE_TABLE|swss" enable true >/dev/null
warm_step() {  # name expected-NEW expected-DELETE
  DB=6 R hset "NEIGH_RESTORE_TABLE|Flags" restored true >/dev/null
  DB=6 R hdel "WARM_RESTART_TABLE|neighsyncd" state >/dev/null
  local before; before=$(DB=6 R hget "WARM_RESTART_TABLE|neighsyncd" restore_count)
  : > "$DIR/daemon.log"
  start_daemon
  for _ in $(seq 100); do [ "$(DB=6 R hget "WARM_RESTART_TABLE|neighsyncd" state)" = reconciled ] && break; sleep 0.2; done
  local state; state=$(DB=6 R hget "WARM_RESTART_TABLE|neighsyncd" state)
  check "warm $1: APPL_DB equals the kernel" wait_converged 30
  stop_daemon   # flushes the log
  local new del
  new=$(grep -c 'cache-state:NEW' "$DIR/daemon.log"); del=$(grep -cE 'cache-state:(DELETE|STALE)' "$DIR/daemon.log")
  check "warm $1: $2 NEW, $3 DELETE (got $new, $del), state $state, restore_count +1" \
    test "$new" -eq "$2" -a "$del" -eq "$3" -a "$state" = reconciled \
         -a "$(DB=6 R hget "WARM_RESTART_TABLE|neighsyncd" restore_count)" -eq $((before + 1))
}
DB=4 R hset "WARM_RESTART|swss" neighsyncd_timer 1 >/dev/null
warm_step "step 1, nothing changed" 0 0
grep -q 'applied batch' "$DIR/daemon.log" && fail "warm step 1 wrote to APPL_DB" || ok "warm step 1: zero writes"
N neigh del 10.0.0.1 dev Ethernet0; N neigh del 10.0.0.3 dev Ethernet4; N neigh del 2000::1 dev Ethernet0; N neigh del 2000::3 dev Ethernet4
warm_step "step 2, even entries deleted" 0 4
for i in 0 2; do
  N neigh replace 10.0.0.$((i + 1)) lladdr 00:00:00:00:00:0$((i + 1)) dev Ethernet$((i < 2 ? 0 : 4)) nud reachable
  N neigh replace 2000::$((i + 1)) lladdr 00:00:00:00:01:0$((i + 1)) dev Ethernet$((i < 2 ? 0 : 4)) nud reachable
done
DB=4 R hset "WARM_RESTART|swss" neighsyncd_timer 0 >/dev/null
warm_step "step 3, re-added" 4 0
grep -q 'getWarmStartTimer.*invalid' "$DIR/daemon.log" && ok "invalid timer logged" || fail "invalid timer not logged"
DB=4 R hset "WARM_RESTART|swss" neighsyncd_timer 2 >/dev/null
for i in 0 2; do
  N neigh replace 10.0.0.$((i + 1)) lladdr 00:00:00:00:02:0$((i + 1)) dev Ethernet$((i < 2 ? 0 : 4)) nud reachable
  N neigh replace 2000::$((i + 1)) lladdr 00:00:00:00:03:0$((i + 1)) dev Ethernet$((i < 2 ? 0 : 4)) nud reachable
done
N neigh del 10.0.0.2 dev Ethernet0; N neigh del 10.0.0.4 dev Ethernet4; N neigh del 2000::2 dev Ethernet0; N neigh del 2000::4 dev Ethernet4
warm_step "step 4, MACs changed and odd deleted" 4 4
grep -q 'reconcile timer 2 s' "$DIR/daemon.log" && ok "timer from CONFIG_DB used" || fail "timer from CONFIG_DB not used"

# --- 8. restore flag never set: exit 1 ----------------------------------------------------------
DB=6 R del "NEIGH_RESTORE_TABLE|Flags" >/dev/null
start_daemon --restore-timeout 2
rc=0; wait "$DAEMON_PID" || rc=$?; DAEMON_PID=""
check "restore flag missing: exit 1" test "$rc" -eq 1
DB=6 R del "WARM_RESTART_ENABLE_TABLE|swss" >/dev/null

# --- 9. Redis refuses writes (OOM, WRONGTYPE): the connection is kept, retried with backoff --------
# Before: every refused batch reconnected, re-read APPL_DB and resynced, hundreds of times a second.
kill -9 "$CONSUMER_PID"; wait "$CONSUMER_PID" 2>/dev/null; CONSUMER_PID=""   # its HSETs would be refused too
start_daemon
check "before the refusals: converged" wait_converged 30
connections() { R info stats | sed -n 's/^total_connections_received:\([0-9]*\).*/\1/p'; }
drain_pending() {  # orchagent pops what is pending (so that overwriting the key set loses nothing)
  start_consumer
  for _ in $(seq 150); do [ "$(R scard NEIGH_TABLE_KEY_SET)" -eq 0 ] && break; sleep 0.2; done
  kill -9 "$CONSUMER_PID"; wait "$CONSUMER_PID" 2>/dev/null; CONSUMER_PID=""
}
refusing() {  # name, then the commands that make Redis refuse and the ones that lift it
  local name=$1 conns lines
  drain_pending
  eval "$2"
  conns=$(connections)
  lines=$(wc -l < "$DIR/daemon.log")
  burst add 2000 $((200000 + RANDOM * 4)) 8
  # The first refusal is logged at once, the next ones summed up after 5 s or more.
  local summary=no
  for _ in $(seq 150); do
    tail -n +"$((lines + 1))" "$DIR/daemon.log" | grep -qE "APPL_DB refused [0-9]+ writes in the last [0-9]+ s: " && { summary=yes; break; }
    sleep 0.2
  done
  local newconns=$(( $(connections) - conns - 1 ))   # the INFO itself is one
  local newlines=$(( $(wc -l < "$DIR/daemon.log") - lines ))
  check "$name: logged with a count" test "$summary" = yes
  check "$name: the connection is kept ($newconns new connections meanwhile)" test "$newconns" -le 1
  check "$name: the log is not flooded ($newlines lines meanwhile)" test "$newlines" -le 6
  check "$name: said in the metrics" grep -qE '^neighsyncd_redis_writes_refused 1$' "$DIR/metrics.prom"
  eval "$3"
  check "$name lifted: APPL_DB converges" wait_converged 30
  check "$name lifted: counted" grep -qE '^neighsyncd_redis_write_refusals_total [1-9]' "$DIR/metrics.prom"
}
refusing "OOM (maxmemory 1mb, noeviction)" \
  'R config set maxmemory-policy noeviction >/dev/null; R config set maxmemory 1mb >/dev/null' \
  'R config set maxmemory 0 >/dev/null'
refusing "WRONGTYPE (NEIGH_TABLE_KEY_SET is a string)" \
  'R set NEIGH_TABLE_KEY_SET oops >/dev/null' \
  'R del NEIGH_TABLE_KEY_SET >/dev/null'
check "SIGTERM exits 0 after the refusals" stop_daemon
start_consumer

# --- 10. Redis connections killed (CLIENT KILL normal and pubsub): the policy still follows ------
# Before: the killed CONFIG_DB connection was never replaced ("SCAN while 1 replies are still awaited").
start_daemon
check "before the kill: converged" wait_converged 30
N neigh replace fe80::77 lladdr 00:00:00:00:fe:77 dev Ethernet4 nud reachable
R client kill type normal >/dev/null
R client kill type pubsub >/dev/null
sleep 0.5
DB=4 R hset "INTERFACE|Ethernet4" ipv6_use_link_local_only enable >/dev/null
policy_followed() { [ "$(R hget NEIGH_TABLE:Ethernet4:fe80::77 neigh 2>/dev/null)" = "00:00:00:00:fe:77" ] || \
  [ "$(R hget _NEIGH_TABLE:Ethernet4:fe80::77 neigh 2>/dev/null)" = "00:00:00:00:fe:77" ]; }
wait_policy() { for _ in $(seq 100); do policy_followed && return 0; sleep 0.2; done; return 1; }
check "connections killed: a later CONFIG_DB change is applied" wait_policy
R client kill type normal >/dev/null
R client kill type pubsub >/dev/null
sleep 0.5
DB=4 R del "INTERFACE|Ethernet4" >/dev/null
check "killed again: the change back is applied too" wait_converged 20
check "no 'replies are still awaited' in the log" test "$(grep -c 'replies are still awaited' "$DIR/daemon.log")" -eq 0
check "SIGTERM exits 0 after the kills" stop_daemon
N neigh del fe80::77 dev Ethernet4

# --- 11. signals an operator or a supervisor may send: logged and ignored -----------------------
# Before: SIGUSR1, SIGUSR2 and SIGALRM killed the daemon without a log line; SIGHUP made it exit 0.
start_daemon
check "before the signals: converged" wait_converged 30
for sig in HUP USR1 USR2 ALRM PIPE; do
  kill -s "$sig" "$DAEMON_PID"
  logged=no
  for _ in $(seq 50); do grep -q "SIG$sig from pid [0-9]*: ignored; the daemon keeps running" "$DIR/daemon.log" && { logged=yes; break; }; sleep 0.1; done
  check "SIG$sig: logged as ignored" test "$logged" = yes
  check "SIG$sig: the daemon still runs" kill -0 "$DAEMON_PID"
done
N neigh replace 10.0.0.99 lladdr 00:00:00:00:00:99 dev Ethernet8 nud reachable
check "after the signals: a new neighbor is still published" wait_converged 20
check "SIGTERM still exits 0 after them" stop_daemon
N neigh del 10.0.0.99 dev Ethernet8

# --- 12. a burst right after start with a 4 KiB receive buffer: overruns end in a complete dump ----
# Before: in ~3 of 13 runs a re-dump was refused (ENOBUFS) and none came again (issue 11 defect 1).
# Whether the buffer overflows, and whether the kernel refuses a re-dump, depends on the machine's
# load: this checks convergence whatever happened; the refusal itself is covered deterministically
# by ScenarioTests.refusedDumpEndsInACompleteDump. Four writers at once make overruns likelier.
: > "$DIR/daemon.log"
start_daemon --rcvbuf 4096
sleep 1
parallel_burst() {  # op: four ip -batch writers started together
  local o BURSTS=""
  for o in 0 1 2 3; do burst_file "$1" 5000 $((300000 + o * 5000)) a; done
  for o in 0 1 2 3; do N -force -batch "$DIR/burst-$((300000 + o * 5000)).txt" 2>/dev/null & BURSTS="$BURSTS $!"; done
  wait $BURSTS
}
burst_macs() { N neigh show nud all | grep -c 'lladdr 0a:00:00:'; }   # the parallel bursts' MACs
parallel_burst add
# The convergence check alone would pass on an empty burst (a generator that fails writes none).
check "4 KiB buffer: the 20k burst reached the kernel" test "$(burst_macs)" -eq 20000
check "4 KiB buffer, 20k burst after start: APPL_DB equals the kernel" wait_converged 90
echo "     ($(grep -c 'receive buffer overrun' "$DIR/daemon.log") overruns, $(grep -c 'dump failed' "$DIR/daemon.log") dumps refused and redone)"
parallel_burst del
check "4 KiB buffer, 20k deleted at once: APPL_DB equals the kernel" wait_converged 90
check "SIGTERM exits 0 after the tiny-buffer bursts" stop_daemon

# --- 13. folders the daemon makes are 0700 whatever the umask -----------------------------------
umask 000
JOURNAL="$DIR/new/sub/journal.sqlite" start_daemon
umask "$UMASK"
wait_file "$DIR/new/sub/journal.sqlite"
stop_daemon
check "journal folders made under umask 000 are 0700" \
  test "$(stat -c %a "$DIR/new")" = 700 -a "$(stat -c %a "$DIR/new/sub")" = 700

# --- 14. a password file every user can read is accepted, with a WARNING naming it and its mode ----
echo s3cret > "$DIR/password"; chmod 0644 "$DIR/password"
: > "$DIR/daemon.log"
start_daemon --redis-password-file "$DIR/password"   # this redis has no password: it keeps retrying
wait_log() { for _ in $(seq 150); do grep -q "$1" "$DIR/daemon.log" && return 0; sleep 0.2; done; return 1; }
check "world-readable password file: WARNING with its name and mode" \
  wait_log "WARN Redis password file $DIR/password is mode 0644"
stop_daemon

# --- 15. CONFIG_DB LOGGER|neighsyncd: created at start, a level change followed without a restart ---
# `swssloglevel -l DEBUG -c neighsyncd` is this HSET. Before: the row was never written nor read,
# the level changed only by a restart, and `--log-level NOTICE` was refused.
DB=4 R del "LOGGER|neighsyncd" >/dev/null
: > "$DIR/daemon.log"
LOG_LEVEL=NOTICE start_daemon
STARTED_PID=$DAEMON_PID
row_is() {  # field value
  for _ in $(seq 150); do [ "$(DB=4 R hget "LOGGER|neighsyncd" "$1")" = "$2" ] && return 0; sleep 0.2; done; return 1
}
check "LOGGER|neighsyncd created at start: LOGLEVEL NOTICE" row_is LOGLEVEL NOTICE
# SONiC's default, never the command line's: a run from a terminal must not leave STDERR in the row.
check "LOGGER|neighsyncd created at start: LOGOUTPUT SYSLOG" row_is LOGOUTPUT SYSLOG
check "at NOTICE: converged" wait_converged 30
N neigh replace 10.0.0.98 lladdr 00:00:00:00:00:98 dev Ethernet8 nud reachable
check "at NOTICE: a new neighbor is published" wait_converged 20
check "at NOTICE: no DEBUG line" test "$(grep -c ' DEBUG ' "$DIR/daemon.log")" -eq 0
DB=4 R hset "LOGGER|neighsyncd" LOGLEVEL DEBUG >/dev/null
check "the change is logged" wait_log "log level DEBUG, output STDERR (CONFIG_DB LOGGER|neighsyncd)"
N neigh replace 10.0.0.97 lladdr 00:00:00:00:00:97 dev Ethernet8 nud reachable
check "after HSET LOGLEVEL DEBUG: DEBUG lines appear" wait_log " DEBUG sent batch [0-9]*: 1 changes"
check "... without a restart" \
  test "$DAEMON_PID" = "$STARTED_PID" -a "$(grep -c 'databases from' "$DIR/daemon.log")" -eq 1
DB=4 R hset "LOGGER|neighsyncd" LOGLEVEL notice >/dev/null
check "and back to NOTICE (any case)" wait_log "log level NOTICE, output STDERR"
check "SIGTERM exits 0 after the level changes" stop_daemon
N neigh del 10.0.0.98 dev Ethernet8; N neigh del 10.0.0.97 dev Ethernet8

# --- 16. under a supervisor (stderr not a terminal): syslog only, in swss-common's form ------------
# Before: every line went to stderr, which supervisord sends to syslog, and to syslog itself, where
# it was garbage (the identifier and the message were dangling pointers), facility daemon. A private
# /dev (a mount namespace) whose /dev/log is a socket this test reads.
python3 - "$DIR/syslog.sock" "$DIR/syslog.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).replace(b"\n", b"\\n") + b"\n")
PY
SYSLOG_PID=$!
for _ in $(seq 100); do [ -S "$DIR/syslog.sock" ] && break; sleep 0.05; done
DB=4 R del "LOGGER|neighsyncd" >/dev/null
: > "$DIR/daemon.log"
# shellcheck disable=SC2016
unshare -m --propagation private sh -c 'd=$1; shift; mkdir "$d/hostdev" && mount --rbind /dev "$d/hostdev" &&
  mount -t tmpfs tmpfs /dev && for f in "$d"/hostdev/*; do ln -s "$f" /dev/; done &&
  rm -f /dev/log && ln -s "$d/syslog.sock" /dev/log && exec "$@"' sh "$DIR" \
  ip netns exec "$NS" "$BIN" run --db-config "$DIR/db.json" --journal "$DIR/journal.sqlite" \
  --metrics "$DIR/metrics.prom" >>"$DIR/daemon.log" 2>&1 &
DAEMON_PID=$!
check "default output under a supervisor: LOGGER|neighsyncd LOGOUTPUT SYSLOG" row_is LOGOUTPUT SYSLOG
check "syslog output: converged" wait_converged 30
check "SIGTERM exits 0 with syslog output" stop_daemon
syslog_has() { for _ in $(seq 50); do grep -q "$1" "$DIR/syslog.txt" && return 0; sleep 0.1; done; return 1; }
check "syslog: facility user, identifier neighsyncd without a pid, as swss daemons" \
  syslog_has '^<13>[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]* neighsyncd: databases from '
check "syslog: the exit line too" syslog_has '^<13>.* neighsyncd: exit 0$'
check "syslog: no timestamp or level of our own in a line" \
  test "$(grep -cE 'neighsyncd(\[[0-9]+\])?: (20[0-9][0-9]-|NOTICE )' "$DIR/syslog.txt")" -eq 0
check "stderr: nothing (each line logged once)" test ! -s "$DIR/daemon.log"
kill -9 "$SYSLOG_PID"; wait "$SYSLOG_PID" 2>/dev/null; SYSLOG_PID=""

# --- 17. a log output whose reader went away (a closed pipe): the lines are lost, not the daemon ---
# Before: Foundation's FileHandle.write stopped the process on EPIPE (exit 132), and a CONFIG_DB
# LOGOUTPUT change could point the log at such a stream.
DB=4 R del "LOGGER|neighsyncd" >/dev/null
ip netns exec "$NS" "$BIN" run --db-config "$DIR/db.json" --journal "$DIR/journal.sqlite" --log-output stderr \
  --log-level info --metrics "$DIR/metrics.prom" 2> >(head -c 1 >/dev/null) &
DAEMON_PID=$!
check "stderr a closed pipe: converged" wait_converged 30
burst add 200 300000 7
check "stderr a closed pipe: a burst logged at INFO is published" wait_converged 30
check "stderr a closed pipe: still running" kill -0 "$DAEMON_PID"
check "stderr a closed pipe: SIGTERM exits 0" stop_daemon
burst del 200 300000 7

# --- 18. drift: APPL_DB changed behind the daemon's back is repaired (issue 15) -------------------
# What sonic-mgmt's test_arp_update corrupts on purpose: a consumed entry's MAC, and the same with a
# deleted entry and one the daemon never wrote. APPL_DB's keyspace notifications name the keys: a
# verifying read follows within about a second and repairs them. The periodic read is an hour away,
# so it cannot be what did it; the documented bound (docs/operations.md, "Drift repair") is 20 s.
kill -0 "$CONSUMER_PID" 2>/dev/null || start_consumer   # an earlier step's CLIENT KILL may have ended it
start_daemon --verify-interval 3600
N neigh replace 10.88.0.1 lladdr 00:00:00:00:88:01 dev Ethernet8 nud permanent
N neigh replace 10.88.0.2 lladdr 00:00:00:00:88:02 dev Ethernet8 nud permanent
check "drift: converged before the corruption" wait_converged 30
check "drift: the two entries are consumed" eval \
  'wait_key_value NEIGH_TABLE:Ethernet8:10.88.0.1 00:00:00:00:88:01 && wait_key NEIGH_TABLE:Ethernet8:10.88.0.2'
metric_is_at_least() {  # NAME MIN: the metrics textfile (written every 5 s) reaches MIN
  for _ in $(seq 50); do
    local v; v=$(awk -v n="$1" '$1 == n {print $2}' "$DIR/metrics.prom" 2>/dev/null)
    [ "${v:-0}" -ge "$2" ] 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}
# Counted from here on, so that only the three corruptions below are judged (an earlier step's
# leftovers, if any, are not this step's business).
sleep 6  # the metrics textfile is written every 5 s
drift_before() { awk -v n="neighsyncd_drift_$1_total{kind=\"$2\"}" '$1 == n {print $2}' "$DIR/metrics.prom"; }
declare -A found0 repaired0
for kind in changed missing unknown; do
  found0[$kind]=$(drift_before found "$kind"); repaired0[$kind]=$(drift_before repaired "$kind")
done
drift_t0=$(date +%s%N)
R hset NEIGH_TABLE:Ethernet8:10.88.0.1 neigh 00:00:00:00:66:66 >/dev/null
R del NEIGH_TABLE:Ethernet8:10.88.0.2 >/dev/null
R hset NEIGH_TABLE:Ethernet8:10.88.0.9 neigh 00:00:00:00:66:69 family IPv4 >/dev/null
wait_gone() { for _ in $(seq 150); do [ "$(R exists "$1")" -eq 0 ] && return 0; sleep 0.2; done; return 1; }
check "drift: the changed MAC is set back" \
  wait_key_value NEIGH_TABLE:Ethernet8:10.88.0.1 00:00:00:00:88:01
check "drift: the deleted entry is set again" \
  wait_key_value NEIGH_TABLE:Ethernet8:10.88.0.2 00:00:00:00:88:02
check "drift: the entry it never wrote is deleted" wait_gone NEIGH_TABLE:Ethernet8:10.88.0.9
drift_ms=$(( ($(date +%s%N) - drift_t0) / 1000000 ))
echo "     drift: the three corruptions repaired in $drift_ms ms (--verify-interval 3600)"
check "drift: repaired within the documented 20 s, by keyspace notifications" \
  test "$drift_ms" -lt 20000
check "drift: a verifying read asked for by notifications" \
  metric_is_at_least neighsyncd_keyspace_verifications_total 1
check "drift: NOTICE lines name the keys" eval \
  'grep -q "drift: Ethernet8:10.88.0.1 changed" "$DIR/daemon.log" && grep -q "drift: Ethernet8:10.88.0.2 missing" "$DIR/daemon.log" &&
   grep -q "drift: Ethernet8:10.88.0.9 unknown" "$DIR/daemon.log"'
metric_is() { for _ in $(seq 50); do grep -qx "$1" "$DIR/metrics.prom" && return 0; sleep 0.2; done; return 1; }
for kind in changed missing unknown; do
  f=$(( ${found0[$kind]:-0} + 1 )); r=$(( ${repaired0[$kind]:-0} + 1 ))
  check "drift: drift_found_total{kind=$kind} +1, repaired +1" eval \
    "metric_is 'neighsyncd_drift_found_total{kind=\"$kind\"} $f' &&
     metric_is 'neighsyncd_drift_repaired_total{kind=\"$kind\"} $r'"
done
"$BIN" status --metrics "$DIR/metrics.prom" > "$DIR/status.txt" 2>&1
check "drift: neighsyncd status shows the counters" grep -qE \
  "^drift: .*found changed $(( ${found0[changed]:-0} + 1 )), missing $(( ${found0[missing]:-0} + 1 )), unknown $(( ${found0[unknown]:-0} + 1 ))," \
  "$DIR/status.txt"
check "drift: neighsyncd status shows the keyspace-asked reads" grep -qE \
  "^drift: +verifications [0-9]+ \(keyspace [1-9][0-9]*\)," "$DIR/status.txt"
check "drift: SIGTERM exits 0" stop_daemon
N neigh del 10.88.0.1 dev Ethernet8; N neigh del 10.88.0.2 dev Ethernet8

echo "e2e: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
