//! Roles (which address is XCC, which is the PBX) and Follow-Me leg linking.
//!
//! XCC is the party that receives INVITEs carrying Diversion/History-Info and then sends
//! INVITEs back to the same peer (its second legs); User-Agent/Server strings that name
//! XCC/XPhone/C4B are hints, never required. `--xcc`/`--pbx` override the inference. Every
//! conclusion carries the reason given in the report.
//!
//! A second leg is XCC's INVITE (new Call-ID) towards the PBX; it is linked to the first
//! leg that caused it: same caller (From user copied from the first leg), starting while
//! that leg is being set up or shortly after.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::Call;

/// An endpoint given on the command line: an address, optionally with a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

impl Endpoint {
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        if let Ok(sa) = s.parse::<SocketAddr>() {
            return Ok(Endpoint {
                ip: sa.ip(),
                port: Some(sa.port()),
            });
        }
        let bare = s.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<IpAddr>()
            .map(|ip| Endpoint { ip, port: None })
            .map_err(|_| format!("{s:?} is not an address (ADDR or ADDR:PORT)"))
    }

    pub fn matches(&self, a: &SocketAddr) -> bool {
        self.ip == a.ip() && self.port.is_none_or(|p| p == a.port())
    }
}

/// Which addresses play XCC and the PBX, and why sipdiag thinks so.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Roles {
    pub xcc: Vec<IpAddr>,
    pub pbx: Vec<IpAddr>,
    pub reasons: Vec<String>,
    #[serde(skip)]
    #[schemars(skip)]
    xcc_endpoints: Vec<Endpoint>,
    #[serde(skip)]
    #[schemars(skip)]
    pbx_endpoints: Vec<Endpoint>,
}

impl Roles {
    pub fn is_xcc(&self, a: &SocketAddr) -> bool {
        if !self.xcc_endpoints.is_empty() {
            return self.xcc_endpoints.iter().any(|e| e.matches(a));
        }
        self.xcc.contains(&a.ip())
    }

    pub fn is_pbx(&self, a: &SocketAddr) -> bool {
        if !self.pbx_endpoints.is_empty() {
            return self.pbx_endpoints.iter().any(|e| e.matches(a));
        }
        self.pbx.contains(&a.ip())
    }

    pub fn known(&self) -> bool {
        !self.xcc.is_empty()
    }
}

fn agent_says_xcc(agent: &str) -> bool {
    let a = agent.to_ascii_lowercase();
    a.contains("xcc") || a.contains("xphone") || a.contains("c4b")
}

fn agent_says_pbx(agent: &str) -> bool {
    let a = agent.to_ascii_lowercase();
    a.contains("ip office") || a.contains("ipoffice") || a.contains("avaya")
}

/// Infers the roles from the calls, honouring overrides.
pub fn infer_roles(calls: &[Call], xcc: &[Endpoint], pbx: &[Endpoint]) -> Roles {
    let mut r = Roles {
        xcc_endpoints: xcc.to_vec(),
        pbx_endpoints: pbx.to_vec(),
        ..Roles::default()
    };
    if !xcc.is_empty() {
        r.xcc = dedup(xcc.iter().map(|e| e.ip));
        r.reasons.push(format!(
            "XCC given with --xcc: {}",
            xcc.iter().map(show).collect::<Vec<_>>().join(", ")
        ));
    }
    if !pbx.is_empty() {
        r.pbx = dedup(pbx.iter().map(|e| e.ip));
        r.reasons.push(format!(
            "PBX given with --pbx: {}",
            pbx.iter().map(show).collect::<Vec<_>>().join(", ")
        ));
    }
    if r.xcc.is_empty() {
        // Score addresses: receiving a diverted INVITE, then sending INVITEs back to the
        // same peer, is XCC's signature; agent strings add weight.
        let mut score: BTreeMap<IpAddr, (u32, Vec<String>)> = BTreeMap::new();
        let mut diverted_from: HashMap<IpAddr, Vec<IpAddr>> = HashMap::new();
        for c in calls {
            for t in &c.invites {
                if !t.diversion.is_empty() || !t.history_info.is_empty() {
                    let e = score.entry(t.dst.ip()).or_default();
                    e.0 += 2;
                    if e.1.len() < 3 {
                        e.1.push(format!(
                            "receives INVITE with {} (frame {})",
                            if t.diversion.is_empty() {
                                "History-Info"
                            } else {
                                "Diversion"
                            },
                            t.request_frame
                        ));
                    }
                    diverted_from
                        .entry(t.dst.ip())
                        .or_default()
                        .push(t.src.ip());
                }
                if let Some(a) = t.user_agent.as_deref().filter(|a| agent_says_xcc(a)) {
                    let e = score.entry(t.src.ip()).or_default();
                    e.0 += 3;
                    e.1.push(format!("User-Agent {a:?} (frame {})", t.request_frame));
                }
                if let Some(a) = t.server.as_deref().filter(|a| agent_says_xcc(a)) {
                    let e = score.entry(t.dst.ip()).or_default();
                    e.0 += 3;
                    e.1.push(format!(
                        "Server {a:?} (frame {})",
                        t.final_frame.unwrap_or(0)
                    ));
                }
            }
        }
        // Agent strings on any message (OPTIONS keep-alives, REGISTER, …).
        for c in calls {
            for (addr, a) in c.agents.iter().filter(|(_, a)| agent_says_xcc(a)) {
                let e = score.entry(addr.ip()).or_default();
                if !e.1.iter().any(|w| w.contains(a.as_str())) {
                    e.0 += 3;
                    e.1.push(format!(
                        "identifies itself as {a:?} (Call-ID {})",
                        c.call_id
                    ));
                }
            }
        }
        for c in calls {
            for t in &c.invites {
                if diverted_from
                    .get(&t.src.ip())
                    .is_some_and(|peers| peers.contains(&t.dst.ip()))
                {
                    let e = score.entry(t.src.ip()).or_default();
                    e.0 += 2;
                    if e.1.len() < 5 {
                        e.1.push(format!(
                            "sends INVITE back to the forwarding peer (frame {})",
                            t.request_frame
                        ));
                    }
                }
            }
        }
        if let Some((ip, (s, why))) = score.iter().max_by_key(|(_, (s, _))| *s)
            && *s >= 2
        {
            r.xcc.push(*ip);
            r.reasons.push(format!("XCC is {ip}: {}", why.join("; ")));
        }
    }
    if r.pbx.is_empty() && !r.xcc.is_empty() {
        let mut peers: BTreeMap<IpAddr, u32> = BTreeMap::new();
        let mut hint = None;
        for c in calls {
            for t in &c.invites {
                if r.xcc.contains(&t.dst.ip()) && !r.xcc.contains(&t.src.ip()) {
                    *peers.entry(t.src.ip()).or_default() += 1;
                }
                if let Some(a) = t.user_agent.as_deref().filter(|a| agent_says_pbx(a)) {
                    hint = Some((t.src.ip(), a.to_string()));
                }
            }
        }
        if let Some((ip, a)) = hint {
            r.pbx.push(ip);
            r.reasons.push(format!("PBX is {ip}: User-Agent {a:?}"));
        } else if let Some((ip, n)) = peers.iter().max_by_key(|(_, n)| **n) {
            r.pbx.push(*ip);
            r.reasons
                .push(format!("PBX is {ip}: sends {n} INVITE(s) to XCC"));
        }
    }
    if r.xcc.is_empty() && calls.iter().any(|c| !c.invites.is_empty()) {
        r.reasons.push(
            "XCC not identified: no INVITE with Diversion/History-Info and no XCC User-Agent; give --xcc ADDR[:PORT]".into(),
        );
    }
    r
}

