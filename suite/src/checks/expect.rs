//! What the spec expects of one symbol for a provider and kernel.

use super::kconfig::KernelConfig;
use crate::spec::{Confidence, KernelVersion, Provider, SymbolSpec};

/// Whether a symbol must be present, and why not when it need not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// It must be there: absence is a failure.
    Required,
    /// It should not be there (provider or kernel range): absence is fine,
    /// presence is worth a note.
    NotExpected(String),
    /// It may or may not be there (config option, unknown first kernel or kernel).
    Conditional(String),
}

/// The spec's expectation for `sym` under `provider` and `kernel` (`None`: unknown kernel).
pub fn expectation(
    sym: &SymbolSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
) -> Expectation {
    expectation_with_config(sym, provider, kernel, &KernelConfig::default())
}

/// [`expectation`], with what is known of the kernel's config options.
pub fn expectation_with_config(
    sym: &SymbolSpec,
    provider: Provider,
    kernel: Option<KernelVersion>,
    config: &KernelConfig,
) -> Expectation {
    if !sym.providers.contains(&provider) {
        return Expectation::NotExpected(format!(
            "not provided by {} (spec providers: {})",
            provider.name(),
            sym.providers
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // since/until are kernel versions: they say nothing about QEMU's vDSO.
    if provider == Provider::Kernel {
        match (kernel, sym.since, sym.until) {
            (Some(k), Some(since), _) if k < since => {
                return Expectation::NotExpected(format!(
                    "first in kernel {since}; this kernel is {k}"
                ))
            }
            (Some(k), _, Some(until)) if k >= until => {
                return Expectation::NotExpected(format!(
                    "removed in kernel {until}; this kernel is {k}"
                ))
            }
            (None, Some(since), _) => {
                return Expectation::Conditional(format!(
                    "first in kernel {since} and the kernel version is unknown (pass --kernel)"
                ))
            }
            _ => {}
        }
        if sym.since.is_none() && sym.since_confidence == Confidence::Low {
            return Expectation::Conditional(
                "the first kernel that has it is not known (spec: since_confidence: low)".into(),
            );
        }
    }
    if provider == Provider::Kernel && !sym.config.is_empty() {
        let needs = sym.condition();
        match needs.eval(&|o| config.get(o)) {
            Some(false) => {
                let off: Vec<String> = needs.atoms().iter().map(|o| config.describe(o)).collect();
                return Expectation::NotExpected(match &needs {
                    crate::spec::Cond::Defined(o) => format!("needs {o}, which is off"),
                    _ => format!(
                        "needs {needs}, which this build does not meet ({})",
                        off.join(", ")
                    ),
                });
            }
            None => {
                return Expectation::Conditional(format!(
                    "needs {needs}, which this kernel may not enable"
                ))
            }
            Some(true) => {}
        }
    }
    Expectation::Required
}
