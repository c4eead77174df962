//! The ordered sets of `intset` (`skiplist` and `rbtree`), written once over
//! small storage traits so that every transactional Rust runtime runs the
//! same algorithm: a node is a handle, and each field access goes through
//! the runtime's barriers. Errors are the runtime's retry signal (stm-core)
//! or impossible (Strata).
//!
//! A runtime without opacity (stm-core) can show a doomed transaction a
//! state no serial execution has: a missing sibling, a cycle. The algorithms
//! never trust the shape of what they read: a broken invariant or a walk
//! longer than any valid one asks the store for its "inconsistent" error
//! (stm-core: restart the transaction) instead of panicking or looping.

/// How many levels a skip-list node may have.
pub const MAX_LEVEL: usize = 12;

/// A key's level, the same for every runtime: 1 + the number of trailing
/// zero bits of a hash of the key (so level l has probability 2^-l).
pub fn level_of(key: i64) -> usize {
    let mut h = key as u64 ^ 0x9e37_79b9_7f4a_7c15;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 31;
    (1 + h.trailing_zeros() as usize).min(MAX_LEVEL)
}

/// Field access for a skip list with a full-height head sentinel.
pub trait SkipStore {
    type Ref: Clone + PartialEq;
    type Err;
    fn head(&mut self) -> Result<Self::Ref, Self::Err>;
    fn key(&mut self, node: &Self::Ref) -> Result<i64, Self::Err>;
    fn next(&mut self, node: &Self::Ref, level: usize) -> Result<Option<Self::Ref>, Self::Err>;
    fn set_next(
        &mut self,
        node: &Self::Ref,
        level: usize,
        to: Option<Self::Ref>,
    ) -> Result<(), Self::Err>;
    fn new_node(&mut self, key: i64) -> Result<Self::Ref, Self::Err>;
}

/// Each level's predecessor of a key, and the node holding it.
type Found<R> = (Vec<R>, Option<R>);

/// No valid walk of a tree of at most 2^40 keys is longer than this.
const MAX_WALK: usize = 128;

/// The predecessor of `key` at every level, and the node holding `key`.
fn skip_find<S: SkipStore>(s: &mut S, key: i64) -> Result<Found<S::Ref>, S::Err> {
    let mut preds = Vec::with_capacity(MAX_LEVEL);
    let mut node = s.head()?;
    let mut found = None;
    for level in (0..MAX_LEVEL).rev() {
        loop {
            match s.next(&node, level)? {
                Some(next) if s.key(&next)? < key => node = next,
                Some(next) if level == 0 && s.key(&next)? == key => {
                    found = Some(next);
                    break;
                }
                _ => break,
            }
        }
        preds.push(node.clone());
    }
    preds.reverse();
    Ok((preds, found))
}

pub fn skip_contains<S: SkipStore>(s: &mut S, key: i64) -> Result<bool, S::Err> {
    Ok(skip_find(s, key)?.1.is_some())
}

pub fn skip_insert<S: SkipStore>(s: &mut S, key: i64) -> Result<bool, S::Err> {
    let (preds, found) = skip_find(s, key)?;
    if found.is_some() {
        return Ok(false);
    }
    let node = s.new_node(key)?;
    for (level, pred) in preds.iter().enumerate().take(level_of(key)) {
        let next = s.next(pred, level)?;
        s.set_next(&node, level, next)?;
        s.set_next(pred, level, Some(node.clone()))?;
    }
    Ok(true)
}

pub fn skip_remove<S: SkipStore>(s: &mut S, key: i64) -> Result<bool, S::Err> {
    let (preds, found) = skip_find(s, key)?;
    let Some(node) = found else {
        return Ok(false);
    };
    for (level, pred) in preds.iter().enumerate().take(level_of(key)) {
        if s.next(pred, level)?.as_ref() == Some(&node) {
            let next = s.next(&node, level)?;
            s.set_next(pred, level, next)?;
        }
    }
    Ok(true)
}

