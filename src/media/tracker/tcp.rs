//! TCP in the media tracker: softphone signalling flows (to or from the softphone
//! port) and STUN over TCP, plain or framed (RFC 4571), read from the reassembled bytes.
//!
//! Stage: media. Input: TCP data events from [`crate::net`]. Output:
//! [`crate::media::SignalFlow`]s in the report; STUN messages passed to the tracker's STUN
//! handling.

use super::MediaTracker;
use crate::capture::Timestamp;
use crate::limits::MediaTable;
use crate::media::{MAX_FRAMES_LISTED, MAX_TCP_BUFFER, SignalFlow, stun};
use crate::net::{Flow, Transport};

#[derive(Debug)]
pub(super) enum TcpState {
    /// Too few bytes yet to tell (the first segment was shorter than a STUN header).
    Undecided(Vec<u8>),
    /// Not STUN.
    Rejected,
    /// STUN over TCP, plain or with the RFC 4571 length prefix; bytes not yet parsed.
    Stun { framed: bool, buf: Vec<u8> },
}

impl MediaTracker {
    pub(super) fn signalling(&mut self, flow: &Flow, frame: u64, time: Timestamp, len: usize) {
        let sp = self.settings.softphone_port;
        let (client, server, from_client) = if flow.dst.port() == sp {
            (flow.src, flow.dst, true)
        } else {
            (flow.dst, flow.src, false)
        };
        let i = match self.signal_index.get(&(client, server)) {
            Some(&i) => i as usize,
            None => {
                let cap = self.limits.softphone_connections;
                if self.signal_index.len() >= cap {
                    (self.report).drop_item(MediaTable::SoftphoneConnections, cap, frame);
                    return;
                }
                let i = self.report.softphone.len();
                self.report.softphone.push(SignalFlow {
                    client,
                    server,
                    first_frame: frame,
                    last_frame: frame,
                    segments: 0,
                    client_bytes: 0,
                    server_bytes: 0,
                    first_time: time,
                    last_time: time,
                    frames: Vec::new(),
                });
                self.signal_index.insert((client, server), i as u32);
                i
            }
        };
        let s = &mut self.report.softphone[i];
        s.segments += 1;
        s.first_frame = s.first_frame.min(frame);
        s.last_frame = s.last_frame.max(frame);
        s.last_time = s.last_time.max(time);
        if from_client {
            s.client_bytes += len as u64;
        } else {
            s.server_bytes += len as u64;
        }
        if s.frames.len() < MAX_FRAMES_LISTED && !s.frames.contains(&frame) {
            s.frames.push(frame);
        }
    }

    pub(super) fn tcp_data(&mut self, flow: &Flow, frame: u64, time: Timestamp, data: &[u8]) {
        /// Bytes that decide whether a stream starts with (framed) STUN.
        const DECIDE: usize = stun::HEADER_LEN + 2;
        if !self.tcp.contains_key(flow) {
            let cap = self.limits.stun_tcp_connections;
            if self.tcp.len() >= cap {
                (self.report).drop_item(MediaTable::StunTcpConnections, cap, frame);
                return;
            }
            self.tcp.insert(*flow, TcpState::Undecided(Vec::new()));
        }
        let state = self.tcp.get_mut(flow).expect("inserted above");
        let mut pending = match state {
            TcpState::Rejected => return,
            TcpState::Undecided(head) => {
                let mut head = std::mem::take(head);
                head.extend_from_slice(data);
                if head.len() < DECIDE && head.first().is_none_or(|&b| b < 0x40) {
                    *state = TcpState::Undecided(head);
                    return;
                }
                match stun::stream_start(&head) {
                    Some(framed) => {
                        *state = TcpState::Stun {
                            framed,
                            buf: Vec::new(),
                        };
                        head
                    }
                    None => {
                        *state = TcpState::Rejected;
                        return;
                    }
                }
            }
            TcpState::Stun { buf, .. } => {
                let mut b = std::mem::take(buf);
                b.extend_from_slice(data);
                b
            }
        };
        let framed = matches!(state, TcpState::Stun { framed: true, .. });
        let mut msgs = Vec::new();
        let mut off = 0;
        let mut valid = true;
        loop {
            match stun::next_in_stream(&pending[off..], framed) {
                stun::StreamItem::Stun { skip, len } => {
                    let start = off + skip;
                    if let Some(m) = stun::parse(&pending[start..start + len]) {
                        msgs.push((m, start..start + len));
                    }
                    off = start + len;
                }
                stun::StreamItem::Other(n) => off += n,
                stun::StreamItem::Incomplete => break,
                stun::StreamItem::Invalid => {
                    valid = false;
                    break;
                }
            }
        }
        for (m, range) in &msgs {
            let bytes = &pending[range.clone()];
            self.stun_message(m, bytes, flow.src, flow.dst, frame, time, Transport::Tcp);
        }
        let rest = pending.len() - off;
        let state = self.tcp.get_mut(flow).expect("inserted above");
        if !valid || rest > MAX_TCP_BUFFER {
            *state = TcpState::Rejected;
        } else if let TcpState::Stun { buf, .. } = state {
            pending.drain(..off);
            *buf = pending;
        }
    }
}
