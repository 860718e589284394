//! Versions, exported symbols, hash tables, and the symbol set against the spec.

use super::{Against, Findings};
use crate::checks::expect::{expectation_with_config, Expectation};
use crate::checks::image::{in_range, is_version_node_symbol, type_ok, version_label};
use crate::elf::{
    HashKind, ParseError, Symbol, SymbolVersion, VdsoImage, PF_X, PT_LOAD, SHN_UNDEF, STT_FUNC,
};
use crate::spec::{Provider, SymbolSpec};

/// The version name a lookup of `sym` needs (`None` for the base or no versions).
fn version_of<'a>(sym: &Symbol<'a>) -> Option<&'a [u8]> {
    match sym.version {
        SymbolVersion::Defined { name, .. } => Some(name),
        _ => None,
    }
}

fn label(sym: &Symbol<'_>) -> String {
    format!("{}@{}", sym.name_lossy(), version_label(&sym.version))
}

/// Exported, named, and not the `OBJECT ABS` symbol of a version node.
fn interface_symbols<'a>(image: &VdsoImage<'a>) -> Vec<Symbol<'a>> {
    image
        .symbols()
        .filter_map(Result::ok)
        .filter(|s| s.is_exported() && !s.name.is_empty() && !is_version_node_symbol(s, image))
        .collect()
}

/// Every entry of the symbol table that cannot be read (its name or version out
/// of range): the errors `vdsoconf symbols` stops at, all of them. (Version
/// definitions are read whole when the image is parsed.)
pub fn unreadable_symbols(image: &VdsoImage<'_>) -> Vec<ParseError> {
    image.symbols().filter_map(Result::err).collect()
}

/// Hash tables that cannot serve a loader: empty, or two that disagree on how
/// many symbols there are. Each problem with the offset of its table.
pub fn hash_table_problems(image: &VdsoImage<'_>) -> Vec<(&'static str, u64, String)> {
    let mut problems = Vec::new();
    let sysv = image.sysv_hash();
    let gnu = image.gnu_hash();
    if let Some(t) = &sysv {
        if t.nbucket() == 0 || t.nchain() == 0 {
            problems.push((
                "hash-empty",
                t.offset(),
                format!(
                    "DT_HASH has nbucket {} and nchain {}: it resolves nothing, and nchain is the symbol count loaders use",
                    t.nbucket(),
                    t.nchain()
                ),
            ));
        }
    }
    if let Some(t) = &gnu {
        if t.nbuckets() == 0 {
            problems.push((
                "hash-empty",
                t.offset(),
                "DT_GNU_HASH has nbuckets 0: it resolves nothing".to_string(),
            ));
        }
    }
    if let (Some(s), Some(g)) = (&sysv, &gnu) {
        if g.nbuckets() != 0 && s.nchain() != g.symbol_count() {
            problems.push((
                "hash-inconsistent",
                g.offset(),
                format!(
                    "DT_HASH says {} dynamic symbols (nchain), DT_GNU_HASH {}",
                    s.nchain(),
                    g.symbol_count()
                ),
            ));
        }
    }
    problems
}

pub fn check_readable(image: &VdsoImage<'_>, f: &mut Findings) {
    for e in unreadable_symbols(image) {
        f.add("unreadable-symbol", e.to_string()).at(e.offset);
    }
    for (id, offset, message) in hash_table_problems(image) {
        f.add(id, message).at(offset);
    }
}

