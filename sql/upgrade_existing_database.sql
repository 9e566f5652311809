-- Prepares the platform's live PostgreSQL database for the monitor, and moves an older monitor
-- installation's own tables out of `public` (docs/UPGRADING.md). Run it with psql, before
-- `python manage.py migrate`:
--
--   psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f sql/upgrade_existing_database.sql
--
-- With MONITOR_DB_SCHEMA set to another schema than order_monitor, add -v monitor_schema=<name>.
--
-- Idempotent: it does only what is missing, so running it twice is harmless. It never drops,
-- retypes or rewrites a platform table or column; on product_orders it adds the monitor's own
-- columns (each nullable or with a default: the platform's inserts keep working) and the
-- monitor's index. `migrate` does the same where this script has not run; the script is for
-- doing it by hand, under a lock timeout, before the monitor's code is deployed.

\if :{?monitor_schema}
\else
\set monitor_schema order_monitor
\endif

BEGIN;

-- The schema of the monitor's own tables and of its Django bookkeeping (django_migrations,
-- auth_*, sessions, admin log, content types): never the platform's public.
CREATE SCHEMA IF NOT EXISTS :"monitor_schema";
SELECT set_config('monitor.schema', :'monitor_schema', true) AS monitor_schema;

-- An older monitor installation on a database of its own kept its Django bookkeeping in public.
-- It is moved into the schema, with the admin users, their permissions and the admin log, only
-- when it is certainly the monitor's: auth_user exists (the platform's Django has none, its
-- users are dj_users), the monitor's own migration orders.0002_due_index is recorded, and no app
-- but the monitor's is. On the platform's database (its own Django in public) nothing here moves.
DO $$
DECLARE
    target text := current_setting('monitor.schema');
    bookkeeping text[] := ARRAY[
        'django_migrations', 'django_content_type', 'auth_permission', 'auth_group', 'auth_group_permissions',
        'auth_user', 'auth_user_groups', 'auth_user_user_permissions', 'django_admin_log', 'django_session'];
    tbl text;
BEGIN
    -- Two steps: PL/pgSQL parses a condition whole, and public.django_migrations may not exist.
    IF to_regclass(format('%I.django_migrations', target)) IS NOT NULL
        OR to_regclass('public.django_migrations') IS NULL
        OR to_regclass('public.auth_user') IS NULL
    THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM public.django_migrations WHERE app = 'orders' AND name = '0002_due_index')
        AND NOT EXISTS (
            SELECT FROM public.django_migrations
            WHERE app NOT IN ('admin', 'auth', 'contenttypes', 'sessions', 'orders', 'providers'))
    THEN
        FOREACH tbl IN ARRAY bookkeeping LOOP
            IF to_regclass(format('public.%I', tbl)) IS NOT NULL THEN
                EXECUTE format('ALTER TABLE public.%I SET SCHEMA %I', tbl, target);
            END IF;
        END LOOP;
        -- The apps' labels changed (orders -> monitor_orders, providers -> monitor_providers):
        -- renaming their content types keeps the permissions and the admin log pointing at them.
        -- Their old migration records name migrations that no longer exist; migrate records the
        -- new ones.
        EXECUTE format(
            'UPDATE %I.django_content_type SET app_label = ''monitor_'' || app_label '
            'WHERE app_label IN (''orders'', ''providers'')', target);
        EXECUTE format('DELETE FROM %I.django_migrations WHERE app IN (''orders'', ''providers'')', target);
        RAISE NOTICE 'moved the monitor''s Django tables from public to %', target;
    END IF;
END $$;

-- The monitor's own tables (history, runs) an older installation made in public: moved into the
-- schema with their rows, indexes and sequences.
DO $$
DECLARE
    target text := current_setting('monitor.schema');
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['order_status_events', 'order_monitor_runs'] LOOP
        IF to_regclass(format('public.%I', tbl)) IS NOT NULL
            AND to_regclass(format('%I.%I', target, tbl)) IS NULL
        THEN
            EXECUTE format('ALTER TABLE public.%I SET SCHEMA %I', tbl, target);
            RAISE NOTICE 'moved % from public to %', tbl, target;
        END IF;
    END LOOP;
END $$;

-- provider_referans: on the live table the platform's Django side already added it
-- (varchar(255), index idx_orders_provider_referans), and it stays as it is.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = 'product_orders' AND column_name = 'provider_referans')
    THEN
        ALTER TABLE public.product_orders ADD COLUMN provider_referans character varying(255);
        CREATE INDEX idx_orders_provider_referans ON public.product_orders (provider_referans);
    END IF;
END $$;

-- The monitor's own columns, in one ALTER TABLE (one short lock).
ALTER TABLE public.product_orders
    ADD COLUMN IF NOT EXISTS next_check_at timestamp with time zone,
    ADD COLUMN IF NOT EXISTS check_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS last_check_error text,
    ADD COLUMN IF NOT EXISTS pin_code_full text,
    ADD COLUMN IF NOT EXISTS hold_reason text,
    ADD COLUMN IF NOT EXISTS permanent_error_since timestamp with time zone,
    ADD COLUMN IF NOT EXISTS consecutive_errors integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS monitor_leased_until timestamp with time zone;

-- An order is held for an operator when hold_reason is set. Older versions held an order only
-- for a PIN too long for "pinCode", kept in pin_code_full.
UPDATE public.product_orders
SET hold_reason = 'PIN too long for "pinCode": kept whole in pin_code_full'
WHERE pin_code_full IS NOT NULL AND hold_reason IS NULL;

-- Serves the due query of check_pending_orders: orders at the provider (the active states of
-- orders.models.ACTIVE_STATUSES) and not held, by when they are due (a NULL next_check_at,
-- never checked, counts as due since the epoch). It replaces product_orders_due_idx, whose
-- predicate left out wait and unknown.
DROP INDEX IF EXISTS public.product_orders_due_idx;
CREATE INDEX IF NOT EXISTS product_orders_monitor_due_idx
    ON public.product_orders ((COALESCE(next_check_at, '1970-01-01 00:00:00+00'::timestamp with time zone)), id)
    WHERE "externalStatus" IN ('pending', 'sent', 'processing', 'wait', 'unknown') AND hold_reason IS NULL;

COMMIT;
