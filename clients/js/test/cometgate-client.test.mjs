// Unit tests for cometgate-client.mjs: node --test clients/js/test/cometgate-client.test.mjs
import assert from "node:assert/strict";
import { inspect } from "node:util";
import test from "node:test";

import {
  CometgateError,
  DEVICE_ID_KEY,
  createCometgateClient,
  isCometgateError,
  isTokenNotFound,
  isValidDeviceId,
  parseRetryAfter,
} from "../cometgate-client.mjs";
import { PROBLEM_BASE, fakeBackend, fakeSdk, memoryStorage, problem } from "./fakes.mjs";

const TOKEN_URL = "https://api.example/cometchat-token";

/** A client for `uid` over a fresh (or the given) backend, storage and SDK. */
function setup({ uid = "alice", backend, storage, sdk, log = [], ...options } = {}) {
  backend ??= fakeBackend({ log });
  storage ??= memoryStorage(log);
  sdk ??= fakeSdk({ log, isValid: (t) => [...backend.tokens.values()].includes(t) });
  const client = createCometgateClient({
    tokenUrl: TOKEN_URL,
    getAuthHeaders: async () => ({ Authorization: `Bearer ${uid}` }),
    storage,
    sdk,
    fetch: backend.fetch,
    ...options,
  });
  return { client, backend, storage, sdk, log };
}

const notFound = () => Object.assign(new Error("The auth token does not exist."), { code: "AUTH_ERR_AUTH_TOKEN_NOT_FOUND" });

test("the first login stores the device id the server made, and logs in with the token", async () => {
  const { client, backend, storage, sdk } = setup();
  const result = await client.login();

  const [request] = backend.tokenRequests();
  assert.deepEqual(request.body, {}, "no device id yet: the server makes one");
  assert.equal(request.method, "POST");
  const deviceId = storage.items.get(DEVICE_ID_KEY);
  assert.ok(isValidDeviceId(deviceId), `stored ${deviceId}`);
  assert.deepEqual(sdk.logins, [backend.tokens.get(`alice/${deviceId}`)]);
  assert.equal(result.uid, "alice");
  assert.equal(result.deviceId, deviceId);
  assert.equal(result.refreshed, false);
  assert.equal(result.user, sdk.current);
  assert.equal(backend.mints, 1);
});

test("the stored device id is sent from then on, and a cold start reuses the same token", async () => {
  const first = setup();
  await first.client.login();
  const deviceId = first.storage.items.get(DEVICE_ID_KEY);

  // A new client (app restart) over the same storage, with the SDK still logged in.
  const cold = setup({ backend: first.backend, storage: first.storage, sdk: first.sdk });
  const result = await cold.client.login();

  const requests = first.backend.tokenRequests();
  assert.equal(requests.length, 2);
  assert.deepEqual(requests[1].body, { deviceId });
  assert.equal(result.deviceId, deviceId);
  assert.equal(first.backend.mints, 1, "the server reused the token");
  assert.equal(first.sdk.logins[0], first.sdk.logins[1], "the SDK was handed the same token (a no-op for it)");
  assert.equal(first.storage.items.get(DEVICE_ID_KEY), deviceId);
});

test("a device id the server answers with replaces the one sent", async () => {
  const backend = fakeBackend({
    script: (r) =>
      r.url === TOKEN_URL
        ? new Response(JSON.stringify({ authToken: "alice_x", uid: "alice", deviceId: "server-chose-this", expiresAt: 1900000000 }))
        : undefined,
  });
  const storage = memoryStorage([], { [DEVICE_ID_KEY]: "mine" });
  const { client } = setup({ backend, storage, sdk: fakeSdk() });
  const token = await client.fetchToken();
  assert.equal(token.deviceId, "server-chose-this");
  assert.equal(token.expiresAt, 1900000000);
  assert.equal(storage.items.get(DEVICE_ID_KEY), "server-chose-this");
});

