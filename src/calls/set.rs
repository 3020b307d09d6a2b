//! The calls of a whole scan ([`CallSet`]): each message filed under its call, the calls
//! not ended capped at `--max-calls` ([`LetGo`] reports those let go).
//!
//! Stage: calls. Input: SIP messages in capture order. Output: the calls, in order of
//! their first message, and the drops reported on the capture.

use super::*;

/// All calls of a scan, in order of their first message.
///
/// Calls that have not ended are capped (`--max-calls`, [`crate::limits`]): beyond the
/// cap the least recently active of them is dropped in O(1) (an INVITE flood answered
/// only by 100 Trying would otherwise hold every INVITE), and counted. [`CallSet::finish`]
/// must run once the scan is over: it takes the dropped calls' places out of `calls` and
/// reports the drops on the capture.
#[derive(Debug, Default)]
pub struct CallSet {
    pub calls: Vec<Call>,
    /// Call-IDs are chosen by whoever sent the packets: a randomly seeded hasher.
    index: foldhash::HashMap<String, usize>,
    /// Messages without a Call-ID header (filed under made-up keys, see [`NoCallIdKey`]).
    pub without_call_id: u64,
    /// Index of the input file being read, recorded on the calls it carries.
    pub capture: usize,
    /// Positions in `calls` of the calls that have not ended, least recently active last.
    open: crate::lru::Recency,
    /// Calls dropped at the cap (their places in `calls` are empty until half of all
    /// places are, or `finish`).
    pub let_go: LetGo,
    /// Messages left out of their call's list at `--max-messages-per-call`.
    pub message_cap: MessageCap,
    /// Places in `calls` of dropped calls.
    holes: usize,
    /// Calls dropped since [`CallSet::take_garbage`] was last called, for another thread
    /// to free (at most [`GARBAGE_HELD`]: beyond, they are freed here).
    pub(super) garbage: Vec<Call>,
    /// How many of `garbage` [`CallSet::let_go_since`] has named.
    named: usize,
}

/// Dropped calls held for [`CallSet::take_garbage`]: a two-thread scan takes them after
/// every batch of at most 1,024 messages.
pub const GARBAGE_HELD: usize = 4096;

