//! What happened, before why: the run's counts, one verdict per call or Follow-Me pair,
//! each call's media, and findings grouped by rule and cause.
//!
//! Input: the calls, their legs, the media report and the findings. Output: plain data
//! ([`Counts`], [`Verdict`], [`LegMedia`], [`FindingGroup`]) that the renderers print and
//! JSON carries. A suggestion that serves many findings (the XccDiversionPattern proven on
//! every observed number) is kept once and referenced by index.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::calls::Call;
use crate::calls::legs::{LegKind, Legs};
use crate::media::{MediaReport, NotJudged};
use crate::rules::{Finding, Severity};

/// Counts of the run, beside the findings' severities.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Counts {
    /// Call-IDs with an INVITE.
    pub calls: usize,
    /// First legs linked to a second leg.
    pub followme_linked: usize,
    /// INVITE dialogs answered 2xx.
    pub answered: usize,
    /// INVITE dialogs with a final failure (300 or more).
    pub failed: usize,
    /// INVITE dialogs with no final response in the capture.
    pub unanswered: usize,
    /// Failed dialogs by final status.
    pub failed_by_status: BTreeMap<u16, usize>,
    /// Findings by rule id.
    pub findings_by_rule: BTreeMap<String, usize>,
    /// RTP streams in the capture.
    pub rtp_streams: usize,
    /// ICE sessions (softphone media) and how many of them had a check answered.
    pub ice_sessions: usize,
    pub ice_connected: usize,
}

impl Counts {
    /// Adds the call counts of `other` (calls judged a few at a time): calls, linked
    /// Follow-Me calls, answers and failures; not the findings nor the media, counted
    /// over the whole capture.
    pub fn add_calls(&mut self, other: &Counts) {
        self.calls += other.calls;
        self.followme_linked += other.followme_linked;
        self.answered += other.answered;
        self.failed += other.failed;
        self.unanswered += other.unanswered;
        for (status, n) in &other.failed_by_status {
            *self.failed_by_status.entry(*status).or_default() += n;
        }
    }
}

/// One leg's RTP in one direction.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LegMedia {
    pub src: String,
    pub dst: String,
    pub codec: Option<String>,
    pub packets: u64,
    pub lost: i64,
    /// Lost packets in percent of the expected ones.
    pub loss_percent: f64,
    /// Interarrival jitter at the end of the stream (RFC 3550 §A.8), milliseconds.
    pub jitter_ms: f64,
    pub first_frame: u64,
}

/// The RTP streams a call's SDP announced, both directions.
pub fn leg_media(call: &Call, media: &MediaReport) -> Vec<LegMedia> {
    let mut streams: Vec<&crate::media::RtpStream> = media.rtp_of_call(&call.call_id).collect();
    // A stream between two of its addresses filed under another call's SDP (B2BUA legs
    // bridged to direct media) is this call's too.
    let others = crate::media::analysis::streams_of_other_sdp(call, media);
    if !others.is_empty() {
        streams.extend(others);
        // In report order, as the call's own are.
        streams.sort_by_key(|s| (s.first_frame, s.src, s.dst, s.ssrc));
    }
    streams
        .into_iter()
        .map(|s| LegMedia {
            src: addr_text(s.src),
            dst: addr_text(s.dst),
            codec: s.codec.as_ref().map(|c| c.to_string()),
            packets: s.packets,
            lost: s.lost,
            loss_percent: (s.loss_fraction() * 1000.0).round() / 10.0,
            jitter_ms: (s.jitter_ms * 100.0).round() / 100.0,
            first_frame: s.first_frame,
        })
        .collect()
}

/// `a.b.c.d:port` as `SocketAddr`'s `Display` writes it, without the formatting machinery
/// for IPv4 (each call's streams are written twice: for its verdict and for its row).
fn addr_text(a: std::net::SocketAddr) -> String {
    let std::net::SocketAddr::V4(v4) = a else {
        return a.to_string();
    };
    let mut out = String::with_capacity(21);
    let mut digits = itoa::Buffer::new();
    for (i, octet) in v4.ip().octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(digits.format(octet));
    }
    out.push(':');
    out.push_str(digits.format(v4.port()));
    out
}

