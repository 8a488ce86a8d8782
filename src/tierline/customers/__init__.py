"""Customers, their contacts, plans, ARR and the email domains that identify their requesters."""
