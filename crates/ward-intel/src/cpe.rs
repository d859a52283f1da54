//! CPE 2.3 names: parse the formatted-string binding (`cpe:2.3:a:vendor:product:...`) and
//! the 2.2 URI binding (`cpe:/a:vendor:product:...`), bind back to either, and match a
//! name pattern against a concrete name.
//!
//! The internal form is NISTIR 7695's well-formed name (WFN): eleven attributes, each ANY,
//! NA or a value in which every non-alphanumeric character other than `_` is quoted with a
//! backslash, and unquoted `*` / `?` are wildcards. Unbinding and binding follow NISTIR 7695
//! sections 6.1 (URI) and 6.2 (formatted string); matching follows NISTIR 7696 section 6
//! (attribute comparison table and the CPE name relations). Comparison is case-insensitive.
//!
//! ```
//! use ward_intel::cpe::Cpe;
//! let pattern = Cpe::parse("cpe:2.3:a:dcmtk:dcmtk:3.6.*:*:*:*:*:*:*:*").unwrap();
//! let device = Cpe::parse("cpe:/a:dcmtk:dcmtk:3.6.7").unwrap();
//! assert!(pattern.matches(&device));
//! assert_eq!(device.to_string(), "cpe:2.3:a:dcmtk:dcmtk:3.6.7:*:*:*:*:*:*:*");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest CPE string accepted.
const MAX_LEN: usize = 2048;

/// The attribute names in WFN order.
pub const ATTRIBUTE_NAMES: [&str; 11] = [
    "part",
    "vendor",
    "product",
    "version",
    "update",
    "edition",
    "language",
    "sw_edition",
    "target_sw",
    "target_hw",
    "other",
];

/// One attribute of a well-formed name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AttrValue {
    /// `*` in a formatted string, empty in a URI: any value.
    Any,
    /// `-`: not applicable.
    Na,
    /// A WFN value: special characters quoted with `\`, unquoted `*`/`?` are wildcards.
    Value(String),
}

impl AttrValue {
    /// A value from plain text (a vendor, product or version as a device reports it):
    /// every character other than a letter, digit or `_` is quoted, so `*` and `?` are
    /// literal. Letters are lower-cased and spaces become `_`, as NVD names are written;
    /// empty text gives ANY.
    pub fn literal(text: &str) -> Self {
        let t = text.trim();
        if t.is_empty() {
            return Self::Any;
        }
        let mut out = String::with_capacity(t.len() + 4);
        for c in t.chars() {
            if c.is_ascii_alphanumeric() || c == '_' {
                out.push(c.to_ascii_lowercase());
            } else if c.is_whitespace() {
                out.push('_');
            } else if c.is_ascii_graphic() {
                out.push('\\');
                out.push(c);
            }
            // Non-ASCII characters have no CPE 2.3 representation and are dropped.
        }
        if out.is_empty() {
            Self::Any
        } else {
            Self::Value(out)
        }
    }

    /// The value with quoting removed, for people ("3.6.7", "windows_10"); `None` for
    /// ANY/NA.
    pub fn unquoted(&self) -> Option<String> {
        match self {
            Self::Value(v) => {
                let mut out = String::with_capacity(v.len());
                let mut esc = false;
                for c in v.chars() {
                    if c == '\\' && !esc {
                        esc = true;
                        continue;
                    }
                    esc = false;
                    out.push(c);
                }
                Some(out)
            }
            _ => None,
        }
    }

    /// Whether the value has an unquoted `*` or `?`.
    pub fn has_wildcards(&self) -> bool {
        match self {
            Self::Value(v) => {
                let b = v.as_bytes();
                b.iter()
                    .enumerate()
                    .any(|(i, &c)| (c == b'*' || c == b'?') && !is_quoted(b, i))
            }
            _ => false,
        }
    }
}

/// Whether the byte at `i` is preceded by an odd number of backslashes.
fn is_quoted(b: &[u8], i: usize) -> bool {
    let n = b[..i].iter().rev().take_while(|&&c| c == b'\\').count();
    n % 2 == 1
}

/// A CPE 2.3 well-formed name (or name pattern, when it holds wildcards or ANY).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cpe {
    pub part: AttrValue,
    pub vendor: AttrValue,
    pub product: AttrValue,
    pub version: AttrValue,
    pub update: AttrValue,
    pub edition: AttrValue,
    pub language: AttrValue,
    pub sw_edition: AttrValue,
    pub target_sw: AttrValue,
    pub target_hw: AttrValue,
    pub other: AttrValue,
}

