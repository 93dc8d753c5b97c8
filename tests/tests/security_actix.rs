//! The shared suite (security properties and the endpoint's HTTP contract) against the
//! actix-web adapter, as a middleware in front of an actix `App`.

use std::net::SocketAddr;

use actix_web::{App, HttpRequest, HttpServer, web};
use cometgate::Identity;
use cometgate::endpoint::Endpoint;
use cometgate_actix::TokenEndpoint;
use cometgate_conformance::{Adapter, echo, security_suite};

struct Actix;

async fn echo_handler(request: HttpRequest, body: web::Bytes) -> Vec<u8> {
    let target = request.uri().path_and_query().map_or("", |p| p.as_str());
    let x_echo = request.headers().get("x-echo").map(|v| v.as_bytes());
    echo(request.method().as_str(), target, x_echo, &body)
}

impl Adapter for Actix {
    const NAME: &'static str = "actix";

    async fn serve<I: Identity>(endpoint: Endpoint<I>) -> SocketAddr {
        let endpoint = TokenEndpoint::from_endpoint(endpoint);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        // actix-web's requests are `!Send`: the server future runs on the suite's tokio runtime
        // and serves on its own worker threads (each with a current-thread runtime). They end
        // with the test process; signals stay with the test harness.
        let server = HttpServer::new(move || {
            App::new()
                // The echo route may see bodies far over the endpoint's limit.
                .app_data(web::PayloadConfig::new(1 << 20))
                .route("/todos", web::get().to(|| async { "[]" }))
                .default_service(web::to(echo_handler))
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
