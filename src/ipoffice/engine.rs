//! The routing replay: configuration + INVITE facts + time + load → [`Decision`].
//!
//! Input: a validated [`Config`], one call's [`InviteFacts`], the IP Office's local time
//! and the [`Load`] (sessions in use, busy parties). Output: a [`Decision`] with one
//! [`Step`] per comparison. Invariants: pure (no I/O, no clock); every branch of the
//! seed's four stages leaves a step; the outcome is `ignored` only when no line
//! matched, and `busy` carries the matched line's Service Busy Response.

use super::config::{Association, CallRoutingMethod, Config, IncomingCallRoute, Line, LocalUri};
use super::destination::destination;
use super::matching::{CliMatch, LocalTime, NumberMatch, match_cli, match_number};
use super::trace::{Decision, Entry, Failure, InviteFacts, Load, Outcome, Step};

/// The seed sentences (DOMAIN.md, "Avaya IP Office incoming SIP call routing"), one per
/// step kind, quoted in every trace.
pub(crate) mod seed {
    pub const PROTOCOL: &str = "Line matching: protocol (UDP/TCP/TLS) + listening port.";
    pub const ASSOCIATION: &str = "Then Association Method in line-number order; no line → \
        the call is ignored (no response at all).";
    pub const ROUTING_METHOD: &str = "Line call details: Call Routing Method picks To or \
        Request-URI.";
    pub const APPEARANCES: &str = "Matched against SIP Line Appearances first, then SIP URIs \
        in URI order; entries at Max Sessions / Incoming Sessions are skipped.";
    pub const SERVICE_BUSY: &str = "No match → Service Busy Response: 486 Busy Here by \
        default, 503 in some locales.";
    pub const GROUP: &str = "Incoming call route: candidates with the URI's Incoming Group ID.";
    pub const NUMBER_CLI: &str = "Then Incoming Number (blank = any), then Incoming CLI (left \
        partial match for SIP/TEL URIs, exact for IP addresses).";
    pub const PRECISE: &str = "Several matches → the most precise (most criteria, most exact \
        digits rather than wildcards), then the one added first.";
    pub const AUTO_FALLBACK: &str = "No match → for a Local URI \"Auto\", a direct match of the \
        number to an extension; otherwise busy, call dropped.";
    pub const DOT: &str = "Destination `.` = use the received number: Auto = extension/short \
        code, Use Internal Data = SIP name of users then groups.";
    pub const TIME: &str = "Destination: the first pair from the bottom whose time profile is \
        true, else the default.";
    pub const FALLBACK: &str = "If the destination is busy, the fallback.";
}

/// Replays IP Office's routing of one incoming SIP call.
pub fn route(cfg: &Config, inv: &InviteFacts, at: LocalTime, load: &Load) -> Decision {
    let mut d = Decision {
        outcome: Outcome::Ignored,
        failure: None,
        line: None,
        uri: None,
        appearance: None,
        route: None,
        destination: None,
        fallback: None,
        steps: Vec::new(),
    };
    let Some(line) = match_line(cfg, inv, &mut d.steps) else {
        d.failure = Some(Failure::Line);
        return d;
    };
    d.line = Some(line.number);
    let busy = Outcome::Busy {
        response: line.service_busy_response,
    };
    let called = match line.call_routing_method {
        CallRoutingMethod::RequestUri => &inv.request_uri,
        CallRoutingMethod::To => inv.to.as_ref().unwrap_or(&inv.request_uri),
    };
    let number = called.user.as_str();
    d.steps.push(Step {
        step: "uri.called-number",
        compared: format!(
            "line {} Call Routing Method {} → `{number}`",
            line.number,
            match line.call_routing_method {
                CallRoutingMethod::RequestUri => "request-uri",
                CallRoutingMethod::To => "to",
            }
        ),
        result: "match",
        why: format!("the called number is the user part of `{called}`"),
        seed: seed::ROUTING_METHOD,
    });
    let Some((entry, group, local)) = match_entry(line, number, load, &mut d.steps) else {
        d.outcome = busy;
        d.failure = Some(Failure::Uri);
        d.steps.push(Step {
            step: "uri.none",
            compared: format!("`{number}` against line {}'s entries", line.number),
            result: "busy",
            why: format!(
                "no free line appearance or SIP URI takes `{number}`: IP Office answers with \
                 the line's Service Busy Response {}",
                line.service_busy_response
            ),
            seed: seed::SERVICE_BUSY,
        });
        return d;
    };
    match entry {
        Entry::Appearance(id) => d.appearance = Some(id),
        Entry::Uri(id) => d.uri = Some(id),
    }
    let Some((index, nm)) = match_route(cfg, group, number, inv, &mut d.steps) else {
        if local == Some(&LocalUri::Auto)
            && let Some(p) = cfg
                .users
                .iter()
                .chain(&cfg.groups)
                .find(|p| p.extension == number)
        {
            d.steps.push(Step {
                step: "route.auto-extension",
                compared: format!("`{number}` against extensions (Local URI auto)"),
                result: "routed",
                why: format!("no route matched; the number is {}'s extension", p.name),
                seed: seed::AUTO_FALLBACK,
            });
            d.outcome = Outcome::Routed;
            d.destination = Some(p.extension.clone());
            return d;
        }
        d.outcome = busy;
        d.failure = Some(Failure::Route);
        d.steps.push(Step {
            step: "route.none",
            compared: format!("incoming group {group}, number `{number}`"),
            result: "busy",
            why: match local {
                Some(LocalUri::Auto) => format!(
                    "no incoming call route matched and `{number}` is no extension: busy, \
                     call dropped"
                ),
                _ => "no incoming call route matched: busy, call dropped".to_string(),
            },
            seed: seed::AUTO_FALLBACK,
        });
        return d;
    };
    d.route = Some(index);
    destination(
        cfg,
        &cfg.routes[index],
        &nm,
        number,
        local,
        at,
        load,
        &mut d,
    );
    if let Outcome::Busy { .. } = d.outcome {
        d.outcome = busy;
    }
    d
}

