//! Stage 5: calls and media → [`Finding`]s.
//!
//! One rule per file. Each declares a stable id, a slug, a default severity, a one-line
//! summary and a doc with fixed sections; the same text serves `sipdiag rules`,
//! `sipdiag explain ID`, the README rule table and this rustdoc. Ids are never reused.
//! Rules are pure: they read the [`Context`] and return findings, no I/O.

use std::fmt;

use std::net::SocketAddr;

use serde::Serialize;

use crate::calls::Call;
use crate::calls::legs::{Legs, Roles};
use crate::media::MediaReport;
use crate::numbers::Site;
use crate::sip::CaptureReport;

pub use compare::Seen;
pub use fm002_response_missing::damaged;

mod cap001_capture_damaged;
mod cap002_no_sip;
mod cap003_signalling_encrypted;
mod cap004_reassembly_incomplete;
mod cap005_sip_fragmented;
pub(crate) mod cap006_limit_reached;
mod compare;
pub mod diversions;
mod fm001_no_invite;
mod fm002_diversion_format;
mod fm002_response_missing;
mod fm003_diversion_missing;
mod fm004_diversion_user_unknown;
mod fm005_wrong_trunk;
mod fm006_second_leg_number_rejected;
mod fm007_second_leg_codec_rejected;
mod fm008_second_leg_from_rejected;
mod fm009_second_leg_failed;
mod fm010_invite_unanswered;
mod fm011_second_leg_not_answered;
mod fm012_anydevice_number_length;
mod followme;
pub mod ipo;
mod ipo001_ipo_call_ignored;
mod ipo002_ipo_no_uri_match;
mod ipo003_ipo_no_route;
mod ipo004_ipo_config_mismatch;
mod media_only;
pub mod proof;
mod sip001_invite_failed;
mod sp001_ice_no_response;
mod sp002_ice_one_way;
pub(crate) mod sp003_media_missing;
mod sp004_media_address_mismatch;
mod sp005_rtp_one_way;
pub(crate) mod sp006_rtp_loss;

pub use media_only::check_media;

/// How bad a finding is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// The fixed sections of a rule's documentation.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleDoc {
    pub what: &'static str,
    pub why: &'static str,
    pub fix: &'static str,
    pub example: &'static str,
}

/// A rule's identity and documentation.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleInfo {
    pub id: &'static str,
    pub slug: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub doc: RuleDoc,
}

/// What a rule concluded, with the frames that prove it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub id: &'static str,
    pub slug: &'static str,
    pub severity: Severity,
    pub title: String,
    /// What was seen, why it matters, what to change.
    pub message: String,
    pub call_id: Option<String>,
    /// The capture file the frame numbers refer to (`null` when the finding spans files).
    pub capture: Option<String>,
    /// Wireshark frame numbers, ascending. When several files are read (merged),
    /// `[{"capture":…,"frame":N}]` instead: every sighting of each frame, by file.
    #[schemars(with = "crate::capture::merge::FrameCitations")]
    pub frames: Vec<u64>,
    pub evidence: serde_json::Value,
    /// The header and status lines the finding rests on, verbatim, with their frames.
    pub proof: Vec<proof::Quote>,
    /// Shared by findings that suggest the same change; the report writes each suggestion
    /// once and refers to it by index.
    #[serde(skip)]
    #[schemars(skip)]
    pub suggestion: Option<std::sync::Arc<serde_json::Value>>,
    /// Paste into Wireshark's display filter to see the evidence.
    pub wireshark_filter: String,
    /// What the suggestion and message still need from the whole capture (FM002's
    /// XccDiversionPattern; see [`diversions`]).
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) pending: Option<Box<diversions::Pending>>,
}

