//! `vdsoconf spec tables`: the reference tables of the documentation, written
//! from what the code knows (the groups' registry, the kinds' descriptions, the
//! plans of the built-in specs, the symptom catalogue), so they cannot drift
//! from it. The output is the same on every build and machine; a test holds
//! docs/reference.md to it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use vdsoconf_suite::checks::findings::FINDINGS;
use vdsoconf_suite::checks::group::{Runs, REGISTRY};
use vdsoconf_suite::checks::{plan, symptoms};
use vdsoconf_suite::kinds::kind_info;
use vdsoconf_suite::spec::{builtin, builtin_arches, SpecError, SymbolKind};

/// The file the tables are checked into.
pub const REFERENCE: &str = "docs/reference.md";

/// The whole of docs/reference.md.
pub fn reference() -> Result<String, SpecError> {
    let specs = builtin_arches()
        .map(|arch| builtin(arch).expect("listed"))
        .collect::<Result<Vec<_>, _>>()?;
    // What every built-in spec plans: checks per group, and per kind the groups
    // that check its symbols and how many symbols it has.
    let mut per_group: BTreeMap<&str, usize> = BTreeMap::new();
    let mut kind_groups: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    let mut kind_symbols: BTreeMap<&str, usize> = BTreeMap::new();
    for spec in &specs {
        for sym in &spec.symbols {
            *kind_symbols.entry(kind_info(sym.kind).name).or_default() += 1;
        }
        for check in plan(spec) {
            *per_group.entry(check.group().name()).or_default() += 1;
            if let Ok(sym) = check.case.spec_symbol(spec) {
                kind_groups
                    .entry(kind_info(sym.kind).name)
                    .or_default()
                    .insert(check.group as usize);
            }
        }
    }

    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(
        w,
        "# Check groups, symbol kinds and symptoms\n\n\
         Written by `vdsoconf spec tables` from the check groups' registry, the kinds'\n\
         descriptions, the plans of the {} built-in specs and the symptom catalogue;\n\
         a test fails when this file is not what the command prints. After changing\n\
         any of those: `cargo run -- spec tables > {REFERENCE}`.\n",
        specs.len()
    );

    let _ = writeln!(
        w,
        "## Check groups\n\n\
         Checks are named `ARCH::GROUP::SUBJECT` and run in this order. The matrix\n\
         counts a group in its column, or in `other`.\n\n\
         | group | checks | runs | matrix column | planned by the built-in specs |\n\
         |---|---|---|---|---|"
    );
    for group in REGISTRY {
        let about = group.about();
        let _ = writeln!(
            w,
            "| `{}` | {} | {} | {} | {} |",
            about.name,
            cell(about.what),
            runs(about.runs),
            about.column.unwrap_or("other"),
            per_group.get(about.name).copied().unwrap_or(0)
        );
    }

    let _ = writeln!(
        w,
        "\n## Symbol kinds\n\n\
         A spec gives each symbol a kind; the kind decides how it is called and\n\
         which groups check it. A kind is called with plain arguments by the call,\n\
         served, bad-pointer and bench code, or checked by its cross-check alone.\n\n\
         | kind | called | stands in for | writes through | cross-check | groups | symbols in the built-in specs |\n\
         |---|---|---|---|---|---|---|"
    );
    for kind in SymbolKind::ALL {
        let info = kind_info(kind);
        let outputs: Vec<String> = info
            .outputs
            .iter()
            .map(|(name, _)| format!("`{name}`"))
            .collect();
        let writes = match (outputs.is_empty(), info.null_allowed) {
            (true, _) => "nothing".to_string(),
            (false, true) => format!("{} (NULL allowed)", outputs.join(", ")),
            (false, false) => outputs.join(", "),
        };
        let groups: Vec<&str> = kind_groups
            .get(info.name)
            .into_iter()
            .flatten()
            .map(|&g| REGISTRY[g].name())
            .collect();
        let _ = writeln!(
            w,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            info.name,
            if info.callable {
                "yes"
            } else if info.crosschecked_only {
                "cross-check only"
            } else {
                "no"
            },
            info.twin
                .map_or("—".to_string(), |t| format!("`{}`", t.name)),
            writes,
            cell(info.crosscheck_what),
            if groups.is_empty() {
                "—".to_string()
            } else {
                groups.join(", ")
            },
            kind_symbols.get(info.name).copied().unwrap_or(0)
        );
    }

    let _ = writeln!(
        w,
        "\n## Symptoms\n\n\
         Every problem a check reports carries a symptom id, `ID` or `ID:DETAIL`;\n\
         a spec's `deviations` name them (`ID:PREFIX*` matches a detail's start),\n\
         never message text. `vdsoconf spec symptoms` prints the same list.\n\n\
         | id | meaning | from |\n\
         |---|---|---|"
    );
    for (id, meaning) in symptoms() {
        let _ = writeln!(w, "| `{id}` | {} | a live check |", cell(meaning));
    }
    for (id, _, meaning) in FINDINGS {
        let _ = writeln!(
            w,
            "| `{id}` | {} | `check-image` and the image rows |",
            cell(meaning)
        );
    }
    Ok(s)
}

/// Text for a table cell: a `|` would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn runs(runs: Runs) -> &'static str {
    match runs {
        Runs::OnImage => "in process, on the image",
        Runs::InChild {
            soaks: true,
            new_time_namespace: _,
        } => "in a child, for the soak time",
        Runs::InChild {
            soaks: false,
            new_time_namespace: true,
        } => "in a child, in a new time namespace",
        Runs::InChild { .. } => "in a child",
        Runs::InChildThatMayDie => "in a child that may die, judged by the parent",
        Runs::CallsInChildren => "each call in a child that may die, judged by the parent",
    }
}
