//! SMB 1/2/3 over TCP 445 and 139 (NetBIOS session framing): dialects, native OS strings
//! and NTLMSSP host names, and whether SMB1 is still in use.
//!
//! Fact keys:
//! - `smb.dialects_offered`: the client's negotiate list ("NT LM 0.12,SMB 2.002" or
//!   "2.0.2,2.1,3.0,3.0.2,3.1.1")
//! - `smb.dialect`: the dialect the server selected (about both sides)
//! - `smb.version`: "1", "2/3" or "3 (encrypted)" from the header of any message the side
//!   sent (useful when the negotiate was not captured)
//! - `smb.native_os`, `smb.native_lanman`: SMB1 session setup strings (client's in the
//!   request, server's in the response); `smb.primary_domain` from the response
//! - `smb.ntlm_host`, `smb.ntlm_domain`, `smb.ntlm_dns_host`: NTLMSSP workstation/target
//!   names (client from AUTHENTICATE, server from CHALLENGE target info); never the user
//! - `smb.ntlm_os_version`: NTLMSSP version field "10.0.19041"
//! - `smb.netbios_called` / `smb.netbios_calling`: names of a port-139 session request
//!
//! Security observation `Smb1InUse` (about the server) when an SMB1 dialect is selected
//! or any SMB1 command other than negotiate crosses.

use crate::framework::{Dissector, Facts, FlowCtx, FlowParser, Probe, Side};
use crate::proto::netbios::{encoded_name, format_name};
use crate::proto::util::{le16, le32, utf16le, Frame, RecordStream, Seen};
use ward_capture::{Direction, FlowMeta};
use ward_model::{SecurityKind, Severity, Transport};

/// Largest part of one NetBIOS message kept for parsing.
const WANT: usize = 16 * 1024;

/// Frames NetBIOS session service messages (4-byte header).
pub fn frame(h: &[u8]) -> Frame {
    let len = ((h[1] as usize & 1) << 16) | ((h[2] as usize) << 8) | h[3] as usize;
    match h[0] {
        0x00 | 0x81..=0x85 => Frame::Record {
            total: 4 + len,
            want: (4 + len).min(WANT),
        },
        _ => Frame::Invalid,
    }
}

/// Name of an SMB2 dialect revision.
pub fn smb2_dialect_name(d: u16) -> String {
    match d {
        0x0202 => "2.0.2".into(),
        0x0210 => "2.1".into(),
        0x0222 => "2.2.2".into(),
        0x0224 => "2.2.4".into(),
        0x0300 => "3.0".into(),
        0x0302 => "3.0.2".into(),
        0x0310 => "3.1.0".into(),
        0x0311 => "3.1.1".into(),
        0x02ff => "2.???".into(),
        other => format!("0x{other:04x}"),
    }
}

/// A parsed SMB message head; slices borrow the record.
#[derive(Debug, Clone, Copy)]
pub enum SmbMessage<'a> {
    /// SMB1: the whole message (from `\xffSMB`), command, flags2, reply flag, the
    /// parameter words and the data bytes.
    V1 {
        msg: &'a [u8],
        command: u8,
        reply: bool,
        unicode: bool,
        words: &'a [u8],
        bytes: &'a [u8],
        bytes_off: usize,
    },
    /// SMB2/3: the whole message (from `\xfeSMB`), command and response flag.
    V2 {
        msg: &'a [u8],
        command: u16,
        reply: bool,
    },
    /// An SMB3 transform (encrypted) message.
    Encrypted,
    /// A NetBIOS session request (port 139) with called and calling names.
    SessionRequest { called: [u8; 16], calling: [u8; 16] },
}

/// Why a message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmbError {
    #[error("SMB message truncated at byte offset {offset}")]
    Truncated { offset: usize },
    #[error("not an SMB message (bad protocol id at byte offset 4)")]
    NotSmb,
}

