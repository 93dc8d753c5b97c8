//! The webhook receivers over real HTTP, run against every adapter by
//! [`security_suite!`](crate::security_suite), with the fake as CometChat: each source
//! (`clerk` with `svix-*` headers, `standard` with `webhook-*` and with `svix-*`, `supabase` and
//! `auth0` with their bearer) creates, updates and deletes users; redeliveries change nothing;
//! refusals are problems with no upstream call; a deleted account stays deleted; and, per
//! provider, the webhook's UID is the token's UID for the same user.
//!
//! The UID properties run 256 cases each over **one** fake and **one** server per property (per
//! adapter): the fake is reset between cases and each case's subject is new to the gate (a
//! repeated subject is rejected and regenerated), so the gate's tombstones of earlier cases
//! never meet a later one.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

use cometgate::UidMapper;
use cometgate::UidMapping;
use cometgate::webhook::{SharedSecret, SigningSecret, SupabaseTable, UserChange, Webhooks};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::suite::{check, run};
use crate::{Adapter, Env, ISSUER, Tuning, contract, now, runtime};

const PROBLEMS: &str = "https://cometgate.dev/problems/";
const CREATE: &str = "POST /users";

/// Who sends a delivery, and how it authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// Clerk: its payload, Svix-signed (`svix-*`).
    Clerk,
    /// A relay's cometgate event, signed with `webhook-*` headers.
    StandardWebhook,
    /// A relay's cometgate event, signed with `svix-*` headers.
    StandardSvix,
    /// A Supabase Database Webhook of `auth.users`, with its bearer secret.
    Supabase,
    /// An Auth0 Event Stream CloudEvent, with the stream's bearer token.
    Auth0,
}

impl Sender {
    /// Every sender.
    pub const ALL: [Sender; 5] = [
        Sender::Clerk,
        Sender::StandardWebhook,
        Sender::StandardSvix,
        Sender::Supabase,
        Sender::Auth0,
    ];

    /// The source's path segment.
    pub fn source(self) -> &'static str {
        match self {
            Sender::Clerk => "clerk",
            Sender::StandardWebhook | Sender::StandardSvix => "standard",
            Sender::Supabase => "supabase",
            Sender::Auth0 => "auth0",
        }
    }

    /// The prefix of the signature headers, for signed senders.
    fn signature_headers(self) -> Option<&'static str> {
        match self {
            Sender::Clerk | Sender::StandardSvix => Some("svix"),
            Sender::StandardWebhook => Some("webhook"),
            Sender::Supabase | Sender::Auth0 => None,
        }
    }

    /// Whether the sender identifies its deliveries (a header id or the CloudEvents `id`).
    pub fn has_delivery_id(self) -> bool {
        self != Sender::Supabase
    }

    /// A user id of this provider's shape, distinct per `n`, with what defeats a readable
    /// mapping (mixed case, `|`).
    pub fn subject(self, n: &str) -> String {
        match self {
            Sender::Clerk => format!("user_2NxTq8bKq{n}ZbY3fP"),
            Sender::StandardWebhook | Sender::StandardSvix => format!("Relay User {n}"),
            Sender::Supabase => format!("8d0f7e2a-1b2c-4d5e-8f90-{n:0>12}"),
            Sender::Auth0 => format!("auth0|65f1c0{n}Ab"),
        }
    }
}

/// One account change, as a sender reports it.
#[derive(Debug, Clone)]
pub struct Change {
    /// What happened.
    pub change: UserChange,
    /// The provider's user id.
    pub subject: String,
    /// The display name (ignored for deletions).
    pub name: String,
    /// When it happened, Unix ms, where the payload carries it (Clerk and Supabase deletions do
    /// not: they are dated by the signed timestamp or the receipt, i.e. now).
    pub at: u64,
}

