#!/usr/bin/env bash
# Starts the machine's PostgreSQL 15 cluster and makes a superuser `opcity`
# (password `opcity`) that tests use to create one throw-away database each.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15
fi
pg_ctlcluster 15 main start 2>/dev/null || pg_ctlcluster 15 main status >/dev/null
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opcity') THEN
    CREATE ROLE opcity LOGIN SUPERUSER PASSWORD 'opcity';
  END IF;
END $$;
SQL
echo "PostgreSQL ready on 127.0.0.1:5432"
