// Logs in with the official CometChat JS SDK (@cometchat/chat-sdk-javascript) against
// cometchat-fake, then logs out. Driven by tests/tests/sdk_login.rs.
//
// Env: CC_APP_ID, CC_REGION, CC_HOST (e.g. 127.0.0.1:41234/v3), CC_AUTH_TOKEN.
// Prints one JSON line: {"ok":true,"uid":…,"name":…} or {"ok":false,"code":…,"message":…}.
// Exit code: 0 logged in (and out), 1 the SDK refused, 2 harness error or timeout.
//
// The SDK is written for browsers; the shims below are the harness-side adjustments recorded
// in shared/cometchat-api.md §10 (no SDK code is changed).
import { createRequire } from "node:module";

const { CC_APP_ID, CC_REGION, CC_HOST, CC_AUTH_TOKEN } = process.env;
const out = (obj, code) => {
  process.stdout.write(JSON.stringify(obj) + "\n");
  process.exit(code);
};
if (!CC_APP_ID || !CC_REGION || !CC_HOST || !CC_AUTH_TOKEN) {
  out({ ok: false, code: "HARNESS", message: "set CC_APP_ID, CC_REGION, CC_HOST, CC_AUTH_TOKEN" }, 2);
}
setTimeout(() => out({ ok: false, code: "HARNESS_TIMEOUT", message: "no result within 15 s" }, 2), 15000).unref();

// 1. A minimal browser environment.
class MemoryStorage {
  #m = new Map();
  get length() { return this.#m.size; }
  key(i) { return [...this.#m.keys()][i] ?? null; }
  getItem(k) { return this.#m.has(k) ? this.#m.get(k) : null; }
  setItem(k, v) { this.#m.set(String(k), String(v)); }
  removeItem(k) { this.#m.delete(k); }
  clear() { this.#m.clear(); }
}
globalThis.window = globalThis;
globalThis.localStorage = new MemoryStorage();
globalThis.sessionStorage = new MemoryStorage();
const define = (name, value) => {
  if (globalThis[name] === undefined) {
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
};
define("navigator", { userAgent: "cometgate-sdk-e2e (Node)", onLine: true, language: "en" });
define("document", {
  hasFocus: () => true,
  querySelector: () => null,
  addEventListener: () => {},
  removeEventListener: () => {},
  visibilityState: "visible",
  hidden: false,
});
define("location", { href: "http://localhost/", origin: "http://localhost", protocol: "http:", host: "localhost", hostname: "localhost" });
define("screen", { width: 1280, height: 800 });
define("matchMedia", () => ({ matches: false, addListener: () => {}, removeListener: () => {} }));
globalThis.addEventListener ??= () => {};
globalThis.removeEventListener ??= () => {};

// 2. The SDK hard-codes https://; the fake speaks plain HTTP on loopback. Node's fetch also
// rejects the SDK's `referrer: "no-referrer"` option.
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init = {}) => {
  const url = String(input instanceof Request ? input.url : input).replace(/^https:/, "http:");
  const { referrer, mode, ...rest } = init;
  return realFetch(url, rest);
};

const require = createRequire(import.meta.url);
const { CometChat } = require("@cometchat/chat-sdk-javascript");

try {
  const settings = new CometChat.AppSettingsBuilder()
    .setRegion(CC_REGION)
    .overrideAdminHost(CC_HOST)
    .overrideClientHost(CC_HOST)
    .autoEstablishSocketConnection(false)
    .build();
  await CometChat.init(CC_APP_ID, settings);
} catch (e) {
  out({ ok: false, code: e?.code ?? "INIT", message: e?.message ?? String(e) }, 2);
}

let user;
try {
  user = await CometChat.login(CC_AUTH_TOKEN);
} catch (e) {
  out({ ok: false, code: e?.code ?? "UNKNOWN", message: e?.message ?? String(e) }, 1);
}
try {
  await CometChat.logout();
} catch (e) {
  out({ ok: false, code: e?.code ?? "LOGOUT", message: e?.message ?? String(e) }, 2);
}
out({ ok: true, uid: user.getUid(), name: user.getName() }, 0);
