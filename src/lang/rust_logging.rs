//! What log and print macros write: secret-named values and `Debug`-formatted variables, read
//! from the macro's tokens (their bodies are format strings and tracing field lists, not
//! expressions syn can parse as a whole).

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};

use crate::lang::rust::path_segments;
use crate::lang::words::{last_two, words};

/// tracing and log macros, and std's macros that print to standard error. `println!`/`print!`
/// are left out: standard output is a program's output, and a CLI that prints the token it was
/// asked to generate is doing its job.
pub const LOG_MACROS: &[&str] = &[
    "trace", "debug", "info", "warn", "error", "event", "log", "eprintln", "eprint",
];

/// What the logging facts need of bodies (`RustTriggers`): log macros that format with `Debug`,
/// noted rather than parsed (`rust_scan::LOGS_DEBUG`) — only packages with a leaky struct ask.
pub const TRIGGERS: &[&str] = &[crate::lang::rust_scan::LOGS_DEBUG];

/// Whether a macro path is a log or print macro (`info!`, `tracing::warn!`, `log::error!`).
pub fn is_log_macro(path: &syn::Path) -> bool {
    let segs = path_segments(path);
    match segs.as_slice() {
        [name] => LOG_MACROS.contains(&name.as_str()),
        [krate, name] => {
            matches!(krate.as_str(), "tracing" | "log" | "std")
                && LOG_MACROS.contains(&name.as_str())
        }
        _ => false,
    }
}

/// Whether an identifier names a secret: its last word (or last two) is `password`, `secret`,
/// `token`, `api_key`, `private_key`, `credentials`, `cleartext` (a password before hashing), ... (`db_password`, `client_secret`,
/// `accessToken`), but not `secret_name`, `page_token`, `token_count` or `cancel_token`.
pub fn is_secret_name(ident: &str) -> bool {
    let words = words(ident);
    let (Some(last), before) = last_two(&words) else {
        return false;
    };
    // `has_access_token`, `is_secret`, `no_password`: a flag about the secret.
    if words.iter().any(|w| {
        matches!(
            w.as_str(),
            "has"
                | "is"
                | "no"
                | "with"
                | "without"
                | "use"
                | "uses"
                | "needs"
                | "requires"
                | "missing"
        )
    }) {
        return false;
    }
    match last {
        "password" | "passwd" | "passphrase" | "secret" | "credential" | "credentials"
        | "apikey" | "cleartext" => true,
        // A bare `token` is as often an event-loop, lexer, query or pagination token as a
        // credential: only a qualified one (`access_token`, `api_token`) names a secret.
        "token" => before.is_some_and(|q| {
            !matches!(
                q,
                "page" | "next" | "continuation" | "cancel" | "cancellation" | "sync" | "csrf"
            )
        }),
        "key" => matches!(
            before,
            Some("api" | "private" | "secret" | "signing" | "encryption" | "master")
        ),
        "url" | "uri" | "dsn" => {
            matches!(
                before,
                Some("database" | "db" | "postgres" | "pg" | "mysql" | "connection")
            ) || last == "dsn"
        }
        "string" => before == Some("connection"),
        _ => false,
    }
}

/// A value a log macro writes.
pub struct Logged {
    /// The identifier as written (`password`, `self.api_key` → `api_key`).
    pub name: String,
    pub span: Span,
    /// Formatted with `Debug` (`?x`, `{:?}`, `{x:?}`).
    pub debug: bool,
    /// A plain local variable (not a field or method result).
    pub local: bool,
    /// The local variable that is formatted, when it is one (`p` in `password = %p`).
    pub var: Option<String>,
}

/// Methods whose result says nothing about a secret's value.
const HARMLESS: &[&str] = &[
    "len", "is_some", "is_none", "is_empty", "is_ok", "is_err", "count", "chars", "hash",
];

