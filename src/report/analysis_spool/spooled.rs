//! What a streamed analysis keeps on disk until its report is written, and how it is
//! written: the JSON document's verdicts and call rows, or a text report's verdicts, read
//! back in report order as the report is written.

use std::collections::HashSet;
use std::io::{self, Write};

use super::super::ordered::Ordered;
use super::super::spool::json_element_bytes;
use super::{RulesOf, SpooledFindings, decode, read_verdict, retell, state};
use crate::capture::merge::FrameIndex;
use crate::report::analysis::Analysis;
use crate::report::cited::{cite_findings, cite_frames};
use crate::report::verdict::Verdict;

/// A spooled verdict read back: its state and JSON as spooled, or, when a finding made
/// after its unit was judged is on one of its calls (`late`), the verdict told again with
/// the rules of every finding on them (`rules_of`) and its state then.
fn read_back<'r>(
    row: &'r [u8],
    late: &HashSet<String>,
    rules_of: &RulesOf,
) -> io::Result<(u8, &'r [u8], Option<Verdict>)> {
    let (st, mut ids, json) = decode(row);
    if late.is_empty() || !ids.any(|id| late.contains(id)) {
        return Ok((st, json, None));
    }
    let mut v = read_verdict(json)?;
    retell(&mut v, rules_of);
    Ok((state(&v), json, Some(v)))
}

/// What a streamed analysis keeps on disk until its report is written.
// One per run, moved once: not worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Spooled {
    /// The JSON document's verdicts, call rows and findings.
    Json(SpooledJson),
    /// A text report's verdicts (every failed one is listed: a capture of a million failed
    /// calls does not hold a million verdicts).
    Verdicts(SpooledVerdicts),
    /// The calls shown, and nothing else ([`super::Layout::Selection`]).
    Selection(crate::calls::focus::CallIds),
}

/// A text report's verdicts, spooled: read back in report order as the report is written
/// ([`SpooledVerdicts::offer`]), each decoded only when it gets a line.
pub struct SpooledVerdicts {
    pub(super) verdicts: Ordered,
    pub(super) rules_of: RulesOf,
    pub(super) late: HashSet<String>,
    /// Verdicts that failed as they came.
    pub(super) failed: usize,
    /// A verbose HTML page's: the rows of every media stream, in report order.
    pub(super) stream_rows: Option<Ordered>,
}

impl SpooledVerdicts {
    /// Offers each verdict, in report order, to `lines`, and the line of each admitted to
    /// `out`: a [`VerdictSource`](crate::report::analysis::VerdictSource), once.
    pub fn offer(
        &mut self,
        lines: &mut crate::report::analysis::VerdictLines,
        out: &mut crate::report::analysis::VerdictOut<'_>,
    ) -> io::Result<()> {
        let (late, rules_of) = (&self.late, &self.rules_of);
        self.verdicts.release(u64::MAX, &mut |row| {
            let (st, json, told) = read_back(row, late, rules_of)?;
            if !lines.admit(st == b'o', st == b'u') {
                return Ok(());
            }
            let v = match told {
                Some(v) => v,
                None => read_verdict(json)?,
            };
            out(&v)
        })
    }
}

impl SpooledVerdicts {
    /// The rows of every media stream a verbose HTML page lists, spooled, once.
    pub(crate) fn take_stream_rows(&mut self) -> Option<Ordered> {
        self.stream_rows.take()
    }

    /// Whether any verdict failed, as told at the end. One that failed as it came stays
    /// failed; another changes only if a finding on its calls came after their unit
    /// (`late`), and then the spool is read through once, into a new one in the same
    /// order, to tell.
    pub fn any_failed(&mut self) -> io::Result<bool> {
        if self.failed > 0 {
            return Ok(true);
        }
        if self.late.is_empty() {
            return Ok(false);
        }
        let (late, rules_of) = (&self.late, &self.rules_of);
        let (mut again, mut n, mut any) = (Ordered::default(), 0u64, false);
        self.verdicts.release(u64::MAX, &mut |row| {
            let (st, _, _) = read_back(row, late, rules_of)?;
            any |= st == b'f';
            again.push(n, row.to_vec())?;
            n += 1;
            Ok(())
        })?;
        self.verdicts = again;
        Ok(any)
    }
}

