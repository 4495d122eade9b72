//! The session credential (`<id>.<exp>.<context>.<mac>`) as a client presents it on refresh and end.
//! Properties: `verify` never panics on any string; a credential the server issued verifies only for its own
//! session and before its expiry, giving back its context; and any *other* string, however close to a real one, is refused.
#![no_main]

use arbitrary::Arbitrary;
use flexdesk_auth::chat::credential::{issue, verify, Context};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzz-session-secret-0123456789abcdef-0123";

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    /// Any credential a client could send.
    raw: &'a str,
    url_session: &'a str,
    now: u64,
    /// A genuine credential, then edited by the fuzzer.
    session: &'a str,
    expires_at: u64,
    edits: Vec<(u16, u8)>,
}

fuzz_target!(|input: Input<'_>| {
    // 1. Arbitrary strings: no panic, and nothing verifies without the secret (a MAC forgery would be a bug
    //    in HMAC, which the fuzzer cannot find; what it can find is a parsing path that skips the check).
    if let Ok(ctx) = verify(SECRET, input.raw, input.url_session, input.now) {
        let mut parts = input.raw.split('.');
        let (id, exp) = (parts.next().unwrap(), parts.next().unwrap().parse().unwrap());
        assert_eq!(issue(SECRET, id, exp, &ctx), input.raw, "accepted a credential the server did not issue");
    }

    // 2. A genuine credential for a session id as the server makes them (no dots).
    if input.session.is_empty() || input.session.contains('.') {
        return;
    }
    let ctx = Context {
        identity: format!("customer-{}", input.session),
        conversation_sid: "CH00000000000000000000000000000001".into(),
        interaction_sid: input.session.starts_with('k').then(|| "KD11111111111111111111111111111111".to_string()),
        channel_sid: None,
    };
    let genuine = issue(SECRET, input.session, input.expires_at, &ctx);
    let ok_now = input.now < input.expires_at;
    match verify(SECRET, &genuine, input.session, input.now) {
        Ok(back) => assert!(ok_now && back == ctx, "wrong context back"),
        Err(_) => assert!(!ok_now, "a genuine, unexpired credential was refused"),
    }
    if input.url_session != input.session {
        assert!(verify(SECRET, &genuine, input.url_session, input.now).is_err(), "credential accepted for another session");
    }
    // 3. Edited copies: any change makes it invalid (one session, one credential string).
    let mut bytes = genuine.clone().into_bytes();
    for (pos, value) in input.edits.iter().take(8) {
        let len = bytes.len();
        match pos % 3 {
            0 => bytes[*pos as usize % len] = *value,
            1 => bytes.insert(*pos as usize % (len + 1), *value),
            _ if len > 1 => {
                bytes.remove(*pos as usize % len);
            }
            _ => {}
        }
    }
    if let Ok(edited) = String::from_utf8(bytes) {
        if edited != genuine {
            assert!(
                verify(SECRET, &edited, input.session, input.now).is_err(),
                "edited credential {edited:?} (from {genuine:?}) accepted"
            );
        }
    }
});
