//! The posture report as PDF, written with `pdf-writer`: A4 pages, vector bar charts and
//! tables, the PDF standard fonts Helvetica and Helvetica-Bold (WinAnsi encoding; every
//! PDF reader provides them, so nothing is downloaded or embedded). Text outside
//! Latin-1 is replaced by `?`.

use super::{Block, Posture};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const W: f32 = 595.0;
const H: f32 = 842.0;
const M: f32 = 48.0;

/// Helvetica advance widths (1/1000 em) for ASCII 32..=126 (Adobe's standard metrics).
const HELV: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// The text as WinAnsi bytes (Latin-1 subset; anything else becomes `?`).
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '\u{2013}' | '\u{2014}' => b'-',
            '\u{2018}' | '\u{2019}' => b'\'',
            '\u{201c}' | '\u{201d}' => b'"',
            '\u{2192}' => b'>',
            c if (' '..='~').contains(&c) => c as u8,
            c if ('\u{a0}'..='\u{ff}').contains(&c) => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

/// Width of `s` at `size` points.
fn width(s: &str, size: f32, bold: bool) -> f32 {
    let w: u32 = win_ansi(s)
        .iter()
        .map(|b| {
            if (32..=126).contains(b) {
                u32::from(HELV[usize::from(*b - 32)])
            } else {
                556
            }
        })
        .sum();
    w as f32 / 1000.0 * size * if bold { 1.07 } else { 1.0 }
}

/// `s` cut to fit `max` points, with an ellipsis.
fn fit(s: &str, size: f32, max: f32) -> String {
    if width(s, size, false) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        if width(&format!("{out}{c}..."), size, false) > max {
            break;
        }
        out.push(c);
    }
    format!("{out}...")
}

/// Greedy word wrap to `max` points.
fn wrap(s: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split_whitespace() {
        let cand = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if width(&cand, size, false) > max && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
            cur = fit(word, size, max);
        } else {
            cur = cand;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

fn rgb(key: &str) -> (f32, f32, f32) {
    let hex = super::svg::colour(key).trim_start_matches('#');
    let p = |i: usize| {
        u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0) as f32 / 255.0
    };
    (p(0), p(2), p(4))
}

struct Writer {
    pages: Vec<Content>,
    cur: Content,
    y: f32,
}

impl Writer {
    fn new() -> Self {
        Writer {
            pages: Vec::new(),
            cur: Content::new(),
            y: H - M,
        }
    }
    fn new_page(&mut self) {
        let done = std::mem::replace(&mut self.cur, Content::new());
        self.pages.push(done);
        self.y = H - M;
    }
    fn ensure(&mut self, h: f32) {
        if self.y - h < M + 14.0 {
            self.new_page();
        }
    }
    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, s: &str) {
        let font = if bold { Name(b"F2") } else { Name(b"F1") };
        self.cur.set_fill_rgb(0.11, 0.12, 0.14);
        self.cur.begin_text();
        self.cur.set_font(font, size);
        self.cur.next_line(x, y);
        self.cur.show(Str(&win_ansi(s)));
        self.cur.end_text();
    }
    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, c: (f32, f32, f32)) {
        self.cur.set_fill_rgb(c.0, c.1, c.2);
        self.cur.rect(x, y, w, h);
        self.cur.fill_nonzero();
    }
    fn hline(&mut self, x1: f32, x2: f32, y: f32) {
        self.cur.set_stroke_rgb(0.82, 0.84, 0.87);
        self.cur.set_line_width(0.5);
        self.cur.move_to(x1, y);
        self.cur.line_to(x2, y);
        self.cur.stroke();
    }
    fn para(&mut self, s: &str, size: f32) {
        for line in wrap(s, size, W - 2.0 * M) {
            self.ensure(size * 1.4);
            self.y -= size * 1.4;
            self.text(M, self.y, size, false, &line);
        }
        self.y -= 4.0;
    }
    fn heading(&mut self, s: &str, size: f32) {
        self.ensure(size * 2.2 + 30.0);
        self.y -= size * 1.6;
        self.text(M, self.y, size, true, &fit(s, size, W - 2.0 * M));
        self.y -= 6.0;
        self.hline(M, W - M, self.y);
        self.y -= 6.0;
    }
    fn kpis(&mut self, k: &[(String, String)]) {
        let per_row = 3usize;
        let bw = (W - 2.0 * M - 16.0) / per_row as f32;
        for row in k.chunks(per_row) {
            self.ensure(50.0);
            self.y -= 46.0;
            for (i, (v, l)) in row.iter().enumerate() {
                let x = M + i as f32 * (bw + 8.0);
                self.rect(x, self.y, bw, 42.0, (0.96, 0.97, 0.98));
                self.text(x + 8.0, self.y + 22.0, 18.0, true, v);
                self.text(x + 8.0, self.y + 8.0, 8.5, false, &fit(l, 8.5, bw - 12.0));
            }
        }
        self.y -= 8.0;
    }
    fn bars(&mut self, title: &str, items: &[(String, u64, String)]) {
        let row = 14.0;
        self.ensure(22.0 + row * items.len().max(1) as f32);
        self.y -= 14.0;
        self.text(M, self.y, 10.0, true, title);
        if items.is_empty() {
            self.y -= row;
            self.text(M, self.y, 9.0, false, "No data yet.");
        }
        let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1) as f32;
        let label_w = 150.0;
        let bar_max = W - 2.0 * M - label_w - 50.0;
        for (label, v, key) in items {
            self.y -= row;
            let l = fit(label, 8.5, label_w - 6.0);
            self.text(
                M + label_w - 6.0 - width(&l, 8.5, false),
                self.y + 2.0,
                8.5,
                false,
                &l,
            );
            let bw = (bar_max * *v as f32 / max).max(1.0);
            self.rect(M + label_w, self.y, bw, 10.0, rgb(key));
            self.text(
                M + label_w + bw + 4.0,
                self.y + 2.0,
                8.5,
                false,
                &v.to_string(),
            );
        }
        self.y -= 10.0;
    }
    fn table(&mut self, head: &[String], rows: &[Vec<String>]) {
        if rows.is_empty() {
            self.para("None.", 9.0);
            return;
        }
        let size = 8.0;
        let total = W - 2.0 * M;
        let n = head.len().max(1);
        // Column widths in proportion to their longest text, at least 8% each.
        let mut want: Vec<f32> = (0..n)
            .map(|i| {
                let mut w = width(&head[i], size, true);
                for r in rows.iter().take(50) {
                    w = w.max(width(
                        r.get(i).map(String::as_str).unwrap_or(""),
                        size,
                        false,
                    ));
                }
                w + 8.0
            })
            .collect();
        let sum: f32 = want.iter().sum();
        if sum > total {
            for w in &mut want {
                *w = (*w / sum * total).max(total * 0.08);
            }
            let s2: f32 = want.iter().sum();
            for w in &mut want {
                *w *= total / s2;
            }
        }
        let row_h = 12.0;
        let header = |wr: &mut Writer| {
            wr.y -= row_h;
            wr.rect(M, wr.y - 3.0, total, row_h, (0.96, 0.97, 0.98));
            let mut x = M + 3.0;
            for (i, h) in head.iter().enumerate() {
                wr.text(x, wr.y, size, true, &fit(h, size, want[i] - 6.0));
                x += want[i];
            }
        };
        self.ensure(row_h * 3.0);
        header(self);
        for r in rows {
            if self.y - row_h < M + 14.0 {
                self.new_page();
                header(self);
            }
            self.y -= row_h;
            let mut x = M + 3.0;
            for (i, c) in r.iter().enumerate().take(n) {
                self.text(x, self.y, size, false, &fit(c, size, want[i] - 6.0));
                x += want[i];
            }
            self.hline(M, M + total, self.y - 3.0);
        }
        self.y -= 10.0;
    }
}

