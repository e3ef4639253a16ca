-- Distinct owners of current leases. ARGV: prefix.
local owners, seen = {}, {}
for _, id in ipairs(redis.call('ZRANGE', P .. 'leases', 0, -1)) do
  local owner = redis.call('HGET', jkey(id), 'lease_owner')
  if owner and not seen[owner] then
    seen[owner] = true
    owners[#owners + 1] = owner
  end
end
return owners
