-- pgpulse's read-only reporting role on a managed service (Amazon RDS, Aurora, Cloud SQL, Azure) whose administrator
-- is not a superuser but has CREATEROLE: the same role and grants as reporting-role.sql, without the steps only a
-- superuser may take. Same variables; run it as the administrator, from the directory of reporting-role.sql or not:
--
--   psql -v ON_ERROR_STOP=1 "host=... user=postgres dbname=postgres" -v reporting_password_file=./reporting.pw \
--        -f reporting-role-rds.sql
--
-- What the administrator must hold (README.md here, "Managed services"):
--   - CREATEROLE; on PostgreSQL 16 and later also ADMIN OPTION on pg_monitor (RDS's rds_superuser has it);
--   - for CONNECT and the sequence grants: ownership of the databases and sequences, or membership in their owners.
--     Where it has neither, a warning names the database, and pgpulse does without that grant.
\set managed on
\ir reporting-role.sql
