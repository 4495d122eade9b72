//! Phone numbers for "continue by SMS" (issue 28, item 4): one rule for the desk (which checks a number before it
//! leaves the page) and the auth server (which checks it again, with its country allowlist, before Twilio sees it).
//!
//! A number is E.164: `+`, the country calling code, the subscriber number, 15 digits at most
//! (ITU-T E.164 §6; Twilio's "What is E.164?", <https://www.twilio.com/docs/glossary/what-e164>). Country calling
//! codes form a prefix-free set (ITU-T E.164 Annex: no code is the start of another), so "which country" is a plain
//! prefix test against the allowed codes. A number is personal data: [`mask`] is what logs and pages may show.

/// The number in E.164 (`+` and 8 to 15 digits, the first not 0), from what a customer types: spaces, dots, dashes
/// and brackets are dropped and a leading international `00` counts as `+`. `None` when it is not such a number
/// (a national number without its country code included: the desk cannot guess the country).
pub fn e164(typed: &str) -> Option<String> {
    let kept: String = typed.trim().chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')' | '\u{a0}')).collect();
    let digits = kept.strip_prefix('+').or_else(|| kept.strip_prefix("00"))?;
    // 8: the shortest numbers in use with their country code (e.g. +683 NNNN, Niue, has 7; SMS to them is rare
    // and a typo far likelier).
    let ok = (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    ok.then(|| String::from("+") + digits)
}

/// Whether an E.164 `number` has one of `codes` (country calling codes, digits without `+`, e.g. `"1"`, `"44"`) as
/// its country calling code.
pub fn has_calling_code(number: &str, codes: &[String]) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    codes.iter().any(|c| !c.is_empty() && digits.starts_with(c.as_str()))
}

/// The number as logs and pages may show it: `+`, its first two digits and its last two, the rest as `•`
/// (`+4915112345678` → `+49•••••••••78`). Short input is masked whole.
pub fn mask(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return "•".repeat(digits.len().max(1));
    }
    let n = digits.len();
    let mut out = String::from("+");
    out.extend(&digits[..2]);
    out.extend(std::iter::repeat('•').take(n - 4));
    out.extend(&digits[n - 2..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_numbers_become_e164_or_are_refused() {
        assert_eq!(e164(" +49 (151) 123-456.78 ").as_deref(), Some("+4915112345678"));
        assert_eq!(e164("0044 20 7946 0018").as_deref(), Some("+442079460018"));
        for bad in ["", "+", "015112345678", "+0151123456", "+1 555 CALL NOW", "+1234567", "+1234567890123456", "++4915112345678"] {
            assert_eq!(e164(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_calling_code_is_a_prefix_and_masks_hide_the_middle() {
        let allowed = vec!["1".to_string(), "44".to_string()];
        assert!(has_calling_code("+14155550100", &allowed));
        assert!(has_calling_code("+442079460018", &allowed));
        assert!(!has_calling_code("+4915112345678", &allowed));
        assert!(!has_calling_code("+4915112345678", &[String::new()]));
        assert_eq!(mask("+4915112345678"), "+49•••••••••78");
        assert_eq!(mask("+123"), "•••");
    }
}
