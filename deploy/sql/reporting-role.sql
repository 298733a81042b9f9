-- pgpulse's read-only reporting role: creates it (or brings an existing one back in line) and grants what pgpulse's
-- collectors read, on every service database. Idempotent: run it again after adding a database, or whenever.
-- Run as a superuser (for a managed service whose administrator is not one, use reporting-role-rds.sql):
--
--   psql -v ON_ERROR_STOP=1 -d postgres -v reporting_password_file=/run/secrets/pg-reporting -f reporting-role.sql
--
-- Variables (psql -v name=value), all optional:
--   reporting_role            the role's name                                    (default pgpulse_reporting)
--   reporting_password_file   a file holding the password (read by psql on the machine it runs on, with cat: a
--                             path without spaces; trailing newline dropped). A SCRAM verifier ('SCRAM-SHA-256$...') is stored as it is, so the
--                             plain password need never leave your machine.
--   reporting_password        the password itself (visible in `ps` while psql runs: prefer the file)
--                             With neither, a new role gets no password and an existing one keeps its own.
--   connection_limit          the role's connection limit                        (default 10: pgpulse uses 3 per instance)
--   databases                 the service databases, comma-separated (default: every database that is not a
--                             template and allows connections)
-- The password is never echoed: this script turns psql's echo off, keeps the value out of the statement text that
-- the server logs and pg_stat_statements record, and (as a superuser) turns statement logging off for its session.
\set ON_ERROR_STOP on
\set ECHO none
\set QUIET on
\if :{?reporting_role}
\else
  \set reporting_role pgpulse_reporting
\endif
\if :{?connection_limit}
\else
  \set connection_limit 10
\endif
\if :{?databases}
\else
  \set databases ''
\endif
\if :{?managed}
\else
  \set managed off
\endif
\if :{?reporting_password_file}
  \set reporting_password `cat :reporting_password_file`
\endif

\if :managed
\else
  -- Nothing this session runs goes to the server log by log_statement, nor, with pg_stat_statements.track = all, to
  -- pg_stat_statements as the nested ALTER ROLE (superusers only may change either).
  SET log_statement = 'none';
  SET pg_stat_statements.track_utility = off;
\endif
SET client_min_messages = warning;
-- Only pg_catalog is searched: nothing a database owner created can stand in for a function this script calls.
SET search_path = pg_catalog;
SELECT set_config('pgpulse.reporting_role', :'reporting_role', false) IS NULL AS pgpulse_unused \gset

-- The role, with the attributes a monitoring login needs and none it does not.
SELECT format('CREATE ROLE %I LOGIN', :'reporting_role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'reporting_role') \gexec
\if :managed
  -- A CREATEROLE administrator may not name SUPERUSER, REPLICATION or BYPASSRLS at all (not even to remove them); a
  -- role it created has none of them, and the check below refuses a role that has.
  SELECT format('ALTER ROLE %I LOGIN NOCREATEDB NOCREATEROLE CONNECTION LIMIT %s', :'reporting_role',
                :'connection_limit'::int) \gexec
\else
  SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT %s',
                :'reporting_role', :'connection_limit'::int) \gexec
\endif
SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', :'reporting_role') \gexec

-- Never a superuser, a replication role or one that bypasses row security, whoever made it one.
DO $$
DECLARE
  role pg_roles%ROWTYPE;
BEGIN
  SELECT * INTO role FROM pg_roles WHERE rolname = current_setting('pgpulse.reporting_role');
  IF role.rolsuper OR role.rolreplication OR role.rolbypassrls THEN
    RAISE EXCEPTION 'role % is a superuser, a replication role or bypasses row security: a monitoring role must not be',
      role.rolname USING HINT = 'ALTER ROLE ' || quote_ident(role.rolname) || ' NOSUPERUSER NOREPLICATION NOBYPASSRLS';
  END IF;
END
$$;

-- The password goes through a session setting, so that no statement text holds it: the set_config call is recorded
-- with its arguments replaced by placeholders, and the ALTER ROLE runs inside a DO block whose text has no password.
-- An error is re-raised without the failing statement, which would hold the password.
\if :{?reporting_password}
  SELECT set_config('pgpulse.reporting_password', :'reporting_password', false) IS NULL AS pgpulse_unused \gset
  \unset reporting_password
  DO $$
  BEGIN
    EXECUTE format('ALTER ROLE %I PASSWORD %L', current_setting('pgpulse.reporting_role'),
                   current_setting('pgpulse.reporting_password'));
    PERFORM set_config('pgpulse.reporting_password', '', false);
  EXCEPTION WHEN OTHERS THEN
    PERFORM set_config('pgpulse.reporting_password', '', false);
    RAISE EXCEPTION 'setting the password of % failed: %', current_setting('pgpulse.reporting_role'), SQLERRM;
  END
  $$;
\endif

-- pg_monitor: the statistics views, other sessions' queries, pg_ls_waldir() and the like. On PostgreSQL 16 and later a
-- non-superuser needs ADMIN OPTION on pg_monitor to grant it.
SELECT format('GRANT pg_monitor TO %I', :'reporting_role')
WHERE NOT pg_has_role(:'reporting_role', 'pg_monitor', 'MEMBER') \gexec

