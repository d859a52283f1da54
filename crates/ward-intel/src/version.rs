//! Version ordering and the version predicates advisories write.
//!
//! Two jobs:
//! - [`compare`] orders two version strings under a [`VersionScheme`] (semver, the
//!   dotted-numeric vendor firmware versions of medical devices, Debian, RPM, PEP 440,
//!   Maven). It returns `None` when the strings cannot be ordered under that scheme, never
//!   a guess.
//! - [`parse_predicate`] reads what advisories really write for "affected versions":
//!   exact versions, `vers:` ranges (purl-spec VERS), CSAF `product_version_range` values and
//!   the free-form English forms CISA uses ("<= 4.1", "All versions", "4.4.x",
//!   "versions prior to 2.0", "2.1 and prior", ...). [`VersionPredicate::contains`] answers
//!   `Some(true)` / `Some(false)` / `None` ("cannot decide"), so an unknown or unparseable
//!   installed version is never silently counted as affected or unaffected.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest version or predicate string considered; longer input is rejected or undecided.
const MAX_LEN: usize = 1024;

/// How a family of versions is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionScheme {
    /// Semantic Versioning 2.0.0 precedence (lenient: "v" prefix and missing minor/patch
    /// are accepted, "1.2" = "1.2.0"; build metadata is ignored).
    Semver,
    /// Dotted numeric vendor/firmware versions with letters, builds and service packs:
    /// "4.1.2a", "V2.14.0.4 build 123", "9.1 SP3", "2023.3_Build_9342", "BT06".
    Generic,
    /// Debian policy 5.6.12 (`[epoch:]upstream[-revision]`, `~` before everything).
    Debian,
    /// RPM `rpmvercmp` (`[epoch:]version[-release]`, `~` and `^`).
    Rpm,
    /// PEP 440 (epochs, pre/post/dev releases, local versions).
    Pypi,
    /// Maven-like: generic ordering with Maven's qualifier ranks, and a number after a
    /// qualifier ("1.0.1" vs "1.0-sp") ordered as Maven's ComparableVersion does.
    Maven,
}

impl VersionScheme {
    /// The scheme for a `vers:` versioning-scheme name (purl types); unknown names fall back
    /// to [`VersionScheme::Generic`]. "all" is not a scheme (it only allows "*").
    pub fn from_vers_scheme(name: &str) -> Self {
        match name.to_ascii_lowercase().as_str() {
            "semver" | "npm" | "cargo" | "golang" | "go" | "hex" | "composer" | "swift" | "pub"
            | "cocoapods" => Self::Semver,
            "pypi" | "pep440" => Self::Pypi,
            "deb" | "debian" => Self::Debian,
            "rpm" => Self::Rpm,
            "maven" => Self::Maven,
            _ => Self::Generic,
        }
    }

    /// The scheme's name as written in `vers:` strings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Semver => "semver",
            Self::Generic => "generic",
            Self::Debian => "deb",
            Self::Rpm => "rpm",
            Self::Pypi => "pypi",
            Self::Maven => "maven",
        }
    }
}

impl fmt::Display for VersionScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Orders `a` and `b` under `scheme`; `None` when either is not a version of that scheme or
/// the two cannot be ordered (e.g. "9.1 SP3" against "9.1.1" in the generic scheme).
pub fn compare(scheme: VersionScheme, a: &str, b: &str) -> Option<Ordering> {
    if a.len() > MAX_LEN || b.len() > MAX_LEN {
        return None;
    }
    match scheme {
        VersionScheme::Semver => Some(Semver::parse(a)?.cmp(&Semver::parse(b)?)),
        VersionScheme::Generic => generic_cmp(&generic_tokens(a)?, &generic_tokens(b)?, false),
        VersionScheme::Maven => generic_cmp(&generic_tokens(a)?, &generic_tokens(b)?, true),
        VersionScheme::Debian => debian_cmp(a, b),
        VersionScheme::Rpm => rpm_evr_cmp(a, b),
        VersionScheme::Pypi => Some(Pep440::parse(a)?.cmp(&Pep440::parse(b)?)),
    }
}

/// Whether `v` is a well-formed version under `scheme`.
pub fn is_valid(scheme: VersionScheme, v: &str) -> bool {
    compare(scheme, v, v).is_some()
}

// ---------------------------------------------------------------------------------------
// Semver

#[derive(Debug, PartialEq, Eq)]
struct Semver<'a> {
    core: [u64; 3],
    pre: Vec<&'a str>,
}

impl<'a> Semver<'a> {
    fn parse(s: &'a str) -> Option<Self> {
        let s = s.trim();
        let s = s
            .strip_prefix('v')
            .or_else(|| s.strip_prefix('V'))
            .unwrap_or(s);
        let s = s.split_once('+').map_or(s, |(v, _build)| v);
        let (core_str, pre_str) = match s.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (s, None),
        };
        let mut core = [0u64; 3];
        for (n, part) in core_str.split('.').enumerate() {
            if n >= 3 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            core[n] = part.parse().ok()?;
        }
        let mut pre = Vec::new();
        if let Some(p) = pre_str {
            for ident in p.split('.') {
                if ident.is_empty()
                    || !ident
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                {
                    return None;
                }
                pre.push(ident);
            }
        }
        Some(Self { core, pre })
    }
}

impl Ord for Semver<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&other.pre) {
                        let an = a.bytes().all(|c| c.is_ascii_digit());
                        let bn = b.bytes().all(|c| c.is_ascii_digit());
                        let o = match (an, bn) {
                            (true, true) => cmp_digit_strings(a, b),
                            (true, false) => Ordering::Less,
                            (false, true) => Ordering::Greater,
                            (false, false) => a.cmp(b),
                        };
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}

impl PartialOrd for Semver<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two runs of ASCII digits numerically, whatever their length.
fn cmp_digit_strings(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

// ---------------------------------------------------------------------------------------
// Generic (vendor firmware) and Maven-like

#[derive(Clone, Debug, PartialEq, Eq)]
enum GenTok {
    /// Digits with leading zeros removed ("" for zero).
    Num(String),
    /// Lower-cased letters.
    Alpha(String),
}

/// Rank of pre-release qualifiers (below the release itself). Qualifiers not listed and
/// not neutral are post-release markers ("sp", "build", "patch", "a" in "4.1.2a").
fn pre_rank(word: &str) -> Option<u8> {
    Some(match word {
        "dev" => 0,
        "alpha" => 1,
        "beta" => 2,
        "milestone" => 3,
        "pre" | "preview" => 4,
        "rc" | "cr" => 5,
        "snapshot" => 6,
        _ => return None,
    })
}

/// Words that mean "the release itself" and are dropped.
fn is_neutral(word: &str) -> bool {
    matches!(word, "final" | "ga" | "release")
}

fn strip_v(s: &str) -> &str {
    let s = s.trim();
    match s.as_bytes() {
        [b'v' | b'V', d, ..] if d.is_ascii_digit() => &s[1..],
        _ => s,
    }
}

fn generic_tokens(s: &str) -> Option<Vec<GenTok>> {
    let s = strip_v(s);
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_ascii_digit() {
            let mut end = start + 1;
            while let Some(&(i, d)) = chars.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = i + 1;
                chars.next();
            }
            let digits = s.get(start..end)?.trim_start_matches('0');
            out.push(GenTok::Num(digits.to_string()));
        } else if c.is_alphabetic() {
            let mut end = start + c.len_utf8();
            while let Some(&(i, d)) = chars.peek() {
                if !d.is_alphabetic() {
                    break;
                }
                end = i + d.len_utf8();
                chars.next();
            }
            let word = s.get(start..end)?.to_lowercase();
            if !is_neutral(&word) {
                out.push(GenTok::Alpha(word));
            }
        }
        // Everything else ('.', '-', '_', ' ', '+', ...) separates tokens.
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

fn generic_cmp(a: &[GenTok], b: &[GenTok], maven: bool) -> Option<Ordering> {
    let n = a.len().max(b.len());
    for i in 0..n {
        let o = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => gen_tok_cmp(x, y, maven)?,
            (Some(x), None) => tail_cmp(x),
            (None, Some(y)) => tail_cmp(y).reverse(),
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return Some(o);
        }
    }
    Some(Ordering::Equal)
}

