//! The security property suite against the actix-web adapter.

use std::net::SocketAddr;

use actix_web::{App, HttpServer, web};
use cometgate::vend::Gate;
use cometgate_actix::TokenEndpoint;
use cometgate_conformance::{Adapter, security_suite};
use cometgate_jwt::JwtIdentity;

struct Actix;

impl Adapter for Actix {
    const NAME: &'static str = "actix";

    async fn serve(gate: Gate<JwtIdentity>) -> SocketAddr {
        let endpoint = TokenEndpoint::new(gate);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        // actix-web's requests are `!Send`: the server future runs on the suite's tokio runtime
        // and serves on its own worker threads (each with a current-thread runtime). They end
        // with the test process; signals stay with the test harness.
        let server = HttpServer::new(move || {
            App::new()
                .route("/todos", web::get().to(|| async { "[]" }))
                .wrap(endpoint.clone())
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .expect("listen on loopback")
        .run();
        tokio::spawn(server);
        addr
    }
}

security_suite!(Actix);
