#!/usr/bin/env bash
# Two portal instances on one machine, sharing a private PostgreSQL and Redis, with a CPU agent that knows both.
# Open http://127.0.0.1:5001 or http://127.0.0.1:5002 (demo accounts as in README). Ctrl-C stops everything.
# Needs Debian's postgresql and redis-server (installed when missing, as test.sh does).
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
A="${PORTAL_URL_A:-http://127.0.0.1:5001}"
B="${PORTAL_URL_B:-http://127.0.0.1:5002}"
PGPORT="${PORTAL_PG_PORT:-5433}"
REDISPORT="${PORTAL_REDIS_PORT:-6380}"
WORK="${PORTAL_CLUSTER_DATA:-$PWD/data-cluster}"
mkdir -p "$WORK"

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
# PostgreSQL refuses to run as root: as root, its folder belongs to the postgres user.
if [ "$(id -u)" = 0 ]; then AS_PG="runuser -u postgres --"; chown postgres "$WORK"; else AS_PG=""; fi

if [ ! -d "$WORK/pg" ]; then
  $AS_PG "$PGBIN/initdb" -D "$WORK/pg" -U portal --auth=trust -E UTF8 >/dev/null
fi
$AS_PG "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -o "-p $PGPORT -k $WORK -c listen_addresses=127.0.0.1" start >/dev/null
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U portal -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='portal'" | grep -q 1 ||
  "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U portal portal
redis-server --port "$REDISPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"

cleanup() {
  kill ${portal_a:-} ${portal_b:-} ${agent:-} 2>/dev/null || true
  wait ${portal_a:-} ${portal_b:-} ${agent:-} 2>/dev/null || true
  [ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null || true
  $AS_PG "$PGBIN/pg_ctl" -D "$WORK/pg" -w -m fast stop >/dev/null || true
}
trap cleanup EXIT INT TERM

TOKEN_FILE="$WORK/agent-token"
[ -s "$TOKEN_FILE" ] || (umask 077 && printf 'pat_%s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" > "$TOKEN_FILE")
TOKEN="$(cat "$TOKEN_FILE")"
export Portal__Postgres="Host=127.0.0.1;Port=$PGPORT;Username=portal;Database=portal"
export Portal__Redis="127.0.0.1:$REDISPORT"

dotnet build Portal.sln -c Release -v q -nologo
# The first instance migrates the database and seeds the demo; the second starts once it is ready.
dotnet run --project src/Portal.Web -c Release --no-build -- --urls "$A" --data "$WORK/files" --demo true \
  --Portal:DemoAgentToken "$TOKEN" &
portal_a=$!
for _ in $(seq 1 120); do curl -fs -o /dev/null "$A/health/ready" && break; sleep 1; done
dotnet run --project src/Portal.Web -c Release --no-build -- --urls "$B" --data "$WORK/files" --demo true \
  --Portal:DemoAgentToken "$TOKEN" &
portal_b=$!
for _ in $(seq 1 120); do curl -fs -o /dev/null "$B/health/ready" && break; sleep 1; done
echo "Two instances are up: $A and $B (PostgreSQL on $PGPORT, Redis on $REDISPORT; sign in as member1 / Demo!2026)"
dotnet run --project agents/Portal.Agent -c Release --no-build -- \
  --portal "$A,$B" --token "$TOKEN" --name local-cpu --data "$WORK/agent" &
agent=$!
wait $portal_a $portal_b
