"""Check schedules: when to ask a provider about an order (offsets), how a schedule is learned
from completion times (learning, candidates) and each integration's learned schedule (book)."""
