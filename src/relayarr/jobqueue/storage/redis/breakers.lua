-- Every stored breaker state (JSON). ARGV: prefix
local out = {}
for _, name in ipairs(redis.call('SMEMBERS', P .. 'breakers')) do
  local value = redis.call('GET', P .. 'breaker:' .. name)
  if value then
    out[#out + 1] = value
  end
end
return out
