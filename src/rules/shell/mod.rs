//! Rules about shell commands, wherever they are written: Dockerfile `RUN`s, CI workflow `run:`
//! steps, shell scripts and Makefile/justfile recipes. Each rule checks a parsed
//! [`Script`](crate::lang::shell::Script) and is told how its spans map to the file.

pub mod curl_pipe_shell;
pub mod tool_install_unpinned;

/// Downloads that write to standard output: `curl` (unless `-o`/`-O`/`--output` send the body to a
/// file) and `wget -O-`/`-qO-`/`--output-document=-`.
pub fn downloads_to_stdout(command: &crate::lang::shell::Command) -> bool {
    let args = command.program_args();
    match command.program_name() {
        Some("curl") => !args.iter().any(|w| {
            let t = w.text.as_str();
            t == "-o"
                || t == "-O"
                || t.starts_with("--output")
                || t == "--remote-name"
                || t == "--remote-name-all"
                || (t.starts_with('-')
                    && !t.starts_with("--")
                    && (t.contains('o') || t.contains('O')))
        }),
        Some("wget") => args.iter().enumerate().any(|(i, w)| {
            let t = w.text.as_str();
            t == "--output-document=-"
                || t == "-O-"
                || (t.starts_with('-') && !t.starts_with("--") && t.ends_with("O-"))
                || ((t == "-O"
                    || t == "--output-document"
                    || (t.starts_with('-') && !t.starts_with("--") && t.ends_with('O')))
                    && args.get(i + 1).is_some_and(|n| n.text == "-"))
        }),
        _ => false,
    }
}
