//! Tokens: what each kind of personal value becomes under `--redact`.
//!
//! Input: a value (digits of a number, a name, a host label, an IP or MAC address) and
//! the run's [`Key`]. Output: a token of the same length and the same format class.
//!
//! Invariants, each relied on by a later stage:
//! - Keyed: every token comes from SipHash-2-4 under a 128-bit key (a short extension
//!   hashed without a key would be reversed by trying all 10,000 of them).
//! - Deterministic: the same value gives the same token, in a run and, with the same
//!   key, across runs.
//! - Injective where the diagnosis compares values (numbers, addresses): each is a
//!   keyed permutation (a small Feistel network, cycle-walked into the range), so two
//!   parties never merge into one and the findings stay the same.
//! - Same length, so SIP text, Content-Length, IP lengths and TCP sequence numbers stay
//!   valid when the tokens are written over the capture's bytes.
//! - Numbers keep their format class: `+`, the leading zeros (so `0…`, `00…` and
//!   outside-line prefixes stay), the country code, and a non-zero first digit after
//!   them. The other digits are permuted, digit k from the right depending only on the
//!   digits to its right (suffix-preserving, as Crypto-PAn is prefix-preserving for
//!   addresses): `+4930123456`, `004930123456` and `030123456` keep one national part,
//!   so numbers still match across formats as the rules and `--number` match them.
//! - Addresses are prefix-preserving per octet (per group for IPv6): hosts of one subnet
//!   stay in one subnet; private, loopback, link-local and multicast ranges stay what they
//!   are (loopback addresses too, though their host part changes, since test captures
//!   made on `lo` use them as hosts); each octet keeps its count of decimal digits (each group its count of hex
//!   digits), so the text `10.1.2.3` keeps its length.

use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};

use siphasher::sip::SipHasher24;

/// The secret that makes tokens: random per run, or derived from `--redact-key`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Key(u64, u64);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

// Domains separate the uses of the key, so that a digit permutation never serves as a
// letter choice.
const DOM_DIGIT: u8 = 1;
const DOM_NAME: u8 = 2;
const DOM_V4: u8 = 3;
const DOM_V6: u8 = 4;
const DOM_MAC: u8 = 5;

impl Key {
    /// A key derived from a passphrase: the same passphrase gives the same tokens.
    pub fn from_passphrase(text: &str) -> Key {
        let h = |k0: u64| {
            let mut s = SipHasher24::new_with_keys(k0, 0x7369_7064_6961_6721);
            s.write(text.as_bytes());
            s.finish()
        };
        Key(h(1), h(2))
    }

    /// A fresh random key (from the standard library's per-process random hasher keys).
    pub fn random() -> Key {
        let h = |n: u64| {
            let mut s = std::collections::hash_map::RandomState::new().build_hasher();
            s.write_u64(n);
            s.finish()
        };
        Key(h(1), h(2))
    }

    /// The keyed PRF: SipHash-2-4 over the domain and the length-prefixed parts.
    fn prf(&self, domain: u8, parts: &[&[u8]]) -> u64 {
        let mut h = SipHasher24::new_with_keys(self.0, self.1);
        h.write_u8(domain);
        for p in parts {
            h.write_u64(p.len() as u64);
            h.write(p);
        }
        h.finish()
    }

    /// A keyed permutation of `0..n` (context `ctx`) applied to `x`: a 4-round Feistel
    /// network on the smallest even bit width holding `n`, cycle-walked until the result
    /// falls inside the range (a permutation of a finite set always comes back to it).
    pub(crate) fn permute(&self, domain: u8, ctx: &[u8], n: u64, x: u64) -> u64 {
        if n <= 1 || x >= n {
            return x;
        }
        let bits = 64 - (n - 1).leading_zeros();
        let half = bits.div_ceil(2);
        let mask = (1u64 << half) - 1;
        let mut y = x;
        loop {
            let (mut l, mut r) = (y >> half, y & mask);
            for round in 0..4u8 {
                let f = self.prf(domain, &[ctx, &[round], &r.to_le_bytes()]) & mask;
                (l, r) = (r, l ^ f);
            }
            y = (l << half) | r;
            if y < n {
                return y;
            }
        }
    }

