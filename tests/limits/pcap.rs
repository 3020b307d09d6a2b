//! A small classic-pcap writer (Ethernet / IPv4 / UDP or TCP, IPv4 fragments) and the SIP
//! and RTP packets of one call: the hostile captures of `tests/limits.rs` and the floods
//! of `benches/floods.rs` are written with it. Std only (and `tempfile` for the tests'
//! capture files, [`written`]).
#![allow(dead_code)]

use std::io::{self, Write};

pub type Addr = ([u8; 4], u16);

pub const UDP: u8 = 17;
pub const TCP: u8 = 6;
pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const PSH: u8 = 0x08;

/// Frames written to `W`, numbered from 1 as Wireshark numbers them.
pub struct Pcap<W: Write> {
    out: W,
    frames: u64,
    ip_id: u16,
    scratch: Vec<u8>,
}

impl<W: Write> Pcap<W> {
    /// Writes the file header (microsecond timestamps, link type Ethernet).
    pub fn new(mut out: W) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&65535u32.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        out.write_all(&h)?;
        Ok(Pcap {
            out,
            frames: 0,
            ip_id: 1,
            scratch: Vec::with_capacity(2048),
        })
    }

    /// Frames written so far (the number of the last one).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// The caller's BYE of [`invite`]'s call at `us` and its 200 a millisecond later.
    pub fn hang_up(
        &mut self,
        us: u64,
        call_id: &str,
        caller: Addr,
        callee: Addr,
    ) -> io::Result<()> {
        self.udp(
            us,
            caller,
            callee,
            &in_dialog("BYE", call_id, caller, callee),
        )?;
        self.udp(us + 1000, callee, caller, &bye_ok(call_id, caller, callee))
            .map(|_| ())
    }

    /// One UDP datagram, unfragmented. Returns its frame number.
    pub fn udp(&mut self, us: u64, src: Addr, dst: Addr, payload: &[u8]) -> io::Result<u64> {
        let mut l4 = Vec::with_capacity(8 + payload.len());
        l4.extend_from_slice(&src.1.to_be_bytes());
        l4.extend_from_slice(&dst.1.to_be_bytes());
        l4.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        l4.extend_from_slice(&[0, 0]);
        l4.extend_from_slice(payload);
        let id = self.next_id();
        self.ip(us, src.0, dst.0, UDP, id, 0, false, &l4)
    }

    /// One TCP segment (`flags` as in the header: [`SYN`], [`ACK`] | [`PSH`] …).
    pub fn tcp(
        &mut self,
        us: u64,
        src: Addr,
        dst: Addr,
        seq: u32,
        flags: u8,
        payload: &[u8],
    ) -> io::Result<u64> {
        let mut l4 = Vec::with_capacity(20 + payload.len());
        l4.extend_from_slice(&src.1.to_be_bytes());
        l4.extend_from_slice(&dst.1.to_be_bytes());
        l4.extend_from_slice(&seq.to_be_bytes());
        l4.extend_from_slice(&0u32.to_be_bytes());
        l4.extend_from_slice(&[0x50, flags]);
        l4.extend_from_slice(&65535u16.to_be_bytes());
        l4.extend_from_slice(&[0, 0, 0, 0]);
        l4.extend_from_slice(payload);
        let id = self.next_id();
        self.ip(us, src.0, dst.0, TCP, id, 0, false, &l4)
    }

    /// One IPv4 fragment: `data` starts `offset` bytes (a multiple of 8) into the
    /// datagram's payload; `more` sets the more-fragments flag.
    #[allow(clippy::too_many_arguments)]
    pub fn fragment(
        &mut self,
        us: u64,
        src: [u8; 4],
        dst: [u8; 4],
        proto: u8,
        id: u16,
        offset: u16,
        more: bool,
        data: &[u8],
    ) -> io::Result<u64> {
        self.ip(us, src, dst, proto, id, offset, more, data)
    }

    /// A UDP datagram sent as IPv4 fragments of at most `mtu_payload` bytes (a multiple
    /// of 8). Returns the frame of the last fragment.
    pub fn udp_fragmented(
        &mut self,
        us: u64,
        src: Addr,
        dst: Addr,
        payload: &[u8],
        mtu_payload: usize,
    ) -> io::Result<u64> {
        let mut l4 = Vec::with_capacity(8 + payload.len());
        l4.extend_from_slice(&src.1.to_be_bytes());
        l4.extend_from_slice(&dst.1.to_be_bytes());
        l4.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        l4.extend_from_slice(&[0, 0]);
        l4.extend_from_slice(payload);
        let id = self.next_id();
        let mut last = 0;
        for (i, chunk) in l4.chunks(mtu_payload).enumerate() {
            let offset = (i * mtu_payload) as u16;
            let more = offset as usize + chunk.len() < l4.len();
            last = self.ip(us, src.0, dst.0, UDP, id, offset, more, chunk)?;
        }
        Ok(last)
    }

    fn next_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        self.ip_id
    }

    #[allow(clippy::too_many_arguments)]
    fn ip(
        &mut self,
        us: u64,
        src: [u8; 4],
        dst: [u8; 4],
        proto: u8,
        id: u16,
        offset: u16,
        more: bool,
        l4: &[u8],
    ) -> io::Result<u64> {
        let f = &mut self.scratch;
        f.clear();
        // Ethernet: made-up unicast MACs, IPv4.
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
        let total = (20 + l4.len()) as u16;
        let frag = (offset / 8) | if more { 0x2000 } else { 0 };
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip[4..6].copy_from_slice(&id.to_be_bytes());
        ip[6..8].copy_from_slice(&frag.to_be_bytes());
        ip[8] = 64;
        ip[9] = proto;
        ip[12..16].copy_from_slice(&src);
        ip[16..20].copy_from_slice(&dst);
        let mut sum: u32 = ip
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(l4);
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&((us / 1_000_000) as u32).to_le_bytes());
        rec[4..8].copy_from_slice(&((us % 1_000_000) as u32).to_le_bytes());
        rec[8..12].copy_from_slice(&(f.len() as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&(f.len() as u32).to_le_bytes());
        self.out.write_all(&rec)?;
        self.out.write_all(f)?;
        self.frames += 1;
        Ok(self.frames)
    }
}

