//! Example templates: a rule example string in, the concrete test input out.
//!
//! Rule files never hold a format-valid credential literally. An example writes the random
//! part of a key as a placeholder, `{{alnum:30}}`, expanded at check time from a seeded
//! generator, so that the repository carries no string a push-protection scanner would flag.
//!
//! Placeholders: `{{CLASS:N}}` with CLASS one of `alnum`, `lower` (a-z0-9), `upper` (A-Z0-9),
//! `alpha`, `hex`, `HEX`, `digits`, `b64` (A-Za-z0-9+/), `b64url` (A-Za-z0-9_-), `b32`
//! (A-Z2-7), `b32lower` (a-z2-7), `bech32` (upper case); `{{crc32}}` (base62 CRC32 of the text the previous placeholder produced, 6
//! characters, as GitHub and npm tokens end). `{{` that starts no placeholder is literal.

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdef";
const HEX_UPPER: &[u8] = b"0123456789ABCDEF";
const DIGITS: &[u8] = b"0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B32_LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
const BECH32: &[u8] = b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

/// Base62 digits in the order GitHub's token checksum uses.
pub const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A small deterministic generator (splitmix64): the same seed gives the same example.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Seeded from a string (a rule id and example index, a test name).
    pub fn from_str_seed(s: &str) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in s.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        Rng::new(h)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `n` characters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[(self.next_u64() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

fn class(name: &str) -> Option<&'static [u8]> {
    Some(match name {
        "alnum" => ALNUM,
        "lower" => LOWER,
        "upper" => UPPER,
        "alpha" => ALPHA,
        "hex" => HEX,
        "HEX" => HEX_UPPER,
        "digits" => DIGITS,
        "b64" => B64,
        "b64url" => B64URL,
        "b32" => B32,
        "b32lower" => B32_LOWER,
        "bech32" => BECH32,
        _ => return None,
    })
}

/// Base62 of a CRC32, left-padded with `0` to 6 characters.
pub fn crc32_base62(data: &[u8]) -> String {
    let mut n = crc32fast::hash(data) as u64;
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

/// Expand every placeholder in `template`, drawing random characters from `rng`.
pub fn expand(template: &str, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut last_random = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inner = &after[..close];
        if inner == "crc32" {
            out.push_str(&crc32_base62(last_random.as_bytes()));
            rest = &after[close + 2..];
            continue;
        }
        let parsed = inner
            .split_once(':')
            .and_then(|(c, n)| Some((class(c)?, n.parse::<usize>().ok()?)));
        match parsed {
            Some((alphabet, n)) if n <= 65_536 => {
                last_random = rng.string(alphabet, n);
                out.push_str(&last_random);
                rest = &after[close + 2..];
            }
            _ => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_classes_and_lengths() {
        let mut rng = Rng::new(1);
        let s = expand("ab-{{hex:8}}-{{b32:4}}", &mut rng);
        assert_eq!(s.len(), 3 + 8 + 1 + 4);
        assert!(s[3..11].bytes().all(|b| HEX.contains(&b)));
        assert!(s[12..].bytes().all(|b| B32.contains(&b)));
    }

    #[test]
    fn literal_braces_survive() {
        let mut rng = Rng::new(1);
        assert_eq!(expand(r#"{"a":{"b":1}}"#, &mut rng), r#"{"a":{"b":1}}"#);
        assert_eq!(expand("{{nope:3}} {{", &mut rng), "{{nope:3}} {{");
    }

    #[test]
    fn crc32_checksum_matches_body() {
        let mut rng = Rng::new(7);
        let s = expand("ghp_{{alnum:30}}{{crc32}}", &mut rng);
        assert_eq!(s.len(), 40);
        assert_eq!(crc32_base62(&s.as_bytes()[4..34]), &s[34..]);
    }

    #[test]
    fn same_seed_same_output() {
        let a = expand("{{alnum:20}}", &mut Rng::from_str_seed("x"));
        let b = expand("{{alnum:20}}", &mut Rng::from_str_seed("x"));
        let c = expand("{{alnum:20}}", &mut Rng::from_str_seed("y"));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
