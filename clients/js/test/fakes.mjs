// Test doubles for cometgate-client: a backend that keeps the server contract (one token per
// (user, device), server-made device ids, refresh, revoke), a CometChat SDK that only accepts
// tokens the backend holds, and storage. Each records what it was asked, in one shared log.

export const PROBLEM_BASE = "https://cometgate.dev/problems/";

/** A Map-backed async storage, like AsyncStorage or expo-secure-store adapters. */
export function memoryStorage(log = [], initial = {}) {
  const items = new Map(Object.entries(initial));
  return {
    items,
    async getItem(key) {
      log.push(["storage.getItem", key]);
      return items.has(key) ? items.get(key) : null;
    },
    async setItem(key, value) {
      log.push(["storage.setItem", key, value]);
      items.set(key, value);
    },
    async removeItem(key) {
      log.push(["storage.removeItem", key]);
      items.delete(key);
    },
  };
}

export function problem(status, slug, title, extra = {}, headers = {}) {
  const requestId = extra.requestId ?? `req-${slug}`;
  return new Response(
    JSON.stringify({ type: PROBLEM_BASE + slug, title, status, detail: extra.detail ?? `${title}.`, requestId }),
    {
      status,
      headers: { "content-type": "application/problem+json", "cache-control": "no-store", "x-request-id": requestId, ...headers },
    },
  );
}

let serial = 0;

/**
 * The token endpoint as the contract says, for the users named by `Authorization: Bearer <uid>`.
 * `script` answers given requests first: a function (request) => Response | undefined.
 */
export function fakeBackend({ log = [], url = "https://api.example/cometchat-token", script } = {}) {
  const tokens = new Map(); // `${uid}/${device}` -> token
  const requests = [];
  let mints = 0;
  const deviceIdOk = (d) => typeof d === "string" && /^[A-Za-z0-9._:-]{1,128}$/.test(d);
  const mint = (uid) => {
    mints += 1;
    serial += 1;
    return `${uid}_1700000000${String(serial).padStart(30, "0")}`;
  };
  async function fetch(input, init) {
    const request = { url: String(input), method: init.method, headers: { ...init.headers }, body: JSON.parse(init.body), init };
    requests.push(request);
    log.push(["fetch", request.url, request.body]);
    const scripted = script && (await script(request));
    if (scripted) return scripted;
    const auth = request.headers.Authorization ?? request.headers.authorization;
    const uid = auth && auth.startsWith("Bearer ") ? auth.slice(7) : null;
    if (!uid) {
      return problem(401, "missing-credentials", "Missing credentials", {}, { "www-authenticate": 'Bearer realm="cometgate"' });
    }
    if (request.url === url) {
      const { deviceId, refresh } = request.body;
      if (deviceId !== undefined && !deviceIdOk(deviceId)) return problem(400, "bad-request", "Bad request");
      const device = deviceId ?? `dev-${(serial += 1)}`;
      const key = `${uid}/${device}`;
      if (refresh || !tokens.has(key)) tokens.set(key, mint(uid));
      return new Response(JSON.stringify({ authToken: tokens.get(key), uid, deviceId: device, expiresAt: null }), {
        status: 200,
        headers: { "content-type": "application/json", "cache-control": "no-store", "x-request-id": "req-ok" },
      });
    }
    if (request.url === `${url}/revoke`) {
      if (request.body.all === true) {
        for (const key of [...tokens.keys()]) if (key.startsWith(`${uid}/`)) tokens.delete(key);
      } else {
        tokens.delete(`${uid}/${request.body.deviceId}`);
      }
      return new Response(null, { status: 204 });
    }
    return new Response("not found", { status: 404 });
  }
  return {
    fetch,
    requests,
    tokens,
    get mints() {
      return mints;
    },
    tokenRequests: () => requests.filter((r) => r.url === url),
    flush(uid) {
      for (const key of [...tokens.keys()]) if (key.startsWith(`${uid}/`)) tokens.delete(key);
    },
  };
}

/** A CometChat SDK that accepts only tokens `isValid` approves; like the real one, logging in
 * again with the token it is logged in with is a no-op. */
export function fakeSdk({ log = [], isValid = () => true, fail } = {}) {
  const sdk = {
    current: null,
    logins: [],
    logouts: 0,
    async login(authToken) {
      sdk.logins.push(authToken);
      log.push(["sdk.login"]);
      const scripted = fail && fail(authToken, sdk.logins.length);
      if (scripted) throw scripted;
      if (sdk.current && sdk.current.authToken === authToken) return sdk.current;
      if (!isValid(authToken)) {
        sdk.current = null;
        throw Object.assign(new Error("The auth token does not exist."), { code: "AUTH_ERR_AUTH_TOKEN_NOT_FOUND" });
      }
      sdk.current = { uid: authToken.split("_")[0], authToken };
      return sdk.current;
    },
    async logout() {
      sdk.logouts += 1;
      log.push(["sdk.logout"]);
      sdk.current = null;
      return {};
    },
    async getLoggedinUser() {
      return sdk.current;
    },
  };
  return sdk;
}
