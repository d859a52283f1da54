#![cfg(feature = "openpgp")]
//! Signature and checksum handling: a keyring enables full OpenPGP verification; a
//! tampered file or a wrong key is rejected; a bad checksum rejects the import.
//! The key is generated here (CISA's public key is not in the corpus).

mod common;
use pgp::composed::{
    ArmorOptions, KeyType, SecretKeyParamsBuilder, SignedSecretKey, StandaloneSignature,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::types::{KeyDetails, Password};
use rand::SeedableRng;
use std::path::Path;
use ward_intel::{IntelDb, IntelError, Keyring, SignatureStatus};

fn key(seed: u64, who: &str) -> SignedSecretKey {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let params = SecretKeyParamsBuilder::default()
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id(who.into())
        .build()
        .expect("key params");
    params
        .generate(&mut rng)
        .expect("generate")
        .sign(&mut rng, &Password::empty())
        .expect("self-sign")
}

fn sign(key: &SignedSecretKey, data: &[u8]) -> String {
    let mut cfg = SignatureConfig::v4(
        SignatureType::Binary,
        key.algorithm(),
        HashAlgorithm::Sha256,
    );
    cfg.hashed_subpackets = vec![
        Subpacket::regular(SubpacketData::SignatureCreationTime(chrono::Utc::now()))
            .expect("subpacket"),
        Subpacket::regular(SubpacketData::IssuerFingerprint(key.fingerprint())).expect("subpacket"),
    ];
    let sig = cfg
        .sign(&key.primary_key, &Password::empty(), data)
        .expect("sign");
    StandaloneSignature::new(sig)
        .to_armored_string(ArmorOptions::default())
        .expect("armor")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write temp file");
    p
}

#[test]
fn keyring_enables_full_verification() {
    let corpus = common::dir("cisa-csaf-icsma/dev");
    let data = common::read(&corpus.join("icsma-20-254-01.json"));
    let tmp = tempfile::tempdir().expect("tempdir");
    let signer = key(1, "Publisher <psirt@example.com>");
    let other = key(2, "Someone Else <x@example.com>");
    let doc = write(tmp.path(), "adv.json", &data);
    write(tmp.path(), "adv.json.asc", sign(&signer, &data).as_bytes());
    let ring = write(
        tmp.path(),
        "ring.asc",
        signer
            .signed_public_key()
            .to_armored_string(ArmorOptions::default())
            .expect("armor")
            .as_bytes(),
    );
    let wrong_ring = write(
        tmp.path(),
        "wrong.asc",
        other
            .signed_public_key()
            .to_armored_string(ArmorOptions::default())
            .expect("armor")
            .as_bytes(),
    );

    // No keyring: present, not verified.
    let mut db = IntelDb::new();
    db.import_file(&doc).expect("imports without a keyring");
    assert!(matches!(
        db.advisories()[0].provenance.signature,
        SignatureStatus::SignaturePresentKeyUnknown { .. }
    ));

    // The signer's key: verified.
    let mut db = IntelDb::new().with_keyring(Keyring::from_file(&ring).expect("keyring"));
    db.import_file(&doc).expect("verified import");
    match &db.advisories()[0].provenance.signature {
        SignatureStatus::Verified { issuer } => {
            assert_eq!(issuer, &signer.fingerprint().to_string())
        }
        other => panic!("expected Verified, got {other:?}"),
    }

    // Another key: rejected, nothing imported.
    let mut db = IntelDb::new().with_keyring(Keyring::from_file(&wrong_ring).expect("keyring"));
    assert!(matches!(
        db.import_file(&doc),
        Err(IntelError::Signature { .. })
    ));
    assert!(
        db.advisories().is_empty(),
        "a rejected file leaves nothing behind"
    );

    // Tampered content with the right key: rejected.
    let mut tampered = data.clone();
    if let Some(b) = tampered.iter_mut().find(|b| **b == b'a') {
        *b = b'b';
    }
    let tdoc = write(tmp.path(), "t.json", &tampered);
    write(tmp.path(), "t.json.asc", sign(&signer, &data).as_bytes());
    let mut db = IntelDb::new().with_keyring(Keyring::from_file(&ring).expect("keyring"));
    assert!(matches!(
        db.import_file(&tdoc),
        Err(IntelError::Signature { .. })
    ));
}

#[test]
fn cisa_signatures_parse_and_name_their_issuer() {
    let corpus = common::dir("cisa-csaf-icsma/dev");
    let mut issuers = std::collections::BTreeSet::new();
    for f in common::files(&corpus, ".json") {
        let asc = std::fs::read_to_string(format!("{}.asc", f.display()))
            .expect(".asc beside each CISA file");
        let status = ward_intel::signature::verify_detached(
            &asc,
            &common::read(&f),
            &Keyring::empty(),
            &common::name(&f),
        )
        .expect("signature packet parses");
        match status {
            SignatureStatus::SignaturePresentKeyUnknown { issuer } => {
                issuers.insert(issuer);
            }
            other => panic!("{}: {other:?}", common::name(&f)),
        }
    }
    assert!(
        !issuers.is_empty() && issuers.len() <= 3,
        "CISA signs with few keys: {issuers:?}"
    );
}

/// Without CISA's key, the signature still has to belong to the bytes: the 16-bit signed
/// hash prefix of each real CISA signature matches its advisory, and changing one byte of
/// an advisory makes its real signature fail.
#[test]
fn cisa_signatures_cover_their_files_and_reject_a_changed_byte() {
    let corpus = common::dir("cisa-csaf-icsma/dev");
    let mut rejected = 0;
    for f in common::files(&corpus, ".json") {
        let asc = std::fs::read_to_string(format!("{}.asc", f.display())).expect(".asc");
        let mut data = common::read(&f);
        // Flip one letter inside the JSON (the first 'a' after the opening brace).
        let i = data
            .iter()
            .position(|&b| b == b'a')
            .expect("a letter to change");
        data[i] = b'b';
        let r = ward_intel::signature::verify_detached(
            &asc,
            &data,
            &Keyring::empty(),
            &common::name(&f),
        );
        match r {
            Err(IntelError::Signature { message, .. }) => {
                assert!(message.contains("not made over this file"), "{message}");
                rejected += 1;
            }
            other => panic!("{}: changed file must fail: {other:?}", common::name(&f)),
        }
    }
    assert_eq!(rejected, 25);
}

/// A real checksum file that does not match its document: spdx-examples example12 has a
/// UTF-16 `.sha256` (spaced digits) whose digest is not the JSON file's. Import rejects
/// it and names both digests in full.
#[test]
fn spdx_example_with_a_wrong_utf16_checksum_is_rejected() {
    let f = common::dir("spdx-examples/dev/software/example12/spdx2.2").join("hello-src.spdx.json");
    let mut db = IntelDb::new();
    match db.import_file(&f) {
        Err(IntelError::Checksum {
            algorithm,
            expected,
            actual,
            ..
        }) => {
            assert_eq!(algorithm, "SHA-256");
            assert_eq!(
                expected,
                "fa989ff3a309718e7b938d799e7320b1682a6e6217d091a61b26bfff5aec7a47"
            );
            assert_eq!(actual, ward_intel::signature::sha256_hex(&common::read(&f)));
        }
        other => panic!("{}: {other:?}", f.display()),
    }
}

#[test]
fn checksum_mismatch_rejects_the_file() {
    let corpus = common::dir("cisa-csaf-icsma/dev");
    let data = common::read(&corpus.join("icsma-20-254-01.json"));
    let sha = common::read(&corpus.join("icsma-20-254-01.json.sha512"));
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut changed = data.clone();
    changed.push(b'\n');
    let doc = write(tmp.path(), "icsma-20-254-01.json", &changed);
    write(tmp.path(), "icsma-20-254-01.json.sha512", &sha);
    let mut db = IntelDb::new();
    let err = db.import_file(&doc).expect_err("checksum mismatch");
    assert!(matches!(err, IntelError::Checksum { .. }), "{err}");
    assert!(db.advisories().is_empty());
}
