use crate::lang::rust_service::{ChannelSend, ChannelSite};
use crate::project::{Project, RustFileFacts};
use crate::rules::rust::service::{handler_bodies, innermost_fn, HandlerBody};
use crate::rules::{rule_doc, Check, Ctx, Rule};
use crate::source::FileId;

pub static RULE: Rule = Rule {
    name: "unbounded-channel",
    doc: rule_doc!("unbounded-channel"),
    checks: &[Check::Project(check)],
    options: None,
};

const HELP: &str = "use a bounded channel (`tokio::sync::mpsc::channel(n)`, `flume::bounded(n)`, `crossbeam_channel::bounded(n)`) so producers wait or fail when the consumer falls behind";

const GENERIC_FIELDS: &[&str] = &[
    "sender", "tx", "sink", "channel", "chan", "queue", "inner", "0",
];

/// Where a channel is fed from per request or per message.
struct Hot {
    file: FileId,
    send: ChannelSend,
    why: String,
}

fn check(project: &Project, cx: &mut Ctx) {
    for package in project.rust_packages() {
        let handlers = handler_bodies(&package);
        for f in &package {
            for site in &f.facts.service.channels {
                let ctor = site.what.rsplit("::").take(2).collect::<Vec<_>>();
                let ctor = format!(
                    "{}::{}",
                    ctor.get(1).unwrap_or(&""),
                    ctor.first().unwrap_or(&"")
                );
                match hot_send(&package, &handlers, f, site) {
                    Some(hot) => {
                        cx.report_in(
                            f.file,
                            site.span.clone(),
                            format!("this `{ctor}` channel has no capacity limit and is fed {}: when the consumer falls behind, messages pile up in memory until the process is killed", hot.why),
                        )
                        .related(hot.file, hot.send.span.clone(), "sent here")
                        .help(HELP);
                    }
                    None => {
                        cx.report_in(
                            f.file,
                            site.span.clone(),
                            format!("this `{ctor}` channel has no capacity limit: if its consumer is slower than its producers it grows without bound"),
                        )
                        .help(HELP)
                        .info();
                    }
                }
            }
        }
    }
}

fn hot_send<'p>(
    package: &[&'p RustFileFacts],
    handlers: &[HandlerBody<'p>],
    file: &'p RustFileFacts,
    site: &ChannelSite,
) -> Option<Hot> {
    // The sender, in the function that made it, sent to from a message loop.
    if let Some(sender) = &site.sender {
        let home = innermost_fn(file, site.span.start).map(|x| x.body.clone());
        for send in file.sends_to(&[sender.as_str()]) {
            let same_fn = innermost_fn(file, send.span.start).map(|x| x.body.clone()) == home;
            if send.name == *sender && send.in_consumer_loop && same_fn {
                return Some(Hot {
                    file: file.file,
                    send,
                    why: "once per message of a consumer loop".into(),
                });
            }
        }
    }
    // The sender stored in a struct field, and that field sent to per request or per message.
    let fields: Vec<&str> = site.fields.iter().map(String::as_str).collect();
    for f in package {
        for send in f.sends_to(&fields) {
            // A generic field name (`sender`, `tx`) names many structs' fields: only trust it in
            // the file that made the channel.
            if GENERIC_FIELDS.contains(&send.name.as_str()) && f.file != file.file {
                continue;
            }
            if send.in_consumer_loop {
                return Some(Hot {
                    file: f.file,
                    send,
                    why: "once per message of a consumer loop".into(),
                });
            }
            if let Some(h) = handlers
                .iter()
                .find(|h| h.file == f.file && h.range.contains(&send.span.start))
            {
                let why = match h.name {
                    Some(n) => format!("from the request handler `{n}`"),
                    None => "from a request handler".into(),
                };
                return Some(Hot {
                    file: f.file,
                    send,
                    why,
                });
            }
        }
    }
    None
}
