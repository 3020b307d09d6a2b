//! The first reading of `analyze` ([`super::stream`]) judges each unit of calls as
//! `watch` does, with what the capture has shown so far: the XCC addresses, the site's
//! inferred country code and internal length, the trunks seen working, the UDP count and
//! the IP Office addresses its calls identified ([`super::known_ipo`]). It keeps what the judging was given; at the end, when the whole capture shows
//! the same, every unit was judged as a reading that knew the whole capture would judge
//! it, and the file is read once. When it does not (XCC or IP Office identified by a
//! later message, a site inferred otherwise once more numbers came, a 503 judged before a
//! trunk was seen working, an SP003 finding that waited for UDP; or a damaged file, whose
//! report comes at its end: the second reading's units are given every file's report from
//! the start), its report is dropped and the file is
//! read again with what this reading learnt, as the first reading of a file otherwise is.
//! Once the roles or the site contradict what a unit was judged with, the rest of the
//! reading judges nothing and follows no more media: it learns from the calls and counts
//! the UDP datagrams, what the second reading is given.
//!
//! Input: the roles and site each unit was judged with; output: whether they are the whole
//! capture's. The UDP count that SP003's evidence quotes is the one thing that always
//! differs: the report gives its final value ([`crate::report::analysis_spool`]).

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use crate::calls::legs::Roles;
use crate::numbers::Site;

use super::units::Judging;

/// What units were judged with on a reading that judges as it goes; see the module docs.
#[derive(Debug, Default)]
pub(super) struct Speculation {
    /// The trunks the calls showed working.
    pub(super) trunks: BTreeSet<SocketAddr>,
    /// The XCC addresses units were judged with, once one was.
    xcc: Option<Vec<IpAddr>>,
    /// The site units were judged with, as the rules read it ([`judged_as`]).
    site: Option<Site>,
    /// The IP Office addresses units were judged with, once one was.
    ipo: Option<super::known_ipo::IpoKnown>,
    /// Units were judged with roles or a site that others contradict: the reading is
    /// done again, and judges nothing more.
    off: bool,
    /// Tests: gives up once units have been judged with roles this many more times.
    #[cfg(test)]
    give_up_after: Option<usize>,
}

/// A site as the rules read it: its facts, and which of them were inferred (not the
/// counts and examples a note quotes, which grow as calls come).
fn judged_as(site: &Site) -> Site {
    let mut s = site.clone();
    for note in &mut s.inferred {
        if let Some(at) = note.find(" inferred from") {
            note.truncate(at);
        }
    }
    s
}

fn xcc_of(roles: &Roles) -> Vec<IpAddr> {
    let mut xcc = roles.xcc.clone();
    xcc.sort_unstable();
    xcc.dedup();
    xcc
}

impl Speculation {
    /// No more units are judged once units have been judged with roles `n` more times,
    /// as when the capture has contradicted what some were: part of the capture judged,
    /// the rest not.
    #[cfg(test)]
    pub(super) fn give_up_after(&mut self, n: usize) {
        self.give_up_after = Some(n);
    }

    /// Whether units are still judged (none was judged with what others contradict).
    pub(super) fn judging(&self) -> bool {
        !self.off
    }

    /// Units are judged with `roles`.
    pub(super) fn roles(&mut self, roles: &Roles) {
        #[cfg(test)]
        if let Some(n) = &mut self.give_up_after {
            self.off |= *n == 0;
            *n = n.saturating_sub(1);
        }
        let xcc = xcc_of(roles);
        match &self.xcc {
            None => self.xcc = Some(xcc),
            Some(before) => self.off |= *before != xcc,
        }
    }

    /// Units are judged with the IP Office addresses `ipo`.
    pub(super) fn ipo(&mut self, ipo: &super::known_ipo::IpoKnown) {
        match &self.ipo {
            None => self.ipo = Some(std::sync::Arc::clone(ipo)),
            Some(before) => self.off |= **before != **ipo,
        }
    }

