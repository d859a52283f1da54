//! The IEEE registry as installed by Debian's `ieee-data` package, and the OUI
//! organizations recorded in the clinical capture truth files.

use std::path::{Path, PathBuf};
use ward_identify::OuiRegistry;
use ward_model::MacAddr;

fn registry() -> OuiRegistry {
    let dir = Path::new(ward_identify::DEFAULT_IEEE_DATA_DIR);
    OuiRegistry::load_dir(dir).unwrap_or_else(|e| {
        panic!(
            "these tests need the IEEE registry in {}: run `apt-get install -y ieee-data` \
             ({e})",
            dir.display()
        )
    })
}

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.join("clinical-captures").is_dir(),
        "the test corpus is required at {} (clinical-captures missing)",
        p.display()
    );
    p
}

fn org(reg: &OuiRegistry, mac: &str) -> String {
    let m: MacAddr = mac.parse().expect("mac");
    reg.lookup(&m)
        .map(|e| e.organization.to_string())
        .unwrap_or_else(|| panic!("no registry entry for {mac}"))
}

#[test]
fn known_prefixes_of_every_block() {
    let reg = registry();
    assert!(reg.len() > 40_000, "only {} entries", reg.len());
    // MA-L (oui.txt).
    assert_eq!(org(&reg, "00:1b:21:12:34:56"), "Intel Corporate");
    assert_eq!(org(&reg, "44:4b:5d:91:e6:a4"), "GE Healthcare");
    assert_eq!(org(&reg, "00:10:5d:6f:df:53"), "Draeger Medical");
    assert_eq!(org(&reg, "00:09:fb:4d:3b:a9"), "Philips Patient Monitoring");
    let e = reg
        .lookup(&"00:1b:21:00:00:00".parse().expect("mac"))
        .expect("entry");
    assert_eq!((e.bits, &*e.registry), (24, "MA-L"));
    // MA-S (oui36.txt): 70-B3-D5 F2F000-F2FFFF TELEPLATFORMS.
    let e = reg
        .lookup(&"70:b3:d5:f2:f0:01".parse().expect("mac"))
        .expect("entry");
    assert_eq!((&*e.organization, e.bits), ("TELEPLATFORMS", 36));
    // MA-M (mam.txt): 20-85-93 B00000-BFFFFF IOG Products LLC.
    let e = reg
        .lookup(&"20:85:93:b1:22:33".parse().expect("mac"))
        .expect("entry");
    assert_eq!((&*e.organization, e.bits), ("IOG Products LLC", 28));
}

#[test]
fn truth_file_oui_organizations_are_reproduced() {
    let reg = registry();
    let dir = corpus().join("clinical-captures");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("read clinical-captures") {
        let path = entry.expect("entry").path();
        if !path.to_string_lossy().ends_with(".truth.json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read truth");
        let truth: serde_json::Value = serde_json::from_str(&text).expect("truth json");
        for ep in truth["endpoints"].as_array().into_iter().flatten() {
            let (Some(mac), Some(expected)) = (ep["mac"].as_str(), ep["oui_organization"].as_str())
            else {
                continue;
            };
            assert_eq!(
                org(&reg, mac),
                expected,
                "{}: OUI organization of {mac}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} endpoints checked");
}

/// The registry parser (which jumps between markers instead of splitting lines) gives the
/// same entries as a plain line-by-line reading of the installed files.
#[test]
fn every_entry_matches_a_line_by_line_reading() {
    let reg = registry();
    let dir = Path::new(ward_identify::DEFAULT_IEEE_DATA_DIR);
    let mut reference: std::collections::HashMap<(u8, u64), String> = Default::default();
    for (name, _) in ward_identify::oui::REGISTRY_FILES {
        let Ok(bytes) = std::fs::read(dir.join(name)) else {
            assert_ne!(*name, "oui.txt", "oui.txt is required");
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let mut pending: Option<u64> = None;
        for line in text.lines() {
            if let Some((head, _)) = line.split_once("(hex)") {
                let hex: String = head.trim().chars().filter(|c| *c != '-').collect();
                pending = Some(u64::from_str_radix(&hex, 16).expect("hex prefix"));
            } else if let Some((head, org)) = line.split_once("(base 16)") {
                let oui24 = pending.take().expect("(hex) before (base 16)");
                let head = head.trim();
                let (bits, prefix) = match head.split_once('-') {
                    None => (24u8, oui24),
                    Some((a, b)) => {
                        let a = u64::from_str_radix(a.trim(), 16).expect("range start");
                        let b = u64::from_str_radix(b.trim(), 16).expect("range end");
                        let low = (b - a + 1).trailing_zeros();
                        ((48 - low) as u8, (oui24 << (24 - low)) | (a >> low))
                    }
                };
                reference.insert((bits, prefix), org.trim().to_string());
            }
        }
    }
    assert_eq!(reg.len(), reference.len(), "entry count");
    let mut checked = 0usize;
    for ((bits, prefix), org) in &reference {
        let v = prefix << (48 - u32::from(*bits));
        let b = v.to_be_bytes();
        let mac = MacAddr([b[2], b[3], b[4], b[5], b[6], b[7]]);
        if mac.is_local() || mac.is_group() {
            continue;
        }
        let e = reg
            .lookup(&mac)
            .unwrap_or_else(|| panic!("no entry for {bits}-bit prefix {prefix:x}"));
        if e.bits != *bits {
            // A longer assignment inside this block covers the probe address.
            assert!(
                e.bits > *bits,
                "{bits}-bit prefix {prefix:x}: got {}",
                e.bits
            );
            assert_eq!(
                reference.get(&(e.bits, e.prefix)).map(String::as_str),
                Some(&*e.organization)
            );
            continue;
        }
        assert_eq!(
            (e.prefix, &*e.organization),
            (*prefix, org.as_str()),
            "{bits}-bit prefix {prefix:x}"
        );
        checked += 1;
    }
    assert!(checked > 40_000, "only {checked} entries checked");
}
