//! Small helpers shared by the protocol modules: a bounds-checked byte reader, a bounded
//! record reassembler for length-prefixed TCP protocols, and text helpers.
//!
//! Everything here is total: no function panics on any input.

use std::fmt::Write as _;

/// A cursor over a byte slice whose reads fail (return `None`) instead of panicking.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }
    pub fn pos(&self) -> usize {
        self.pos
    }
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    pub fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    pub fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    pub fn u24(&mut self) -> Option<u32> {
        self.take(3)
            .map(|b| u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }
    pub fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A slice prefixed by a one-byte length.
    pub fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()? as usize;
        self.take(n)
    }
    /// A slice prefixed by a two-byte big-endian length.
    pub fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
    /// A slice prefixed by a three-byte big-endian length.
    pub fn vec24(&mut self) -> Option<&'a [u8]> {
        let n = self.u24()? as usize;
        self.take(n)
    }
}

/// Reads a little-endian u16 at `off`.
pub fn le16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// Reads a little-endian u32 at `off`.
pub fn le32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Reads a big-endian u16 at `off`.
pub fn be16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

/// Lowercase hex of `b`.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// Joins numbers with `sep` (fingerprint strings such as "1,3,6,15").
pub fn join_nums<I: IntoIterator<Item = T>, T: std::fmt::Display>(it: I, sep: &str) -> String {
    let mut s = String::new();
    for (i, v) in it.into_iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        let _ = write!(s, "{v}");
    }
    s
}

