-- Runs once, as the superuser, when the postgres container initialises an empty data volume
-- (docker-entrypoint-initdb.d). It makes the same roles as scripts/stack.sh does locally:
--   ch_owner  owns the database and schema public, runs the migrations; no superuser.
--   ch_app    the application's role: owns nothing, no superuser, no BYPASSRLS, so Row-Level
--             Security binds it. The migrate command grants it its table privileges.
-- Passwords come from the container's environment (psql 15's \getenv), never from this file.
\set ON_ERROR_STOP on
\getenv owner_password CH_OWNER_PASSWORD
\getenv app_password CH_APP_PASSWORD
\if :{?owner_password}
\else
    DO $$ BEGIN RAISE EXCEPTION 'set CH_OWNER_PASSWORD for the postgres service'; END $$;
\endif
\if :{?app_password}
\else
    DO $$ BEGIN RAISE EXCEPTION 'set CH_APP_PASSWORD for the postgres service'; END $$;
\endif

CREATE ROLE ch_owner WITH LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';
CREATE ROLE ch_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'app_password';
-- A session of the owner may SET ROLE ch_app (the tests do).
GRANT ch_app TO ch_owner;

CREATE DATABASE compliance_hub OWNER ch_owner;
GRANT CONNECT, TEMPORARY ON DATABASE compliance_hub TO ch_app;

\connect compliance_hub
ALTER SCHEMA public OWNER TO ch_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO ch_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ch_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ch_app;
