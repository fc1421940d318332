-- Where a violation came from: a missed deadline (every one so far), an investigation, an inspection.
ALTER TABLE dispatch.violations ADD COLUMN source text NOT NULL DEFAULT 'DEADLINE';
