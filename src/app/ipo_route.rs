//! The `ipo-route` command: replays IP Office's incoming SIP call routing for one call
//! described by flags (`--dry-run`) or for every INVITE of captures sent to the IP
//! Office's addresses, and compares the replay with what the capture shows.
//!
//! Input: the configuration file, flags or captures. Output: [`RouteRow`]s, rendered.
//! Invariants: captures are read once, into calls; the replay over them is the one the
//! IPO rules of `analyze` use (`ipoffice::replay`), so both say the same.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;

use crate::calls::Call;
use crate::calls::retire::Retiring;
use crate::cli::{IpoRouteArgs, IpoTransport, ReportFormat};
use crate::ipoffice::replay::{Replaying, replay_calls};
use crate::ipoffice::{self, Config, Decision, InviteFacts, Load, LocalTime, SipAddr, Transport};
use crate::report::ipo_route::{RouteFormat, RouteRow, RouteSpool};

use crate::capture::merge::FrameIndex;

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
    let format = match args.format {
        ReportFormat::Html => anyhow::bail!("--format html: only `sipdiag analyze` writes HTML"),
        ReportFormat::Json => RouteFormat::Json,
        ReportFormat::Markdown => RouteFormat::Markdown,
        ReportFormat::Table => RouteFormat::Table(crate::report::terminal_width()),
    };
    let mut spool = RouteSpool::new(format);
    let (errors, index) = if args.dry_run {
        let mut load = Load::default();
        load.busy.extend(busy.iter().cloned());
        spool.push(0, &dry_run(args, &cfg, &load)?)?;
        (Vec::new(), None)
    } else {
        replay_captures(&args.captures, &cfg, &busy, &mut spool)?
    };
    let mut out = std::io::stdout().lock();
    spool.write(&mut out)?;
    // Several files: how their frames are numbered (the text reports).
    if !matches!(format, RouteFormat::Json) {
        super::calls::numbering(index.as_ref(), &mut out)?;
    }
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

/// Scans the captures (several merged by time, as `analyze` reads them: a packet seen at
/// two capture points once) and replays every initial INVITE to the system's addresses
/// as it comes (see `ipoffice::replay`): each call's rows go to `spool` when it retires,
/// so that only the calls in progress are held. The index of the merged numbers beside
/// the errors.
fn replay_captures(
    paths: &[String],
    cfg: &Config,
    busy: &[String],
    spool: &mut RouteSpool,
) -> anyhow::Result<(Vec<crate::capture::CaptureError>, Option<FrameIndex>)> {
    let mut routes = Routes {
        calls: Retiring::default(),
        replaying: Replaying::new(cfg.clone(), cfg.system.addresses.clone(), busy),
        spool,
        failed: None,
    };
    // The replay reads no SDP.
    routes.calls.without_sdp();
    let (_, errors, index) = super::merged::scan_captures(paths, &mut routes, None);
    routes.finish();
    if let Some(e) = routes.failed {
        return Err(
            anyhow::Error::new(e).context("cannot keep the rows in the temporary directory")
        );
    }
    Ok((errors, index))
}

/// The calls in progress, the replay, and where the rows of the calls retired go.
struct Routes<'a> {
    calls: Retiring,
    replaying: Replaying,
    spool: &'a mut RouteSpool,
    /// The spool could not write to the temporary directory.
    failed: Option<std::io::Error>,
}

impl Routes<'_> {
    /// The rows of call `c`, retired, each filed at the frame of its INVITE.
    fn file(&mut self, c: &Call) {
        for r in self.replaying.replays(std::slice::from_ref(c)) {
            let Some((d, at)) = r.decision else {
                continue;
            };
            let frame = c.invites[r.invite].request_frame;
            let mut row = row(d, at, &r.facts);
            row.invite_frame = Some(frame);
            row.call_id = Some(c.call_id.clone());
            row.observed = Some(r.observed);
            row.agrees = r.agrees;
            if let Err(e) = self.spool.push(frame, &row) {
                self.failed.get_or_insert(e);
            }
        }
    }

    /// The input has ended: the calls in progress retire.
    fn finish(&mut self) {
        let calls: Vec<Call> = self.calls.finish().map(|(_, c)| c).collect();
        for c in calls {
            self.file(&c);
        }
    }
}

impl super::Sink for Routes<'_> {
    fn capture_start(&mut self, index: usize) {
        self.calls.capture_starts(index);
    }

    fn message(&mut self, m: crate::sip::SipMessage) {
        self.replaying.add(&mut self.calls, m);
        let retired: Vec<Call> = self.calls.take_retired().map(|(_, c)| c).collect();
        for c in retired {
            self.replaying.retired(&c);
            self.file(&c);
        }
    }
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
    let addresses = configured_addresses(given, cfg);
    let (addresses, reasons) = crate::ipoffice::replay::ipo_addresses(calls, &addresses);
    let replays = replay_calls(calls, &addresses, cfg, &[]);
    crate::rules::ipo::IpoContext {
        addresses,
        reasons,
        configured: cfg.is_some(),
        replays,
    }
}

/// The IP Office addresses given (`--ipo`) and those of the configuration.
fn configured_addresses(given: &[IpAddr], cfg: Option<&Config>) -> Vec<IpAddr> {
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
    addresses
}

/// The replay with a configuration of a reading that lets calls go as they end
/// ([`Replaying`]): when the IP Office's addresses are known before the capture is read
/// (given, or in the configuration); `None` without a configuration, or when only the
/// capture's calls can tell the addresses (the calls are then held).
pub(crate) fn replaying(given: &[IpAddr], cfg: Option<&Config>) -> Option<Replaying> {
    let addresses = configured_addresses(given, cfg);
    let cfg = cfg?;
    (!addresses.is_empty()).then(|| Replaying::new(cfg.clone(), addresses, &[]))
}

