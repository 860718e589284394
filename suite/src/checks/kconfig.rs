//! What is known of a kernel build's configuration: options given one at a
//! time (`CONFIG_FOO=y`), or a whole `.config` as `make` writes it.

use std::collections::BTreeMap;

/// Kernel config options known to be on or off. An option not listed is
/// unknown, unless the options came from a whole `.config`: Kconfig leaves out
/// every option whose dependencies are unmet, so there an option it does not
/// mention is off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelConfig {
    values: BTreeMap<String, bool>,
    /// The `.config` read whole, if one was.
    whole: Option<String>,
}

impl KernelConfig {
    /// Parses `CONFIG_FOO=y` (also `=m`: built, as far as the vDSO goes) or `=n`.
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("{assignment:?}: expected CONFIG_NAME=y or CONFIG_NAME=n"))?;
        check_name(name)?;
        let on = match value {
            "y" | "m" => true,
            "n" => false,
            other => return Err(format!("{name}={other}: the value must be y, m or n")),
        };
        self.values.insert(name.to_string(), on);
        Ok(())
    }

    /// Reads a whole `.config` (`origin` names it in errors): `CONFIG_FOO=y|m`
    /// is on, `# CONFIG_FOO is not set` and `CONFIG_FOO=n` off, a string or
    /// number value set; every option it leaves out is off from now on. A line
    /// that is none of these (nor a comment or blank) is an error naming it.
    pub fn read_dotconfig(&mut self, text: &str, origin: &str) -> Result<(), String> {
        for (i, line) in text.lines().enumerate() {
            let at = || format!("{origin}:{}", i + 1);
            let line = line.trim_end();
            if let Some(rest) = line.strip_prefix("# ") {
                if let Some(name) = rest.strip_suffix(" is not set") {
                    check_name(name).map_err(|e| format!("{}: {e}", at()))?;
                    self.values.insert(name.to_string(), false);
                }
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, value)) = line.split_once('=') else {
                return Err(format!(
                    "{}: not a line of a kernel .config: {line:?}",
                    at()
                ));
            };
            check_name(name).map_err(|e| format!("{}: {e}", at()))?;
            let on = match value {
                "y" | "m" => true,
                "n" => false,
                v if is_string(v) || is_number(v) => true,
                v => {
                    return Err(format!(
                        "{}: {name}={v}: not y, m, n, a quoted string or a number",
                        at()
                    ))
                }
            };
            self.values.insert(name.to_string(), on);
        }
        self.whole = Some(origin.to_string());
        Ok(())
    }

    /// Whether `option` is on, off, or unknown (`None`).
    pub fn get(&self, option: &str) -> Option<bool> {
        match (self.values.get(option), &self.whole) {
            (Some(on), _) => Some(*on),
            (None, Some(_)) => Some(false),
            (None, None) => None,
        }
    }

    /// The `.config` this was read from, if one was read whole.
    pub fn whole(&self) -> Option<&str> {
        self.whole.as_deref()
    }

    /// Nothing is known.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.whole.is_none()
    }

    /// `option`'s state in words: "CONFIG_FOO=y", "CONFIG_FOO=n", "CONFIG_FOO
    /// not set" (left out of a whole .config) or "CONFIG_FOO unknown".
    pub fn describe(&self, option: &str) -> String {
        match (self.values.get(option), self.get(option)) {
            (Some(true), _) => format!("{option}=y"),
            (Some(false), _) => format!("{option}=n"),
            (None, Some(_)) => format!("{option} not set"),
            (None, None) => format!("{option} unknown"),
        }
    }
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = name.len() > "CONFIG_".len()
        && name.starts_with("CONFIG_")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?}: a kernel config option is CONFIG_ and a name of letters, digits and _"
        ))
    }
}

fn is_string(v: &str) -> bool {
    v.len() >= 2 && v.starts_with('"') && v.ends_with('"')
}

fn is_number(v: &str) -> bool {
    let digits = v.strip_prefix('-').unwrap_or(v);
    match digits.strip_prefix("0x") {
        Some(hex) => !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_dotconfig_makes_what_it_leaves_out_off() {
        let mut c = KernelConfig::default();
        c.read_dotconfig(
            "#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_X86_64=y\n\
             # CONFIG_X86_SGX is not set\nCONFIG_NR_CPUS=64\nCONFIG_LOCALVERSION=\"\"\n\
             CONFIG_FOO=m\n\n",
            ".config",
        )
        .unwrap();
        assert_eq!(c.get("CONFIG_X86_64"), Some(true));
        assert_eq!(c.get("CONFIG_FOO"), Some(true));
        assert_eq!(c.get("CONFIG_X86_SGX"), Some(false));
        assert_eq!(c.get("CONFIG_NR_CPUS"), Some(true));
        assert_eq!(c.get("CONFIG_COMPAT"), Some(false));
        assert_eq!(c.describe("CONFIG_COMPAT"), "CONFIG_COMPAT not set");
        assert_eq!(c.describe("CONFIG_X86_SGX"), "CONFIG_X86_SGX=n");
        // An option given after the file overrides it.
        c.set("CONFIG_X86_SGX=y").unwrap();
        assert_eq!(c.get("CONFIG_X86_SGX"), Some(true));
        let mut single = KernelConfig::default();
        single.set("CONFIG_X86_SGX=n").unwrap();
        assert_eq!(single.get("CONFIG_COMPAT"), None);
    }

    #[test]
    fn garbage_in_a_dotconfig_is_an_error_naming_its_line() {
        for (text, line) in [
            ("CONFIG_A=y\nhello world\n", ".config:2"),
            ("CONFIG_A=maybe\n", ".config:1"),
            ("FOO=y\n", ".config:1"),
            ("CONFIG_A=y\n# CONFIG_ is not set\n", ".config:2"),
        ] {
            let e = KernelConfig::default()
                .read_dotconfig(text, ".config")
                .unwrap_err();
            assert!(e.starts_with(line), "{text:?}: {e}");
        }
        assert!(KernelConfig::default().set("FOO=y").is_err());
        assert!(KernelConfig::default().set("CONFIG_FOO=maybe").is_err());
    }
}