impl Change {
    /// A change to `subject`.
    pub fn new(change: UserChange, subject: &str, name: &str, at: u64) -> Self {
        Self {
            change,
            subject: subject.to_owned(),
            name: name.to_owned(),
            at,
        }
    }
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn rfc3339(ms: u64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .expect("a time in range")
}

/// `len` random bytes (keyed by the OS's randomness through `RandomState`; test secrets only).
fn random_bytes(len: usize) -> Vec<u8> {
    let state = RandomState::new();
    (0..len)
        .flat_map(|i| state.hash_one(i).to_le_bytes())
        .take(len)
        .collect()
}

/// The payload `sender` sends for `change`.
pub fn payload(sender: Sender, change: &Change, id: &str) -> Value {
    let Change {
        subject, name, at, ..
    } = change;
    let kind = match change.change {
        UserChange::Created => "user.created",
        UserChange::Updated => "user.updated",
        UserChange::Deleted => "user.deleted",
    };
    let deleted = change.change == UserChange::Deleted;
    match sender {
        Sender::Clerk if deleted => json!({"type": kind, "object": "event",
            "data": {"id": subject, "object": "user", "deleted": true}}),
        Sender::Clerk => json!({"type": kind, "object": "event", "data": {
            "id": subject, "object": "user", "first_name": name, "last_name": null,
            "username": null, "image_url": "https://img.clerk.com/a.png", "updated_at": at}}),
        Sender::StandardWebhook | Sender::StandardSvix => json!({"type": kind, "data": {
            "subject": subject, "name": name, "updatedAt": at}}),
        Sender::Supabase => {
            let record = json!({"id": subject, "raw_user_meta_data": {"full_name": name},
                "updated_at": rfc3339(*at)});
            match change.change {
                UserChange::Created => json!({"type": "INSERT", "schema": "auth",
                    "table": "users", "record": record, "old_record": null}),
                UserChange::Updated => json!({"type": "UPDATE", "schema": "auth",
                    "table": "users", "record": record, "old_record": record}),
                UserChange::Deleted => json!({"type": "DELETE", "schema": "auth",
                    "table": "users", "record": null, "old_record": {"id": subject}}),
            }
        }
        Sender::Auth0 => {
            let object = if deleted {
                json!({"user_id": subject})
            } else {
                json!({"user_id": subject, "name": name, "updated_at": rfc3339(*at)})
            };
            json!({"specversion": "1.0", "type": kind, "source": "urn:auth0:tenant.auth0.com",
                "id": id, "time": rfc3339(*at), "data": {"object": object}})
        }
    }
}

/// An app serving every webhook source (issuer [`ISSUER`], the demo identity's) with secrets
/// generated per run, its fake, and the means to deliver.
pub struct Hooks {
    /// The app and its fake.
    pub env: Env,
    signing: SigningSecret,
    supabase: String,
    auth0: String,
}

impl Hooks {
    /// Starts a fake and the app, its gate mapping UIDs with `mapper`.
    pub async fn start<A: Adapter>(mapper: UidMapper) -> Self {
        let key = data_encoding::BASE64.encode(&random_bytes(32));
        let signing = format!("whsec_{key}");
        let supabase = data_encoding::HEXLOWER.encode(&random_bytes(32));
        let auth0 = data_encoding::HEXLOWER.encode(&random_bytes(24));
        let webhooks = Webhooks::new()
            .clerk(signing.parse().expect("secret"), ISSUER)
            .standard(signing.parse().expect("secret"), ISSUER)
            .supabase(
                SharedSecret::bearer(&supabase, 32).expect("secret"),
                ISSUER,
                SupabaseTable::default(),
            )
            .auth0(SharedSecret::bearer(&auth0, 24).expect("secret"), ISSUER);
        let env = Env::start_with_mapper::<A>(Tuning::relaxed(), Some(mapper), |endpoint| {
            endpoint.with_webhooks(webhooks)
        })
        .await;
        Self {
            env,
            signing: SigningSecret::parse(&signing).expect("secret"),
            supabase,
            auth0,
        }
    }

