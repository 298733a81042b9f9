-- The shared instance's service databases, run by the postgres image as the superuser on first start (an empty data
-- volume), in the database postgres: per service a database and an owning login role, connections from other
-- services' roles refused, the extensions. Idempotent, so it can also be run by hand against an existing instance:
--   psql -v ON_ERROR_STOP=1 -U postgres -d postgres -f 10-services.sql
-- The app roles get no password here: set each with \password <role>, or from your secret store.
\set ON_ERROR_STOP on

-- pg_stat_statements (shared_preload_libraries is set in compose.yaml): pgpulse reads it from the database postgres.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

SELECT format('CREATE ROLE %I LOGIN CONNECTION LIMIT 50', name || '_app')
FROM unnest(ARRAY['cafe', 'erp', 'treasury']) AS name
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name || '_app') \gexec

SELECT format('CREATE DATABASE %I OWNER %I', name, name || '_app')
FROM unnest(ARRAY['cafe', 'erp', 'treasury']) AS name
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name) \gexec

-- Each database is its service's: no CONNECT for PUBLIC (the reporting role gets its own, from reporting-role.sql).
SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', name)
FROM unnest(ARRAY['cafe', 'erp', 'treasury']) AS name \gexec

-- Inside each: the extensions the services use, the public schema the service's own (nobody else creates there),
-- and default privileges that keep the service's new functions from PUBLIC.
\connect cafe
CREATE EXTENSION IF NOT EXISTS pgcrypto;
ALTER SCHEMA public OWNER TO cafe_app;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE cafe_app REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

\connect erp
CREATE EXTENSION IF NOT EXISTS pgcrypto;
ALTER SCHEMA public OWNER TO erp_app;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE erp_app REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

\connect treasury
CREATE EXTENSION IF NOT EXISTS pgcrypto;
ALTER SCHEMA public OWNER TO treasury_app;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE treasury_app REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
