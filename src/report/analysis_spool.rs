//! The verdicts, call rows and findings of an `analyze` that judges calls as they end
//! (one file read as a stream): written out in report order as they come, in bounded
//! memory, and put into the report at the end.
//!
//! Input: each verdict and call row with its call's place among the capture's calls, and
//! each finding, in the order units are judged. Output: the JSON document with every row
//! and finding ([`SpooledJson::write`]), or what a text report or the HTML page shows:
//! its findings and Follow-Me legs (and the page's first media streams) put in the
//! [`Analysis`] ([`FindingRows::finish`], [`AnalysisRows::finish`]), the rest counted, and
//! its verdicts read back from the spool as the report is written
//! ([`SpooledVerdicts::offer`]): every failed call has a line, and a capture of a million
//! failed calls does not hold a million verdicts.
//!
//! Rows and findings wait in a reorder buffer (`report::ordered`: 512 KiB in memory, sorted
//! runs on disk past that). Of a finding only a small record stays in memory, what the
//! report's groups, shared suggestions and verdicts read: its place in report order
//! ([`report_key`]), its cause, its call and its suggestion. A verdict names the rules of
//! the findings on its calls; those of the capture rules (and of media that belonged to no
//! unit) are known only at the end, so a verdict on such a call is read back and told
//! again then.

use std::collections::{BTreeMap, HashSet};
use std::io;

use serde::Deserialize;

use super::analysis::{Analysis, CallSummary, LEGS_SHOWN, StreamRows};
use super::html::STREAMS_SHOWN;
use super::ordered::Ordered;
use super::spool::json_element_bytes;
use super::verdict::Verdict;

mod findings;
mod spooled;
use crate::calls::focus::CallIds;
use crate::calls::legs::LegKind;
pub use findings::{FindingRows, SpooledFindings, report_key};
pub use spooled::{Spooled, SpooledJson, SpooledVerdicts};

/// How the rows are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// All in memory (`--each`, which embeds every report in one document).
    Held,
    /// The JSON document's, spooled.
    Json,
    /// A text report's: the verdicts spooled and the ones shown kept; the first
    /// Follow-Me legs (every one when `verbose`). `streams`: also the calls that hold the
    /// first media streams, as the HTML page lists them (`StreamRows`).
    Text { verbose: bool, streams: bool },
    /// Only which calls are shown, as a listing with a focus needs them: their Call-IDs
    /// ([`Spooled::Selection`]); verdicts, rows and findings are dropped.
    Selection,
}

/// Rows as they come; see the module docs.
pub struct AnalysisRows {
    layout: Layout,
    held_verdicts: Vec<(u64, Verdict)>,
    held_calls: Vec<(u64, CallSummary)>,
    verdicts: Ordered,
    calls: Ordered,
    /// Text: the Follow-Me legs shown, how many there are, and the calls without Call-ID.
    legs: BTreeMap<u64, CallSummary>,
    legs_total: usize,
    no_call_id: usize,
    /// Text with streams: the calls that hold the first media streams, and the streams
    /// of those kept and of every call; verbose, the rows of every stream, spooled.
    with_streams: BTreeMap<u64, CallSummary>,
    stream_rows: Ordered,
    streams_kept: usize,
    streams_total: usize,
    /// Verdicts that failed as they came (a finding that comes later may fail more).
    failed: usize,
    /// Selection: the calls shown.
    shown: CallIds,
    scratch: Vec<u8>,
}

/// A verdict as spooled: its state, its Call-IDs (to tell whether a capture finding is on
/// one of them without reading it) and its JSON.
fn encode(v: &Verdict, pretty: bool, scratch: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let json = if pretty {
        json_element_bytes(v, 4, scratch)?
    } else {
        serde_json::to_vec(v).map_err(io::Error::other)?
    };
    let ids = v.call_ids.join("\n");
    let mut row = Vec::with_capacity(5 + ids.len() + json.len());
    row.push(state(v));
    row.extend_from_slice(&(ids.len() as u32).to_le_bytes());
    row.extend_from_slice(ids.as_bytes());
    row.extend_from_slice(&json);
    Ok(row)
}

fn state(v: &Verdict) -> u8 {
    match (v.ok, v.unsure) {
        (true, _) => b'o',
        (false, true) => b'u',
        (false, false) => b'f',
    }
}

/// A spooled verdict's state, Call-IDs and JSON.
fn decode(row: &[u8]) -> (u8, std::str::Split<'_, char>, &[u8]) {
    let n = u32::from_le_bytes([row[1], row[2], row[3], row[4]]) as usize;
    let ids = std::str::from_utf8(&row[5..5 + n]).unwrap_or_default();
    (row[0], ids.split('\n'), &row[5 + n..])
}

