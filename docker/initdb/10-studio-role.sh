#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised: the studio's own role, which owns its database and is
# not a superuser. Its password comes from the environment (STUDIO_DB_PASSWORD), never from a file in git.
set -eu
psql -v ON_ERROR_STOP=1 -v pw="$STUDIO_DB_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'EOSQL'
CREATE ROLE studio LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw';
CREATE DATABASE studio OWNER studio;
EOSQL
