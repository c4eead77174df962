//! The `skiplist` and `rbtree` of `intset` on Strata and on stm-core: the
//! storage traits of `ordered.rs` implemented with each runtime's handles.
//! Node identity is the key (keys are unique in a set; the head sentinel has
//! `i64::MIN`), so handles compare without touching the heap.

use super::ordered::{self, RbStore, SkipStore, MAX_LEVEL};
use std::convert::Infallible;

/// Which ordered structure.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shape {
    Skip,
    Rb,
}

/// One set operation: 0 insert, 1 remove, 2 contains.
pub fn apply_skip<S: SkipStore>(s: &mut S, kind: u8, key: i64) -> Result<bool, S::Err> {
    match kind {
        0 => ordered::skip_insert(s, key),
        1 => ordered::skip_remove(s, key),
        _ => ordered::skip_contains(s, key),
    }
}

/// One set operation: 0 insert, 1 remove, 2 contains.
pub fn apply_rb<S: RbStore>(s: &mut S, kind: u8, key: i64) -> Result<bool, S::Err> {
    match kind {
        0 => ordered::rb_insert(s, key),
        1 => ordered::rb_remove(s, key),
        _ => ordered::rb_contains(s, key),
    }
}

pub mod strata_stores {
    use super::*;
    use strata::{Obj, Object, Tx};

    #[derive(Clone, Copy)]
    pub struct SkipNode {
        key: i64,
    }
    impl Object for SkipNode {
        const REFS: usize = MAX_LEVEL;
    }

    #[derive(Clone, Copy)]
    pub struct RbNode {
        key: i64,
        red: bool,
    }
    impl Object for RbNode {
        const REFS: usize = 3; // left, right, parent
    }

    /// Holds the tree's root (slot 0).
    #[derive(Clone, Copy)]
    pub struct RbRoot;
    impl Object for RbRoot {
        const REFS: usize = 1;
    }

