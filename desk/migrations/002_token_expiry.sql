-- Tokens expire (issue 16, item 5): every token has an end, checked by desk/auth.py TokenAuthenticator.
-- Tokens issued before this migration get the lifetimes the desk now gives by default: 12 hours for a
-- development token, 30 days for any other.
ALTER TABLE desk.tokens ADD COLUMN expires_at timestamptz;
UPDATE desk.tokens
   SET expires_at = created_at + CASE WHEN development THEN interval '12 hours' ELSE interval '30 days' END;
ALTER TABLE desk.tokens ALTER COLUMN expires_at SET NOT NULL;
