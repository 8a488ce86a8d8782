"""The flows: the one floor that calls across the records (tickets) and the engines (triage, SLA, problems).

Each module is one flow you can read top to bottom: intake, a message, a ticket update, a tier change, a
person leaving, a problem fix announced, an SLA breach acted on, the job handlers. Records and engines below
never import a flow; routes, the CLI and the job registry above call them. tests/test_floors.py holds the
house to that.
"""
