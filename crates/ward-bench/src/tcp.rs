//! TCP conversations as they appear on the wire: three-way handshake, MSS-sized segments
//! with consistent sequence and acknowledgement numbers, delayed ACKs, FIN close, and the
//! impairments a SPAN port really shows (retransmitted duplicates, adjacent segments swapped,
//! overlapping resends carrying the same bytes), so that reassembly is exercised.

use crate::wire::{tcp_frame, Ip, TcpHdr, ACK, FIN, L2, PSH, SYN};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::net::Ipv4Addr;

/// One captured frame and its timestamp (microseconds since the epoch).
#[derive(Debug)]
pub(crate) struct Packet {
    pub ts: u64,
    pub frame: Vec<u8>,
}

/// Largest TCP payload per segment (Ethernet MTU 1500 minus 40 bytes of headers).
pub(crate) const MSS: usize = 1460;
/// Advertised window (scaled by 2^7 after the handshake, i.e. about 256 KiB).
const WINDOW: u16 = 2052;

/// One side of a conversation: its address, port and the next sequence number it sends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Side {
    pub ip: Ipv4Addr,
    pub port: u16,
    /// IP TTL of frames as they reach the capture point (already decremented when routed).
    pub ttl: u8,
    seq: u32,
    ip_id: u16,
}

impl Side {
    pub(crate) fn new(ip: Ipv4Addr, port: u16, ttl: u8) -> Side {
        Side {
            ip,
            port,
            ttl,
            seq: 0,
            ip_id: 0,
        }
    }
}

/// Builds the packets of one TCP connection into `out`, advancing its own clock `t`.
pub(crate) struct TcpConv {
    out: Vec<Packet>,
    rng: ChaCha8Rng,
    c2s: L2,
    c: Side,
    s: Side,
    /// Time of the last packet emitted, in microseconds.
    pub t: u64,
    /// Round-trip time between the capture point and the far side, in microseconds.
    rtt: u64,
    impairment: f64,
}

impl TcpConv {
    /// A connection whose client sends with L2 header `c2s`; `seed` drives its ISNs,
    /// timing jitter and impairments.
    pub(crate) fn new(
        seed: u64,
        c2s: L2,
        mut c: Side,
        mut s: Side,
        t: u64,
        impairment: f64,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        c.seq = rng.gen();
        s.seq = rng.gen();
        c.ip_id = rng.gen();
        s.ip_id = rng.gen();
        let rtt = rng.gen_range(150..900);
        TcpConv {
            out: Vec::with_capacity(16),
            rng,
            c2s,
            c,
            s,
            t,
            rtt,
            impairment,
        }
    }

    fn emit(&mut self, from_client: bool, flags: u8, seq: u32, syn_opts: bool, payload: &[u8]) {
        let (l2, me, peer) = if from_client {
            (self.c2s, &mut self.c, &self.s)
        } else {
            (self.c2s.reversed(), &mut self.s, &self.c)
        };
        me.ip_id = me.ip_id.wrapping_add(1);
        let ip = Ip {
            src: me.ip,
            dst: peer.ip,
            id: me.ip_id,
            ttl: me.ttl,
        };
        let h = TcpHdr {
            sport: me.port,
            dport: peer.port,
            seq,
            ack: if flags & ACK != 0 { peer.seq } else { 0 },
            flags,
            window: if flags & SYN != 0 { 64240 } else { WINDOW },
        };
        let frame = tcp_frame(&l2, &ip, &h, syn_opts, payload);
        self.out.push(Packet { ts: self.t, frame });
    }

    /// Emits an ACK from `from_client` acknowledging `ack` (which may lag the peer's seq).
    fn emit_ack(&mut self, from_client: bool, ack: u32) {
        let (l2, me, peer) = if from_client {
            (self.c2s, &mut self.c, &self.s)
        } else {
            (self.c2s.reversed(), &mut self.s, &self.c)
        };
        me.ip_id = me.ip_id.wrapping_add(1);
        let ip = Ip {
            src: me.ip,
            dst: peer.ip,
            id: me.ip_id,
            ttl: me.ttl,
        };
        let h = TcpHdr {
            sport: me.port,
            dport: peer.port,
            seq: me.seq,
            ack,
            flags: ACK,
            window: WINDOW,
        };
        let frame = tcp_frame(&l2, &ip, &h, false, &[]);
        self.out.push(Packet { ts: self.t, frame });
    }

