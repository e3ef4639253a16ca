-- Store new jobs; a unique key held by an active job returns that job (and debounces it).
-- ARGV: prefix, now, then 9 values per job (see add_jobs).
local out = add_jobs(3, #ARGV, ARGV[2])
flush_later()
return out
