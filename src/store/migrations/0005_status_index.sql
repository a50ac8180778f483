-- Sources are looked up by status (the service's filters, counts by status),
-- never by their next check time: the due query reads every source. Indexing
-- next_check_at moved each source's index entry on every check, as every
-- check sets it; an index on status alone changes only when a status does.
DROP INDEX sources_due;
CREATE INDEX sources_status ON sources(status);
