//! Endpoints: deciding which address identifies a host, and the connection map.
//!
//! A packet shows a MAC and an IP for each side. On the host's own segment the MAC is the
//! host's, and it is the better key (it survives DHCP changing the IP). Behind a router
//! every remote host shows the router's MAC, so there the IP must be the key. Ward
//! therefore:
//!
//! 1. binds MAC <-> IP over time from ARP (`arp.ip`) and DHCP leases (`dhcp.lease_ip`),
//!    each binding with first/last seen;
//! 2. marks a unicast MAC as a **router/gateway** when it is seen with more distinct IPs
//!    than a host has (more than [`EndpointConfig::max_ipv4_per_host`] IPv4 or
//!    [`EndpointConfig::max_ipv6_per_host`] IPv6 addresses that the MAC does not hold
//!    through ARP/DHCP), or with at least [`EndpointConfig::min_internet_ips_for_gateway`]
//!    internet addresses it does not hold;
//! 3. keys an address by its MAC when the MAC is a host's own; otherwise (router MAC, or
//!    no MAC at all) by the MAC the IP is bound to at that time through ARP/DHCP, else by
//!    the host MAC the IP was seen with in other packets, else by the IP itself. Internet addresses that are not bound to a local MAC are *external*
//!    and never become endpoints; group addresses (broadcast, multicast) neither.
//!
//! The connection map re-keys [`ConnectionEdge`]s to endpoint ids and aggregates them.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use ward_model::{
    is_internet_address, ConnectionEdge, EndpointAddr, Evidence, MacAddr, Observation,
    SecurityObservation, Timestamp, Transport,
};

/// Thresholds of router detection. The defaults suit a hospital LAN: a host rarely holds
/// more than a couple of IPv4 addresses it did not get through DHCP/ARP within a capture,
/// while IPv6 hosts carry link-local, stable and temporary addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointConfig {
    /// More distinct unbound IPv4 addresses than this on one MAC make it a router.
    pub max_ipv4_per_host: usize,
    /// More distinct unbound IPv6 addresses than this on one MAC make it a router.
    pub max_ipv6_per_host: usize,
    /// This many distinct unbound internet addresses on one MAC make it a gateway.
    pub min_internet_ips_for_gateway: usize,
    /// A MAC claiming more distinct IPs than this through ARP or DHCP is not a host holding
    /// its addresses (a proxy-ARP router, or a DHCP server the lease facts were attributed
    /// to); its claims are ignored for binding.
    pub max_bound_ips_per_mac: usize,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            max_ipv4_per_host: 4,
            max_ipv6_per_host: 8,
            min_internet_ips_for_gateway: 2,
            max_bound_ips_per_mac: 16,
        }
    }
}

/// What identifies an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndpointKey {
    Mac(MacAddr),
    Ip(IpAddr),
}

impl EndpointKey {
    /// The stable text id: `mac:00:1b:21:0a:0b:0c` or `ip:10.1.2.3`.
    pub fn id(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for EndpointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointKey::Mac(m) => write!(f, "mac:{m}"),
            EndpointKey::Ip(i) => write!(f, "ip:{i}"),
        }
    }
}

impl Serialize for EndpointKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How an IP was tied to an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindingSource {
    /// Seen as the address of the endpoint's packets.
    Traffic,
    /// Claimed in ARP.
    Arp,
    /// Leased through DHCP.
    DhcpLease,
    /// Requested by the client in DHCP (option 50), e.g. when rebooting into a lease
    /// whose ACK is relayed elsewhere.
    DhcpRequest,
}

impl BindingSource {
    /// The host claimed the address itself (ARP, DHCP), as opposed to merely being seen
    /// using it.
    pub fn is_claim(self) -> bool {
        !matches!(self, BindingSource::Traffic)
    }
}

/// An IP <-> MAC binding learnt in an earlier analysis (an earlier capture window, or the
/// store), given to [`EndpointMap::build_with_known`] so that a host that the current
/// window only sees through a router (by IP, behind the router's MAC) still resolves to
/// its MAC-keyed endpoint and keeps its device id. Known bindings resolve addresses; they
/// never create endpoints by themselves. Get them from [`crate::Inventory::known_bindings`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KnownBinding {
    pub ip: IpAddr,
    pub mac: MacAddr,
    pub sources: Vec<BindingSource>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// One IP address of an endpoint, with the time span and the ways it was learnt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpBinding {
    pub ip: IpAddr,
    pub sources: Vec<BindingSource>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// A network endpoint: one host as Ward can tell it apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// `mac:...` or `ip:...`.
    pub id: String,
    #[serde(skip)]
    pub key: EndpointKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    /// Addresses over time, by address.
    pub ips: Vec<IpBinding>,
    /// This MAC forwards traffic for other hosts (router or gateway).
    pub is_router: bool,
    /// For IP-keyed endpoints: the router MACs their traffic was seen behind.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via_routers: Vec<MacAddr>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