    /// A handle with its key, for comparisons.
    #[derive(Clone, Copy)]
    pub struct Keyed<'tx, T>(pub Obj<'tx, T>, pub i64);

    impl<T> PartialEq for Keyed<'_, T> {
        fn eq(&self, other: &Self) -> bool {
            self.1 == other.1
        }
    }

    pub fn new_skip_head<'tx>(tx: &mut Tx<'tx>) -> Obj<'tx, SkipNode> {
        tx.alloc(SkipNode { key: i64::MIN })
    }

    pub fn new_rb_root<'tx>(tx: &mut Tx<'tx>) -> Obj<'tx, RbRoot> {
        tx.alloc(RbRoot)
    }

    pub struct Skip<'a, 'tx> {
        pub tx: &'a mut Tx<'tx>,
        pub head: Obj<'tx, SkipNode>,
    }

    impl<'tx> SkipStore for Skip<'_, 'tx> {
        type Ref = Keyed<'tx, SkipNode>;
        type Err = Infallible;
        fn head(&mut self) -> Result<Self::Ref, Infallible> {
            Ok(Keyed(self.head, i64::MIN))
        }
        fn key(&mut self, n: &Self::Ref) -> Result<i64, Infallible> {
            Ok(n.1)
        }
        fn next(&mut self, n: &Self::Ref, level: usize) -> Result<Option<Self::Ref>, Infallible> {
            Ok(self
                .tx
                .get_ref::<SkipNode, SkipNode>(n.0, level)
                .map(|o| Keyed(o, self.tx.read(o).key)))
        }
        fn set_next(
            &mut self,
            n: &Self::Ref,
            level: usize,
            to: Option<Self::Ref>,
        ) -> Result<(), Infallible> {
            self.tx.set_ref(n.0, level, to.map(|t| t.0));
            Ok(())
        }
        fn new_node(&mut self, key: i64) -> Result<Self::Ref, Infallible> {
            Ok(Keyed(self.tx.alloc(SkipNode { key }), key))
        }
    }

    pub struct Rb<'a, 'tx> {
        pub tx: &'a mut Tx<'tx>,
        pub holder: Obj<'tx, RbRoot>,
    }

    impl<'tx> Rb<'_, 'tx> {
        fn keyed(&mut self, o: Option<Obj<'tx, RbNode>>) -> Option<Keyed<'tx, RbNode>> {
            o.map(|o| Keyed(o, self.tx.read(o).key))
        }
    }

    impl<'tx> RbStore for Rb<'_, 'tx> {
        type Ref = Keyed<'tx, RbNode>;
        type Err = Infallible;
        fn root(&mut self) -> Result<Option<Self::Ref>, Infallible> {
            let r = self.tx.get_ref::<RbRoot, RbNode>(self.holder, 0);
            Ok(self.keyed(r))
        }
        fn set_root(&mut self, root: Option<Self::Ref>) -> Result<(), Infallible> {
            self.tx.set_ref(self.holder, 0, root.map(|r| r.0));
            Ok(())
        }
        fn key(&mut self, n: &Self::Ref) -> Result<i64, Infallible> {
            Ok(n.1)
        }
        fn red(&mut self, n: &Self::Ref) -> Result<bool, Infallible> {
            Ok(self.tx.read(n.0).red)
        }
        fn set_red(&mut self, n: &Self::Ref, red: bool) -> Result<(), Infallible> {
            if self.tx.read(n.0).red != red {
                self.tx.write(n.0, RbNode { key: n.1, red });
            }
            Ok(())
        }
        fn child(&mut self, n: &Self::Ref, right: bool) -> Result<Option<Self::Ref>, Infallible> {
            let c = self.tx.get_ref::<RbNode, RbNode>(n.0, usize::from(right));
            Ok(self.keyed(c))
        }
        fn set_child(
            &mut self,
            n: &Self::Ref,
            right: bool,
            to: Option<Self::Ref>,
        ) -> Result<(), Infallible> {
            self.tx.set_ref(n.0, usize::from(right), to.map(|t| t.0));
            Ok(())
        }
        fn parent(&mut self, n: &Self::Ref) -> Result<Option<Self::Ref>, Infallible> {
            let p = self.tx.get_ref::<RbNode, RbNode>(n.0, 2);
            Ok(self.keyed(p))
        }
        fn set_parent(&mut self, n: &Self::Ref, to: Option<Self::Ref>) -> Result<(), Infallible> {
            self.tx.set_ref(n.0, 2, to.map(|t| t.0));
            Ok(())
        }
        fn new_node(&mut self, key: i64) -> Result<Self::Ref, Infallible> {
            Ok(Keyed(self.tx.alloc(RbNode { key, red: true }), key))
        }
        fn inconsistent(&mut self) -> Infallible {
            // Strata's transactions read one snapshot (opacity): a tree read
            // in one is always a valid tree.
            unreachable!("strata: a transaction saw an inconsistent tree")
        }
    }
}

pub mod stm_core_stores {
    use super::*;
    use ::stm_core::{StmError, TVar, Transaction};
    use std::sync::{Arc, Weak};

    pub struct SkipNode {
        key: i64,
        next: Vec<TVar<Option<NodeRef<SkipNode>>>>,
    }

    /// An `Arc` compared by identity.
    pub struct NodeRef<T>(pub Arc<T>);

    impl<T> Clone for NodeRef<T> {
        fn clone(&self) -> Self {
            NodeRef(self.0.clone())
        }
    }

    impl<T> PartialEq for NodeRef<T> {
        fn eq(&self, other: &Self) -> bool {
            Arc::ptr_eq(&self.0, &other.0)
        }
    }

    pub fn new_skip_head() -> NodeRef<SkipNode> {
        NodeRef(Arc::new(SkipNode {
            key: i64::MIN,
            next: (0..MAX_LEVEL).map(|_| TVar::new(None)).collect(),
        }))
    }