/// How a version with extra token `t` compares with the version that ended before it.
fn tail_cmp(t: &GenTok) -> Ordering {
    match t {
        // "1.0.0" == "1.0"
        GenTok::Num(d) if d.is_empty() => Ordering::Equal,
        GenTok::Num(_) => Ordering::Greater,
        GenTok::Alpha(w) if pre_rank(w).is_some() => Ordering::Less,
        // "9.1 SP3" > "9.1", "4.1.2a" > "4.1.2"
        GenTok::Alpha(_) => Ordering::Greater,
    }
}

fn gen_tok_cmp(x: &GenTok, y: &GenTok, maven: bool) -> Option<Ordering> {
    match (x, y) {
        (GenTok::Num(a), GenTok::Num(b)) => Some(cmp_digit_strings(a, b)),
        (GenTok::Alpha(a), GenTok::Alpha(b)) => Some(match (pre_rank(a), pre_rank(b)) {
            (Some(ra), Some(rb)) => ra.cmp(&rb),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.cmp(b),
        }),
        (GenTok::Num(_), GenTok::Alpha(w)) => {
            if pre_rank(w).is_some() || maven {
                Some(Ordering::Greater)
            } else {
                // "9.1.1" vs "9.1 SP3": a vendor's service pack and a point release are
                // not ordered by the strings alone.
                None
            }
        }
        (GenTok::Alpha(_), GenTok::Num(_)) => gen_tok_cmp(y, x, maven).map(Ordering::reverse),
    }
}

// ---------------------------------------------------------------------------------------
// Debian (policy 5.6.12, dpkg's verrevcmp)

fn debian_split(v: &str) -> Option<(&str, &str, &str)> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => (e, r),
        Some(_) => return None,
        None => ("", v),
    };
    let (upstream, revision) = match rest.rfind('-') {
        Some(i) => (rest.get(..i)?, rest.get(i + 1..)?),
        None => (rest, ""),
    };
    let upstream_ok = upstream
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".+~-:".contains(&b));
    let revision_ok = revision
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".+~".contains(&b));
    if upstream.is_empty() || !upstream_ok || !revision_ok {
        return None;
    }
    Some((epoch, upstream, revision))
}

fn debian_cmp(a: &str, b: &str) -> Option<Ordering> {
    let (ea, ua, ra) = debian_split(a)?;
    let (eb, ub, rb) = debian_split(b)?;
    Some(
        cmp_digit_strings(ea, eb)
            .then_with(|| verrevcmp(ua.as_bytes(), ub.as_bytes()))
            .then_with(|| verrevcmp(ra.as_bytes(), rb.as_bytes())),
    )
}

/// dpkg's character order: '~' before the end of a part, letters before non-letters.
fn deb_order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0;
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = deb_order(a.get(i).copied());
            let bc = deb_order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == 0 {
                first_diff = i32::from(a[i]) - i32::from(b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

// ---------------------------------------------------------------------------------------
// RPM (rpmvercmp from rpm's lib/rpmvercmp.c, reimplemented from its documented behaviour)

fn rpm_split(v: &str) -> Option<(&str, &str, Option<&str>)> {
    let v = v.trim();
    if v.is_empty() || v.chars().any(|c| c.is_whitespace()) {
        return None;
    }
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => (e, r),
        Some(_) => return None,
        None => ("", v),
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((ver, rel)) => (ver, Some(rel)),
        None => (rest, None),
    };
    if version.is_empty() {
        return None;
    }
    Some((epoch, version, release))
}

fn rpm_evr_cmp(a: &str, b: &str) -> Option<Ordering> {
    let (ea, va, ra) = rpm_split(a)?;
    let (eb, vb, rb) = rpm_split(b)?;
    let mut o = cmp_digit_strings(ea, eb).then_with(|| rpmvercmp(va.as_bytes(), vb.as_bytes()));
    // rpm compares releases only when both sides have one.
    if let (Some(ra), Some(rb)) = (ra, rb) {
        o = o.then_with(|| rpmvercmp(ra.as_bytes(), rb.as_bytes()));
    }
    Some(o)
}

fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    let (mut i, mut j) = (0usize, 0usize);
    loop {
        while i < a.len() && sep(a[i]) {
            i += 1;
        }
        while j < b.len() && sep(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(first), Some(_)) = (ca, cb) else {
            break;
        };
        let (si, sj) = (i, j);
        let isnum = first.is_ascii_digit();
        if isnum {
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
        } else {
            while i < a.len() && a[i].is_ascii_alphabetic() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_alphabetic() {
                j += 1;
            }
        }
        if sj == j {
            // Numeric segments are newer than alpha ones.
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (sa, sb) = (&a[si..i], &b[sj..j]);
        let o = if isnum {
            let ta = trim_zeros(sa);
            let tb = trim_zeros(sb);
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            sa.cmp(sb)
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (false, _) => Ordering::Greater,
        (true, false) => Ordering::Less,
    }
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b'0').count();
    &s[n..]
}

// ---------------------------------------------------------------------------------------
// PEP 440

/// (epoch, release, pre, post, dev) as `packaging.version` orders them.
type Pep440Key<'a> = (u64, &'a [u64], (i8, u8, u64), (i8, u64), (i8, u64));

#[derive(Debug, PartialEq, Eq)]
struct Pep440 {
    epoch: u64,
    release: Vec<u64>,
    /// (kind 0=a 1=b 2=rc, number)
    pre: Option<(u8, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    local: Vec<String>,
}

impl Pep440 {
    fn parse(s: &str) -> Option<Self> {
        let lower = s.trim().to_ascii_lowercase();
        let mut rest: &str = lower.strip_prefix('v').unwrap_or(&lower);
        let (main, local) = match rest.split_once('+') {
            Some((m, l)) => (m, Some(l)),
            None => (rest, None),
        };
        rest = main;
        let mut epoch = 0;
        if let Some((e, r)) = rest.split_once('!') {
            epoch = e.parse().ok()?;
            rest = r;
        }
        let (release_str, mut tail) = split_leading(rest, |c| c.is_ascii_digit() || c == '.');
        let release_str = release_str.trim_end_matches('.');
        if release_str.is_empty() {
            return None;
        }
        let mut release = Vec::new();
        for p in release_str.split('.') {
            release.push(p.parse::<u64>().ok()?);
        }
        // trailing zeros do not count: 1.0 == 1.0.0
        while release.len() > 1 && release.last() == Some(&0) {
            release.pop();
        }
        let mut pre = None;
        let mut post = None;
        let mut dev = None;
        tail = tail.trim_start_matches(['.', '-', '_']);
        for (words, kind) in [
            (&["alpha", "a"][..], 0u8),
            (&["beta", "b"][..], 1),
            (&["preview", "pre", "rc", "c"][..], 2),
        ] {
            if let Some(w) = words.iter().find(|w| tail.starts_with(**w)) {
                let (n, r) = take_number(&tail[w.len()..]);
                pre = Some((kind, n));
                tail = r.trim_start_matches(['.', '-', '_']);
                break;
            }
        }
        if let Some(w) = ["post", "rev", "r"].iter().find(|w| tail.starts_with(**w)) {
            let (n, r) = take_number(&tail[w.len()..]);
            post = Some(n);
            tail = r.trim_start_matches(['.', '-', '_']);
        } else if pre.is_none() && lower.contains('-') {
            // "1.0-1" is an implicit post release.
            let (digits, r) = split_leading(tail, |c| c.is_ascii_digit());
            if !digits.is_empty() {
                post = Some(digits.parse().ok()?);
                tail = r.trim_start_matches(['.', '-', '_']);
            }
        }
        if let Some(r) = tail.strip_prefix("dev") {
            let (n, r) = take_number(r);
            dev = Some(n);
            tail = r;
        }
        if !tail.is_empty() {
            return None;
        }
        let mut local_parts = Vec::new();
        if let Some(l) = local {
            for p in l.split(['.', '-', '_']) {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return None;
                }
                local_parts.push(p.to_string());
            }
        }
        Some(Self {
            epoch,
            release,
            pre,
            post,
            dev,
            local: local_parts,
        })
    }