/// The JSON document's verdicts and call rows, spooled: written into the document
/// ([`SpooledJson::write`]).
pub struct SpooledJson {
    pub(super) verdicts: Ordered,
    pub(super) calls: Ordered,
    pub(super) findings: Option<SpooledFindings>,
    pub(super) rules_of: RulesOf,
    pub(super) late: HashSet<String>,
    pub(super) scratch: Vec<u8>,
}

impl SpooledJson {
    /// Writes `a` (without verdicts and calls) as JSON with these rows in it: the same
    /// document as [`crate::report::analysis::write_json`] writes of the whole analysis.
    pub fn write(mut self, a: &Analysis, out: impl Write) -> io::Result<()> {
        let mut out = io::BufWriter::with_capacity(1 << 16, out);
        let text = serde_json::to_string_pretty(a).map_err(io::Error::other)?;
        let marker = "\n  \"verdicts\": [],\n  \"calls\": [],\n";
        let at = text
            .find(marker)
            .ok_or_else(|| io::Error::other("the report has verdicts already"))?;
        out.write_all(&text.as_bytes()[..at])?;
        out.write_all(b"\n  \"verdicts\": [")?;
        let (rules_of, late, scratch) = (&self.rules_of, &self.late, &mut self.scratch);
        let mut first = true;
        self.verdicts.release(u64::MAX, &mut |row| {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            match read_back(row, late, rules_of)? {
                (_, _, Some(v)) => out.write_all(&json_element_bytes(&v, 4, scratch)?),
                (_, json, None) => out.write_all(json),
            }
        })?;
        out.write_all(if first { b"]" } else { b"\n  ]" })?;
        out.write_all(b",\n  \"calls\": [")?;
        let mut first = true;
        self.calls.release(u64::MAX, &mut |row| {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            out.write_all(row)
        })?;
        out.write_all(if first { b"]" } else { b"\n  ]" })?;
        out.write_all(b",\n")?;
        let tail = &text[at + marker.len()..];
        match self.findings {
            Some(findings) => {
                let end = "\n  \"findings\": []\n}";
                let tail = tail
                    .strip_suffix(end)
                    .ok_or_else(|| io::Error::other("the report has findings already"))?;
                out.write_all(tail.as_bytes())?;
                out.write_all(b"\n  \"findings\": [")?;
                let any = findings.write(&mut out)?;
                out.write_all(if any { b"\n  ]\n}" } else { b"]\n}" })?;
            }
            None => out.write_all(tail.as_bytes())?,
        }
        out.write_all(b"\n")?;
        out.flush()
    }
}

