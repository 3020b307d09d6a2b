//! Least-recently-used order in O(1), for the tables that untrusted input can fill (TCP
//! directions, IP datagrams under reassembly, media flows).
//!
//! Not a stage: a helper of `net` and `media`. [`Recency`] is a doubly linked list threaded
//! through slot numbers (`u32` links in two vectors, no allocation per entry): touching,
//! adding, removing and finding the least recently used slot are each a few array writes,
//! so a table at its cap evicts in constant time instead of scanning for the oldest entry.
//! [`LruMap`] pairs it with a hash index for tables keyed by value.

// foldhash: keys are flows and fragment ids from the capture, looked up once per packet;
// its per-process random seed keeps it resistant enough to crafted keys (as in `media`).
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};

const NIL: u32 = u32::MAX;

/// Recency order over slot numbers `0..`: the caller owns the slots, this owns the order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Recency {
    prev: Vec<u32>,
    next: Vec<u32>,
    /// Most recently used.
    head: Option<u32>,
    /// Least recently used.
    tail: Option<u32>,
    len: usize,
}

impl Recency {
    /// Slots in the order.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether `slot` is in the order.
    fn linked(&self, slot: u32) -> bool {
        let i = slot as usize;
        i < self.prev.len()
            && (self.prev[i] != NIL || self.next[i] != NIL || self.head == Some(slot))
    }

    /// Adds `slot` (not yet in the order) as the most recently used.
    pub fn push(&mut self, slot: u32) {
        let i = slot as usize;
        if i >= self.prev.len() {
            self.prev.resize(i + 1, NIL);
            self.next.resize(i + 1, NIL);
        }
        debug_assert!(!self.linked(slot), "slot {slot} pushed twice");
        self.prev[i] = NIL;
        self.next[i] = self.head.unwrap_or(NIL);
        if let Some(h) = self.head {
            self.prev[h as usize] = slot;
        }
        self.head = Some(slot);
        if self.tail.is_none() {
            self.tail = Some(slot);
        }
        self.len += 1;
    }

    /// Takes `slot` out of the order (nothing when it is not in it).
    pub fn remove(&mut self, slot: u32) {
        if !self.linked(slot) {
            return;
        }
        let i = slot as usize;
        let (p, n) = (self.prev[i], self.next[i]);
        match p {
            NIL => self.head = (n != NIL).then_some(n),
            p => self.next[p as usize] = n,
        }
        match n {
            NIL => self.tail = (p != NIL).then_some(p),
            n => self.prev[n as usize] = p,
        }
        self.prev[i] = NIL;
        self.next[i] = NIL;
        self.len -= 1;
    }

    /// Marks `slot` (in the order) as the most recently used.
    pub fn touch(&mut self, slot: u32) {
        if self.head != Some(slot) {
            self.remove(slot);
            self.push(slot);
        }
    }

    /// Marks `slot` as the most recently used, adding it when it is not in the order.
    pub fn touch_or_push(&mut self, slot: u32) {
        if self.linked(slot) {
            self.touch(slot);
        } else {
            self.push(slot);
        }
    }

    /// The slots from the least to the most recently used.
    pub fn oldest_first(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.len);
        let mut at = self.tail;
        while let Some(s) = at {
            out.push(s);
            at = match self.prev[s as usize] {
                NIL => None,
                p => Some(p),
            };
        }
        out
    }

    /// The least recently used slot.
    pub fn oldest(&self) -> Option<u32> {
        self.tail
    }
}

/// A hash map whose entries live once, in numbered slots: the hash index holds only a
/// slot number (4 bytes a bucket, where a copy of a TCP flow's key takes 64) and compares
/// and rehashes the keys where they live. The tables a flood fills look up, remove and
/// add on every packet; an index that small stays in the processor's caches. A removed
/// entry's slot is reused by the next one added.
#[derive(Debug)]
pub(crate) struct SlotMap<K, V> {
    index: HashTable<u32>,
    hasher: RandomState,
    slots: Vec<Option<(K, V)>>,
    free: Vec<u32>,
}

