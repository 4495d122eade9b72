//! `flexdesk-auth config check FILE`: does an environment file mean the same to every tool that reads it?
//!
//! The server reads `.env` with dotenvy, which strips a ` # comment` after an unquoted value and removes quotes. The
//! tools that usually feed a container or a service do not:
//! - Docker's `--env-file` (and Compose's `env_file` in its legacy format) takes each `KEY=VALUE` line as is: "Lines
//!   beginning with `#` are treated as comments", nothing else is stripped, quotes stay part of the value
//!   (<https://docs.docker.com/reference/cli/docker/container/run/#env>);
//! - systemd's `EnvironmentFile=` ignores lines starting with `#` or `;`, removes surrounding quotes and whitespace,
//!   and keeps a `#` inside a line as part of the value (systemd.exec(5), "EnvironmentFile=",
//!   <https://www.freedesktop.org/software/systemd/man/latest/systemd.exec.html#EnvironmentFile=>).
//!
//! So `TWILIO_AUTH_TOKEN=abc # main account` is `abc` under `.env` and `abc # main account` under Docker and systemd:
//! a secret that silently becomes wrong. The check names every such key and how it differs, never the value itself.

/// One key whose value depends on the tool that reads the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based line number.
    pub line: usize,
    /// The variable's name.
    pub key: String,
    /// What differs, written for an operator; holds no part of the value except a trailing comment.
    pub problem: String,
}

/// How Docker's `--env-file` reads a line: `Some((key, value))` for a variable, `None` for a comment or blank line.
fn docker(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_start();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    line.split_once('=')
}

/// How systemd's `EnvironmentFile=` reads a line (the single-line cases; a trailing backslash continues a line there,
/// which [`check`] reports on its own).
fn systemd(line: &str) -> Option<(&str, String)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
        return None;
    }
    let (key, value) = line.split_once('=')?;
    let value = value.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
        .unwrap_or(value);
    Some((key.trim(), unquoted.to_string()))
}

/// Every key of `text` that dotenvy (the server's own loader) reads differently from Docker or systemd, in file order.
/// An empty list means the file means the same everywhere.
pub fn check(text: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let Some((raw_key, docker_value)) = docker(line) else { continue };
        let key = raw_key.trim().trim_start_matches("export ").trim().to_string();
        let mut problem = |p: String| findings.push(Finding { line: n, key: key.clone(), problem: p });
        if raw_key != key {
            problem(format!("Docker reads the name {raw_key:?}, not {key:?}: write the name alone"));
            continue;
        }
        if line.trim_end().ends_with('\\') {
            problem("ends in a backslash: systemd joins it with the next line".into());
            continue;
        }
        // The server's reading of this one line, on its own (dotenvy parses a line at a time).
        let dotenv = match dotenvy::from_read_iter(line.as_bytes()).next() {
            Some(Ok((_, v))) => v,
            Some(Err(e)) => {
                problem(format!("the server cannot read this line: {e}"));
                continue;
            }
            None => continue,
        };
        let systemd_value = systemd(line).map(|(_, v)| v).unwrap_or_default();
        if docker_value == dotenv && systemd_value == dotenv {
            continue;
        }
        let comment = docker_value.find(" #").or_else(|| docker_value.find("\t#")).map(|at| docker_value[at..].trim());
        problem(match comment {
            Some(c) if !dotenv.contains('#') => {
                format!("inline comment {c:?} becomes part of the value under Docker and systemd: put comments on their own line")
            }
            _ if docker_value.trim() != docker_value => {
                "spaces around the value are kept by Docker: remove them".into()
            }
            _ if docker_value.starts_with(['"', '\'']) => {
                "quotes become part of the value under Docker: write the value without quotes".into()
            }
            _ => format!(
                "read differently: .env gives {} characters, Docker {}, systemd {}",
                dotenv.chars().count(),
                docker_value.chars().count(),
                systemd_value.chars().count()
            ),
        });
    }
    findings
}

/// Runs the check on `path` and prints one line per finding; exit code 0 when clean, 1 with findings, 2 unreadable.
pub fn run(path: &str) -> i32 {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return 2;
        }
    };
    let findings = check(&text);
    for f in &findings {
        println!("{path}:{}: {}: {}", f.line, f.key, f.problem);
    }
    if findings.is_empty() {
        println!("{path}: every value reads the same under .env (this server), Docker --env-file and systemd EnvironmentFile=");
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inline_commented_secret_is_named_without_its_value() {
        let found = check("# Twilio\nTWILIO_AUTH_TOKEN=s3cr3tvalue   # [AUTH_TOKEN]\nPORT=4000\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].line, found[0].key.as_str()), (2, "TWILIO_AUTH_TOKEN"));
        assert!(found[0].problem.contains("# [AUTH_TOKEN]"), "{}", found[0].problem);
        assert!(!found[0].problem.contains("s3cr3t"), "the value never appears: {}", found[0].problem);
    }

    #[test]
    fn quotes_spaces_export_and_continuations_are_named() {
        let found = check("A=\"x\"\nB=x  \nexport C=x\nD=x\\\nE=plain\n# F=x # a commented-out line is no variable\n");
        let keys: Vec<_> = found.iter().map(|f| (f.key.as_str(), f.line)).collect();
        assert_eq!(keys, [("A", 1), ("B", 2), ("C", 3), ("D", 4)], "{found:?}");
        assert!(found[0].problem.contains("quotes"));
        assert!(found[1].problem.contains("spaces"));
        assert!(found[2].problem.contains("export C"));
        assert!(found[3].problem.contains("backslash"));
    }

    #[test]
    fn the_shipped_example_means_the_same_everywhere() {
        let text = include_str!("../../../../.env.example");
        assert_eq!(check(text), [], ".env.example must read the same under Docker and systemd");
        // Also once every commented-out setting is switched on, as an admin does.
        let enabled: String = text.lines().map(|l| l.strip_prefix("# ").filter(|r| r.split_once('=').is_some_and(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))).unwrap_or(l).to_string() + "\n").collect();
        assert_eq!(check(&enabled), [], "uncommented settings of .env.example must read the same too");
    }
}
