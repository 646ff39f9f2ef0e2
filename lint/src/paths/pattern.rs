//! `entry_points` patterns from the configuration: `crate::api::*`, `*::handle_*`,
//! `my_server::Handler::run`.
//!
//! A pattern is `::`-separated segments matched against a function's path (its crate's name,
//! its modules, its type for a method, its name). `*` inside a segment matches any characters
//! of that segment (`handle_*`); a segment that is `*` alone matches one or more whole segments.
//! A pattern starting with `crate` or with the function's crate name is anchored at the crate
//! root; any other pattern matches the end of the path.

/// One compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryPattern {
    /// As written, for messages.
    pub text: String,
    segments: Vec<String>,
}

impl EntryPattern {
    /// Compiles `text`; an empty pattern or an empty segment is an error.
    pub fn new(text: &str) -> Result<EntryPattern, String> {
        let trimmed = text.trim().trim_start_matches("::");
        let segments: Vec<String> = trimmed.split("::").map(str::to_string).collect();
        if trimmed.is_empty() || segments.iter().any(|s| s.is_empty()) {
            return Err(format!(
                "bad entry_points pattern `{text}`: expected `::`-separated segments such as \
                 `crate::api::*` or `*::handle_*`"
            ));
        }
        Ok(EntryPattern {
            text: text.to_string(),
            segments,
        })
    }

    /// Whether a function with `path` (crate name first) matches.
    pub fn matches(&self, path: &[&str]) -> bool {
        let (first, rest) = match self.segments.split_first() {
            Some(x) => x,
            None => return false,
        };
        if first == "crate" {
            return path.len() > 1 && segments_match(rest, &path[1..]);
        }
        if path.first().is_some_and(|c| c == first) && segments_match(rest, &path[1..]) {
            return true;
        }
        (0..path.len()).any(|start| segments_match(&self.segments, &path[start..]))
    }
}

fn segments_match(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((p, rest)) if p == "*" => (1..=path.len()).any(|n| segments_match(rest, &path[n..])),
        Some((p, rest)) => {
            path.first().is_some_and(|s| glob(p, s)) && segments_match(rest, &path[1..])
        }
    }
}

/// `*` matches any run of characters within one segment.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| glob(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        let p: Vec<&str> = path.split("::").collect();
        EntryPattern::new(pattern).unwrap().matches(&p)
    }

    #[test]
    fn anchored_and_suffix_patterns() {
        assert!(m("crate::api::*", "server::api::create"));
        assert!(m("crate::api::*", "server::api::v1::Handler::create"));
        assert!(!m("crate::api::*", "server::api"));
        assert!(!m("crate::api::*", "server::admin::api::create"));
        assert!(m("server::api::*", "server::api::create"));
        assert!(m("*::handle_*", "server::conn::handle_frame"));
        assert!(m("*::handle_*", "server::handle_frame"));
        assert!(!m("*::handle_*", "server::handle_conn::run"));
        assert!(m("Handler::run", "mini_redis::server::Handler::run"));
        assert!(!m("Handler::run", "mini_redis::server::Handler::run_once"));
        assert!(m("*::Handler::r*n", "mini_redis::server::Handler::run"));
        assert!(EntryPattern::new("").is_err());
        assert!(EntryPattern::new("a::::b").is_err());
    }
}
