//! Which URLs may carry a secret or an answer that decides who gets in.

use std::net::IpAddr;

/// Whether `url` may be trusted with a secret or for an answer that decides who gets in (`VERIFY_URL`,
/// `IDENTITY_JWKS_URL`): `https`, or plain `http` to this machine only (a loopback address or `localhost`), for
/// development and tests. A man in the middle of a plain-http JWKS fetch forges every verified customer; of a
/// verifier call, lets bots through (issue 24, item 5).
pub fn is_secure_url(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else { return false };
    // The parsed host: IPv4 in any spelling is normalised to dotted decimal, IPv6 is in brackets.
    let Some(host) = u.host_str().filter(|h| !h.is_empty()) else { return false };
    let loopback = || {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    };
    match u.scheme() {
        "https" => true,
        "http" => loopback(),
        _ => false,
    }
}

/// True for Twilio's own hosts (`*.twilio.com`): the published demo secrets are refused (at start) or failed (by
/// `doctor`) only there, since an emulator is where they belong.
pub fn is_twilio_com(url: &str) -> bool {
    reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(|h| h == "twilio.com" || h.ends_with(".twilio.com"))).unwrap_or(false)
}
