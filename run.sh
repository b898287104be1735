#!/usr/bin/env bash
# Runs the portal with the demo team and projects, and a local CPU training agent beside it.
# Open http://127.0.0.1:5000 and sign in as member1 / Demo!2026 (README lists every demo account).
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
URL="${PORTAL_URL:-http://127.0.0.1:5000}"
DATA="${PORTAL_DATA:-$PWD/data}"
# The local agent's token is random per data folder, kept in that folder and reused on the next run.
TOKEN_FILE="$DATA/local-agent-token"
if [ -n "${PORTAL_DEMO_AGENT_TOKEN:-}" ]; then
  TOKEN="$PORTAL_DEMO_AGENT_TOKEN"
elif [ -s "$TOKEN_FILE" ]; then
  TOKEN="$(cat "$TOKEN_FILE")"
else
  mkdir -p "$DATA"
  TOKEN="pat_$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
  (umask 077 && printf '%s\n' "$TOKEN" > "$TOKEN_FILE")
fi

dotnet build Portal.sln -c Release -v q -nologo
dotnet run --project src/Portal.Web -c Release --no-build -- --urls "$URL" --data "$DATA" --demo true \
  --Portal:DemoAgentToken "$TOKEN" &
portal=$!
trap 'kill $portal ${agent:-} 2>/dev/null' EXIT INT TERM

for _ in $(seq 1 60); do curl -fs -o /dev/null "$URL/account/login" && break; sleep 1; done
echo "Portal is up at $URL (sign in as member1 / Demo!2026)"
dotnet run --project agents/Portal.Agent -c Release --no-build -- \
  --portal "$URL" --token "$TOKEN" --name local-cpu --data "$DATA/agent" &
agent=$!
echo "A local CPU agent is training the demo detector run: see Agents, or the project 'Shapes detector (synthetic)'."
wait $portal