/// Why a CPE string was rejected. Positions are byte offsets into the string.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CpeError {
    #[error("CPE is {len} bytes long; at most {MAX_LEN} are accepted")]
    TooLong { len: usize },
    #[error("not a CPE: expected \"cpe:2.3:\" or \"cpe:/\" at the start")]
    BadPrefix,
    #[error("CPE 2.3 formatted string has {found} components; 13 are required")]
    ComponentCount { found: usize },
    #[error("CPE URI has {found} components after \"cpe:/\"; at most 7 are allowed")]
    TooManyUriComponents { found: usize },
    #[error("invalid part {value:?} at byte {position}: expected a, o, h or *")]
    BadPart { value: String, position: usize },
    #[error("{attribute}: character {ch:?} not allowed at byte {position}")]
    BadCharacter {
        attribute: &'static str,
        ch: char,
        position: usize,
    },
    #[error("{attribute}: wildcard {ch:?} at byte {position} may only begin or end a value")]
    EmbeddedWildcard {
        attribute: &'static str,
        ch: char,
        position: usize,
    },
    #[error("{attribute}: dangling escape at byte {position}")]
    DanglingEscape {
        attribute: &'static str,
        position: usize,
    },
    #[error("{attribute}: bad percent-encoding at byte {position}")]
    BadPercent {
        attribute: &'static str,
        position: usize,
    },
    #[error("packed edition at byte {position} has {found} fields; 5 are required")]
    BadPackedEdition { found: usize, position: usize },
}

/// Relation between two attribute values (NISTIR 7696 Table 6-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeRelation {
    Disjoint,
    Subset,
    Superset,
    Equal,
    /// The target holds a wildcard: not defined by the specification.
    Undefined,
}

/// Relation between two names (NISTIR 7696 section 6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameRelation {
    /// At least one attribute is disjoint.
    Disjoint,
    /// Every attribute is equal.
    Equal,
    /// Every attribute of the source is a superset of or equal to the target's.
    Superset,
    /// Every attribute of the source is a subset of or equal to the target's.
    Subset,
    /// A mix (or an undefined attribute comparison): none of the above.
    Indeterminate,
}

impl Cpe {
    /// Every attribute ANY.
    pub fn any() -> Self {
        Self::from_attributes(std::array::from_fn(|_| AttrValue::Any))
    }

    fn from_attributes(a: [AttrValue; 11]) -> Self {
        let [part, vendor, product, version, update, edition, language, sw_edition, target_sw, target_hw, other] =
            a;
        Self {
            part,
            vendor,
            product,
            version,
            update,
            edition,
            language,
            sw_edition,
            target_sw,
            target_hw,
            other,
        }
    }

    /// A name from plain text: `part` is 'a', 'o' or 'h'; the other attributes are ANY.
    /// ```
    /// use ward_intel::cpe::Cpe;
    /// let c = Cpe::from_parts('a', "OFFIS", "DCMTK", "3.6.7");
    /// assert_eq!(c.to_string(), "cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*");
    /// ```
    pub fn from_parts(part: char, vendor: &str, product: &str, version: &str) -> Self {
        let mut c = Self::any();
        c.part = match part.to_ascii_lowercase() {
            p @ ('a' | 'o' | 'h') => AttrValue::Value(p.to_string()),
            _ => AttrValue::Any,
        };
        c.vendor = AttrValue::literal(vendor);
        c.product = AttrValue::literal(product);
        c.version = AttrValue::literal(version);
        c
    }

    /// The eleven attributes in WFN order (see [`ATTRIBUTE_NAMES`]).
    pub fn attributes(&self) -> [&AttrValue; 11] {
        [
            &self.part,
            &self.vendor,
            &self.product,
            &self.version,
            &self.update,
            &self.edition,
            &self.language,
            &self.sw_edition,
            &self.target_sw,
            &self.target_hw,
            &self.other,
        ]
    }

