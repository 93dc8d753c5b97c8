//! A fake on a real loopback socket and a reqwest client to talk to it.

#![allow(dead_code)] // each test file uses a different part

use cometchat_fake::{FakeBuilder, FakeCometChat};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// The key most tests start the fake with: long enough to show CometChat's masking.
pub const KEY: &str = "11111abcdefghijklmnopqrstuv11111";

pub struct Harness {
    pub cc: FakeCometChat,
    pub http: Client,
}

/// One answer, read whole: the body as JSON (or as a JSON string when it is not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Harness {
    pub async fn new() -> Self {
        Self::with(FakeCometChat::builder().api_key(KEY)).await
    }

    pub async fn with(builder: FakeBuilder) -> Self {
        Self {
            cc: builder.start().await.unwrap(),
            http: Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.cc.addr())
    }

    /// Calls `/v3{path}` with the fake's REST API key.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let reply = self
            .call_as(Some(self.cc.api_key()), method, path, body)
            .await;
        (reply.status, reply.body)
    }

    /// Calls `/v3{path}` with `key` in the `apikey` header (none when `None`).
    pub async fn call_as(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, self.url(&format!("/v3{path}")));
        if let Some(key) = key {
            req = req.header("apikey", key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.unwrap()).await
    }

    pub async fn create(&self, uid: &str) -> Value {
        let (status, body) = self
            .call(
                Method::POST,
                "/users",
                Some(json!({"uid": uid, "name": uid})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// `GET /users/{uid}/auth_tokens/{token}`: the status and the error code (empty on success).
    pub async fn get_token(&self, uid: &str, token: &str) -> (u16, String) {
        let path = format!("/users/{uid}/auth_tokens/{token}");
        let (status, body) = self.call(Method::GET, &path, None).await;
        (status.as_u16(), code(&body).to_owned())
    }

    /// Mints a token for `uid` and returns it.
    pub async fn mint(&self, uid: &str) -> String {
        let (status, body) = self
            .call(Method::POST, &format!("/users/{uid}/auth_tokens"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        body["data"]["authToken"].as_str().unwrap().to_owned()
    }
}

pub async fn read(res: reqwest::Response) -> Reply {
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}
