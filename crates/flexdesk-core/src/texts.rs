//! Every text the desk shows the customer, as data: a [`Text`] names the message (its [`Text::key`], stable, in
//! camelCase, the key of the `strings` option of the npm package) and carries its parameters ([`Text::params`]).
//! The core decides which message a situation gets; the page may replace the wording (e.g. to translate it):
//! the wasm shell asks the page's `strings` for the key first and falls back to [`Text::english`], built from the
//! English template ([`Text::template`]) with `{name}` placeholders filled in.

use crate::media::decimal;

/// When to try again, as told after a refusal ([`Text::TooManySessions`] and the like): its own message, shown in
/// the refusal's `{retry}` placeholder, so it is translated once for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// No `Retry-After`: "Please try again later."
    Later,
    /// `Retry-After` of 90 seconds or less.
    InAMinute,
    /// `Retry-After` above 90 seconds, in whole minutes rounded up (`{minutes}`).
    InMinutes(u64),
}

impl Retry {
    /// From the auth server's `Retry-After`, in seconds.
    pub fn after(secs: Option<u64>) -> Retry {
        match secs {
            Some(s) if s > 90 => Retry::InMinutes(s.div_ceil(60)),
            Some(_) => Retry::InAMinute,
            None => Retry::Later,
        }
    }

    /// The stable key (the `strings` option's).
    pub fn key(&self) -> &'static str {
        match self {
            Retry::Later => "retryLater",
            Retry::InAMinute => "retryInAMinute",
            Retry::InMinutes(_) => "retryInMinutes",
        }
    }

    /// The English template; `{minutes}` stands for the parameter.
    pub fn template(&self) -> &'static str {
        match self {
            Retry::Later => "Please try again later.",
            Retry::InAMinute => "Please try again in a minute.",
            Retry::InMinutes(_) => "Please try again in about {minutes} minutes.",
        }
    }

    /// The parameters, by placeholder name.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            Retry::InMinutes(m) => vec![("minutes", decimal(*m))],
            _ => Vec::new(),
        }
    }

    /// The English text.
    pub fn english(&self) -> String {
        fill(self.template(), &self.params())
    }
}

/// A message for the customer: which one, and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// The auth server could not be reached (no HTTP status).
    Unreachable,
    /// `too_many_sessions`: the auth server's cap on open chats.
    TooManySessions(Retry),
    /// `rate_limited`: the auth server's rate limit.
    RateLimited(Retry),
    /// `twilio_busy`: Twilio rate limited the auth server.
    TwilioBusy(Retry),
    /// Any other refusal (and, in the npm wrapper, a desk that could not load).
    Unavailable(Retry),
    /// `verification_required`: the auth server wants human verification first.
    VerificationRequired,
    /// `verification_failed`.
    VerificationFailed,
    /// `identity_invalid`: the identity token was refused (the npm wrapper also uses it when `identityToken` fails).
    IdentityInvalid,
    /// Flex closed the conversation before an agent joined.
    ClosedBeforeAgent,
    /// The chat could not go on (before an agent joined) and no better reason is known.
    ChatFailed,
    /// A chosen file is empty.
    FileEmpty,
    /// A chosen file is over the limit: `{size}` in MB with one decimal, `{max}` in whole MB.
    FileTooLarge {
        /// The file's size, in bytes.
        size: u64,
        /// The limit, in bytes.
        max: u64,
    },
    /// A chosen file's extension is not allowed: `{type}` (or "(none)"), `{allowed}` (comma-separated).
    FileType {
        /// The file's extension, lower case, without the dot (empty when it has none).
        extension: String,
        /// The allowed extensions, comma-separated.
        allowed: String,
    },
    /// A file could not be delivered.
    FileNotSent,
    /// On the connect card offering this customer's chat open in another tab, or waiting before a reload.
    ResumeChat,
    /// On the connect card of the tab that let the chat go to another tab.
    ContinuedElsewhere,
    /// "Are you still there?": the customer has been silent with an agent in the chat (issue 28).
    IdlePrompt,
    /// The chat was closed because the customer did not answer [`Text::IdlePrompt`].
    IdleClosed,
    /// The chat goes on by SMS to `{phone}` (masked).
    ContinuesBySms {
        /// The number, masked (`crate::phone::mask`).
        phone: String,
    },
}

/// Every key, in the order the documentation lists them (refusals, retry parts, chat, files, tabs).
pub const KEYS: &[&str] = &[
    "unreachable",
    "tooManySessions",
    "rateLimited",
    "twilioBusy",
    "unavailable",
    "retryLater",
    "retryInAMinute",
    "retryInMinutes",
    "verificationRequired",
    "verificationFailed",
    "identityInvalid",
    "closedBeforeAgent",
    "chatFailed",
    "fileEmpty",
    "fileTooLarge",
    "fileType",
    "fileNotSent",
    "resumeChat",
    "continuedElsewhere",
    "idlePrompt",
    "idleClosed",
    "continuesBySms",
];

