//! Rule 5 of `docs/architecture.md`: libraries never print, read the environment or exit; they return
//! errors and let the binary decide. Each library file is parsed with `syn` and searched for the print
//! macros, environment reads and process exits; test-only code (`#[cfg(test)]` items, `#[test]`
//! functions) is skipped, and so are `tests/`, `benches/` and `examples/`, which are not scanned.
//!
//! Limits: code inside another macro's arguments (such as `tokio::select!`) is not parsed, and a
//! function reached through an alias (`use std::env::var as v`) is caught at its `use`.

use anyhow::{Context, Result};
use proc_macro2::Span;
use std::path::Path;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, Meta, Token};

/// Macros that write to stdout or stderr.
const PRINT_MACROS: &[&str] = &["println", "print", "eprintln", "eprint", "dbg"];
/// `(module, function)` pairs that read the environment, write to the terminal directly or exit.
const FORBIDDEN_CALLS: &[(&str, &str, &str)] = &[
    ("env", "var", "reads the environment"),
    ("env", "var_os", "reads the environment"),
    ("env", "vars", "reads the environment"),
    ("env", "vars_os", "reads the environment"),
    ("env", "args", "reads the command line"),
    ("env", "args_os", "reads the command line"),
    ("env", "set_var", "changes the environment"),
    ("env", "remove_var", "changes the environment"),
    ("process", "exit", "exits the process"),
    ("process", "abort", "exits the process"),
    ("io", "stdout", "writes to the terminal"),
    ("io", "stderr", "writes to the terminal"),
];

/// One forbidden use: 1-based line and column, and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    pub column: usize,
    pub what: String,
}

/// The forbidden uses in one library source file's text.
pub fn scan_source(text: &str) -> syn::Result<Vec<Finding>> {
    let file = syn::parse_file(text)?;
    let mut scan = Scan::default();
    scan.visit_file(&file);
    scan.found.sort_by_key(|f| (f.line, f.column));
    Ok(scan.found)
}

/// Every `.rs` file under `src_dir` except `skip` (the crate's binary targets) and `src/bin/`,
/// as `path:line:column: what` lines, paths relative to `root`.
pub fn scan_dir(root: &Path, src_dir: &Path, skip: &[&Path]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut pending = vec![src_dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("listing {}", dir.display()))?
                .path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "bin") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") && !skip.contains(&path.as_path())
            {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let found = scan_source(&text).with_context(|| {
                    format!(
                        "{} does not parse as Rust, so rule 5 cannot check it",
                        path.display()
                    )
                })?;
                problems.extend(found.into_iter().map(|f| {
                    format!(
                        "{}:{}:{}: {} in library code: return the value or an error and let the binary print, read the environment or exit",
                        path.strip_prefix(root).unwrap_or(&path).display(),
                        f.line,
                        f.column,
                        f.what
                    )
                }));
            }
        }
    }
    problems.sort();
    Ok(problems)
}

#[derive(Default)]
struct Scan {
    found: Vec<Finding>,
}

impl Scan {
    fn report(&mut self, span: Span, what: String) {
        let start = span.start();
        self.found.push(Finding {
            line: start.line,
            column: start.column + 1,
            what,
        });
    }

    /// Looks for a forbidden `module::function` pair among consecutive path segments.
    fn check_segments(&mut self, names: &[String], span: Span) {
        for pair in names.windows(2) {
            if let Some((m, f, what)) = FORBIDDEN_CALLS
                .iter()
                .find(|(m, f, _)| pair[0] == *m && pair[1] == *f)
            {
                self.report(span, format!("`{m}::{f}` {what}"));
            }
        }
    }
}

impl<'ast> Visit<'ast> for Scan {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !test_only(item_attrs(item)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        let attrs: &[Attribute] = match item {
            syn::ImplItem::Fn(f) => &f.attrs,
            syn::ImplItem::Const(c) => &c.attrs,
            _ => &[],
        };
        if !test_only(attrs) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if let Some(last) = mac.path.segments.last()
            && PRINT_MACROS.iter().any(|m| last.ident == m)
        {
            self.report(last.ident.span(), format!("`{}!` prints", last.ident));
        }
        visit::visit_macro(self, mac);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let span = path
            .segments
            .first()
            .map_or_else(Span::call_site, |s| s.ident.span());
        self.check_segments(&names, span);
        visit::visit_path(self, path);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        use_paths(&item.tree, &mut prefix, &mut |names, span| {
            self.check_segments(names, span);
        });
    }
}