impl SpooledJson {
    /// Writes `a` (without verdicts and calls) as JSON with these rows in it, for files
    /// read merged: the same document as [`crate::report::cited::write_json`] writes of
    /// the whole analysis (its keys in order, as a `serde_json` value has them; each
    /// finding's frames cited by file), a row at a time.
    pub fn write_cited(
        mut self,
        a: &Analysis,
        index: &FrameIndex,
        out: impl Write,
    ) -> io::Result<()> {
        let mut out = io::BufWriter::with_capacity(1 << 16, out);
        let mut v = serde_json::to_value(a)?;
        cite_findings(&mut v, index);
        let serde_json::Value::Object(fields) = v else {
            return Err(io::Error::other("the report is not a JSON object"));
        };
        let (rules_of, late, scratch) = (&self.rules_of, &self.late, &mut self.scratch);
        // A row as a value (its keys in order), written as an element of an array.
        let mut element = |row: serde_json::Value, out: &mut io::BufWriter<_>| {
            out.write_all(&json_element_bytes(&row, 4, scratch)?)
        };
        out.write_all(b"{")?;
        for (i, (key, value)) in fields.iter().enumerate() {
            out.write_all(if i == 0 { b"\n  " } else { b",\n  " })?;
            serde_json::to_writer(&mut out, key)?;
            out.write_all(b": ")?;
            let mut first = true;
            let mut sep = |out: &mut io::BufWriter<_>| {
                let s: &[u8] = if first { b"\n" } else { b",\n" };
                first = false;
                out.write_all(s)
            };
            match key.as_str() {
                "verdicts" => {
                    out.write_all(b"[")?;
                    self.verdicts.release(u64::MAX, &mut |row| {
                        sep(&mut out)?;
                        let row = match read_back(row, late, rules_of)? {
                            (_, _, Some(v)) => serde_json::to_value(v)?,
                            (_, json, None) => serde_json::from_slice(json)?,
                        };
                        element(row, &mut out)
                    })?;
                }
                "calls" => {
                    out.write_all(b"[")?;
                    self.calls.release(u64::MAX, &mut |row| {
                        sep(&mut out)?;
                        element(serde_json::from_slice(row)?, &mut out)
                    })?;
                }
                "findings" if self.findings.is_some() => {
                    out.write_all(b"[")?;
                    let findings = self.findings.take().expect("spooled findings");
                    first = !findings.write_mapped(&mut out, &mut |json, out| {
                        let mut f: serde_json::Value = serde_json::from_slice(json)?;
                        cite_frames(&mut f, index);
                        element(f, out)
                    })?;
                }
                _ => {
                    let text = json_element_bytes(value, 2, &mut Vec::new())?;
                    out.write_all(&text[2..])?;
                    continue;
                }
            }
            out.write_all(if first { b"]" } else { b"\n  ]" })?;
        }
        out.write_all(b"\n}\n")?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::Spooled;
    use crate::report::analysis::{self, Analysis, TextOptions};
    use crate::report::analysis_spool::{AnalysisRows, Layout, RulesOf};
    use crate::report::verdict::Verdict;

    /// Call `n`'s verdict: healthy when `ok`, else failed with SIP001.
    fn verdict(n: u64, ok: bool) -> Verdict {
        Verdict {
            ok,
            call_ids: vec![format!("call-{n}@10.0.0.1")],
            first_frame: 10 * n + 1,
            text: if ok {
                format!("200 OK (frame {})", 10 * n + 3)
            } else {
                format!("503 Service Unavailable (frame {})", 10 * n + 3)
            },
            rules: if ok { Vec::new() } else { vec!["SIP001"] },
            unsure: false,
        }
    }

    fn empty_analysis(verdicts: Vec<Verdict>) -> Analysis {
        Analysis::new(
            Default::default(),
            Default::default(),
            Vec::new(),
            Vec::new(),
            Default::default(),
            verdicts,
            Vec::new(),
        )
    }

    /// A streamed text report keeps its verdicts spooled, not in the analysis, and its
    /// verdict lines (every failed call, the first healthy ones, the rest counted) are
    /// those of the same verdicts held, in the same order, whatever order they came in,
    /// table and markdown alike.
    #[test]
    fn a_text_report_reads_its_verdicts_back_as_it_is_written() {
        let all: Vec<Verdict> = (0..3_000).map(|n| verdict(n, n % 4 != 0)).collect();
        for verbose in [false, true] {
            let mut rows = AnalysisRows::new(Layout::Text {
                verbose,
                streams: false,
            });
            // Judged out of order: units end in any order.
            for (pos, v) in all.iter().enumerate().rev() {
                rows.verdict(pos as u64, v.clone()).unwrap();
            }
            let mut streamed = empty_analysis(Vec::new());
            let spooled =
                (rows.finish(&mut streamed, &HashSet::new(), RulesOf::default(), None)).unwrap();
            let Some(Spooled::Verdicts(mut spooled)) = spooled else {
                panic!("a text report's verdicts stay spooled");
            };
            assert!(streamed.verdicts.is_empty(), "no verdict held");
            let held = empty_analysis(all.clone());
            let o = TextOptions {
                color: false,
                verbose,
                width: 100,
            };
            let mut out = Vec::new();
            analysis::write_table(&streamed, o, &mut |l, w| spooled.offer(l, w), &mut out).unwrap();
            let table = String::from_utf8(out).unwrap();
            assert_eq!(table, analysis::table(&held, o));
            let failed = table.lines().filter(|l| l.starts_with("FAILED")).count();
            assert_eq!(failed, 750);
            let healthy = table.lines().filter(|l| l.starts_with("OK")).count();
            assert_eq!(healthy, if verbose { 2_250 } else { 3 });
            assert_eq!(
                table.contains("…and 2247 more healthy calls"),
                !verbose,
                "{table}"
            );
            // Offered once: read back, the spool is empty.
            let mut again = Vec::new();
            analysis::write_table(&streamed, o, &mut |l, w| spooled.offer(l, w), &mut again)
                .unwrap();
            assert!(!String::from_utf8(again).unwrap().contains("FAILED"));
        }
        // Markdown: the same lines as list items.
        let mut rows = AnalysisRows::new(Layout::Text {
            verbose: false,
            streams: false,
        });
        for (pos, v) in all.iter().enumerate() {
            rows.verdict(pos as u64, v.clone()).unwrap();
        }
        let mut streamed = empty_analysis(Vec::new());
        let Some(Spooled::Verdicts(mut spooled)) =
            (rows.finish(&mut streamed, &HashSet::new(), RulesOf::default(), None)).unwrap()
        else {
            panic!("a text report's verdicts stay spooled");
        };
        let mut out = Vec::new();
        analysis::write_markdown(&streamed, false, &mut |l, w| spooled.offer(l, w), &mut out)
            .unwrap();
        let held = empty_analysis(all);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            analysis::markdown(&held, false)
        );
    }

