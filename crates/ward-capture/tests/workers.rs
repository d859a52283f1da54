//! What makes the output independent of the number of worker threads:
//!
//! * the header-only dispatch hash ([`flow_hash`]) agrees with the full decoder for every
//!   frame the decoder turns into an IP packet (so a flow never straddles two workers),
//!   and is symmetric in the two directions;
//! * whether an idle flow is split depends only on its own packets' times, never on when
//!   a worker's periodic sweep happened to run (which depends on which other flows the
//!   worker holds).
//!
//! The end-to-end comparison of 1, 2 and 3 workers on corpus and generated captures is
//! `ward-dissect/tests/workers.rs`.

mod common;

use std::path::Path;

use common::*;
use etherparse::{PacketBuilder, VlanId};
use proptest::prelude::*;
use ward_capture::decode::{flow_hash, flow_hash_input, flow_hash_of};
use ward_capture::source::linktype;
use ward_capture::{CaptureConfig, CaptureReader, Engine, PacketCtx};
use ward_model::Timestamp;

fn slow_hash(lt: u32, data: &[u8]) -> Option<u64> {
    flow_hash_input(lt, data).map(|(vlan, a, b)| flow_hash_of(vlan, a, b))
}

fn check_frame(lt: u32, data: &[u8], what: &str) {
    if let Some(h) = slow_hash(lt, data) {
        assert_eq!(
            flow_hash(lt, data),
            Some(h),
            "{what}: header-only hash differs from the decoder's"
        );
    }
}

#[test]
fn dispatch_hash_matches_the_decoder_on_every_corpus_packet() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let mut entries = Vec::new();
    for sub in ["pcaps/dev", "clinical-captures"] {
        let dir = data.join(sub);
        entries.extend(
            std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("the corpus is required at {}: {e}", dir.display()))
                .filter_map(|e| e.ok().map(|e| e.path())),
        );
    }
    entries.sort();
    let mut checked = 0u64;
    for p in entries {
        let Ok(mut r) = CaptureReader::open(&p) else {
            continue;
        };
        while r.advance() {
            if let Some(pkt) = r.current() {
                let what = format!("{} packet {}", p.display(), pkt.number);
                check_frame(pkt.linktype, pkt.data, &what);
                // Truncations of real frames too.
                for cut in [14usize, 18, 30, 34, 38, 54] {
                    if let Some(d) = pkt.data.get(..cut) {
                        check_frame(pkt.linktype, d, &format!("{what} cut at {cut}"));
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 2_000, "corpus packets checked: {checked}");
}

fn frame(
    v6: bool,
    vlans: u8,
    a: [u8; 16],
    b: [u8; 16],
    tcp: bool,
    sport: u16,
    dport: u16,
) -> Vec<u8> {
    let vid = |v: u16| VlanId::try_new(v).expect("vlan id");
    let eth = PacketBuilder::ethernet2(MAC_A, MAC_B);
    let mut out = Vec::new();
    macro_rules! finish {
        ($ip:expr) => {{
            if tcp {
                $ip.tcp(sport, dport, 1, 100)
                    .write(&mut out, b"payload")
                    .expect("build");
            } else {
                $ip.udp(sport, dport)
                    .write(&mut out, b"payload")
                    .expect("build");
            }
        }};
    }
    let a4 = [a[0], a[1], a[2], a[3]];
    let b4 = [b[0], b[1], b[2], b[3]];
    match (vlans, v6) {
        (0, false) => finish!(eth.ipv4(a4, b4, 64)),
        (0, true) => finish!(eth.ipv6(a, b, 64)),
        (1, false) => finish!(eth.single_vlan(vid(10)).ipv4(a4, b4, 64)),
        (1, true) => finish!(eth.single_vlan(vid(10)).ipv6(a, b, 64)),
        (_, false) => finish!(eth.double_vlan(vid(20), vid(30)).ipv4(a4, b4, 64)),
        (_, true) => finish!(eth.double_vlan(vid(20), vid(30)).ipv6(a, b, 64)),
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Both directions hash alike; the header-only hash equals the decoder's; and after
    /// random byte damage it still equals the decoder's whenever the decoder accepts.
    #[test]
    fn dispatch_hash_is_symmetric_and_agrees_with_the_decoder(
        v6 in any::<bool>(),
        vlans in 0u8..3,
        a in any::<[u8; 16]>(),
        b in any::<[u8; 16]>(),
        tcp in any::<bool>(),
        sport in any::<u16>(),
        dport in any::<u16>(),
        damage in proptest::collection::vec((0usize..80, any::<u8>()), 0..4),
        cut in 0usize..120,
    ) {
        let fwd = frame(v6, vlans, a, b, tcp, sport, dport);
        let rev = frame(v6, vlans, b, a, tcp, dport, sport);
        let h = slow_hash(linktype::ETHERNET, &fwd);
        prop_assert!(h.is_some());
        prop_assert_eq!(flow_hash(linktype::ETHERNET, &fwd), h);
        prop_assert_eq!(flow_hash(linktype::ETHERNET, &rev), h);
        let mut bad = fwd.clone();
        for (at, v) in damage {
            if let Some(x) = bad.get_mut(at) {
                *x = v;
            }
        }
        bad.truncate(cut.max(1));
        if let Some(h) = slow_hash(linktype::ETHERNET, &bad) {
            prop_assert_eq!(flow_hash(linktype::ETHERNET, &bad), Some(h));
        }
    }
}

/// Flows ended by idle timeout: with the sweep alone, flow X's packet at 60.5 s would
/// continue X in an engine whose last sweep ran at 60.0 s (because another flow's packet
/// arrived then) but start a new flow in an engine that holds X alone. Both must split.
#[test]
fn idle_split_does_not_depend_on_other_flows() {
    let cfg = CaptureConfig::default();
    let s = 1_000_000u64;
    let t0 = 1_700_000_000 * s;
    let ctx = |n: u64, ts: u64| PacketCtx {
        file: 0,
        packet: n,
        ts: Timestamp(ts),
    };
    let x = eth_udp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 161, b"x");
    let y = eth_udp([10, 0, 0, 3], [10, 0, 0, 4], 40001, 161, b"y");
    let limit = cfg.udp_timeout_secs * s;

    let mut alone = Engine::new(&cfg, 0, 1, Recorder::default());
    alone.process(linktype::ETHERNET, &x, ctx(1, t0));
    alone.process(linktype::ETHERNET, &x, ctx(3, t0 + limit + s / 2));
    alone.finish();

    let mut shared = Engine::new(&cfg, 0, 1, Recorder::default());
    shared.process(linktype::ETHERNET, &x, ctx(1, t0));
    shared.process(linktype::ETHERNET, &y, ctx(2, t0 + limit));
    shared.process(linktype::ETHERNET, &x, ctx(3, t0 + limit + s / 2));
    shared.finish();

    let x_flows = |r: &Recorder| {
        r.records()
            .iter()
            .filter(|rec| rec.meta.server_port == 161 && rec.meta.client_port == 40000)
            .map(|rec| (rec.meta.id, rec.packets_to_server + rec.packets_to_client))
            .collect::<Vec<_>>()
    };
    let a = x_flows(&alone.sink);
    let b = x_flows(&shared.sink);
    assert_eq!(
        a.len(),
        2,
        "X idle for more than the UDP timeout: two flows ({a:?})"
    );
    assert_eq!(
        a, b,
        "same split, same flow ids, whatever else the engine saw"
    );
}
