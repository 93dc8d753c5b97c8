// What the official CometChat JS SDK (@cometchat/chat-sdk-javascript) needs to run under Node
// against cometchat-fake, shared by the harness scripts (login.mjs, client_flow.mjs).
//
// The SDK is written for browsers; the shims below are the harness-side adjustments recorded
// in shared/cometchat-api.md §10 (no SDK code is changed).
import { createRequire } from "node:module";

/** Prints the one JSON line the Rust test reads, and exits with `code`. */
export function out(obj, code) {
  process.stdout.write(JSON.stringify(obj) + "\n");
  process.exit(code);
}

/** The SDK's environment variables, or exit 2 naming what is missing. */
export function sdkEnv(extra = []) {
  const names = ["CC_APP_ID", "CC_REGION", "CC_HOST", ...extra];
  const missing = names.filter((n) => !process.env[n]);
  if (missing.length > 0) out({ ok: false, code: "HARNESS", message: `set ${missing.join(", ")}` }, 2);
  return Object.fromEntries(names.map((n) => [n, process.env[n]]));
}

/** Exits 2 when the script has not finished within `ms`. */
export function bound(ms) {
  setTimeout(() => out({ ok: false, code: "HARNESS_TIMEOUT", message: `no result within ${ms / 1000} s` }, 2), ms).unref();
}

/** A Map-backed Web Storage (what the SDK's localforage driver uses in Node). */
export class MemoryStorage {
  #m;
  constructor(entries = {}) {
    this.#m = new Map(Object.entries(entries));
  }
  get length() { return this.#m.size; }
  key(i) { return [...this.#m.keys()][i] ?? null; }
  getItem(k) { return this.#m.has(k) ? this.#m.get(k) : null; }
  setItem(k, v) { this.#m.set(String(k), String(v)); }
  removeItem(k) { this.#m.delete(k); }
  clear() { this.#m.clear(); }
  entries() { return Object.fromEntries(this.#m); }
}

/**
 * Sets up a minimal browser, with `localStorage` holding `persisted` (what the SDK stored in an
 * earlier run, for a cold start), and loads the SDK. Returns CometChat.
 */
export function loadSdk(persisted = {}) {
  globalThis.window = globalThis;
  globalThis.localStorage = new MemoryStorage(persisted);
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

  // The SDK hard-codes https://; the fake speaks plain HTTP on loopback. Node's fetch also
  // rejects the SDK's `referrer: "no-referrer"` option. Only the SDK's calls go through this
  // wrapper: code that must reach another server passes its own fetch (`nodeFetch`).
  globalThis.fetch = (input, init = {}) => {
    const url = String(input instanceof Request ? input.url : input).replace(/^https:/, "http:");
    const { referrer, mode, ...rest } = init;
    return nodeFetch(url, rest);
  };

  const require = createRequire(import.meta.url);
  return require("@cometchat/chat-sdk-javascript").CometChat;
}

/** Node's own fetch, untouched by the SDK shim. */
export const nodeFetch = globalThis.fetch;

/**
 * `CometChat.init` against the fake (no WebSocket, no analytics); exits 2 on failure.
 *
 * With a session stored by an earlier run (a cold start), the SDK restores it by itself after
 * `init` resolves: without the WebSocket it logs out internally and logs in again with the stored
 * token (`internalRestart`; a login meanwhile fails with LOGIN_IN_PROGRESS). An app starts using
 * the SDK once it is ready, so this waits for that restore to settle (at most 5 s) before
 * returning.
 */
export async function initSdk(CometChat, { CC_APP_ID, CC_REGION, CC_HOST }) {
  const stored = (key) => globalThis.localStorage.getItem(`${CC_APP_ID}:common_store/${key}`) !== null;
  const restores = stored("user") && stored("app_settings");
  let restored;
  const settled = new Promise((resolve) => {
    restored = resolve;
  });
  const login = CometChat.login;
  CometChat.login = function (...args) {
    const result = login.apply(this, args);
    // The SDK raises the flag just before it calls login for its own restore.
    if (CometChat.internalRestart) result.then(restored, restored);
    return result;
  };
  try {
    const settings = new CometChat.AppSettingsBuilder()
      .setRegion(CC_REGION)
      .overrideAdminHost(CC_HOST)
      .overrideClientHost(CC_HOST)
      .autoEstablishSocketConnection(false)
      .build();
    await CometChat.init(CC_APP_ID, settings);
    if (restores) await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 5000))]);
  } catch (e) {
    out({ ok: false, code: e?.code ?? "INIT", message: e?.message ?? String(e) }, 2);
  } finally {
    CometChat.login = login;
  }
}
