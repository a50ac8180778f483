-- Documents of the briefing store, keyed by the configured paths entry (as written)
-- and the path relative to it. A document that left the store keeps its row, marked
-- withdrawn, so its citations and their sources' history stay.
CREATE TABLE documents (
    id           INTEGER PRIMARY KEY,
    root         TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    format       TEXT    NOT NULL CHECK (format IN ('txt', 'md', 'html')),
    sha256       TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    mtime_ns     INTEGER,           -- trusted stat: same size and mtime means unchanged
    encoding     TEXT    NOT NULL,
    first_seen   INTEGER NOT NULL,  -- unix ms, UTC
    synced_at    INTEGER NOT NULL,  -- when its items were last (re)written
    withdrawn_at INTEGER,           -- set while the document is absent from the store
    UNIQUE (root, path)
);

-- Briefing items, replaced as a whole when their document changes.
CREATE TABLE briefings (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal     INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    UNIQUE (document_id, ordinal)
);

-- A source is one normalised URL: what is fetched and has a status. Sources are
-- never deleted by sync; checks and captures will point at them.
CREATE TABLE sources (
    id           INTEGER PRIMARY KEY,
    url          TEXT    NOT NULL UNIQUE,
    host         TEXT    NOT NULL,
    first_seen   INTEGER NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'unchecked',
    status_since INTEGER
);

-- A citation: (briefing, outlet, cited date, URL as written). A URL that cannot be
-- fetched as written has no source and says why.
CREATE TABLE citations (
    id             INTEGER PRIMARY KEY,
    briefing_id    INTEGER NOT NULL REFERENCES briefings(id) ON DELETE CASCADE,
    ordinal        INTEGER NOT NULL,
    origin         TEXT    NOT NULL CHECK (origin IN ('source_line', 'read_link', 'body')),
    outlet         TEXT,
    cited_date     TEXT,    -- ISO date
    url            TEXT,    -- as written; NULL when a Source: line had none
    source_id      INTEGER REFERENCES sources(id),
    invalid_reason TEXT,
    context        TEXT,
    CHECK ((source_id IS NULL) <> (invalid_reason IS NULL))
);
CREATE INDEX citations_briefing ON citations(briefing_id);
CREATE INDEX citations_source ON citations(source_id);
