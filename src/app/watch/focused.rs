//! A streamed `analyze` with a focus (`--call-id`, `--number`, `--ip`, `--since`,
//! `--until`): every unit is judged as without one (what the rules learn across calls
//! stays that of the whole capture), and the report keeps the units the focus selects, as
//! `analyze` does when it holds every call ([`Focus::select`], then
//! `flow::focused_findings`). Input: each judged unit, and each finding of no unit;
//! output: whether it is shown. Memory follows the calls shown, not the calls seen.

use crate::calls::Call;
use crate::calls::focus::Focus;
use crate::calls::legs::Legs;
use crate::capture::Timestamp;
use crate::rules::Finding;

/// The focus, and the calls it has selected so far.
pub(super) struct Focused {
    focus: Focus,
    /// The Call-IDs of the calls shown.
    calls: foldhash::HashSet<String>,
    /// The frames of their messages.
    frames: foldhash::HashSet<u64>,
}

impl Focused {
    pub(super) fn new(focus: Focus) -> Self {
        Focused {
            focus,
            calls: Default::default(),
            frames: Default::default(),
        }
    }

    /// Whether the unit of `calls` (linked as `legs`) is shown: one of them meets the
    /// focus, wall-clock times placed on the day of `day` (the capture's first call). A
    /// unit is the calls linked with each other, so a selected leg brings the legs linked
    /// to it, as [`Focus::select`] does.
    pub(super) fn shows(&mut self, calls: &[Call], legs: &Legs, day: Option<Timestamp>) -> bool {
        let keep = self.focus.select_on(calls, legs, day);
        let mut any = false;
        for (c, _) in calls.iter().zip(&keep).filter(|(_, k)| **k) {
            any = true;
            self.calls.insert(c.call_id.clone());
            self.frames.extend(c.messages.iter().map(|m| m.frame));
        }
        any
    }

    /// Whether a finding of no unit is shown: about a call shown, or (naming no call) a
    /// capture finding or one that cites a frame of a call shown. A finding comes after
    /// the units it could be about (the media of no call cites no message of a call).
    pub(super) fn shows_loose(&self, f: &Finding) -> bool {
        match f.call_id.as_deref() {
            Some(id) => self.calls.contains(id),
            None => f.id.starts_with("CAP") || f.frames.iter().any(|n| self.frames.contains(n)),
        }
    }

    /// Fails when no call met the focus: a mistyped Call-ID or number should not read as
    /// "nothing wrong".
    pub(super) fn check(&self) -> anyhow::Result<()> {
        super::super::flow::check_selection(&self.focus, &[!self.calls.is_empty()])
    }
}
