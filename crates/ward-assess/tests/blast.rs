//! Blast radius over a small crafted network.

use ward_assess::blast::blast_radius;
use ward_assess::segment::{derive_policy, Flow};
use ward_assess::Asset;
use ward_identify::Category;
use ward_model::{Evidence, Timestamp};

fn flow(src: &str, dst: &str, port: u16) -> Flow {
    Flow {
        src: src.into(),
        src_ip: None,
        dst: dst.into(),
        dst_ip: None,
        transport: "tcp".into(),
        port,
        protocol: None,
        vlan: None,
        dst_external: false,
        first_seen: Default::default(),
        last_seen: Default::default(),
        evidence: Evidence {
            file: 0,
            packet: 1,
            ts: Timestamp(0),
            flow: None,
        },
    }
}

fn dev(id: &str, c: Category) -> Asset {
    Asset {
        id: id.into(),
        name: id.into(),
        category: Some(c),
        ..Asset::default()
    }
}

#[test]
fn reachable_within_hops_with_life_critical_and_clinical_it() {
    let assets = vec![
        dev("ws", Category::Workstation),
        dev("pacs", Category::Pacs),
        dev("modality", Category::CtScanner),
        dev("engine", Category::InterfaceEngine),
        dev("pump", Category::InfusionPump),
        dev("printer", Category::Printer),
    ];
    // ws -> pacs -> engine -> pump; modality -> pacs (pacs does not reach modality).
    let flows = vec![
        flow("ws", "pacs", 104),
        flow("modality", "pacs", 104),
        flow("pacs", "engine", 2575),
        flow("engine", "pump", 8443),
        flow("printer", "ws", 9100),
    ];
    let br = blast_radius("ws", &assets, &flows, None, 2);
    let nodes: Vec<(&str, u32)> = br
        .reached
        .iter()
        .map(|r| (r.node.as_str(), r.hops))
        .collect();
    assert_eq!(nodes, vec![("pacs", 1), ("engine", 2)]);
    assert_eq!(
        br.clinical_it,
        vec!["pacs".to_string(), "engine".to_string()]
    );
    assert!(br.life_critical.is_empty());
    let br3 = blast_radius("ws", &assets, &flows, None, 3);
    assert_eq!(br3.life_critical, vec!["pump".to_string()]);
    assert_eq!(
        br3.reached.last().map(|r| r.path.clone()),
        Some(vec!["pacs".into(), "engine".into(), "pump".into()])
    );
    // Over the policy learned from the same flows, with zones.
    let policy = derive_policy(&assets, &flows);
    let brp = blast_radius("ws", &assets, &[], Some(&policy), 3);
    assert_eq!(brp.reached.len(), 3);
    assert!(
        brp.zones.iter().any(|z| z.starts_with("life_sustaining/")),
        "{:?}",
        brp.zones
    );
}
