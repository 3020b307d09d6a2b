//! `analyze` of one capture file on the judge of `watch`, so that its memory follows the
//! calls in progress, not the calls seen. Input: the command's options and the file;
//! output: the [`Analysis`](crate::report::analysis::Analysis) every report format renders.
//!
//! The file is read once, or twice when the whole capture contradicts what its calls were
//! judged with:
//! 1. Everything, judged as `watch` judges it, with what the capture has shown so far
//!    ([`Pass::Speculate`]). The calls retire and are put in units as `watch` puts them (a
//!    Follow-Me call's legs together); each unit adds its evidence of XCC to a
//!    [`RoleTally`] and its numbers to the site's tally, and is judged on a thread beside
//!    the reading ([`Work`]: the rules, the verdicts, the spooled rows, about a quarter of
//!    the work), in the order units are formed. What each unit shows goes into a
//!    [`Report`]: its findings, its verdicts, its call rows and counts; its INVITEs to and
//!    from XCC name the PBXs (no rule reads them). [`Speculation`] keeps what the units
//!    were judged with: at the end, when it is what the whole capture shows (its roles,
//!    its site, every trunk seen working, some UDP), every call was judged as if the whole
//!    capture had been known, and the report is written.
//! 2. Otherwise everything again, with what the first reading found: the roles of the
//!    whole capture, its site, its UDP count and the trunks seen working
//!    ([`Pass::Judge`]). So every call is judged with what the whole capture shows, as
//!    when all calls are held at once: a Follow-Me failure before the first message that
//!    identifies XCC is still one.
//!
//! Keeping every call would cost memory in proportion to the capture; a first reading
//! that only learnt would cost a reading of every file. Standard input is read as a file
//! is, and so is a named pipe (a shell's `<(…)`): their second reading from a copy
//! (`capture::keep_input`, asked by [`one_file`]). Several files given together (a
//! rotated set, two capture points) are read merged by time, as when every call is held
//! (`app::merged`), one stream judged as one file's ([`analyze_files`]): frames are
//! numbered through the merged stream and cited by file with the read's index at the
//! end. Input that cannot be read twice (one of those without a temporary file for its
//! copy, or standard input among several files) keeps the calls instead
//! (`app::analyze`), and so does a capture
//! where the first reading saw a message come for a call that had retired (a clock that
//! jumps years between two messages): judged in pieces, that call would not be judged as
//! one. A focus on some calls (`--call-id`, `--number`, …) is streamed: every unit is
//! judged, and the report keeps those it selects ([`super::focused`]).

use std::sync::{Arc, Mutex};

use crate::calls::USER_NUMBER_SOURCES;
use crate::calls::focus::CallIds;
use crate::calls::legs::{KnownXcc, RoleTally, Roles};
use crate::capture::CaptureError;
use crate::capture::merge::FrameIndex;
use crate::cli::{AnalyzeArgs, FocusArgs, JudgeArgs, MediaPortArgs, SiteArgs, WatchFormat};
use crate::numbers::Site;
use crate::report::analysis::TextOptions;
use crate::report::analysis_spool::{Layout, Spooled};
use crate::rules::Finding;

use super::input::{read_merged, read_one};
use super::kept::{Kept, Report, Streamed};
use super::speculate::Speculation;
use super::units::{Job, Judging, Work};
use super::{Judge, JudgeSetup};

/// Which reading a judge is on; see the module docs. (One per judge, boxed in it: the
/// variants' sizes do not matter.)
#[allow(clippy::large_enum_variant)]
pub(super) enum Pass {
    /// The first, judged as it goes with what the capture has shown so far, beside the
    /// reading ([`Work`]), and learning what the second reading would judge with: the
    /// evidence of roles, the trunks seen working (see [`super::speculate`]).
    Speculate {
        tally: RoleTally,
        spec: Speculation,
        work: Work,
    },
    /// The second: judged with what the first found, beside the reading ([`Work`]),
    /// the report kept; the INVITEs to and from XCC counted, to name the PBXs. (Also the
    /// end of a first reading whose units were judged as with the whole capture: the
    /// capture rules run with its roles and site.)
    Judge {
        roles: Roles,
        site: Site,
        udp: u64,
        work: Work,
    },
}