pub fn check_versions(ctx: &Against<'_>, image: &VdsoImage<'_>, f: &mut Findings) {
    let spec = ctx.spec;
    let soname = image
        .soname()
        .map(|s| String::from_utf8_lossy(s).into_owned());
    let allowed: Vec<&str> = spec
        .sonames
        .iter()
        .filter(|s| s.providers.contains(&ctx.provider) && in_range(s.since, s.until, ctx.kernel))
        .map(|s| s.name.as_str())
        .collect();
    match &soname {
        None => {
            f.add(
                "soname",
                format!("no DT_SONAME; the spec's is {}", allowed.join(" or ")),
            )
            .at(image.dynamic_segment().offset);
        }
        Some(s) if !allowed.contains(&s.as_str()) => {
            f.add(
                "soname",
                format!(
                    "DT_SONAME is {s:?}; the spec allows {} for {}",
                    allowed.join(" or "),
                    ctx.provider.name()
                ),
            )
            .at(image.dynamic_segment().offset);
        }
        Some(_) => {}
    }
    let Some(defs) = image.version_defs().filter(|_| image.has_versions()) else {
        f.add(
            "no-version-definitions",
            "no DT_VERDEF (or no DT_VERSYM): the exports are unversioned and libcs look them up by version",
        )
        .at(image.dynamic_segment().offset);
        return;
    };
    let mut saw_base = false;
    let mut indexes = Vec::new();
    for def in defs.iter().filter_map(Result::ok) {
        let name = String::from_utf8_lossy(def.name).into_owned();
        if !def.hash_matches_name() {
            f.add(
                "version-hash",
                format!(
                    "{name}: vd_hash 0x{:x} is not the ELF hash of the name",
                    def.hash
                ),
            )
            .at(def.offset);
        }
        if indexes.contains(&def.index) {
            f.add(
                "version-index",
                format!("{name}: index {} is used twice", def.index),
            )
            .at(def.offset);
        }
        indexes.push(def.index);
        if def.is_base() {
            saw_base = true;
            if soname.as_deref().is_some_and(|s| s != name) {
                f.add(
                    "base-version-name",
                    format!(
                        "the base version definition is {name:?}, not the soname {:?}",
                        soname.as_deref().unwrap_or("")
                    ),
                )
                .at(def.offset);
            }
        } else if !spec.versions.iter().any(|v| v.name == name) {
            f.add(
                "unknown-version",
                format!(
                    "unknown version node: add it to `versions` in {} if it is new",
                    ctx.spec_file()
                ),
            )
            .at(def.offset)
            .symbol(name);
        }
    }
    if !saw_base {
        f.add(
            "base-version-name",
            "no base version definition (VER_FLG_BASE)",
        );
    }
}

pub fn check_symbols(_ctx: &Against<'_>, image: &VdsoImage<'_>, f: &mut Findings) {
    let exec_loads: Vec<_> = image
        .segments()
        .iter()
        .filter_map(Result::ok)
        .filter(|s| s.p_type == PT_LOAD && s.flags & PF_X != 0)
        .collect();
    let entry_offset = |s: &Symbol<'_>| image.symtab_offset() + s.index * image.syment();
    for sym in image.symbols().filter_map(Result::ok) {
        if sym.index == 0 {
            continue;
        }
        if sym.shndx == SHN_UNDEF && !is_sparc_register(image, &sym) {
            f.add(
                "undefined-symbol",
                "undefined: the vDSO cannot import anything",
            )
            .at(entry_offset(&sym))
            .symbol(sym.name_lossy());
            continue;
        }
        if !sym.is_exported() || sym.name.is_empty() {
            continue;
        }
        if image.has_versions() && !matches!(sym.version, SymbolVersion::Defined { .. }) {
            f.add(
                "unversioned-symbol",
                format!(
                    "exported without a version node ({})",
                    version_label(&sym.version)
                ),
            )
            .at(entry_offset(&sym))
            .symbol(label(&sym));
        }
        if sym.sym_type() == STT_FUNC {
            if sym.size == 0 {
                f.add("function-size", "a function of size 0")
                    .at(entry_offset(&sym))
                    .symbol(label(&sym));
            }
            let len = sym.size.max(1);
            if !exec_loads
                .iter()
                .any(|l| l.file_offset_of(sym.value, len).is_some())
            {
                f.add(
                    "function-outside-exec",
                    format!(
                        "at 0x{:x}+{len}, not inside an executable PT_LOAD",
                        sym.value
                    ),
                )
                .at(entry_offset(&sym))
                .symbol(label(&sym));
            }
        }
    }
}

