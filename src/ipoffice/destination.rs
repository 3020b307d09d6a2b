//! Stage 4 of the routing replay: the destination pair by time profile, `.`/`#`
//! resolution and the fallback when the destination is busy.
//!
//! Input: the chosen incoming call route, how its number matched, the Local URI, the
//! local time and the load. Output: the decision's outcome, destination and fallback,
//! and their steps. Invariant: pure, like the rest of the engine.

use super::config::{Config, IncomingCallRoute, LocalUri, Party};
use super::engine::seed;
use super::matching::{LocalTime, NumberMatch, profile_active};
use super::trace::{Decision, Failure, Load, Outcome, Step};

/// Stage 4: the destination pair by time profile (bottom up), `.`/`#` resolution, and the
/// fallback when busy.
#[allow(clippy::too_many_arguments)]
pub(super) fn destination(
    cfg: &Config,
    r: &IncomingCallRoute,
    nm: &NumberMatch,
    number: &str,
    local: Option<&LocalUri>,
    at: LocalTime,
    load: &Load,
    d: &mut Decision,
) {
    let mut pair = (r.destination.as_str(), r.fallback.as_str());
    let mut chosen = None;
    for t in r.time_destinations.iter().rev() {
        let on = cfg
            .time_profiles
            .iter()
            .find(|p| p.name == t.time_profile)
            .is_some_and(|p| profile_active(p, at));
        d.steps.push(Step {
            step: "destination.time-profile",
            compared: format!("time profile `{}` at {at}", t.time_profile),
            result: if on { "true" } else { "false" },
            why: if on {
                format!("use `{}` (fallback `{}`)", t.destination, t.fallback)
            } else {
                "not in any of its intervals".into()
            },
            seed: seed::TIME,
        });
        if on {
            pair = (t.destination.as_str(), t.fallback.as_str());
            chosen = Some(t.time_profile.as_str());
            break;
        }
    }
    d.steps.push(Step {
        step: "destination.pair",
        compared: match chosen {
            Some(p) => format!("pair of time profile `{p}`"),
            None => "default pair".into(),
        },
        result: "chosen",
        why: format!("destination `{}`, fallback `{}`", pair.0, pair.1),
        seed: seed::TIME,
    });
    let fb = cfg.party(pair.1).map_or(pair.1, |p| p.extension.as_str());
    d.fallback = Some(fb.to_string()).filter(|f| !f.is_empty());
    let Some(main) = resolve(cfg, pair.0, nm, number, local, &mut d.steps) else {
        d.outcome = Outcome::Busy { response: 0 };
        d.failure = Some(Failure::Destination);
        return;
    };
    let is_busy = |dest: &str| {
        cfg.party(dest).is_some_and(|p| {
            p.busy || load.busy.contains(&p.name) || load.busy.contains(&p.extension)
        }) || load.busy.contains(dest)
    };
    if !is_busy(&main) {
        d.outcome = Outcome::Routed;
        d.destination = Some(main);
        return;
    }
    let (result, why) = if fb.is_empty() {
        (
            "busy",
            format!("`{main}` is busy and the pair has no fallback: busy"),
        )
    } else {
        (
            "routed",
            format!("`{main}` is busy: the call goes to `{fb}`"),
        )
    };
    d.steps.push(Step {
        step: "destination.busy",
        compared: format!("`{main}` busy?"),
        result,
        why,
        seed: seed::FALLBACK,
    });
    if fb.is_empty() {
        d.outcome = Outcome::Busy { response: 0 };
        d.failure = Some(Failure::Destination);
    } else {
        d.outcome = Outcome::Routed;
        d.destination = Some(fb.to_string());
    }
}

/// A destination as configured → what IP Office presents the call to. `.` is the
/// received number (Auto: an extension; Use Internal Data: a SIP name of a user, then of
/// a group); `#` the digits that met the `X`s.
fn resolve(
    cfg: &Config,
    dest: &str,
    nm: &NumberMatch,
    number: &str,
    local: Option<&LocalUri>,
    steps: &mut Vec<Step>,
) -> Option<String> {
    let received = match dest {
        "." => number,
        "#" => nm.wild.as_str(),
        "" => {
            steps.push(Step {
                step: "destination.resolve",
                compared: "blank destination".into(),
                result: "busy",
                why: "the route has no destination (IP Office would try system short codes, \
                      which this replay does not know): treated as busy"
                    .into(),
                seed: seed::TIME,
            });
            return None;
        }
        _ => {
            return Some(
                cfg.party(dest)
                    .map_or(dest, |p| p.extension.as_str())
                    .to_string(),
            );
        }
    };
    let found: Option<(&Party, &str)> = match local {
        Some(LocalUri::UseInternalData) => cfg
            .users
            .iter()
            .find(|p| p.sip_name().eq_ignore_ascii_case(received))
            .map(|p| (p, "the SIP name of user"))
            .or_else(|| {
                cfg.groups
                    .iter()
                    .find(|p| p.sip_name().eq_ignore_ascii_case(received))
                    .map(|p| (p, "the SIP name of group"))
            }),
        _ => cfg
            .users
            .iter()
            .chain(&cfg.groups)
            .find(|p| p.extension == received)
            .map(|p| (p, "the extension of")),
    };
    let how = match local {
        Some(LocalUri::UseInternalData) => "Use Internal Data",
        Some(LocalUri::Auto) => "Auto",
        _ => "the received number",
    };
    match found {
        Some((p, what)) => {
            steps.push(Step {
                step: "destination.resolve",
                compared: format!("`{dest}` = `{received}` ({how})"),
                result: "match",
                why: format!(
                    "`{received}` is {what} {} → extension {}",
                    p.name, p.extension
                ),
                seed: seed::DOT,
            });
            Some(p.extension.clone())
        }
        None => {
            steps.push(Step {
                step: "destination.resolve",
                compared: format!("`{dest}` = `{received}` ({how})"),
                result: "no-match",
                why: format!(
                    "`{received}` is no {}; IP Office would try system short codes (not \
                     known to this replay): presented as dialled",
                    if how == "Use Internal Data" {
                        "user or group SIP name"
                    } else {
                        "user or group extension"
                    }
                ),
                seed: seed::DOT,
            });
            Some(received.to_string())
        }
    }
}
