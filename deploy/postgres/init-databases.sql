-- Runs once, when the PostgreSQL data volume is first initialised
-- (/docker-entrypoint-initdb.d). To re-run it: `docker compose down -v`.
--
-- One database per service: a service never reads another service's database, so each
-- gets its own (the services' Alembic migrations create the tables on start, or with
-- `dps migrate NAME`). In this single-node stack they share the `dps` login and one
-- server; production gives each service its own role (and usually its own instance).

CREATE DATABASE provider_registry;
CREATE DATABASE procurement;
CREATE DATABASE placements;
CREATE DATABASE monitoring;

-- Temporal keeps its state apart from the application, under its own role.
-- temporalio/auto-setup runs with SKIP_DB_CREATE=true (see docker-compose.yml) and only
-- creates the schemas, so the role needs no CREATEDB.
CREATE ROLE temporal WITH LOGIN PASSWORD 'temporal';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;

-- Temporal's PostgreSQL (v12) visibility schema needs btree_gin. Its migration creates
-- the extension only if it is missing; creating it here as the superuser means the
-- temporal role never needs the privilege to do so.
\connect temporal_visibility
CREATE EXTENSION IF NOT EXISTS btree_gin;
