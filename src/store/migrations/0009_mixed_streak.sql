-- A source's failing streak of either kind (see check/verdict.rs): failures
-- of both kinds with no good check between them confirm `unreachable`. Kept
-- apart from the streak of one kind (`consecutive_failures`), whose kind is
-- now stored rather than read from the suspect, since a mixed streak's
-- suspect is `unreachable` whatever its latest failures were. A streak under
-- way starts as the streak of one kind it was, of the kind its suspect said.
ALTER TABLE sources ADD COLUMN streak_kind TEXT;
ALTER TABLE sources ADD COLUMN mixed_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN mixed_since INTEGER;
UPDATE sources
   SET streak_kind = CASE
         WHEN suspect = 'unreachable' OR (suspect = 'dead' AND no_such_host_since IS NOT NULL)
           THEN 'network'
         ELSE 'removed' END,
       mixed_failures = consecutive_failures,
       mixed_since = failing_since
 WHERE consecutive_failures > 0;