impl<K, V> Default for SlotMap<K, V> {
    fn default() -> Self {
        SlotMap {
            index: HashTable::new(),
            hasher: RandomState::default(),
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<K: Hash + Eq, V> SlotMap<K, V> {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// The slot of `k`.
    pub fn find(&self, k: &K) -> Option<u32> {
        let slots = &self.slots;
        let h = self.hasher.hash_one(k);
        self.index
            .find(h, |&s| {
                slots[s as usize].as_ref().is_some_and(|(x, _)| x == k)
            })
            .copied()
    }

    pub fn contains_key(&self, k: &K) -> bool {
        self.find(k).is_some()
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        self.at(self.find(k)?)
    }

    /// The key and value in `slot`.
    pub fn entry_at(&self, slot: u32) -> Option<(&K, &V)> {
        self.slots.get(slot as usize)?.as_ref().map(|(k, v)| (k, v))
    }

    /// The value in `slot`.
    pub fn at(&self, slot: u32) -> Option<&V> {
        self.entry_at(slot).map(|(_, v)| v)
    }

    /// The value in `slot`.
    pub fn at_mut(&mut self, slot: u32) -> Option<&mut V> {
        self.slots.get_mut(slot as usize)?.as_mut().map(|(_, v)| v)
    }

    /// Adds `k`, which the caller knows is absent; its slot.
    pub fn insert_absent(&mut self, k: K, v: V) -> u32 {
        debug_assert!(!self.contains_key(&k));
        let h = self.hasher.hash_one(&k);
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some((k, v));
                s
            }
            None => {
                self.slots.push(Some((k, v)));
                (self.slots.len() - 1) as u32
            }
        };
        let (slots, hasher) = (&self.slots, &self.hasher);
        // The index names only filled slots.
        self.index.insert_unique(h, slot, |&s| {
            slots[s as usize]
                .as_ref()
                .map_or(0, |(key, _)| hasher.hash_one(key))
        });
        slot
    }

    /// Removes `k`; its slot and value.
    pub fn remove(&mut self, k: &K) -> Option<(u32, V)> {
        let slot = self.find(k)?;
        let (_, v) = self.remove_at(slot)?;
        Some((slot, v))
    }

    /// Removes the entry in `slot`. Its index entry is found by slot number, without
    /// comparing keys.
    pub fn remove_at(&mut self, slot: u32) -> Option<(K, V)> {
        let (k, v) = self.slots.get_mut(slot as usize)?.take()?;
        let h = self.hasher.hash_one(&k);
        if let Ok(e) = self.index.find_entry(h, |&s| s == slot) {
            e.remove();
        }
        self.free.push(slot);
        Some((k, v))
    }

    /// The keys, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.slots.iter().flatten().map(|(k, _)| k)
    }
}

/// A map that remembers the order its entries were last used in.
#[derive(Debug)]
pub(crate) struct LruMap<K, V> {
    map: SlotMap<K, V>,
    order: Recency,
}

impl<K, V> Default for LruMap<K, V> {
    fn default() -> Self {
        LruMap {
            map: SlotMap::default(),
            order: Recency::default(),
        }
    }
}

impl<K: Hash + Eq + Copy, V> LruMap<K, V> {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn contains_key(&self, k: &K) -> bool {
        self.map.contains_key(k)
    }

