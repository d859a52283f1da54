//! Packet sources: pcap and pcapng files, plain (memory-mapped) or gzip-compressed, and a
//! k-way merge that replays several files in timestamp order.
//!
//! Records are located with `pcap-parser`'s slice parsers directly in the mapped file (or
//! in a refillable buffer for gzip), so walking a plain file copies no packet bytes. A
//! record that would run past the end of the data, or whose length is absurd, ends the
//! file with a warning naming the byte offset; nothing loops on a bad length because every
//! step either consumes at least one record header or stops.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pcap_parser::pcapng::Block;
use pcap_parser::{parse_block_be, parse_block_le, parse_pcap_frame, parse_pcap_frame_be};
use ward_model::Timestamp;

use crate::error::CaptureError;

/// Link-layer header types understood by the decoder (tcpdump.org LINKTYPE_ values).
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW_12: u32 = 12;
    pub const RAW_14: u32 = 14;
    pub const RAW: u32 = 101;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
}

/// Largest legal classic-pcap record; libpcap's maximum snapshot length is 256 KiB.
const MAX_PCAP_RECORD: usize = 1 << 20;
/// Largest pcapng block accepted (name-resolution or custom blocks can be large).
const MAX_PCAPNG_BLOCK: usize = 16 << 20;
/// Refill granularity for streamed (gzip) input.
const STREAM_CHUNK: usize = 256 << 10;

/// One captured packet as stored in its file.
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    pub ts: Timestamp,
    pub linktype: u32,
    pub data: &'a [u8],
    /// 1-based number of the packet within its file.
    pub number: u64,
}

/// Bytes of one input file: mapped, or streamed through a decompressor.
enum Input {
    /// The file mapped into memory. Pages behind the read position are released as
    /// the walk proceeds, so resident memory stays bounded whatever the file size.
    Mapped {
        /// Shared with the workers of a parallel run, which read packets in place.
        map: Arc<memmap2::Mmap>,
        pos: usize,
        /// Everything before this offset has been released.
        released: usize,
        /// Page tables are populated up to here (see [`POPULATE_CHUNK`]).
        populated: usize,
        /// Cache lines are prefetched up to here (see [`PREFETCH_AHEAD`]).
        prefetched: usize,
    },
    Buffered {
        data: Vec<u8>,
        pos: usize,
    },
    Stream {
        reader: Box<dyn Read + Send>,
        buf: Vec<u8>,
        start: usize,
        end: usize,
        eof: bool,
    },
}

impl Input {
    fn avail(&self) -> &[u8] {
        match self {
            Input::Mapped { map, pos, .. } => map.get(*pos..).unwrap_or(&[]),
            Input::Buffered { data, pos } => data.get(*pos..).unwrap_or(&[]),
            Input::Stream {
                buf, start, end, ..
            } => buf.get(*start..*end).unwrap_or(&[]),
        }
    }

    /// Steps over the file header: as [`Input::consume`], without populating or
    /// prefetching a mapping (left to the first record read).
    fn skip_header(&mut self, n: usize) {
        match self {
            Input::Mapped { pos, .. } => *pos += n,
            _ => self.consume(n),
        }
    }

    fn consume(&mut self, n: usize) {
        match self {
            Input::Mapped {
                map,
                pos,
                released,
                populated,
                prefetched,
            } => {
                *pos += n;
                if *pos + POPULATE_CHUNK / 2 > *populated {
                    *populated = populate(map, *populated);
                }
                *prefetched = prefetch(map, (*prefetched).max(*pos), *pos + PREFETCH_AHEAD);
                if *pos - *released >= RELEASE_EVERY + RELEASE_LAG {
                    let upto = (*pos - RELEASE_LAG) & !(RELEASE_ALIGN - 1);
                    release(map, *released, upto - *released);
                    *released = upto;
                }
            }
            Input::Buffered { pos, .. } => *pos += n,
            Input::Stream { start, end, .. } => *start = (*start + n).min(*end),
        }
    }

