//! Loading spec files: YAML with unknown fields rejected, then semantic validation.
//! Every error says `file:line:column: message`.

use super::model::ArchSpec;
use core::fmt;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeSet;
use std::path::Path;

/// A spec that could not be read or is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub file: String,
    /// 1-based line and column, when the error has a place in the file.
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for SpecError {}

/// Reads and validates a spec file.
pub fn load_file(path: &Path) -> Result<ArchSpec, SpecError> {
    let name = path.display().to_string();
    let text =
        crate::input::read_text(path, crate::input::InputKind::Spec).map_err(|e| SpecError {
            file: name.clone(),
            line: None,
            column: None,
            message: e.reason,
        })?;
    let stem = path.file_stem().and_then(|s| s.to_str());
    parse_spec(&name, stem, &text)
}

/// Parses and validates spec text. `stem`, when given, must equal the `arch` field.
pub fn parse_spec(file: &str, stem: Option<&str>, text: &str) -> Result<ArchSpec, SpecError> {
    let spec: ArchSpec = serde_saphyr::from_str(text).map_err(|e| {
        let loc = e.location();
        let inner = e.without_snippet().to_string();
        SpecError {
            file: file.to_string(),
            line: loc.map(|l| l.line()),
            column: loc.map(|l| l.column()),
            message: strip_location_suffix(&inner),
        }
    })?;
    if let Err(problem) = validate(&spec, stem) {
        let (line, column) = locate(text, &problem.place);
        return Err(SpecError {
            file: file.to_string(),
            line,
            column,
            message: problem.message,
        });
    }
    Ok(spec)
}

