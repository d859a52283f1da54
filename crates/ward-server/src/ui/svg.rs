//! Server-rendered SVG figures: horizontal bar charts, line charts and a network graph.
//! Every text is XML-escaped; every figure has a `<title>` and `role="img"` for screen
//! readers.

use std::fmt::Write;

/// XML-escapes text for SVG.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Colour of a priority tier or criticality.
pub fn colour(key: &str) -> &'static str {
    match key {
        "P1" | "critical" => "#b3261e",
        "P2" | "high" => "#d9730d",
        "P3" | "medium" => "#b08800",
        "P4" | "low" => "#57606a",
        "closed" => "#1a7f37",
        _ => "#0b5cad",
    }
}

/// A horizontal bar chart of (label, value, colour key).
pub fn bars(title: &str, items: &[(String, u64, String)], width: u32) -> String {
    let row = 22u32;
    let label_w = 190u32;
    let h = 24 + row * items.len().max(1) as u32;
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{h}" viewBox="0 0 {width} {h}"><title>{}</title>"#,
        esc(title)
    );
    if items.is_empty() {
        let _ = write!(
            s,
            r##"<text x="8" y="30" fill="#57606a" font-size="13">No data yet</text>"##
        );
    }
    for (i, (label, v, key)) in items.iter().enumerate() {
        let y = 8 + row * i as u32;
        let bw = ((width - label_w - 60) as f64 * (*v as f64) / (max as f64))
            .round()
            .max(1.0);
        let short: String = label.chars().take(28).collect();
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end" font-size="12" fill="#1b1f24">{}</text><rect x="{label_w}" y="{y}" width="{bw}" height="16" fill="{}"><title>{}: {v}</title></rect><text x="{}" y="{}" font-size="12" fill="#1b1f24">{v}</text>"##,
            label_w - 6,
            y + 12,
            esc(&short),
            colour(key),
            esc(label),
            label_w as f64 + bw + 4.0,
            y + 12
        );
    }
    s.push_str("</svg>");
    s
}

/// A line chart of (x label, value) points, oldest first.
pub fn line(title: &str, points: &[(String, f64)], width: u32, height: u32) -> String {
    let (l, r, t, b) = (44.0, 12.0, 12.0, 30.0);
    let w = f64::from(width) - l - r;
    let h = f64::from(height) - t - b;
    let max = points.iter().map(|p| p.1).fold(0.0f64, f64::max).max(1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}"><title>{}</title>"#,
        esc(title)
    );
    let _ = write!(
        s,
        r##"<line x1="{l}" y1="{}" x2="{}" y2="{}" stroke="#8c959f"/><line x1="{l}" y1="{t}" x2="{l}" y2="{}" stroke="#8c959f"/><text x="{}" y="{}" text-anchor="end" font-size="11">{}</text><text x="{}" y="{}" text-anchor="end" font-size="11">0</text>"##,
        t + h,
        l + w,
        t + h,
        t + h,
        l - 4.0,
        t + 10.0,
        max.round(),
        l - 4.0,
        t + h
    );
    if points.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" fill="#57606a" font-size="13">No data yet</text>"##,
            l + 10.0,
            t + h / 2.0
        );
    } else {
        let n = points.len();
        let x = |i: usize| {
            if n == 1 {
                l + w / 2.0
            } else {
                l + w * i as f64 / (n - 1) as f64
            }
        };
        let y = |v: f64| t + h - h * v / max;
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.1)))
            .collect();
        let _ = write!(
            s,
            r##"<polyline fill="none" stroke="#0b5cad" stroke-width="2" points="{}"/>"##,
            path.join(" ")
        );
        for (i, p) in points.iter().enumerate() {
            let _ = write!(
                s,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#0b5cad"><title>{}: {}</title></circle>"##,
                x(i),
                y(p.1),
                esc(&p.0),
                p.1
            );
        }
        let step = n.div_ceil(6).max(1);
        for (i, p) in points.iter().enumerate().step_by(step) {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{}" text-anchor="middle" font-size="11" fill="#57606a">{}</text>"##,
                x(i),
                t + h + 16.0,
                esc(&p.0)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A node of a network graph.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub label: String,
    /// The group (zone) the node is drawn in.
    pub group: String,
    /// Criticality (colours the node); `critical` nodes get a thick ring.
    pub criticality: String,
    pub href: Option<String>,
}

/// An edge of a network graph.
#[derive(Debug, Clone)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub protocol: String,
    /// Drawn red and dashed (a policy violation).
    pub violation: bool,
    /// Drawn thick (on a path to a life-critical device).
    pub critical_path: bool,
}

/// Protocol colours (edges by protocol).
fn proto_colour(p: &str) -> &'static str {
    let p = p.to_ascii_lowercase();
    if p.contains("hl7") {
        "#6f42c1"
    } else if p.contains("dicom") {
        "#0b5cad"
    } else if p.contains("telnet") || p.contains("ftp") || p.contains("smb") {
        "#b3261e"
    } else if p.contains("tls") || p.contains("https") || p.contains("ssh") {
        "#1a7f37"
    } else if p.contains("dns") || p.contains("dhcp") || p.contains("ntp") {
        "#8c959f"
    } else {
        "#d9730d"
    }
}