    /// Try to make at least `need` bytes available. Returns an I/O error only for a
    /// failing decompressor/reader; end of data simply leaves fewer bytes available.
    fn fill(&mut self, need: usize) -> std::io::Result<()> {
        let Input::Stream {
            reader,
            buf,
            start,
            end,
            eof,
        } = self
        else {
            return Ok(());
        };
        if *end - *start >= need || *eof {
            return Ok(());
        }
        // Compact, then grow to fit the request.
        buf.copy_within(*start..*end, 0);
        *end -= *start;
        *start = 0;
        let want = need.max(STREAM_CHUNK);
        if buf.len() < want {
            buf.resize(want, 0);
        }
        while *end < need {
            let n = match reader.read(&mut buf[*end..]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    *eof = true;
                    return Err(e);
                }
            };
            if n == 0 {
                *eof = true;
                break;
            }
            *end += n;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Pcap {
        big_endian: bool,
        nanos: bool,
        modified: bool,
        linktype: u32,
    },
    PcapNg {
        big_endian: bool,
    },
}

#[derive(Debug, Clone, Copy)]
struct Iface {
    linktype: u32,
    /// Timestamp units per second.
    resolution: u64,
    offset_secs: i64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Current {
    pub(crate) ts: Timestamp,
    pub(crate) linktype: u32,
    pub(crate) data_start: usize,
    pub(crate) data_len: usize,
    pub(crate) record_len: usize,
}

/// Sequential reader of one capture file.
pub struct CaptureReader {
    path: PathBuf,
    input: Input,
    format: Format,
    ifaces: Vec<Iface>,
    /// Offset (in the decompressed stream) of `input.avail()[0]`.
    offset: u64,
    packets: u64,
    last_ts: Timestamp,
    cur: Option<Current>,
    done: bool,
    warnings: Vec<String>,
    compressed: bool,
}

fn magic_hex(b: &[u8]) -> String {
    b.iter()
        .take(4)
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl CaptureReader {
    /// Open a capture file, detecting gzip compression and the capture format.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let io_err = |source| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if meta.is_dir() {
            return Err(CaptureError::NotCapture {
                path: path.to_path_buf(),
                magic: "(a directory)".into(),
            });
        }
        let mut head = [0u8; 2];
        let n = read_up_to(&mut file, &mut head).map_err(io_err)?;
        let gz = n == 2 && head == [0x1f, 0x8b];
        let input = if gz {
            let file = File::open(path).map_err(io_err)?;
            let reader = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(
                STREAM_CHUNK,
                file,
            ));
            Input::Stream {
                reader: Box::new(reader),
                buf: Vec::new(),
                start: 0,
                end: 0,
                eof: false,
            }
        } else if meta.is_file() && meta.len() > 0 {
            // Plain files are memory-mapped: the record walk then copies nothing.
            match map_file(&file) {
                // Page tables are filled once the records are read (by this reader, or
                // chunk by chunk by the parallel driver), not here: opening stays cheap
                // and nothing runs twice or before the workers start.
                Ok(map) => Input::Mapped {
                    map: Arc::new(map),
                    pos: 0,
                    released: 0,
                    populated: 0,
                    prefetched: 0,
                },
                Err(_) => {
                    let mut data = Vec::new();
                    let mut f = File::open(path).map_err(io_err)?;
                    f.read_to_end(&mut data).map_err(io_err)?;
                    Input::Buffered { data, pos: 0 }
                }
            }
        } else {
            let file = File::open(path).map_err(io_err)?;
            Input::Stream {
                reader: Box::new(file),
                buf: Vec::new(),
                start: 0,
                end: 0,
                eof: false,
            }
        };
        Self::from_input(path.to_path_buf(), input, gz)
    }

    /// Read a capture held in memory (used by tests and the fuzz target).
    pub fn from_bytes(name: &str, data: Vec<u8>) -> Result<Self, CaptureError> {
        Self::from_input(PathBuf::from(name), Input::Buffered { data, pos: 0 }, false)
    }