/// Decodes UTF-16LE bytes (SMB, NTLMSSP strings) into a String, lossy, stopping at a NUL.
pub fn utf16le(b: &[u8]) -> String {
    let units = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|u| *u != 0);
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// ASCII case-insensitive prefix test.
pub fn starts_with_ci(hay: &[u8], prefix: &[u8]) -> bool {
    hay.len() >= prefix.len() && hay[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// ASCII case-insensitive substring search (for short needles in short texts).
pub fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Iterates over the lines of a text head (split on `\n`, `\r` trimmed).
pub fn lines(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    b.split(|c| *c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// Splits an RFC 822 style header line into a name and a trimmed value.
pub fn header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = memchr::memchr(b':', line)?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    Some((trim(name), trim(value)))
}

/// Trims ASCII whitespace from both ends.
pub fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or(&[])
}

/// A small per-flow memory of which (key, value) facts were already emitted, so that a
/// long flow repeating the same header does not allocate a new fact per message.
#[derive(Debug, Default)]
pub struct Seen {
    hashes: Vec<u64>,
}

impl Seen {
    /// Most distinct facts remembered per flow; beyond that facts are always emitted.
    const CAP: usize = 64;

    /// Returns true the first time a (key, value) pair is offered.
    pub fn first(&mut self, key: &str, value: &[u8]) -> bool {
        self.first_tagged(0, key, value)
    }

    /// Like [`Seen::first`], but remembers the pair separately for each side.
    pub fn first_for(&mut self, side: crate::framework::Side, key: &str, value: &[u8]) -> bool {
        let tag = match side {
            crate::framework::Side::Client => 1,
            crate::framework::Side::Server => 2,
        };
        self.first_tagged(tag, key, value)
    }

    fn first_tagged(&mut self, tag: u8, key: &str, value: &[u8]) -> bool {
        use std::hash::{Hash, Hasher};
        let mut h = ahash::AHasher::default();
        tag.hash(&mut h);
        key.hash(&mut h);
        value.hash(&mut h);
        let v = h.finish();
        if self.hashes.contains(&v) {
            return false;
        }
        if self.hashes.len() < Self::CAP {
            self.hashes.push(v);
        }
        true
    }
}

/// What the framing function says about the bytes at the start of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A record of `total` bytes (header included) of which the first `want` bytes are
    /// needed; the rest is skipped without buffering.
    Record { total: usize, want: usize },
    /// Not this protocol's framing: stop parsing this direction.
    Invalid,
}

/// Reassembles length-prefixed records in one TCP direction with a bounded buffer. A
/// record that lies whole inside one chunk is handed over without copying; only records
/// that straddle chunks are buffered, and only their first `want` bytes (at most `cap`).
#[derive(Debug)]
pub struct RecordStream {
    header_len: usize,
    cap: usize,
    buf: Vec<u8>,
    current: Option<(usize, usize)>,
    skip: u64,
    broken: bool,
}

impl RecordStream {
    pub fn new(header_len: usize, cap: usize) -> Self {
        RecordStream {
            header_len: header_len.max(1),
            cap: cap.max(header_len.max(1)),
            buf: Vec::new(),
            current: None,
            skip: 0,
            broken: false,
        }
    }

    /// True once the framing was invalid; the direction is then ignored.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Marks the direction as unparseable (e.g. after a gap in a protocol without resync).
    pub fn set_broken(&mut self) {
        self.broken = true;
        self.buf = Vec::new();
    }

    /// Forgets any partial record (after a gap) so framing restarts at the next chunk.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.current = None;
        self.skip = 0;
    }

    /// Feeds stream bytes. `measure` looks at a record header (exactly `header_len` bytes)
    /// and frames the record; `handle` receives the first `want` bytes of every record.
    pub fn feed(
        &mut self,
        mut data: &[u8],
        mut measure: impl FnMut(&[u8]) -> Frame,
        mut handle: impl FnMut(&[u8]),
    ) {
        // Each iteration consumes bytes or returns, so the loop is bounded by data.len().
        while !self.broken {
            if self.skip > 0 {
                let n = (self.skip.min(data.len() as u64)) as usize;
                self.skip -= n as u64;
                data = data.get(n..).unwrap_or(&[]);
            }
            if data.is_empty() {
                return;
            }
            if self.buf.is_empty() && self.current.is_none() && data.len() >= self.header_len {
                // Fast path: frame straight from the chunk.
                let (total, want) = match self.frame(&mut measure, &data[..self.header_len]) {
                    Some(f) => f,
                    None => return,
                };
                if data.len() >= want {
                    handle(&data[..want]);
                    if data.len() >= total {
                        data = &data[total..];
                    } else {
                        self.skip = (total - data.len()) as u64;
                        data = &[];
                    }
                } else {
                    self.buf.extend_from_slice(data);
                    self.current = Some((total, want));
                    return;
                }
                continue;
            }
            // Slow path: gather the header, then the wanted part, in the buffer.
            if self.current.is_none() {
                let need = self.header_len.saturating_sub(self.buf.len());
                let n = need.min(data.len());
                self.buf.extend_from_slice(&data[..n]);
                data = &data[n..];
                if self.buf.len() < self.header_len {
                    return;
                }
                let hdr = std::mem::take(&mut self.buf);
                let f = self.frame(&mut measure, &hdr[..self.header_len]);
                self.buf = hdr;
                match f {
                    Some(f) => self.current = Some(f),
                    None => return,
                }
            }
            let Some((total, want)) = self.current else {
                return;
            };
            let need = want.saturating_sub(self.buf.len());
            let n = need.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.buf.len() < want {
                return;
            }
            handle(&self.buf[..want]);
            self.skip = total.saturating_sub(want) as u64;
            self.buf.clear();
            self.current = None;
        }
    }

    fn frame(
        &mut self,
        measure: &mut impl FnMut(&[u8]) -> Frame,
        hdr: &[u8],
    ) -> Option<(usize, usize)> {
        match measure(hdr) {
            Frame::Record { total, want } => {
                let total = total.max(self.header_len);
                let want = want.clamp(self.header_len, total.min(self.cap));
                Some((total, want))
            }
            Frame::Invalid => {
                self.set_broken();
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame2(h: &[u8]) -> Frame {
        let total = 2 + h[1] as usize;
        if h[0] != 0xAA {
            return Frame::Invalid;
        }
        Frame::Record {
            total,
            want: total.min(4),
        }
    }

    #[test]
    fn record_stream_whole_split_and_skipped() {
        let stream: Vec<u8> = [
            &[0xAA, 3, 1, 2, 3][..],
            &[0xAA, 0][..],
            &[0xAA, 10, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9][..],
            &[0xAA, 1, 7][..],
        ]
        .concat();
        for split in 0..stream.len() {
            for split2 in split..stream.len() {
                let mut rs = RecordStream::new(2, 64);
                let mut got = Vec::new();
                for part in [&stream[..split], &stream[split..split2], &stream[split2..]] {
                    rs.feed(part, frame2, |r| got.push(r.to_vec()));
                }
                assert_eq!(
                    got,
                    vec![
                        vec![0xAA, 3, 1, 2],
                        vec![0xAA, 0],
                        vec![0xAA, 10, 9, 9],
                        vec![0xAA, 1, 7]
                    ],
                    "split at {split}/{split2}"
                );
                assert!(!rs.is_broken());
            }
        }
    }

    #[test]
    fn record_stream_invalid_breaks() {
        let mut rs = RecordStream::new(2, 64);
        let mut n = 0;
        rs.feed(&[0xAA, 0, 0x00, 5, 1], frame2, |_| n += 1);
        assert_eq!(n, 1);
        assert!(rs.is_broken());
    }

    #[test]
    fn text_helpers() {
        assert_eq!(trim(b"  a b \r"), b"a b");
        assert_eq!(header(b"Server: x/1"), Some((&b"Server"[..], &b"x/1"[..])));
        assert!(contains_ci(b"Login: ", b"login:"));
        assert_eq!(utf16le(b"W\0i\0n\0\0\0x\0"), "Win");
        assert_eq!(join_nums([1, 3, 6], ","), "1,3,6");
        assert_eq!(hex(&[0, 0xab]), "00ab");
        let mut r = Reader::new(&[1, 0, 2, 9]);
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.vec16(), None, "length 2 but one byte left");
        let mut r = Reader::new(&[0, 1, 9]);
        assert_eq!(r.vec16(), Some(&[9][..]));
    }
}
