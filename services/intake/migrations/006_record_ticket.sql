-- A ticket's record in one round trip (intake.record_ticket, the workflow's most frequent write).
--
-- The view moves only forward in time (an older record retried late changes nothing); each timeline
-- event is kept once (its sequence and id); with p_outbox the events new to the timeline are also
-- queued, in their order, for intake's relay, which the NOTIFY wakes on commit (channel
-- intake_outbox, services/intake/outbox.py); a ticket that takes no more repeats gives back its report
-- keys. Called as one statement, so in one transaction: all of it or none.
CREATE FUNCTION intake.record_ticket(
    p_ticket_id text, p_request_id text, p_status text, p_team_id text, p_created_at timestamptz,
    p_updated_at timestamptz, p_view jsonb, p_events jsonb, p_outbox boolean, p_trace jsonb,
    p_release_keys boolean
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    e jsonb;
BEGIN
    INSERT INTO intake.tickets (ticket_id, request_id, status, team_id, created_at, updated_at, view)
    VALUES (p_ticket_id, p_request_id, p_status, p_team_id, p_created_at, p_updated_at, p_view)
    ON CONFLICT (ticket_id) DO UPDATE
        SET status = p_status, team_id = p_team_id, updated_at = p_updated_at, view = p_view
        WHERE intake.tickets.updated_at <= p_updated_at;
    FOR e IN SELECT value FROM jsonb_array_elements(p_events) WITH ORDINALITY ORDER BY ordinality LOOP
        INSERT INTO intake.timeline (ticket_id, sequence, event_id, type, actor, occurred_at, reason, payload)
        VALUES (e->>'ticket_id', (e->>'sequence')::bigint, e->>'event_id', e->>'type', e->>'actor',
                (e->>'occurred_at')::timestamptz, e->>'reason', e->'payload')
        ON CONFLICT DO NOTHING;
        IF p_outbox AND FOUND THEN  -- not again for an event a retried record had already kept
            INSERT INTO intake.outbox (event, trace) VALUES (e, p_trace);
        END IF;
    END LOOP;
    IF p_outbox AND jsonb_array_length(p_events) > 0 THEN
        PERFORM pg_notify('intake_outbox', '');
    END IF;
    IF p_release_keys THEN
        DELETE FROM intake.open_reports WHERE ticket_id = p_ticket_id;
    END IF;
END $$;
