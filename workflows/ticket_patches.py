"""Patch ids of the ticket workflow (docs/workflow-versions.md): each names a change to the commands a
running ticket issues, and is never reused."""

AFTER_CARE = "after-care"
"""Callback attempts under the survey service's policy (read by a local activity, the callback queue
kept with each change) and a "not fixed" callback as a second dispatch for a senior agent's review.
Before it, a callback not reached left the ticket RESOLVED and "not fixed" went straight back to the
team that resolved it."""

SURVEY_AND_ARCHIVE = "survey-and-archive"
"""Only with AFTER_CARE: the workflow lives on after CLOSED for the satisfaction survey (its window,
its expiry, the investigation of an unsatisfied answer) and ends once the ticket is archived the next
day. Before it, the workflow ended when the ticket closed."""