    fn from_input(path: PathBuf, mut input: Input, compressed: bool) -> Result<Self, CaptureError> {
        if let Err(e) = input.fill(24) {
            return Err(CaptureError::BadHeader {
                path,
                reason: format!("decompression failed: {e}"),
            });
        }
        let head = input.avail();
        if head.len() < 4 {
            return Err(CaptureError::NotCapture {
                path,
                magic: if head.is_empty() {
                    "(empty file)".into()
                } else {
                    magic_hex(head)
                },
            });
        }
        let magic = [head[0], head[1], head[2], head[3]];
        let (format, hdr_len) = match magic {
            [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] | [0xa1, 0xb2, 0xcd, 0x34] => {
                (pcap_format(head, &path)?, 24)
            }
            [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] | [0x34, 0xcd, 0xb2, 0xa1] => {
                (pcap_format(head, &path)?, 24)
            }
            [0x0a, 0x0d, 0x0d, 0x0a] => {
                // Endianness is fixed by the section header's byte-order magic.
                let bom = head.get(8..12).ok_or_else(|| CaptureError::BadHeader {
                    path: path.clone(),
                    reason: "pcapng section header shorter than 12 bytes".into(),
                })?;
                let big_endian = match bom {
                    [0x4d, 0x3c, 0x2b, 0x1a] => false,
                    [0x1a, 0x2b, 0x3c, 0x4d] => true,
                    _ => {
                        return Err(CaptureError::BadHeader {
                            path,
                            reason: format!("pcapng byte-order magic {} unknown", magic_hex(bom)),
                        })
                    }
                };
                (Format::PcapNg { big_endian }, 0)
            }
            _ => {
                return Err(CaptureError::NotCapture {
                    path,
                    magic: magic_hex(head),
                })
            }
        };
        input.skip_header(hdr_len);
        let mut warnings = Vec::new();
        if let Format::Pcap { linktype, .. } = format {
            if !crate::decode::is_supported_linktype(linktype) {
                warnings.push(unsupported(&path, linktype, 20));
            }
        }
        Ok(CaptureReader {
            path,
            input,
            format,
            ifaces: Vec::new(),
            offset: hdr_len as u64,
            packets: 0,
            last_ts: Timestamp(0),
            cur: None,
            done: false,
            warnings,
            compressed,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes consumed so far (decompressed bytes for gzip input).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn packets(&self) -> u64 {
        self.packets
    }

    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The packet the reader is positioned on (after a successful [`Self::advance`]).
    pub fn current(&self) -> Option<RawPacket<'_>> {
        let c = self.cur?;
        let data = self
            .input
            .avail()
            .get(c.data_start..c.data_start + c.data_len)?;
        Some(RawPacket {
            ts: c.ts,
            linktype: c.linktype,
            data,
            number: self.packets,
        })
    }

    /// The mapping that holds the current packet and the packet's offset in it, for
    /// handing the packet to another thread without copying. `None` for input that is not
    /// memory-mapped (gzip, in-memory) or when no packet is current.
    pub(crate) fn current_mapped(&self) -> Option<(&Arc<memmap2::Mmap>, usize)> {
        let c = self.cur?;
        match &self.input {
            Input::Mapped { map, pos, .. } => Some((map, *pos + c.data_start)),
            _ => None,
        }
    }

    /// Timestamp of the current packet.
    pub fn current_ts(&self) -> Option<Timestamp> {
        self.cur.map(|c| c.ts)
    }

    fn damaged(&mut self, what: &str) {
        let w = self.damage_warning(what, self.offset, self.packets);
        self.warnings.push(w);
        self.done = true;
        self.cur = None;
    }

    /// Move to the next packet. Returns false at the end of the file or at damage (a
    /// warning is then recorded).
    pub fn advance(&mut self) -> bool {
        if let Some(c) = self.cur.take() {
            self.input.consume(c.record_len);
            self.offset += c.record_len as u64;
        }
        // Each iteration consumes one non-packet block or ends; bounded by the file size.
        while !self.done {
            let step = match self.format {
                Format::Pcap {
                    big_endian,
                    nanos,
                    modified,
                    linktype,
                } => self.step_pcap(big_endian, nanos, modified, linktype),
                Format::PcapNg { big_endian } => self.step_pcapng(big_endian),
            };
            match step {
                Step::Packet(c) => {
                    self.packets += 1;
                    self.last_ts = c.ts;
                    self.cur = Some(c);
                    return true;
                }
                Step::Skip(n) => {
                    self.input.consume(n);
                    self.offset += n as u64;
                }
                Step::End => self.done = true,
                Step::Damaged(msg) => self.damaged(&msg),
            }
        }
        false
    }

    fn ensure(&mut self, need: usize) -> Result<bool, String> {
        if self.input.avail().len() >= need {
            return Ok(true);
        }
        self.input
            .fill(need)
            .map_err(|e| format!("read/decompression error ({e})"))?;
        Ok(self.input.avail().len() >= need)
    }

    fn step_pcap(&mut self, big_endian: bool, nanos: bool, modified: bool, linktype: u32) -> Step {
        let layout = PcapLayout {
            big_endian,
            nanos,
            modified,
            linktype,
        };
        let hdr = layout.header_len();
        // Make the whole record available (streamed input), then read it from the slice.
        if let Err(e) = self.ensure(hdr) {
            return Step::Damaged(e);
        }
        if let Some(caplen) = layout.caplen(self.input.avail()) {
            if caplen <= MAX_PCAP_RECORD {
                if let Err(e) = self.ensure(hdr + caplen) {
                    return Step::Damaged(e);
                }
            }
        }
        pcap_record(self.input.avail(), &layout)
    }

    /// The mapping and record layout of a memory-mapped classic pcap file, with the
    /// offset of its first record, for the chunked parallel walk (`crate::chunked`).
    /// `None` for pcapng, streamed or in-memory input, or once the walk has started.
    pub(crate) fn mapped_pcap(&self) -> Option<(Arc<memmap2::Mmap>, PcapLayout, usize)> {
        let (layout, first) = self.pcap_layout()?;
        match &self.input {
            Input::Mapped { map, .. } => Some((Arc::clone(map), layout, first)),
            _ => None,
        }
    }

    /// The record layout of a classic pcap file and the offset of its first record, if
    /// the walk has not started.
    pub(crate) fn pcap_layout(&self) -> Option<(PcapLayout, usize)> {
        let Format::Pcap {
            big_endian,
            nanos,
            modified,
            linktype,
        } = self.format
        else {
            return None;
        };
        if self.cur.is_some() || self.packets > 0 || self.done || self.offset != 24 {
            return None;
        }
        Some((
            PcapLayout {
                big_endian,
                nanos,
                modified,
                linktype,
            },
            24,
        ))
    }

    /// The warning [`Self::advance`] records for damage at `offset` after `packets`
    /// packets (for a walk that did not go through this reader).
    pub(crate) fn damage_warning(&self, what: &str, offset: u64, packets: u64) -> String {
        let unit = if self.compressed {
            " (decompressed)"
        } else {
            ""
        };
        format!(
            "{}: {what} at byte offset {offset}{unit}; processed the {packets} packets before it",
            self.path.display(),
        )
    }

    fn step_pcapng(&mut self, big_endian: bool) -> Step {
        match self.ensure(12) {
            Err(e) => return Step::Damaged(e),
            Ok(false) => {
                return if self.input.avail().is_empty() {
                    Step::End
                } else {
                    Step::Damaged(format!(
                        "truncated block header ({} bytes left)",
                        self.input.avail().len()
                    ))
                }
            }
            Ok(true) => {}
        }
        let a = self.input.avail();
        let btype = [a[0], a[1], a[2], a[3]];
        // A new section may switch byte order; its magic is a palindrome.
        let mut be = big_endian;
        if btype == [0x0a, 0x0d, 0x0d, 0x0a] {
            be = match &a[8..12] {
                [0x4d, 0x3c, 0x2b, 0x1a] => false,
                [0x1a, 0x2b, 0x3c, 0x4d] => true,
                _ => return Step::Damaged("pcapng section header with unknown byte order".into()),
            };
            self.format = Format::PcapNg { big_endian: be };
            self.ifaces.clear();
        }
        let lb = [a[4], a[5], a[6], a[7]];
        let len = if be {
            u32::from_be_bytes(lb)
        } else {
            u32::from_le_bytes(lb)
        } as usize;
        if !(12..=MAX_PCAPNG_BLOCK).contains(&len) || len & 3 != 0 {
            return Step::Damaged(format!("corrupt pcapng block (length {len})"));
        }
        match self.ensure(len) {
            Err(e) => return Step::Damaged(e),
            Ok(false) => {
                return Step::Damaged(format!(
                    "truncated pcapng block ({} of {len} bytes present)",
                    self.input.avail().len()
                ))
            }
            Ok(true) => {}
        }
        let a = self.input.avail();
        let blk = &a[..len];
        let parsed = if be {
            parse_block_be(blk)
        } else {
            parse_block_le(blk)
        };
        let block = match parsed {
            Ok((_, b)) => b,
            Err(e) => {
                return Step::Damaged(format!("corrupt pcapng block ({})", short_err(&e)));
            }
        };
        match block {
            Block::InterfaceDescription(idb) => {
                let lt = idb.linktype.0 as u32;
                // An invalid resolution falls back to microseconds, the pcapng default.
                let resolution = idb.ts_resolution().filter(|r| *r > 0).unwrap_or(1_000_000);
                if !crate::decode::is_supported_linktype(lt)
                    && self.ifaces.iter().all(|i| i.linktype != lt)
                {
                    let w = unsupported(&self.path, lt, self.offset);
                    self.warnings.push(w);
                }
                self.ifaces.push(Iface {
                    linktype: lt,
                    resolution,
                    offset_secs: idb.if_tsoffset,
                });
                Step::Skip(len)
            }
            Block::EnhancedPacket(epb) => {
                let Some(iface) = self.ifaces.get(epb.if_id as usize).copied() else {
                    return Step::Damaged(format!("packet for undeclared interface {}", epb.if_id));
                };
                let caplen = (epb.caplen as usize).min(epb.data.len());
                let data_start = epb.data.as_ptr() as usize - blk.as_ptr() as usize;
                let raw = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                let ts = ts_from_units(raw, iface.resolution, iface.offset_secs);
                Step::Packet(Current {
                    ts,
                    linktype: iface.linktype,
                    data_start,
                    data_len: caplen,
                    record_len: len,
                })
            }
            Block::SimplePacket(spb) => {
                let Some(iface) = self.ifaces.first().copied() else {
                    return Step::Damaged("simple packet block before any interface".into());
                };
                let data_start = spb.data.as_ptr() as usize - blk.as_ptr() as usize;
                let data_len = (spb.origlen as usize).min(spb.data.len());
                Step::Packet(Current {
                    ts: self.last_ts,
                    linktype: iface.linktype,
                    data_start,
                    data_len,
                    record_len: len,
                })
            }
            _ => Step::Skip(len),
        }
    }
}

/// How the records of a classic pcap file are laid out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PcapLayout {
    pub(crate) big_endian: bool,
    pub(crate) nanos: bool,
    pub(crate) modified: bool,
    pub(crate) linktype: u32,
}

impl PcapLayout {
    /// Bytes of a record header (the modified format has 8 more).
    pub(crate) fn header_len(&self) -> usize {
        if self.modified {
            24
        } else {
            16
        }
    }

