//! Signal trampolines are not called with plain arguments: they get a static check
//! of where they lie.

use crate::checks::group::{About, CheckGroup, ImageContext, Runs};
use crate::checks::plan::{subject, Case, Group, PlannedCheck};
use crate::checks::result::{CheckResult, Problem};
use crate::elf::{VdsoImage, PF_X, PT_LOAD};
use crate::kinds::kind_info;
use crate::spec::{ArchSpec, SymbolSpec};

/// The `trampoline` group: where each signal trampoline lies in the image.
pub struct TrampolineGroup;
pub static GROUP: TrampolineGroup = TrampolineGroup;

impl CheckGroup for TrampolineGroup {
    fn about(&self) -> About {
        About {
            group: Group::Trampoline,
            name: "trampoline",
            what: "a signal trampoline lies inside an executable segment (its cross-check returns a handler through it)",
            column: None,
            runs: Runs::OnImage,
        }
    }

    fn plan(&self, spec: &ArchSpec, add: &mut dyn FnMut(String, Case, String)) {
        for (i, sym) in spec.symbols.iter().enumerate() {
            if kind_info(sym.kind).trampoline {
                add(
                    subject(sym),
                    Case::symbol(i),
                    "inside an executable segment".into(),
                );
            }
        }
    }

    fn on_image(&self, check: &PlannedCheck, ctx: &ImageContext) -> CheckResult {
        match (check.case.spec_symbol(&ctx.target.spec), ctx.image()) {
            (Ok(sym), Ok(image)) => check_trampoline(image, sym),
            (Err(r), _) | (_, Err(r)) => r,
        }
    }
}

/// A trampoline must lie, whole, inside an executable PT_LOAD.
pub fn check_trampoline(image: &VdsoImage<'_>, sym: &SymbolSpec) -> CheckResult {
    let found = match image.lookup(sym.name.as_bytes(), Some(sym.version.as_bytes())) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return CheckResult::skip(format!(
                "{}@{} is not in this image (its resolve check says whether it should be)",
                sym.name, sym.version
            ))
        }
        Err(e) => return CheckResult::fail(e.to_string()),
    };
    let len = found.size.max(1);
    let inside_exec = image.segments().iter().filter_map(Result::ok).any(|seg| {
        seg.p_type == PT_LOAD
            && seg.flags & PF_X != 0
            && seg.file_offset_of(found.value, len).is_some()
    });
    let mut problems = Vec::new();
    if !inside_exec {
        problems.push(Problem::new(
            "trampoline-outside-exec",
            format!(
                "0x{:x}+{len} is not inside an executable PT_LOAD",
                found.value
            ),
        ));
    }
    CheckResult::from_symptoms(problems).with_notes(vec![execution_note()])
}

fn execution_note() -> String {
    "the placement only: a signal handler returning through it is its crosscheck".into()
}
