//! Integrity of imported files: the `.sha512` / `.sha256` checksum file and the OpenPGP
//! `.asc` detached signature that CSAF providers publish beside each document.
//!
//! Without the publisher's public key a signature cannot be verified (an OpenPGP
//! signature is checked with the signer's public key, which the signature itself does
//! not carry; it only names the issuer's key id / fingerprint). Ward then parses the
//! signature packet, records its issuer and reports `signature_present_key_unknown`,
//! claiming nothing about authenticity. With a keyring ([`Keyring::from_file`]) the
//! signature is verified fully, and a bad signature rejects the file.

use crate::error::IntelError;
use crate::model::{ChecksumStatus, SignatureStatus};
use sha2::{Digest, Sha256, Sha512};
use std::path::{Path, PathBuf};

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn sidecar(path: &Path, ext: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(ext);
    PathBuf::from(s)
}

/// Check `<file>.sha512` (or `.sha256`) if present. The checksum file holds the hex
/// digest, optionally followed by the file name (`sha512sum` format).
pub fn verify_checksum(path: &Path, bytes: &[u8]) -> Result<ChecksumStatus, IntelError> {
    let file = path.display().to_string();
    for (ext, alg) in [(".sha512", "SHA-512"), (".sha256", "SHA-256")] {
        let side = sidecar(path, ext);
        let Ok(raw) = std::fs::read(&side) else {
            continue;
        };
        let expected = expected_digest(&checksum_text(&raw));
        let actual = if alg == "SHA-512" {
            hex::encode(Sha512::digest(bytes))
        } else {
            sha256_hex(bytes)
        };
        if expected != actual {
            return Err(IntelError::Checksum {
                file,
                algorithm: alg.to_string(),
                expected,
                actual,
            });
        }
        return Ok(ChecksumStatus::Verified {
            algorithm: alg.to_string(),
        });
    }
    Ok(ChecksumStatus::NotPresent)
}

/// The text of a checksum file: UTF-8, or UTF-16 (with or without a byte-order mark;
/// some Windows tools write it) when the bytes hold NULs.
fn checksum_text(raw: &[u8]) -> String {
    if !raw.contains(&0) {
        return String::from_utf8_lossy(raw).into_owned();
    }
    let (body, big_endian) = match raw {
        [0xFF, 0xFE, rest @ ..] => (rest, false),
        [0xFE, 0xFF, rest @ ..] => (rest, true),
        [0, _, ..] => (raw, true),
        _ => (raw, false),
    };
    let units: Vec<u16> = body
        .chunks_exact(2)
        .map(|c| match c {
            [a, b] if big_endian => u16::from_be_bytes([*a, *b]),
            [a, b] => u16::from_le_bytes([*a, *b]),
            _ => 0,
        })
        .collect();
    String::from_utf16_lossy(&units)
}

/// The hex digest of a checksum file: the first word (`sha512sum` output), or, when
/// that is not a digest, all hex digits of the first line (some files space them out).
fn expected_digest(text: &str) -> String {
    let first = text.split_whitespace().next().unwrap_or("");
    if first.len() >= 64 && first.bytes().all(|b| b.is_ascii_hexdigit()) {
        return first.to_ascii_lowercase();
    }
    let line = text.lines().next().unwrap_or("");
    line.chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == ' ')
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Public keys to verify signatures with.
#[derive(Default, Clone)]
pub struct Keyring {
    #[cfg(feature = "openpgp")]
    keys: Vec<pgp::composed::SignedPublicKey>,
}

