//! Ward never transmits: no source file of this crate calls a libpcap transmit function
//! (`sendpacket`, `inject`) or `send(` on a capture handle. See `src/live.rs` for why the
//! live handle has no send method in the first place.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_transmit_call_in_sources() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("live.rs")),
        "live.rs must be scanned"
    );
    // Built from pieces so this test file itself never contains the patterns.
    let forbidden = [
        format!("{}{}", "sendpa", "cket"),
        format!("{}{}", "pcap_in", "ject"),
        format!("{}{}", ".inj", "ect("),
        format!("{}{}", "cap.se", "nd("),
        format!("{}{}", "handle.se", "nd("),
        format!("{}{}", "capture.se", "nd("),
    ];
    for f in &files {
        let text = std::fs::read_to_string(f).expect("source readable");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for pat in &forbidden {
                assert!(
                    !code.contains(pat.as_str()),
                    "{}:{}: transmit call `{pat}` found: {line}",
                    f.display(),
                    n + 1
                );
            }
        }
    }
    // The live module must convert the handle to the send-less type.
    let live = std::fs::read_to_string(src.join("live.rs")).expect("live.rs readable");
    assert!(
        live.contains("Capture<dyn Activated> = active.into()"),
        "live.rs must drop the send-capable Capture<Active> type right after opening"
    );
}