test("a server without device ids (no deviceId in the answer) leaves the storage alone", async () => {
  const backend = fakeBackend({
    script: (r) => new Response(JSON.stringify({ authToken: "alice_x", uid: "alice" }), { status: 200 }),
  });
  const log = [];
  const { client, storage } = setup({ backend, log, sdk: fakeSdk() });
  const token = await client.fetchToken();
  assert.equal(token.deviceId, null);
  assert.equal(token.expiresAt, null);
  assert.equal(storage.items.size, 0);
  assert.ok(!log.some(([what]) => what === "storage.setItem"));
});

// A deterministic generator, so that a failure names a case that can be replayed.
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const ALLOWED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-";
const OTHERS = " /?#@!\"'\\\n\t\u00e9\u0000%+=,;[]{}<>|~`$&*()";

function randomId(next) {
  const length = Math.floor(next() * 140); // 0..139: past the 128 limit too
  let id = "";
  const mixOthers = next() < 0.5;
  for (let i = 0; i < length; i += 1) {
    const pool = mixOthers && next() < 0.1 ? OTHERS : ALLOWED;
    id += pool[Math.floor(next() * pool.length)];
  }
  return id;
}

test("property: exactly the ids of 1-128 allowed characters are valid (512 cases)", () => {
  const next = random(10);
  let valid = 0;
  for (let i = 0; i < 512; i += 1) {
    const id = randomId(next);
    const expected = id.length >= 1 && id.length <= 128 && [...id].every((c) => ALLOWED.includes(c));
    assert.equal(isValidDeviceId(id), expected, JSON.stringify(id));
    valid += expected ? 1 : 0;
  }
  assert.ok(valid > 50 && valid < 462, `both kinds were generated (${valid} valid)`);
  for (const other of [undefined, null, 42, {}, ["a"], "a".repeat(129), "a\n", "\u0661"]) {
    assert.equal(isValidDeviceId(other), false, inspect(other));
  }
  assert.equal(isValidDeviceId("a".repeat(128)), true);
});

test("property: a malformed stored device id is removed and never sent; a valid one is sent as is (256 cases)", async () => {
  const next = random(20);
  for (let i = 0; i < 256; i += 1) {
    const stored = randomId(next);
    const storage = memoryStorage([], { [DEVICE_ID_KEY]: stored });
    const { client, backend } = setup({ storage });
    await client.login();
    const [request] = backend.tokenRequests();
    const now = storage.items.get(DEVICE_ID_KEY);
    if (isValidDeviceId(stored)) {
      assert.deepEqual(request.body, { deviceId: stored }, JSON.stringify(stored));
      assert.equal(now, stored);
    } else {
      assert.deepEqual(request.body, {}, `sent ${JSON.stringify(stored)}`);
      assert.ok(isValidDeviceId(now) && now !== stored, `replaced by ${now}`);
    }
  }
});

test("the app's auth headers go with every request (plain objects and Headers), asked for each time", async () => {
  let asked = 0;
  const backend = fakeBackend();
  const { client } = setup({
    backend,
    getAuthHeaders: async () => {
      asked += 1;
      return asked === 1 ? { Authorization: "Bearer alice", "X-App": "1" } : new Headers({ Authorization: "Bearer alice" });
    },
  });
  await client.login();
  await client.logout();
  assert.equal(asked, 2);
  const [token, revoke] = backend.requests;
  assert.equal(token.headers.Authorization, "Bearer alice");
  assert.equal(token.headers["X-App"], "1");
  assert.equal(token.headers["Content-Type"], "application/json");
  // Headers lower-cases names.
  assert.equal(revoke.headers.authorization, "Bearer alice");
  assert.equal(revoke.url, `${TOKEN_URL}/revoke`);
});

test("credentials and the timeout signal are passed to fetch, and fetch is called without a `this`", async () => {
  let seenThis = "unset";
  const backend = fakeBackend();
  const { client } = setup({
    backend,
    credentials: "include",
    fetch: function (url, init) {
      seenThis = this;
      return backend.fetch(url, init);
    },
  });
  await client.fetchToken();
  assert.equal(seenThis, undefined, "a browser's fetch throws 'Illegal invocation' with another this");
  assert.equal(backend.requests[0].init.credentials, "include");
  assert.ok(backend.requests[0].init.signal instanceof AbortSignal);
});

