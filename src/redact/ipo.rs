//! `--redact` for an IP Office configuration: the loaded [`Config`] rewritten with the
//! run's key, so that its replay of the redacted capture routes as the real
//! configuration routes the real capture.
//!
//! Input: a [`Config`] as read from its file (and the `--busy` parties). Output: the same
//! configuration with every personal value replaced by the token the capture shows for
//! it: addresses as [`super::ip`], ITSP domains and proxies as host names, numbers and
//! SIP names as URI user parts, party names as names. Kept: time-profile names, line
//! numbers, groups, pattern characters (`-`, `X`, `!`, `?`) and the `.`/`#` destinations.
//!
//! Limits (numbers are permuted digit by digit, each digit depending on the digits to
//! its right, the first non-zero digit apart): a number pattern is tokenised as a whole
//! number, so only blank, all-`X` and whole-number patterns keep matching. A pattern
//! whose digits have `X`s to their right (`49305552XX`), a right-aligned one shorter than
//! the received number (`201` for `4930555201`: its first digit may differ) and an
//! Incoming CLI matched on a prefix of the caller's number (`+4940123`) no longer agree
//! with the tokens of the numbers they matched.

use crate::ipoffice::Config;
use crate::ipoffice::config::LocalUri;

use super::{ACTIVE, text, token::Key};

/// Rewrites `cfg` (and the `busy` names) for the active redaction; nothing without one.
pub(crate) fn config(cfg: &mut Config, busy: &mut [String]) {
    let Some(c) = ACTIVE.get() else {
        return;
    };
    let key = &c.key;
    // Destinations name parties by name or extension: map them before the parties change.
    let party = |cfg: &Config, d: &str| -> Option<String> {
        let p = cfg.party(d)?;
        Some(if p.extension == d {
            user(key, &p.extension)
        } else {
            name(key, d)
        })
    };
    let dest = |cfg: &Config, d: &str| -> String {
        match d {
            "" | "." | "#" => d.to_string(),
            _ => party(cfg, d).unwrap_or_else(|| user(key, d)),
        }
    };
    for b in busy.iter_mut() {
        *b = party(cfg, b).unwrap_or_else(|| user(key, b));
    }
    let mut routes = std::mem::take(&mut cfg.routes);
    for r in &mut routes {
        r.destination = dest(cfg, &r.destination);
        r.fallback = dest(cfg, &r.fallback);
        for t in &mut r.time_destinations {
            t.destination = dest(cfg, &t.destination);
            t.fallback = dest(cfg, &t.fallback);
        }
        r.incoming_number = pattern(key, &r.incoming_number);
        r.incoming_cli = cli(key, &r.incoming_cli);
    }
    cfg.routes = routes;
    for a in &mut cfg.system.addresses {
        *a = super::ip(*a);
    }
    for p in cfg.users.iter_mut().chain(cfg.groups.iter_mut()) {
        p.name = name(key, &p.name);
        p.extension = user(key, &p.extension);
        if let Some(s) = &mut p.sip_name {
            *s = user(key, s);
        }
    }
    for l in &mut cfg.lines {
        l.itsp_domain = host(key, &l.itsp_domain);
        for p in &mut l.itsp_proxy {
            *p = super::endpoint(p);
        }
        for a in &mut l.appearance {
            a.number = user(key, &a.number);
        }
        for u in &mut l.uri {
            if let LocalUri::Exact(s) = &mut u.local_uri {
                *s = user(key, s);
            }
        }
    }
}

fn with(s: &str, f: impl FnOnce(&mut [u8])) -> String {
    let mut b = s.as_bytes().to_vec();
    f(&mut b);
    String::from_utf8(b).unwrap_or_default()
}

/// As a URI user part of the capture reads (a number, or a name).
fn user(key: &Key, s: &str) -> String {
    with(s, |b| text::user_part(key, b))
}

fn name(key: &Key, s: &str) -> String {
    with(s, |b| key.name(b))
}

fn host(key: &Key, s: &str) -> String {
    with(s, |b| text::host_text(key, b))
}

/// An Incoming Number: blank and all-`X` patterns stay; otherwise the digits as a number
/// (a leading `-` kept aside), `X`s in place.
fn pattern(key: &Key, p: &str) -> String {
    let (dash, body) = match p.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", p),
    };
    if !body.bytes().any(|b| b.is_ascii_digit()) {
        return p.to_string();
    }
    format!("{dash}{}", with(body, |b| key.number(b)))
}

/// An Incoming CLI: `!`, `?` and blank stay; an address as an address; `user@host` part
/// by part; otherwise as a user part.
fn cli(key: &Key, p: &str) -> String {
    let t = p.trim();
    if t.is_empty() || t == "!" || t == "?" {
        return p.to_string();
    }
    if let Ok(a) = t.parse::<std::net::IpAddr>() {
        return super::ip(a).to_string();
    }
    match t.split_once('@') {
        Some((u, h)) => format!("{}@{}", user(key, u), host(key, h)),
        None => user(key, t),
    }
}
