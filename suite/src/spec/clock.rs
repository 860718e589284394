//! Clock ids as the spec names them.

use core::fmt;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A POSIX/Linux clock id. The spec writes them by name (`MONOTONIC_RAW`, `AUX3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockId(pub i32);

const NAMES: &[(&str, i32)] = &[
    ("REALTIME", 0),
    ("MONOTONIC", 1),
    ("PROCESS_CPUTIME_ID", 2),
    ("THREAD_CPUTIME_ID", 3),
    ("MONOTONIC_RAW", 4),
    ("REALTIME_COARSE", 5),
    ("MONOTONIC_COARSE", 6),
    ("BOOTTIME", 7),
    ("REALTIME_ALARM", 8),
    ("BOOTTIME_ALARM", 9),
    ("SGI_CYCLE", 10),
    ("TAI", 11),
    ("AUX0", 16),
    ("AUX1", 17),
    ("AUX2", 18),
    ("AUX3", 19),
    ("AUX4", 20),
    ("AUX5", 21),
    ("AUX6", 22),
    ("AUX7", 23),
];

impl ClockId {
    pub const REALTIME: ClockId = ClockId(0);
    pub const MONOTONIC: ClockId = ClockId(1);

    pub fn from_name(name: &str) -> Option<ClockId> {
        let bare = name.strip_prefix("CLOCK_").unwrap_or(name);
        NAMES
            .iter()
            .find(|(n, _)| *n == bare)
            .map(|&(_, id)| ClockId(id))
    }

    pub fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|(_, id)| *id == self.0).map(|&(n, _)| n)
    }

    pub fn known_names() -> impl Iterator<Item = &'static str> {
        NAMES.iter().map(|(n, _)| *n)
    }
}

impl fmt::Display for ClockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "CLOCK_{n}"),
            None => write!(f, "clock {}", self.0),
        }
    }
}

impl Serialize for ClockId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(n) => s.serialize_str(n),
            None => s.serialize_i32(self.0),
        }
    }
}

impl<'de> Deserialize<'de> for ClockId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        ClockId::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown clock {name:?}; known: {}",
                ClockId::known_names().collect::<Vec<_>>().join(", ")
            ))
        })
    }
}
