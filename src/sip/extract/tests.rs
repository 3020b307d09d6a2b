//! Unit tests of SIP framing: datagrams, TCP streams cut by Content-Length, WebSocket,
//! TLS, limits and fragmented SIP over UDP.

use super::evidence::start_kind;
use super::*;
use crate::sip::SipMessage;

fn flow() -> Flow {
    Flow {
        src: "10.0.0.1:5060".parse().unwrap(),
        dst: "10.0.0.2:5060".parse().unwrap(),
    }
}

fn feed(chunks: &[&[u8]]) -> (Vec<SipMessage>, ExtractStats) {
    let mut x = Extractor::default();
    let mut msgs = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        let e = StreamEvent::Data {
            flow: flow(),
            dir: 0,
            frame: i as u64 + 1,
            origin: i as u64 + 1,
            time: Timestamp::default(),
            data: c,
        };
        x.stream(&e, &mut |m| msgs.extend(m.parse()));
    }
    x.stream(
        &StreamEvent::End {
            flow: flow(),
            dir: 0,
            frame: 99,
            evicted: false,
        },
        &mut |m| msgs.extend(m.parse()),
    );
    (msgs, x.stats)
}

const OPT: &[u8] = b"OPTIONS sip:a SIP/2.0\r\nCall-ID: 1\r\nContent-Length: 0\r\n\r\n";
const INV: &[u8] = b"INVITE sip:a SIP/2.0\r\nCall-ID: 2\r\nContent-Length: 5\r\n\r\nv=0\r\n";

/// Fragmented UDP SIP is kept per flow: the largest message's size, kind and
/// fragments; at most `FRAGMENTED_FLOWS` flows, the rest counted.
#[test]
fn fragmented_datagrams_are_noted_per_flow_and_bounded() {
    let mut x = Extractor::default();
    let ok = b"SIP/2.0 200 OK\r\nCall-ID: 1\r\n\r\n";
    for (i, (payload, frames)) in [(INV, &[1u64, 2][..]), (ok, &[3, 4, 5]), (OPT, &[6])]
        .into_iter()
        .enumerate()
    {
        let d = Datagram {
            frame: *frames.last().unwrap(),
            frames,
            time: Timestamp::default(),
            src: flow().src,
            dst: flow().dst,
            transport: Transport::Udp,
            payload,
            cut: false,
        };
        let start = sip_start(payload).unwrap_or_else(|| panic!("message {i}"));
        x.datagram(&d, start, &mut |_| {});
    }
    let f = &x.stats.fragmented[&(flow().src, flow().dst)];
    assert_eq!(f.messages, 2, "the one-frame OPTIONS is not fragmented");
    assert_eq!(
        (f.largest_bytes, f.largest_kind.as_str()),
        (INV.len(), "INVITE")
    );
    assert_eq!(f.largest_frames, [1, 2]);
    assert_eq!(f.frames, [2, 5]);
    assert_eq!(start_kind(ok), "200");
    for port in 0..(FRAGMENTED_FLOWS as u16 + 5) {
        let src = SocketAddr::from(([10, 0, 0, 9], 1000 + port));
        let d = Datagram {
            frame: 9,
            frames: &[8, 9],
            time: Timestamp::default(),
            src,
            dst: flow().dst,
            transport: Transport::Udp,
            payload: OPT,
            cut: false,
        };
        x.datagram(&d, sip_start(OPT).unwrap(), &mut |_| {});
    }
    assert_eq!(x.stats.fragmented.len(), FRAGMENTED_FLOWS);
    assert_eq!(x.stats.fragmented_unlisted, 6);
    let a = x.anomalies();
    assert_eq!(
        a.iter().filter(|a| a.kind == "sip-fragmented").count(),
        FRAGMENTED_FLOWS + 1
    );
}

#[test]
fn two_messages_in_one_segment() {
    let both = [OPT, INV].concat();
    let (m, _) = feed(&[&both]);
    assert_eq!(m.len(), 2);
    assert_eq!((m[0].frame, m[1].frame), (1, 1));
    assert_eq!(m[1].body, b"v=0\r\n");
}

#[test]
fn one_message_over_three_segments() {
    let (a, rest) = INV.split_at(10);
    let (b, c) = rest.split_at(40);
    let (m, _) = feed(&[a, b, c]);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].frame, 3);
    assert_eq!(m[0].frames(), [1, 2, 3]);
}

#[test]
fn message_ending_mid_segment_then_next_completes_later() {
    let mut first = OPT.to_vec();
    first.extend_from_slice(&INV[..20]);
    let (m, _) = feed(&[&first, &INV[20..]]);
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].frames(), [1]);
    assert_eq!(m[1].frames(), [1, 2]);
    assert_eq!(m[1].frame, 2);
}

