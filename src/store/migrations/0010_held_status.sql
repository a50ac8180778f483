-- While a source is `blocked`: the failure confirmed before the refusals
-- (`dead`, `soft_404` or `unreachable`; see check/verdict.rs,
-- `State::held_status`), held with the failing streaks, so that a failure
-- after them builds on it. Without it, a dead page refused once and then
-- timing out once was `unreachable` at once.
--
-- A source refused now, its streak still held, takes the status that its
-- latest change to `blocked` left, when that was a confirmed failure: the
-- status changes are the one record of it. Read in one pass over them (the
-- latest by id, as SQLite's max() names the row it picks), not once per
-- source: they have no index by source.
ALTER TABLE sources ADD COLUMN held_status TEXT;
UPDATE sources
   SET held_status = refused.old_status
  FROM (SELECT source_id, old_status, max(id)
          FROM status_changes
         WHERE new_status = 'blocked'
         GROUP BY source_id) AS refused
 WHERE refused.source_id = sources.id
   AND sources.status = 'blocked'
   AND (sources.consecutive_failures > 0 OR sources.mixed_failures > 0)
   AND refused.old_status IN ('dead', 'soft_404', 'unreachable');