    /// SYN, SYN/ACK, ACK.
    pub(crate) fn open(&mut self) {
        let isn = self.c.seq;
        self.emit(true, SYN, isn, true, &[]);
        self.c.seq = isn.wrapping_add(1);
        self.t += self.rtt / 2;
        let isn_s = self.s.seq;
        self.emit(false, SYN | ACK, isn_s, true, &[]);
        self.s.seq = isn_s.wrapping_add(1);
        self.t += self.rtt / 2;
        let seq = self.c.seq;
        self.emit(true, ACK, seq, false, &[]);
    }

    /// Waits `us` microseconds (application think time) before the next packet.
    pub(crate) fn pause(&mut self, us: u64) {
        self.t += us;
    }

    /// Sends `data` from one side as a burst of segments; the peer ACKs every second
    /// segment. Impairments are applied to data segments at the configured rate.
    pub(crate) fn send(&mut self, from_client: bool, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        // Reply latency: half an RTT plus the sender's processing time.
        self.t += self.rtt / 2 + self.rng.gen_range(20..200);
        let base = if from_client { self.c.seq } else { self.s.seq };
        let total = data.len();
        let n = total.div_ceil(MSS);
        // (offset, length, original index) of each segment in emission order.
        let mut plan: Vec<(usize, usize, Option<usize>)> = Vec::with_capacity(n + 4);
        let mut i = 0;
        while i < n {
            let off = i * MSS;
            let len = MSS.min(total - off);
            let roll = self.impairment > 0.0 && self.rng.gen_bool(self.impairment.min(1.0));
            if !roll {
                plan.push((off, len, Some(i)));
                i += 1;
                continue;
            }
            match self.rng.gen_range(0..3u8) {
                // Retransmission: the same segment twice.
                0 => {
                    plan.push((off, len, Some(i)));
                    plan.push((off, len, None));
                    i += 1;
                }
                // Out of order: the next segment overtakes this one.
                1 if i + 1 < n => {
                    let off2 = off + MSS;
                    let len2 = MSS.min(total - off2);
                    plan.push((off2, len2, Some(i + 1)));
                    plan.push((off, len, Some(i)));
                    i += 2;
                }
                // Overlap: a resend spanning the previous segment's tail and this one's head,
                // with identical bytes, just before this segment.
                2 if i > 0 => {
                    let k = (len / 2).clamp(1, 512);
                    plan.push((off - k, 2 * k, None));
                    plan.push((off, len, Some(i)));
                    i += 1;
                }
                _ => {
                    plan.push((off, len, Some(i)));
                    i += 1;
                }
            }
        }
        let mut done = vec![false; n];
        let mut next_needed = 0usize;
        let mut since_ack = 0;
        let mut acked = 0usize;
        for (off, len, orig) in plan {
            let gap = ((len as u64 + 58) * 8) / 1000 + self.rng.gen_range(1..6);
            self.t += gap;
            let last = off + len == total;
            let flags = if last { ACK | PSH } else { ACK };
            self.emit(
                from_client,
                flags,
                base.wrapping_add(off as u32),
                false,
                &data[off..off + len],
            );
            if let Some(o) = orig {
                if let Some(d) = done.get_mut(o) {
                    *d = true;
                }
                while next_needed < n && done[next_needed] {
                    next_needed += 1;
                }
            }
            since_ack += 1;
            let contiguous = if next_needed >= n {
                total
            } else {
                next_needed * MSS
            };
            if since_ack >= 2 && contiguous > acked {
                self.t += self.rng.gen_range(2..12);
                self.emit_ack(!from_client, base.wrapping_add(contiguous as u32));
                acked = contiguous;
                since_ack = 0;
            }
        }
        if from_client {
            self.c.seq = base.wrapping_add(total as u32);
        } else {
            self.s.seq = base.wrapping_add(total as u32);
        }
        if acked < total {
            self.t += self.rtt / 2;
            let ack = base.wrapping_add(total as u32);
            self.emit_ack(!from_client, ack);
        }
    }

    /// The packets built so far, in emission (and timestamp) order.
    pub(crate) fn finish(self) -> Vec<Packet> {
        self.out
    }

    /// Client FIN, server FIN, client ACK.
    pub(crate) fn close(&mut self) {
        self.t += self.rng.gen_range(100..2000);
        let seq = self.c.seq;
        self.emit(true, FIN | ACK, seq, false, &[]);
        self.c.seq = seq.wrapping_add(1);
        self.t += self.rtt / 2 + 50;
        let seq = self.s.seq;
        self.emit(false, FIN | ACK, seq, false, &[]);
        self.s.seq = seq.wrapping_add(1);
        self.t += self.rtt / 2;
        let seq = self.c.seq;
        self.emit(true, ACK, seq, false, &[]);
    }
}