    #[inline]
    fn u32_at(&self, a: &[u8], o: usize) -> Option<u32> {
        let b: [u8; 4] = a.get(o..o + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The captured length field of the record header at the start of `a`.
    #[inline]
    pub(crate) fn caplen(&self, a: &[u8]) -> Option<usize> {
        self.u32_at(a, 8).map(|v| v as usize)
    }

    /// Whether a record header could start at `a[0]`, by loose plausibility (used only
    /// to guess where to start walking in the middle of a file; every guess is checked
    /// against the record chain before anything read from it is used). Returns the
    /// record's total length.
    pub(crate) fn plausible(&self, a: &[u8]) -> Option<(u32, usize)> {
        let hdr = self.header_len();
        let sec = self.u32_at(a, 0)?;
        let frac = self.u32_at(a, 4)?;
        let caplen = self.u32_at(a, 8)? as usize;
        let orig = self.u32_at(a, 12)? as usize;
        let frac_max = if self.nanos { 1_000_000_000 } else { 1_000_000 };
        if frac >= frac_max || caplen > MAX_PCAP_RECORD || caplen > orig || orig > 1 << 24 {
            return None;
        }
        let total = hdr + caplen;
        (a.len() >= total).then_some((sec, total))
    }
}

/// One step of a classic pcap walk over `a`, the bytes from the record's start to the
/// end of the data: exactly what the sequential reader does (same checks, same
/// messages), shared with the chunked parallel walk so that both agree.
#[inline]
pub(crate) fn pcap_record(a: &[u8], layout: &PcapLayout) -> Step {
    let hdr = layout.header_len();
    if a.len() < hdr {
        return if a.is_empty() {
            Step::End
        } else {
            Step::Damaged(format!(
                "truncated record header ({} of {hdr} bytes)",
                a.len()
            ))
        };
    }
    let caplen = layout.caplen(a).unwrap_or(usize::MAX);
    if caplen > MAX_PCAP_RECORD {
        return Step::Damaged(format!("corrupt record (captured length {caplen})"));
    }
    let total = hdr + caplen;
    if a.len() < total {
        return Step::Damaged(format!(
            "truncated record ({} of {total} bytes present)",
            a.len()
        ));
    }
    let rec = &a[..total];
    // The modified (Kuznetzov) format has 8 extra header bytes; pcap-parser's frame
    // parser reads the common 16 and we skip the rest ourselves.
    let parsed = if layout.big_endian {
        parse_pcap_frame_be(rec)
    } else {
        parse_pcap_frame(rec)
    };
    let block = match parsed {
        Ok((_, b)) => b,
        Err(e) => return Step::Damaged(format!("corrupt record ({e:?})")),
    };
    let frac = block.ts_usec as u64;
    let micros = if layout.nanos { frac / 1000 } else { frac };
    let ts = Timestamp::from_secs_micros(block.ts_sec as u64, micros.min(999_999));
    Step::Packet(Current {
        ts,
        linktype: layout.linktype,
        data_start: hdr,
        data_len: caplen,
        record_len: total,
    })
}

fn unsupported(path: &Path, linktype: u32, offset: u64) -> String {
    format!(
        "{}: link type {linktype} (declared at byte offset {offset}) is not decoded; its packets are counted only",
        path.display()
    )
}

fn short_err<E: std::fmt::Debug>(e: &E) -> String {
    let mut s = format!("{e:?}");
    s.truncate(80);
    s
}

/// Convert a pcapng timestamp in `resolution` units per second to microseconds.
fn ts_from_units(raw: u64, resolution: u64, offset_secs: i64) -> Timestamp {
    let secs = raw / resolution;
    let frac = raw % resolution;
    let micros = (frac as u128 * 1_000_000 / resolution as u128) as u64;
    let secs = (secs as i64).saturating_add(offset_secs).max(0) as u64;
    Timestamp::from_secs_micros(secs, micros)
}

pub(crate) enum Step {
    Packet(Current),
    Skip(usize),
    End,
    Damaged(String),
}

fn pcap_format(head: &[u8], path: &Path) -> Result<Format, CaptureError> {
    if head.len() < 24 {
        return Err(CaptureError::BadHeader {
            path: path.to_path_buf(),
            reason: format!("pcap file header is {} bytes, needs 24", head.len()),
        });
    }
    let h = match pcap_parser::parse_pcap_header(&head[..24]) {
        Ok((_, h)) => h,
        Err(e) => {
            return Err(CaptureError::BadHeader {
                path: path.to_path_buf(),
                reason: short_err(&e),
            })
        }
    };
    Ok(Format::Pcap {
        big_endian: h.is_bigendian(),
        nanos: h.is_nanosecond_precision(),
        modified: h.is_modified_format(),
        // The upper 16 bits of the field may carry FCS information (pcap spec).
        linktype: (h.network.0 as u32) & 0xffff,
    })
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Mapped bytes behind the read position are released every this many bytes.
const RELEASE_EVERY: usize = 32 << 20;
/// Pages this close behind the read position stay mapped: in a parallel run the workers
/// read packets in place shortly after the reader passed them (a released page would
/// only be faulted in again, with the same bytes, but that costs time and memory).
const RELEASE_LAG: usize = 32 << 20;
/// Released ranges end on a multiple of this (a multiple of every common page size).
const RELEASE_ALIGN: usize = 1 << 16;

#[allow(unsafe_code)]
fn map_file(file: &File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the mapping is read-only. If another process truncates the file while we
    // read it the kernel may deliver SIGBUS; captures are not modified while analysed, and
    // this is the accepted trade-off for reading at memory speed (as ripgrep does).
    unsafe { memmap2::Mmap::map(file) }
}

/// Bytes of the mapping whose page tables are filled in one call ahead of the reader.
const POPULATE_CHUNK: usize = 8 << 20;

/// Fill the page tables of the next [`POPULATE_CHUNK`] bytes from `from` in one system
/// call (`MADV_POPULATE_READ`, Linux 5.14+), instead of taking a page fault every few
/// pages as the walk touches them: for a file in the page cache, faults were the largest
/// cost of the record walk. Returns the new populated end. Where the advice is not
/// supported the pages simply fault in as before.
pub(crate) fn populate(map: &memmap2::Mmap, from: usize) -> usize {
    let end = (from + POPULATE_CHUNK).min(map.len());
    #[cfg(target_os = "linux")]
    if end > from {
        let _ = map.advise_range(memmap2::Advice::PopulateRead, from, end - from);
    }
    end
}

/// How far ahead of the read position the mapped bytes are prefetched into the cache.
const PREFETCH_AHEAD: usize = 8 << 10;

/// Prefetch every cache line of `map[from..to]`; returns the end reached. The walk reads
/// one header per record, at irregular strides the hardware prefetcher does not follow,
/// so without this every record costs a full memory latency; streaming the lines ahead
/// turns the walk (and the decoding after it) from latency-bound to bandwidth-bound.
/// The lines go to the second-level cache (`T1`), not the first: measured against `T0`
/// (docs/BENCHMARKS.md, session 7), 1.3-4% faster with one worker and 3.5-6% with two.
#[inline]
#[allow(unsafe_code)]
pub(crate) fn prefetch(map: &[u8], from: usize, to: usize) -> usize {
    let to = to.min(map.len());
    let mut at = from;
    while at < to {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `at < map.len()`, so the pointer is inside the mapping; a prefetch is a
        // hint that never faults and never changes memory.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T1};
            _mm_prefetch::<_MM_HINT_T1>(map.as_ptr().add(at).cast::<i8>());
        }
        at += 64;
    }
    at.max(from)
}

/// Drop our page mappings for a range already read (bounded RSS on huge files).
#[allow(unsafe_code)]
pub(crate) fn release(map: &memmap2::Mmap, offset: usize, len: usize) {
    if len == 0 {
        return;
    }
    // SAFETY: for a read-only file mapping MADV_DONTNEED only removes our page-table
    // entries; a later access faults the unchanged file contents back in, so no
    // reference can observe different bytes. The range lies behind the read position;
    // in a parallel run a worker may still read packets in it (by offset into the shared
    // mapping, kept alive by its `Arc`), and then simply faults the same bytes back in.
    let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) };
}

/// Replays several capture files as one stream, in timestamp order across files.
///
/// Files are ordered by their first timestamp and opened only when the merge reaches
/// that time, so a week of consecutive captures keeps one file open at a time.
pub struct MergedSource {
    paths: Vec<PathBuf>,
    /// Not yet opened: (first timestamp, file index), sorted so the earliest is last.
    pending: Vec<(Timestamp, usize)>,
    heap: BinaryHeap<Reverse<(Timestamp, usize)>>,
    readers: Vec<Option<CaptureReader>>,
    /// Per file: packets, bytes consumed, warnings (filled as files finish).
    pub finished: Vec<FileProgress>,
    consumed_done: u64,
}

/// What was read from one file.
#[derive(Debug, Clone, Default)]
pub struct FileProgress {
    pub bytes: u64,
    pub packets: u64,
    pub warnings: Vec<String>,
}

impl MergedSource {
    /// Open every file once to check it is a capture and read its first timestamp.
    /// Errors (unreadable, not a capture) are reported before anything is processed.
    pub fn open(paths: &[PathBuf]) -> Result<Self, CaptureError> {
        let mut pending = Vec::with_capacity(paths.len());
        let mut finished = vec![FileProgress::default(); paths.len()];
        for (i, p) in paths.iter().enumerate() {
            let mut r = CaptureReader::open(p)?;
            if r.advance() {
                if let Some(ts) = r.current_ts() {
                    pending.push((ts, i));
                }
            } else {
                // No packet at all: record what the reader said about it.
                finished[i].bytes = r.offset();
                finished[i].warnings = r.take_warnings();
            }
        }
        pending.sort_by(|a, b| b.cmp(a));
        let mut readers = Vec::with_capacity(paths.len());
        readers.resize_with(paths.len(), || None);
        Ok(MergedSource {
            paths: paths.to_vec(),
            pending,
            heap: BinaryHeap::new(),
            readers,
            finished,
            consumed_done: 0,
        })
    }

