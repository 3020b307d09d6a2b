//! The IP Office addresses that the calls judged so far identify (a Server or
//! User-Agent that says "IP Office"), in the order a reading that holds every call finds
//! them: by the calls' places in the capture, then the order of their agents. A unit of
//! calls judged as it ends is given them (a call that IP Office ignored names it
//! nowhere; another call does), and `analyze`'s first reading checks that what its units
//! were given is what the whole capture shows ([`super::speculate`]).
//!
//! Input: each unit's calls with their places. Output: the addresses and why each is IP
//! Office, shared by the units judged with them.

use std::net::IpAddr;
use std::sync::Arc;

use crate::calls::Call;
use crate::ipoffice::replay::{identified, names_ip_office};

/// The IP Office addresses a unit is judged with, and why each is.
pub(super) type IpoKnown = Arc<(Vec<IpAddr>, Vec<String>)>;

/// What the calls judged so far identify; see the module docs.
#[derive(Debug, Default)]
pub(super) struct IpoTally {
    /// Per address, the earliest call (its place) and agent that identified it, and why;
    /// in that order.
    found: Vec<((u64, usize), IpAddr, String)>,
    /// The addresses as last handed out.
    known: IpoKnown,
}

impl IpoTally {
    /// Adds what `calls` (at `places`) identify: the addresses to judge them with.
    pub(super) fn add(&mut self, places: &[u64], calls: &[Call]) -> IpoKnown {
        let mut changed = false;
        for (&place, c) in places.iter().zip(calls) {
            for (i, (a, agent)) in c.agents.iter().enumerate() {
                if !names_ip_office(agent) {
                    continue;
                }
                let (at, ip) = ((place, i), a.ip());
                match self.found.iter_mut().find(|f| f.1 == ip) {
                    Some(f) if f.0 <= at => continue,
                    Some(f) => *f = (at, ip, identified(ip, agent)),
                    None => self.found.push((at, ip, identified(ip, agent))),
                }
                changed = true;
            }
        }
        if changed {
            self.found.sort_by_key(|f| f.0);
            let known = (self.found.iter())
                .map(|(_, ip, why)| (*ip, why.clone()))
                .unzip();
            self.known = Arc::new(known);
        }
        Arc::clone(&self.known)
    }

    /// The addresses the calls judged so far identify.
    pub(super) fn known(&self) -> IpoKnown {
        Arc::clone(&self.known)
    }
}
