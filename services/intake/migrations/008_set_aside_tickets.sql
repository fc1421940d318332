-- An accepted ticket whose opening was refused for good (its workflow could not store it) is set
-- aside instead of being tried again every few seconds for ever: the reason is kept, its lease never
-- runs out, and it no longer counts in the backlog. It stays readable (GetTicket shows it as
-- accepted) and is listed by intake's log; an operator decides what becomes of it.
ALTER TABLE intake.pending_tickets ADD COLUMN set_aside text;