/// Renders the report as PDF bytes.
pub fn pdf(p: &Posture) -> Vec<u8> {
    let mut w = Writer::new();
    w.y -= 20.0;
    for line in wrap(&p.title, 18.0, W - 2.0 * M) {
        w.text(M, w.y, 18.0, true, &line);
        w.y -= 24.0;
    }
    w.text(
        M,
        w.y,
        9.0,
        false,
        &format!("Generated by Ward on {}. Scope: {}.", p.generated, p.scope),
    );
    w.y -= 10.0;
    let mut first = true;
    for b in &p.blocks {
        match b {
            Block::Section(t) => {
                if !std::mem::take(&mut first) {
                    w.new_page();
                }
                w.heading(t, 15.0);
            }
            Block::Sub(t) => {
                w.ensure(40.0);
                w.y -= 16.0;
                w.text(M, w.y, 11.0, true, t);
                w.y -= 4.0;
            }
            Block::Para(t) => w.para(t, 9.5),
            Block::Kpis(k) => w.kpis(k),
            Block::Bars { title, items } => w.bars(title, items),
            Block::Table { head, rows } => w.table(head, rows),
        }
    }
    w.new_page();
    let pages = std::mem::take(&mut w.pages);

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let f1 = Ref::new(3);
    let f2 = Ref::new(4);
    let info = Ref::new(5);
    let mut next = 6;
    let mut page_ids = Vec::new();
    let mut content_ids = Vec::new();
    for _ in &pages {
        page_ids.push(Ref::new(next));
        content_ids.push(Ref::new(next + 1));
        next += 2;
    }
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    pdf.type1_font(f1)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(f2)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr(&p.title))
        .producer(TextStr("Ward"));
    let total = pages.len();
    for (i, mut content) in pages.into_iter().enumerate() {
        // Footer.
        let footer = format!(
            "Ward posture report - {} - page {} of {total}",
            p.scope,
            i + 1
        );
        content.set_fill_rgb(0.34, 0.38, 0.42);
        content.begin_text();
        content.set_font(Name(b"F1"), 7.5);
        content.next_line(M, M - 20.0);
        content.show(Str(&win_ansi(&footer)));
        content.end_text();
        let mut page = pdf.page(page_ids[i]);
        page.media_box(Rect::new(0.0, 0.0, W, H));
        page.parent(tree);
        page.contents(content_ids[i]);
        {
            let mut res = page.resources();
            let mut fonts = res.fonts();
            fonts.pair(Name(b"F1"), f1);
            fonts.pair(Name(b"F2"), f2);
            fonts.finish();
        }
        page.finish();
        let data = content.finish();
        pdf.stream(content_ids[i], data.as_slice());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_fits() {
        let lines = wrap("the quick brown fox jumps over the lazy dog", 10.0, 80.0);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| width(l, 10.0, false) <= 80.0 + 0.01));
        assert!(fit("a very long text that cannot fit", 10.0, 40.0).ends_with("..."));
        assert_eq!(win_ansi("é→x"), vec![0xe9, b'>', b'x']);
    }
}
