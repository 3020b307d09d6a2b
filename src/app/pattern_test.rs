//! `sipdiag pattern test`: rewrites tried on numbers — given, or the Diversion and
//! History-Info numbers of captures — with the site (given, or inferred from the captures
//! as `analyze` infers it), and the XccDiversionPattern they make.
//!
//! Captures are read as a stream: the site from `analyze` of them (several merged by time;
//! [`super::watch::analyze_files`], judging no call), then the numbers from the INVITEs
//! read again, so that memory follows the calls in progress. `--in-memory`, and input
//! that cannot be read twice without a copy, hold every call instead.
//!
//! Input: the command's options and captures; output: the table or JSON and the exit
//! code (1 when a number stays unrecognised).

use std::collections::BTreeSet;

use crate::calls::legs::{infer_roles, link_legs};
use crate::capture::CaptureError;
use crate::cli::{Format, MediaPortArgs, PatternTestArgs};
use crate::media::MediaSettings;
use crate::numbers::Site;
use crate::report::analysis_spool::Layout;
use crate::report::listing;
use crate::sip::{CaptureReport, SipMessage};

use super::{Sink, collect, finish, infer_site, site_settings, write_out};

/// What the captures give a pattern test.
struct Found {
    /// Their Diversion and History-Info numbers, each once.
    numbers: BTreeSet<String>,
    /// The site, with what the captures let sipdiag infer.
    site: Site,
    reports: Vec<CaptureReport>,
    errors: Vec<CaptureError>,
}

/// The Diversion and History-Info numbers of the INVITEs of a capture.
#[derive(Default)]
struct Forwarded(BTreeSet<String>);

impl Sink for Forwarded {
    fn message(&mut self, m: SipMessage) {
        if m.method() != Some("INVITE") {
            return;
        }
        for d in m.diversion() {
            self.0.extend(d.addr.user);
        }
        for h in m.history_info() {
            self.0.extend(h.addr.user);
        }
    }
}

/// The captures read as a stream (see the module docs); `None` when they are to be held.
fn streamed(args: &PatternTestArgs) -> anyhow::Result<Option<Found>> {
    let Some(paths) = super::watch::streamed_paths(&args.captures) else {
        return Ok(None);
    };
    let file = super::watch::FileOptions {
        site: &args.site,
        ports: &MediaPortArgs::default(),
        judge: &Default::default(),
        focus: &Default::default(),
        ladders: None,
        comments: None,
    };
    let Some((analysed, errors)) = super::watch::analyze_files(&file, &paths, Layout::Selection)?
    else {
        return Ok(None);
    };
    let Some(((analysis, _), _)) = analysed else {
        let (site, _) = site_settings(&args.site, &MediaPortArgs::default())?;
        let (numbers, reports) = (BTreeSet::new(), Vec::new());
        return Ok(Some(Found {
            numbers,
            site,
            reports,
            errors,
        }));
    };
    let mut numbers = Forwarded::default();
    super::scan_again(&paths, &mut numbers);
    Ok(Some(Found {
        numbers: numbers.0,
        site: analysis.site,
        reports: analysis.captures,
        errors,
    }))
}

/// The captures read with every call held, the site given as `site`.
fn held(args: &PatternTestArgs, mut site: Site) -> Found {
    let (col, reports, errors, _) = collect(&args.captures, MediaSettings::default());
    let mut numbers = BTreeSet::new();
    for t in col.set.calls.iter().flat_map(|c| &c.invites) {
        numbers.extend(t.diversion.iter().filter_map(|d| d.addr.user.clone()));
        numbers.extend(t.history_info.iter().filter_map(|h| h.addr.user.clone()));
    }
    let roles = infer_roles(&col.set.calls, &[], &[]);
    let legs = link_legs(&col.set.calls, &roles);
    infer_site(&mut site, &col.set.calls, &legs);
    Found {
        numbers,
        site,
        reports,
        errors,
    }
}

pub(super) fn pattern_test(args: &PatternTestArgs) -> anyhow::Result<u8> {
    use crate::numbers::pattern::{self, Rewrite};
    let rewrites: Vec<Rewrite> = args
        .rewrite
        .iter()
        .map(|r| Rewrite::parse(r).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<_>>()?;
    let (mut site, _) = site_settings(&args.site, &MediaPortArgs::default())?;
    let mut values: Vec<String> = Vec::new();
    for v in &args.value {
        // A whole header value or a bare number.
        let n = if v.contains(':') || v.contains('<') {
            crate::sip::headers::parse_name_addr(v)
                .user
                .unwrap_or_else(|| v.clone())
        } else {
            v.clone()
        };
        values.push(n);
    }
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    if !args.captures.is_empty() {
        let streamed = if args.in_memory {
            None
        } else {
            streamed(args)?
        };
        let found = match streamed {
            Some(found) => found,
            None => held(args, site.clone()),
        };
        site = found.site;
        values.extend(found.numbers);
        reports = found.reports;
        errors = found.errors;
    }
    anyhow::ensure!(
        !values.is_empty() || !errors.is_empty(),
        "nothing to test: give --value or captures with Diversion/History-Info numbers"
    );
    let proof = pattern::prove(&rewrites, &values, &site);
    let text = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "schema_version": listing::SCHEMA_VERSION,
                "rewrites": rewrites,
                "results": proof,
                "xcc_diversion_pattern": pattern::xcc_diversion_pattern(site.current_pattern.as_deref(), &rewrites),
                "syntax_verified": false,
            }))? + "\n"
        }
        Format::Table => {
            let mut t = crate::report::new_table(&["Before", "After", "Format", "XCC finds it"]);
            for p in &proof {
                t.add_row(vec![
                    p.observed.clone(),
                    p.rewritten.clone(),
                    p.format_after_label.clone(),
                    if p.understood_by_xcc {
                        "yes".into()
                    } else {
                        "no".to_string()
                    },
                ]);
            }
            let notes: String = proof
                .iter()
                .filter_map(|p| Some(format!("{}: {}\n", p.observed, p.unresolved.as_ref()?)))
                .collect();
            format!(
                "{t}\n{notes}Candidate XccDiversionPattern: {}\n({})\n{}",
                pattern::xcc_diversion_pattern(site.current_pattern.as_deref(), &rewrites),
                pattern::SYNTAX_CAVEAT,
                listing::captures_footer(&reports)
            )
        }
    };
    write_out(&text)?;
    finish(errors)?;
    Ok(u8::from(proof.iter().any(|p| !p.understood_by_xcc)))
}
