//! `vdsoconf history DIR`: the lineages of a history directory (history/fetch
//! writes one: DIR/manifest.tsv and the images it lists).

use std::collections::BTreeMap;
use std::path::Path;
use vdsoconf_suite::checks::history::{lineage, Kernel, Lineage};
use vdsoconf_suite::elf::VdsoImage;
use vdsoconf_suite::input::{read_input, read_text, InputKind};
use vdsoconf_suite::spec::{builtin, KernelVersion};

/// One row of manifest.tsv (the columns `vdsoconf history` reads).
pub struct Row {
    pub arch: String,
    pub suite: String,
    /// The Debian package version.
    pub version: String,
    /// The kernel release (`uname -r`).
    pub release: String,
    /// The image, relative to the directory.
    pub file: String,
    pub spec: String,
}

const COLUMNS: [&str; 9] = [
    "arch",
    "suite",
    "package",
    "version",
    "release",
    "image_sha256",
    "file",
    "spec",
    "soname",
];

/// The rows of DIR/manifest.tsv.
pub fn manifest(dir: &Path) -> Result<Vec<Row>, String> {
    let path = dir.join("manifest.tsv");
    let text = read_text(&path, InputKind::Report).map_err(|e| e.to_string())?;
    let mut lines = text.lines();
    if lines.next().map(|h| h.split('\t').collect::<Vec<_>>()) != Some(COLUMNS.to_vec()) {
        return Err(format!(
            "{}:1: the header is not {}",
            path.display(),
            COLUMNS.join(" ")
        ));
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split('\t').collect();
            match f[..] {
                [arch, suite, _package, version, release, _sha, file, spec, _soname] => Ok(Row {
                    arch: arch.into(),
                    suite: suite.into(),
                    version: version.into(),
                    release: release.into(),
                    file: file.into(),
                    spec: spec.into(),
                }),
                _ => Err(format!(
                    "{}:{}: {} fields, not {}",
                    path.display(),
                    i + 2,
                    f.len(),
                    COLUMNS.len()
                )),
            }
        })
        .collect()
}

/// Orders Debian package versions of kernels: `7.3~rc7-1~exp1` before
/// `7.3.4-1~bpo13+1`, `6.12.95-1` before `6.12.117-1`.
pub fn version_key(version: &str) -> Vec<i64> {
    let upstream = version.split('-').next().unwrap_or(version);
    let (main, rc) = match upstream.split_once('~') {
        Some((m, r)) => (m, Some(r)),
        None => (upstream, None),
    };
    let mut key: Vec<i64> = main.split('.').map(|n| n.parse().unwrap_or(0)).collect();
    key.resize(3, 0);
    match rc {
        Some(r) => key.extend([-1, r.trim_start_matches("rc").parse().unwrap_or(0)]),
        None => key.extend([0, 0]),
    }
    key
}

/// The series of a kernel release: `7.2.13+deb14-cloud-amd64` is 7.2.
pub fn series(release: &str) -> Result<KernelVersion, String> {
    let mut parts = release.split(['.', '-', '+']);
    let (major, minor) = (parts.next(), parts.next());
    format!("{}.{}", major.unwrap_or(""), minor.unwrap_or(""))
        .parse()
        .map_err(|_| format!("kernel release {release:?} does not start with a version X.Y"))
}

/// The flavour of a kernel release: what follows its version numbers
/// (`7.2.13+deb14-cloud-amd64` and `6.1.0-50-cloud-amd64` are
/// `cloud-amd64`, `7.3.4+deb13-amd64` is `amd64`).
pub fn flavour(release: &str) -> String {
    // VERSION[-ABI]-FLAVOUR: the version first, then an all-digit ABI number
    // when something follows it (bookworm's `6.1.0-50-cloud-amd64`; the
    // flavour itself may be digits: `686`).
    let parts: Vec<&str> = release.split('-').skip(1).collect();
    let skip = usize::from(parts.len() > 1 && parts[0].bytes().all(|b| b.is_ascii_digit()));
    parts[skip..].join("-")
}

/// Every lineage of `dir` (an architecture's flavour's one vDSO: amd64's
/// generic kernels are built with options its cloud ones lack, x32 among
/// them), ordered by architecture and image, each kernel in version order.
pub fn lineages(dir: &Path) -> Result<Vec<Lineage>, String> {
    let mut groups: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
    let flavours_of = |arch: &str, rows: &[Row]| {
        let mut f: Vec<String> = rows
            .iter()
            .filter(|r| r.arch == arch)
            .map(|r| flavour(&r.release))
            .collect();
        f.sort();
        f.dedup();
        f.len()
    };
    let rows = manifest(dir)?;
    for row in &rows {
        let image = Path::new(&row.file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // An architecture of one flavour keeps its plain name.
        let arch = if flavours_of(&row.arch, &rows) > 1 {
            format!("{} ({})", row.arch, flavour(&row.release))
        } else {
            row.arch.clone()
        };
        groups.entry((arch, image)).or_default().push(Row {
            arch: row.arch.clone(),
            suite: row.suite.clone(),
            version: row.version.clone(),
            release: row.release.clone(),
            file: row.file.clone(),
            spec: row.spec.clone(),
        });
    }
    let mut out = Vec::new();
    for ((arch, image), mut rows) in groups {
        rows.sort_by_key(|r| version_key(&r.version));
        let spec_name = &rows[0].spec;
        let spec = builtin(spec_name)
            .ok_or_else(|| format!("{arch}/{image}: no built-in spec {spec_name}"))?
            .map_err(|e| e.to_string())?;
        let data: Vec<Vec<u8>> = rows
            .iter()
            .map(|r| {
                read_input(&dir.join(&r.file), InputKind::VdsoImage).map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        let mut images = Vec::new();
        for (r, d) in rows.iter().zip(&data) {
            let parsed =
                VdsoImage::parse(d).map_err(|e| format!("{}: {e}", dir.join(&r.file).display()))?;
            let upstream = r.version.split('-').next().unwrap_or(&r.version);
            let kernel = Kernel {
                release: r.release.clone(),
                label: upstream.replace('~', "-"),
                source: r.suite.clone(),
                version: series(&r.release)?,
            };
            images.push((kernel, parsed));
        }
        out.push(lineage(&arch, &image, &spec, &images)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_versions_sort_as_debian_orders_them() {
        let mut v = [
            "7.3.4-1~bpo13+1",
            "7.3~rc7-1~exp1",
            "6.12.117-1",
            "6.12.95-1~bpo12+1",
            "5.10.251-1",
            "7.2.13-1",
            "6.1.170-1",
        ];
        v.sort_by_key(|s| version_key(s));
        assert_eq!(
            v,
            [
                "5.10.251-1",
                "6.1.170-1",
                "6.12.95-1~bpo12+1",
                "6.12.117-1",
                "7.2.13-1",
                "7.3~rc7-1~exp1",
                "7.3.4-1~bpo13+1"
            ]
        );
        assert_eq!(series("7.3-cloud-amd64").unwrap().to_string(), "7.3");
        assert_eq!(flavour("7.2.13+deb14-cloud-amd64"), "cloud-amd64");
        assert_eq!(flavour("6.1.0-50-cloud-amd64"), "cloud-amd64");
        assert_eq!(flavour("7.3.4+deb13-amd64"), "amd64");
        assert_eq!(flavour("5.10.0-32-686"), "686");
        assert_eq!(series("5.10.0-32-686").unwrap().to_string(), "5.10");
        assert!(series("garbage").is_err());
    }
}
