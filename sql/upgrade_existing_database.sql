-- Prepares a database whose tables `integrations` and `product_orders` were created by the
-- older application (PostgreSQL). Idempotent: it adds only what is missing, so running it
-- twice is harmless. Run it BEFORE `python manage.py migrate --fake-initial` (docs/UPGRADING.md).
-- Every added column is nullable or has a database default: the older application keeps
-- inserting rows without knowing about them.
BEGIN;

ALTER TABLE product_orders ADD COLUMN IF NOT EXISTS provider_referans text;
ALTER TABLE product_orders ADD COLUMN IF NOT EXISTS next_check_at timestamp with time zone;
ALTER TABLE product_orders ADD COLUMN IF NOT EXISTS check_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE product_orders ADD COLUMN IF NOT EXISTS last_check_error text;
ALTER TABLE product_orders ADD COLUMN IF NOT EXISTS pin_code_full text;
ALTER TABLE product_orders ADD COLUMN IF NOT EXISTS permanent_error_since timestamp with time zone;

-- Serves the due query of check_pending_orders: active orders by when they are due (a NULL
-- next_check_at, never checked, counts as due since the epoch).
CREATE INDEX IF NOT EXISTS product_orders_due_idx
    ON product_orders ((COALESCE(next_check_at, '1970-01-01 00:00:00+00'::timestamp with time zone)), id)
    WHERE "externalStatus" IN ('pending', 'sent', 'processing');

COMMIT;
