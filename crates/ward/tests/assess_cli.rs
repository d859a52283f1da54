//! End-to-end tests of `ward assess` over the shared corpus (../shared/data): an inventory
//! CSV against the ICSMA advisories and KEV, a hospital VEX file as input, the three VEX
//! exports, `--explain`; and on a generated hospital capture split in two, the policy
//! exports, violations and `--blast`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        p.join("cisa-csaf-icsma").is_dir(),
        "the shared test corpus is required at {} (CI provides ../shared beside the repository)",
        p.display()
    );
    p
}

fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .env("WARD_LOG", "warn")
        .output()
        .expect("run ward")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

const INVENTORY: &str = "Serial,Vendor,Model,Version,Category,Site,Asset tag\n\
isp-001,Philips,IntelliSpace Portal,8.0.3,pacs,Radiology,A-17\n\
dcm-001,OFFIS,DCMTK,3.6.6,pacs,Radiology,A-18\n\
pump-001,Smiths Medical,Medfusion 4000,1.5,infusion_pump,ICU,A-19\n\
lamp-001,Philips Lighting,Hue Bridge,2.0,,Lobby,A-20\n";

/// The hospital's statement, CycloneDX VEX: EternalBlue on the portal is mitigated.
const HOSPITAL_VEX: &str = r#"{
  "bomFormat": "CycloneDX",
  "specVersion": "1.6",
  "version": 1,
  "vulnerabilities": [{
    "id": "CVE-2017-0144",
    "analysis": {
      "state": "not_affected",
      "justification": "protected_by_mitigating_control",
      "detail": "SMBv1 disabled; TCP 445 blocked at the radiology zone boundary"
    },
    "affects": [{"ref": "urn:ward:device:inv:serial:isp-001"}]
  }]
}"#;

