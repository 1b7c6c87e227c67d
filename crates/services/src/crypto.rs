//! Encryption of personal data at rest (resident id numbers).
//!
//! XChaCha20-Poly1305 with a random 192-bit nonce per value: nonces never
//! repeat in practice, and the tag detects any change to the stored value.
//!
//! What a search needs is a keyed hash, not clear parts of the value:
//! [`DataKey::search_hash`] is HMAC-SHA256 under a search key derived from
//! the data key (HMAC-SHA256 of a fixed label under the data key, so the two
//! uses never share a key). Without the data key a stored hash can neither be
//! reversed nor checked against guesses (an id number has few enough
//! candidates that a plain hash would be).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{KeyInit as _, Mac};
use rand::RngCore;

type HmacSha256 = hmac::Hmac<sha2_hmac::Sha256>;

/// The label the search key is derived under (a new label, a new key).
const SEARCH_LABEL: &[u8] = b"opcity/resident-id-search/v1";

/// The key that protects personal data. Never logged (`Debug` hides it).
#[derive(Clone)]
pub struct DataKey {
    cipher: XChaCha20Poly1305,
    /// The HMAC key of [`DataKey::search_hash`], derived from the data key.
    search: HmacSha256,
}

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
        let mut derive = HmacSha256::new_from_slice(&key).expect("HMAC takes keys of any length");
        derive.update(SEARCH_LABEL);
        let search_key = derive.finalize().into_bytes();
        Ok(DataKey {
            cipher: XChaCha20Poly1305::new(&key.into()),
            search: HmacSha256::new_from_slice(&search_key).expect("HMAC takes keys of any length"),
        })
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
            .cipher
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
            .cipher
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| KeyError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| KeyError::Decrypt)
    }

    /// The keyed hash (HMAC-SHA256 under the search key, hex) that finds a
    /// value by exact match without storing any part of it in clear.
    pub fn search_hash(&self, value: &str) -> String {
        let mut mac = self.search.clone();
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
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

    /// HMAC-SHA256(HMAC-SHA256(0³², label), "11010519491231002X"), computed
    /// independently (Python's `hmac`).
    const KNOWN_ZERO_KEY_HASH: &str =
        "3f5cf3b0c73568067783345e7b0458f9a6bf38fcf8be71f8b82c20791e124307";

    #[test]
    fn search_hash_is_keyed_and_stable() {
        let text = DataKey::generate_base64();
        let key = DataKey::from_base64(&text).unwrap();
        let hash = key.search_hash("11010519491231002X");
        assert_eq!(hash.len(), 64);
        assert_eq!(
            hash,
            DataKey::from_base64(&text)
                .unwrap()
                .search_hash("11010519491231002X")
        );
        assert_ne!(hash, key.search_hash("11010519491231003X"));
        let other = DataKey::from_base64(&DataKey::generate_base64()).unwrap();
        assert_ne!(hash, other.search_hash("11010519491231002X"));
        // Not the plain hash, which anyone could compute for every candidate.
        use sha2::Digest;
        assert_ne!(
            hash,
            hex::encode(sha2::Sha256::digest(b"11010519491231002X"))
        );
        // A known answer, so the derivation cannot change unnoticed (stored
        // hashes would stop matching): the all-zero key.
        let zero = DataKey::from_base64(&STANDARD.encode([0u8; 32])).unwrap();
        assert_eq!(zero.search_hash("11010519491231002X"), KNOWN_ZERO_KEY_HASH);
    }
}
