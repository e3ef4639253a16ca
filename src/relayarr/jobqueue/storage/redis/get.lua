-- One job by id, active or finished (every field false when there is none).
-- ARGV: prefix, id
return read(ARGV[2])
