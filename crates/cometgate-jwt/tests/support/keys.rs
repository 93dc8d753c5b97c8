//! Signing keys generated per test (RSA 2048 and P-256, with aws-lc-rs) and their public JWKs.
//! Shared by the cometgate-jwt tests and `cargo xtask bench` (included there by path).
#![allow(dead_code)] // each user needs a part

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use data_encoding::{BASE64, BASE64URL_NOPAD};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// A private signing key and its public JWK.
pub struct SigningKey {
    pub kid: String,
    pub alg: Algorithm,
    encoding: EncodingKey,
    /// The public key, as a JWKS entry (with `kid`, `alg`, `use`).
    pub jwk: Value,
    /// The public key's bytes as an attacker would find them (the JWK's `n` or `x`, decoded):
    /// what an HS256 key-confusion token is signed with.
    pub public_bytes: Vec<u8>,
}

impl SigningKey {
    /// A fresh RSA 2048 key for RS256.
    pub fn rsa(kid: &str) -> Self {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .expect("RSA key generation");
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).expect("PKCS#8");
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            BASE64.encode(der.as_ref())
        );
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA PEM");
        Self::finish(kid, Algorithm::RS256, encoding, "n")
    }

    /// A fresh P-256 key for ES256.
    pub fn p256(kid: &str) -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .expect("P-256 key generation");
        let encoding = EncodingKey::from_ec_der(pkcs8.as_ref());
        Self::finish(kid, Algorithm::ES256, encoding, "x")
    }

    fn finish(kid: &str, alg: Algorithm, encoding: EncodingKey, public_part: &str) -> Self {
        let mut jwk = Jwk::from_encoding_key(&encoding, alg).expect("public JWK");
        jwk.common.key_id = Some(kid.to_owned());
        let mut jwk = serde_json::to_value(&jwk).expect("JWK to JSON");
        jwk["use"] = json!("sig");
        let public_bytes = BASE64URL_NOPAD
            .decode(jwk[public_part].as_str().unwrap_or_default().as_bytes())
            .unwrap_or_default();
        Self {
            kid: kid.to_owned(),
            alg,
            encoding,
            jwk,
            public_bytes,
        }
    }

    /// The header this key signs with: its algorithm and `kid`.
    pub fn header(&self) -> Header {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        header
    }

    /// Signs `claims` with this key, `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with(self.header(), claims)
    }

    /// Signs `claims` with this key and the given header.
    pub fn sign_with(&self, header: Header, claims: &Value) -> String {
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing")
    }
}