/// A verdict read back (its rules named by id).
#[derive(Deserialize)]
struct VerdictIn {
    ok: bool,
    call_ids: Vec<String>,
    first_frame: u64,
    text: String,
    rules: Vec<String>,
    #[serde(default)]
    unsure: bool,
}

fn read_verdict(json: &[u8]) -> io::Result<Verdict> {
    let v: VerdictIn = serde_json::from_slice(json).map_err(io::Error::other)?;
    Ok(Verdict {
        ok: v.ok,
        call_ids: v.call_ids,
        first_frame: v.first_frame,
        text: v.text,
        rules: (v.rules.iter())
            .filter_map(|r| crate::rules::lookup(r).map(|r| r.info().id))
            .collect(),
        unsure: v.unsure,
    })
}

/// The rules of the findings on each call, in report order: by Call-ID, or (a streamed
/// report's, whose findings keep a hash of their call) by the hash of the Call-ID.
#[derive(Debug, Default)]
pub struct RulesOf {
    by_id: foldhash::HashMap<String, Vec<&'static str>>,
    by_hash: foldhash::HashMap<std::num::NonZeroU64, Vec<&'static str>>,
    hasher: Option<std::hash::RandomState>,
}

impl RulesOf {
    /// The rules of the findings on the call `id`.
    fn of(&self, id: &str) -> Option<&Vec<&'static str>> {
        use std::hash::BuildHasher;
        self.by_id.get(id).or_else(|| {
            let h = self.hasher.as_ref()?.hash_one(id);
            self.by_hash
                .get(&std::num::NonZeroU64::new(h).unwrap_or(std::num::NonZeroU64::MIN))
        })
    }
}

impl FromIterator<(String, Vec<&'static str>)> for RulesOf {
    fn from_iter<I: IntoIterator<Item = (String, Vec<&'static str>)>>(iter: I) -> Self {
        RulesOf {
            by_id: iter.into_iter().collect(),
            ..RulesOf::default()
        }
    }
}

/// Tells `v` again with the rules of every finding on its calls (`rules_of`): those of
/// its unit's were named when it was judged; a capture finding may add one.
fn retell(v: &mut Verdict, rules_of: &RulesOf) {
    let mut rules: Vec<&'static str> = Vec::new();
    for r in (v.call_ids.iter())
        .filter_map(|id| rules_of.of(id))
        .flatten()
    {
        if !rules.contains(r) {
            rules.push(r);
        }
    }
    // A finding of its unit made it fail already.
    v.ok &= rules.is_empty();
    v.unsure &= rules.is_empty();
    v.rules = rules;
}

impl AnalysisRows {
    pub fn new(layout: Layout) -> Self {
        AnalysisRows {
            layout,
            held_verdicts: Vec::new(),
            held_calls: Vec::new(),
            verdicts: Ordered::default(),
            calls: Ordered::default(),
            legs: BTreeMap::new(),
            legs_total: 0,
            no_call_id: 0,
            with_streams: BTreeMap::new(),
            stream_rows: Ordered::default(),
            streams_kept: 0,
            streams_total: 0,
            failed: 0,
            shown: CallIds::default(),
            scratch: Vec::new(),
        }
    }

    /// The verdict on the call at `pos` (a Follow-Me pair's first leg).
    pub fn verdict(&mut self, pos: u64, v: Verdict) -> io::Result<()> {
        match self.layout {
            Layout::Held => self.held_verdicts.push((pos, v)),
            Layout::Json => {
                let row = encode(&v, true, &mut self.scratch)?;
                self.verdicts.push(pos, row)?;
            }
            Layout::Text { .. } => {
                self.failed += usize::from(state(&v) == b'f');
                let row = encode(&v, false, &mut self.scratch)?;
                self.verdicts.push(pos, row)?;
            }
            Layout::Selection => {}
        }
        Ok(())
    }

    /// Whether only which calls are shown is kept ([`Layout::Selection`]).
    pub fn selects_only(&self) -> bool {
        self.layout == Layout::Selection
    }

    /// A selection ([`Layout::Selection`]) keeps the Call-ID of a call shown and needs
    /// no row: `true`, once it has. Other layouts need the call's row: `false`.
    pub fn select(&mut self, call_id: &str) -> bool {
        if self.layout != Layout::Selection {
            return false;
        }
        self.shown.insert(call_id);
        true
    }

