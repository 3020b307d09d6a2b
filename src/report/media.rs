//! `media`: softphone signalling, STUN transactions, RTP streams and ICMP evidence.

use crate::media::{MediaReport, RtpStream};
use crate::sip::CaptureReport;

use super::listing::SCHEMA_VERSION;

/// The JSON document — `schema_version`, the captures read and the whole media report —
/// written as it is serialised: straight from the report, with no intermediate `Value`
/// tree or string (a large capture's report runs to tens of MB).
pub fn write_media_json(
    captures: &[CaptureReport],
    media: &MediaReport,
    out: impl std::io::Write,
) -> std::io::Result<()> {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        captures: &'a [CaptureReport],
        media: &'a MediaReport,
        schema_version: u32,
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(
        &mut out,
        &Doc {
            captures,
            media,
            schema_version: SCHEMA_VERSION,
        },
    )?;
    std::io::Write::write_all(&mut out, b"\n")?;
    std::io::Write::flush(&mut out)
}

/// Tables for the terminal: one section per kind of evidence that is present, then a
/// summary line.
/// The media report as tables fitted to `width` columns.
pub fn media_table(media: &MediaReport, width: usize) -> String {
    let mut out = table_before_rtp(media, width);
    let rows = media
        .rtp
        .iter()
        .map(|r| (rtp_cells(r), rtp_note(r)))
        .collect();
    out.push_str(&rtp_section(rows, width));
    out + &table_after_rtp(media, media.rtp.len(), width)
}

/// The RTP table of the streams (each stream's cells and note, in order) and the notes
/// under it; nothing without streams.
pub(super) fn rtp_section(rows: Vec<(Vec<String>, Option<String>)>, width: usize) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut notes = String::new();
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(cells, note)| {
            if let Some(note) = note {
                notes.push_str(&super::wrap_lines(&note, width));
            }
            cells
        })
        .collect();
    "RTP\n".to_string() + &super::table_or_columns(&RTP_HEAD, cells, width) + &notes
}

/// The columns of the RTP table.
pub(super) const RTP_HEAD: [&str; 10] = [
    "Source",
    "Destination",
    "SSRC",
    "Codec",
    "Packets",
    "Lost",
    "Dup",
    "Jitter ms (max)",
    "Frames",
    "Call-ID",
];

/// A stream's row of the RTP table.
pub(super) fn rtp_cells(r: &RtpStream) -> Vec<String> {
    vec![
        r.src.to_string(),
        r.dst.to_string(),
        r.ssrc_hex(),
        r.codec
            .as_deref()
            .map_or_else(|| format!("PT {}", r.payload_type), str::to_string),
        r.packets.to_string(),
        if r.expected > 0 && r.lost > 0 {
            format!("{} ({:.1} %)", r.lost, r.loss_fraction() * 100.0)
        } else {
            r.lost.to_string()
        },
        r.duplicates.to_string(),
        // Without a known clock rate there is no jitter to show (see the notes).
        match r.clock_rate {
            Some(_) => format!("{:.1} ({:.1})", r.jitter_ms, r.max_jitter_ms),
            None => "–".to_string(),
        },
        format!("{}–{}", r.first_frame, r.last_frame),
        r.call_id.as_deref().unwrap_or_default().to_string(),
    ]
}

/// The line under the RTP table on a stream not judged or without jitter.
pub(super) fn rtp_note(r: &RtpStream) -> Option<String> {
    if let Some(why) = &r.inconsistency {
        Some(format!(
            "  not judged as RTP: {} → {} SSRC {}: {why}\n",
            r.src,
            r.dst,
            r.ssrc_hex()
        ))
    } else {
        r.jitter_note.as_ref().map(|note| {
            format!(
                "  no jitter for {} → {} SSRC {}: {note}\n",
                r.src,
                r.dst,
                r.ssrc_hex()
            )
        })
    }
}

