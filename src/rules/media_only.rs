//! Stage 5, media rules alone (SP001-SP006), for callers that judge media without roles,
//! legs or a site (library users, the media tests). Input: a finished [`MediaReport`] and
//! the calls whose SDP it was built from; output: findings, as `analyze` would give them.
//! It lives here, not in `media`, because media is an earlier stage than the rules.

use super::{Context, Finding, ipo, run_rules};
use crate::calls::Call;
use crate::media::MediaReport;

/// The six softphone/media rules (SP001-SP006) over a report and the SIP calls, without
/// the rest of a rule [`Context`].
pub fn check_media(report: &MediaReport, calls: &[Call]) -> Vec<Finding> {
    let roles = crate::calls::legs::Roles::default();
    let legs = crate::calls::legs::Legs::default();
    let site = crate::numbers::Site::default();
    let cx = Context {
        captures: &[],
        calls,
        roles: &roles,
        legs: &legs,
        site: &site,
        media: report,
        ipo: &ipo::NO_IPO,
        seen: &Default::default(),
    };
    run_rules(&cx, &|r| r.id.starts_with("SP"))
}
