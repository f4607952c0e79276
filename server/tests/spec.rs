//! Spec drift: the checked-in `openapi/openapi.yaml` must be what the code generates.

#[test]
fn checked_in_spec_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.yaml");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = hoist_server::api::spec_yaml();
    assert!(
        checked_in == generated,
        "openapi/openapi.yaml is out of date with the API code.\n\
         Regenerate it (the client is rebuilt from it) with:\n\
         \n    cargo run -p hoist-server -- openapi --output openapi/openapi.yaml\n"
    );
}