/// SPARC's `STT_REGISTER` entries (undefined, value 2 or 3): they declare the
/// application registers %g2 and %g3 the object uses, as the SPARC ABI asks of
/// every object that does, and import nothing (sparc64's vDSO has two).
fn is_sparc_register(image: &VdsoImage<'_>, sym: &Symbol<'_>) -> bool {
    const EM_SPARCV9: u16 = 43;
    const STT_SPARC_REGISTER: u8 = 13;
    image.machine() == EM_SPARCV9 && sym.sym_type() == STT_SPARC_REGISTER
}

/// What one hash table answers for `sym`: `Ok(true)` when it finds that very symbol.
fn resolves(
    image: &VdsoImage<'_>,
    kind: HashKind,
    sym: &Symbol<'_>,
) -> Option<Result<Option<u64>, String>> {
    match image.lookup_in(kind, sym.name, version_of(sym)) {
        Ok(None) => None,
        Ok(Some(found)) => Some(Ok(found.map(|s| s.index))),
        Err(e) => Some(Err(e.to_string())),
    }
}

/// How many exported symbols the SysV table of `image` fails to resolve.
pub fn sysv_misses(image: &VdsoImage<'_>) -> usize {
    interface_symbols(image)
        .iter()
        .filter(|s| matches!(resolves(image, HashKind::Sysv, s), Some(Ok(found)) if found != Some(s.index)))
        .count()
}

pub fn check_hash_tables(image: &VdsoImage<'_>, f: &mut Findings) {
    for sym in interface_symbols(image) {
        let sysv = resolves(image, HashKind::Sysv, &sym);
        let gnu = resolves(image, HashKind::Gnu, &sym);
        for (table, answer, offset) in [
            ("DT_HASH", &sysv, image.sysv_hash().map(|t| t.offset())),
            ("DT_GNU_HASH", &gnu, image.gnu_hash().map(|t| t.offset())),
        ] {
            let problem = match answer {
                None => continue,
                Some(Ok(found)) if *found == Some(sym.index) => continue,
                Some(Ok(None)) => format!("{table} does not resolve it"),
                Some(Ok(Some(other))) => {
                    format!("{table} resolves it to symbol {other}, not {}", sym.index)
                }
                Some(Err(e)) => format!("{table} lookup: {e}"),
            };
            let finding = f.add("hash-missing-symbol", problem).symbol(label(&sym));
            if let Some(o) = offset {
                finding.at(o);
            }
        }
        if let (Some(Ok(a)), Some(Ok(b))) = (&sysv, &gnu) {
            if a != b && a.is_some() && b.is_some() {
                f.add(
                    "hash-disagree",
                    format!("DT_HASH finds symbol {a:?}, DT_GNU_HASH symbol {b:?}"),
                )
                .symbol(label(&sym));
            }
        }
    }
}