/// Draws groups as sectors of a circle, nodes on the circle by group, edges as lines.
pub fn graph(title: &str, nodes: &[Node], edges: &[Edge], size: u32) -> String {
    let c = f64::from(size) / 2.0;
    let radius = c - 110.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{size}" height="{size}" viewBox="0 0 {size} {size}"><title>{}</title>"#,
        esc(title)
    );
    if nodes.is_empty() {
        let _ = write!(
            s,
            r##"<text x="20" y="40" fill="#57606a" font-size="14">No connections observed yet</text></svg>"##
        );
        return s;
    }
    let mut order: Vec<&Node> = nodes.iter().collect();
    order.sort_by(|a, b| (&a.group, &a.label).cmp(&(&b.group, &b.label)));
    let n = order.len();
    let pos: std::collections::HashMap<&str, (f64, f64, f64)> = order
        .iter()
        .enumerate()
        .map(|(i, nd)| {
            let a = std::f64::consts::TAU * i as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
            (
                nd.id.as_str(),
                (c + radius * a.cos(), c + radius * a.sin(), a),
            )
        })
        .collect();
    for e in edges {
        let (Some(a), Some(b)) = (pos.get(e.from.as_str()), pos.get(e.to.as_str())) else {
            continue;
        };
        let (col, dash, w) = if e.violation {
            ("#b3261e", r#" stroke-dasharray="6 3""#, 2.5)
        } else {
            (
                proto_colour(&e.protocol),
                "",
                if e.critical_path { 2.5 } else { 1.0 },
            )
        };
        let _ = write!(
            s,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{col}" stroke-width="{w}" stroke-opacity="0.75"{dash}><title>{}</title></line>"#,
            a.0,
            a.1,
            b.0,
            b.1,
            esc(&format!(
                "{} → {} ({}){}",
                e.from,
                e.to,
                e.protocol,
                if e.violation { " policy violation" } else { "" }
            ))
        );
    }
    let mut last_group = "";
    for nd in &order {
        let Some(&(x, y, a)) = pos.get(nd.id.as_str()) else {
            continue;
        };
        let ring = if nd.criticality == "critical" {
            r##" stroke="#1b1f24" stroke-width="3""##
        } else {
            r##" stroke="#fff" stroke-width="1""##
        };
        let circle = format!(
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="7" fill="{}"{ring}><title>{} ({}, {})</title></circle>"#,
            colour(&nd.criticality),
            esc(&nd.label),
            esc(&nd.group),
            esc(if nd.criticality.is_empty() {
                "criticality unknown"
            } else {
                &nd.criticality
            })
        );
        match &nd.href {
            Some(h) => {
                let _ = write!(s, r#"<a href="{}">{circle}</a>"#, esc(h));
            }
            None => s.push_str(&circle),
        }
        let (lx, ly) = (c + (radius + 12.0) * a.cos(), c + (radius + 12.0) * a.sin());
        let anchor = if a.cos() >= 0.0 { "start" } else { "end" };
        let label: String = nd.label.chars().take(22).collect();
        let _ = write!(
            s,
            r##"<text x="{lx:.1}" y="{:.1}" font-size="10" text-anchor="{anchor}" fill="#1b1f24">{}</text>"##,
            ly + 3.0,
            esc(&label)
        );
        if nd.group != last_group {
            let (gx, gy) = (c + (radius - 26.0) * a.cos(), c + (radius - 26.0) * a.sin());
            let _ = write!(
                s,
                r##"<text x="{gx:.1}" y="{gy:.1}" font-size="11" font-weight="bold" text-anchor="middle" fill="#57606a">{}</text>"##,
                esc(&nd.group)
            );
            last_group = &nd.group;
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_draws() {
        let s = bars(
            "t<x>",
            &[("a&b".into(), 3, "P1".into()), ("c".into(), 1, "P4".into())],
            500,
        );
        assert!(s.contains("t&lt;x&gt;") && s.contains("a&amp;b") && s.contains("#b3261e"));
        assert_eq!(s.matches("<rect").count(), 2);
        let l = line("x", &[("d1".into(), 1.0), ("d2".into(), 4.0)], 400, 200);
        assert!(l.contains("<polyline"));
        let g = graph(
            "g",
            &[
                Node {
                    id: "a".into(),
                    label: "A".into(),
                    group: "z".into(),
                    criticality: "critical".into(),
                    href: None,
                },
                Node {
                    id: "b".into(),
                    label: "B".into(),
                    group: "z".into(),
                    criticality: "low".into(),
                    href: None,
                },
            ],
            &[Edge {
                from: "a".into(),
                to: "b".into(),
                protocol: "telnet".into(),
                violation: true,
                critical_path: true,
            }],
            400,
        );
        assert!(g.contains("stroke-dasharray") && g.contains("policy violation"));
    }
}
