-- A capture judged good when taken that later proved no copy of the page
-- cited: the page a redirect led to, once other cited articles were found
-- to be sent there as well (an "expired content" page, a topic index). The
-- checks that judged it keep their verdicts, as history; `get` and reports
-- no longer hand it out as the copy cited.
ALTER TABLE captures ADD COLUMN disowned_at INTEGER;
