//! The `ipo-route` command: replays IP Office's incoming SIP call routing for one call
//! described by flags (`--dry-run`) or for every INVITE of captures sent to the IP
//! Office's addresses, and compares the replay with what the capture shows.
//!
//! Input: the configuration file, flags or captures. Output: [`RouteRow`]s, rendered.
//! Invariants: captures are read once, into calls; the replay over them is the one the
//! IPO rules of `analyze` use (`ipoffice::replay`), so both say the same.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;

use crate::calls::CallSet;
use crate::cli::{IpoRouteArgs, IpoTransport, ReportFormat};
use crate::ipoffice::replay::replay_calls;
use crate::ipoffice::{self, Config, Decision, InviteFacts, Load, LocalTime, SipAddr, Transport};
use crate::report::ipo_route::{self as render, RouteRow};

use super::{scan_all, write_out};

/// Reads and validates the configuration file; under `--redact`, rewritten with the
/// run's key so that it matches the redacted capture.
pub(crate) fn load_config(path: &str) -> anyhow::Result<Config> {
    let mut cfg = read_config(path)?;
    crate::redact::ipo_config(&mut cfg, &mut []);
    Ok(cfg)
}

fn read_config(path: &str) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{path}: cannot read the IP Office configuration"))?;
    Config::from_toml(&text).map_err(|e| anyhow::anyhow!("{path}: {e}"))
}

pub(crate) fn ipo_route(args: &IpoRouteArgs) -> anyhow::Result<u8> {
    let mut cfg = read_config(&args.config)?;
    // `--busy` names parties as the configuration file does: tokenised with it.
    let mut busy = args.busy.clone();
    crate::redact::ipo_config(&mut cfg, &mut busy);
    let (rows, errors) = if args.dry_run {
        let mut load = Load::default();
        load.busy.extend(busy.iter().cloned());
        (vec![dry_run(args, &cfg, &load)?], Vec::new())
    } else {
        replay_captures(&args.captures, &cfg, &busy)
    };
    let text = match args.format {
        ReportFormat::Html => anyhow::bail!("--format html: only `sipdiag analyze` writes HTML"),
        ReportFormat::Json => render::json(&rows),
        ReportFormat::Markdown => render::markdown(&rows),
        ReportFormat::Table => render::table(&rows, crate::report::terminal_width()),
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

/// Scans the captures into calls and replays every initial INVITE to the system's
/// addresses (see `ipoffice::replay`).
fn replay_captures(
    paths: &[String],
    cfg: &Config,
    busy: &[String],
) -> (Vec<RouteRow>, Vec<crate::capture::CaptureError>) {
    let mut set = CallSet::default();
    let (mut reports, errors) = scan_all(paths, &mut set);
    set.finish(&mut reports, paths);
    let calls = set.calls;
    let rows = replay_calls(&calls, &cfg.system.addresses, Some(cfg), busy)
        .into_iter()
        .filter_map(|r| {
            let (d, at) = r.decision?;
            let c = &calls[r.call];
            let mut row = row(d, at, &r.facts);
            row.invite_frame = Some(c.invites[r.invite].request_frame);
            row.call_id = Some(c.call_id.clone());
            row.observed = Some(r.observed);
            row.agrees = r.agrees;
            Some(row)
        })
        .collect();
    (rows, errors)
}

/// What the IPO rules see of `calls` judged as they end, when no address or
/// configuration is given: the IP Office addresses the capture's calls identified by
/// their Server/User-Agent (`known`: the addresses and why), and the replay of each
/// INVITE to them.
pub(crate) fn ipo_context_known(
    calls: &[crate::calls::Call],
    known: &(Vec<IpAddr>, Vec<String>),
) -> crate::rules::ipo::IpoContext {
    let (addresses, reasons) = known.clone();
    let replays = replay_calls(calls, &addresses, None, &[]);
    crate::rules::ipo::IpoContext {
        addresses,
        reasons,
        configured: false,
        replays,
    }
}

/// What the IPO rules of `analyze` see: the IP Office's addresses (given, from the
/// configuration, or from its Server/User-Agent) and the replay of each INVITE to them.
pub(crate) fn ipo_context(
    calls: &[crate::calls::Call],
    given: &[IpAddr],
    cfg: Option<&Config>,
) -> crate::rules::ipo::IpoContext {
    // `--redact`: the given addresses as they read in the redacted capture (a
    // configuration's are already rewritten when loaded).
    let mut addresses: Vec<_> = given.iter().map(|a| crate::redact::ip(*a)).collect();
    if let Some(cfg) = cfg {
        for a in &cfg.system.addresses {
            if !addresses.contains(a) {
                addresses.push(*a);
            }
        }
    }
    let (addresses, reasons) = crate::ipoffice::replay::ipo_addresses(calls, &addresses);
    let replays = replay_calls(calls, &addresses, cfg, &[]);
    crate::rules::ipo::IpoContext {
        addresses,
        reasons,
        configured: cfg.is_some(),
        replays,
    }
}