/// Stage 1: protocol and port, then association in line-number order.
fn match_line<'c>(cfg: &'c Config, inv: &InviteFacts, steps: &mut Vec<Step>) -> Option<&'c Line> {
    let mut lines: Vec<&Line> = cfg.lines.iter().collect();
    lines.sort_by_key(|l| l.number);
    let listed = lines
        .iter()
        .map(|l| format!("{} {}:{}", l.number, l.transport, l.port()))
        .collect::<Vec<_>>()
        .join(", ");
    let same: Vec<&Line> = lines
        .into_iter()
        .filter(|l| l.transport == inv.transport && l.port() == inv.port)
        .collect();
    steps.push(Step {
        step: "line.protocol",
        compared: format!(
            "INVITE {}:{} against lines [{listed}]",
            inv.transport, inv.port
        ),
        result: if same.is_empty() { "no-match" } else { "match" },
        why: if same.is_empty() {
            "no SIP line listens with this transport on this port: the call is ignored".into()
        } else {
            format!(
                "lines {} listen with this transport and port",
                same.iter()
                    .map(|l| l.number.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        seed: seed::PROTOCOL,
    });
    for l in &same {
        let tried: Vec<(Association, bool, String)> = l
            .association
            .iter()
            .map(|&a| {
                let (ok, what) = associate(l, a, inv);
                (a, ok, what)
            })
            .collect();
        let hit = tried.iter().find(|t| t.1);
        steps.push(Step {
            step: "line.association",
            compared: format!(
                "line {}: {}",
                l.number,
                tried
                    .iter()
                    .map(|t| format!("{} {}", t.0, t.2))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            result: if hit.is_some() { "match" } else { "no-match" },
            why: match hit {
                Some(t) => format!("line {} is associated by {}", l.number, t.0),
                None => format!("no association method of line {} matches", l.number),
            },
            seed: seed::ASSOCIATION,
        });
        if hit.is_some() {
            return Some(l);
        }
    }
    if !same.is_empty() {
        steps.push(Step {
            step: "line.none",
            compared: format!("source {}", inv.source),
            result: "ignored",
            why: "no line's association method matches the call: the call is ignored".into(),
            seed: seed::ASSOCIATION,
        });
    }
    None
}

/// One association method: whether it holds and what was compared.
fn associate(l: &Line, a: Association, inv: &InviteFacts) -> (bool, String) {
    let domain = l.itsp_domain.as_str();
    let host_is = |h: Option<&str>, what: &str| {
        let h = h.unwrap_or("");
        let ok = !domain.is_empty() && h.eq_ignore_ascii_case(domain);
        (ok, format!("{what} `{h}` vs itsp_domain `{domain}`"))
    };
    match a {
        Association::Any => (true, "(any call)".into()),
        Association::SourceIp => {
            let src = inv.source.to_string();
            let ok = l.itsp_proxy.iter().any(|p| {
                p.parse::<std::net::IpAddr>()
                    .map_or(p.eq_ignore_ascii_case(&src), |ip| ip == inv.source)
            }) || (l.itsp_proxy.is_empty()
                && domain.parse::<std::net::IpAddr>().ok() == Some(inv.source));
            (
                ok,
                format!("source {src} vs itsp_proxy [{}]", l.itsp_proxy.join(", ")),
            )
        }
        Association::FromHost => host_is(inv.from.host.as_deref(), "From host"),
        Association::RequestUriHost => host_is(inv.request_uri.host.as_deref(), "R-URI host"),
        Association::ToHost => host_is(
            inv.to.as_ref().unwrap_or(&inv.request_uri).host.as_deref(),
            "To host",
        ),
        Association::ViaHost => {
            let h = inv.via_host.as_deref().unwrap_or("");
            let ok = !h.is_empty()
                && (h.eq_ignore_ascii_case(domain)
                    || l.itsp_proxy.iter().any(|p| p.eq_ignore_ascii_case(h)));
            (
                ok,
                format!(
                    "Via host `{h}` vs itsp_domain `{domain}` / itsp_proxy [{}]",
                    l.itsp_proxy.join(", ")
                ),
            )
        }
    }
}

/// IP Office's default Max Sessions of a SIP URI or appearance.
const DEFAULT_MAX_SESSIONS: u32 = 10;

/// Why an entry is full, if it is.
fn full(
    line: u32,
    e: Entry,
    max: Option<u32>,
    incoming: Option<u32>,
    cfg_in_use: u32,
    load: &Load,
) -> (u32, Option<String>) {
    let used = load.in_use.get(&(line, e)).copied().unwrap_or(cfg_in_use);
    let max = max.unwrap_or(DEFAULT_MAX_SESSIONS);
    if used >= max {
        return (used, Some(format!("{used} in use ≥ max_sessions {max}")));
    }
    match incoming {
        Some(i) if used >= i => (used, Some(format!("{used} in use ≥ incoming_sessions {i}"))),
        _ => (used, None),
    }
}

/// Stage 2: appearances by id, then URIs by id; full entries skipped. Returns the entry,
/// its incoming group, and its Local URI (URIs only).
fn match_entry<'c>(
    line: &'c Line,
    number: &str,
    load: &Load,
    steps: &mut Vec<Step>,
) -> Option<(Entry, u32, Option<&'c LocalUri>)> {
    let mut apps: Vec<_> = line.appearance.iter().collect();
    apps.sort_by_key(|a| a.id);
    for a in apps {
        let e = Entry::Appearance(a.id);
        let same = a.number.eq_ignore_ascii_case(number);
        let (used, why_full) = full(
            line.number,
            e,
            a.max_sessions,
            a.incoming_sessions,
            a.in_use,
            load,
        );
        let (result, why) = match (same, &why_full) {
            (false, _) => (
                "no-match",
                format!("appearance number `{}` ≠ `{number}`", a.number),
            ),
            (true, Some(f)) => ("skipped", format!("matches but is full: {f}")),
            (true, None) => (
                "match",
                format!(
                    "matches, {used} in use: incoming group {}",
                    a.incoming_group
                ),
            ),
        };
        steps.push(Step {
            step: "uri.appearance",
            compared: format!("appearance {} `{}` vs `{number}`", a.id, a.number),
            result,
            why,
            seed: seed::APPEARANCES,
        });
        if result == "match" {
            return Some((e, a.incoming_group, None));
        }
    }
    let mut uris: Vec<_> = line.uri.iter().collect();
    uris.sort_by_key(|u| u.id);
    for u in uris {
        let e = Entry::Uri(u.id);
        let same = match &u.local_uri {
            LocalUri::Exact(s) => s.eq_ignore_ascii_case(number),
            _ => true,
        };
        let (used, why_full) = full(
            line.number,
            e,
            u.max_sessions,
            u.incoming_sessions,
            u.in_use,
            load,
        );
        let (result, why) = match (same, &why_full) {
            (false, _) => (
                "no-match",
                format!("local_uri `{}` ≠ `{number}`", u.local_uri),
            ),
            (true, Some(f)) => ("skipped", format!("matches but is full: {f}")),
            (true, None) => (
                "match",
                format!(
                    "matches, {used} in use: incoming group {}",
                    u.incoming_group
                ),
            ),
        };
        steps.push(Step {
            step: "uri.uri",
            compared: format!("uri {} local_uri `{}` vs `{number}`", u.id, u.local_uri),
            result,
            why,
            seed: seed::APPEARANCES,
        });
        if result == "match" {
            return Some((e, u.incoming_group, Some(&u.local_uri)));
        }
    }
    None
}

/// How precise a matching route is; greater is better (most criteria, most exact digits,
/// longest CLI, then the shorter pattern for a potential match, then the first added).
type Rank = (
    u8,
    usize,
    usize,
    std::cmp::Reverse<usize>,
    std::cmp::Reverse<usize>,
);

fn rank(i: usize, n: &NumberMatch, c: &CliMatch) -> Rank {
    (
        u8::from(!n.blank) + u8::from(!c.blank),
        n.exact,
        c.len,
        std::cmp::Reverse(n.potential_len.unwrap_or(0)),
        std::cmp::Reverse(i),
    )
}

/// Stage 3: line group, incoming number, incoming CLI, most precise.
fn match_route(
    cfg: &Config,
    group: u32,
    number: &str,
    inv: &InviteFacts,
    steps: &mut Vec<Step>,
) -> Option<(usize, NumberMatch)> {
    let candidates: Vec<(usize, &IncomingCallRoute)> = cfg
        .routes
        .iter()
        .enumerate()
        .filter(|(_, r)| r.line_group == group)
        .collect();
    steps.push(Step {
        step: "route.line-group",
        compared: format!("incoming group {group} against each route's line_group"),
        result: if candidates.is_empty() {
            "no-match"
        } else {
            "match"
        },
        why: if candidates.is_empty() {
            format!("no incoming call route has line_group {group}")
        } else {
            format!(
                "line_group {group} in route(s) {}",
                candidates
                    .iter()
                    .map(|c| c.0.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        seed: seed::GROUP,
    });
    let cli_user = inv.from.user.as_str();
    let cli_host = inv.from.host.as_deref();
    // The CLI as IP Office reads it: the From user, or its host when there is no user.
    let caller = if cli_user.is_empty() {
        cli_host.unwrap_or("")
    } else {
        cli_user
    };
    let mut matched: Vec<(Rank, usize, NumberMatch)> = Vec::new();
    for (i, r) in candidates {
        let n = match_number(&r.incoming_number, number);
        let c = match_cli(&r.incoming_cli, cli_user, cli_host);
        let compared = format!(
            "route {i}: incoming_number `{}` vs `{number}`, incoming_cli `{}` vs `{}`",
            r.incoming_number, r.incoming_cli, caller
        );
        let (result, why) = match (&n, &c) {
            (None, _) => ("no-match", "the incoming number differs".to_string()),
            (Some(_), None) => ("no-match", "the caller's CLI differs".to_string()),
            (Some(n), Some(c)) => (
                "match",
                format!(
                    "{} criteria, {} exact digit(s){}, CLI {}",
                    u8::from(!n.blank) + u8::from(!c.blank),
                    n.exact,
                    match n.potential_len {
                        Some(_) => " (number shorter than the pattern: potential match)",
                        None => "",
                    },
                    if c.blank {
                        "any".to_string()
                    } else {
                        format!("{} character(s)", c.len)
                    }
                ),
            ),
        };
        steps.push(Step {
            step: "route.candidate",
            compared,
            result,
            why,
            seed: seed::NUMBER_CLI,
        });
        if let (Some(n), Some(c)) = (n, c) {
            matched.push((rank(i, &n, &c), i, n));
        }
    }
    matched.sort_by_key(|m| std::cmp::Reverse(m.0));
    let mut it = matched.into_iter();
    let (best, index, nm) = it.next()?;
    let why = match it.next() {
        None => format!("route {index} is the only match"),
        Some((next, j, _)) => {
            let reason = if best.0 != next.0 {
                format!("more criteria ({} vs {})", best.0, next.0)
            } else if best.1 != next.1 {
                format!("more exact digits ({} vs {})", best.1, next.1)
            } else if best.2 != next.2 {
                format!("a longer CLI match ({} vs {})", best.2, next.2)
            } else if best.3 != next.3 {
                "the shorter Incoming Number for a number shorter than both".to_string()
            } else {
                "added first".to_string()
            };
            format!("route {index} beats route {j}: {reason}")
        }
    };
    steps.push(Step {
        step: "route.select",
        compared: format!("matching routes ranked by precision → route {index}"),
        result: "chosen",
        why,
        seed: seed::PRECISE,
    });
    Some((index, nm))
}
