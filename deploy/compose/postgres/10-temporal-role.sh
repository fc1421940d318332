#!/bin/sh
# Run once by the postgres image when its data directory is new: Temporal's own role, which may create
# its two databases (the temporal-schema job does); the desk's roles are `helpdesk db migrate`'s.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$(cat /run/secrets/temporal-db-password)" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'password';
SQL
