//! The import graph of every crate of the workspace has no circle, and no
//! crate depends on one after it in the pipeline.
//!
//! Each crate's modules are read from its `lib.rs` (or `main.rs`) down, with
//! their `mod` declarations, file or inline, folders named `spec/` included.
//! A module imports another when one of its paths (a `use`, a type, a call,
//! a pattern) names it: `crate::a::b::Item` imports `a::b`, and so does
//! `super::b` from `a::c`; a path through a module's re-exports imports that
//! module (so a child that takes an item from its parent's re-exports while
//! the parent re-exports the child is a circle, as it reads). Declaring a
//! module (`mod x;`) is no import. Between crates, the workspace's
//! dependencies must follow the numbering of `crates/`: a stage depends
//! only on stages before it, and builder and checker plugins on the core
//! alone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// A module: its path from the crate root (`["spec", "load"]`).
type ModPath = Vec<String>;

#[derive(Default)]
struct Crate {
    /// Every module, with its declared children.
    children: BTreeMap<ModPath, BTreeSet<String>>,
    /// Every import, with the path that made it (for the report).
    edges: BTreeMap<ModPath, BTreeMap<ModPath, String>>,
}

/// Paths found in a module's own items (not in its inline child modules).
struct Paths {
    found: Vec<Vec<String>>,
    inline: Vec<(String, Vec<syn::Item>)>,
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.found
            .push(p.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, p);
    }
    fn visit_use_tree(&mut self, tree: &'ast syn::UseTree) {
        let mut out = Vec::new();
        flatten(tree, &mut Vec::new(), &mut out);
        self.found.extend(out);
    }
    /// `pub(crate)` and `pub(super)` name no import.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}
    /// Paths inside a macro's arguments (`format!("{}", crate::a::B)`).
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.found.extend(token_paths(m.tokens.clone()));
        syn::visit::visit_macro(self, m);
    }
    /// Paths inside an attribute (`#[error("... {x}", x = crate::a::B)]`).
    fn visit_attribute(&mut self, a: &'ast syn::Attribute) {
        if let syn::Meta::List(list) = &a.meta {
            self.found.extend(token_paths(list.tokens.clone()));
        }
    }
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if let Some((_, items)) = &m.content {
            self.inline.push((m.ident.to_string(), items.clone()));
        }
    }
}

/// The `crate::…`, `super::…` and `self::…` paths in a token stream.
fn token_paths(tokens: proc_macro2::TokenStream) -> Vec<Vec<String>> {
    use proc_macro2::TokenTree;
    let flat: Vec<TokenTree> = {
        fn walk(ts: proc_macro2::TokenStream, out: &mut Vec<TokenTree>) {
            for t in ts {
                match t {
                    TokenTree::Group(g) => walk(g.stream(), out),
                    other => out.push(other),
                }
            }
        }
        let mut out = Vec::new();
        walk(tokens, &mut out);
        out
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < flat.len() {
        // `$crate` in a macro's body names the crate where the macro is
        // used, not an import of the module that defines it.
        let dollar = i > 0 && matches!(&flat[i - 1], TokenTree::Punct(p) if p.as_char() == '$');
        let start = !dollar
            && matches!(&flat[i], TokenTree::Ident(id) if id == "crate" || id == "super" || id == "self");
        if !start {
            i += 1;
            continue;
        }
        let mut path = vec![flat[i].to_string()];
        let mut j = i + 1;
        // `::` is two `:` puncts, then an identifier.
        while j + 2 < flat.len()
            && matches!(&flat[j], TokenTree::Punct(p) if p.as_char() == ':')
            && matches!(&flat[j + 1], TokenTree::Punct(p) if p.as_char() == ':')
        {
            match &flat[j + 2] {
                TokenTree::Ident(id) => {
                    path.push(id.to_string());
                    j += 3;
                }
                _ => break,
            }
        }
        if path.len() > 1 {
            found.push(path);
        }
        i = j.max(i + 1);
    }
    found
}

fn flatten(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut p = prefix.clone();
            p.push(n.ident.to_string());
            out.push(p);
        }
        syn::UseTree::Rename(r) => {
            let mut p = prefix.clone();
            p.push(r.ident.to_string());
            out.push(p);
        }
        syn::UseTree::Glob(_) => {
            let mut p = prefix.clone();
            p.push("*".into());
            out.push(p);
        }
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten(t, prefix, out);
            }
        }
    }
}

/// Reads the module at `path` (a file) and, recursively, its children.
fn read_module(
    krate: &mut Crate,
    module: ModPath,
    file: &Path,
    dir: &Path,
    raw: &mut Vec<(ModPath, Vec<Vec<String>>)>,
) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    read_items(krate, module, &parsed.items, dir, raw);
}

