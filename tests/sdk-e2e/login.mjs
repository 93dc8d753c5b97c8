// Logs in with the official CometChat JS SDK (@cometchat/chat-sdk-javascript) against
// cometchat-fake, then logs out. Driven by tests/tests/sdk_login.rs and sdk_client_flow.rs.
//
// Env: CC_APP_ID, CC_REGION, CC_HOST (e.g. 127.0.0.1:41234/v3), CC_AUTH_TOKEN.
// Prints one JSON line: {"ok":true,"uid":…,"name":…} or {"ok":false,"code":…,"message":…}.
// Exit code: 0 logged in (and out), 1 the SDK refused, 2 harness error or timeout.
import { bound, initSdk, loadSdk, out, sdkEnv } from "./sdk-env.mjs";

const env = sdkEnv(["CC_AUTH_TOKEN"]);
bound(15000);
const CometChat = loadSdk();
await initSdk(CometChat, env);

let user;
try {
  user = await CometChat.login(env.CC_AUTH_TOKEN);
} catch (e) {
  out({ ok: false, code: e?.code ?? "UNKNOWN", message: e?.message ?? String(e) }, 1);
}
try {
  await CometChat.logout();
} catch (e) {
  out({ ok: false, code: e?.code ?? "LOGOUT", message: e?.message ?? String(e) }, 2);
}
out({ ok: true, uid: user.getUid(), name: user.getName() }, 0);
