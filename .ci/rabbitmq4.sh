#!/usr/bin/env bash
# A RabbitMQ 4.x node for CI's second broker leg, BESIDE the machine's RabbitMQ 3.x (which this never
# touches): Debian's rabbitmq-server package in a Debian chroot built with debootstrap, with its own
# node name, ports, Erlang distribution and epmd, so nothing clashes with the host's node or with the
# fault suite's scratch nodes (which take ephemeral ports).
#
#   WARREN_RMQ4_SUITE=trixie (default)  RabbitMQ 4.0.x  chroot /var/tmp/warren-rabbitmq4      AMQP 127.0.0.1:5674  management 15674
#   WARREN_RMQ4_SUITE=sid               RabbitMQ 4.3.x* chroot /var/tmp/warren-rabbitmq4-sid  AMQP 127.0.0.1:5675  management 15675
#   (* whatever sid ships that day.)  Each suite has its own node (warren4@localhost / warren4sid@localhost),
#   distribution port (25674 / 25675), epmd (4371 / 4372) and rabbitmqctl ports (25800+ / 25820+).
#   WARREN_RMQ4_ROOT / _PORT / _MGMT_PORT / _DIST_PORT / _EPMD_PORT / _CTL_PORT_MIN / _NODENAME override them.
#   The management plugin (HTTP API, for `warren ui` and its browser tests) listens on 127.0.0.1 only.
#
# The node runs as 4.x is headed and as managed brokers run it: transient non-exclusive queues are
# refused (deprecated_features.permit.transient_nonexcl_queues = false). It has two vhosts:
#   /         RabbitMQ's defaults (classic queues unless a client says otherwise)  -> AMQP_URL ".../"
#   managed   default queue type quorum, as Amazon MQ for RabbitMQ 4.x sets it     -> AMQP_URL ".../managed"
#
# Cold setup (debootstrap + apt + first boot): 1-3 min. An existing chroot with the node up: ~1 s; a
# stopped node in an existing chroot boots in ~5-10 s. Needs root. Setup log: <root>.setup.log.
#
#   source .ci/rabbitmq4.sh                     # ensure the node is up; export AMQP_URL4, AMQP_URL4_MANAGED
#   bash .ci/rabbitmq4.sh                       # the same, and print both URLs
#   bash .ci/rabbitmq4.sh version               # the node's RabbitMQ version
#   bash .ci/rabbitmq4.sh ctl ARGS...           # rabbitmqctl against the node
#   bash .ci/rabbitmq4.sh stop                  # stop the node and its epmd (the chroot stays)
#   bash .ci/rabbitmq4.sh log                   # path of the node's log
#   eval "$(bash .ci/rabbitmq4.sh fault-env [managed])"
#       (in a subshell) points the tests at this node: AMQP_URL (vhost / or managed), WARREN_MANAGEMENT_URL
#       (its management API), a rabbitmqctl on
#       PATH for the fault suite's shared-broker check, and the fault suite's scratch nodes started from
#       this chroot's 4.x binaries (RABBITMQ_SBIN wrappers, TMPDIR on a directory bind-mounted into the
#       chroot at the same path); WARREN_SCRATCH_CONF names extra rabbitmq.conf lines for them
#       (`managed`: default_queue_type = quorum; transient queues stay permitted there, see below).
#
# Never `rm -rf` a chroot while anything is mounted under it (proc, sys, the scratch share):
#   bash .ci/rabbitmq4.sh stop; umount -R <root>/proc <root>/sys <root><root>-scratch