/// `RTP both ways (PCMA, 0 % loss)`, `RTP one way only (…)`, `no RTP`; `RTP one way, as
/// its SDP asked (…)` when the call's SDP was not sendrecv (`one_way_asked`: sendonly or
/// recvonly, a call on hold; asked only for one-way RTP), so that no one takes it for
/// one-way audio.
fn media_text(m: &[LegMedia], one_way_asked: impl FnOnce() -> bool) -> String {
    if m.is_empty() {
        return "no RTP".into();
    }
    // Each codec once, whichever case the SDPs spelled it in ("PCMA" and "pcma").
    let mut codecs: Vec<&str> = m.iter().filter_map(|s| s.codec.as_deref()).collect();
    codecs.sort_unstable();
    let mut named: Vec<&str> = Vec::new();
    codecs.retain(|c| {
        let first = !named.iter().any(|n| n.eq_ignore_ascii_case(c));
        named.push(c);
        first
    });
    let worst = m.iter().map(|s| s.loss_percent).fold(0.0, f64::max);
    // A loss measured on a stream too short for SP006 to judge (a few packets captured of
    // many sent) is said to be so: an OK verdict beside "97 % loss" reads as a contradiction.
    let short = (m.iter())
        .filter(|s| s.loss_percent == worst && worst > 0.0)
        .find(|s| s.packets < crate::rules::sp006_rtp_loss::MIN_PACKETS);
    let ways = {
        let mut pairs: Vec<(&str, &str)> =
            m.iter().map(|s| (s.src.as_str(), s.dst.as_str())).collect();
        pairs.sort_unstable();
        pairs.dedup();
        let both = pairs.iter().any(|(a, b)| pairs.contains(&(*b, *a)));
        match (both, both || one_way_asked()) {
            (true, _) => "both ways",
            (false, true) => "one way, as its SDP asked",
            (false, false) => "one way only",
        }
    };
    let codec = if codecs.is_empty() {
        String::new()
    } else {
        format!("{}, ", codecs.join("/"))
    };
    match short {
        Some(s) => format!(
            "RTP {ways} ({codec}{worst} % loss on a stream of {} packets, too few to judge)",
            s.packets
        ),
        None => format!("RTP {ways} ({codec}{worst} % loss)"),
    }
}

/// What happened to one call, or to a Follow-Me first leg and the second leg(s) it caused.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Verdict {
    /// No failure and no finding on any of its calls.
    pub ok: bool,
    /// The first leg first.
    pub call_ids: Vec<String>,
    /// The INVITE that opened it.
    pub first_frame: u64,
    /// `leg 1 200, leg 2 200, RTP both ways on both legs (PCMA, 0 % loss)`.
    pub text: String,
    /// Rule ids of the findings on these calls.
    pub rules: Vec<&'static str>,
    /// Neither healthy nor failed: every leg answered and no finding, but the media of a
    /// leg was not judged because a table limit was reached (CAP006 says which). `ok` is
    /// false for it; present only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsure: bool,
}

/// One status of a leg: `503 Service Unavailable (frame 285)`, `no final response`.
fn status_text(c: &Call) -> (String, bool, bool) {
    let last = c.invites.iter().rev().find(|t| t.final_status.is_some());
    match last {
        Some(t) => {
            let s = t.final_status.unwrap_or(0);
            let reason = t.final_reason.as_deref().unwrap_or("");
            let frame = t
                .final_frame
                .map(|f| format!(" (frame {f})"))
                .unwrap_or_default();
            (
                format!("{s} {reason}{frame}").replace("  ", " "),
                (200..300).contains(&s),
                s >= 300,
            )
        }
        None => ("no final response".into(), false, true),
    }
}

/// One verdict per call with an INVITE, second legs folded into their first leg's.
/// A call's media text when its flows were forgotten at the flow table's cap.
pub const NOT_JUDGED: &str = "media not judged: flow table limit reached";
/// The same for a call that went on after SDP or RTP stopped being tracked.
pub const NOT_JUDGED_CUT: &str = "media not judged: media table limit reached";

pub fn verdicts(
    calls: &[Call],
    legs: &Legs,
    media: &MediaReport,
    findings: &[Finding],
) -> Vec<Verdict> {
    verdicts_of(calls, legs, Some(media), findings)
}

