//! TCP reassembly and IP defragmentation frame the same SIP messages whatever the order
//! and duplication of segments or fragments: a stream of SIP messages is cut into
//! segments (fragments), shuffled, some sent twice (and, for TCP, some re-sent cut
//! differently, overlapping others), and the framed messages are compared with the
//! in-order result, which must be the messages that were sent. SCTP rebuilds the SIP
//! messages sent on several streams, each cut into DATA chunks, and any sequence of
//! chunks whatever leaves its byte and frame bookkeeping whole.

use proptest::prelude::*;
use sipdiag::capture::{Frame, Timestamp};
use sipdiag::net::tcp::{Reassembler, Segment};
use sipdiag::net::{Decoder, Flow, Packet, StreamEvent};
use sipdiag::sip::extract::{Extractor, sip_start};

/// A SIP message with a body of `body` bytes and the Content-Length that says so.
fn message(i: usize, request: bool, body: &[u8]) -> Vec<u8> {
    let start = if request {
        format!("INVITE sip:{i}@example.com SIP/2.0\r\n")
    } else {
        "SIP/2.0 180 Ringing\r\n".to_string()
    };
    let mut m = format!(
        "{start}Via: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK{i}\r\nCall-ID: call-{i}\r\n\
         CSeq: {i} INVITE\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    m.extend_from_slice(body);
    m
}

fn messages() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        (any::<bool>(), prop::collection::vec(any::<u8>(), 0..300)),
        1..6,
    )
    .prop_map(|v| {
        v.iter()
            .enumerate()
            .map(|(i, (req, body))| message(i, *req, body))
            .collect()
    })
}

/// Cuts `len` bytes at the given points: `(start, end)` ranges covering it in order.
fn pieces(len: usize, cuts: &[usize], align: usize) -> Vec<(usize, usize)> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|c| c % len / align * align)
        .filter(|c| *c > 0)
        .collect();
    at.push(0);
    at.push(len);
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Applies `order` (a permutation) and sends each piece listed in `dups` twice in a row.
fn arrange<T: Clone>(items: &[T], order: &[usize], dups: &[usize]) -> Vec<T> {
    let mut out = Vec::new();
    for &i in order {
        out.push(items[i].clone());
        if dups.contains(&i) {
            out.push(items[i].clone());
        }
    }
    out
}

fn tcp_frame(segments: &[(usize, usize)], stream: &[u8], isn: u32) -> (Vec<Vec<u8>>, u64) {
    let flow = Flow {
        src: "10.0.0.1:5060".parse().unwrap(),
        dst: "10.0.0.2:5060".parse().unwrap(),
    };
    let mut tcp = Reassembler::default();
    let mut ex = Extractor::default();
    let mut out = Vec::new();
    let mut frame = 1;
    let mut on = |e: StreamEvent<'_>, ex: &mut Extractor| {
        ex.stream(&e, &mut |m| out.push(m.data.to_vec()));
    };
    let syn = Segment {
        flow,
        seq: isn,
        syn: true,
        fin: false,
        rst: false,
        payload: &[],
        frame,
        time: Timestamp::new(0, 0),
    };
    tcp.push(syn, &mut |e| on(e, &mut ex));
    for &(a, b) in segments {
        frame += 1;
        let seg = Segment {
            flow,
            seq: isn.wrapping_add(1).wrapping_add(a as u32),
            syn: false,
            fin: false,
            rst: false,
            payload: &stream[a..b],
            frame,
            time: Timestamp::new(0, 0),
        };
        tcp.push(seg, &mut |e| on(e, &mut ex));
    }
    tcp.finish(frame + 1, &mut |e| on(e, &mut ex));
    ex.finish();
    (out, tcp.stats.gaps)
}

const RAW: u32 = 101;