/// Parses one NetBIOS session message (header included).
pub fn parse(rec: &[u8]) -> Result<SmbMessage<'_>, SmbError> {
    let t = *rec.first().ok_or(SmbError::Truncated { offset: 0 })?;
    if t == 0x81 {
        let called = encoded_name(rec, 4).ok_or(SmbError::Truncated { offset: 4 })?;
        let calling = encoded_name(rec, 4 + 34).ok_or(SmbError::Truncated { offset: 38 })?;
        return Ok(SmbMessage::SessionRequest { called, calling });
    }
    let msg = rec.get(4..).ok_or(SmbError::Truncated { offset: 4 })?;
    match msg.get(..4) {
        Some(b"\xffSMB") => {
            let hdr = msg.get(..33).ok_or(SmbError::Truncated { offset: 4 })?;
            let wc = hdr[32] as usize;
            let words = msg
                .get(33..33 + 2 * wc)
                .ok_or(SmbError::Truncated { offset: 37 })?;
            let bc_off = 33 + 2 * wc;
            let bc = le16(msg, bc_off).ok_or(SmbError::Truncated { offset: 4 + bc_off })? as usize;
            let bytes_off = bc_off + 2;
            // The record may have been cut at WANT bytes: keep what is there.
            let end = (bytes_off + bc).min(msg.len());
            Ok(SmbMessage::V1 {
                msg,
                command: hdr[4],
                reply: hdr[9] & 0x80 != 0,
                unicode: le16(hdr, 10).unwrap_or(0) & 0x8000 != 0,
                words,
                bytes: msg.get(bytes_off..end).unwrap_or(&[]),
                bytes_off,
            })
        }
        Some(b"\xfeSMB") => {
            let command = le16(msg, 12).ok_or(SmbError::Truncated { offset: 16 })?;
            let flags = le32(msg, 16).ok_or(SmbError::Truncated { offset: 20 })?;
            Ok(SmbMessage::V2 {
                msg,
                command,
                reply: flags & 1 != 0,
            })
        }
        Some(b"\xfdSMB") => Ok(SmbMessage::Encrypted),
        _ => Err(SmbError::NotSmb),
    }
}

/// Reads a NUL-terminated string at `off` of an SMB1 message: UTF-16LE (aligned to an
/// even offset from the SMB header) or ASCII. Returns the string and the offset after it.
fn smb1_string(msg: &[u8], mut off: usize, unicode: bool) -> Option<(String, usize)> {
    if unicode {
        off += off & 1;
        let rest = msg.get(off..)?;
        let mut end = rest.len() & !1;
        let mut i = 0;
        while i + 1 < rest.len() {
            if rest[i] == 0 && rest[i + 1] == 0 {
                end = i;
                break;
            }
            i += 2;
        }
        Some((utf16le(&rest[..end]), off + end + 2))
    } else {
        let rest = msg.get(off..)?;
        let end = memchr::memchr(0, rest).unwrap_or(rest.len());
        Some((
            String::from_utf8_lossy(&rest[..end]).into_owned(),
            off + end + 1,
        ))
    }
}

/// Security-buffer field (len, maxlen, offset) of an NTLMSSP message.
fn ntlm_field(m: &[u8], at: usize) -> Option<&[u8]> {
    let len = le16(m, at)? as usize;
    let off = le32(m, at + 4)? as usize;
    m.get(off..off.checked_add(len)?)
}

fn ntlm_version(m: &[u8], at: usize) -> Option<String> {
    let v = m.get(at..at + 4)?;
    let build = u16::from_le_bytes([v[2], v[3]]);
    (v[0] != 0).then(|| format!("{}.{}.{}", v[0], v[1], build))
}

