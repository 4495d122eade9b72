//! Twilio's limits for media in the Flex web channel, checked before a byte is uploaded so the user gets a
//! clear message instead of a failed upload.

/// One attachment per message, at most 16 MiB.
pub const MAX_MEDIA_BYTES: u64 = 16 * 1024 * 1024;

/// Extensions the Flex web channel accepts.
pub const ALLOWED_EXTENSIONS: &[&str] =
    &["jpg", "jpeg", "png", "amr", "mp3", "mp4", "pdf", "heic", "txt", "gif"];

/// Why a file cannot be sent; `Display` is the text shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRejection {
    Empty,
    TooLarge { size: u64 },
    WrongType { extension: String },
}

impl std::fmt::Display for MediaRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MediaRejection::Empty => write!(f, "This file is empty."),
            MediaRejection::TooLarge { size } => {
                // Integer tenths: float formatting would add kilobytes to the wasm file.
                let tenths = size.saturating_mul(10) / (1024 * 1024);
                write!(f, "This file is {}.{} MB; files can be at most 16 MB.", tenths / 10, tenths % 10)
            }
            MediaRejection::WrongType { extension } => write!(
                f,
                "Files of type \"{}\" cannot be sent. Allowed: {}.",
                if extension.is_empty() { "(none)" } else { extension },
                ALLOWED_EXTENSIONS.join(", ")
            ),
        }
    }
}

/// Checks a file's name and size against the limits.
pub fn check_file(name: &str, size: u64) -> Result<(), MediaRejection> {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    if !ALLOWED_EXTENSIONS.contains(&extension.as_str()) {
        return Err(MediaRejection::WrongType { extension });
    }
    if size == 0 {
        return Err(MediaRejection::Empty);
    }
    if size > MAX_MEDIA_BYTES {
        return Err(MediaRejection::TooLarge { size });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_allowed_types_case_insensitively() {
        assert_eq!(check_file("photo.JPG", 10), Ok(()));
        assert_eq!(check_file("a.b.pdf", MAX_MEDIA_BYTES), Ok(()));
    }

    #[test]
    fn refuses_large_empty_and_wrong_type() {
        assert_eq!(check_file("x.png", MAX_MEDIA_BYTES + 1), Err(MediaRejection::TooLarge { size: MAX_MEDIA_BYTES + 1 }));
        assert_eq!(check_file("x.png", 0), Err(MediaRejection::Empty));
        assert_eq!(check_file("x.exe", 5), Err(MediaRejection::WrongType { extension: "exe".into() }));
        assert_eq!(check_file("noext", 5), Err(MediaRejection::WrongType { extension: String::new() }));
        assert!(check_file("x.exe", 5).unwrap_err().to_string().contains("exe"));
        assert_eq!(check_file("x.png", 20 << 20).unwrap_err().to_string(), "This file is 20.0 MB; files can be at most 16 MB.");
    }
}
