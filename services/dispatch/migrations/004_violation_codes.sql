-- An inspection's violation names a code of the inspected post's catalogue and carries the
-- inspector's note (services/quality/scorecards.py); deadline and investigation violations leave both empty.
ALTER TABLE dispatch.violations ADD COLUMN code text NOT NULL DEFAULT '';
ALTER TABLE dispatch.violations ADD COLUMN note text NOT NULL DEFAULT '';
