//! `--shard K/N`: which subscriptions one of N processes covers. A
//! subscription belongs to shard `1 + (h mod N)`, where `h` is the first 8
//! bytes (big-endian) of the SHA-256 of its lower-cased id: stable across
//! runs, machines and Rust versions (unlike `DefaultHasher`), and every
//! subscription lands in exactly one shard.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (1-based: `1..=count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The shard `subscription_id` falls in, out of `count` (at least 1).
    pub fn of(subscription_id: &str, count: u32) -> Shard {
        let digest = Sha256::digest(subscription_id.to_ascii_lowercase().as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        let count = count.max(1);
        Shard {
            index: (u64::from_be_bytes(first) % u64::from(count)) as u32 + 1,
            count,
        }
    }

    /// Whether this shard covers `subscription_id`.
    pub fn covers(&self, subscription_id: &str) -> bool {
        Shard::of(subscription_id, self.count) == *self
    }

    /// The ids this shard covers, in their order.
    pub fn select(&self, subscription_ids: Vec<String>) -> Vec<String> {
        subscription_ids
            .into_iter()
            .filter(|id| self.covers(id))
            .collect()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let usage = "write it as K/N, shard K of N, with 1 <= K <= N (e.g. 2/3)";
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("'{text}' is not a shard: {usage}"))?;
        let parse = |part: &str| part.trim().parse::<u32>().ok();
        match (parse(k), parse(n)) {
            (Some(index), Some(count)) if count >= 1 && (1..=count).contains(&index) => {
                Ok(Shard { index, count })
            }
            _ => Err(format!("'{text}' is not a shard: {usage}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_id_maps_to_a_fixed_shard() {
        // Written down once: a change here would move subscriptions between
        // the shards of pipelines that are already running.
        let id = "11111111-1111-1111-1111-111111111111";
        assert_eq!(Shard::of(id, 3).to_string(), "2/3");
        assert_eq!(Shard::of(id, 7).to_string(), "4/7");
        assert_eq!(
            Shard::of("00000000-0000-0000-0000-000000000001", 3).to_string(),
            "1/3"
        );
        assert_eq!(Shard::of(id, 1).to_string(), "1/1");
    }

    #[test]
    fn case_does_not_move_a_subscription() {
        let lower = "abcdef01-2345-6789-abcd-ef0123456789";
        for n in 1..20 {
            assert_eq!(Shard::of(lower, n), Shard::of(&lower.to_uppercase(), n));
        }
    }

    #[test]
    fn every_id_is_in_exactly_one_shard() {
        let ids: Vec<String> = (0..200)
            .map(|i| format!("{i:08x}-0000-0000-0000-000000000000"))
            .collect();
        for n in 1..6u32 {
            let mut seen = 0;
            for k in 1..=n {
                let shard = Shard { index: k, count: n };
                let picked = shard.select(ids.clone());
                seen += picked.len();
                for id in &picked {
                    for other in (1..=n).filter(|&o| o != k) {
                        assert!(!Shard {
                            index: other,
                            count: n
                        }
                        .covers(id));
                    }
                }
            }
            assert_eq!(seen, ids.len(), "N = {n}");
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in ["0/3", "4/3", "1/0", "x", "1/", "/3", "1/3/4", "-1/3", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("K/N"), "{bad}: {e}");
        }
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!("3/3".parse::<Shard>(), Ok(Shard { index: 3, count: 3 }));
    }
}
