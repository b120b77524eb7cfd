"""Contact import: read any CSV real exports produce, map it, validate every row, write fast.

source    -- the uploaded bytes: stored as chunks, streamed back with constant memory
decoding  -- encoding detection (BOM, UTF-8, UTF-16, Latin-1/cp1252), binary and empty files
dialect   -- delimiter detection (comma, semicolon, tab, pipe), quoted newlines
reading   -- text stream, header checks, the resolved column map, formula neutralisation
mapping   -- the field catalogue, suggested mappings, column specs and their transforms
rows      -- one CSV row -> one staged row or a list of messages (the per-row rules)
engine    -- ImportRun: the single-pass run (previews, all-or-nothing)
pipeline  -- the pipelined run of commit_valid jobs (parser thread + batch writes)
sql       -- the temp table, the set-based checks and the writes
"""
