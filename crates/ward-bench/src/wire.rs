//! Frame building: Ethernet II (optionally 802.1Q tagged), IPv4, UDP and TCP with correct
//! header checksums, and the classic pcap file format (Ethernet link type, microsecond
//! timestamps). Everything here writes bytes; nothing parses.

use std::io::{self, Write};
use std::net::Ipv4Addr;

pub(crate) const ETH_IPV4: u16 = 0x0800;
pub(crate) const ETH_VLAN: u16 = 0x8100;
pub(crate) const ETH_LLDP: u16 = 0x88cc;

/// Ethernet minimum frame length without the FCS, as captures show it.
const MIN_FRAME: usize = 60;

/// The L2 view of one direction of a packet, as seen at the capture point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct L2 {
    pub src: [u8; 6],
    pub dst: [u8; 6],
    /// 802.1Q tag; `None` for frames on the native VLAN.
    pub vlan: Option<u16>,
}

impl L2 {
    pub(crate) fn reversed(self) -> L2 {
        L2 {
            src: self.dst,
            dst: self.src,
            vlan: self.vlan,
        }
    }
}

pub(crate) fn eth_header(buf: &mut Vec<u8>, l2: &L2, ethertype: u16) {
    buf.extend_from_slice(&l2.dst);
    buf.extend_from_slice(&l2.src);
    if let Some(v) = l2.vlan {
        buf.extend_from_slice(&ETH_VLAN.to_be_bytes());
        buf.extend_from_slice(&(v & 0x0fff).to_be_bytes());
    }
    buf.extend_from_slice(&ethertype.to_be_bytes());
}

pub(crate) fn pad_min(buf: &mut Vec<u8>) {
    if buf.len() < MIN_FRAME {
        buf.resize(MIN_FRAME, 0);
    }
}

/// RFC 1071 one's-complement sum, folded later by [`fold`].
pub(crate) fn sum16(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    // Keep the accumulator from overflowing on jumbo inputs.
    (acc & 0xffff) + (acc >> 16)
}

pub(crate) fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Parameters of an IPv4 header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ip {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub id: u16,
    pub ttl: u8,
}

fn ipv4_header(buf: &mut Vec<u8>, ip: &Ip, proto: u8, l4_len: usize) {
    let start = buf.len();
    let total = (20 + l4_len) as u16;
    buf.extend_from_slice(&[0x45, 0x00]);
    buf.extend_from_slice(&total.to_be_bytes());
    buf.extend_from_slice(&ip.id.to_be_bytes());
    buf.extend_from_slice(&[0x40, 0x00]); // don't fragment
    buf.push(ip.ttl);
    buf.push(proto);
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(&ip.src.octets());
    buf.extend_from_slice(&ip.dst.octets());
    let c = fold(sum16(0, &buf[start..start + 20]));
    buf[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
}

fn pseudo_sum(ip: &Ip, proto: u8, len: usize) -> u32 {
    let mut acc = sum16(0, &ip.src.octets());
    acc = sum16(acc, &ip.dst.octets());
    acc + u32::from(proto) + len as u32
}

/// A complete Ethernet/IPv4/UDP frame.
pub(crate) fn udp_frame(l2: &L2, ip: &Ip, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(46 + payload.len());
    eth_header(&mut buf, l2, ETH_IPV4);
    let udp_len = 8 + payload.len();
    ipv4_header(&mut buf, ip, 17, udp_len);
    let u = buf.len();
    buf.extend_from_slice(&sport.to_be_bytes());
    buf.extend_from_slice(&dport.to_be_bytes());
    buf.extend_from_slice(&(udp_len as u16).to_be_bytes());
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(payload);
    let mut c = fold(sum16(pseudo_sum(ip, 17, udp_len), &buf[u..]));
    if c == 0 {
        c = 0xffff;
    }
    buf[u + 6..u + 8].copy_from_slice(&c.to_be_bytes());
    pad_min(&mut buf);
    buf
}

pub(crate) const FIN: u8 = 0x01;
pub(crate) const SYN: u8 = 0x02;
pub(crate) const PSH: u8 = 0x08;
pub(crate) const ACK: u8 = 0x10;

/// The TCP header fields of one segment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TcpHdr {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
}