    /// The sort key of `packaging.version` (`_cmpkey`), with `None` mapped to the
    /// infinities it uses.
    fn key(&self) -> Pep440Key<'_> {
        let pre = match (self.pre, self.post, self.dev) {
            (None, None, Some(_)) => (-1, 0, 0),
            (None, _, _) => (1, 0, 0),
            (Some((k, n)), _, _) => (0, k, n),
        };
        let post = match self.post {
            None => (-1, 0),
            Some(n) => (0, n),
        };
        let dev = match self.dev {
            None => (1, 0),
            Some(n) => (0, n),
        };
        (self.epoch, &self.release, pre, post, dev)
    }
}

impl Ord for Pep440 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key()).then_with(|| {
            for (a, b) in self.local.iter().zip(&other.local) {
                let an = a.bytes().all(|c| c.is_ascii_digit());
                let bn = b.bytes().all(|c| c.is_ascii_digit());
                let o = match (an, bn) {
                    (true, true) => cmp_digit_strings(a, b),
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => a.cmp(b),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            self.local.len().cmp(&other.local.len())
        })
    }
}

impl PartialOrd for Pep440 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn split_leading(s: &str, keep: impl Fn(char) -> bool) -> (&str, &str) {
    let n = s.find(|c: char| !keep(c)).unwrap_or(s.len());
    s.split_at(n)
}

/// An optional separator then digits (implicit 0), as PEP 440 allows after a qualifier.
fn take_number(s: &str) -> (u64, &str) {
    let t = s.trim_start_matches(['.', '-', '_']);
    let (digits, rest) = split_leading(t, |c| c.is_ascii_digit());
    if digits.is_empty() {
        (0, s)
    } else {
        (digits.parse().unwrap_or(u64::MAX), rest)
    }
}

// ---------------------------------------------------------------------------------------
// vers ranges

/// A comparison operator of a range constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Comparator {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Comparator {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    /// Splits a leading comparator off `s` ("<=1.0" -> (Le, "1.0")); `=`/`==` or none is Eq.
    fn split(s: &str) -> (Option<Self>, &str) {
        for (p, c) in [
            ("<=", Self::Le),
            (">=", Self::Ge),
            ("!=", Self::Ne),
            ("==", Self::Eq),
            ("=<", Self::Le),
            ("=>", Self::Ge),
            ("<", Self::Lt),
            (">", Self::Gt),
            ("=", Self::Eq),
        ] {
            if let Some(rest) = s.strip_prefix(p) {
                return (Some(c), rest.trim_start());
            }
        }
        (None, s)
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One constraint: a comparator and a version (which may end in a ".x" wildcard in the
/// free-form ranges, "<= 12.2.x.x").
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Constraint {
    pub comparator: Comparator,
    pub version: String,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.comparator == Comparator::Eq {
            f.write_str(&self.version)
        } else {
            write!(f, "{}{}", self.comparator, self.version)
        }
    }
}

/// A set of constraints evaluated with the purl-spec VERS algorithm: "=" and "!=" are
/// checked first, the rest are sorted by version and read as intervals
/// (`>=1.0|<2.0|>=3.0` is [1.0, 2.0) or [3.0, ...)).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VersRange {
    /// The `vers:` versioning scheme as written ("npm", "generic", ...), `None` for the
    /// free-form advisory ranges, which use the caller's scheme.
    pub scheme: Option<String>,
    /// Empty means "*": every version.
    pub constraints: Vec<Constraint>,
}

/// Why a version predicate could not be read. Positions are byte offsets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("empty version range")]
    Empty,
    #[error("version range is {len} bytes long; at most {MAX_LEN} are accepted")]
    TooLong { len: usize },
    #[error("vers string has no \"/\" after the versioning scheme")]
    VersNoScheme,
    #[error("invalid vers versioning scheme {scheme:?}")]
    VersBadScheme { scheme: String },
    #[error("\"*\" must be the only constraint of a vers range, found at byte {position}")]
    VersStarNotAlone { position: usize },
    #[error("empty constraint at byte {position}")]
    EmptyConstraint { position: usize },
    #[error("comparator without a version at byte {position}")]
    MissingVersion { position: usize },
    #[error("invalid percent-encoding in vers version at byte {position}")]
    BadPercentEncoding { position: usize },
    #[error("ambiguous version range: read as {text:?}, which would read back differently")]
    Ambiguous { text: String },
    #[error("malformed comparator near byte {position}")]
    BadComparator { position: usize },
    #[error("{text:?} at byte {position} is not a version (no letter or digit)")]
    NotAVersion { text: String, position: usize },
}

impl VersRange {
    /// Parses `vers:<scheme>/<constraints>`. Whitespace is ignored as the VERS draft says;
    /// versions are percent-decoded.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        if s.len() > MAX_LEN {
            return Err(VersionError::TooLong { len: s.len() });
        }
        let t = s.trim();
        let body = t
            .get(..5)
            .filter(|p| p.eq_ignore_ascii_case("vers:"))
            .and_then(|_| t.get(5..))
            .ok_or(VersionError::VersNoScheme)?;
        let (scheme, constraints) = body.split_once('/').ok_or(VersionError::VersNoScheme)?;
        let scheme = scheme.trim().to_ascii_lowercase();
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        {
            return Err(VersionError::VersBadScheme { scheme });
        }
        let offset = s.len() - constraints.len();
        let compact: String = constraints.chars().filter(|c| !c.is_whitespace()).collect();
        let mut out = Vec::new();
        if compact == "*" {
            return Ok(Self {
                scheme: Some(scheme),
                constraints: out,
            });
        }
        let mut pos = offset;
        for part in compact.split('|') {
            if part.is_empty() {
                return Err(VersionError::EmptyConstraint { position: pos });
            }
            if part == "*" {
                return Err(VersionError::VersStarNotAlone { position: pos });
            }
            let (cmp, ver) = Comparator::split(part);
            if ver.is_empty() {
                return Err(VersionError::MissingVersion { position: pos });
            }
            if ver.starts_with(['<', '>', '=', '!']) {
                return Err(VersionError::BadComparator { position: pos });
            }
            if ver == "*" {
                return Err(VersionError::VersStarNotAlone { position: pos });
            }
            let version =
                percent_decode(ver).ok_or(VersionError::BadPercentEncoding { position: pos })?;
            out.push(Constraint {
                comparator: cmp.unwrap_or(Comparator::Eq),
                version,
            });
            pos += part.len() + 1;
        }
        Ok(Self {
            scheme: Some(scheme),
            constraints: out,
        })
    }

    /// The scheme used to compare: the `vers:` scheme when it names one, else `fallback`.
    fn effective_scheme(&self, fallback: VersionScheme) -> VersionScheme {
        match self.scheme.as_deref() {
            Some(s) if !s.eq_ignore_ascii_case("generic") && !s.eq_ignore_ascii_case("all") => {
                VersionScheme::from_vers_scheme(s)
            }
            _ => fallback,
        }
    }

    /// Whether `version` is in the range; `None` when a needed comparison is undecidable
    /// (the version, or a bound, is not a version of the scheme).
    pub fn contains(&self, version: &str, scheme: VersionScheme) -> Option<bool> {
        if self.constraints.is_empty() {
            return Some(true);
        }
        let scheme = self.effective_scheme(scheme);
        if !is_valid(scheme, version) {
            return None;
        }
        let mut ranges: Vec<&Constraint> = Vec::new();
        let (mut has_eq, mut has_ne) = (false, false);
        for c in &self.constraints {
            let o = compare_to_bound(scheme, version, &c.version)?;
            match c.comparator {
                Comparator::Eq => {
                    has_eq = true;
                    if o == Ordering::Equal {
                        return Some(true);
                    }
                }
                Comparator::Ne => {
                    has_ne = true;
                    if o == Ordering::Equal {
                        return Some(false);
                    }
                }
                Comparator::Le | Comparator::Ge if o == Ordering::Equal => return Some(true),
                _ => ranges.push(c),
            }
        }
        if ranges.is_empty() {
            return Some(has_ne && !has_eq);
        }
        // Sort bounds; an unorderable pair of bounds makes the range undecidable.
        let mut sortable = true;
        ranges.sort_by(|a, b| {
            bound_cmp(scheme, &a.version, &b.version).unwrap_or_else(|| {
                sortable = false;
                Ordering::Equal
            })
        });
        if !sortable {
            return None;
        }
        let is_upper = |c: &Constraint| matches!(c.comparator, Comparator::Lt | Comparator::Le);
        let alternating = ranges.windows(2).all(|w| is_upper(w[0]) != is_upper(w[1]));
        if !alternating && self.scheme.is_none() {
            // Free-form lists such as "<= U61 |<= L81" name bounds of several product
            // lines; they are not a VERS interval list, so read them as a union.
            let mut undecided = false;
            for c in &ranges {
                let o = compare_to_bound(scheme, version, &c.version)?;
                // Equality with a "<="/">=" bound already returned above.
                let hit = match c.comparator {
                    Comparator::Lt | Comparator::Le => o == Ordering::Less,
                    Comparator::Gt | Comparator::Ge => o == Ordering::Greater,
                    Comparator::Eq | Comparator::Ne => {
                        undecided = true;
                        false
                    }
                };
                if hit {
                    return Some(true);
                }
            }
            return if undecided { None } else { Some(false) };
        }
        let n = ranges.len();
        for (i, cur) in ranges.iter().enumerate() {
            let o = compare_to_bound(scheme, version, &cur.version)?;
            let is_upper = matches!(cur.comparator, Comparator::Lt | Comparator::Le);
            let is_lower = matches!(cur.comparator, Comparator::Gt | Comparator::Ge);
            if i == 0 && is_upper && o == Ordering::Less {
                return Some(true);
            }
            if i + 1 == n && is_lower && o == Ordering::Greater {
                return Some(true);
            }
            if let Some(next) = ranges.get(i + 1) {
                let next_upper = matches!(next.comparator, Comparator::Lt | Comparator::Le);
                if is_lower && next_upper && o == Ordering::Greater {
                    let o2 = compare_to_bound(scheme, version, &next.version)?;
                    if o2 == Ordering::Less {
                        return Some(true);
                    }
                }
            }
        }
        Some(false)
    }
}