test("AUTH_ERR_AUTH_TOKEN_NOT_FOUND at the SDK: one refresh, then a login with the new token", async () => {
  const first = setup();
  await first.client.login();
  const deviceId = first.storage.items.get(DEVICE_ID_KEY);
  const old = first.sdk.logins[0];
  await first.sdk.logout();
  first.backend.flush("alice");
  // The server still hands out the token it had (it does not know about the flush).
  first.backend.tokens.set(`alice/${deviceId}`, old);
  const valid = new Set();
  const sdk = fakeSdk({ isValid: (t) => valid.has(t) });
  const backend = first.backend;
  const script = backend.fetch;
  const { client } = setup({
    backend,
    storage: first.storage,
    sdk,
    fetch: async (url, init) => {
      const response = await script(url, init);
      if (JSON.parse(init.body).refresh) valid.add(backend.tokens.get(`alice/${deviceId}`));
      return response;
    },
  });

  const result = await client.login();

  const requests = backend.tokenRequests().slice(1);
  assert.deepEqual(
    requests.map((r) => r.body),
    [{ deviceId }, { deviceId, refresh: true }],
  );
  assert.equal(sdk.logins.length, 2);
  assert.equal(sdk.logins[0], old);
  assert.notEqual(sdk.logins[1], old);
  assert.equal(result.refreshed, true);
  assert.equal(result.deviceId, deviceId);
});

test("a second AUTH_ERR_AUTH_TOKEN_NOT_FOUND is thrown: no loop", async () => {
  const errors = [];
  const sdk = fakeSdk({
    fail: () => {
      const e = notFound();
      errors.push(e);
      return e;
    },
  });
  const { client, backend } = setup({ sdk });
  await assert.rejects(client.login(), (e) => e === errors[1]);
  assert.equal(sdk.logins.length, 2);
  assert.equal(backend.tokenRequests().length, 2);
  assert.equal(backend.tokenRequests()[1].body.refresh, true);
  // And each later login is again at most one refresh.
  await assert.rejects(client.login(), (e) => isTokenNotFound(e));
  assert.equal(backend.tokenRequests().length, 4);
});

test("login({ refresh: true }) asks for a new token first and does not refresh again", async () => {
  const sdk = fakeSdk({ fail: () => notFound() });
  const { client, backend } = setup({ sdk });
  await assert.rejects(client.login({ refresh: true }), (e) => isTokenNotFound(e));
  assert.deepEqual(
    backend.tokenRequests().map((r) => r.body.refresh),
    [true],
  );
  assert.equal(sdk.logins.length, 1);
});

test("any other SDK error is thrown as it is, without a refresh", async () => {
  const error = Object.assign(new Error("offline"), { code: "NO_INTERNET_CONNECTION" });
  const sdk = fakeSdk({ fail: () => error });
  const { client, backend } = setup({ sdk });
  await assert.rejects(client.login(), (e) => e === error);
  assert.equal(backend.tokenRequests().length, 1);
});

test("concurrent logins share one attempt (one token request, one SDK login)", async () => {
  const { client, backend, sdk } = setup();
  const [a, b] = await Promise.all([client.login(), client.login()]);
  assert.equal(a, b);
  assert.equal(backend.tokenRequests().length, 1);
  assert.equal(sdk.logins.length, 1);
  await client.login();
  assert.equal(backend.tokenRequests().length, 2, "a later login is a new attempt");
});

test("logout revokes this device's token before the SDK logout", async () => {
  const log = [];
  const { client, backend, storage, sdk } = setup({ log });
  await client.login();
  const deviceId = storage.items.get(DEVICE_ID_KEY);
  log.length = 0;

  await client.logout();

  const order = log.filter(([what]) => what === "fetch" || what === "sdk.logout");
  assert.deepEqual(order, [["fetch", `${TOKEN_URL}/revoke`, { deviceId }], ["sdk.logout"]]);
  assert.equal(backend.tokens.size, 0);
  assert.equal(sdk.current, null);
  assert.equal(storage.items.get(DEVICE_ID_KEY), deviceId, "the device keeps its id");
});

