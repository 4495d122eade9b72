//! Twilio SIDs of the configuration as types: a `Sid<Address>` is an `IG…` SID, so a workspace SID cannot be passed
//! where an address is expected, and a value of the wrong shape cannot be built.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

/// The kind of resource a SID names, by its two-letter prefix.
pub trait SidKind {
    /// The prefix: Twilio's specs give every SID the pattern `^<prefix>[0-9a-fA-F]{32}$` (twilio-oai, e.g.
    /// `conversations.v1.service.sid` is `^IS[0-9a-fA-F]{32}$`; <https://www.twilio.com/docs/glossary/what-is-a-sid>).
    const PREFIX: &'static str;
}

macro_rules! sid_kinds {
    ($($(#[$doc:meta])* $kind:ident = $prefix:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $kind {}
        impl SidKind for $kind {
            const PREFIX: &'static str = $prefix;
        }
    )*};
}

sid_kinds! {
    /// The Twilio account (`AC…`).
    Account = "AC";
    /// An API key (`SK…`).
    ApiKey = "SK";
    /// A Conversations service (`IS…`).
    ConversationsService = "IS";
    /// A Conversations address configuration (`IG…`).
    Address = "IG";
    /// A legacy Flex Flow (`FO…`).
    FlexFlow = "FO";
    /// A TaskRouter workspace (`WS…`).
    Workspace = "WS";
    /// A TaskRouter workflow (`WW…`).
    Workflow = "WW";
    /// A TaskRouter queue (`WQ…`).
    Queue = "WQ";
}

/// A SID of kind `K`: its prefix followed by 32 hex digits. Reads as a `&str` (`Deref`) wherever one is wanted.
pub struct Sid<K> {
    value: String,
    kind: PhantomData<K>,
}

impl<K: SidKind> Sid<K> {
    /// The SID, if `value` has `K`'s prefix and 32 hex digits.
    pub fn parse(value: &str) -> Option<Sid<K>> {
        twilio_model::sid::is_sid(value, K::PREFIX).then(|| Sid { value: value.to_string(), kind: PhantomData })
    }
}

impl<K> Sid<K> {
    /// The SID as written.
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl<K> Deref for Sid<K> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.value
    }
}

// Written out (not derived) so that `K`, an uninhabited marker, needs none of these traits.
impl<K> Clone for Sid<K> {
    fn clone(&self) -> Self {
        Sid { value: self.value.clone(), kind: PhantomData }
    }
}
impl<K> PartialEq for Sid<K> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<K> Eq for Sid<K> {}
impl<K> PartialEq<str> for Sid<K> {
    fn eq(&self, other: &str) -> bool {
        self.value == other
    }
}
impl<K> PartialEq<&str> for Sid<K> {
    fn eq(&self, other: &&str) -> bool {
        self.value == *other
    }
}
impl<K> PartialEq<Sid<K>> for str {
    fn eq(&self, other: &Sid<K>) -> bool {
        self == other.value
    }
}
impl<K> PartialEq<Sid<K>> for &str {
    fn eq(&self, other: &Sid<K>) -> bool {
        *self == other.value
    }
}
impl<K> PartialEq<Sid<K>> for String {
    fn eq(&self, other: &Sid<K>) -> bool {
        *self == other.value
    }
}
impl<K> fmt::Debug for Sid<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.value, f)
    }
}
impl<K> fmt::Display for Sid<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_kinds_prefix_and_32_hex_digits_make_a_sid() {
        let hex = "0123456789abcdefABCDEF0123456789";
        assert_eq!(Sid::<Address>::parse(&format!("IG{hex}")).unwrap().as_str(), format!("IG{hex}"));
        assert!(Sid::<Workspace>::parse(&format!("IG{hex}")).is_none(), "another kind's prefix");
        assert!(Sid::<Address>::parse(&format!("IG{}", &hex[1..])).is_none(), "31 digits");
        assert!(Sid::<Address>::parse(&format!("IG{}g", &hex[1..])).is_none(), "not hex");
        assert!(Sid::<Address>::parse(&format!("ig{hex}")).is_none(), "the prefix is upper case");
    }
}