impl Finding {
    /// A finding of `rule` with its default severity; frames are sorted and deduplicated.
    pub fn new(rule: &RuleInfo, title: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            id: rule.id,
            slug: rule.slug,
            severity: rule.severity,
            title: title.into(),
            message: message.into(),
            call_id: None,
            capture: None,
            frames: Vec::new(),
            evidence: serde_json::Value::Object(Default::default()),
            proof: Vec::new(),
            suggestion: None,
            wireshark_filter: String::new(),
            pending: None,
        }
    }

    pub fn capture(mut self, path: &str) -> Self {
        self.capture = Some(path.to_string());
        self
    }

    pub fn call(mut self, call_id: &str) -> Self {
        self.call_id = Some(call_id.to_string());
        self
    }

    pub fn frames(mut self, frames: impl IntoIterator<Item = u64>) -> Self {
        self.frames.extend(frames);
        cited_frames(&mut self.frames);
        if self.wireshark_filter.is_empty() || self.wireshark_filter.starts_with("frame.number") {
            self.wireshark_filter = frame_filter(&self.frames);
        }
        self
    }

    pub fn evidence(mut self, v: serde_json::Value) -> Self {
        self.evidence = v;
        self
    }

    pub fn suggestion(mut self, v: impl Into<std::sync::Arc<serde_json::Value>>) -> Self {
        self.suggestion = Some(v.into());
        self
    }

    pub fn filter(mut self, f: impl Into<String>) -> Self {
        self.wireshark_filter = f.into();
        self
    }
}

/// Frames as a finding cites them: numbered (no 0), ascending, each once.
pub(crate) fn cited_frames(frames: &mut Vec<u64>) {
    frames.retain(|f| *f > 0);
    frames.sort_unstable();
    frames.dedup();
}

/// `frame.number == 7` or `frame.number in {1, 4..6, 9}`: a display filter showing exactly
/// `frames` (ascending). Set elements are comma-separated, which Wireshark requires since
/// 3.6 (4.0 rejects `{1 2}`); runs of three or more consecutive frames become `a..b`
/// ranges (accepted since 2.6) so that a long list stays short.
pub fn frame_filter(frames: &[u64]) -> String {
    let mut v = frames.to_vec();
    v.sort_unstable();
    v.dedup();
    match v.as_slice() {
        [] => String::new(),
        [one] => format!("frame.number == {one}"),
        many => {
            let mut parts: Vec<String> = Vec::new();
            let mut i = 0;
            while i < many.len() {
                let mut j = i;
                while j + 1 < many.len() && many[j + 1] == many[j] + 1 {
                    j += 1;
                }
                if j >= i + 2 {
                    parts.push(format!("{}..{}", many[i], many[j]));
                } else {
                    parts.extend(many[i..=j].iter().map(u64::to_string));
                }
                i = j + 1;
            }
            format!("frame.number in {{{}}}", parts.join(", "))
        }
    }
}

/// `s` as a Wireshark display-filter string literal: in double quotes, with `"` and `\`
/// escaped by a backslash and control characters written `\xhh` (the escapes of
/// Wireshark's string syntax, `wireshark-filter(4)`).
/// A Call-ID may hold any of them (RFC 3261 §25.1: `word` allows `"` and `\`).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The display filter for the UDP to or from any of `addrs` in frames `first..=last` (a
/// call's): on ports a PBX reuses, what other calls sent there earlier or later stays out.
pub(crate) fn udp_between(addrs: &[SocketAddr], (first, last): (u64, u64)) -> String {
    let at = any_of(
        &(addrs.iter())
            .map(|a| crate::media::analysis::addr_filter(*a))
            .collect::<Vec<_>>(),
    );
    format!("({at}) && frame.number >= {first} && frame.number <= {last}")
}

