//! Cached device counts, valid for one inventory revision.
//!
//! The inventory listing answers `total` (how many devices match the filters). Over a
//! million devices that count is a full index scan, far dearer than the page itself, and
//! it changes only when the inventory does. Migration 0006 keeps `device_revision.rev`, a
//! number that triggers bump on every insert and delete of a device and every change of a
//! filtered column (site, category, vendor, stale, search text), on both backends. A count
//! is cached under the filters and the revision it was computed at; a later request that
//! reads the same revision gets it without counting.
//!
//! Why this is exact: the revision is read *before* the count, and a count's snapshot is
//! never older than the revision read before it. A count cached under revision `r` is
//! served only to a request that reads `r` again, so no relevant write committed between
//! the two reads, and the devices matching the filters are the same set.

use std::collections::HashMap;
use std::sync::Mutex;

/// The filters of a device count (everything of a [`crate::DeviceQuery`] that changes
/// which devices match; not sort, page or cursor).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CountKey {
    pub site: Option<String>,
    pub category: Option<String>,
    pub vendor: Option<String>,
    pub stale: Option<bool>,
    pub text: Option<String>,
}

impl CountKey {
    pub(crate) fn of(q: &crate::DeviceQuery, text: Option<&str>) -> CountKey {
        CountKey {
            site: q.site.clone(),
            category: q.category.clone(),
            vendor: q.vendor.clone(),
            stale: q.stale,
            text: text.map(str::to_owned),
        }
    }
}

/// At most this many filter combinations are kept; the cache is emptied when full (free
/// text makes the key space unbounded).
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub(crate) struct CountCache {
    entries: Mutex<HashMap<CountKey, (i64, u64)>>,
}

impl std::fmt::Debug for CountCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("CountCache").field("entries", &n).finish()
    }
}

impl CountCache {
    /// The count for `key` if it was computed at revision `rev`.
    pub(crate) fn get(&self, key: &CountKey, rev: i64) -> Option<u64> {
        let map = self.entries.lock().ok()?;
        map.get(key).filter(|(r, _)| *r == rev).map(|(_, n)| *n)
    }

    pub(crate) fn put(&self, key: CountKey, rev: i64, count: u64) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= MAX_ENTRIES && !map.contains_key(&key) {
                map.clear();
            }
            map.insert(key, (rev, count));
        }
    }
}
