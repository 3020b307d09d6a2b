//! `analyze --flow` of one file read as a stream: which failed calls get a ladder, found
//! without holding the calls. A call fails with a final INVITE status of 300 or more, no
//! final response, or a finding about it; each failed call is drawn with the legs linked
//! to it, in the order of the calls' first messages (`flow::failed_groups_of`, as when
//! every call is held).
//!
//! A finding about a call can come after the call was judged (the capture rules' at the
//! end, SP003's once the capture's UDP is known), so the groups are found on a second
//! reading: the first (the report's) notes the calls the findings name and the frames
//! they cite ([`Cited`]); the second forms the units again without rules and keeps the
//! first groups in call order and their count ([`FailedGroups`]). A third reading
//! records the messages of the calls drawn. Memory follows the calls in progress, the
//! calls findings name (a hash each) and the frames they cite.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

use crate::calls::Call;
use crate::calls::focus::CallIds;
use crate::calls::legs::{LegKind, Legs};
use crate::report::spool::SpoolFile;

use super::super::flow::CitedFrames;
use crate::rules::Finding;

/// What a reading collects for the ladders, shared with the thread that judges its
/// units. A reading starts it afresh ([`LadderPass::restart`]): of a file read twice,
/// the second reading's counts.
#[derive(Clone)]
pub(in crate::app) enum LadderPass {
    /// The report's reading: what its findings name and cite.
    Cite(Arc<Mutex<Cited>>),
    /// A reading without rules: the failed groups, the calls named by findings given.
    Groups(Arc<Mutex<FailedGroups>>),
}

impl LadderPass {
    pub(super) fn restart(&self) {
        match self {
            LadderPass::Cite(c) => *lock(c) = Cited::default(),
            LadderPass::Groups(g) => {
                let mut g = lock(g);
                g.first.clear();
                g.total = 0;
            }
        }
    }

    /// A finding shown in the report.
    pub(super) fn finding(&self, f: &Finding) {
        if let LadderPass::Cite(c) = self {
            lock(c).add(f);
        }
    }

    /// A unit shown: its calls (at `places`, in that order), their links, and which of
    /// them the focus keeps.
    pub(super) fn unit(&self, places: &[u64], calls: &[Call], legs: &Legs, keep: &[bool]) {
        if let LadderPass::Groups(g) = self {
            lock(g).unit(places, calls, legs, keep);
        }
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Frames cited held in memory before they go to a file: 64 Ki of them, 1 MiB.
const CITED_IN_MEMORY: usize = 1 << 16;

/// The calls the report's findings name, and the frames they cite. Past
/// [`CITED_IN_MEMORY`] frames, the frames wait in a temporary file: a capture of a
/// million calls whose findings cite frames by the hundred thousand keeps them there.
#[derive(Default)]
pub(in crate::app) struct Cited {
    pub(in crate::app) calls: CallIds,
    /// Each frame a finding cites: the key of the call it names ([`CallIds::key`], none
    /// for a finding of no call), whether it names its capture file, and the frame. The
    /// latest in memory, the earlier ones in `spilled` ([`Cited::RECORD`] bytes each).
    frames: Vec<(Option<u64>, bool, u64)>,
    spilled: Option<SpoolFile>,
    /// The first error writing to `spilled`.
    error: Option<std::io::Error>,
}

impl Cited {
    /// A frame cited in `spilled`: the flags (a call named, its file named), the call's
    /// key and the frame.
    const RECORD: usize = 1 + 8 + 8;

    fn add(&mut self, f: &Finding) {
        self.add_frames(f.call_id.as_deref(), f.capture.is_some(), &f.frames);
    }

    /// Frames cited by a finding on call `id` (or on no call), naming its file or not.
    fn add_frames(&mut self, id: Option<&str>, named: bool, frames: &[u64]) {
        let call = id.map(|id| {
            self.calls.insert(id);
            self.calls.key(id)
        });
        (self.frames).extend(frames.iter().map(|&n| (call, named, n)));
        if self.frames.len() >= CITED_IN_MEMORY
            && self.error.is_none()
            && let Err(e) = self.spill()
        {
            self.error = Some(e);
        }
    }

    fn spill(&mut self) -> std::io::Result<()> {
        let spool = match &mut self.spilled {
            Some(s) => s,
            None => self.spilled.insert(SpoolFile::new("cited")?),
        };
        let w = spool.append()?;
        for (call, named, n) in self.frames.drain(..) {
            let flags = u8::from(call.is_some()) | u8::from(named) << 1;
            let mut record = [0u8; Self::RECORD];
            record[0] = flags;
            record[1..9].copy_from_slice(&call.unwrap_or(0).to_le_bytes());
            record[9..].copy_from_slice(&n.to_le_bytes());
            w.write_all(&record)?;
        }
        Ok(())
    }

    /// For each group of calls (their Call-IDs), the frames cited by the findings on
    /// those calls or on no call, as a ladder marks them (with the file `path` where a
    /// finding names its file). One pass over the frames for all the groups.
    pub(in crate::app) fn frames_of<'p>(
        &mut self,
        groups: &[Vec<&str>],
        path: &'p str,
    ) -> std::io::Result<Vec<CitedFrames<'p>>> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut out = vec![CitedFrames::default(); groups.len()];
        let mut of: foldhash::HashMap<u64, Vec<usize>> = foldhash::HashMap::default();
        for (g, ids) in groups.iter().enumerate() {
            for id in ids {
                of.entry(self.calls.key(id)).or_default().push(g);
            }
        }
        let mut mark = |(call, named, n): (Option<u64>, bool, u64)| {
            let cited = (named.then_some(path), n);
            match call {
                None => out.iter_mut().for_each(|set| {
                    set.insert(cited);
                }),
                Some(k) => {
                    for &g in of.get(&k).into_iter().flatten() {
                        out[g].insert(cited);
                    }
                }
            }
        };
        if let Some(spool) = &mut self.spilled {
            let mut file = spool.file()?.try_clone()?;
            file.seek(SeekFrom::Start(0))?;
            let mut r = std::io::BufReader::with_capacity(1 << 16, file);
            let mut record = [0u8; Self::RECORD];
            loop {
                match r.read_exact(&mut record) {
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                    other => other?,
                }
                let u64_at = |at: usize| {
                    u64::from_le_bytes(record[at..at + 8].try_into().unwrap_or_default())
                };
                let call = (record[0] & 1 != 0).then(|| u64_at(1));
                mark((call, record[0] & 2 != 0, u64_at(9)));
            }
        }
        self.frames.iter().copied().for_each(mark);
        Ok(out)
    }
}

