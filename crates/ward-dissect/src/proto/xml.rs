//! A tiny, bounded XML tag scanner shared by the XML-speaking clinical dissectors
//! (POCT1-A, SDC/WS-Discovery). Not a protocol.
//!
//! It finds tags, their local names, attributes and the text that follows them, without
//! building a tree or allocating; enough for picking a handful of known elements out of
//! device messages. Malformed input ends the scan early, never panics. Comments,
//! processing instructions, CDATA and doctype declarations are skipped.

use memchr::{memchr, memmem};

/// One start, end or empty-element tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag<'a> {
    /// Qualified name (`pm:Manufacturer`).
    pub name: &'a [u8],
    /// Attribute text (after the name, before `>` or `/>`).
    pub attrs: &'a [u8],
    pub is_end: bool,
    pub self_closing: bool,
    /// Offset of the `<`.
    pub start: usize,
    /// Offset just after the `>`.
    pub content: usize,
}

impl<'a> Tag<'a> {
    /// The name without its namespace prefix.
    pub fn local_name(&self) -> &'a [u8] {
        match memchr(b':', self.name) {
            Some(i) => &self.name[i + 1..],
            None => self.name,
        }
    }
    /// An attribute's raw value (entities not decoded).
    pub fn attr(&self, name: &[u8]) -> Option<&'a [u8]> {
        attr(self.attrs, name)
    }
}

/// Iterates over the tags of `xml`.
pub fn tags(xml: &[u8]) -> impl Iterator<Item = Tag<'_>> {
    let mut at = 0usize;
    std::iter::from_fn(move || loop {
        let i = at + memchr(b'<', xml.get(at..)?)?;
        let rest = &xml[i..];
        // Skip markup that is not an element tag.
        let skip_to = |end: &[u8]| memmem::find(rest, end).map(|e| i + e + end.len());
        if rest.starts_with(b"<!--") {
            at = skip_to(b"-->")?;
            continue;
        }
        if rest.starts_with(b"<![CDATA[") {
            at = skip_to(b"]]>")?;
            continue;
        }
        if rest.starts_with(b"<?") {
            at = skip_to(b"?>")?;
            continue;
        }
        if rest.starts_with(b"<!") {
            at = skip_to(b">")?;
            continue;
        }
        let close = i + memchr(b'>', rest)?;
        let inner = &xml[i + 1..close];
        at = close + 1;
        let (is_end, inner) = match inner.split_first() {
            Some((b'/', r)) => (true, r),
            _ => (false, inner),
        };
        let (self_closing, inner) = match inner.split_last() {
            Some((b'/', r)) => (true, r),
            _ => (false, inner),
        };
        let name_end = inner
            .iter()
            .position(|c| c.is_ascii_whitespace())
            .unwrap_or(inner.len());
        if name_end == 0 {
            continue;
        }
        return Some(Tag {
            name: &inner[..name_end],
            attrs: &inner[name_end..],
            is_end,
            self_closing,
            start: i,
            content: close + 1,
        });
    })
}

/// Finds `name="value"` (or single quotes) in an attribute list.
pub fn attr<'a>(attrs: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut at = 0usize;
    while at < attrs.len() {
        let i = at + memmem::find(&attrs[at..], name)?;
        at = i + name.len();
        let before_ok = i == 0 || attrs[i - 1].is_ascii_whitespace();
        let mut j = i + name.len();
        while attrs.get(j).is_some_and(|c| c.is_ascii_whitespace()) {
            j += 1;
        }
        if !before_ok || attrs.get(j) != Some(&b'=') {
            continue;
        }
        j += 1;
        while attrs.get(j).is_some_and(|c| c.is_ascii_whitespace()) {
            j += 1;
        }
        let q = *attrs.get(j)?;
        if q != b'"' && q != b'\'' {
            continue;
        }
        let v = &attrs[j + 1..];
        let end = memchr(q, v)?;
        return Some(&v[..end]);
    }
    None
}

/// The character data right after a start tag, up to the next `<`.
pub fn text_after<'a>(xml: &'a [u8], tag: &Tag<'_>) -> &'a [u8] {
    if tag.self_closing || tag.is_end {
        return &[];
    }
    let rest = xml.get(tag.content..).unwrap_or_default();
    let end = memchr(b'<', rest).unwrap_or(rest.len());
    &rest[..end]
}

/// Decodes the five predefined entities and numeric character references; trims.
pub fn unescape(v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    let s = s.trim();
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(semi) = after.find(';').filter(|n| *n <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let ent = &after[..semi];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => {
                let n = if let Some(h) = ent.strip_prefix("#x").or(ent.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                n.and_then(char::from_u32)
            }
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_tags_attrs_and_text() {
        let x = br#"<?xml version="1.0"?><!-- c --><a:Root x="1"><b V='v&amp;w'/><c>Dr&#228;ger &amp; Co</c></a:Root>"#;
        let t: Vec<_> = tags(x).collect();
        assert_eq!(t.len(), 5);
        assert_eq!(t[0].local_name(), b"Root");
        assert_eq!(t[1].attr(b"V"), Some(&b"v&amp;w"[..]));
        assert!(t[1].self_closing);
        assert_eq!(unescape(text_after(x, &t[2])), "Dräger & Co");
        assert!(t[4].is_end);
        // Truncated input ends the scan without panicking.
        for n in 0..x.len() {
            let _ = tags(&x[..n]).count();
        }
    }
}
