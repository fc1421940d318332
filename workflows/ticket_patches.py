"""Patch ids of the ticket workflow (docs/workflow-versions.md): each names a change to the commands a
running ticket issues, and is never reused."""

AFTER_CARE = "after-care"
"""A ticket's life after the repair (issue 13): callback attempts under the survey service's policy
(read by a local activity, the callback queue kept with each change), a "not fixed" callback as a
second dispatch for a senior agent's review, the satisfaction survey, its investigation and the archive
the next day. Before it, a callback not reached left the ticket RESOLVED, "not fixed" went straight
back to the team that resolved it, and the workflow ended when the ticket closed."""
