"""Capacity planning: Erlang C on last quarter's arrivals, handle times and staffing, and the SLA targets it
recommends (stored, audited, applied to a policy on request)."""
