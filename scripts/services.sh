#!/usr/bin/env bash
# Install (Debian packages) and run the real backing services on loopback for tests and benches:
# PostgreSQL, Redis and RabbitMQ, with data under var/services/ (git-ignored).
#   scripts/services.sh start | stop | status | vhost NAME | vhost-delete NAME
# Idempotent: start when running is a no-op; stop when stopped is a no-op.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${SERVICES_DIR:-$ROOT/var/services}
PG_PORT=${PG_PORT:-54320}
REDIS_PORT=${REDIS_PORT:-63790}
AMQP_PORT=${AMQP_PORT:-56720}
DB_USER=commerce
DB_PASSWORD=commerce
DATABASES="commerce commerce_catalog commerce_reporting"
PACKAGES="postgresql redis-server rabbitmq-server libodbc2 chromium chromium-driver"

log() { printf '[services] %s\n' "$*"; }

as_user() {  # run a command as a system user, keeping the environment we pass explicitly
  local user=$1; shift
  if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

install_missing() {
  local missing=""
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  log "installing:$missing"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
}

# ---------------------------------------------------------------- PostgreSQL
pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }
pg_ready() { PGPASSWORD=$DB_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U $DB_USER -d postgres -Atqc 'select 1' >/dev/null 2>&1; }

pg_start() {
  if pg_ready; then log "postgresql already running on 127.0.0.1:$PG_PORT"; else
    local bin; bin=$(pg_bin)
    mkdir -p "$DATA/postgres"
    chown postgres:postgres "$DATA/postgres" 2>/dev/null || true
    if [ ! -f "$DATA/postgres/data/PG_VERSION" ]; then
      log "initialising postgresql cluster"
      local pwfile; pwfile=$(mktemp); echo "$DB_PASSWORD" > "$pwfile"; chmod 644 "$pwfile"
      as_user postgres "$bin/initdb" -D "$DATA/postgres/data" -U $DB_USER --pwfile="$pwfile" \
        --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
      rm -f "$pwfile"
    fi
    log "starting postgresql on 127.0.0.1:$PG_PORT"
    # A throwaway test cluster: durability settings off for speed (never do this in production).
    as_user postgres "$bin/pg_ctl" -D "$DATA/postgres/data" -l "$DATA/postgres/server.log" -w -t 60 start \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300 \
          -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
  fi
  for db in $DATABASES; do
    if ! PGPASSWORD=$DB_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U $DB_USER -d postgres -Atqc \
        "select 1 from pg_database where datname='$db'" | grep -q 1; then
      log "creating database $db"
      PGPASSWORD=$DB_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U $DB_USER -d postgres -qc "create database $db" >/dev/null
    fi
  done
}

pg_stop() {
  if [ -f "$DATA/postgres/data/postmaster.pid" ]; then
    log "stopping postgresql"
    as_user postgres "$(pg_bin)/pg_ctl" -D "$DATA/postgres/data" -m fast -w stop >/dev/null || true
  fi
}

# ---------------------------------------------------------------- Redis
redis_ready() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

redis_start() {
  if redis_ready; then log "redis already running on 127.0.0.1:$REDIS_PORT"; return; fi
  mkdir -p "$DATA/redis"
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DATA/redis" --daemonize yes \
    --pidfile "$DATA/redis/redis.pid" --logfile "$DATA/redis/redis.log" --save "" --appendonly no
  for _ in $(seq 1 50); do redis_ready && return; sleep 0.2; done
  log "redis did not start"; cat "$DATA/redis/redis.log"; exit 1
}

redis_stop() {
  if redis_ready; then log "stopping redis"; redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
}