/// The sections before the RTP table: softphone signalling and STUN.
pub(super) fn table_before_rtp(media: &MediaReport, width: usize) -> String {
    let mut out = String::new();
    if !media.softphone.is_empty() {
        let mut t =
            super::new_table(&["Client", "Server", "Frames", "Segments", "Bytes c→s / s→c"]);
        super::fit(&mut t, width);
        for s in &media.softphone {
            t.add_row(vec![
                s.client.to_string(),
                s.server.to_string(),
                format!("{}–{}", s.first_frame, s.last_frame),
                s.segments.to_string(),
                format!("{} / {}", s.client_bytes, s.server_bytes),
            ]);
        }
        out.push_str(&format!("Softphone signalling\n{t}\n"));
    }

    if !media.stun.is_empty() {
        let head = [
            "Request",
            "From",
            "To",
            "Type",
            "Username",
            "Retransmissions",
            "Response",
        ];
        let rows = media.stun.iter().map(|s| {
            let mut kind = s.description.clone();
            if s.use_candidate {
                kind.push_str(" USE-CANDIDATE");
            }
            if let Some(r) = &s.ice_role {
                kind.push_str(&format!(" ({r})"));
            }
            if s.classic {
                kind.push_str(" [RFC 3489]");
            }
            vec![
                s.request_frame.to_string(),
                format!("{} {}", s.transport, s.src),
                s.dst.to_string(),
                kind,
                s.username.clone().unwrap_or_default(),
                if s.retransmission_frames.is_empty() {
                    String::new()
                } else {
                    format!(
                        "{} ({})",
                        s.retransmission_frames.len(),
                        short_list(&s.retransmission_frames)
                    )
                },
                match (s.response_frame, &s.response_class) {
                    (Some(f), Some(c)) => {
                        let mut r = format!("{c} (frame {f})");
                        if let Some(e) = s.error_code {
                            r.push_str(&format!(" {e}"));
                        }
                        if let Some(from) = s.response_from.filter(|a| *a != s.dst) {
                            r.push_str(&format!(" from {from}"));
                        }
                        r
                    }
                    _ => "none".into(),
                },
            ]
        });
        out.push_str("STUN\n");
        out.push_str(&super::table_or_columns(&head, rows, width));
    }

    out
}

/// The sections after the RTP table (of `rtp` streams): ICMP errors and the summary.
pub(super) fn table_after_rtp(media: &MediaReport, rtp: usize, width: usize) -> String {
    let mut out = String::new();
    // Lines besides the tables, wrapped here: the plain columns of a long table are not.
    let text = |out: &mut String, t: &str| out.push_str(&super::wrap_lines(t, width));
    if !media.icmp.is_empty() {
        let mut t = super::new_table(&["Frame", "Reported by", "Refused datagram", "Error"]);
        super::fit(&mut t, width);
        for e in &media.icmp {
            t.add_row(vec![
                e.frame.to_string(),
                e.reporter.to_string(),
                format!("{} {} → {}", e.transport, e.src, e.dst),
                e.description.to_string(),
            ]);
        }
        text(&mut out, &format!("ICMP errors\n{t}\n"));
    }

    if media.stun.is_empty() && rtp == 0 && media.softphone.is_empty() {
        text(&mut out, "No softphone signalling, STUN or RTP found.\n");
    }
    let unanswered = media
        .stun
        .iter()
        .filter(|s| s.response_frame.is_none())
        .count();
    text(
        &mut out,
        &format!(
            "{} STUN message(s) in {} transaction(s) ({} unanswered){}, {} RTP stream(s), {} RTCP packet(s), {} non-SIP UDP datagram(s)\n",
            media.stun_messages,
            media.stun.len(),
            unanswered,
            if media.classic_stun_messages > 0 {
                format!(", {} classic STUN message(s)", media.classic_stun_messages)
            } else {
                String::new()
            },
            rtp,
            media.rtcp_packets,
            media.udp_datagrams,
        ),
    );
    if media.dropped > 0 {
        text(
            &mut out,
            &format!(
                "  ! {} item(s) beyond the memory limits were not tracked\n",
                media.dropped
            ),
        );
    }
    if let Some(l) = &media.flow_limit {
        text(
            &mut out,
            &format!(
                "  ! media flow table full ({} {}): {} flow(s) forgotten, first in frame {}; media of {} call(s) not judged\n",
                crate::limits::Limits::MEDIA_FLOWS,
                l.limit,
                l.evicted,
                l.frames.first().copied().unwrap_or(0),
                l.calls.len()
            ),
        );
    }
    out
}

