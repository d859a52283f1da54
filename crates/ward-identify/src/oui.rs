//! The IEEE MAC address registry (MA-L, MA-M, MA-S and IAB), with longest-prefix lookup.
//!
//! Ward reads the registry from the text files the IEEE publishes, as packaged by Debian's
//! `ieee-data` package: `/usr/share/ieee-data/oui.txt` (MA-L, 24-bit prefixes),
//! `mam.txt` (MA-M, 28-bit), `oui36.txt` (MA-S, 36-bit) and `iab.txt` (IAB, 36-bit).
//! The files are about 9 MB together, so they are loaded at run time from that directory
//! (configurable) and never bundled into the binary. Install them with
//! `apt-get install -y ieee-data`.
//!
//! Each entry in those files is a pair of lines:
//!
//! ```text
//! 00-1B-21   (hex)        Intel Corporate
//! 001B21     (base 16)        Intel Corporate
//! ```
//!
//! and for MA-M / MA-S / IAB the second line carries the range below the 24-bit prefix:
//!
//! ```text
//! 70-B3-D5   (hex)        TELEPLATFORMS
//! F2F000-F2FFFF     (base 16)        TELEPLATFORMS
//! ```
//!
//! Address lines follow and are ignored. The parser never panics and names the file and
//! line of any malformed entry.

use ahash::AHashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use ward_model::MacAddr;

/// Where Debian's `ieee-data` package installs the registry.
pub const DEFAULT_IEEE_DATA_DIR: &str = "/usr/share/ieee-data";

/// The registry files read by [`OuiRegistry::load_dir`], with the block they describe.
pub const REGISTRY_FILES: &[(&str, &str)] = &[
    ("oui.txt", "MA-L"),
    ("mam.txt", "MA-M"),
    ("oui36.txt", "MA-S"),
    ("iab.txt", "IAB"),
];

/// Errors reading the registry.
#[derive(Debug, thiserror::Error)]
pub enum OuiError {
    #[error(
        "IEEE OUI registry file {path} not found; install it with \
         `apt-get install -y ieee-data` or point Ward at a directory holding oui.txt"
    )]
    Missing { path: PathBuf },
    #[error("cannot read IEEE OUI registry file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: malformed IEEE registry entry: {message}")]
    Parse {
        file: String,
        line: usize,
        message: String,
    },
}

/// One registry assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OuiEntry {
    /// Prefix length in bits: 24 (MA-L), 28 (MA-M) or 36 (MA-S, IAB).
    pub bits: u8,
    /// The prefix, right-aligned (the top `bits` bits of the 48-bit address).
    pub prefix: u64,
    pub organization: Arc<str>,
    /// The registry block ("MA-L", "MA-M", "MA-S", "IAB" or a user file name).
    pub registry: Arc<str>,
}

impl OuiEntry {
    /// The prefix in the usual `00:1b:21` / `70:b3:d5:f2:f` notation.
    pub fn prefix_text(&self) -> String {
        let nibbles = usize::from(self.bits / 4);
        let hex = format!("{:0width$x}", self.prefix, width = nibbles);
        let mut out = String::with_capacity(nibbles + nibbles / 2);
        for (i, ch) in hex.chars().enumerate() {
            if i > 0 && i % 2 == 0 {
                out.push(':');
            }
            out.push(ch);
        }
        out
    }
}

/// The registry: prefixes of several lengths, looked up longest first.
#[derive(Debug, Clone, Default)]
pub struct OuiRegistry {
    /// Maps keyed by prefix length, longest first.
    tables: Vec<(u8, AHashMap<u64, OuiEntry>)>,
    files: Vec<String>,
}