/// [`verdicts`]; without media (`None`: not followed, as by `watch`) the verdicts speak of
/// the signalling only.
pub fn verdicts_of(
    calls: &[Call],
    legs: &Legs,
    media: Option<&MediaReport>,
    findings: &[Finding],
) -> Vec<Verdict> {
    let mut rules_of: foldhash::HashMap<&str, Vec<&'static str>> = foldhash::HashMap::default();
    for f in findings {
        if let Some(id) = f.call_id.as_deref() {
            let v = rules_of.entry(id).or_default();
            if !v.contains(&f.id) {
                v.push(f.id);
            }
        }
    }
    // By Call-ID: `calls` may be a selection, so positions in the legs do not apply.
    let by_id: foldhash::HashMap<&str, &Call> =
        calls.iter().map(|c| (c.call_id.as_str(), c)).collect();
    let mut out = Vec::new();
    for c in calls.iter().filter(|c| !c.invites.is_empty()) {
        let kind = legs.kind_of(&c.call_id);
        let linked = legs.linked(&c.call_id);
        // A second leg linked to a first one (in the selection) is told with it.
        if kind == LegKind::Second && linked.iter().any(|id| by_id.contains_key(id.as_str())) {
            continue;
        }
        let mut members: Vec<&Call> = vec![c];
        if kind == LegKind::First {
            members.extend(
                linked
                    .iter()
                    .filter_map(|id| by_id.get(id.as_str()).copied()),
            );
        }
        let mut parts = Vec::new();
        let mut all_ok = true;
        let mut signalling_ok = true;
        let mut not_judged = false;
        let mut rules = Vec::new();
        let mut medias = Vec::new();
        for (n, m) in members.iter().enumerate() {
            let (status, answered, failed) = status_text(m);
            all_ok &= answered && !failed;
            signalling_ok &= answered && !failed;
            let name = if members.len() > 1 {
                format!("leg {} ", n + 1)
            } else {
                String::new()
            };
            parts.push(format!("{name}{status}"));
            for r in rules_of.get(m.call_id.as_str()).into_iter().flatten() {
                if !rules.contains(r) {
                    rules.push(*r);
                }
            }
            if let Some(media) = media.filter(|_| answered) {
                medias.push(match media.why_not_judged(&m.call_id, m.last_frame) {
                    // Its counts may be short (CAP006): neither healthy nor failed.
                    Some(why) => {
                        all_ok = false;
                        not_judged = true;
                        match why {
                            NotJudged::FlowsForgotten => NOT_JUDGED.to_string(),
                            NotJudged::NotTracked => NOT_JUDGED_CUT.to_string(),
                        }
                    }
                    None => media_text(&leg_media(m, media), || {
                        crate::media::analysis::EstablishedCall::of(m)
                            .is_some_and(|e| !e.sendrecv())
                    }),
                });
            }
        }
        if !medias.is_empty() {
            let mut uniq = medias.clone();
            uniq.dedup();
            if uniq.len() == 1 && medias.len() > 1 && uniq[0] == "no RTP" {
                parts.push("no RTP on either leg".into());
            } else if uniq.len() == 1 && medias.len() > 1 {
                parts.push(format!("{} on both legs", uniq[0]));
            } else if medias.len() == 1 {
                parts.push(medias[0].clone());
            } else {
                parts.extend(
                    medias
                        .iter()
                        .enumerate()
                        .map(|(i, m)| format!("leg {}: {m}", i + 1)),
                );
            }
        }
        let ok = all_ok && rules.is_empty();
        out.push(Verdict {
            ok,
            call_ids: members.iter().map(|m| m.call_id.clone()).collect(),
            first_frame: c.invites[0].request_frame,
            text: parts.join(", "),
            unsure: not_judged && signalling_ok && rules.is_empty(),
            rules,
        });
    }
    out
}

/// The run's counts.
pub fn counts(calls: &[Call], legs: &Legs, media: &MediaReport, findings: &[Finding]) -> Counts {
    let mut k = Counts::default();
    for c in calls.iter().filter(|c| !c.invites.is_empty()) {
        k.calls += 1;
        if legs.kind_of(&c.call_id) == LegKind::First && !legs.linked(&c.call_id).is_empty() {
            k.followme_linked += 1;
        }
        match c.final_invite_status() {
            Some((s, _)) if (200..300).contains(&s) => k.answered += 1,
            Some((s, _)) if s >= 300 => {
                k.failed += 1;
                *k.failed_by_status.entry(s).or_default() += 1;
            }
            Some(_) => {}
            None => k.unanswered += 1,
        }
    }
    for f in findings {
        *k.findings_by_rule.entry(f.id.to_string()).or_default() += 1;
    }
    k.rtp_streams = media.rtp.len();
    let sessions = media.ice_sessions();
    k.ice_sessions = sessions.len();
    k.ice_connected = sessions
        .iter()
        .filter(|s| s.sides.iter().any(|side| side.answered > 0))
        .count();
    k
}

/// Findings of one rule with one cause.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FindingGroup {
    pub id: &'static str,
    pub slug: &'static str,
    pub severity: Severity,
    /// The first finding's title when the group has one finding, the rule's summary else.
    pub title: String,
    pub count: usize,
    /// Indexes into `findings`, in report order.
    pub findings: Vec<usize>,
}

/// What makes two findings of a rule "the same cause": the title with its numbers and
/// addresses taken out (`Forwarded number 004930… is international with 00` and
/// `… 00497…` are one cause), and for SIP001 the peer that answered.
pub fn cause(f: &Finding) -> String {
    let mut key = String::with_capacity(f.title.len());
    let mut in_digits = false;
    for ch in f.title.chars() {
        if ch.is_ascii_digit() || (in_digits && matches!(ch, '.' | ':' | '+')) {
            if !in_digits {
                key.push('#');
            }
            in_digits = true;
        } else {
            in_digits = false;
            key.push(ch);
        }
    }
    if f.id == "SIP001" {
        key.push('|');
        key.push_str(f.evidence["dst"].as_str().unwrap_or(""));
        key.push_str(&f.title);
    }
    key
}

