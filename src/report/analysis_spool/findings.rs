//! The findings of a streamed `analyze`: a small record of each in memory (its place in
//! report order, its cause, its call, its suggestion) and its JSON in the reorder
//! buffer, written out in report order at the end ([`SpooledFindings`]).
//!
//! Input: each finding with its catalogue rank, in the order units are judged. Output:
//! the findings a text report shows, put in the [`Analysis`], or the JSON document's,
//! spooled; the rules of the findings on the calls whose verdicts are told again.

use std::collections::HashSet;
use std::io::{self, Write};

use serde::Deserialize;

use super::super::analysis::Analysis;
use super::super::ordered::Ordered;
use super::super::spool::json_element_bytes;
use super::{Layout, RulesOf};
use crate::rules::sp003_media_missing::{UDP_IN_CAPTURE, set_udp_in_capture};
use crate::rules::{Finding, Severity};

/// A finding's place in report order as one number: worst first, then by first frame
/// (none first), then in catalogue order (`rank`); ties keep the order they came in.
pub fn report_key(f: &Finding, rank: usize) -> u64 {
    let worst = match f.severity {
        Severity::Error => 0u64,
        Severity::Warning => 1,
        Severity::Info => 2,
    };
    let frame = f
        .frames
        .first()
        .map_or(0, |n| n.saturating_add(1))
        .min((1 << 53) - 1);
    (worst << 61) | (frame << 7) | (rank.min(127) as u64)
}

/// What the report needs of a finding besides its JSON: its place, its group and its
/// suggestion (a few dozen bytes; the JSON waits in the spool).
struct Record {
    key: u64,
    cause: u32,
    severity: Severity,
    /// Its call's Call-ID, hashed ([`FindingRows::call_hash`]): a few calls' verdicts are
    /// told again at the end, and only theirs need the rules of the findings on them.
    call: Option<std::num::NonZeroU64>,
    suggestion: Option<std::sync::Arc<serde_json::Value>>,
}

/// A cause of findings ([`crate::report::verdict::cause`]) with the first title that had it.
struct Cause {
    id: &'static str,
    slug: &'static str,
    severity: Severity,
    cause: String,
    title: String,
}

/// Findings as they come, in bounded memory: each one's JSON spooled by its place in
/// report order, a small record kept (see the module docs).
pub struct FindingRows {
    layout: Layout,
    /// `Held`: every finding, with its place in report order.
    held: Vec<(u64, Finding)>,
    spool: Ordered,
    records: Vec<Record>,
    causes: Vec<Cause>,
    cause_at: foldhash::HashMap<(&'static str, Severity, String), u32>,
    /// Keyed afresh for each run, so that no capture can be made whose Call-IDs collide.
    hasher: std::hash::RandomState,
    scratch: Vec<u8>,
}

/// A finding read back.
#[derive(Deserialize)]
struct FindingIn {
    id: String,
    severity: Severity,
    title: String,
    message: String,
    call_id: Option<String>,
    capture: Option<String>,
    frames: Vec<u64>,
    evidence: serde_json::Value,
    proof: Vec<crate::rules::proof::Quote>,
    wireshark_filter: String,
}

fn read_finding(json: &[u8]) -> io::Result<Finding> {
    let f: FindingIn = serde_json::from_slice(json).map_err(io::Error::other)?;
    let info = crate::rules::lookup(&f.id)
        .ok_or_else(|| io::Error::other(format!("unknown rule {}", f.id)))?
        .info();
    let mut out = Finding::new(info, f.title, f.message);
    out.severity = f.severity;
    out.call_id = f.call_id;
    out.capture = f.capture;
    out.frames = f.frames;
    out.evidence = f.evidence;
    out.proof = f.proof;
    out.wireshark_filter = f.wireshark_filter;
    Ok(out)
}

/// The tail of a finding spooled as a report element without its suggestion's index.
const NO_SUGGESTION: &[u8] = b"null\n    }";

impl FindingRows {
    pub fn new(layout: Layout) -> Self {
        FindingRows {
            layout,
            held: Vec::new(),
            spool: Ordered::default(),
            records: Vec::new(),
            causes: Vec::new(),
            cause_at: Default::default(),
            hasher: std::hash::RandomState::new(),
            scratch: Vec::new(),
        }
    }

