-- Content-addressed bodies. The file is written (atomically) before this row.
CREATE TABLE blobs (
    sha256      TEXT    PRIMARY KEY,   -- lowercase hex of the decoded body
    size        INTEGER NOT NULL,      -- body bytes
    stored_size INTEGER NOT NULL,      -- bytes on disk (compressed)
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- What a successful fetch archived. Provenance leaves room for copies from web
-- archives and imported WARCs.
CREATE TABLE captures (
    id           INTEGER PRIMARY KEY,
    source_id    INTEGER NOT NULL REFERENCES sources(id),
    captured_at  INTEGER NOT NULL,
    provenance   TEXT    NOT NULL DEFAULT 'fetch' CHECK (provenance IN ('fetch', 'web_archive', 'import')),
    request_url  TEXT    NOT NULL,
    final_url    TEXT    NOT NULL,
    hops         TEXT    NOT NULL DEFAULT '[]',  -- JSON: [{url, status, location, resolved}]
    status       INTEGER NOT NULL,
    headers      TEXT    NOT NULL,               -- JSON: [[name, value], …] as received
    content_type TEXT,
    body_sha256  TEXT    NOT NULL REFERENCES blobs(sha256),
    body_size    INTEGER NOT NULL,
    truncated    INTEGER NOT NULL DEFAULT 0,
    not_modified INTEGER NOT NULL DEFAULT 0      -- a 304: same body as the capture before
);
CREATE INDEX captures_source ON captures(source_id, captured_at);

-- Every attempt to fetch a source, successful or not: the history.
CREATE TABLE checks (
    id           INTEGER PRIMARY KEY,
    source_id    INTEGER NOT NULL REFERENCES sources(id),
    started_at   INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL,
    request_url  TEXT    NOT NULL,
    final_url    TEXT,
    outcome      TEXT    NOT NULL,   -- fetch outcome kind: http, timeout, dns, …
    http_status  INTEGER,
    error_detail TEXT,
    hops         TEXT    NOT NULL DEFAULT '[]',
    attempts     INTEGER NOT NULL,
    capture_id   INTEGER REFERENCES captures(id)
);
CREATE INDEX checks_source ON checks(source_id, started_at);
