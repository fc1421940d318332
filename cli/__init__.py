"""`helpdesk`, the command line: a composition root like each service's main, so it may import anything.

`main` parses and dispatches; `up`, `serve` and `worker` start processes; `client`, `ops`, `directory`
and `events` are the commands an agent, an ops team or an operator types against a running desk.
"""