    /// The row of the call at `pos`.
    pub fn call(&mut self, pos: u64, c: CallSummary) -> io::Result<()> {
        match self.layout {
            Layout::Held => self.held_calls.push((pos, c)),
            Layout::Json => {
                let row = json_element_bytes(&c, 4, &mut self.scratch)?;
                self.calls.push(pos, row)?;
            }
            Layout::Text { verbose, streams } => {
                if streams && verbose && !c.media.is_empty() {
                    self.streams_total += c.media.len();
                    let mut rows = String::new();
                    super::html::stream_rows(&c, usize::MAX, &mut rows);
                    self.stream_rows.push(pos, rows.into_bytes())?;
                } else if streams && !verbose {
                    self.keep_streams(pos, &c);
                }
                self.no_call_id += usize::from(c.no_call_id.is_some());
                if c.leg != LegKind::Other {
                    self.legs_total += 1;
                    self.legs.insert(pos, c);
                    if !verbose && self.legs.len() > LEGS_SHOWN {
                        self.legs.pop_last();
                    }
                }
            }
            Layout::Selection => {
                self.shown.insert(&c.call_id);
            }
        }
        Ok(())
    }

    /// Keeps call `c` (at `pos`) for its media streams if they are among the first
    /// [`STREAMS_SHOWN`] of the calls so far, and lets go of the calls whose streams no
    /// longer are.
    fn keep_streams(&mut self, pos: u64, c: &CallSummary) {
        let n = c.media.len();
        self.streams_total += n;
        let later = self
            .with_streams
            .last_key_value()
            .is_some_and(|(&k, _)| k < pos);
        if n == 0 || (later && self.streams_kept >= STREAMS_SHOWN) {
            return;
        }
        // What the page lists of it: its Call-ID, leg and streams.
        let listed = CallSummary {
            call_id: c.call_id.clone(),
            leg: c.leg,
            linked_call_ids: Vec::new(),
            from: None,
            to: None,
            diversion: Vec::new(),
            forwarding: Vec::new(),
            invite_frame: None,
            final_status: None,
            final_frame: None,
            media: c.media.clone(),
            no_call_id: None,
        };
        self.with_streams.insert(pos, listed);
        self.streams_kept += n;
        while let Some((_, last)) = self.with_streams.last_key_value()
            && self.streams_kept - last.media.len() >= STREAMS_SHOWN
        {
            self.streams_kept -= last.media.len();
            self.with_streams.pop_last();
        }
    }

    /// The end: `a` gets its verdicts and calls (held), or the calls a text report shows;
    /// the JSON document's rows, or a text report's verdicts, are returned spooled, to be
    /// written with it (`findings`: the JSON document's findings, spooled). `late`: the
    /// calls of findings made after their unit was judged; `rules_of`: the rules of every
    /// finding on each call.
    pub fn finish(
        mut self,
        a: &mut Analysis,
        late: &HashSet<String>,
        rules_of: RulesOf,
        findings: Option<SpooledFindings>,
    ) -> io::Result<Option<Spooled>> {
        match self.layout {
            Layout::Held => {
                self.held_verdicts.sort_by_key(|(pos, _)| *pos);
                self.held_calls.sort_by_key(|(pos, _)| *pos);
                a.verdicts = (self.held_verdicts.into_iter())
                    .map(|(_, mut v)| {
                        retell(&mut v, &rules_of);
                        v
                    })
                    .collect();
                a.calls = self.held_calls.into_iter().map(|(_, c)| c).collect();
                Ok(None)
            }
            Layout::Json => Ok(Some(Spooled::Json(SpooledJson {
                verdicts: self.verdicts,
                calls: self.calls,
                findings,
                rules_of,
                late: late.clone(),
                scratch: self.scratch,
            }))),
            Layout::Text { streams, verbose } => {
                if streams {
                    a.streams = Some(StreamRows {
                        calls: self.with_streams.into_values().collect(),
                        total: self.streams_total,
                    });
                }
                let stream_rows = (streams && verbose).then_some(self.stream_rows);
                a.omitted.legs = self.legs_total - self.legs.len();
                let listed = self
                    .legs
                    .values()
                    .filter(|c| c.no_call_id.is_some())
                    .count();
                a.omitted.no_call_id = self.no_call_id - listed;
                a.calls = self.legs.into_values().collect();
                Ok(Some(Spooled::Verdicts(SpooledVerdicts {
                    verdicts: self.verdicts,
                    rules_of,
                    late: late.clone(),
                    failed: self.failed,
                    stream_rows,
                })))
            }
            Layout::Selection => Ok(Some(Spooled::Selection(self.shown))),
        }
    }
}
