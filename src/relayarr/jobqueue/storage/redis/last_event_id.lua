-- The id of the newest event in the shared log (false when there is none). ARGV: prefix.
return redis.call('GET', P .. 'events:ids')
