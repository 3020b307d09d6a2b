//! `media`: STUN transactions and RTP streams.

use crate::app::CaptureReport;
use crate::media::MediaReport;

use super::listing::SCHEMA_VERSION;

pub fn media_json(captures: &[CaptureReport], media: &MediaReport) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "captures": captures,
        "media": media,
    }))
    .unwrap_or_default()
        + "\n"
}

pub fn media_table(media: &MediaReport) -> String {
    let mut out = String::new();
    let mut t = super::new_table(&["Request", "From", "To", "Retransmissions", "Response"]);
    for s in &media.stun {
        t.add_row(vec![
            s.request_frame.to_string(),
            s.src.to_string(),
            s.dst.to_string(),
            s.retransmission_frames.len().to_string(),
            match (s.response_frame, &s.response_class) {
                (Some(f), Some(c)) => format!("{c} (frame {f})"),
                _ => "none".into(),
            },
        ]);
    }
    if !media.stun.is_empty() {
        out.push_str(&format!("STUN\n{t}\n"));
    }
    let mut t = super::new_table(&[
        "Source",
        "Destination",
        "SSRC",
        "Codec",
        "Packets",
        "Lost",
        "Jitter ms",
        "Frames",
    ]);
    for r in &media.rtp {
        t.add_row(vec![
            r.src.to_string(),
            r.dst.to_string(),
            format!("0x{:08X}", r.ssrc),
            r.codec
                .clone()
                .unwrap_or_else(|| r.payload_type.to_string()),
            r.packets.to_string(),
            r.lost.to_string(),
            format!("{:.1}", r.max_jitter_ms),
            format!("{}–{}", r.first_frame, r.last_frame),
        ]);
    }
    if !media.rtp.is_empty() {
        out.push_str(&format!("RTP\n{t}\n"));
    }
    if out.is_empty() {
        out.push_str("No STUN or RTP found.\n");
    }
    out
}