/// The number of keys, walking level 0.
pub fn skip_count<S: SkipStore>(s: &mut S) -> Result<usize, S::Err> {
    let mut n = 0;
    let mut node = s.head()?;
    while let Some(next) = s.next(&node, 0)? {
        n += 1;
        node = next;
    }
    Ok(n)
}

/// Field access for a red-black tree (`None` is the black nil leaf).
pub trait RbStore {
    type Ref: Clone + PartialEq;
    type Err;
    fn root(&mut self) -> Result<Option<Self::Ref>, Self::Err>;
    fn set_root(&mut self, root: Option<Self::Ref>) -> Result<(), Self::Err>;
    fn key(&mut self, node: &Self::Ref) -> Result<i64, Self::Err>;
    fn red(&mut self, node: &Self::Ref) -> Result<bool, Self::Err>;
    fn set_red(&mut self, node: &Self::Ref, red: bool) -> Result<(), Self::Err>;
    fn child(&mut self, node: &Self::Ref, right: bool) -> Result<Option<Self::Ref>, Self::Err>;
    fn set_child(
        &mut self,
        node: &Self::Ref,
        right: bool,
        to: Option<Self::Ref>,
    ) -> Result<(), Self::Err>;
    fn parent(&mut self, node: &Self::Ref) -> Result<Option<Self::Ref>, Self::Err>;
    fn set_parent(&mut self, node: &Self::Ref, to: Option<Self::Ref>) -> Result<(), Self::Err>;
    /// A red node with no parent and no children.
    fn new_node(&mut self, key: i64) -> Result<Self::Ref, Self::Err>;
    /// The error for a state no serial execution produces (see the module
    /// docs).
    fn inconsistent(&mut self) -> Self::Err;
}

/// `node`, or the inconsistent-state error when it is missing.
fn need<S: RbStore>(s: &mut S, node: Option<S::Ref>) -> Result<S::Ref, S::Err> {
    match node {
        Some(n) => Ok(n),
        None => Err(s.inconsistent()),
    }
}

fn is_red<S: RbStore>(s: &mut S, node: &Option<S::Ref>) -> Result<bool, S::Err> {
    match node {
        Some(n) => s.red(n),
        None => Ok(false),
    }
}

/// Rotates `x` (right: its left child rises; else its right child rises).
fn rotate<S: RbStore>(s: &mut S, x: &S::Ref, right: bool) -> Result<(), S::Err> {
    let y = s.child(x, !right)?;
    let y = need(s, y)?;
    let inner = s.child(&y, right)?;
    s.set_child(x, !right, inner.clone())?;
    if let Some(inner) = inner {
        s.set_parent(&inner, Some(x.clone()))?;
    }
    replace_child(s, x, Some(y.clone()))?;
    s.set_child(&y, right, Some(x.clone()))?;
    s.set_parent(x, Some(y))
}

/// Puts `v` where `u` hangs (under `u`'s parent, or as the root).
fn replace_child<S: RbStore>(s: &mut S, u: &S::Ref, v: Option<S::Ref>) -> Result<(), S::Err> {
    let parent = s.parent(u)?;
    match &parent {
        None => s.set_root(v.clone())?,
        Some(p) => {
            let is_right = s.child(p, true)?.as_ref() == Some(u);
            s.set_child(p, is_right, v.clone())?;
        }
    }
    if let Some(v) = v {
        s.set_parent(&v, parent)?;
    }
    Ok(())
}

/// Where `key` is or belongs.
enum Place<R> {
    Found(R),
    /// The would-be parent (none: the tree is empty) and the side.
    Missing(Option<R>, bool),
}