#[test]
fn assess_inventory_with_local_vex_and_vex_exports() {
    let root = corpus();
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("cmms.csv");
    std::fs::write(&inv, INVENTORY).expect("write inventory");
    let hv = dir.path().join("hospital.cdx.json");
    std::fs::write(&hv, HOSPITAL_VEX).expect("write vex");
    let (cdx, ovx, csaf) = (
        dir.path().join("out.cdx.json"),
        dir.path().join("out.openvex.json"),
        dir.path().join("out-csaf-vex.json"),
    );
    let icsma = root.join("cisa-csaf-icsma/dev");
    let kev = root.join("cisa-kev/dev/known_exploited_vulnerabilities_2025-01-24.json");
    let out = ward(&[
        "assess",
        "--inventory",
        &s(&inv),
        "--intel",
        &s(&icsma),
        "--intel",
        &s(&kev),
        "--local-vex",
        &s(&hv),
        "--export",
        &format!("cyclonedx-vex={}", s(&cdx)),
        "--export",
        &format!("openvex={}", s(&ovx)),
        "--export",
        &format!("csaf-vex={}", s(&csaf)),
        "--publisher",
        "Example Hospital,https://hospital.example",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("names no finding"),
        "the hospital statement names a finding: {}",
        text(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    let findings = v["findings"].as_array().expect("findings");
    let on = |asset: &str| -> Vec<&serde_json::Value> {
        findings
            .iter()
            .filter(|f| f["finding"]["asset_id"] == asset)
            .collect()
    };
    assert_eq!(
        on("inv:serial:isp-001").len(),
        35,
        "ICSMA-18-058-02: 35 CVEs"
    );
    assert_eq!(on("inv:serial:dcm-001").len(), 3, "ICSMA-22-174-01: 3 CVEs");
    assert_eq!(
        on("inv:serial:pump-001").len(),
        8,
        "ICSMA-17-250-02A: 8 CVEs"
    );
    assert!(
        on("inv:serial:lamp-001").is_empty(),
        "Philips Lighting is not Philips"
    );
    let eb = findings
        .iter()
        .find(|f| f["finding"]["vulnerability"] == "CVE-2017-0144")
        .expect("CVE-2017-0144");
    assert_eq!(eb["finding"]["vex"]["status"], "not_affected");
    assert_eq!(eb["finding"]["vex"]["source"], "local");
    assert_eq!(
        eb["finding"]["vex"]["justification"],
        "protected_by_mitigating_control"
    );
    assert_eq!(eb["risk"]["tier"], "closed");
    // The other EternalBlue CVEs stay open and KEV-listed.
    let eb3 = findings
        .iter()
        .find(|f| f["finding"]["vulnerability"] == "CVE-2017-0143")
        .expect("CVE-2017-0143");
    assert!(eb3["finding"]["vex"].is_null());
    assert_eq!(eb3["exploitation"]["kev"], true);

    // Exports: the one hospital statement in each format.
    let cdx_doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cdx).expect("cdx export")).expect("cdx json");
    let vulns = cdx_doc["vulnerabilities"].as_array().expect("vulns");
    assert_eq!(vulns.len(), 1);
    assert_eq!(vulns[0]["id"], "CVE-2017-0144");
    assert_eq!(
        vulns[0]["analysis"]["justification"],
        "protected_by_mitigating_control"
    );
    let ovx_doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&ovx).expect("openvex export")).expect("json");
    let st = ovx_doc["statements"].as_array().expect("statements");
    assert_eq!(st.len(), 1);
    assert_eq!(st[0]["status"], "not_affected");
    assert_eq!(st[0]["justification"], "inline_mitigations_already_exist");
    assert_eq!(ovx_doc["author"], "Example Hospital");
    // The CSAF VEX passes Ward's CSAF validator (`ward intel validate`).
    let val = ward(&["intel", "validate", &s(&csaf)]);
    assert!(
        val.status.success(),
        "exported CSAF VEX fails validation:\n{}{}",
        text(&val.stdout),
        text(&val.stderr)
    );

    // --explain shows the chain down to the hospital's justification.
    let id = eb["finding"]["id"].as_str().expect("id");
    let ex = ward(&[
        "assess",
        "--inventory",
        &s(&inv),
        "--intel",
        &s(&icsma),
        "--local-vex",
        &s(&hv),
        "--explain",
        id,
    ]);
    assert!(ex.status.success(), "{}", text(&ex.stderr));
    let t = text(&ex.stdout);
    assert!(t.contains("ICSMA-18-058-02"), "{t}");
    assert!(
        t.contains("justification protected_by_mitigating_control"),
        "{t}"
    );
    assert!(t.contains("cmms.csv line 2"), "evidence of the match: {t}");
    assert!(t.contains("risk:"), "{t}");

    // A statement about a device that is not there is reported, not silently dropped.
    let stray = dir.path().join("stray.cdx.json");
    std::fs::write(
        &stray,
        HOSPITAL_VEX.replace("inv:serial:isp-001", "inv:serial:isp-999"),
    )
    .expect("write");
    let out = ward(&[
        "assess",
        "--inventory",
        &s(&inv),
        "--intel",
        &s(&icsma),
        "--local-vex",
        &s(&stray),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(
            "local VEX statement names no finding: CVE-2017-0144 on urn:ward:device:inv:serial:isp-999"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn assess_bad_export_kind_and_missing_local_vex_fail_clearly() {
    let out = ward(&["assess", "--inventory", "x.csv", "--export", "pdf=out.pdf"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown export kind"),
        "{}",
        text(&out.stderr)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("cmms.csv");
    std::fs::write(&inv, INVENTORY).expect("write");
    let missing = dir.path().join("nope.json");
    let out = ward(&[
        "assess",
        "--inventory",
        &s(&inv),
        "--local-vex",
        &s(&missing),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("nope.json"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn assess_baseline_policy_exports_violations_and_blast() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (
        dir.path().join("first.pcap"),
        dir.path().join("second.pcap"),
    );
    let cfg = ward_bench::GenConfig {
        seed: 13,
        target_bytes: 3 << 20,
        devices: 40,
        impairment_rate: 0.0,
        ..ward_bench::GenConfig::default()
    };
    let (_s1, _s2, injected) = ward_bench::generate_split(&cfg, &a, &b).expect("generate");
    let (pj, nft, acl, viol) = (
        dir.path().join("policy.json"),
        dir.path().join("policy.nft"),
        dir.path().join("policy.acl"),
        dir.path().join("violations.json"),
    );
    let out = ward(&[
        "assess",
        "--baseline",
        &s(&a),
        "--capture",
        &s(&b),
        "--export",
        &format!("policy-json={}", s(&pj)),
        "--export",
        &format!("policy-nft={}", s(&nft)),
        "--export",
        &format!("policy-acl={}", s(&acl)),
        "--export",
        &format!("violations={}", s(&viol)),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("POLICY VIOLATIONS"), "{table}");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&viol).expect("violations")).expect("json");
    let v = v.as_array().expect("array");
    assert_eq!(v.len(), 1, "only the injected flow: {v:#?}");
    assert_eq!(v[0]["kind"], "policy_violation");
    assert_eq!(v[0]["subject"]["ip"], injected.client_ip.to_string());
    assert_eq!(v[0]["peer"]["ip"], injected.server_ip.to_string());
    let p: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&pj).expect("policy")).expect("json");
    assert_eq!(p["default"], "deny");
    assert!(!p["conduits"].as_array().expect("conduits").is_empty());
    assert!(std::fs::read_to_string(&nft)
        .expect("nft")
        .contains("policy drop;"));
    assert!(std::fs::read_to_string(&acl)
        .expect("acl")
        .ends_with("deny ip any any log\n"));

    // Without a baseline the policy is the traffic's own: nothing violates it.
    let out = ward(&["assess", "--capture", &s(&b), "--export", "violations=-"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("[]"), "{}", text(&out.stdout));

    // Blast radius of the injected client (by IP), over baseline and policy.
    let client = injected.client_ip.to_string();
    let out = ward(&[
        "assess",
        "--baseline",
        &s(&a),
        "--capture",
        &s(&b),
        "--blast",
        &client,
        "--hops",
        "2",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let br: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(br["max_hops"], 2);
    let reached = br["reached"].as_array().expect("reached");
    assert!(!reached.is_empty(), "the client reaches something");
    assert!(reached
        .iter()
        .all(|r| (1..=2).contains(&r["hops"].as_u64().unwrap_or(0))));
    let out = ward(&["assess", "--capture", &s(&b), "--blast", "no-such-device"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn assess_never_outputs_planted_patient_data() {
    let root = corpus();
    let caps = root.join("clinical-captures");
    let planted = std::fs::read_dir(&caps)
        .unwrap_or_else(|e| panic!("reading {}: {e}", caps.display()))
        .filter_map(|e| e.ok())
        .filter(|e| std::fs::read(e.path()).is_ok_and(|b| b.windows(6).any(|w| w == b"CANARY")))
        .count();
    assert!(
        planted > 0,
        "the clinical captures must contain the planted canaries"
    );
    let hl7 = root.join("pcaps/dev/ndpi__hl7.pcap");
    let icsma = root.join("cisa-csaf-icsma/dev");
    let dir = tempfile::tempdir().expect("tempdir");
    let canaries: [&[u8]; 2] = [b"CANARY^PHI^TEST", b"CANARY-123456"];
    let check = |what: &str, bytes: &[u8]| {
        for c in canaries {
            assert!(
                !bytes.windows(c.len()).any(|w| w == c),
                "{} in {what}",
                String::from_utf8_lossy(c)
            );
        }
    };
    for format in ["table", "json", "csv"] {
        let exports: Vec<String> = [
            "policy-json",
            "policy-nft",
            "policy-acl",
            "violations",
            "openvex",
            "cyclonedx-vex",
            "csaf-vex",
        ]
        .iter()
        .map(|k| format!("{k}={}", s(&dir.path().join(format!("{format}-{k}.out")))))
        .collect();
        let mut args: Vec<&str> = vec![
            "assess",
            "--capture",
            caps.to_str().expect("utf-8 path"),
            "--capture",
            hl7.to_str().expect("utf-8 path"),
            "--intel",
            icsma.to_str().expect("utf-8 path"),
            "--format",
            format,
        ];
        for e in &exports {
            args.push("--export");
            args.push(e);
        }
        let out = ward(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        check(&format!("{format} stdout"), &out.stdout);
        check(&format!("{format} stderr"), &out.stderr);
    }
    for e in std::fs::read_dir(dir.path()).expect("read exports") {
        let p = e.expect("entry").path();
        check(&s(&p), &std::fs::read(&p).expect("read export"));
    }
}