pub fn check_spec_symbols(ctx: &Against<'_>, image: &VdsoImage<'_>, f: &mut Findings) {
    let spec = ctx.spec;
    let exported = interface_symbols(image);
    for sym in &spec.symbols {
        let expect = expectation_with_config(sym, ctx.provider, ctx.kernel, &ctx.config);
        let primary = image
            .lookup(sym.name.as_bytes(), Some(sym.version.as_bytes()))
            .ok()
            .flatten();
        for name in sym.names() {
            let at = format!("{name}@{}", sym.version);
            // A lookup that fails is an error of its own, as `run`'s resolve check
            // says: not a missing symbol.
            let found = match image.lookup(name.as_bytes(), Some(sym.version.as_bytes())) {
                Ok(found) => found,
                Err(e) => {
                    f.add("lookup-error", format!("the lookup fails: {e}"))
                        .at(e.offset)
                        .symbol(at);
                    continue;
                }
            };
            let Some(found) = found else {
                let elsewhere: Vec<String> = exported
                    .iter()
                    .filter(|s| s.name == name.as_bytes())
                    .map(|s| version_label(&s.version))
                    .collect();
                if !elsewhere.is_empty() {
                    f.add(
                        "wrong-version",
                        format!(
                            "exported at {} instead of {}",
                            elsewhere.join(", "),
                            sym.version
                        ),
                    )
                    .symbol(at);
                } else {
                    match &expect {
                        Expectation::Required => {
                            f.add(
                                "missing-symbol",
                                format!("missing{}{}", context(ctx), low_confidence(sym)),
                            )
                            .symbol(at);
                        }
                        Expectation::NotExpected(why) | Expectation::Conditional(why) => {
                            f.1.push(super::Absence {
                                symbol: at,
                                why: why.clone(),
                            });
                        }
                    }
                }
                continue;
            };
            if found.version.hidden() {
                f.add("hidden-version", "a hidden (non-default) version")
                    .symbol(at.clone());
            }
            if let Err(e) = type_ok(sym, ctx.provider, ctx.kernel, found.sym_type()) {
                f.add("symbol-type", e).symbol(at.clone());
            }
            if name != sym.name {
                if let Some(p) = &primary {
                    if (p.value, p.size) != (found.value, found.size) {
                        f.add(
                            "alias-mismatch",
                            format!(
                                "alias at 0x{:x} (size {}) but {} is at 0x{:x} (size {})",
                                found.value, found.size, sym.name, p.value, p.size
                            ),
                        )
                        .symbol(at.clone());
                    }
                }
            }
            if let Expectation::NotExpected(why) = &expect {
                if before_since(sym, ctx) {
                    f.add("symbol-before-since", format!("present although {why}: if this kernel really has it, correct `since` in {}", ctx.spec_file()))
                        .symbol(at);
                } else {
                    f.add("symbol-not-expected", format!("present although {why}"))
                        .symbol(at);
                }
            }
        }
    }
    for s in &exported {
        let name = s.name_lossy();
        let version = version_label(&s.version);
        let known: Vec<&SymbolSpec> = spec
            .symbols
            .iter()
            .filter(|k| k.names().any(|n| n == name))
            .collect();
        if known.is_empty() {
            let entry = super::entry::suggest(ctx, image, s);
            f.add(
                "unknown-symbol",
                format!(
                    "not in the spec: add it to `symbols` in {} (see spec/README.md)",
                    ctx.spec_file()
                ),
            )
            .symbol(format!("{name}@{version}"))
            .entry(entry);
        } else if !known.iter().any(|k| k.version == version) {
            let at: Vec<&str> = known.iter().map(|k| k.version.as_str()).collect();
            f.add(
                "unknown-symbol",
                format!(
                    "not in the spec at this version (the spec has it at {})",
                    at.join(", ")
                ),
            )
            .symbol(format!("{name}@{version}"));
        }
    }
    let nameless = image
        .symbols()
        .filter_map(Result::ok)
        .filter(|s| s.index != 0 && s.is_exported() && s.name.is_empty())
        .count();
    if nameless > 0 {
        f.add(
            "nameless-symbols",
            format!("{nameless} exported symbol(s) with an empty name (ARM kernels hide unusable time functions this way)"),
        );
    }
}

/// Why a missing symbol may be the spec's fault.
fn low_confidence(sym: &SymbolSpec) -> &'static str {
    if sym.since_confidence == crate::spec::Confidence::Low {
        " (the spec's `since` is a low-confidence estimate: if this kernel is right, fix the spec)"
    } else {
        ""
    }
}

fn before_since(sym: &SymbolSpec, ctx: &Against<'_>) -> bool {
    ctx.provider == Provider::Kernel
        && matches!((ctx.kernel, sym.since), (Some(k), Some(s)) if k < s)
}

fn context(ctx: &Against<'_>) -> String {
    format!(
        " (required for {}{})",
        ctx.provider.name(),
        ctx.kernel.map(|k| format!(" {k}")).unwrap_or_default()
    )
}
