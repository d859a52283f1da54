mod common;
#[test]
fn dump() {
    for p in common::clinical_captures() {
        let out = common::dissect(&p);
        println!("=== {} flows={} unclassified={}", p.display(), out.flows, out.unclassified_flows);
        for o in &out.observations { println!("  {} {} = {} (x{})", o.subject, o.key, o.value, o.count); }
        for s in &out.security { println!("  SEC {:?} {:?} {} {}", s.kind, s.severity, s.subject, s.detail); }
        for e in &out.edges { println!("  EDGE {} -> {}:{} {:?}", e.client, e.server, e.server_port, e.protocol); }
    }
}
