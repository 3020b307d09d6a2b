//! STUN in the media tracker: requests matched with their responses by transaction,
//! indications counted, and RTP relayed in TURN Send/Data indications passed on.
//!
//! Stage: media. Input: STUN messages from UDP datagrams and TCP streams.
//! Output: [`crate::media::StunTransaction`]s and STUN counts in the report; the flows
//! STUN was seen on marked as media paths.

use std::net::SocketAddr;

use super::MediaTracker;
use crate::capture::Timestamp;
use crate::limits::MediaTable;
use crate::media::{MAX_FRAMES_LISTED, StunTransaction, UdpPayload, stun};
use crate::net::{Datagram, Transport};

impl MediaTracker {
    pub(super) fn stun_datagram(&mut self, d: &Datagram<'_>, fi: Option<usize>) {
        let msg = match stun::parse(d.payload) {
            Some(m) => m,
            None if self.is_media_flow(fi, d) => match stun::parse_classic(d.payload) {
                Some(m) => m,
                None => return,
            },
            None => return,
        };
        self.stun_message(
            &msg,
            d.payload,
            d.src,
            d.dst,
            d.frame,
            d.time,
            Transport::Udp,
        );
        // Both directions of the pair now count as a media path.
        if let Some(fi) = fi {
            self.flows[fi].stun = true;
        }
        if let Some(ri) = self.flow(d.dst, d.src, d.frame, d.time) {
            self.flows[ri].stun = true;
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn stun_message(
        &mut self,
        m: &stun::Message,
        bytes: &[u8],
        src: SocketAddr,
        dst: SocketAddr,
        frame: u64,
        time: Timestamp,
        transport: Transport,
    ) {
        if m.classic {
            self.report.classic_stun_messages += 1;
        } else {
            self.report.stun_messages += 1;
        }
        match m.class {
            stun::Class::Request => {
                if let Some(&i) = self.transactions.get(&m.key) {
                    let t = &mut self.report.stun[i as usize];
                    if t.retransmission_frames.len() < MAX_FRAMES_LISTED {
                        t.retransmission_frames.push(frame);
                    }
                    return;
                }
                let cap = self.limits.stun_transactions;
                if self.report.stun.len() >= cap {
                    (self.report).drop_item(MediaTable::StunTransactions, cap, frame);
                    return;
                }
                let a = &m.attrs;
                let role = if a.ice_controlling {
                    Some("controlling".to_string())
                } else if a.ice_controlled {
                    Some("controlled".to_string())
                } else {
                    None
                };
                self.transactions
                    .insert(m.key, self.report.stun.len() as u32);
                self.report.stun.push(StunTransaction {
                    transaction_id: m.transaction_hex(),
                    method: m.type_hex(),
                    method_name: stun::method_name(m.msg_type),
                    src,
                    dst,
                    request_frame: frame,
                    time,
                    retransmission_frames: Vec::new(),
                    response_frame: None,
                    response_class: None,
                    response_from: None,
                    error_code: None,
                    username: a.username.clone(),
                    use_candidate: a.use_candidate,
                    ice_role: role,
                    description: m.describe(),
                    transport,
                    classic: m.classic,
                    priority: a.priority,
                    response_frames: Vec::new(),
                    mapped_address: None,
                    response_time: None,
                });
            }
            stun::Class::Success | stun::Class::Error => {
                let Some(&i) = self.transactions.get(&m.key) else {
                    self.report.stun_unmatched_responses += 1;
                    return;
                };
                let t = &mut self.report.stun[i as usize];
                if t.response_frames.len() < MAX_FRAMES_LISTED {
                    t.response_frames.push(frame);
                }
                if t.response_frame.is_none() {
                    t.response_frame = Some(frame);
                    t.response_time = Some(time);
                    t.response_class = Some(m.class.name().to_string());
                    t.response_from = Some(src);
                    t.error_code = m.attrs.error_code;
                    t.mapped_address = m.attrs.xor_mapped_address.or(m.attrs.mapped_address);
                }
            }
            stun::Class::Indication => {
                self.report.stun_indications += 1;
                // TURN Send/Data indications (RFC 8656 §11) relay media in DATA; like
                // Wireshark, account relayed RTP to the client-server addresses.
                if matches!(m.method, 0x006 | 0x007)
                    && let Some(inner) = m.attrs.data.clone().and_then(|r| bytes.get(r))
                    && matches!(inner.first(), Some(128..=191))
                    && let Some(fi) = self.flow(src, dst, frame, time)
                {
                    self.flows[fi].stun = true;
                    self.refresh(fi);
                    if let Some(p) = UdpPayload::read(inner) {
                        self.rtp_or_other(src, dst, frame, time, p, Some(fi));
                    }
                }
            }
        }
    }
}