impl Endpoint {
    /// The address in use at `ts` (the binding that started last at or before `ts`), else
    /// the most recent one.
    pub fn ip_at(&self, ts: Timestamp) -> Option<IpAddr> {
        self.ips
            .iter()
            .filter(|b| b.first_seen <= ts)
            .max_by_key(|b| b.first_seen)
            .or_else(|| self.ips.iter().max_by_key(|b| b.last_seen))
            .map(|b| b.ip)
    }
}

/// Where an address resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resolved {
    Endpoint(EndpointKey),
    /// An internet address not bound to a local MAC.
    External(IpAddr),
    /// Broadcast or multicast.
    Group,
    /// No usable address.
    Unknown,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    first: Timestamp,
    last: Timestamp,
}

impl Span {
    fn widen(&mut self, first: Timestamp, last: Timestamp) {
        self.first = self.first.min(first);
        self.last = self.last.max(last);
    }
}

fn is_group_ip(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified(),
        IpAddr::V6(v6) => v6.is_multicast() || v6.is_unspecified(),
    }
}

/// Every address a fact, security observation or edge showed, with its time span.
fn sightings<'a>(
    observations: &'a [Observation],
    security: &'a [SecurityObservation],
    edges: &'a [ConnectionEdge],
) -> impl Iterator<Item = (EndpointAddr, Timestamp, Timestamp)> + 'a {
    let o = observations
        .iter()
        .map(|o| (o.subject, o.first_seen, o.last_seen));
    let s = security.iter().flat_map(|s| {
        std::iter::once((s.subject, s.first_seen, s.last_seen))
            .chain(s.peer.map(|p| (p, s.first_seen, s.last_seen)))
    });
    let e = edges.iter().flat_map(|e| {
        [
            (e.client, e.first_seen, e.last_seen),
            (e.server, e.first_seen, e.last_seen),
        ]
    });
    o.chain(s).chain(e)
}

/// An IP claimed by a MAC through ARP or DHCP.
#[derive(Debug, Clone, Copy)]
struct Binding {
    mac: MacAddr,
    span: Span,
    source: BindingSource,
}

/// Reads the ARP and DHCP bindings out of the observations.
fn bindings(observations: &[Observation]) -> Vec<(IpAddr, Binding)> {
    observations
        .iter()
        .filter_map(|o| {
            let source = match o.key.as_str() {
                "arp.ip" => BindingSource::Arp,
                "dhcp.lease_ip" => BindingSource::DhcpLease,
                "dhcp.requested_ip" => BindingSource::DhcpRequest,
                _ => return None,
            };
            let mac = o.subject.mac.filter(|m| m.is_unicast_host())?;
            let ip: IpAddr = o.value.trim().parse().ok()?;
            if is_group_ip(&ip) {
                return None;
            }
            Some((
                ip,
                Binding {
                    mac,
                    span: Span {
                        first: o.first_seen,
                        last: o.last_seen,
                    },
                    source,
                },
            ))
        })
        .collect()
}

/// The endpoints of one analysis, and the resolver that maps addresses onto them.
#[derive(Debug, Clone)]
pub struct EndpointMap {
    endpoints: Vec<Endpoint>,
    index: BTreeMap<EndpointKey, usize>,
    routers: BTreeSet<MacAddr>,
    /// IP -> ARP/DHCP bindings, ordered by first seen.
    bound: BTreeMap<IpAddr, Vec<Binding>>,
    /// IP -> host MACs it was seen with in traffic, ordered by first seen.
    seen: BTreeMap<IpAddr, Vec<Binding>>,
}

impl EndpointMap {
    /// Builds the endpoints from everything the dissectors saw.
    pub fn build(
        observations: &[Observation],
        security: &[SecurityObservation],
        edges: &[ConnectionEdge],
        config: &EndpointConfig,
    ) -> Self {
        Self::build_with_known(observations, security, edges, config, &[])
    }

