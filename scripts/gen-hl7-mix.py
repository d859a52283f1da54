#!/usr/bin/env python3
"""HL7-heavy benchmark capture: HL7 v2.5 ORU^R01 results over MLLP with ACKs.

Writes a classic pcap (Ethernet/IPv4/TCP, full handshakes, 1448-byte segments, so
messages are split across segments and several share one) of about SIZE bytes:
CONNS interface connections from lab/monitor senders to an interface engine on 2575,
each carrying many messages, every message answered by an ACK (MSA|AA). Deterministic.
Merge it with a generated hospital mix (DICOM-heavy) for the clinical benchmark:

  scripts/gen-hl7-mix.py /tmp/hl7.pcap 200M
  ward generate --seed 42 --size 200M --out /tmp/h200.pcap
  mergecap -F pcap -w /tmp/clinical400.pcap /tmp/h200.pcap /tmp/hl7.pcap

Patient fields carry the canary patient (CANARY^PHI^TEST, CANARY-123456) like the
generator does; Ward must never output them.
"""
import struct
import sys

SEG = 1448


def size_arg(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(s[:-1]) * mult[s[-1].upper()] if s[-1].upper() in mult else int(s)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Writer:
    def __init__(self, f):
        self.f = f
        self.bytes = 24
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

    def frame(self, ts_us, src, dst, smac, dmac, sport, dport, seq, ack, flags, payload):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        ip_len = 20 + len(tcp) + len(payload)
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0x4000, 64, 6, 0, src, dst)
        iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
        c = csum(pseudo + tcp + payload)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        eth = dmac + smac + b"\x08\x00"
        pkt = eth + iph + tcp + payload
        self.f.write(struct.pack("<IIII", ts_us // 1000000, ts_us % 1000000, len(pkt), len(pkt)))
        self.f.write(pkt)
        self.bytes += 16 + len(pkt)


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def message(i, sender):
    obx = "".join(
        "OBX|%d|NM|%d-%d^RESULT %d^LN||%d.%d|mmol/L|3.5-5.5|N|||F|||20261205080000\r"
        % (k + 1, 2000 + k, k % 10, k, 40 + (i + k) % 60, (i * 7 + k) % 10)
        for k in range(12)
    )
    return (
        "MSH|^~\\&|%s|RGH-LAB|MIRTH|RGH|20261205080000||ORU^R01^ORU_R01|MSG%08d|P|2.5\r"
        "PID|1||CANARY-123456^^^RGH^MR||CANARY^PHI^TEST||19700101|U\r"
        "PV1|1|I|ICU^101^A\r"
        "OBR|1|ORD%08d|FIL%08d|24331-1^LIPID PANEL^LN|||20261205075500\r%s"
        % (sender, i, i, i, obx)
    ).encode()


def ack(i):
    return (
        "MSH|^~\\&|MIRTH|RGH|LAB|RGH-LAB|20261205080001||ACK^R01^ACK|ACK%08d|P|2.5\r"
        "MSA|AA|MSG%08d\r" % (i, i)
    ).encode()


def main():
    out, size = sys.argv[1], size_arg(sys.argv[2] if len(sys.argv) > 2 else "200M")
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    senders = [b"\x00\x0e\x2f" + bytes([0x10, i >> 8, i & 0xFF]) for i in range(conns)]
    engine_mac = b"\x00\x50\x56\x9c\x55\x75"
    engine_ip = bytes([10, 50, 0, 13])
    ts = 1_795_939_200_000_000
    with open(out, "wb") as f:
        w = Writer(f)
        per_conn = max(1, size // conns)
        msg_no = 0
        c = 0
        while w.bytes < size:
            i = c % conns
            mac, ip = senders[i], bytes([10, 60, 1 + i // 250, 1 + i % 250])
            sport, cseq, sseq = 40000 + (c % 20000), 1000 + c * 7919, 5000 + c * 104729
            name = "LAB%03d" % i
            w.frame(ts, ip, engine_ip, mac, engine_mac, sport, 2575, cseq, 0, SYN, b"")
            w.frame(ts + 100, engine_ip, ip, engine_mac, mac, 2575, sport, sseq, cseq + 1, SYN | ACK, b"")
            w.frame(ts + 200, ip, engine_ip, mac, engine_mac, sport, 2575, cseq + 1, sseq + 1, ACK, b"")
            cseq += 1
            sseq += 1
            ts += 300
            start = w.bytes
            while w.bytes - start < per_conn and w.bytes < size:
                data = b"\x0b" + message(msg_no, name) + b"\x1c\x0d"
                # A batch of messages back to back, then their ACKs.
                for _ in range(3):
                    msg_no += 1
                    data += b"\x0b" + message(msg_no, name) + b"\x1c\x0d"
                for off in range(0, len(data), SEG):
                    seg = data[off:off + SEG]
                    w.frame(ts, ip, engine_ip, mac, engine_mac, sport, 2575, cseq, sseq, ACK | PSH, seg)
                    cseq += len(seg)
                    ts += 20
                acks = b"".join(b"\x0b" + ack(msg_no - k) + b"\x1c\x0d" for k in range(3, -1, -1))
                w.frame(ts, engine_ip, ip, engine_mac, mac, 2575, sport, sseq, cseq, ACK | PSH, acks)
                sseq += len(acks)
                ts += 50
                msg_no += 1
            w.frame(ts, ip, engine_ip, mac, engine_mac, sport, 2575, cseq, sseq, FIN | ACK, b"")
            w.frame(ts + 100, engine_ip, ip, engine_mac, mac, 2575, sport, sseq, cseq + 1, FIN | ACK, b"")
            w.frame(ts + 200, ip, engine_ip, mac, engine_mac, sport, 2575, cseq + 1, sseq + 1, ACK, b"")
            ts += 1000
            c += 1
    print("wrote %s: %d bytes, %d connections, %d messages" % (out, w.bytes, c, msg_no))


if __name__ == "__main__":
    main()
