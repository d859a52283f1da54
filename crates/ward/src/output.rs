//! Rendering an analysis as a table, JSON or JSON lines. Presentation only.

use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use ward_capture::CaptureStats;
use ward_dissect::DissectOutput;
use ward_model::{ConnectionEdge, SecurityObservation};

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Jsonl,
}

/// What was read.
#[derive(Debug, Serialize)]
pub struct InputSummary {
    pub files: Vec<FileSummary>,
    pub packets: u64,
    pub bytes: u64,
    pub flows: u64,
    pub unclassified_flows: u64,
    pub elapsed_ms: u128,
}

#[derive(Debug, Serialize)]
pub struct FileSummary {
    pub path: PathBuf,
    pub bytes: u64,
    pub packets: u64,
    pub warnings: Vec<String>,
}

/// One analysis, ready to print.
#[derive(Debug, Serialize)]
pub struct Report {
    pub input: InputSummary,
    pub inventory: ward_identify::Inventory,
    pub security: Vec<SecurityObservation>,
    pub observations: Vec<ward_model::Observation>,
    pub connections: Vec<ConnectionEdge>,
}

impl Report {
    /// The report of an analysis whose inventory is already identified.
    pub fn with_inventory(
        out: DissectOutput,
        stats: CaptureStats,
        elapsed: Duration,
        inventory: ward_identify::Inventory,
    ) -> Report {
        let input = InputSummary {
            files: stats
                .files
                .iter()
                .map(|f| FileSummary {
                    path: f.path.clone(),
                    bytes: f.bytes,
                    packets: f.packets,
                    warnings: f.warnings.clone(),
                })
                .collect(),
            packets: stats.packets,
            bytes: stats.bytes,
            flows: out.flows,
            unclassified_flows: out.unclassified_flows,
            elapsed_ms: elapsed.as_millis(),
        };
        Report {
            input,
            inventory,
            security: out.security,
            observations: out.observations,
            connections: out.edges,
        }
    }
}

/// Pretty JSON of one field of the report's top-level object, as
/// `serde_json::to_writer_pretty` writes it inside the whole report: `,\n  "key": `
/// (no comma for the first field) and the value, one level deep.
pub fn json_field<T: Serialize + ?Sized, W: Write + ?Sized>(
    w: &mut W,
    first: bool,
    key: &str,
    value: &T,
) -> Result<()> {
    w.write_all(if first { b"\n  " } else { b",\n  " })?;
    serde_json::to_writer(&mut *w, key)?;
    w.write_all(b": ")?;
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, NestedPretty::at(1));
    value.serialize(&mut ser)?;
    Ok(())
}

/// `serde_json`'s `PrettyFormatter` (two-space indent), starting `depth` levels deep:
/// the same nine methods with the same logic, and the indent level settable (serde_json
/// keeps it private). Everything else (strings, numbers) is the trait's default, as for
/// `PrettyFormatter`.
struct NestedPretty {
    indent: usize,
    has_value: bool,
}

impl NestedPretty {
    fn at(depth: usize) -> Self {
        NestedPretty {
            indent: depth,
            has_value: false,
        }
    }

