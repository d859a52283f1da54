//! CISA Known Exploited Vulnerabilities catalog, JSON and CSV.

use crate::error::{from_json_slice, IntelError};
use crate::model::{KevCatalog, KevEntry};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogJ {
    title: Option<String>,
    catalog_version: Option<String>,
    date_released: Option<String>,
    count: Option<usize>,
    vulnerabilities: Vec<EntryJ>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryJ {
    #[serde(rename = "cveID")]
    cve_id: String,
    vendor_project: String,
    product: String,
    vulnerability_name: String,
    date_added: String,
    short_description: String,
    required_action: String,
    due_date: String,
    #[serde(default)]
    known_ransomware_campaign_use: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    cwes: Vec<String>,
}

pub fn read_json(bytes: &[u8], file: &str) -> Result<KevCatalog, IntelError> {
    let c: CatalogJ = from_json_slice(bytes, file)?;
    if let Some(n) = c.count {
        if n != c.vulnerabilities.len() {
            return Err(IntelError::invalid(
                file,
                "kev:count",
                "/count",
                format!(
                    "count says {n} but {} entries are listed",
                    c.vulnerabilities.len()
                ),
            ));
        }
    }
    for (i, e) in c.vulnerabilities.iter().enumerate() {
        if !crate::csaf::validate::cve_pattern_ok(&e.cve_id) {
            return Err(IntelError::invalid(
                file,
                "kev:cveID",
                &format!("/vulnerabilities/{i}/cveID"),
                "not a CVE id",
            ));
        }
    }
    Ok(KevCatalog {
        title: c.title,
        catalog_version: c.catalog_version,
        date_released: c.date_released,
        entries: c
            .vulnerabilities
            .into_iter()
            .map(|e| KevEntry {
                cve: e.cve_id,
                vendor_project: e.vendor_project,
                product: e.product,
                vulnerability_name: e.vulnerability_name,
                date_added: e.date_added,
                short_description: e.short_description,
                required_action: e.required_action,
                due_date: e.due_date,
                known_ransomware_campaign_use: e.known_ransomware_campaign_use,
                notes: e.notes,
                cwes: e.cwes,
            })
            .collect(),
        provenance: Default::default(),
    })
}

const HEADER: &[&str] = &[
    "cveID",
    "vendorProject",
    "product",
    "vulnerabilityName",
    "dateAdded",
    "shortDescription",
    "requiredAction",
    "dueDate",
    "knownRansomwareCampaignUse",
    "notes",
];

/// The CSV header starts with these columns (`cwes` follows in newer catalogs).
pub fn is_kev_csv_header(line: &str) -> bool {
    line.trim_start_matches('\u{feff}')
        .starts_with("cveID,vendorProject,product")
}

pub fn read_csv(bytes: &[u8], file: &str) -> Result<KevCatalog, IntelError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let err = |line: u64, msg: String| IntelError::Line {
        file: file.to_string(),
        line: usize::try_from(line).unwrap_or(usize::MAX),
        message: msg,
    };
    let headers = rdr.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let idx = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
    };
    let mut cols = Vec::new();
    for h in HEADER {
        cols.push(idx(h).ok_or_else(|| err(1, format!("missing column {h}")))?);
    }
    let cwe_col = idx("cwes");
    let mut out = KevCatalog::default();
    for rec in rdr.records() {
        let rec =
            rec.map_err(|e| err(e.position().map(|p| p.line()).unwrap_or(0), e.to_string()))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let f = |i: usize| rec.get(cols[i]).unwrap_or("").to_string();
        let cve = f(0);
        if !crate::csaf::validate::cve_pattern_ok(&cve) {
            return Err(err(line, format!("{cve:?} is not a CVE id")));
        }
        out.entries.push(KevEntry {
            cve,
            vendor_project: f(1),
            product: f(2),
            vulnerability_name: f(3),
            date_added: f(4),
            short_description: f(5),
            required_action: f(6),
            due_date: f(7),
            known_ransomware_campaign_use: f(8),
            notes: f(9),
            cwes: cwe_col
                .and_then(|c| rec.get(c))
                .map(|s| {
                    s.split(',')
                        .map(str::trim)
                        .filter(|x| !x.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    Ok(out)
}
