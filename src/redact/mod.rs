//! Stage 1½ (`--redact`): [`Frame`](crate::capture::Frame) bytes → the same bytes with
//! nothing personal left, before [`crate::net`] sees them.
//!
//! Input: each frame as the capture stage reads it (link type and bytes). Output: a copy
//! of the same length in which phone numbers, SIP user parts, display names, host names,
//! IP and MAC addresses are replaced by tokens (`token`), RTP voice is zeroed and
//! payloads that are neither SIP, RTP/RTCP nor STUN are blanked (`packet`, `text`).
//! Every later stage, and so every output, sees only tokens; frame numbers, lengths and
//! TCP sequence numbers do not change, so the findings (ids, severities, frames) are the
//! ones of the unredacted capture.
//!
//! Tokens are keyed (SipHash): a random key per run, or `--redact-key` /
//! `SIPDIAG_REDACT_KEY` for the same tokens across runs. Values given on the command line
//! or in the site file that must match the capture (`--xcc`, `--pbx`, `--ipo`,
//! `--known-user`, `--call-id`, `--number`, `--ip`) go through the same key
//! ([`number`], [`ip`], [`endpoint`], [`call_id`]). Capture paths in reports become
//! `capture-N` plus the file's extension ([`shown_path`]).
//!
//! Writers of packets (an annotated or extracted pcapng) call [`Redactor::frame`] per
//! frame, with the key of the run ([`active`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::OnceLock;

mod ipo;
mod packet;
mod text;
mod token;

pub(crate) use ipo::config as ipo_config;
pub use token::Key;

/// Rewrites frames for `--redact`. State: which TCP directions carry SIP or TLS, and
/// what the first fragment of a fragmented datagram was (both bounded).
#[derive(Debug)]
pub struct Redactor {
    key: Key,
    tcp: HashMap<(IpAddr, u16, IpAddr, u16), packet::TcpMode>,
    frags: HashMap<(IpAddr, IpAddr, u32), packet::FragClass>,
    buf: Vec<u8>,
}

impl Redactor {
    pub fn new(key: Key) -> Redactor {
        Redactor {
            key,
            tcp: HashMap::new(),
            frags: HashMap::new(),
            buf: Vec::new(),
        }
    }

    /// One frame, redacted: the hook for writers of packets. Always a new copy of the
    /// same length (nothing of a frame passes unexamined).
    pub fn frame<'a>(&mut self, linktype: u32, data: &'a [u8]) -> Cow<'a, [u8]> {
        let mut out = data.to_vec();
        self.rewrite_frame(linktype, &mut out);
        Cow::Owned(out)
    }

    /// [`Redactor::frame`] into a buffer the redactor reuses (the scan's hot path).
    pub fn frame_reused(&mut self, linktype: u32, data: &[u8]) -> &[u8] {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        buf.extend_from_slice(data);
        self.rewrite_frame(linktype, &mut buf);
        self.buf = buf;
        &self.buf
    }

    pub fn key(&self) -> &Key {
        &self.key
    }
}

/// The run's redaction: its key and the capture paths as given.
struct Config {
    key: Key,
    paths: Vec<String>,
}

static ACTIVE: OnceLock<Config> = OnceLock::new();

/// Turns redaction on for this run (once; later calls change nothing). `passphrase`:
/// `--redact-key`, or `None` for a random key. `paths`: the captures as given, whose
/// names reports replace by `capture-N`.
pub fn enable(passphrase: Option<&str>, paths: &[String]) {
    let key = passphrase.map_or_else(Key::random, Key::from_passphrase);
    let _ = ACTIVE.set(Config {
        key,
        paths: paths.to_vec(),
    });
}

/// Turns redaction on when the command asks for it (`--redact`). An IP Office
/// configuration is then rewritten with the same key when loaded (`ipo_config`).
pub fn configure(command: &crate::cli::Command) -> anyhow::Result<()> {
    use crate::cli::Command;
    let (r, paths) = match command {
        Command::Messages(a) | Command::Calls(a) => (&a.redact, &a.captures),
        Command::Analyze(a) => (&a.redact, &a.captures),
        Command::Media(a) => (&a.redact, &a.captures),
        Command::Flow(a) => (&a.redact, &a.captures),
        Command::Extract(a) => (&a.redact, &a.captures),
        Command::Watch(a) => {
            enable_if(&a.redact, &a.inputs());
            return Ok(());
        }
        Command::IpoRoute(a) => {
            // A dry run has no capture: its flags would have to be tokens already.
            anyhow::ensure!(
                !(a.redact.redact && a.dry_run),
                "ipo-route --redact replays captures only; --dry-run takes the real values (run it without --redact)"
            );
            (&a.redact, &a.captures)
        }
        _ => return Ok(()),
    };
    enable_if(r, paths);
    Ok(())
}

