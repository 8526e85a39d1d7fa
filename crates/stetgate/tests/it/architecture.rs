//! The dependency rule of docs/architecture.md ("Dependencies go one way"), checked on the source:
//! edge -> capability -> store -> model modules. Every `crate::` path a file names (in `use`
//! statements, grouped ones flattened, and inline) is read; a path that crosses the rule fails
//! the test, which lists each offending line.

use std::path::{Path, PathBuf};

/// Folders and files named by what the bank offers (the capabilities), and `psu`.
const CAPABILITIES: &[&str] = &[
    "ais",
    "oauth",
    "registry",
    "fallback",
    "statistics",
    "piis",
    "pis",
    "permissions",
    "portal",
    "psu",
    "quota",
    "app2app",
    "discovery",
];

/// A `crate::` path a file names, and the line it is on.
struct Named {
    file: PathBuf,
    line: usize,
    /// The segments after `crate::`.
    path: Vec<String>,
}

impl std::fmt::Display for Named {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: crate::{}", self.file.display(), self.line, self.path.join("::"))
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The `.rs` files under `src/<dir>` (or `src/<dir>.rs`), sorted.
fn files(dir: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![src().join(dir)];
    let single = src().join(format!("{dir}.rs"));
    if single.is_file() {
        found.push(single);
    }
    while let Some(path) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The code of a file without its comments; without its `#[cfg(test)]` module when `tests` is
/// false (unit tests may reach anywhere; they are not part of the module graph).
fn code(file: &Path, tests: bool) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if !tests && line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        // Comments keep their line (the numbering must hold) and lose their text.
        let code = match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every `crate::` path of `file`, groups (`crate::{a::b, c::{d, e}}`) flattened.
fn named(file: &Path, tests: bool) -> Vec<Named> {
    let code = code(file, tests);
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::").map(|i| i + from) {
        from = at + "crate::".len();
        let preceded = at.checked_sub(1).map(|i| bytes[i]);
        if preceded.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        let line = code[..at].matches('\n').count() + 1;
        let mut cursor = from;
        for path in use_tree(&code, &mut cursor, Vec::new()) {
            let shown = file.strip_prefix(src().parent().unwrap()).unwrap_or(file).to_owned();
            found.push(Named { file: shown, line, path });
        }
    }
    found
}

/// Reads a use tree at `*at` (after a `::`): `a::b::c`, `a::{tree, tree}`, `a::*`; the flattened
/// paths, each prefixed with `prefix`.
fn use_tree(code: &str, at: &mut usize, prefix: Vec<String>) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let skip_space = |at: &mut usize| {
        while *at < bytes.len() && bytes[*at].is_ascii_whitespace() {
            *at += 1;
        }
    };
    let mut path = prefix;
    loop {
        skip_space(at);
        if bytes.get(*at) == Some(&b'{') {
            *at += 1;
            let mut paths = Vec::new();
            loop {
                skip_space(at);
                match bytes.get(*at) {
                    Some(b'}') => {
                        *at += 1;
                        return paths;
                    }
                    Some(b',') => *at += 1,
                    None => return paths,
                    Some(_) => paths.extend(use_tree(code, at, path.clone())),
                }
            }
        }
        let start = *at;
        while *at < bytes.len() && (bytes[*at].is_ascii_alphanumeric() || bytes[*at] == b'_' || bytes[*at] == b'*') {
            *at += 1;
        }
        let segment = &code[start..*at];
        if segment.is_empty() {
            return vec![path];
        }
        if segment != "self" {
            path.push(segment.to_owned());
        }
        if code[*at..].starts_with("::") {
            *at += 2;
            continue;
        }
        // `;`, `,`, `}`, `(`, `<` end the path; so does `as name`, read with it.
        let mut after = *at;
        skip_space(&mut after);
        if code[after..].starts_with("as ") {
            *at = after + 2;
            skip_space(at);
            while *at < bytes.len() && (bytes[*at].is_ascii_alphanumeric() || bytes[*at] == b'_') {
                *at += 1;
            }
        }
        return vec![path];
    }
}

/// Whether `path` reaches into a capability (`crate::ais`, `crate::oauth::token` ...) other than
/// through its `model` module.
fn into_a_capability(path: &[String], capabilities: &[&str]) -> bool {
    match path {
        [first, second, ..] => capabilities.contains(&first.as_str()) && second != "model",
        [first] => capabilities.contains(&first.as_str()),
        [] => false,
    }
}

