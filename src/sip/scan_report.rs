//! What the scan of one input file yielded up to this stage: the capture's summary
//! (format, frames, anomalies) and its SIP counts. Stage 3's output beside the messages;
//! the rules (CAP001-CAP005) and every report read it, so it lives in the earliest stage
//! that knows all of it.

use serde::Serialize;

use crate::capture::{Anomaly, CaptureFormat};

/// What one input file yielded, for the report's `captures` list.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CaptureReport {
    pub path: String,
    pub format: CaptureFormat,
    pub frames: u64,
    pub sip_messages: u64,
    pub anomalies: Vec<Anomaly>,
    /// SIP over UDP that arrived in IP fragments, by flow, for CAP005 (the report shows
    /// them as `sip-fragmented` anomalies).
    #[serde(skip)]
    #[schemars(skip)]
    pub sip_fragmented: Vec<super::extract::FragmentedSip>,
    /// The file's place among the files given to the command (what a call's
    /// [`captures`](crate::calls::Call::captures) name): the reports list only the files
    /// that could be read.
    #[serde(skip)]
    #[schemars(skip)]
    pub file: usize,
}