    /// The digits of a number (what follows its kept prefix) replaced: leading zeros
    /// stay, the first other digit stays non-zero (so a `0…` or `00…` form cannot appear
    /// or vanish), and each digit depends on the digits to its right only (a number and
    /// its tail keep a common tail). Bytes that are not digits stay and do not count.
    pub(crate) fn digits(&self, d: &mut [u8]) {
        let orig: Vec<u8> = d.iter().copied().filter(u8::is_ascii_digit).collect();
        let lead = orig.iter().position(|b| *b != b'0').unwrap_or(orig.len());
        let mut k = orig.len();
        for b in d.iter_mut().rev() {
            if !b.is_ascii_digit() {
                continue;
            }
            k -= 1;
            let ctx = &orig[k + 1..];
            if k < lead {
                continue; // a leading zero
            } else if k == lead {
                let x = u64::from(*b - b'1');
                *b = b'1' + self.permute(DOM_DIGIT, &[ctx, b"L"].concat(), 9, x) as u8;
            } else {
                let x = u64::from(*b - b'0');
                *b = b'0' + self.permute(DOM_DIGIT, ctx, 10, x) as u8;
            }
        }
    }

    /// A phone number (the digits of a URI user part, with `+` and visual separators):
    /// what stays literal is what makes its format class (see [`kept_digits`]); the rest
    /// goes through [`Key::digits`].
    pub(crate) fn number(&self, n: &mut [u8]) {
        let digits: Vec<u8> = n.iter().copied().filter(u8::is_ascii_digit).collect();
        let plus = n
            .iter()
            .find(|b| !matches!(b, b' ' | b'-' | b'.' | b'(' | b')'))
            == Some(&b'+');
        let keep = kept_digits(&digits, plus);
        // Rewrite the digits after the kept ones.
        let mut at = 0;
        if keep > 0 {
            let mut seen = 0;
            for (i, b) in n.iter().enumerate() {
                if b.is_ascii_digit() {
                    seen += 1;
                    if seen == keep {
                        at = i + 1;
                        break;
                    }
                }
            }
        }
        self.digits(&mut n[at..]);
    }

    /// A name (display name, user name, host label, key): letters become letters of the
    /// same case, digits digits, other ASCII stays, and every non-ASCII byte becomes `x`
    /// (so the text stays valid UTF-8 and keeps its byte length). Case-insensitive:
    /// `Alice` and `ALICE` give tokens that differ only in case.
    pub(crate) fn name(&self, s: &mut [u8]) {
        let ctx = s.to_ascii_lowercase();
        for (i, b) in s.iter_mut().enumerate() {
            let r = || self.prf(DOM_NAME, &[&ctx, &(i as u64).to_le_bytes()]);
            *b = match *b {
                b'a'..=b'z' => b'a' + (r() % 26) as u8,
                b'A'..=b'Z' => b'A' + (r() % 26) as u8,
                b'0'..=b'9' => b'0' + (r() % 10) as u8,
                c if c.is_ascii() => c,
                _ => b'x',
            };
        }
    }

    /// An IPv4 address (see the module docs for what stays).
    pub fn ipv4(&self, a: Ipv4Addr) -> Ipv4Addr {
        let o = a.octets();
        let keep = match o[0] {
            0 | 224..=255 => 4,
            100 | 169 | 172 | 192 | 198 => 2,
            _ => 1,
        };
        let mut out = o;
        for i in keep..4 {
            // Class by decimal digits: 0 and 255 stay, 1-9, 10-99, 100-254.
            let (lo, n) = match o[i] {
                0 | 255 => continue,
                1..=9 => (1, 9),
                10..=99 => (10, 90),
                _ => (100, 155),
            };
            let x = u64::from(o[i] - lo);
            out[i] = lo + self.permute(DOM_V4, &o[..i], n, x) as u8;
        }
        Ipv4Addr::from(out)
    }

