//! The `fuzz` group: seeded calls of each function whose kind has a generator
//! (`vdsoconf_suite::fuzz_live`), each made through the vDSO and its system
//! call in a child process of its own and judged as the cross-check and
//! bad-pointer checks judge; the spec's deviations are recognised by their
//! symptoms. The runner makes the calls ([`Runs::CallsInChildren`]): the same
//! seed and count make the same calls on every run, `vdsoconf fuzz-live`
//! explores further. The verdict is [`crate::fuzz_live::Tally::verdict`].

use crate::checks::group::{About, CheckGroup, Runs};
use crate::checks::plan::{subject, Case, Group};
use crate::fuzz_live::FuzzShape;
use crate::kinds::kind_info;
use crate::spec::ArchSpec;

pub struct FuzzGroup;
pub static GROUP: FuzzGroup = FuzzGroup;

impl CheckGroup for FuzzGroup {
    fn about(&self) -> About {
        About {
            group: Group::Fuzz,
            name: "fuzz",
            what: "seeded calls of each function (clock ids across clockid_t with its CPU-time and fd clocks, every pointer class, getrandom's lengths, flags and states, getcpu on each CPU), each in a child of its own, agree with the syscall or show only a deviation the spec records; a disagreement is shrunk to its simplest call",
            column: Some("fuzz"),
            runs: Runs::CallsInChildren,
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        for (i, sym) in spec.symbols.iter().enumerate() {
            if kind_info(sym.kind).fuzz != FuzzShape::No {
                add(
                    subject(sym),
                    Case::symbol(i),
                    "agrees with the raw syscall for seeded random arguments".into(),
                );
            }
        }
    }
}