    /// The value of `k`, its place in the order unchanged.
    pub fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k)
    }

    /// The value of `k`, marked as just used.
    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let slot = self.touch(k)?;
        self.map.at_mut(slot)
    }

    /// The slot of `k`, marked as just used: one lookup for a caller that then reads or
    /// writes the value ([`LruMap::at_mut`]) and, when `k` is absent, adds it
    /// ([`LruMap::insert_absent`]) without looking it up again.
    pub fn touch(&mut self, k: &K) -> Option<u32> {
        let slot = self.map.find(k)?;
        self.order.touch(slot);
        Some(slot)
    }

    /// The value in `slot` (from [`LruMap::touch`] or [`LruMap::insert_absent`], with no
    /// removal since).
    pub fn at_mut(&mut self, slot: u32) -> Option<&mut V> {
        self.map.at_mut(slot)
    }

    /// Adds `k`, which the caller knows is absent, as the most recently used; its slot.
    pub fn insert_absent(&mut self, k: K, v: V) -> u32 {
        let slot = self.map.insert_absent(k, v);
        self.order.push(slot);
        slot
    }

    /// Adds `k` as the most recently used (replacing an old value of `k`, returned).
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        let old = self.remove(&k);
        self.insert_absent(k, v);
        old
    }

    pub fn remove(&mut self, k: &K) -> Option<V> {
        self.remove_slot(k).map(|(_, v)| v)
    }

    /// Removes `k`; the slot it had and its value.
    pub fn remove_slot(&mut self, k: &K) -> Option<(u32, V)> {
        let (slot, v) = self.map.remove(k)?;
        self.order.remove(slot);
        Some((slot, v))
    }

    /// The least recently used entry, left in place.
    pub fn peek_oldest(&self) -> Option<(&K, &V)> {
        self.map.entry_at(self.order.oldest()?)
    }

    /// Removes and returns the least recently used entry.
    pub fn pop_oldest(&mut self) -> Option<(K, V)> {
        self.pop_oldest_slot().map(|(_, k, v)| (k, v))
    }

    /// Removes the least recently used entry; the slot it had, its key and value.
    pub fn pop_oldest_slot(&mut self) -> Option<(u32, K, V)> {
        let slot = self.order.oldest()?;
        self.order.remove(slot);
        let (k, v) = self.map.remove_at(slot)?;
        Some((slot, k, v))
    }

    /// The keys, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.map.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(r: &Recency) -> Vec<u32> {
        // Walk from the oldest by repeatedly reading `prev` links.
        let mut v = Vec::new();
        let mut at = r.tail;
        while let Some(s) = at {
            v.push(s);
            at = match r.prev[s as usize] {
                NIL => None,
                p => Some(p),
            };
        }
        v
    }

    #[test]
    fn oldest_first_walks_from_the_least_recently_used() {
        let mut r = Recency::default();
        for s in [3, 1, 4, 0] {
            r.push(s);
        }
        r.touch(3);
        r.remove(4);
        assert_eq!(r.oldest_first(), [1, 0, 3]);
        assert_eq!(Recency::default().oldest_first(), Vec::<u32>::new());
    }

    #[test]
    fn recency_orders_by_last_use() {
        let mut r = Recency::default();
        for s in [3, 0, 7] {
            r.push(s);
        }
        assert_eq!(order(&r), vec![3, 0, 7]);
        r.touch(3);
        assert_eq!(order(&r), vec![0, 7, 3]);
        r.touch(3);
        assert_eq!(
            order(&r),
            vec![0, 7, 3],
            "touching the newest changes nothing"
        );
        r.remove(7);
        assert_eq!(order(&r), vec![0, 3]);
        r.remove(7);
        assert_eq!(r.len(), 2, "removing twice is harmless");
        r.remove(0);
        r.remove(3);
        assert_eq!(r.oldest(), None);
        assert_eq!(r.len(), 0);
        r.push(0);
        assert_eq!(order(&r), vec![0], "a slot can come back after removal");
    }

    #[test]
    fn map_evicts_least_recently_used() {
        let mut m: LruMap<u32, String> = LruMap::default();
        for k in 0..4 {
            m.insert(k, k.to_string());
        }
        m.get_mut(&0);
        assert_eq!(m.pop_oldest(), Some((1, "1".to_string())));
        assert_eq!(m.pop_oldest().map(|(k, _)| k), Some(2));
        m.insert(9, "9".into());
        assert_eq!(m.pop_oldest().map(|(k, _)| k), Some(3));
        assert_eq!(m.pop_oldest().map(|(k, _)| k), Some(0));
        assert_eq!(m.pop_oldest().map(|(k, _)| k), Some(9));
        assert_eq!(m.pop_oldest(), None);
        assert_eq!(m.len(), 0);
    }

    #[test]
    fn map_reuses_slots_and_stays_correct_after_eviction() {
        let mut m: LruMap<u32, u32> = LruMap::default();
        // A table held at a cap of 8 while 100 000 keys pass through it: every eviction
        // takes the oldest, the slots stay 8 and the survivors keep their values.
        for k in 0..100_000u32 {
            if m.len() == 8 {
                let (old, v) = m.pop_oldest().unwrap();
                assert_eq!(old + 8, k);
                assert_eq!(v, old * 2);
            }
            m.insert(k, k * 2);
        }
        assert_eq!(m.map.slots.len(), 8, "slots are reused, not grown");
        let mut keys: Vec<u32> = m.keys().copied().collect();
        keys.sort();
        assert_eq!(keys, (99_992..100_000).collect::<Vec<_>>());
        assert_eq!(m.get_mut(&99_995), Some(&mut 199_990));
        assert_eq!(m.remove(&99_992), Some(199_984));
        assert_eq!(m.pop_oldest().map(|(k, _)| k), Some(99_993));
    }

    #[test]
    fn touch_marks_used_and_slots_reach_the_values() {
        let mut m: LruMap<u32, u32> = LruMap::default();
        let a = m.insert_absent(1, 10);
        let b = m.insert_absent(2, 20);
        assert_ne!(a, b);
        assert_eq!(m.touch(&3), None);
        // Touching 1 makes 2 the oldest.
        assert_eq!(m.touch(&1), Some(a));
        *m.at_mut(a).unwrap() += 1;
        assert_eq!(m.pop_oldest(), Some((2, 20)));
        assert_eq!(m.at_mut(b), None, "a removed entry's slot holds nothing");
        // The freed slot is reused by the next key.
        assert_eq!(m.insert_absent(4, 40), b);
        assert_eq!(m.get(&1), Some(&11));
        assert_eq!(m.pop_oldest(), Some((1, 11)));
        assert_eq!(m.pop_oldest(), Some((4, 40)));
    }

    #[test]
    fn reinsert_replaces_and_refreshes() {
        let mut m: LruMap<&str, u8> = LruMap::default();
        m.insert("a", 1);
        m.insert("b", 2);
        assert_eq!(m.insert("a", 3), Some(1));
        assert_eq!(m.len(), 2);
        assert_eq!(m.pop_oldest(), Some(("b", 2)));
        assert_eq!(m.pop_oldest(), Some(("a", 3)));
    }
}
