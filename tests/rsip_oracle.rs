//! rsip as a second opinion on sipdiag's SIP parser (a differential test).
//!
//! Every SIP message of the fixtures (`testdata/**`) and of the public corpus
//! (`../shared/captures`, skipped when absent) is framed by sipdiag's own reader
//! ([`app::scan_raw`]); its bytes go to rsip as well. Where rsip reads a field, it must
//! equal sipdiag's reading: method or status, Call-ID, CSeq, From/To user and tag, and the
//! top Via's branch. What rsip rejects (the whole message, or one header it cannot type)
//! is counted by reason. Both are committed as data in `testdata/oracle/`:
//! - `rsip-rejects.tsv`: messages compared and rejections by reason, per scope;
//! - `rsip-differences.tsv`: every field where the two disagree, each with the reason why
//!   sipdiag's reading stands (RFC 3261, tshark).
//!
//! A change in either shows in review. To rewrite them after a deliberate change:
//! `SIPDIAG_UPDATE_RSIP=1 cargo test --test rsip_oracle` (the reasons of differences that
//! remain are kept; new ones are marked `UNEXPLAINED`, which fails until explained).

mod common;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use rsip::prelude::*;
use sipdiag::app;
use sipdiag::sip::SipMessage;

const FIELDS: [&str; 8] = [
    "kind",
    "call_id",
    "cseq",
    "from_user",
    "from_tag",
    "to_user",
    "to_tag",
    "branch",
];

/// One field as read by a parser: `Ok(None)` when absent, `Err(reason)` when rsip cannot
/// read the header it is in.
type Field = Result<Option<String>, String>;

/// sipdiag's reading of the compared fields.
fn sipdiag_fields(m: &SipMessage) -> [Option<String>; 8] {
    let from = m.from();
    let to = m.to();
    [
        Some(m.kind()),
        m.call_id().map(str::to_string),
        m.cseq().map(|c| format!("{} {}", c.seq, c.method)),
        from.as_ref().and_then(|f| f.user.clone()),
        from.as_ref().and_then(|f| f.tag.clone()),
        to.as_ref().and_then(|t| t.user.clone()),
        to.as_ref().and_then(|t| t.tag.clone()),
        m.branch().map(str::to_string),
    ]
}

/// The error's kind; for a parse error also its text when that is a short fixed phrase
/// (`invalid digit found in string`), never nom's verbose text, which quotes the bytes.
fn kind(e: &rsip::Error) -> String {
    match e {
        rsip::Error::ParseError(s)
            if s.len() <= 60 && s.chars().all(|c| c.is_ascii_lowercase() || c == ' ') =>
        {
            format!("ParseError ({s})")
        }
        rsip::Error::MissingHeader(_) => "MissingHeader".into(),
        rsip::Error::InvalidParam(_) => "InvalidParam".into(),
        rsip::Error::ParseError(_) => "ParseError".into(),
        rsip::Error::TokenizeError(_) => "TokenizeError".into(),
        rsip::Error::Utf8Error(_) => "Utf8Error".into(),
        rsip::Error::Unexpected(_) => "Unexpected".into(),
    }
}

/// A header that is absent reads as `None`; one that is present but cannot be typed is
/// a rejection of that field.
fn header<H, T>(
    h: Result<&H, rsip::Error>,
    name: &str,
    typed: impl Fn(&H) -> Result<T, rsip::Error>,
) -> Result<Option<T>, String> {
    match h {
        Err(rsip::Error::MissingHeader(_)) => Ok(None),
        Err(e) => Err(format!("{name} header: {}", kind(&e))),
        Ok(h) => typed(h)
            .map(Some)
            .map_err(|e| format!("{name} header: {}", kind(&e))),
    }
}

/// rsip's reading, or why it rejects the whole message.
fn rsip_fields(bytes: &[u8]) -> Result<[Field; 8], String> {
    let msg = rsip::SipMessage::try_from(bytes).map_err(|e| format!("message: {}", kind(&e)))?;
    let kind_field = match &msg {
        rsip::SipMessage::Request(r) => r.method.to_string(),
        rsip::SipMessage::Response(r) => r.status_code.code().to_string(),
    };
    let from = header(msg.from_header(), "From", |h| h.typed());
    let to = header(msg.to_header(), "To", |h| h.typed());
    let user = |a: &Result<Option<rsip::typed::From>, String>| -> Field {
        a.clone()
            .map(|f| f.and_then(|f| f.uri.user().map(str::to_string)))
    };
    let to_user: Field = to
        .clone()
        .map(|t| t.and_then(|t| t.uri.user().map(str::to_string)));
    Ok([
        Ok(Some(kind_field)),
        header(msg.call_id_header(), "Call-ID", |h| {
            Ok(h.value().to_string())
        }),
        header(msg.cseq_header(), "CSeq", |h| {
            h.typed().map(|c| format!("{} {}", c.seq, c.method))
        }),
        user(&from),
        from.map(|f| f.and_then(|f| f.tag().map(|t| t.value().to_string()))),
        to_user,
        to.map(|t| t.and_then(|t| t.tag().map(|t| t.value().to_string()))),
        header(msg.via_header(), "Via", |h| h.typed())
            .map(|v| v.and_then(|v| v.branch().map(|b| b.value().to_string()))),
    ])
}

/// What the comparison found in one scope.
#[derive(Default)]
struct Tally {
    /// reason → count; `compared` and `accepted` count messages.
    counts: BTreeMap<String, u64>,
    /// (capture, frame, field, sipdiag, rsip)
    differences: Vec<[String; 5]>,
}

