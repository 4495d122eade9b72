//! Twilio's limits for media in the Flex web channel, checked before a byte is uploaded so the user gets a
//! clear message instead of a failed upload.

use crate::texts::Text;

/// One attachment per message, at most 16 MiB.
pub const MAX_MEDIA_BYTES: u64 = 16 * 1024 * 1024;

/// Extensions the Flex web channel accepts.
pub const ALLOWED_EXTENSIONS: &[&str] =
    &["jpg", "jpeg", "png", "amr", "mp3", "mp4", "pdf", "heic", "txt", "gif"];

/// What the desk accepts: Twilio's limits by default; a page may narrow them (or widen them for a channel that
/// takes more) with the `maxFileBytes` / `allowedFileTypes` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaLimits {
    /// Largest file accepted, in bytes (default [`MAX_MEDIA_BYTES`]).
    pub max_bytes: u64,
    /// Lower-case extensions without the dot.
    pub extensions: Vec<String>,
}

impl Default for MediaLimits {
    fn default() -> Self {
        MediaLimits { max_bytes: MAX_MEDIA_BYTES, extensions: ALLOWED_EXTENSIONS.iter().map(|e| String::from(*e)).collect() }
    }
}

impl MediaLimits {
    /// The web chat's `allowedFileUploadTypes`: `.jpg,.png,...`.
    pub fn accept_attribute(&self) -> String {
        let mut types = String::new();
        for e in &self.extensions {
            types += if types.is_empty() { "." } else { ",." };
            types += e;
        }
        types
    }

    /// Checks a file's name and size against these limits.
    pub fn check(&self, name: &str, size: u64) -> Result<(), MediaRejection> {
        let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        if !self.extensions.contains(&extension) {
            return Err(MediaRejection::WrongType { extension, allowed: join(&self.extensions, ", ") });
        }
        if size == 0 {
            return Err(MediaRejection::Empty);
        }
        if size > self.max_bytes {
            return Err(MediaRejection::TooLarge { size, max: self.max_bytes });
        }
        Ok(())
    }
}

/// Why a file cannot be sent; `Display` is the text shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRejection {
    /// The file has no bytes.
    Empty,
    /// The file is larger than [`MediaLimits::max_bytes`].
    TooLarge {
        /// The file's size, in bytes.
        size: u64,
        /// The limit, in bytes.
        max: u64,
    },
    /// The file's extension is not in [`MediaLimits::extensions`].
    WrongType {
        /// The file's extension, lower-case, without the dot (empty when the name has none).
        extension: String,
        /// The accepted extensions, comma-separated, for the message.
        allowed: String,
    },
}

impl MediaRejection {
    /// The message shown to the user (the page may reword it: [`crate::texts`]).
    pub fn text(&self) -> Text {
        match self {
            MediaRejection::Empty => Text::FileEmpty,
            MediaRejection::TooLarge { size, max } => Text::FileTooLarge { size: *size, max: *max },
            MediaRejection::WrongType { extension, allowed } => Text::FileType { extension: extension.clone(), allowed: allowed.clone() },
        }
    }

    /// The text shown to the user, in English.
    pub fn message(&self) -> String {
        self.text().english()
    }
}

impl std::fmt::Display for MediaRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// `n` in decimal digits.
pub fn decimal(mut n: u64) -> String {
    // Digits pushed as chars, then reversed in place (all ASCII): no UTF-8 check, nothing that can panic.
    let mut digits = String::new();
    loop {
        digits.push(char::from(b'0' + (n % 10) as u8));
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.chars().rev().collect()
}

/// `parts` joined with `sep`, as `[String]::join` does it, without its generic copying code (a kilobyte of wasm).
pub(crate) fn join(parts: &[String], sep: &str) -> String {
    let mut joined = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            joined += sep;
        }
        joined += part;
    }
    joined
}

/// Checks a file's name and size against Twilio's limits.
pub fn check_file(name: &str, size: u64) -> Result<(), MediaRejection> {
    MediaLimits::default().check(name, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_can_be_narrowed_and_are_used_in_the_text() {
        let limits = MediaLimits { max_bytes: 2 << 20, extensions: vec!["pdf".into()] };
        assert_eq!(limits.check("a.pdf", 3 << 20).unwrap_err().message(), "This file is 3.0 MB; files can be at most 2 MB.");
        assert_eq!(limits.check("a.png", 1).unwrap_err().message(), "Files of type \"png\" cannot be sent. Allowed: pdf.");
        assert_eq!(limits.accept_attribute(), ".pdf");
        assert_eq!(MediaLimits::default().accept_attribute(), ".jpg,.jpeg,.png,.amr,.mp3,.mp4,.pdf,.heic,.txt,.gif");
    }

    #[test]
    fn accepts_allowed_types_case_insensitively() {
        assert_eq!(check_file("photo.JPG", 10), Ok(()));
        assert_eq!(check_file("a.b.pdf", MAX_MEDIA_BYTES), Ok(()));
    }

    #[test]
    fn refuses_large_empty_and_wrong_type() {
        assert_eq!(check_file("x.png", MAX_MEDIA_BYTES + 1), Err(MediaRejection::TooLarge { size: MAX_MEDIA_BYTES + 1, max: MAX_MEDIA_BYTES }));
        assert_eq!(check_file("x.png", 0), Err(MediaRejection::Empty));
        assert!(matches!(check_file("x.exe", 5), Err(MediaRejection::WrongType { extension, .. }) if extension == "exe"));
        assert!(matches!(check_file("noext", 5), Err(MediaRejection::WrongType { extension, .. }) if extension.is_empty()));
        assert!(check_file("x.exe", 5).unwrap_err().to_string().contains("exe"));
        assert_eq!(check_file("x.png", 20 << 20).unwrap_err().to_string(), "This file is 20.0 MB; files can be at most 16 MB.");
        assert_eq!(check_file("x.png", (16 << 20) + 1).unwrap_err().message(), "This file is 16.0 MB; files can be at most 16 MB.");
        assert_eq!(check_file("x.png", 1234 << 20).unwrap_err().message(), "This file is 1234.0 MB; files can be at most 16 MB.");
        assert_eq!(check_file("x", 1).unwrap_err().message(), "Files of type \"(none)\" cannot be sent. Allowed: jpg, jpeg, png, amr, mp3, mp4, pdf, heic, txt, gif.");
    }
}
