// Signs and verifies webhook deliveries with the official npm packages, one request per line
// on stdin, one JSON answer per line on stdout (driven by tests/tests/webhook_interop.rs).
//
// {"op":"sign","secret","id","timestamp","body"}
//   -> {"standardwebhooks":"v1,...","svix":"v1,..."}
// {"op":"verify","secret","id","timestamp","body","signature","tampered"}
//   -> {"standardwebhooks":bool,"svix":bool,"standardwebhooksTampered":bool,"svixTampered":bool}
//   (verified at the machine's own time, as a receiver would: `timestamp` must be recent)
//
// Bodies are UTF-8 text: both packages sign strings.
import { createInterface } from "node:readline";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";

function accepts(verify) {
  try {
    verify();
    return true;
  } catch {
    return false;
  }
}

function answer(request) {
  const standard = new StandardWebhook(request.secret);
  const svix = new SvixWebhook(request.secret);
  const date = new Date(request.timestamp * 1000);
  if (request.op === "sign") {
    return {
      standardwebhooks: standard.sign(request.id, date, request.body),
      svix: svix.sign(request.id, date, request.body),
    };
  }
  if (request.op === "verify") {
    const timestamp = String(request.timestamp);
    const webhookHeaders = {
      "webhook-id": request.id,
      "webhook-timestamp": timestamp,
      "webhook-signature": request.signature,
    };
    const svixHeaders = {
      "svix-id": request.id,
      "svix-timestamp": timestamp,
      "svix-signature": request.signature,
    };
    const options = { jsonParse: false };
    return {
      standardwebhooks: accepts(() => standard.verify(request.body, webhookHeaders, options)),
      svix: accepts(() => svix.verify(request.body, svixHeaders)),
      standardwebhooksTampered: accepts(() =>
        standard.verify(request.tampered, webhookHeaders, options),
      ),
      svixTampered: accepts(() => svix.verify(request.tampered, svixHeaders)),
    };
  }
  throw new Error(`unknown op ${request.op}`);
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  let reply;
  try {
    reply = answer(JSON.parse(line));
  } catch (error) {
    // The harness fails the test on an error; the message names no secret.
    reply = { error: String(error && error.name) };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}
