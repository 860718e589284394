//! Kernel versions as the spec writes them ("6.12", "2.6.24").

use core::fmt;
use core::str::FromStr;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A kernel version, compared numerically component by component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KernelVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        KernelVersion {
            major,
            minor,
            patch,
        }
    }

    /// The version a `LINUX_VERSION_CODE` encodes: `(X << 16) + (Y << 8) + Z`
    /// (`Z` saturates at 255, as `KERNEL_VERSION` does for long stable series).
    pub const fn from_version_code(code: u32) -> Self {
        KernelVersion::new(code >> 16, (code >> 8) & 0xff, code & 0xff)
    }

    /// The leading `X.Y[.Z]` of a release string such as `uname -r`'s
    /// `6.18.44-fc-v657` or `6.1.0-37-amd64`.
    pub fn from_release(release: &str) -> Option<Self> {
        let numeric: String = release
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        numeric.trim_end_matches('.').parse().ok()
    }
}

impl FromStr for KernelVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.split('.');
        let mut next = |required: bool| -> Result<u32, String> {
            match parts.next() {
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
                    .parse()
                    .map_err(|_| format!("kernel version {s:?}: {p:?} is too large")),
                None if !required => Ok(0),
                _ => Err(format!(
                    "kernel version {s:?} is not of the form X.Y or X.Y.Z (uncertain versions \
                     take `since_confidence: low`, not a question mark)"
                )),
            }
        };
        let v = KernelVersion::new(next(true)?, next(true)?, next(false)?);
        if parts.next().is_some() {
            return Err(format!(
                "kernel version {s:?} has more than three components"
            ));
        }
        Ok(v)
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.patch == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

impl Serialize for KernelVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KernelVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = KernelVersion;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quoted kernel version such as \"6.12\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<KernelVersion, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<KernelVersion, E> {
                Err(E::custom(format!(
                    "kernel versions must be quoted strings: this one reads as the number {f} \
                     (unquoted, 6.10 and 6.1 are the same number)"
                )))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<KernelVersion, E> {
                Err(E::custom(format!(
                    "kernel version {n} must be a quoted \"X.Y\""
                )))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<KernelVersion, E> {
                Err(E::custom(format!(
                    "kernel version {n} must be a quoted \"X.Y\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let v = |s: &str| s.parse::<KernelVersion>().unwrap();
        assert!(v("6.10") > v("6.9"));
        assert!(v("2.6.24") < v("2.6.39"));
        assert_eq!(v("6.1").to_string(), "6.1");
        assert!("3.7?"
            .parse::<KernelVersion>()
            .unwrap_err()
            .contains("since_confidence"));
        assert!("6".parse::<KernelVersion>().is_err());
        assert!("6.1.2.3".parse::<KernelVersion>().is_err());
    }

    #[test]
    fn from_release_strings() {
        assert_eq!(
            KernelVersion::from_release("6.18.44-fc-v657"),
            Some(KernelVersion::new(6, 18, 44))
        );
        assert_eq!(
            KernelVersion::from_release("6.1.0-37-amd64"),
            Some(KernelVersion::new(6, 1, 0))
        );
        assert_eq!(
            KernelVersion::from_release("6.12-rc1"),
            Some(KernelVersion::new(6, 12, 0))
        );
        assert_eq!(KernelVersion::from_release("garbage"), None);
    }
}
