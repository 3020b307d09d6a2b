//! A call's methods: their names in the order first seen, and where each of the methods
//! of RFC 3261 and its extensions is among them, kept in the call itself.

/// A SIP method name; the common ones are shared, not allocated per message.
pub type Method = std::borrow::Cow<'static, str>;

/// The methods of RFC 3261 and its extensions.
const KNOWN: [&str; 14] = [
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "OPTIONS",
    "REGISTER",
    "PRACK",
    "UPDATE",
    "INFO",
    "REFER",
    "NOTIFY",
    "SUBSCRIBE",
    "MESSAGE",
    "PUBLISH",
];

/// Interns the methods of RFC 3261 and its extensions.
pub fn method(name: &str) -> Method {
    crate::sip::intern(name, &KNOWN)
}

/// Which of [`KNOWN`] `name` is.
fn known(name: &str) -> Option<usize> {
    KNOWN.iter().position(|k| *k == name)
}

/// Methods outside RFC 3261 and its extensions ([`method`]) a call lists: a Call-ID
/// carrying a new made-up method in every request (a fuzzer, a flood) would otherwise
/// grow its list, and the time to look a method up in it, with every message.
pub const MAX_OTHER_METHODS: usize = 32;
/// Ends a call's `methods` when it saw more than [`MAX_OTHER_METHODS`] others.
pub const MORE_METHODS: &str = "…";

/// Which of its call's `methods` a message is: a byte, not the name (a call lists at most
/// [`MAX_OTHER_METHODS`] + 15 methods; a method past those is [`MORE_METHODS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodAt(u8);

impl MethodAt {
    /// A response's: no method.
    pub const RESPONSE: MethodAt = MethodAt(u8::MAX);

    pub fn is_request(self) -> bool {
        self != Self::RESPONSE
    }
}

/// A [`KNOWN`] method the call has not listed.
const NOT_LISTED: u8 = u8::MAX;

/// A call's methods in order of first appearance: every one of RFC 3261 and its
/// extensions, and the first [`MAX_OTHER_METHODS`] others, then [`MORE_METHODS`] when
/// more came. Reads as a slice of names.
///
/// Where each known method is among the names is kept beside them, in the call: a call
/// held for hours is looked at again with each of its messages, after the rest of the
/// capture has pushed it out of the processor's caches, and finding the method of a
/// message (or whether the call saw a REGISTER or an INFO) then costs no read of the
/// names, which live elsewhere in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Methods {
    names: Vec<Method>,
    /// The place in `names` of each of [`KNOWN`], [`NOT_LISTED`] when not there.
    known: [u8; KNOWN.len()],
}

impl Default for Methods {
    fn default() -> Self {
        Methods {
            names: Vec::new(),
            known: [NOT_LISTED; KNOWN.len()],
        }
    }
}

impl std::ops::Deref for Methods {
    type Target = [Method];
    fn deref(&self) -> &[Method] {
        &self.names
    }
}

impl Methods {
    /// The place of method `name`, listed first when new.
    pub fn place(&mut self, name: &str) -> MethodAt {
        if let Some(k) = known(name) {
            if self.known[k] == NOT_LISTED {
                self.known[k] = self.names.len() as u8;
                self.names.push(Method::Borrowed(KNOWN[k]));
            }
            return MethodAt(self.known[k]);
        }
        let at = |names: &[Method], name: &str| names.iter().position(|x| x == name);
        if let Some(i) = at(&self.names, name) {
            return MethodAt(i as u8);
        }
        let others = (self.names.iter())
            .filter(|x| matches!(x, Method::Owned(_)))
            .count();
        let name = if others < MAX_OTHER_METHODS {
            Method::Owned(name.to_string())
        } else if let Some(i) = at(&self.names, MORE_METHODS) {
            return MethodAt(i as u8);
        } else {
            Method::Borrowed(MORE_METHODS)
        };
        self.names.push(name);
        MethodAt((self.names.len() - 1) as u8)
    }

    /// The name of the method at `at`; `None` for a response's.
    pub fn name(&self, at: MethodAt) -> Option<&str> {
        if !at.is_request() {
            return None;
        }
        match self.known.iter().position(|&p| p == at.0) {
            Some(k) => Some(KNOWN[k]),
            None => self.names.get(usize::from(at.0)).map(|x| &**x),
        }
    }

    /// Whether the call saw method `name`.
    pub fn lists(&self, name: &str) -> bool {
        match known(name) {
            Some(k) => self.known[k] != NOT_LISTED,
            None => self.names.iter().any(|x| x == name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The places kept beside the names say what the names say, for known methods, made-up
    /// ones and those past [`MAX_OTHER_METHODS`].
    #[test]
    fn places_and_names_agree() {
        let mut m = Methods::default();
        let sent: Vec<String> = ["INVITE", "ACK", "X-1", "INFO", "INVITE", "X-1", "BYE"]
            .into_iter()
            .map(str::to_string)
            .chain((0..40).map(|i| format!("M{i}")))
            .chain(["PUBLISH".to_string(), "M39".to_string()])
            .collect();
        let places: Vec<MethodAt> = sent.iter().map(|s| m.place(s)).collect();
        assert_eq!(&m[..5], ["INVITE", "ACK", "X-1", "INFO", "BYE"]);
        assert_eq!(m.len(), 5 + 31 + 1 + 1, "{:?}", &m[..]);
        assert_eq!(m[m.len() - 2], MORE_METHODS);
        assert_eq!(m[m.len() - 1], "PUBLISH");
        for (s, at) in sent.iter().zip(&places) {
            let name = m.name(*at).unwrap();
            assert_eq!(name, &*m[usize::from(at.0)]);
            let past_cap = s.starts_with('M') && s[1..].parse::<usize>().unwrap() >= 31;
            assert_eq!(name, if past_cap { MORE_METHODS } else { s.as_str() });
        }
        assert_eq!(places[0], places[4]);
        assert!(m.lists("INFO") && m.lists("PUBLISH") && m.lists("X-1") && m.lists("M3"));
        assert!(!m.lists("REGISTER") && !m.lists("UPDATE") && !m.lists("M39"));
        assert_eq!(m.name(MethodAt::RESPONSE), None);
    }

    proptest::proptest! {
        /// Whatever the methods and their order, the places, names and `lists` are those
        /// of a plain list searched by name (how a call listed its methods before the
        /// places were kept beside the names).
        #[test]
        fn places_are_those_of_a_list_searched_by_name(
            sent in proptest::collection::vec(0usize..60, 0..200)
        ) {
            let name = |i: usize| match KNOWN.get(i) {
                Some(k) => (*k).to_string(),
                None => format!("X-{i}"),
            };
            let mut m = Methods::default();
            let mut list: Vec<String> = Vec::new();
            for i in sent {
                let s = name(i);
                let at = m.place(&s);
                let others = list.iter().filter(|x| known(x).is_none() && *x != MORE_METHODS).count();
                let listed = if list.contains(&s) || known(&s).is_some() || others < MAX_OTHER_METHODS {
                    s.clone()
                } else {
                    MORE_METHODS.to_string()
                };
                let place = match list.iter().position(|x| *x == listed) {
                    Some(p) => p,
                    None => {
                        list.push(listed.clone());
                        list.len() - 1
                    }
                };
                proptest::prop_assert_eq!(usize::from(at.0), place);
                proptest::prop_assert_eq!(m.name(at), Some(listed.as_str()));
                proptest::prop_assert_eq!(&m[..], &list[..]);
            }
            for i in 0..60 {
                let s = name(i);
                proptest::prop_assert_eq!(m.lists(&s), list.contains(&s));
            }
        }
    }
}