impl fmt::Display for VersRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.scheme {
            write!(f, "vers:{s}/")?;
        }
        if self.constraints.is_empty() {
            return f.write_str("*");
        }
        for (i, c) in self.constraints.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The series prefix of a wildcard version ("4.4.x" -> "4.4", "12.2.x.x" -> "12.2",
/// "v6.x" -> "v6", "1.X" -> "1", "12.*" -> "12").
fn wildcard_prefix(v: &str) -> Option<&str> {
    let mut cur = v.trim();
    let mut stripped = false;
    loop {
        let lower = cur.len().checked_sub(2).and_then(|i| cur.get(i..));
        match lower {
            Some(".x" | ".X" | ".*") => {
                cur = &cur[..cur.len() - 2];
                stripped = true;
            }
            _ => break,
        }
    }
    (stripped && !cur.is_empty()).then_some(cur)
}

/// Compares `version` with a bound that may be a wildcard series: every version of the
/// series compares Equal to it.
fn compare_to_bound(scheme: VersionScheme, version: &str, bound: &str) -> Option<Ordering> {
    if let Some(prefix) = wildcard_prefix(bound) {
        let v = strip_v(version).to_ascii_lowercase();
        let p = strip_v(prefix).to_ascii_lowercase();
        if v == p
            || v.strip_prefix(&p)
                .is_some_and(|rest| rest.starts_with(['.', '-', '_', ' ']))
        {
            return Some(Ordering::Equal);
        }
        return compare(scheme, version, prefix);
    }
    if version.trim().eq_ignore_ascii_case(bound.trim()) {
        return Some(Ordering::Equal);
    }
    compare(scheme, version, bound)
}

fn bound_cmp(scheme: VersionScheme, a: &str, b: &str) -> Option<Ordering> {
    let a = wildcard_prefix(a).unwrap_or(a);
    let b = wildcard_prefix(b).unwrap_or(b);
    compare(scheme, a, b)
}

// ---------------------------------------------------------------------------------------
// Predicates as advisories write them

/// What an advisory says about affected (or fixed) versions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VersionPredicate {
    /// "All versions", "vers:all/*", "*".
    Any,
    /// One version, as written.
    Exact { version: String },
    /// A series: "4.4.x", "1.X", "v6.x", "12.*" (prefix without the wildcard).
    Series { prefix: String },
    /// Constraints: a `vers:` range or a free-form one ("<= 4.1", ">= 2.0 | <= 3.0",
    /// "prior to 2.0", "BT02 | BT03").
    Range { range: VersRange },
    /// A predicate with a remark the advisory put in parentheses ("(end-of-life 2011)",
    /// "(with Wireless Battery Modules v9 | v11)"). The remark does not narrow `contains`:
    /// show it to the analyst.
    Annotated {
        predicate: Box<VersionPredicate>,
        note: String,
    },
}

impl VersionPredicate {
    /// Whether `version` satisfies the predicate under `scheme` (a `vers:` scheme in the
    /// predicate wins). `None` when it cannot be decided: the version is unknown to the
    /// scheme, or cannot be ordered against a bound. `Any` contains every version, even one
    /// Ward cannot parse: "all versions are affected" needs no comparison.
    pub fn contains(&self, version: &str, scheme: VersionScheme) -> Option<bool> {
        match self {
            Self::Any => Some(true),
            Self::Exact { version: v } => {
                if version.trim().eq_ignore_ascii_case(v.trim()) {
                    return Some(true);
                }
                compare(scheme, version, v).map(|o| o == Ordering::Equal)
            }
            Self::Series { prefix } => {
                if !is_valid(scheme, version) {
                    return None;
                }
                let bound = format!("{prefix}.x");
                compare_to_bound(scheme, version, &bound).map(|o| o == Ordering::Equal)
            }
            Self::Range { range } => range.contains(version, scheme),
            Self::Annotated { predicate, .. } => predicate.contains(version, scheme),
        }
    }

    /// The parenthesised remark, if any.
    pub fn note(&self) -> Option<&str> {
        match self {
            Self::Annotated { note, .. } => Some(note),
            _ => None,
        }
    }
}

impl fmt::Display for VersionPredicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Exact { version } => f.write_str(version),
            Self::Series { prefix } => write!(f, "{prefix}.x"),
            Self::Range { range } => write!(f, "{range}"),
            Self::Annotated { predicate, note } => write!(f, "{predicate} ({note})"),
        }
    }
}

/// Phrases meaning "strictly below X" written before the version.
const LT_PREFIXES: &[&str] = &[
    "prior to ",
    "before ",
    "earlier than ",
    "older than ",
    "lower than ",
    "less than ",
    "below ",
];
/// Phrases meaning "X or below" written before the version.
const LE_PREFIXES: &[&str] = &["up to and including ", "up to ", "through ", "until "];
/// Phrases meaning "strictly above X" written before the version.
const GT_PREFIXES: &[&str] = &["after ", "later than ", "newer than ", "greater than "];
/// Phrases meaning "X or below" written after the version.
const LE_SUFFIXES: &[&str] = &[
    " and prior",
    " and earlier",
    " and below",
    " and older",
    " and lower",
    " and before",
    " or prior",
    " or earlier",
    " or below",
    " or older",
    " or lower",
];
/// Phrases meaning "X or above" written after the version.
const GE_SUFFIXES: &[&str] = &[
    " and later",
    " and above",
    " and newer",
    " and higher",
    " and up",
    " or later",
    " or above",
    " or newer",
    " or higher",
];

