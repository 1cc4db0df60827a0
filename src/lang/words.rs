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
