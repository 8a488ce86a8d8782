"""Tickets: queues, tickets, messages (public replies and internal notes), ticket forms, the intake flow."""
