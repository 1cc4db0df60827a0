//! Joins of the service facts across a package: which function bodies handle requests, and what
//! a handler reaches.

use std::ops::Range;

use crate::lang::rust_service::{DependencyCall, FnFact, Handler, Route};
use crate::project::RustFileFacts;
use crate::source::FileId;

/// A body of code that runs per request.
pub struct HandlerBody<'p> {
    pub file: FileId,
    pub range: Range<usize>,
    /// The function's name, or `None` for a closure written in the route.
    pub name: Option<&'p str>,
}

/// Functions named `name` in the package, preferring those in `file`; `None` when the name is
/// ambiguous across other files.
pub fn fns_named<'p>(
    package: &[&'p RustFileFacts],
    file: FileId,
    name: &str,
) -> Vec<(FileId, &'p FnFact)> {
    let all: Vec<(FileId, &FnFact)> = package
        .iter()
        .flat_map(|f| {
            f.facts
                .service
                .fns
                .iter()
                .filter(move |x| x.name == name)
                .map(move |x| (f.file, x))
        })
        .collect();
    let same_file: Vec<_> = all.iter().copied().filter(|(f, _)| *f == file).collect();
    if !same_file.is_empty() {
        return same_file;
    }
    if all.len() == 1 {
        all
    } else {
        Vec::new()
    }
}

/// The bodies that run when `route` (declared in `file`) is requested.
pub fn route_bodies<'p>(
    package: &[&'p RustFileFacts],
    file: FileId,
    route: &'p Route,
) -> Vec<HandlerBody<'p>> {
    let mut out = Vec::new();
    for h in &route.handlers {
        match h {
            Handler::Inline(range) => out.push(HandlerBody {
                file,
                range: range.clone(),
                name: None,
            }),
            Handler::Named(name) => {
                for (f, x) in fns_named(package, file, name) {
                    out.push(HandlerBody {
                        file: f,
                        range: x.body.clone(),
                        name: Some(x.name.as_str()),
                    });
                }
            }
        }
    }
    out
}

/// Every request-handling body of the package: the bodies routes lead to (a handler named in a
/// route is joined by name, and only where the name is unambiguous — see [`fns_named`]), closures
/// in routes, and functions that look like handlers themselves (tonic methods, route attributes).
pub fn handler_bodies<'p>(package: &[&'p RustFileFacts]) -> Vec<HandlerBody<'p>> {
    let mut out: Vec<HandlerBody<'p>> = Vec::new();
    for f in package {
        // A route served only in development is not a production request path.
        for r in f
            .facts
            .service
            .routes
            .iter()
            .filter(|r| !r.development_only)
        {
            out.extend(route_bodies(package, f.file, r));
        }
    }
    for f in package {
        for x in &f.facts.service.fns {
            let known = out.iter().any(|h| h.file == f.file && h.range == x.body);
            if x.is_async && x.is_handler && !known {
                out.push(HandlerBody {
                    file: f.file,
                    range: x.body.clone(),
                    name: Some(x.name.as_str()),
                });
            }
        }
    }
    out
}

/// The innermost function of `facts` whose body contains `at`.
pub fn innermost_fn(facts: &RustFileFacts, at: usize) -> Option<&FnFact> {
    facts
        .facts
        .service
        .fns
        .iter()
        .filter(|x| x.body.contains(&at))
        .min_by_key(|x| x.body.len())
}

/// Database, cache and service calls directly inside `range` of `file` (not in nested functions).
pub fn direct_dependencies<'p>(
    facts: &'p RustFileFacts,
    range: &Range<usize>,
) -> Vec<&'p DependencyCall> {
    let owner = innermost_at_range(facts, range);
    facts
        .service_in(range)
        .dependency_calls
        .iter()
        .filter(|d| range.contains(&d.span.start))
        .filter(|d| innermost_fn(facts, d.span.start).map(|x| x.body.clone()) == owner)
        .collect()
}

fn innermost_at_range(facts: &RustFileFacts, range: &Range<usize>) -> Option<Range<usize>> {
    innermost_fn(facts, range.start).map(|x| x.body.clone())
}