/// Facts from an NTLMSSP message found inside a session setup.
pub fn emit_ntlmssp(data: &[u8], side: Side, out: &mut Facts) {
    let Some(start) = memchr::memmem::find(data, b"NTLMSSP\0") else {
        return;
    };
    let m = &data[start..];
    let text = |b: &[u8], unicode: bool| {
        if unicode {
            utf16le(b)
        } else {
            String::from_utf8_lossy(b).into_owned()
        }
    };
    match le32(m, 8) {
        Some(1) => {
            let flags = le32(m, 12).unwrap_or(0);
            if flags & 0x0200_0000 != 0 {
                if let Some(v) = ntlm_version(m, 32) {
                    out.fact(side, "smb.ntlm_os_version", v);
                }
            }
        }
        Some(2) => {
            let flags = le32(m, 20).unwrap_or(0);
            if flags & 0x0200_0000 != 0 {
                if let Some(v) = ntlm_version(m, 48) {
                    out.fact(side, "smb.ntlm_os_version", v);
                }
            }
            let Some(info) = ntlm_field(m, 40) else {
                return;
            };
            let mut pos = 0;
            for _ in 0..32 {
                let (Some(id), Some(len)) = (le16(info, pos), le16(info, pos + 2)) else {
                    break;
                };
                let Some(v) = info.get(pos + 4..pos + 4 + len as usize) else {
                    break;
                };
                let key = match id {
                    0 => break,
                    1 => "smb.ntlm_host",
                    2 => "smb.ntlm_domain",
                    3 => "smb.ntlm_dns_host",
                    _ => {
                        pos += 4 + len as usize;
                        continue;
                    }
                };
                out.fact(side, key, utf16le(v));
                pos += 4 + len as usize;
            }
        }
        Some(3) => {
            let flags = le32(m, 60).unwrap_or(0);
            let unicode = flags & 1 != 0;
            if let Some(d) = ntlm_field(m, 28) {
                out.fact(side, "smb.ntlm_domain", text(d, unicode));
            }
            if let Some(w) = ntlm_field(m, 44) {
                out.fact(side, "smb.ntlm_host", text(w, unicode));
            }
            if flags & 0x0200_0000 != 0 {
                if let Some(v) = ntlm_version(m, 64) {
                    out.fact(side, "smb.ntlm_os_version", v);
                }
            }
        }
        _ => {}
    }
}

/// Per-flow SMB state.
pub struct SmbFlow {
    streams: [RecordStream; 2],
    /// SMB1 dialect strings the client offered, to resolve the server's index.
    offered: Vec<String>,
    smb1_reported: bool,
    setup_replies: u8,
    records: u32,
    seen: Seen,
    labelled: bool,
}

impl SmbFlow {
    fn new() -> Self {
        SmbFlow {
            streams: [RecordStream::new(4, WANT), RecordStream::new(4, WANT)],
            offered: Vec::new(),
            smb1_reported: false,
            setup_replies: 0,
            records: 0,
            seen: Seen::default(),
            labelled: false,
        }
    }

    fn smb1_in_use(&mut self, why: &str, out: &mut Facts) {
        if !self.smb1_reported {
            self.smb1_reported = true;
            out.security(
                Side::Server,
                SecurityKind::Smb1InUse,
                Severity::High,
                format!("SMBv1 in use ({why})"),
            );
        }
    }

    fn fact(&mut self, out: &mut Facts, side: Side, key: &'static str, v: &str) {
        if self.seen.first_for(side, key, v.as_bytes()) {
            out.fact(side, key, v);
        }
    }