/// Every identifier a log macro's arguments format, with whether `Debug` is used: tracing fields
/// (`key = value`, `%x`, `?x`), positional format arguments and inline `{name}` arguments.
/// A field key counts as the value it names unless the value is a literal.
pub fn logged_values(tokens: TokenStream) -> Vec<Logged> {
    let flat: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::new();
    let mut format_debug: Vec<bool> = Vec::new();
    let mut positional = 0usize;
    let mut after_format = false;
    let mut i = 0;
    while i < flat.len() {
        match &flat[i] {
            TokenTree::Literal(l) => {
                let text = l.to_string();
                if (text.starts_with('"') || text.starts_with('r')) && !after_format {
                    format_debug = format_specs(&text, l.span(), &mut out);
                    after_format = true;
                }
                i += 1;
            }
            TokenTree::Ident(id) => {
                let name = id.to_string();
                let prev = i.checked_sub(1).and_then(|p| flat.get(p));
                let prev_punct =
                    |c: char| matches!(prev, Some(TokenTree::Punct(p)) if p.as_char() == c);
                let next_punct = |k: usize, c: char| matches!(flat.get(i + k), Some(TokenTree::Punct(p)) if p.as_char() == c);
                // `key = value`: the key names the value, and so may the value.
                if next_punct(1, '=') && !next_punct(2, '=') && !next_punct(2, '>') {
                    let end = skip_to_comma(&flat, i + 2);
                    let value = &flat[i + 2..end];
                    let debug = next_punct(2, '?');
                    if !hides_value(value) {
                        let v = last_value(value);
                        out.push(Logged {
                            name,
                            span: id.span(),
                            debug,
                            local: v.as_ref().is_some_and(|v| v.local),
                            var: v.as_ref().filter(|v| v.local).map(|v| v.name.clone()),
                        });
                        // `request_id = %client_token`: the key says what the value is.
                        let key_is_id = words(&out[out.len() - 1].name)
                            .last()
                            .is_some_and(|w| w == "id");
                        if let Some(v) = v.filter(|_| !key_is_id) {
                            out.push(Logged { debug, ..v });
                        }
                    }
                    i = end;
                    continue;
                }
                // `%x`, `?x`, `x`, `self.x`, `cfg.db.password` up to the comma.
                let debug_sigil = prev_punct('?');
                let end = skip_to_comma(&flat, i);
                let arg = &flat[i..end];
                let is_positional = after_format;
                let debug = debug_sigil
                    || (is_positional && format_debug.get(positional).copied().unwrap_or(false));
                if let Some(v) = last_value(arg) {
                    out.push(Logged { debug, ..v });
                }
                if is_positional {
                    positional += 1;
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// The value an argument's tokens end with: `self.cfg.password` → `password`, `pwd.len()` →
/// nothing, `redact(token)` → nothing.
fn last_value(arg: &[TokenTree]) -> Option<Logged> {
    let mut last: Option<Logged> = None;
    let mut k = 0;
    let mut dotted = false;
    while k < arg.len() {
        match &arg[k] {
            TokenTree::Ident(id) => {
                let name = id.to_string();
                let called = matches!(arg.get(k + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis);
                if called {
                    // A function or method call: harmless ones hide the value; any other call
                    // (a getter `token()`) may return it.
                    if HARMLESS.contains(&name.as_str())
                        || !dotted
                        || name.contains("redact")
                        || name.contains("mask")
                    {
                        return None;
                    }
                }
                if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    return None;
                }
                last = Some(Logged {
                    var: (!dotted).then(|| name.clone()),
                    name,
                    span: id.span(),
                    debug: false,
                    local: !dotted,
                });
                k += 1;
            }
            TokenTree::Punct(p) if p.as_char() == '.' => {
                dotted = true;
                k += 1;
            }
            TokenTree::Punct(p) if p.as_char() == ',' => break,
            TokenTree::Punct(p) if matches!(p.as_char(), '&' | '*' | '%' | '?') => k += 1,
            TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis => k += 1,
            _ => return None,
        }
    }
    last
}

/// A field value that cannot carry the secret: a literal, a negation, or the result of a harmless
/// method (`!password.is_empty()`, `token.len()`).
fn hides_value(value: &[TokenTree]) -> bool {
    match value.first() {
        Some(TokenTree::Literal(_)) => return true,
        Some(TokenTree::Punct(p)) if p.as_char() == '!' => return true,
        _ => {}
    }
    value.iter().any(|t| {
        matches!(t, TokenTree::Ident(i) if HARMLESS.contains(&i.to_string().as_str()) || i.to_string().contains("redact") || i.to_string().contains("mask"))
    })
}

fn skip_to_comma(flat: &[TokenTree], from: usize) -> usize {
    let mut j = from;
    while j < flat.len() {
        if matches!(&flat[j], TokenTree::Punct(p) if p.as_char() == ',') {
            return j + 1;
        }
        j += 1;
    }
    j
}

/// Reads a format string: inline `{name}` / `{name:?}` arguments go to `out`; returns, for each
/// positional `{}`, whether it is `Debug`.
fn format_specs(lit: &str, span: Span, out: &mut Vec<Logged>) -> Vec<bool> {
    let mut positional = Vec::new();
    let mut chars = lit.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '{' {
            continue;
        }
        if matches!(chars.peek(), Some((_, '{'))) {
            chars.next();
            continue;
        }
        let mut spec = String::new();
        for (_, c) in chars.by_ref() {
            if c == '}' {
                break;
            }
            spec.push(c);
        }
        let (name, fmt) = spec.split_once(':').unwrap_or((spec.as_str(), ""));
        let debug = fmt.contains('?');
        if name.is_empty() || name.chars().all(|c| c.is_ascii_digit()) {
            positional.push(debug);
        } else if name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            out.push(Logged {
                name: name.to_string(),
                span,
                debug,
                local: true,
                var: Some(name.to_string()),
            });
        }
    }
    positional
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> Vec<(String, bool)> {
        let tokens: TokenStream = src.parse().expect("tokens");
        logged_values(tokens)
            .into_iter()
            .map(|l| (l.name, l.debug))
            .collect()
    }

    #[test]
    fn secret_names() {
        for yes in [
            "password",
            "db_password",
            "clientSecret",
            "API_KEY",
            "access_token",
            "refresh_token",
            "database_url",
            "dsn",
            "private_key",
        ] {
            assert!(is_secret_name(yes), "{yes}");
        }
        for no in [
            "secret_name",
            "token",
            "page_token",
            "token_count",
            "has_access_token",
            "cancel_token",
            "key",
            "url",
            "monkey",
        ] {
            assert!(!is_secret_name(no), "{no}");
        }
    }

    #[test]
    fn reads_fields_positional_and_inline_arguments() {
        assert_eq!(
            names(r#"password = %p, "login""#),
            vec![("password".into(), false), ("p".into(), false)]
        );
        assert_eq!(names(r#"?cfg, "starting""#), vec![("cfg".into(), true)]);
        assert_eq!(
            names(r#""{} {:?}", user, self.token"#),
            vec![("user".into(), false), ("token".into(), true)]
        );
        assert_eq!(
            names(r#""{api_key:?} {n}""#),
            vec![("api_key".into(), true), ("n".into(), false)]
        );
        assert!(names(r#""{}", password.len()"#).is_empty());
        assert!(names(r#"token = "redacted", "x""#).is_empty());
        assert!(names(r#""{}", Error::InvalidToken"#).is_empty());
    }
}

/// What the files of a package tell about `Debug` output that leaks secrets.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct LoggingFacts {
    /// `#[derive(Debug)]` structs with secret-named string fields: name and those fields.
    pub leaky_structs: Vec<(String, Vec<String>)>,
    /// Log macros that `Debug`-format a local variable whose type is known, in the bodies that
    /// were parsed: read them through `RustFileFacts::debug_logged`.
    pub debug_logged: Vec<DebugLogged>,
    /// Functions whose bodies were not parsed and hold a log macro that formats with `Debug`.
    pub unread: Vec<UnreadDebugLogs>,
}

/// A function whose body was not parsed (`rust_scan::LOGS_DEBUG`) and holds a log macro that
/// formats with `Debug`: a variable of one of the types it names may be logged there.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UnreadDebugLogs {
    /// From `fn` to the closing brace.
    pub function: std::ops::Range<usize>,
    /// Its identifiers that start with an upper-case letter, sorted, once each.
    pub types: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DebugLogged {
    /// The macro invocation.
    pub span: std::ops::Range<usize>,
    pub var: String,
    /// The last segment of the variable's type (`Settings`).
    pub ty: String,
}

/// Secret-named fields of a struct that derives `Debug`, when their type prints its content
/// (`String`, `Option<String>`, `&str`, `Vec<u8>`).
pub fn leaky_fields(s: &syn::ItemStruct) -> Vec<String> {
    let derives_debug = s.attrs.iter().any(|a| {
        a.path().is_ident("derive")
            && matches!(&a.meta, syn::Meta::List(l) if l.tokens.clone().into_iter().any(|t| matches!(t, TokenTree::Ident(i) if i == "Debug")))
    });
    if !derives_debug {
        return Vec::new();
    }
    s.fields
        .iter()
        .filter_map(|f| {
            let name = f.ident.as_ref()?.to_string();
            let names = type_idents(&f.ty);
            let prints = names
                .iter()
                .any(|n| matches!(n.as_str(), "String" | "str" | "u8" | "Url"));
            let redacts = names.iter().any(|n| is_redacting_name(n));
            (is_secret_name(&name) && prints && !redacts).then_some(name)
        })
        .collect()
}

/// A type name that marks a redacting `Debug` (`SecretString`, `Secret<..>`, `Redacted<..>`,
/// `Sensitive<..>`, `Masked<..>`).
pub fn is_redacting_name(name: &str) -> bool {
    ["Secret", "Redact", "Sensitive", "Masked"]
        .iter()
        .any(|r| name.contains(r))
}

/// A type that redacts its `Debug` output: any of its names is a redacting one.
pub fn is_redacting_type(ty: &syn::Type) -> bool {
    type_idents(ty).iter().any(|n| is_redacting_name(n))
}

/// Every identifier in a type (`Option`, `aws`, `Credentials` in `Option<aws::Credentials>`).
pub fn type_idents(ty: &syn::Type) -> Vec<String> {
    use syn::visit::Visit;
    struct Names(Vec<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            self.0.push(i.to_string());
        }
    }
    let mut n = Names(Vec::new());
    n.visit_type(ty);
    n.0
}