impl Pass {
    /// The whole capture's roles, once known.
    pub(super) fn roles(&self) -> Option<&Roles> {
        match self {
            Pass::Judge { roles, .. } => Some(roles),
            Pass::Speculate { .. } => None,
        }
    }

    /// The whole capture's site, once known.
    pub(super) fn site(&self) -> Option<&Site> {
        match self {
            Pass::Judge { site, .. } => Some(site),
            Pass::Speculate { .. } => None,
        }
    }

    /// The whole capture's UDP datagrams (besides SIP), once known.
    pub(super) fn udp_datagrams(&self) -> Option<u64> {
        match self {
            Pass::Judge { udp, .. } => Some(*udp),
            Pass::Speculate { .. } => None,
        }
    }

    /// The evidence of roles, on the first reading.
    pub(super) fn learning(&mut self) -> Option<&mut RoleTally> {
        match self {
            Pass::Speculate { tally, .. } => Some(tally),
            Pass::Judge { .. } => None,
        }
    }

    /// What units were judged with, on a first reading that judges.
    pub(super) fn speculation(&mut self) -> Option<&mut Speculation> {
        match self {
            Pass::Speculate { spec, .. } => Some(spec),
            Pass::Judge { .. } => None,
        }
    }

    /// Where the units are judged.
    pub(super) fn work(&mut self) -> Option<&mut Work> {
        match self {
            Pass::Judge { work, .. } | Pass::Speculate { work, .. } => Some(work),
        }
    }
}

impl Judge {
    /// Findings of no unit, for the report (`analyze`'s second reading, in order with its
    /// units): `findings` back when there is none.
    pub(super) fn report_loose(&mut self, findings: Vec<Finding>) -> Option<Vec<Finding>> {
        match self.stream.as_deref_mut().and_then(Pass::work) {
            Some(work) => {
                work.send(Job::Loose(findings));
                None
            }
            None => Some(findings),
        }
    }

    /// The input has ended and every unit has been sent: their judging back on this
    /// thread, the digests of the calls judged back in the judge (the capture rules read
    /// them) and the SP003 findings that wait for UDP with the media.
    pub(super) fn units_judged(&mut self) {
        let Some(work) = self.stream.as_deref_mut().and_then(Pass::work) else {
            return;
        };
        let judging = work.finish();
        self.seen = std::mem::take(&mut judging.seen);
        // Nothing else waits: every unit is judged there.
        self.media.deferred = std::mem::take(&mut judging.waiting);
    }
}

#[cfg(test)]
thread_local! {
    /// Readings of a file on this thread (the tests count them).
    pub(in crate::app) static READINGS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// What a streamed `analyze` reads: one file, or files given together, merged by time.
#[derive(Clone, Copy)]
enum Input<'a> {
    One(&'a str),
    Merged(&'a [String]),
}

/// The `n`th reading of `input` by `judge`, and the errors it met.
fn read(judge: Judge, input: Input<'_>, n: u8) -> (Judge, Vec<CaptureError>) {
    #[cfg(test)]
    READINGS.with(|r| r.set(r.get() + 1));
    let mut errors = Vec::new();
    super::super::progress::reading(n);
    let judge = Mutex::new(judge);
    match input {
        Input::One(path) => read_one(path, None, &judge, &mut errors),
        Input::Merged(paths) => read_merged(paths, &judge, &mut errors),
    }
    super::super::progress::reading(0);
    (
        judge.into_inner().unwrap_or_else(|e| e.into_inner()),
        errors,
    )
}

/// What `analyze` of one file is run with: the options of `analyze`, or those `flow`
/// shares with it.
pub(in crate::app) struct FileOptions<'a> {
    pub(in crate::app) site: &'a SiteArgs,
    pub(in crate::app) ports: &'a MediaPortArgs,
    pub(in crate::app) judge: &'a JudgeArgs,
    pub(in crate::app) focus: &'a FocusArgs,
    /// What the reading collects for `analyze --flow`'s ladders, if any.
    pub(in crate::app) ladders: Option<super::LadderPass>,
    /// Where it gathers the comments of `analyze --annotate`, if asked.
    pub(in crate::app) comments: Option<Arc<Mutex<super::super::annotate::Comments>>>,
}

impl<'a> FileOptions<'a> {
    /// The options of `analyze`.
    pub(in crate::app) fn of(args: &'a AnalyzeArgs) -> Self {
        FileOptions {
            site: &args.site,
            ports: &args.ports,
            judge: &args.judge,
            focus: &args.focus,
            ladders: None,
            comments: None,
        }
    }
}

/// The judge of `analyze` of one file, with the command's options.
fn setup<'a>(args: &FileOptions<'a>) -> JudgeSetup<'a> {
    JudgeSetup {
        site: args.site,
        ports: args.ports,
        judge: args.judge,
        format: WatchFormat::Json,
        text: TextOptions {
            color: false,
            verbose: false,
            width: 80,
        },
    }
}

