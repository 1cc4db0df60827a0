//! Names split into words, the way identifiers, environment variables and label keys are written:
//! `dbPassword`, `DB_PASSWORD`, `db-password` and `db.password` are all `["db", "password"]`.

/// `dbPassword` / `DB_PASSWORD` / `db-password` → `["db", "password"]`.
pub fn words(ident: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in ident.chars() {
        if c == '_' || c == '-' || c == '.' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The last word and the one before it.
pub fn last_two(words: &[String]) -> (Option<&str>, Option<&str>) {
    let last = words.last().map(String::as_str);
    let before = words
        .len()
        .checked_sub(2)
        .and_then(|i| words.get(i))
        .map(String::as_str);
    (last, before)
}

/// `DB_PASSWORD`, `JWT_SECRET`, `GITHUB_TOKEN`, `STRIPE_API_KEY`, `SENTRY_DSN`,
/// `AWS_SECRET_ACCESS_KEY`; not `PASSWORD_FILE`, `SECRET_NAME`, `TOKEN_URL` or `TOKEN_TTL`. For
/// environment variables and build arguments.
pub fn is_secret_env_name(name: &str) -> bool {
    let words = words(name);
    let (Some(last), before) = last_two(&words) else {
        return false;
    };
    match last {
        "password" | "passwd" | "secret" | "token" | "apikey" | "dsn" | "credentials" => true,
        "key" => matches!(
            before,
            Some("api" | "secret" | "private" | "access" | "signing" | "encryption")
        ),
        _ => false,
    }
}

/// `DATABASE_URL`, `AMQP_URI`, `SENTRY_DSN`: names whose value is a URL that may carry credentials.
pub fn is_connection_url(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.ends_with("_URL") || upper.ends_with("_URI") || upper.ends_with("_DSN")
}

/// `scheme://user:password@host`.
pub fn has_credentials(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.rsplit_once('@').is_some_and(|(userinfo, _)| {
        userinfo
            .split_once(':')
            .is_some_and(|(_, pw)| !pw.is_empty())
    })
}
