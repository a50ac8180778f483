-- Network failures a check run holds back until its end, when their host's
-- share of them decides whether they are one host incident (see
-- check/run.rs). Kept here rather than in memory: with the resolver or the
-- uplink down all night, every due source fails, and holding each one's
-- record until the end grew with the store and recorded nothing if the run
-- was killed. A row is written in the batch of the results around it and
-- deleted in the transaction that records it; rows a killed run left are
-- deleted as the next run starts, so their sources stay due and are checked
-- again. `host` as source_url::host_key spells it; `record` is the check's
-- JSON, only what the writer needs.
CREATE TABLE held_checks (
    id     INTEGER PRIMARY KEY,
    host   TEXT    NOT NULL,
    record TEXT    NOT NULL
);
CREATE INDEX held_checks_host ON held_checks(host, id);

-- A source's host as source_url::host_key spells it, the form every lookup
-- by host compares (`--host`, the previous run's incident for a host): each
-- scanned every source without it, once per failing host at a run's end.
CREATE INDEX sources_host_key ON sources(rtrim(lower(host), '.'));
