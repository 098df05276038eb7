-- Trusted set-up of a kosmo-clicksend Lua runtime. Runs once per script, before the script.
--
-- It receives the Python callbacks as chunk arguments, keeps them in locals (so no script can
-- reach a Python object), replaces the contents of the global table with a whitelist, and
-- returns the function that runs the script. Python makes no further call into the runtime
-- after that function returns, because a script could have planted state that such a call
-- would trip over.
local dispatch, deadline_passed, read_doc, json_encode, json_decode, options = ...

local TIME_LIMIT_MESSAGE = options.time_limit_message
local MEMORY_LIMIT_MESSAGE = options.memory_limit_message
local OUTPUT_LIMIT_MESSAGE = options.output_limit_message
local OUTPUT_LIMIT = options.output_limit
local MEMORY_LIMIT = options.memory_limit
local MEMORY_HEADROOM = options.memory_headroom
local HOOK_INTERVAL = options.hook_interval

local debug_sethook = debug.sethook
local debug_getregistry = debug.getregistry
local collectgarbage = collectgarbage
local load = load
local pcall, error, type, select, tostring, rawequal, rawget, rawset, next, pairs =
  pcall, error, type, select, tostring, rawequal, rawget, rawset, next, pairs
local raw_setmetatable, getmetatable = setmetatable, getmetatable
local table_pack, table_unpack, table_concat, table_sort = table.pack, table.unpack, table.concat, table.sort
local string_format, string_rep = string.format, string.rep
local co_create, co_resume, co_running, co_status = coroutine.create, coroutine.resume, coroutine.running, coroutine.status
local math_type = math.type
local utf8_len = utf8.len
local string_sub = string.sub

-- Results the Python side reads after the run, with every key present from the start so that
-- storing into them after an out-of-memory error needs no allocation.
local holder = { ok = false, err = false, values = false, phase = "setup", output = {} }
local output_bytes = 0

-- Time limit -------------------------------------------------------------------------------
-- A count hook calls Python to check whether the deadline has passed. Once it has, the hook fires on every
-- instruction of the running coroutine and raises each time, so a pcall that catches the error
-- only gets as far as its next instruction.
local function stop_every_instruction()
  error(TIME_LIMIT_MESSAGE, 0)
end

local function check_deadline()
  if deadline_passed() then
    debug_sethook(co_running(), stop_every_instruction, "", 1)
    error(TIME_LIMIT_MESSAGE, 0)
  end
end

-- Memory headroom --------------------------------------------------------------------------
-- Python callbacks must not run out of Lua memory half-way (lupa then deadlocks), so every
-- callback is entered only with this much memory to spare.
local function ensure_headroom(what)
  if collectgarbage("count") * 1024 > MEMORY_LIMIT - MEMORY_HEADROOM then
    error(string_format(MEMORY_LIMIT_MESSAGE .. " (before %s)", what), 0)
  end
end

-- Safer replacements -----------------------------------------------------------------------
local sandbox_coroutine = {
  isyieldable = coroutine.isyieldable,
  resume = co_resume,
  running = co_running,
  status = co_status,
  yield = coroutine.yield,
  close = coroutine.close,
}

-- Hooks are per coroutine, so each new coroutine gets the deadline hook too.
function sandbox_coroutine.create(fn)
  local co = co_create(fn)
  debug_sethook(co, check_deadline, "", HOOK_INTERVAL)
  return co
end

function sandbox_coroutine.wrap(fn)
  local co = sandbox_coroutine.create(fn)
  return function(...)
    local results = table_pack(co_resume(co, ...))
    if results[1] then
      return table_unpack(results, 2, results.n)
    end
    error(results[2], 0)
  end
end

-- xpcall's handler would run with hooks off after a time-limit error, so it runs after unwinding.
local function sandbox_xpcall(fn, handler, ...)
  local results = table_pack(pcall(fn, ...))
  if results[1] then
    return table_unpack(results, 1, results.n)
  end
  return false, handler(results[2])
end

