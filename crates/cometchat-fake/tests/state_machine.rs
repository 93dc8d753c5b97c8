//! The user and token store against a simple model, in any order of operations.

use std::collections::BTreeMap;

use bytes::Bytes;
use cometchat_fake::FakeCometChat;
use http_body_util::{BodyExt, Full};
use proptest::prelude::*;
use proptest::test_runner::Config;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use serde_json::{Value, json};
use tower::ServiceExt;

#[derive(Clone, Debug)]
enum Op {
    Create(String, String),
    Get(String),
    Update(String, String),
    Deactivate(String),
    Reactivate(String),
    DeletePermanently(String),
    Mint(String),
    Flush(String),
}

#[derive(Clone, Debug, PartialEq)]
struct ModelUser {
    name: String,
    deactivated: bool,
    tokens: usize,
}

#[derive(Clone, Debug, Default)]
struct Model {
    users: BTreeMap<String, ModelUser>,
    /// What the last operation must answer: status and CometChat error code.
    expect: (u16, Option<&'static str>),
    /// Whether the last operation, a reactivation, must list its UID as reactivated.
    reactivated: bool,
}

struct ModelMachine;

fn uid() -> impl Strategy<Value = String> {
    // Upper-case variants exercise CometChat's lower-casing: "B" and "b" are one user.
    prop::sample::select(vec!["a", "b", "B", "c_1", "d-2"]).prop_map(str::to_owned)
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z ]{1,12}".prop_filter("non-blank", |s| !s.trim().is_empty())
}

const NOT_FOUND: (u16, Option<&str>) = (404, Some("ERR_UID_NOT_FOUND"));
const OK: (u16, Option<&str>) = (200, None);

impl ReferenceStateMachine for ModelMachine {
    type State = Model;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model::default()).boxed()
    }

    fn transitions(_: &Model) -> BoxedStrategy<Op> {
        prop_oneof![
            (uid(), name()).prop_map(|(u, n)| Op::Create(u, n)),
            uid().prop_map(Op::Get),
            (uid(), name()).prop_map(|(u, n)| Op::Update(u, n)),
            uid().prop_map(Op::Deactivate),
            uid().prop_map(Op::Reactivate),
            uid().prop_map(Op::DeletePermanently),
            uid().prop_map(Op::Mint),
            uid().prop_map(Op::Flush),
        ]
        .boxed()
    }

    fn apply(mut m: Model, op: &Op) -> Model {
        let key = |u: &String| u.to_ascii_lowercase();
        let active = |m: &Model, u: &String| m.users.get(&key(u)).is_some_and(|x| !x.deactivated);
        m.expect = match op {
            Op::Create(u, n) => match m.users.entry(key(u)) {
                std::collections::btree_map::Entry::Occupied(_) => {
                    (400, Some("ERR_UID_ALREADY_EXISTS"))
                }
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(ModelUser {
                        name: n.clone(),
                        deactivated: false,
                        tokens: 0,
                    });
                    OK
                }
            },
            Op::Get(u) => {
                if active(&m, u) {
                    OK
                } else {
                    NOT_FOUND
                }
            }
            Op::Update(u, n) => {
                if active(&m, u) {
                    if let Some(x) = m.users.get_mut(&key(u)) {
                        x.name = n.clone();
                    }
                    OK
                } else {
                    NOT_FOUND
                }
            }
            Op::Deactivate(u) => {
                if active(&m, u) {
                    if let Some(x) = m.users.get_mut(&key(u)) {
                        x.deactivated = true;
                    }
                    OK
                } else {
                    NOT_FOUND
                }
            }
            // Always 200: the answer says which UIDs were reactivated.
            Op::Reactivate(u) => {
                let user = m.users.get_mut(&key(u)).filter(|x| x.deactivated);
                m.reactivated = user.is_some();
                if let Some(x) = user {
                    x.deactivated = false;
                }
                OK
            }
            Op::DeletePermanently(u) => {
                if m.users.remove(&key(u)).is_some() {
                    OK
                } else {
                    NOT_FOUND
                }
            }
            Op::Mint(u) => {
                if active(&m, u) {
                    if let Some(x) = m.users.get_mut(&key(u)) {
                        x.tokens = (x.tokens + 1).min(100);
                    }
                    OK
                } else {
                    NOT_FOUND
                }
            }
            Op::Flush(u) => {
                if active(&m, u) {
                    if let Some(x) = m.users.get_mut(&key(u)) {
                        x.tokens = 0;
                    }
                    OK
                } else {
                    NOT_FOUND
                }
            }
        };
        m
    }
}

struct Sut {
    rt: tokio::runtime::Runtime,
    fake: FakeCometChat,
}

impl Sut {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("/v3{path}"))
            .header("apikey", self.fake.api_key())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .unwrap();
        self.rt.block_on(async {
            let response = self.fake.service().oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice(&bytes).unwrap())
        })
    }
}

struct FakeMatchesModel;

impl StateMachineTest for FakeMatchesModel {
    type SystemUnderTest = Sut;
    type Reference = ModelMachine;

    fn init_test(_: &Model) -> Sut {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let fake = rt.block_on(async { FakeCometChat::builder().start().await.unwrap() });
        Sut { rt, fake }
    }

    fn apply(sut: Sut, model: &Model, op: Op) -> Sut {
        let (status, body) = match &op {
            Op::Create(u, n) => sut.call("POST", "/users", Some(json!({"uid": u, "name": n}))),
            Op::Get(u) => sut.call("GET", &format!("/users/{u}"), None),
            Op::Update(u, n) => sut.call("PUT", &format!("/users/{u}"), Some(json!({"name": n}))),
            Op::Deactivate(u) => sut.call("DELETE", &format!("/users/{u}"), None),
            Op::Reactivate(u) => sut.call("PUT", "/users", Some(json!({"uidsToActivate": [u]}))),
            Op::DeletePermanently(u) => sut.call(
                "DELETE",
                &format!("/users/{u}"),
                Some(json!({"permanent": true})),
            ),
            Op::Mint(u) => sut.call("POST", &format!("/users/{u}/auth_tokens"), None),
            Op::Flush(u) => sut.call("DELETE", &format!("/users/{u}/auth_tokens"), None),
        };
        let code = body["error"]["code"].as_str();
        assert_eq!(
            (status, code),
            (model.expect.0, model.expect.1),
            "{op:?} answered {body}"
        );
        if status == 200 {
            assert!(body.get("data").is_some(), "{body}");
        }
        if let Op::Reactivate(u) = &op {
            let (listed, uids) = if model.reactivated {
                ("reactivatedUids", json!([u.to_ascii_lowercase()]))
            } else {
                ("notFound", json!([u]))
            };
            assert_eq!(body["data"], json!({ listed: uids }), "{op:?}");
        }
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        let users = sut.fake.users();
        assert_eq!(users.len(), model.users.len());
        for user in users {
            let expected = &model.users[&user.uid];
            assert_eq!(user.name, expected.name);
            assert_eq!(user.deactivated_at.is_some(), expected.deactivated);
            if !expected.deactivated {
                assert_eq!(sut.fake.tokens(&user.uid).len(), expected.tokens);
            }
        }
    }
}

prop_state_machine! {
    #![proptest_config(Config { cases: 256, failure_persistence: None, ..Config::default() })]
    #[test]
    fn the_fake_store_matches_the_model(sequential 1..40 => FakeMatchesModel);
}
