//! FIRST EPSS daily CSV: a `#model_version:...,score_date:...` comment line, then
//! `cve,epss,percentile` rows. Older files have no comment line; the date then comes
//! from the caller (e.g. the file name) or stays unknown.

use crate::error::IntelError;
use crate::model::{EpssScore, EpssSnapshot};

/// Is this the start of an EPSS file?
pub fn looks_like_epss(text: &str) -> bool {
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("");
    first.starts_with("#model_version:") || first.trim() == "cve,epss,percentile"
}

pub fn read(bytes: &[u8], file: &str) -> Result<EpssSnapshot, IntelError> {
    let err = |line: usize, msg: String| IntelError::Line {
        file: file.to_string(),
        line,
        message: msg,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| err(1, "not UTF-8".into()))?;
    let mut snap = EpssSnapshot::default();
    let mut header_seen = false;
    for (i, raw) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        if let Some(meta) = line.strip_prefix('#') {
            for kv in meta.split(',') {
                match kv.split_once(':') {
                    Some(("model_version", v)) => snap.model_version = Some(v.trim().to_string()),
                    Some(("score_date", v)) => {
                        let d = v.trim().get(..10).unwrap_or("");
                        if !is_date(d) {
                            return Err(err(n, format!("score_date {v:?} is not a date")));
                        }
                        snap.score_date = d.to_string();
                    }
                    _ => {}
                }
            }
            continue;
        }
        if !header_seen {
            if line.trim() != "cve,epss,percentile" {
                return Err(err(n, "expected the header cve,epss,percentile".into()));
            }
            header_seen = true;
            continue;
        }
        let mut parts = line.split(',');
        let (Some(cve), Some(score), Some(pct), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err(n, "expected three columns".into()));
        };
        if !crate::csaf::validate::cve_pattern_ok(cve) {
            return Err(err(n, format!("{cve:?} is not a CVE id")));
        }
        let p = |s: &str, what: &str| -> Result<f64, IntelError> {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| (0.0..=1.0).contains(x))
                .ok_or_else(|| err(n, format!("{what} {s:?} is not a probability")))
        };
        snap.scores.push(EpssScore {
            cve: cve.to_string(),
            score: p(score, "epss")?,
            percentile: p(pct, "percentile")?,
            date: String::new(),
            model_version: snap.model_version.clone(),
        });
    }
    if !header_seen {
        return Err(err(1, "no cve,epss,percentile header".into()));
    }
    for s in &mut snap.scores {
        s.date = snap.score_date.clone();
    }
    Ok(snap)
}

fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_header_and_rows() {
        let csv = "#model_version:v2023.03.01,score_date:2024-05-01T00:00:00+0000\ncve,epss,percentile\nCVE-2017-0144,0.97565,0.99996\nCVE-2020-1938,0.97467,0.99963\n";
        let s = read(csv.as_bytes(), "t.csv").expect("valid EPSS");
        assert_eq!(s.score_date, "2024-05-01");
        assert_eq!(s.model_version.as_deref(), Some("v2023.03.01"));
        assert_eq!(s.scores.len(), 2);
        assert_eq!(s.scores[1].cve, "CVE-2020-1938");
        assert!((s.scores[0].percentile - 0.99996).abs() < 1e-9);
        assert!(read(b"cve,epss,percentile\nCVE-1,2,3\n", "t").is_err());
        assert!(read(b"cve,epss,percentile\nCVE-2020-0001,1.5,0.1\n", "t").is_err());
    }
}