    /// [`build`](Self::build), also resolving addresses through bindings learnt earlier:
    /// ARP/DHCP claims join this analysis' claims, addresses a host was seen using join
    /// the traffic bindings, each at its own time. This analysis' own evidence decides
    /// which MACs are routers.
    pub fn build_with_known(
        observations: &[Observation],
        security: &[SecurityObservation],
        edges: &[ConnectionEdge],
        config: &EndpointConfig,
        known: &[KnownBinding],
    ) -> Self {
        let mut binds = bindings(observations);
        let mut claims: BTreeMap<MacAddr, BTreeSet<IpAddr>> = BTreeMap::new();
        for (ip, b) in &binds {
            claims.entry(b.mac).or_default().insert(*ip);
        }
        binds.retain(|(_, b)| {
            claims
                .get(&b.mac)
                .is_none_or(|ips| ips.len() <= config.max_bound_ips_per_mac)
        });
        let mut bound: BTreeMap<IpAddr, Vec<Binding>> = BTreeMap::new();
        let mut owned: BTreeSet<(MacAddr, IpAddr)> = BTreeSet::new();
        for (ip, b) in &binds {
            owned.insert((b.mac, *ip));
            let list = bound.entry(*ip).or_default();
            // Merge repeated bindings of the same MAC (ARP and DHCP for one lease).
            match list.iter_mut().find(|x| x.mac == b.mac) {
                Some(x) => x.span.widen(b.span.first, b.span.last),
                None => list.push(*b),
            }
        }
        let known_span = |k: &KnownBinding| Span {
            first: k.first_seen,
            last: k.last_seen,
        };
        for k in known
            .iter()
            .filter(|k| k.mac.is_unicast_host() && !is_group_ip(&k.ip))
        {
            let Some(source) = k.sources.iter().copied().find(|s| s.is_claim()) else {
                continue;
            };
            owned.insert((k.mac, k.ip));
            let list = bound.entry(k.ip).or_default();
            match list.iter_mut().find(|x| x.mac == k.mac) {
                Some(x) => x.span.widen(k.first_seen, k.last_seen),
                None => list.push(Binding {
                    mac: k.mac,
                    span: known_span(k),
                    source,
                }),
            }
        }
        for list in bound.values_mut() {
            list.sort_by_key(|b| (b.span.first, b.mac));
        }

        // Router detection: distinct IPs per unicast MAC that the MAC does not own.
        let mut per_mac: BTreeMap<MacAddr, BTreeSet<IpAddr>> = BTreeMap::new();
        for (addr, _, _) in sightings(observations, security, edges) {
            if let (Some(mac), Some(ip)) = (addr.mac, addr.ip) {
                if mac.is_unicast_host() && !is_group_ip(&ip) && !owned.contains(&(mac, ip)) {
                    per_mac.entry(mac).or_default().insert(ip);
                }
            }
        }
        let routers: BTreeSet<MacAddr> = per_mac
            .iter()
            .filter(|(_, ips)| {
                let v4 = ips.iter().filter(|i| i.is_ipv4()).count();
                let v6 = ips.len() - v4;
                let internet = ips.iter().filter(|i| is_internet_address(i)).count();
                v4 > config.max_ipv4_per_host
                    || v6 > config.max_ipv6_per_host
                    || internet >= config.min_internet_ips_for_gateway
            })
            .map(|(m, _)| *m)
            .collect();

        // IPs seen in the packets of a host's own (non-router) MAC bind too, below ARP and
        // DHCP: an address seen without a MAC (DNS answers, raw-IP captures, routed copies)
        // then still finds its host.
        let mut seen: BTreeMap<IpAddr, Vec<Binding>> = BTreeMap::new();
        for (addr, first, last) in sightings(observations, security, edges) {
            let (Some(mac), Some(ip)) = (addr.mac, addr.ip) else {
                continue;
            };
            if !mac.is_unicast_host() || is_group_ip(&ip) || routers.contains(&mac) {
                continue;
            }
            let list = seen.entry(ip).or_default();
            match list.iter_mut().find(|x| x.mac == mac) {
                Some(x) => x.span.widen(first, last),
                None => list.push(Binding {
                    mac,
                    span: Span { first, last },
                    source: BindingSource::Traffic,
                }),
            }
        }
        for k in known {
            if !k.mac.is_unicast_host() || is_group_ip(&k.ip) || routers.contains(&k.mac) {
                continue;
            }
            let list = seen.entry(k.ip).or_default();
            match list.iter_mut().find(|x| x.mac == k.mac) {
                Some(x) => x.span.widen(k.first_seen, k.last_seen),
                None => list.push(Binding {
                    mac: k.mac,
                    span: known_span(k),
                    source: BindingSource::Traffic,
                }),
            }
        }
        for list in seen.values_mut() {
            list.sort_by_key(|b| (b.span.first, b.mac));
        }

        let mut map = EndpointMap {
            endpoints: Vec::new(),
            index: BTreeMap::new(),
            routers,
            bound,
            seen,
        };

        // Accumulate endpoints from every sighting and every binding.
        struct Acc {
            ips: BTreeMap<IpAddr, (Span, BTreeSet<BindingSource>)>,
            via: BTreeSet<MacAddr>,
            span: Span,
        }
        let mut accs: BTreeMap<EndpointKey, Acc> = BTreeMap::new();
        let mut touch = |key: EndpointKey,
                         first: Timestamp,
                         last: Timestamp,
                         ip: Option<(IpAddr, BindingSource)>,
                         via: Option<MacAddr>| {
            let acc = accs.entry(key).or_insert_with(|| Acc {
                ips: BTreeMap::new(),
                via: BTreeSet::new(),
                span: Span { first, last },
            });
            acc.span.widen(first, last);
            if let Some((ip, src)) = ip {
                let e = acc
                    .ips
                    .entry(ip)
                    .or_insert_with(|| (Span { first, last }, BTreeSet::new()));
                e.0.widen(first, last);
                e.1.insert(src);
            }
            if let Some(v) = via {
                acc.via.insert(v);
            }
        };
        for (addr, first, last) in sightings(observations, security, edges) {
            // A router is a device of its own even when it never shows its own address.
            if let Some(r) = addr.mac.filter(|m| map.routers.contains(m)) {
                touch(EndpointKey::Mac(r), first, last, None, None);
            }
            let Resolved::Endpoint(key) = map.resolve(&addr, first) else {
                continue;
            };
            let usable_ip = addr.ip.filter(|ip| !is_group_ip(ip));
            match key {
                EndpointKey::Mac(m) => {
                    // A router's packets carry other hosts' IPs; only its own count.
                    let own = usable_ip
                        .filter(|ip| !map.routers.contains(&m) || owned.contains(&(m, *ip)));
                    touch(
                        key,
                        first,
                        last,
                        own.map(|ip| (ip, BindingSource::Traffic)),
                        None,
                    );
                }
                EndpointKey::Ip(ip) => {
                    let via = addr.mac.filter(|m| map.routers.contains(m));
                    touch(key, first, last, Some((ip, BindingSource::Traffic)), via);
                }
            }
        }
        for (ip, b) in &binds {
            touch(
                EndpointKey::Mac(b.mac),
                b.span.first,
                b.span.last,
                Some((*ip, b.source)),
                None,
            );
        }

        for (key, acc) in accs {
            let ips = acc
                .ips
                .into_iter()
                .map(|(ip, (span, sources))| IpBinding {
                    ip,
                    sources: sources.into_iter().collect(),
                    first_seen: span.first,
                    last_seen: span.last,
                })
                .collect();
            let (mac, is_router) = match key {
                EndpointKey::Mac(m) => (Some(m), map.routers.contains(&m)),
                EndpointKey::Ip(_) => (None, false),
            };
            map.index.insert(key, map.endpoints.len());
            map.endpoints.push(Endpoint {
                id: key.id(),
                key,
                mac,
                ips,
                is_router,
                via_routers: acc.via.into_iter().collect(),
                first_seen: acc.span.first,
                last_seen: acc.span.last,
            });
        }
        map
    }