-- CONNECT on each service database. PUBLIC has it too unless it was revoked; the explicit grant survives a REVOKE
-- FROM PUBLIC. A database where this role cannot grant it is named in a warning.
CREATE TEMPORARY VIEW pgpulse_service_databases AS
SELECT oid, datname FROM pg_database
WHERE NOT datistemplate AND datallowconn
  AND (:'databases' = '' OR datname = ANY (string_to_array(replace(:'databases', ' ', ''), ',')));
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', datname, :'reporting_role') FROM pgpulse_service_databases
WHERE has_database_privilege(current_user, oid, 'CONNECT WITH GRANT OPTION') ORDER BY datname \gexec
DO $$
DECLARE
  database record;
BEGIN
  FOR database IN SELECT datname FROM pgpulse_service_databases
                  WHERE NOT has_database_privilege(current_user, oid, 'CONNECT WITH GRANT OPTION') ORDER BY datname
  LOOP
    RAISE WARNING 'database %: % cannot grant CONNECT (neither its owner nor a member of it): its owner must GRANT CONNECT ON DATABASE % TO %',
      database.datname, current_user, quote_ident(database.datname), quote_ident(current_setting('pgpulse.reporting_role'));
  END LOOP;
  FOR database IN SELECT datname FROM pgpulse_service_databases
                  WHERE NOT has_database_privilege(current_user, oid, 'CONNECT') ORDER BY datname
  LOOP
    RAISE WARNING 'database %: % cannot connect to it, so sequences and pg_stat_statements there get no grants',
      database.datname, current_user;
  END LOOP;
END
$$;

-- The grants inside each database come from a script written to a temp file: \connect is a psql command, so it cannot
-- come from \gexec, and psql has no loop.
\set pgpulse_script `mktemp`
SELECT format(E'\\connect %s\n', '''' || replace(replace(datname, '\', '\\'), '''', '''''') || '''') ||
       format($per_database$
-- The database's owner is a tenant, and this session a superuser: a search_path the owner set on the database
-- (ALTER DATABASE ... SET search_path) could put the owner's functions before pg_catalog's. Only pg_catalog is
-- searched.
SET search_path = pg_catalog;
DO $do$
DECLARE
  reporting text := %L;
  object record;
  skipped int := 0;
BEGIN
  -- pg_sequences shows last_value only to a role with SELECT (or USAGE) on the sequence: SELECT, which cannot
  -- advance it. Sequences created later get it from the default privileges of the roles that own this database
  -- and its schemas.
  FOR object IN
    SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'S' AND n.nspname NOT LIKE 'pg\_temp\_%%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%%'
      AND NOT has_table_privilege(reporting, c.oid, 'SELECT')
  LOOP
    IF has_sequence_privilege(current_user, object.oid, 'SELECT WITH GRANT OPTION') THEN
      EXECUTE format('GRANT SELECT ON SEQUENCE %%s TO %%I', object.oid::regclass, reporting);
    ELSE
      skipped := skipped + 1;
    END IF;
  END LOOP;
  IF skipped > 0 THEN
    RAISE WARNING 'database %%: %% cannot grant SELECT on %% sequences (not their owner): their usage is not exported',
      current_database(), current_user, skipped;
  END IF;
  FOR object IN
    SELECT DISTINCT pg_get_userbyid(owner) AS owner FROM (
      SELECT datdba AS owner FROM pg_database WHERE datname = current_database()
      UNION SELECT nspowner FROM pg_namespace
            WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_%%') owners
    -- pg_database_owner (14+) owns public but creates nothing. A superuser's default privileges are for a superuser
    -- to set: without one (a managed service), its later sequences need a GRANT SELECT.
    WHERE pg_get_userbyid(owner) NOT LIKE 'pg\_%%'
      AND (NOT (SELECT rolsuper FROM pg_roles WHERE oid = owner) OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user))
  LOOP
    BEGIN
      EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %%I GRANT SELECT ON SEQUENCES TO %%I', object.owner, reporting);
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE WARNING 'database %%: %% is not a member of %%: sequences it creates later need a GRANT SELECT',
        current_database(), current_user, object.owner;
    END;
  END LOOP;
  -- pg_stat_statements: pgpulse calls its function qualified with the extension's schema.
  FOR object IN
    SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_stat_statements' AND NOT has_schema_privilege(reporting, n.oid, 'USAGE')
  LOOP
    EXECUTE format('GRANT USAGE ON SCHEMA %%I TO %%I', object.nspname, reporting);
  END LOOP;
END
$do$;
$per_database$, :'reporting_role')
FROM pgpulse_service_databases WHERE has_database_privilege(current_user, oid, 'CONNECT') ORDER BY datname
\g (format=unaligned tuples_only=on) :pgpulse_script
\i :pgpulse_script
\set pgpulse_unused `rm -f :pgpulse_script`