fn dedup(it: impl Iterator<Item = IpAddr>) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = it.collect();
    v.sort();
    v.dedup();
    v
}

fn show(e: &Endpoint) -> String {
    match e.port {
        Some(p) => SocketAddr::new(e.ip, p).to_string(),
        None => e.ip.to_string(),
    }
}

/// A call's role in a Follow-Me scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LegKind {
    /// PBX → XCC: the forwarded call.
    First,
    /// XCC → PBX: XCC's call to the user's device.
    Second,
    Other,
}

/// Leg kinds and links between first and second legs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Legs {
    pub kind: HashMap<String, LegKind>,
    /// (first-leg Call-ID, second-leg Call-ID).
    pub links: Vec<(String, String)>,
}

impl Legs {
    pub fn kind_of(&self, call_id: &str) -> LegKind {
        self.kind.get(call_id).copied().unwrap_or(LegKind::Other)
    }

    /// Call-IDs linked to `call_id` (the other leg(s)).
    pub fn linked(&self, call_id: &str) -> Vec<String> {
        self.links
            .iter()
            .filter_map(|(a, b)| {
                if a == call_id {
                    Some(b.clone())
                } else if b == call_id {
                    Some(a.clone())
                } else {
                    None
                }
            })
            .collect()
    }
}

/// How long after the first leg's final response a second leg may still start.
const LINK_WINDOW_SECS: f64 = 5.0;

/// Classifies legs and links each second leg to the first leg that caused it.
pub fn link_legs(calls: &[Call], roles: &Roles) -> Legs {
    let mut legs = Legs::default();
    for c in calls {
        let kind = match c.initial_invite() {
            Some(t) if roles.is_xcc(&t.dst) && !roles.is_xcc(&t.src) => LegKind::First,
            Some(t) if roles.is_xcc(&t.src) && !roles.is_xcc(&t.dst) => LegKind::Second,
            _ => LegKind::Other,
        };
        legs.kind.insert(c.call_id.clone(), kind);
    }
    let firsts: Vec<&Call> = calls
        .iter()
        .filter(|c| legs.kind_of(&c.call_id) == LegKind::First)
        .collect();
    let seconds: Vec<&Call> = calls
        .iter()
        .filter(|c| legs.kind_of(&c.call_id) == LegKind::Second)
        .collect();
    for second in seconds {
        let Some(st) = second.initial_invite() else {
            continue;
        };
        let caller = st.from.as_ref().and_then(|f| f.user.clone());
        let best = firsts
            .iter()
            .filter_map(|f| {
                let ft = f.initial_invite()?;
                let start = st.request_time.seconds_since(ft.request_time);
                let end = ft
                    .final_time
                    .map(|t| st.request_time.seconds_since(t))
                    .unwrap_or(f64::NEG_INFINITY);
                if start < -0.5 || end > LINK_WINDOW_SECS {
                    return None;
                }
                let same_caller =
                    caller.is_some() && ft.from.as_ref().and_then(|f| f.user.clone()) == caller;
                // Prefer the same caller, then the most recent first leg.
                Some((!same_caller, (start * 1000.0) as i64, f.call_id.clone()))
            })
            .min();
        if let Some((_, _, first)) = best {
            legs.links.push((first, second.call_id.clone()));
        }
    }
    legs
}
