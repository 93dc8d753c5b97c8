"use strict";
// The relay's whole logic, free of Firebase so that it runs (and is tested) under plain Node:
// a Firebase Auth user becomes cometgate's `standard` event, signed per Standard Webhooks with
// the official `standardwebhooks` package and POSTed to the quickstart's
// `/cometchat-webhooks/standard` route.

const { randomUUID } = require("node:crypto");
const { Webhook } = require("standardwebhooks");

const TYPES = new Set(["user.created", "user.deleted"]);

/**
 * cometgate's event for `user` (a Firebase Auth `UserRecord`: `uid`, `displayName`,
 * `photoURL`, `metadata.creationTime`).
 *
 * `updatedAt` orders events at cometgate (the newest wins): a creation is dated by the
 * account's creation time, which a retried delivery keeps, so a creation retried after the
 * deletion never brings the user back; a deletion is dated `now`.
 *
 * @param {{uid: string, displayName?: string|null, photoURL?: string|null,
 *          metadata?: {creationTime?: string}}} user
 * @param {"user.created"|"user.deleted"} type
 * @param {number} [now] Unix milliseconds, for a deletion.
 */
function buildEvent(user, type, now = Date.now()) {
  if (!TYPES.has(type)) {
    throw new TypeError(`type must be user.created or user.deleted, got ${JSON.stringify(type)}`);
  }
  if (!user || typeof user.uid !== "string" || user.uid === "") {
    throw new TypeError("user.uid must be a non-empty string");
  }
  const data = { subject: user.uid };
  if (type === "user.created") {
    if (user.displayName) data.name = user.displayName;
    if (user.photoURL) data.avatar = user.photoURL;
    const created = Date.parse(user.metadata && user.metadata.creationTime);
    if (Number.isFinite(created)) data.updatedAt = created;
  } else {
    data.updatedAt = now;
  }
  return { type, data };
}

/**
 * Signs `event` with `secret` (`whsec_…`, the quickstart's COMETGATE_WEBHOOK_SECRET) and POSTs
 * it to `url`. Resolves to the answer's status (2xx); rejects otherwise, so that the Cloud
 * Function fails and Firebase retries it (the same `id` each time: cometgate acknowledges a
 * redelivery without a second effect).
 *
 * @param {string} url e.g. https://api.example.com/cometchat-webhooks/standard
 * @param {string} secret
 * @param {{type: string, data: object}} event from {@link buildEvent}
 * @param {typeof fetch} [fetchImpl] the global `fetch` (Node 18+) unless given
 * @param {{id?: string, now?: Date}} [options] the delivery id (use the trigger's eventId)
 */
async function send(url, secret, event, fetchImpl = globalThis.fetch, options = {}) {
  const id = options.id || `msg_${randomUUID()}`;
  const now = options.now || new Date();
  const body = JSON.stringify(event);
  const signature = new Webhook(secret).sign(id, now, body);
  const response = await fetchImpl(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": signature,
    },
    body,
  });
  if (!response.ok) {
    const error = new Error(`cometgate answered ${response.status} to ${event.type}`);
    error.status = response.status;
    throw error;
  }
  return response.status;
}

module.exports = { buildEvent, send };