    /// The MAC an IP was bound to (ARP/DHCP) at `ts`: the binding that started last at or
    /// before `ts`, else the earliest one (the host held the address before Ward saw it).
    ///
    /// Without an ARP/DHCP binding, the host MAC the IP was seen with in traffic is used the
    /// same way.
    pub fn bound_mac(&self, ip: &IpAddr, ts: Timestamp) -> Option<MacAddr> {
        let pick = |list: &Vec<Binding>| {
            list.iter()
                .rev()
                .find(|b| b.span.first <= ts)
                .or_else(|| list.first())
                .map(|b| b.mac)
        };
        self.bound
            .get(ip)
            .and_then(pick)
            .or_else(|| self.seen.get(ip).and_then(pick))
    }

    /// Resolves a packet address seen at `ts` to an endpoint, an external address or
    /// nothing.
    pub fn resolve(&self, addr: &EndpointAddr, ts: Timestamp) -> Resolved {
        if addr.mac.is_some_and(|m| m.is_group()) {
            return Resolved::Group;
        }
        let mac = addr.mac.filter(|m| m.is_unicast_host());
        if let Some(m) = mac {
            if !self.routers.contains(&m) {
                return Resolved::Endpoint(EndpointKey::Mac(m));
            }
        }
        if let Some(ip) = addr.ip {
            if is_group_ip(&ip) {
                return match mac {
                    Some(m) => Resolved::Endpoint(EndpointKey::Mac(m)),
                    None => Resolved::Group,
                };
            }
            if let Some(b) = self.bound_mac(&ip, ts) {
                return Resolved::Endpoint(EndpointKey::Mac(b));
            }
            if is_internet_address(&ip) {
                return Resolved::External(ip);
            }
            return Resolved::Endpoint(EndpointKey::Ip(ip));
        }
        match mac {
            Some(m) => Resolved::Endpoint(EndpointKey::Mac(m)),
            None => Resolved::Unknown,
        }
    }

    /// All endpoints, ordered by key (MAC-keyed first, then IP-keyed).
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    pub fn get(&self, key: &EndpointKey) -> Option<&Endpoint> {
        self.index.get(key).and_then(|i| self.endpoints.get(*i))
    }

    /// [`EndpointKey::id`], copied from the map's endpoint when it has one (formatting a
    /// MAC costs far more than the lookup; identification asks once per observation).
    pub fn id_of(&self, key: &EndpointKey) -> String {
        self.get(key).map_or_else(|| key.id(), |e| e.id.clone())
    }

    /// MACs detected as routers or gateways.
    pub fn routers(&self) -> impl Iterator<Item = &MacAddr> {
        self.routers.iter()
    }