/// The report of a reading, its rows kept as `layout` says, showing the calls `args`
/// focuses on.
fn new_report(args: &FileOptions<'_>, layout: Layout) -> anyhow::Result<Box<Report>> {
    let mut report = Box::new(Report::new(layout));
    report.focus(super::super::flow::focus(args.focus)?);
    if let Some(pass) = &args.ladders {
        report.ladders(pass.clone());
    }
    if let Some(comments) = &args.comments {
        report.comments(Arc::clone(comments));
    }
    Ok(report)
}

/// The judge of the first reading ([`Pass::Speculate`]), its rows kept as `layout` says.
fn first_judge(
    setup: &JudgeSetup<'_>,
    args: &FileOptions<'_>,
    layout: Layout,
) -> anyhow::Result<Judge> {
    let mut first = Judge::new(setup)?;
    first.drop_let_go();
    if layout == Layout::Selection {
        first.select_only();
    }
    let mut tally = RoleTally::new(&first.xcc);
    tally.without_pairs();
    let judging = Judging {
        rules: first.unit_rules.clone(),
        seen: Default::default(),
        site: first.site.clone(),
        waiting: Default::default(),
        kept: Kept {
            tally: RoleTally::new(&first.xcc),
            report: new_report(args, layout)?,
            trunks: Some(Default::default()),
        },
    };
    first.stream = Some(Box::new(Pass::Speculate {
        tally,
        spec: Speculation::default(),
        work: Work::start(judging),
    }));
    Ok(first)
}

/// Tests: [`analyze_files`] of one file, without the index.
#[cfg(test)]
pub(in crate::app) fn analyze_file(
    args: &FileOptions<'_>,
    path: &str,
    layout: Layout,
) -> anyhow::Result<Option<(Option<Streamed>, Vec<CaptureError>)>> {
    let analysed = analyze_input(args, Input::One(path), layout)?;
    Ok(analysed.map(|(streamed, errors)| (streamed.map(|(s, _)| s), errors)))
}

/// `analyze` of the file `paths` holds (readable twice), or of files given together
/// (every one a file that can be read again), merged by timestamp as when every call is
/// held, its rows kept as `layout` says; see the module docs. With the index of the
/// merged frame numbers. `None` beside the errors when it could not be read; `Ok(None)`
/// when a call came back after it retired (a capture whose clock jumps) or the rows
/// could not be spooled: the caller then holds every call instead.
pub(in crate::app) fn analyze_files(
    args: &FileOptions<'_>,
    paths: &[String],
    layout: Layout,
) -> anyhow::Result<Option<Analysed>> {
    match paths {
        [path] => analyze_input(args, Input::One(path), layout),
        _ => analyze_input(args, Input::Merged(paths), layout),
    }
}

/// What a streamed `analyze` of one file or of files merged gives: the report and, for
/// files merged, the index of the frame numbers; the errors met.
pub(in crate::app) type Analysed = (Option<(Streamed, FrameIndex)>, Vec<CaptureError>);