fn rb_place<S: RbStore>(s: &mut S, key: i64) -> Result<Place<S::Ref>, S::Err> {
    let (mut parent, mut cur, mut right) = (None, s.root()?, false);
    let mut steps = 0;
    while let Some(n) = cur {
        steps += 1;
        if steps > MAX_WALK {
            return Err(s.inconsistent());
        }
        let k = s.key(&n)?;
        if k == key {
            return Ok(Place::Found(n));
        }
        right = key > k;
        cur = s.child(&n, right)?;
        parent = Some(n);
    }
    Ok(Place::Missing(parent, right))
}

fn rb_find<S: RbStore>(s: &mut S, key: i64) -> Result<Option<S::Ref>, S::Err> {
    Ok(match rb_place(s, key)? {
        Place::Found(n) => Some(n),
        Place::Missing(..) => None,
    })
}

pub fn rb_contains<S: RbStore>(s: &mut S, key: i64) -> Result<bool, S::Err> {
    Ok(rb_find(s, key)?.is_some())
}

pub fn rb_insert<S: RbStore>(s: &mut S, key: i64) -> Result<bool, S::Err> {
    let Place::Missing(parent, right) = rb_place(s, key)? else {
        return Ok(false);
    };
    let mut z = s.new_node(key)?;
    s.set_parent(&z, parent.clone())?;
    match &parent {
        None => s.set_root(Some(z.clone()))?,
        Some(p) => s.set_child(p, right, Some(z.clone()))?,
    }
    let mut steps = 0;
    while let Some(p) = s.parent(&z)? {
        if !s.red(&p)? {
            break;
        }
        steps += 1;
        if steps > MAX_WALK {
            return Err(s.inconsistent());
        }
        let g = s.parent(&p)?;
        let g = need(s, g)?;
        let p_is_right = s.child(&g, true)?.as_ref() == Some(&p);
        let uncle = s.child(&g, !p_is_right)?;
        if is_red(s, &uncle)? {
            s.set_red(&p, false)?;
            let uncle = need(s, uncle)?;
            s.set_red(&uncle, false)?;
            s.set_red(&g, true)?;
            z = g;
            continue;
        }
        if s.child(&p, !p_is_right)?.as_ref() == Some(&z) {
            z = p;
            rotate(s, &z, p_is_right)?;
        }
        let p = s.parent(&z)?;
        let p = need(s, p)?;
        let g = s.parent(&p)?;
        let g = need(s, g)?;
        s.set_red(&p, false)?;
        s.set_red(&g, true)?;
        rotate(s, &g, !p_is_right)?;
    }
    let root = s.root()?;
    let root = need(s, root)?;
    s.set_red(&root, false)?;
    Ok(true)
}

pub fn rb_remove<S: RbStore>(s: &mut S, key: i64) -> Result<bool, S::Err> {
    let Some(z) = rb_find(s, key)? else {
        return Ok(false);
    };
    let z_left = s.child(&z, false)?;
    let z_right = s.child(&z, true)?;
    let (x, x_parent, removed_red);
    match (&z_left, &z_right) {
        (None, _) | (_, None) => {
            x = z_left.clone().or(z_right.clone());
            x_parent = s.parent(&z)?;
            removed_red = s.red(&z)?;
            replace_child(s, &z, x.clone())?;
        }
        (Some(left), Some(right)) => {
            let mut y = right.clone();
            let mut steps = 0;
            while let Some(l) = s.child(&y, false)? {
                steps += 1;
                if steps > MAX_WALK {
                    return Err(s.inconsistent());
                }
                y = l;
            }
            removed_red = s.red(&y)?;
            x = s.child(&y, true)?;
            if s.parent(&y)?.as_ref() == Some(&z) {
                x_parent = Some(y.clone());
            } else {
                x_parent = s.parent(&y)?;
                replace_child(s, &y, x.clone())?;
                s.set_child(&y, true, Some(right.clone()))?;
                s.set_parent(right, Some(y.clone()))?;
            }
            replace_child(s, &z, Some(y.clone()))?;
            s.set_child(&y, false, Some(left.clone()))?;
            s.set_parent(left, Some(y.clone()))?;
            let z_red = s.red(&z)?;
            s.set_red(&y, z_red)?;
        }
    }
    if !removed_red {
        remove_fixup(s, x, x_parent)?;
    }
    Ok(true)
}

