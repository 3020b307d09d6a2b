//! SDP summary (RFC 8866): what media each side offered and where it expects it.
//!
//! Only what diagnosis needs: connection address, each `m=` line with its port, protocol
//! and payload types (named by `a=rtpmap` or the static table of RFC 3551), direction,
//! `a=rtcp-mux`, and ICE (`a=ice-ufrag`, `a=candidate`, RFC 8839).

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Serialize;

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

/// A name from SDP (media kind, protocol, encoding): the common ones borrowed from a
/// static table, anything else owned. Two SDP bodies per call would otherwise allocate a
/// dozen short strings each.
pub type Name = Cow<'static, str>;

/// The names SDP bodies usually carry, kept as borrowed [`Name`]s.
const COMMON_NAMES: &[&str] = &[
    "audio",
    "video",
    "application",
    "image",
    "RTP/AVP",
    "RTP/SAVP",
    "RTP/AVPF",
    "RTP/SAVPF",
    "UDP/TLS/RTP/SAVPF",
    "udptl",
    "PCMU",
    "PCMA",
    "G722",
    "G729",
    "GSM",
    "G723",
    "opus",
    "telephone-event",
    "CN",
    "iLBC",
    "speex",
    "AMR",
    "AMR-WB",
    "H264",
    "VP8",
];

/// `s` as a [`Name`], borrowed when it is one of [`COMMON_NAMES`].
fn intern(s: &str) -> Name {
    super::intern(s, COMMON_NAMES)
}

/// One payload type with its codec name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Payload {
    pub pt: u8,
    /// Encoding name, e.g. `PCMA`, `opus`, `telephone-event`; `None` for an unknown dynamic type.
    pub name: Option<Name>,
    /// RTP clock rate in Hz: the `a=rtpmap` rate (RFC 8866 §6.6), else the static payload
    /// type's rate of RFC 3551 tables 4 and 5; `None` for a dynamic type without rtpmap.
    pub clock_rate: Option<u32>,
}

/// An ICE candidate (`a=candidate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub component: u16,
    pub transport: String,
    pub addr: String,
    pub port: u16,
    pub typ: String,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Media {
    pub kind: Name,
    pub port: u16,
    pub proto: Name,
    pub payloads: Vec<Payload>,
    /// Section-level `c=`, else the session-level one.
    pub connection: Option<IpAddr>,
    pub direction: Direction,
    pub rtcp_mux: bool,
    pub ice_ufrag: Option<String>,
    pub candidates: Vec<Candidate>,
}

impl Media {
    /// Codec names, static payload types resolved, telephone-event and CN left out.
    pub fn codecs(&self) -> Vec<Name> {
        self.payloads
            .iter()
            .filter_map(|p| p.name.clone())
            .filter(|n| {
                !n.eq_ignore_ascii_case("telephone-event")
                    && !n.eq_ignore_ascii_case("cn")
                    && !n.eq_ignore_ascii_case("comfort-noise")
            })
            .collect()
    }
}

/// The summary of one SDP body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Sdp {
    pub connection: Option<IpAddr>,
    pub media: Vec<Media>,
}

/// RFC 3551 static payload types.
pub fn static_payload_name(pt: u8) -> Option<&'static str> {
    Some(match pt {
        0 => "PCMU",
        3 => "GSM",
        4 => "G723",
        5 | 6 => "DVI4",
        7 => "LPC",
        8 => "PCMA",
        9 => "G722",
        10 | 11 => "L16",
        12 => "QCELP",
        13 => "CN",
        14 => "MPA",
        15 => "G728",
        18 => "G729",
        26 => "JPEG",
        31 => "H261",
        32 => "MPV",
        34 => "H263",
        _ => return None,
    })
}

/// RTP clock rate of a static payload type (RFC 3551 tables 4 and 5). G.722 (9) is 8000 Hz
/// although it samples at 16 kHz: RFC 3551 §4.5.2 fixes its RTP clock at 8000 for
/// compatibility with an erroneous earlier version.
pub fn static_clock_rate(pt: u8) -> Option<u32> {
    Some(match pt {
        0 | 3..=5 | 7..=9 | 12 | 13 | 15 | 18 => 8000,
        6 => 16000,
        10 | 11 => 44100,
        14 | 25 | 26 | 28 | 31 | 32 | 33 | 34 => 90000,
        16 => 11025,
        17 => 22050,
        _ => return None,
    })
}

fn parse_c(v: &str) -> Option<IpAddr> {
    // c=IN IP4 192.0.2.1[/ttl]
    let addr = fields(v).nth(2)?;
    before_slash(addr).parse().ok()
}