    /// Units are judged with `site`: whether the rules read it otherwise than the site
    /// the units before were judged with (the judging must then be given it).
    pub(super) fn site(&mut self, site: &Site) -> bool {
        let now = judged_as(site);
        let changed = self.site.as_ref() != Some(&now);
        if changed {
            self.off |= self.site.is_some();
            self.site = Some(now);
        }
        changed
    }

    /// The reading has ended and every unit has been judged (`judging`): whether each
    /// was judged as with the whole capture's `roles` and `site` and every trunk seen
    /// working, with no SP003 finding waiting for UDP (there is some: `udp`), and with
    /// the files' `reports`: none damaged (a damaged file's report comes at the end of
    /// the reading, and a call it cut off judged before did not see that its file lost
    /// its end: FM002 without XCC's answer).
    pub(super) fn held(
        &self,
        (roles, site): (&Roles, &Site),
        udp: u64,
        judging: &Judging,
        reports: &[crate::sip::CaptureReport],
    ) -> bool {
        let trunks_stale = (judging.kept.trunks.as_ref()).is_some_and(|t| t.stale);
        let waited = udp > 0 && !judging.waiting.is_empty();
        !self.off
            && !reports.iter().any(crate::rules::damaged)
            && !trunks_stale
            && !waited
            && self.xcc.as_ref().is_none_or(|x| *x == xcc_of(roles))
            && self.site.as_ref().is_none_or(|s| *s == judged_as(site))
    }
}

/// Whether the units judged so far read the trunks seen working (FM004 does for a
/// forwarded INVITE that XCC answered 503), and whether a trunk came after one did: that
/// unit would have been judged otherwise with every trunk of the capture.
#[derive(Debug, Default)]
pub(super) struct TrunksRead {
    read: bool,
    pub(super) stale: bool,
}

impl TrunksRead {
    /// A unit was judged: `read` tells whether its rules read the trunks.
    pub(super) fn judged(&mut self, read: bool) {
        self.read |= read;
    }

    /// Trunks seen working arrive, `known` the ones that came before.
    pub(super) fn arrive(
        &mut self,
        trunks: &std::collections::BTreeSet<std::net::SocketAddr>,
        known: &std::collections::BTreeSet<std::net::SocketAddr>,
    ) {
        if self.read && !trunks.is_subset(known) {
            self.stale = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_is_judged_as_its_facts_and_what_was_inferred() {
        let mut early = Site {
            country_code: Some("49".into()),
            inferred: vec!["country code 49 inferred from 2 numbers: +4930, +4931".into()],
            ..Site::default()
        };
        let mut late = early.clone();
        late.inferred = vec!["country code 49 inferred from 900 numbers: +4930, …".into()];
        assert_eq!(judged_as(&early), judged_as(&late));
        early.internal_length = Some(3);
        assert_ne!(judged_as(&early), judged_as(&late));
    }

    #[test]
    fn a_site_that_changes_after_units_were_judged_turns_the_reading_off() {
        let mut s = Speculation::default();
        let site = Site::default();
        assert!(s.site(&site), "the first site is given to the judging");
        assert!(!s.site(&site));
        assert!(s.judging());
        let inferred = Site {
            internal_length: Some(3),
            inferred: vec!["internal number length 3 inferred from 1 number: 201".into()],
            ..Site::default()
        };
        assert!(s.site(&inferred));
        assert!(!s.judging());
    }

    #[test]
    fn roles_that_change_after_units_were_judged_turn_the_reading_off() {
        let mut s = Speculation::default();
        let none = Roles::default();
        s.roles(&none);
        s.roles(&none);
        assert!(s.judging());
        let xcc = Roles {
            xcc: vec!["192.0.2.10".parse().unwrap()],
            ..Roles::default()
        };
        s.roles(&xcc);
        assert!(!s.judging());
    }
}