fn remove_fixup<S: RbStore>(
    s: &mut S,
    mut x: Option<S::Ref>,
    mut parent: Option<S::Ref>,
) -> Result<(), S::Err> {
    let mut steps = 0;
    while x != s.root()? && !is_red(s, &x)? {
        let Some(p) = parent.clone() else { break };
        steps += 1;
        if steps > MAX_WALK {
            return Err(s.inconsistent());
        }
        let x_is_left = s.child(&p, false)? == x;
        let w = s.child(&p, x_is_left)?;
        let mut w = need(s, w)?;
        if s.red(&w)? {
            s.set_red(&w, false)?;
            s.set_red(&p, true)?;
            rotate(s, &p, !x_is_left)?;
            let sibling = s.child(&p, x_is_left)?;
            w = need(s, sibling)?;
        }
        let near = s.child(&w, !x_is_left)?;
        let far = s.child(&w, x_is_left)?;
        if !is_red(s, &near)? && !is_red(s, &far)? {
            s.set_red(&w, true)?;
            x = Some(p.clone());
            parent = s.parent(&p)?;
        } else {
            if !is_red(s, &far)? {
                let near = need(s, near)?;
                s.set_red(&near, false)?;
                s.set_red(&w, true)?;
                rotate(s, &w, x_is_left)?;
                let sibling = s.child(&p, x_is_left)?;
                w = need(s, sibling)?;
            }
            let p_red = s.red(&p)?;
            s.set_red(&w, p_red)?;
            s.set_red(&p, false)?;
            if let Some(far) = s.child(&w, x_is_left)? {
                s.set_red(&far, false)?;
            }
            rotate(s, &p, !x_is_left)?;
            x = s.root()?;
            parent = None;
        }
    }
    if let Some(x) = x {
        s.set_red(&x, false)?;
    }
    Ok(())
}