fn read_items(
    krate: &mut Crate,
    module: ModPath,
    items: &[syn::Item],
    dir: &Path,
    raw: &mut Vec<(ModPath, Vec<Vec<String>>)>,
) {
    krate.children.entry(module.clone()).or_default();
    let mut paths = Paths {
        found: Vec::new(),
        inline: Vec::new(),
    };
    for item in items {
        if let syn::Item::Mod(m) = item {
            let name = m.ident.to_string();
            krate
                .children
                .get_mut(&module)
                .unwrap()
                .insert(name.clone());
            let mut child = module.clone();
            child.push(name.clone());
            if m.content.is_none() {
                let (file, sub) = match (
                    dir.join(format!("{name}.rs")),
                    dir.join(&name).join("mod.rs"),
                ) {
                    (f, _) if f.is_file() => (f, dir.join(&name)),
                    (_, m) if m.is_file() => (m, dir.join(&name)),
                    _ => panic!(
                        "module `{}` not found in {}",
                        child.join("::"),
                        dir.display()
                    ),
                };
                read_module(krate, child, &file, &sub, raw);
                continue;
            }
        }
        paths.visit_item(item);
    }
    for (name, inner) in std::mem::take(&mut paths.inline) {
        let mut child = module.clone();
        child.push(name.clone());
        read_items(krate, child, &inner, &dir.join(&name), raw);
    }
    raw.push((module, paths.found));
}

/// The module a path names, from `module`: the longest prefix that is one.
fn resolve(krate: &Crate, module: &ModPath, path: &[String]) -> Option<ModPath> {
    let mut at: ModPath;
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            at = Vec::new();
            rest = &path[1..];
        }
        Some("super") => {
            at = module.clone();
            while rest.first().map(String::as_str) == Some("super") {
                at.pop()?;
                rest = &rest[1..];
            }
        }
        Some("self") => {
            at = module.clone();
            rest = &path[1..];
        }
        Some(first)
            if krate
                .children
                .get(module)
                .is_some_and(|c| c.contains(first)) =>
        {
            at = module.clone();
        }
        _ => return None,
    }
    for seg in rest {
        let mut next = at.clone();
        next.push(seg.clone());
        if krate.children.contains_key(&next) {
            at = next;
        } else {
            break;
        }
    }
    Some(at)
}

fn read_crate(root: &Path) -> Crate {
    let src = root.join("src");
    let entry = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .find(|f| f.is_file())
        .unwrap_or_else(|| panic!("no lib.rs or main.rs in {}", src.display()));
    let mut krate = Crate::default();
    let mut raw = Vec::new();
    read_module(&mut krate, Vec::new(), &entry, &src, &mut raw);
    for (module, paths) in raw {
        for p in paths {
            let Some(target) = resolve(&krate, &module, &p) else {
                continue;
            };
            // A module's own items, or a module it declares (children are
            // reached through their parent's declaration, which is no import,
            // but a parent that uses its child imports it).
            if target == module {
                continue;
            }
            krate
                .edges
                .entry(module.clone())
                .or_default()
                .entry(target)
                .or_insert_with(|| p.join("::"));
        }
    }
    krate
}

/// Every circle (strongly connected set of two or more modules).
fn circles(krate: &Crate) -> Vec<Vec<ModPath>> {
    // Tarjan's algorithm.
    struct State<'a> {
        krate: &'a Crate,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on: BTreeSet<&'a ModPath>,
        next: usize,
        out: Vec<Vec<ModPath>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a ModPath) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        if let Some(targets) = s.krate.edges.get(v) {
            for w in targets.keys() {
                let w = s
                    .krate
                    .children
                    .get_key_value(w)
                    .map(|(k, _)| k)
                    .unwrap_or(w);
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(lw));
                } else if s.on.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(iw));
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                scc.push(w.clone());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                s.out.push(scc);
            }
        }
    }
    let mut s = State {
        krate,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in krate.children.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn name(m: &ModPath) -> String {
    match m.is_empty() {
        true => "crate".into(),
        false => m.join("::"),
    }
}

fn crate_dirs() -> Vec<PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut out = Vec::new();
    for base in [crates.clone(), crates.join("plugins")] {
        for e in std::fs::read_dir(&base).unwrap() {
            let p = e.unwrap().path();
            if p.join("Cargo.toml").is_file() {
                out.push(p);
            }
        }
    }
    out.push(Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf());
    out.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../xtask"));
    out.sort();
    out
}

