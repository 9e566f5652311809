"""The monitor's PostgreSQL backend (ENGINE "config.postgresql"): Django's, with the monitor's
own tables and Django's bookkeeping in a schema of their own. See base.py."""
