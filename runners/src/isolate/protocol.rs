//! What a child says back: typed replies, one per line behind one marker.
//!
//! Most cases answer with one reply. A bad-pointer case answers twice: the
//! syscall's answer before the vDSO call (which may crash the child), then the
//! call's; a child that dies in between has still said the first.

use super::spawn::ChildOutput;
use std::io::Write;
use vdsoconf_reports::bench::BenchRow;
use vdsoconf_suite::checks::live::timens::InnerReport;
use vdsoconf_suite::checks::CheckResult;
use vdsoconf_suite::vdso::guard::Overwrite;

/// The marker every reply line starts with.
const REPLY: &str = "VDSOCONF-REPLY ";

/// One reply of a child.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// The case's result (also: why it could not get as far as its call).
    Result(CheckResult),
    /// The raw syscall's answer to a bad-pointer case: `Ok(return)` or `Err(errno)`.
    Syscall(Option<Result<isize, i32>>),
    /// What the vDSO call of a bad-pointer case returned, and its writes outside
    /// the valid arguments' buffers.
    Vdso {
        ret: i64,
        overwrites: Vec<Overwrite>,
    },
    /// Readings from inside a time namespace.
    Inner(InnerReport),
    /// A bench child's rows (or why it could not measure).
    Bench(Result<Vec<BenchRow>, String>),
    /// What the case is about to call (the last one names where it died).
    Step(String),
    /// Which path a fuzzed call took through the vDSO, in words.
    Path(String),
}

/// Writes `reply` as one line on standard output, flushed at once (the child may
/// die right after).
pub fn send(reply: &Reply) {
    let line = serde_json::to_string(reply).expect("a reply serializes");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{REPLY}{line}");
    let _ = out.flush();
}

impl ChildOutput {
    /// Every reply the child sent, in order; a line that does not parse is a
    /// result saying so.
    pub fn replies(&self) -> Vec<Reply> {
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix(REPLY))
            .map(|json| {
                serde_json::from_str(json).unwrap_or_else(|e| {
                    Reply::Result(CheckResult::fail(format!(
                        "unreadable reply from the child: {e}"
                    )))
                })
            })
            .collect()
    }

    /// The first reply `pick` accepts.
    pub fn reply<T>(&self, pick: impl Fn(Reply) -> Option<T>) -> Option<T> {
        self.replies().into_iter().find_map(pick)
    }

    /// The last step the child announced, if any.
    pub fn last_step(&self) -> Option<String> {
        self.replies().into_iter().rev().find_map(|r| match r {
            Reply::Step(s) => Some(s),
            _ => None,
        })
    }

    /// The case's result, if the child sent one.
    pub fn result(&self) -> Option<CheckResult> {
        self.reply(|r| match r {
            Reply::Result(r) => Some(r),
            _ => None,
        })
    }
}
