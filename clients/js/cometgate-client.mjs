// cometgate-client: the client half of cometgate, for any JavaScript app that logs in to CometChat
// (React Native / Expo with Hermes, browsers, Node 18+). One file, no dependencies: copy it into
// your app. It needs only `fetch` and what you pass in.
//
//   const chat = createCometgateClient({ tokenUrl, getAuthHeaders, storage, sdk });
//   await chat.login();              // after your app's own sign-in
//   await chat.logout();             // before your app's own sign-out (revokes, then SDK logout)
//
// What it does, and why:
// - Device id. The server keeps one CometChat token per (user, device). The id lives in the storage
//   you pass, under DEVICE_ID_KEY. The first request sends none; the server makes one and the client
//   stores it. A stored id that is malformed is removed and a new one is asked for.
// - Login. Asks your backend for the token with your app's own credentials, then calls the SDK
//   login you pass. On a cold start the server hands back the same token and the SDK, already
//   logged in with it, does nothing. If CometChat no longer knows the token
//   (AUTH_ERR_AUTH_TOKEN_NOT_FOUND, e.g. it was flushed), it asks for a new one (`refresh: true`)
//   ONCE and logs in again; a second failure is thrown, never retried.
// - Logout. Revokes at the server (this device's token, or all of the user's) BEFORE the SDK
//   logout: the revoke needs your app's credentials, and once it is done the token is dead
//   everywhere, not only forgotten on this device.
// - Errors. Problems from the server (RFC 9457) become a CometgateError with its status, type,
//   title, detail, requestId and, on 429/503, retryAfter in seconds. Nothing here retries on its
//   own: waiting out Retry-After is the app's decision.
// - Secrets. Nothing here logs. The token is never in an error (an SDK error that names it has it
//   replaced), and the object fetchToken() returns keeps it in a non-enumerable property, so
//   logging or JSON-encoding it does not show it.
//
// Plain ES2018 syntax on purpose (no class fields, private names, `??` or `?.`): Hermes and older
// bundler setups run it as it is.

/** Storage key of the device id. */
export const DEVICE_ID_KEY = "cometgate.deviceId";

/** The token route cometgate serves by default. */
export const DEFAULT_TOKEN_PATH = "/cometchat-token";

/** What the CometChat SDK says when it does not know a token (flushed, revoked, evicted). */
export const TOKEN_NOT_FOUND = "AUTH_ERR_AUTH_TOKEN_NOT_FOUND";

/** How long one request to the backend may take, by default (the server's own deadline is 15 s). */
export const DEFAULT_TIMEOUT_MS = 20000;

const DEVICE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** True for a device id the server accepts: 1 to 128 of `A-Z a-z 0-9 . _ : -`. */
export function isValidDeviceId(value) {
  return typeof value === "string" && DEVICE_ID.test(value);
}

/** True when an SDK error says CometChat does not know the token. */
export function isTokenNotFound(error) {
  return error != null && error.code === TOKEN_NOT_FOUND;
}

/**
 * A failure talking to the token endpoint.
 *
 * `kind` is "problem" (the server answered with an error status), "network" (no answer),
 * "timeout" (no answer within `timeoutMs`) or "invalid-response" (a 2xx the client cannot use).
 */
export class CometgateError extends Error {
  constructor(message, fields) {
    super(message);
    const f = fields || {};
    this.name = "CometgateError";
    this.kind = f.kind;
    this.status = f.status == null ? null : f.status;
    this.type = f.type == null ? null : f.type;
    this.title = f.title == null ? null : f.title;
    this.detail = f.detail == null ? null : f.detail;
    this.requestId = f.requestId == null ? null : f.requestId;
    this.retryAfter = f.retryAfter == null ? null : f.retryAfter;
    if (f.cause !== undefined) this.cause = f.cause;
  }
}

