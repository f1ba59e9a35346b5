//! The house style's import rules, checked on the source: imports between top-level modules run
//! one way (no cycles), and plumbing never imports a domain or the wiring.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Shared plumbing: knows no domain.
const PLUMBING: &[&str] = &[
    "audit",
    "auth",
    "config",
    "db",
    "error",
    "geo",
    "health",
    "http",
    "idempotency",
    "ids",
    "jobs",
    "mail",
    "money",
    "openapi",
    "rules",
    "state",
    "telemetry",
    "time",
];

/// The domains: each reaches another only through its `repo` loaders, its pure `model`, its
/// `dto` shapes, or a named interface listed here, never a service or handler that could call back.
const DOMAINS: &[&str] = &[
    "absence",
    "accounts",
    "budgets",
    "market",
    "payroll",
    "pricing",
    "rostering",
    "timesheets",
];
const INTERFACES: &[&str] = &[
    "repo",
    "model",
    "dto",
    "budgets::ledger",
    "timesheets::periods",
    "market::index",
    "rostering::cover",
];

/// The modules a crate path names (`crate::x::…`, `use crate::{x, y::…}`), code only.
fn imported_modules(text: &str) -> BTreeSet<String> {
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            !line.starts_with("//")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find(';').unwrap_or(group.len())];
            // Top-level names in the group: those at brace depth zero.
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && depth == 0 && c.is_ascii_lowercase() => {
                        found.insert(word(&group[i..]));
                        start = false;
                    }
                    c if !c.is_whitespace() => start = false,
                    _ => {}
                }
            }
        } else {
            let name = word(rest);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    fn walk(dir: &Path, top: Option<&str>, graph: &mut BTreeMap<String, BTreeSet<String>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let module = top.map_or(name.clone(), str::to_owned);
            if path.is_dir() {
                walk(&path, Some(&module), graph);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !(top.is_none() && (name == "lib" || name == "main"))
            {
                let text = std::fs::read_to_string(&path).unwrap();
                let imports = imported_modules(&text);
                let entry = graph.entry(module.clone()).or_default();
                entry.extend(imports.into_iter().filter(|m| *m != module));
            }
        }
    }
    let mut graph = BTreeMap::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        None,
        &mut graph,
    );
    graph
}

/// A path from `to` back to `from`, if one exists.
fn path_back(
    graph: &BTreeMap<String, BTreeSet<String>>,
    from: &str,
    to: &str,
) -> Option<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![vec![to.to_owned()]];
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap().clone();
        if last == from {
            return Some(path);
        }
        if !seen.insert(last.clone()) {
            continue;
        }
        for next in graph.get(&last).into_iter().flatten() {
            let mut longer = path.clone();
            longer.push(next.clone());
            stack.push(longer);
        }
    }
    None
}

#[test]
fn the_reader_sees_crate_paths_and_groups() {
    let text = "use crate::a::b;\nuse crate::{c, d::{e, f}, g::h};\n// crate::comment\nlet x = crate::i::j();\n#[cfg(test)]\nuse crate::k;";
    let found: Vec<String> = imported_modules(text).into_iter().collect();
    assert_eq!(found, ["a", "c", "d", "g", "i"]);
}

#[test]
fn imports_between_top_level_modules_run_one_way() {
    let graph = module_graph();
    assert!(graph.contains_key("rostering") && graph.contains_key("auth"));
    let mut cycles = Vec::new();
    for (module, imports) in &graph {
        for imported in imports {
            if let Some(path) = path_back(&graph, module, imported) {
                cycles.push(format!("{module} -> {}", path.join(" -> ")));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn plumbing_never_imports_a_domain_or_the_wiring() {
    let graph = module_graph();
    let mut wrong = Vec::new();
    for module in PLUMBING {
        let imports = graph
            .get(*module)
            .unwrap_or_else(|| panic!("no module {module}"));
        for imported in imports {
            if !PLUMBING.contains(&imported.as_str()) {
                wrong.push(format!("{module} imports {imported}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_domain_reaches_another_only_through_its_named_interfaces() {
    let mut wrong = Vec::new();
    for domain in DOMAINS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(domain);
        let mut files = vec![dir];
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for other in DOMAINS.iter().filter(|d| *d != domain) {
                let prefix = format!("crate::{other}::");
                for (at, _) in code.match_indices(&prefix) {
                    let rest = &code[at + prefix.len()..];
                    let module: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    let allowed = INTERFACES.contains(&module.as_str())
                        || INTERFACES.contains(&format!("{other}::{module}").as_str());
                    if !allowed {
                        wrong.push(format!("{} uses {other}::{module}", path.display()));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
