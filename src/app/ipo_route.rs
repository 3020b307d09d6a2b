//! The `ipo-route` command: replays IP Office's incoming SIP call routing for one call
//! described by flags (`--dry-run`) or for every INVITE of captures sent to the IP
//! Office's addresses, and compares the replay with what the capture shows.
//!
//! Input: the configuration file, flags or captures. Output: [`RouteRow`]s, rendered.
//! Invariants: captures are read once, in order; sessions in use are counted as calls
//! start and end, so the replay of each INVITE sees the load IP Office saw; memory
//! follows the calls in progress.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use anyhow::Context;

use crate::cli::{IpoRouteArgs, IpoTransport, ReportFormat};
use crate::ipoffice::{
    self, Config, Decision, Entry, InviteFacts, Load, LocalTime, Outcome, SipAddr, Transport,
};
use crate::report::ipo_route::{self as render, Observed, RouteRow};
use crate::sip::SipMessage;

use super::{Sink, scan_all, write_out};

/// Reads and validates the configuration file.
pub(crate) fn load_config(path: &str) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{path}: cannot read the IP Office configuration"))?;
    Config::from_toml(&text).map_err(|e| anyhow::anyhow!("{path}: {e}"))
}

pub(crate) fn ipo_route(args: &IpoRouteArgs) -> anyhow::Result<u8> {
    let cfg = load_config(&args.config)?;
    let mut load = Load::default();
    load.busy.extend(args.busy.iter().cloned());
    let (rows, errors) = if args.dry_run {
        (vec![dry_run(args, &cfg, &load)?], Vec::new())
    } else {
        replay_captures(&args.captures, &cfg, load)
    };
    let text = match args.format {
        ReportFormat::Json => render::json(&rows),
        ReportFormat::Markdown => render::markdown(&rows),
        ReportFormat::Table => render::table(&rows),
    };
    write_out(&text)?;
    super::finish(errors)
}

fn transport(t: IpoTransport) -> Transport {
    match t {
        IpoTransport::Udp => Transport::Udp,
        IpoTransport::Tcp => Transport::Tcp,
        IpoTransport::Tls => Transport::Tls,
    }
}

fn dry_run(args: &IpoRouteArgs, cfg: &Config, load: &Load) -> anyhow::Result<RouteRow> {
    let need = |v: &Option<String>, flag: &str| {
        v.clone().with_context(|| format!("--dry-run needs {flag}"))
    };
    let source = need(&args.source, "--source")?;
    let source: IpAddr = match source.parse::<SocketAddr>() {
        Ok(s) => s.ip(),
        Err(_) => source
            .trim_matches(['[', ']'])
            .parse()
            .with_context(|| format!("--source {source:?} is not IP[:PORT]"))?,
    };
    let transport = transport(args.transport);
    let inv = InviteFacts {
        transport,
        port: args.port.unwrap_or(match transport {
            Transport::Tls => 5061,
            _ => 5060,
        }),
        source,
        request_uri: SipAddr::parse(&need(&args.request_uri, "--request-uri")?),
        to: args.to.as_deref().map(SipAddr::parse),
        from: SipAddr::parse(&need(&args.from, "--from")?),
        via_host: Some(args.via.clone().unwrap_or_else(|| source.to_string())),
    };
    let secs = match &args.at {
        Some(at) => ipoffice::parse_rfc3339(at).with_context(|| {
            format!("--at {at:?} is not an RFC 3339 time (e.g. 2026-12-03T09:30:00+01:00)")
        })?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    };
    let at = LocalTime::from_unix(secs, cfg.system.utc_offset);
    let d = ipoffice::route(cfg, &inv, at, load);
    Ok(row(d, at, &inv))
}

fn row(d: Decision, at: LocalTime, inv: &InviteFacts) -> RouteRow {
    let called = match &inv.to {
        Some(to) if to != &inv.request_uri => format!("{} (To {to})", inv.request_uri),
        _ => inv.request_uri.to_string(),
    };
    RouteRow::new(d, at.to_string(), called, inv.from.to_string())
}

/// An INVITE replayed from a capture, waiting for what IP Office answers.
struct Pending {
    row: usize,
    /// The entry the replay put the call on, while it holds a session.
    session: Option<(u32, Entry)>,
}

/// Collects the INVITEs to the IP Office and its answers, in capture order.
struct Replay<'c> {
    cfg: &'c Config,
    load: Load,
    rows: Vec<RouteRow>,
    /// By Call-ID: the latest initial INVITE's row and CSeq number.
    calls: HashMap<String, (Pending, u32)>,
}