/// The display filter showing what any of `parts` shows: the non-empty parts joined by
/// `||`, each in parentheses where it has operators of its own, so that nothing depends on
/// Wireshark's operator precedence (`a && b || c` is read differently by different users).
pub(crate) fn any_of<S: AsRef<str>>(parts: &[S]) -> String {
    let parts: Vec<&str> = parts
        .iter()
        .map(|p| p.as_ref().trim())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() == 1 {
        return parts[0].to_string();
    }
    parts
        .iter()
        .map(|p| {
            let wrapped = p.starts_with('(') && p.ends_with(')') && !p.contains(") ");
            if !wrapped && (p.contains("&&") || p.contains("||")) {
                format!("({p})")
            } else {
                p.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" || ")
}

/// Everything a rule may look at.
pub struct Context<'a> {
    pub captures: &'a [CaptureReport],
    pub calls: &'a [Call],
    pub roles: &'a Roles,
    pub legs: &'a Legs,
    pub site: &'a Site,
    pub media: &'a MediaReport,
    /// The IP Office replay (empty without an IP Office): see [`ipo::IpoContext`].
    pub ipo: &'a ipo::IpoContext,
    /// What calls outside `calls` showed (empty when `calls` are all the capture's).
    pub seen: &'a Seen,
}

/// What a rule must see before it can conclude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One call with its linked Follow-Me leg: the rule can run as soon as the call has
    /// ended (`sipdiag watch` runs it then).
    Call,
    /// The capture as a whole: its files' anomalies, or several calls compared (the same
    /// trunk's other calls, any INVITE to XCC at all).
    Capture,
    /// The calls' media streams, which are judged once the capture has been read.
    Media,
}

/// A diagnosis rule.
pub trait Rule: Sync {
    fn info(&self) -> &'static RuleInfo;
    /// What the rule must see (see [`Scope`]); most rules look at one call.
    fn scope(&self) -> Scope {
        Scope::Call
    }
    fn check(&self, cx: &Context<'_>) -> Vec<Finding>;
}

/// Every rule, in catalogue order.
pub fn registry() -> Vec<&'static dyn Rule> {
    vec![
        &cap001_capture_damaged::RULE,
        &cap002_no_sip::RULE,
        &cap003_signalling_encrypted::RULE,
        &cap004_reassembly_incomplete::RULE,
        &cap005_sip_fragmented::RULE,
        &cap006_limit_reached::RULE,
        &fm001_no_invite::RULE,
        &fm002_diversion_format::RULE,
        &fm003_diversion_missing::RULE,
        &fm004_diversion_user_unknown::RULE,
        &fm005_wrong_trunk::RULE,
        &fm006_second_leg_number_rejected::RULE,
        &fm007_second_leg_codec_rejected::RULE,
        &fm008_second_leg_from_rejected::RULE,
        &fm009_second_leg_failed::RULE,
        &fm010_invite_unanswered::RULE,
        &fm011_second_leg_not_answered::RULE,
        &fm012_anydevice_number_length::RULE,
        &ipo001_ipo_call_ignored::RULE,
        &ipo002_ipo_no_uri_match::RULE,
        &ipo003_ipo_no_route::RULE,
        &ipo004_ipo_config_mismatch::RULE,
        &sip001_invite_failed::RULE,
        &sp001_ice_no_response::RULE,
        &sp002_ice_one_way::RULE,
        &sp003_media_missing::RULE,
        &sp004_media_address_mismatch::RULE,
        &sp005_rtp_one_way::RULE,
        &sp006_rtp_loss::RULE,
    ]
}

/// Finds a rule by id or slug (case-insensitive).
/// A rule's place in the catalogue ([`registry`] order; an unknown id last): findings of
/// one call and frame are reported in that order.
pub fn catalogue_rank(id: &str) -> usize {
    static RANKS: std::sync::LazyLock<foldhash::HashMap<&'static str, usize>> =
        std::sync::LazyLock::new(|| {
            (registry().iter().enumerate())
                .map(|(i, r)| (r.info().id, i))
                .collect()
        });
    RANKS.get(id).copied().unwrap_or(usize::MAX)
}

pub fn lookup(key: &str) -> Option<&'static dyn Rule> {
    registry()
        .into_iter()
        .find(|r| r.info().id.eq_ignore_ascii_case(key) || r.info().slug.eq_ignore_ascii_case(key))
}

/// Runs every rule; findings sorted by severity (worst first), then first frame.
/// Whether the rules of one unit of calls read, for `cx`'s calls, the trunks that other
/// calls showed working ([`Seen::working_trunks`]): FM004 does for a forwarded INVITE
/// that XCC answered 503 (a 503 on a trunk where no forwarded call worked is FM005's).
pub fn reads_working_trunks(cx: &Context<'_>) -> bool {
    !followme::xcc_503s(cx).is_empty()
}

