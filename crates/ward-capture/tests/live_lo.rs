//! Live capture on the loopback interface (feature `live`). Needs CAP_NET_RAW: without
//! it the test fails with a message saying so; it never skips.
#![cfg(feature = "live")]

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ward_capture::{capture_live, CaptureConfig, Direction, FlowMeta, FlowSink, PacketCtx};

#[derive(Default)]
struct Seen {
    payloads: Vec<Vec<u8>>,
}

impl FlowSink for Seen {
    fn datagram(&mut self, _f: &FlowMeta, _d: Direction, data: &[u8], _p: &PacketCtx) {
        self.payloads.push(data.to_vec());
    }
}

#[test]
fn captures_udp_on_loopback() {
    let stop = AtomicBool::new(false);
    let marker = b"ward-live-capture-test-marker";
    let result = std::thread::scope(|s| {
        let h = s.spawn(|| {
            let mut sink = Seen::default();
            let r = capture_live(
                "lo",
                Some("udp and port 47999"),
                &CaptureConfig::default(),
                &mut sink,
                &stop,
            );
            (r, sink)
        });
        // Let the capture open, then generate traffic with an ordinary socket.
        std::thread::sleep(Duration::from_millis(700));
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind udp socket");
        for _ in 0..5 {
            let _ = sock.send_to(marker, "127.0.0.1:47999");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
        h.join().expect("capture thread")
    });
    let (r, sink) = result;
    let stats = r.unwrap_or_else(|e| {
        panic!("live capture on lo failed (libpcap needs root or CAP_NET_RAW): {e}")
    });
    assert!(stats.packets >= 1, "no packet captured on lo");
    assert!(
        sink.payloads.iter().any(|p| p.as_slice() == marker),
        "marker datagram not seen among {} datagrams",
        sink.payloads.len()
    );
}