test("logout({ all: true }) revokes every token of the user", async () => {
  const log = [];
  const backend = fakeBackend({ log });
  const phone = setup({ backend, log });
  const laptop = setup({ backend, log });
  await phone.client.login();
  await laptop.client.login();
  assert.equal(backend.tokens.size, 2);
  log.length = 0;

  await phone.client.logout({ all: true });

  const order = log.filter(([what]) => what === "fetch" || what === "sdk.logout");
  assert.deepEqual(order, [["fetch", `${TOKEN_URL}/revoke`, { all: true }], ["sdk.logout"]]);
  assert.equal(backend.tokens.size, 0);
});

test("a failed revoke still logs the SDK out, then throws the revoke's problem", async () => {
  const backend = fakeBackend({
    script: (r) => (r.url.endsWith("/revoke") ? problem(503, "upstream-rate-limited", "CometChat is rate limiting", {}, { "retry-after": "3" }) : undefined),
  });
  const { client, sdk } = setup({ backend });
  await client.login();
  await assert.rejects(client.logout(), (e) => isCometgateError(e) && e.status === 503 && e.retryAfter === 3);
  assert.equal(sdk.logouts, 1);
  assert.equal(sdk.current, null);
});

test("logout skips the SDK logout when nobody is logged in, and the revoke when there is no device id", async () => {
  const log = [];
  const { client, backend, sdk } = setup({ log });
  await client.logout();
  assert.equal(backend.requests.length, 0, "no device id: nothing to revoke");
  assert.equal(sdk.logouts, 0, "nobody logged in");
  assert.equal(await client.revoke(), false);

  const bare = fakeSdk();
  delete bare.getLoggedinUser;
  const { client: other } = setup({ sdk: bare });
  await other.logout();
  assert.equal(bare.logouts, 1, "without getLoggedinUser the SDK logout always runs");
});

test("problems become CometgateErrors with status, type, title, detail, requestId", async () => {
  const { client } = setup({ uid: "" }); // no credentials
  const error = await client.login().catch((e) => e);
  assert.ok(error instanceof CometgateError);
  assert.ok(isCometgateError(error));
  assert.equal(error.name, "CometgateError");
  assert.equal(error.kind, "problem");
  assert.equal(error.status, 401);
  assert.equal(error.type, `${PROBLEM_BASE}missing-credentials`);
  assert.equal(error.title, "Missing credentials");
  assert.equal(error.detail, "Missing credentials.");
  assert.equal(error.requestId, "req-missing-credentials");
  assert.equal(error.retryAfter, null);
  assert.match(error.message, /401 Missing credentials/);
  assert.match(error.message, /req-missing-credentials/);
});

test("429 and 503 surface Retry-After and are not retried", async () => {
  const cases = [
    [problem(429, "rate-limited", "Too many token requests", {}, { "retry-after": "7" }), 7],
    [problem(503, "upstream-budget-exhausted", "Busy", {}, { "retry-after": new Date(Date.now() + 120_000).toUTCString() }), 120],
  ];
  for (const [response, seconds] of cases) {
    const backend = fakeBackend({ script: () => response });
    const { client, sdk } = setup({ backend });
    const error = await client.login().catch((e) => e);
    assert.equal(error.kind, "problem");
    assert.equal(error.status, response.status);
    assert.ok(Math.abs(error.retryAfter - seconds) <= 1, `retryAfter ${error.retryAfter}, want ${seconds}`);
    assert.match(error.message, /retry after/);
    assert.equal(backend.requests.length, 1, "no automatic retry");
    assert.equal(sdk.logins.length, 0);
  }
});