/// Reads a version predicate: `vers:` strings, comparator lists joined by "|", wildcard
/// series, the English forms of CISA advisories, and parenthesised remarks.
///
/// A string whose reading would not survive printing (say "=before 5", a version that
/// looks like a phrase) is refused as ambiguous rather than stored with a meaning that
/// changes on the next import.
pub fn parse_predicate(s: &str) -> Result<VersionPredicate, VersionError> {
    let p = parse_predicate_once(s)?;
    let printed = p.to_string();
    if parse_predicate_once(&printed).as_ref() != Ok(&p) {
        return Err(VersionError::Ambiguous { text: printed });
    }
    Ok(p)
}

fn parse_predicate_once(s: &str) -> Result<VersionPredicate, VersionError> {
    if s.len() > MAX_LEN {
        return Err(VersionError::TooLong { len: s.len() });
    }
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err(VersionError::Empty);
    }
    if trimmed
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("vers:"))
    {
        let range = VersRange::parse(trimmed)?;
        let all = range.scheme.as_deref() == Some("all");
        return Ok(if range.constraints.is_empty() || all {
            VersionPredicate::Any
        } else {
            VersionPredicate::Range { range }
        });
    }
    let (text, notes) = split_notes(trimmed);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let inner = if collapsed.is_empty() {
        // Only a remark, e.g. "(all)": read the remark itself.
        let joined = notes.join(" ");
        parse_free(&joined.split_whitespace().collect::<Vec<_>>().join(" "), s)?
    } else {
        parse_free(&collapsed, s)?
    };
    Ok(if notes.is_empty() || collapsed.is_empty() {
        inner
    } else {
        VersionPredicate::Annotated {
            predicate: Box::new(inner),
            note: notes.join("; "),
        }
    })
}

/// Removes balanced top-level "( ... )" groups, returning the rest and the removed texts.
/// With an unclosed parenthesis nothing is removed.
fn split_notes(s: &str) -> (String, Vec<String>) {
    let mut text = String::new();
    let mut notes = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                if depth > 0 {
                    cur.push(c);
                }
                depth += 1;
            }
            ')' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let n = cur.trim();
                    if !n.is_empty() {
                        notes.push(n.to_string());
                    }
                    cur.clear();
                } else {
                    cur.push(c);
                }
            }
            _ if depth > 0 => cur.push(c),
            _ => text.push(c),
        }
    }
    if depth > 0 {
        // Unbalanced: no remark can be told apart safely; keep the whole text.
        return (s.to_string(), Vec::new());
    }
    (text, notes)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))
        .and_then(|_| s.get(prefix.len()..))
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let i = s.len().checked_sub(suffix.len())?;
    s.get(i..)
        .filter(|p| p.eq_ignore_ascii_case(suffix))
        .and_then(|_| s.get(..i))
}

fn position_in(whole: &str, part: &str) -> usize {
    whole.find(part).unwrap_or(0)
}

fn check_version(v: &str, whole: &str) -> Result<String, VersionError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(VersionError::MissingVersion {
            position: whole.len(),
        });
    }
    if v.starts_with(['<', '>', '=', '!']) {
        return Err(VersionError::BadComparator {
            position: position_in(whole, v),
        });
    }
    if strip_prefix_ci(v, "vers:").is_some() || v == "*" || v.contains('|') {
        // "=vers:..." or "<= *": a range or wildcard where one version belongs.
        return Err(VersionError::NotAVersion {
            text: v.to_string(),
            position: position_in(whole, v),
        });
    }
    if !v.chars().any(char::is_alphanumeric) {
        return Err(VersionError::NotAVersion {
            text: v.to_string(),
            position: position_in(whole, v),
        });
    }
    Ok(v.to_string())
}

fn single(comparator: Comparator, v: &str, whole: &str) -> Result<VersionPredicate, VersionError> {
    Ok(VersionPredicate::Range {
        range: VersRange {
            scheme: None,
            constraints: vec![Constraint {
                comparator,
                version: check_version(v, whole)?,
            }],
        },
    })
}

fn parse_free(s: &str, whole: &str) -> Result<VersionPredicate, VersionError> {
    let parts: Vec<&str> = s
        .split('|')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    match parts.as_slice() {
        [] => Err(VersionError::EmptyConstraint {
            position: position_in(whole, "|"),
        }),
        [only] => parse_one(only, whole),
        _ => {
            // "BT03 | BT04", ">= 2.0 | <= 3.0", "4.X | 5.X": one VERS-style list.
            let mut constraints = Vec::new();
            for part in parts {
                match parse_one(part, whole)? {
                    VersionPredicate::Any => return Ok(VersionPredicate::Any),
                    VersionPredicate::Exact { version } => constraints.push(Constraint {
                        comparator: Comparator::Eq,
                        version,
                    }),
                    VersionPredicate::Series { prefix } => constraints.push(Constraint {
                        comparator: Comparator::Eq,
                        version: format!("{prefix}.x"),
                    }),
                    VersionPredicate::Range { range } => constraints.extend(range.constraints),
                    VersionPredicate::Annotated { predicate, .. } => {
                        // Remarks were removed before splitting; cannot happen.
                        return Ok(*predicate);
                    }
                }
            }
            Ok(VersionPredicate::Range {
                range: VersRange {
                    scheme: None,
                    constraints,
                },
            })
        }
    }
}

/// One "|"-free part: a phrase, a comparator and version, a series or a version, or a
/// comma-separated conjunction of comparators as GitHub advisories write them
/// (">= 12.10.0, < 12.10.2").
fn parse_one(s: &str, whole: &str) -> Result<VersionPredicate, VersionError> {
    let pieces: Vec<&str> = s.split(',').map(str::trim).collect();
    if pieces.len() > 1
        && pieces
            .iter()
            .all(|p| matches!(Comparator::split(p).0, Some(c) if c != Comparator::Eq))
    {
        let mut constraints = Vec::new();
        for p in pieces {
            let (c, v) = Comparator::split(p);
            constraints.push(Constraint {
                comparator: c.unwrap_or(Comparator::Eq),
                version: check_version(v, whole)?,
            });
        }
        return Ok(VersionPredicate::Range {
            range: VersRange {
                scheme: None,
                constraints,
            },
        });
    }
    let mut s = s.trim();
    if s.is_empty() {
        return Err(VersionError::Empty);
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "*" | "all" | "all versions" | "any" | "any version" | "all current versions"
    ) {
        return Ok(VersionPredicate::Any);
    }
    // "All versions prior to 3.2", "versions before 5.3", "firmware versions <= 1.0"
    for p in [
        "all versions ",
        "all ",
        "firmware versions ",
        "versions ",
        "version ",
    ] {
        if let Some(rest) = strip_prefix_ci(s, p) {
            s = rest.trim_start();
            break;
        }
    }
    for p in LT_PREFIXES {
        if let Some(rest) = strip_prefix_ci(s, p) {
            return single(Comparator::Lt, rest, whole);
        }
    }
    for p in LE_PREFIXES {
        if let Some(rest) = strip_prefix_ci(s, p) {
            return single(Comparator::Le, rest, whole);
        }
    }
    for p in GT_PREFIXES {
        if let Some(rest) = strip_prefix_ci(s, p) {
            return single(Comparator::Gt, rest, whole);
        }
    }
    for p in LE_SUFFIXES {
        if let Some(rest) = strip_suffix_ci(s, p) {
            return single(Comparator::Le, rest, whole);
        }
    }
    for p in GE_SUFFIXES {
        if let Some(rest) = strip_suffix_ci(s, p) {
            return single(Comparator::Ge, rest, whole);
        }
    }
    // "from 1.0 to 2.0", "1.0 through 2.0", "1.0 - 2.0" (spaces required around "-")
    let from = strip_prefix_ci(s, "from ").unwrap_or(s);
    for sep in [" through ", " to ", " - "] {
        let lower_from = from.to_ascii_lowercase();
        if let Some(i) = lower_from.find(sep) {
            let (lo, hi) = (&from[..i], &from[i + sep.len()..]);
            return Ok(VersionPredicate::Range {
                range: VersRange {
                    scheme: None,
                    constraints: vec![
                        Constraint {
                            comparator: Comparator::Ge,
                            version: check_version(lo, whole)?,
                        },
                        Constraint {
                            comparator: Comparator::Le,
                            version: check_version(hi, whole)?,
                        },
                    ],
                },
            });
        }
    }
    let (cmp, ver) = Comparator::split(s);
    match cmp {
        Some(c) if c != Comparator::Eq => single(c, ver, whole),
        _ => {
            let v = check_version(ver, whole)?;
            Ok(match wildcard_prefix(&v) {
                Some(p) => VersionPredicate::Series {
                    prefix: p.to_string(),
                },
                None => VersionPredicate::Exact { version: v },
            })
        }
    }
}

