"""The web console: server-rendered pages (Jinja2 + htmx) over the same services and flows the API calls."""