test("an error page that is no problem still gives status, title and the request id header", async () => {
  const backend = fakeBackend({
    script: () => new Response("<html>Bad Gateway</html>", { status: 502, statusText: "Bad Gateway", headers: { "x-request-id": "edge-1" } }),
  });
  const { client } = setup({ backend });
  const error = await client.fetchToken().catch((e) => e);
  assert.equal(error.kind, "problem");
  assert.equal(error.status, 502);
  assert.equal(error.type, "about:blank");
  assert.equal(error.title, "Bad Gateway");
  assert.equal(error.detail, null);
  assert.equal(error.requestId, "edge-1");
});

test("a 400 for the device id is surfaced, and the storage is left as it was", async () => {
  const backend = fakeBackend({ script: () => problem(400, "bad-request", "Bad request", { detail: "deviceId: 1 to 128 of A-Z a-z 0-9 . _ : -" }) });
  const storage = memoryStorage([], { [DEVICE_ID_KEY]: "ok-id" });
  const { client } = setup({ backend, storage });
  const error = await client.fetchToken().catch((e) => e);
  assert.equal(error.status, 400);
  assert.equal(error.type, `${PROBLEM_BASE}bad-request`);
  assert.equal(storage.items.get(DEVICE_ID_KEY), "ok-id");
});

test("no answer: network errors and timeouts", async () => {
  const cause = new TypeError("fetch failed");
  const { client } = setup({ fetch: async () => Promise.reject(cause) });
  const error = await client.fetchToken().catch((e) => e);
  assert.equal(error.kind, "network");
  assert.equal(error.status, null);
  assert.equal(error.cause, cause);

  const hanging = (_url, init) =>
    new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  const { client: slow } = setup({ fetch: hanging, timeoutMs: 30 });
  const started = Date.now();
  const timeout = await slow.fetchToken().catch((e) => e);
  assert.equal(timeout.kind, "timeout");
  assert.ok(Date.now() - started < 2000);
});

test("a 2xx the client cannot use is an invalid-response error and changes nothing", async () => {
  const bodies = [
    "not json",
    "null",
    JSON.stringify({ uid: "alice", deviceId: "d" }),
    JSON.stringify({ authToken: "", uid: "alice" }),
    JSON.stringify({ authToken: "alice_t", deviceId: "d" }),
    JSON.stringify({ authToken: "alice_t", uid: "alice", deviceId: "bad id" }),
    JSON.stringify({ authToken: "alice_t", uid: "alice", deviceId: "d", expiresAt: "soon" }),
  ];
  for (const body of bodies) {
    const backend = fakeBackend({ script: () => new Response(body, { status: 200 }) });
    const storage = memoryStorage([], { [DEVICE_ID_KEY]: "kept" });
    const { client, sdk } = setup({ backend, storage });
    const error = await client.login().catch((e) => e);
    assert.equal(error.kind, "invalid-response", body);
    assert.equal(error.status, 200);
    assert.ok(!error.message.includes("alice_t"), error.message);
    assert.equal(storage.items.get(DEVICE_ID_KEY), "kept", body);
    assert.equal(sdk.logins.length, 0);
  }
});

test("the token is never in console output, errors, or the printed or JSON-encoded results", async () => {
  const printed = [];
  const methods = ["log", "info", "warn", "error", "debug", "trace"];
  const saved = methods.map((m) => console[m]);
  methods.forEach((m) => {
    console[m] = (...args) => printed.push(args.map((a) => (typeof a === "string" ? a : inspect(a, { depth: 5 }))).join(" "));
  });
  const seen = [];
  try {
    // Every path: login, cold start, refresh, failed refresh, problems, logout.
    const { client, backend, storage } = setup();
    await client.login();
    const token = await client.fetchToken();
    seen.push(token.authToken);
    assert.equal(typeof token.authToken, "string");
    const shown = [inspect(token), JSON.stringify(token), JSON.stringify({ ...token }), String(Object.keys(token))];
    for (const text of shown) assert.ok(!text.includes(token.authToken), text);

    // The real SDK names the token in this error's message.
    const naming = (t) => {
      const e = Object.assign(new Error(`The auth token ${t} does not exist.`), { code: "AUTH_ERR_AUTH_TOKEN_NOT_FOUND" });
      assert.ok(e.stack.includes(t)); // V8 formats the stack on first read: now it holds the token
      return e;
    };
    const failing = setup({ backend, storage, sdk: fakeSdk({ fail: naming }) });
    const error = await failing.client.login().catch((e) => e);
    seen.push(...failing.sdk.logins);
    const rateLimited = setup({ backend: fakeBackend({ script: () => problem(429, "rate-limited", "Slow down", {}, { "retry-after": "1" }) }) });
    const problemError = await rateLimited.client.login().catch((e) => e);
    await client.logout();
    assert.ok(isTokenNotFound(error), "the SDK's own error, code kept");
    assert.match(error.message, /^The auth token \[auth token\] does not exist\.$/);
    for (const e of [error, problemError]) {
      const text = [e.message, String(e), inspect(e), JSON.stringify(e)].join("\n");
      for (const t of seen) assert.ok(!text.includes(t), `token in ${text}`);
    }
  } finally {
    methods.forEach((m, i) => {
      console[m] = saved[i];
    });
  }
  assert.ok(seen.length >= 3);
  assert.deepEqual(printed, [], "the client prints nothing at all");
});