fn analyze_input(
    args: &FileOptions<'_>,
    input: Input<'_>,
    layout: Layout,
) -> anyhow::Result<Option<Analysed>> {
    let setup = setup(args);
    // The first reading: roles, site, UDP, and each unit judged with what came before it.
    let first = first_judge(&setup, args, layout)?;
    let (mut first, errors) = read(first, input, 1);
    if first.end.captures.is_empty() {
        return Ok(Some((None, errors)));
    }
    first.judge_the_rest();
    // A message for a call that had retired: judged in pieces, it would not be judged as
    // one call.
    if first.retiring.reopened() > 0 {
        return Ok(None);
    }
    let Some(Pass::Speculate {
        tally,
        spec,
        mut work,
    }) = first.stream.take().map(|p| *p)
    else {
        unreachable!("the first reading judges as it goes");
    };
    let roles = tally.roles(&first.xcc, &first.pbx, &KnownXcc::default());
    let mut site = first.site.clone();
    first.tally.apply(&mut site, USER_NUMBER_SOURCES);
    let udp = first.media.udp_datagrams();
    // The second reading knows every file's report from the start.
    let reports = first.end.captures.clone();
    let ipo = first.ipo.known();
    if spec.held((&roles, &site), udp, work.finish(), &reports) {
        // Every unit was judged as with the whole capture: its end, as the second
        // reading's, with the evidence of this one.
        first.stream = Some(Box::new(Pass::Judge {
            roles,
            site,
            udp,
            work,
        }));
        return report(first, Some(tally), errors);
    }
    drop(work);
    drop(first);
    // The second: judged with what the first found.
    let mut second = Judge::new(&setup)?;
    second.unit_rules.last_reports = reports;
    // Every unit judged with the IP Office addresses of the whole capture.
    second.ipo_whole = Some(ipo);
    second.drop_let_go();
    if layout == Layout::Selection {
        second.select_only();
    }
    // No call comes back: the first reading found none.
    second.retiring.forget_retired();
    // Its units are judged beside the reading, with the trunks the first found working.
    let judging = Judging {
        rules: second.unit_rules.clone(),
        seen: crate::rules::Seen {
            working_trunks: spec.trunks,
            ..Default::default()
        },
        site: site.clone(),
        waiting: Default::default(),
        kept: Kept {
            tally,
            report: new_report(args, layout)?,
            trunks: None,
        },
    };
    second.stream = Some(Box::new(Pass::Judge {
        roles,
        site,
        udp,
        work: Work::start(judging),
    }));
    let (j, errors) = read(second, input, 2);
    if j.end.captures.is_empty() {
        return Ok(Some((None, errors)));
    }
    report(j, None, errors)
}

/// The keys of the calls `focus` selects in `captures` when they are one file that can
/// be read again ([`one_file`]) or several files ([`several_files`], merged by time), as
/// `analyze` of them finds them (`judge`'s `--xcc`, `--pbx`), read as a stream: memory
/// follows the calls in progress and, of the calls seen, keeps a hash of each one
/// selected ([`CallIds`]).
/// `None` without a focus, for other input, when one of several files cannot be read (the
/// command reads them held and reports it), or when the calls are to be held instead (a
/// clock that jumps, no temporary directory); an error when the one file cannot be read
/// or no call meets the focus.
pub(in crate::app) fn focused_calls(
    judge: &JudgeArgs,
    focus: &FocusArgs,
    captures: &[String],
) -> anyhow::Result<Option<CallIds>> {
    if super::super::flow::focus(focus)?.is_empty() {
        return Ok(None);
    }
    let Some(paths) = streamed_paths(captures) else {
        return Ok(None);
    };
    let file = FileOptions {
        site: &SiteArgs::default(),
        ports: &MediaPortArgs::default(),
        judge,
        focus,
        ladders: None,
        comments: None,
    };
    let Some((analysis, errors)) = analyze_files(&file, &paths, Layout::Selection)? else {
        return Ok(None);
    };
    if let Some(e) = errors.into_iter().next() {
        return if paths.len() > 1 {
            Ok(None)
        } else {
            Err(e.into())
        };
    }
    match analysis {
        Some(((_, Some(Spooled::Selection(shown))), _)) => Ok(Some(shown)),
        _ => Ok(None),
    }
}

