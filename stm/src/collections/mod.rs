//! Transactional structures whose commuting operations touch disjoint
//! objects, so that transactions which agree on everything but the
//! structure's bookkeeping do not conflict (see `DESIGN.md`,
//! "Conflict-free structures"). They are made of ordinary heap objects and
//! use only the safe `Tx` API: the commit protocol does not know them.

pub(crate) mod counter;
pub(crate) mod hash_map;
pub(crate) mod map_object;
pub(crate) mod queue;
pub(crate) mod queue_object;
