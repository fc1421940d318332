"""Reports and repeats: accepting a validated report from any channel, and telling a repeat from a new fault.

``reporting`` is the one path from a report to its ticket (a new ticket, a repeat on an open one, or a
link to a known outage); ``repeats`` decides what counts as a repeat and what its caller hears.
"""