pub fn ip_str(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// The calling and called numbers of a call: `100` and `200`, or, for a Call-ID ending
/// in a number N, `1N` and `2N` (many calls between the same two numbers are not what a
/// normal capture holds).
fn users(call_id: &str) -> (String, String) {
    let digits: String = call_id
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (format!("1{digits:0>2}"), format!("2{digits:0>2}"))
}

/// An INVITE from `caller` to `callee` offering PCMA audio at `caller_media`.
pub fn invite(call_id: &str, caller: Addr, callee: Addr, caller_media: Addr) -> Vec<u8> {
    let (from, to) = users(call_id);
    let sdp = sdp(caller_media);
    format!(
        "INVITE sip:{to}@{callee_ip} SIP/2.0\r\nVia: SIP/2.0/UDP {caller_ip}:{cp};branch=z9hG4bK-{call_id}\r\nFrom: <sip:{from}@{caller_ip}>;tag=a{call_id}\r\nTo: <sip:{to}@{callee_ip}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:{from}@{caller_ip}:{cp}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{sdp}",
        callee_ip = ip_str(callee.0),
        caller_ip = ip_str(caller.0),
        cp = caller.1,
        len = sdp.len(),
    )
    .into_bytes()
}

/// The 200 OK to [`invite`], answering PCMA audio at `callee_media`.
pub fn ok(call_id: &str, caller: Addr, callee: Addr, callee_media: Addr) -> Vec<u8> {
    let (from, to) = users(call_id);
    let sdp = sdp(callee_media);
    format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {caller_ip}:{cp};branch=z9hG4bK-{call_id}\r\nFrom: <sip:{from}@{caller_ip}>;tag=a{call_id}\r\nTo: <sip:{to}@{callee_ip}>;tag=b{call_id}\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:{to}@{callee_ip}:{kp}>\r\nContent-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{sdp}",
        callee_ip = ip_str(callee.0),
        caller_ip = ip_str(caller.0),
        cp = caller.1,
        kp = callee.1,
        len = sdp.len(),
    )
    .into_bytes()
}

/// A response without body to [`invite`]: `100 Trying`, `486 Busy Here` …
pub fn response(call_id: &str, caller: Addr, callee: Addr, status: &str) -> Vec<u8> {
    let (from, to) = users(call_id);
    format!(
        "SIP/2.0 {status}\r\nVia: SIP/2.0/UDP {caller_ip}:{cp};branch=z9hG4bK-{call_id}\r\nFrom: <sip:{from}@{caller_ip}>;tag=a{call_id}\r\nTo: <sip:{to}@{callee_ip}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        callee_ip = ip_str(callee.0),
        caller_ip = ip_str(caller.0),
        cp = caller.1,
    )
    .into_bytes()
}

