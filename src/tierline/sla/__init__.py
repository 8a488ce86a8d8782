"""SLA: business calendars, policies, clocks, warnings and breaches."""
