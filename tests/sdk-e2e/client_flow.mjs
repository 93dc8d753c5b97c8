// One app start of a client using clients/js/cometgate-client.mjs with the official CometChat JS
// SDK, against a cometgate quickstart whose CometChat is cometchat-fake. Driven by
// tests/tests/sdk_client_flow.rs: each run is one cold start of the app, and STATE_FILE is the
// device (the helper's storage, as expo-secure-store would keep it, and the SDK's localStorage).
//
//   node client_flow.mjs login     # helper.login()
//   node client_flow.mjs logout    # helper.logout(); LOGOUT_ALL=1 for logout({ all: true })
//
// Env: CC_APP_ID, CC_REGION, CC_HOST, TOKEN_URL, APP_JWT (the app's own session), STATE_FILE.
// Prints one JSON line: {"ok":true,...} or {"ok":false,"code"|"kind",...}; never a token.
// Exit code: 0 done, 1 the helper or the SDK refused, 2 harness error or timeout.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

import { createCometgateClient, isCometgateError } from "../../clients/js/cometgate-client.mjs";
import { bound, initSdk, loadSdk, nodeFetch, out, sdkEnv } from "./sdk-env.mjs";

const env = sdkEnv(["TOKEN_URL", "APP_JWT", "STATE_FILE"]);
const step = process.argv[2];
if (step !== "login" && step !== "logout") out({ ok: false, code: "HARNESS", message: "step: login | logout" }, 2);
bound(20000);

const state = existsSync(env.STATE_FILE) ? JSON.parse(readFileSync(env.STATE_FILE, "utf8")) : { device: {}, sdk: {} };
const save = () => {
  state.sdk = globalThis.localStorage.entries();
  writeFileSync(env.STATE_FILE, JSON.stringify(state));
};
// The app's secure storage: async, like expo-secure-store, and written through to the device.
const secureStore = {
  async getItem(key) {
    return state.device[key] ?? null;
  },
  async setItem(key, value) {
    state.device[key] = value;
    save();
  },
  async removeItem(key) {
    delete state.device[key];
    save();
  },
};
const finish = (obj, code) => {
  save();
  out(obj, code);
};

const CometChat = loadSdk(state.sdk);
await initSdk(CometChat, env);

const chat = createCometgateClient({
  tokenUrl: env.TOKEN_URL,
  getAuthHeaders: async () => ({ Authorization: `Bearer ${env.APP_JWT}` }),
  storage: secureStore,
  sdk: {
    login: (authToken) => CometChat.login(authToken),
    logout: () => CometChat.logout(),
    getLoggedinUser: () => CometChat.getLoggedinUser(),
  },
  fetch: nodeFetch,
});

const uidOf = (user) => (user ? user.getUid() : null);
// The SDK writes its session to localStorage after its promises resolve; wait for the write, so
// that the next start of the app finds what a real device would (at most 5 s).
const settled = async (loggedIn) => {
  const key = `${env.CC_APP_ID}:common_store/user`;
  for (let i = 0; i < 100 && (globalThis.localStorage.getItem(key) !== null) !== loggedIn; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
try {
  const before = uidOf(await CometChat.getLoggedinUser());
  if (step === "login") {
    const result = await chat.login();
    await settled(true);
    const after = uidOf(await CometChat.getLoggedinUser());
    finish({ ok: true, before, uid: result.uid, deviceId: result.deviceId, refreshed: result.refreshed, sdkUid: uidOf(result.user), after }, 0);
  } else {
    const all = process.env.LOGOUT_ALL === "1";
    await chat.logout({ all });
    await settled(false);
    const after = uidOf(await CometChat.getLoggedinUser());
    finish({ ok: true, before, all, deviceId: await chat.deviceId(), after }, 0);
  }
} catch (e) {
  const fields = isCometgateError(e)
    ? { kind: e.kind, status: e.status, type: e.type, title: e.title, requestId: e.requestId, retryAfter: e.retryAfter }
    : { code: e?.code ?? "UNKNOWN" };
  finish({ ok: false, ...fields, message: e?.message ?? String(e) }, 1);
}