impl Replay<'_> {
    fn is_ipo(&self, a: &SocketAddr) -> bool {
        self.cfg.system.addresses.contains(&a.ip())
    }

    fn invite(&mut self, m: &SipMessage) {
        let Some(call_id) = m.call_id() else { return };
        let cseq = m.cseq().map_or(0, |c| c.seq);
        // Retransmissions and re-INVITEs (a To tag) are not new calls.
        if m.to().is_some_and(|t| t.tag.is_some())
            || self.calls.get(call_id).is_some_and(|c| c.1 == cseq)
        {
            return;
        }
        let transport = match m.transport {
            crate::net::Transport::Tcp => Transport::Tcp,
            crate::net::Transport::Tls => Transport::Tls,
            _ => Transport::Udp,
        };
        let addr = |n: Option<crate::sip::headers::NameAddr>| {
            n.map(|n| SipAddr {
                user: n.user.unwrap_or_default(),
                host: n.host.map(|h| ipoffice::trace::host_only(&h).to_string()),
            })
            .unwrap_or_default()
        };
        let inv = InviteFacts {
            transport,
            port: m.dst.port(),
            source: m.src.ip(),
            request_uri: SipAddr::parse(m.request_uri().unwrap_or("")),
            to: Some(addr(m.to())),
            from: addr(m.from()),
            via_host: m
                .vias()
                .first()
                .map(|v| ipoffice::trace::host_only(&v.sent_by).to_string()),
        };
        let at = LocalTime::from_unix(m.time.secs, self.cfg.system.utc_offset);
        let d = ipoffice::route(self.cfg, &inv, at, &self.load);
        let session = match (&d.outcome, d.line) {
            (Outcome::Routed, Some(line)) => d
                .appearance
                .map(Entry::Appearance)
                .or(d.uri.map(Entry::Uri))
                .map(|e| (line, e)),
            _ => None,
        };
        if let Some(key) = session {
            *self
                .load
                .in_use
                .entry(key)
                .or_insert_with(|| base_in_use(self.cfg, key)) += 1;
        }
        let mut r = row(d, at, &inv);
        r.invite_frame = Some(m.frame);
        r.call_id = Some(call_id.to_string());
        r.observed = Some(Observed {
            response: None,
            frame: None,
        });
        r.agrees = Some(r.outcome == "ignored");
        self.rows.push(r);
        let pending = Pending {
            row: self.rows.len() - 1,
            session,
        };
        if let Some((old, _)) = self.calls.insert(call_id.to_string(), (pending, cseq)) {
            self.release(old.session);
        }
    }

    fn release(&mut self, session: Option<(u32, Entry)>) {
        if let Some(key) = session
            && let Some(n) = self.load.in_use.get_mut(&key)
        {
            *n = n.saturating_sub(1);
        }
    }

    fn response(&mut self, m: &SipMessage, code: u16) {
        let Some(call_id) = m.call_id() else { return };
        let is_invite = m
            .cseq()
            .is_some_and(|c| c.method.eq_ignore_ascii_case("INVITE"));
        let Some((p, cseq)) = self.calls.get_mut(call_id) else {
            return;
        };
        if !is_invite || m.cseq().map_or(0, |c| c.seq) != *cseq {
            return;
        }
        let r = &mut self.rows[p.row];
        let o = r.observed.get_or_insert(Observed {
            response: None,
            frame: None,
        });
        // Keep the final answer; before it, the most telling provisional one.
        let keep = match o.response {
            None => true,
            Some(old) => old < 200 && (code >= 200 || code > old),
        };
        if keep {
            o.response = Some(code);
            o.frame = Some(m.frame);
        }
        r.agrees = Some(agrees(r.outcome, r.response, o.response));
        if code >= 300 {
            let s = p.session.take();
            self.release(s);
        }
    }

    fn ended(&mut self, call_id: &str) {
        if let Some((p, _)) = self.calls.get_mut(call_id) {
            let s = p.session.take();
            self.release(s);
        }
    }
}

/// The sessions an entry has in use before the capture starts (the configuration's).
fn base_in_use(cfg: &Config, (line, e): (u32, Entry)) -> u32 {
    let Some(l) = cfg.lines.iter().find(|l| l.number == line) else {
        return 0;
    };
    match e {
        Entry::Appearance(id) => l
            .appearance
            .iter()
            .find(|a| a.id == id)
            .map_or(0, |a| a.in_use),
        Entry::Uri(id) => l.uri.iter().find(|u| u.id == id).map_or(0, |u| u.in_use),
    }
}

/// Whether what the capture shows is what the replay predicts: ignored → no response at
/// all; busy → that final code with no ringing before; routed → any answer but an
/// immediate Service Busy Response.
pub(crate) fn agrees(outcome: &str, predicted: Option<u16>, seen: Option<u16>) -> bool {
    match (outcome, seen) {
        ("ignored", seen) => seen.is_none(),
        (_, None) => false,
        ("busy", Some(s)) => Some(s) == predicted,
        (_, Some(s)) => !matches!(s, 486 | 503),
    }
}

impl Sink for Replay<'_> {
    fn message(&mut self, m: SipMessage) {
        match (m.method(), m.status()) {
            (Some(method), _) if method.eq_ignore_ascii_case("INVITE") && self.is_ipo(&m.dst) => {
                self.invite(&m)
            }
            (Some(method), _)
                if method.eq_ignore_ascii_case("BYE") || method.eq_ignore_ascii_case("CANCEL") =>
            {
                if let Some(c) = m.call_id() {
                    let c = c.to_string();
                    self.ended(&c);
                }
            }
            (None, Some(code)) if self.is_ipo(&m.src) => self.response(&m, code),
            _ => {}
        }
    }
}

fn replay_captures(
    paths: &[String],
    cfg: &Config,
    load: Load,
) -> (Vec<RouteRow>, Vec<crate::capture::CaptureError>) {
    let mut r = Replay {
        cfg,
        load,
        rows: Vec::new(),
        calls: HashMap::new(),
    };
    let (_, errors) = scan_all(paths, &mut r);
    (r.rows, errors)
}
