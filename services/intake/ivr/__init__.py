"""IVR self-service (自动受理): the call RPCs' edge, the client of the call workflow, and its activities.

``edge`` checks the RPCs and renders turns, ``calls`` starts and drives a call's workflow, and
``activities`` are the lookups and writes the call workflow runs.
"""
