//! Malformed input never panics: truncated and mutated versions of corpus files of every
//! format go through detection and the readers, and errors name the file. The same
//! entry point (`read_document`) is the `intel_detect` fuzz target.

mod common;
use common::*;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};

fn samples() -> Vec<(String, Vec<u8>)> {
    let c = corpus();
    let list = [
        "cisa-csaf-icsma/dev/icsma-18-058-02.json",
        "cisa-csaf-icsma/dev/icsma-19-274-01.json",
        "oasis-csaf/dev/examples/2022-evd-uc-01-na-001.json",
        "cyclonedx-bom-examples/dev/SBOM/dropwizard-1.3.15/bom.xml",
        "cyclonedx-bom-examples/dev/VEX/Use-Cases/Case-8/vex.json",
        "medical-device-sbom-spacelab/dev/narrow.sbom.json",
        "spdx-spec-examples/dev/SPDXJSONExample-v2.3.spdx.json",
        "spdx-spec-examples/dev/SPDXTagExample-v2.3.spdx",
        "spdx-spec-examples/dev/SPDXYAMLExample-2.3.spdx.yaml",
        "spdx-spec-examples/dev/spdx3-package_sbom.jsonld.json",
        "openvex-go-vex/dev/vex__v0.2.0.json",
        "openvex-go-vex/dev/vex__v0.0.1.json",
        "osv-schema/dev/osv/CVE-2018-5407.json",
        "cvelistV5-records/dev/CVE-2024-1275.json",
    ];
    let mut out: Vec<(String, Vec<u8>)> = list
        .iter()
        .map(|p| (p.to_string(), read(&c.join(p))))
        .collect();
    // The KEV catalog, cut to its first 40 KB at a line end, keeps the loop fast.
    let kev = read(&c.join("cisa-kev/dev/known_exploited_vulnerabilities_2025-01-24.csv"));
    let cut = kev
        .iter()
        .take(40_000)
        .rposition(|b| *b == b'\n')
        .unwrap_or(0);
    out.push(("kev-head.csv".into(), kev[..cut + 1].to_vec()));
    out.push((
        "epss.csv".into(),
        b"#model_version:v2023.03.01,score_date:2024-05-01T00:00:00+0000\ncve,epss,percentile\nCVE-2017-0144,0.97565,0.99996\n".to_vec(),
    ));
    out
}

fn check(name: &str, bytes: &[u8]) {
    if let Err(e) = ward_intel::read_document(bytes, name) {
        let msg = e.to_string();
        assert!(msg.contains(name), "error must name the file {name}: {msg}");
    }
}

#[test]
fn every_sample_reads_whole() {
    for (name, bytes) in samples() {
        ward_intel::read_document(&bytes, &name)
            .unwrap_or_else(|e| panic!("{name} must read: {e}"));
    }
}

#[test]
fn truncated_files_fail_cleanly() {
    for (name, bytes) in samples() {
        let n = bytes.len();
        let mut cuts: Vec<usize> = vec![
            0,
            1,
            2,
            n / 7,
            n / 3,
            n / 2,
            n * 2 / 3,
            n.saturating_sub(2),
            n.saturating_sub(1),
        ];
        cuts.extend((1..20).map(|i| n * i / 20));
        for cut in cuts {
            check(&name, &bytes[..cut.min(n)]);
        }
        // A truncated JSON document is an error with a line number, never a success.
        if bytes.first() == Some(&b'{') {
            let e = ward_intel::read_document(&bytes[..n / 2], &name)
                .expect_err("half a JSON document is an error");
            assert!(
                matches!(e, ward_intel::IntelError::Json { line, .. } if line > 0),
                "{name}: {e}"
            );
        }
    }
}

#[test]
fn mutated_files_never_panic() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed);
    let interesting: &[&[u8]] = &[
        b"\"",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"null",
        b"-1",
        b"1e999",
        b"\xff",
        b"<",
        b">",
        b"\n",
        b"\"\\u0000\"",
        b"[[[[[[[[[[",
    ];
    for (name, bytes) in samples() {
        for _ in 0..60 {
            let mut m = bytes.clone();
            for _ in 0..rng.gen_range(1..4) {
                if m.is_empty() {
                    break;
                }
                let at = rng.gen_range(0..m.len());
                match rng.gen_range(0..4) {
                    0 => m[at] = rng.gen(),
                    1 => {
                        m.remove(at);
                    }
                    2 => {
                        let ins = interesting[rng.gen_range(0..interesting.len())];
                        m.splice(at..at, ins.iter().copied());
                    }
                    _ => {
                        let end = (at + rng.gen_range(1..64)).min(m.len());
                        m.drain(at..end);
                    }
                }
            }
            check(&name, &m);
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "{{\"document\":{{\"csaf_version\":\"2.0\"}},\"product_tree\":{}{}",
        "{\"branches\":[".repeat(5000),
        "]}".repeat(5000)
    );
    assert!(ward_intel::read_document(deep.as_bytes(), "deep.json").is_err());
    let xml = format!(
        "<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\"><components>{}{}</components></bom>",
        "<component type=\"library\"><name>a</name><components>".repeat(2000),
        "</components></component>".repeat(2000)
    );
    assert!(ward_intel::read_document(xml.as_bytes(), "deep.xml").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check("arbitrary", &bytes);
    }

    #[test]
    fn arbitrary_text_with_format_headers_never_panics(head in 0usize..6, body in "[ -~\n]{0,300}") {
        let prefix = ["{\"document\":{\"csaf_version\":\"2.0\",", "SPDXVersion: SPDX-2.3\n", "cveID,vendorProject,product\n", "#model_version:x,score_date:2024-01-01\ncve,epss,percentile\n", "<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\">", "{\"bomFormat\":\"CycloneDX\","][head];
        let doc = format!("{prefix}{body}");
        check("headed", doc.as_bytes());
    }
}