impl Text {
    /// The stable key (the `strings` option's).
    pub fn key(&self) -> &'static str {
        match self {
            Text::Unreachable => "unreachable",
            Text::TooManySessions(_) => "tooManySessions",
            Text::RateLimited(_) => "rateLimited",
            Text::TwilioBusy(_) => "twilioBusy",
            Text::Unavailable(_) => "unavailable",
            Text::VerificationRequired => "verificationRequired",
            Text::VerificationFailed => "verificationFailed",
            Text::IdentityInvalid => "identityInvalid",
            Text::ClosedBeforeAgent => "closedBeforeAgent",
            Text::ChatFailed => "chatFailed",
            Text::FileEmpty => "fileEmpty",
            Text::FileTooLarge { .. } => "fileTooLarge",
            Text::FileType { .. } => "fileType",
            Text::FileNotSent => "fileNotSent",
            Text::ResumeChat => "resumeChat",
            Text::ContinuedElsewhere => "continuedElsewhere",
            Text::IdlePrompt => "idlePrompt",
            Text::IdleClosed => "idleClosed",
            Text::ContinuesBySms { .. } => "continuesBySms",
        }
    }

    /// The English template; `{name}` stands for a parameter.
    pub fn template(&self) -> &'static str {
        match self {
            Text::Unreachable => "The chat service cannot be reached. Check your connection and try again.",
            Text::TooManySessions(_) => "Too many chats with an agent are open right now. {retry}",
            Text::RateLimited(_) => "Too many requests in a short time. {retry}",
            Text::TwilioBusy(_) => "Our agents' system is busy. {retry}",
            Text::Unavailable(_) => "Chat with an agent is not available right now. {retry}",
            Text::VerificationRequired => "Please confirm you are not a robot before asking for an agent.",
            Text::VerificationFailed => "The check that you are not a robot failed. Please try again.",
            Text::IdentityInvalid => "We could not confirm that you are signed in. Please sign in again, then ask for an agent.",
            Text::ClosedBeforeAgent => "The chat was closed before an agent joined. Please try again later.",
            Text::ChatFailed => "The chat with an agent could not be continued. Please try again later.",
            Text::FileEmpty => "This file is empty.",
            Text::FileTooLarge { .. } => "This file is {size} MB; files can be at most {max} MB.",
            Text::FileType { .. } => "Files of type \"{type}\" cannot be sent. Allowed: {allowed}.",
            Text::FileNotSent => "The file could not be sent.",
            Text::ResumeChat => "You have a chat with an agent open. Connect to carry on with it here.",
            Text::ContinuedElsewhere => "Your chat with an agent goes on in another tab. Connect to carry on with it here instead.",
            Text::IdlePrompt => "Are you still there? Send a message to stay in the chat.",
            Text::IdleClosed => "The chat was closed because there was no answer.",
            Text::ContinuesBySms { .. } => "This chat continues by SMS to {phone}: the agent's replies reach your phone, and you can answer there.",
        }
    }

    /// When to try again, for the refusals that say so (their `{retry}`).
    pub fn retry(&self) -> Option<Retry> {
        match self {
            Text::TooManySessions(r) | Text::RateLimited(r) | Text::TwilioBusy(r) | Text::Unavailable(r) => Some(*r),
            _ => None,
        }
    }

    /// The parameters, by placeholder name, without `retry` (see [`Text::render`]). Numbers as decimal digits:
    /// `core::fmt` costs the wasm desk kilobytes.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            Text::FileTooLarge { size, max } => {
                // Integer tenths of a MB: float formatting would add kilobytes to the wasm file.
                let tenths = size.saturating_mul(10) / (1024 * 1024);
                let size = decimal(tenths / 10) + "." + &decimal(tenths % 10);
                vec![("size", size), ("max", decimal(max / (1024 * 1024)))]
            }
            Text::FileType { extension, allowed } => {
                let shown = if extension.is_empty() { "(none)" } else { extension };
                vec![("type", shown.into()), ("allowed", allowed.clone())]
            }
            Text::ContinuesBySms { phone } => vec![("phone", phone.clone())],
            _ => Vec::new(),
        }
    }

    /// The key and every parameter, as the wasm desk hands them to the page's wording (`js/index.js`, which
    /// holds the English defaults): a refusal's `retry` is the key of its retry part, whose parameters
    /// (`minutes`) are included.
    pub fn data(&self) -> (&'static str, Vec<(&'static str, String)>) {
        let mut params = self.params();
        if let Some(r) = self.retry() {
            params.push(("retry", r.key().into()));
            params.extend(r.params());
        }
        (self.key(), params)
    }

    /// The text with the page's wording where it has one: `custom(key, params)` answers a replacement or `None`
    /// (then the English template is used). The `{retry}` part is rendered first, the same way, and passed as
    /// the `retry` parameter.
    pub fn render(&self, custom: &dyn Fn(&'static str, &[(&'static str, String)]) -> Option<String>) -> String {
        let mut params = self.params();
        if let Some(r) = self.retry() {
            let p = r.params();
            params.push(("retry", custom(r.key(), &p).unwrap_or_else(|| fill(r.template(), &p))));
        }
        custom(self.key(), &params).unwrap_or_else(|| fill(self.template(), &params))
    }

    /// The English text.
    pub fn english(&self) -> String {
        self.render(&|_, _| None)
    }
}