/// Frames as `1, 2, 3` (at most 5, then `…`).
fn short_list(frames: &[u64]) -> String {
    let mut s = frames
        .iter()
        .take(5)
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if frames.len() > 5 {
        s.push_str(", …");
    }
    s
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::capture::Timestamp;
    use crate::media::{RtpStream, StunTransaction};
    use crate::net::Transport;

    pub(in crate::report) fn sample() -> MediaReport {
        let t = Timestamp::new(1_700_000_000, 0);
        MediaReport {
            stun_messages: 3,
            stun: vec![StunTransaction {
                transaction_id: "00112233445566778899aabb".into(),
                method: "0x0001".into(),
                method_name: "binding",
                src: "10.0.0.1:49200".parse().unwrap(),
                dst: "10.0.0.2:30010".parse().unwrap(),
                request_frame: 10,
                time: t,
                retransmission_frames: vec![12, 14],
                response_frame: None,
                response_class: None,
                response_from: None,
                error_code: None,
                username: Some("Sv4k:Xc9f".into()),
                use_candidate: false,
                ice_role: Some("controlling".into()),
                description: "Binding request".into(),
                transport: Transport::Udp,
                classic: false,
                priority: None,
                response_frames: vec![],
                mapped_address: None,
                response_time: None,
            }],
            rtp: vec![RtpStream {
                src: "10.0.0.1:49200".parse().unwrap(),
                dst: "10.0.0.2:30010".parse().unwrap(),
                ssrc: 0x2A6B1C01,
                payload_type: 0,
                codec: Some("PCMU".into()),
                packets: 90,
                first_frame: 20,
                last_frame: 208,
                first_time: t,
                last_time: t,
                lost: 10,
                duplicates: 0,
                jitter_ms: 0.5,
                max_jitter_ms: 1.25,
                mean_jitter_ms: 0.75,
                call_id: Some("abc".into()),
                expected: 100,
                payload_types: vec![0],
                recognised_by: "stun",
                late: 0,
                gap_frames: vec![39],
                clock_rate: Some(8000),
                jitter_note: None,
                kind: Some("audio".into()),
                consistent: true,
                inconsistency: None,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn table_lists_stun_and_rtp() {
        let s = media_table(&sample(), 400);
        assert!(s.contains("STUN\n"), "{s}");
        assert!(s.contains("Binding request (controlling)"), "{s}");
        assert!(s.contains("2 (12, 14)"), "{s}");
        assert!(s.contains("none"), "{s}");
        assert!(s.contains("0x2A6B1C01"), "{s}");
        assert!(s.contains("10 (10.0 %)"), "{s}");
        assert!(
            s.contains("3 STUN message(s) in 1 transaction(s) (1 unanswered)"),
            "{s}"
        );
        let empty = media_table(&MediaReport::default(), 400);
        assert!(empty.starts_with("No softphone signalling, STUN or RTP found."));
    }

    /// Past `TABLE_ROWS` streams the RTP table is plain columns, one line per stream,
    /// not re-wrapped to the width.
    #[test]
    fn many_streams_are_listed_in_plain_columns() {
        let mut m = sample();
        let one = m.rtp[0].clone();
        m.rtp = (0..=crate::report::TABLE_ROWS as u32)
            .map(|n| RtpStream {
                ssrc: n,
                ..one.clone()
            })
            .collect();
        let s = media_table(&m, 80);
        let rtp: Vec<&str> = s.lines().skip_while(|l| *l != "RTP").skip(1).collect();
        assert!(rtp[0].starts_with("Source          "), "{}", rtp[0]);
        assert!(rtp[0].ends_with("  Call-ID"), "{}", rtp[0]);
        let rows: Vec<&str> = rtp[1..]
            .iter()
            .copied()
            .take_while(|l| l.starts_with("10.0.0.1:49200"))
            .collect();
        assert_eq!(rows.len(), crate::report::TABLE_ROWS + 1);
        assert!(rows[0].contains("0x00000000  PCMU"), "{}", rows[0]);
        assert!(rows[0].ends_with("20–208  abc"), "{}", rows[0]);
        assert!(
            rows.iter().all(|l| l.chars().count() > 80),
            "not wrapped to the width"
        );
        assert!(!rtp.iter().any(|l| l.contains('│')), "no drawn RTP table");
        // One stream fewer: the drawn table.
        m.rtp.pop();
        let s = media_table(&m, 80);
        let rtp = s.split("\nRTP\n").nth(1).unwrap();
        assert!(rtp.starts_with('┌'), "{}", &rtp[..100]);
    }

    #[test]
    fn json_has_schema_version_and_media() {
        let mut json = Vec::new();
        write_media_json(&[], &sample(), &mut json).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["media"]["rtp"][0]["packets"], 90);
        assert_eq!(v["media"]["stun"][0]["retransmission_frames"][1], 14);
        assert_eq!(v["media"]["stun_messages"], 3);
    }
}
