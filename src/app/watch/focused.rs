//! A streamed `analyze` with a focus (`--call-id`, `--number`, `--ip`, `--since`,
//! `--until`): every unit is judged as without one (what the rules learn across calls
//! stays that of the whole capture), and the report keeps the units the focus selects, as
//! `analyze` does when it holds every call ([`Focus::select`], then
//! `flow::focused_findings`). Input: each judged unit, and each finding of no unit;
//! output: whether it is shown. Memory follows the calls shown, not the calls seen, and
//! stays small per call shown: a 64-bit hash of its Call-ID ([`CallIds`]), and a bit for
//! each of its messages' frames.

use crate::calls::Call;
use crate::calls::focus::{CallIds, Focus};
use crate::calls::legs::Legs;
use crate::capture::Timestamp;
use crate::rules::Finding;

/// The focus, and the calls it has selected so far.
pub(super) struct Focused {
    focus: Focus,
    /// The calls shown (were two Call-IDs to share a hash, a finding of no unit about a
    /// call not shown could be shown).
    calls: CallIds,
    /// The frames of their messages.
    frames: FrameSet,
}

impl Focused {
    pub(super) fn new(focus: Focus) -> Self {
        Focused {
            focus,
            calls: Default::default(),
            frames: Default::default(),
        }
    }

    /// Which calls of the unit of `calls` (linked as `legs`) the focus keeps, wall-clock
    /// times placed on the day of `day` (the capture's first call); the unit is shown when
    /// one is. A unit is the calls linked with each other, so a selected leg brings the
    /// legs linked to it, as [`Focus::select`] does.
    pub(super) fn shows(
        &mut self,
        calls: &[Call],
        legs: &Legs,
        day: Option<Timestamp>,
    ) -> Vec<bool> {
        let keep = self.focus.select_on(calls, legs, day);
        for (c, _) in calls.iter().zip(&keep).filter(|(_, k)| **k) {
            self.calls.insert(&c.call_id);
            for m in &c.messages {
                self.frames.insert(m.frame);
            }
        }
        keep
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

    /// The calls the focus selected.
    pub(super) fn into_calls(self) -> CallIds {
        self.calls
    }

    /// Fails when no call met the focus: a mistyped Call-ID or number should not read as
    /// "nothing wrong".
    pub(super) fn check(&self) -> anyhow::Result<()> {
        super::super::flow::check_selection(&self.focus, &[!self.calls.is_empty()])
    }
}

/// A set of frame numbers, one bit each, in words of 64 consecutive frames: a call's
/// messages cost a word each when calls are few, and the frames shown of a busy capture
/// (most words holding several) about half a byte per frame of the capture.
#[derive(Default)]
struct FrameSet {
    words: foldhash::HashMap<u64, u64>,
}

impl FrameSet {
    fn insert(&mut self, frame: u64) {
        *self.words.entry(frame / 64).or_default() |= 1 << (frame % 64);
    }

    fn contains(&self, frame: &u64) -> bool {
        (self.words.get(&(frame / 64))).is_some_and(|w| w & (1 << (frame % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::FrameSet;

    #[test]
    fn a_frame_set_holds_exactly_the_frames_put_in() {
        let put = [0, 1, 63, 64, 65, 127, 128, 4_000_000_007, u64::MAX];
        let mut set = FrameSet::default();
        for f in put {
            set.insert(f);
        }
        for f in 0..300 {
            assert_eq!(set.contains(&f), put.contains(&f), "frame {f}");
        }
        for f in [
            4_000_000_006,
            4_000_000_007,
            4_000_000_008,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(set.contains(&f), put.contains(&f), "frame {f}");
        }
        assert_eq!(
            set.words.len(),
            5,
            "words 0, 1 and 2, and one each for the last two"
        );
    }
}
