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

/// Values computed at one revision of their inputs (the inventory revision for device
/// counts, the auth revision for token lookups in ward-server): a value is served only to
/// a reader that reads the same revision again. Bounded: emptied when it holds `max`
/// entries and a new key comes (keys such as free text are unbounded).
pub struct RevisionCache<K, V> {
    entries: Mutex<HashMap<K, (i64, V)>>,
    max: usize,
}

impl<K, V> RevisionCache<K, V> {
    pub fn new(max: usize) -> Self {
        RevisionCache {
            entries: Mutex::new(HashMap::new()),
            max,
        }
    }
}

impl<K, V> std::fmt::Debug for RevisionCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("RevisionCache")
            .field("entries", &n)
            .finish()
    }
}

impl<K: std::hash::Hash + Eq, V: Clone> RevisionCache<K, V> {
    /// The value for `key` if it was computed at revision `rev`.
    pub fn get(&self, key: &K, rev: i64) -> Option<V> {
        let map = self.entries.lock().ok()?;
        map.get(key)
            .filter(|(r, _)| *r == rev)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: K, rev: i64, value: V) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= self.max && !map.contains_key(&key) {
                map.clear();
            }
            map.insert(key, (rev, value));
        }
    }

    /// Changes a cached value in place (its revision stays).
    pub fn update(&self, key: &K, f: impl FnOnce(&mut V)) {
        if let Ok(mut map) = self.entries.lock() {
            if let Some((_, v)) = map.get_mut(key) {
                f(v);
            }
        }
    }
}

/// Device counts by filters: at most this many filter combinations are kept.
pub(crate) const MAX_COUNT_ENTRIES: usize = 4096;
