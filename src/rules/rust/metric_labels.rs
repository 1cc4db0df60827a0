//! Metric labels as the metrics libraries declare them — prometheus `*_vec!` macros and `*Vec::new`,
//! `with_label_values`, the `metrics` crate's `counter!`/`gauge!`/`histogram!`, OpenTelemetry
//! `KeyValue::new` on instrument calls, prometheus-client `EncodeLabelSet` structs — for the two
//! label rules.

use std::ops::Range;

use proc_macro2::TokenTree;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Expr, Token};

use crate::lang::rust::{expr_start, Chain, Cx};
use crate::rules::rust::support::{let_init, squeezed};

/// One label: its key when known, and what its value is.
pub struct Label {
    pub key: Option<(String, Range<usize>)>,
    pub value: Option<Value>,
}

pub struct Value {
    pub span: Range<usize>,
    /// A literal: one series, whatever the key.
    pub constant: bool,
    /// Taken from the raw request path (`uri().path()`, actix `req.path()`).
    pub raw_path: bool,
}

const PROM_VECS: &[&str] = &[
    "IntCounterVec",
    "CounterVec",
    "IntGaugeVec",
    "GaugeVec",
    "HistogramVec",
];

/// Function bodies the metric-label rules read (`RustTriggers`): prometheus `register_*_vec!`
/// macros, `*Vec::new` and `with_label_values`, the `metrics` macros, and OpenTelemetry
/// `KeyValue`s (instrument calls without one carry no labels). Label structs are items, always
/// parsed.
pub const TRIGGERS: crate::rules::RustTriggers = &[
    "prometheus:register_*_vec!",
    "prometheus:IntCounterVec",
    "prometheus:CounterVec",
    "prometheus:IntGaugeVec",
    "prometheus:GaugeVec",
    "prometheus:HistogramVec",
    "prometheus:with_label_values",
    "metrics:counter!",
    "metrics:gauge!",
    "metrics:histogram!",
    "opentelemetry:KeyValue",
];

/// Labels in a macro call: `register_*_vec!(.., &["k", ..])` and `counter!("m", "k" => v)`.
pub fn from_macro(w: &Cx<'_>, mac: &syn::Macro) -> Vec<Label> {
    let Some(name) = mac.path.segments.last().map(|s| s.ident.to_string()) else {
        return Vec::new();
    };
    if name.starts_with("register_") && name.ends_with("_vec") && w.file.uses_crate("prometheus") {
        let Ok(args) = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(mac.tokens.clone())
        else {
            return Vec::new();
        };
        return args.iter().flat_map(|a| array_keys(w, a)).collect();
    }
    if matches!(name.as_str(), "counter" | "gauge" | "histogram") && w.file.uses_crate("metrics") {
        let mut labels = metrics_pairs(w, mac);
        // `counter!("name", &labels)` with `let labels = [("k", v), ..]` or `[Label::new("k", v)]`.
        if let Ok(args) = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(mac.tokens.clone())
        {
            for arg in args.iter().skip(1) {
                labels.extend(array_elems(w, arg).into_iter().filter_map(|el| pair(w, el)));
            }
        }
        return labels;
    }
    Vec::new()
}

/// Labels in a call chain: `IntCounterVec::new(opts, &["k"])`, `.with_label_values(&[v])`,
/// `counter.add(1, &[KeyValue::new("k", v)])`.
pub fn from_chain(w: &Cx<'_>, chain: &Chain<'_>) -> Vec<Label> {
    let mut out = Vec::new();
    if let Some(call) = chain.base_call() {
        let is_vec_new = w.file.uses_crate("prometheus")
            && w.call_paths(call).iter().any(|p| {
                p.starts_with("prometheus::")
                    && PROM_VECS.iter().any(|v| p.ends_with(&format!("{v}::new")))
            });
        if is_vec_new {
            if let Some(labels) = call.args.iter().nth(1) {
                out.extend(array_keys(w, labels));
            }
        }
    }
    for m in chain.methods() {
        if m.method == "with_label_values" {
            for arg in &m.args {
                for e in array_elems(w, arg) {
                    out.push(Label {
                        key: None,
                        value: Some(value_of(w, e)),
                    });
                }
            }
        }
        if (m.method == "add" || m.method == "record") && w.file.uses_crate("opentelemetry") {
            for arg in &m.args {
                out.extend(key_values(w, arg));
            }
        }
    }
    out
}

