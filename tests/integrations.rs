//! The pre-commit hook and the GitHub Action are what most users run; their files are checked
//! here for what pre-commit and GitHub require, and for what makes them safe to run.
//! (`pre-commit validate-manifest .pre-commit-hooks.yaml` accepts the hook file too.)

use prodlint::lang::yaml::{parse_stream, Node, NodeKind};

fn load(path: &str) -> Node {
    let text = std::fs::read_to_string(path).expect("file exists");
    let mut stream = parse_stream(&text);
    assert!(stream.error.is_none(), "{path}: {:?}", stream.error);
    assert_eq!(stream.documents.len(), 1, "{path}");
    stream.documents.remove(0).root
}

fn get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.kind {
        NodeKind::Map(entries) => entries
            .iter()
            .find(|(k, _)| matches!(&k.kind, NodeKind::Scalar { text, .. } if text == key))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn text<'a>(node: &'a Node, key: &str) -> &'a str {
    match get(node, key).map(|n| &n.kind) {
        Some(NodeKind::Scalar { text, .. }) => text,
        other => panic!("`{key}` is not a string: {other:?}"),
    }
}

fn items(node: &Node) -> &[Node] {
    match &node.kind {
        NodeKind::Seq(items) => items,
        other => panic!("not a list: {other:?}"),
    }
}

#[test]
fn pre_commit_hook_runs_prodlint_on_the_files_it_reads() {
    let root = load(".pre-commit-hooks.yaml");
    let hooks = items(&root);
    assert_eq!(hooks.len(), 1);
    let hook = &hooks[0];
    assert_eq!(text(hook, "id"), "prodlint");
    assert_eq!(text(hook, "language"), "rust");
    // The binary this package builds, with the config's exclusions applied to the passed files.
    assert_eq!(text(hook, "entry"), "prodlint check --force-exclude");
    assert_eq!(text(hook, "require_serial"), "true");
    let types: Vec<&str> = items(get(hook, "types_or").expect("types_or"))
        .iter()
        .map(|n| match &n.kind {
            NodeKind::Scalar { text, .. } => text.as_str(),
            _ => "",
        })
        .collect();
    for kind in ["rust", "dockerfile", "yaml", "shell"] {
        assert!(types.contains(&kind), "types_or lacks {kind}: {types:?}");
    }
    let cargo = std::fs::read_to_string("Cargo.toml").expect("Cargo.toml");
    assert!(cargo.contains("name = \"prodlint\"\npath = \"src/main.rs\""));
}

#[test]
fn action_is_a_composite_action_without_expression_injection() {
    let action = load("action.yml");
    assert!(!text(&action, "name").is_empty());
    assert!(!text(&action, "description").is_empty());
    let inputs = get(&action, "inputs").expect("inputs");
    for input in ["paths", "format", "sarif-file", "args"] {
        let i = get(inputs, input).unwrap_or_else(|| panic!("input {input}"));
        assert!(!text(i, "description").is_empty(), "{input}");
    }
    assert_eq!(
        text(
            get(&action, "inputs")
                .and_then(|i| get(i, "format"))
                .expect("format"),
            "default"
        ),
        "github"
    );
    let runs = get(&action, "runs").expect("runs");
    assert_eq!(text(runs, "using"), "composite");
    let steps = items(get(runs, "steps").expect("steps"));
    assert!(!steps.is_empty());
    let mut installs = false;
    for step in steps {
        // Composite run steps must name their shell.
        assert_eq!(text(step, "shell"), "bash");
        let script = text(step, "run");
        // `${{ }}` inside a script is pasted in before the shell parses it; inputs go through env.
        assert!(!script.contains("${{"), "expression in a script: {script}");
        installs |=
            script.contains("cargo install --locked") && script.contains("$GITHUB_ACTION_PATH");
    }
    assert!(
        installs,
        "prodlint is installed from the action's own checkout"
    );
}
