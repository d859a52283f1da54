//! Vendor and product name normalisation, with the vendor alias table kept as data
//! (`data/vendor_aliases.toml`, compiled in).
//!
//! Advisories, CMMS exports, DICOM headers and the OUI registry all spell manufacturers
//! differently ("GE Healthcare", "General Electric (GE)", "GE MEDICAL SYSTEMS"). Matching
//! compares *vendor keys*: the canonical name of an alias-table entry when one applies,
//! otherwise the normalised name itself, so unknown vendors still match when spelled alike.

use serde::Deserialize;
use std::collections::HashMap;

const ALIASES_TOML: &str = include_str!("../data/vendor_aliases.toml");

/// Words that carry no identity in a company name.
const CORPORATE_WORDS: &[&str] = &[
    "inc",
    "incorporated",
    "co",
    "corp",
    "corporation",
    "company",
    "ltd",
    "limited",
    "llc",
    "gmbh",
    "ag",
    "nv",
    "bv",
    "oy",
    "plc",
    "sa",
    "se",
    "kg",
    "the",
];

/// Lower-cases, folds common Latin diacritics, splits on anything not alphanumeric.
pub fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in s.chars().take(4096) {
        let folded: &str = match ch {
            'ä' | 'Ä' | 'á' | 'à' | 'â' | 'å' | 'Å' | 'Á' | 'À' | 'Â' => "a",
            'ö' | 'Ö' | 'ó' | 'ò' | 'ô' | 'ø' | 'Ø' | 'Ó' => "o",
            'ü' | 'Ü' | 'ú' | 'ù' | 'û' | 'Ú' => "u",
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' => "e",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ß' => "ss",
            'ç' | 'Ç' => "c",
            'ñ' | 'Ñ' => "n",
            _ => "",
        };
        if !folded.is_empty() {
            cur.push_str(folded);
        } else if ch.is_ascii_alphanumeric() {
            cur.push(ch.to_ascii_lowercase());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Tokens of a company name without corporate suffixes.
pub fn vendor_tokens(s: &str) -> Vec<String> {
    tokens(s)
        .into_iter()
        .filter(|t| !CORPORATE_WORDS.contains(&t.as_str()))
        .collect()
}

/// Does `needle` occur as a contiguous run of whole tokens in `hay`?
fn contains_phrase(hay: &[String], needle: &[String]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[derive(Deserialize)]
struct AliasFile {
    vendor: Vec<AliasEntry>,
}

#[derive(Deserialize)]
struct AliasEntry {
    name: String,
    aliases: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

/// Error loading an alias table.
#[derive(Debug, thiserror::Error)]
#[error("vendor alias table: {0}")]
pub struct AliasError(String);

/// The vendor alias table.
#[derive(Debug, Clone)]
pub struct VendorAliases {
    /// Normalised alias (tokens joined by a space) -> canonical name.
    exact: HashMap<String, String>,
    /// (alias tokens, canonical index), longest first, for phrase containment.
    phrases: Vec<(Vec<String>, usize)>,
    canonical: Vec<String>,
    /// Per canonical index: phrases that name a different company.
    excludes: Vec<Vec<Vec<String>>>,
}

impl VendorAliases {
    /// The built-in table (`data/vendor_aliases.toml`).
    pub fn standard() -> Self {
        // The embedded file is tested (`standard_table_loads`); fall back to an empty
        // table rather than panic should it ever be broken.
        Self::from_toml(ALIASES_TOML).unwrap_or_else(|_| Self::empty())
    }

    fn empty() -> Self {
        VendorAliases {
            exact: HashMap::new(),
            phrases: Vec::new(),
            canonical: Vec::new(),
            excludes: Vec::new(),
        }
    }

    /// Reads a table in the format of `data/vendor_aliases.toml`.
    pub fn from_toml(text: &str) -> Result<Self, AliasError> {
        let file: AliasFile = toml::from_str(text).map_err(|e| AliasError(e.to_string()))?;
        let mut t = Self::empty();
        for (i, v) in file.vendor.iter().enumerate() {
            t.canonical.push(v.name.clone());
            t.excludes
                .push(v.exclude.iter().map(|e| vendor_tokens(e)).collect());
            for a in v.aliases.iter().chain(std::iter::once(&v.name)) {
                let toks = vendor_tokens(a);
                if toks.is_empty() {
                    continue;
                }
                t.exact.insert(toks.join(" "), v.name.clone());
                t.phrases.push((toks, i));
            }
        }
        t.phrases
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Ok(t)
    }

    /// The canonical name for a vendor string, if the table knows it (exactly, or as a
    /// whole-word phrase inside it; the longest phrase wins).
    pub fn canonical(&self, vendor: &str) -> Option<&str> {
        self.canonical_all(vendor).into_iter().next()
    }

    /// Every canonical vendor a string names: advisories write joint vendors such as
    /// "Silex Technology and GE Healthcare" or "ENEA, Green Hills Software, ... and Wind River".
    pub fn canonical_all(&self, vendor: &str) -> Vec<&str> {
        let toks = vendor_tokens(vendor);
        if toks.is_empty() {
            return Vec::new();
        }
        if let Some(c) = self.exact.get(&toks.join(" ")) {
            return vec![c.as_str()];
        }
        let mut out: Vec<&str> = Vec::new();
        for (phrase, i) in &self.phrases {
            if contains_phrase(&toks, phrase) {
                let excluded = self
                    .excludes
                    .get(*i)
                    .is_some_and(|ex| ex.iter().any(|e| contains_phrase(&toks, e)));
                if let Some(c) = self.canonical.get(*i) {
                    if !excluded && !out.contains(&c.as_str()) {
                        out.push(c);
                    }
                }
            }
        }
        out
    }

    /// The key a device vendor is compared by: the canonical name normalised, or the
    /// normalised name when the table does not know it. `None` for an empty name.
    pub fn key(&self, vendor: &str) -> Option<String> {
        self.keys(vendor).into_iter().next()
    }

    /// All keys of a vendor string (several for joint vendors).
    pub fn keys(&self, vendor: &str) -> Vec<String> {
        let all = self.canonical_all(vendor);
        if !all.is_empty() {
            return all.iter().map(|c| vendor_tokens(c).join(" ")).collect();
        }
        let t = vendor_tokens(vendor);
        if t.is_empty() {
            Vec::new()
        } else {
            vec![t.join(" ")]
        }
    }
}

/// Is this product-name token a model number (holds a digit, e.g. "8015", "mx400")?
pub fn is_model_token(t: &str) -> bool {
    t.bytes().any(|b| b.is_ascii_digit()) && t.len() >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_table_loads() {
        let t = VendorAliases::from_toml(ALIASES_TOML).expect("embedded alias table parses");
        assert!(t.canonical.len() >= 11);
    }

    #[test]
    fn aliases_from_the_brief() {
        let t = VendorAliases::standard();
        for (a, c) in [
            ("GE Healthcare", "GE Healthcare"),
            ("GE HealthCare", "GE Healthcare"),
            ("General Electric (GE)", "GE Healthcare"),
            ("GE MEDICAL SYSTEMS", "GE Healthcare"),
            ("Koninklijke Philips N.V.", "Philips"),
            ("Phillips", "Philips"),
            ("Siemens Healthcare GmbH", "Siemens Healthineers"),
            ("B.Braun Melsungen AG", "B. Braun"),
            ("B. Braun Medical", "B. Braun"),
            ("Becton, Dickinson and Company (BD)", "BD"),
            ("Dräger", "Draeger"),
            ("Draegerwerk AG & Co. KGaA", "Draeger"),
            ("Roche Diagnostics", "Roche"),
        ] {
            assert_eq!(t.canonical(a), Some(c), "alias {a:?}");
        }
        assert_eq!(t.canonical("Philips Lighting"), None, "excluded company");
        assert_eq!(
            t.canonical("Fresenius Medical Care"),
            None,
            "excluded company"
        );
        assert_eq!(t.canonical("Acme Pumps"), None);
        assert_eq!(
            t.keys("Silex Technology and GE Healthcare"),
            vec!["ge healthcare".to_string(), "silex technology".to_string()]
        );
        assert_eq!(t.key("Acme Pumps Inc."), Some("acme pumps".to_string()));
    }
}