/// `#[derive(EncodeLabelSet)] struct Labels { user_id: String }`: each field is a label key.
pub fn from_struct(w: &Cx<'_>, s: &syn::ItemStruct) -> Vec<Label> {
    let derives = s.attrs.iter().any(|a| {
        a.path().is_ident("derive")
            && matches!(&a.meta, syn::Meta::List(l) if l.tokens.clone().into_iter().any(|t| matches!(t, TokenTree::Ident(i) if i == "EncodeLabelSet")))
    });
    if !derives {
        return Vec::new();
    }
    // Exemplar labels (`CounterWithExemplar<TraceLabel>`) ride along with a sample; they do not
    // make series, and a trace id is what they are for.
    let name = s.ident.to_string();
    let text = squeezed(&w.file.text);
    if text.contains(&format!("Exemplar<{name}>")) || text.contains(&format!("Exemplars<{name}>")) {
        return Vec::new();
    }
    s.fields
        .iter()
        .filter_map(|f| f.ident.as_ref())
        .map(|i| Label {
            key: Some((i.to_string(), w.file.span(i.span()))),
            value: None,
        })
        .collect()
}

/// The elements of `&["a", "b"]`, `["a"]` or `vec!["a"]`, following a local `let`.
fn array_elems<'e>(w: &Cx<'e>, e: &'e Expr) -> Vec<&'e Expr> {
    match e {
        Expr::Reference(r) => array_elems(w, &r.expr),
        Expr::Array(a) => a.elems.iter().collect(),
        Expr::Path(p) => match (p.path.get_ident(), w.current_fn()) {
            (Some(name), Some(f)) => match let_init(f.block, &name.to_string()) {
                Some(init) if !matches!(init, Expr::Path(_)) => array_elems(w, init),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// `("k", v)` or `Label::new("k", v)`.
fn pair(w: &Cx<'_>, e: &Expr) -> Option<Label> {
    let (k, v) = match e {
        Expr::Tuple(t) if t.elems.len() == 2 => (t.elems.first()?, t.elems.last()?),
        Expr::Call(c) if c.args.len() == 2 => {
            let Expr::Path(p) = &*c.func else { return None };
            let segs = crate::lang::rust::path_segments(&p.path);
            if !segs.ends_with(&["Label".to_string(), "new".to_string()]) {
                return None;
            }
            (c.args.first()?, c.args.last()?)
        }
        _ => return None,
    };
    Some(Label {
        key: key_of(w, k),
        value: Some(value_of(w, v)),
    })
}

fn array_keys(w: &Cx<'_>, e: &Expr) -> Vec<Label> {
    array_elems(w, e)
        .into_iter()
        .filter_map(|el| key_of(w, el))
        .map(|key| Label {
            key: Some(key),
            value: None,
        })
        .collect()
}

/// A key written as a string literal or as a `const` of this file.
fn key_of(w: &Cx<'_>, e: &Expr) -> Option<(String, Range<usize>)> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some((s.value(), w.file.span(s.span()))),
        Expr::Path(p) => {
            let name = p.path.segments.last()?.ident.to_string();
            let value = w.file.str_const(&name)?.to_string();
            Some((value, w.file.span(p.path.segments.last()?.ident.span())))
        }
        _ => None,
    }
}

/// `KeyValue::new("k", v)` anywhere in an instrument call's argument (through a local `let`).
fn key_values(w: &Cx<'_>, arg: &Expr) -> Vec<Label> {
    let mut exprs: Vec<&Expr> = vec![arg];
    if let (Expr::Reference(r), Some(f)) = (arg, w.current_fn()) {
        if let Expr::Path(p) = &*r.expr {
            if let Some(init) = p
                .path
                .get_ident()
                .and_then(|n| let_init(f.block, &n.to_string()))
            {
                exprs.push(init);
            }
        }
    }
    struct Calls<'e>(Vec<&'e syn::ExprCall>);
    impl<'e> Visit<'e> for Calls<'e> {
        fn visit_expr_call(&mut self, c: &'e syn::ExprCall) {
            self.0.push(c);
            syn::visit::visit_expr_call(self, c);
        }
    }
    let mut calls = Calls(Vec::new());
    for e in exprs {
        calls.visit_expr(e);
    }
    calls
        .0
        .into_iter()
        .filter(|c| {
            w.call_paths(c)
                .iter()
                .any(|p| p.starts_with("opentelemetry") && p.ends_with("KeyValue::new"))
        })
        .filter_map(|c| {
            let key = key_of(w, c.args.first()?)?;
            let value = c.args.iter().nth(1).map(|v| value_of(w, v));
            Some(Label {
                key: Some(key),
                value,
            })
        })
        .collect()
}

/// `"k" => v` pairs of a `metrics` macro; keys may be literals or constants.
fn metrics_pairs(w: &Cx<'_>, mac: &syn::Macro) -> Vec<Label> {
    let tokens: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < tokens.len() {
        let arrow = matches!((&tokens[i + 1], &tokens[i + 2]), (TokenTree::Punct(a), TokenTree::Punct(b)) if a.as_char() == '=' && b.as_char() == '>');
        if !arrow {
            i += 1;
            continue;
        }
        let key = match &tokens[i] {
            TokenTree::Literal(l) => {
                syn::parse2::<syn::LitStr>(TokenTree::Literal(l.clone()).into())
                    .ok()
                    .map(|s| (s.value(), w.file.span(l.span())))
            }
            TokenTree::Ident(id) => w
                .file
                .str_const(&id.to_string())
                .map(|v| (v.to_string(), w.file.span(id.span()))),
            _ => None,
        };
        let start = i + 3;
        let mut end = start;
        while end < tokens.len()
            && !matches!(&tokens[end], TokenTree::Punct(p) if p.as_char() == ',')
        {
            end += 1;
        }
        let value_tokens: proc_macro2::TokenStream = tokens[start..end].iter().cloned().collect();
        let value = syn::parse2::<Expr>(value_tokens)
            .ok()
            .map(|e| value_of(w, &e));
        out.push(Label { key, value });
        i = end;
    }
    out
}

fn value_of(w: &Cx<'_>, e: &Expr) -> Value {
    let span = expr_start(e).map_or(0..0, |s| w.file.span(s));
    let constant = matches!(e, Expr::Lit(_))
        || matches!(e, Expr::Reference(r) if matches!(&*r.expr, Expr::Lit(_)));
    Value {
        span,
        constant,
        raw_path: is_raw_path(w, e, 0),
    }
}

/// `req.uri().path()`, `request.path()`, `parts.uri.path().to_string()`, `OriginalUri(uri)`, or a
/// local bound to one of these.
fn is_raw_path(w: &Cx<'_>, e: &Expr, depth: u8) -> bool {
    struct Find(bool);
    impl<'ast> Visit<'ast> for Find {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if m.method == "path" && m.args.is_empty() {
                let recv = &*m.receiver;
                let via_uri = matches!(recv, Expr::MethodCall(r) if r.method == "uri")
                    || matches!(recv, Expr::Field(f) if matches!(&f.member, syn::Member::Named(n) if n == "uri"));
                let on_request = matches!(recv, Expr::Path(p) if p.path.get_ident().is_some_and(|i| {
                    let n = i.to_string();
                    n == "req" || n == "request" || n.ends_with("_req") || n.ends_with("_request")
                }));
                self.0 |= via_uri || on_request;
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            self.0 |= i == "OriginalUri";
        }
    }
    let mut f = Find(false);
    f.visit_expr(e);
    if f.0 {
        return true;
    }
    // One `let` away: `let path = req.uri().path().to_owned(); .. "path" => path`.
    if depth == 0 {
        let local = match e {
            Expr::Path(p) => p.path.get_ident(),
            Expr::Reference(r) => match &*r.expr {
                Expr::Path(p) => p.path.get_ident(),
                _ => None,
            },
            Expr::MethodCall(m) => match &*m.receiver {
                Expr::Path(p) => p.path.get_ident(),
                _ => None,
            },
            _ => None,
        };
        if let (Some(name), Some(func)) = (local, w.current_fn()) {
            if let Some(init) = let_init(func.block, &name.to_string()) {
                return is_raw_path(w, init, depth + 1);
            }
        }
    }
    false
}
