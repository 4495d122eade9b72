//! Twilio's webhook signature (`X-Twilio-Signature`): base64 HMAC-SHA1, keyed with the account's Auth Token, of the
//! exact URL Twilio called followed by every POST parameter's name and value in sorted name order
//! (<https://www.twilio.com/docs/usage/webhooks/webhooks-security>). The emulator signs with [`signature`]; the auth
//! server checks with [`verify`], which follows the official helper (`twilio` npm 6.x `validateRequest`);
//! tests/auth/webhooks.test.mjs checks that both accept the same requests.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// The parameters in the order Twilio signs them: by name, then by value, each distinct (name, value) pair once. A
/// name sent more than once contributes each distinct value, sorted (twilio-node `toFormUrlEncodedParam`). One sort
/// of the pairs: O(n log n) in the number of parameters whatever their names (issue 24: scanning every parameter
/// once per distinct name was quadratic, ~10⁹ comparisons for a 64 KB body of ~13 000 one-letter names).
fn signed_order(params: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// The HMAC of `url` followed by each pair's name and value, in the order given (see [`signed_order`]).
fn mac(auth_token: &[u8], url: &str, pairs: &[(&str, &str)]) -> HmacSha1 {
    let mut mac = HmacSha1::new_from_slice(auth_token).expect("HMAC takes a key of any length");
    mac.update(url.as_bytes());
    for (key, value) in pairs {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The signature Twilio sends for a request to `url` with `params` (base64).
pub fn signature(auth_token: &[u8], url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD.encode(mac(auth_token, url, &signed_order(params)).finalize().into_bytes())
}

/// True when `signature` is Twilio's for `url` (with or without its port, as twilio-node accepts it) and `params`.
/// Compared in constant time (`Mac::verify_slice`). Linear in the body after one sort of the parameters.
pub fn verify(auth_token: &[u8], signature: &str, url: &str, params: &[(String, String)]) -> bool {
    let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else { return false };
    let pairs = signed_order(params);
    [remove_port(url), add_port(url)].iter().any(|candidate| mac(auth_token, candidate, &pairs).verify_slice(&signature).is_ok())
}

/// `scheme://`, user info (with its `@`), host, `:port` (or empty), and the rest (path, query) of a URL, split
/// without normalising anything (twilio-node `splitUrl`).
fn split_url(url: &str) -> Option<(&str, &str, &str, &str, &str)> {
    let sep = url.find("://")?;
    let scheme = &url[..sep];
    let mut chars = scheme.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic()) || !chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) {
        return None;
    }
    let prefix_end = sep + 3;
    let authority_end = url[prefix_end..].find(['/', '?', '#']).map_or(url.len(), |i| prefix_end + i);
    let authority = &url[prefix_end..authority_end];
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_and_port = &authority[host_start..];
    let after_bracket = host_and_port.rfind(']').map_or(0, |i| i + 1);
    let port_start = host_and_port[after_bracket..].find(':').map(|i| after_bracket + i);
    let (host, port) = match port_start {
        Some(i) => (&host_and_port[..i], &host_and_port[i..]),
        None => (host_and_port, ""),
    };
    Some((&url[..prefix_end], &authority[..host_start], host, port, &url[authority_end..]))
}

/// The URL with the scheme's default port added when it has none (twilio-node `addPort`).
fn add_port(url: &str) -> String {
    match split_url(url) {
        Some((scheme, user, host, "", rest)) => {
            let port = if scheme.eq_ignore_ascii_case("https://") { ":443" } else { ":80" };
            format!("{scheme}{user}{host}{port}{rest}")
        }
        _ => url.to_string(),
    }
}

/// The URL without any port (twilio-node `removePort`).
fn remove_port(url: &str) -> String {
    match split_url(url) {
        Some((scheme, user, host, _, rest)) => format!("{scheme}{user}{host}{rest}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const TOKEN: &[u8] = b"12345";

    /// Vector made with the official helper: `twilio.getExpectedTwilioSignature('12345', url, params)` (twilio 6.2.0;
    /// tests/auth/webhooks.test.mjs checks the same vector and many more against it).
    #[test]
    fn matches_the_official_helper() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let params = p(&[("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"), ("From", "+12349013030"), ("To", "+18005551212")]);
        assert_eq!(signature(TOKEN, url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify(TOKEN, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url, &params));
        // Order of the form fields does not matter: they are sorted.
        let mut reversed = params.clone();
        reversed.reverse();
        assert!(verify(TOKEN, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url, &reversed));
    }

    #[test]
    fn refuses_any_change() {
        let url = "https://example.com/v1/twilio/webhooks";
        let params = p(&[("EventType", "onConversationStateUpdated"), ("ConversationSid", "CH1"), ("StateTo", "closed")]);
        let sig = signature(TOKEN, url, &params);
        assert!(verify(TOKEN, &sig, url, &params));
        assert!(!verify(b"other token", &sig, url, &params), "another key");
        assert!(!verify(TOKEN, &sig, "https://example.com/v1/twilio/webhooks?x=1", &params), "another URL");
        assert!(!verify(TOKEN, &sig, url, &p(&[("EventType", "onConversationStateUpdated"), ("ConversationSid", "CH2"), ("StateTo", "closed")])));
        assert!(!verify(TOKEN, &sig, url, &params[..2]), "a parameter dropped");
        assert!(!verify(TOKEN, "", url, &params));
        assert!(!verify(TOKEN, "not base64!", url, &params));
        let mut truncated = sig.clone();
        truncated.truncate(10);
        assert!(!verify(TOKEN, &truncated, url, &params));
    }

    #[test]
    fn accepts_the_url_with_and_without_the_default_port() {
        let params = p(&[("A", "1")]);
        let bare = signature(TOKEN, "https://example.com/hook", &params);
        let with_port = signature(TOKEN, "https://example.com:443/hook", &params);
        assert!(verify(TOKEN, &bare, "https://example.com:443/hook", &params));
        assert!(verify(TOKEN, &with_port, "https://example.com/hook", &params));
        let http = signature(TOKEN, "http://example.com:80/hook", &params);
        assert!(verify(TOKEN, &http, "http://example.com/hook", &params));
        assert!(!verify(TOKEN, &signature(TOKEN, "https://example.com:8443/hook", &params), "https://example.com/hook", &params));
        assert_eq!(add_port("http://u:p@[::1]/x?y"), "http://u:p@[::1]:80/x?y");
        assert_eq!(remove_port("http://[::1]:4000/x"), "http://[::1]/x");
        assert_eq!(remove_port("not a url"), "not a url");
    }

    /// Issue 24, item 1: checking is linear in the body after one sort. 64 KB of ~13 000 distinct one- to
    /// three-letter names took seconds per check (debug build) when every parameter was scanned per distinct name.
    #[test]
    fn checking_a_body_of_thirteen_thousand_distinct_names_is_fast() {
        let params: Vec<(String, String)> = (0..13_000u32).map(|i| (format!("{i:x}"), String::new())).collect();
        let url = "https://example.com/hook";
        let started = std::time::Instant::now();
        assert!(!verify(TOKEN, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", url, &params));
        let sig = signature(TOKEN, url, &params);
        assert!(verify(TOKEN, &sig, url, &params));
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_millis(250), "three checks of 13 000 parameters took {took:?}");
    }

    #[test]
    fn repeated_names_use_each_distinct_value_sorted() {
        let url = "https://example.com/hook";
        let params = p(&[("Filters", "b"), ("Filters", "a"), ("Filters", "b")]);
        assert_eq!(signature(TOKEN, url, &params), signature(TOKEN, url, &p(&[("Filters", "a"), ("Filters", "b")])));
    }
}
