"""Placing orders at a provider at most once (`dispatch_order`, and the function of the same name
the host application calls); the answer is applied by the order's state machine (orders.transitions)."""
