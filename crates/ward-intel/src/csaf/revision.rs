//! CSAF document version numbers (integer or semantic versioning) and RFC 3339
//! date-times, as the revision-history tests (6.1.14 to 6.1.22, 6.1.30) need them.

use std::cmp::Ordering;

/// A `document.tracking.version` or revision `number`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocVersion {
    Integer(u64),
    Semver {
        major: u64,
        minor: u64,
        patch: u64,
        pre: Vec<String>,
        build: Option<String>,
    },
}

impl DocVersion {
    /// Parse per the CSAF `version_t` pattern; `None` if it matches neither form.
    pub fn parse(s: &str) -> Option<Self> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            if s.len() > 1 && s.starts_with('0') {
                return None;
            }
            return s.parse().ok().map(DocVersion::Integer);
        }
        let (rest, build) = match s.split_once('+') {
            Some((r, b)) => {
                if b.is_empty() || !b.split('.').all(ident_ok) {
                    return None;
                }
                (r, Some(b.to_string()))
            }
            None => (s, None),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => {
                let ids: Vec<&str> = p.split('.').collect();
                if p.is_empty() || !ids.iter().all(|i| ident_ok(i) && numeric_ok(i)) {
                    return None;
                }
                (c, ids.into_iter().map(str::to_string).collect())
            }
            None => (rest, Vec::new()),
        };
        let mut parts = core.split('.');
        let mut num = || -> Option<u64> {
            let p = parts.next()?;
            if p.is_empty()
                || !p.bytes().all(|b| b.is_ascii_digit())
                || (p.len() > 1 && p.starts_with('0'))
            {
                return None;
            }
            p.parse().ok()
        };
        let (major, minor, patch) = (num()?, num()?, num()?);
        if parts.next().is_some() {
            return None;
        }
        Some(DocVersion::Semver {
            major,
            minor,
            patch,
            pre,
            build,
        })
    }

    pub fn is_integer(&self) -> bool {
        matches!(self, DocVersion::Integer(_))
    }
    pub fn major(&self) -> u64 {
        match self {
            DocVersion::Integer(n) => *n,
            DocVersion::Semver { major, .. } => *major,
        }
    }
    pub fn has_pre_release(&self) -> bool {
        matches!(self, DocVersion::Semver { pre, .. } if !pre.is_empty())
    }
    /// `0` or `0.y.z`: a version that was never released.
    pub fn is_zero(&self) -> bool {
        self.major() == 0
    }
    /// The same version without build metadata (and without pre-release if asked).
    pub fn stripped(&self, drop_pre: bool) -> DocVersion {
        match self {
            DocVersion::Integer(n) => DocVersion::Integer(*n),
            DocVersion::Semver {
                major,
                minor,
                patch,
                pre,
                ..
            } => DocVersion::Semver {
                major: *major,
                minor: *minor,
                patch: *patch,
                pre: if drop_pre { Vec::new() } else { pre.clone() },
                build: None,
            },
        }
    }
}

fn ident_ok(i: &str) -> bool {
    !i.is_empty() && i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
fn numeric_ok(i: &str) -> bool {
    !(i.len() > 1 && i.starts_with('0') && i.bytes().all(|b| b.is_ascii_digit()))
}

impl PartialOrd for DocVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DocVersion {
    /// Semantic-versioning precedence; integers sort before semvers (a mix is itself
    /// an error, 6.1.30). Build metadata does not count.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (DocVersion::Integer(a), DocVersion::Integer(b)) => a.cmp(b),
            (DocVersion::Integer(_), _) => Ordering::Less,
            (_, DocVersion::Integer(_)) => Ordering::Greater,
            (
                DocVersion::Semver {
                    major: a1,
                    minor: a2,
                    patch: a3,
                    pre: ap,
                    ..
                },
                DocVersion::Semver {
                    major: b1,
                    minor: b2,
                    patch: b3,
                    pre: bp,
                    ..
                },
            ) => (a1, a2, a3)
                .cmp(&(b1, b2, b3))
                .then_with(|| cmp_pre(ap, bp)),
        }
    }
}

fn cmp_pre(a: &[String], b: &[String]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    for (x, y) in a.iter().zip(b.iter()) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// An RFC 3339 date-time as (seconds since the epoch, nanoseconds), UTC.
pub fn parse_datetime(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (h, mi, se) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start).min(9)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hh = i64::from(h1.wrapping_sub(b'0')) * 10 + i64::from(h2.wrapping_sub(b'0'));
            let mm = i64::from(m1.wrapping_sub(b'0')) * 10 + i64::from(m2.wrapping_sub(b'0'));
            if ![h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) || hh > 23 || mm > 59 {
                return None;
            }
            let o = hh * 3600 + mm * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 + se - offset, nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        let v = |s| DocVersion::parse(s).unwrap_or(DocVersion::Integer(u64::MAX));
        assert!(v("1") < v("2"));
        assert!(v("1.0.0-alpha") < v("1.0.0"));
        assert!(v("1.0.0-alpha.1") < v("1.0.0-alpha.beta"));
        assert!(v("1.0.0-2") < v("1.0.0-10"));
        assert_eq!(v("1.0.0+b1").stripped(false), v("1.0.0"));
        assert!(DocVersion::parse("01").is_none());
        assert!(DocVersion::parse("1.0").is_none());
        assert!(DocVersion::parse("1.0.0-01").is_none());
        assert!(DocVersion::parse("").is_none());
    }

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(parse_datetime("1970-01-01T01:00:00+01:00"), Some((0, 0)));
        assert_eq!(
            parse_datetime("2019-10-01T00:00:00.000000Z").map(|x| x.0),
            Some(1_569_888_000)
        );
        assert!(parse_datetime("2019-10-01").is_none());
        assert!(parse_datetime("2019-13-01T00:00:00Z").is_none());
    }
}