/// The ACK (`method` ACK, CSeq 1) or BYE (CSeq 2) of the call, from the caller.
pub fn in_dialog(method: &str, call_id: &str, caller: Addr, callee: Addr) -> Vec<u8> {
    let (from, to) = users(call_id);
    let cseq = if method == "ACK" { 1 } else { 2 };
    format!(
        "{method} sip:{to}@{callee_ip}:{kp} SIP/2.0\r\nVia: SIP/2.0/UDP {caller_ip}:{cp};branch=z9hG4bK-{method}{call_id}\r\nFrom: <sip:{from}@{caller_ip}>;tag=a{call_id}\r\nTo: <sip:{to}@{callee_ip}>;tag=b{call_id}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        callee_ip = ip_str(callee.0),
        caller_ip = ip_str(caller.0),
        cp = caller.1,
        kp = callee.1,
    )
    .into_bytes()
}

/// The 200 OK to the BYE.
pub fn bye_ok(call_id: &str, caller: Addr, callee: Addr) -> Vec<u8> {
    let (from, to) = users(call_id);
    format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {caller_ip}:{cp};branch=z9hG4bK-BYE{call_id}\r\nFrom: <sip:{from}@{caller_ip}>;tag=a{call_id}\r\nTo: <sip:{to}@{callee_ip}>;tag=b{call_id}\r\nCall-ID: {call_id}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
        callee_ip = ip_str(callee.0),
        caller_ip = ip_str(caller.0),
        cp = caller.1,
    )
    .into_bytes()
}

fn sdp(media: Addr) -> String {
    let ip = ip_str(media.0);
    format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n",
        media.1
    )
}

/// An RTP packet: PT 8, 160 bytes of payload.
pub fn rtp(seq: u16, ts: u32, ssrc: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(172);
    p.extend_from_slice(&[0x80, 8]);
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.resize(172, 0xd5);
    p
}

/// A REGISTER of `call_id` from `phone` to `registrar` (CSeq `cseq`), with credentials
/// when `auth` (the retry after a 401).
pub fn register(call_id: &str, phone: Addr, registrar: Addr, cseq: u32, auth: bool) -> Vec<u8> {
    let (p, r) = (ip_str(phone.0), ip_str(registrar.0));
    let auth = if auth {
        format!(
            "Authorization: Digest username=\"200\", realm=\"{r}\", nonce=\"n{cseq}\", uri=\"sip:{r}\", response=\"0123456789abcdef0123456789abcdef\"\r\n"
        )
    } else {
        String::new()
    };
    format!(
        "REGISTER sip:{r} SIP/2.0\r\nVia: SIP/2.0/UDP {p}:{pp};branch=z9hG4bK-r{cseq}\r\nFrom: <sip:200@{r}>;tag=a{call_id}\r\nTo: <sip:200@{r}>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:200@{p}:{pp}>\r\nExpires: 120\r\n{auth}Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        pp = phone.1,
    )
    .into_bytes()
}

/// The response `status` (`401 Unauthorized`, `200 OK`) to [`register`]'s CSeq `cseq`.
pub fn register_response(
    call_id: &str,
    phone: Addr,
    registrar: Addr,
    cseq: u32,
    status: &str,
) -> Vec<u8> {
    let (p, r) = (ip_str(phone.0), ip_str(registrar.0));
    format!(
        "SIP/2.0 {status}\r\nVia: SIP/2.0/UDP {p}:{pp};branch=z9hG4bK-r{cseq}\r\nFrom: <sip:200@{r}>;tag=a{call_id}\r\nTo: <sip:200@{r}>;tag=reg\r\nCall-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nContent-Length: 0\r\n\r\n",
        pp = phone.1,
    )
    .into_bytes()
}

/// A capture `f` writes, in a temporary `.pcap` file.
pub fn written(f: impl FnOnce(&mut Pcap<Vec<u8>>) -> io::Result<()>) -> tempfile::NamedTempFile {
    let mut p = Pcap::new(Vec::new()).unwrap();
    f(&mut p).unwrap();
    let file = tempfile::Builder::new().suffix(".pcap").tempfile().unwrap();
    std::fs::write(file.path(), p.into_inner()).unwrap();
    file
}