    /// `POST {prefix}/{source}` with `body`, authenticated as `sender` does (signed with id `id`
    /// at `signed_at` seconds).
    pub fn request(
        &self,
        sender: Sender,
        id: &str,
        signed_at: u64,
        body: &str,
    ) -> reqwest::RequestBuilder {
        self.request_signed_over(sender, id, signed_at, body, body)
    }

    /// Like [`request`](Self::request), sending `body` with the signature of `signed` (the
    /// same, unless the test tampers with it).
    pub fn request_signed_over(
        &self,
        sender: Sender,
        id: &str,
        signed_at: u64,
        signed: &str,
        body: &str,
    ) -> reqwest::RequestBuilder {
        let url = format!("{}/cometchat-webhooks/{}", self.env.base, sender.source());
        let req = self
            .env
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_owned());
        match sender.signature_headers() {
            Some(prefix) => {
                let signature = self.signing.sign(id, signed_at, signed.as_bytes());
                req.header(format!("{prefix}-id"), id)
                    .header(format!("{prefix}-timestamp"), signed_at.to_string())
                    .header(format!("{prefix}-signature"), signature)
            }
            None if sender == Sender::Supabase => req.bearer_auth(&self.supabase),
            None => req.bearer_auth(&self.auth0),
        }
    }

    /// Delivers `change` as `sender` does, with delivery id `id`, signed now; the status and
    /// the body (JSON, or `null`).
    pub async fn deliver(&self, sender: Sender, change: &Change, id: &str) -> (u16, Value) {
        let body = payload(sender, change, id).to_string();
        send(self.request(sender, id, now(), &body)).await
    }

    /// `POST /cometchat-token` for `subject`: the status and the body.
    pub async fn token(&self, subject: &str) -> (u16, Value) {
        let bearer = self.env.token_for(subject);
        send(self.env.token_request(Some(&bearer))).await
    }

