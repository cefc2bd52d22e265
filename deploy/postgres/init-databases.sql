-- Run once by the postgres image on first start (empty data directory), as POSTGRES_USER.
-- One database per service; each service's migrations create its own tables at start-up.
CREATE DATABASE intake;
CREATE DATABASE scheduler;
CREATE DATABASE notifier;
CREATE DATABASE sla_monitor;
