"""Triage: signals, classifier, impact, rules, tier and queue, assignment, recurrence. One pipeline runs them."""
