//! Encryption of personal data at rest (resident id numbers).
//!
//! XChaCha20-Poly1305 with a random 192-bit nonce per value: nonces never
//! repeat in practice, and the tag detects any change to the stored value.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

/// The key that protects personal data. Never logged (`Debug` hides it).
#[derive(Clone)]
pub struct DataKey(XChaCha20Poly1305);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the data key must be 32 bytes, base64-encoded")]
    Malformed,
    #[error("stored ciphertext could not be decrypted with this key")]
    Decrypt,
}

impl DataKey {
    /// A key from its base64 text form (32 bytes).
    pub fn from_base64(text: &str) -> Result<DataKey, KeyError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| KeyError::Malformed)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Malformed)?;
        Ok(DataKey(XChaCha20Poly1305::new(&key.into())))
    }

    /// A fresh random key in base64, for `opcity` to write on first start.
    pub fn generate_base64() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        STANDARD.encode(key)
    }

    pub fn encrypt(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .0
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory data");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        STANDARD.encode(out)
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, KeyError> {
        let bytes = STANDARD.decode(stored).map_err(|_| KeyError::Decrypt)?;
        if bytes.len() < 24 {
            return Err(KeyError::Decrypt);
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let plain = self
            .0
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| KeyError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| KeyError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_tampering() {
        let key = DataKey::from_base64(&DataKey::generate_base64()).unwrap();
        let stored = key.encrypt("11010519491231002X");
        assert!(!stored.contains("1949"));
        assert_eq!(key.decrypt(&stored).unwrap(), "11010519491231002X");
        let mut bytes = STANDARD.decode(&stored).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        assert!(key.decrypt(&STANDARD.encode(bytes)).is_err());
        let other = DataKey::from_base64(&DataKey::generate_base64()).unwrap();
        assert!(other.decrypt(&stored).is_err());
        assert!(DataKey::from_base64("c2hvcnQ=").is_err());
    }
}