    pub fn is_router(&self, mac: &MacAddr) -> bool {
        self.routers.contains(mac)
    }

    pub(crate) fn into_endpoints(self) -> Vec<Endpoint> {
        self.endpoints
    }
}

/// Whether a peer is on the site, outside, or a group address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Internal,
    External,
    Multicast,
    Unknown,
}

/// One side of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Peer {
    /// The endpoint id, for internal peers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The device id, for internal peers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The address as seen on the wire (IP if any, else MAC), of the first flow.
    pub address: String,
    pub scope: Scope,
}

/// Flows between two peers over one service, aggregated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    pub client: Peer,
    pub server: Peer,
    pub transport: Transport,
    pub server_port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vlans: Vec<u16>,
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    pub packets: u64,
    pub sessions: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// The first packet of the earliest flow.
    pub evidence: Evidence,
}

fn peer_of(
    map: &EndpointMap,
    addr: &EndpointAddr,
    ts: Timestamp,
    device_of: &dyn Fn(&EndpointKey) -> Option<String>,
) -> (String, Peer) {
    let address = match (addr.ip, addr.mac) {
        (Some(ip), _) => ip.to_string(),
        (None, Some(m)) => m.to_string(),
        (None, None) => "?".to_string(),
    };
    match map.resolve(addr, ts) {
        Resolved::Endpoint(k) => (
            map.id_of(&k),
            Peer {
                endpoint: Some(map.id_of(&k)),
                device: device_of(&k),
                address,
                scope: Scope::Internal,
            },
        ),
        Resolved::External(ip) => (
            format!("ext:{ip}"),
            Peer {
                endpoint: None,
                device: None,
                address,
                scope: Scope::External,
            },
        ),
        Resolved::Group => (
            format!("group:{address}"),
            Peer {
                endpoint: None,
                device: None,
                address,
                scope: Scope::Multicast,
            },
        ),
        Resolved::Unknown => (
            "unknown".to_string(),
            Peer {
                endpoint: None,
                device: None,
                address,
                scope: Scope::Unknown,
            },
        ),
    }
}

