"""znet, the Turkish e-pin reseller API (plain-text answers, credentials in the query string)."""