    fn message(&mut self, dir: Direction, rec: &[u8], out: &mut Facts) {
        self.records += 1;
        let Ok(m) = parse(rec) else { return };
        if !self.labelled {
            out.protocol("smb");
            self.labelled = true;
        }
        let side = Side::sender(dir);
        let version = match m {
            SmbMessage::V1 { .. } => Some("1"),
            SmbMessage::V2 { .. } => Some("2/3"),
            SmbMessage::Encrypted => Some("3 (encrypted)"),
            SmbMessage::SessionRequest { .. } => None,
        };
        if let Some(v) = version {
            self.fact(out, side, "smb.version", v);
        }
        match m {
            SmbMessage::SessionRequest { called, calling } => {
                out.fact(Side::Server, "smb.netbios_called", format_name(&called));
                out.fact(Side::Client, "smb.netbios_calling", format_name(&calling));
            }
            SmbMessage::Encrypted => {}
            SmbMessage::V1 {
                msg,
                command,
                reply,
                unicode,
                words,
                bytes,
                bytes_off,
            } => {
                if command != 0x72 {
                    self.smb1_in_use("SMB1 commands exchanged", out);
                }
                match (command, reply) {
                    (0x72, false) => {
                        let list: Vec<String> = bytes
                            .split(|b| *b == 0)
                            .filter_map(|s| s.strip_prefix(&[2u8][..]))
                            .take(32)
                            .map(|s| String::from_utf8_lossy(s).into_owned())
                            .collect();
                        let joined = list.join(",");
                        self.offered = list;
                        self.fact(out, side, "smb.dialects_offered", &joined);
                    }
                    (0x72, true) => {
                        let idx = le16(words, 0).unwrap_or(0xffff) as usize;
                        if let Some(d) = self.offered.get(idx).cloned() {
                            self.fact(out, Side::Server, "smb.dialect", &d);
                            self.fact(out, Side::Client, "smb.dialect", &d);
                            if !d.starts_with("SMB 2.") {
                                self.smb1_in_use(&format!("dialect {d} negotiated"), out);
                            }
                        }
                    }
                    (0x73, _) => {
                        let skip = match (reply, words.len() / 2) {
                            (false, 12) => le16(words, 14).map(|l| l as usize),
                            (false, 13) => le16(words, 14)
                                .zip(le16(words, 16))
                                .map(|(a, b)| a as usize + b as usize),
                            (false, 10) => le16(words, 14).map(|l| l as usize),
                            (true, 4) => le16(words, 6).map(|l| l as usize),
                            (true, 3) => Some(0),
                            _ => None,
                        };
                        if let Some(blob_len) = skip {
                            emit_ntlmssp(bytes.get(..blob_len).unwrap_or(bytes), side, out);
                            let mut off = bytes_off + blob_len;
                            let mut strs: Vec<String> = Vec::with_capacity(5);
                            let n = if !reply && words.len() / 2 != 12 {
                                4
                            } else {
                                3
                            };
                            for _ in 0..n {
                                let Some((s, next)) = smb1_string(msg, off, unicode) else {
                                    break;
                                };
                                strs.push(s);
                                off = next;
                            }
                            // Non-extended requests start with account and domain.
                            let base = if n == 4 { 2 } else { 0 };
                            if let Some(os) = strs.get(base) {
                                self.fact(out, side, "smb.native_os", os);
                            }
                            if let Some(lm) = strs.get(base + 1) {
                                self.fact(out, side, "smb.native_lanman", lm);
                            }
                            if reply {
                                if let Some(d) = strs.get(2) {
                                    self.fact(out, side, "smb.primary_domain", d);
                                }
                                self.setup_replies += 1;
                            }
                        }
                    }
                    _ => {}
                }
            }
            SmbMessage::V2 {
                msg,
                command,
                reply,
            } => match (command, reply) {
                (0, false) => {
                    let n = le16(msg, 66).unwrap_or(0).min(64) as usize;
                    let list: Vec<String> = (0..n)
                        .map_while(|i| le16(msg, 100 + 2 * i))
                        .map(smb2_dialect_name)
                        .collect();
                    self.fact(out, side, "smb.dialects_offered", &list.join(","));
                }
                (0, true) => {
                    if let Some(d) = le16(msg, 68) {
                        let name = smb2_dialect_name(d);
                        self.fact(out, Side::Server, "smb.dialect", &name);
                        self.fact(out, Side::Client, "smb.dialect", &name);
                    }
                }
                (1, _) => {
                    emit_ntlmssp(msg.get(64..).unwrap_or(&[]), side, out);
                    if reply {
                        self.setup_replies += 1;
                    }
                }
                _ => {}
            },
        }
    }
}