// ---------------------------------------------------------------------------------------
// CVE JSON 5 and OSV range forms

/// Lower bounds CVE records write for "from the beginning".
fn is_unbounded_lower(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "*" | "unspecified" | "n/a" | "unknown"
    )
}

/// The predicate of one CVE JSON 5 `affected[].versions[]` entry: `version` with an
/// optional `lessThan` or `lessThanOrEqual` ("0"/"unspecified" as `version` means no lower
/// bound, "*" as the upper bound means none). Without either, `version` alone is read
/// with [`parse_predicate`] ("n/a" then stays an exact, undecidable version).
pub fn cve5_predicate(
    version: &str,
    less_than: Option<&str>,
    less_than_or_equal: Option<&str>,
) -> Result<VersionPredicate, VersionError> {
    let (upper, comparator) = match (less_than, less_than_or_equal) {
        (Some(lt), _) => (lt, Comparator::Lt),
        (None, Some(le)) => (le, Comparator::Le),
        (None, None) => return parse_predicate(version),
    };
    let mut constraints = Vec::new();
    if !is_unbounded_lower(version) {
        constraints.push(Constraint {
            comparator: Comparator::Ge,
            version: check_version(version, version)?,
        });
    }
    if upper.trim() != "*" {
        constraints.push(Constraint {
            comparator,
            version: check_version(upper, upper)?,
        });
    }
    Ok(if constraints.is_empty() {
        VersionPredicate::Any
    } else {
        VersionPredicate::Range {
            range: VersRange {
                scheme: None,
                constraints,
            },
        }
    })
}

/// One event of an OSV `ranges[].events` list; serde reads and writes the OSV JSON shape
/// (`{"introduced": "1.0"}`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OsvEvent {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl OsvEvent {
    fn version(&self) -> &str {
        match self {
            Self::Introduced(v) | Self::Fixed(v) | Self::LastAffected(v) | Self::Limit(v) => v,
        }
    }
}

/// The version scheme of an OSV ecosystem name ("npm", "PyPI", "Maven", "Debian:11",
/// "Red Hat:rhel_aus:8.6::appstream", "Alpine:v3.18", ...).
pub fn osv_ecosystem_scheme(ecosystem: &str) -> VersionScheme {
    let base = ecosystem.split(':').next().unwrap_or("").trim();
    match base.to_ascii_lowercase().as_str() {
        "npm" | "go" | "crates.io" | "hex" | "pub" | "packagist" | "swifturl" => {
            VersionScheme::Semver
        }
        "pypi" => VersionScheme::Pypi,
        "maven" => VersionScheme::Maven,
        "debian" | "ubuntu" => VersionScheme::Debian,
        "red hat" | "rocky linux" | "almalinux" | "suse" | "opensuse" | "mageia" => {
            VersionScheme::Rpm
        }
        _ => VersionScheme::Generic,
    }
}

/// The OSV evaluation of an ECOSYSTEM or SEMVER range (OSV schema, "Evaluation"): events
/// sorted by version, "introduced" switches affected on, "fixed" (at or above) and
/// "last_affected" (above) switch it off; `limit` does not apply to these types. `None`
/// when the version or an event version cannot be ordered under `scheme`.
pub fn osv_affected(events: &[OsvEvent], version: &str, scheme: VersionScheme) -> Option<bool> {
    if !is_valid(scheme, version) {
        return None;
    }
    let mut sorted: Vec<&OsvEvent> = events
        .iter()
        .filter(|e| !matches!(e, OsvEvent::Limit(_)))
        .collect();
    let mut sortable = true;
    sorted.sort_by(|a, b| {
        let (av, bv) = (a.version(), b.version());
        match (av == "0", bv == "0") {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => compare(scheme, av, bv).unwrap_or_else(|| {
                sortable = false;
                Ordering::Equal
            }),
        }
    });
    if !sortable {
        return None;
    }
    let mut affected = false;
    for e in sorted {
        match e {
            OsvEvent::Introduced(v) => {
                if v == "0" || compare(scheme, version, v)? != Ordering::Less {
                    affected = true;
                }
            }
            OsvEvent::Fixed(v) => {
                if compare(scheme, version, v)? != Ordering::Less {
                    affected = false;
                }
            }
            OsvEvent::LastAffected(v) => {
                if compare(scheme, version, v)? == Ordering::Greater {
                    affected = false;
                }
            }
            OsvEvent::Limit(_) => {}
        }
    }
    Some(affected)
}

/// All schemes, for exhaustive checks.
pub const ALL_SCHEMES: [VersionScheme; 6] = [
    VersionScheme::Semver,
    VersionScheme::Generic,
    VersionScheme::Debian,
    VersionScheme::Rpm,
    VersionScheme::Pypi,
    VersionScheme::Maven,
];

