//! Package URLs (purl) and `vers` version ranges.
//!
//! Parsing and the purl-spec per-type canonicalisation (lower-cased names for npm, pypi,
//! deb, github, ...; "_" to "-" for pypi) come from the `packageurl` crate. Ward adds an
//! owned, serialisable [`Purl`], the package identity used for matching (type, namespace
//! and name compared the way each ecosystem's registry does), the versioning scheme of a
//! purl type, and `vers:` ranges (implemented in [`crate::version`], re-exported here).
//!
//! ```
//! use ward_intel::purl::{Purl, parse_vers};
//! let p = Purl::parse("pkg:pypi/Django_REST@3.1").unwrap();
//! assert_eq!(p.to_string(), "pkg:pypi/django-rest@3.1");
//! let r = parse_vers("vers:pypi/>=3.0|<3.2").unwrap();
//! assert_eq!(p.in_range(&r), Some(true));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use crate::version::{Comparator, Constraint, VersRange};
use crate::version::{VersionError, VersionScheme};

/// Longest purl accepted.
const MAX_LEN: usize = 4096;

/// Why a purl was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PurlError {
    #[error("package URL is {len} bytes long; at most {MAX_LEN} are accepted")]
    TooLong { len: usize },
    #[error("invalid package URL: {reason}")]
    Invalid { reason: String },
}

/// A parsed, canonical package URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Purl {
    pub ty: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: BTreeMap<String, String>,
    pub subpath: Option<String>,
}

impl Purl {
    /// Parses and canonicalises a purl ("pkg:type/namespace/name@version?qualifiers#subpath").
    pub fn parse(s: &str) -> Result<Self, PurlError> {
        if s.len() > MAX_LEN {
            return Err(PurlError::TooLong { len: s.len() });
        }
        let p = packageurl::PackageUrl::from_str(s.trim()).map_err(|e| PurlError::Invalid {
            reason: e.to_string(),
        })?;
        Ok(Self {
            ty: p.ty().to_string(),
            namespace: p.namespace().map(str::to_string),
            name: p.name().to_string(),
            version: p.version().map(str::to_string),
            qualifiers: p
                .qualifiers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            subpath: p.subpath().map(str::to_string),
        })
    }

    /// The versioning scheme of this purl's type.
    pub fn version_scheme(&self) -> VersionScheme {
        VersionScheme::from_vers_scheme(&self.ty)
    }

    /// The package identity (type, namespace, name) normalised for comparison: see
    /// [`normalize_name`]. Version, qualifiers and subpath are not part of it.
    pub fn package_key(&self) -> (String, Option<String>, String) {
        let ty = self.ty.to_ascii_lowercase();
        let ns = self
            .namespace
            .as_deref()
            .map(|n| normalize_namespace(&ty, n));
        let name = normalize_name(&ty, &self.name);
        (ty, ns, name)
    }

    /// Whether two purls name the same package (any version).
    pub fn same_package(&self, other: &Purl) -> bool {
        self.package_key() == other.package_key()
    }

    /// Whether this purl's version is in `range` (under the range's scheme, or this type's).
    /// `None` when the purl has no version or the comparison is undecidable.
    pub fn in_range(&self, range: &VersRange) -> Option<bool> {
        let v = self.version.as_deref()?;
        range.contains(v, self.version_scheme())
    }
}

/// A package name normalised the way its registry compares names: PEP 503 for pypi
/// (lower case, runs of "-", "_", "." to "-"), lower case for the case-insensitive
/// registries (npm, nuget, deb, composer, github, bitbucket, hex, golang module paths are
/// kept), unchanged elsewhere (maven, cargo, gem are case-sensitive).
pub fn normalize_name(ty: &str, name: &str) -> String {
    match ty.to_ascii_lowercase().as_str() {
        "pypi" => {
            let mut out = String::with_capacity(name.len());
            let mut last_sep = false;
            for c in name.chars() {
                if matches!(c, '-' | '_' | '.') {
                    if !last_sep {
                        out.push('-');
                    }
                    last_sep = true;
                } else {
                    out.extend(c.to_lowercase());
                    last_sep = false;
                }
            }
            out
        }
        "npm" | "nuget" | "deb" | "composer" | "github" | "bitbucket" | "hex" | "apk" | "alpm" => {
            name.to_lowercase()
        }
        _ => name.to_string(),
    }
}

fn normalize_namespace(ty: &str, ns: &str) -> String {
    match ty {
        "npm" | "deb" | "composer" | "github" | "bitbucket" | "hex" | "apk" | "rpm" | "alpm"
        | "golang" => ns.to_lowercase(),
        _ => ns.to_string(),
    }
}

/// Parses a `vers:<scheme>/<constraints>` range.
pub fn parse_vers(s: &str) -> Result<VersRange, VersionError> {
    VersRange::parse(s)
}

