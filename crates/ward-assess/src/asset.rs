//! The assessment's view of a device: the attributes matching needs, each with the
//! evidence that produced it, built from `ward-identify` devices, a CMMS-style inventory
//! CSV, or both merged (the CSV fills what the network did not show).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ward_identify::{AttrKind, Category, Criticality, Device};
use ward_intel::Component;

/// One attribute value with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetAttr {
    pub value: String,
    /// Human-readable provenance: "inventory.csv line 4", or the identify evidence
    /// ("dicom.manufacturer from capture.pcap frame 12 (confidence 0.90)").
    pub evidence: String,
}

impl AssetAttr {
    pub fn new(value: impl Into<String>, evidence: impl Into<String>) -> Self {
        AssetAttr {
            value: value.into(),
            evidence: evidence.into(),
        }
    }
}

/// A device as the assessment sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Asset {
    pub id: String,
    pub name: String,
    pub vendor: Option<AssetAttr>,
    pub model: Option<AssetAttr>,
    /// Firmware/software versions ("firmware_version", "software_version", "version").
    pub versions: Vec<(String, AssetAttr)>,
    pub serial: Option<AssetAttr>,
    pub category: Option<Category>,
    pub criticality: Option<Criticality>,
    pub macs: Vec<String>,
    pub ips: Vec<String>,
    pub site: Option<String>,
    /// Software seen on or declared for the device (SBOM components).
    pub components: Vec<Component>,
    /// CPEs and PURLs known for the device itself (CMMS, SBOM subject).
    pub cpes: Vec<String>,
    pub purls: Vec<String>,
    /// Security observation kinds seen for the device (`telnet_in_use`...).
    pub security: Vec<String>,
}

impl Asset {
    /// The criticality from the category, or the explicit one.
    pub fn effective_criticality(&self) -> Option<Criticality> {
        self.criticality
            .or_else(|| self.category.map(|c| c.criticality()))
    }

    /// Builds the assessment view of an identified device.
    pub fn from_device(d: &Device) -> Asset {
        let attr = |kind: AttrKind| -> Option<AssetAttr> {
            let a = d.attribute(kind)?;
            let value = a.value.clone()?;
            let support = a
                .support()
                .filter(|c| c.value == value)
                .max_by(|x, y| x.confidence.total_cmp(&y.confidence));
            let evidence = match support {
                Some(c) => {
                    let ev = c
                        .evidence
                        .as_ref()
                        .map(|e| format!(" at {}", evidence_text(e)))
                        .unwrap_or_default();
                    format!(
                        "{} {:?}{} (confidence {:.2})",
                        kind.as_str(),
                        c.source,
                        ev,
                        a.confidence
                    )
                }
                None => format!("{} (confidence {:.2})", kind.as_str(), a.confidence),
            };
            Some(AssetAttr { value, evidence })
        };
        let mut versions = Vec::new();
        for kind in [AttrKind::FirmwareVersion, AttrKind::SoftwareVersion] {
            if let Some(a) = attr(kind) {
                versions.push((kind.as_str().to_string(), a));
            }
        }
        Asset {
            id: d.id.clone(),
            name: d.display_name(),
            vendor: attr(AttrKind::Vendor),
            model: attr(AttrKind::Model),
            versions,
            serial: attr(AttrKind::Serial),
            category: d.category,
            criticality: d.criticality,
            macs: d.macs.iter().map(|m| m.to_string()).collect(),
            ips: d.ips.iter().map(|b| b.ip.to_string()).collect(),
            site: None,
            components: Vec::new(),
            cpes: Vec::new(),
            purls: Vec::new(),
            security: {
                let mut k: Vec<String> = d
                    .security
                    .iter()
                    .map(|s| s.kind.as_str().to_string())
                    .collect();
                k.sort();
                k.dedup();
                k
            },
        }
    }
}

fn evidence_text(e: &ward_model::Evidence) -> String {
    serde_json::to_string(e).unwrap_or_default()
}

