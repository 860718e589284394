//! Static checks of a built vDSO image against its architecture's spec, for kernel
//! developers with a freshly built `vdso.so` and no machine to boot it on
//! (`vdsoconf check-image`). Each problem is a [`Finding`] with a stable id; the
//! catalogue [`FINDINGS`] says what each id means and how severe it is.

mod entry;
mod layout;
mod symbols;

pub use entry::FILL_IN;
pub use symbols::{hash_table_problems, unreadable_symbols};

use crate::checks::KernelConfig;
use crate::elf::{sysv_hash_entry_size, ParseError, VdsoImage};
use crate::spec::{ArchSpec, KernelVersion, Provider};
use serde::Serialize;

/// How bad a finding is: errors fail `check-image`, the rest inform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One problem (or remark) about an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable id from [`FINDINGS`].
    pub id: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The file offset of the offending structure, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// The offending symbol (`name@version`), where there is one. The message
    /// does not repeat it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// For a symbol the spec lacks: the YAML to add to the spec file, indented
    /// as `symbols:` entries are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
}

/// Every finding id: its usual severity and what it means.
pub const FINDINGS: &[(&str, Severity, &str)] = &[
    ("elf-class", Severity::Error, "the ELF class is not the architecture's"),
    ("elf-endian", Severity::Error, "the byte order is not one the architecture's vDSO is built for"),
    ("elf-machine", Severity::Error, "e_machine is not the architecture's"),
    ("elf-osabi", Severity::Error, "EI_OSABI is neither SYSV nor GNU/Linux"),
    ("elf-type", Severity::Error, "e_type is not ET_DYN"),
    ("pt-interp", Severity::Error, "a PT_INTERP asks for a dynamic loader"),
    ("pt-load-count", Severity::Error, "not exactly one PT_LOAD"),
    ("pt-dynamic-outside-load", Severity::Error, "PT_DYNAMIC is not inside the PT_LOAD"),
    ("segment-wx", Severity::Error, "a segment is writable and executable (a note where the provider's spec says so, as for QEMU)"),
    ("dt-needed", Severity::Error, "a DT_NEEDED: the vDSO must not depend on another object"),
    ("relocations", Severity::Error, "a relocation table (DT_REL, DT_RELA, DT_JMPREL, DT_RELR): nothing relocates the vDSO"),
    ("textrel", Severity::Error, "DT_TEXTREL or DF_TEXTREL"),
    ("undefined-symbol", Severity::Error, "an undefined symbol besides the null entry"),
    ("no-version-definitions", Severity::Error, "no DT_VERSYM/DT_VERDEF: exports cannot be versioned"),
    ("unversioned-symbol", Severity::Error, "an exported symbol with no version node"),
    ("unknown-version", Severity::Error, "a version node the spec does not know"),
    ("version-hash", Severity::Error, "a version definition's vd_hash is not the ELF hash of its name (loaders compare the hash first)"),
    ("version-index", Severity::Error, "two version definitions share an index"),
    ("base-version-name", Severity::Error, "the base version definition does not name the soname"),
    ("soname", Severity::Error, "DT_SONAME is missing or not the spec's"),
    ("unreadable-symbol", Severity::Error, "a dynamic symbol entry cannot be read (its name or version index is out of range): `vdsoconf symbols` refuses the image"),
    ("lookup-error", Severity::Error, "looking a spec symbol up through the image's tables fails (as `run`'s resolve check reports it), instead of finding it or not"),
    ("hash-empty", Severity::Error, "a hash table with no buckets or no symbols: it resolves nothing, and a loader sizing the symbol table by it sees none"),
    ("hash-inconsistent", Severity::Error, "DT_HASH and DT_GNU_HASH imply different numbers of dynamic symbols"),
    ("hash-missing-symbol", Severity::Error, "a hash table does not resolve an exported symbol"),
    ("hash-disagree", Severity::Error, "the SysV and GNU hash tables resolve a name to different symbols"),
    ("hash-entry-size", Severity::Error, "the SysV hash entries are not the architecture's size (8 bytes on s390x and alpha, else 4)"),
    ("symbol-type", Severity::Error, "a spec symbol's ELF type is not the spec's (with its documented exceptions)"),
    ("function-size", Severity::Error, "a function symbol has size 0"),
    ("function-outside-exec", Severity::Error, "a function symbol is not inside an executable PT_LOAD"),
    ("alias-mismatch", Severity::Error, "an alias does not have its symbol's address and size"),
    ("missing-symbol", Severity::Error, "a symbol the spec requires for this kernel, config and provider is missing"),
    ("wrong-version", Severity::Error, "a spec symbol is exported at another version node"),
    ("unknown-symbol", Severity::Error, "an exported symbol the spec does not know"),
    ("symbol-before-since", Severity::Note, "a symbol present before the spec's first kernel for it"),
    ("hidden-version", Severity::Note, "a spec symbol is exported at a hidden (non-default) version"),
    ("nameless-symbols", Severity::Note, "exported symbols with an empty name (ARM kernels hide unusable time functions this way)"),
    ("symbol-not-expected", Severity::Warning, "a symbol present that the spec says this provider, kernel or config does not have"),
    ("no-build-id", Severity::Warning, "no GNU build-id note"),
];