impl fmt::Display for Purl {
    /// The canonical purl string (built through `packageurl`, so encoding rules are its).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let built = (|| -> Result<String, packageurl::Error> {
            let mut p = packageurl::PackageUrl::new(self.ty.as_str(), self.name.as_str())?;
            if let Some(ns) = &self.namespace {
                p.with_namespace(ns.as_str())?;
            }
            if let Some(v) = &self.version {
                p.with_version(v.as_str())?;
            }
            if let Some(sp) = &self.subpath {
                p.with_subpath(sp.as_str())?;
            }
            for (k, v) in &self.qualifiers {
                p.add_qualifier(k.as_str(), v.as_str())?;
            }
            Ok(p.to_string())
        })();
        match built {
            Ok(s) => f.write_str(&s),
            // Only reachable for a Purl built by hand with invalid parts.
            Err(_) => write!(f, "pkg:{}/{}", self.ty, self.name),
        }
    }
}

impl FromStr for Purl {
    type Err = PurlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Purl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Purl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Invariants a fuzzer checks on any input (shared by `fuzz/fuzz_targets/purl_parse.rs`
/// and the crate's random-input tests): parsing purls and `vers` ranges never panics; an
/// accepted purl prints to a purl that parses back to the same value, and an accepted range
/// prints to a range that parses back to the same constraints.
#[doc(hidden)]
pub fn check_invariants(input: &str) {
    if let Ok(p) = Purl::parse(input) {
        let printed = p.to_string();
        assert_eq!(
            Purl::parse(&printed).as_ref(),
            Ok(&p),
            "{input:?} -> {printed:?}"
        );
        let _ = p.package_key();
    }
    if let Ok(r) = parse_vers(input) {
        let printed = r.to_string();
        match parse_vers(&printed) {
            Ok(back) => assert_eq!(back, r, "{input:?} -> {printed:?}"),
            Err(e) => panic!("{input:?} prints as {printed:?} which does not parse: {e}"),
        }
        let _ = r.contains("1.0", VersionScheme::Generic);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_canonicalise() {
        let p =
            Purl::parse("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar").unwrap();
        assert_eq!(p.ty, "maven");
        assert_eq!(p.namespace.as_deref(), Some("org.apache.logging.log4j"));
        assert_eq!(p.name, "log4j-core");
        assert_eq!(p.version.as_deref(), Some("2.14.1"));
        assert_eq!(p.qualifiers.get("type").map(String::as_str), Some("jar"));
        assert_eq!(
            p.to_string(),
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar"
        );
        assert_eq!(p.version_scheme(), VersionScheme::Maven);
        let n = Purl::parse("pkg:npm/%40angular/Core@1.0.0").unwrap();
        assert_eq!(n.namespace.as_deref(), Some("@angular"));
        assert_eq!(n.name, "core");
        assert_eq!(n.to_string(), "pkg:npm/%40angular/core@1.0.0");
        let q = Purl::parse("pkg:nuget/Newtonsoft.Json@13.0.1").unwrap();
        assert_eq!(q.name, "Newtonsoft.Json");
        assert!(Purl::parse("pkg:nuget/newtonsoft.json@9")
            .unwrap()
            .same_package(&q));
        assert!(Purl::parse("pkg:pypi/zope.interface")
            .unwrap()
            .same_package(&Purl::parse("pkg:pypi/Zope-Interface").unwrap()));
        assert!(!Purl::parse("pkg:maven/g/A")
            .unwrap()
            .same_package(&Purl::parse("pkg:maven/g/a").unwrap()));
    }

    #[test]
    fn errors() {
        assert!(Purl::parse("").is_err());
        assert!(Purl::parse("pkg:").is_err());
        assert!(Purl::parse("npm/foo").is_err());
        assert!(
            Purl::parse("pkg:cargo/ns/name").is_err(),
            "cargo prohibits namespaces"
        );
        assert!(matches!(
            Purl::parse(&"a".repeat(5000)),
            Err(PurlError::TooLong { len: 5000 })
        ));
    }

    #[test]
    fn ranges_on_purls() {
        let r = parse_vers("vers:npm/>=1.2.0|<1.4.0").unwrap();
        let p = |s: &str| Purl::parse(s).unwrap();
        assert_eq!(p("pkg:npm/lodash@1.3.9").in_range(&r), Some(true));
        assert_eq!(p("pkg:npm/lodash@1.4.0").in_range(&r), Some(false));
        assert_eq!(
            p("pkg:npm/lodash").in_range(&r),
            None,
            "no version: undecided"
        );
        let d = parse_vers("vers:deb/<1:2.0-1").unwrap();
        assert_eq!(p("pkg:deb/debian/openssl@1:1.9-5").in_range(&d), Some(true));
    }

    #[test]
    fn serde_as_string() {
        let p = Purl::parse("pkg:github/Package-URL/purl-spec@244fd47e07d1004").unwrap();
        let j = serde_json::to_string(&p).unwrap();
        assert_eq!(j, "\"pkg:github/package-url/purl-spec@244fd47e07d1004\"");
        assert_eq!(serde_json::from_str::<Purl>(&j).unwrap(), p);
    }
}
