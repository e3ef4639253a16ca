-- The earliest run_at of the pending jobs of these types, or false. ARGV: prefix, types...
local best = false
for i = 2, #ARGV do
  local first = redis.call('ZRANGE', P .. 'pend:' .. ARGV[i], 0, 0, 'WITHSCORES')
  if first[2] and (not best or tonumber(first[2]) < tonumber(best)) then
    best = first[2]
  end
end
return best
