"""Signed `order-status` webhooks of `internal` integrations (the platform's client API pushes
them): verified, deduplicated, and turned into "check this order now"."""