    fn newline_indent<W: ?Sized + Write>(&self, w: &mut W, comma: bool) -> std::io::Result<()> {
        w.write_all(if comma { b",\n" } else { b"\n" })?;
        for _ in 0..self.indent {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for NestedPretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.indent += 1;
        self.has_value = false;
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.indent -= 1;
        if self.has_value {
            self.newline_indent(w, false)?;
        }
        w.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.newline_indent(w, !first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.indent += 1;
        self.has_value = false;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.indent -= 1;
        if self.has_value {
            self.newline_indent(w, false)?;
        }
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.newline_indent(w, !first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// The fields of the report that do not depend on identification, as [`json_field`]s:
/// written while identification runs, then spliced by [`write_json_parts`].
pub fn json_tail(out: &DissectOutput) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    json_field(&mut buf, false, "security", &out.security)?;
    json_field(&mut buf, false, "observations", &out.observations)?;
    json_field(&mut buf, false, "connections", &out.edges)?;
    Ok(buf)
}

/// The JSON of `report` (byte for byte what [`write`] with [`Format::Json`] writes) from
/// its head fields and the [`json_tail`] of the same analysis. The inventory's JSON is
/// written on `threads` threads ([`inventory_json`]).
pub fn write_json_parts(
    report: &Report,
    tail: &[u8],
    threads: usize,
    w: &mut dyn Write,
) -> Result<()> {
    w.write_all(b"{")?;
    json_field(w, true, "input", &report.input)?;
    if threads > 1 {
        w.write_all(b",\n  \"inventory\": ")?;
        for piece in inventory_json(&report.inventory, 1, threads)? {
            w.write_all(&piece)?;
        }
    } else {
        json_field(w, false, "inventory", &report.inventory)?;
    }
    w.write_all(tail)?;
    w.write_all(b"\n}\n")?;
    Ok(())
}

/// `level` levels of two-space indent.
fn indent(buf: &mut Vec<u8>, level: usize) {
    for _ in 0..level {
        buf.extend_from_slice(b"  ");
    }
}

/// The pretty JSON of `value` as [`NestedPretty`] writes it `depth` levels deep.
fn json_value<T: Serialize + ?Sized>(buf: &mut Vec<u8>, depth: usize, value: &T) -> Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *buf, NestedPretty::at(depth));
    value.serialize(&mut ser)?;
    Ok(())
}

/// The elements `range` of the pretty array `items` (the array itself `depth` levels
/// deep): for each, the separator, the indent and the element, as the pretty formatter
/// writes them inside the whole array. An element's JSON depends only on its depth (the
/// formatter's state is reset by every object and array it opens), so runs of elements
/// written apart and concatenated in order are the one-piece array's inside.
fn json_elements<T: Serialize>(
    buf: &mut Vec<u8>,
    items: &[T],
    range: std::ops::Range<usize>,
    depth: usize,
) -> Result<()> {
    for i in range.clone() {
        buf.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        indent(buf, depth + 1);
        if let Some(item) = items.get(i) {
            json_value(buf, depth + 1, item)?;
        }
    }
    Ok(())
}

/// The closing of a pretty array `depth` levels deep with `len` elements.
fn json_array_end(buf: &mut Vec<u8>, len: usize, depth: usize) {
    if len > 0 {
        buf.push(b'\n');
        indent(buf, depth);
    }
    buf.push(b']');
}

/// `items` cut into `parts` runs of about `target` weight each, the first run aiming at
/// `first_target` instead (it shares its thread with other work). Runs may be empty.
fn cut_by_weight<T>(
    items: &[T],
    parts: usize,
    first_target: u64,
    target: u64,
    weight: impl Fn(&T) -> u64,
) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::with_capacity(parts);
    let mut start = 0;
    let mut acc = 0u64;
    let mut goal = first_target;
    for (i, item) in items.iter().enumerate() {
        if runs.len() + 1 == parts {
            break;
        }
        if acc >= goal {
            runs.push(start..i);
            start = i;
            acc = 0;
            goal = target;
            if runs.len() + 1 == parts {
                break;
            }
        }
        acc += weight(item);
    }
    runs.push(start..items.len());
    while runs.len() < parts {
        runs.push(items.len()..items.len());
    }
    runs
}

/// About how much JSON a device is, in units of about 400 bytes (one fact, one
/// security finding or one attribute candidate each, as written).
fn device_weight(d: &ward_identify::Device) -> u64 {
    let candidates: usize = d.attributes.values().map(|a| a.candidates.len()).sum();
    (1 + d.facts.len() + d.security.len() + candidates) as u64
}

/// The pretty JSON of `inventory` as a value `depth` levels deep (byte for byte what
/// [`json_value`] writes, once the pieces returned are concatenated in order, which the
/// caller does by writing them out one after the other), its devices cut into `threads`
/// runs of about equal size written on scoped threads; the calling thread writes the
/// first run, the endpoints and the connections (so its run of devices is shorter).
pub fn inventory_json(
    inventory: &ward_identify::Inventory,
    depth: usize,
    threads: usize,
) -> Result<Vec<Vec<u8>>> {
    // Every field, so that a new one cannot be forgotten here.
    let ward_identify::Inventory {
        endpoints,
        devices,
        connections,
    } = inventory;
    let threads = threads.max(1);
    // Endpoints and connections in the devices' weight units (about 400 and 700 bytes).
    let others = endpoints.len() as u64 + 2 * connections.len() as u64;
    let total = devices.iter().map(device_weight).sum::<u64>() + others;
    let target = total.div_ceil(threads as u64);
    let runs = cut_by_weight(
        devices,
        threads,
        target.saturating_sub(others),
        target,
        device_weight,
    );
    let dd = depth + 1;
    let key = |buf: &mut Vec<u8>, first: bool, name: &str| -> Result<()> {
        buf.extend_from_slice(if first { b"\n" } else { b",\n" });
        indent(buf, dd);
        serde_json::to_writer(&mut *buf, name)?;
        buf.extend_from_slice(b": ");
        Ok(())
    };
    std::thread::scope(|scope| -> Result<Vec<Vec<u8>>> {
        let handles: Vec<_> = runs
            .iter()
            .skip(1)
            .filter(|r| !r.is_empty())
            .map(|r| {
                let r = r.clone();
                scope.spawn(move || -> Result<Vec<u8>> {
                    let mut buf = Vec::new();
                    json_elements(&mut buf, devices, r, dd)?;
                    Ok(buf)
                })
            })
            .collect();
        let mut head = Vec::new();
        head.push(b'{');
        key(&mut head, true, "endpoints")?;
        json_value(&mut head, dd, endpoints)?;
        key(&mut head, false, "devices")?;
        head.push(b'[');
        if let Some(first) = runs.first() {
            json_elements(&mut head, devices, first.clone(), dd)?;
        }
        // The end of the devices and the connections, written now, placed last.
        let mut end = Vec::new();
        json_array_end(&mut end, devices.len(), dd);
        key(&mut end, false, "connections")?;
        json_value(&mut end, dd, connections)?;
        end.push(b'\n');
        indent(&mut end, depth);
        end.push(b'}');
        let mut pieces = vec![head];
        for h in handles {
            pieces.push(
                h.join()
                    .map_err(|_| anyhow::anyhow!("writing JSON: a writer thread panicked"))??,
            );
        }
        pieces.push(end);
        Ok(pieces)
    })
}

pub fn write(report: &Report, format: Format, w: &mut dyn Write) -> Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, report)?;
            writeln!(w)?;
        }
        Format::Jsonl => write_jsonl(report, w)?,
        Format::Table => write_table(report, w)?,
    }
    Ok(())
}