/// What an image is checked against: its architecture's spec, and what is
/// known of the build.
#[derive(Debug, Clone)]
pub struct Against<'s> {
    pub spec: &'s ArchSpec,
    /// The spec file `--spec` named (`None`: the built-in spec): what findings
    /// tell to edit.
    pub spec_file: Option<String>,
    pub provider: Provider,
    /// The kernel the image was built from (`None`: unknown, `since` is not judged).
    pub kernel: Option<KernelVersion>,
    pub config: KernelConfig,
}

impl<'s> Against<'s> {
    /// The built-in spec `spec` (or one read from a file: see `spec_file`) for
    /// `provider` and `kernel`, no kernel config known.
    pub fn new(spec: &'s ArchSpec, provider: Provider, kernel: Option<KernelVersion>) -> Self {
        Against {
            spec,
            spec_file: None,
            provider,
            kernel,
            config: KernelConfig::default(),
        }
    }

    /// The spec file to edit, as findings name it: the one `--spec` named, or
    /// the repository's `spec/ARCH.yaml`.
    pub fn spec_file(&self) -> String {
        self.spec_file
            .clone()
            .unwrap_or_else(|| format!("spec/{}.yaml", self.spec.arch))
    }
}

/// Collects findings; the checks know nothing of how they are shown.
#[derive(Debug, Default)]
pub struct Findings(Vec<Finding>, Vec<Absence>);

/// A spec symbol the image lacks and need not have (not a finding: nothing is
/// wrong), and why it need not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Absence {
    /// `name@version`.
    pub symbol: String,
    pub why: String,
}

/// What the engine makes of an image: its findings, errors first, and the spec
/// symbols it may lack and does.
#[derive(Debug, Clone, Default)]
pub struct Examination {
    pub findings: Vec<Finding>,
    pub absent: Vec<Absence>,
}

impl Findings {
    fn add(&mut self, id: &'static str, message: impl Into<String>) -> &mut Finding {
        let severity = FINDINGS
            .iter()
            .find(|(i, _, _)| *i == id)
            .map(|(_, s, _)| *s)
            .expect("every finding id is in the catalogue");
        self.0.push(Finding {
            id,
            severity,
            message: message.into(),
            offset: None,
            symbol: None,
            entry: None,
        });
        self.0.last_mut().expect("just pushed")
    }
}

impl Finding {
    /// Its symbol (where it has one), then its message: "__vdso_time@LINUX_2.6:
    /// missing (required for kernel 7.3)".
    pub fn text(&self) -> String {
        match &self.symbol {
            Some(s) => format!("{s}: {}", self.message),
            None => self.message.clone(),
        }
    }