impl Keyring {
    /// An empty keyring: signatures are parsed but not verified.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Load an armored or binary OpenPGP keyring (one or more public keys).
    #[cfg(feature = "openpgp")]
    pub fn from_file(path: &Path) -> Result<Self, IntelError> {
        use pgp::composed::{Deserializable, SignedPublicKey};
        let bytes = std::fs::read(path).map_err(|source| IntelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file = path.display().to_string();
        let bad = |e: pgp::errors::Error| IntelError::Signature {
            file: file.clone(),
            message: format!("cannot read keyring: {e}"),
        };
        let mut keys = Vec::new();
        let text = std::str::from_utf8(&bytes)
            .ok()
            .filter(|t| t.trim_start().starts_with("-----BEGIN"));
        match text {
            Some(t) => {
                let (iter, _) = SignedPublicKey::from_string_many(t).map_err(bad)?;
                for k in iter {
                    keys.push(k.map_err(bad)?);
                }
            }
            None => {
                for k in SignedPublicKey::from_bytes_many(std::io::Cursor::new(&bytes[..]))
                    .map_err(bad)?
                {
                    keys.push(k.map_err(bad)?);
                }
            }
        }
        if keys.is_empty() {
            return Err(IntelError::Signature {
                file,
                message: "keyring holds no public key".into(),
            });
        }
        Ok(Keyring { keys })
    }

    pub fn is_empty(&self) -> bool {
        #[cfg(feature = "openpgp")]
        {
            self.keys.is_empty()
        }
        #[cfg(not(feature = "openpgp"))]
        {
            true
        }
    }
}

/// Check `<file>.asc` if present.
pub fn verify_signature(
    path: &Path,
    bytes: &[u8],
    keyring: &Keyring,
) -> Result<SignatureStatus, IntelError> {
    let side = sidecar(path, ".asc");
    let Ok(armored) = std::fs::read_to_string(&side) else {
        return Ok(SignatureStatus::NotPresent);
    };
    verify_detached(&armored, bytes, keyring, &side.display().to_string())
}

/// Verify an armored detached signature over `data`.
#[cfg(feature = "openpgp")]
pub fn verify_detached(
    armored: &str,
    data: &[u8],
    keyring: &Keyring,
    file: &str,
) -> Result<SignatureStatus, IntelError> {
    use pgp::composed::{Deserializable, StandaloneSignature};
    let bad = |m: String| IntelError::Signature {
        file: file.to_string(),
        message: m,
    };
    let (sig, _) = StandaloneSignature::from_string(armored)
        .map_err(|e| bad(format!("not an OpenPGP signature: {e}")))?;
    let issuer = sig
        .signature
        .issuer_fingerprint()
        .first()
        .map(|f| f.to_string())
        .or_else(|| {
            sig.signature
                .issuer()
                .first()
                .map(|k| hex::encode(k.as_ref()))
        })
        .unwrap_or_default();
    // Without the key, still check that the signature was made over exactly these
    // bytes: the packet stores the first 16 bits of the signed hash.
    if signed_hash_prefix_matches(&sig.signature, data) == Some(false) {
        return Err(bad(format!(
            "signature by {issuer} was not made over this file (signed hash differs)"
        )));
    }
    if keyring.keys.is_empty() {
        return Ok(SignatureStatus::SignaturePresentKeyUnknown { issuer });
    }
    for key in &keyring.keys {
        if sig.verify(&key.primary_key, data).is_ok() {
            return Ok(SignatureStatus::Verified { issuer });
        }
        for sub in &key.public_subkeys {
            if sig.verify(&sub.key, data).is_ok() {
                return Ok(SignatureStatus::Verified { issuer });
            }
        }
    }
    Err(bad(format!(
        "signature by {issuer} does not verify with any key of the keyring"
    )))
}

/// Recompute the hash a signature covers (data, hashed subpackets, trailer; as RFC 9580
/// section 5.2.4 and rpgp's `Signature::verify` do) and compare its first two bytes with
/// the "signed hash value" stored in the packet. `None` when the signature's version,
/// type or hash algorithm is not one this check handles. This proves the signature
/// belongs to these bytes, not who made it.
#[cfg(feature = "openpgp")]
fn signed_hash_prefix_matches(sig: &pgp::packet::Signature, data: &[u8]) -> Option<bool> {
    use pgp::packet::{SignatureType, SignatureVersionSpecific};

    let config = sig.config()?;
    let stored = sig.signed_hash_value()?;
    let mut hasher = config.hash_alg.new_hasher().ok()?;
    if let SignatureVersionSpecific::V6 { salt } = &config.version_specific {
        hasher.update(salt);
    }
    match config.typ {
        SignatureType::Binary => {
            config.hash_data_to_sign(&mut hasher, data).ok()?;
        }
        SignatureType::Text => {
            let normalized = pgp::normalize_lines::NormalizedReader::new(
                data,
                pgp::line_writer::LineBreak::Crlf,
            );
            config.hash_data_to_sign(&mut hasher, normalized).ok()?;
        }
        _ => return None,
    }
    let len = config.hash_signature_data(&mut hasher).ok()?;
    hasher.update(&config.trailer(len).ok()?);
    let digest = hasher.finalize();
    Some(digest.get(..2) == Some(&stored[..]))
}

/// Without OpenPGP support only the armor is checked.
#[cfg(not(feature = "openpgp"))]
pub fn verify_detached(
    armored: &str,
    _data: &[u8],
    _keyring: &Keyring,
    file: &str,
) -> Result<SignatureStatus, IntelError> {
    if !armored.contains("-----BEGIN PGP SIGNATURE-----") {
        return Err(IntelError::Signature {
            file: file.to_string(),
            message: "not an armored OpenPGP signature".into(),
        });
    }
    Ok(SignatureStatus::SignaturePresentKeyUnknown {
        issuer: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_checksum_files() {
        let h = "fa989ff3";
        let le: Vec<u8> = h.bytes().flat_map(|b| [b, 0]).collect();
        assert_eq!(checksum_text(&le), h);
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(h.bytes().flat_map(|b| [0, b]))
            .collect();
        assert_eq!(checksum_text(&be), h);
        assert_eq!(checksum_text(b"ab cd"), "ab cd");
    }

    #[test]
    fn checksum_file_forms() {
        let h = "ab".repeat(32);
        assert_eq!(expected_digest(&format!("{h}  file.json\n")), h);
        let spaced: String = h.chars().flat_map(|c| [c, ' ']).collect();
        assert_eq!(expected_digest(&format!("{spaced}\n")), h);
    }
}
