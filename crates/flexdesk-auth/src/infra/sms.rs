//! "Continue by SMS" settings (issue 28, item 4): the Twilio number the customer's texts come from
//! (`TWILIO_SMS_NUMBER`) and the countries they may go to (`SMS_ALLOWED_CALLING_CODES`). Off without the number.
//!
//! The allowlist is required with the number: every SMS costs money, and a public page that texts any number it is
//! given is how SMS pumping (toll fraud) works (<https://www.twilio.com/docs/messaging/guides/sms-pumping-fraud>); the
//! account's own Messaging Geo Permissions still apply on top.

use flexdesk_core::phone;

/// The SMS settings, when the feature is on.
#[derive(Debug, Clone, PartialEq)]
pub struct SmsConfig {
    /// The Twilio number (E.164) the chat's texts come from: the participant's `MessagingBinding.ProxyAddress`.
    pub number: String,
    /// Country calling codes a customer's number may have (digits, no `+`), e.g. `["1", "44"]`.
    pub allowed_calling_codes: Vec<String>,
}

/// From `TWILIO_SMS_NUMBER` and `SMS_ALLOWED_CALLING_CODES`: `Ok(None)` when off, or every problem by key.
pub fn from_settings(number: Option<String>, codes: Option<String>) -> Result<Option<SmsConfig>, Vec<(&'static str, String)>> {
    let mut problems = Vec::new();
    let Some(number) = number else {
        if codes.is_some() {
            problems.push(("SMS_ALLOWED_CALLING_CODES", "is only used with TWILIO_SMS_NUMBER".to_string()));
            return Err(problems);
        }
        return Ok(None);
    };
    if phone::e164(&number).as_deref() != Some(number.as_str()) {
        // Not echoed: a business number is not secret, but the setting may hold a typo of someone's own.
        problems.push(("TWILIO_SMS_NUMBER", "must be a Twilio number in E.164 form, e.g. +14155550100 (no spaces)".to_string()));
    }
    let mut allowed = Vec::new();
    match codes {
        None => problems.push((
            "SMS_ALLOWED_CALLING_CODES",
            "is required with TWILIO_SMS_NUMBER: the country calling codes customers' numbers may have, e.g. 1,44 (SMS pumping fraud)".to_string(),
        )),
        Some(list) => {
            for code in list.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                let code = code.strip_prefix('+').unwrap_or(code);
                if (1..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) && !code.starts_with('0') {
                    allowed.push(code.to_string());
                } else {
                    problems.push(("SMS_ALLOWED_CALLING_CODES", format!("{code:?} is not a country calling code (1 to 3 digits, e.g. 1, 44, 353)")));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(Some(SmsConfig { number, allowed_calling_codes: allowed }))
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_without_the_number_and_the_allowlist_required_with_it() {
        assert_eq!(from_settings(None, None), Ok(None));
        assert!(from_settings(None, Some("1".into())).is_err());
        assert_eq!(from_settings(Some("+14155550100".into()), None).unwrap_err()[0].0, "SMS_ALLOWED_CALLING_CODES");
        assert_eq!(
            from_settings(Some("+14155550100".into()), Some(" 1, +44 ".into())),
            Ok(Some(SmsConfig { number: "+14155550100".into(), allowed_calling_codes: vec!["1".into(), "44".into()] }))
        );
        let bad = from_settings(Some("+1 415 555 0100".into()), Some("1,0044,uk".into())).unwrap_err();
        assert_eq!(bad.iter().map(|(k, _)| *k).collect::<Vec<_>>(), ["TWILIO_SMS_NUMBER", "SMS_ALLOWED_CALLING_CODES", "SMS_ALLOWED_CALLING_CODES"]);
    }
}
