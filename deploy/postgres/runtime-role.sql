-- The backend's runtime role: it may read and write rows, but it owns nothing, so it cannot disable the audit
-- triggers, replace the audit functions, alter tables or truncate them. Migrations run as the owner
-- (DATABASE_MIGRATION_URL). psql variables: app_role, app_password, owner, dbname.
CREATE ROLE :"app_role" LOGIN PASSWORD :'app_password';
GRANT CONNECT ON DATABASE :"dbname" TO :"app_role";
GRANT USAGE ON SCHEMA public TO :"app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app_role";
