//! Links to an agent's files that stay openable (issue 23, defect 5). Twilio's temporary media URLs
//! (`content_direct_temporary`) expire after minutes, so a URL read once and put into the web chat breaks: after a
//! while, after a reload, in a restored history. When the auth server offers media links
//! ([`crate::wire::SessionCreated::media_link_query`]), each file is linked as
//! `{authServerUrl}/v1/media/{MediaSid}?{query}`; the server checks the signature and that the media belongs to the
//! signed conversation, then redirects to a fresh temporary URL (docs/auth-server.md, "Agent files").

use super::config::Config;

/// Where a chat's media links point: the auth server and the chat's signed query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLinks<'a> {
    base: &'a str,
    query: &'a str,
}

impl<'a> MediaLinks<'a> {
    /// The chat's links, when the server offered them and the page named the server; `None` otherwise. A query
    /// with anything but the characters the server writes (letters, digits, `=&-_.`) is not used: it goes into a
    /// URL unescaped.
    pub fn of(config: &'a Config, query: Option<&'a str>) -> Option<MediaLinks<'a>> {
        let query = query.filter(|q| !q.is_empty() && q.bytes().all(|b| b.is_ascii_alphanumeric() || b"=&-_.".contains(&b)))?;
        (!config.auth_server_url.is_empty()).then_some(MediaLinks { base: &config.auth_server_url, query })
    }

    /// The link of media `sid`; `None` unless it is a media SID (`ME` and 32 hex digits, Twilio's shape), so
    /// nothing else reaches the URL's path.
    pub fn url(&self, sid: &str) -> Option<String> {
        let b = sid.as_bytes();
        if b.len() != 34 || !sid.starts_with("ME") || !b[2..].iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        // Built by hand, not with `format!`: the desk's wasm carries no `core::fmt`.
        let mut url = String::with_capacity(self.base.len() + self.query.len() + 48);
        url.push_str(self.base);
        url.push_str("/v1/media/");
        url.push_str(sid);
        url.push('?');
        url.push_str(self.query);
        Some(url)
    }
}

impl super::chat::Creds {
    /// Where the chat's agent files are linked, when the server offered links.
    pub(super) fn media_links<'a>(&'a self, config: &'a Config) -> Option<MediaLinks<'a>> {
        MediaLinks::of(config, self.media_link_query.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_names_the_server_the_media_and_the_signed_query() {
        let config = Config { auth_server_url: "https://auth.example".into(), ..Config::default() };
        let links = MediaLinks::of(&config, Some("conversation=CH1&expires=9&signature=a-b_c")).unwrap();
        let sid = format!("ME{}", "0a".repeat(16));
        assert_eq!(links.url(&sid).unwrap(), format!("https://auth.example/v1/media/{sid}?conversation=CH1&expires=9&signature=a-b_c"));
        for bad in ["", "ME12", "../../v1/sessions", &format!("XX{}", "0".repeat(32)), &format!("ME{}", "g".repeat(32))] {
            assert_eq!(links.url(bad), None, "{bad}");
        }
    }

    #[test]
    fn no_links_without_a_query_a_clean_query_or_a_server() {
        let config = Config { auth_server_url: "https://auth.example".into(), ..Config::default() };
        assert_eq!(MediaLinks::of(&config, None), None);
        assert_eq!(MediaLinks::of(&config, Some("")), None);
        assert_eq!(MediaLinks::of(&config, Some("a=b#<script>")), None);
        assert_eq!(MediaLinks::of(&Config::default(), Some("a=b")), None);
    }
}
