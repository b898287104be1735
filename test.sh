#!/usr/bin/env bash
# Runs every test of the portal: unit, component, integration (real server, SQLite files, SignalR),
# browser (Debian Chromium) and agent (real TorchSharp), then the service tests again on PostgreSQL.
# Installs what the tests need on a fresh machine (Debian's chromium, python3-numpy, postgresql and
# redis-server; NuGet and npm packages restore during the build). The tests start their own private
# PostgreSQL and Redis servers on free loopback ports and stop them after (tests/Portal.Testing/TestServers.cs).
# Prints a closing line "N passed, N failed" and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")"

need=()
command -v chromium >/dev/null || need+=(chromium)
# The COCO evaluator's reference implementation runs on Debian's python3 with numpy.
/usr/bin/python3 -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
# The differential tests run the PyTorch reference of YOLOv4-tiny with Debian's own python.
/usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch)
# Several instances run on PostgreSQL and Redis; the tests start private servers from Debian's binaries.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]} (Debian packages) ..."
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null || {
    echo "Could not install ${need[*]}"; echo "0 passed, 1 failed"; exit 1; }
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Portal.sln -c Release -v q -nologo 2>&1 | tail -n 3
if [ "${PIPESTATUS[0]}" -ne 0 ]; then echo "0 passed, 1 failed"; exit 1; fi

results=$(mktemp -d)
status=0

# The service tests once more with the portal on PostgreSQL (PortalTestHost and PortalAppFactory read the variable):
# every test of Portal.Web.Tests except the bUnit component, page and panel tests, the architecture rules and the SQLite
# migration checks, which do not depend on the engine; the cluster tests, which run on PostgreSQL and Redis in both
# passes; and the demo-credential tests, which start the portal as a separate process over a SQLite data folder.
# This pass runs beside the other service tests (each process starts its own private servers), which keeps the
# suite's wall time down.
postgres_filter="FullyQualifiedName!~ComponentTests&FullyQualifiedName!~PageTests&FullyQualifiedName!~PanelTests&FullyQualifiedName!~Architecture&FullyQualifiedName!~MigrationTests&FullyQualifiedName!~Portal.Web.Tests.Cluster&FullyQualifiedName!~DemoCredentialsTests"
PORTAL_TEST_DATABASE=postgres dotnet test tests/Portal.Web.Tests -c Release --no-build --filter "$postgres_filter" \
  --logger "trx;LogFileName=Portal.Web.Tests.Postgres.trx" --results-directory "$results" >"$results/postgres.log" 2>&1 &
postgres_pass=$!

run_tests() {
  local name=$1
  echo "== $name"
  dotnet test "tests/$name" -c Release --no-build --logger "trx;LogFileName=$name.trx" --results-directory "$results" 2>&1 | tail -n 25
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
}

# The browser and end-to-end journeys run after the PostgreSQL pass has finished, on a machine that is not
# also running it; every other test project runs beside it.
journeys=(Portal.Browser.Tests Portal.EndToEnd.Tests)
for project in tests/*.Tests; do
  name=$(basename "$project")
  [[ " ${journeys[*]} " == *" $name "* ]] || run_tests "$name"
done
wait "$postgres_pass" || status=1
echo "== Portal.Web.Tests on PostgreSQL"
tail -n 25 "$results/postgres.log"
for name in "${journeys[@]}"; do run_tests "$name"; done

# The tests stop their PostgreSQL and Redis servers when they exit; a test process that was killed cannot.
for pid in /tmp/portal-redis-*/redis.pid; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null; done
for data in /tmp/portal-pg-*/data; do
  [ -f "$data/postmaster.pid" ] && runuser -u postgres -- "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1
done
rm -rf /tmp/portal-redis-* /tmp/portal-pg-* 2>/dev/null

# Count from the TRX files: a test assembly that crashed leaves no TRX and counts as a failure.
passed=0; failed=0
for name in $(for p in tests/*.Tests; do basename "$p"; done) Portal.Web.Tests.Postgres; do
  trx="$results/$name.trx"
  if [ ! -f "$trx" ]; then failed=$((failed + 1)); status=1; continue; fi
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  p=$(echo "$counters" | grep -o ' passed="[0-9]*"' | grep -o '[0-9]*')
  f=$(echo "$counters" | grep -o ' failed="[0-9]*"' | grep -o '[0-9]*')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit $status
