#!/bin/bash
# One role and one database per service; each role owns only its own database.
# Passwords come from <SERVICE>_DB_PASSWORD (development defaults: <service>-dev-password).
set -euo pipefail
for service in orders users inventory email; do
  variable="$(echo "${service}" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  password="${!variable:-${service}-dev-password}"
  # psql variables quote what goes into SQL: :"name" as an identifier, :'password' as a
  # literal, so a password with a quote (or worse) cannot change the statement.
  psql -v ON_ERROR_STOP=1 -v name="${service}" -v password="${password}" \
    --username "${POSTGRES_USER}" --dbname postgres <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
