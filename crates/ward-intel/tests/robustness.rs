//! Random and mutated inputs for the CVSS, CPE, purl/vers and version-range parsers: the
//! same invariant checks the fuzz targets in `fuzz/fuzz_targets/` run, exercised by proptest
//! on stable Rust (no panic, no hang, printing round-trips, comparison antisymmetric).

use proptest::prelude::*;
use ward_intel::{cpe, cvss, purl, version};

/// Valid seeds that mutations start from, so that inputs get deep into each parser.
const SEEDS: &[&str] = &[
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/CR:H/MAV:A/MS:C",
    "CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:N",
    "AV:N/AC:M/Au:S/C:C/I:P/A:N/E:POC/RL:W/RC:UC/CDP:LM/TD:M/CR:L/IR:L/AR:L",
    "(AV:N/AC:L/Au:N/C:P/I:P/A:P)",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A/MSI:S/S:P/U:Amber",
    "cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*",
    r"cpe:2.3:a:foo\\bar:big\$money_2010:*:*:*:*:special:ipod_touch:80gb:*",
    "cpe:2.3:o:microsoft:windows_7:*:sp?:*:*:*:*:*:*",
    "cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~",
    "cpe:/a:foo%5cbar:big%24money:%01%01",
    "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar#sub/path",
    "pkg:npm/%40angular/core@1.0.0",
    "pkg:pypi/Django_REST@3.1",
    "vers:npm/>=1.0.0|<2.0.0|!=1.5.0",
    "vers:deb/>=1:1.0-1|<1:2.0~rc1",
    "vers:all/*",
    "<= 12.2.x.x",
    ">= 2.0 | <= 3.0\n2.5\n3.0.1",
    "v6.x (with Wireless Battery Modules v9 | >= v20D29 | <= v20D32)\n6.1\nv20D30",
    "versions prior to 2.0\n1.9.9\n2.0",
    "<= 3.5 SP1\n3.5 SP2\n9.1.1",
    "1.0.0-alpha.1\n1.0.0-alpha.beta\n1.0~rc1-1",
    ">= 12.10.0, < 12.10.2\n12.10.1\n12.9",
    "2.1 and prior\n0:2.13.3-3.el8_6.1\n1!2.0.post1.dev3+local.7",
    "1.0 through 2.0\nunspecified\n3.6.7",
];

fn check_all(s: &str) {
    cvss::check_invariants(s);
    cpe::check_invariants(s);
    purl::check_invariants(s);
    version::check_invariants(s);
}

/// A seed with up to 8 random edits (insert, delete or replace a character).
fn mutated() -> impl Strategy<Value = String> {
    let edit = (any::<usize>(), 0u8..3, prop::char::any());
    (0..SEEDS.len(), prop::collection::vec(edit, 0..8)).prop_map(|(i, edits)| {
        let mut chars: Vec<char> = SEEDS[i].chars().collect();
        for (pos, op, c) in edits {
            let at = if chars.is_empty() {
                0
            } else {
                pos % (chars.len() + 1)
            };
            match op {
                0 => chars.insert(at, c),
                1 if at < chars.len() => {
                    chars.remove(at);
                }
                _ if at < chars.len() => chars[at] = c,
                _ => chars.push(c),
            }
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        check_all(&s);
    }

    #[test]
    fn mutated_seeds_keep_invariants(s in mutated()) {
        check_all(&s);
    }

    #[test]
    fn metric_shaped_strings(s in "(CVSS:(2\\.0|3\\.[01]|4\\.0)/)?([A-Z][A-Za-z]{0,2}:[A-Za-z]{1,5}/){0,14}[A-Z]{1,2}:[A-Z]{1,3}") {
        cvss::check_invariants(&s);
    }

    #[test]
    fn cpe_shaped_strings(s in "cpe:(2\\.3:[aoh*](:[a-z0-9_.*?\\\\:-]{0,6}){8,12}|/[aoh]?(:[a-z0-9%~._-]{0,6}){0,8})") {
        cpe::check_invariants(&s);
    }

    #[test]
    fn version_shaped_strings(
        a in "[vV]?[0-9]{1,3}([._~^:+-][0-9a-z]{1,4}){0,5}",
        b in "[vV]?[0-9]{1,3}([._~^:+-][0-9a-z]{1,4}){0,5}",
        c in "[vV]?[0-9]{1,3}([._~^:+-][0-9a-z]{1,4}){0,5}",
    ) {
        for scheme in version::ALL_SCHEMES {
            // Transitivity where all three are ordered.
            if let (Some(ab), Some(bc), Some(ac)) = (
                version::compare(scheme, &a, &b),
                version::compare(scheme, &b, &c),
                version::compare(scheme, &a, &c),
            ) {
                use std::cmp::Ordering::*;
                if ab != Greater && bc != Greater {
                    prop_assert!(ac != Greater, "{scheme}: {a} <= {b} <= {c} but {a} > {c}");
                }
                if ab != Less && bc != Less {
                    prop_assert!(ac != Less, "{scheme}: {a} >= {b} >= {c} but {a} < {c}");
                }
            }
        }
        version::check_invariants(&format!("<= {b}\n{a}\n{c}"));
        version::check_invariants(&format!("vers:generic/>={a}|<{b}\n{c}\n{a}"));
    }
}

/// A very long input is refused quickly, not parsed.
#[test]
fn long_inputs_are_refused() {
    let long = "A".repeat(100_000);
    assert!(cvss::parse(&long).is_err());
    assert!(cpe::Cpe::parse(&format!("cpe:2.3:{long}")).is_err());
    assert!(purl::Purl::parse(&format!("pkg:npm/{long}")).is_err());
    assert!(version::parse_predicate(&long).is_err());
    assert_eq!(
        version::compare(version::VersionScheme::Generic, &long, "1"),
        None
    );
}