/// The files `analyze` and `flow` read as a stream: one input that can be read again
/// ([`one_file`]), or several files merged by time ([`several_files`]); `None` when the
/// calls are to be held instead.
pub(in crate::app) fn streamed_paths(captures: &[String]) -> Option<Vec<String>> {
    match captures {
        [_] => one_file(captures).map(|path| vec![path.to_string()]),
        _ => several_files(captures).map(<[String]>::to_vec),
    }
}

/// Whether `captures` are one input that can be read again: a file, or input that can be
/// read only once (standard input, a named pipe) kept from here on for the readings after
/// the first ([`crate::capture::keep_input`]) when a temporary file can hold it. Ask only
/// before readings that may be repeated: keeping such input writes it to disk.
fn one_file(captures: &[String]) -> Option<&str> {
    match captures {
        [path] if crate::capture::read_once(path) => {
            crate::capture::keep_input(path).then_some(path.as_str())
        }
        [path] if std::fs::metadata(path).is_ok_and(|m| m.is_file()) => Some(path),
        _ => None,
    }
}

/// Whether `captures` are several files that can each be read again (no standard input,
/// no named pipe: those are read once, each, merged with the others).
fn several_files(captures: &[String]) -> Option<&[String]> {
    let file = |p: &String| {
        !crate::capture::read_once(p) && std::fs::metadata(p).is_ok_and(|m| m.is_file())
    };
    (captures.len() > 1 && captures.iter().all(file)).then_some(captures)
}

/// The end of the reading that judged every unit with the whole capture's roles and site
/// (`j`, on [`Pass::Judge`]): the report. `learnt`: the evidence of roles, when the
/// judging's tally holds only the INVITEs to and from XCC (the first reading judged).
/// `None` when the rows could not be spooled; an error when a focus selected no call.
fn report(
    mut j: Judge,
    learnt: Option<RoleTally>,
    errors: Vec<CaptureError>,
) -> anyhow::Result<Option<Analysed>> {
    let mut capture_findings = j.end_of_input();
    let captures = std::mem::take(&mut j.end.captures);
    let Some(Pass::Judge {
        site, work, udp, ..
    }) = j.stream.take().map(|p| *p)
    else {
        unreachable!("the reading judges");
    };
    let Kept {
        mut tally,
        mut report,
        ..
    } = work.into_judging().kept;
    if let Some(mut learnt) = learnt {
        learnt.take_pairs(tally);
        tally = learnt;
    }
    // The PBXs, named by the INVITEs to and from XCC.
    let roles = tally.roles(&j.xcc, &j.pbx, &KnownXcc::default());
    // Known only now: the INVITEs left out at the address pairs' cap (CAP006).
    let reported =
        |f: &crate::rules::Finding| f.id == "CAP006" && f.evidence["limit"] == "address-pairs";
    if !capture_findings.iter().any(reported) {
        capture_findings.extend(
            roles
                .pair_limit
                .as_ref()
                .map(crate::rules::cap006_limit_reached::address_pairs),
        );
    }
    report.loose(capture_findings);
    report.check_focus()?;
    // `None`: the rows could not be spooled (no temporary directory to write to); the
    // file is read again, holding every call, as `media` does.
    let Ok(streamed) = report.analysis(site, roles, captures, udp) else {
        return Ok(None);
    };
    Ok(Some((
        Some((streamed, std::mem::take(&mut j.files))),
        errors,
    )))
}

#[cfg(test)]
mod tests {
    use super::super::media::CallsNamed;
    use super::*;
    use clap::Parser;

    /// `analyze FILE`'s options.
    fn analyze_args(path: &str) -> AnalyzeArgs {
        focused_args(path, &[])
    }

    /// `analyze EXTRA… FILE`'s options.
    fn focused_args(path: &str, extra: &[&str]) -> AnalyzeArgs {
        let args = ["sipdiag", "analyze"].iter().chain(extra).chain([&path]);
        let cli = crate::cli::Cli::try_parse_from(args).unwrap();
        match cli.command {
            crate::cli::Command::Analyze(args) => args,
            _ => unreachable!("parsed as analyze"),
        }
    }

