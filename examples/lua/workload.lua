-- examples/lua/workload.lua - a script that allocates heavily: tables, strings, closures,
-- coroutines, string building and garbage.  Its output is deterministic (no addresses,
-- no hash order), so it can be compared between allocators.  SCALE (a global, default 1)
-- divides the loop lengths, for slow runners such as Valgrind.
local S = math.tointeger(SCALE) or 1
local function fib_memo()
  local memo = {}
  local function f(n)
    if n < 2 then return n end
    local v = memo[n]
    if v then return v end
    v = f(n - 1) + f(n - 2)
    memo[n] = v
    return v
  end
  return f
end
print("fib(80)", fib_memo()(80))

-- a table of records, sorted several ways
local people = {}
for i = 1, 3000 // S do
  people[i] = { id = i, name = string.format("person-%05d", (i * 7919) % 3001),
                score = (i * 37) % 101, tags = { "t" .. (i % 7), "u" .. (i % 11) } }
end
table.sort(people, function(a, b)
  if a.score ~= b.score then return a.score > b.score end
  return a.name < b.name
end)
print("top", people[1].name, people[1].score, people[2].name, people[#people].name)

-- word counts over a generated text
local words = {}
for i = 1, 20000 // S do words[#words + 1] = "w" .. ((i * i) % 509) end
local text = table.concat(words, " ")
local count = {}
for w in text:gmatch("%S+") do count[w] = (count[w] or 0) + 1 end
local keys = {}
for k in pairs(count) do keys[#keys + 1] = k end
table.sort(keys, function(a, b)
  if count[a] ~= count[b] then return count[a] > count[b] end
  return a < b
end)
print("words", #text, #keys, keys[1], count[keys[1]], keys[#keys], count[keys[#keys]])

-- string churn: many temporary strings become garbage
local acc = 0
for i = 1, 20000 // S do
  local s = ("x"):rep(i % 200) .. tostring(i) .. string.char(65 + i % 26)
  acc = (acc + #s + s:byte(-1)) % 1000003
end
print("churn", acc)

-- closures and coroutines
local gens = {}
for i = 1, 200 // S do
  gens[i] = coroutine.wrap(function()
    local t = {}
    for j = 1, 50 do t[j] = i * j; coroutine.yield(#t) end
    return -1
  end)
end
local total = 0
for _ = 1, 50 do for i = 1, #gens do total = total + gens[i]() end end
print("coroutines", total)

-- a big nested structure, serialised deterministically
local tree = {}
for i = 1, 400 // S do
  tree[i] = { n = i, kids = {} }
  for j = 1, i % 13 do tree[i].kids[j] = { v = i * j, s = ("%d/%d"):format(i, j) } end
end
local parts = {}
for i = 1, #tree do
  local k = tree[i].kids
  parts[#parts + 1] = tree[i].n .. ":" .. #k .. (k[1] and k[1].s or "-")
end
local ser = table.concat(parts, ",")
print("tree", #ser, ser:sub(1, 40), ser:sub(-20))
collectgarbage()
print("done")
