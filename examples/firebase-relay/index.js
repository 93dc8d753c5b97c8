"use strict";
// Firebase Auth has no webhooks: these two 1st-gen Cloud Functions relay its create and delete
// triggers to cometgate, signed (see relay.js).
//
// COMETGATE_WEBHOOK_URL: the quickstart's https://<host>/cometchat-webhooks/standard (in .env);
// COMETGATE_WEBHOOK_SECRET: the same whsec_… secret the quickstart has (a Secret Manager secret).

const functions = require("firebase-functions/v1");
const { buildEvent, send } = require("./relay");

// `failurePolicy`: a delivery cometgate did not accept (its 503 when CometChat is down, say)
// fails the function, and Firebase retries it with the same eventId.
const options = { secrets: ["COMETGATE_WEBHOOK_SECRET"], failurePolicy: true };

function relay(type) {
  return async (user, context) => {
    const event = buildEvent(user, type);
    await send(
      process.env.COMETGATE_WEBHOOK_URL,
      process.env.COMETGATE_WEBHOOK_SECRET,
      event,
      fetch,
      { id: `firebase_${context.eventId}` },
    );
  };
}

exports.cometchatUserCreated = functions
  .runWith(options)
  .auth.user()
  .onCreate(relay("user.created"));

exports.cometchatUserDeleted = functions
  .runWith(options)
  .auth.user()
  .onDelete(relay("user.deleted"));