    /// A finding, complete, with its catalogue `rank`.
    pub fn push(&mut self, f: Finding, rank: usize) -> io::Result<()> {
        if self.layout == Layout::Selection {
            return Ok(());
        }
        let key = report_key(&f, rank);
        if self.layout == Layout::Held {
            self.held.push((key, f));
            return Ok(());
        }
        let cause = super::super::verdict::cause(&f);
        let next = self.causes.len() as u32;
        let at = *(self.cause_at)
            .entry((f.id, f.severity, cause))
            .or_insert_with_key(|(_, _, cause)| {
                self.causes.push(Cause {
                    id: f.id,
                    slug: f.slug,
                    severity: f.severity,
                    cause: cause.clone(),
                    title: f.title.clone(),
                });
                next
            });
        let bytes = match self.layout {
            Layout::Json => {
                let r = super::super::analysis::ReportedFinding {
                    finding: f,
                    suggestion: None,
                };
                let bytes = json_element_bytes(&r, 4, &mut self.scratch)?;
                (self.records).push(Record {
                    key,
                    cause: at,
                    severity: r.finding.severity,
                    call: self.call_hash(r.finding.call_id.as_deref()),
                    suggestion: r.finding.suggestion,
                });
                bytes
            }
            _ => {
                let bytes = serde_json::to_vec(&f).map_err(io::Error::other)?;
                (self.records).push(Record {
                    key,
                    cause: at,
                    severity: f.severity,
                    call: self.call_hash(f.call_id.as_deref()),
                    suggestion: f.suggestion,
                });
                bytes
            }
        };
        self.spool.push(key, bytes)
    }

    /// (A hash of 0 counts as 1: the record stays 32 bytes, with no room for a flag.)
    fn call_hash(&self, call_id: Option<&str>) -> Option<std::num::NonZeroU64> {
        use std::hash::BuildHasher;
        call_id.map(|id| {
            std::num::NonZeroU64::new(self.hasher.hash_one(id)).unwrap_or(std::num::NonZeroU64::MIN)
        })
    }

    /// The rules of the findings on each call, in report order, for the verdicts told
    /// again at the end: none when no call got a finding after its unit was judged (`of`
    /// is empty); else those of every call (held: `--each`), or of every call with a
    /// finding (streamed: a verdict told again names its other calls' rules too).
    pub fn rules_of(&mut self, of: &HashSet<String>) -> RulesOf {
        if self.layout == Layout::Held {
            let mut m = foldhash::HashMap::<String, Vec<&'static str>>::default();
            self.held.sort_by_key(|(key, _)| *key);
            for (_, f) in &self.held {
                if let Some(id) = f.call_id.as_deref() {
                    let v = m.entry(id.to_string()).or_default();
                    if !v.contains(&f.id) {
                        v.push(f.id);
                    }
                }
            }
            return m.into_iter().collect();
        }
        if of.is_empty() {
            return RulesOf::default();
        }
        // Records came in arrival order: a stable sort by key is report order.
        self.records.sort_by_key(|r| r.key);
        let mut by_hash = foldhash::HashMap::<std::num::NonZeroU64, Vec<&'static str>>::default();
        for r in &self.records {
            if let Some(h) = r.call {
                let rule = self.causes[r.cause as usize].id;
                let v = by_hash.entry(h).or_default();
                if !v.contains(&rule) {
                    v.push(rule);
                }
            }
        }
        RulesOf {
            by_id: Default::default(),
            by_hash,
            hasher: Some(self.hasher.clone()),
        }
    }

