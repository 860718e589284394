//! Arbitrary text to the spec loader: an error with a location, or a valid spec that
//! survives a serialize/parse round trip unchanged.

use vdsoconf_suite::spec::{parse_spec, to_yaml};

pub fn spec_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_spec("fuzz.yaml", None, text) {
        Ok(spec) => {
            let again = to_yaml(&spec).expect("a valid spec serializes");
            let reparsed = parse_spec("roundtrip.yaml", None, &again)
                .unwrap_or_else(|e| panic!("a serialized spec does not load: {e}\n{again}"));
            assert_eq!(spec, reparsed, "round trip changed the spec:\n{again}");
        }
        Err(e) => {
            assert!(!e.message.is_empty(), "an error without a message");
            assert!(
                e.line.is_some() && e.column.is_some(),
                "an error without a location: {e}"
            );
        }
    }
}