    fn at(&mut self, offset: u64) -> &mut Self {
        self.offset = Some(offset);
        self
    }

    fn symbol(&mut self, name: impl Into<String>) -> &mut Self {
        self.symbol = Some(name.into());
        self
    }

    fn entry(&mut self, yaml: String) -> &mut Self {
        self.entry = Some(yaml);
        self
    }

    fn severity(&mut self, severity: Severity) -> &mut Self {
        self.severity = severity;
        self
    }
}

/// Every finding about `image`, errors first, in the order they were found.
pub fn check_image(ctx: &Against<'_>, image: &VdsoImage<'_>) -> Vec<Finding> {
    examine(ctx, image).findings
}

/// [`check_image`], with the symbols the image may lack and does.
pub fn examine(ctx: &Against<'_>, image: &VdsoImage<'_>) -> Examination {
    let mut f = Findings::default();
    // An image of another architecture is named as such; its symbols measured
    // against this spec would only be noise.
    if !layout::check_header(ctx, image, &mut f) {
        return Examination {
            findings: f.0,
            absent: f.1,
        };
    }
    layout::check_segments(ctx, image, &mut f);
    layout::check_dynamic(image, &mut f);
    layout::check_build_id(image, &mut f);
    symbols::check_readable(image, &mut f);
    symbols::check_versions(ctx, image, &mut f);
    symbols::check_symbols(ctx, image, &mut f);
    symbols::check_hash_tables(image, &mut f);
    symbols::check_spec_symbols(ctx, image, &mut f);
    let Findings(mut all, absent) = f;
    all.sort_by_key(|x| x.severity);
    Examination {
        findings: all,
        absent,
    }
}

/// Parses `data` and checks it. A SysV hash table written with the wrong entry size
/// (4 bytes on s390x, 8 elsewhere) may make the image unreadable, or make its table
/// miss every symbol: when the other size reads it cleanly, the image is checked that
/// way and the size is the finding. An image no size can read is the parse error.
pub fn check_image_bytes(ctx: &Against<'_>, data: &[u8]) -> Result<Vec<Finding>, ParseError> {
    let wrong_size = |image: &VdsoImage<'_>| {
        let arch = sysv_hash_entry_size(image.class(), image.machine());
        let other = if arch == 8 { 4 } else { 8 };
        let alt = VdsoImage::parse_with_hash_entry_size(data, Some(other)).ok()?;
        (alt.sysv_hash().is_some() && symbols::sysv_misses(&alt) == 0).then_some((alt, arch, other))
    };
    let (image, size_finding) = match VdsoImage::parse(data) {
        Ok(image) if image.sysv_hash().is_some() && symbols::sysv_misses(&image) > 0 => {
            match wrong_size(&image) {
                Some((alt, arch, other)) => (alt, Some((arch, other))),
                None => (image, None),
            }
        }
        Ok(image) => (image, None),
        Err(e) => {
            // Read the header alone to know which size the architecture wants.
            let (header, _) = crate::elf::parse_file_header(data)?;
            let arch = sysv_hash_entry_size(header.class, header.machine);
            let other = if arch == 8 { 4 } else { 8 };
            match VdsoImage::parse_with_hash_entry_size(data, Some(other)) {
                Ok(alt) if alt.sysv_hash().is_some() && symbols::sysv_misses(&alt) == 0 => {
                    (alt, Some((arch, other)))
                }
                _ => return Err(e),
            }
        }
    };
    let mut findings = check_image(ctx, &image);
    if let Some((arch, other)) = size_finding {
        let mut f = Findings::default();
        let offset = image.sysv_hash().map(|t| t.offset());
        let finding = f.add(
            "hash-entry-size",
            format!(
                "DT_HASH has {other}-byte entries; {} (e_machine {}) reads {arch}-byte ones, so its loaders cannot use the table",
                ctx.spec.arch,
                image.machine()
            ),
        );
        if let Some(o) = offset {
            finding.at(o);
        }
        findings.splice(0..0, f.0);
    }
    Ok(findings)
}
