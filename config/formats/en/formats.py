# Times in the admin to the second (history pages, read-only fields): operators follow checks
# and backoff in seconds. Django's English default ("Nov. 26, 2026, 6:21 a.m.") has no seconds.
DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s"