/// A value for the table: control characters escaped (tabs and line ends would break it,
/// NUL bytes make it binary), cut after 80 characters (fuzzed values run long).
fn show(v: &Option<String>) -> String {
    let Some(s) = v else {
        return "-".to_string();
    };
    let mut out: String = s
        .chars()
        .take(80)
        .flat_map(|c| {
            let e: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            e
        })
        .collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

fn compare_capture(path: &Path, name: &str, tally: &mut Tally) {
    let mut each = |raw: sipdiag::sip::RawMessage<'_>| {
        let bytes = raw.data.to_vec();
        let Some(m) = raw.parse() else { return };
        *tally.counts.entry("compared".into()).or_default() += 1;
        let theirs = catch_unwind(AssertUnwindSafe(|| rsip_fields(&bytes)))
            .unwrap_or_else(|_| Err("message: panic".to_string()));
        let theirs = match theirs {
            Ok(f) => f,
            Err(reason) => {
                *tally.counts.entry(reason).or_default() += 1;
                return;
            }
        };
        *tally.counts.entry("accepted".into()).or_default() += 1;
        let ours = sipdiag_fields(&m);
        for ((field, o), t) in FIELDS.iter().zip(&ours).zip(theirs) {
            match t {
                Err(reason) => *tally.counts.entry(reason).or_default() += 1,
                Ok(t) if t != *o => tally.differences.push([
                    name.to_string(),
                    m.frame.to_string(),
                    field.to_string(),
                    show(o),
                    show(&t),
                ]),
                Ok(_) => {}
            }
        }
    };
    // Unreadable captures (the reader's bad-input fixtures) have no messages to compare.
    let _ = app::scan_raw(path.to_str().unwrap(), &mut each);
}

fn captures_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            captures_under(&p, out);
        } else if name.contains(".pcap") || name.ends_with(".cap") {
            out.push(p);
        }
    }
}

fn tally(dir: &Path) -> Tally {
    let mut paths = Vec::new();
    captures_under(dir, &mut paths);
    paths.sort();
    let mut t = Tally::default();
    for p in paths {
        let name = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
        compare_capture(&p, &name, &mut t);
    }
    t
}

fn oracle(file: &str) -> PathBuf {
    common::testdata("oracle").join(file)
}

/// Compares a scope's results with the committed data (or rewrites it).
fn check(scope: &str, t: &Tally) {
    let update = std::env::var_os("SIPDIAG_UPDATE_RSIP").is_some();

    // Rejections and counts.
    let path = oracle("rsip-rejects.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("scope\t") && !l.is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    let committed: BTreeMap<String, u64> = rows
        .iter()
        .filter(|r| r[0] == scope)
        .map(|r| (r[1].clone(), r[2].parse().unwrap()))
        .collect();
    if update {
        rows.retain(|r| r[0] != scope);
        rows.extend(
            t.counts
                .iter()
                .map(|(k, v)| vec![scope.to_string(), k.clone(), v.to_string()]),
        );
        rows.sort();
        let head = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        let body: String = rows.iter().map(|r| r.join("\t") + "\n").collect();
        std::fs::write(&path, format!("{head}scope\treason\tcount\n{body}")).unwrap();
    } else {
        assert_eq!(
            t.counts,
            committed,
            "{scope}: rsip's rejections changed (see {}; SIPDIAG_UPDATE_RSIP=1 rewrites it)",
            path.display()
        );
    }
    assert!(
        t.counts.get("accepted").copied().unwrap_or(0) > 0,
        "{scope}: rsip accepted nothing"
    );

    // Differences, each with the reason sipdiag's reading stands.
    let path = oracle("rsip-differences.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("scope\t") && !l.is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    let reasons: BTreeMap<Vec<String>, String> = rows
        .iter()
        .filter(|r| r[0] == scope)
        .map(|r| (r[1..6].to_vec(), r[6].clone()))
        .collect();
    let mut found: Vec<Vec<String>> = t.differences.iter().map(|d| d.to_vec()).collect();
    found.sort();
    if update {
        rows.retain(|r| r[0] != scope);
        for d in &found {
            let reason = reasons
                .get(d)
                .cloned()
                .unwrap_or_else(|| "UNEXPLAINED".to_string());
            let mut r = vec![scope.to_string()];
            r.extend(d.iter().cloned());
            r.push(reason);
            rows.push(r);
        }
        let head = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        let body: String = rows.iter().map(|r| r.join("\t") + "\n").collect();
        std::fs::write(
            &path,
            format!("{head}scope\tcapture\tframe\tfield\tsipdiag\trsip\treason\n{body}"),
        )
        .unwrap();
    } else {
        let committed: Vec<&Vec<String>> = reasons.keys().collect();
        let found_refs: Vec<&Vec<String>> = found.iter().collect();
        assert_eq!(
            found_refs,
            committed,
            "{scope}: sipdiag and rsip differ elsewhere than listed in {} (SIPDIAG_UPDATE_RSIP=1 rewrites it; then give each new line its reason)",
            path.display()
        );
    }
    for (d, reason) in &reasons {
        assert!(
            !reason.is_empty() && reason != "UNEXPLAINED",
            "{scope}: no reason for the difference {d:?}"
        );
    }
}

#[test]
fn fixtures_agree_with_rsip() {
    let t = tally(&common::root().join("testdata"));
    check("fixtures", &t);
}

#[test]
fn corpus_agrees_with_rsip() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let t = tally(&corpus);
    check("corpus", &t);
}
