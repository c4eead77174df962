//! The tree node the transactional tree workloads share (binary-trees,
//! gcbench, pauses): two reference slots, no data.

use strata::{Obj, Object, Ref, Tx, View};

#[derive(Clone, Copy)]
pub struct Node;

impl Object for Node {
    const REFS: usize = 2;
}

/// Builds a complete tree of `depth`: each node is made before its
/// subtrees, and linked to them once they are built. The subtrees are built
/// in a handle scope, so the transaction holds a handle per level, not per
/// node (and a minor collection in the middle scans a few handles).
pub fn make<'tx>(tx: &mut Tx<'tx>, depth: u32) -> Obj<'tx, Node> {
    let node = tx.alloc(Node);
    if depth > 0 {
        tx.scope(|tx, lift| {
            let node = lift.lift(node);
            let left = make(tx, depth - 1);
            tx.set_ref(node, 0, Some(left));
            let right = make(tx, depth - 1);
            tx.set_ref(node, 1, Some(right));
        });
    }
    node
}

/// Fills an allocated node's children top-down (parent before children),
/// in a handle scope per level like [`make`].
pub fn populate<'tx>(tx: &mut Tx<'tx>, depth: u32, node: Obj<'tx, Node>) {
    if depth > 0 {
        tx.scope(|tx, lift| {
            let node = lift.lift(node);
            let left = tx.alloc(Node);
            let right = tx.alloc(Node);
            tx.set_ref(node, 0, Some(left));
            tx.set_ref(node, 1, Some(right));
            populate(tx, depth - 1, left);
            populate(tx, depth - 1, right);
        });
    }
}

/// The number of nodes of the tree at `node`, counted through a view (no
/// handle per node).
pub fn count<'tx>(tx: &mut Tx<'tx>, node: Obj<'tx, Node>) -> u64 {
    tx.view(|v| {
        let node = v.enter(node);
        count_view(v, node)
    })
}

/// A node has both children or none (the trees are complete), as in the
/// other runtimes' checks.
fn count_view<'v>(v: &mut View<'v, '_>, node: Ref<'v, Node>) -> u64 {
    match v.get_ref::<Node, Node>(node, 0) {
        None => 1,
        Some(left) => {
            let right = v.get_ref::<Node, Node>(node, 1).expect("complete tree");
            1 + count_view(v, left) + count_view(v, right)
        }
    }
}
