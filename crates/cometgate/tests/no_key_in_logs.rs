//! A sentinel REST key never appears in captured `tracing` output of failing calls, nor in the
//! `Debug`/`Display` of the config, the client or their errors.

use std::io::Write;
use std::sync::{Arc, Mutex};

use cometgate::client::{Client, NewUser};
use cometgate::retry::ManualTimer;
use cometgate::{Config, Region, Uid};
use tracing_subscriber::fmt::MakeWriter;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SENTINEL: &str = "SENTINELKEY0123456789abcdefSENTINEL";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn the_key_stays_out_of_logs_and_debug_output() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    // Every kind of failure: 5xx with retries, a 401 that echoes the key, a malformed body.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("oops {SENTINEL}")))
        .up_to_n_times(4)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_string(format!(
            r#"{{"error":{{"message":"The key {SENTINEL} does not exist","code":"AUTH_ERR_APIKEY_NOT_FOUND"}}}}"#
        )))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(format!("{{\"data\": \"{SENTINEL}\"}}")),
        )
        .mount(&server)
        .await;

    let config = Config::builder()
        .app_id("app")
        .region(Region::Eu)
        .rest_api_key(SENTINEL)
        .api_base(format!("{}/v3", server.uri()))
        .build()
        .unwrap();
    let client = Client::builder(config.clone())
        .timer(ManualTimer::new())
        .build()
        .unwrap();
    let uid = Uid::parse("alice").unwrap();
    let mut shown = vec![format!("{config:?}"), format!("{client:?}")];
    let errors = [
        client.create_auth_token(&uid).await.unwrap_err(),
        client.get_user(&uid).await.unwrap_err(),
        client
            .update_user(&uid, &cometgate::client::UserUpdate::new().name("x"))
            .await
            .unwrap_err(),
    ];
    for e in &errors {
        shown.push(format!("{e} | {e:?}"));
    }
    let unreachable = Client::builder(
        Config::builder()
            .app_id("app")
            .region(Region::Eu)
            .rest_api_key(SENTINEL)
            .api_base("http://127.0.0.1:9/v3")
            .build()
            .unwrap(),
    )
    .timer(ManualTimer::new())
    .build()
    .unwrap();
    let e = unreachable
        .create_user(&NewUser::new(uid, "A"))
        .await
        .unwrap_err();
    shown.push(format!("{e} | {e:?}"));

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("retrying CometChat call"),
        "the failing calls were logged: {logs}"
    );
    assert!(!logs.contains(SENTINEL), "{logs}");
    for s in shown {
        assert!(!s.contains(SENTINEL), "{s}");
    }
}