    /// The HTML page of a streamed analysis reads its verdicts back as it is written: the
    /// same page as with the verdicts held. Whether one failed, which its header tells
    /// first, is counted as they come, and a verdict that a finding coming after its unit
    /// fails (a capture rule's) is found by reading the spool once more, which leaves the
    /// verdicts to be written in the same order.
    #[test]
    fn an_html_page_reads_its_verdicts_back_and_tells_whether_one_failed() {
        use crate::report::html::{HtmlLadders, html, write_html};
        let page = |all: &[Verdict], late: &[u64], verbose: bool| {
            let mut rows = AnalysisRows::new(Layout::Text {
                verbose,
                streams: true,
            });
            for (pos, v) in all.iter().enumerate().rev() {
                rows.verdict(pos as u64, v.clone()).unwrap();
            }
            let late: HashSet<String> = late.iter().map(|n| format!("call-{n}@10.0.0.1")).collect();
            let rules_of: RulesOf = late.iter().map(|id| (id.clone(), vec!["CAP001"])).collect();
            let mut streamed = empty_analysis(Vec::new());
            let Some(Spooled::Verdicts(mut spooled)) =
                (rows.finish(&mut streamed, &late, rules_of, None)).unwrap()
            else {
                panic!("an HTML page's verdicts stay spooled");
            };
            let failed = spooled.any_failed().unwrap();
            let mut out = Vec::new();
            let ladders = HtmlLadders::default();
            let rows = spooled.take_stream_rows();
            let offer: &mut analysis::VerdictSource<'_> = &mut |l, w| spooled.offer(l, w);
            write_html(&streamed, offer, failed, rows, &ladders, verbose, &mut out).unwrap();
            (String::from_utf8(out).unwrap(), failed)
        };
        let held = |all: Vec<Verdict>, verbose: bool| {
            html(&empty_analysis(all), &HtmlLadders::default(), verbose)
        };
        let mixed: Vec<Verdict> = (0..3_000).map(|n| verdict(n, n % 4 != 0)).collect();
        for verbose in [false, true] {
            let (streamed, failed) = page(&mixed, &[], verbose);
            assert!(failed);
            assert_eq!(streamed, held(mixed.clone(), verbose));
            assert!(streamed.contains("<h1><span class=\"word\">FAILED</span>"));
        }
        // Every call healthy as judged; a capture rule's finding on call 7 came later.
        let healthy: Vec<Verdict> = (0..3_000).map(|n| verdict(n, true)).collect();
        let (streamed, failed) = page(&healthy, &[], false);
        assert!(!failed);
        assert_eq!(streamed, held(healthy.clone(), false));
        let (streamed, failed) = page(&healthy, &[7], false);
        assert!(
            failed,
            "call 7 failed on a finding that came after it was judged"
        );
        let mut told = healthy;
        told[7].ok = false;
        told[7].rules = vec!["CAP001"];
        assert_eq!(streamed, held(told, false));
        assert!(streamed.contains("<li class=\"failed\"><span class=\"badge\">FAILED</span> <code class=\"callid\">call-7@10.0.0.1</code>"));
    }

