//! python-astm's codec vectors (`shared/data/astm-python-astm`): framing, checksums and
//! record splitting give the expected results; invalid frames give errors.

// Tests unwrap freely: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use std::path::Path;
use ward_capture::Direction;
use ward_dissect::proto::astm::{
    checksum, decode_frame, parse_frame, split_record, AstmParser, Delimiters,
};
use ward_dissect::Facts;

fn vectors() -> Vec<Value> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/astm-python-astm/dev/astm_codec_vectors.json");
    let bytes = std::fs::read(&p)
        .unwrap_or_else(|e| panic!("the test corpus at {} is required: {e}", p.display()));
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    v["vectors"].as_array().unwrap().clone()
}

/// python-astm's record decoding: empty field -> null, repeats -> list of component
/// lists, components -> list.
fn decode_record(rec: &[u8]) -> Value {
    let d = Delimiters::default();
    let txt = |b: &[u8]| Value::String(String::from_utf8_lossy(b).into_owned());
    let comps = |b: &[u8]| Value::Array(b.split(|c| *c == d.component).map(txt).collect());
    Value::Array(
        split_record(rec, d)
            .map(|f| {
                if f.is_empty() {
                    Value::Null
                } else if f.contains(&d.repeat) {
                    Value::Array(f.split(|c| *c == d.repeat).map(comps).collect())
                } else if f.contains(&d.component) {
                    comps(f)
                } else {
                    txt(f)
                }
            })
            .collect(),
    )
}

#[test]
fn python_astm_vectors() {
    let mut n = 0;
    for v in vectors() {
        let kind = v["kind"].as_str().unwrap();
        let input = v["input"].as_str().unwrap().as_bytes().to_vec();
        let expect = &v["expect"];
        let ctx = format!("astm_codec_vectors.json {kind} {:?}", v["input"]);
        match kind {
            "decode_message" => {
                let f = parse_frame(&input).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                assert_eq!(
                    u64::from(f.number),
                    expect["seq"].as_u64().unwrap(),
                    "{ctx}"
                );
                let recs: Vec<Value> = f
                    .text
                    .split(|c| *c == b'\r')
                    .filter(|r| !r.is_empty())
                    .map(decode_record)
                    .collect();
                assert_eq!(Value::Array(recs), expect["records"], "{ctx}");
                let body = &input[1..input.len() - 4];
                assert_eq!(
                    format!("{:02X}", checksum(body)),
                    expect["checksum"].as_str().unwrap(),
                    "{ctx}"
                );
            }
            "decode_message_bad_checksum" | "decode_message_invalid" => {
                let e = parse_frame(&input).expect_err(&ctx);
                assert!(e.to_string().contains("frame at byte"), "{ctx}: {e}");
            }
            "decode_frame" => {
                let f = decode_frame(&input).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                let recs: Vec<Value> = f
                    .text
                    .split(|c| *c == b'\r')
                    .filter(|r| !r.is_empty())
                    .map(decode_record)
                    .collect();
                assert_eq!(Value::Array(recs), expect["records"], "{ctx}");
            }
            "decode_frame_invalid" => {
                decode_frame(&input).expect_err(&ctx);
            }
            "decode_record" => {
                assert_eq!(&decode_record(&input), expect, "{ctx}");
            }
            "checksum" => {
                assert_eq!(json!(format!("{:02X}", checksum(&input))), *expect, "{ctx}");
            }
            other => panic!("{ctx}: unknown vector kind {other}"),
        }
        n += 1;
        // The stream parser survives every vector and its byte-flipped copies.
        for i in 0..input.len() {
            let mut b = input.clone();
            b[i] ^= 0x41;
            let mut f = Facts::default();
            AstmParser::new().feed(Direction::ToServer, &b, &mut f);
        }
    }
    assert!(n >= 10, "ran {n} vectors");
}
