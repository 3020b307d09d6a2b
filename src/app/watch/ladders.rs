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
use std::sync::{Arc, Mutex};

use crate::calls::Call;
use crate::calls::focus::CallIds;
use crate::calls::legs::{LegKind, Legs};
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

/// The calls the report's findings name, and the frames they cite.
#[derive(Default)]
pub(in crate::app) struct Cited {
    pub(in crate::app) calls: CallIds,
    /// Each frame a finding cites: the key of the call it names ([`CallIds::key`], none
    /// for a finding of no call), whether it names its capture file, and the frame.
    frames: Vec<(Option<u64>, bool, u64)>,
}

impl Cited {
    fn add(&mut self, f: &Finding) {
        let call = f.call_id.as_deref().map(|id| {
            self.calls.insert(id);
            self.calls.key(id)
        });
        let named = f.capture.is_some();
        (self.frames).extend(f.frames.iter().map(|&n| (call, named, n)));
    }

    /// The frames cited by the findings on the calls `ids` or on no call, as a ladder
    /// marks them (with the file `path` where a finding names its file).
    pub(in crate::app) fn frames_of<'p>(
        &self,
        ids: &[&str],
        path: &'p str,
    ) -> foldhash::HashSet<(Option<&'p str>, u64)> {
        let keys: Vec<u64> = ids.iter().map(|id| self.calls.key(id)).collect();
        (self.frames.iter())
            .filter(|(call, _, _)| call.is_none_or(|k| keys.contains(&k)))
            .map(|&(_, named, n)| (named.then_some(path), n))
            .collect()
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