    /// The UID the gate maps `subject` to.
    pub fn uid(&self, subject: &str) -> String {
        self.env.uid_for(subject)
    }
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.expect("the app answers");
    let status = res.status().as_u16();
    let problem = res
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    let bytes = res.bytes().await.expect("a body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    // A problem body is only a problem with its content type.
    if body.get("type").is_some() && !problem && status >= 400 {
        return (
            status,
            json!({"type": "not served as application/problem+json"}),
        );
    }
    (status, body)
}

/// Whether `body` is the problem `slug`.
fn is_problem(body: &Value, slug: &str) -> bool {
    body["type"] == format!("{PROBLEMS}{slug}").as_str()
}

/// Every UID the fake was asked about: the `uid` of `POST /users`, the segment after `users/`.
fn uids_touched(env: &Env) -> BTreeSet<String> {
    env.fake
        .journal()
        .iter()
        .filter_map(|e| {
            if e.route.as_deref() == Some(CREATE) {
                let body: Value = serde_json::from_str(&e.body).unwrap_or(Value::Null);
                return body["uid"].as_str().map(str::to_owned);
            }
            let mut segments = e.path.split('/');
            segments.find(|s| *s == "users")?;
            segments.next().map(str::to_owned)
        })
        .collect()
}

/// The mapper the suite's webhook apps use: encoded subjects (Clerk and Auth0 ids are mixed
/// case or hold `|`, which a readable mapping refuses).
fn encoded() -> UidMapper {
    UidMapper::single_issuer(ISSUER, UidMapping::Encoded)
}

/// Runs `test` once per sender (with a subject of its shape, distinct per `round`, and a tag
/// for messages) against one app of `A` whose gate encodes UIDs.
fn per_sender<A: Adapter>(round: &str, test: impl AsyncFn(&Hooks, Sender, String, String)) {
    let rt = runtime();
    let hooks = rt.block_on(Hooks::start::<A>(encoded()));
    rt.block_on(async {
        for (n, sender) in Sender::ALL.into_iter().enumerate() {
            let tag = format!("[{}] {sender:?}", A::NAME);
            test(&hooks, sender, sender.subject(&format!("{round}{n}")), tag).await;
        }
    });
}

/// Each sender creates, updates and deletes a user at the fake; a token minted in between is
/// revoked by the deletion.
pub fn each_source_creates_updates_and_deletes<A: Adapter>() {
    per_sender::<A>("0", async |hooks, sender, subject, tag| {
        let n = format!("{sender:?}");
        let uid = hooks.uid(&subject);
        let t = now_ms();
        let created = Change::new(UserChange::Created, &subject, "Ada", t - 60_000);
        let (status, body) = hooks.deliver(sender, &created, &format!("c{n}")).await;
        assert_eq!(status, 204, "{tag} created: {body}");
        let user = hooks.env.fake.user(&uid);
        assert_eq!(user.map(|u| u.name), Some("Ada".into()), "{tag} created");

        let updated = Change::new(UserChange::Updated, &subject, "Ada L", t - 30_000);
        let (status, body) = hooks.deliver(sender, &updated, &format!("u{n}")).await;
        assert_eq!(status, 204, "{tag} updated: {body}");
        let user = hooks.env.fake.user(&uid);
        assert_eq!(user.map(|u| u.name), Some("Ada L".into()), "{tag} updated");

        let (status, body) = hooks.token(&subject).await;
        assert_eq!(status, 200, "{tag} token: {body}");
        assert_eq!(body["uid"], uid.as_str(), "{tag}");
        assert!(!hooks.env.fake.tokens(&uid).is_empty(), "{tag} minted");

        let deleted = Change::new(UserChange::Deleted, &subject, "", t);
        let (status, body) = hooks.deliver(sender, &deleted, &format!("d{n}")).await;
        assert_eq!(status, 204, "{tag} deleted: {body}");
        assert!(hooks.env.fake.user(&uid).is_none(), "{tag} deleted");
        assert!(hooks.env.fake.tokens(&uid).is_empty(), "{tag} tokens");
        let touched = uids_touched(&hooks.env);
        assert!(touched.iter().all(|u| *u == uid), "{tag} {touched:?}");
        hooks.env.fake.assert_no_unexpected();
        hooks.env.fake.reset();
    });
}

/// A redelivery (same id, fresh timestamp and signature) is acknowledged with no second call
/// at CometChat, for every sender that identifies its deliveries (Supabase sends no id).
pub fn redeliveries_have_no_second_side_effect<A: Adapter>() {
    per_sender::<A>("1", async |hooks, sender, subject, tag| {
        if !sender.has_delivery_id() {
            return;
        }
        let t = now_ms();
        for (i, change) in [
            Change::new(UserChange::Created, &subject, "Bo", t - 60_000),
            Change::new(UserChange::Updated, &subject, "Bo B", t - 30_000),
            Change::new(UserChange::Deleted, &subject, "", t),
        ]
        .iter()
        .enumerate()
        {
            let id = format!("msg_{sender:?}_{i}");
            let body = payload(sender, change, &id).to_string();
            let (status, _) = send(hooks.request(sender, &id, now() - 5, &body)).await;
            assert_eq!(status, 204, "{tag} {change:?}");
            let calls = hooks.env.fake.journal().len();
            assert!(calls > 0, "{tag} {change:?} had an effect");
            let (status, body) = send(hooks.request(sender, &id, now(), &body)).await;
            assert_eq!(status, 204, "{tag} redelivered {change:?}: {body}");
            assert_eq!(
                hooks.env.fake.journal().len(),
                calls,
                "{tag} a redelivery of {change:?} called CometChat again"
            );
            hooks.env.fake.reset();
        }
    });
}

/// A refused delivery and why, with the status it must get.
struct Refusal {
    what: &'static str,
    request: reqwest::RequestBuilder,
    status: u16,
    slug: &'static str,
}

fn refusals(hooks: &Hooks, body: &str) -> Vec<Refusal> {
    let base = &hooks.env.base;
    let post = |source: &str| {
        hooks
            .env
            .http
            .post(format!("{base}/cometchat-webhooks/{source}"))
            .body(body.to_owned())
    };
    let mut cases = Vec::new();
    for sender in [Sender::Clerk, Sender::StandardWebhook, Sender::StandardSvix] {
        let prefix = sender.signature_headers().unwrap_or_default();
        let source = sender.source();
        let signature = hooks.signing.sign("msg_r", now(), body.as_bytes());
        cases.push(Refusal {
            what: "bad signature",
            request: hooks.request_signed_over(
                sender,
                "msg_r",
                now(),
                body,
                &body.replace("Eve", "Evf"),
            ),
            status: 401,
            slug: "invalid-signature",
        });
        cases.push(Refusal {
            what: "signature of another id",
            request: post(source)
                .header(format!("{prefix}-id"), "msg_other")
                .header(format!("{prefix}-timestamp"), now().to_string())
                .header(format!("{prefix}-signature"), signature),
            status: 401,
            slug: "invalid-signature",
        });
        cases.push(Refusal {
            what: "missing signature header",
            request: post(source)
                .header(format!("{prefix}-id"), "msg_r")
                .header(format!("{prefix}-timestamp"), now().to_string()),
            status: 401,
            slug: "invalid-signature",
        });
        cases.push(Refusal {
            what: "stale timestamp",
            request: hooks.request(sender, "msg_r", now() - 600, body),
            status: 401,
            slug: "invalid-signature",
        });
        cases.push(Refusal {
            what: "malformed timestamp",
            request: post(source)
                .header(format!("{prefix}-id"), "msg_r")
                .header(format!("{prefix}-timestamp"), "-9223372036854775808")
                .header(format!("{prefix}-signature"), "v1,AAAA"),
            status: 400,
            slug: "bad-request",
        });
    }
    for source in ["supabase", "auth0"] {
        cases.push(Refusal {
            what: "wrong bearer",
            request: post(source).bearer_auth("wrong-bearer-secret-of-enough-length-000"),
            status: 401,
            slug: "invalid-signature",
        });
        cases.push(Refusal {
            what: "no authorization",
            request: post(source),
            status: 401,
            slug: "invalid-signature",
        });
    }
    cases.push(Refusal {
        what: "the other source's bearer",
        request: post("auth0").bearer_auth(&hooks.supabase),
        status: 401,
        slug: "invalid-signature",
    });
    cases
}

/// Refusals (bad or missing signature, stale or malformed timestamp, wrong or missing bearer,
/// a body over the limit) are problems and cause no upstream call; the body limit is enforced
/// (413) before any verification, on every source.
pub fn refused_deliveries_are_problems_without_an_upstream_call<A: Adapter>() {
    let rt = runtime();
    let hooks = rt.block_on(Hooks::start::<A>(encoded()));
    rt.block_on(async {
        let subject = Sender::StandardWebhook.subject("eve");
        let change = Change::new(UserChange::Created, &subject, "Eve", now_ms());
        let body = payload(Sender::StandardWebhook, &change, "msg_r").to_string();
        for case in refusals(&hooks, &body) {
            let (status, answer) = send(case.request).await;
            let tag = format!("[{}] {}", A::NAME, case.what);
            assert_eq!(status, case.status, "{tag}: {answer}");
            assert!(is_problem(&answer, case.slug), "{tag}: {answer}");
        }
        assert!(
            hooks.env.fake.journal().is_empty(),
            "[{}] {:?}",
            A::NAME,
            hooks.env.fake.route_counts()
        );

        // Over the limit: 413 whatever the credentials (even valid ones), announced or chunked.
        let addr = hooks.env.base.trim_start_matches("http://").to_owned();
        let limit = cometgate::webhook::receiver::DEFAULT_WEBHOOK_BODY_LIMIT;
        // The payload padded with JSON whitespace: still a valid event, only too long.
        let mut big = body.clone();
        big.push_str(&" ".repeat(limit + 1 - body.len()));
        for sender in Sender::ALL {
            for chunked in [false, true] {
                let request = raw_delivery(&hooks, sender, &addr, &big, chunked);
                let answer = contract::raw_request(&addr, &request)
                    .await
                    .expect("an answer");
                let tag = format!("[{}] {sender:?} chunked {chunked}", A::NAME);
                assert!(answer.starts_with("HTTP/1.1 413"), "{tag}: {answer}");
                assert!(
                    answer.contains(&format!("{PROBLEMS}body-too-large")),
                    "{tag}: {answer}"
                );
                assert!(
                    answer
                        .to_ascii_lowercase()
                        .contains("content-type: application/problem+json"),
                    "{tag}: {answer}"
                );
            }
        }
        assert!(hooks.env.fake.journal().is_empty(), "[{}]", A::NAME);
    });
}

/// A whole HTTP/1.1 delivery of `body`, validly authenticated as `sender`.
fn raw_delivery(hooks: &Hooks, sender: Sender, addr: &str, body: &str, chunked: bool) -> Vec<u8> {
    let mut head = format!(
        "POST /cometchat-webhooks/{} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\
         content-type: application/json\r\n",
        sender.source()
    );
    match sender.signature_headers() {
        Some(prefix) => {
            let ts = now();
            let signature = hooks.signing.sign("msg_big", ts, body.as_bytes());
            head.push_str(&format!(
                "{prefix}-id: msg_big\r\n{prefix}-timestamp: {ts}\r\n{prefix}-signature: {signature}\r\n"
            ));
        }
        None if sender == Sender::Supabase => {
            head.push_str(&format!("authorization: Bearer {}\r\n", hooks.supabase));
        }
        None => head.push_str(&format!("authorization: Bearer {}\r\n", hooks.auth0)),
    }
    let mut request = head.into_bytes();
    if chunked {
        request.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
        for chunk in body.as_bytes().chunks(64 * 1024) {
            request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend_from_slice(chunk);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
    } else {
        request.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        request.extend_from_slice(body.as_bytes());
    }
    request
}

/// After a deletion from any sender, the account's token requests answer `403
/// account-deleted` with no `POST /users`, and a late update (older than the deletion) does
/// not resurrect it.
pub fn a_deleted_account_stays_deleted<A: Adapter>() {
    per_sender::<A>("2", async |hooks, sender, subject, tag| {
        let n = format!("{sender:?}");
        let uid = hooks.uid(&subject);
        let (status, body) = hooks.token(&subject).await;
        assert_eq!(status, 200, "{tag} {body}");
        let t = now_ms();
        let deleted = Change::new(UserChange::Deleted, &subject, "", t);
        let (status, body) = hooks.deliver(sender, &deleted, &format!("d{n}")).await;
        assert_eq!(status, 204, "{tag} {body}");
        assert!(hooks.env.fake.user(&uid).is_none(), "{tag}");
        hooks.env.fake.reset();

        let (status, body) = hooks.token(&subject).await;
        assert_eq!(status, 403, "{tag} {body}");
        assert!(is_problem(&body, "account-deleted"), "{tag} {body}");
        assert!(hooks.env.fake.journal().is_empty(), "{tag} no call at all");

        let late = Change::new(UserChange::Updated, &subject, "Zombie", t - 10_000);
        let (status, body) = hooks.deliver(sender, &late, &format!("late{n}")).await;
        assert_eq!(status, 204, "{tag} late update: {body}");
        assert!(hooks.env.fake.user(&uid).is_none(), "{tag} resurrected");
        let (status, _) = hooks.token(&subject).await;
        assert_eq!(status, 403, "{tag} after the late update");
        assert_eq!(hooks.env.fake.count(CREATE), 0, "{tag}");
        assert!(hooks.env.fake.journal().is_empty(), "{tag} no call at all");
    });
}

/// The UID property for `sender`'s provider: for random subjects in its id alphabet, a token
/// request, then a `user.created` webhook, touch one and the same UID at the fake (the
/// webhook's name lands on the token's user), and the webhook's `user.deleted` makes the
/// token request answer `403`. `mapper` is the gate's (never readable).
fn webhook_uid_is_the_token_uid<A: Adapter>(
    senders: Vec<Sender>,
    mapper: UidMapper,
    subjects: impl Strategy<Value = String>,
) {
    let rt = runtime();
    let hooks = rt.block_on(Hooks::start::<A>(mapper));
    let seen = std::sync::Mutex::new(BTreeSet::new());
    let property = format!("{senders:?}: the webhook UID is the token UID");
    let strategy = (subjects, prop::sample::select(senders));
    run(A::NAME, &property, strategy, |(subject, sender)| {
        if !seen.lock().expect("lock").insert(subject.clone()) {
            return Err(TestCaseError::reject("a subject the gate has seen"));
        }
        rt.block_on(async {
            hooks.env.fake.reset();
            let (status, token) = hooks.token(&subject).await;
            check(status == 200, || {
                format!("{subject:?}: token {status} {token}")
            })?;
            let uid = token["uid"].as_str().unwrap_or_default().to_owned();
            check(uid == hooks.uid(&subject), || format!("{subject:?}: {uid}"))?;

            let t = now_ms();
            let created = Change::new(UserChange::Created, &subject, "Webhook Name", t - 2_000);
            let (status, body) = hooks.deliver(sender, &created, &format!("c{t}")).await;
            check(status == 204, || {
                format!("{subject:?}: created {status} {body}")
            })?;
            let touched = uids_touched(&hooks.env);
            check(touched == BTreeSet::from([uid.clone()]), || {
                format!("{subject:?}: token {uid}, touched {touched:?}")
            })?;
            let users = hooks.env.fake.users();
            check(
                users.len() == 1 && users[0].uid == uid && users[0].name == "Webhook Name",
                || format!("{subject:?}: {users:?}"),
            )?;

            let deleted = Change::new(UserChange::Deleted, &subject, "", t);
            let (status, body) = hooks.deliver(sender, &deleted, &format!("d{t}")).await;
            check(status == 204, || {
                format!("{subject:?}: deleted {status} {body}")
            })?;
            check(hooks.env.fake.users().is_empty(), || {
                format!("{subject:?}: {:?}", hooks.env.fake.users())
            })?;
            let creates = hooks.env.fake.count(CREATE);
            let (status, body) = hooks.token(&subject).await;
            check(
                status == 403 && is_problem(&body, "account-deleted"),
                || format!("{subject:?}: after deletion {status} {body}"),
            )?;
            check(hooks.env.fake.count(CREATE) == creates, || {
                format!("{subject:?}: re-created")
            })
        })
    });
}

/// Clerk ids (`user_` and mixed-case base62), encoded UIDs.
pub fn clerk_webhook_uid_is_the_token_uid<A: Adapter>() {
    let ids = "user_[A-Za-z0-9]{20,30}";
    webhook_uid_is_the_token_uid::<A>(vec![Sender::Clerk], encoded(), ids);
}

/// Supabase UUIDs, UIDs hashed with the issuer ([`UidMapper::default`]).
pub fn supabase_webhook_uid_is_the_token_uid<A: Adapter>() {
    let ids = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";
    webhook_uid_is_the_token_uid::<A>(vec![Sender::Supabase], UidMapper::default(), ids);
}

/// Auth0 ids (`auth0|...`, `google-oauth2|...`), encoded UIDs.
pub fn auth0_webhook_uid_is_the_token_uid<A: Adapter>() {
    let ids = "(auth0|google-oauth2|github|email)\\|[A-Za-z0-9]{6,30}";
    webhook_uid_is_the_token_uid::<A>(vec![Sender::Auth0], encoded(), ids);
}

/// Any subject a relay may send (1 to 60 characters, no control character), through either
/// header set, UIDs hashed with the issuer ([`UidMapper::default`]).
pub fn standard_webhook_uid_is_the_token_uid<A: Adapter>() {
    let ids = "[^\\p{Cc}]{1,60}";
    let senders = vec![Sender::StandardWebhook, Sender::StandardSvix];
    webhook_uid_is_the_token_uid::<A>(senders, UidMapper::default(), ids);
}
