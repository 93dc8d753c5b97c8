"use strict";
// Runs the Firebase relay's own code (examples/firebase-relay/relay.js) once, as the Cloud
// Function would, with Node's fetch: `node run.js <user.created|user.deleted>` with USER_RECORD (JSON),
// COMETGATE_WEBHOOK_URL, COMETGATE_WEBHOOK_SECRET and DELIVERY_ID. Prints one JSON line:
// {"status": <the answer's status>} or {"error": ..., "status": ...}.

const path = require("node:path");
const { buildEvent, send } = require(path.join(__dirname, "../../examples/firebase-relay/relay.js"));

async function main() {
  const [type] = process.argv.slice(2);
  const user = JSON.parse(process.env.USER_RECORD);
  const event = buildEvent(user, type);
  const status = await send(
    process.env.COMETGATE_WEBHOOK_URL,
    process.env.COMETGATE_WEBHOOK_SECRET,
    event,
    fetch,
    { id: process.env.DELIVERY_ID },
  );
  console.log(JSON.stringify({ status, event }));
}

main().catch((error) => {
  console.log(JSON.stringify({ error: String(error.message), status: error.status || null }));
  process.exit(1);
});