    /// Bytes consumed so far across all files.
    pub fn consumed(&self) -> u64 {
        self.consumed_done
            + self
                .readers
                .iter()
                .flatten()
                .map(|r| r.offset())
                .sum::<u64>()
    }

    /// Position on the next packet in timestamp order; returns its file index.
    /// The packet is then available from [`Self::current`] until the next call.
    pub fn next_file(&mut self, prev: Option<usize>) -> Option<usize> {
        if let Some(i) = prev {
            self.step_reader(i);
        }
        loop {
            let heap_top = self.heap.peek().map(|Reverse(x)| *x);
            // Open pending files whose first packet is not later than the heap's top.
            if let Some(&(ts, i)) = self.pending.last() {
                if heap_top.is_none_or(|(t, _)| ts <= t) {
                    self.pending.pop();
                    self.activate(i);
                    continue;
                }
            }
            return heap_top.map(|(_, i)| i);
        }
    }

    fn activate(&mut self, i: usize) {
        let Some(path) = self.paths.get(i) else {
            return;
        };
        match CaptureReader::open(path) {
            Ok(mut r) => {
                if r.advance() {
                    if let Some(ts) = r.current_ts() {
                        self.heap.push(Reverse((ts, i)));
                    }
                    self.readers[i] = Some(r);
                } else {
                    self.retire(i, r);
                }
            }
            Err(e) => self.finished[i]
                .warnings
                .push(format!("{e} (on reopening)")),
        }
    }

    fn step_reader(&mut self, i: usize) {
        // Remove this file's entry at the top of the heap.
        if let Some(Reverse((_, top))) = self.heap.peek() {
            if *top == i {
                self.heap.pop();
            }
        }
        let Some(r) = self.readers.get_mut(i).and_then(|r| r.as_mut()) else {
            return;
        };
        if r.advance() {
            if let Some(ts) = r.current_ts() {
                self.heap.push(Reverse((ts, i)));
            }
        } else if let Some(r) = self.readers[i].take() {
            self.retire(i, r);
        }
    }

    fn retire(&mut self, i: usize, mut r: CaptureReader) {
        let f = &mut self.finished[i];
        f.bytes = r.offset();
        f.packets = r.packets();
        f.warnings.extend(r.take_warnings());
        self.consumed_done += r.offset();
    }

    pub fn current(&self, i: usize) -> Option<RawPacket<'_>> {
        self.readers.get(i)?.as_ref()?.current()
    }

    /// See [`CaptureReader::current_mapped`].
    pub(crate) fn current_mapped(&self, i: usize) -> Option<(&Arc<memmap2::Mmap>, usize)> {
        self.readers.get(i)?.as_ref()?.current_mapped()
    }
}