# ---------------------------------------------------------------- RabbitMQ
rabbit_env() {
  local d=$DATA/rabbitmq
  # The distribution ports default to AMQP port + 20000 / + 30000, past 65535 here: set them.
  # HOME holds the Erlang cookie: rabbitmqctl_ points it at the running node's (RABBIT_HOME).
  env HOME="${RABBIT_HOME:-$d}" RABBITMQ_NODENAME="commerce@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$AMQP_PORT" RABBITMQ_DIST_PORT=$((AMQP_PORT + 1)) \
    RABBITMQ_CTL_DIST_PORT_MIN=$((AMQP_PORT + 2)) RABBITMQ_CTL_DIST_PORT_MAX=$((AMQP_PORT + 12)) \
    ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log" \
    RABBITMQ_PID_FILE="$d/rabbitmq.pid" RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config" "$@"
}
# The data directory (HOME, with the Erlang cookie) of the node that serves AMQP_PORT. It is
# another checkout's when that one started the broker: rabbitmqctl must present that node's cookie,
# not ours (else it exits 69, authentication failed, or 78 without any cookie here). Found from the
# -home of each running rabbit node whose rabbitmq.conf (written by rabbit_start) names our port.
rabbit_home() {
  local pid home
  for pid in $(pgrep -f 'beam.smp.* -s rabbit boot' || true); do
    home=$(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | sed -n '/^-home$/{n;p;q}') || continue
    if [ -n "$home" ] && grep -qs "^listeners.tcp.default = 127.0.0.1:$AMQP_PORT\$" "$home/rabbitmq.conf"; then
      echo "$home"; return
    fi
  done
  echo "$DATA/rabbitmq"
}
rabbitmqctl_() {
  local home; home=$(rabbit_home)
  as_user rabbitmq "$(which env)" bash -c "$(declare -f rabbit_env); AMQP_PORT=$AMQP_PORT DATA='$DATA' RABBIT_HOME='$home'; rabbit_env /usr/lib/rabbitmq/bin/rabbitmqctl $*"
}
rabbit_ready() { [ -f "$DATA/rabbitmq/rabbitmq.pid" ] && rabbitmqctl_ -q await_startup --timeout 5 >/dev/null 2>&1; }
# Something (this checkout's node or another's) already answers AMQP on the port: use it.
amqp_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$AMQP_PORT") 2>/dev/null; }

rabbit_start() {
  if rabbit_ready || amqp_listening; then log "rabbitmq already running on 127.0.0.1:$AMQP_PORT"; return; fi
  local d=$DATA/rabbitmq
  mkdir -p "$d/mnesia" "$d/log"
  [ -f "$d/.erlang.cookie" ] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$d/.erlang.cookie"; chmod 400 "$d/.erlang.cookie"; }
  printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users = none\n' "$AMQP_PORT" > "$d/rabbitmq.conf"
  echo '[].' > "$d/enabled_plugins"
  echo '[].' > "$d/advanced.config"
  chown -R rabbitmq:rabbitmq "$d" 2>/dev/null || true
  log "starting rabbitmq on 127.0.0.1:$AMQP_PORT"
  as_user rabbitmq "$(which env)" bash -c "$(declare -f rabbit_env); AMQP_PORT=$AMQP_PORT DATA='$DATA'; \
    ulimit -n 65536 2>/dev/null || ulimit -n \$(ulimit -Hn); rabbit_env setsid /usr/lib/rabbitmq/bin/rabbitmq-server > '$d/log/startup.log' 2>&1 &"
  for _ in $(seq 1 60); do [ -f "$d/rabbitmq.pid" ] && break; sleep 1; done
  rabbitmqctl_ -q wait "$d/rabbitmq.pid" --timeout 120 >/dev/null || { log "rabbitmq did not start"; tail -30 "$d/log/startup.log"; exit 1; }
  rabbitmqctl_ -q add_vhost commerce >/dev/null 2>&1 || true
  rabbitmqctl_ -q add_user $DB_USER $DB_PASSWORD >/dev/null 2>&1 || true
  rabbitmqctl_ -q set_permissions -p commerce $DB_USER "'.*'" "'.*'" "'.*'" >/dev/null
  rabbitmqctl_ -q set_user_tags $DB_USER administrator >/dev/null
}

rabbit_stop() {
  if rabbit_ready; then log "stopping rabbitmq"; rabbitmqctl_ -q stop >/dev/null 2>&1 || true; fi
}

case "${1:-}" in
  start) install_missing; pg_start; redis_start; rabbit_start; log "ready" ;;
  vhost)  # an extra RabbitMQ vhost, so that parallel test runs do not share queues
    [ -n "${2:-}" ] || { echo "usage: $0 vhost NAME" >&2; exit 2; }
    rabbitmqctl_ -q add_vhost "$2" >/dev/null 2>&1 || true
    rabbitmqctl_ -q set_permissions -p "$2" $DB_USER "'.*'" "'.*'" "'.*'" >/dev/null
    log "vhost $2 ready" ;;
  vhost-delete)  # drop a vhost a test made, with its queues (each quorum queue costs the broker a process)
    [ -n "${2:-}" ] || { echo "usage: $0 vhost-delete NAME" >&2; exit 2; }
    rabbitmqctl_ -q delete_vhost "$2" >/dev/null 2>&1 || true
    log "vhost $2 deleted" ;;
  stop) rabbit_stop; redis_stop; pg_stop; log "stopped" ;;
  status)
    pg_ready && log "postgresql: up" || log "postgresql: down"
    redis_ready && log "redis: up" || log "redis: down"
    rabbit_ready && log "rabbitmq: up" || log "rabbitmq: down" ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
