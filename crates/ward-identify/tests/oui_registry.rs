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