impl CallSet {
    /// Files a message under its call. Takes the message: its SDP moves into the call.
    pub fn add(&mut self, mut m: SipMessage) {
        let (key, no_call_id) = call_key(&m, &mut self.without_call_id);
        let idx = match self.index.get(key.as_ref()) {
            Some(&i) => i,
            None => {
                self.calls.push(new_call(&key, no_call_id, &m));
                self.index.insert(key.to_string(), self.calls.len() - 1);
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[idx];
        call.add_capture(self.capture);
        add_to_call(call, &mut m);
        // A registration refreshed for a day lists its first and latest messages and
        // counts the repeats between, as where calls retire: the listing shows none of
        // them, and the rules read every address, method and status and the count.
        super::ending::fold_repeats(call);
        self.message_cap.trim(call, self.capture);
        let slot = idx as u32;
        if state(call) == CallState::Ended {
            self.open.remove(slot);
            return;
        }
        self.open.touch_or_push(slot);
        if self.open.len() > self.let_go.cap
            && let Some(oldest) = self.open.oldest()
        {
            self.open.remove(oldest);
            let gone = std::mem::replace(&mut self.calls[oldest as usize], placeholder());
            self.index.remove(&gone.call_id);
            self.let_go.record(
                gone.first_frame,
                gone.first_capture().unwrap_or(self.capture),
            );
            if self.garbage.len() >= GARBAGE_HELD {
                self.garbage.clear();
                self.named = 0;
            }
            self.garbage.push(gone);
            self.holes += 1;
            // The places of dropped calls go once they are half of all (amortised O(1)):
            // a flood's calls would otherwise leave a place each.
            if self.holes >= 1024 && self.holes * 2 >= self.calls.len() {
                self.compact();
            }
        }
    }

    /// The calls dropped since the last call, to be freed elsewhere.
    pub fn take_garbage(&mut self) -> Option<Box<dyn std::any::Any + Send>> {
        if self.garbage.is_empty() {
            return None;
        }
        self.named = 0;
        Some(Box::new(std::mem::take(&mut self.garbage)))
    }

    /// Names (to `gone`) each call dropped at the cap since the last time it was asked,
    /// so that what is kept about it elsewhere (its SDP announcements) can go too. Asked
    /// after every message: a message drops at most one call.
    pub fn let_go_since(&mut self, gone: &mut dyn FnMut(&str)) {
        for c in self.garbage.get(self.named..).unwrap_or_default() {
            gone(&c.call_id);
        }
        self.named = self.garbage.len();
    }

    /// Takes the places of dropped calls out of `calls`, keeping the order of the rest
    /// and the recency of those not ended.
    fn compact(&mut self) {
        let mut new_pos = vec![u32::MAX; self.calls.len()];
        let mut next = 0u32;
        for (i, c) in self.calls.iter().enumerate() {
            // A dropped call's place holds a call without messages; every filed call has one.
            if !c.messages.is_empty() {
                new_pos[i] = next;
                next += 1;
            }
        }
        let order = self.open.oldest_first();
        self.calls.retain(|c| !c.messages.is_empty());
        self.open = crate::lru::Recency::default();
        for slot in order {
            if let Some(&p) = new_pos.get(slot as usize).filter(|p| **p != u32::MAX) {
                self.open.push(p);
            }
        }
        for i in self.index.values_mut() {
            *i = new_pos[*i] as usize;
        }
        self.holes = 0;
    }

    /// The end of the scan of `paths`: the places of dropped calls are taken out of
    /// `calls`, and the drops reported on the capture that carried the first (among
    /// `reports`, those of the files that could be read). The set takes no more messages:
    /// its index of Call-IDs and the order of the calls not ended are freed (a tenth of
    /// the memory of a large capture's calls, no longer needed while they are judged).
    pub fn finish(&mut self, reports: &mut [crate::sip::CaptureReport], paths: &[String]) {
        self.finish_numbered(reports, paths, &|n| n);
    }

    /// [`CallSet::finish`], the frame number in the drops' message shown as `shown` says
    /// (files read merged: in its own file's numbers); their `frames` stay as counted.
    pub fn finish_numbered(
        &mut self,
        reports: &mut [crate::sip::CaptureReport],
        paths: &[String],
        shown: &dyn Fn(u64) -> u64,
    ) {
        if self.holes > 0 {
            self.compact();
        }
        self.index = Default::default();
        self.open = Default::default();
        self.garbage = Vec::new();
        let path = self.let_go.past.path(paths);
        (self.let_go).report_on(reports, path.as_deref(), LetGo::DROPPED, shown);
        (self.message_cap).report(reports, paths, shown);
    }
}

/// What went past a cap: how many, and the first (its frame, and the input file that
/// carried it).
#[derive(Debug, Clone, Default)]
pub struct Past {
    pub count: u64,
    pub first_frame: Option<u64>,
    pub capture: usize,
}

impl Past {
    /// One more went past the cap: the first in `frame` of file `capture`.
    pub fn record(&mut self, frame: u64, capture: usize) {
        self.record_many(1, frame, capture);
    }

    /// `count` more went past the cap, the earliest of them in `frame` of file `capture`.
    pub fn record_many(&mut self, count: u64, frame: u64, capture: usize) {
        self.count += count;
        if self.first_frame.is_none() {
            self.first_frame = Some(frame);
            self.capture = capture;
        }
    }

    /// The file that carried the first, as reports name it (`paths`: the files as given).
    fn path(&self, paths: &[String]) -> Option<String> {
        paths
            .get(self.capture)
            .map(|p| crate::redact::shown_path(p))
    }

    /// Puts the anomaly `anomaly` makes of the count and the first frame (nothing when
    /// none went past) on the report named `path` (as reports name their file), else on
    /// the last report.
    pub fn report_on(
        &self,
        reports: &mut [crate::sip::CaptureReport],
        path: Option<&str>,
        anomaly: impl FnOnce(u64, u64) -> crate::capture::Anomaly,
    ) {
        if self.count == 0 {
            return;
        }
        let at = (reports.iter())
            .position(|r| Some(r.path.as_str()) == path)
            .unwrap_or(reports.len().saturating_sub(1));
        if let Some(r) = reports.get_mut(at) {
            r.anomalies
                .push(anomaly(self.count, self.first_frame.unwrap_or(0)));
        }
    }
}

/// The `--max-calls` cap of a set of calls, and the calls let go at it before they
/// ended: how many, and the first.
#[derive(Debug, Clone)]
pub struct LetGo {
    /// Calls not ended held at once: the cap in force when the set was made
    /// ([`crate::limits`]), read once rather than per message.
    pub cap: usize,
    /// The calls let go, the first by its first frame.
    pub past: Past,
}

impl Default for LetGo {
    fn default() -> Self {
        LetGo {
            cap: crate::limits::current().calls,
            past: Past::default(),
        }
    }
}

impl LetGo {
    /// The anomaly kind that reports it (rule CAP006).
    pub const KIND: &str = "call-limit";
    /// What became of the calls let go where they are dropped from the analysis.
    pub const DROPPED: &str = "dropped from the analysis";

    /// Reports the calls let go (nothing when none was), `what` saying what became of
    /// them: on the report of the file that carried the first (`paths`: the files as
    /// given; `reports`: those of the files that could be read), else on the last report;
    /// the frame number in the message shown as `shown` says (files read merged: in that
    /// file's own numbers).
    pub fn report(
        &self,
        reports: &mut [crate::sip::CaptureReport],
        paths: &[String],
        what: &str,
        shown: &dyn Fn(u64) -> u64,
    ) {
        self.report_on(reports, self.past.path(paths).as_deref(), what, shown);
    }

    /// Reports the calls let go (nothing when none was) on the report named `path` (as
    /// reports name their file), else on the last report; the frame number in the message
    /// shown as `shown` says (files read merged: in that file's own numbers), its `frames`
    /// as counted.
    pub fn report_on(
        &self,
        reports: &mut [crate::sip::CaptureReport],
        path: Option<&str>,
        what: &str,
        shown: &dyn Fn(u64) -> u64,
    ) {
        let cap = self.cap;
        self.past.report_on(reports, path, |count, first| crate::capture::Anomaly {
            kind: Self::KIND,
            message: format!(
                "calls not ended over the cap ({} {cap}): {count} call(s) {what}, the first beginning in frame {}",
                crate::limits::Limits::CALLS,
                shown(first),
            ),
            frames: vec![first],
            count,
            flow: None,
        });
    }

    /// The anomaly kind of the calls judged before the wait for their Follow-Me legs
    /// ended, once `--max-calls` waited (a capture whose clock stands still never ends
    /// it): `watch` and `analyze` read as a stream.
    pub const WAIT_KIND: &str = "call-wait-limit";

    /// One more call let go: the first beginning in `first_frame` of file `capture`.
    pub(super) fn record(&mut self, first_frame: u64, capture: usize) {
        self.past.record(first_frame, capture);
    }
}

/// The `--max-messages-per-call` cap of a set of calls, and the messages left out of their
/// call's message list at it: how many, and the first. A call that lasts (a registration
/// refreshed for days, a flood under one Call-ID) would otherwise grow its list, about
/// 100 bytes a message, for as long as the capture. (A registration's repeated refreshes,
/// and a dialog's repeated keep-alives, are counted without being listed first:
/// [`fold_repeats`](super::ending::fold_repeats).)
#[derive(Debug, Clone)]
pub struct MessageCap {
    /// Messages listed per call: the cap in force when the set was made.
    pub cap: usize,
    /// The messages left out, the first by its frame.
    pub past: Past,
    /// INVITE transactions kept per call (`--max-invites-per-call`).
    pub invite_cap: usize,
    /// The INVITE transactions left out, the first by its request's frame.
    pub invites_past: Past,
}

impl Default for MessageCap {
    fn default() -> Self {
        let limits = crate::limits::current();
        MessageCap {
            cap: limits.messages_per_call,
            past: Past::default(),
            invite_cap: limits.invites_per_call,
            invites_past: Past::default(),
        }
    }
}

impl MessageCap {
    /// The anomaly kind that reports it (rule CAP006).
    pub const KIND: &str = "call-message-limit";
    /// The anomaly kind that reports the INVITE transactions left out.
    pub const INVITE_KIND: &str = "call-invite-limit";

    /// Keeps `call`'s message list within the cap, once a message was added: past it the
    /// list holds the call's first `cap - 1` messages and its latest (which the call's
    /// state reads), and the message before the latest is left out and counted.
    ///
    /// Its INVITE transactions likewise, past `invite_cap`: a Call-ID carrying a new
    /// INVITE transaction in every message (a flood of re-INVITEs) would otherwise grow the
    /// call, and the time to match each message to its transaction, with every message.
    pub(super) fn trim(&mut self, call: &mut Call, capture: usize) {
        let file = call.first_capture().unwrap_or(capture);
        let keep = self.cap.max(2);
        if call.messages.len() > keep {
            let gone = call.messages.swap_remove(keep - 1);
            self.past.record(gone.frame, file);
        }
        self.trim_invites(&mut call.invites, |t| t.request_frame, file);
    }

    /// Keeps a call's INVITE transactions (`invites`, whose request frame `frame` tells)
    /// within `invite_cap`: its first `invite_cap - 1` and its latest.
    pub(super) fn trim_invites<T>(
        &mut self,
        invites: &mut Vec<T>,
        frame: impl Fn(&T) -> u64,
        capture: usize,
    ) {
        let keep = self.invite_cap.max(2);
        if invites.len() > keep {
            let gone = invites.swap_remove(keep - 1);
            self.invites_past.record(frame(&gone), capture);
        }
    }

    /// Reports the messages and INVITE transactions left out (nothing when none was),
    /// each on the report of the file that carried the first (`paths`: the files as
    /// given), else on the last report; the frame number in the message shown as `shown`
    /// says.
    pub fn report(
        &self,
        reports: &mut [crate::sip::CaptureReport],
        paths: &[String],
        shown: &dyn Fn(u64) -> u64,
    ) {
        self.report_on(reports, &|past: &Past| past.path(paths), shown);
    }

    /// [`MessageCap::report`], each on the report named by `path_of` for what was left
    /// out (as reports name their file).
    pub fn report_on(
        &self,
        reports: &mut [crate::sip::CaptureReport],
        path_of: &dyn Fn(&Past) -> Option<String>,
        shown: &dyn Fn(u64) -> u64,
    ) {
        let path = path_of(&self.past);
        let path = path.as_deref();
        let cap = self.cap;
        self.past.report_on(reports, path, |count, first| crate::capture::Anomaly {
            kind: Self::KIND,
            message: format!(
                "messages of a call over the cap ({} {cap}): {count} message(s) left out of their call's message list (its state still follows them), the first in frame {}",
                crate::limits::Limits::MESSAGES_PER_CALL,
                shown(first),
            ),
            frames: vec![first],
            count,
            flow: None,
        });
        let cap = self.invite_cap;
        let path = path_of(&self.invites_past);
        (self.invites_past).report_on(reports, path.as_deref(), |count, first| {
            crate::capture::Anomaly {
                kind: Self::INVITE_KIND,
                message: format!(
                    "INVITE transactions of a call over the cap ({} {cap}): {count} left out of their call (it keeps its first and its latest; responses to those left out are not matched), the first in frame {}",
                    crate::limits::Limits::INVITES_PER_CALL,
                    shown(first),
                ),
                frames: vec![first],
                count,
                flow: None,
            }
        });
    }
}
