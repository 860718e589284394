//! The spec entry an exported symbol the spec lacks would need: printed with
//! its `unknown-symbol` finding, ready to paste under `symbols:`.

use super::Against;
use crate::checks::image::version_label;
use crate::elf::{Symbol, VdsoImage};
use crate::spec::{builtin_arches, builtin_ref, SymbolKind, SymbolSpec};

/// The placeholder for what the image cannot tell; `spec validate` refuses it
/// as a kind, so an entry pasted unfilled cannot pass.
pub const FILL_IN: &str = "FILL_IN";

/// The YAML to add for `sym`, indented as the spec files indent `symbols:` (an exported symbol no spec entry names): an
/// alias line when it is at the address of a spec symbol the image exports,
/// else a whole entry whose kind comes from its name where one matches.
pub fn suggest(ctx: &Against<'_>, image: &VdsoImage<'_>, sym: &Symbol<'_>) -> String {
    let name = sym.name_lossy();
    let version = version_label(&sym.version);
    if let Some(primary) = aliased_spec_symbol(ctx, image, sym) {
        let mut aliases = primary.aliases.clone();
        aliases.push(name.to_string());
        return format!(
            "    # {name} is at the address of {}: add it to that entry's aliases\n    aliases: [{}]",
            primary.name,
            aliases.join(", ")
        );
    }
    let kind = kind_from_name(&name);
    let kind_line = match kind {
        Some(k) => format!("kind: {}  # from its name: check it", k.name()),
        None => format!("kind: {FILL_IN}  # what it does: the kinds are listed in spec/README.md"),
    };
    let prototype = kind
        .and_then(|k| prototype_of_kind(ctx, k, &name))
        .unwrap_or_else(|| format!("{FILL_IN}: its C prototype"));
    let since = match ctx.kernel {
        Some(k) => format!(
            "since: \"{}.{}\"  # the first kernel that exports it",
            k.major, k.minor
        ),
        None => "# since: \"X.Y\"  (the first kernel that exports it: pass --kernel, or build from a tree)".into(),
    };
    format!(
        "  - name: {name}\n    version: {version}\n    {kind_line}\n    prototype: \"{prototype}\"\n    {since}\n    \
         # config: [CONFIG_…]  (if a kernel option decides whether it is built)"
    )
}

/// The spec symbol `sym` is an alias of: one the image exports at the same
/// address and size.
fn aliased_spec_symbol<'s>(
    ctx: &Against<'s>,
    image: &VdsoImage<'_>,
    sym: &Symbol<'_>,
) -> Option<&'s SymbolSpec> {
    ctx.spec.symbols.iter().find(|s| {
        image
            .lookup(s.name.as_bytes(), Some(s.version.as_bytes()))
            .ok()
            .flatten()
            .is_some_and(|p| p.value == sym.value && p.size == sym.size && p.index != sym.index)
    })
}

/// The kind whose spec name is the symbol's name without its prefix
/// (`__vdso_clock_getres_time64` is a `clock_getres_time64`).
fn kind_from_name(name: &str) -> Option<SymbolKind> {
    let bare = ["__vdso_", "__kernel_", "__"]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    serde_saphyr::from_str::<SymbolKind>(bare).ok()
}

/// A prototype of `kind` from this spec or any built-in one, under `name`.
fn prototype_of_kind(ctx: &Against<'_>, kind: SymbolKind, name: &str) -> Option<String> {
    let renamed = |s: &SymbolSpec| s.prototype.replacen(&s.name, name, 1);
    if let Some(s) = ctx.spec.symbols.iter().find(|s| s.kind == kind) {
        return Some(renamed(s));
    }
    builtin_arches()
        .filter_map(|a| builtin_ref(a).and_then(|r| r.as_ref().ok()))
        .find_map(|spec| spec.symbols.iter().find(|s| s.kind == kind).map(renamed))
}