/// Writes `summary.txt`, `analysis.json` and `analysis.jsonl` into `dir`.
pub fn write_dir(report: &Report, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, fmt) in [
        ("summary.txt", Format::Table),
        ("analysis.json", Format::Json),
        ("analysis.jsonl", Format::Jsonl),
    ] {
        let path = dir.join(name);
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?,
        );
        write(report, fmt, &mut f)?;
        f.flush()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(flatten)]
    item: &'a T,
}

fn line<T: Serialize>(w: &mut dyn Write, kind: &str, item: &T) -> Result<()> {
    serde_json::to_writer(&mut *w, &Line { kind, item })?;
    writeln!(w)?;
    Ok(())
}

fn write_jsonl(r: &Report, w: &mut dyn Write) -> Result<()> {
    line(w, "input", &r.input)?;
    for d in &r.inventory.devices {
        line(w, "device", d)?;
    }
    for e in &r.inventory.endpoints {
        line(w, "endpoint", e)?;
    }
    for c in &r.connections {
        line(w, "connection", c)?;
    }
    for s in &r.security {
        line(w, "security", s)?;
    }
    for o in &r.observations {
        line(w, "observation", o)?;
    }
    Ok(())
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

fn write_table(r: &Report, w: &mut dyn Write) -> Result<()> {
    let secs = (r.input.elapsed_ms as f64 / 1000.0).max(1e-6);
    writeln!(
        w,
        "Ward analysis: {} file(s), {} packets, {} in {:.2} s ({:.2} Gbit/s)",
        r.input.files.len(),
        r.input.packets,
        human_bytes(r.input.bytes),
        secs,
        r.input.bytes as f64 * 8.0 / secs / 1e9
    )?;
    for f in &r.input.files {
        for warn in &f.warnings {
            writeln!(w, "  warning: {}: {warn}", f.path.display())?;
        }
    }
    writeln!(w)?;
    crate::output::devices::write_devices(&r.inventory, w)?;

    let mut by_proto: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for c in &r.connections {
        let e = by_proto
            .entry(c.protocol.as_deref().unwrap_or("(unclassified)"))
            .or_default();
        e.0 += c.sessions;
        e.1 += c.bytes_to_client + c.bytes_to_server;
    }
    writeln!(
        w,
        "Protocols ({} flows, {} unclassified)",
        r.input.flows, r.input.unclassified_flows
    )?;
    for (p, (sessions, bytes)) in &by_proto {
        writeln!(
            w,
            "  {p:<16} {sessions:>8} sessions {:>12}",
            human_bytes(*bytes)
        )?;
    }
    writeln!(w)?;

    let mut conns: Vec<&ConnectionEdge> = r.connections.iter().collect();
    conns.sort_by(|a, b| {
        (b.bytes_to_client + b.bytes_to_server).cmp(&(a.bytes_to_client + a.bytes_to_server))
    });
    writeln!(w, "Connections ({} edges; top 25 by bytes)", conns.len())?;
    for c in conns.iter().take(25) {
        writeln!(
            w,
            "  {:<34} -> {:<34} {}/{:<5} {:<10} {:>6} sess {:>10}",
            c.client.to_string(),
            c.server.to_string(),
            c.transport,
            c.server_port,
            c.protocol.as_deref().unwrap_or("-"),
            c.sessions,
            human_bytes(c.bytes_to_client + c.bytes_to_server)
        )?;
    }
    writeln!(w)?;

    writeln!(w, "Security observations ({})", r.security.len())?;
    let mut sec: Vec<&SecurityObservation> = r.security.iter().collect();
    sec.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.kind.cmp(&b.kind)));
    for s in sec {
        writeln!(
            w,
            "  {:<7} {:<26} {:<34} {} (x{}, first: file #{} packet {})",
            format!("{:?}", s.severity).to_lowercase(),
            s.kind.as_str(),
            s.subject.to_string(),
            s.detail,
            s.count,
            s.evidence.file,
            s.evidence.packet
        )?;
    }
    Ok(())
}

