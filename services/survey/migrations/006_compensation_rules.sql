-- The compensation rule (赔偿规定) of the manager hotline: an amount per started hour past the
-- resolution deadline, capped. Every version is kept; the highest is in force, and each compensated
-- escalation names the version it used.
CREATE TABLE survey.compensation_rules (
    version               integer PRIMARY KEY,
    amount_per_hour_cents bigint NOT NULL CHECK (amount_per_hour_cents >= 0),
    cap_cents             bigint NOT NULL CHECK (cap_cents >= 0),
    currency              text NOT NULL,
    updated_by            text NOT NULL,
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- 5 yuan per hour overdue, at most 100 yuan: a starting point for the managers to set.
INSERT INTO survey.compensation_rules (version, amount_per_hour_cents, cap_cents, currency, updated_by)
VALUES (1, 500, 10000, 'CNY', 'seed');