    /// An IPv6 address: the first group stays (the kind of address); IPv4-mapped
    /// addresses take their IPv4 token; `::`, `::1`, link-local prefixes and multicast stay.
    pub fn ipv6(&self, a: Ipv6Addr) -> Ipv6Addr {
        let g = a.segments();
        if let Some(v4) = a.to_ipv4_mapped() {
            return self.ipv4(v4).to_ipv6_mapped();
        }
        let keep = match g[0] {
            0 if g[1..6].iter().all(|x| *x == 0) => 8,
            0xff00..=0xffff => 8,
            0xfe80..=0xfebf => 4,
            _ => 1,
        };
        let ctx: Vec<u8> = g.iter().flat_map(|x| x.to_be_bytes()).collect();
        let mut out = g;
        for i in keep..8 {
            // Class by hex digits, so the text keeps its length: 0, 1-f, 10-ff, …
            let lo: u16 = match g[i] {
                0 => continue,
                1..=0xf => 1,
                0x10..=0xff => 0x10,
                0x100..=0xfff => 0x100,
                _ => 0x1000,
            };
            let n = u64::from(lo) * 15;
            let x = u64::from(g[i] - lo);
            out[i] = lo + self.permute(DOM_V6, &ctx[..2 * i], n, x) as u16;
        }
        Ipv6Addr::from(out)
    }

    /// A MAC address: group and broadcast addresses stay, and so does the vendor (OUI);
    /// the device part is permuted.
    pub fn mac(&self, m: [u8; 6]) -> [u8; 6] {
        if m[0] & 1 == 1 {
            return m;
        }
        let x = u64::from_be_bytes([0, 0, 0, 0, 0, m[3], m[4], m[5]]);
        let y = self.permute(DOM_MAC, &m[..3], 1 << 24, x).to_be_bytes();
        [m[0], m[1], m[2], y[5], y[6], y[7]]
    }
}