    /// Parses either binding: a 2.3 formatted string or a 2.2 URI.
    pub fn parse(s: &str) -> Result<Self, CpeError> {
        let t = s.trim();
        if t.len() > MAX_LEN {
            return Err(CpeError::TooLong { len: t.len() });
        }
        let lower_prefix = t.get(..8).map(str::to_ascii_lowercase);
        if lower_prefix.as_deref() == Some("cpe:2.3:") {
            Self::parse_formatted(t)
        } else if t.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("cpe:/")) {
            Self::parse_uri(t)
        } else {
            Err(CpeError::BadPrefix)
        }
    }

    /// Unbinds a CPE 2.3 formatted string (NISTIR 7695 section 6.2.3).
    pub fn parse_formatted(s: &str) -> Result<Self, CpeError> {
        if s.len() > MAX_LEN {
            return Err(CpeError::TooLong { len: s.len() });
        }
        if !s
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("cpe:2.3:"))
        {
            return Err(CpeError::BadPrefix);
        }
        // Split on unquoted ':'.
        let b = s.as_bytes();
        let mut comps: Vec<(usize, &str)> = Vec::with_capacity(13);
        let mut start = 0;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b':' => {
                    comps.push((start, s.get(start..i).unwrap_or("")));
                    start = i + 1;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        comps.push((start, s.get(start.min(s.len())..).unwrap_or("")));
        if comps.len() != 13 {
            return Err(CpeError::ComponentCount { found: comps.len() });
        }
        let mut attrs: [AttrValue; 11] = std::array::from_fn(|_| AttrValue::Any);
        for (k, (pos, comp)) in comps.iter().skip(2).enumerate() {
            attrs[k] = fs_component(ATTRIBUTE_NAMES[k], comp, *pos)?;
        }
        check_part(&attrs[0], comps[2].0)?;
        Ok(Self::from_attributes(attrs))
    }

    /// Unbinds a CPE 2.2 URI (NISTIR 7695 section 6.1.3), including a packed edition.
    pub fn parse_uri(s: &str) -> Result<Self, CpeError> {
        if s.len() > MAX_LEN {
            return Err(CpeError::TooLong { len: s.len() });
        }
        let body = s
            .get(..5)
            .filter(|p| p.eq_ignore_ascii_case("cpe:/"))
            .and_then(|_| s.get(5..))
            .ok_or(CpeError::BadPrefix)?;
        let lower = body.to_ascii_lowercase();
        let comps: Vec<&str> = lower.split(':').collect();
        if comps.len() > 7 {
            return Err(CpeError::TooManyUriComponents { found: comps.len() });
        }
        let mut attrs: [AttrValue; 11] = std::array::from_fn(|_| AttrValue::Any);
        let mut pos = 5;
        for (k, comp) in comps.iter().enumerate() {
            if k == 5 && comp.starts_with('~') {
                let fields: Vec<&str> = comp.split('~').collect();
                // "~ed~sw~tsw~thw~oth" splits into six pieces, the first empty.
                if fields.len() != 6 {
                    return Err(CpeError::BadPackedEdition {
                        found: fields.len().saturating_sub(1),
                        position: pos,
                    });
                }
                let mut fpos = pos + 1;
                for (j, f) in fields.iter().skip(1).enumerate() {
                    let idx = [5, 7, 8, 9, 10][j];
                    attrs[idx] = uri_component(ATTRIBUTE_NAMES[idx], f, fpos)?;
                    fpos += f.len() + 1;
                }
            } else {
                attrs[k] = uri_component(ATTRIBUTE_NAMES[k], comp, pos)?;
            }
            pos += comp.len() + 1;
        }
        check_part(&attrs[0], 5)?;
        Ok(Self::from_attributes(attrs))
    }

    /// Binds to a 2.3 formatted string (NISTIR 7695 section 6.2.2).
    pub fn to_formatted_string(&self) -> String {
        let mut out = String::from("cpe:2.3");
        for a in self.attributes() {
            out.push(':');
            match a {
                AttrValue::Any => out.push('*'),
                AttrValue::Na => out.push('-'),
                // A lone literal hyphen must stay quoted, or it would read back as NA.
                AttrValue::Value(v) if v == "\\-" => out.push_str(v),
                AttrValue::Value(v) => {
                    let b = v.as_bytes();
                    let mut i = 0;
                    while i < b.len() {
                        if b[i] == b'\\' {
                            if let Some(&c) = b.get(i + 1) {
                                if !matches!(c, b'.' | b'-' | b'_') {
                                    out.push('\\');
                                }
                                out.push(char::from(c));
                            }
                            i += 2;
                        } else {
                            out.push(char::from(b[i]));
                            i += 1;
                        }
                    }
                }
            }
        }
        out
    }

    /// Binds to a 2.2 URI (NISTIR 7695 section 6.1.2), packing the extended attributes
    /// into the edition component when any is not ANY.
    pub fn to_uri(&self) -> String {
        let mut comps: Vec<String> = Vec::with_capacity(7);
        for a in [
            &self.part,
            &self.vendor,
            &self.product,
            &self.version,
            &self.update,
        ] {
            comps.push(uri_bind(a));
        }
        let extended = [
            &self.sw_edition,
            &self.target_sw,
            &self.target_hw,
            &self.other,
        ];
        if extended.iter().all(|a| **a == AttrValue::Any) {
            comps.push(uri_bind(&self.edition));
        } else {
            let mut packed = String::new();
            for a in std::iter::once(&self.edition).chain(extended) {
                packed.push('~');
                packed.push_str(&uri_bind(a));
            }
            comps.push(packed);
        }
        comps.push(uri_bind(&self.language));
        while comps.last().is_some_and(String::is_empty) {
            comps.pop();
        }
        format!("cpe:/{}", comps.join(":"))
    }

    /// NISTIR 7696 name comparison of `self` (source) with `target`.
    pub fn compare(&self, target: &Cpe) -> NameRelation {
        let rels: Vec<AttributeRelation> = self
            .attributes()
            .iter()
            .zip(target.attributes())
            .map(|(s, t)| compare_attributes(s, t))
            .collect();
        if rels.contains(&AttributeRelation::Disjoint) {
            return NameRelation::Disjoint;
        }
        if rels.iter().all(|r| *r == AttributeRelation::Equal) {
            return NameRelation::Equal;
        }
        if rels
            .iter()
            .all(|r| matches!(r, AttributeRelation::Superset | AttributeRelation::Equal))
        {
            return NameRelation::Superset;
        }
        if rels
            .iter()
            .all(|r| matches!(r, AttributeRelation::Subset | AttributeRelation::Equal))
        {
            return NameRelation::Subset;
        }
        NameRelation::Indeterminate
    }

    /// Whether this name (typically an advisory's pattern) matches `target` (typically an
    /// inventory name): CPE_SUPERSET or CPE_EQUAL in NISTIR 7696 terms.
    pub fn matches(&self, target: &Cpe) -> bool {
        matches!(
            self.compare(target),
            NameRelation::Superset | NameRelation::Equal
        )
    }
}