pub fn run_rules(cx: &Context<'_>, enabled: &dyn Fn(&RuleInfo) -> bool) -> Vec<Finding> {
    run_selected(cx, &|r| enabled(r.info()))
}

/// [`run_rules`] over the rules `enabled` picks (by scope, for instance).
pub fn run_selected(cx: &Context<'_>, enabled: &dyn Fn(&dyn Rule) -> bool) -> Vec<Finding> {
    let rules: Vec<&dyn Rule> = registry().into_iter().filter(|r| enabled(*r)).collect();
    // Rules are independent reads of the same context: two threads, results in
    // catalogue order as on one; a few calls (`watch` judges one at a time) are not worth
    // starting a thread for.
    let check = |i: usize| rules[i].check(cx);
    let per_rule = if cx.calls.len() < 64 {
        (0..rules.len()).map(check).collect()
    } else {
        crate::par::map(rules.len(), check)
    };
    let mut out: Vec<Finding> = per_rule.into_iter().flatten().collect();
    // Media of calls whose flows were forgotten at the flow table's cap is not judged:
    // their counts may be short (CAP006 names them).
    // So is the media of calls that went on after SDP announcements or RTP streams were
    // no longer tracked.
    out.retain(|f| {
        let not_judged = |id: &str| {
            let last = (cx.legs.position(id).and_then(|i| cx.calls.get(i)))
                .filter(|c| c.call_id == id)
                .map_or(u64::MAX, |c| c.last_frame);
            cx.media.not_judged(id, last)
        };
        !(f.id.starts_with("SP") && f.call_id.as_deref().is_some_and(not_judged))
    });
    proof::quote_findings(cx, &mut out);
    if out.iter().any(|f| f.pending.is_some()) {
        let observed = diversions::Diversions::of(cx);
        diversions::complete(&mut out, &observed, cx.site);
        out.extend(observed.limit_finding());
    }
    mark_calls_without_call_id(cx, &mut out);
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.frames.first().cmp(&b.frames.first()))
            .then(a.id.cmp(b.id))
    });
    out
}

/// Findings on calls whose messages carry no Call-ID header (see
/// [`crate::calls::NoCallIdKey`]): `sip.Call-ID == "<made-up key>"` would show nothing in
/// Wireshark, so that part of the filter becomes the group's own filter, and the message
/// says that the Call-ID was missing and how the messages were grouped. Rules need not
/// know: they name calls by key as usual.
fn mark_calls_without_call_id(cx: &Context<'_>, findings: &mut [Finding]) {
    use crate::calls::{NO_CALL_ID_PREFIX, NoCallIdKey};
    let grouped: std::collections::HashMap<&str, &NoCallIdKey> = cx
        .calls
        .iter()
        .filter_map(|c| Some((c.call_id.as_str(), c.no_call_id()?)))
        .collect();
    if grouped.is_empty() {
        return;
    }
    for f in findings {
        let mut keys: Vec<&NoCallIdKey> = Vec::new();
        if let Some(k) = f.call_id.as_deref().and_then(|id| grouped.get(id)) {
            keys.push(k);
        }
        // Lookups by the ids the filter names, so the cost follows the filter's length,
        // not the number of calls.
        if f.wireshark_filter.contains(NO_CALL_ID_PREFIX) {
            for id in filtered_call_ids(&f.wireshark_filter) {
                if let Some(&k) = grouped.get(id.as_str()) {
                    let clause = followme::call_filter(&[&id]);
                    f.wireshark_filter = if f.wireshark_filter == clause {
                        k.wireshark_filter()
                    } else {
                        f.wireshark_filter
                            .replace(&clause, &format!("({})", k.wireshark_filter()))
                    };
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
            }
        }
        for k in keys {
            f.message.push(' ');
            f.message.push_str(&k.note());
        }
    }
}

/// The Call-IDs a filter of [`followme::call_filter`]'s making names, unescaped.
fn filtered_call_ids(filter: &str) -> Vec<String> {
    const FIELD: &str = "sip.Call-ID";
    let mut out = Vec::new();
    let mut rest = filter;
    while let Some(at) = rest.find(FIELD) {
        rest = rest[at + FIELD.len()..].trim_start();
        // `== "id"` or `in {"id", "id"}`, as `call_filter` writes them.
        let set = if let Some(r) = rest.strip_prefix("==") {
            rest = r.trim_start();
            false
        } else if let Some(r) = rest.strip_prefix("in") {
            rest = r.trim_start().strip_prefix('{').unwrap_or(r);
            true
        } else {
            continue;
        };
        loop {
            rest = rest.trim_start_matches([' ', ',']);
            let Some(body) = rest.strip_prefix('"') else {
                break;
            };
            let (id, used) = unquote(body);
            out.push(id);
            rest = &body[used..];
            if !set {
                break;
            }
        }
    }
    out
}

/// The string a Wireshark string literal (after its opening quote) stands for, as
/// [`quote`] escapes it, and the bytes read including the closing quote.
fn unquote(body: &str) -> (String, usize) {
    let mut id = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (id, i + 1),
            '\\' => match chars.next() {
                Some((_, 'x')) => {
                    let hex: String = chars.by_ref().take(2).map(|(_, h)| h).collect();
                    if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        id.push(ch);
                    }
                }
                Some((_, e)) => id.push(e),
                None => {}
            },
            c => id.push(c),
        }
    }
    (id, body.len())
}