/// Invariants a fuzzer checks on any input (shared by `fuzz/fuzz_targets/version_range.rs`
/// and the crate's random-input tests). The input is "PREDICATE\nVERSION\nVERSION":
/// nothing panics; `compare` is antisymmetric and reflexive where defined; an accepted
/// predicate prints to a string that reads back to the same predicate.
#[doc(hidden)]
pub fn check_invariants(input: &str) {
    let mut parts = input.splitn(3, '\n');
    let pred = parts.next().unwrap_or("");
    let a = parts.next().unwrap_or("");
    let b = parts.next().unwrap_or("");
    for scheme in ALL_SCHEMES {
        let ab = compare(scheme, a, b);
        let ba = compare(scheme, b, a);
        assert_eq!(ab, ba.map(Ordering::reverse), "{scheme} {a:?} vs {b:?}");
        if let Some(o) = compare(scheme, a, a) {
            assert_eq!(o, Ordering::Equal, "{scheme} {a:?} not equal to itself");
        }
    }
    let events = [
        OsvEvent::Introduced(a.to_string()),
        OsvEvent::Fixed(b.to_string()),
        OsvEvent::LastAffected(pred.to_string()),
    ];
    for scheme in ALL_SCHEMES {
        let _ = osv_affected(&events, pred, scheme);
    }
    if let Ok(p) = cve5_predicate(a, Some(b), None) {
        let _ = p.contains(pred, VersionScheme::Generic);
    }
    if let Ok(p) = parse_predicate(pred) {
        for scheme in ALL_SCHEMES {
            let _ = p.contains(a, scheme);
        }
        let printed = p.to_string();
        match parse_predicate(&printed) {
            Ok(back) => assert_eq!(back, p, "{pred:?} -> {printed:?}"),
            Err(e) => panic!("{pred:?} prints as {printed:?} which does not parse: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal as E, Greater as G, Less as L};
    use VersionScheme::*;

    fn c(s: VersionScheme, a: &str, b: &str) -> Option<Ordering> {
        compare(s, a, b)
    }

    #[test]
    fn semver_precedence() {
        // Semver 2.0.0 section 11 example chain.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for w in chain.windows(2) {
            assert_eq!(c(Semver, w[0], w[1]), Some(L), "{} < {}", w[0], w[1]);
            assert_eq!(c(Semver, w[1], w[0]), Some(G), "{} > {}", w[1], w[0]);
        }
        assert_eq!(c(Semver, "1.0.0+build.5", "1.0.0"), Some(E));
        assert_eq!(c(Semver, "v1.2", "1.2.0"), Some(E));
        assert_eq!(c(Semver, "1.2.3.4", "1.2.3"), None);
        assert_eq!(c(Semver, "abc", "1.0.0"), None);
        assert_eq!(c(Semver, "1.0.0-", "1.0.0"), None);
    }

    #[test]
    fn generic_firmware() {
        assert_eq!(c(Generic, "4.1.2a", "4.1.2"), Some(G));
        assert_eq!(c(Generic, "4.1.2a", "4.1.2b"), Some(L));
        assert_eq!(c(Generic, "4.1.2a", "4.1.10"), Some(L));
        assert_eq!(
            c(Generic, "V2.14.0.4 build 123", "2.14.0.4 build 99"),
            Some(G)
        );
        assert_eq!(c(Generic, "V2.14.0.4 build 123", "2.14.0.4"), Some(G));
        assert_eq!(c(Generic, "9.1 SP3", "9.1"), Some(G));
        assert_eq!(c(Generic, "9.1 SP3", "9.1 SP2"), Some(G));
        assert_eq!(c(Generic, "9.1 SP3", "9.2"), Some(L));
        assert_eq!(c(Generic, "9.1 SP3", "9.1.1"), None);
        assert_eq!(c(Generic, "1.0", "1.0.0"), Some(E));
        assert_eq!(c(Generic, "1.0rc1", "1.0"), Some(L));
        assert_eq!(c(Generic, "1.0-beta", "1.0-rc1"), Some(L));
        assert_eq!(c(Generic, "1.0.1", "1.0rc1"), Some(G));
        assert_eq!(c(Generic, "BT02", "BT06"), Some(L));
        assert_eq!(
            c(Generic, "2023.3_Build_9342", "2023.3_Build_9400"),
            Some(L)
        );
        assert_eq!(c(Generic, "12.2.8.410", "12.2.8.41"), Some(G));
        assert_eq!(c(Generic, "1.003", "1.3"), Some(E));
        assert_eq!(c(Generic, "1.0 final", "1.0"), Some(E));
        assert_eq!(c(Generic, "...", "1.0"), None);
        assert_eq!(c(Generic, "", "1.0"), None);
    }

    #[test]
    fn maven_orders_numbers_after_qualifiers() {
        assert_eq!(c(Maven, "1.0.1", "1.0-sp"), Some(G));
        assert_eq!(c(Maven, "1.0-SNAPSHOT", "1.0"), Some(L));
        assert_eq!(c(Maven, "1.0-alpha-1", "1.0-beta-1"), Some(L));
        assert_eq!(c(Maven, "1.0-rc1", "1.0-snapshot"), Some(L));
    }

    #[test]
    fn debian_policy() {
        // Debian policy 5.6.12: "~~" < "~~a" < "~" < "" < "a".
        let chain = ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a"];
        for w in chain.windows(2) {
            assert_eq!(c(Debian, w[0], w[1]), Some(L), "{} < {}", w[0], w[1]);
        }
        assert_eq!(c(Debian, "1:1.0", "2.0"), Some(G));
        assert_eq!(c(Debian, "1.2.3-1", "1.2.3-1ubuntu1"), Some(L));
        assert_eq!(c(Debian, "1.2.10", "1.2.9"), Some(G));
        assert_eq!(c(Debian, "2.30-0ubuntu1", "2.30-0ubuntu1"), Some(E));
        assert_eq!(c(Debian, "1.0+dfsg-1", "1.0-1"), Some(G));
        assert_eq!(c(Debian, "a:1.0", "1.0"), None);
    }

    #[test]
    fn rpm_vercmp() {
        // Cases from rpm's own test-suite table (rpmvercmp.at), re-typed as facts.
        let cases = [
            ("1.0", "1.0", E),
            ("1.0", "2.0", L),
            ("2.0.1", "2.0", G),
            ("2.0.1a", "2.0.1", G),
            ("5.5p1", "5.5p10", L),
            ("10xyz", "10.1xyz", L),
            ("xyz10", "xyz10.1", L),
            ("1.0aa", "1.0a", G),
            ("10", "9", G),
            ("1.0~rc1", "1.0", L),
            ("1.0~rc1", "1.0~rc2", L),
            ("1.0^", "1.0", G),
            ("1.0^git1", "1.0", G),
            ("1.0^git1", "1.01", L),
            ("1.0", "1.0.0", L),
            ("a", "1", L),
            ("1:1.0-1", "2.0-1", G),
            ("1.0-1", "1.0-2", L),
            ("1.0", "1.0-2", E),
        ];
        for (a, b, o) in cases {
            assert_eq!(c(Rpm, a, b), Some(o), "rpm {a} vs {b}");
            assert_eq!(c(Rpm, b, a), Some(o.reverse()), "rpm {b} vs {a}");
        }
    }

    #[test]
    fn pep440_order() {
        // PEP 440 "Summary of permitted suffixes and relative ordering" example chain.
        let chain = [
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.1.dev1",
        ];
        for w in chain.windows(2) {
            assert_eq!(c(Pypi, w[0], w[1]), Some(L), "{} < {}", w[0], w[1]);
        }
        assert_eq!(c(Pypi, "1.0", "1.0.0"), Some(E));
        assert_eq!(c(Pypi, "1.0-1", "1.0.post1"), Some(E));
        assert_eq!(c(Pypi, "1!0.1", "2.0"), Some(G));
        assert_eq!(c(Pypi, "1.0alpha", "1.0a0"), Some(E));
        assert_eq!(c(Pypi, "nonsense", "1.0"), None);
    }

    #[test]
    fn vers_ranges() {
        let r = VersRange::parse("vers:npm/>=1.0.0|<2.0.0").unwrap();
        assert_eq!(r.contains("1.0.0", Generic), Some(true));
        assert_eq!(r.contains("1.9.9", Generic), Some(true));
        assert_eq!(r.contains("2.0.0", Generic), Some(false));
        assert_eq!(r.contains("0.9.0", Generic), Some(false));
        assert_eq!(
            r.contains("2.0.0-rc.1", Generic),
            Some(true),
            "npm: semver pre-release"
        );
        assert_eq!(r.contains("not-a-version", Generic), None);
        let r = VersRange::parse("vers:pypi/<1.0|>=2.0|<3.0|!=2.5|4.0").unwrap();
        assert_eq!(r.contains("0.5", Generic), Some(true));
        assert_eq!(r.contains("1.5", Generic), Some(false));
        assert_eq!(r.contains("2.5", Generic), Some(false));
        assert_eq!(r.contains("2.6", Generic), Some(true));
        assert_eq!(r.contains("4.0", Generic), Some(true));
        assert_eq!(r.contains("3.5", Generic), Some(false));
        let r = VersRange::parse("vers:deb/ >= 1:1.0 | < 1:2.0 ").unwrap();
        assert_eq!(r.to_string(), "vers:deb/>=1:1.0|<1:2.0");
        assert_eq!(r.contains("1:1.5-1", Generic), Some(true));
        assert_eq!(r.contains("1.5-1", Generic), Some(false));
        let r = VersRange::parse("vers:generic/!=1.0").unwrap();
        assert_eq!(r.contains("1.0", Generic), Some(false));
        assert_eq!(r.contains("1.1", Generic), Some(true));
        assert!(VersRange::parse("vers:npm/").is_err());
        assert!(VersRange::parse("vers:npm/1.0||2.0").is_err());
        assert!(VersRange::parse("vers:npm/*|1.0").is_err());
        assert!(VersRange::parse("vers:/1.0").is_err());
        assert!(VersRange::parse("vers:npm").is_err());
        assert!(VersRange::parse("vers:npm/>=").is_err());
        assert_eq!(
            VersRange::parse("vers:generic/1.0%7C2")
                .unwrap()
                .constraints[0]
                .version,
            "1.0|2"
        );
    }

    fn p(s: &str) -> VersionPredicate {
        parse_predicate(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn free_form_cisa_predicates() {
        assert_eq!(p("All versions"), VersionPredicate::Any);
        assert_eq!(p("vers:all/*"), VersionPredicate::Any);
        assert_eq!(
            p("4.4.x"),
            VersionPredicate::Series {
                prefix: "4.4".into()
            }
        );
        let g = Generic;
        // Boundaries: exactly at the bound.
        assert_eq!(p("<=4.1").contains("4.1", g), Some(true));
        assert_eq!(p("<=4.1").contains("4.1.1", g), Some(false));
        assert_eq!(p("< 1.1.2").contains("1.1.2", g), Some(false));
        assert_eq!(p("< 1.1.2").contains("1.1.1", g), Some(true));
        assert_eq!(p("versions prior to 2.0").contains("2.0", g), Some(false));
        assert_eq!(p("versions prior to 2.0").contains("1.9.9", g), Some(true));
        assert_eq!(p("before 5.3").contains("5.3.0", g), Some(false));
        assert_eq!(p("2.1 and prior").contains("2.1", g), Some(true));
        assert_eq!(p("2.1 and prior").contains("2.2", g), Some(false));
        assert_eq!(p("2.3.6 and  below").contains("2.3.6", g), Some(true));
        assert_eq!(p("<= 3.5 SP1").contains("3.5", g), Some(true));
        assert_eq!(p("<= 3.5 SP1").contains("3.5 SP2", g), Some(false));
        assert_eq!(p("<= 3.5 SP1").contains("3.5.1", g), None);
        assert_eq!(p("4.4.x").contains("4.4.17", g), Some(true));
        assert_eq!(p("4.4.x").contains("4.5", g), Some(false));
        assert_eq!(p("<= 12.2.x.x").contains("12.2.9.1", g), Some(true));
        assert_eq!(p("<= 12.2.x.x").contains("12.3", g), Some(false));
        assert_eq!(p(">= 2.0 | <= 3.0").contains("2.5", g), Some(true));
        assert_eq!(p(">= 2.0 | <= 3.0").contains("3.0", g), Some(true));
        assert_eq!(p(">= 2.0 | <= 3.0").contains("3.1", g), Some(false));
        assert_eq!(p(">= 2.0 | <= 3.0").contains("1.9", g), Some(false));
        assert_eq!(p("BT03 | BT04 | BT06").contains("BT04", g), Some(true));
        assert_eq!(p("BT03 | BT04 | BT06").contains("BT05", g), Some(false));
        assert_eq!(p("1.0 through 2.0").contains("2.0", g), Some(true));
        // Two upper bounds of two product lines: a union, not a VERS interval list.
        assert_eq!(p("<= U61 |<= L81").contains("U50", g), Some(true));
        assert_eq!(p("<= U61 |<= L81").contains("L81", g), Some(true));
        assert_eq!(p("<= U61 |<= L81").contains("U62", g), Some(false));
        assert_eq!(p("5.0 and later").contains("4.9", g), Some(false));
        // Unknown installed version: undecided, never a silent yes/no.
        assert_eq!(p("<=4.1").contains("unknown", g), None);
        assert_eq!(p("<=4.1").contains("", g), None);
        assert_eq!(p("1.0.13").contains("", g), None);
        assert_eq!(p("All versions").contains("whatever", g), Some(true));
        let a = p("<= 1.54 (integrated into GE MobileLink)");
        assert_eq!(a.note(), Some("integrated into GE MobileLink"));
        assert_eq!(a.contains("1.54", g), Some(true));
        assert_eq!(a.to_string(), "<=1.54 (integrated into GE MobileLink)");
        assert_eq!(p("* (end-of-life 2011)").contains("1", g), Some(true));
        // Errors
        assert_eq!(parse_predicate(""), Err(VersionError::Empty));
        assert!(matches!(
            parse_predicate("<="),
            Err(VersionError::MissingVersion { .. })
        ));
        assert!(matches!(
            parse_predicate("<= ..."),
            Err(VersionError::NotAVersion { .. })
        ));
        assert!(parse_predicate("vers:").is_err());
    }

    #[test]
    fn cve5_forms() {
        let g = Generic;
        // CVE-2022-2119 (DCMTK): version "unspecified", lessThan "3.6.7".
        let p = cve5_predicate("unspecified", Some("3.6.7"), None).unwrap();
        assert_eq!(p.contains("3.6.6", g), Some(true));
        assert_eq!(p.contains("3.6.7", g), Some(false));
        // CVE-2024-1275 (Baxter): version "0", lessThanOrEqual "1.52".
        let p = cve5_predicate("0", None, Some("1.52")).unwrap();
        assert_eq!(p.contains("1.52", g), Some(true));
        assert_eq!(p.contains("1.53", g), Some(false));
        let p = cve5_predicate("2.0", Some("*"), None).unwrap();
        assert_eq!(p.contains("1.9", g), Some(false));
        assert_eq!(p.contains("9.0", g), Some(true));
        assert_eq!(
            cve5_predicate("0", Some("*"), None),
            Ok(VersionPredicate::Any)
        );
        // CVE-2019-12255: version "n/a" alone cannot decide anything.
        assert_eq!(
            cve5_predicate("n/a", None, None)
                .unwrap()
                .contains("6.9", g),
            None
        );
    }

    #[test]
    fn osv_events() {
        use OsvEvent::*;
        let ev = |v: &[(&str, &str)]| -> Vec<OsvEvent> {
            v.iter()
                .map(|(k, x)| match *k {
                    "i" => Introduced(x.to_string()),
                    "f" => Fixed(x.to_string()),
                    "l" => LastAffected(x.to_string()),
                    _ => Limit(x.to_string()),
                })
                .collect()
        };
        // Unsorted, as ghsa-to-osv writes them.
        let e = ev(&[("i", "0"), ("i", "2.0.0"), ("f", "2.0.1"), ("f", "1.3.2")]);
        assert_eq!(osv_affected(&e, "1.3.1", Semver), Some(true));
        assert_eq!(osv_affected(&e, "1.3.2", Semver), Some(false));
        assert_eq!(osv_affected(&e, "2.0.0", Semver), Some(true));
        assert_eq!(osv_affected(&e, "2.0.1", Semver), Some(false));
        assert_eq!(osv_affected(&e, "garbage", Semver), None);
        let e = ev(&[("i", "1.0"), ("l", "1.5")]);
        assert_eq!(osv_affected(&e, "1.5", Generic), Some(true));
        assert_eq!(osv_affected(&e, "1.5.1", Generic), Some(false));
        let j: Vec<OsvEvent> =
            serde_json::from_str(r#"[{"introduced":"0"},{"fixed":"1.6.0"}]"#).unwrap();
        assert_eq!(j, ev(&[("i", "0"), ("f", "1.6.0")]));
        assert_eq!(osv_ecosystem_scheme("Red Hat:rhel_aus:8.6::appstream"), Rpm);
        assert_eq!(osv_ecosystem_scheme("PyPI"), Pypi);
        assert_eq!(osv_ecosystem_scheme("Alpine:v3.3"), Generic);
    }

    #[test]
    fn ghsa_comma_conjunction() {
        let p = p(">= 12.10.0, < 12.10.2");
        assert_eq!(p.contains("12.10.1", Maven), Some(true));
        assert_eq!(p.contains("12.10.2", Maven), Some(false));
        assert_eq!(p.contains("12.9", Maven), Some(false));
    }

    #[test]
    fn serde_shape() {
        let j = serde_json::to_value(p("< 2.0")).unwrap();
        assert_eq!(j["kind"], "range");
        assert_eq!(j["range"]["constraints"][0]["comparator"], "<");
        let back: VersionPredicate = serde_json::from_value(j).unwrap();
        assert_eq!(back, p("< 2.0"));
    }
}