/// The paths of the files under `dirs` that `offends` says cross the rule.
fn offending(dirs: &[&str], tests: bool, offends: &dyn Fn(&[String]) -> bool) -> Vec<String> {
    dirs.iter()
        .flat_map(|dir| files(dir))
        .flat_map(|file| named(&file, tests))
        .filter(|n| offends(&n.path))
        .map(|n| n.to_string())
        .collect()
}

fn assert_none(rule: &str, offending: Vec<String>) {
    assert!(offending.is_empty(), "{rule} (docs/architecture.md), crossed by:\n  {}", offending.join("\n  "));
}

#[test]
fn the_reader_sees_grouped_and_inline_paths() {
    // The checks below are only as good as this reading: a grouped `use` must not hide a path.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sample.rs");
    std::fs::write(
        &file,
        "use crate::{ais::model::Consent, oauth::{self, token::Tokens as T}};\n\
         // use crate::pis::Ignored;\n\
         fn f() { let _ = crate::registry::usable(x); }\n\
         #[cfg(test)]\nmod tests { use crate::portal::Page; }\n",
    )
    .unwrap();
    let paths = |tests| named(&file, tests).into_iter().map(|n| (n.line, n.path.join("::"))).collect::<Vec<_>>();
    assert_eq!(
        paths(false),
        [(1, "ais::model::Consent"), (1, "oauth"), (1, "oauth::token::Tokens"), (3, "registry::usable")]
            .map(|(l, p)| (l, p.to_owned()))
    );
    assert!(paths(true).contains(&(5, "portal::Page".to_owned())));
    let caps = CAPABILITIES;
    assert!(into_a_capability(&["oauth".into()], caps) && !into_a_capability(&["ais".into(), "model".into()], caps));
}

#[test]
fn edge_store_ledger_and_core_banking_import_no_capability_but_its_model() {
    // The documented grep, tests included.
    let rule = "edge/, store/, ledger/ and core_banking/ import nothing of a capability but its model module";
    let found = offending(&["edge", "store", "ledger", "core_banking"], true, &|p| into_a_capability(p, CAPABILITIES));
    assert_none(rule, found);
}

#[test]
fn the_psus_journey_never_calls_back_into_a_purpose() {
    let purposes: Vec<&str> = CAPABILITIES.iter().copied().filter(|c| *c != "psu").collect();
    let found = offending(&["psu"], false, &|p| into_a_capability(p, &purposes));
    assert_none("psu/ never calls back into a purpose", found);
}

#[test]
fn fallback_and_payments_never_call_oauth() {
    let found = offending(&["fallback", "pis"], false, &|p| into_a_capability(p, &["oauth"]));
    assert_none("fallback and pis never call oauth (they use oauth::model and the store)", found);
}

#[test]
fn model_modules_are_leaves() {
    let models: Vec<PathBuf> =
        CAPABILITIES.iter().map(|c| src().join(c).join("model.rs")).filter(|f| f.is_file()).collect();
    assert!(models.len() >= 8, "the model modules are where the map says: {models:?}");
    let mut found = Vec::new();
    for file in &models {
        // Only other model modules, the ledger's types and the secrets' newtypes.
        let leaf = |p: &[String]| match p {
            [_, second, ..] if second == "model" => true,
            [first, ..] => first == "ledger" || first == "secret",
            [] => true,
        };
        found.extend(named(file, false).into_iter().filter(|n| !leaf(&n.path)).map(|n| n.to_string()));
        let code = code(file, false);
        for (i, line) in code.lines().enumerate() {
            if line.contains("super::") {
                found.push(format!("{}:{}: {} (its own capability)", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert_none("model modules import only stet, ledger types and other model modules", found);
}

#[test]
fn core_banking_uses_only_edges_tls_helpers_and_the_ledger_never_the_store() {
    let found = offending(&["core_banking"], false, &|p| {
        p.first().is_some_and(|f| f == "edge") && p.get(1).is_none_or(|s| s != "tls")
    });
    assert_none("core_banking/ uses edge::tls's certificate-file helpers, nothing else of edge", found);
    let found = offending(&["ledger"], false, &|p| p.first().is_some_and(|f| f == "store"));
    assert_none("ledger never depends on store", found);
}
