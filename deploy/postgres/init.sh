#!/bin/bash
# One role and one database per service; each role owns only its own database.
# Passwords come from <SERVICE>_DB_PASSWORD (development defaults: <service>-dev-password).
set -euo pipefail
for service in orders users inventory email; do
  variable="$(echo "${service}" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  password="${!variable:-${service}-dev-password}"
  psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname postgres <<SQL
CREATE ROLE ${service} LOGIN PASSWORD '${password}';
CREATE DATABASE ${service} OWNER ${service};
REVOKE ALL ON DATABASE ${service} FROM PUBLIC;
SQL
done
