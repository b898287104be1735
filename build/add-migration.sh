#!/usr/bin/env bash
# Adds an EF Core migration for both engines the portal runs on: SQLite (Data/Migrations) and PostgreSQL
# (Data/Migrations/Postgres). Each engine keeps its own migrations because their column types differ
# (docs/decisions/0018). Usage: build/add-migration.sh <Name>
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: build/add-migration.sh <Name>}
dotnet tool restore >/dev/null
dotnet ef migrations add "$name" --project src/Portal.Web --context PortalDbContext \
  --output-dir Data/Migrations --namespace Portal.Web.Data.Migrations
dotnet ef migrations add "$name" --project src/Portal.Web --context PostgresPortalDbContext --no-build \
  --output-dir Data/Migrations/Postgres --namespace Portal.Web.Data.Migrations.Postgres
