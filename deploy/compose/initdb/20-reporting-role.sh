#!/bin/sh
# pgpulse's reporting role, by deploy/sql/reporting-role.sql (mounted at $PGPULSE_SQL_DIR), with the password from
# the compose secret pgpulse-password. Run by the postgres image after 10-services.sql, as the superuser; psql finds
# the server through the image's settings (or PGHOST, PGPORT, PGUSER, PGPASSWORD when run by hand).
set -eu
psql -X -v ON_ERROR_STOP=1 --dbname postgres \
  -v reporting_password_file="${PGPULSE_PASSWORD_FILE:-/run/secrets/pgpulse-password}" \
  -f "${PGPULSE_SQL_DIR:-/pgpulse-sql}/reporting-role.sql"
