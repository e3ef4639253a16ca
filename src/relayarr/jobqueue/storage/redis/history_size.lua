-- How many finished jobs have these statuses. ARGV: prefix, statuses...
local total = 0
for i = 2, #ARGV do
  total = total + redis.call('ZCARD', P .. 'fin:' .. ARGV[i])
end
return total
