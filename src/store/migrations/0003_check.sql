-- The verdict of each source and the evidence behind it (see check/verdict.rs).
ALTER TABLE sources ADD COLUMN suspect TEXT;
ALTER TABLE sources ADD COLUMN http_status INTEGER;
ALTER TABLE sources ADD COLUMN final_url TEXT;
ALTER TABLE sources ADD COLUMN error_kind TEXT;
ALTER TABLE sources ADD COLUMN error_detail TEXT;
ALTER TABLE sources ADD COLUMN similarity REAL;
ALTER TABLE sources ADD COLUMN evidence TEXT;
ALTER TABLE sources ADD COLUMN last_checked INTEGER;
ALTER TABLE sources ADD COLUMN next_check_at INTEGER;
ALTER TABLE sources ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN failing_since INTEGER;
ALTER TABLE sources ADD COLUMN no_such_host_since INTEGER;
ALTER TABLE sources ADD COLUMN baseline_capture_id INTEGER REFERENCES captures(id);
ALTER TABLE sources ADD COLUMN latest_capture_id INTEGER REFERENCES captures(id);
CREATE INDEX sources_due ON sources(status, next_check_at);

-- Check runs: one at a time; a run killed mid-way stays 'running' until the next
-- run marks it 'interrupted'.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    pid         INTEGER,
    state       TEXT    NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'completed', 'interrupted')),
    summary     TEXT    -- JSON run summary, when completed
);

ALTER TABLE checks ADD COLUMN run_id INTEGER REFERENCES runs(id);
ALTER TABLE checks ADD COLUMN status_after TEXT;
ALTER TABLE checks ADD COLUMN evidence TEXT;

-- Every change of a source's status: the "what broke last night" view.
CREATE TABLE status_changes (
    id         INTEGER PRIMARY KEY,
    source_id  INTEGER NOT NULL REFERENCES sources(id),
    run_id     INTEGER REFERENCES runs(id),
    at         INTEGER NOT NULL,
    old_status TEXT    NOT NULL,
    new_status TEXT    NOT NULL
);
CREATE INDEX status_changes_at ON status_changes(at);

-- Page analysis kept with each capture (JSON: title, main-text fingerprint,
-- error phrase, bot challenge), so drift is judged against the baseline and an
-- unchanged body is not read again.
ALTER TABLE captures ADD COLUMN title TEXT;
ALTER TABLE captures ADD COLUMN reading TEXT;

-- A host whose checks mostly failed on the network in one run: recorded once,
-- instead of counting the failure against each of its sources.
CREATE TABLE host_incidents (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER NOT NULL REFERENCES runs(id),
    host     TEXT    NOT NULL,
    at       INTEGER NOT NULL,
    checks   INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    detail   TEXT
);
