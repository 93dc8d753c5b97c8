//! [`Names`]: what stands for a device in Redis. The core's
//! [`DeviceKey`](cometgate::device::DeviceKey) is an unkeyed hash, so anyone reading Redis could
//! test a guessed device id against it; the store writes `HMAC-SHA256(subkey, device key)`
//! instead, which only a holder of `COMETGATE_STORE_KEY` can compute.
//!
//! The subkey comes from the store key, so a rotation renames every device: each script is
//! given the name under the previous key too and moves a device found under it (see
//! `scripts::RESOLVE`), so a rotation never loses a device's token.

use cometgate::device::DeviceKey;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};

use crate::key::StoreKey;

const LABEL: &str = "cometgate-redis device names v1";

/// Keyed names of devices under the current key and, after a rotation, the previous one.
pub(crate) struct Names {
    current: SecretBox<[u8; 32]>,
    previous: Option<SecretBox<[u8; 32]>>,
}

/// A device's field name under the current key and under the previous one (empty without a
/// previous key).
pub(crate) struct DeviceName {
    pub(crate) current: String,
    pub(crate) previous: String,
}

impl Names {
    pub(crate) fn new(current: &StoreKey, previous: Option<&StoreKey>) -> Self {
        Self {
            current: current.derive(LABEL),
            previous: previous.map(|k| k.derive(LABEL)),
        }
    }

    pub(crate) fn device(&self, device: DeviceKey) -> DeviceName {
        DeviceName {
            current: name(&self.current, device),
            previous: self
                .previous
                .as_ref()
                .map(|k| name(k, device))
                .unwrap_or_default(),
        }
    }
}

/// 128 bits of the HMAC in hex: collisions would have to happen among one user's own devices.
fn name(key: &SecretBox<[u8; 32]>, device: DeviceKey) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.expose_secret())
        .expect("HMAC takes a key of any length");
    mac.update(&device.to_bytes());
    data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use cometgate::DeviceId;

    #[test]
    fn names_are_keyed_and_change_with_the_key() {
        let (old, new) = (StoreKey::generate(), StoreKey::generate());
        let device = DeviceId::parse("install-1").unwrap().key();
        let before = Names::new(&old, None).device(device);
        assert_eq!(before.previous, "");
        assert_eq!(before.current.len(), 32);
        let plain = data_encoding::HEXLOWER.encode(&device.to_bytes());
        assert_ne!(before.current, plain, "not the unkeyed device key");
        let rotated = Names::new(&new, Some(&old)).device(device);
        assert_eq!(rotated.previous, before.current);
        assert_ne!(rotated.current, before.current);
        let other = DeviceId::parse("install-2").unwrap().key();
        assert_ne!(Names::new(&old, None).device(other).current, before.current);
    }
}