local function sandbox_setmetatable(target, metatable)
  if rawequal(target, _G) then
    error("setmetatable: the global table cannot have a metatable in this sandbox", 2)
  end
  if type(metatable) == "table" and rawget(metatable, "__gc") ~= nil then
    error("setmetatable: __gc metamethods are not allowed in this sandbox", 2)
  end
  return raw_setmetatable(target, metatable)
end

-- Paths of the app proxies (defined below), kept here because print renders them by name.
local proxies = raw_setmetatable({}, { __mode = "k" })

local function proxy_name(proxy)
  local path = proxies[proxy]
  return path == "" and "app" or "app." .. path
end

-- Python reads Lua strings as UTF-8 and fails on invalid bytes, so text bound for Python is
-- repaired here: each invalid byte becomes U+FFFD.
local function valid_utf8(text)
  local parts = {}
  local position = 1
  while true do
    local length, bad = utf8_len(text, position)
    if length then
      parts[#parts + 1] = string_sub(text, position)
      return table_concat(parts)
    end
    parts[#parts + 1] = string_sub(text, position, bad - 1) .. "\u{FFFD}"
    position = bad + 1
  end
end

-- Readable rendering for print --------------------------------------------------------------
local function sorted_keys(tbl)
  local keys = {}
  for key in next, tbl do
    keys[#keys + 1] = key
  end
  table_sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then
      return ta < tb
    end
    if ta == "number" or ta == "string" then
      return a < b
    end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local function is_sequence(tbl)
  local count = 0
  for _ in next, tbl do
    count = count + 1
  end
  if count == 0 then
    return false
  end
  for index = 1, count do
    if rawget(tbl, index) == nil then
      return false
    end
  end
  return true
end

local function render_scalar(value)
  if type(value) == "string" then
    return string_format("%q", value):gsub("\\\n", "\\n")
  end
  return tostring(value)
end

local function render(value, indent, seen)
  if type(value) ~= "table" then
    return render_scalar(value)
  end
  if proxies[value] then
    return proxy_name(value)
  end
  if seen[value] then
    return "<circular>"
  end
  if next(value) == nil then
    return "{}"
  end
  seen[value] = true
  local inner = indent .. "  "
  local lines = {}
  if is_sequence(value) then
    for index = 1, #value do
      lines[#lines + 1] = inner .. render(rawget(value, index), inner, seen)
    end
    seen[value] = nil
    return "[\n" .. table_concat(lines, ",\n") .. "\n" .. indent .. "]"
  end
  for _, key in pairs(sorted_keys(value)) do
    local label = type(key) == "string" and key or "[" .. tostring(key) .. "]"
    lines[#lines + 1] = inner .. label .. ": " .. render(rawget(value, key), inner, seen)
  end
  seen[value] = nil
  return "{\n" .. table_concat(lines, ",\n") .. "\n" .. indent .. "}"
end

local function sandbox_print(...)
  local count = select("#", ...)
  local parts = {}
  for index = 1, count do
    local value = select(index, ...)
    if type(value) == "table" and not proxies[value] then
      parts[index] = render(value, "", {})
    elseif proxies[value] then
      parts[index] = proxy_name(value)
    else
      parts[index] = tostring(value)
    end
  end
  local line = valid_utf8(table_concat(parts, "\t"))
  output_bytes = output_bytes + #line + 1
  if output_bytes > OUTPUT_LIMIT then
    error(OUTPUT_LIMIT_MESSAGE, 0)
  end
  local output = holder.output
  output[#output + 1] = line
end

-- The app proxy -----------------------------------------------------------------------------
-- Indexing app never yields nil: each key makes a child proxy that remembers its dotted path,
-- and calling a proxy sends that path to Python, which resolves the tool and the account or
-- raises "Unknown function".
local proxy_meta = { __metatable = false }

local function make_proxy(path)
  local proxy = raw_setmetatable({}, proxy_meta)
  proxies[proxy] = path
  return proxy
end

function proxy_meta.__index(proxy, key)
  if type(key) ~= "string" or not utf8_len(key) then
    return nil
  end
  local parent = proxies[proxy]
  local child = make_proxy(parent == "" and key or parent .. "." .. key)
  rawset(proxy, key, child)
  return child
end

function proxy_meta.__newindex(proxy, key)
  error(proxy_name(proxy) .. " is read-only; store your own values in local variables", 2)
end

function proxy_meta.__call(proxy, ...)
  local arguments = ...
  local first = select("#", ...) > 0 and proxies[arguments] ~= nil
  if first then
    -- Called with method syntax (namespace:fn{...}): the namespace came first.
    arguments = select(2, ...)
  end
  ensure_headroom("calling " .. proxies[proxy])
  local ok, value = dispatch(proxies[proxy], arguments)
  if not ok then
    error(value, 0)
  end
  return value
end

proxy_meta.__tostring = proxy_name

-- json and docs -----------------------------------------------------------------------------
local sandbox_json = {}

function sandbox_json.encode(value)
  ensure_headroom("json.encode")
  local ok, result = json_encode(value)
  if not ok then
    error(result, 2)
  end
  return result
end

function sandbox_json.decode(text)
  if type(text) ~= "string" then
    error("json.decode: expected a string, got " .. type(text), 2)
  end
  if not utf8_len(text) then
    error("json.decode: the text is not valid UTF-8", 2)
  end
  ensure_headroom("json.decode")
  local ok, result = json_decode(text)
  if not ok then
    error(result, 2)
  end
  return result
end

local function sandbox_read_doc(page)
  if type(page) == "string" and not utf8_len(page) then
    error("lua_read_doc: the page name is not valid UTF-8", 2)
  end
  ensure_headroom("lua_read_doc")
  local ok, result = read_doc(page)
  if not ok then
    error(result, 2)
  end
  return result
end

-- Lock what a script could otherwise reach ---------------------------------------------------
local string_meta = getmetatable("")
string_meta.__metatable = false
string.dump = nil
local registry = debug_getregistry()
if type(registry.POBJECT) == "table" then
  registry.POBJECT.__metatable = false
end

local function copy(source, names)
  local target = {}
  for _, name in pairs(names) do
    target[name] = source[name]
  end
  return target
end

local safe = {
  assert = assert,
  error = error,
  getmetatable = getmetatable,
  ipairs = ipairs,
  next = next,
  pairs = pairs,
  pcall = pcall,
  print = sandbox_print,
  rawequal = rawequal,
  rawget = rawget,
  rawlen = rawlen,
  rawset = rawset,
  select = select,
  setmetatable = sandbox_setmetatable,
  tonumber = tonumber,
  tostring = tostring,
  type = type,
  xpcall = sandbox_xpcall,
  _VERSION = _VERSION,
  string = string,
  table = table,
  math = math,
  utf8 = utf8,
  os = copy(os, { "clock", "date", "difftime", "time" }),
  coroutine = sandbox_coroutine,
  json = sandbox_json,
  lua_read_doc = sandbox_read_doc,
  app = make_proxy(""),
}

local globals = _G
-- Collect the names first, then clear: assigning new keys while next() walks a table is undefined.
local names = sorted_keys(globals)
for _, name in pairs(names) do
  rawset(globals, name, nil)
end
for name, value in pairs(safe) do
  rawset(globals, name, value)
end
rawset(globals, "_G", globals)

-- Running the script -------------------------------------------------------------------------
local function run(code, chunk_name)
  local chunk, message = load(code, chunk_name, "t", globals)
  if not chunk then
    holder.phase = "syntax"
    holder.err = valid_utf8(message)
    return
  end
  holder.phase = "running"
  debug_sethook(check_deadline, "", HOOK_INTERVAL)
  local ok, err = pcall(function()
    holder.values = table_pack(chunk())
  end)
  debug_sethook()
  holder.ok = ok
  if not ok then
    holder.err = type(err) == "string" and valid_utf8(err) or err
  end
  holder.phase = "done"
end

return run, holder
