//! The inventory CSV reader over arbitrary input (the fuzz target's logic), and over
//! real-looking CMMS exports.

use proptest::prelude::*;
use ward_assess::asset::merge_inventory;
use ward_assess::{parse_inventory_csv, Asset, AssetAttr, InventoryError};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn never_panics_on_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&data);
        let _ = parse_inventory_csv(&text);
    }

    #[test]
    fn never_panics_on_csvish_text(cells in proptest::collection::vec("[a-z0-9 ,\"\\n_.:-]{0,12}", 0..40)) {
        let text = format!("Vendor,MODEL,version,category,mac,ip\n{}", cells.join(","));
        if let Ok(rows) = parse_inventory_csv(&text) {
            for r in rows {
                prop_assert!(r.line >= 2);
            }
        }
    }
}

#[test]
fn header_only_and_empty() {
    assert_eq!(
        parse_inventory_csv("vendor,model\n").expect("header only"),
        vec![]
    );
    assert!(matches!(
        parse_inventory_csv(""),
        Err(InventoryError::NoHeader | InventoryError::NoKnownColumns)
    ));
}

#[test]
fn rows_merge_into_observed_devices_by_mac() {
    let mut assets = vec![Asset {
        id: "mac:00:09:fb:01:02:03".into(),
        name: "observed".into(),
        macs: vec!["00:09:fb:01:02:03".into()],
        vendor: Some(AssetAttr::new(
            "Philips",
            "dicom.manufacturer at capture.pcap",
        )),
        ..Asset::default()
    }];
    let rows = parse_inventory_csv(
        "mac,vendor,model,version,category,site\n\
         00-09-FB-01-02-03,Philips Medical,IntelliVue MX450,M.00.03,patient_monitor,ICU\n\
         ,BD,Alaris 8015,,infusion_pump,Ward 3\n",
    )
    .expect("valid");
    merge_inventory(&mut assets, &rows, "cmms.csv");
    assert_eq!(assets.len(), 2);
    let a = &assets[0];
    assert_eq!(
        a.vendor.as_ref().map(|v| v.evidence.as_str()),
        Some("dicom.manufacturer at capture.pcap"),
        "network evidence wins"
    );
    assert_eq!(
        a.model.as_ref().map(|v| v.evidence.as_str()),
        Some("cmms.csv line 2")
    );
    assert_eq!(a.site.as_deref(), Some("ICU"));
    assert_eq!(assets[1].id, "inv:line:3");
}