/** True for a CometgateError (also across copies of this file or transpiled classes). */
export function isCometgateError(error) {
  return error instanceof CometgateError || (error != null && error.name === "CometgateError");
}

/**
 * Seconds to wait from a `Retry-After` value (delta-seconds or an HTTP-date), or null.
 * `now` is in milliseconds.
 */
export function parseRetryAfter(value, now) {
  if (typeof value !== "string") return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  // Every HTTP-date form starts with the day's name (RFC 9110 §5.6.7); Date.parse takes far more.
  if (!/^[A-Za-z]{3}/.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - (now == null ? Date.now() : now)) / 1000));
}

/**
 * Creates the client. See cometgate-client.d.ts for every option.
 *
 * Required: `tokenUrl`, `storage` ({getItem, setItem, removeItem}, sync or async) and `sdk`
 * ({login(authToken), logout(), getLoggedinUser?()}).
 */
export function createCometgateClient(options) {
  const o = options || {};
  const tokenUrl = requireUrl(o.tokenUrl);
  const revokeUrl = o.revokeUrl == null ? childUrl(tokenUrl, "revoke") : requireUrl(o.revokeUrl, "revokeUrl");
  const storage = requireMethods(o.storage, "storage", ["getItem", "setItem", "removeItem"]);
  const sdk = requireMethods(o.sdk, "sdk", ["login", "logout"]);
  const getAuthHeaders = optionalFunction(o.getAuthHeaders, "getAuthHeaders");
  const storageKey = o.storageKey == null ? DEVICE_ID_KEY : requireString(o.storageKey, "storageKey");
  const timeoutMs = o.timeoutMs == null ? DEFAULT_TIMEOUT_MS : requireTimeout(o.timeoutMs);
  const credentials = o.credentials;
  // Called as a plain function: a browser's fetch refuses to run with another `this`.
  const doFetch = optionalFunction(o.fetch, "fetch") || (typeof fetch === "function" ? fetch : null);
  if (!doFetch) throw new TypeError("cometgate: no fetch here; pass one as options.fetch");

  async function storedDeviceId() {
    const stored = await storage.getItem(storageKey);
    if (stored == null) return null;
    if (isValidDeviceId(stored)) return stored;
    // Left over from another version, or tampered with: the server would refuse it (400).
    await storage.removeItem(storageKey);
    return null;
  }

  async function post(url, body) {
    const headers = { Accept: "application/json, application/problem+json" };
    copyHeaders(getAuthHeaders ? await getAuthHeaders() : null, headers);
    headers["Content-Type"] = "application/json";
    const init = { method: "POST", headers, body: JSON.stringify(body) };
    if (credentials !== undefined) init.credentials = credentials;
    const controller = timeoutMs > 0 && typeof AbortController === "function" ? new AbortController() : null;
    let timedOut = false;
    let timer = null;
    if (controller) {
      init.signal = controller.signal;
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
    }
    try {
      let response;
      try {
        response = await doFetch(url, init);
      } catch (cause) {
        throw timedOut
          ? new CometgateError(`cometgate: no answer from ${url} within ${timeoutMs} ms`, { kind: "timeout", cause })
          : new CometgateError(`cometgate: could not reach ${url}: ${describe(cause)}`, { kind: "network", cause });
      }
      if (!response.ok) throw await problemError(response);
      return { response, text: await response.text() };
    } catch (error) {
      if (timedOut && !isCometgateError(error)) {
        throw new CometgateError(`cometgate: no answer from ${url} within ${timeoutMs} ms`, { kind: "timeout", cause: error });
      }
      throw error;
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
  }

  async function fetchToken(opts) {
    const refresh = Boolean(opts && opts.refresh);
    const sent = await storedDeviceId();
    const body = {};
    if (sent !== null) body.deviceId = sent;
    if (refresh) body.refresh = true;
    const { response, text } = await post(tokenUrl, body);
    const token = parseToken(text, response, sent);
    // The server made the id (or chose another): send this one from now on.
    if (token.deviceId !== null && token.deviceId !== sent) await storage.setItem(storageKey, token.deviceId);
    return token;
  }

  async function revoke(opts) {
    const all = Boolean(opts && opts.all);
    if (all) {
      await post(revokeUrl, { all: true });
      return true;
    }
    const deviceId = await storedDeviceId();
    // No id: this device was never given a token by this client, so there is nothing to revoke.
    if (deviceId === null) return false;
    await post(revokeUrl, { deviceId });
    return true;
  }

  async function sdkLogin(authToken) {
    try {
      return await sdk.login(authToken);
    } catch (error) {
      // The SDK names the token in some messages ("The auth token … does not exist").
      throw redact(error, authToken);
    }
  }

  async function runLogin(refreshFirst) {
    let token = await fetchToken({ refresh: refreshFirst });
    let refreshed = refreshFirst;
    let user;
    try {
      user = await sdkLogin(token.authToken);
    } catch (error) {
      if (refreshed || !isTokenNotFound(error)) throw error;
      // CometChat no longer knows the token the server had for this device: a new one, once.
      token = await fetchToken({ refresh: true });
      refreshed = true;
      user = await sdkLogin(token.authToken);
    }
    return { uid: token.uid, deviceId: token.deviceId, expiresAt: token.expiresAt, refreshed, user };
  }

  async function runLogout(all) {
    let revokeError = null;
    try {
      await revoke({ all });
    } catch (error) {
      revokeError = error;
    }
    // The SDK logs out even when the revoke failed: the user asked to be logged out here.
    const loggedIn = typeof sdk.getLoggedinUser === "function" ? await sdk.getLoggedinUser() : true;
    if (loggedIn) {
      try {
        await sdk.logout();
      } catch (error) {
        if (revokeError === null) throw error;
      }
    }
    if (revokeError !== null) throw revokeError;
  }

  // One login (and one logout) at a time per client: a screen that mounts twice must not mint
  // two tokens or race two SDK logins.
  let loginInFlight = null;
  let logoutInFlight = null;

  return Object.freeze({
    login(opts) {
      if (loginInFlight === null) {
        loginInFlight = runLogin(Boolean(opts && opts.refresh)).finally(() => {
          loginInFlight = null;
        });
      }
      return loginInFlight;
    },
    logout(opts) {
      if (logoutInFlight === null) {
        logoutInFlight = runLogout(Boolean(opts && opts.all)).finally(() => {
          logoutInFlight = null;
        });
      }
      return logoutInFlight;
    },
    fetchToken,
    revoke,
    deviceId: storedDeviceId,
  });
}

async function problemError(response) {
  let text = "";
  try {
    text = await response.text();
  } catch (_) {
    // The status says enough.
  }
  let problem = null;
  try {
    problem = JSON.parse(text);
  } catch (_) {
    // Not JSON (a proxy's HTML page, say): only the status and headers are known.
  }
  if (problem === null || typeof problem !== "object" || Array.isArray(problem)) problem = {};
  const status = response.status;
  const title = stringOrNull(problem.title) || stringOrNull(response.statusText);
  const detail = stringOrNull(problem.detail);
  const requestId = stringOrNull(problem.requestId) || header(response, "x-request-id");
  const retryAfter = parseRetryAfter(header(response, "retry-after"));
  let message = `cometgate: ${status}${title ? ` ${title}` : ""}${detail ? `: ${detail}` : ""}`;
  if (retryAfter !== null) message += ` (retry after ${retryAfter} s)`;
  if (requestId) message += ` [request ${requestId}]`;
  return new CometgateError(message, {
    kind: "problem",
    status,
    // RFC 9457 §4.2.1: a problem without a type is "about:blank".
    type: stringOrNull(problem.type) || "about:blank",
    title,
    detail,
    requestId,
    retryAfter,
  });
}

function parseToken(text, response, sent) {
  const requestId = header(response, "x-request-id");
  const invalid = (what) =>
    new CometgateError(`cometgate: the token endpoint answered ${response.status} ${what}`, {
      kind: "invalid-response",
      status: response.status,
      requestId,
    });
  let data;
  try {
    data = JSON.parse(text);
  } catch (_) {
    throw invalid("with a body that is not JSON");
  }
  if (data === null || typeof data !== "object") throw invalid("with a body that is not a JSON object");
  if (typeof data.authToken !== "string" || data.authToken === "") throw invalid("without an authToken");
  if (typeof data.uid !== "string" || data.uid === "") throw invalid("without a uid");
  if (data.deviceId != null && !isValidDeviceId(data.deviceId)) throw invalid("with a malformed deviceId");
  if (data.expiresAt != null && typeof data.expiresAt !== "number") throw invalid("with a non-numeric expiresAt");
  const token = {
    uid: data.uid,
    // A server without device support answers without one: keep what was sent.
    deviceId: data.deviceId == null ? sent : data.deviceId,
    expiresAt: data.expiresAt == null ? null : data.expiresAt,
  };
  // Readable as token.authToken, invisible to console.log, JSON.stringify and spreading.
  Object.defineProperty(token, "authToken", { value: data.authToken, enumerable: false });
  return Object.freeze(token);
}

/** The SDK's error as it is, with `authToken` replaced in its message and stack. */
function redact(error, authToken) {
  if (error === null || typeof error !== "object") return error;
  for (const field of ["message", "stack"]) {
    const text = error[field];
    if (typeof text === "string" && text.includes(authToken)) {
      try {
        error[field] = text.split(authToken).join("[auth token]");
      } catch (_) {
        // A frozen error keeps its text; it is still thrown.
      }
    }
  }
  return error;
}

function copyHeaders(from, into) {
  if (from == null) return;
  if (typeof from.forEach === "function" && typeof from.get === "function") {
    from.forEach((value, name) => {
      into[name] = value;
    });
    return;
  }
  for (const name of Object.keys(from)) {
    if (from[name] != null) into[name] = String(from[name]);
  }
}

function header(response, name) {
  const headers = response && response.headers;
  if (!headers || typeof headers.get !== "function") return null;
  return stringOrNull(headers.get(name));
}

function stringOrNull(value) {
  return typeof value === "string" && value !== "" ? value : null;
}

function describe(error) {
  return error && typeof error.message === "string" ? error.message : String(error);
}

function childUrl(url, segment) {
  const at = url.search(/[?#]/);
  const path = at === -1 ? url : url.slice(0, at);
  const rest = at === -1 ? "" : url.slice(at);
  return `${path.replace(/\/+$/, "")}/${segment}${rest}`;
}

function requireUrl(value, name) {
  const what = name || "tokenUrl";
  if (value == null || String(value) === "") {
    throw new TypeError(`cometgate: options.${what} is required (e.g. "https://api.myapp.example${DEFAULT_TOKEN_PATH}")`);
  }
  return String(value);
}

function requireString(value, name) {
  if (typeof value !== "string" || value === "") throw new TypeError(`cometgate: options.${name} must be a non-empty string`);
  return value;
}

function requireTimeout(value) {
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new TypeError("cometgate: options.timeoutMs must be a number of milliseconds (0: no timeout)");
  }
  return value;
}

function optionalFunction(value, name) {
  if (value == null) return null;
  if (typeof value !== "function") throw new TypeError(`cometgate: options.${name} must be a function`);
  return value;
}

function requireMethods(value, name, methods) {
  const missing = value == null ? methods : methods.filter((m) => typeof value[m] !== "function");
  if (missing.length > 0) {
    throw new TypeError(`cometgate: options.${name} needs ${methods.join(", ")} (missing: ${missing.join(", ")})`);
  }
  return value;
}