fn enable_if(r: &crate::cli::RedactArgs, paths: &[String]) {
    if r.redact {
        enable(r.redact_key.as_deref(), paths);
    }
}

/// A redactor for one scan when redaction is on.
pub fn active() -> Option<Redactor> {
    ACTIVE.get().map(|c| Redactor::new(c.key))
}

/// A phone number from the command line or the site file, as it reads in the redacted
/// capture.
pub fn number(n: &str) -> String {
    let Some(c) = ACTIVE.get() else {
        return n.to_string();
    };
    let mut b = n.as_bytes().to_vec();
    if b.iter().any(u8::is_ascii_digit) {
        c.key.number(&mut b);
    }
    String::from_utf8(b).unwrap_or_default()
}

/// An address from the command line or a configuration, as in the redacted capture.
pub fn ip(a: IpAddr) -> IpAddr {
    match (ACTIVE.get(), a) {
        (None, a) => a,
        (Some(c), IpAddr::V4(v4)) => IpAddr::V4(c.key.ipv4(v4)),
        (Some(c), IpAddr::V6(v6)) => IpAddr::V6(c.key.ipv6(v6)),
    }
}

/// `ADDR[:PORT]` (or `[V6]:PORT`, or a host name) from the command line.
pub fn endpoint(s: &str) -> String {
    if ACTIVE.get().is_none() {
        return s.to_string();
    }
    if let Ok(a) = s.parse::<IpAddr>() {
        return ip(a).to_string();
    }
    if let Ok(sa) = s.parse::<std::net::SocketAddr>() {
        return std::net::SocketAddr::new(ip(sa.ip()), sa.port()).to_string();
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        _ => (s, None),
    };
    let mut b = host.as_bytes().to_vec();
    if let Some(c) = ACTIVE.get() {
        text::host_text(&c.key, &mut b);
    }
    let host = String::from_utf8(b).unwrap_or_default();
    match port {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// A Call-ID from the command line, redacted as the Call-ID header is.
pub fn call_id(id: &str) -> String {
    let Some(c) = ACTIVE.get() else {
        return id.to_string();
    };
    let mut b = id.as_bytes().to_vec();
    text::header(&c.key, "call-id", &mut b);
    String::from_utf8(b).unwrap_or_default()
}

/// How a capture path appears in reports: as given, or under `--redact` `capture-N`
/// (N its place on the command line, from 1) with the file's extension (`.pcap`,
/// `.pcapng`, `.gz` …): a file name often names the customer. `-` stays `-`.
pub fn shown_path(path: &str) -> String {
    let Some(c) = ACTIVE.get() else {
        return path.to_string();
    };
    if path == "-" {
        return path.to_string();
    }
    let n = c.paths.iter().position(|p| p == path).map_or(0, |i| i + 1);
    // The capture extensions at the end of the name, outermost last (`.pcap.gz`).
    let mut name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let mut ext = String::new();
    while let Some((stem, e)) = name.rsplit_once('.')
        && ["pcapng", "pcap", "cap", "gz"].contains(&e.to_ascii_lowercase().as_str())
    {
        ext.insert_str(0, &format!(".{e}"));
        name = stem;
    }
    format!("capture-{n}{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_hook_keeps_length_and_rewrites_addresses() {
        // Ethernet + IPv4 + UDP + a SIP line.
        let sip = b"OPTIONS sip:100@10.1.2.3 SIP/2.0\r\nFrom: <sip:200@10.1.2.4>\r\n\r\n";
        let mut f = vec![
            0x00, 0x1b, 0x4f, 1, 2, 3, 0x00, 0x1b, 0x4f, 4, 5, 6, 0x08, 0x00,
        ];
        let total = (20 + 8 + sip.len()) as u16;
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            1,
            0,
            0,
            64,
            17,
            0,
            0,
        ]);
        f.extend_from_slice(&[10, 1, 2, 3, 10, 1, 2, 4]);
        let ulen = (8 + sip.len()) as u16;
        f.extend_from_slice(&[
            0x13,
            0xc4,
            0x13,
            0xc4,
            (ulen >> 8) as u8,
            ulen as u8,
            0xab,
            0xcd,
        ]);
        f.extend_from_slice(sip);
        let mut r = Redactor::new(Key::from_passphrase("k"));
        let out = r.frame(1, &f).into_owned();
        assert_eq!(out.len(), f.len());
        let new_src = r.key().ipv4("10.1.2.3".parse().unwrap());
        assert_eq!(out[26..30], new_src.octets());
        let text = String::from_utf8_lossy(&out[42..]).into_owned();
        assert!(text.contains(&new_src.to_string()), "{text}");
        assert!(
            !text.contains("10.1.2.3") && !text.contains("sip:100@"),
            "{text}"
        );
        assert_eq!(&out[40..42], &[0, 0], "UDP checksum over IPv4 is zeroed");
        assert!(packet_checksum_ok(&out[14..34]));
        assert_eq!(r.frame(1, &f).into_owned(), out, "deterministic");
    }

    /// Total on any bytes: random frames of every link type, and every truncation and
    /// single-byte corruption of well-formed ones (SIP over IPv4 and IPv6, STUN, RTP,
    /// RTCP, TCP, ICMP quoting SIP) neither panic nor change a frame's length.
    #[test]
    fn any_bytes_are_total_and_keep_length() {
        let mut r = Redactor::new(Key::from_passphrase("k"));
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 200) as usize;
            let mut f: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // Often a plausible IP header, so that the deeper layers are reached.
            if len > 40 && next() % 2 == 0 {
                f[0] = if next() % 2 == 0 { 0x45 } else { 0x60 };
                f[9] = [1, 4, 6, 17, 41, 47, 58, 132][(next() % 8) as usize];
                f[6] = [0, 17, 44, 58][(next() % 4) as usize];
            }
            for lt in [0, 1, 101, 113, 197, 228, 229, 276, 9999] {
                assert_eq!(r.frame(lt, &f).len(), f.len());
            }
        }
        let sip = b"INVITE sip:+4930123@[2001:db8::1] SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;received=2001:db8::2\r\nFrom: \"A\" <sip:1@h>\r\nCall-ID: x@[::1]\r\n\r\nv=0\r\nc=IN IP6 ::ffff:1.2.3.4\r\na=candidate:1 1 UDP 1 fe80::1%eth0 5 typ host\r\n";
        let mut stun = vec![0, 1, 0, 12, 0x21, 0x12, 0xa4, 0x42];
        stun.extend_from_slice(&[7; 12]);
        stun.extend_from_slice(&[0, 0x20, 0, 8, 0, 1, 0x13, 0xc4, 1, 2, 3, 4]);
        let rtp = [0x80u8, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9, 9, 9, 9];
        let rtcp = [0x81u8, 202, 0, 2, 0, 0, 0, 1, 1, 3, b'a', b'@', b'b', 0];
        for (proto, payload) in [
            (17u8, &sip[..]),
            (17, &stun),
            (17, &rtp),
            (17, &rtcp),
            (6, sip),
        ] {
            for v6 in [false, true] {
                let mut f = if v6 {
                    let mut h = vec![0x60, 0, 0, 0, 0, 0, proto, 64];
                    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8].repeat(8));
                    h
                } else {
                    vec![
                        0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
                    ]
                };
                let l4 = if proto == 6 { 20 } else { 8 };
                let mut seg = vec![0u8; l4];
                seg[..4].copy_from_slice(&[0x13, 0xc4, 0x13, 0xc4]);
                if proto == 6 {
                    seg[12] = 0x50;
                }
                seg.extend_from_slice(payload);
                f.extend_from_slice(&seg);
                let n = f.len();
                if v6 {
                    f[4..6].copy_from_slice(&((n - 40) as u16).to_be_bytes());
                } else {
                    f[2..4].copy_from_slice(&(n as u16).to_be_bytes());
                }
                for cut in 0..=n {
                    assert_eq!(r.frame(101, &f[..cut]).len(), cut);
                }
                for i in 0..n {
                    let mut g = f.clone();
                    g[i] = g[i].wrapping_add(0x41);
                    assert_eq!(r.frame(101, &g).len(), n);
                }
                let out = r.frame(101, &f);
                let text = String::from_utf8_lossy(&out);
                assert!(!text.contains("4930123"), "{proto} {v6} {text:?}");
            }
        }
    }

    fn packet_checksum_ok(h: &[u8]) -> bool {
        let mut sum: u32 = 0;
        for c in h.chunks(2) {
            sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum == 0xffff
    }
}