    pub struct Skip<'a> {
        pub tx: &'a mut Transaction,
        pub head: NodeRef<SkipNode>,
    }

    impl SkipStore for Skip<'_> {
        type Ref = NodeRef<SkipNode>;
        type Err = StmError;
        fn head(&mut self) -> Result<Self::Ref, StmError> {
            Ok(self.head.clone())
        }
        fn key(&mut self, n: &Self::Ref) -> Result<i64, StmError> {
            Ok(n.0.key)
        }
        fn next(&mut self, n: &Self::Ref, level: usize) -> Result<Option<Self::Ref>, StmError> {
            n.0.next[level].read(self.tx)
        }
        fn set_next(
            &mut self,
            n: &Self::Ref,
            level: usize,
            to: Option<Self::Ref>,
        ) -> Result<(), StmError> {
            n.0.next[level].write(self.tx, to)
        }
        fn new_node(&mut self, key: i64) -> Result<Self::Ref, StmError> {
            Ok(NodeRef(Arc::new(SkipNode {
                key,
                next: (0..MAX_LEVEL).map(|_| TVar::new(None)).collect(),
            })))
        }
    }

    /// A tree node; the parent link is weak so that trees free themselves.
    pub struct RbNode {
        key: i64,
        red: TVar<bool>,
        children: [TVar<Option<NodeRef<RbNode>>>; 2],
        parent: TVar<Option<WeakRef>>,
    }

    #[derive(Clone)]
    pub struct WeakRef(Weak<RbNode>);

    pub struct Rb<'a> {
        pub tx: &'a mut Transaction,
        pub root: &'a TVar<Option<NodeRef<RbNode>>>,
    }

    impl RbStore for Rb<'_> {
        type Ref = NodeRef<RbNode>;
        type Err = StmError;
        fn root(&mut self) -> Result<Option<Self::Ref>, StmError> {
            self.root.read(self.tx)
        }
        fn set_root(&mut self, root: Option<Self::Ref>) -> Result<(), StmError> {
            self.root.write(self.tx, root)
        }
        fn key(&mut self, n: &Self::Ref) -> Result<i64, StmError> {
            Ok(n.0.key)
        }
        fn red(&mut self, n: &Self::Ref) -> Result<bool, StmError> {
            n.0.red.read(self.tx)
        }
        fn set_red(&mut self, n: &Self::Ref, red: bool) -> Result<(), StmError> {
            n.0.red.write(self.tx, red)
        }
        fn child(&mut self, n: &Self::Ref, right: bool) -> Result<Option<Self::Ref>, StmError> {
            n.0.children[usize::from(right)].read(self.tx)
        }
        fn set_child(
            &mut self,
            n: &Self::Ref,
            right: bool,
            to: Option<Self::Ref>,
        ) -> Result<(), StmError> {
            n.0.children[usize::from(right)].write(self.tx, to)
        }
        fn parent(&mut self, n: &Self::Ref) -> Result<Option<Self::Ref>, StmError> {
            Ok(n.0
                .parent
                .read(self.tx)?
                .and_then(|w| w.0.upgrade())
                .map(NodeRef))
        }
        fn set_parent(&mut self, n: &Self::Ref, to: Option<Self::Ref>) -> Result<(), StmError> {
            n.0.parent
                .write(self.tx, to.map(|p| WeakRef(Arc::downgrade(&p.0))))
        }
        fn inconsistent(&mut self) -> StmError {
            // No opacity: a doomed transaction saw a torn tree. Restart it.
            StmError::Failure
        }
        fn new_node(&mut self, key: i64) -> Result<Self::Ref, StmError> {
            Ok(NodeRef(Arc::new(RbNode {
                key,
                red: TVar::new(true),
                children: [TVar::new(None), TVar::new(None)],
                parent: TVar::new(None),
            })))
        }
    }
}
