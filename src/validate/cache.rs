//! The on-disk validation cache (`--validate-cache FILE`): results keyed by fingerprint and
//! validator in, results out while younger than the age limit. It never holds a secret (only
//! fingerprints, statuses and identity fields), and is written atomically.

use std::{collections::HashMap, path::Path};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::Validation;

const SCHEMA: &str = "sprawl.validate-cache/v1";

#[derive(Serialize, Deserialize)]
struct CacheFile {
    schema: String,
    entries: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    validation: Validation,
}

/// Cached results by (fingerprint, validator id).
#[derive(Default)]
pub struct Cache {
    entries: HashMap<(String, String), Validation>,
}

impl Cache {
    /// Read `path`; a missing file is an empty cache.
    pub fn load(path: &Path) -> Result<Cache> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Cache::default()),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("reading validation cache {}", path.display()))
            }
        };
        let file: CacheFile = serde_json::from_str(&text)
            .with_context(|| format!("parsing validation cache {}", path.display()))?;
        if file.schema != SCHEMA {
            anyhow::bail!(
                "validation cache {}: unknown schema {:?}",
                path.display(),
                file.schema
            );
        }
        let entries = file
            .entries
            .into_iter()
            .map(|e| {
                (
                    (e.fingerprint, e.validation.validator.clone()),
                    e.validation,
                )
            })
            .collect();
        Ok(Cache { entries })
    }

    /// A result for this secret and validator checked no earlier than `not_before`.
    pub fn get(&self, fingerprint: &str, validator: &str, not_before: i64) -> Option<&Validation> {
        self.entries
            .get(&(fingerprint.to_string(), validator.to_string()))
            .filter(|v| v.checked_at_unix().is_some_and(|t| t >= not_before))
    }

    pub fn put(&mut self, fingerprint: String, v: Validation) {
        self.entries.insert((fingerprint, v.validator.clone()), v);
    }

    /// Drop entries older than `not_before`, then write to `path` atomically.
    pub fn save(&self, path: &Path, not_before: i64) -> Result<()> {
        let mut entries: Vec<Entry> = self
            .entries
            .iter()
            .filter(|(_, v)| v.checked_at_unix().is_some_and(|t| t >= not_before))
            .map(|((fp, _), v)| Entry {
                fingerprint: fp.clone(),
                validation: v.clone(),
            })
            .collect();
        entries.sort_by(|a, b| {
            (&a.fingerprint, &a.validation.validator)
                .cmp(&(&b.fingerprint, &b.validation.validator))
        });
        let file = CacheFile {
            schema: SCHEMA.into(),
            entries,
        };
        let text = serde_json::to_string_pretty(&file)?;
        let mut out = crate::atomic_file::AtomicFile::create(path, "validation cache")?;
        std::io::Write::write_all(&mut out, text.as_bytes())?;
        out.commit()
    }
}