/// What grouping reads of a finding: its rule, severity, cause ([`cause`]) and title.
pub struct GroupKey<'f> {
    pub id: &'static str,
    pub slug: &'static str,
    pub severity: Severity,
    pub cause: std::borrow::Cow<'f, str>,
    pub title: &'f str,
}

/// Groups `findings` (in report order) by rule and cause.
pub fn group(findings: &[Finding]) -> Vec<FindingGroup> {
    group_keys(findings.iter().map(|f| GroupKey {
        id: f.id,
        slug: f.slug,
        severity: f.severity,
        cause: cause(f).into(),
        title: &f.title,
    }))
}

/// [`group`] of findings given by what grouping reads of them, in report order.
pub fn group_keys<'f>(findings: impl Iterator<Item = GroupKey<'f>>) -> Vec<FindingGroup> {
    let mut groups: Vec<FindingGroup> = Vec::new();
    let mut at: foldhash::HashMap<(&str, Severity, std::borrow::Cow<'f, str>), usize> =
        foldhash::HashMap::default();
    for (i, f) in findings.enumerate() {
        let key = (f.id, f.severity, f.cause);
        match at.get(&key) {
            Some(&g) => {
                groups[g].count += 1;
                groups[g].findings.push(i);
            }
            None => {
                at.insert(key, groups.len());
                groups.push(FindingGroup {
                    id: f.id,
                    slug: f.slug,
                    severity: f.severity,
                    title: f.title.to_string(),
                    count: 1,
                    findings: vec![i],
                });
            }
        }
    }
    for g in groups.iter_mut().filter(|g| g.count > 1) {
        if let Some(r) = crate::rules::lookup(g.id) {
            g.title = r.info().summary.to_string();
        }
    }
    groups
}

/// The distinct suggestions of `findings` (shared ones once, by identity or equal value)
/// and, per finding, the index of its suggestion.
pub fn shared_suggestions(
    findings: &[Finding],
) -> (Vec<Arc<serde_json::Value>>, Vec<Option<usize>>) {
    share_suggestions(findings.iter().map(|f| f.suggestion.as_ref()))
}

/// [`shared_suggestions`] of findings given by their suggestions, in report order.
pub fn share_suggestions<'f>(
    suggestions: impl Iterator<Item = Option<&'f Arc<serde_json::Value>>>,
) -> (Vec<Arc<serde_json::Value>>, Vec<Option<usize>>) {
    let mut list: Vec<Arc<serde_json::Value>> = Vec::new();
    let refs = suggestions
        .map(|s| {
            let s = s?;
            Some(
                match list.iter().position(|x| Arc::ptr_eq(x, s) || **x == **s) {
                    Some(i) => i,
                    None => {
                        list.push(s.clone());
                        list.len() - 1
                    }
                },
            )
        })
        .collect();
    (list, refs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An address is written as `SocketAddr`'s `Display` writes it.
    #[test]
    fn addresses_are_written_as_display_writes_them() {
        for a in [
            "0.0.0.0:0",
            "10.1.2.3:5060",
            "255.255.255.255:65535",
            "192.168.100.9:49152",
            "[2001:db8::1]:5060",
            "[::ffff:10.0.0.1]:30000",
        ] {
            let a: std::net::SocketAddr = a.parse().expect("an address");
            assert_eq!(addr_text(a), a.to_string());
        }
    }

    fn stream(src: &str, dst: &str, codec: &str) -> LegMedia {
        LegMedia {
            src: src.into(),
            dst: dst.into(),
            codec: Some(codec.into()),
            packets: 100,
            lost: 0,
            loss_percent: 0.0,
            jitter_ms: 0.0,
            first_frame: 1,
        }
    }

    #[test]
    fn a_codec_spelled_in_two_cases_is_named_once() {
        let m = [
            stream("10.0.0.1:4000", "10.0.0.2:6000", "pcma"),
            stream("10.0.0.2:6000", "10.0.0.1:4000", "PCMA"),
        ];
        assert_eq!(media_text(&m, || false), "RTP both ways (PCMA, 0 % loss)");
        let m = [
            stream("10.0.0.1:4000", "10.0.0.2:6000", "speex"),
            stream("10.0.0.2:6000", "10.0.0.1:4000", "H263"),
        ];
        assert_eq!(
            media_text(&m, || false),
            "RTP both ways (H263/speex, 0 % loss)"
        );
    }
}