/// The number of keys, checking the red-black invariants on the way
/// (returns `Err` text through the caller's check when they fail).
pub fn rb_count<S: RbStore>(s: &mut S) -> Result<Result<usize, String>, S::Err> {
    fn walk<S: RbStore>(
        s: &mut S,
        n: Option<S::Ref>,
        lo: i64,
        hi: i64,
    ) -> Result<Result<(usize, usize), String>, S::Err> {
        let Some(n) = n else { return Ok(Ok((0, 1))) };
        let k = s.key(&n)?;
        if k <= lo || k >= hi {
            return Ok(Err(format!("key {k} out of order")));
        }
        let red = s.red(&n)?;
        let (l, r) = (s.child(&n, false)?, s.child(&n, true)?);
        if red && (is_red(s, &l)? || is_red(s, &r)?) {
            return Ok(Err(format!("red node {k} has a red child")));
        }
        let left = walk(s, l, lo, k)?;
        let right = walk(s, r, k, hi)?;
        Ok(match (left, right) {
            (Ok((ln, lb)), Ok((rn, rb))) if lb == rb => Ok((ln + rn + 1, lb + usize::from(!red))),
            (Ok(_), Ok(_)) => Err(format!("black heights differ under {k}")),
            (Err(e), _) | (_, Err(e)) => Err(e),
        })
    }
    let root = s.root()?;
    Ok(walk(s, root, i64::MIN, i64::MAX)?.map(|(n, _)| n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use std::collections::BTreeSet;
    use std::convert::Infallible;

    /// Nodes in a vector: the simplest store, to test the algorithms.
    #[derive(Default)]
    struct VecStore {
        keys: Vec<i64>,
        red: Vec<bool>,
        links: Vec<[Option<usize>; MAX_LEVEL]>,
        parent: Vec<Option<usize>>,
        root: Option<usize>,
    }

    impl VecStore {
        fn push(&mut self, key: i64) -> usize {
            self.keys.push(key);
            self.red.push(true);
            self.links.push([None; MAX_LEVEL]);
            self.parent.push(None);
            self.keys.len() - 1
        }
    }

    impl SkipStore for VecStore {
        type Ref = usize;
        type Err = Infallible;
        fn head(&mut self) -> Result<usize, Infallible> {
            if self.keys.is_empty() {
                self.push(i64::MIN);
            }
            Ok(0)
        }
        fn key(&mut self, n: &usize) -> Result<i64, Infallible> {
            Ok(self.keys[*n])
        }
        fn next(&mut self, n: &usize, l: usize) -> Result<Option<usize>, Infallible> {
            Ok(self.links[*n][l])
        }
        fn set_next(&mut self, n: &usize, l: usize, to: Option<usize>) -> Result<(), Infallible> {
            self.links[*n][l] = to;
            Ok(())
        }
        fn new_node(&mut self, key: i64) -> Result<usize, Infallible> {
            Ok(self.push(key))
        }
    }

    impl RbStore for VecStore {
        type Ref = usize;
        type Err = Infallible;
        fn root(&mut self) -> Result<Option<usize>, Infallible> {
            Ok(self.root)
        }
        fn set_root(&mut self, r: Option<usize>) -> Result<(), Infallible> {
            self.root = r;
            Ok(())
        }
        fn key(&mut self, n: &usize) -> Result<i64, Infallible> {
            Ok(self.keys[*n])
        }
        fn red(&mut self, n: &usize) -> Result<bool, Infallible> {
            Ok(self.red[*n])
        }
        fn set_red(&mut self, n: &usize, red: bool) -> Result<(), Infallible> {
            self.red[*n] = red;
            Ok(())
        }
        fn child(&mut self, n: &usize, right: bool) -> Result<Option<usize>, Infallible> {
            Ok(self.links[*n][usize::from(right)])
        }
        fn set_child(
            &mut self,
            n: &usize,
            right: bool,
            to: Option<usize>,
        ) -> Result<(), Infallible> {
            self.links[*n][usize::from(right)] = to;
            Ok(())
        }
        fn parent(&mut self, n: &usize) -> Result<Option<usize>, Infallible> {
            Ok(self.parent[*n])
        }
        fn set_parent(&mut self, n: &usize, to: Option<usize>) -> Result<(), Infallible> {
            self.parent[*n] = to;
            Ok(())
        }
        fn new_node(&mut self, key: i64) -> Result<usize, Infallible> {
            Ok(self.push(key))
        }
        fn inconsistent(&mut self) -> Infallible {
            panic!("a sequential tree is always consistent")
        }
    }

    #[test]
    fn both_structures_agree_with_a_btreeset() {
        let mut rng = Rng::new(7);
        let (mut skip, mut rb, mut model) =
            (VecStore::default(), VecStore::default(), BTreeSet::new());
        for step in 0..20_000 {
            let key = rng.below(500) as i64;
            match rng.below(3) {
                0 => {
                    let expected = model.insert(key);
                    assert_eq!(skip_insert(&mut skip, key), Ok(expected));
                    assert_eq!(rb_insert(&mut rb, key), Ok(expected));
                }
                1 => {
                    let expected = model.remove(&key);
                    assert_eq!(skip_remove(&mut skip, key), Ok(expected));
                    assert_eq!(rb_remove(&mut rb, key), Ok(expected), "step {step}");
                }
                _ => {
                    let expected = model.contains(&key);
                    assert_eq!(skip_contains(&mut skip, key), Ok(expected));
                    assert_eq!(rb_contains(&mut rb, key), Ok(expected));
                }
            }
            if step % 997 == 0 {
                assert_eq!(skip_count(&mut skip), Ok(model.len()));
                assert_eq!(rb_count(&mut rb), Ok(Ok(model.len())), "step {step}");
            }
        }
        assert_eq!(rb_count(&mut rb), Ok(Ok(model.len())));
    }
}