pub mod devices {
    //! The device table of the human summary.
    use anyhow::Result;
    use std::io::Write;

    /// Each device on one line (id, name, category, vendor, model, addresses), then the
    /// evidence behind each attribute, indented.
    pub fn write_devices(inv: &ward_identify::Inventory, w: &mut dyn Write) -> Result<()> {
        let devices: Vec<_> = inv.devices.iter().filter(|d| !d.is_router).collect();
        let routers = inv.devices.len() - devices.len();
        writeln!(w, "Devices ({}, plus {routers} router(s))", devices.len())?;
        for d in devices {
            let category = d
                .category
                .map(|c| format!("{c:?}"))
                .unwrap_or_else(|| "unclassified".into());
            let criticality = d
                .criticality
                .map(|c| format!(" [{c:?}]"))
                .unwrap_or_default();
            let ips: Vec<String> = d.ips.iter().map(|b| b.ip.to_string()).collect();
            let macs: Vec<String> = d.macs.iter().map(|m| m.to_string()).collect();
            writeln!(
                w,
                "  {} {:<24} {category}{criticality}  {} {}  ip {} mac {}",
                d.id,
                d.display_name(),
                d.vendor().unwrap_or("-"),
                d.model().unwrap_or(""),
                if ips.is_empty() {
                    "-".into()
                } else {
                    ips.join(",")
                },
                if macs.is_empty() {
                    "-".into()
                } else {
                    macs.join(",")
                },
            )?;
            for line in d.explain() {
                writeln!(w, "      {line}")?;
            }
        }
        writeln!(w)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Fields written one by one at depth one equal the pretty JSON of the whole object,
    /// for nested, empty and escaped values alike.
    #[test]
    fn fields_written_one_by_one_equal_the_whole_pretty_object() {
        let a = json!({"x": [1, {"y": [], "z": {}}, [[]], "a\nb"], "e": {}});
        let b = json!([]);
        let c = json!([{"k": null, "v": [true, 1.5, -3]}, "\"quoted\""]);
        let whole = json!({"alpha": a, "beta": b, "gamma": c});
        let want = serde_json::to_string_pretty(&whole).expect("pretty");
        let mut got = vec![b'{'];
        json_field(&mut got, true, "alpha", &a).expect("alpha");
        json_field(&mut got, false, "beta", &b).expect("beta");
        json_field(&mut got, false, "gamma", &c).expect("gamma");
        got.extend_from_slice(b"\n}");
        assert_eq!(String::from_utf8_lossy(&got), want);
    }

    /// Runs cover the items in order, one per part, the first aiming at its own target.
    #[test]
    fn cuts_cover_every_item_in_order() {
        let items: Vec<u64> = (1..=20).collect();
        for parts in 1..=6 {
            for first in [0, 5, 50, 1000] {
                let runs = cut_by_weight(&items, parts, first, 40, |w| *w);
                assert_eq!(runs.len(), parts);
                assert_eq!(runs.first().map(|r| r.start), Some(0));
                assert_eq!(runs.last().map(|r| r.end), Some(items.len()));
                assert!(runs.windows(2).all(|w| w[0].end == w[1].start));
            }
        }
        let runs = cut_by_weight(&items, 3, 10, 40, |w| *w);
        assert_eq!(runs, vec![0..4, 4..10, 10..20]);
        let none: Vec<u64> = Vec::new();
        assert_eq!(cut_by_weight(&none, 2, 0, 1, |w| *w), vec![0..0, 0..0]);
    }

    /// The inventory written in runs on several threads is byte for byte the one-piece
    /// pretty JSON, for real inventories (corpus captures), cut short and empty.
    #[test]
    fn inventory_in_pieces_equals_the_one_piece_json() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        assert!(
            data.is_dir(),
            "the shared corpus is required at {}",
            data.display()
        );
        let rules = ward_identify::Rules::builtin().expect("rules");
        let mut inventories = vec![ward_identify::Inventory {
            endpoints: Vec::new(),
            devices: Vec::new(),
            connections: Vec::new(),
        }];
        for f in [
            "clinical-captures/dicom_cecho_pynetdicom.pcap",
            "pcaps/dev/ndpi__hl7.pcap",
            "pcaps/dev/ndpi__443-chrome.pcap",
        ] {
            let (out, _) = ward_dissect::analyze_files(
                &[data.join(f)],
                &ward_capture::CaptureConfig::default(),
                &ward_dissect::EngineConfig::default(),
                1,
                &|_| {},
            )
            .expect("analyse");
            let inv = ward_identify::identify(&out.observations, &out.security, &out.edges, &rules);
            assert!(!inv.devices.is_empty(), "{f}: no devices");
            for keep in [0, 1, 2] {
                let mut short = inv.clone();
                short.devices.truncate(keep);
                short.endpoints.truncate(keep);
                inventories.push(short);
            }
            inventories.push(inv);
        }
        for inv in &inventories {
            for depth in [0, 1, 3] {
                let mut want = Vec::new();
                json_value(&mut want, depth, inv).expect("json");
                for threads in 1..=5 {
                    let got = inventory_json(inv, depth, threads).expect("json").concat();
                    assert!(
                        got == want,
                        "{} devices, depth {depth}, {threads} threads:\n{}\n---\n{}",
                        inv.devices.len(),
                        String::from_utf8_lossy(&got),
                        String::from_utf8_lossy(&want)
                    );
                }
            }
        }
    }
}
