-- Accepted reports whose ticket workflow has not recorded them yet.
--
-- CreateTicket answers once a new ticket's row is here (the report is accepted: nothing is lost
-- after that), and the intake process's starter opens the ticket's workflow from it at the pace the
-- workflow worker takes them; the row goes once the workflow has recorded the ticket. A row whose
-- lease ran out (its intake process died, or Temporal was unreachable) is picked up again.
CREATE TABLE intake.pending_tickets (
    ticket_id    text PRIMARY KEY,
    draft        jsonb NOT NULL,
    accepted_at  timestamptz NOT NULL,
    leased_until timestamptz NOT NULL
);
CREATE INDEX pending_tickets_lease ON intake.pending_tickets (leased_until, accepted_at);

-- A report's claim and, for a new ticket, its acceptance, in one round trip (CreateTicket's hot path).
--
-- The request id is locked first (a retry or a concurrent copy waits, then finds the answer); then
-- the report's keys (sorted by the caller) are claimed for a new ticket number; a key already held
-- (committed, or waited for) makes the report a repeat of its ticket, and the keys claimed so far
-- are given back. A new ticket is linked to the known outage the caller matched, if that outage is
-- still active (its resolution waits for the row lock), and its draft (given without its number and
-- outage) is accepted into pending_tickets.
CREATE FUNCTION intake.accept_report(
    p_request_id text, p_fingerprint bytea, p_now timestamptz, p_keys text[],
    p_draft jsonb, p_outage_id text, p_leased_until timestamptz
) RETURNS TABLE (ticket_id text, fingerprint bytea, created_at timestamptz, repeat boolean,
                 fresh boolean, outage_id text)
LANGUAGE plpgsql AS $$
DECLARE
    before intake.requests%ROWTYPE;
    new_id text;
    held text;
    k text;
    linked text := '';
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('intake.request:' || p_request_id));
    SELECT * INTO before FROM intake.requests r WHERE r.request_id = p_request_id;
    IF FOUND THEN
        RETURN QUERY SELECT before.ticket_id, before.fingerprint, before.created_at, before.repeat,
                            false, ''::text;
        RETURN;
    END IF;
    new_id := 'TK' || to_char(p_now AT TIME ZONE 'UTC', 'YYYYMMDD')
              || lpad(nextval('intake.ticket_number')::text, 6, '0');
    FOREACH k IN ARRAY p_keys LOOP
        INSERT INTO intake.open_reports AS o (report_key, ticket_id) VALUES (k, new_id)
            ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            SELECT o.ticket_id INTO held FROM intake.open_reports o WHERE o.report_key = k;
            DELETE FROM intake.open_reports o WHERE o.ticket_id = new_id;
            EXIT;
        END IF;
    END LOOP;
    INSERT INTO intake.requests (request_id, ticket_id, fingerprint, created_at, repeat)
        VALUES (p_request_id, coalesce(held, new_id), p_fingerprint, p_now, held IS NOT NULL);
    IF held IS NOT NULL THEN
        RETURN QUERY SELECT held, p_fingerprint, p_now, true, true, ''::text;
        RETURN;
    END IF;
    IF p_outage_id <> '' AND EXISTS (
        SELECT 1 FROM intake.outages g WHERE g.outage_id = p_outage_id AND g.active FOR SHARE
    ) THEN
        INSERT INTO intake.outage_tickets (outage_id, ticket_id) VALUES (p_outage_id, new_id);
        linked := p_outage_id;
    END IF;
    INSERT INTO intake.pending_tickets (ticket_id, draft, accepted_at, leased_until)
        VALUES (new_id, p_draft || jsonb_build_object('ticket_id', new_id, 'outage_id', linked),
                p_now, p_leased_until);
    RETURN QUERY SELECT new_id, p_fingerprint, p_now, false, true, linked;
END;
$$;