/// The first failed groups in call order (each the calls drawn together, with their
/// legs), and how many there are.
pub(in crate::app) struct FailedGroups {
    /// The calls findings name (from the report's reading).
    cited: CallIds,
    /// How many groups are kept.
    most: usize,
    /// By the place of the failed call each starts with.
    first: BTreeMap<u64, Vec<(String, LegKind)>>,
    total: usize,
}

impl FailedGroups {
    pub(in crate::app) fn new(cited: CallIds, most: usize) -> Self {
        FailedGroups {
            cited,
            most,
            first: BTreeMap::new(),
            total: 0,
        }
    }

    /// The groups kept, in call order, and how many there are in all.
    pub(in crate::app) fn groups(&self) -> (Vec<&[(String, LegKind)]>, usize) {
        (self.first.values().map(Vec::as_slice).collect(), self.total)
    }

    fn unit(&mut self, places: &[u64], calls: &[Call], legs: &Legs, keep: &[bool]) {
        let cited = |id: &str| self.cited.contains(id);
        let groups = super::super::flow::failed_groups_of(calls, legs, keep, cited);
        self.total += groups.len();
        for group in groups {
            let at = places[group[0]];
            if self.first.len() == self.most
                && self
                    .first
                    .last_key_value()
                    .is_some_and(|(&last, _)| last < at)
            {
                continue;
            }
            let calls = (group.iter())
                .map(|&i| (calls[i].call_id.clone(), legs.kind_of(&calls[i].call_id)))
                .collect();
            self.first.insert(at, calls);
            if self.first.len() > self.most {
                self.first.pop_last();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Findings citing frames by the hundred thousand, on calls and on no call: the
    /// frames of each group of calls are those a list of every frame cited gives, once
    /// some went to the file and when none did.
    #[test]
    fn the_frames_of_each_group_come_back_from_memory_and_from_the_file() {
        let ids: Vec<String> = (0..500).map(|i| format!("call-{i}@10.0.0.1")).collect();
        let groups: Vec<Vec<&str>> =
            vec![vec![&ids[0], &ids[7]], vec![&ids[499]], vec!["never-cited"]];
        for findings in [100u64, 60_000] {
            let mut cited = Cited::default();
            let mut all = Vec::new();
            for i in 0..findings {
                let id = (i % 11 != 0).then(|| ids[(i % 500) as usize].as_str());
                let named = i % 3 == 0;
                let frames = [i * 2 + 1, i * 2 + 2];
                cited.add_frames(id, named, &frames);
                all.extend(frames.map(|n| (id, named, n)));
            }
            assert_eq!(cited.spilled.is_some(), findings == 60_000);
            let got = cited.frames_of(&groups, "x.pcap").unwrap();
            for (g, ids) in groups.iter().enumerate() {
                let want: CitedFrames<'_> = (all.iter())
                    .filter(|(id, _, _)| id.is_none_or(|id| ids.contains(&id)))
                    .map(|&(_, named, n)| (named.then_some("x.pcap"), n))
                    .collect();
                assert_eq!(got[g], want, "group {g}, {findings} findings");
            }
        }
    }
}
