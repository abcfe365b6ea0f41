#!/usr/bin/env bash
# A private dockerd for the container test legs. Installs nothing: dockerd comes from Debian's
# `docker.io` package (see .ci/run). Everything it owns lives under one folder:
#
#   ENVD_EDGE_DOCKER_DIR (default /tmp/envd-edge-docker)
#     docker.sock   the API socket (-H unix://…)      dockerd.pid  its pid file
#     data/         --data-root (images survive a stop/start, so `npm run images` skips them)
#     exec/         --exec-root (the managed containerd's socket and state)
#     dockerd.log   its log
#
#   eval "$(.ci/dockerd.sh start)"   # starts it (or finds it running), prints `export DOCKER_HOST=…`
#   .ci/dockerd.sh status            # exit 0 when it answers
#   .ci/dockerd.sh stop              # stops the dockerd this script started, by its pid file
#   .ci/dockerd.sh purge             # stop, then remove the whole folder (images too)
#
# No networking of its own: --bridge=none --iptables=false --ip-masq=false. Containers must use
# the host's network (all test traffic stays on 127.0.0.1).
# A dockerd this script did not start is never touched. If one is running, `start` refuses (it
# would share cgroups and the host's containerd conventions) unless ENVD_EDGE_DOCKERD_ALONGSIDE=1;
# to use that daemon instead, skip this script and set DOCKER_HOST yourself.
set -euo pipefail

dir=${ENVD_EDGE_DOCKER_DIR:-/tmp/envd-edge-docker}
sock=$dir/docker.sock
pidfile=$dir/dockerd.pid
log=$dir/dockerd.log
host=unix://$sock

say() { echo "dockerd.sh: $*" >&2; }

our_pid() {
  local pid
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # A stale pid file whose pid now belongs to something else is not ours.
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
  echo "$pid"
}

answers() { docker -H "$host" info >/dev/null 2>&1; }

start() {
  local pid others waited
  if pid=$(our_pid); then
    if answers; then
      say "already running (pid $pid, $host)"
      echo "export DOCKER_HOST=$host"
      return 0
    fi
  else
    command -v dockerd >/dev/null || { say "dockerd not found: apt-get install docker.io"; return 1; }
    others=$(pgrep -x dockerd || true)
    if [ -n "$others" ] && [ "${ENVD_EDGE_DOCKERD_ALONGSIDE:-}" != 1 ]; then
      say "a dockerd other than the one of $dir is running (pid $(echo $others)); leaving it alone."
      say "Use it by setting DOCKER_HOST yourself, or set ENVD_EDGE_DOCKERD_ALONGSIDE=1 to start a private one beside it."
      return 3
    fi
    mkdir -p "$dir/data" "$dir/exec"
    rm -f "$pidfile" "$sock"
    say "starting dockerd (data root $dir/data, log $log)"
    # setsid: its own session, so the caller's job control or Ctrl-C does not take it down.
    setsid dockerd \
      --data-root "$dir/data" \
      --exec-root "$dir/exec" \
      --pidfile "$pidfile" \
      -H "$host" \
      --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
      >>"$log" 2>&1 </dev/null &
  fi
  waited=0
  until answers; do
    if [ "$waited" -ge 600 ]; then   # tenths of a second: 60 s
      say "dockerd did not answer on $host within 60 s; last log lines:"
      tail -n 30 "$log" >&2 || true
      stop >/dev/null 2>&1 || true
      return 1
    fi
    if [ "$waited" -ge 20 ] && ! our_pid >/dev/null; then
      say "dockerd exited; last log lines:"
      tail -n 30 "$log" >&2 || true
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  say "dockerd $(docker -H "$host" version --format '{{.Server.Version}}' 2>/dev/null) answers on $host (pid $(our_pid || echo '?'))"
  echo "export DOCKER_HOST=$host"
}

stop() {
  local pid waited=0
  if ! pid=$(our_pid); then
    say "not running (no live dockerd in $pidfile)"
    return 0
  fi
  say "stopping dockerd pid $pid"
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge 300 ]; then   # 30 s, then force
      say "pid $pid still alive after 30 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$pidfile"
  say "stopped"
}

purge() {
  stop
  case "$dir" in
    /|/tmp|/var|/var/tmp|"") say "refusing to remove '$dir'"; return 1 ;;
  esac
  [ -d "$dir" ] || return 0
  if [ -n "$(ls -A "$dir")" ] && [ ! -d "$dir/data" ] && [ ! -e "$dir/dockerd.log" ]; then
    say "refusing to remove $dir: it does not look like this script's folder"
    return 1
  fi
  # dockerd leaves its data root bind-mounted on itself (and overlay mounts if killed): unmount
  # everything under the folder, deepest first, before removing files.
  awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  if awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    say "refusing to remove $dir: something is still mounted under it"
    return 1
  fi
  rm -rf "$dir"
  say "removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  purge) purge ;;
  status)
    if pid=$(our_pid) && answers; then say "running (pid $pid, $host)"; echo "export DOCKER_HOST=$host"; else say "not running"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status|purge   (folder: \$ENVD_EDGE_DOCKER_DIR, default /tmp/envd-edge-docker)" >&2; exit 2 ;;
esac