test("the revoke URL follows the token URL (trailing slash, query), or is given", async () => {
  const urls = [];
  const record = async (url) => {
    urls.push(url);
    return new Response(null, { status: 204 });
  };
  const storage = memoryStorage([], { [DEVICE_ID_KEY]: "d1" });
  const common = { storage, sdk: fakeSdk(), fetch: record };
  await createCometgateClient({ ...common, tokenUrl: "/cometchat-token/" }).revoke();
  await createCometgateClient({ ...common, tokenUrl: "https://a.example/chat/token?v=2" }).revoke();
  await createCometgateClient({ ...common, tokenUrl: new URL("https://a.example/t") }).revoke();
  await createCometgateClient({ ...common, tokenUrl: "/t", revokeUrl: "/logout-chat" }).revoke({ all: true });
  assert.deepEqual(urls, ["/cometchat-token/revoke", "https://a.example/chat/token/revoke?v=2", "https://a.example/t/revoke", "/logout-chat"]);
});

test("missing or wrong options are refused at creation with what is needed", () => {
  const ok = { tokenUrl: TOKEN_URL, storage: memoryStorage(), sdk: fakeSdk(), fetch: async () => new Response("{}") };
  const cases = [
    [{ ...ok, tokenUrl: undefined }, /tokenUrl is required/],
    [{ ...ok, tokenUrl: "" }, /tokenUrl is required/],
    [{ ...ok, storage: undefined }, /storage needs getItem, setItem, removeItem/],
    [{ ...ok, storage: { getItem() {}, setItem() {} } }, /missing: removeItem/],
    [{ ...ok, sdk: { login() {} } }, /missing: logout/],
    [{ ...ok, getAuthHeaders: "Bearer x" }, /getAuthHeaders must be a function/],
    [{ ...ok, fetch: {} }, /fetch must be a function/],
    [{ ...ok, timeoutMs: -1 }, /timeoutMs/],
    [{ ...ok, storageKey: "" }, /storageKey/],
  ];
  for (const [options, message] of cases) assert.throws(() => createCometgateClient(options), message);
  assert.throws(() => createCometgateClient(), /tokenUrl is required/);
});

test("a custom storage key is used instead of the default", async () => {
  const storage = memoryStorage();
  const { client } = setup({ storage, storageKey: "chat.device" });
  await client.login();
  assert.ok(isValidDeviceId(storage.items.get("chat.device")));
  assert.equal(storage.items.has(DEVICE_ID_KEY), false);
  assert.equal(await client.deviceId(), storage.items.get("chat.device"));
});

test("parseRetryAfter reads delta-seconds and HTTP-dates", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("7", now), 7);
  assert.equal(parseRetryAfter(" 0 ", now), 0);
  assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:01:30 GMT", now), 90);
  assert.equal(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now), 0, "a date in the past: no wait");
  assert.equal(parseRetryAfter("-5", now), null);
  assert.equal(parseRetryAfter("soon", now), null);
  assert.equal(parseRetryAfter(null, now), null);
});
