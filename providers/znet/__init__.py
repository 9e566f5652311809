"""znet, the Turkish e-pin reseller API (plain-text answers, credentials in the query string)."""

from providers.znet import client  # noqa: F401  (registers the client)
