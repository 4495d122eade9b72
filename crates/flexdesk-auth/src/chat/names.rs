//! Names the agent sees, normalised before anyone looks at them (issue 24, item 2): a guest must not be able to
//! show the agent the `(verified)` mark that only a verified identity token earns.
//!
//! Flex shows the task's `name` attribute and the pre-engagement fields as they are (docs/auth-server.md,
//! "Hand-off trust"), so what we check must be what the agent reads. [`normalise`] therefore builds the shown name:
//! Unicode NFKC (`unicode-normalization`: full-width and superscript letters become plain ones), then without the
//! characters that draw nothing or reorder the text: general category Format (Cf: zero-width space and joiners,
//! word joiner, soft hyphen, BOM), Bidi_Control (LRM, RLO, isolates) and Default_Ignorable_Code_Point (variation
//! selectors, combining grapheme joiner, Hangul fillers), from ICU4X's Unicode property data (`icu_properties`).
//! [`strip_mark`] then removes the word "verified" in any case and any look-alike spelling — compared through
//! UTS #39 confusable skeletons (`unicode-security`, the crate rustc's confusable-identifier lint uses), so a
//! Cyrillic `е`, a dotless `ı` or a Greek `ν` count as `e`, `i` and `v` — together with the punctuation touching it
//! (brackets of any kind, a final stop).

use icu_properties::props::{BidiControl, DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};
use unicode_normalization::UnicodeNormalization;

/// The word of the mark the server adds to a verified customer's name (`crate::infra::identity::VERIFIED_MARK` is it in
/// brackets).
const MARK_WORD: &str = "verified";

/// Whether `c` draws nothing or reorders what is drawn: Format (Cf), Bidi_Control or Default_Ignorable_Code_Point.
pub fn is_invisible(c: char) -> bool {
    CodePointMapData::<GeneralCategory>::new().get(c) == GeneralCategory::Format
        || CodePointSetData::new::<BidiControl>().contains(c)
        || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

/// The name as the agent will read it: NFKC, without invisible characters ([`is_invisible`]), trimmed.
pub fn normalise(name: &str) -> String {
    // Removed before NFKC too, so an invisible character cannot keep a letter and its accent from composing.
    let shown: String = name.chars().filter(|c| !is_invisible(*c)).nfkc().filter(|c| !is_invisible(*c)).collect();
    shown.trim().to_string()
}

/// Whether `c` is a non-spacing mark (an accent drawn on the letter before it).
fn is_mark(c: char) -> bool {
    CodePointMapData::<GeneralCategory>::new().get(c) == GeneralCategory::NonspacingMark
}

/// The UTS #39 skeleton of `s`, in lower case and without non-spacing marks (`Е` and `е` both give `e`; `Ӏ` and
/// `I` both give `l`; `é` gives `e`): an accent does not stop a reader from seeing the word.
fn skeleton(s: &str) -> String {
    unicode_security::skeleton(s).filter(|c| !is_mark(*c)).collect::<String>().to_lowercase()
}

/// Whether `c` reads as `letter` (an ASCII lower-case letter of the mark's word): the same letter in either case, or
/// a confusable of it in either case (`ν`, `е`, `Е`, `ı`, `Ӏ`...): `c`, its lower and its upper case are compared
/// with the letter and its upper case through their skeletons.
fn reads_as(c: char, letter: char) -> bool {
    if c.eq_ignore_ascii_case(&letter) {
        return true;
    }
    let targets = [skeleton(&letter.to_string()), skeleton(&letter.to_ascii_uppercase().to_string())];
    let forms = [c.to_string(), c.to_lowercase().collect(), c.to_uppercase().collect()];
    forms.iter().any(|form| targets.contains(&skeleton(form)))
}

/// Where the mark's word is in `chars` (start, end), if it is there as a word (no letter or digit right before or
/// after it). Non-spacing marks are read through: `veri̶fied` is the word.
fn find_word(chars: &[char]) -> Option<(usize, usize)> {
    let word: Vec<char> = MARK_WORD.chars().collect();
    // Positions of the characters that are not non-spacing marks.
    let bases: Vec<usize> = (0..chars.len()).filter(|&i| !is_mark(chars[i])).collect();
    let last_start = bases.len().checked_sub(word.len())?;
    (0..=last_start).find_map(|k| {
        let (start, last) = (bases[k], bases[k + word.len() - 1]);
        let before = k.checked_sub(1).map(|j| chars[bases[j]]);
        let after = bases.get(k + word.len()).map(|&j| chars[j]);
        let reads = bases[k..k + word.len()].iter().zip(&word).all(|(&i, &w)| reads_as(chars[i], w));
        let end = last + 1 + chars[last + 1..].iter().take_while(|c| is_mark(**c)).count();
        (reads && !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)).then_some((start, end))
    })
}

/// `name` normalised ([`normalise`]) without any spelling of the verified mark: the word "verified" (any case,
/// any confusable spelling, accents or not) and the punctuation or symbols touching it go, then the spaces left over
/// are trimmed. What remains can be empty (the name was only the mark).
pub fn strip_mark(name: &str) -> String {
    let mut chars: Vec<char> = normalise(name).chars().collect();
    while let Some((start, end)) = find_word(&chars) {
        let touching = |c: &char| !c.is_alphanumeric() && !c.is_whitespace();
        let from = start - chars[..start].iter().rev().take_while(|c| touching(c)).count();
        let to = end + chars[end..].iter().take_while(|c| touching(c)).count();
        chars.drain(from..to);
    }
    let rest: String = chars.into_iter().collect();
    // Two spaces where the mark stood in the middle become one.
    let mut out = String::with_capacity(rest.len());
    for part in rest.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_format_bidi_and_default_ignorable_ones() {
        for c in ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{200E}', '\u{202E}', '\u{2066}', '\u{061C}', '\u{FE0F}', '\u{034F}', '\u{3164}', '\u{E0001}'] {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
        }
        for c in ['a', ' ', 'é', '\u{0301}', 'л', '李', '(', '✓'] {
            assert!(!is_invisible(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn more_spellings_of_the_mark() {
        for name in [
            "Mallory (verif\u{0456}ed)",    // Cyrillic byelorussian-ukrainian i
            "Mallory (VER\u{04C0}FIED)",    // Cyrillic palochka for I
            "Mallory (veri\u{FB01}ed)",     // the fi ligature (NFKC)
            "Mallory-verified",
            "Mallory\u{3000}(verified)",    // ideographic space (NFKC: a space)
            "Mallory (ve\u{200B}r\u{2060}i\u{FEFF}fied)",
            "Mallory (verifi\u{00E9}d)",    // an accent on a letter
            "Mallory (veri\u{0336}fied)",   // a combining overlay between letters
            "Mallory (verified\u{0301})",   // a combining accent on the bracket
        ] {
            assert_eq!(strip_mark(name), "Mallory", "{name:?}");
        }
        // Words that merely contain it are names, not the mark.
        assert_eq!(strip_mark("Unverified Verifiedson"), "Unverified Verifiedson");
        assert_eq!(strip_mark("Ren\u{00E9}e Verifi\u{00E9}"), "Ren\u{00E9}e Verifi\u{00E9}");
        assert_eq!(strip_mark("\u{0928}\u{093F}\u{0927}\u{093F}"), "\u{0928}\u{093F}\u{0927}\u{093F}", "Devanagari vowel signs stay");
    }
}
