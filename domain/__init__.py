"""The ticket domain: what a ticket is and how it may change, shared by every service and the workflow.

The model (ticket, work orders, deadlines, line tests, callbacks), the commands callers send, the
pure transitions that decide them, and the deadline arithmetic on 7x24 and business calendars. Pure:
no I/O, no clock, no Temporal; it imports only ``desk``. Services and workflows build on it, never the
other way round (docs/architecture.md).
"""