fn check_part(part: &AttrValue, position: usize) -> Result<(), CpeError> {
    match part {
        AttrValue::Any => Ok(()),
        AttrValue::Value(v) if matches!(v.to_ascii_lowercase().as_str(), "a" | "o" | "h") => Ok(()),
        AttrValue::Na => Err(CpeError::BadPart {
            value: "-".into(),
            position,
        }),
        AttrValue::Value(v) => Err(CpeError::BadPart {
            value: v.clone(),
            position,
        }),
    }
}

/// A formatted-string component to a WFN value (NISTIR 7695 `unbind_value_fs` and
/// `add_quoting`).
fn fs_component(attribute: &'static str, s: &str, pos: usize) -> Result<AttrValue, CpeError> {
    match s {
        "*" => return Ok(AttrValue::Any),
        "-" => return Ok(AttrValue::Na),
        _ => {}
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 4);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let at = pos + i;
        if c.is_ascii_alphanumeric() || c == b'_' {
            out.push(char::from(c));
            i += 1;
        } else if c == b'\\' {
            match b.get(i + 1) {
                Some(&n) if n.is_ascii_alphanumeric() || n == b'_' => {
                    // Quoting a letter, digit or '_' means nothing: store it plain so
                    // that both bindings give the same WFN.
                    out.push(char::from(n));
                    i += 2;
                }
                Some(&n) if n.is_ascii_graphic() => {
                    out.push('\\');
                    out.push(char::from(n));
                    i += 2;
                }
                Some(&n) => {
                    return Err(CpeError::BadCharacter {
                        attribute,
                        ch: char::from(n),
                        position: at + 1,
                    })
                }
                None => {
                    return Err(CpeError::DanglingEscape {
                        attribute,
                        position: at,
                    })
                }
            }
        } else if c == b'*' {
            // "*" begins or ends a value and never touches a "?" run ("*??" is not a
            // legal value: NISTIR 7695 section 5.3.2).
            let touches_q = (i > 0 && b[i - 1] == b'?') || b.get(i + 1) == Some(&b'?');
            if (i != 0 && i != b.len() - 1) || touches_q {
                return Err(CpeError::EmbeddedWildcard {
                    attribute,
                    ch: '*',
                    position: at,
                });
            }
            out.push('*');
            i += 1;
        } else if c == b'?' {
            let leading = b[..i].iter().all(|&x| x == b'?');
            let trailing = b[i..].iter().all(|&x| x == b'?');
            if !leading && !trailing {
                return Err(CpeError::EmbeddedWildcard {
                    attribute,
                    ch: '?',
                    position: at,
                });
            }
            out.push('?');
            i += 1;
        } else if c.is_ascii_graphic() {
            out.push('\\');
            out.push(char::from(c));
            i += 1;
        } else {
            let ch = s
                .get(i..)
                .and_then(|r| r.chars().next())
                .unwrap_or('\u{fffd}');
            return Err(CpeError::BadCharacter {
                attribute,
                ch,
                position: at,
            });
        }
    }
    if out.is_empty() {
        // An empty formatted-string component is not defined; read it as ANY like the
        // reference implementation's lenient mode would not: reject.
        return Err(CpeError::BadCharacter {
            attribute,
            ch: ':',
            position: pos,
        });
    }
    Ok(AttrValue::Value(out))
}

