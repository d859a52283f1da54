//! Prints every observation and security observation Ward's dissectors find in capture
//! files: `cargo run -p ward-dissect --example dump_facts -- FILE...`.

use std::path::PathBuf;
use ward_capture::{analyze_files, CaptureConfig};
use ward_dissect::{DissectOutput, Engine};

fn main() {
    let files: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    match analyze_files(
        &files,
        &CaptureConfig::default(),
        1,
        |_| Engine::default(),
        &|_| {},
    ) {
        Ok((engines, _stats)) => {
            let mut out = DissectOutput::default();
            for e in engines {
                out.merge(e.finish());
            }
            for o in &out.observations {
                println!("{}\t{}\t{}\t(x{})", o.subject, o.key, o.value, o.count);
            }
            for s in &out.security {
                println!("SECURITY {}\t{}\t{}", s.kind, s.subject, s.detail);
            }
            for e in &out.edges {
                println!(
                    "EDGE {} -> {} {}/{} {:?}",
                    e.client, e.server, e.transport, e.server_port, e.protocol
                );
            }
        }
        Err(e) => eprintln!("error: {e}"),
    }
}
