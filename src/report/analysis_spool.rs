//! The verdicts and call rows of an `analyze` that judges calls as they end (one file read
//! as a stream): written out in the order of the calls as they come, in bounded memory, and
//! put into the report at the end.
//!
//! Input: each verdict and call row with its call's place among the capture's calls, in
//! the order units are judged; at the end the report's findings. Output: the JSON
//! document with every row ([`SpooledJson::write`]), or the rows a text report shows
//! ([`AnalysisRows::finish`] puts them in the [`Analysis`], the others counted).
//!
//! Rows wait in a reorder buffer (`report::ordered`: 4 MiB in memory, sorted runs on disk past
//! that). A verdict names the rules of the findings on its calls; those of the capture
//! rules (and of media that belonged to no unit) are known only at the end, so a verdict
//! on such a call is read back and told again then.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};

use serde::Deserialize;

use super::analysis::{Analysis, CallSummary, LEGS_SHOWN};
use super::ordered::Ordered;
use super::spool::json_element_bytes;
use super::verdict::Verdict;
use crate::calls::legs::LegKind;

/// How the rows are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// All in memory (`--each`, which embeds every report in one document).
    Held,
    /// The JSON document's, spooled.
    Json,
    /// A text report's: the verdicts spooled and the ones shown kept; the first
    /// Follow-Me legs (every one when `verbose`).
    Text { verbose: bool },
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

/// The rules of the findings on each call, in report order.
type RulesOf = foldhash::HashMap<String, Vec<&'static str>>;

fn rules_of(a: &Analysis) -> RulesOf {
    let mut m = RulesOf::default();
    for f in &a.findings {
        if let Some(id) = f.finding.call_id.as_deref() {
            let v = m.entry(id.to_string()).or_default();
            if !v.contains(&f.finding.id) {
                v.push(f.finding.id);
            }
        }
    }
    m
}

/// Tells `v` again with the rules of every finding on its calls (`rules_of`): those of
/// its unit's were named when it was judged; a capture finding may add one.
fn retell(v: &mut Verdict, rules_of: &RulesOf) {
    let mut rules: Vec<&'static str> = Vec::new();
    for r in (v.call_ids.iter())
        .filter_map(|id| rules_of.get(id))
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
                let row = encode(&v, false, &mut self.scratch)?;
                self.verdicts.push(pos, row)?;
            }
        }
        Ok(())
    }

    /// The row of the call at `pos`.
    pub fn call(&mut self, pos: u64, c: CallSummary) -> io::Result<()> {
        match self.layout {
            Layout::Held => self.held_calls.push((pos, c)),
            Layout::Json => {
                let row = json_element_bytes(&c, 4, &mut self.scratch)?;
                self.calls.push(pos, row)?;
            }
            Layout::Text { verbose } => {
                self.no_call_id += usize::from(c.no_call_id.is_some());
                if c.leg != LegKind::Other {
                    self.legs_total += 1;
                    self.legs.insert(pos, c);
                    if !verbose && self.legs.len() > LEGS_SHOWN {
                        self.legs.pop_last();
                    }
                }
            }
        }
        Ok(())
    }

    /// The end: `a` (its findings final) gets its verdicts and calls, or the ones a text
    /// report shows; the JSON document's rows are returned, to be written with it.
    /// `late`: the calls of findings made after their unit was judged.
    pub fn finish(
        mut self,
        a: &mut Analysis,
        late: &HashSet<String>,
    ) -> io::Result<Option<SpooledJson>> {
        let rules_of = rules_of(a);
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
            Layout::Json => Ok(Some(SpooledJson {
                verdicts: self.verdicts,
                calls: self.calls,
                rules_of,
                late: late.clone(),
                scratch: self.scratch,
            })),
            Layout::Text { verbose } => {
                let (mut healthy, mut unsure) = (0, 0);
                let mut shown = Vec::new();
                self.verdicts.release(u64::MAX, &mut |row| {
                    let (mut st, mut ids, json) = decode(row);
                    let touched = !late.is_empty() && ids.any(|id| late.contains(id));
                    let mut v = None;
                    if touched {
                        let mut told = read_verdict(json)?;
                        retell(&mut told, &rules_of);
                        st = state(&told);
                        v = Some(told);
                    }
                    let count = match st {
                        b'o' => Some(&mut healthy),
                        b'u' => Some(&mut unsure),
                        _ => None,
                    };
                    if let Some(n) = count {
                        if !verbose && *n >= super::analysis::HEALTHY_SHOWN {
                            *n += 1;
                            return Ok(());
                        }
                        *n += 1;
                    }
                    shown.push(match v {
                        Some(v) => v,
                        None => read_verdict(json)?,
                    });
                    Ok(())
                })?;
                let shown_of = |n: usize| n.saturating_sub(super::analysis::HEALTHY_SHOWN);
                if !verbose {
                    a.omitted.healthy = shown_of(healthy);
                    a.omitted.unsure = shown_of(unsure);
                }
                a.verdicts = shown;
                a.omitted.legs = self.legs_total - self.legs.len();
                let listed = self
                    .legs
                    .values()
                    .filter(|c| c.no_call_id.is_some())
                    .count();
                a.omitted.no_call_id = self.no_call_id - listed;
                a.calls = self.legs.into_values().collect();
                Ok(None)
            }
        }
    }
}

/// The JSON document's verdicts and call rows, spooled: written into the document
/// ([`SpooledJson::write`]).
pub struct SpooledJson {
    verdicts: Ordered,
    calls: Ordered,
    rules_of: RulesOf,
    late: HashSet<String>,
    scratch: Vec<u8>,
}

impl SpooledJson {
    /// Writes `a` (without verdicts and calls) as JSON with these rows in it: the same
    /// document as [`super::analysis::write_json`] writes of the whole analysis.
    pub fn write(mut self, a: &Analysis, out: impl Write) -> io::Result<()> {
        let mut out = io::BufWriter::with_capacity(1 << 16, out);
        let text = serde_json::to_string_pretty(a).map_err(io::Error::other)?;
        let marker = "\n  \"verdicts\": [],\n  \"calls\": [],\n";
        let at = text
            .find(marker)
            .ok_or_else(|| io::Error::other("the report has verdicts already"))?;
        out.write_all(&text.as_bytes()[..at])?;
        out.write_all(b"\n  \"verdicts\": [")?;
        let (rules_of, late, scratch) = (&self.rules_of, &self.late, &mut self.scratch);
        let mut first = true;
        self.verdicts.release(u64::MAX, &mut |row| {
            let (_, mut ids, json) = decode(row);
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            if !late.is_empty() && ids.any(|id| late.contains(id)) {
                let mut v = read_verdict(json)?;
                retell(&mut v, rules_of);
                out.write_all(&json_element_bytes(&v, 4, scratch)?)
            } else {
                out.write_all(json)
            }
        })?;
        out.write_all(if first { b"]" } else { b"\n  ]" })?;
        out.write_all(b",\n  \"calls\": [")?;
        let mut first = true;
        self.calls.release(u64::MAX, &mut |row| {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            out.write_all(row)
        })?;
        out.write_all(if first { b"]" } else { b"\n  ]" })?;
        out.write_all(b",\n")?;
        out.write_all(&text.as_bytes()[at + marker.len()..])?;
        out.write_all(b"\n")?;
        out.flush()
    }
}