    /// Call `n`'s row with `streams` media streams, the first at frame `10 * n`.
    fn with_streams(n: u64, streams: u64) -> crate::report::analysis::CallSummary {
        crate::report::analysis::CallSummary {
            call_id: format!("call-{n}@10.0.0.1"),
            leg: crate::calls::legs::LegKind::Other,
            linked_call_ids: Vec::new(),
            from: None,
            to: None,
            diversion: Vec::new(),
            forwarding: Vec::new(),
            invite_frame: Some(10 * n),
            final_status: Some(200),
            final_frame: None,
            media: (0..streams)
                .map(|k| crate::report::verdict::LegMedia {
                    src: "10.0.0.1:4000".into(),
                    dst: "10.0.0.2:4000".into(),
                    codec: None,
                    packets: 1,
                    lost: 0,
                    loss_percent: 0.0,
                    jitter_ms: 0.0,
                    first_frame: 10 * n + k,
                })
                .collect(),
            no_call_id: None,
        }
    }

    /// A streamed HTML page keeps the calls that hold the first media streams in report
    /// order, whatever order the calls are judged in, and counts the streams of all;
    /// verbose, it spools the row of every stream, read back in report order.
    #[test]
    fn an_html_page_keeps_the_calls_of_its_first_media_streams() {
        use crate::report::html::STREAMS_SHOWN;
        // 0 to 3 streams a call, judged in an order of their own.
        let calls: Vec<(u64, u64)> = (0..1_000).map(|n| (n, n * 7 % 4)).collect();
        let mut order: Vec<usize> = (0..calls.len()).collect();
        order.sort_by_key(|&i| (i * 389) % calls.len());
        let total: u64 = calls.iter().map(|c| c.1).sum();
        let first: Vec<u64> = (calls.iter())
            .flat_map(|&(n, k)| (0..k).map(move |k| 10 * n + k))
            .collect();
        for verbose in [false, true] {
            let mut rows = AnalysisRows::new(Layout::Text {
                verbose,
                streams: true,
            });
            for &i in &order {
                let (n, k) = calls[i];
                rows.call(n, with_streams(n, k)).unwrap();
            }
            let mut a = empty_analysis(Vec::new());
            let spooled = rows.finish(&mut a, &HashSet::new(), RulesOf::default(), None);
            let Some(Spooled::Verdicts(mut spooled)) = spooled.unwrap() else {
                panic!("an HTML page's verdicts stay spooled");
            };
            let kept = a.streams.expect("the streams of a streamed HTML page");
            assert_eq!(kept.total as u64, total);
            let mut listed: Vec<u64> = (kept.calls.iter())
                .flat_map(|c| c.media.iter().map(|m| m.first_frame))
                .collect();
            if verbose {
                // Every stream's row, spooled: none kept in memory.
                assert!(listed.is_empty());
                let mut rows = spooled.take_stream_rows().expect("the rows spooled");
                let with_streams = calls.iter().filter(|c| c.1 > 0).count();
                assert_eq!(
                    rows.len(),
                    with_streams,
                    "a call without streams has no row"
                );
                rows.release(u64::MAX, &mut |row| {
                    for line in std::str::from_utf8(row).unwrap().lines() {
                        let frame = line.trim_end_matches("</td></tr>").rsplit("<td>").next();
                        listed.push(frame.unwrap().parse().unwrap());
                    }
                    Ok(())
                })
                .unwrap();
                assert_eq!(listed, first);
            } else {
                assert!(spooled.take_stream_rows().is_none());
                assert_eq!(listed[..STREAMS_SHOWN], first[..STREAMS_SHOWN]);
                let last = kept.calls.last().unwrap().media.len();
                assert!(listed.len() - last < STREAMS_SHOWN, "{} kept", listed.len());
            }
        }
    }
}