#[test]
fn no_crate_has_a_module_circle() {
    let mut report = Vec::new();
    let mut modules = 0;
    for dir in crate_dirs() {
        let krate = read_crate(&dir);
        modules += krate.children.len();
        for circle in circles(&krate) {
            let members: BTreeSet<&ModPath> = circle.iter().collect();
            let mut ties = Vec::new();
            for m in &circle {
                for (t, why) in krate.edges.get(m).into_iter().flatten() {
                    if members.contains(t) {
                        ties.push(format!("    {} -> {} (`{why}`)", name(m), name(t)));
                    }
                }
            }
            report.push(format!(
                "{}: {}\n{}",
                dir.display(),
                circle.iter().map(name).collect::<Vec<_>>().join(", "),
                ties.join("\n")
            ));
        }
    }
    assert!(modules > 100, "the modules were read: {modules}");
    assert!(report.is_empty(), "module circles:\n{}", report.join("\n"));
}

/// The test sees a circle where there is one.
#[test]
fn a_circle_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("spec")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod a;\npub mod spec;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::spec::load::X;\n").unwrap();
    std::fs::write(src.join("spec/mod.rs"), "mod load;\npub use load::X;\n").unwrap();
    std::fs::write(src.join("spec/load.rs"), "pub struct X(super::Y);\n").unwrap();
    let krate = read_crate(dir.path());
    let found = circles(&krate);
    assert_eq!(
        found,
        vec![vec![
            vec!["spec".to_string()],
            vec!["spec".to_string(), "load".to_string()]
        ]]
    );
    std::fs::write(src.join("spec/load.rs"), "pub struct X(crate::a::Z);\n").unwrap();
    let found = circles(&read_crate(dir.path()));
    assert_eq!(found.len(), 1, "a -> spec::load -> a");
    // Through a macro's arguments and an attribute too.
    std::fs::write(
        src.join("spec/load.rs"),
        "pub fn x() -> String { format!(\"{}\", crate::a::Z) }\n",
    )
    .unwrap();
    assert_eq!(circles(&read_crate(dir.path())).len(), 1, "in a macro");
    std::fs::write(
        src.join("spec/load.rs"),
        "#[doc = \"x\"]\n#[derive(Debug)]\n#[error(\"{v}\", v = crate::a::Z)]\npub struct X;\n",
    )
    .unwrap();
    assert_eq!(circles(&read_crate(dir.path())).len(), 1, "in an attribute");
}

/// The numbered stages depend only on stages before them; builder and
/// checker plugins on the core alone (command-line builders also on their
/// shared runner, which depends on the core alone); installers on the core,
/// inputs and plan.
#[test]
fn crates_depend_only_on_earlier_stages() {
    let deps_of = |dir: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let Some(start) = text.find("\n[dependencies]") else {
            return Vec::new();
        };
        let section = &text[start + 1..];
        let end = section[1..].find("\n[").map_or(section.len(), |e| e + 1);
        section[..end]
            .lines()
            .filter_map(|l| l.split(['.', ' ', '=']).next())
            .filter(|n| n.starts_with("imagespec-"))
            .map(str::to_string)
            .collect()
    };
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut stage_of: BTreeMap<String, u32> = BTreeMap::new();
    let mut dirs = Vec::new();
    for e in std::fs::read_dir(&crates).unwrap() {
        let p = e.unwrap().path();
        let folder = p.file_name().unwrap().to_string_lossy().into_owned();
        let Some((n, _)) = folder.split_once('-') else {
            continue;
        };
        let Ok(n) = n.parse::<u32>() else { continue };
        let text = std::fs::read_to_string(p.join("Cargo.toml")).unwrap();
        let package = text
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .unwrap()
            .trim_end_matches('"')
            .to_string();
        stage_of.insert(package.clone(), n);
        dirs.push((package, n, p));
    }
    assert!(dirs.len() >= 9, "{dirs:?}");
    let mut wrong = Vec::new();
    for (package, n, dir) in &dirs {
        for dep in deps_of(dir) {
            if let Some(m) = stage_of.get(&dep) {
                if m >= n {
                    wrong.push(format!(
                        "{package} (stage {n}) depends on {dep} (stage {m})"
                    ));
                }
            }
        }
    }
    for plugin in ["docker", "podman", "builder-run", "noop", "registry"] {
        let deps = deps_of(&crates.join("plugins").join(plugin));
        let runner = plugin == "docker" || plugin == "podman";
        if deps.iter().any(|d| {
            d != "imagespec-core"
                && d != "imagespec-pycompat"
                && !(runner && d == "imagespec-builder-run")
        }) {
            wrong.push(format!(
                "the {plugin} plugin depends on {deps:?}, not the core alone"
            ));
        }
    }
    for plugin in ["uv", "poetry", "micromamba", "python-install"] {
        let allowed = [
            "imagespec-core",
            "imagespec-pycompat",
            "imagespec-inputs",
            "imagespec-plan",
            "imagespec-python-install",
        ];
        let deps = deps_of(&crates.join("plugins").join(plugin));
        if deps.iter().any(|d| !allowed.contains(&d.as_str())) {
            wrong.push(format!("the {plugin} installer depends on {deps:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