/// How many leading digits of a number stay literal: those that make its format class
/// in `numbers::classify` (E.164 `+CC`, `00CC`, national `0`, an outside-line digit before
/// `0…`, the country code of a long number written without `+`/`00`).
fn kept_digits(d: &[u8], plus: bool) -> usize {
    // Only where at least four digits follow: then the country code (prefix-free, 1-3
    // digits) always exists and is followed by digits, so whether it is kept depends on
    // the length alone, and the tokens of equal-length numbers never collide.
    let cc = |rest: &[u8]| {
        if rest.len() < 4 {
            return 0;
        }
        let s = std::str::from_utf8(rest).unwrap_or_default();
        crate::numbers::country_code_of(s).map_or(0, str::len)
    };
    if plus {
        return cc(d);
    }
    let zeros = d.iter().take_while(|b| **b == b'0').count();
    match zeros {
        0 if d.len() >= 7 && d.get(1) == Some(&b'0') => {
            // An outside-line digit before a national or international number.
            let z = d[1..].iter().take_while(|b| **b == b'0').count();
            1 + z + if z >= 2 { cc(&d[1 + z..]) } else { 0 }
        }
        0 if d.len() >= 7 => cc(d),
        0 => 0,
        1 => 1,
        z => z + cc(&d[z..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(k: &Key, s: &str) -> String {
        let mut b = s.as_bytes().to_vec();
        k.number(&mut b);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn numbers_keep_class_length_and_prefixes() {
        let k = Key::from_passphrase("k");
        for (input, kept) in [
            ("+4930123456", "+49"),
            ("004930123456", "0049"),
            ("030123456", "0"),
            ("0004930123456", "00049"),
            ("9030123456", "90"),
            ("4930123456", "49"),
            ("+1 212 555 0100", "+1"),
        ] {
            let out = num(&k, input);
            assert_eq!(out.len(), input.len(), "{input} → {out}");
            assert!(out.starts_with(kept), "{input} → {out}");
            assert_ne!(out, input, "{input} unchanged");
            // Separators stay where they were; digits stay digits.
            for (a, b) in input.bytes().zip(out.bytes()) {
                assert_eq!(a.is_ascii_digit(), b.is_ascii_digit(), "{input} → {out}");
            }
            // The digit after the kept prefix is not a zero when it was not.
            assert_ne!(out.as_bytes()[kept.len()], b'0', "{input} → {out}");
        }
        let ext = num(&k, "456");
        assert_eq!(ext.len(), 3);
        assert!(!ext.starts_with('0'));
        // An extension with zeros has 900 possible tokens, not 9.
        let tokens: std::collections::HashSet<String> = (0..50)
            .map(|i| num(&Key::from_passphrase(&i.to_string()), "200"))
            .collect();
        assert!(tokens.len() > 30, "{tokens:?}");
        assert!(tokens.iter().all(|t| t.len() == 3 && !t.starts_with('0')));
    }

    #[test]
    fn numbers_are_consistent_across_formats_and_keys() {
        let k = Key::from_passphrase("k");
        let e164 = num(&k, "+4930123456");
        let intl = num(&k, "004930123456");
        let nat = num(&k, "030123456");
        let ext = num(&k, "456");
        assert_eq!(&e164[3..], &intl[4..]);
        assert_eq!(&e164[3..], &nat[1..]);
        // The tail after an extension's first digit is shared with the long form.
        assert!(e164.ends_with(&ext[1..]), "{e164} / {ext}");
        assert_eq!(e164, num(&Key::from_passphrase("k"), "+4930123456"));
        assert_ne!(e164, num(&Key::from_passphrase("other"), "+4930123456"));
    }

    #[test]
    fn four_digit_numbers_never_collide() {
        let k = Key::from_passphrase("k");
        let mut seen = std::collections::HashSet::new();
        for n in 0..10_000 {
            assert!(seen.insert(num(&k, &format!("{n:04}"))));
        }
        let mut seen = std::collections::HashSet::new();
        for n in 0..20_000u32 {
            assert!(seen.insert(num(&k, &format!("+49301{n:05}"))));
        }
    }

    #[test]
    fn addresses_keep_class_and_text_length() {
        let k = Key::from_passphrase("k");
        let mut seen = std::collections::HashSet::new();
        for a in [
            "10.1.2.3",
            "192.168.1.20",
            "172.16.5.100",
            "203.0.113.7",
            "8.8.8.8",
        ] {
            let ip: Ipv4Addr = a.parse().unwrap();
            let t = k.ipv4(ip);
            assert_eq!(t.to_string().len(), a.len(), "{a} → {t}");
            assert_eq!(t.is_private(), ip.is_private(), "{a} → {t}");
            assert_eq!(t.octets()[0], ip.octets()[0]);
            assert_ne!(t, ip);
            assert!(seen.insert(t));
        }
        // One subnet stays one subnet.
        let a = k.ipv4("10.1.2.3".parse().unwrap());
        let b = k.ipv4("10.1.2.4".parse().unwrap());
        assert_eq!(a.octets()[..3], b.octets()[..3]);
        for kept in ["0.0.0.0", "255.255.255.255", "224.0.0.1"] {
            let ip: Ipv4Addr = kept.parse().unwrap();
            assert_eq!(k.ipv4(ip), ip);
        }
        // A whole /16 maps onto itself without collision.
        let mut seen = std::collections::HashSet::new();
        for n in 0..=u16::MAX {
            let [c, d] = n.to_be_bytes();
            assert!(seen.insert(k.ipv4(Ipv4Addr::new(10, 7, c, d))));
        }
    }

    #[test]
    fn ipv6_keeps_group_widths() {
        let k = Key::from_passphrase("k");
        let a: Ipv6Addr = "2001:db8:85a3::8a2e:370:7334".parse().unwrap();
        let t = k.ipv6(a);
        assert_ne!(t, a);
        assert_eq!(t.to_string().len(), a.to_string().len(), "{a} → {t}");
        assert_eq!(t.segments()[0], 0x2001);
        assert_eq!(k.ipv6(Ipv6Addr::LOCALHOST), Ipv6Addr::LOCALHOST);
        let m: Ipv6Addr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(
            k.ipv6(m).to_ipv4_mapped(),
            Some(k.ipv4("10.1.2.3".parse().unwrap()))
        );
    }

    #[test]
    fn names_keep_shape() {
        let k = Key::from_passphrase("k");
        let mut b = b"Alice Smith-2".to_vec();
        k.name(&mut b);
        let s = String::from_utf8(b).unwrap();
        assert_eq!(s.len(), 13);
        assert_ne!(s, "Alice Smith-2");
        assert!(s.as_bytes()[0].is_ascii_uppercase());
        assert_eq!(&s[5..6], " ");
        assert_eq!(&s[11..12], "-");
        let mut u = "Müller".as_bytes().to_vec();
        k.name(&mut u);
        assert!(std::str::from_utf8(&u).is_ok());
        assert_eq!(u.len(), "Müller".len());
    }

    #[test]
    fn macs_keep_vendor() {
        let k = Key::from_passphrase("k");
        let m = [0x00, 0x1b, 0x4f, 0x12, 0x34, 0x56];
        let t = k.mac(m);
        assert_eq!(t[..3], m[..3]);
        assert_ne!(t, m);
        assert_eq!(k.mac([0xff; 6]), [0xff; 6]);
    }
}
