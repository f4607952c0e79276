//! Generates the Hoist client from `openapi.yaml` with progenitor at build time.

use std::path::Path;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let spec_path = Path::new(&manifest_dir).join("openapi.yaml");
    println!("cargo:rerun-if-changed={}", spec_path.display());
    let text = std::fs::read_to_string(&spec_path).expect("openapi.yaml is readable");
    let mut spec: openapiv3::OpenAPI =
        serde_yaml::from_str(&text).expect("openapi.yaml is a valid OpenAPI 3.0 document");
    drop_multipart_operations(&mut spec);
    let mut generator = progenitor::Generator::new(&progenitor::GenerationSettings::default());
    let tokens = generator
        .generate_tokens(&spec)
        .expect("progenitor accepts the spec");
    let file: syn::File = syn::parse2(tokens).expect("generated code parses");
    let out = Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join("codegen.rs");
    std::fs::write(out, prettyplease::unparse(&file)).expect("OUT_DIR is writable");
}

/// progenitor cannot generate multipart/form-data calls (it fails on them), so those
/// operations are left out here. `POST /files` stays in the spec for other clients; Rust
/// callers upload with `PUT /files/object` (`put_file_object`), which streams the same way.
fn drop_multipart_operations(spec: &mut openapiv3::OpenAPI) {
    for (_, item) in spec.paths.paths.iter_mut() {
        let openapiv3::ReferenceOr::Item(item) = item else {
            continue;
        };
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ] {
            let is_multipart = operation
                .as_ref()
                .and_then(|op| op.request_body.as_ref())
                .is_some_and(|body| match body {
                    openapiv3::ReferenceOr::Item(body) => {
                        body.content.keys().any(|ct| ct.starts_with("multipart/"))
                    }
                    openapiv3::ReferenceOr::Reference { .. } => false,
                });
            if is_multipart {
                *operation = None;
            }
        }
    }
}