/// The whitespace-separated fields of `v`, as `str::split_whitespace` finds them; byte by
/// byte on ASCII text (the rule in SDP), by characters otherwise.
fn fields(v: &str) -> impl Iterator<Item = &str> {
    let ascii = v.is_ascii();
    let mut rest = v;
    std::iter::from_fn(move || {
        let (start, end) = if ascii {
            // The ASCII characters `char::is_whitespace` accepts.
            let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r');
            let b = rest.as_bytes();
            let start = b.iter().position(|c| !ws(c))?;
            let end = b[start..]
                .iter()
                .position(ws)
                .map_or(b.len(), |e| start + e);
            (start, end)
        } else {
            let start = rest.find(|c: char| !c.is_whitespace())?;
            let end = rest[start..]
                .find(char::is_whitespace)
                .map_or(rest.len(), |e| start + e);
            (start, end)
        };
        let f = &rest[start..end];
        rest = &rest[end..];
        Some(f)
    })
}

/// The part of a field before its first `/` (`8000` of `PCMA/8000`), the whole field
/// without one: a byte scan, these fields are a few bytes long.
fn before_slash(f: &str) -> &str {
    match f.bytes().position(|b| b == b'/') {
        Some(i) => &f[..i],
        None => f,
    }
}

/// `str::trim`, without looking at characters when both ends are ASCII and not
/// whitespace (nearly every SDP line).
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&a), Some(&b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// `str::trim_end`, likewise.
fn trim_end(s: &str) -> &str {
    match s.as_bytes().last() {
        Some(b) if b.is_ascii_graphic() => s,
        _ => s.trim_end(),
    }
}

/// Parses an SDP body leniently; unknown lines are ignored.
/// The lines of `text` (LF or CRLF), found with SIMD byte search.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        // `\n` is ASCII: both slices fall on character boundaries.
        let (line, tail) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        rest = tail;
        Some(line.strip_suffix('\r').unwrap_or(line))
    })
}