/// A complete Ethernet/IPv4/TCP frame. `syn_opts` adds MSS 1460, SACK-permitted and window
/// scale 7, as a SYN or SYN/ACK of a modern stack carries them.
pub(crate) fn tcp_frame(l2: &L2, ip: &Ip, h: &TcpHdr, syn_opts: bool, payload: &[u8]) -> Vec<u8> {
    let opts: &[u8] = if syn_opts {
        &[2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7] // MSS, SACK_PERM, NOP, WS=7
    } else {
        &[]
    };
    let hdr_len = 20 + opts.len().div_ceil(4) * 4;
    let seg_len = hdr_len + payload.len();
    let mut buf = Vec::with_capacity(38 + seg_len);
    eth_header(&mut buf, l2, ETH_IPV4);
    ipv4_header(&mut buf, ip, 6, seg_len);
    let t = buf.len();
    buf.extend_from_slice(&h.sport.to_be_bytes());
    buf.extend_from_slice(&h.dport.to_be_bytes());
    buf.extend_from_slice(&h.seq.to_be_bytes());
    buf.extend_from_slice(&h.ack.to_be_bytes());
    buf.push(((hdr_len / 4) as u8) << 4);
    buf.push(h.flags);
    buf.extend_from_slice(&h.window.to_be_bytes());
    buf.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    buf.extend_from_slice(opts);
    buf.resize(t + hdr_len, 0); // option padding (EOL)
    buf.extend_from_slice(payload);
    let c = fold(sum16(pseudo_sum(ip, 6, seg_len), &buf[t..]));
    buf[t + 16..t + 18].copy_from_slice(&c.to_be_bytes());
    pad_min(&mut buf);
    buf
}

/// Multicast MAC for an IPv4 group address (RFC 1112).
pub(crate) fn mcast_mac(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
}

/// Classic pcap writer (not pcapng): magic a1b2c3d4, v2.4, snaplen 65535, LINKTYPE_ETHERNET.
pub(crate) struct PcapWriter<W: Write> {
    out: W,
    pub packets: u64,
    pub bytes: u64,
}

impl<W: Write> PcapWriter<W> {
    pub(crate) fn new(mut out: W) -> io::Result<Self> {
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        h[16..20].copy_from_slice(&65535u32.to_le_bytes());
        h[20..24].copy_from_slice(&1u32.to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter {
            out,
            packets: 0,
            bytes: 24,
        })
    }

    /// Writes one record; `ts_us` is microseconds since the Unix epoch.
    pub(crate) fn write(&mut self, ts_us: u64, frame: &[u8]) -> io::Result<()> {
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
        h[4..8].copy_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
        let len = frame.len() as u32;
        h[8..12].copy_from_slice(&len.to_le_bytes());
        h[12..16].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(frame)?;
        self.packets += 1;
        self.bytes += 16 + frame.len() as u64;
        Ok(())
    }

    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_checksum_verifies_to_zero() {
        let l2 = L2 {
            src: [2, 0, 0, 0, 0, 1],
            dst: [2, 0, 0, 0, 0, 2],
            vlan: Some(20),
        };
        let ip = Ip {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            id: 7,
            ttl: 64,
        };
        let f = udp_frame(&l2, &ip, 1000, 53, b"abc");
        // A correct header sums (with its checksum) to 0xffff, i.e. folds to 0.
        assert_eq!(fold(sum16(0, &f[18..38])), 0);
        let udp = &f[38..38 + 11];
        assert_eq!(fold(sum16(pseudo_sum(&ip, 17, 11), udp)), 0);
        let h = TcpHdr {
            sport: 5,
            dport: 104,
            seq: 1,
            ack: 2,
            flags: SYN,
            window: 100,
        };
        let t = tcp_frame(&l2, &ip, &h, true, b"");
        let tcp = &t[38..38 + 32];
        assert_eq!(fold(sum16(pseudo_sum(&ip, 6, 32), tcp)), 0);
    }
}
