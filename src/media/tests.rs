//! Unit tests of the media tracker: payload reading, RTP recognition, announcements,
//! STUN transactions over UDP and TCP, softphone signalling flows.

use super::testing::*;
use super::*;
use crate::net::{Datagram, Flow, StreamEvent};

#[test]
fn udp_payloads_are_read_by_first_byte_and_count_as_the_whole_datagram_would() {
    let rtp = rtp_pkt(7, 160, 0xabc, 8);
    let rr = [0x80, 201, 0, 1, 1, 2, 3, 4];
    let bad_rr = [0x80, 201, 0, 5, 1, 2, 3, 4];
    let dtls = [22u8, 0xfe, 0xfd, 0, 0];
    let stun = stun_msg(0x0001, 9, &[]);
    assert_eq!(UdpPayload::read(&[]), Some(UdpPayload::Empty));
    assert_eq!(UdpPayload::read(&stun), None, "STUN is read whole");
    assert_eq!(UdpPayload::read(&dtls), Some(UdpPayload::Dtls));
    assert_eq!(UdpPayload::read(b"hello"), Some(UdpPayload::Other));
    assert_eq!(
        UdpPayload::read(&rr),
        Some(UdpPayload::Rtcp { valid: true })
    );
    assert_eq!(
        UdpPayload::read(&bad_rr),
        Some(UdpPayload::Rtcp { valid: false })
    );
    assert_eq!(
        UdpPayload::read(&rtp),
        Some(UdpPayload::Rtp(rtp::parse(&rtp)))
    );
    assert!(matches!(
        UdpPayload::read(&rtp),
        Some(UdpPayload::Rtp(Some(h))) if h.seq == 7 && h.ssrc == 0xabc
    ));
    assert_eq!(UdpPayload::read(&rtp[..6]), Some(UdpPayload::Rtp(None)));

    // The same traffic whole, and read with its payload left behind: the same report
    // (compared as JSON: its lookup index is a randomly seeded map).
    let mut packets: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..6u16 {
        let r = rtp_pkt(100 + i, u32::from(i) * 160, 0x1234, 0);
        packets.push(("10.0.0.1:40000".into(), r));
    }
    for p in [&rr[..], &bad_rr, &dtls, b"hello", &[], &stun] {
        packets.push(("10.0.0.2:3478".into(), p.to_vec()));
    }
    let whole = {
        let mut t = MediaTracker::default();
        for (i, (src, p)) in packets.iter().enumerate() {
            t.datagram(&dgram(
                i as u64 + 1,
                i as u32 * 20,
                src,
                "10.0.0.9:30000",
                p,
            ));
        }
        serde_json::to_string(&t.finish()).expect("report serialises")
    };
    let read = {
        let mut t = MediaTracker::default();
        for (i, (src, p)) in packets.iter().enumerate() {
            let d = dgram(i as u64 + 1, i as u32 * 20, src, "10.0.0.9:30000", p);
            match UdpPayload::read(p) {
                Some(r) => t.read_datagram(&Datagram { payload: &[], ..d }, r),
                None => t.datagram(&d),
            }
        }
        serde_json::to_string(&t.finish()).expect("report serialises")
    };
    assert_eq!(whole, read);
    assert!(whole.contains(r#""rtcp_packets":1,"#), "{whole}");
    assert!(whole.contains(r#""dtls_packets":1,"#), "{whole}");
    assert!(whole.contains(r#""udp_datagrams":12,"#), "{whole}");
}

#[test]
fn unannounced_rtp_needs_three_consecutive_packets() {
    let mut t = MediaTracker::default();
    // Two stray packets, then a real stream starting over.
    t.datagram(&dgram(
        1,
        0,
        "10.0.0.1:4000",
        "10.0.0.2:5000",
        &rtp_pkt(7, 0, 1, 0),
    ));
    t.datagram(&dgram(
        2,
        20,
        "10.0.0.1:4000",
        "10.0.0.2:5000",
        &rtp_pkt(900, 0, 1, 0),
    ));
    // A lone packet of another flow never becomes a stream.
    t.datagram(&dgram(
        3,
        20,
        "10.0.0.9:4000",
        "10.0.0.2:5002",
        &rtp_pkt(1, 0, 9, 0),
    ));
    for i in 0..10u16 {
        let p = rtp_pkt(901 + i, 160 * (u32::from(i) + 1), 1, 0);
        t.datagram(&dgram(
            4 + u64::from(i),
            40 + 20 * u32::from(i),
            "10.0.0.1:4000",
            "10.0.0.2:5000",
            &p,
        ));
    }
    let r = t.finish();
    assert_eq!(r.rtp.len(), 1);
    let s = &r.rtp[0];
    assert_eq!(
        s.packets, 11,
        "the earlier packet of the run counts once confirmed"
    );
    assert_eq!((s.first_frame, s.last_frame), (2, 13));
    assert_eq!(s.lost, 0);
    assert_eq!(s.recognised_by, "sequence");
    assert_eq!(s.codec.as_deref(), Some("PCMU"));
    assert!(s.max_jitter_ms < 0.01);
}

#[test]
fn datagrams_count_for_the_announcement_in_force_when_they_pass() {
    let mut t = MediaTracker::default();
    let sdp = |port: u16| {
        crate::sip::sdp::parse(
            format!("v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio {port} RTP/AVP 8\r\n").as_bytes(),
        )
    };
    let send = |t: &mut MediaTracker, frame: u64, n: u16| {
        for i in 0..n {
            t.datagram(&dgram(
                frame + u64::from(i),
                0,
                "10.0.0.1:4000",
                "10.0.0.2:5000",
                &rtp_pkt(i, 0, 9, 8),
            ));
        }
    };
    send(&mut t, 1, 1); // before any SDP: counted for nobody
    t.announce("call-a", &sdp(5000), 2);
    send(&mut t, 3, 2);
    t.announce("call-b", &sdp(5000), 10); // the address moves to another call
    send(&mut t, 11, 3);
    t.announce("call-c", &sdp(6000), 20); // another address: call-b keeps 5000
    send(&mut t, 21, 4);
    let r = t.finish();
    let received: Vec<(&str, u64)> = r
        .announced
        .iter()
        .map(|a| (&*a.call_id, a.received))
        .collect();
    assert_eq!(received, [("call-a", 2), ("call-b", 7), ("call-c", 0)]);
    // One datagram was sent before the first announcement.
    assert_eq!(r.udp_datagrams, 10);
}

/// `call-a` announces 10.0.0.2:5000 (frame 1) and 5 packets of SSRC 7 pass from
/// 10.0.0.1:4000 (frames 10-14); then `call` announces `sdp` at `frame` and `n` packets of
/// the same SSRC, with the same sequence numbers from 1000 on, pass from frame `frame + 10`.
fn same_ssrc_after(call: &str, sdp: &str, frame: u64, n: u16) -> MediaReport {
    let mut t = MediaTracker::default();
    let first = crate::sip::sdp::parse(b"v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio 5000 RTP/AVP 0\r\n");
    t.announce("call-a", &first, 1);
    rtp_stream(&mut t, "10.0.0.1:4000", "10.0.0.2:5000", 7, 10, 5);
    t.announce(call, &crate::sip::sdp::parse(sdp.as_bytes()), frame);
    rtp_stream(&mut t, "10.0.0.1:4000", "10.0.0.2:5000", 7, frame + 10, n);
    t.finish()
}

/// A later call that gets the same addresses again (a PBX recycles its RTP ports) and the
/// same SSRC (a sender replaying a recording, as sipp does) has a stream of its own: the
/// first call keeps its packets, sequence and loss, the second starts afresh.
#[test]
fn a_stream_under_another_calls_sdp_is_a_new_stream() {
    // The same sequence numbers again: read as one stream they would be duplicates.
    let r = same_ssrc_after(
        "call-b",
        "v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio 5000 RTP/AVP 0\r\n",
        100,
        8,
    );
    // Call, frames, packets, lost, duplicates of each stream.
    let rows: Vec<String> = r
        .rtp
        .iter()
        .map(|s| {
            let call = s.call_id.as_deref().unwrap_or("-");
            let (first, last) = (s.first_frame, s.last_frame);
            format!(
                "{call} {first}-{last} {} {} {}",
                s.packets, s.lost, s.duplicates
            )
        })
        .collect();
    assert_eq!(rows, ["call-a 10-14 5 0 0", "call-b 110-117 8 0 0"]);
    let rtp: Vec<(&str, u64)> = r
        .announced
        .iter()
        .map(|a| (&*a.call_id, a.rtp_received))
        .collect();
    assert_eq!(rtp, [("call-a", 5), ("call-b", 8)]);
    // One call's own stream, seen before and after its answer's SDP, stays one.
    let answer = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n";
    let r = same_ssrc_after("call-a", answer, 20, 5);
    assert_eq!(r.rtp.len(), 1, "{:?}", r.rtp);
}

#[test]
fn rtp_and_announcements_are_found_by_address_in_order() {
    let mut t = MediaTracker::default();
    for (i, call) in ["c1", "c2", "c3"].iter().enumerate() {
        let port = if i == 1 { 7000 } else { 5000 };
        let body = format!("v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio {port} RTP/AVP 8\r\n");
        t.announce(call, &crate::sip::sdp::parse(body.as_bytes()), i as u64);
    }
    rtp_stream(&mut t, "10.0.0.1:4000", "10.0.0.2:5000", 1, 10, 5);
    rtp_stream(&mut t, "10.0.0.2:5000", "10.0.0.1:4000", 2, 20, 5);
    rtp_stream(&mut t, "10.0.0.3:4000", "10.0.0.2:7000", 3, 30, 5);
    let r = t.finish();
    let at = |a: &str| -> Vec<&str> { r.announced_at(addr(a)).map(|x| &*x.call_id).collect() };
    assert_eq!(at("10.0.0.2:5000"), ["c1", "c3"]);
    assert_eq!(at("10.0.0.2:7000"), ["c2"]);
    assert!(at("10.0.0.9:1").is_empty());
    let ssrcs = |a: &str| -> Vec<u32> { r.rtp_at(addr(a)).map(|s| s.ssrc).collect() };
    assert_eq!(ssrcs("10.0.0.2:5000"), [1, 2]);
    assert_eq!(ssrcs("10.0.0.1:4000"), [1, 2]);
    assert_eq!(ssrcs("10.0.0.2:7000"), [3]);
    assert!(ssrcs("10.0.0.9:1").is_empty());
}

#[test]
fn announced_flow_counts_from_the_first_packet_and_names_the_codec() {
    let mut t = MediaTracker::default();
    let sdp = crate::sip::sdp::parse(
        b"v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio 5000 RTP/AVP 111 101\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n",
    );
    t.announce("call-1", &sdp, 1);
    t.announce("call-1", &sdp, 3); // retransmitted SDP: no second entry
    t.datagram(&dgram(
        5,
        0,
        "10.0.0.1:4000",
        "10.0.0.2:5000",
        &rtp_pkt(1, 0, 5, 111),
    ));
    t.datagram(&dgram(
        6,
        20,
        "10.0.0.1:4000",
        "10.0.0.2:5000",
        &rtp_pkt(3, 1920, 5, 111),
    ));
    t.datagram(&dgram(
        7,
        40,
        "10.0.0.1:4000",
        "10.0.0.2:5000",
        &rtp_pkt(3, 1920, 5, 111),
    ));
    let r = t.finish();
    assert_eq!(r.announced.len(), 1);
    assert_eq!(r.announced[0].received, 3);
    assert_eq!(r.announced[0].rtp_received, 3);
    let s = &r.rtp[0];
    assert_eq!(s.call_id.as_deref(), Some("call-1"));
    assert_eq!(s.codec.as_deref(), Some("opus"));
    assert_eq!((s.packets, s.expected, s.lost, s.duplicates), (3, 3, 0, 1));
    assert_eq!(s.recognised_by, "sdp");
}

#[test]
fn stun_transactions_pair_and_count_retransmissions() {
    let mut t = MediaTracker::default();
    let req = stun_msg(
        0x0001,
        1,
        &[
            (stun::attr::USERNAME, b"Sv4k:Xc9f"),
            (stun::attr::ICE_CONTROLLING, &[0; 8]),
        ],
    );
    let resp = stun_msg(0x0101, 1, &[]);
    let other = stun_msg(0x0101, 2, &[]);
    let ind = stun_msg(0x0011, 3, &[]);
    t.datagram(&dgram(1, 0, "10.0.0.1:49200", "10.0.0.2:30010", &req));
    t.datagram(&dgram(2, 100, "10.0.0.1:49200", "10.0.0.2:30010", &req));
    t.datagram(&dgram(3, 101, "10.0.0.2:30010", "10.0.0.1:49200", &resp));
    t.datagram(&dgram(4, 102, "10.0.0.2:30010", "10.0.0.1:49200", &other));
    t.datagram(&dgram(5, 103, "10.0.0.2:30010", "10.0.0.1:49200", &ind));
    // Random bytes starting with 0: not STUN.
    t.datagram(&dgram(
        6,
        104,
        "10.0.0.2:30010",
        "10.0.0.1:49200",
        &[0u8; 40],
    ));
    // Then RTP on the validated pair counts from its first packet.
    t.datagram(&dgram(
        7,
        120,
        "10.0.0.2:30010",
        "10.0.0.1:49200",
        &rtp_pkt(1, 0, 77, 8),
    ));
    let r = t.finish();
    assert_eq!(r.stun_messages, 5);
    assert_eq!(r.stun_indications, 1);
    assert_eq!(r.stun_unmatched_responses, 1);
    assert_eq!(r.stun.len(), 1);
    let x = &r.stun[0];
    assert_eq!(x.retransmission_frames, vec![2]);
    assert_eq!(x.response_frame, Some(3));
    assert_eq!(x.response_class.as_deref(), Some("success"));
    assert_eq!(x.ice_role.as_deref(), Some("controlling"));
    assert!(x.is_ice_check() && x.answered());
    assert_eq!(r.rtp.len(), 1);
    assert_eq!(r.rtp[0].recognised_by, "stun");
}

#[test]
fn rtcp_is_counted_not_taken_for_rtp() {
    let mut t = MediaTracker::default();
    let rr = [0x80, 201, 0, 1, 0, 0, 0, 9];
    for i in 0..5 {
        t.datagram(&dgram(i, 0, "10.0.0.1:4001", "10.0.0.2:5001", &rr));
    }
    let r = t.finish();
    assert_eq!(r.rtcp_packets, 5);
    assert!(r.rtp.is_empty());
}

#[test]
fn stun_over_tcp_across_segments() {
    let mut t = MediaTracker::default();
    let req = stun_msg(0x0003, 4, &[(0x0019, &[17, 0, 0, 0])]);
    let mut framed = (req.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&req);
    framed.extend_from_slice(&framed.clone());
    let flow = Flow {
        src: addr("10.0.0.1:5555"),
        dst: addr("10.0.0.2:443"),
    };
    let time = Timestamp::new(1, 0);
    let (a, b) = framed.split_at(7);
    for (i, part) in [a, b].into_iter().enumerate() {
        t.stream(&StreamEvent::Data {
            flow,
            dir: 0,
            frame: 10 + i as u64,
            origin: 10 + i as u64,
            time,
            data: part,
        });
    }
    let r = t.finish();
    assert_eq!(r.stun_messages, 2);
    assert_eq!(r.stun[0].request_frame, 11);
    assert_eq!(r.stun[0].retransmission_frames, vec![11]);
    assert_eq!(r.stun[0].transport, Transport::Tcp);
}

#[test]
fn softphone_signalling_flow() {
    let mut t = MediaTracker::default();
    let c = addr("10.0.0.1:41230");
    let s = addr("10.0.0.2:2230");
    let time = Timestamp::new(1, 0);
    t.stream(&StreamEvent::Data {
        flow: Flow { src: c, dst: s },
        dir: 0,
        frame: 4,
        origin: 4,
        time,
        data: b"hello",
    });
    t.stream(&StreamEvent::Data {
        flow: Flow { src: s, dst: c },
        dir: 1,
        frame: 6,
        origin: 6,
        time,
        data: b"hi",
    });
    let r = t.finish();
    assert_eq!(r.softphone.len(), 1);
    let f = &r.softphone[0];
    assert_eq!((f.client, f.server), (c, s));
    assert_eq!((f.first_frame, f.last_frame, f.segments), (4, 6, 2));
    assert_eq!((f.client_bytes, f.server_bytes), (5, 2));
}

#[test]
fn jitter_clock_comes_from_the_sdp_and_is_not_guessed() {
    let mut t = MediaTracker::default();
    let sdp = crate::sip::sdp::parse(
        b"v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio 5000 RTP/AVP 97 8\r\na=rtpmap:97 speex/32000\r\nm=video 5002 RTP/AVP 34\r\n",
    );
    t.announce("call-1", &sdp, 1);
    // speex/32000, 20 ms apart: 640 units per packet.
    for i in 0..20u16 {
        let p = rtp_pkt(i, 640 * u32::from(i), 1, 97);
        t.datagram(&dgram(
            10 + u64::from(i),
            20 * u32::from(i),
            "10.0.0.1:4000",
            "10.0.0.2:5000",
            &p,
        ));
    }
    // Video on a payload type the m=video line does not list.
    for i in 0..20u16 {
        let p = rtp_pkt(i, 3600 * u32::from(i), 2, 99);
        t.datagram(&dgram(
            40 + u64::from(i),
            40 * u32::from(i),
            "10.0.0.1:4002",
            "10.0.0.2:5002",
            &p,
        ));
    }
    // First a payload type the SDP does not list, then PCMA: measured on PCMA.
    t.datagram(&dgram(
        70,
        0,
        "10.0.0.3:4000",
        "10.0.0.2:5000",
        &rtp_pkt(1, 0, 3, 99),
    ));
    for i in 1..20u16 {
        let p = rtp_pkt(1 + i, 160 * u32::from(i), 3, 8);
        t.datagram(&dgram(
            70 + u64::from(i),
            20 * u32::from(i),
            "10.0.0.3:4000",
            "10.0.0.2:5000",
            &p,
        ));
    }
    // No SDP: a dynamic payload type has no clock, a static one has RFC 3551's.
    rtp_stream(&mut t, "10.0.0.7:6000", "10.0.0.8:6000", 4, 100, 20);
    for i in 0..20u16 {
        let p = rtp_pkt(i, 960 * u32::from(i), 5, 111);
        t.datagram(&dgram(
            130 + u64::from(i),
            20 * u32::from(i),
            "10.0.0.7:6002",
            "10.0.0.8:6002",
            &p,
        ));
    }
    let r = t.finish();
    let by = |ssrc: u32| r.rtp.iter().find(|s| s.ssrc == ssrc).unwrap();
    let speex = by(1);
    assert_eq!(
        (speex.clock_rate, speex.kind.as_deref()),
        (Some(32000), Some("audio"))
    );
    assert!(speex.max_jitter_ms < 0.01, "{}", speex.max_jitter_ms);
    let video = by(2);
    assert_eq!(
        (video.clock_rate, video.kind.as_deref()),
        (None, Some("video"))
    );
    assert_eq!(
        video.jitter_note.as_deref(),
        Some("payload type 99 is not in the SDP of 10.0.0.2:5002 (34)")
    );
    let late_pcma = by(3);
    assert_eq!(late_pcma.clock_rate, Some(8000));
    assert_eq!(late_pcma.jitter_note, None);
    let pcmu = by(4);
    assert_eq!(
        (pcmu.clock_rate, pcmu.kind.as_deref()),
        (Some(8000), Some("audio"))
    );
    let dynamic = by(5);
    assert_eq!((dynamic.clock_rate, dynamic.kind.as_deref()), (None, None));
    assert_eq!((dynamic.jitter_ms, dynamic.max_jitter_ms), (0.0, 0.0));
    assert!(dynamic.consistent, "{:?}", dynamic.inconsistency);
}

#[test]
fn a_flow_that_changes_ssrc_on_every_packet_is_not_judged() {
    let mut t = MediaTracker::default();
    // Two interleaved "SSRCs", each with consecutive sequence numbers and a plausible clock:
    // confirmed as streams, but no RTP sender switches SSRC on every packet.
    for i in 0..40u16 {
        let ssrc = 1 + u32::from(i % 2);
        let n = i / 2;
        let p = rtp_pkt(n, 160 * u32::from(n), ssrc, 0);
        t.datagram(&dgram(
            1 + u64::from(i),
            10 * u32::from(i),
            "10.0.0.1:4000",
            "10.0.0.2:5000",
            &p,
        ));
    }
    let r = t.finish();
    assert_eq!(r.rtp.len(), 2);
    for s in &r.rtp {
        assert!(!s.consistent);
        assert_eq!(
            s.inconsistency.as_deref(),
            Some("the SSRC changes 39 times in 40 packets of the flow")
        );
    }
}

/// Past the cap on SDP announcements (`--max-sdp-announcements`), new ones are not
/// tracked: the table, its flag, its cap, the count and the first frame are reported, and
/// the calls still going on from then are not judged (those that ended before are).
fn announcements_past_the_cap(t: MediaTracker, cap: usize) {
    let mut t = t;
    let sdp = |port: u16| {
        crate::sip::sdp::parse(
            format!(
                "v=0\r\nc=IN IP4 10.0.{}.{}\r\nm=audio {port} RTP/AVP 8\r\n",
                port >> 8,
                port & 255
            )
            .as_bytes(),
        )
    };
    for n in 0..cap as u64 + 3 {
        let port = 1024 + (n % 60_000) as u16;
        // A new address each (the first 60,000), then the same addresses for new calls.
        t.announce(&format!("call-{n}"), &sdp(port), 10 + n);
    }
    let r = t.finish();
    assert_eq!(r.announced.len(), cap);
    let l = &r.item_limits[..];
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(
        (
            l[0].table,
            l[0].flag,
            l[0].cap,
            l[0].count,
            l[0].first_frame
        ),
        (
            "sdp-announcements",
            "--max-sdp-announcements",
            cap,
            3,
            10 + cap as u64
        )
    );
    assert_eq!(r.dropped, 3);
    assert_eq!(r.media_cut_from(), Some(10 + cap as u64));
    let after = format!("call-{}", cap + 1);
    assert!(r.not_judged(&after, 10 + cap as u64 + 1));
    assert!(
        r.not_judged("call-5", 10 + cap as u64),
        "still going on then"
    );
    assert!(!r.not_judged("call-5", 9 + cap as u64), "ended before");
}

#[test]
fn announcements_past_the_default_cap_are_reported_and_their_calls_not_judged() {
    let t = MediaTracker::new(MediaSettings::default());
    announcements_past_the_cap(t, crate::limits::Limits::DEFAULT.sdp_announcements);
}

#[test]
fn the_announcement_cap_is_the_one_the_limits_set() {
    let limits = crate::limits::Limits {
        sdp_announcements: 40,
        ..crate::limits::Limits::DEFAULT
    };
    announcements_past_the_cap(
        MediaTracker::with_limits(MediaSettings::default(), limits),
        40,
    );
}

/// A call let go forgets its announcements no flow looked up (their places are reused),
/// keeps those a flow did, and the report numbers what is left consistently: each stream
/// names its own call and codec.
#[test]
fn a_call_let_go_forgets_the_announcements_no_flow_used() {
    let mut t = MediaTracker::default();
    let sdp = |port: u16, codec: &str| {
        crate::sip::sdp::parse(
            format!("v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 {codec}/8000\r\n")
                .as_bytes(),
        )
    };
    t.announce("used", &sdp(5000, "PCMA"), 1);
    t.announce("unused", &sdp(6000, "G729"), 2);
    t.announce("unused", &sdp(6002, "G729"), 3);
    rtp_stream(&mut t, "10.0.0.1:4000", "10.0.0.2:5000", 1, 10, 5);
    t.forget_call("used");
    t.forget_call("unused");
    t.forget_call("never-seen");
    // A new call takes a forgotten place; its stream must name it, not the one before.
    t.announce("later", &sdp(7000, "GSM"), 20);
    rtp_stream(&mut t, "10.0.0.1:4002", "10.0.0.2:7000", 2, 30, 5);
    // A flow to the forgotten address finds no announcement.
    rtp_stream(&mut t, "10.0.0.1:4004", "10.0.0.2:6000", 3, 40, 5);
    let r = t.finish();
    let calls: Vec<&str> = r.announced.iter().map(|a| &*a.call_id).collect();
    assert_eq!(calls, ["used", "later"]);
    let by_ssrc = |ssrc: u32| r.rtp.iter().find(|s| s.ssrc == ssrc).unwrap();
    assert_eq!(by_ssrc(1).call_id.as_deref(), Some("used"));
    assert_eq!(by_ssrc(1).codec.as_deref(), Some("PCMA"));
    assert_eq!(by_ssrc(2).call_id.as_deref(), Some("later"));
    assert_eq!(by_ssrc(2).codec.as_deref(), Some("GSM"));
    assert_eq!(r.announced[1].rtp_received, 5);
    assert_eq!(by_ssrc(3).call_id, None);
    let at = |a: &str| r.announced_at(addr(a)).count();
    assert_eq!(
        (
            at("10.0.0.2:5000"),
            at("10.0.0.2:6000"),
            at("10.0.0.2:7000")
        ),
        (1, 0, 1)
    );
}

/// Forgotten announcements leave room under the cap for new ones.
#[test]
fn forgotten_announcements_leave_room_under_the_cap() {
    let limits = crate::limits::Limits {
        sdp_announcements: 10,
        ..crate::limits::Limits::DEFAULT
    };
    let mut t = MediaTracker::with_limits(MediaSettings::default(), limits);
    for n in 0..100u16 {
        let body = format!(
            "v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio {} RTP/AVP 8\r\n",
            2000 + n
        );
        t.announce(
            &format!("c{n}"),
            &crate::sip::sdp::parse(body.as_bytes()),
            u64::from(n),
        );
        if n >= 5 {
            t.forget_call(&format!("c{}", n - 5));
        }
    }
    let r = t.finish();
    assert!(r.item_limits.is_empty(), "{:?}", r.item_limits);
    let calls: Vec<&str> = r.announced.iter().map(|a| &*a.call_id).collect();
    assert_eq!(calls.len(), 5, "{calls:?}");
    for n in 95..100 {
        assert!(calls.contains(&format!("c{n}").as_str()), "{calls:?}");
    }
}

/// An announcement left out at the cap and announced again by the same call (a
/// retransmitted 200, a re-INVITE) is counted once; another call's or address's counts.
#[test]
fn an_announcement_left_out_is_counted_once() {
    let limits = crate::limits::Limits {
        sdp_announcements: 1,
        ..crate::limits::Limits::DEFAULT
    };
    let mut t = MediaTracker::with_limits(MediaSettings::default(), limits);
    let sdp = |port: u16| {
        crate::sip::sdp::parse(
            format!("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio {port} RTP/AVP 8\r\n").as_bytes(),
        )
    };
    t.announce("a", &sdp(4000), 1);
    t.announce("b", &sdp(4002), 2);
    t.announce("b", &sdp(4002), 3);
    t.announce("b", &sdp(4002), 4);
    t.announce("c", &sdp(4002), 5);
    t.announce("b", &sdp(4004), 6);
    let r = t.finish();
    assert_eq!(r.announced.len(), 1);
    let l = &r.item_limits[..];
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!((l[0].count, l[0].first_frame), (3, 2), "{l:?}");
    assert_eq!(r.dropped, 3);
}

/// A call's announcements share its Call-ID, and addresses announced with the same `m=`
/// description share it: an announcement costs its address and counts, not copies.
#[test]
fn announcements_share_call_ids_and_descriptions() {
    let mut t = MediaTracker::new(MediaSettings::default());
    let sdp = |port: u16, codecs: &str| {
        crate::sip::sdp::parse(
            format!(
                "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio {port} RTP/AVP {codecs}\r\n\
                 a=rtpmap:101 telephone-event/8000\r\n\
                 a=candidate:1 1 UDP 2130706431 192.168.1.2 {port} typ host\r\n"
            )
            .as_bytes(),
        )
    };
    t.announce("a", &sdp(4000, "8 101"), 1);
    t.announce("b", &sdp(4002, "8 101"), 2);
    t.announce("c", &sdp(4004, "0 101"), 3);
    let r = t.finish();
    let a: Vec<_> = r.announced.iter().collect();
    assert_eq!(a.len(), 6, "c= address and host candidate of each call");
    assert_eq!(&*a[0].call_id, "a");
    assert!(std::sync::Arc::ptr_eq(&a[0].call_id, &a[1].call_id));
    assert!(!std::sync::Arc::ptr_eq(&a[1].call_id, &a[2].call_id));
    assert!(std::sync::Arc::ptr_eq(&a[0].format, &a[3].format));
    assert!(!std::sync::Arc::ptr_eq(&a[0].format, &a[4].format));
    assert_eq!(a[4].format.codecs, ["PCMU"]);
    assert_eq!(a[1].candidate.as_deref(), Some("host"));
    // JSON keeps its flat shape.
    let text = serde_json::to_string(a[1]).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    keys.sort_by_key(|k| text.find(&format!("\"{k}\":")));
    assert_eq!(
        keys,
        [
            "call_id",
            "addr",
            "frame",
            "codecs",
            "kind",
            "direction",
            "candidate",
            "payloads",
            "received",
            "sent",
            "rtp_received",
            "rtp_sent"
        ]
    );
    assert_eq!(v["codecs"], serde_json::json!(["PCMA"]));
    assert_eq!(v["payloads"][1]["name"], "telephone-event");
}
