// Shared by the adapters' doc examples (pulled in with a hidden
// `include!("../../cometgate/doc_stub.rs")`); not compiled into any crate.
//
// `DemoIdentity` identifies `Authorization: Bearer <user>` as `<user>`. The gates use readable
// UIDs so that examples can show them; real apps usually keep the default encoded mapping.

struct DemoIdentity;

impl cometgate::Identity for DemoIdentity {
    type Credentials = String;

    fn extract<R: cometgate::RequestView + ?Sized>(
        &self,
        request: &R,
    ) -> Result<String, cometgate::Rejection> {
        request
            .header_str("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned)
            .ok_or(cometgate::Rejection::Missing)
    }

    async fn verify(&self, user: String) -> Result<cometgate::Principal, cometgate::Rejection> {
        Ok(cometgate::Principal::new("https://myapp.example", user))
    }
}

/// A gate in front of an embedded `cometchat-fake` (keep the fake alive while using the gate).
#[allow(dead_code)]
async fn demo_gate() -> (cometchat_fake::FakeCometChat, cometgate::Gate<DemoIdentity>) {
    let fake = cometchat_fake::FakeCometChat::start().await;
    let config = cometgate::Config::builder()
        .app_id(fake.app_id())
        .region(fake.region().parse().unwrap())
        .rest_api_key(fake.api_key())
        .api_base(fake.base_url())
        .build()
        .unwrap();
    let gate = cometgate::Gate::builder()
        .config(config)
        .identity(DemoIdentity)
        .uid_mapper(cometgate::UidMapper::shared_namespace(cometgate::UidMapping::Readable))
        .build()
        .unwrap();
    (fake, gate)
}

/// A gate builder pointing at a CometChat it never calls in these examples.
#[allow(dead_code)]
fn offline_builder() -> cometgate::GateBuilder {
    let config = cometgate::Config::builder()
        .app_id("demo")
        .region(cometgate::Region::Us)
        .rest_api_key("0123456789abcdef")
        .build()
        .unwrap();
    cometgate::Gate::builder().config(config)
}

/// A gate without an identity (for extractor-based layers).
#[allow(dead_code)]
fn offline_gate() -> cometgate::Gate {
    offline_builder().build().unwrap()
}

/// A gate with the demo identity.
#[allow(dead_code)]
fn offline_demo_gate() -> cometgate::Gate<DemoIdentity> {
    offline_builder().identity(DemoIdentity).build().unwrap()
}