/// One IP fragment of `datagram[a..b]` (a multiple of 8), as a raw-IP frame.
fn fragment(v6: bool, datagram: &[u8], (a, b): (usize, usize)) -> Vec<u8> {
    let payload = &datagram[a..b];
    let more = b < datagram.len();
    let mut v;
    if v6 {
        v = vec![0x60, 0, 0, 0];
        v.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        v.extend_from_slice(&[44, 64]);
        v.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        v.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        v.extend_from_slice(&[17, 0]);
        v.extend_from_slice(&(((a / 8) as u16) << 3 | u16::from(more)).to_be_bytes());
        v.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    } else {
        v = vec![0x45, 0];
        v.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
        v.extend_from_slice(&0x4242u16.to_be_bytes());
        let frag = (a / 8) as u16 | if more { 0x2000 } else { 0 };
        v.extend_from_slice(&frag.to_be_bytes());
        v.extend_from_slice(&[64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    }
    v.extend_from_slice(payload);
    v
}

/// Decodes `frames` (raw IP) as the frames of a capture, numbered from 1, then the end
/// of the capture; `on` gets every packet. The decoder, for its anomalies.
fn decode_raw(frames: &[Vec<u8>], on: &mut dyn FnMut(Packet<'_>)) -> Decoder {
    let mut decoder = Decoder::default();
    for (i, bytes) in frames.iter().enumerate() {
        let f = Frame {
            number: i as u64 + 1,
            time: Timestamp::new(1, 0),
            linktype: RAW,
            data: bytes,
            orig_len: bytes.len() as u32,
        };
        decoder.decode(&f, on);
    }
    decoder.finish(on);
    decoder
}

/// Decodes the fragments as frames of a capture; the SIP messages framed from the
/// datagrams rebuilt, with the frames each was rebuilt from.
fn defrag_frame(frames: &[Vec<u8>]) -> Vec<(Vec<u8>, usize)> {
    let mut ex = Extractor::default();
    let mut out = Vec::new();
    decode_raw(frames, &mut |p| {
        if let Packet::Datagram(d) = p
            && let Some(start) = sip_start(d.payload)
        {
            let n = d.frames.len();
            ex.datagram(&d, start, &mut |m| out.push((m.data.to_vec(), n)));
        }
    });
    out
}

const SCTP: u8 = 132;

/// A raw-IP frame carrying one SCTP packet with one DATA chunk.
fn sctp_frame(flags: u8, tsn: u32, stream: u16, user: &[u8]) -> Vec<u8> {
    let sctp = crate::common::sctp_data(5060, 5060, flags, tsn, stream, user);
    let mut v = vec![0x45, 0];
    v.extend_from_slice(&((20 + sctp.len()) as u16).to_be_bytes());
    v.extend_from_slice(&[0, 1, 0, 0, 64, SCTP, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    v.extend_from_slice(&sctp);
    v
}

/// A user message rebuilt, with the frames it came in.
type Rebuilt = (Vec<u8>, Vec<u64>);

/// Decodes the frames; the SCTP user messages rebuilt and the kinds of the decoder's
/// anomalies.
fn sctp_messages(frames: &[Vec<u8>]) -> (Vec<Rebuilt>, Vec<&'static str>) {
    let mut out = Vec::new();
    let decoder = decode_raw(frames, &mut |p| {
        if let Packet::Datagram(d) = p {
            assert!(
                d.frames.iter().all(|f| *f <= d.frame),
                "frames after the last"
            );
            assert!(!d.frames.is_empty());
            out.push((d.payload.to_vec(), d.frames.to_vec()));
        }
    });
    let kinds = decoder.anomalies().iter().map(|a| a.kind).collect();
    (out, kinds)
}

proptest! {
    #![proptest_config(crate::config(64))]

    #[test]
    fn tcp_reassembly_is_order_and_duplicate_free(
        msgs in messages(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        resent in prop::collection::vec((any::<usize>(), 1usize..200), 0..4),
        isn in prop_oneof![any::<u32>(), Just(u32::MAX - 100), Just(u32::MAX)],
        shuffle_seed in prop::collection::vec(any::<usize>(), 0..24),
        dups in prop::collection::vec(0usize..24, 0..4),
    ) {
        let stream = msgs.concat();
        let segs = pieces(stream.len(), &cuts, 1);
        let (in_order, gaps) = tcp_frame(&segs, &stream, isn);
        prop_assert_eq!(gaps, 0);
        prop_assert_eq!(&in_order, &msgs);

        // A permutation from the seed (Fisher-Yates driven by the generated numbers).
        let mut order: Vec<usize> = (0..segs.len()).collect();
        for (i, s) in shuffle_seed.iter().enumerate() {
            let n = order.len();
            order.swap(i % n, s % n);
        }
        let mut arranged = arrange(&segs, &order, &dups);
        // Retransmissions cut differently: they overlap the pieces around them.
        for (start, len) in &resent {
            let a = start % stream.len();
            let b = (a + len).min(stream.len());
            arranged.insert(start % (arranged.len() + 1), (a, b));
        }
        let (shuffled, gaps) = tcp_frame(&arranged, &stream, isn);
        prop_assert_eq!(gaps, 0);
        prop_assert_eq!(shuffled, in_order);
    }

    #[test]
    fn ip_defragmentation_is_order_and_duplicate_free(
        msg in (any::<bool>(), prop::collection::vec(any::<u8>(), 0..1500))
            .prop_map(|(req, body)| message(7, req, &body)),
        v6 in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 1..10),
        shuffle_seed in prop::collection::vec(any::<usize>(), 0..20),
        dups in prop::collection::vec(0usize..20, 0..4),
    ) {
        let mut datagram = Vec::new();
        datagram.extend_from_slice(&5060u16.to_be_bytes());
        datagram.extend_from_slice(&5060u16.to_be_bytes());
        datagram.extend_from_slice(&((8 + msg.len()) as u16).to_be_bytes());
        datagram.extend_from_slice(&[0, 0]);
        datagram.extend_from_slice(&msg);
        let frags = pieces(datagram.len(), &cuts, 8);
        let frames: Vec<Vec<u8>> = frags.iter().map(|&r| fragment(v6, &datagram, r)).collect();
        let in_order = defrag_frame(&frames);
        prop_assert_eq!(&in_order, &vec![(msg.clone(), frames.len())]);

        let mut order: Vec<usize> = (0..frames.len()).collect();
        for (i, s) in shuffle_seed.iter().enumerate() {
            let n = order.len();
            order.swap(i % n, s % n);
        }
        // A duplicate follows its original: one arriving after the datagram is complete
        // starts a reassembly of its own that never completes.
        let arranged = arrange(&frames, &order, &dups);
        let shuffled = defrag_frame(&arranged);
        prop_assert_eq!(shuffled.len(), 1);
        prop_assert_eq!(&shuffled[0].0, &msg);
    }
    #[test]
    fn sctp_rebuilds_messages_cut_into_chunks_on_several_streams(
        msgs in prop::collection::vec(
            ((0u16..4), any::<bool>(), prop::collection::vec(any::<u8>(), 0..600)),
            1..8,
        ),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
        tsn in prop_oneof![any::<u32>(), Just(u32::MAX - 2)],
    ) {
        // Each message on its stream, its chunks with consecutive TSNs (one association,
        // one TSN sequence), one message after another.
        let mut frames = Vec::new();
        let mut next = tsn;
        let mut sent = Vec::new();
        for (i, (stream, req, body)) in msgs.iter().enumerate() {
            let m = message(i, *req, body);
            let chunks = pieces(m.len(), &cuts, 1);
            for (k, &(a, b)) in chunks.iter().enumerate() {
                let flags = u8::from(k == 0) << 1 | u8::from(k + 1 == chunks.len());
                frames.push(sctp_frame(flags, next, *stream, &m[a..b]));
                next = next.wrapping_add(1);
            }
            sent.push((m, frames.len()));
        }
        let (got, kinds) = sctp_messages(&frames);
        prop_assert_eq!(kinds, Vec::<&str>::new());
        prop_assert_eq!(got.len(), sent.len());
        for ((data, fs), (m, last)) in got.iter().zip(&sent) {
            prop_assert_eq!(data, m);
            prop_assert_eq!(*fs.last().unwrap(), *last as u64);
        }
    }

    #[test]
    fn sctp_is_total_on_any_chunk_sequence(
        chunks in prop::collection::vec(
            ((0u8..4), (0u32..6), (0u16..3), prop::collection::vec(any::<u8>(), 0..40)),
            0..60,
        ),
    ) {
        let frames: Vec<Vec<u8>> = chunks
            .iter()
            .map(|(flags, tsn, stream, user)| sctp_frame(*flags, *tsn, *stream, user))
            .collect();
        let (got, kinds) = sctp_messages(&frames);
        // Every message rebuilt came from chunks that were sent, at most all of them.
        let sent: usize = chunks.iter().map(|c| c.3.len()).sum();
        prop_assert!(got.iter().map(|(d, _)| d.len()).sum::<usize>() <= sent);
        // Under the default caps, nothing is dropped at a limit.
        prop_assert!(kinds.iter().all(|k| !k.ends_with("-limit")), "{:?}", kinds);
    }
}
