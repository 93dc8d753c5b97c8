//! Building a provider makes this crate's backend jsonwebtoken's process default, so that an app
//! where feature unification turns on jsonwebtoken's other backend too (which leaves it with
//! none, panicking on the first token) still verifies. One test per binary: the default is
//! process-wide and set once.

#[cfg(feature = "aws-lc-rs")]
use jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER as OURS;
#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER as OURS;

#[test]
fn building_a_provider_installs_our_backend_as_the_process_default() {
    cometgate_jwt::Firebase::new("p").build().unwrap();
    let installed = OURS
        .install_default()
        .expect_err("a provider was built, so a default is already installed");
    assert!(
        std::ptr::eq(installed, &OURS),
        "the installed default is this crate's backend"
    );
}