#[test]
fn crlf_keepalives_are_skipped() {
    let (m, s) = feed(&[b"\r\n\r\n", OPT, b"\r\n", INV]);
    assert_eq!(m.len(), 2);
    assert_eq!(s.dropped, 0);
}

#[test]
fn unfinished_message_is_counted() {
    let (m, s) = feed(&[OPT, &INV[..30]]);
    assert_eq!(m.len(), 1);
    assert_eq!(s.dropped, 1);
    assert_eq!(s.dropped_frames, vec![2]);
}

#[test]
fn streams_are_kept_by_their_number_and_checked_against_their_flow() {
    let other = Flow {
        src: "10.0.0.3:5060".parse().unwrap(),
        dst: "10.0.0.2:5060".parse().unwrap(),
    };
    let mut x = Extractor::default();
    let mut msgs = Vec::new();
    let data = |flow, dir, frame, data| StreamEvent::Data {
        flow,
        dir,
        frame,
        origin: frame,
        time: Timestamp::default(),
        data,
    };
    // Two directions under numbers 5 and 0, their messages interleaved.
    x.stream(&data(flow(), 5, 1, &INV[..30]), &mut |m| {
        msgs.extend(m.parse())
    });
    x.stream(&data(other, 0, 2, &OPT[..20]), &mut |m| {
        msgs.extend(m.parse())
    });
    x.stream(&data(flow(), 5, 3, &INV[30..]), &mut |m| {
        msgs.extend(m.parse())
    });
    x.stream(&data(other, 0, 4, &OPT[20..]), &mut |m| {
        msgs.extend(m.parse())
    });
    let frames: Vec<_> = msgs.iter().map(|m| m.frames()).collect();
    assert_eq!(frames, [vec![1, 3], vec![2, 4]]);
    // An end under a number another flow holds ends nothing.
    let end = |flow, dir| StreamEvent::End {
        flow,
        dir,
        frame: 9,
        evicted: false,
    };
    x.stream(&data(flow(), 5, 5, &OPT[..20]), &mut |m| {
        msgs.extend(m.parse())
    });
    x.stream(&end(other, 5), &mut |m| msgs.extend(m.parse()));
    assert_eq!(x.stats.dropped, 0);
    // Bytes of another flow under a held number: the first flow's partial message is
    // dropped, and the new flow starts afresh.
    x.stream(&data(other, 5, 6, OPT), &mut |m| msgs.extend(m.parse()));
    assert_eq!(
        (x.stats.dropped, x.stats.dropped_frames.clone()),
        (1, vec![5])
    );
    assert_eq!(msgs.last().map(|m| m.frames()), Some(&[6][..]));
    x.stream(&end(other, 5), &mut |m| msgs.extend(m.parse()));
    x.finish();
    assert_eq!((msgs.len(), x.stats.dropped, x.buffered), (3, 1, 0));
}

#[test]
fn tls_is_detected_not_parsed() {
    let (m, s) = feed(&[
        &[0x16, 0x03, 0x01, 0x00, 0x10, 1, 2, 3],
        &[0x17, 3, 3, 0, 1, 9],
    ]);
    assert!(m.is_empty());
    assert_eq!(s.tls.values().next().unwrap().segments, 2);
}

#[test]
fn websocket_message() {
    let hs = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    let mut frame = vec![0x81, 0x80 | 126];
    frame.extend_from_slice(&(OPT.len() as u16).to_be_bytes());
    let key = [1u8, 2, 3, 4];
    frame.extend_from_slice(&key);
    frame.extend(OPT.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    let (m, _) = feed(&[hs, &frame[..10], &frame[10..]]);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].transport, Transport::Ws);
    assert_eq!(m[0].frame, 3);
}

#[test]
fn resyncs_after_garbage() {
    let mut g = b"garbage line\r\nmore\r\n".to_vec();
    g.extend_from_slice(OPT);
    let (m, _) = feed(&[&g]);
    assert_eq!(m.len(), 1);
}

