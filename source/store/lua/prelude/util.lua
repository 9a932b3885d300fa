-- Small helpers: a script's options, empty values, hashes written from tables, comma-separated
-- lists.

-- A script's options (scripts.ts optionArgs): ARGV[2] is how many name, value pairs follow it.
-- Returns them as a table of strings (flags are '1' or '0'), and the index of the first ARGV after
-- them, where the script's list (if it takes one) begins. ARGV is a global: the loop reads it
-- through a local (about 0.3 us less for worker_end's 14 pairs).
local function options()
  local argv = ARGV
  local o, last = {}, 2 + 2 * tonumber(argv[2])
  for i = 3, last, 2 do o[argv[i]] = argv[i + 1] end
  return o, last + 1
end

local function nz(v) if v == false or v == nil or v == '' then return nil end return v end

local function hset_table(key, t)
  local flat = {}
  for k, v in pairs(t) do flat[#flat + 1] = k; flat[#flat + 1] = tostring(v) end
  if #flat > 0 then redis.call('HSET', key, unpack(flat)) end
end

local function csv_set(s)
  local set = {}
  for item in string.gmatch(s or '', '[^,]+') do set[item] = true end
  return set
end

local function hdel_csv(key, s)
  for f in string.gmatch(s or '', '[^,]+') do redis.call('HDEL', key, f) end
end

local function split_csv(s)
  local out = {}
  for item in string.gmatch(s or '', '[^,]+') do out[#out + 1] = item end
  return out
end
