"""Opening tickets: the pending queue between an accepted report and its running workflow.

``reception`` takes a new report in and decides who opens its ticket, ``pending_tickets`` keeps
accepted tickets until their workflow has recorded them, ``starter`` opens them (at once for a caller
who waits, else at the worker's pace), ``admission`` bounds the backlog, and ``line_test`` is the line
tester a fault is tested with before it opens.
"""
