"""The web dashboard for courts and supervisors (/ui): server-rendered pages over
the same services as the REST API, with a little htmx and inline SVG charts."""