WARREN_RMQ4_SUITE=${WARREN_RMQ4_SUITE:-trixie}
if [ "$WARREN_RMQ4_SUITE" = trixie ]; then _rmq4_n=0; _rmq4_tag=''; else _rmq4_n=1; _rmq4_tag="-$WARREN_RMQ4_SUITE"; fi
WARREN_RMQ4_ROOT=${WARREN_RMQ4_ROOT:-/var/tmp/warren-rabbitmq4$_rmq4_tag}
WARREN_RMQ4_PORT=${WARREN_RMQ4_PORT:-$((5674 + _rmq4_n))}
WARREN_RMQ4_MGMT_PORT=${WARREN_RMQ4_MGMT_PORT:-$((15674 + _rmq4_n))}
WARREN_RMQ4_DIST_PORT=${WARREN_RMQ4_DIST_PORT:-$((25674 + _rmq4_n))}
WARREN_RMQ4_EPMD_PORT=${WARREN_RMQ4_EPMD_PORT:-$((4371 + _rmq4_n))}
WARREN_RMQ4_CTL_PORT_MIN=${WARREN_RMQ4_CTL_PORT_MIN:-$((25800 + 20 * _rmq4_n))}  # rabbitmqctl's own: 11 from here
WARREN_RMQ4_NODENAME=${WARREN_RMQ4_NODENAME:-warren4${_rmq4_tag#-}@localhost}
_rmq4_scratch="$WARREN_RMQ4_ROOT-scratch"  # the same path inside the chroot (bind mount) and outside
_rmq4_tools="$WARREN_RMQ4_ROOT-tools"

# Run a command inside the chroot with a clean environment (the host's RABBITMQ_* must not leak in).
rmq4_in() {
  chroot "$WARREN_RMQ4_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 "$@"
}
rmq4_ctl() { rmq4_in /usr/sbin/rabbitmqctl "$@"; }
rmq4_log() { ls -t "$WARREN_RMQ4_ROOT"/var/log/rabbitmq/"${WARREN_RMQ4_NODENAME}"*.log 2>/dev/null | grep -v upgrade | head -1; }
rmq4_version() { rmq4_in /usr/sbin/rabbitmq-diagnostics -q server_version 2>/dev/null | tail -1; }

rmq4_port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$WARREN_RMQ4_PORT" 2>/dev/null; }
rmq4_up() { rmq4_port_open && timeout 30 chroot "$WARREN_RMQ4_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 /usr/sbin/rabbitmq-diagnostics -q ping >/dev/null 2>&1; }

rmq4_mount() {
  mountpoint -q "$WARREN_RMQ4_ROOT/proc" || mount -t proc proc "$WARREN_RMQ4_ROOT/proc"
  mountpoint -q "$WARREN_RMQ4_ROOT/sys" || mount -t sysfs sysfs "$WARREN_RMQ4_ROOT/sys" 2>/dev/null || true
}

# The Debian mirror this machine's apt already uses (read from its sources), unless WARREN_RMQ4_MIRROR says.
rmq4_mirror() {
  local m=${WARREN_RMQ4_MIRROR:-}
  [ -n "$m" ] || m=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
  [ -n "$m" ] || m=$(grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
  echo "${m%/}"
}

# The node's settings. Written on every run: a node whose running settings differ is restarted.
rmq4_write_config() {
  # The node is …@localhost; sid's debootstrap leaves no /etc/hosts (epmd_error nxdomain without it).
  grep -qs '^127\.0\.0\.1[[:space:]].*localhost' "$WARREN_RMQ4_ROOT/etc/hosts" || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >>"$WARREN_RMQ4_ROOT/etc/hosts"
  cat >"$WARREN_RMQ4_ROOT/etc/rabbitmq/rabbitmq-env.conf" <<EOF
NODENAME=$WARREN_RMQ4_NODENAME
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=$WARREN_RMQ4_PORT
DIST_PORT=$WARREN_RMQ4_DIST_PORT
CTL_DIST_PORT_MIN=$WARREN_RMQ4_CTL_PORT_MIN
CTL_DIST_PORT_MAX=$((WARREN_RMQ4_CTL_PORT_MIN + 10))
ERL_EPMD_PORT=$WARREN_RMQ4_EPMD_PORT
ERL_EPMD_ADDRESS=127.0.0.1
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF
  cat >"$WARREN_RMQ4_ROOT/etc/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$WARREN_RMQ4_PORT
deprecated_features.permit.transient_nonexcl_queues = false
management.tcp.ip = 127.0.0.1
management.tcp.port = $WARREN_RMQ4_MGMT_PORT
EOF
  # Warren itself uses no plugin; the management API serves `warren ui`'s live numbers and its tests.
  echo '[rabbitmq_management].' >"$WARREN_RMQ4_ROOT/etc/rabbitmq/enabled_plugins"
}


rmq4_config_hash() { cat "$WARREN_RMQ4_ROOT"/etc/rabbitmq/rabbitmq.conf "$WARREN_RMQ4_ROOT"/etc/rabbitmq/rabbitmq-env.conf "$WARREN_RMQ4_ROOT"/etc/rabbitmq/enabled_plugins | md5sum | cut -d' ' -f1; }

rmq4_setup() {
  if [ ! -f "$WARREN_RMQ4_ROOT/.warren-ready" ]; then
    local mirror log="$WARREN_RMQ4_ROOT.setup.log" started=$SECONDS
    mirror=$(rmq4_mirror)
    [ -n "$mirror" ] || { echo "rabbitmq4: no Debian mirror in this machine's apt sources; set WARREN_RMQ4_MIRROR" >&2; return 1; }
    echo "rabbitmq4: building a Debian $WARREN_RMQ4_SUITE chroot at $WARREN_RMQ4_ROOT from $mirror (log: $log)" >&2
    command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >>"$log" 2>&1 || return 1
    if [ ! -x "$WARREN_RMQ4_ROOT/usr/bin/apt-get" ]; then
      if [ -e "$WARREN_RMQ4_ROOT" ]; then  # a half-built chroot from an interrupted run
        local m; for m in proc sys "${_rmq4_scratch#/}"; do mountpoint -q "$WARREN_RMQ4_ROOT/$m" && umount "$WARREN_RMQ4_ROOT/$m"; done
        if awk -v r="$WARREN_RMQ4_ROOT/" 'index($2, r) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
          echo "rabbitmq4: something is still mounted under $WARREN_RMQ4_ROOT; not deleting it" >&2; return 1
        fi
        rm -rf --one-file-system "$WARREN_RMQ4_ROOT"
      fi
      debootstrap --variant=minbase "$WARREN_RMQ4_SUITE" "$WARREN_RMQ4_ROOT" "$mirror" >>"$log" 2>&1 || { echo "rabbitmq4: debootstrap failed (see $log)" >&2; return 1; }
    fi
    if [ "$WARREN_RMQ4_SUITE" = sid ]; then
      echo "deb $mirror sid main" >"$WARREN_RMQ4_ROOT/etc/apt/sources.list"
    else
      printf '%s\n' "deb $mirror $WARREN_RMQ4_SUITE main" "deb $mirror $WARREN_RMQ4_SUITE-updates main" \
        "deb ${mirror}-security $WARREN_RMQ4_SUITE-security main" >"$WARREN_RMQ4_ROOT/etc/apt/sources.list"
    fi
    # A snapshot mirror's Release files may be past their Valid-Until date.
    echo 'Acquire::Check-Valid-Until "false";' >"$WARREN_RMQ4_ROOT/etc/apt/apt.conf.d/99no-valid-until"
    # The package's postinst must not start a node on the default ports (the host's 3.x has them).
    printf '#!/bin/sh\nexit 101\n' >"$WARREN_RMQ4_ROOT/usr/sbin/policy-rc.d"; chmod +x "$WARREN_RMQ4_ROOT/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$WARREN_RMQ4_ROOT/etc/resolv.conf" 2>/dev/null || true
    rmq4_mount
    { rmq4_in apt-get update -qq && rmq4_in env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server; } >>"$log" 2>&1 \
      || { echo "rabbitmq4: apt-get install rabbitmq-server failed in the chroot (see $log)" >&2; return 1; }
    touch "$WARREN_RMQ4_ROOT/.warren-ready"
    echo "rabbitmq4: chroot ready in $((SECONDS - started)) s" >&2
  fi
  rmq4_write_config
}

rmq4_start() {
  local want; want=$(rmq4_config_hash)
  if rmq4_up; then
    [ "$(cat "$WARREN_RMQ4_ROOT/.warren-running-config" 2>/dev/null)" = "$want" ] && return 0
    echo "rabbitmq4: the node's settings changed: restarting it" >&2
    rmq4_stop
  fi
  rmq4_mount
  # setsid + nohup: the node outlives the shell that started it (CI's later legs, the next CI run).
  setsid nohup chroot "$WARREN_RMQ4_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 \
    /usr/sbin/rabbitmq-server >"$WARREN_RMQ4_ROOT/var/log/rabbitmq/console.log" 2>&1 </dev/null &
  local i
  for i in $(seq 120); do
    if rmq4_up && rmq4_ctl -q await_startup --timeout 60 >/dev/null 2>&1; then
      echo "$want" >"$WARREN_RMQ4_ROOT/.warren-running-config"
      return 0
    fi
    sleep 1
  done
  echo "rabbitmq4: the node did not start; last lines of its console log:" >&2
  tail -20 "$WARREN_RMQ4_ROOT/var/log/rabbitmq/console.log" >&2
  return 1
}

# The `managed` vhost (default queue type quorum), guest's permissions on it, and no leftover alarm.
rmq4_vhosts() {
  if ! rmq4_ctl -q list_vhosts name 2>/dev/null | grep -qx managed; then
    rmq4_ctl -q add_vhost managed --default-queue-type quorum >/dev/null || return 1
    rmq4_ctl -q set_permissions -p managed guest '.*' '.*' '.*' >/dev/null || return 1
  fi
  if rmq4_ctl -q eval 'rabbit_alarm:get_alarms().' 2>/dev/null | grep -q alarm; then
    echo "rabbitmq4: the node reports a resource alarm:" >&2; rmq4_ctl -q eval 'rabbit_alarm:get_alarms().' >&2; return 1
  fi
}

rmq4_stop() {
  [ -x "$WARREN_RMQ4_ROOT/usr/sbin/rabbitmqctl" ] || return 0
  if rmq4_up; then rmq4_ctl -q stop >/dev/null 2>&1 || true; fi
  rm -f "$WARREN_RMQ4_ROOT/.warren-running-config"
  # The node unregisters from its epmd a moment after `stop` returns; epmd refuses -kill until then.
  local _
  for _ in $(seq 20); do
    rmq4_in sh -c "ERL_EPMD_PORT=$WARREN_RMQ4_EPMD_PORT epmd -kill" 2>/dev/null | grep -q 'Killed' && break
    timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$WARREN_RMQ4_EPMD_PORT" 2>/dev/null || break
    sleep 0.5
  done
}

rmq4_ensure() {
  local rc=0
  mkdir -p "$(dirname "$WARREN_RMQ4_ROOT")"
  exec 9>"$WARREN_RMQ4_ROOT.lock"; flock 9
  if rmq4_setup && rmq4_start && rmq4_vhosts; then rc=0; else rc=1; fi
  flock -u 9; exec 9>&-
  return $rc
}

# Prints `export` lines pointing the tests (and the fault suite's scratch nodes) at this node.
rmq4_fault_env() {
  local profile=${1:-plain} t self
  self=$(realpath "${BASH_SOURCE[0]}")
  mkdir -p "$_rmq4_scratch" "$WARREN_RMQ4_ROOT$_rmq4_scratch" "$_rmq4_tools/sbin" "$_rmq4_tools/bin"
  mountpoint -q "$WARREN_RMQ4_ROOT$_rmq4_scratch" || mount --bind "$_rmq4_scratch" "$WARREN_RMQ4_ROOT$_rmq4_scratch"
  for t in rabbitmq-server rabbitmqctl; do
    # Scratch nodes register with this node's epmd, not the machine's; the environment (their own
    # RABBITMQ_* directories, all under the scratch share) passes through chroot unchanged.
    printf '#!/bin/sh\nexport ERL_EPMD_PORT=%s\nexec chroot %s /usr/lib/rabbitmq/bin/%s "$@"\n' "$WARREN_RMQ4_EPMD_PORT" "$WARREN_RMQ4_ROOT" "$t" >"$_rmq4_tools/sbin/$t"
    chmod +x "$_rmq4_tools/sbin/$t"
  done
  # The fault suite checks, read-only, that the shared broker (this node) was not restarted.
  printf '#!/bin/sh\nWARREN_RMQ4_SUITE=%s WARREN_RMQ4_ROOT=%s WARREN_RMQ4_NODENAME=%s exec bash %s ctl "$@"\n' \
    "$WARREN_RMQ4_SUITE" "$WARREN_RMQ4_ROOT" "$WARREN_RMQ4_NODENAME" "$self" >"$_rmq4_tools/bin/rabbitmqctl"
  chmod +x "$_rmq4_tools/bin/rabbitmqctl"
  # Scratch nodes do NOT deny transient non-exclusive queues: RabbitMQ 4.0.5 then fails to restart its
  # application (start_app after stop_app with quorum queues present, or after join_cluster) with
  # {failed_to_deny_deprecated_features,[transient_nonexcl_queues]}, and those restarts are what the
  # fault suite does. The 4.x node itself, which every other test uses, does deny them.
  local conf="$_rmq4_tools/scratch-$profile.conf" url=$AMQP_URL4
  : >"$conf"
  if [ "$profile" = managed ]; then echo 'default_queue_type = quorum' >>"$conf"; url=$AMQP_URL4_MANAGED; fi
  echo "export TMPDIR=$_rmq4_scratch RABBITMQ_SBIN=$_rmq4_tools/sbin PATH=$_rmq4_tools/bin:\$PATH AMQP_URL=$url WARREN_SCRATCH_CONF=$conf WARREN_MANAGEMENT_URL=http://guest:guest@127.0.0.1:$WARREN_RMQ4_MGMT_PORT"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then  # run, not sourced
  case "${1:-}" in
    stop) rmq4_stop; exit ;;
    ctl) shift; rmq4_ctl "$@"; exit ;;
    log) rmq4_log; exit ;;
    version) rmq4_version; exit ;;
    ''|fault-env) ;;
    *) echo "usage: source $0 | bash $0 [version | stop | ctl ARGS... | log | fault-env [managed]]" >&2; exit 2 ;;
  esac
fi

rmq4_ensure || { echo "rabbitmq4: no RabbitMQ 4.x could be started (see $WARREN_RMQ4_ROOT.setup.log and $WARREN_RMQ4_ROOT/var/log/rabbitmq/)" >&2; return 1 2>/dev/null || exit 1; }
export AMQP_URL4="amqp://guest:guest@127.0.0.1:$WARREN_RMQ4_PORT"
export AMQP_URL4_MANAGED="$AMQP_URL4/managed"
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  if [ "${1:-}" = fault-env ]; then rmq4_fault_env "${2:-}"; else echo "$AMQP_URL4"; echo "$AMQP_URL4_MANAGED"; fi
fi