/// The doc text of a rule, as `sipdiag explain` prints it.
pub fn explain(info: &RuleInfo) -> String {
    format!(
        "{} {} ({})\n{}\n\nWhat it checks\n  {}\n\nWhy it matters\n  {}\n\nHow to fix\n  {}\n\nExample\n  {}\n",
        info.id,
        info.slug,
        info.severity,
        info.summary,
        info.doc.what,
        info.doc.why,
        info.doc.fix,
        info.doc.example
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_ids_are_read_back_from_call_filters() {
        for ids in [
            vec!["a@h"],
            vec![
                "(no Call-ID) from-tag=x\\y\"z cseq=1 10.0.0.1 10.0.0.2",
                "b@h",
            ],
            vec!["tab\there"],
            vec![],
        ] {
            assert_eq!(filtered_call_ids(&followme::call_filter(&ids)), ids);
        }
    }
    use std::collections::HashSet;

    #[test]
    fn ids_and_slugs_are_unique_and_documented() {
        let mut ids = HashSet::new();
        let mut slugs = HashSet::new();
        for r in registry() {
            let i = r.info();
            assert!(ids.insert(i.id), "duplicate id {}", i.id);
            assert!(slugs.insert(i.slug), "duplicate slug {}", i.slug);
            for (name, text) in [
                ("summary", i.summary),
                ("what", i.doc.what),
                ("why", i.doc.why),
                ("fix", i.doc.fix),
                ("example", i.doc.example),
            ] {
                assert!(text.trim().len() > 10, "{} lacks its {name} section", i.id);
            }
        }
    }

    #[test]
    fn quoted_strings() {
        assert_eq!(quote("a@b"), r#""a@b""#);
        assert_eq!(quote(r#"x"y\z"#), r#""x\"y\\z""#);
        assert_eq!(quote("a\tb"), r#""a\x09b""#);
    }

    #[test]
    fn alternatives_are_parenthesised() {
        assert_eq!(any_of(&["a == 1"]), "a == 1");
        assert_eq!(
            any_of(&["a == 1 && b", "", "(c || d)", "(x && y) || (z && w)"]),
            "(a == 1 && b) || (c || d) || ((x && y) || (z && w))"
        );
    }

    #[test]
    fn frame_filters() {
        assert_eq!(frame_filter(&[7]), "frame.number == 7");
        assert_eq!(frame_filter(&[1, 9]), "frame.number in {1, 9}");
        assert_eq!(
            frame_filter(&[9, 1, 2, 3, 5, 6, 9, 10, 11, 12]),
            "frame.number in {1..3, 5, 6, 9..12}"
        );
    }
}