/// serde-saphyr appends " at line L column C"; we print the location in front
/// instead. Its advice on its own options (", set DuplicateKeyPolicy in Options if
/// acceptable") is for programs that embed it, not for someone editing a spec.
fn strip_location_suffix(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    let mut text = match first.rfind(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    for advice in [", set ", ". If you ", " If you "] {
        if let Some(i) = text.find(advice).filter(|&i| text[i..].contains("Options")) {
            text = &text[..i];
        }
    }
    text.to_string()
}

/// Where in the file a semantic problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Arch,
    Elf,
    Soname(usize),
    Version(usize),
    Symbol(usize, SymbolField),
    Clocks,
    Deviation(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SymbolField {
    Name,
    Version,
    Alias(usize),
    Since,
}

struct Problem {
    place: Place,
    message: String,
}

fn problem(place: Place, message: String) -> Result<(), Problem> {
    Err(Problem { place, message })
}

fn validate(spec: &ArchSpec, stem: Option<&str>) -> Result<(), Problem> {
    if let Some(stem) = stem {
        if spec.arch != stem {
            return problem(
                Place::Arch,
                format!("arch {:?} must match the file name {stem:?}", spec.arch),
            );
        }
    }
    if !matches!(spec.elf.class, 32 | 64) {
        return problem(
            Place::Elf,
            format!("elf.class {} is not 32 or 64", spec.elf.class),
        );
    }
    if !matches!(spec.elf.sysv_hash_entry_size, 4 | 8) {
        return problem(
            Place::Elf,
            format!(
                "elf.sysv_hash_entry_size {} is not 4 or 8",
                spec.elf.sysv_hash_entry_size
            ),
        );
    }
    if spec.elf.endian.is_empty() {
        return problem(Place::Elf, "elf.endian lists no byte order".into());
    }
    if spec.sonames.is_empty() {
        return problem(
            Place::Arch,
            "sonames is empty: every vDSO has a soname".into(),
        );
    }
    for (i, s) in spec.sonames.iter().enumerate() {
        if let (Some(a), Some(b)) = (s.since, s.until) {
            if a >= b {
                return problem(
                    Place::Soname(i),
                    format!("soname {}: since {a} is not before until {b}", s.name),
                );
            }
        }
    }
    let mut nodes = BTreeSet::new();
    for (i, v) in spec.versions.iter().enumerate() {
        if !nodes.insert(v.name.as_str()) {
            return problem(
                Place::Version(i),
                format!("version node {} is listed twice", v.name),
            );
        }
    }
    let overlap: Vec<String> = spec
        .clocks
        .served
        .iter()
        .filter(|c| spec.clocks.fallback.contains(c))
        .map(|c| c.to_string())
        .collect();
    if !overlap.is_empty() {
        return problem(
            Place::Clocks,
            format!("clocks both served and fallback: {}", overlap.join(", ")),
        );
    }
    let mut seen = BTreeSet::new();
    for (i, sym) in spec.symbols.iter().enumerate() {
        if !nodes.contains(sym.version.as_str()) {
            return problem(
                Place::Symbol(i, SymbolField::Version),
                format!(
                    "symbol {}: version {} is not a version node of this spec (known: {})",
                    sym.name,
                    sym.version,
                    nodes.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        for (k, name) in sym.names().enumerate() {
            let field = if k == 0 {
                SymbolField::Name
            } else {
                SymbolField::Alias(k - 1)
            };
            if name.is_empty() {
                return problem(Place::Symbol(i, field), "empty symbol name".into());
            }
            if !seen.insert((name.to_string(), sym.version.clone())) {
                return problem(
                    Place::Symbol(i, field),
                    format!("{name}@{} is defined twice", sym.version),
                );
            }
        }
        if !sym.prototype.contains(sym.name.as_str()) {
            return problem(
                Place::Symbol(i, SymbolField::Name),
                format!(
                    "symbol {}: prototype {:?} does not name the symbol",
                    sym.name, sym.prototype
                ),
            );
        }
        if let (Some(a), Some(b)) = (sym.since, sym.until) {
            if a >= b {
                return problem(
                    Place::Symbol(i, SymbolField::Since),
                    format!("symbol {}: since {a} is not before until {b}", sym.name),
                );
            }
        }
        for entry in &sym.config {
            if let Err(why) = config_condition(entry) {
                return problem(
                    Place::Symbol(i, SymbolField::Name),
                    format!("symbol {}: config {entry:?}: {why}", sym.name),
                );
            }
        }
        if sym.providers.is_empty() {
            return problem(
                Place::Symbol(i, SymbolField::Name),
                format!("symbol {}: providers is empty", sym.name),
            );
        }
    }
    for i in 0..spec.deviations.len() {
        if let Some(why) = crate::checks::deviation_problem(spec, i) {
            return problem(Place::Deviation(i), why);
        }
    }
    Ok(())
}

/// Just enough of the file's shape, with spans, to place a semantic error.
#[derive(Deserialize)]
struct Locator {
    arch: Option<Spanned<String>>,
    elf: Option<Spanned<serde::de::IgnoredAny>>,
    #[serde(default)]
    sonames: Vec<NamedLoc>,
    #[serde(default)]
    versions: Vec<NamedLoc>,
    clocks: Option<Spanned<serde::de::IgnoredAny>>,
    #[serde(default)]
    symbols: Vec<SymbolLoc>,
    #[serde(default)]
    deviations: Vec<Spanned<serde::de::IgnoredAny>>,
}

#[derive(Deserialize)]
struct NamedLoc {
    name: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct SymbolLoc {
    name: Option<Spanned<String>>,
    version: Option<Spanned<String>>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    since: Option<Spanned<String>>,
}

fn locate(text: &str, place: &Place) -> (Option<u64>, Option<u64>) {
    let Ok(loc) = serde_saphyr::from_str::<Locator>(text) else {
        return (None, None);
    };
    let spanned_string = |s: Option<&Spanned<String>>| s.map(|s| s.referenced);
    let at = match place {
        Place::Arch => spanned_string(loc.arch.as_ref()),
        Place::Elf => loc.elf.as_ref().map(|s| s.referenced),
        Place::Clocks => loc.clocks.as_ref().map(|s| s.referenced),
        Place::Deviation(i) => loc.deviations.get(*i).map(|d| d.referenced),
        Place::Soname(i) => loc
            .sonames
            .get(*i)
            .and_then(|n| spanned_string(n.name.as_ref())),
        Place::Version(i) => loc
            .versions
            .get(*i)
            .and_then(|n| spanned_string(n.name.as_ref())),
        Place::Symbol(i, field) => loc.symbols.get(*i).and_then(|s| match field {
            SymbolField::Name => spanned_string(s.name.as_ref()),
            SymbolField::Version => spanned_string(s.version.as_ref()),
            SymbolField::Alias(k) => s.aliases.get(*k).map(|a| a.referenced),
            SymbolField::Since => spanned_string(s.since.as_ref().or(s.name.as_ref())),
        }),
    };
    match at {
        Some(l) => (Some(l.line()), Some(l.column())),
        None => (None, None),
    }
}

/// A spec `config` entry: a condition over kernel options only.
pub fn config_condition(entry: &str) -> Result<super::Cond, String> {
    let c = super::Cond::parse(entry)?;
    match c.atoms().into_iter().find(|a| !a.starts_with("CONFIG_")) {
        Some(bad) => Err(format!("{bad:?} is not a kernel option (CONFIG_…)")),
        None => Ok(c),
    }
}
