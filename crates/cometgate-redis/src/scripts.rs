//! The Lua scripts: each is one atomic step on one user's keys (one Cluster slot), so two
//! replicas working on one user never interleave inside a step. Sent as `EVALSHA`; when Redis
//! lacks them (first use, or after a restart emptied its script cache) [`load_all`] loads them
//! all and the call is sent again.
//!
//! The token scripts take KEYS `tok`, `meta`, `lru` (see [`crate::layout`]) and a device as
//! two names, under the current key and the previous one (`''` without one); a device still
//! under its previous name is moved to its current one first ([`PRELUDE`]'s `resolve`).
//! A device's meta is `generation minted expires confirmed` (`expires` is `-` without a max
//! age); its recency is a counter in `lru`, the least recently used lowest.

use std::sync::LazyLock;

use redis::Script;

/// Helpers every token script starts with.
const PRELUDE: &str = r"
local function drop(f)
  redis.call('HDEL', KEYS[1], f)
  redis.call('HDEL', KEYS[2], f)
  redis.call('ZREM', KEYS[3], f)
end
local function touch(f)
  local top = redis.call('ZREVRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if top[1] == f then return end
  local next = 1
  if top[2] then next = tonumber(top[2]) + 1 end
  redis.call('ZADD', KEYS[3], next, f)
end
local function resolve(f, p)
  if p == '' or redis.call('HEXISTS', KEYS[1], f) == 1 then return end
  local sealed = redis.call('HGET', KEYS[1], p)
  if not sealed then return end
  local meta = redis.call('HGET', KEYS[2], p)
  local score = redis.call('ZSCORE', KEYS[3], p)
  drop(p)
  redis.call('HSET', KEYS[1], f, sealed)
  if meta then redis.call('HSET', KEYS[2], f, meta) end
  if score then redis.call('ZADD', KEYS[3], score, f) end
end
";

fn token_script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}{body}"))
}

/// The device's `{sealed token, meta}`, or nil; marks it the most recently used.
/// ARGV: name, previous name.
pub(crate) static GET: LazyLock<Script> = LazyLock::new(|| {
    token_script(
        r"
resolve(ARGV[1], ARGV[2])
local sealed = redis.call('HGET', KEYS[1], ARGV[1])
if not sealed then return false end
local meta = redis.call('HGET', KEYS[2], ARGV[1])
touch(ARGV[1])
return {sealed, meta or ''}
",
    )
});

/// [`GET`] and the account record (KEYS[4]) in one step: `{sealed record or nil, sealed token
/// or nil, meta}`; the device is marked used when it has a token. ARGV: name, previous name.
pub(crate) static GET_WITH_ACCOUNT: LazyLock<Script> = LazyLock::new(|| {
    token_script(
        r"
local account = redis.call('GET', KEYS[4])
resolve(ARGV[1], ARGV[2])
local sealed = redis.call('HGET', KEYS[1], ARGV[1])
if not sealed then return {account, false, ''} end
local meta = redis.call('HGET', KEYS[2], ARGV[1])
touch(ARGV[1])
return {account, sealed, meta or ''}
",
    )
});

/// The device's sealed token, or nil, without marking it used. ARGV: name, previous name.
pub(crate) static PEEK: LazyLock<Script> = LazyLock::new(|| {
    token_script(
        r"
resolve(ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], ARGV[1])
",
    )
});

/// If the device still holds the sealed token `ARGV[2]`: raises its confirmation time to at
/// least `ARGV[3]`, stores `ARGV[4]` instead of the sealed token unless it is empty (sealed
/// again under a new key), returns 1; otherwise 0. ARGV: name, sealed, at, resealed.
pub(crate) static CONFIRM: LazyLock<Script> = LazyLock::new(|| {
    token_script(
        r"
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
local meta = redis.call('HGET', KEYS[2], ARGV[1])
if not meta then return 0 end
local gen, minted, expires, confirmed = string.match(meta, '^(%S+) (%d+) (%S+) (%d+)$')
if not gen then return 0 end
if tonumber(ARGV[3]) > tonumber(confirmed) then confirmed = ARGV[3] end
redis.call('HSET', KEYS[2], ARGV[1], gen .. ' ' .. minted .. ' ' .. expires .. ' ' .. confirmed)
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[4]) end
return 1
",
    )
});