#[test]
fn endless_lines_and_bodies_stay_bounded() {
    let mut x = Extractor::default();
    let junk = vec![b'A'; 100_000];
    // A header line that never ends; a declared body longer than the stream.
    let starts: [&[u8]; 2] = [
        b"INVITE sip:a SIP/2.0\r\nX-Long: ",
        b"INVITE sip:a SIP/2.0\r\nContent-Length: 1000000\r\n\r\n",
    ];
    let mut completed = 0;
    for (n, start) in starts.iter().enumerate() {
        let f = Flow {
            src: format!("10.0.0.{}:5060", n + 1).parse().unwrap(),
            dst: "10.0.0.9:5060".parse().unwrap(),
        };
        let mut feed = |x: &mut Extractor, data: &[u8], frame: u64| {
            let e = StreamEvent::Data {
                flow: f,
                dir: 0,
                frame,
                origin: frame,
                time: Timestamp::default(),
                data,
            };
            x.stream(&e, &mut |_| completed += 1);
        };
        feed(&mut x, start, 1);
        for i in 0..9 {
            feed(&mut x, &junk, 2 + i);
            assert!(x.buffered <= MAX_MESSAGE, "{}", x.buffered);
        }
        let end = StreamEvent::End {
            flow: f,
            dir: 0,
            frame: 99,
            evicted: false,
        };
        x.stream(&end, &mut |_| completed += 1);
    }
    assert_eq!(completed, 0);
    assert_eq!(x.buffered, 0);
    assert_eq!(x.stats.header_limit.count, 1, "the endless header line");
    assert_eq!(x.stats.header_limit.frames, vec![1]);
    assert_eq!(x.stats.dropped, 1, "the body cut by the end of the stream");
}

fn feed_all(x: &mut Extractor, segs: &[&[u8]], end_evicted: Option<bool>) -> Vec<SipMessage> {
    let mut msgs = Vec::new();
    for (i, d) in segs.iter().enumerate() {
        let e = StreamEvent::Data {
            flow: flow(),
            dir: 0,
            frame: i as u64 + 1,
            origin: i as u64 + 1,
            time: Timestamp::default(),
            data: d,
        };
        x.stream(&e, &mut |m| msgs.extend(m.parse()));
    }
    if let Some(evicted) = end_evicted {
        let e = StreamEvent::End {
            flow: flow(),
            dir: 0,
            frame: 50,
            evicted,
        };
        x.stream(&e, &mut |m| msgs.extend(m.parse()));
    }
    msgs
}

#[test]
fn body_over_the_cap_is_skipped_not_framed_as_sip() {
    let mut x = Extractor::with_caps(200, 1000);
    // A 300-byte body made of SIP-looking lines, then a real message.
    let body = "OPTIONS sip:fake SIP/2.0\r\nCall-ID: fake\r\n\r\n".repeat(300 / 44 + 1);
    let body = &body.as_bytes()[..300];
    let head = b"MESSAGE sip:a SIP/2.0\r\nCall-ID: big\r\nContent-Length: 300\r\n\r\n";
    let msgs = feed_all(
        &mut x,
        &[head, &body[..100], &body[100..], OPT],
        Some(false),
    );
    let ids: Vec<_> = msgs.iter().map(|m| m.call_id().unwrap_or("")).collect();
    assert_eq!(
        ids,
        ["big", "1"],
        "headers handed on, body skipped, next message read"
    );
    assert_eq!(msgs[0].frame, 1);
    assert_eq!(x.stats.body_limit.count, 1);
    assert_eq!(x.stats.body_limit.frames, vec![1]);
    assert_eq!(x.stats.dropped, 0);
    let a = x.anomalies();
    let a = a.iter().find(|a| a.kind == "sip-body-limit").unwrap();
    assert!(a.message.contains("--max-sip-message"), "{}", a.message);
    assert_eq!((a.count, a.frames.clone()), (1, vec![1]));
}

#[test]
fn body_over_the_cap_in_the_same_segment_is_skipped_too() {
    let mut x = Extractor::with_caps(100, 1000);
    let mut seg = b"MESSAGE sip:a SIP/2.0\r\nCall-ID: big\r\nContent-Length: 120\r\n\r\n".to_vec();
    seg.extend(std::iter::repeat_n(b'x', 120));
    seg.extend_from_slice(OPT);
    let msgs = feed_all(&mut x, &[&seg[..90], &seg[90..]], None);
    let ids: Vec<_> = msgs.iter().map(|m| m.call_id().unwrap_or("")).collect();
    assert_eq!(ids, ["big", "1"]);
    assert_eq!(x.stats.body_limit.count, 1);
}

#[test]
fn message_lost_to_the_connection_cap_has_its_own_count() {
    let mut x = Extractor::default();
    feed_all(
        &mut x,
        &[b"INVITE sip:a SIP/2.0\r\nCall-ID: 5\r\n"],
        Some(true),
    );
    assert_eq!(x.stats.dropped, 0, "not taken for missing segments");
    assert_eq!(x.stats.connection_limit.count, 1);
    assert_eq!(x.stats.connection_limit.frames, vec![1]);
    let kinds: Vec<_> = x.anomalies().iter().map(|a| a.kind).collect();
    assert_eq!(kinds, ["sip-connection-limit"]);
}

#[test]
fn hostile_length_is_bounded() {
    let huge = b"INVITE sip:a SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n";
    let (m, stats) = feed(&[huge, OPT]);
    // The headers are read; what follows is the announced body, skipped unread.
    assert_eq!(m.len(), 1, "the body is not framed as SIP");
    assert_eq!(stats.body_limit.count, 1);
}
