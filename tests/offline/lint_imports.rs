//! scripts/lint-imports.py (run by `make lint` and `make test`) finds an import cycle, and does not
//! count what is no dependency: a facade's `pub use`, test code, a `pub(in path)` visibility.

use std::path::Path;
use std::process::{Command, Output};

use crate::offline_cli::root;

fn lint(files: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    run(dir.path())
}

fn run(src: &Path) -> Output {
    Command::new(root().join("scripts/lint-imports.py"))
        .arg(src)
        .output()
        .expect("python3 runs the lint")
}

#[test]
fn a_cycle_between_siblings_fails_and_is_named() {
    let out = lint(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::B;\npub struct A(B);\n"),
        (
            "b.rs",
            "pub struct B;\nfn f() -> Option<super::a::A> { None }\n",
        ),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("import cycle among 2 modules: a, b"),
        "{stderr}"
    );
}

#[test]
fn a_facade_re_export_test_code_and_visibility_are_no_dependencies() {
    let out = lint(&[
        ("lib.rs", "pub mod m;\n"),
        (
            "m/mod.rs",
            "mod inner;\npub use inner::Thing;\npub(in crate::m) struct Local;\n#[cfg(test)]\nmod tests;\n",
        ),
        (
            "m/inner.rs",
            "pub struct Thing(super::Local);\n#[cfg(test)]\nmod t { use crate::m::tests::*; }\n",
        ),
        ("m/tests.rs", "use super::inner::Thing;\n"),
    ]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("no import cycle"), "{text}");
}

#[test]
fn the_library_has_no_import_cycle() {
    let out = run(&root().join("src"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
