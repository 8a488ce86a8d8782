"""Demo data: a realistic, deterministic support organisation loaded through the domain services.

`corpus` and `architecture` hold the texts and the shape of the organisation, `generator` turns a seed into
a plan (plain data, no database), `loader` applies the plan through the services so the audit chain and the
search index fill exactly as in production.
"""
