#!/usr/bin/env bash
# The supervisord contract: `neighsyncd` started as swss's supervisord starts it (no arguments),
# with SONiC's paths. A private mount namespace puts a private database_config.json at the default
# path and private folders at /run and /var/log; a private network namespace and redis-server.
# - with a good config it syncs neighbors, keeps its journal and metrics at the default paths, and
#   `neighsyncd status` needs no flags;
# - with Redis absent it keeps running and retrying;
# - with a broken config it exits non-zero (supervisord's exit listener only reacts to that).
# Usage: Tests/e2e/supervisord.sh [path/to/neighsyncd]   (root: namespaces, mounts)
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-.build/debug/neighsyncd}")
[ "$(id -u)" -eq 0 ] || { echo "FAIL supervisord: needs root for namespaces and mounts"; exit 1; }

NS="nsd-bare-$$"
NS1="nsd-bare-$$-1"
ASIC1_PID=""
DIR=$(mktemp -d /tmp/nsd-bare-XXXXXX)
SOCK="$DIR/redis.sock"
DAEMON_PID=""
CONSUMER_PID=""
FAILS=0
PASSES=0

cleanup() {
  [ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
  [ -n "$CONSUMER_PID" ] && { kill -9 "$CONSUMER_PID"; wait "$CONSUMER_PID"; } 2>/dev/null
  redis-cli -s "$SOCK" shutdown nosave >/dev/null 2>&1
  [ -n "$ASIC1_PID" ] && kill -9 "$ASIC1_PID" 2>/dev/null
  redis-cli -s "$DIR/redis1.sock" shutdown nosave >/dev/null 2>&1
  ip netns del "$NS" 2>/dev/null
  ip netns del "$NS1" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT

ok()   { PASSES=$((PASSES + 1)); echo "ok   supervisord: $*"; }
fail() {
  FAILS=$((FAILS + 1)); echo "FAIL supervisord: $*"
  [ -f "$DIR/daemon.log" ] && tail -n 20 "$DIR/daemon.log" | sed 's/^/     | /'
}
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
R() { redis-cli -s "$SOCK" -n "${DB:-0}" "$@"; }

# SONiC's paths, each backed by a private folder: the database config where the database container
# mounts it, /run (metrics) and /var/log (the journal under /var/log/swss) of the swss container.
mkdir -p "$DIR/run/redis/sonic-db" "$DIR/log" "$DIR/missing"
# `"${AS_SWSS[@]}" command...` runs it in the namespace, in a private mount namespace with SONiC's
# paths; exec all the way down, so `$!` is the daemon's pid.
swss_in() {  # namespace folder: sets AS_SWSS; the folder holds run/ and log/
  AS_SWSS=(ip netns exec "$1" unshare -m --propagation private sh -c
    'mount --bind "$0/run" /run && mount --bind "$0/log" /var/log && exec "$@"' "$2")
}
swss_in "$NS" "$DIR"
config() {  # socket path
  cat > "$DIR/run/redis/sonic-db/database_config.json" <<JSON
{"INSTANCES": {"redis": {"hostname": "127.0.0.1", "port": 0, "unix_socket_path": "$1"}},
 "DATABASES": {"APPL_DB": {"id": 0, "separator": ":", "instance": "redis"},
               "CONFIG_DB": {"id": 4, "separator": "|", "instance": "redis"},
               "STATE_DB": {"id": 6, "separator": "|", "instance": "redis"}}, "VERSION": "1.0"}
JSON
}
start_bare() { "${AS_SWSS[@]}" "$BIN" "$@" >>"$DIR/daemon.log" 2>&1 & DAEMON_PID=$!; }
stop_daemon() {  # SIGTERM to a daemon still running; its exit status
  kill -TERM "$DAEMON_PID" || return 1
  local rc=0; wait "$DAEMON_PID" || rc=$?; DAEMON_PID=""; return $rc; }
still_running_after() { sleep "$1"; kill -0 "$DAEMON_PID" 2>/dev/null; }
exits_nonzero_within() {  # seconds
  for _ in $(seq $(( $1 * 10 ))); do
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      local rc=0; wait "$DAEMON_PID" || rc=$?; DAEMON_PID=""; echo "     exit $rc"; [ "$rc" -ne 0 ]; return
    fi
    sleep 0.1
  done
  return 1
}
wait_for() {  # seconds command...
  local s=$1; shift
  for _ in $(seq $(( s * 5 ))); do "$@" && return 0; sleep 0.2; done
  return 1
}
table_has() {  # count: NEIGH_TABLE holds that many keys, nothing pending
  [ "$(R --scan --pattern 'NEIGH_TABLE:*' | wc -l)" -eq "$1" ] && [ "$(R scard NEIGH_TABLE_KEY_SET)" -eq 0 ]
}

redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --dir "$DIR" --save "" --appendonly no \
  --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" >/dev/null
wait_for 5 R ping >/dev/null || { echo "FAIL supervisord: redis-server did not start"; exit 1; }
ip netns add "$NS" && ip netns add "$NS1"
ip -n "$NS" link add Ethernet0 type veth peer name peer0
ip -n "$NS" link set Ethernet0 up && ip -n "$NS" link set peer0 up
for i in 1 2 3; do ip -n "$NS" neigh replace "10.0.0.$i" lladdr "00:00:00:00:00:0$i" dev Ethernet0 nud permanent; done
"$BIN" consume --db-config "$DIR/run/redis/sonic-db/database_config.json" >/dev/null 2>&1 & CONSUMER_PID=$!

# 1. A good config at the default path: the bare daemon syncs, and status needs no flags.
config "$SOCK"
start_bare
check "bare neighsyncd publishes the kernel's 3 neighbors" wait_for 20 table_has 3
check "the journal is at the default path" test -s "$DIR/log/swss/neighsyncd/journal.sqlite"
check "the metrics textfile is at the default path" wait_for 10 test -s "$DIR/run/neighsyncd/metrics.prom"
check "the metrics name the version" grep -q "^neighsyncd_build_info{version=\"$("$BIN" --version)\"} 1" \
  "$DIR/run/neighsyncd/metrics.prom"
"${AS_SWSS[@]}" "$BIN" status > "$DIR/status.txt" 2>&1
check "status with no flags reads both default files" \
  grep -qE '^journal: .*/var/log/swss/neighsyncd/journal.sqlite' "$DIR/status.txt"
check "status shows the version" grep -q "^version: *$("$BIN" --version)" "$DIR/status.txt"
ip -n "$NS" neigh del 10.0.0.3 dev Ethernet0
check "a deleted neighbor leaves NEIGH_TABLE" wait_for 20 table_has 2
check "SIGTERM: exit 0" stop_daemon

# 2. Redis absent: the daemon keeps running and retrying (supervisord must not see it exit).
config "$DIR/missing/redis.sock"
start_bare
check "with Redis absent it keeps running" still_running_after 3
check "and then stops on SIGTERM with exit 0" stop_daemon

# 3. A broken config: a non-zero exit, at once.
echo '{"INSTANCES": {' > "$DIR/run/redis/sonic-db/database_config.json"
start_bare
check "a broken database_config.json exits non-zero" exits_nonzero_within 10
config "$SOCK"
start_bare --batch-size 0
check "a bad flag exits non-zero" exits_nonzero_within 10

# 4. Multi-ASIC: every swss container mounts the same /var/log/swss; each ASIC's daemon (NAMESPACE_ID)
# keeps a journal of its own, so none finds the journal in use and exits.
redis-server --port 0 --unixsocket "$DIR/redis1.sock" --unixsocketperm 700 --dir "$DIR" --save "" \
  --appendonly no --daemonize yes --pidfile "$DIR/redis1.pid" --logfile "$DIR/redis1.log" >/dev/null
mkdir -p "$DIR/asic1/run/redis/sonic-db" && ln -s ../log "$DIR/asic1/log"
sed "s#$SOCK#$DIR/redis1.sock#" "$DIR/run/redis/sonic-db/database_config.json" \
  > "$DIR/asic1/run/redis/sonic-db/database_config.json"
NAMESPACE_ID=0 start_bare
swss_in "$NS1" "$DIR/asic1"
NAMESPACE_ID=1 "${AS_SWSS[@]}" "$BIN" >>"$DIR/daemon.log" 2>&1 &
ASIC1_PID=$!
check "two ASICs' daemons run side by side" eval 'still_running_after 3 && kill -0 "$ASIC1_PID"'
check "with a journal each" test -s "$DIR/log/swss/neighsyncd/journal.asic0.sqlite" -a \
  -s "$DIR/log/swss/neighsyncd/journal.asic1.sqlite"
check "the first stops on SIGTERM with exit 0" stop_daemon
DAEMON_PID=$ASIC1_PID ASIC1_PID=""
check "the second too" stop_daemon

echo "supervisord: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
