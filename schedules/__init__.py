"""When an order is checked next: the offsets of a check schedule (offsets), how a schedule is
learned from completion times (learning, candidates), each integration's learned schedule
(book), and the next check time after an answer or a failed check (backoff)."""