/// Tracks the sealed token `ARGV[3]` with meta `ARGV[4]` for the device, marks it the most
/// recently used, and drops the least recently used other devices until at most `ARGV[5]`
/// are left. Returns `{replaced, evicted}`, lists of sealed tokens: the device's previous
/// ones (under either name), and the evicted devices'. ARGV: name, previous name, sealed,
/// meta, cap.
pub(crate) static TRACK: LazyLock<Script> = LazyLock::new(|| {
    token_script(
        r"
local replaced = {}
for _, f in ipairs({ARGV[1], ARGV[2]}) do
  if f ~= '' then
    local old = redis.call('HGET', KEYS[1], f)
    if old then
      table.insert(replaced, old)
      if f ~= ARGV[1] then drop(f) end
    end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
touch(ARGV[1])
local cap = tonumber(ARGV[5])
local evicted = {}
while redis.call('ZCARD', KEYS[3]) > cap do
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 1)
  local victim = oldest[1]
  if victim == ARGV[1] then victim = oldest[2] end
  if not victim then break end
  local sealed = redis.call('HGET', KEYS[1], victim)
  drop(victim)
  if sealed then table.insert(evicted, sealed) end
end
return {replaced, evicted}
",
    )
});

/// Stops tracking the device (under either name); returns its sealed tokens.
/// ARGV: name, previous name.
pub(crate) static FORGET: LazyLock<Script> = LazyLock::new(|| {
    token_script(
        r"
local gone = {}
for _, f in ipairs({ARGV[1], ARGV[2]}) do
  if f ~= '' then
    local sealed = redis.call('HGET', KEYS[1], f)
    if sealed then
      table.insert(gone, sealed)
      drop(f)
    end
  end
end
return gone
",
    )
});

/// Stops tracking every device of the user; returns their sealed tokens.
pub(crate) static FORGET_USER: LazyLock<Script> = LazyLock::new(|| {
    token_script(
        r"
local all = redis.call('HVALS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return all
",
    )
});

/// Takes the token of generation `ARGV[1]` if it is still tracked and expired at `ARGV[2]`:
/// stops tracking it and returns it sealed; otherwise nil (replaced, forgotten, re-tracked, or
/// taken by another replica's sweep). Found by generation, so a device renamed by a key
/// rotation is still found. ARGV: generation, now.
pub(crate) static EXPIRE: LazyLock<Script> = LazyLock::new(|| {
    token_script(
        r"
local meta = redis.call('HGETALL', KEYS[2])
for i = 1, #meta, 2 do
  local gen, expires = string.match(meta[i + 1], '^(%S+) %d+ (%S+) %d+$')
  if gen == ARGV[1] then
    if expires == '-' or tonumber(expires) > tonumber(ARGV[2]) then return false end
    local sealed = redis.call('HGET', KEYS[1], meta[i])
    drop(meta[i])
    return sealed
  end
end
return false
",
    )
});

/// Compare-and-set of one string key: stores `ARGV[3]` if the key still holds `ARGV[2]`
/// (`ARGV[1]` = `1`) or nothing (`ARGV[1]` = `0`); with a time to live of `ARGV[4]` ms, none
/// if `0`. Returns 1 if stored, 0 if another writer came first.
pub(crate) static COMPARE_AND_SET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[4] == '0' then
  redis.call('SET', KEYS[1], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
end
return 1
",
    )
});

/// Takes one GCRA cell of the limit at `KEYS[1]`, on Redis's own clock (`TIME`), so the
/// replicas' clocks never enter into it. The key holds the theoretical arrival time (TAT, µs):
/// the cell is free when `tat - now <= tolerance`, with `tat = max(stored, now)` and
/// `tolerance = T * (burst - 1)`: `burst` cells at once, then one per `T`. A taken cell moves
/// the TAT to `tat + T`, kept until then (`PX`: an expired key is a full bucket). Returns 0
/// when taken, else the µs until a cell is free (`tat - now - tolerance`, at most `T`).
/// ARGV: `T` (µs, ≥ 1), tolerance (µs).
pub(crate) static TAKE_CELL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if tat - now > tolerance then return tat - now - tolerance end
local next = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next), 'PX', math.ceil((next - now) / 1000))
return 0
",
    )
});

/// Deletes `KEYS[1]` if it still holds `ARGV[1]` (a mint lock released by its holder only).
/// Returns 1 if deleted.
pub(crate) static COMPARE_AND_DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
",
    )
});

/// Every script, for [`load_all`].
fn all() -> [&'static Script; 11] {
    [
        &GET,
        &GET_WITH_ACCOUNT,
        &PEEK,
        &CONFIRM,
        &TRACK,
        &FORGET,
        &FORGET_USER,
        &EXPIRE,
        &COMPARE_AND_SET,
        &TAKE_CELL,
        &COMPARE_AND_DELETE,
    ]
}

/// Loads every script in one round trip.
pub(crate) async fn load_all(
    connection: &mut impl redis::aio::ConnectionLike,
) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    for script in all() {
        pipe.load_script(script).ignore();
    }
    pipe.exec_async(connection).await
}