    /// The end: `a` gets its counts, groups, suggestions and findings (a text report's:
    /// those it shows); the JSON document's are returned, to be written with it. `udp`:
    /// the capture's UDP datagrams, which findings judged before its end quote as they
    /// stood then (SP003's `udp_datagrams_in_capture`).
    pub fn finish(mut self, a: &mut Analysis, udp: u64) -> io::Result<Option<SpooledFindings>> {
        if self.layout == Layout::Selection {
            return Ok(None);
        }
        if self.layout == Layout::Held {
            self.held.sort_by_key(|(key, _)| *key);
            let held: Vec<Finding> = (self.held.into_iter())
                .map(|(_, mut f)| {
                    set_udp_in_capture(&mut f.evidence, udp);
                    f
                })
                .collect();
            let (groups, (suggestions, refs)) = (
                super::super::verdict::group(&held),
                super::super::verdict::shared_suggestions(&held),
            );
            set_counts(a, held.iter().map(|f| f.severity));
            a.groups = groups;
            a.suggestions = suggestions;
            a.findings = (held.into_iter().zip(refs))
                .map(
                    |(finding, suggestion)| super::super::analysis::ReportedFinding {
                        finding,
                        suggestion,
                    },
                )
                .collect();
            return Ok(None);
        }
        self.records.sort_by_key(|r| r.key);
        let causes = &self.causes;
        a.groups = super::super::verdict::group_keys(self.records.iter().map(|r| {
            let c = &causes[r.cause as usize];
            super::super::verdict::GroupKey {
                id: c.id,
                slug: c.slug,
                severity: c.severity,
                cause: std::borrow::Cow::Borrowed(c.cause.as_str()),
                title: &c.title,
            }
        }));
        let (suggestions, refs) = super::super::verdict::share_suggestions(
            self.records.iter().map(|r| r.suggestion.as_ref()),
        );
        a.suggestions = suggestions;
        set_counts(a, self.records.iter().map(|r| r.severity));
        if self.layout == Layout::Json {
            return Ok(Some(SpooledFindings {
                spool: self.spool,
                refs,
                udp,
            }));
        }
        // A text report: each group's first findings (every one with `verbose`).
        let verbose = matches!(self.layout, Layout::Text { verbose: true, .. });
        let shown = if verbose {
            usize::MAX
        } else {
            super::super::analysis::INSTANCES_SHOWN
        };
        let mut wanted = vec![false; self.records.len()];
        for g in &mut a.groups {
            g.findings.truncate(shown);
            for &i in &g.findings {
                wanted[i] = true;
            }
        }
        let mut at = vec![usize::MAX; self.records.len()];
        let mut kept = Vec::new();
        let mut i = 0;
        let records = &self.records;
        self.spool.release(u64::MAX, &mut |json| {
            if wanted[i] {
                let mut f = read_finding(json)?;
                f.suggestion = records[i].suggestion.clone();
                set_udp_in_capture(&mut f.evidence, udp);
                at[i] = kept.len();
                kept.push(super::super::analysis::ReportedFinding {
                    finding: f,
                    suggestion: refs[i],
                });
            }
            i += 1;
            Ok(())
        })?;
        for g in &mut a.groups {
            for i in &mut g.findings {
                *i = at[*i];
            }
        }
        a.findings = kept;
        Ok(None)
    }
}

/// `json` (a finding spooled) into `out` with the capture's UDP count `udp` where its
/// evidence quotes one ([`UDP_IN_CAPTURE`]); `false` (`out` untouched) when it quotes none.
/// A JSON string holds no bare `"`, so the key found is the evidence's own.
fn with_udp(json: &[u8], udp: u64, out: &mut Vec<u8>) -> bool {
    let key = format!("\"{UDP_IN_CAPTURE}\":");
    let Some(at) = memchr::memmem::find(json, key.as_bytes()) else {
        return false;
    };
    let mut start = at + key.len();
    while json.get(start) == Some(&b' ') {
        start += 1;
    }
    let end = start
        + json[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    out.clear();
    out.extend_from_slice(&json[..start]);
    out.extend_from_slice(udp.to_string().as_bytes());
    out.extend_from_slice(&json[end..]);
    true
}

/// The findings' counts by severity in the summary.
fn set_counts(a: &mut Analysis, severities: impl Iterator<Item = Severity>) {
    let (mut e, mut w, mut i) = (0, 0, 0);
    for s in severities {
        match s {
            Severity::Error => e += 1,
            Severity::Warning => w += 1,
            Severity::Info => i += 1,
        }
    }
    a.summary.error = e;
    a.summary.warning = w;
    a.summary.info = i;
}

/// The JSON document's findings, spooled in report order, and each one's suggestion.
pub struct SpooledFindings {
    spool: Ordered,
    refs: Vec<Option<usize>>,
    /// The capture's UDP datagrams, which SP003's evidence quotes.
    udp: u64,
}

impl SpooledFindings {
    /// Writes the findings as the elements of the document's `findings` array.
    pub(super) fn write(self, out: &mut impl Write) -> io::Result<bool> {
        self.write_mapped(out, &mut |json, out| out.write_all(json))
    }

    /// [`SpooledFindings::write`], each finding's JSON (as `write` would write it) handed
    /// to `map`, which writes it.
    pub(super) fn write_mapped<W: Write>(
        mut self,
        out: &mut W,
        map: &mut dyn FnMut(&[u8], &mut W) -> io::Result<()>,
    ) -> io::Result<bool> {
        let mut i = 0;
        let (refs, udp) = (&self.refs, self.udp);
        let (mut patched, mut whole) = (Vec::new(), Vec::new());
        self.spool.release(u64::MAX, &mut |json| {
            out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            let json = match with_udp(json, udp, &mut patched) {
                true => &patched[..],
                false => json,
            };
            match refs[i] {
                Some(n) if json.ends_with(NO_SUGGESTION) => {
                    whole.clear();
                    whole.extend_from_slice(&json[..json.len() - NO_SUGGESTION.len()]);
                    write!(whole, "{n}\n    }}")?;
                    map(&whole, out)?;
                }
                _ => map(json, out)?,
            }
            i += 1;
            Ok(())
        })?;
        Ok(i > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::{Record, with_udp};

    /// What stays in memory per finding of a streamed report.
    #[test]
    fn a_finding_s_record_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Record>(), 32);
    }

    #[test]
    fn the_capture_s_udp_count_replaces_the_one_quoted() {
        let mut out = Vec::new();
        let pretty =
            b"{\n  \"evidence\": {\n    \"udp_datagrams_in_capture\": 30,\n    \"x\": 1\n  }\n}";
        assert!(with_udp(pretty, 80, &mut out));
        let want =
            b"{\n  \"evidence\": {\n    \"udp_datagrams_in_capture\": 80,\n    \"x\": 1\n  }\n}";
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(want));
        let compact = br#"{"message":"quotes \"udp_datagrams_in_capture\":7","evidence":{"udp_datagrams_in_capture":7}}"#;
        assert!(with_udp(compact, 1234, &mut out));
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"{"message":"quotes \"udp_datagrams_in_capture\":7","evidence":{"udp_datagrams_in_capture":1234}}"#
        );
        assert!(!with_udp(br#"{"evidence":{"rtp_streams":3}}"#, 9, &mut out));
    }
}