/// What the IPO rules see of a unit of calls judged with the replay of a reading that
/// lets calls go ([`replaying`]): the addresses known before, and `replays`.
pub(crate) fn ipo_context_replayed(
    given: &[IpAddr],
    cfg: Option<&Config>,
    replays: Vec<crate::ipoffice::replay::CallReplay>,
) -> crate::rules::ipo::IpoContext {
    crate::rules::ipo::IpoContext {
        replays,
        ..ipo_context(&[], given, cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;
    use crate::sip::message::{Provenance, parse_message};

    /// `text` in `frame` at `secs` (a request from XCC at 10.0.0.1, a response from the
    /// IP Office at 10.0.0.2).
    fn message(frame: u64, secs: i64, text: &str) -> crate::sip::SipMessage {
        let request = !text.starts_with("SIP/2.0");
        let (xcc, ipo) = (
            "10.0.0.1:5060".parse().unwrap(),
            "10.0.0.2:5060".parse().unwrap(),
        );
        let p = Provenance {
            frame,
            frames: Vec::new(),
            time: Timestamp::new(1_700_000_000 + secs, 0),
            src: if request { xcc } else { ipo },
            dst: if request { ipo } else { xcc },
            transport: crate::net::Transport::Udp,
        };
        parse_message(text.as_bytes(), p, true).expect("a SIP message")
    }

    /// Call `id`'s `start` line with its CSeq (`INVITE`: no To tag).
    fn text(id: u32, start: &str, cseq: &str) -> String {
        let tag = if cseq.ends_with("INVITE") && !start.starts_with("SIP") {
            String::new()
        } else {
            ";tag=b".to_string()
        };
        format!(
            "{start}\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK{id}-{cseq_n}\r\n\
             From: <sip:100@10.0.0.1>;tag=a\r\nTo: <sip:anna@10.0.0.2>{tag}\r\n\
             Call-ID: call-{id}\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n",
            cseq_n = cseq.split(' ').next().unwrap_or("1"),
        )
    }

    /// example.toml with its IP Office at 10.0.0.2 and XCC (line 18, one session for
    /// `anna`'s URI) at 10.0.0.1.
    fn config() -> Config {
        let text = include_str!("../../testdata/ipoffice/example.toml")
            .replace("addresses = [\"127.0.0.10\"]", "addresses = [\"10.0.0.2\"]")
            .replace(
                "itsp_proxy = [\"127.0.0.20\"]",
                "itsp_proxy = [\"10.0.0.1\"]",
            );
        Config::from_toml(&text).expect("the configuration")
    }

    /// 1,000 calls one after another on line 18's single session, each hung up before the
    /// next: each is routed (its BYE freed the session), the replay keeps only the calls
    /// in progress; then two calls at once: the second is busy.
    #[test]
    fn the_replay_as_calls_come_frees_sessions_and_keeps_only_calls_in_progress() {
        let cfg = config();
        // Rows in memory up to 512 KiB: 1,002 rows of about 2 KiB go to the spool's file.
        let mut spool = RouteSpool::new(RouteFormat::Json);
        let mut routes = Routes {
            calls: Retiring::default(),
            replaying: Replaying::new(cfg.clone(), cfg.system.addresses.clone(), &[]),
            spool: &mut spool,
            failed: None,
        };
        let mut frame = 0;
        let mut send = |routes: &mut Routes, secs: i64, text: String| {
            frame += 1;
            super::super::Sink::message(routes, message(frame, secs, &text));
        };
        let mut peak = 0;
        for id in 0..1000u32 {
            let t = i64::from(id) * 60;
            send(
                &mut routes,
                t,
                text(id, "INVITE sip:anna@10.0.0.2 SIP/2.0", "1 INVITE"),
            );
            send(&mut routes, t, text(id, "SIP/2.0 200 OK", "1 INVITE"));
            send(
                &mut routes,
                t,
                text(id, "ACK sip:anna@10.0.0.2 SIP/2.0", "1 ACK"),
            );
            send(
                &mut routes,
                t + 1,
                text(id, "BYE sip:anna@10.0.0.2 SIP/2.0", "2 BYE"),
            );
            send(&mut routes, t + 1, text(id, "SIP/2.0 200 OK", "2 BYE"));
            peak = peak
                .max(routes.replaying.waiting())
                .max(routes.calls.live());
        }
        // Two calls at once, neither hung up.
        let t = 1000 * 60;
        for id in [1000, 1001] {
            send(
                &mut routes,
                t,
                text(id, "INVITE sip:anna@10.0.0.2 SIP/2.0", "1 INVITE"),
            );
        }
        assert!(peak <= 2, "the replay kept {peak} calls");
        routes.finish();
        assert_eq!(routes.replaying.waiting(), 0);
        assert!(routes.failed.is_none());
        let mut out = Vec::new();
        spool.write(&mut out).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
        let routes = json["routes"].as_array().unwrap();
        let outcomes: Vec<&str> = routes
            .iter()
            .map(|r| r["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes.len(), 1002);
        assert!(
            outcomes[..1001].iter().all(|o| *o == "routed"),
            "{outcomes:?}"
        );
        assert_eq!(outcomes[1001], "busy");
        assert_eq!(routes[1001]["response"], 503);
        let frames: Vec<u64> = routes
            .iter()
            .map(|r| r["invite_frame"].as_u64().unwrap())
            .collect();
        assert!(frames.windows(2).all(|w| w[0] < w[1]), "in capture order");
    }
}