pub fn parse(body: &[u8]) -> Sdp {
    // Valid UTF-8 is the rule: validate (fast), repair only when needed.
    let text = match std::str::from_utf8(body) {
        Ok(t) => Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(body),
    };
    let mut sdp = Sdp {
        connection: None,
        // One media section is the rule: no growth, nothing to shrink.
        media: Vec::with_capacity(1),
    };
    let mut session_dir = Direction::SendRecv;
    let mut session_ufrag: Option<String> = None;
    for raw in lines(&text) {
        let line = trim_end(raw);
        // `<type>=<value>` with a one-letter type (RFC 8866 §5); any other line is
        // ignored. Bytes, not characters: `=` is ASCII.
        let (t, v) = match line.as_bytes() {
            [_, b'=', ..] => (&line[..1], &line[2..]),
            _ => continue,
        };
        let v = trim(v);
        let in_media = !sdp.media.is_empty();
        match t {
            "c" => {
                let c = parse_c(v);
                match sdp.media.last_mut() {
                    Some(m) => m.connection = c.or(m.connection),
                    None => sdp.connection = c,
                }
            }
            "m" => {
                let mut it = fields(v);
                let kind = intern(it.next().unwrap_or(""));
                let port = it
                    .next()
                    .and_then(|p| before_slash(p).parse().ok())
                    .unwrap_or(0);
                let proto = intern(it.next().unwrap_or(""));
                let payloads = it
                    .filter_map(|f| f.parse::<u8>().ok())
                    .map(|pt| Payload {
                        pt,
                        name: static_payload_name(pt).map(Cow::Borrowed),
                        clock_rate: static_clock_rate(pt),
                    })
                    .collect();
                sdp.media.push(Media {
                    kind,
                    port,
                    proto,
                    payloads,
                    connection: sdp.connection,
                    direction: session_dir,
                    rtcp_mux: false,
                    ice_ufrag: session_ufrag.clone(),
                    candidates: Vec::new(),
                });
            }
            "a" => {
                let (name, val) = match v.as_bytes().iter().position(|&b| b == b':') {
                    Some(i) => (&v[..i], &v[i + 1..]),
                    None => (v, ""),
                };
                let dir = match name {
                    "sendrecv" => Some(Direction::SendRecv),
                    "sendonly" => Some(Direction::SendOnly),
                    "recvonly" => Some(Direction::RecvOnly),
                    "inactive" => Some(Direction::Inactive),
                    _ => None,
                };
                if let Some(d) = dir {
                    match sdp.media.last_mut() {
                        Some(m) => m.direction = d,
                        None => session_dir = d,
                    }
                    continue;
                }
                match (name, in_media) {
                    ("ice-ufrag", false) => session_ufrag = Some(val.to_string()),
                    ("ice-ufrag", true) => {
                        if let Some(m) = sdp.media.last_mut() {
                            m.ice_ufrag = Some(val.to_string());
                        }
                    }
                    ("rtcp-mux", true) => {
                        if let Some(m) = sdp.media.last_mut() {
                            m.rtcp_mux = true;
                        }
                    }
                    ("rtpmap", true) => {
                        let mut it = fields(val);
                        let pt = it.next().and_then(|p| p.parse::<u8>().ok());
                        let format = it.next();
                        let enc = format.map(before_slash);
                        // `<encoding name>/<clock rate>[/<parameters>]`
                        let rate = format
                            .and_then(|f| f.split('/').nth(1))
                            .and_then(|r| r.parse::<u32>().ok())
                            .filter(|&r| r > 0);
                        if let (Some(pt), Some(enc), Some(m)) = (pt, enc, sdp.media.last_mut())
                            && let Some(p) = m.payloads.iter_mut().find(|p| p.pt == pt)
                        {
                            if p.name.as_deref() != Some(enc) {
                                p.name = Some(intern(enc));
                            }
                            if rate.is_some() {
                                p.clock_rate = rate;
                            }
                        }
                    }
                    ("candidate", true) => {
                        if let (Some(c), Some(m)) = (parse_candidate(val), sdp.media.last_mut()) {
                            m.candidates.push(c);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    // Kept for the whole run by the calls: no growth slack.
    sdp.media.shrink_to_fit();
    sdp
}

/// `<foundation> <component> <transport> <priority> <addr> <port> typ <type> …`
fn parse_candidate(v: &str) -> Option<Candidate> {
    let f: Vec<&str> = fields(v).collect();
    if f.len() < 8 || f[6] != "typ" {
        return None;
    }
    Some(Candidate {
        component: f[1].parse().ok()?,
        transport: f[2].to_ascii_lowercase(),
        addr: f[4].to_string(),
        port: f[5].parse().ok()?,
        typ: f[7].to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_as_split_whitespace_does() {
        for v in [
            "",
            "   ",
            "audio 30000 RTP/AVP 8 0",
            "  a\tb \x0B c\x0Cd\r e  ",
            "IN IP4\u{a0}10.0.0.1  x",
            "\u{2003}é ü\u{3000}z ",
        ] {
            assert_eq!(
                fields(v).collect::<Vec<_>>(),
                v.split_whitespace().collect::<Vec<_>>(),
                "{v:?}"
            );
        }
    }

    #[test]
    fn shortcuts_agree_with_the_std_functions() {
        for v in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta b\r",
            "x\u{a0}",
            "\u{2003}x",
            "é",
            "a\x0B",
            "PCMA/8000",
            "/",
            "a/b/c",
            "opus/48000/2",
        ] {
            assert_eq!(trim(v), v.trim(), "{v:?}");
            assert_eq!(trim_end(v), v.trim_end(), "{v:?}");
            assert_eq!(before_slash(v), v.split('/').next().unwrap(), "{v:?}");
        }
    }

    #[test]
    fn summarises_audio_with_ice() {
        let body = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=ice-ufrag:abcd\r\nm=audio 30000 RTP/AVP 8 0 111 101\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\na=rtcp-mux\r\na=candidate:1 1 UDP 2130706431 10.0.0.1 30000 typ host\r\nm=video 0 RTP/AVP 96\r\nc=IN IP4 10.0.0.9\r\n";
        let s = parse(body);
        assert_eq!(s.connection, Some("10.0.0.1".parse().unwrap()));
        let a = &s.media[0];
        assert_eq!((a.port, &*a.proto), (30000, "RTP/AVP"));
        assert_eq!(a.codecs(), vec!["PCMA", "PCMU", "opus"]);
        assert_eq!(a.direction, Direction::SendOnly);
        assert!(a.rtcp_mux);
        assert_eq!(a.ice_ufrag.as_deref(), Some("abcd"));
        assert_eq!(a.candidates[0].port, 30000);
        assert_eq!(s.media[1].connection, Some("10.0.0.9".parse().unwrap()));
        assert_eq!(s.media[1].payloads[0].name, None);
        let rates: Vec<Option<u32>> = a.payloads.iter().map(|p| p.clock_rate).collect();
        assert_eq!(rates, [Some(8000), Some(8000), Some(48000), Some(8000)]);
        assert_eq!(
            s.media[1].payloads[0].clock_rate, None,
            "dynamic, no rtpmap"
        );
    }

    #[test]
    fn clock_rates_come_from_rtpmap_then_the_static_table() {
        let body = b"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 96 97 98 9 10 99\r\na=rtpmap:96 L16/48000\r\na=rtpmap:97 speex/32000\r\na=rtpmap:98 BV32/16000\r\na=rtpmap:99 foo/0\r\nm=video 4002 RTP/AVP 34 100\r\na=rtpmap:100 H264/90000\r\n";
        let s = parse(body);
        let rates = |m: &Media| -> Vec<(u8, Option<u32>)> {
            m.payloads.iter().map(|p| (p.pt, p.clock_rate)).collect()
        };
        assert_eq!(
            rates(&s.media[0]),
            [
                (96, Some(48000)),
                (97, Some(32000)),
                (98, Some(16000)),
                // G.722 keeps the 8000 Hz RTP clock of RFC 3551 §4.5.2.
                (9, Some(8000)),
                (10, Some(44100)),
                (99, None),
            ]
        );
        assert_eq!(rates(&s.media[1]), [(34, Some(90000)), (100, Some(90000))]);
        assert_eq!(static_clock_rate(2), None, "reserved");
        assert_eq!(static_clock_rate(19), None, "reserved");
        assert_eq!(static_clock_rate(96), None, "dynamic");
    }
}