/// A URI component to a WFN value (NISTIR 7695 `decode`).
fn uri_component(attribute: &'static str, s: &str, pos: usize) -> Result<AttrValue, CpeError> {
    match s {
        "" => return Ok(AttrValue::Any),
        "-" => return Ok(AttrValue::Na),
        _ => {}
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut embedded = false;
    while i < b.len() {
        let c = b[i];
        let at = pos + i;
        if c.is_ascii_alphanumeric() || c == b'_' {
            out.push(char::from(c));
            embedded = true;
            i += 1;
            continue;
        }
        if c != b'%' {
            if !c.is_ascii_graphic() {
                let ch = s
                    .get(i..)
                    .and_then(|r| r.chars().next())
                    .unwrap_or('\u{fffd}');
                return Err(CpeError::BadCharacter {
                    attribute,
                    ch,
                    position: at,
                });
            }
            out.push('\\');
            out.push(char::from(c));
            embedded = true;
            i += 1;
            continue;
        }
        let form = s.get(i..i + 3).ok_or(CpeError::BadPercent {
            attribute,
            position: at,
        })?;
        match form {
            "%01" => {
                let ok = i == 0
                    || i + 3 == b.len()
                    || (!embedded && i >= 3 && s.get(i - 3..i) == Some("%01"))
                    || (embedded && s.get(i + 3..i + 6) == Some("%01"));
                if !ok {
                    return Err(CpeError::EmbeddedWildcard {
                        attribute,
                        ch: '?',
                        position: at,
                    });
                }
                out.push('?');
            }
            "%02" => {
                if i != 0 && i + 3 != b.len() {
                    return Err(CpeError::EmbeddedWildcard {
                        attribute,
                        ch: '*',
                        position: at,
                    });
                }
                out.push('*');
            }
            _ => {
                let v = u8::from_str_radix(&form[1..], 16)
                    .ok()
                    .filter(u8::is_ascii_graphic)
                    .ok_or(CpeError::BadPercent {
                        attribute,
                        position: at,
                    })?;
                if v.is_ascii_alphanumeric() || v == b'_' {
                    out.push(char::from(v));
                } else {
                    out.push('\\');
                    out.push(char::from(v));
                }
                embedded = true;
            }
        }
        i += 3;
    }
    if out == "*" {
        // "%02" alone is the URI spelling of ANY.
        return Ok(AttrValue::Any);
    }
    Ok(AttrValue::Value(out))
}

/// A WFN value to a URI component (NISTIR 7695 `bind_value_for_uri`).
fn uri_bind(a: &AttrValue) -> String {
    match a {
        AttrValue::Any => String::new(),
        AttrValue::Na => "-".into(),
        // A lone literal hyphen is percent-encoded, or it would read back as NA.
        AttrValue::Value(v) if v == "\\-" => "%2d".into(),
        AttrValue::Value(v) => {
            let b = v.as_bytes();
            let mut out = String::with_capacity(v.len());
            let mut i = 0;
            while i < b.len() {
                let c = b[i];
                if c == b'\\' {
                    if let Some(&n) = b.get(i + 1) {
                        match n {
                            b'-' | b'.' => out.push(char::from(n)),
                            _ => out.push_str(&format!("%{n:02x}")),
                        }
                    }
                    i += 2;
                    continue;
                }
                match c {
                    b'?' => out.push_str("%01"),
                    b'*' => out.push_str("%02"),
                    _ => out.push(char::from(c)),
                }
                i += 1;
            }
            out
        }
    }
}

/// Compares a source attribute with a target attribute (NISTIR 7696 section 6.1).
pub fn compare_attributes(source: &AttrValue, target: &AttrValue) -> AttributeRelation {
    if target.has_wildcards() {
        return AttributeRelation::Undefined;
    }
    let (s, t) = match (source, target) {
        (AttrValue::Value(s), AttrValue::Value(t)) => {
            (s.to_ascii_lowercase(), t.to_ascii_lowercase())
        }
        _ => {
            if source == target {
                return AttributeRelation::Equal;
            }
            if *source == AttrValue::Any {
                return AttributeRelation::Superset;
            }
            if *target == AttrValue::Any {
                return AttributeRelation::Subset;
            }
            return AttributeRelation::Disjoint;
        }
    };
    if s == t {
        return AttributeRelation::Equal;
    }
    if compare_strings(s.as_bytes(), t.as_bytes()) {
        AttributeRelation::Superset
    } else {
        AttributeRelation::Disjoint
    }
}

/// Counts escape characters (unquoted backslashes) in `b[start..end]`.
fn count_escapes(b: &[u8], start: usize, end: usize) -> usize {
    let mut n = 0;
    let mut active = false;
    let end = end.min(b.len());
    for &c in b.get(start..end).unwrap_or(&[]) {
        if c == b'\\' && !active {
            n += 1;
            active = true;
        } else {
            active = false;
        }
    }
    n
}

fn find_from(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    if needle.is_empty() {
        return Some(from);
    }
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// NISTIR 7696 `compare_strings`: does the source (possibly with leading/trailing
/// wildcards) match the target string?
fn compare_strings(source: &[u8], target: &[u8]) -> bool {
    if source == b"*" {
        return true;
    }
    let mut start = 0usize;
    let mut end = source.len();
    let mut begins: isize = 0;
    let mut ends: isize = 0;
    if source.first() == Some(&b'*') {
        start = 1;
        begins = -1;
    } else {
        while start < source.len() && source[start] == b'?' {
            start += 1;
            begins += 1;
        }
    }
    if end > start && source[end - 1] == b'*' && !is_quoted(source, end - 1) {
        end -= 1;
        ends = -1;
    } else {
        while end > start && source[end - 1] == b'?' && !is_quoted(source, end - 1) {
            end -= 1;
            ends += 1;
        }
    }
    let core = &source[start..end];
    // Positions and lengths count logical characters (an escape pair is one character),
    // which is what the NISTIR 7696 pseudo-code's escape counting is for. Ward reads a run
    // of k '?' as exactly k characters (NISTIR 7695 5.3.2: '?' matches one character).
    let logical = |b: &[u8]| b.len() - count_escapes(b, 0, b.len());
    let mut from = 0usize;
    while let Some(found) = find_from(target, core, from) {
        from = found + 1;
        if found > 0 && is_quoted(target, found) {
            // The match would start inside an escape pair.
            continue;
        }
        let before = logical(&target[..found]) as isize;
        let after = logical(target.get(found + core.len()..).unwrap_or(&[])) as isize;
        let begin_ok = begins == -1 || before == begins;
        let end_ok = ends == -1 || after == ends;
        if begin_ok && end_ok {
            return true;
        }
        if begins != -1 && before > begins {
            // Later occurrences only start further right.
            break;
        }
        if core.is_empty() && from > target.len() {
            break;
        }
    }
    false
}

impl fmt::Display for Cpe {
    /// The 2.3 formatted string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_formatted_string())
    }
}

impl std::str::FromStr for Cpe {
    type Err = CpeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Cpe {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cpe {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Invariants a fuzzer checks on any input (shared by `fuzz/fuzz_targets/cpe_parse.rs`
/// and the crate's random-input tests): parsing never panics; an accepted name binds to a
/// formatted string and a URI that both unbind to the same name (the URI up to case), and
/// a name without wildcards matches itself.
#[doc(hidden)]
pub fn check_invariants(input: &str) {
    let Ok(c) = Cpe::parse(input) else {
        return;
    };
    let fs = c.to_formatted_string();
    assert_eq!(Cpe::parse(&fs).as_ref(), Ok(&c), "{input:?} -> {fs:?}");
    let uri = c.to_uri();
    match Cpe::parse(&uri) {
        Ok(back) => assert!(
            back.to_formatted_string()
                .eq_ignore_ascii_case(&c.to_formatted_string()),
            "{input:?} -> {uri:?} -> {back:?}"
        ),
        Err(e) => panic!("{input:?} binds to URI {uri:?} which does not parse: {e}"),
    }
    if !c.attributes().iter().any(|a| a.has_wildcards()) {
        assert!(c.matches(&c), "{input:?} does not match itself");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttributeRelation as R;

    fn v(s: &str) -> AttrValue {
        AttrValue::Value(s.into())
    }

    #[test]
    fn formatted_string_round_trip_with_quoting() {
        // NISTIR 7695 section 6.2.3 example 2 style: quoted characters survive.
        let s = r"cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*";
        let c = Cpe::parse(s).unwrap();
        assert_eq!(c.version, v(r"7\.4\.0\.1570"));
        assert_eq!(c.update, AttrValue::Na);
        assert_eq!(c.sw_edition, v("online"));
        assert_eq!(c.to_formatted_string(), s);
        let q = Cpe::parse(r"cpe:2.3:a:foo\\bar:big\$money_2010:*:*:*:*:special:ipod_touch:80gb:*")
            .unwrap();
        assert_eq!(q.vendor, v(r"foo\\bar"));
        assert_eq!(q.product, v(r"big\$money_2010"));
        assert_eq!(q.vendor.unquoted().as_deref(), Some(r"foo\bar"));
        assert_eq!(
            q.to_formatted_string(),
            r"cpe:2.3:a:foo\\bar:big\$money_2010:*:*:*:*:special:ipod_touch:80gb:*"
        );
        // Escaped colon stays inside its component.
        let c = Cpe::parse(r"cpe:2.3:a:vendor:prod\:uct:1.0:*:*:*:*:*:*:*").unwrap();
        assert_eq!(c.product, v(r"prod\:uct"));
    }

    #[test]
    fn uri_unbinding_and_packed_edition() {
        // NISTIR 7695 section 6.1.3.3 example 4: packed edition.
        let c =
            Cpe::parse("cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~").unwrap();
        assert_eq!(c.edition, AttrValue::Any);
        assert_eq!(c.sw_edition, v("online"));
        assert_eq!(c.target_sw, v("win2003"));
        assert_eq!(c.target_hw, v("x64"));
        assert_eq!(c.other, AttrValue::Any);
        assert_eq!(
            c.to_uri(),
            "cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~"
        );
        // Example 2/3: percent-encoding and wildcards %01 / %02.
        let c = Cpe::parse("cpe:/a:foo%5cbar:big%24money_manager_2010").unwrap();
        assert_eq!(c.vendor, v(r"foo\\bar"));
        assert_eq!(c.product, v(r"big\$money_manager_2010"));
        let c = Cpe::parse("cpe:/a:foo~bar:big%7emoney_2010").unwrap();
        assert_eq!(c.vendor, v(r"foo\~bar"));
        assert_eq!(c.product, v(r"big\~money_2010"));
        let c = Cpe::parse("cpe:/a:foo:bar:12.%02.1234").unwrap_err();
        assert!(
            matches!(c, CpeError::EmbeddedWildcard { ch: '*', .. }),
            "{c:?}"
        );
        let c = Cpe::parse("cpe:/o:microsoft:windows_xp:%02").unwrap();
        assert_eq!(c.version, AttrValue::Any);
        let c = Cpe::parse("cpe:/o:microsoft:windows_xp:%01%01").unwrap();
        assert_eq!(c.version, v("??"));
        // URI and formatted string agree.
        let u = Cpe::parse("cpe:/o:microsoft:windows_7:-:sp1").unwrap();
        assert_eq!(
            u.to_string(),
            "cpe:2.3:o:microsoft:windows_7:-:sp1:*:*:*:*:*:*"
        );
        assert_eq!(u.to_uri(), "cpe:/o:microsoft:windows_7:-:sp1");
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Cpe::parse("foo"), Err(CpeError::BadPrefix));
        assert_eq!(
            Cpe::parse("cpe:2.3:a:b:c"),
            Err(CpeError::ComponentCount { found: 5 })
        );
        assert!(matches!(
            Cpe::parse("cpe:2.3:x:b:c:*:*:*:*:*:*:*:*"),
            Err(CpeError::BadPart { position: 8, .. })
        ));
        assert!(matches!(
            Cpe::parse("cpe:2.3:a:b:c:1*2:*:*:*:*:*:*:*"),
            Err(CpeError::EmbeddedWildcard {
                ch: '*',
                position: 15,
                ..
            })
        ));
        assert!(matches!(
            Cpe::parse("cpe:2.3:a:b:c:1 2:*:*:*:*:*:*:*"),
            Err(CpeError::BadCharacter {
                ch: ' ',
                position: 15,
                ..
            })
        ));
        assert!(matches!(
            Cpe::parse("cpe:/a:b:c:d:e:f:g:h"),
            Err(CpeError::TooManyUriComponents { found: 8 })
        ));
        assert!(matches!(
            Cpe::parse("cpe:/a:b:c:d:e:~x~y"),
            Err(CpeError::BadPackedEdition { .. })
        ));
        assert!(matches!(
            Cpe::parse("cpe:/a:b:c%zz"),
            Err(CpeError::BadPercent { .. })
        ));
    }

    #[test]
    fn attribute_comparison_table() {
        // NISTIR 7696 Table 6-2, rows 1-17 (ANY, NA, i = string, k = other string,
        // m + wild cards, m = i with wildcards).
        let any = AttrValue::Any;
        let na = AttrValue::Na;
        assert_eq!(compare_attributes(&any, &any), R::Equal); // 1
        assert_eq!(compare_attributes(&any, &na), R::Superset); // 2
        assert_eq!(compare_attributes(&any, &v("i")), R::Superset); // 3
        assert_eq!(compare_attributes(&any, &v("m*")), R::Undefined); // 4
        assert_eq!(compare_attributes(&na, &any), R::Subset); // 5
        assert_eq!(compare_attributes(&na, &na), R::Equal); // 6
        assert_eq!(compare_attributes(&na, &v("i")), R::Disjoint); // 7
        assert_eq!(compare_attributes(&na, &v("m*")), R::Undefined); // 8
        assert_eq!(compare_attributes(&v("i"), &na), R::Disjoint); // 9
        assert_eq!(compare_attributes(&v("i"), &v("i")), R::Equal); // 10
        assert_eq!(compare_attributes(&v("i"), &v("k")), R::Disjoint); // 11
        assert_eq!(compare_attributes(&v("i"), &v("m*")), R::Undefined); // 12
        assert_eq!(compare_attributes(&v("i"), &any), R::Subset); // 13
        assert_eq!(compare_attributes(&v("m*"), &any), R::Subset); // 14
        assert_eq!(compare_attributes(&v("m*"), &na), R::Disjoint); // 15
        assert_eq!(compare_attributes(&v("7\\.*"), &v("7\\.4")), R::Superset); // 16
        assert_eq!(compare_attributes(&v("7\\.*"), &v("8\\.0")), R::Disjoint); // 17
        assert_eq!(
            compare_attributes(&v("Microsoft"), &v("microsoft")),
            R::Equal
        );
        // '?' matches one character at the start or end.
        assert_eq!(compare_attributes(&v("7\\.?"), &v("7\\.4")), R::Superset);
        assert_eq!(compare_attributes(&v("7\\.?"), &v("7\\.41")), R::Disjoint);
        assert_eq!(compare_attributes(&v("*\\.4"), &v("7\\.4")), R::Superset);
        assert_eq!(compare_attributes(&v("??\\.4"), &v("10\\.4")), R::Superset);
        assert_eq!(compare_attributes(&v("??\\.4"), &v("7\\.4")), R::Disjoint);
        assert_eq!(compare_attributes(&v("*4*"), &v("7\\.4\\.1")), R::Superset);
        assert_eq!(compare_attributes(&v("??"), &v("ab")), R::Superset);
        assert_eq!(compare_attributes(&v("??"), &v("abc")), R::Disjoint);
    }

    #[test]
    fn name_matching() {
        let pattern = Cpe::parse("cpe:2.3:o:microsoft:windows_7:*:sp?:*:*:*:*:*:*").unwrap();
        let host = Cpe::parse("cpe:2.3:o:microsoft:windows_7:-:sp1:*:*:*:*:x64:*").unwrap();
        assert_eq!(pattern.compare(&host), NameRelation::Superset);
        assert!(pattern.matches(&host));
        assert_eq!(host.compare(&pattern), NameRelation::Indeterminate);
        let other = Cpe::parse("cpe:2.3:o:microsoft:windows_10:-:*:*:*:*:*:*:*").unwrap();
        assert_eq!(pattern.compare(&other), NameRelation::Disjoint);
        assert!(!pattern.matches(&other));
        let a = Cpe::parse("cpe:2.3:a:dcmtk:dcmtk:3.6.7:*:*:*:*:*:*:*").unwrap();
        let b = Cpe::parse("cpe:2.3:a:dcmtk:dcmtk:*:*:*:*:*:*:*:*").unwrap();
        assert_eq!(a.compare(&a.clone()), NameRelation::Equal);
        assert_eq!(a.compare(&b), NameRelation::Subset);
        assert_eq!(b.compare(&a), NameRelation::Superset);
        assert!(Cpe::any().matches(&a));
    }

    #[test]
    fn from_plain_text() {
        let c = Cpe::from_parts('h', "GE Healthcare", "CARESCAPE B450", "2.0*");
        assert_eq!(c.vendor, v("ge_healthcare"));
        assert_eq!(c.version, v("2\\.0\\*"));
        assert!(!c.version.has_wildcards());
        assert_eq!(Cpe::parse(&c.to_string()), Ok(c.clone()));
        let pattern = Cpe::parse("cpe:2.3:h:ge_healthcare:carescape_b450:*:*:*:*:*:*:*:*").unwrap();
        assert!(pattern.matches(&c));
        assert_eq!(AttrValue::literal("  "), AttrValue::Any);
    }

    #[test]
    fn serde_as_string() {
        let c = Cpe::parse("cpe:/a:dcmtk:dcmtk:3.6.7").unwrap();
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(j, "\"cpe:2.3:a:dcmtk:dcmtk:3.6.7:*:*:*:*:*:*:*\"");
        assert_eq!(serde_json::from_str::<Cpe>(&j).unwrap(), c);
    }
}
