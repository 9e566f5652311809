"""internal: another tenant of the same platform, through its client API (JSON, one status
request per order, the `api-token` and `X-Tenant-Host` headers)."""