impl FlowParser for SmbFlow {
    fn data(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, data: &[u8], out: &mut Facts) {
        let idx = usize::from(dir == Direction::ToClient);
        let mut stream = std::mem::replace(&mut self.streams[idx], RecordStream::new(4, 4));
        stream.feed(data, frame, |rec| self.message(dir, rec, out));
        self.streams[idx] = stream;
    }
    fn gap(&mut self, _ctx: &FlowCtx<'_>, dir: Direction, _missing: u64, _out: &mut Facts) {
        // NetBIOS framing cannot be found again after a gap.
        self.streams[usize::from(dir == Direction::ToClient)].set_broken();
    }
    fn finished(&self) -> bool {
        self.setup_replies >= 2
            || self.records > 64
            || (self.streams[0].is_broken() && self.streams[1].is_broken())
    }
}

/// The SMB dissector.
pub struct Smb;

impl Dissector for Smb {
    fn name(&self) -> &'static str {
        "smb"
    }
    fn ports(&self) -> &'static [(Transport, u16)] {
        &[(Transport::Tcp, 445), (Transport::Tcp, 139)]
    }
    fn probe(&self, meta: &FlowMeta, _dir: Direction, data: &[u8]) -> Probe {
        if meta.transport != Transport::Tcp {
            return Probe::NoMatch;
        }
        match data {
            [0x81, ..] | [0x85, 0, 0, 0, ..] => Probe::Match,
            [0x00, _, _, _, 0xfd..=0xff, b'S', b'M', b'B', ..] => Probe::Match,
            d if d.len() < 8 => Probe::NeedMore,
            _ => Probe::NoMatch,
        }
    }
    fn new_parser(&self, _meta: &FlowMeta) -> Box<dyn FlowParser> {
        Box::new(SmbFlow::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::harness::{run_tcp, values};

    fn nbss(msg: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0];
        v.extend_from_slice(&(msg.len() as u16).to_be_bytes());
        v.extend_from_slice(msg);
        v
    }

    fn smb1(cmd: u8, reply: bool, unicode: bool, words: &[u8], bytes: &[u8]) -> Vec<u8> {
        let mut h = b"\xffSMB".to_vec();
        h.push(cmd);
        h.extend_from_slice(&[0; 4]);
        h.push(if reply { 0x98 } else { 0x18 });
        let f2: u16 = if unicode { 0xc807 } else { 0x4807 };
        h.extend_from_slice(&f2.to_le_bytes());
        h.resize(32, 0);
        h.push((words.len() / 2) as u8);
        h.extend_from_slice(words);
        h.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        h.extend_from_slice(bytes);
        h
    }

    fn u16s(s: &str) -> Vec<u8> {
        let mut v: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        v.extend_from_slice(&[0, 0]);
        v
    }

    #[test]
    fn smb1_negotiate_and_session_setup() {
        let neg_req = smb1(
            0x72,
            false,
            false,
            &[],
            b"\x02PC NETWORK PROGRAM 1.0\0\x02NT LM 0.12\0",
        );
        let neg_resp = smb1(0x72, true, false, &[1, 0], &[]);
        // Non-extended request (13 words), ASCII: passwords 1+0, account, domain, os, lanman.
        let mut w = vec![0u8; 26];
        w[14] = 1;
        let setup_req = smb1(
            0x73,
            false,
            false,
            &w,
            b"\0GUEST\0WORKGROUP\0Windows 2000 2195\0Windows 2000 5.0\0",
        );
        // Response (3 words), Unicode: pad to even offset then strings.
        let mut bytes = vec![0u8];
        bytes.extend(u16s("Windows 7 Ultimate 7601 Service Pack 1"));
        bytes.extend(u16s("Windows 7 Ultimate 6.1"));
        bytes.extend(u16s("WORKGROUP"));
        let setup_resp = smb1(0x73, true, true, &[0xff, 0, 0, 0, 0, 0], &bytes);
        let stream_c: Vec<u8> = [nbss(&neg_req), nbss(&setup_req)].concat();
        let cut = nbss(&neg_req).len() + 10;
        let f = run_tcp(
            &Smb,
            40000,
            445,
            &[
                (Direction::ToServer, &stream_c[..cut]),
                (Direction::ToClient, &nbss(&neg_resp)),
                (Direction::ToServer, &stream_c[cut..]),
                (Direction::ToClient, &nbss(&setup_resp)),
            ],
        );
        assert_eq!(
            values(&f, "smb.dialects_offered"),
            vec!["PC NETWORK PROGRAM 1.0,NT LM 0.12"]
        );
        assert_eq!(values(&f, "smb.dialect"), vec!["NT LM 0.12", "NT LM 0.12"]);
        let os = values(&f, "smb.native_os");
        assert_eq!(
            os,
            vec![
                "Windows 2000 2195",
                "Windows 7 Ultimate 7601 Service Pack 1"
            ]
        );
        assert_eq!(values(&f, "smb.primary_domain"), vec!["WORKGROUP"]);
        assert_eq!(f.security.len(), 1);
        assert_eq!(f.security[0].kind, SecurityKind::Smb1InUse);
    }

    #[test]
    fn smb2_negotiate_and_ntlm_challenge() {
        let mut req = b"\xfeSMB".to_vec();
        req.resize(64, 0);
        let mut body = vec![36, 0, 3, 0];
        body.resize(36, 0);
        for d in [0x0202u16, 0x0210, 0x0311] {
            body.extend_from_slice(&d.to_le_bytes());
        }
        req.extend(body);
        let mut resp = b"\xfeSMB".to_vec();
        resp.resize(64, 0);
        resp[16] = 1;
        resp.extend_from_slice(&[65, 0, 1, 0, 0x11, 0x03]);
        // Session setup response carrying an NTLMSSP CHALLENGE with target info.
        let mut ss = b"\xfeSMB".to_vec();
        ss.resize(64, 0);
        ss[12] = 1;
        ss[16] = 1;
        let mut ntlm = b"NTLMSSP\0".to_vec();
        ntlm.extend_from_slice(&2u32.to_le_bytes());
        ntlm.resize(20, 0);
        ntlm.extend_from_slice(&0x0200_0000u32.to_le_bytes());
        ntlm.resize(40, 0);
        let mut info = Vec::new();
        for (id, s) in [(1u16, "PACS01"), (2, "RADIOLOGY")] {
            let v: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
            info.extend_from_slice(&id.to_le_bytes());
            info.extend_from_slice(&(v.len() as u16).to_le_bytes());
            info.extend(v);
        }
        info.extend_from_slice(&[0, 0, 0, 0]);
        ntlm.extend_from_slice(&(info.len() as u16).to_le_bytes());
        ntlm.extend_from_slice(&(info.len() as u16).to_le_bytes());
        ntlm.extend_from_slice(&56u32.to_le_bytes());
        ntlm.extend_from_slice(&[10, 0, 0x61, 0x4a, 0, 0, 0, 15]);
        ntlm.extend(info);
        ss.extend_from_slice(&[9, 0, 0, 0, 72, 0]);
        ss.extend_from_slice(&(ntlm.len() as u16).to_le_bytes());
        ss.extend(ntlm);
        let f = run_tcp(
            &Smb,
            40000,
            445,
            &[
                (Direction::ToServer, &nbss(&req)),
                (Direction::ToClient, &nbss(&resp)),
                (Direction::ToClient, &nbss(&ss)),
            ],
        );
        assert_eq!(values(&f, "smb.dialects_offered"), vec!["2.0.2,2.1,3.1.1"]);
        assert_eq!(values(&f, "smb.dialect"), vec!["3.1.1", "3.1.1"]);
        assert_eq!(values(&f, "smb.ntlm_host"), vec!["PACS01"]);
        assert_eq!(values(&f, "smb.ntlm_domain"), vec!["RADIOLOGY"]);
        assert_eq!(values(&f, "smb.ntlm_os_version"), vec!["10.0.19041"]);
        assert!(f.security.is_empty(), "SMB2 is not SMBv1");
    }
}