/// `template` with each `{name}` replaced by its parameter; unknown placeholders are kept as written.
pub fn fill(template: &str, params: &[(&str, String)]) -> String {
    // `split_once`, not slicing by index: a slice that could panic brings `core::fmt` into the wasm desk.
    let mut out = String::new();
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        let named = after.split_once('}').and_then(|(name, tail)| params.iter().find(|(n, _)| *n == name).map(|(_, v)| (v, tail)));
        match named {
            Some((value, tail)) => {
                out.push_str(value);
                rest = tail;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders_and_keeps_unknown_ones() {
        assert_eq!(fill("a {x} b {y} {z", &[("x", "1".into()), ("y", "2".into())]), "a 1 b 2 {z");
        assert_eq!(fill("{x}{x}", &[("x", "é".into())]), "éé");
        assert_eq!(fill("{unknown}", &[]), "{unknown}");
    }

    #[test]
    fn english_texts() {
        assert_eq!(Text::TooManySessions(Retry::after(Some(30))).english(), "Too many chats with an agent are open right now. Please try again in a minute.");
        assert_eq!(Text::TwilioBusy(Retry::after(Some(300))).english(), "Our agents' system is busy. Please try again in about 5 minutes.");
        assert_eq!(Text::Unavailable(Retry::Later).english(), "Chat with an agent is not available right now. Please try again later.");
        assert_eq!(Text::FileTooLarge { size: 3 << 20, max: 2 << 20 }.english(), "This file is 3.0 MB; files can be at most 2 MB.");
        assert_eq!(Text::FileType { extension: String::new(), allowed: "pdf".into() }.english(), "Files of type \"(none)\" cannot be sent. Allowed: pdf.");
    }

    #[test]
    fn every_key_is_listed_once() {
        let all = [
            Text::Unreachable,
            Text::TooManySessions(Retry::Later),
            Text::RateLimited(Retry::Later),
            Text::TwilioBusy(Retry::Later),
            Text::Unavailable(Retry::Later),
            Text::VerificationRequired,
            Text::VerificationFailed,
            Text::IdentityInvalid,
            Text::ClosedBeforeAgent,
            Text::ChatFailed,
            Text::FileEmpty,
            Text::FileTooLarge { size: 0, max: 0 },
            Text::FileType { extension: String::new(), allowed: String::new() },
            Text::FileNotSent,
            Text::ResumeChat,
            Text::ContinuedElsewhere,
            Text::IdlePrompt,
            Text::IdleClosed,
            Text::ContinuesBySms { phone: String::new() },
        ];
        let mut keys: Vec<&str> = all.iter().map(Text::key).collect();
        keys.extend([Retry::Later, Retry::InAMinute, Retry::InMinutes(2)].iter().map(Retry::key));
        let mut listed = KEYS.to_vec();
        keys.sort();
        listed.sort();
        assert_eq!(keys, listed);
        // Placeholders in a template are exactly its parameters (plus retry).
        for t in &all {
            let mut names: Vec<&str> = t.params().iter().map(|(n, _)| *n).collect();
            names.extend(t.retry().map(|_| "retry"));
            let filled = fill(t.template(), &names.iter().map(|n| (*n, String::new())).collect::<Vec<_>>());
            assert!(!filled.contains('{'), "{}: {filled}", t.key());
        }
    }

    #[test]
    fn data_carries_the_retry_key_and_its_parameters() {
        assert_eq!(Text::RateLimited(Retry::InMinutes(4)).data(), ("rateLimited", vec![("retry", "retryInMinutes".to_string()), ("minutes", "4".to_string())]));
        assert_eq!(Text::Unavailable(Retry::Later).data(), ("unavailable", vec![("retry", "retryLater".to_string())]));
        assert_eq!(Text::FileTooLarge { size: 5 << 20, max: 4 << 20 }.data(), ("fileTooLarge", vec![("size", "5.0".to_string()), ("max", "4".to_string())]));
        assert_eq!(Text::ChatFailed.data(), ("chatFailed", vec![]));
    }

    #[test]
    fn a_replacement_is_used_for_the_text_and_for_its_retry_part() {
        let custom = |key: &'static str, params: &[(&'static str, String)]| match key {
            "tooManySessions" => Some(fill("Trop de discussions. {retry}", params)),
            "retryInMinutes" => Some(fill("Réessayez dans {minutes} min.", params)),
            _ => None,
        };
        assert_eq!(Text::TooManySessions(Retry::InMinutes(3)).render(&custom), "Trop de discussions. Réessayez dans 3 min.");
        assert_eq!(Text::RateLimited(Retry::InMinutes(3)).render(&custom), "Too many requests in a short time. Réessayez dans 3 min.");
        assert_eq!(Text::FileEmpty.render(&custom), "This file is empty.");
    }
}
