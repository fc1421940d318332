#!/bin/sh
# Makes the secrets compose.yaml mounts, once: ./secrets/ (kept out of git) and ./.env (the passwords
# the third-party containers take from the environment). Run again, it keeps what exists.
# Needs python3 for the random values and their encodings (the desk's: desk/payload_codec.py).
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets/db-roles
# Readable inside the containers (they run as other users than yours): the files are 0644 in a
# directory only you can enter.
chmod 0700 secrets
chmod 0755 secrets/db-roles  # bind-mounted into the migrate job, whose user is not yours

random() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }
keep() {  # keep NAME VALUE: write secrets/NAME unless it exists
  [ -e "secrets/$1" ] || { printf '%s\n' "$2" > "secrets/$1"; chmod 0644 "secrets/$1"; }
}
value() { tr -d '\n' < "secrets/$1"; }

keep postgres-admin-password "$(random)"
keep temporal-db-password "$(random)"
keep nats-desk-password "$(random)"
for role in intake dispatch survey quality stats worker http; do
  keep "db-roles/helpdesk_$role" "$(random)"
  keep "database-url-$role" "postgresql://helpdesk_$role:$(value "db-roles/helpdesk_$role")@postgres:5432/helpdesk"
done
keep database-url-admin "postgresql://postgres:$(value postgres-admin-password)@postgres:5432/helpdesk"
keep nats-url "nats://desk:$(value nats-desk-password)@nats:4222"
keep payload-keys "current:$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
keep page-token-key "$(random)"
keep quality-sampling-secret "$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"

if [ ! -e .env ]; then
  printf 'TEMPORAL_DB_PASSWORD=%s\nNATS_DESK_PASSWORD=%s\n' \
    "$(value temporal-db-password)" "$(value nats-desk-password)" > .env
fi
echo "secrets in $(pwd)/secrets, passwords for Temporal and NATS in $(pwd)/.env"