/// One row of a CMMS-style inventory CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InventoryRow {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub version: Option<String>,
    pub serial: Option<String>,
    pub category: Option<String>,
    pub mac: Option<String>,
    pub ip: Option<String>,
    pub site: Option<String>,
}

/// Why an inventory CSV was rejected. `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("inventory CSV: line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("inventory CSV: no header row")]
    NoHeader,
    #[error("inventory CSV: header has none of the columns vendor, model, version, serial, category, mac, ip, site")]
    NoKnownColumns,
    #[error("inventory CSV: line {line}: unknown category {value:?}")]
    UnknownCategory { line: u64, value: String },
    #[error("inventory CSV: more than {max} rows")]
    TooManyRows { max: usize },
}

/// The most rows one inventory file may hold (a large hospital has ~100k devices).
pub const MAX_INVENTORY_ROWS: usize = 2_000_000;

const COLUMNS: [&str; 8] = [
    "vendor", "model", "version", "serial", "category", "mac", "ip", "site",
];

/// Reads a CMMS-style inventory CSV: a header row naming at least one of the columns
/// `vendor,model,version,serial,category,mac,ip,site` (any order and case; other
/// columns ignored; empty cells allowed). Category names are checked against the
/// taxonomy. Errors name the line.
pub fn parse_inventory_csv(text: &str) -> Result<Vec<InventoryRow>, InventoryError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| csv_err(&e, 1))?.clone();
    if headers.is_empty() || headers.iter().all(|h| h.is_empty()) {
        return Err(InventoryError::NoHeader);
    }
    let mut index: [Option<usize>; 8] = [None; 8];
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim().to_ascii_lowercase();
        if let Some(c) = COLUMNS.iter().position(|c| *c == h) {
            if index[c].is_none() {
                index[c] = Some(i);
            }
        }
    }
    if index.iter().all(Option::is_none) {
        return Err(InventoryError::NoKnownColumns);
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            csv_err(&e, line)
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.iter().all(|c| c.is_empty()) {
            continue;
        }
        if rows.len() >= MAX_INVENTORY_ROWS {
            return Err(InventoryError::TooManyRows {
                max: MAX_INVENTORY_ROWS,
            });
        }
        let cell = |c: usize| -> Option<String> {
            index[c]
                .and_then(|i| rec.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let category = cell(4);
        if let Some(cat) = &category {
            if parse_category(cat).is_none() {
                return Err(InventoryError::UnknownCategory {
                    line,
                    value: cat.clone(),
                });
            }
        }
        rows.push(InventoryRow {
            line,
            vendor: cell(0),
            model: cell(1),
            version: cell(2),
            serial: cell(3),
            category,
            mac: cell(5),
            ip: cell(6),
            site: cell(7),
        });
    }
    Ok(rows)
}

fn csv_err(e: &csv::Error, line: u64) -> InventoryError {
    InventoryError::Csv {
        line,
        message: e.to_string(),
    }
}

/// A taxonomy category from its snake_case name or its label, any case
/// ("infusion_pump", "Infusion Pump").
pub fn parse_category(s: &str) -> Option<Category> {
    let norm: String = s
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect();
    norm.parse::<Category>().ok().or_else(|| {
        Category::ALL
            .iter()
            .copied()
            .find(|c| c.label().eq_ignore_ascii_case(s.trim()))
    })
}

impl InventoryRow {
    /// The row as an asset of its own (id from serial, MAC, IP or line).
    pub fn to_asset(&self, file: &str) -> Asset {
        let ev = format!("{file} line {}", self.line);
        let id = if let Some(s) = &self.serial {
            format!("inv:serial:{}", s.to_ascii_lowercase())
        } else if let Some(m) = &self.mac {
            format!("inv:mac:{}", m.to_ascii_lowercase())
        } else if let Some(ip) = &self.ip {
            format!("inv:ip:{ip}")
        } else {
            format!("inv:line:{}", self.line)
        };
        let mut a = Asset {
            id,
            ..Asset::default()
        };
        self.apply_to(&mut a, &ev);
        a.name = match (&a.vendor, &a.model) {
            (Some(v), Some(m)) => format!("{} {}", v.value, m.value),
            (None, Some(m)) => m.value.clone(),
            (Some(v), None) => v.value.clone(),
            (None, None) => a.id.clone(),
        };
        a
    }

    /// Fills attributes the asset lacks from this row (the network evidence wins).
    pub fn apply_to(&self, a: &mut Asset, evidence: &str) {
        let mk = |v: &Option<String>| v.as_ref().map(|v| AssetAttr::new(v, evidence));
        if a.vendor.is_none() {
            a.vendor = mk(&self.vendor);
        }
        if a.model.is_none() {
            a.model = mk(&self.model);
        }
        if a.versions.is_empty() {
            if let Some(v) = mk(&self.version) {
                a.versions.push(("version".to_string(), v));
            }
        }
        if a.serial.is_none() {
            a.serial = mk(&self.serial);
        }
        if a.category.is_none() {
            a.category = self.category.as_deref().and_then(parse_category);
        }
        if let Some(m) = &self.mac {
            let m = m.to_ascii_lowercase().replace('-', ":");
            if !a.macs.contains(&m) {
                a.macs.push(m);
            }
        }
        if let Some(ip) = &self.ip {
            if !a.ips.contains(ip) {
                a.ips.push(ip.clone());
            }
        }
        if a.site.is_none() {
            a.site = self.site.clone();
        }
    }
}

/// Merges inventory rows into assets: a row whose MAC or IP names an existing asset
/// completes it; other rows become assets of their own.
pub fn merge_inventory(assets: &mut Vec<Asset>, rows: &[InventoryRow], file: &str) {
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    for (i, a) in assets.iter().enumerate() {
        for m in &a.macs {
            by_key.insert(format!("mac:{}", m.to_ascii_lowercase()), i);
        }
        for ip in &a.ips {
            by_key.insert(format!("ip:{ip}"), i);
        }
    }
    for r in rows {
        let hit = r
            .mac
            .as_ref()
            .and_then(|m| by_key.get(&format!("mac:{}", m.to_ascii_lowercase().replace('-', ":"))))
            .or_else(|| r.ip.as_ref().and_then(|ip| by_key.get(&format!("ip:{ip}"))))
            .copied();
        match hit.and_then(|i| assets.get_mut(i)) {
            Some(a) => r.apply_to(a, &format!("{file} line {}", r.line)),
            None => assets.push(r.to_asset(file)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_columns_any_order_and_case() {
        let text = "Site,IP,Asset Tag,MODEL,Vendor,version,category\n\
                    ICU,10.0.0.5,T-1,Alaris 8015 PC unit,BD,9.7,Infusion Pump\n\
                    ,, ,,,,\n\
                    Ward 3,,T-2,B450,GE Healthcare,,patient_monitor\n";
        let rows = parse_inventory_csv(text).expect("valid CSV");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].vendor.as_deref(), Some("BD"));
        assert_eq!(rows[0].model.as_deref(), Some("Alaris 8015 PC unit"));
        assert_eq!(rows[0].category.as_deref(), Some("Infusion Pump"));
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].version, None);
        let a = rows[0].to_asset("inv.csv");
        assert_eq!(a.category, Some(Category::InfusionPump));
        assert_eq!(a.versions[0].1.evidence, "inv.csv line 2");
    }

    #[test]
    fn csv_errors_name_the_line() {
        let e = parse_inventory_csv("vendor,category\nBD,toaster\n").unwrap_err();
        assert_eq!(
            e,
            InventoryError::UnknownCategory {
                line: 2,
                value: "toaster".into()
            }
        );
        assert!(e.to_string().contains("line 2"));
        assert_eq!(
            parse_inventory_csv("foo,bar\n1,2\n").unwrap_err(),
            InventoryError::NoKnownColumns
        );
        // An unterminated quote runs to the end of the input (the csv crate is lenient).
        let rows = parse_inventory_csv("vendor,model\n\"BD,8015\n").expect("lenient");
        assert_eq!(rows[0].vendor.as_deref(), Some("BD,8015"));
    }
}