fn mac_bits(mac: &MacAddr) -> u64 {
    mac.0.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

impl OuiRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads every registry file present in `dir` (see [`REGISTRY_FILES`]). `oui.txt` is
    /// required; the others are optional.
    pub fn load_dir(dir: &Path) -> Result<Self, OuiError> {
        let mut reg = OuiRegistry::new();
        for (name, block) in REGISTRY_FILES {
            let path = dir.join(name);
            let text = match std::fs::read(&path) {
                // The files are ASCII/UTF-8 in practice: validating in place avoids the
                // copy (and the slow chunked scan) of a lossy conversion of ~9 MB.
                Ok(bytes) => String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if *name == "oui.txt" {
                        return Err(OuiError::Missing { path });
                    }
                    continue;
                }
                Err(source) => return Err(OuiError::Io { path, source }),
            };
            reg.parse_into(&path.display().to_string(), block, &text)?;
        }
        Ok(reg)
    }

    /// Loads the registry from [`DEFAULT_IEEE_DATA_DIR`].
    pub fn load_default() -> Result<Self, OuiError> {
        Self::load_dir(Path::new(DEFAULT_IEEE_DATA_DIR))
    }

    /// Parses one registry text (any of the IEEE formats) into a new registry.
    pub fn parse(file: &str, block: &str, text: &str) -> Result<Self, OuiError> {
        let mut reg = OuiRegistry::new();
        reg.parse_into(file, block, text)?;
        Ok(reg)
    }

    /// Parses one registry text and adds its entries; returns how many were added.
    ///
    /// This runs at every start of `ward analyze` over about 9 MB of text, so it does not
    /// split lines: it jumps from one '(' to the next (most lines, the postal addresses,
    /// hold none), looks at the line around a "(hex)" or "(base 16)" marker only, and
    /// counts line numbers only to report an error.
    pub fn parse_into(&mut self, file: &str, block: &str, text: &str) -> Result<usize, OuiError> {
        let block: Arc<str> = Arc::from(block);
        let bytes = text.as_bytes();
        // 1-based number of the line starting at byte `at` (errors only).
        let line_of =
            |at: usize| memchr::memchr_iter(b'\n', bytes.get(..at).unwrap_or(bytes)).count() + 1;
        let err = |at: usize, message: String| OuiError::Parse {
            file: file.to_string(),
            line: line_of(at),
            message,
        };
        // The 24-bit prefix from the last "(hex)" line (and where that line starts),
        // waiting for its "(base 16)" line.
        let mut pending: Option<(u64, usize)> = None;
        let mut added = 0usize;
        let hex_marker = memchr::memmem::Finder::new(b"(hex)");
        let base_marker = memchr::memmem::Finder::new(b"(base 16)");
        let mut cursor = 0usize;
        while let Some(k) = bytes.get(cursor..).and_then(|r| memchr::memchr(b'(', r)) {
            let paren = cursor + k;
            let tail = bytes.get(paren..).unwrap_or_default();
            if !tail.starts_with(b"(hex)") && !tail.starts_with(b"(base 16)") {
                cursor = paren + 1;
                continue;
            }
            // The whole line around this marker ('\n' is ASCII: char boundaries).
            let start =
                memchr::memrchr(b'\n', bytes.get(..paren).unwrap_or_default()).map_or(0, |i| i + 1);
            let end = memchr::memchr(b'\n', tail).map_or(bytes.len(), |i| paren + i);
            cursor = end + 1;
            let line = text.get(start..end).unwrap_or("").trim_end_matches('\r');
            let lb = line.as_bytes();
            // As a line-by-line reading: "(hex)" anywhere in the line wins.
            if let Some(pos) = hex_marker.find(lb) {
                let head = line.get(..pos).unwrap_or("").trim();
                let v = parse_hex_prefix(head)
                    .ok_or_else(|| err(start, format!("bad prefix {head:?} before (hex)")))?;
                pending = Some((v, start));
            } else if let Some(pos) = base_marker.find(lb) {
                let Some((oui24, _)) = pending.take() else {
                    return Err(err(start, "(base 16) line without a (hex) line".into()));
                };
                let head = line.get(..pos).unwrap_or("").trim();
                let org = line.get(pos + "(base 16)".len()..).unwrap_or("").trim();
                let (bits, prefix) = parse_range(oui24, head).map_err(|m| err(start, m))?;
                if org.is_empty() {
                    return Err(err(start, "empty organization name".into()));
                }
                self.insert(OuiEntry {
                    bits,
                    prefix,
                    organization: Arc::from(org),
                    registry: Arc::clone(&block),
                });
                added += 1;
            }
        }
        if let Some((_, at)) = pending {
            return Err(err(at, "(hex) line without its (base 16) line".into()));
        }
        self.files.push(file.to_string());
        Ok(added)
    }

    /// Adds or replaces one entry.
    pub fn insert(&mut self, entry: OuiEntry) {
        let pos = match self.tables.iter().position(|(b, _)| *b == entry.bits) {
            Some(p) => p,
            None => {
                self.tables.push((entry.bits, AHashMap::new()));
                self.tables.sort_by_key(|t| std::cmp::Reverse(t.0));
                self.tables
                    .iter()
                    .position(|(b, _)| *b == entry.bits)
                    .unwrap_or(0)
            }
        };
        if let Some((_, table)) = self.tables.get_mut(pos) {
            table.insert(entry.prefix, entry);
        }
    }

    /// Merges another registry over this one (its entries win).
    pub fn merge(&mut self, other: OuiRegistry) {
        for (_, table) in other.tables {
            for (_, e) in table {
                self.insert(e);
            }
        }
        self.files.extend(other.files);
    }

    /// The most specific assignment covering `mac`, if any. Locally administered and group
    /// addresses carry no vendor and always return `None`.
    pub fn lookup(&self, mac: &MacAddr) -> Option<&OuiEntry> {
        if mac.is_local() || mac.is_group() {
            return None;
        }
        let bits = mac_bits(mac);
        self.tables.iter().find_map(|(len, table)| {
            let shift = 48u32.saturating_sub(u32::from(*len));
            table.get(&(bits >> shift))
        })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.tables.iter().map(|(_, t)| t.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The files the registry was read from.
    pub fn files(&self) -> &[String] {
        &self.files
    }
}

/// The 24-bit prefix of a "(hex)" line, `00-1B-21` (separators '-' and ':' ignored): exactly
/// six hex digits, or `None`.
fn parse_hex_prefix(head: &str) -> Option<u64> {
    let mut v = 0u64;
    let mut digits = 0usize;
    for b in head.bytes() {
        if b == b'-' || b == b':' {
            continue;
        }
        let d = char::from(b).to_digit(16)?;
        digits += 1;
        if digits > 6 {
            return None;
        }
        v = (v << 4) | u64::from(d);
    }
    (digits == 6).then_some(v)
}

/// Parses the part before "(base 16)": either `001B21` (MA-L) or a range such as
/// `A00000-AFFFFF` under the 24-bit prefix (MA-M, MA-S, IAB).
fn parse_range(oui24: u64, head: &str) -> Result<(u8, u64), String> {
    let hex6 = |s: &str| -> Result<u64, String> {
        if s.len() != 6 {
            return Err(format!("bad hex {s:?} before (base 16)"));
        }
        s.bytes()
            .try_fold(0u64, |v, b| {
                char::from(b).to_digit(16).map(|d| (v << 4) | u64::from(d))
            })
            .ok_or_else(|| format!("bad hex {s:?} before (base 16)"))
    };
    match head.split_once('-') {
        None => {
            let v = hex6(head)?;
            if v != oui24 {
                return Err(format!(
                    "(base 16) value {head} differs from the (hex) prefix {oui24:06X}"
                ));
            }
            Ok((24, v))
        }
        Some((start, end)) => {
            let start = hex6(start.trim())?;
            let end = hex6(end.trim())?;
            if end < start {
                return Err(format!("range {head} ends before it starts"));
            }
            let size = end - start + 1;
            if !size.is_power_of_two() || start % size != 0 || size > 1 << 24 {
                return Err(format!("range {head} is not an aligned power-of-two block"));
            }
            let low_bits = size.trailing_zeros();
            let bits = 24 + (24 - low_bits);
            let prefix = (oui24 << (24 - low_bits)) | (start >> low_bits);
            u8::try_from(bits)
                .map(|b| (b, prefix))
                .map_err(|_| format!("range {head} too small"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAL: &str =
        "OUI/MA-L                                                    Organization\r\n\
company_id                                                  Organization\r\n\
\r\n\
00-1B-21   (hex)\t\tIntel Corporate\r\n\
001B21     (base 16)\t\tIntel Corporate\r\n\
\t\t\t\tLot 8, Jalan Hi-Tech 2/3\r\n\
\r\n\
70-B3-D5   (hex)\t\tIEEE Registration Authority\r\n\
70B3D5     (base 16)\t\tIEEE Registration Authority\r\n";

    const MAS: &str = "70-B3-D5   (hex)\t\tTELEPLATFORMS\n\
F2F000-F2FFFF     (base 16)\t\tTELEPLATFORMS\n\
\t\t\t\tMoscow\n";

    const MAM: &str = "74-1A-E0   (hex)\t\tSome MA-M Holder\n\
900000-9FFFFF     (base 16)\t\tSome MA-M Holder\n";

    #[test]
    fn longest_prefix_wins() {
        let mut reg = OuiRegistry::parse("oui.txt", "MA-L", MAL).unwrap();
        reg.parse_into("oui36.txt", "MA-S", MAS).unwrap();
        reg.parse_into("mam.txt", "MA-M", MAM).unwrap();
        assert_eq!(reg.len(), 4);
        let intel: MacAddr = "00:1b:21:aa:bb:cc".parse().unwrap();
        let e = reg.lookup(&intel).unwrap();
        assert_eq!(&*e.organization, "Intel Corporate");
        assert_eq!(e.bits, 24);
        assert_eq!(e.prefix_text(), "00:1b:21");
        let tele: MacAddr = "70:b3:d5:f2:f1:23".parse().unwrap();
        let e = reg.lookup(&tele).unwrap();
        assert_eq!(&*e.organization, "TELEPLATFORMS");
        assert_eq!((e.bits, &*e.registry), (36, "MA-S"));
        assert_eq!(e.prefix_text(), "70:b3:d5:f2:f");
        let other: MacAddr = "70:b3:d5:00:00:01".parse().unwrap();
        assert_eq!(
            &*reg.lookup(&other).unwrap().organization,
            "IEEE Registration Authority"
        );
        let mam: MacAddr = "74:1a:e0:9a:00:01".parse().unwrap();
        assert_eq!(reg.lookup(&mam).unwrap().bits, 28);
        let outside: MacAddr = "74:1a:e0:8a:00:01".parse().unwrap();
        assert!(reg.lookup(&outside).is_none());
        // Locally administered: no vendor even if the bits match.
        let local: MacAddr = "02:1b:21:aa:bb:cc".parse().unwrap();
        assert!(reg.lookup(&local).is_none());
    }

    #[test]
    fn malformed_entries_name_file_and_line() {
        let bad = "00-1B-2Z   (hex)\t\tX\n001B2Z     (base 16)\t\tX\n";
        let e = OuiRegistry::parse("oui.txt", "MA-L", bad).unwrap_err();
        assert!(e.to_string().starts_with("oui.txt:1:"), "{e}");
        let orphan = "x\n001B21     (base 16)\t\tX\n";
        let e = OuiRegistry::parse("oui.txt", "MA-L", orphan).unwrap_err();
        assert!(e.to_string().starts_with("oui.txt:2:"), "{e}");
        let unaligned = "70-B3-D5   (hex)\t\tX\nF2F001-F2FFFF     (base 16)\t\tX\n";
        assert!(OuiRegistry::parse("f", "MA-S", unaligned).is_err());
        let dangling = "70-B3-D5   (hex)\t\tX\n";
        assert!(OuiRegistry::parse("f", "MA-S", dangling).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap stand-in for the fuzz target: slices and mutations of valid input.
        let base = format!("{MAL}{MAS}{MAM}");
        let bytes = base.as_bytes();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut v = bytes.to_vec();
            let n = v.len();
            let pos = (seed as usize) % n;
            v[pos] = (seed >> 32) as u8;
            let cut = (seed as usize >> 8) % n;
            let text = String::from_utf8_lossy(&v[..if i % 2 == 0 { cut } else { n }]);
            let _ = OuiRegistry::parse("fuzz", "MA-L", &text);
        }
    }
}