    /// `testdata/followme/many-calls.pcap`: 66 calls, Follow-Me pairs and FM002 among them.
    fn many_calls() -> String {
        format!(
            "{}/testdata/followme/many-calls.pcap",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    /// `analyze EXTRA… PATH` as the command runs it, and the readings it took as a stream.
    fn analyzed_counting(
        path: &str,
        extra: &[&str],
    ) -> anyhow::Result<(super::super::super::analyze::Analyzed, u32)> {
        READINGS.with(|r| r.set(0));
        let args = focused_args(path, extra);
        let captures = [path.to_string()];
        let (a, errors) = super::super::super::analyze::analyze_captures(&args, &captures, false)?;
        assert!(errors.is_empty(), "{errors:?}");
        Ok((a.expect("read"), READINGS.with(|r| r.get())))
    }

    /// The readings `analyze` of the fixture `rel` takes, and its findings.
    fn readings(rel: &str) -> (u32, Vec<&'static str>) {
        let path = format!("{}/testdata/{rel}", env!("CARGO_MANIFEST_DIR"));
        READINGS.with(|r| r.set(0));
        let args = analyze_args(&path);
        let streamed = analyze_file(&FileOptions::of(&args), &path, Layout::Held).unwrap();
        let Some((Some((analysis, _)), errors)) = streamed else {
            panic!("{rel}: not analysed as a stream");
        };
        assert!(errors.is_empty(), "{errors:?}");
        let ids = analysis.findings.iter().map(|f| f.finding.id).collect();
        (READINGS.with(|r| r.get()), ids)
    }

    /// A file whose calls were judged with what the whole capture shows is read once; one
    /// that names XCC only after a Follow-Me call was judged is read again, and so is a
    /// damaged one.
    #[test]
    fn a_file_is_read_again_only_when_the_capture_contradicts_the_judging() {
        assert_eq!(readings("followme/fm002-intl00.pcap"), (1, vec!["FM002"]));
        assert_eq!(readings("followme/busy-site.pcap").0, 1);
        assert_eq!(readings("extract/interleaved.pcapng").0, 2);
        // A damaged file: read again, its calls judged knowing the damage from the start.
        let (n, ids) = readings("followme/cap-followme-truncated.pcap");
        assert_eq!(n, 2);
        assert!(ids.contains(&"FM002"), "{ids:?}");
    }

    /// A focus on some calls is streamed, the report showing the unit each call selected
    /// is part of (a Follow-Me leg brings the leg linked to it) and FM002's suggestion
    /// written from every number of the capture; a focus that selects no call fails.
    #[test]
    fn a_focus_is_streamed_and_shows_the_units_it_selects() {
        let path = many_calls();
        let analysed =
            |extra: &[&str]| analyzed_counting(&path, extra).map(|(a, n)| (a.analysis, n));
        let (whole, _) = analysed(&[]).unwrap();
        assert_eq!(whole.summary.counts.calls, 66);
        // A second leg: both legs shown.
        let (a, readings) =
            analysed(&["--call-id", "516dfc03bb884876380ae5d8@127.0.0.20"]).unwrap();
        assert!(readings >= 1, "read as a stream");
        let ids: Vec<&str> = a.calls.iter().map(|c| c.call_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "7a8703aba1c89160667956f2@127.0.0.10",
                "516dfc03bb884876380ae5d8@127.0.0.20"
            ]
        );
        assert_eq!(
            (a.summary.counts.calls, a.summary.counts.followme_linked),
            (2, 1)
        );
        assert!(a.findings.is_empty(), "{:?}", a.findings);
        // A number: the one call that forwards it, its FM002 suggestion proven on the
        // numbers of all 44 FM002 calls and the others.
        let (a, readings) = analysed(&["--number", "+49891001"]).unwrap();
        assert!(readings >= 1, "read as a stream");
        assert_eq!(a.summary.counts.calls, 1);
        let ids: Vec<&str> = a.findings.iter().map(|f| f.finding.id).collect();
        assert_eq!(ids, ["FM002"]);
        let [suggestion] = &a.suggestions[..] else {
            panic!("one suggestion: {:?}", a.suggestions);
        };
        assert_eq!(
            suggestion, &whole.suggestions[0],
            "the whole capture's suggestion"
        );
        let err = analysed(&["--call-id", "no-such-call"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("no call in the capture matches the selection"),
            "{err}"
        );
    }

    /// `calls`, `messages` and `media` with a focus on one file find its calls as
    /// `analyze` does, as a stream (several files hold them).
    #[test]
    fn calls_and_messages_find_a_focus_as_a_stream() {
        let path = many_calls();
        for command in ["calls", "messages", "media"] {
            let argv = [
                "sipdiag",
                command,
                "--format",
                "json",
                "--number",
                "+49891010",
                &path,
            ];
            READINGS.with(|r| r.set(0));
            let code = match crate::cli::Cli::try_parse_from(argv).unwrap().command {
                crate::cli::Command::Calls(args) => super::super::super::calls::calls(&args),
                crate::cli::Command::Messages(args) => {
                    super::super::super::commands::messages(&args)
                }
                crate::cli::Command::Media(args) => super::super::super::commands::media(&args),
                _ => unreachable!("parsed as {command}"),
            };
            assert_eq!(code.unwrap(), 0, "{command}");
            assert!(
                READINGS.with(|r| r.get()) >= 1,
                "{command} read as a stream"
            );
        }
    }

    /// `analyze --flow` of one file: the report read as a stream, then the failed calls
    /// found on a reading without rules; the same ladders as with every call held.
    #[test]
    fn analyze_flow_of_one_file_is_read_as_a_stream() {
        let path = many_calls();
        let ladders = |extra: &[&str]| {
            let (a, readings) = analyzed_counting(&path, extra).unwrap();
            (a.ladders, readings)
        };
        let (streamed, readings) = ladders(&["--flow"]);
        assert!(readings >= 2, "the report's reading and the failed calls'");
        assert!(
            streamed.starts_with("\nCall flow 1 of 54 (failed):\n"),
            "{streamed}"
        );
        assert!(streamed.contains("…and 49 more failed calls"), "{streamed}");
        let (held, readings) = ladders(&["--flow", "--in-memory"]);
        assert_eq!(readings, 0);
        assert_eq!(streamed, held);
        // With a focus: the failed calls it keeps.
        let (streamed, _) = ladders(&["--flow", "--number", "+49891001"]);
        assert!(
            streamed.starts_with("\nCall flow 1 of 1 (failed):\n"),
            "{streamed}"
        );
        let (held, _) = ladders(&["--flow", "--number", "+49891001", "--in-memory"]);
        assert_eq!(streamed, held);
    }

    /// `analyze --format html` of one file: the report read as a stream, its verdicts
    /// left spooled, the failed calls' ladders (with their messages' texts) found on
    /// further readings; the same ladders as with every call held.
    #[test]
    fn analyze_html_of_one_file_is_read_as_a_stream() {
        let path = many_calls();
        // As the command runs it (`forget`: the process ends after the report).
        READINGS.with(|r| r.set(0));
        let args = focused_args(&path, &["--format", "html"]);
        let captures = [path.clone()];
        let (streamed, errors) =
            super::super::super::analyze::analyze_captures(&args, &captures, true).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        let streamed = streamed.expect("read");
        let readings = READINGS.with(|r| r.get());
        assert!(readings >= 2, "the report's reading and the failed calls'");
        assert!(matches!(streamed.rows, Some(Spooled::Verdicts(_))));
        assert!(streamed.analysis.verdicts.is_empty(), "no verdict held");
        let ladders = &streamed.html_ladders;
        assert_eq!((ladders.ladders.len(), ladders.failed), (20, 54));
        assert!(
            ladders
                .ladders
                .iter()
                .all(|l| l.texts.iter().all(Option::is_some))
        );
        let (held, readings) =
            analyzed_counting(&path, &["--format", "html", "--in-memory"]).unwrap();
        assert_eq!(readings, 0);
        assert_eq!(format!("{ladders:?}"), format!("{:?}", held.html_ladders));
    }

    /// A listing's selection keeps which calls are shown and nothing else: the same calls
    /// as the report held whole shows, and no row, verdict or finding.
    #[test]
    fn a_selection_keeps_the_calls_shown_and_nothing_else() {
        let path = many_calls();
        for focus in [
            &["--since", "2000-01-01T00:00:00Z"][..],
            &["--number", "+49891001"],
            &["--call-id", "516dfc03bb884876380ae5d8@127.0.0.20"],
        ] {
            let args = focused_args(&path, focus);
            let file = FileOptions::of(&args);
            let run = |layout| {
                let (streamed, errors) = analyze_file(&file, &path, layout).unwrap().unwrap();
                assert!(errors.is_empty(), "{errors:?}");
                streamed.expect("read")
            };
            let (held, _) = run(Layout::Held);
            assert!(!held.findings.is_empty() || focus[0] == "--call-id");
            let (a, spooled) = run(Layout::Selection);
            let Some(Spooled::Selection(shown)) = spooled else {
                panic!("{focus:?}: no selection");
            };
            assert_eq!(shown.len(), held.calls.len(), "{focus:?}");
            assert!(held.calls.iter().all(|c| shown.contains(&c.call_id)));
            assert!(!shown.contains("not-a-call-id"));
            let kept = (a.calls.len(), a.verdicts.len(), a.findings.len());
            assert_eq!(kept, (0, 0, 0), "{focus:?}");
            // No rule ran, and the media was only counted.
            let k = &a.summary.counts;
            assert!(k.findings_by_rule.is_empty(), "{:?}", k.findings_by_rule);
            assert_eq!(k.rtp_streams, 0);
            assert!(held.summary.counts.rtp_streams > 0 || focus[0] != "--since");
        }
    }

    /// A first reading of `fixture`, giving up judging after `units` looks at roles
    /// (`None`: never): its media's calls named, held and in all, its UDP count, and
    /// whether it only counted the media at the end.
    fn first_reading(fixture: &str, units: Option<usize>) -> (CallsNamed, u64, bool) {
        let path = format!("{}/testdata/{fixture}", env!("CARGO_MANIFEST_DIR"));
        let args = analyze_args(&path);
        let args = FileOptions::of(&args);
        let mut judge = first_judge(&setup(&args), &args, Layout::Held).unwrap();
        if let Some(n) = units
            && let Some(spec) = judge.stream.as_deref_mut().and_then(Pass::speculation)
        {
            spec.give_up_after(n);
        }
        let (mut judge, errors) = read(judge, Input::One(&path), 1);
        assert!(errors.is_empty(), "{errors:?}");
        judge.judge_the_rest();
        let counts_only = judge.media.counts_only();
        (
            judge.media.calls_named(),
            judge.media.udp_datagrams(),
            counts_only,
        )
    }

    /// Once the capture has contradicted what units were judged with, the first reading
    /// judges no more units and follows no more media (the file is read again), but the
    /// media of each call it followed still leaves with the call, and it counts the UDP
    /// datagrams the second reading is given as a full reading does.
    #[test]
    fn a_reading_that_no_longer_judges_counts_the_media_and_lets_each_call_s_go() {
        let fixture = "followme/many-calls.pcap";
        let (all, udp, counts_only) = first_reading(fixture, None);
        assert!(!counts_only);
        assert!(all.total > 4, "the capture's calls announce media: {all:?}");
        assert!(udp > 0);
        let (named, given_up_udp, counts_only) = first_reading(fixture, Some(5));
        assert!(
            counts_only,
            "the media is only counted once units are not judged"
        );
        assert!(
            named.total > 2 && named.total < all.total,
            "media followed until the reading gave up: {named:?} of {all:?}"
        );
        assert_eq!(named.held, 0, "{named:?}");
        assert_eq!(given_up_udp, udp);
    }
}