/// Calls `f` with every full path a `use` tree brings in (`use std::{env::var, process}` gives
/// `std::env::var` and `std::process`).
fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, f: &mut impl FnMut(&[String], Span)) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, f);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            prefix.push(n.ident.to_string());
            f(prefix, n.ident.span());
            prefix.pop();
        }
        syn::UseTree::Rename(r) => {
            prefix.push(r.ident.to_string());
            f(prefix, r.ident.span());
            prefix.pop();
        }
        syn::UseTree::Glob(_) => {}
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_paths(t, prefix, f);
            }
        }
    }
}

fn item_attrs(item: &syn::Item) -> &[Attribute] {
    use syn::Item;
    match item {
        Item::Fn(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        Item::Const(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        _ => &[],
    }
}

/// `#[test]`, `#[tokio::test]`, or a `#[cfg(...)]` that holds only when testing.
fn test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        if path.segments.last().is_some_and(|s| s.ident == "test") {
            return true;
        }
        path.is_ident("cfg")
            && attr
                .parse_args::<Meta>()
                .is_ok_and(|meta| requires_test(&meta))
    })
}

/// Whether a `cfg` predicate can hold only with `test` set.
fn requires_test(meta: &Meta) -> bool {
    match meta {
        Meta::Path(p) => p.is_ident("test"),
        Meta::List(list) => {
            let Ok(args) = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            else {
                return false;
            };
            if list.path.is_ident("all") {
                args.iter().any(requires_test)
            } else if list.path.is_ident("any") {
                !args.is_empty() && args.iter().all(requires_test)
            } else {
                false // `not(...)` and anything else may hold outside tests
            }
        }
        Meta::NameValue(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whats(text: &str) -> Vec<(usize, String)> {
        scan_source(text)
            .unwrap()
            .into_iter()
            .map(|f| (f.line, f.what))
            .collect()
    }

    #[test]
    fn prints_env_reads_and_exits_are_found_with_their_lines() {
        let src = "use std::env::var;
fn a() {
    println!(\"hi\");
    let _ = std::env::var(\"HOME\");
    if true { std::process::exit(2) }
    let x = dbg!(1);
    let _ = env::args();
}
";
        assert_eq!(
            whats(src),
            vec![
                (1, "`env::var` reads the environment".to_owned()),
                (3, "`println!` prints".to_owned()),
                (4, "`env::var` reads the environment".to_owned()),
                (5, "`process::exit` exits the process".to_owned()),
                (6, "`dbg!` prints".to_owned()),
                (7, "`env::args` reads the command line".to_owned()),
            ]
        );
    }

    #[test]
    fn nested_and_grouped_uses_are_found() {
        let src = "use std::{io::{self, stdout}, process::{exit as quit}};\nfn f() {}\n";
        assert_eq!(
            whats(src),
            vec![
                (1, "`io::stdout` writes to the terminal".to_owned()),
                (1, "`process::exit` exits the process".to_owned()),
            ]
        );
    }

    #[test]
    fn test_code_and_doc_comments_are_skipped() {
        let src = "//! println!(\"in a doc\");
/// eprintln!(\"in a doc\")
fn quiet() -> u8 { 1 }
#[cfg(test)]
mod tests { fn t() { println!(\"ok in tests\"); std::env::var(\"X\").ok(); } }
#[cfg(all(test, unix))]
fn helper() { eprintln!(\"ok\"); }
#[tokio::test]
async fn t2() { dbg!(2); }
#[cfg(not(test))]
fn shipped() { print!(\"caught\"); }
#[cfg(any(test, feature = \"x\"))]
fn maybe_shipped() { print!(\"caught too\"); }
";
        assert_eq!(
            whats(src),
            vec![
                (11, "`print!` prints".to_owned()),
                (13, "`print!` prints".to_owned())
            ]
        );
    }

    #[test]
    fn write_to_a_caller_supplied_writer_is_allowed() {
        let src = "use std::io::Write;\nfn f(w: &mut impl Write) -> std::io::Result<()> { writeln!(w, \"x\") }\n";
        assert_eq!(whats(src), vec![]);
    }
}