/// Re-keys edges to endpoints and aggregates them, in a deterministic order.
pub fn connection_map(
    edges: &[ConnectionEdge],
    map: &EndpointMap,
    device_of: &dyn Fn(&EndpointKey) -> Option<String>,
) -> Vec<Connection> {
    type Key = (String, String, Transport, u16);
    let mut out: BTreeMap<Key, Connection> = BTreeMap::new();
    for e in edges {
        let (ck, client) = peer_of(map, &e.client, e.first_seen, device_of);
        let (sk, server) = peer_of(map, &e.server, e.first_seen, device_of);
        let key = (ck, sk, e.transport, e.server_port);
        let c = out.entry(key).or_insert_with(|| Connection {
            client,
            server,
            transport: e.transport,
            server_port: e.server_port,
            protocol: None,
            vlans: Vec::new(),
            bytes_to_server: 0,
            bytes_to_client: 0,
            packets: 0,
            sessions: 0,
            first_seen: e.first_seen,
            last_seen: e.last_seen,
            evidence: e.evidence,
        });
        c.bytes_to_server = c.bytes_to_server.saturating_add(e.bytes_to_server);
        c.bytes_to_client = c.bytes_to_client.saturating_add(e.bytes_to_client);
        c.packets = c.packets.saturating_add(e.packets);
        c.sessions = c.sessions.saturating_add(e.sessions);
        if e.first_seen < c.first_seen {
            c.first_seen = e.first_seen;
            c.evidence = e.evidence;
        }
        c.last_seen = c.last_seen.max(e.last_seen);
        if c.protocol.is_none() {
            c.protocol.clone_from(&e.protocol);
        }
        if let Some(v) = e.vlan {
            if !c.vlans.contains(&v) {
                c.vlans.push(v);
                c.vlans.sort_unstable();
            }
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn mac(s: &str) -> MacAddr {
        s.parse().unwrap()
    }
    pub fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }
    pub fn ev(ts: u64) -> Evidence {
        Evidence {
            file: 0,
            packet: ts,
            ts: Timestamp(ts),
            flow: None,
        }
    }
    pub fn addr(m: Option<&str>, i: Option<&str>) -> EndpointAddr {
        EndpointAddr {
            mac: m.map(mac),
            ip: i.map(ip),
        }
    }
    pub fn obs(
        subject: EndpointAddr,
        key: &str,
        value: &str,
        first: u64,
        last: u64,
    ) -> Observation {
        Observation {
            subject,
            key: key.into(),
            value: value.into(),
            first_seen: Timestamp(first),
            last_seen: Timestamp(last),
            count: 1,
            evidence: ev(first),
        }
    }
    pub fn edge(
        client: EndpointAddr,
        server: EndpointAddr,
        port: u16,
        proto: Option<&str>,
        first: u64,
    ) -> ConnectionEdge {
        ConnectionEdge {
            client,
            server,
            transport: Transport::Tcp,
            server_port: port,
            vlan: None,
            protocol: proto.map(str::to_string),
            bytes_to_server: 100,
            bytes_to_client: 50,
            packets: 4,
            sessions: 1,
            first_seen: Timestamp(first),
            last_seen: Timestamp(first + 10),
            evidence: ev(first),
        }
    }

    const GW: &str = "00:00:5e:00:01:01";
    const HOST: &str = "44:4b:5d:91:e6:a4";

    #[test]
    fn gateway_with_internet_peers_is_a_router_and_remote_hosts_are_keyed_by_ip() {
        let edges = vec![
            // Local host to two internet servers through the gateway.
            edge(
                addr(Some(HOST), Some("10.0.0.5")),
                addr(Some(GW), Some("8.8.8.8")),
                443,
                Some("tls"),
                1,
            ),
            edge(
                addr(Some(HOST), Some("10.0.0.5")),
                addr(Some(GW), Some("1.1.1.1")),
                443,
                Some("tls"),
                2,
            ),
            // A remote-site host reaching the local PACS through the same router.
            edge(
                addr(Some(GW), Some("10.9.0.7")),
                addr(Some("00:1d:4a:17:5d:be"), Some("10.0.0.9")),
                104,
                Some("dicom"),
                3,
            ),
        ];
        let obs = vec![obs(addr(Some(GW), None), "arp.ip", "10.0.0.1", 0, 5)];
        let map = EndpointMap::build(&obs, &[], &edges, &EndpointConfig::default());
        assert!(
            map.is_router(&mac(GW)),
            "gateway MAC seen with 2 internet IPs"
        );
        assert!(!map.is_router(&mac(HOST)));
        assert_eq!(
            map.resolve(&addr(Some(GW), Some("10.9.0.7")), Timestamp(3)),
            Resolved::Endpoint(EndpointKey::Ip(ip("10.9.0.7")))
        );
        assert_eq!(
            map.resolve(&addr(Some(GW), Some("8.8.8.8")), Timestamp(1)),
            Resolved::External(ip("8.8.8.8"))
        );
        // The router itself is an endpoint keyed by its MAC, holding only its own IP.
        let gw = map.get(&EndpointKey::Mac(mac(GW))).unwrap();
        assert!(gw.is_router);
        assert_eq!(
            gw.ips.iter().map(|b| b.ip).collect::<Vec<_>>(),
            vec![ip("10.0.0.1")]
        );
        let remote = map.get(&EndpointKey::Ip(ip("10.9.0.7"))).unwrap();
        assert_eq!(remote.via_routers, vec![mac(GW)]);
        assert!(
            map.get(&EndpointKey::Ip(ip("8.8.8.8"))).is_none(),
            "externals are not endpoints"
        );

        let conns = connection_map(&edges, &map, &|_| None);
        assert_eq!(conns.len(), 3);
        let ext: Vec<_> = conns
            .iter()
            .filter(|c| c.server.scope == Scope::External)
            .collect();
        assert_eq!(ext.len(), 2);
        assert!(ext
            .iter()
            .all(|c| c.client.endpoint.as_deref() == Some("mac:44:4b:5d:91:e6:a4")));
        let dicom = conns.iter().find(|c| c.server_port == 104).unwrap();
        assert_eq!(dicom.client.endpoint.as_deref(), Some("ip:10.9.0.7"));
        assert_eq!(dicom.protocol.as_deref(), Some("dicom"));
    }

    #[test]
    fn many_internal_ips_behind_one_mac_make_a_router() {
        let r = "00:11:22:33:44:55";
        let srv = addr(Some("00:1d:4a:17:5d:be"), Some("10.0.0.9"));
        let edges: Vec<_> = (1..=5)
            .map(|i| {
                edge(
                    addr(Some(r), Some(&format!("10.2.0.{i}"))),
                    srv,
                    2575,
                    Some("hl7"),
                    i,
                )
            })
            .collect();
        let map = EndpointMap::build(&[], &[], &edges, &EndpointConfig::default());
        assert!(map.is_router(&mac(r)), "5 IPv4 > threshold 4");
        assert_eq!(
            map.endpoints().len(),
            7,
            "5 remote hosts + the server + the router"
        );
        // With a higher threshold the same MAC is a host with 5 addresses.
        let lax = EndpointConfig {
            max_ipv4_per_host: 5,
            ..EndpointConfig::default()
        };
        let map = EndpointMap::build(&[], &[], &edges, &lax);
        assert!(!map.is_router(&mac(r)));
        assert_eq!(map.endpoints().len(), 2);
    }

    #[test]
    fn dhcp_rebinding_keeps_one_endpoint_and_resolves_ip_only_traffic_by_time() {
        let m1 = "00:09:fb:4d:3b:a9";
        let m2 = "00:10:5d:6f:df:53";
        let obs = vec![
            obs(addr(Some(m1), None), "dhcp.lease_ip", "10.0.0.50", 100, 200),
            obs(
                addr(Some(m1), None),
                "dhcp.lease_ip",
                "10.0.0.51",
                1000,
                1100,
            ),
            // Later the old address goes to another device.
            obs(
                addr(Some(m2), None),
                "dhcp.lease_ip",
                "10.0.0.50",
                2000,
                2100,
            ),
        ];
        let srv = addr(None, Some("10.0.0.9"));
        let edges = vec![
            edge(addr(None, Some("10.0.0.50")), srv, 2575, Some("hl7"), 150),
            edge(addr(None, Some("10.0.0.51")), srv, 2575, Some("hl7"), 1050),
            edge(addr(None, Some("10.0.0.50")), srv, 2575, Some("hl7"), 2050),
        ];
        let map = EndpointMap::build(&obs, &[], &edges, &EndpointConfig::default());
        let k1 = EndpointKey::Mac(mac(m1));
        let e1 = map.get(&k1).unwrap();
        let ips: Vec<_> = e1.ips.iter().map(|b| b.ip).collect();
        assert_eq!(ips, vec![ip("10.0.0.50"), ip("10.0.0.51")]);
        assert!(e1.ips[0].sources.contains(&BindingSource::DhcpLease));
        assert_eq!(e1.ip_at(Timestamp(150)), Some(ip("10.0.0.50")));
        assert_eq!(e1.ip_at(Timestamp(1500)), Some(ip("10.0.0.51")));
        assert_eq!(
            map.resolve(&addr(None, Some("10.0.0.50")), Timestamp(150)),
            Resolved::Endpoint(k1)
        );
        assert_eq!(
            map.resolve(&addr(None, Some("10.0.0.50")), Timestamp(2050)),
            Resolved::Endpoint(EndpointKey::Mac(mac(m2)))
        );
        let conns = connection_map(&edges, &map, &|k| Some(format!("dev-of-{k}")));
        let from_m1: u64 = conns
            .iter()
            .filter(|c| c.client.endpoint.as_deref() == Some("mac:00:09:fb:4d:3b:a9"))
            .map(|c| c.sessions)
            .sum();
        assert_eq!(
            from_m1, 2,
            "both leases' traffic belongs to the first device"
        );
        assert!(conns.iter().all(|c| c.client.device.is_some()));
    }

    #[test]
    fn a_mac_claiming_too_many_addresses_binds_none() {
        let server = "00:50:56:aa:3e:16";
        let obs: Vec<_> = (1..=20)
            .map(|i| {
                obs(
                    addr(Some(server), None),
                    "dhcp.lease_ip",
                    &format!("10.3.0.{i}"),
                    i,
                    i,
                )
            })
            .collect();
        let map = EndpointMap::build(&obs, &[], &[], &EndpointConfig::default());
        assert_eq!(map.bound_mac(&ip("10.3.0.7"), Timestamp(7)), None);
        assert_eq!(
            map.resolve(&addr(None, Some("10.3.0.7")), Timestamp(7)),
            Resolved::Endpoint(EndpointKey::Ip(ip("10.3.0.7")))
        );
    }

    /// A host leased its address on its own segment in one window; in the next window it
    /// is only seen through the router. With the earlier window's bindings it stays one
    /// MAC-keyed endpoint; without them it is an IP-keyed one (the duplicate device).
    #[test]
    fn known_bindings_resolve_a_routed_host_to_its_mac_endpoint() {
        const PUMP: &str = "00:1a:01:2b:51:f8";
        let router_claims = [
            obs(addr(Some(GW), None), "arp.ip", "10.40.0.1", 0, 5),
            obs(addr(Some(GW), None), "arp.ip", "10.50.0.1", 0, 5),
        ];
        let mut w1_obs = router_claims.to_vec();
        w1_obs.push(obs(
            addr(Some(PUMP), None),
            "dhcp.lease_ip",
            "10.40.0.15",
            10,
            10,
        ));
        let srv = addr(Some("00:50:56:fa:7e:39"), Some("10.50.0.17"));
        // Window 1: the pump on its own segment; the server sees remote sites via GW.
        let mut w1_edges = vec![edge(
            addr(Some(PUMP), Some("10.40.0.15")),
            addr(Some(GW), Some("10.50.0.17")),
            443,
            Some("tls"),
            20,
        )];
        for i in 1..=5 {
            w1_edges.push(edge(
                addr(Some(GW), Some(&format!("10.130.0.{i}"))),
                srv,
                2575,
                Some("hl7"),
                30 + i,
            ));
        }
        let cfg = EndpointConfig::default();
        let w1 = EndpointMap::build(&w1_obs, &[], &w1_edges, &cfg);
        assert!(w1.is_router(&mac(GW)));
        let pump = EndpointKey::Mac(mac(PUMP));
        assert!(w1.get(&pump).is_some());
        let known: Vec<KnownBinding> = w1
            .endpoints()
            .iter()
            .filter_map(|e| Some((e, e.mac?)))
            .flat_map(|(e, m)| {
                e.ips.iter().map(move |b| KnownBinding {
                    ip: b.ip,
                    mac: m,
                    sources: b.sources.clone(),
                    first_seen: b.first_seen,
                    last_seen: b.last_seen,
                })
            })
            .collect();

        // Window 2: the pump only behind the router (the SPAN sees the server's leg).
        let mut w2_edges = vec![edge(
            addr(Some(GW), Some("10.40.0.15")),
            srv,
            443,
            Some("tls"),
            1000,
        )];
        for i in 1..=5 {
            w2_edges.push(edge(
                addr(Some(GW), Some(&format!("10.130.0.{i}"))),
                srv,
                2575,
                Some("hl7"),
                1000 + i,
            ));
        }
        let alone = EndpointMap::build(&[], &[], &w2_edges, &cfg);
        assert!(alone.is_router(&mac(GW)));
        assert!(
            alone.get(&EndpointKey::Ip(ip("10.40.0.15"))).is_some(),
            "without earlier bindings the routed pump is an IP-keyed endpoint"
        );

        let with = EndpointMap::build_with_known(&[], &[], &w2_edges, &cfg, &known);
        assert!(with.get(&EndpointKey::Ip(ip("10.40.0.15"))).is_none());
        let p = with.get(&pump).expect("the pump keeps its MAC endpoint");
        assert_eq!(
            p.ips.iter().map(|b| b.ip).collect::<Vec<_>>(),
            vec![ip("10.40.0.15")]
        );
        // The remote hosts never bound to a MAC stay IP-keyed; the router keeps only the
        // addresses it claimed; the server is unchanged.
        for i in 1..=5 {
            let k = EndpointKey::Ip(ip(&format!("10.130.0.{i}")));
            assert_eq!(
                with.get(&k).map(|e| e.via_routers.clone()),
                Some(vec![mac(GW)])
            );
        }
        assert!(with.is_router(&mac(GW)));
        let gw_ips: Vec<IpAddr> = with
            .get(&EndpointKey::Mac(mac(GW)))
            .map(|e| e.ips.iter().map(|b| b.ip).collect())
            .unwrap_or_default();
        assert!(gw_ips
            .iter()
            .all(|i| *i == ip("10.40.0.1") || *i == ip("10.50.0.1")));
        // Known bindings resolve; they do not bring back endpoints this window never saw.
        assert_eq!(with.endpoints().len(), alone.endpoints().len());
        // A later lease of the same address to another MAC wins from its time on.
        const NEW: &str = "00:12:21:85:c6:87";
        let w3_obs = vec![obs(
            addr(Some(NEW), None),
            "dhcp.lease_ip",
            "10.40.0.15",
            5000,
            5000,
        )];
        let later = EndpointMap::build_with_known(&w3_obs, &[], &w2_edges, &cfg, &known);
        assert_eq!(
            later.resolve(&addr(Some(GW), Some("10.40.0.15")), Timestamp(1000)),
            Resolved::Endpoint(pump)
        );
        assert_eq!(
            later.resolve(&addr(Some(GW), Some("10.40.0.15")), Timestamp(6000)),
            Resolved::Endpoint(EndpointKey::Mac(mac(NEW)))
        );
    }

    #[test]
    fn a_dhcp_request_binds_its_requested_address() {
        let h = "00:09:fb:4d:3b:a9";
        let obs = vec![obs(
            addr(Some(h), None),
            "dhcp.requested_ip",
            "10.0.0.77",
            5,
            5,
        )];
        let edges = vec![edge(
            addr(None, Some("10.0.0.77")),
            addr(None, Some("10.0.0.9")),
            2575,
            Some("hl7"),
            10,
        )];
        let map = EndpointMap::build(&obs, &[], &edges, &EndpointConfig::default());
        let e = map.get(&EndpointKey::Mac(mac(h))).unwrap();
        assert_eq!(e.ips[0].ip, ip("10.0.0.77"));
        assert!(e.ips[0].sources.contains(&BindingSource::DhcpRequest));
        assert!(map.get(&EndpointKey::Ip(ip("10.0.0.77"))).is_none());
    }

    #[test]
    fn group_addresses_are_not_endpoints() {
        let edges = vec![edge(
            addr(Some(HOST), Some("10.0.0.5")),
            addr(Some("ff:ff:ff:ff:ff:ff"), Some("255.255.255.255")),
            67,
            Some("dhcp"),
            1,
        )];
        let map = EndpointMap::build(&[], &[], &edges, &EndpointConfig::default());
        assert_eq!(map.endpoints().len(), 1);
        let conns = connection_map(&edges, &map, &|_| None);
        assert_eq!(conns[0].server.scope, Scope::Multicast);
    }
}
