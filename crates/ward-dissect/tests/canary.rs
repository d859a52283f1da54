//! Privacy guarantee: the planted canary patient data of `clinical-captures` (and the
//! nDPI HL7 capture) never appears in anything the dissectors produce: the whole
//! `DissectOutput` as JSON and as Debug text, and every log line at trace level.

// Tests unwrap freely: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;

const CANARIES: [&str; 3] = ["CANARY^PHI^TEST", "CANARY-123456", "CANARY"];

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn canary_patient_data_never_leaves_the_dissectors() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let mut files = common::clinical_captures();
    files.push(common::corpus("pcaps/dev/ndpi__hl7.pcap"));
    let mut planted = 0;
    tracing::subscriber::with_default(subscriber, || {
        for path in &files {
            let raw = std::fs::read(path).unwrap();
            if contains(&raw, "CANARY") {
                planted += 1;
            }
            let out = common::dissect(path);
            assert!(
                !out.observations.is_empty(),
                "{}: the dissectors produced observations",
                path.display()
            );
            let json = serde_json::to_string(&out).unwrap();
            let debug = format!("{out:?}");
            for c in CANARIES {
                assert!(
                    !json.contains(c),
                    "{}: {c} in the JSON output",
                    path.display()
                );
                assert!(
                    !debug.contains(c),
                    "{}: {c} in the Debug output",
                    path.display()
                );
            }
        }
    });
    assert!(
        planted >= 4,
        "only {planted} captures carry the canary: test would prove nothing"
    );
    let logs = logs.0.lock().unwrap();
    for c in CANARIES {
        assert!(!contains(&logs, c), "{c} in the trace-level logs");
    }
}
